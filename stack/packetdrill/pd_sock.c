/* The socket calls of packetdrill's interface over libmpt's socket layer
 * (mpt_socket.h).  A socket is a real descriptor (one end of a socketpair the
 * table shuttles), so read/write/poll and friends are the C library's own calls on
 * it; the shim only waits for it in place of the kernel, pumping the stack, and
 * pumps again afterwards so the bytes move before packetdrill looks at the wire.
 * Waiting never advances virtual time: packetdrill's main thread does that. */
#include "pd.h"
#include "pd_iface.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <time.h>

/* Wait until fd is ready for `events` when it is a blocking socket of the table
 * (flags without MSG_DONTWAIT), pumping the stack between looks. */
static void wait_ready(struct pd *p, int fd, short events, int flags)
{
	const struct timespec tick = {0, 1000000};

	if (!mpt_sk_is_socket(p->t, fd) || (flags & MSG_DONTWAIT))
		return;
	if (fcntl(fd, F_GETFL) & O_NONBLOCK)
		return;
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = events};

		pd_pump(p);
		if (poll(&pfd, 1, 0) > 0)
			return;
		nanosleep(&tick, NULL);
	}
}

/* Return r, pumping first so what the call changed reaches the wire. */
static ssize_t after(struct pd *p, ssize_t r)
{
	int e = errno;

	pd_pump(p);
	errno = e;
	return r;
}

/* A socket of the table that has no connection (never connected, or listening):
 * reading it is ENOTCONN for Linux, while its descriptor would say EAGAIN. */
static bool unconnected(struct pd *p, int fd)
{
	return mpt_sk_is_socket(p->t, fd) && mpt_sk_conn_id(p->t, fd) == 0;
}

/* The socket layer ends a failed connection's stream (write: EPIPE) and keeps the
 * reason in SO_ERROR; Linux's write returns the reason itself (ECONNREFUSED,
 * ECONNRESET) once. */
/* The socket's pending error, taken from the table (which clears it) or from what
 * poll took before; 0 for none. */
static int take_error(struct pd *p, int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (fd >= 0 && fd < PD_MAX_FD && p->pending_err[fd]) {
		err = p->pending_err[fd];
		p->pending_err[fd] = 0;
		return err;
	}
	if (!mpt_sk_is_socket(p->t, fd) ||
	    mpt_sk_getsockopt(p->t, fd, SOL_SOCKET, SO_ERROR, &err, &len))
		return 0;
	return err;
}

static ssize_t write_result(struct pd *p, int fd, ssize_t r)
{
	int e = errno, err;

	if (r < 0 && e == EPIPE && (err = take_error(p, fd)) != 0)
		e = err;
	return after(p, (errno = e, r));
}

/* Linux's poll raises POLLERR while a socket error is pending; the socket layer's
 * descriptor only hangs up.  Take the error (keeping it for SO_ERROR) and say so. */
static void add_pollerr(struct pd *p, struct pollfd *fds, nfds_t n)
{
	for (nfds_t i = 0; i < n; i++) {
		int fd = fds[i].fd;

		if (!(fds[i].revents & POLLHUP) || fd < 0 || fd >= PD_MAX_FD ||
		    !mpt_sk_is_socket(p->t, fd))
			continue;
		if (!p->pending_err[fd])
			p->pending_err[fd] = take_error(p, fd);
		if (p->pending_err[fd])
			fds[i].revents |= POLLERR;
	}
}

static size_t iov_len(const struct iovec *iov, int cnt)
{
	size_t n = 0;

	for (int i = 0; i < cnt; i++)
		n += iov[i].iov_len;
	return n;
}

static int s_socket(void *ud, int domain, int type, int protocol)
{
	struct pd *p = ud;

	static const int off = 0;
	int fd;

	mpt_sk_lock(p->t);
	pd_pm_sync_locked(p);
	mpt_sk_unlock(p->t);
	fd = mpt_sk_socket(p->t, domain, type, protocol);
	/* the socket layer makes every stream socket MPTCP (as mptcpize, for the
	 * preload); a script's IPPROTO_TCP socket means plain TCP, as for Linux */
	if (fd >= 0 && protocol != IPPROTO_MPTCP)
		(void)mpt_sk_setsockopt(p->t, fd, IPPROTO_TCP, TCP_MULTIPATH_ENABLE, &off,
					sizeof(off));
	return (int)after(p, fd);
}

static int s_bind(void *ud, int fd, const struct sockaddr *sa, socklen_t len)
{
	struct pd *p = ud;
	struct mpt_sockaddr a = {0};

	/* a bound address becomes one of the stack's: packetdrill's local address is
	 * random, and its scripts bind to it before any packet names it */
	if (sa && sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const void *)sa;

		a.family = MPT_AF_INET;
		memcpy(a.ip, &in->sin_addr, 4);
	} else if (sa && sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			a.family = MPT_AF_INET;
			memcpy(a.ip, in6->sin6_addr.s6_addr + 12, 4);
		} else {
			a.family = MPT_AF_INET6;
			memcpy(a.ip, &in6->sin6_addr, 16);
		}
	}
	if (a.family) {
		static const uint8_t zero[16];

		if (memcmp(a.ip, zero, 16)) {
			mpt_sk_lock(p->t);
			(void)pd_path_of(p, &a);
			mpt_sk_unlock(p->t);
		}
	}
	return (int)after(p, mpt_sk_bind(p->t, fd, sa, len));
}

static int s_listen(void *ud, int fd, int backlog)
{
	struct pd *p = ud;

	return (int)after(p, mpt_sk_listen(p->t, fd, backlog));
}

static int s_accept(void *ud, int fd, struct sockaddr *sa, socklen_t *len)
{
	struct pd *p = ud;

	pd_pump(p);
	return (int)after(p, mpt_sk_accept(p->t, fd, sa, len, 0));
}

static int s_connect(void *ud, int fd, const struct sockaddr *sa, socklen_t len)
{
	struct pd *p = ud;

	return (int)after(p, mpt_sk_connect(p->t, fd, sa, len));
}

static ssize_t s_read(void *ud, int fd, void *buf, size_t n)
{
	struct pd *p = ud;

	if (unconnected(p, fd))
		return errno = ENOTCONN, -1;
	if (n)
		wait_ready(p, fd, POLLIN, 0);
	return after(p, read(fd, buf, n));
}

static ssize_t s_readv(void *ud, int fd, const struct iovec *iov, int cnt)
{
	struct pd *p = ud;

	if (unconnected(p, fd))
		return errno = ENOTCONN, -1;
	if (iov_len(iov, cnt))
		wait_ready(p, fd, POLLIN, 0);
	return after(p, readv(fd, iov, cnt));
}

static ssize_t s_recv(void *ud, int fd, void *buf, size_t n, int flags)
{
	struct pd *p = ud;

	if (unconnected(p, fd))
		return errno = ENOTCONN, -1;
	if (n)
		wait_ready(p, fd, POLLIN, flags);
	return after(p, recv(fd, buf, n, flags));
}

static ssize_t s_recvfrom(void *ud, int fd, void *buf, size_t n, int flags, struct sockaddr *sa,
			  socklen_t *len)
{
	struct pd *p = ud;

	if (unconnected(p, fd))
		return errno = ENOTCONN, -1;
	if (n)
		wait_ready(p, fd, POLLIN, flags);
	/* a stream socket has no source to report: the peer's name, as TCP gives */
	if (sa && len && mpt_sk_is_socket(p->t, fd))
		(void)mpt_sk_getpeername(p->t, fd, sa, len);
	return after(p, recv(fd, buf, n, flags));
}

static ssize_t s_recvmsg(void *ud, int fd, struct msghdr *m, int flags)
{
	struct pd *p = ud;

	if (unconnected(p, fd))
		return errno = ENOTCONN, -1;
	/* a zero-length read returns 0 at once, as TCP's (an AF_UNIX stream would
	 * wait for data) */
	if (!iov_len(m->msg_iov, (int)m->msg_iovlen) && mpt_sk_is_socket(p->t, fd)) {
		m->msg_flags = 0;
		return after(p, 0);
	}
	wait_ready(p, fd, POLLIN, flags);
	return after(p, recvmsg(fd, m, flags));
}

static ssize_t s_write(void *ud, int fd, const void *buf, size_t n)
{
	struct pd *p = ud;

	wait_ready(p, fd, POLLOUT, 0);
	return write_result(p, fd, write(fd, buf, n));
}

static ssize_t s_writev(void *ud, int fd, const struct iovec *iov, int cnt)
{
	struct pd *p = ud;

	wait_ready(p, fd, POLLOUT, 0);
	return write_result(p, fd, writev(fd, iov, cnt));
}

static ssize_t s_send(void *ud, int fd, const void *buf, size_t n, int flags)
{
	struct pd *p = ud;

	wait_ready(p, fd, POLLOUT, flags);
	return write_result(p, fd, send(fd, buf, n, flags | MSG_NOSIGNAL));
}

static ssize_t s_sendto(void *ud, int fd, const void *buf, size_t n, int flags,
			const struct sockaddr *sa, socklen_t len)
{
	struct pd *p = ud;

	(void)sa;
	(void)len;
	wait_ready(p, fd, POLLOUT, flags);
	return write_result(p, fd, send(fd, buf, n, flags | MSG_NOSIGNAL));
}

static ssize_t s_sendmsg(void *ud, int fd, const struct msghdr *m, int flags)
{
	struct pd *p = ud;

	wait_ready(p, fd, POLLOUT, flags);
	return write_result(p, fd, sendmsg(fd, m, flags | MSG_NOSIGNAL));
}

static int s_fcntl(void *ud, int fd, int cmd, ...)
{
	struct pd *p = ud;
	va_list ap;
	long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	return (int)after(p, fcntl(fd, cmd, arg));
}

static int s_ioctl(void *ud, int fd, unsigned long req, ...)
{
	struct pd *p = ud;
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	pd_pump(p);
	return (int)after(p, ioctl(fd, req, arg));
}

static int s_close(void *ud, int fd)
{
	struct pd *p = ud;

	if (fd >= 0 && fd < PD_MAX_FD)
		p->pending_err[fd] = 0;
	if (mpt_sk_is_socket(p->t, fd))
		return (int)after(p, mpt_sk_close(p->t, fd));
	return close(fd);
}

static int s_shutdown(void *ud, int fd, int how)
{
	struct pd *p = ud;

	return (int)after(p, mpt_sk_shutdown(p->t, fd, how));
}

static int s_getsockopt(void *ud, int fd, int level, int name, void *val, socklen_t *len)
{
	struct pd *p = ud;

	pd_pump(p);
	if (level == SOL_SOCKET && name == SO_ERROR && fd >= 0 && fd < PD_MAX_FD &&
	    p->pending_err[fd] && val && len && *len >= sizeof(int)) {
		*(int *)val = take_error(p, fd);
		*len = sizeof(int);
		return 0;
	}
	return (int)after(p, mpt_sk_getsockopt(p->t, fd, level, name, val, len));
}

static int s_setsockopt(void *ud, int fd, int level, int name, const void *val, socklen_t len)
{
	struct pd *p = ud;

	return (int)after(p, mpt_sk_setsockopt(p->t, fd, level, name, val, len));
}

static int s_poll(void *ud, struct pollfd *fds, nfds_t n, int timeout)
{
	struct pd *p = ud;
	const struct timespec tick = {0, 1000000};
	int r;

	/* timeout counts real milliseconds of waiting for the other thread */
	for (int waited = 0;; waited++) {
		pd_pump(p);
		r = poll(fds, n, 0);
		if (r > 0)
			add_pollerr(p, fds, n);
		if (r != 0 || (timeout >= 0 && waited >= timeout))
			return r;
		nanosleep(&tick, NULL);
	}
}

static int s_epoll_create(void *ud, int size)
{
	(void)ud;
	return epoll_create(size);
}

static int s_epoll_ctl(void *ud, int epfd, int op, int fd, struct epoll_event *ev)
{
	(void)ud;
	return epoll_ctl(epfd, op, fd, ev);
}

static int s_epoll_wait(void *ud, int epfd, struct epoll_event *evs, int max, int timeout)
{
	struct pd *p = ud;
	const struct timespec tick = {0, 1000000};
	int r;

	for (int waited = 0;; waited++) {
		pd_pump(p);
		r = epoll_wait(epfd, evs, max, 0);
		if (r != 0 || (timeout >= 0 && waited >= timeout))
			return r;
		nanosleep(&tick, NULL);
	}
}

static int s_pipe(void *ud, int fds[2])
{
	(void)ud;
	return pipe(fds);
}

static int s_splice(void *ud, int in, mpt_pd_loff *off_in, int out, mpt_pd_loff *off_out,
		    size_t len, unsigned int flags)
{
	struct pd *p = ud;

	return (int)after(p, splice(in, off_in, out, off_out, len, flags));
}

void pd_sock_fill(struct packetdrill_interface *ifc)
{
	ifc->socket = s_socket;
	ifc->bind = s_bind;
	ifc->listen = s_listen;
	ifc->accept = s_accept;
	ifc->connect = s_connect;
	ifc->read = s_read;
	ifc->readv = s_readv;
	ifc->recv = s_recv;
	ifc->recvfrom = s_recvfrom;
	ifc->recvmsg = s_recvmsg;
	ifc->write = s_write;
	ifc->writev = s_writev;
	ifc->send = s_send;
	ifc->sendto = s_sendto;
	ifc->sendmsg = s_sendmsg;
	ifc->fcntl = s_fcntl;
	ifc->ioctl = s_ioctl;
	ifc->close = s_close;
	ifc->shutdown = s_shutdown;
	ifc->getsockopt = s_getsockopt;
	ifc->setsockopt = s_setsockopt;
	ifc->poll = s_poll;
	ifc->epoll_create = s_epoll_create;
	ifc->epoll_ctl = s_epoll_ctl;
	ifc->epoll_wait = s_epoll_wait;
	ifc->pipe = s_pipe;
	ifc->splice = s_splice;
}
