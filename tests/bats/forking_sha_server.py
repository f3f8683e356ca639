# A forking server for mpt-run's Bats test (python's socketserver.ForkingTCPServer):
# serve N connections on ADDR:PORT, each in a child forked after accept that reads
# to EOF and answers the hex SHA-256 of what arrived; the parent closes its copy of
# the connection at once.  Each child prints one JSON line (pid, bytes, digest); the
# parent waits for its children and prints one more.
#   python3 forking_sha_server.py ADDR PORT N
import hashlib, json, os, socketserver, sys


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        h, n = hashlib.sha256(), 0
        while True:
            b = self.request.recv(1 << 20)
            if not b:
                break
            h.update(b)
            n += len(b)
        self.request.sendall((h.hexdigest() + "\n").encode())
        print(json.dumps({"pid": os.getpid(), "bytes": n, "sha256": h.hexdigest()}),
              flush=True)


class Server(socketserver.ForkingTCPServer):
    allow_reuse_address = True


addr, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with Server((addr, port), Handler) as srv:
    for _ in range(count):
        srv.handle_request()
# leaving the with block: server_close waits for the children (block_on_close)
print(json.dumps({"parent": os.getpid(), "served": count}), flush=True)
