# Kernel TCP sink for the emulator's Bats tests: listen on ADDR:5001, write
# "listening" to READY, take one connection and count what arrives for SECONDS
# from its first byte; print "bytes seconds".
#   python3 tcp_sink.py ADDR READY SECONDS
import socket, sys, time

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 5001))
s.listen(1)
open(sys.argv[2], "w").write("listening\n")
c, _ = s.accept()
c.settimeout(1.0)
dur, n, t0 = float(sys.argv[3]), 0, None
while True:
    try:
        b = c.recv(1 << 20)
    except socket.timeout:
        b = None
    if b == b"":
        break
    if b:
        if t0 is None:
            t0 = time.monotonic()
        n += len(b)
    if t0 is not None and time.monotonic() - t0 >= dur:
        break
print(n, time.monotonic() - t0)
