# An echo server for mpt-run's Bats test: on ADDR:PORT (Linux MPTCP when run under
# mptcpize), every connection in its own thread gets back what it sends until EOF.
#   python3 echo_server.py ADDR PORT
import socket, sys, threading


def serve(c):
    with c:
        while True:
            b = c.recv(65536)
            if not b:
                break
            c.sendall(b)


s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(16)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
