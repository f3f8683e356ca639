# A misbehaving mpt-perf server for the protocol's error paths (plain TCP, one
# client): listen on 127.0.0.1:PORT, write "ready" to READY, take one connection,
# read the 64-byte header and then
#   refuse:          answer with a refusal (MPPE, reason 3: unsupported version)
#   wrong-workload:  read the upload to its end and answer with a result record
#                    that names the rr workload, whatever the client asked for
#   cut-intervals:   read the upload to its end and answer with a bulk result
#                    record that announces 4 intervals, send 1, and close (FIN)
#   reset-intervals: the same, but end with a reset (SO_LINGER 0) instead
# then read until the client closes.  Prints the header's version and workload.
#   python3 perf_fake_server.py PORT READY MODE
import socket, struct, sys

port, ready, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(1)
open(ready, "w").write("ready\n")
c, _ = s.accept()
c.settimeout(20)
hdr = b""
while len(hdr) < 64:
    b = c.recv(64 - len(hdr))
    if not b:
        break
    hdr += b
print(struct.unpack(">H", hdr[4:6])[0], hdr[40])
if mode == "refuse":
    c.sendall(b"MPPE" + struct.pack(">HHQ", 2, 3, 0))
    c.shutdown(socket.SHUT_WR)
else:
    n = 0
    while True:
        b = c.recv(1 << 16)
        if not b:
            break
        n += len(b)

    def record(workload, interval_ns=0, n_intervals=0):
        # magic, version, flags (verified), bytes, elapsed, mismatch, t0, interval,
        # n_intervals, n_samples, workload (0 bulk, 1 rr), reserved
        return (b"MPPR" + struct.pack(">HHQQQQQII", 2, 1, n, 1, 0, 0, interval_ns,
                                      n_intervals, 0) + bytes([workload]) + bytes(7))

    if mode == "wrong-workload":
        c.sendall(record(1))
        c.shutdown(socket.SHUT_WR)
    else:
        # a bulk record with 4 intervals of 0.1 s announced, 1 sent (24 bytes)
        c.sendall(record(0, 100000000, 4) + bytes(24))
        if mode == "reset-intervals":
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            c.close()
            sys.exit(0)
        c.shutdown(socket.SHUT_WR)
while c.recv(1 << 16):
    pass
c.close()
