# Kernel TCP source for the emulator's Bats tests: connect to ADDR:5001 with
# congestion control CC (checked: the system default may be bbr) and send zeros
# for SECONDS or until the sink goes.
#   python3 tcp_src.py ADDR SECONDS CC
import socket, sys, time

s = socket.socket()
cc = sys.argv[3].encode()
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, cc)
assert s.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16).rstrip(b"\0") == cc
s.connect((sys.argv[1], 5001))
buf, end = bytes(1 << 16), time.monotonic() + float(sys.argv[2])
try:
    while time.monotonic() < end:
        s.sendall(buf)
except OSError:
    pass
