# A Linux MPTCP server for the socket layer's Bats test: listen on ADDR:PORT with
# IPPROTO_MPTCP, write "ready" to READY, take one connection, read to EOF, answer
# the hex SHA-256 of what arrived (one line) and close.  Prints one JSON line: the
# bytes, the digest, and the kernel's own MPTCP_INFO of the connection (subflows,
# token) read before answering.
#   python3 mptcp_sha_server.py ADDR PORT READY
import hashlib, json, socket, struct, sys

IPPROTO_MPTCP, SOL_MPTCP, MPTCP_INFO = 262, 284, 1
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM, IPPROTO_MPTCP)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(1)
open(sys.argv[3], "w").write("ready\n")
c, peer = s.accept()
h, n = hashlib.sha256(), 0
while True:
    b = c.recv(1 << 20)
    if not b:
        break
    h.update(b)
    n += len(b)
info = c.getsockopt(SOL_MPTCP, MPTCP_INFO, 96)
subflows, token = info[0], struct.unpack_from("=I", info, 12)[0]
c.sendall((h.hexdigest() + "\n").encode())
c.close()
print(json.dumps({"bytes": n, "sha256": h.hexdigest(), "peer": peer[0],
                  "kernel_subflows": subflows, "kernel_token": token}))
