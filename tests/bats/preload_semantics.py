# What a program sees of its sockets under mpt-run, call by call: run as
#   mpt-run -- python3 preload_semantics.py ADDR ECHO_PORT CLOSED_PORT
# with an echo server at ADDR:ECHO_PORT and nothing at ADDR:CLOSED_PORT.  The C calls
# go through ctypes where Python's socket module would check the arguments itself;
# the errno of each bad call is compared with what the kernel answers for the same
# call on one of its own sockets (a socket bound to 127.0.0.1 stays the kernel's).
# Prints one JSON object {check: "ok" | reason}; exit 0 when every check is ok.
import ctypes, errno, fcntl, json, os, select, socket, struct, sys, time

addr, port, closed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
libc = ctypes.CDLL(None, use_errno=True)
res = {}


def check(name, cond, why=""):
    res[name] = "ok" if cond else (why or "failed")


def cerr(f, *args):
    ctypes.set_errno(0)
    rv = f(*args)
    return rv, ctypes.get_errno()


def connected(block=True):
    s = socket.socket()
    s.setblocking(block)
    s.connect((addr, port))
    return s


def echo(s, data):
    s.sendall(data)
    got = b""
    while len(got) < len(data):
        b = s.recv(65536)
        if not b:
            break
        got += b
    return got


# ---- non-blocking connect: EINPROGRESS, writable, SO_ERROR 0 ----
s = socket.socket()
s.setblocking(False)
rv = s.connect_ex((addr, port))
check("nonblocking connect: EINPROGRESS", rv == errno.EINPROGRESS, f"connect_ex {rv}")
_, w, _ = select.select([], [s], [], 10)
check("connect completes: writable", w == [s])
check("SO_ERROR 0 after connect", s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0)
check("getpeername", s.getpeername() == (addr, port), str(s.getpeername()))
check("getsockname: a local port", s.getsockname()[1] != 0)
check("second connect: EISCONN", s.connect_ex((addr, port)) == errno.EISCONN)
s.setblocking(True)  # ioctl(FIONBIO) in CPython
check("echo after FIONBIO off", echo(s, b"x" * 100000) == b"x" * 100000)

# ---- O_NONBLOCK through fcntl reaches the socket: recv would block -> EAGAIN ----
fl = fcntl.fcntl(s.fileno(), fcntl.F_GETFL)
fcntl.fcntl(s.fileno(), fcntl.F_SETFL, fl | os.O_NONBLOCK)
try:
    s.recv(10)
    check("fcntl O_NONBLOCK: recv EAGAIN", False, "recv returned")
except BlockingIOError:
    check("fcntl O_NONBLOCK: recv EAGAIN", True)
fcntl.fcntl(s.fileno(), fcntl.F_SETFL, fl)

# ---- flags ----
s.sendall(b"peekaboo")
time.sleep(0)
p = s.recv(8, socket.MSG_PEEK | socket.MSG_WAITALL)
check("MSG_PEEK then the same bytes", p == b"peekaboo" and s.recv(8, socket.MSG_WAITALL) == p)
s.sendall(b"abc")
d, a = s.recvfrom(3, socket.MSG_WAITALL)
check("recvfrom names no source, as TCP", d == b"abc" and a is None, repr((d, a)))
try:
    s.send(b"!", socket.MSG_OOB)
    check("send MSG_OOB: EOPNOTSUPP", False, "sent")
except OSError as e:
    check("send MSG_OOB: EOPNOTSUPP", e.errno == errno.EOPNOTSUPP, str(e))
try:
    s.recv(1, socket.MSG_OOB)
    check("recv MSG_OOB: EINVAL", False, "received")
except OSError as e:
    check("recv MSG_OOB: EINVAL", e.errno == errno.EINVAL, str(e))
s.sendto(b"to", (addr, 1))  # TCP ignores the address
check("sendto with an address on a connected socket", s.recv(2, socket.MSG_WAITALL) == b"to")

# ---- options ----
ti = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
check("TCP_INFO: ESTABLISHED", len(ti) >= 8 and ti[0] == 1, f"state {ti[0]}")
mi = s.getsockopt(284, 1, 96)  # SOL_MPTCP, MPTCP_INFO
check("MPTCP_INFO: 96 bytes, a token", len(mi) == 96 and struct.unpack_from("=I", mi, 8)[0] != 0)
cc = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16).rstrip(b"\0")
check("TCP_CONGESTION reads libmpt's", cc == b"cubic", repr(cc))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
check("TCP_NODELAY", s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 30)  # accepted, no effect
check("TCP_KEEPIDLE accepted (ignored)", True)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 0, 200000))
t0 = time.monotonic()
try:
    s.recv(1)
    check("SO_RCVTIMEO: recv times out", False, "recv returned")
except BlockingIOError:
    check("SO_RCVTIMEO: recv times out", 0.1 < time.monotonic() - t0 < 5)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 0, 0))
try:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"lo")
    check("SO_BINDTODEVICE refused", False, "accepted")
except OSError as e:
    check("SO_BINDTODEVICE refused", e.errno == errno.ENOPROTOOPT, str(e))

# ---- copies: the socket lives while a copy does ----
d = s.dup()
s.close()
check("dup survives close of the original", echo(d, b"copy" * 1000) == b"copy" * 1000)
fd2 = os.dup(d.fileno())
os.dup2(fd2, 100)
d.close()
os.close(fd2)
d = socket.socket(fileno=100)
check("dup2 copy survives the others", echo(d, b"dup2" * 1000) == b"dup2" * 1000)
d.close()
e = connected()
nul = os.open("/dev/null", os.O_RDONLY)
os.dup2(nul, e.fileno())  # replaces the socket's only number
os.close(nul)
check("dup2 over a socket: the number is /dev/null's", os.read(e.fileno(), 1) == b"")
e.close()

# ---- close_range (os.closerange) closes ours too: the numbers are free again ----
# (one number at a time: the runtime's own descriptors sit between them, and a
# range over those would close them under libmpt, as under any library)
a, b = connected(), connected()
nums = sorted([a.detach(), b.detach()])
for n in nums:
    os.closerange(n, n + 1)
again = [connected(), connected()]
check("close_range frees our numbers for new sockets",
      nums[0] in [x.fileno() for x in again] and
      all(echo(x, b"cr") == b"cr" for x in again),
      f"{nums} then {[x.fileno() for x in again]}")
for x in again:
    x.close()

# ---- refused ----
r = socket.socket()
check("blocking connect to a closed port: ECONNREFUSED",
      r.connect_ex((addr, closed)) == errno.ECONNREFUSED)
r.close()
r = socket.socket()
r.setblocking(False)
r.connect_ex((addr, closed))
select.select([], [r], [], 10)
check("non-blocking: SO_ERROR ECONNREFUSED",
      r.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == errno.ECONNREFUSED)
r.close()

# ---- a libmpt listener ----
l = socket.socket()
l.bind(("0.0.0.0", 0))
l.listen(4)
check("listener: a port", l.getsockname()[1] != 0)
l.setblocking(False)
try:
    l.accept()
    check("non-blocking accept: EAGAIN", False, "accepted")
except BlockingIOError:
    check("non-blocking accept: EAGAIN", True)

# ---- bad arguments: the kernel's errno, compared on one of its own sockets ----
k = socket.socket()
k.bind(("127.0.0.1", 0))  # loopback: the kernel's
m = socket.socket()  # libmpt's, unconnected
sa = socket.inet_aton(addr)
good = struct.pack("=HH4s8x", socket.AF_INET, socket.htons(closed), sa)
buf = ctypes.create_string_buffer(128)
n = ctypes.c_uint(128)
neg = ctypes.c_int(-1)
four = ctypes.c_uint(4)
cases = {
    "getsockname(NULL len)": lambda fd: cerr(libc.getsockname, fd, buf, None),
    "getsockname(len -1)": lambda fd: cerr(libc.getsockname, fd, buf, ctypes.byref(neg)),
    "getpeername unconnected": lambda fd: cerr(libc.getpeername, fd, buf, ctypes.byref(n)),
    "connect(NULL, 16)": lambda fd: cerr(libc.connect, fd, None, 16),
    "connect(short len 4)": lambda fd: cerr(libc.connect, fd, good, 4),
    "connect(len 1000)": lambda fd: cerr(libc.connect, fd, good, 1000),
    "bind(NULL, 16)": lambda fd: cerr(libc.bind, fd, None, 16),
    "getsockopt(NULL optlen)": lambda fd: cerr(libc.getsockopt, fd, 1, 4, buf, None),
    "getsockopt(NULL val, len 4)": lambda fd: cerr(libc.getsockopt, fd, 1, 4, None,
                                                  ctypes.byref(four)),
    "setsockopt(NULL val, len 4)": lambda fd: cerr(libc.setsockopt, fd, 1, 9, None, 4),
    "setsockopt(short len 2)": lambda fd: cerr(libc.setsockopt, fd, 1, 9, buf, 2),
    "shutdown(how 7)": lambda fd: cerr(libc.shutdown, fd, 7),
    "shutdown unconnected": lambda fd: cerr(libc.shutdown, fd, 1),
    "accept on a non-listener": lambda fd: cerr(libc.accept, fd, None, None),
}
for name, f in cases.items():
    kr, ke = f(k.fileno())
    mr, me = f(m.fileno())
    check("errno " + name, (kr, ke) == (mr, me),
          f"kernel {kr}/{errno.errorcode.get(ke, ke)}, libmpt {mr}/{errno.errorcode.get(me, me)}")
fd = m.detach()
check("close", libc.close(fd) == 0)
rv, e = cerr(libc.close, fd)
check("close twice: EBADF", rv == -1 and e == errno.EBADF)
rv, e = cerr(libc.getsockopt, 987, 1, 4, buf, ctypes.byref(n))
check("a bad descriptor: EBADF", rv == -1 and e == errno.EBADF)

print(json.dumps(res, indent=1))
sys.exit(0 if all(v == "ok" for v in res.values()) else 1)
