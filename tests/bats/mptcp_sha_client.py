# A Linux MPTCP client for the socket layer's Bats test: connect to ADDR:PORT with
# IPPROTO_MPTCP, send BYTES of seeded pseudo-random data, shut down writing, read
# the server's answer (the hex SHA-256 of what it received) and compare it with our
# own.  Prints one JSON line (bytes, digests, verified, the kernel's MPTCP_INFO
# subflows); exit 0 when the digests match.
#   python3 mptcp_sha_client.py ADDR PORT BYTES
import hashlib, json, random, socket, sys

IPPROTO_MPTCP, SOL_MPTCP, MPTCP_INFO = 262, 284, 1
addr, port, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP)
s.connect((addr, port))
rng, h, sent = random.Random(14), hashlib.sha256(), 0
while sent < total:
    b = rng.randbytes(min(1 << 20, total - sent))
    s.sendall(b)
    h.update(b)
    sent += len(b)
info = s.getsockopt(SOL_MPTCP, MPTCP_INFO, 96)
s.shutdown(socket.SHUT_WR)
answer = b""
while True:
    b = s.recv(4096)
    if not b:
        break
    answer += b
answer = answer.decode().strip()
ok = answer == h.hexdigest()
print(json.dumps({"bytes": sent, "sha256": h.hexdigest(), "peer_sha256": answer,
                  "verified": ok, "kernel_subflows": info[0]}))
sys.exit(0 if ok else 1)
