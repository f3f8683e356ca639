/* libmpt-preload.so: LD_PRELOAD shim that puts an unmodified program's TCP sockets on
 * libmpt (mpt-run sets it up; README "Running applications over libmpt").
 *
 * socket(AF_INET/AF_INET6, SOCK_STREAM, 0 / IPPROTO_TCP / IPPROTO_MPTCP) returns a
 * descriptor of the socket layer (mpt_socket.h): one end of an AF_UNIX socketpair, so
 * read/write/poll/epoll/select/sendfile work on it natively.  The calls the socket
 * layer implements are passed to it: bind, listen, accept, accept4, connect,
 * shutdown, close, getsockname, getpeername, getsockopt, setsockopt.  close_range
 * closes ours in its range as close does; dup, dup2, dup3 and fcntl(F_DUPFD*) are
 * followed (pl.h's descriptor table) so that the socket
 * closes with its last number.  send/sendto/sendmsg drop a destination address (TCP
 * ignores it, a connected AF_UNIX socket refuses it), refuse MSG_OOB (urgent data)
 * with EOPNOTSUPP; recvfrom/recvmsg report no source address, as TCP; MSG_PEEK,
 * MSG_DONTWAIT, MSG_WAITALL and MSG_NOSIGNAL work natively.  O_NONBLOCK (fcntl,
 * ioctl FIONBIO, SOCK_NONBLOCK) lives on the open socketpair end, which is what the
 * socket layer reads: nothing to follow.  Everything else (UDP, AF_UNIX, netlink, the
 * resolver) goes to the C library untouched.
 *
 * Loopback: libmpt runs on the namespace's interfaces, not on lo.  A socket that
 * binds or connects to 127.0.0.0/8, ::1 (or ::ffff:127.x) or connects to one of
 * this host's own addresses becomes a kernel socket at that call (its options
 * copied, the same number, dup3), so local tools keep working.  A listener on the
 * any address is libmpt's and serves the interfaces only.
 *
 * The runtime (a thread, stack/socket/sock_rt.c) starts at the first such socket
 * and stops at exit: open libmpt sockets are closed as the kernel would close them,
 * and closed connections get MPT_RUN_LINGER seconds to deliver their data and FIN.
 * A failed start prints one line naming the fix and fails socket() with that errno.
 *
 * Calls made by the socket layer and the runtime themselves reach these wrappers too
 * (one symbol namespace): the runtime thread and any thread inside a socket-layer
 * call (a thread-local depth) go straight to the C library.
 *
 * fork: a child keeps using inherited descriptors natively (a socketpair end; the
 * parent's runtime moves the bytes).  The runtime does not exist in the child, so
 * there every call on them goes to the C library (shutdown SHUT_WR still sends the
 * FIN: the parent's runtime reads the end of the stream), and the child's own new
 * TCP sockets are the kernel's (one warning).  The process that started the runtime
 * is told apart by getpid(), which also covers vfork children.
 */
#include "pl.h"
#include "mpt_rt.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <linux/close_range.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

/* ---- the C library's functions -------------------------------------------------------- */
static struct {
	int (*socket)(int, int, int);
	int (*bind)(int, const struct sockaddr *, socklen_t);
	int (*listen)(int, int);
	int (*accept)(int, struct sockaddr *, socklen_t *);
	int (*accept4)(int, struct sockaddr *, socklen_t *, int);
	int (*connect)(int, const struct sockaddr *, socklen_t);
	int (*shutdown)(int, int);
	int (*close)(int);
	int (*getsockname)(int, struct sockaddr *, socklen_t *);
	int (*getpeername)(int, struct sockaddr *, socklen_t *);
	int (*getsockopt)(int, int, int, void *, socklen_t *);
	int (*setsockopt)(int, int, int, const void *, socklen_t);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*fcntl)(int, int, ...);
	int (*close_range)(unsigned int, unsigned int, int);
	ssize_t (*send)(int, const void *, size_t, int);
	ssize_t (*sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
	ssize_t (*sendmsg)(int, const struct msghdr *, int);
	ssize_t (*recv)(int, void *, size_t, int);
	ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
	ssize_t (*recvmsg)(int, struct msghdr *, int);
} real;

static pthread_once_t real_once = PTHREAD_ONCE_INIT;

#define LOOKUP(f) (real.f = (__typeof__(real.f))dlsym(RTLD_NEXT, #f))
static void real_init(void)
{
	LOOKUP(socket);
	LOOKUP(bind);
	LOOKUP(listen);
	LOOKUP(accept);
	LOOKUP(accept4);
	LOOKUP(connect);
	LOOKUP(shutdown);
	LOOKUP(close);
	LOOKUP(getsockname);
	LOOKUP(getpeername);
	LOOKUP(getsockopt);
	LOOKUP(setsockopt);
	LOOKUP(dup);
	LOOKUP(dup2);
	LOOKUP(dup3);
	LOOKUP(fcntl);
	LOOKUP(close_range);
	LOOKUP(send);
	LOOKUP(sendto);
	LOOKUP(sendmsg);
	LOOKUP(recv);
	LOOKUP(recvfrom);
	LOOKUP(recvmsg);
}

static void need_real(void)
{
	pthread_once(&real_once, real_init);
}

/* ---- state ------------------------------------------------------------------------------ */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER; /* the table below, start */
static struct pl_fdtab fds;
static struct pl_env env;
static struct mpt_sk_table *tab; /* set once started */
static pid_t owner;		 /* the process that started the runtime */
static int start_errno;		 /* a failed start, remembered */
static FILE *logfp;		 /* MPT_RUN_LOG */
static __thread int depth;	 /* > 0: inside a socket-layer call */

static bool internal(void)
{
	return depth > 0 || mpt_socket_on_runtime_thread();
}

/* A process other than the runtime's (fork or vfork child): calls go to the C
 * library. */
static bool detached(void)
{
	return owner && getpid() != owner;
}

static void shim_exit(void);

static const char *getenv_c(const char *name)
{
	return getenv(name);
}

/* Start the runtime (mu held).  0 or -errno; a failure prints one line, once. */
static int start_locked(void)
{
	struct mpt_io_path paths[MPT_IO_MAX_PATHS];
	struct mpt_socket_opts o;
	struct mpt_config cfg;
	struct rlimit rl;
	char err[256] = "";
	const char *fix = NULL;
	int rv, n;

	if (tab)
		return 0;
	if (start_errno)
		return -start_errno;
	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1 << 20)
		rl.rlim_cur = 1 << 20;
	rv = pl_fdtab_init(&fds, rl.rlim_cur < 1024 ? 1024 : (size_t)rl.rlim_cur);
	if (rv < 0) {
		snprintf(err, sizeof(err), "no memory for the descriptor table");
		fix = "free memory";
		goto fail;
	}
	if (pl_env_parse(&env, getenv_c, err, sizeof(err))) {
		rv = -EINVAL;
		fix = "correct the variable (mpt-run sets them from its options)";
		goto fail;
	}
	if (env.log[0]) {
		logfp = fopen(env.log, "we");
		if (logfp)
			setvbuf(logfp, NULL, _IOLBF, 0);
	}
	n = mpt_rt_discover_paths(paths, MPT_IO_MAX_PATHS);
	if (n <= 0) {
		rv = n < 0 ? n : -ENETDOWN;
		snprintf(err, sizeof(err), "%s",
			 n < 0 ? strerror(-n) : "no address on an up, non-loopback interface here");
		fix = "run it inside a host of a topology: mpnet exec FILE HOST -- mpt-run ...";
		goto fail;
	}
	pl_env_config(&env, &cfg);
	o = (struct mpt_socket_opts){.cfg = &cfg,
				     .endpoints = env.endpoints,
				     .nendpoints = env.nendpoints,
				     .own_limits = env.max_subflows != 0,
				     .linger_ns = env.linger_ns};
	depth++;
	rv = mpt_socket_start_opts(&o, err, sizeof(err));
	depth--;
	if (rv < 0) {
		if (rv == -ENOENT) {
			fix = "give --endpoint an address of this host (ip -br addr)";
			rv = -EADDRNOTAVAIL;
		} else if (geteuid() != 0) {
			fix = "run it as root: libmpt needs CAP_NET_RAW and CAP_NET_ADMIN "
			      "(packet sockets, nftables)";
			rv = -EPERM;
		} else {
			fix = "run it inside a host of a topology (mpnet exec FILE HOST -- "
			      "mpt-run ...) with nftables installed";
		}
		goto fail;
	}
	tab = mpt_socket_table();
	owner = getpid();
	if (logfp)
		fprintf(logfp, "mpt-run: libmpt started in pid %d on %d address(es)\n", (int)owner,
			n);
	atexit(shim_exit); /* after OpenSSL's: runs before its clean-up */
	return 0;
fail:
	start_errno = rv < 0 ? -rv : EIO;
	fprintf(stderr, "mpt-run: libmpt did not start: %s; %s\n", err, fix);
	return -start_errno;
}

static int start(void)
{
	int rv;

	pthread_mutex_lock(&mu);
	rv = start_locked();
	pthread_mutex_unlock(&mu);
	return rv;
}

/* The key of fd when it is one of our sockets, else -1 (also in a child, inside the
 * layer, before the start). */
static int ours(int fd)
{
	int key;

	if (!tab || internal())
		return -1;
	key = pl_fdtab_key(&fds, fd);
	return key < 0 || detached() ? -1 : key;
}

static uint64_t ino_of(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : (uint64_t)st.st_ino;
}

/* a call into the socket layer: what it calls itself goes straight to libc */
#define LAYER(call)           \
	({                    \
		int _rv;      \
		depth++;      \
		_rv = (call); \
		depth--;      \
		_rv;          \
	})

static int fail(int e)
{
	errno = e;
	return -1;
}

/* ---- socket ----------------------------------------------------------------------------- */
static bool is_tcp(int domain, int type, int protocol)
{
	return (domain == AF_INET || domain == AF_INET6) &&
	       (type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) == SOCK_STREAM &&
	       (protocol == 0 || protocol == IPPROTO_TCP || protocol == IPPROTO_MPTCP);
}

EXPORT int socket(int domain, int type, int protocol)
{
	static bool warned;
	int fd, rv;

	need_real();
	if (internal() || !is_tcp(domain, type, protocol))
		return real.socket(domain, type, protocol);
	if (detached()) {
		if (!warned) {
			warned = true;
			fprintf(stderr,
				"mpt-run: pid %d is a fork of the libmpt process: its own "
				"TCP sockets are the kernel's\n",
				(int)getpid());
		}
		return real.socket(domain, type, protocol);
	}
	rv = start();
	if (rv < 0)
		return fail(-rv);
	fd = LAYER(mpt_sk_socket(tab, domain, type, protocol));
	if (fd < 0)
		return -1;
	pthread_mutex_lock(&mu);
	rv = pl_fdtab_add(&fds, fd, ino_of(fd));
	pthread_mutex_unlock(&mu);
	if (rv < 0) {
		LAYER(mpt_sk_close(tab, fd));
		return fail(EMFILE);
	}
	return fd;
}

/* ---- to the kernel: loopback ---------------------------------------------------------- */

/* Whether a connection to sa would not leave through an interface: loopback, or one
 * of this host's own addresses. */
static bool local_dest(const struct sockaddr *sa, socklen_t len)
{
	struct ifaddrs *ifa, *i;
	bool r = false;

	if (pl_addr_loopback(sa, len))
		return true;
	if (getifaddrs(&ifa))
		return false;
	for (i = ifa; i && !r; i = i->ifa_next)
		if (i->ifa_addr &&
		    (i->ifa_addr->sa_family == AF_INET || i->ifa_addr->sa_family == AF_INET6))
			r = pl_addr_same_ip(sa, len, i->ifa_addr);
	freeifaddrs(ifa);
	return r;
}

/* Options carried over to the kernel socket. */
static const struct {
	int level, name;
} carried[] = {
	{SOL_SOCKET, SO_REUSEADDR}, {SOL_SOCKET, SO_REUSEPORT},	 {SOL_SOCKET, SO_KEEPALIVE},
	{IPPROTO_TCP, TCP_NODELAY}, {IPPROTO_IPV6, IPV6_V6ONLY},
};

/* Replace our socket fd (key, the group's only number) by a kernel socket of the same
 * family under the same number, with its file flags and options.  0 or -1/errno. */
static int to_kernel(int fd)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(int), sl = sizeof(ss);
	int fam = AF_INET, proto = IPPROTO_TCP, k, fl, fdfl, v;
	struct linger lg;
	struct pl_drop d;

	if (pl_fdtab_refs(&fds, fd) != 1)
		return fail(ENETUNREACH); /* copies of it exist: cannot swap them all */
	LAYER(mpt_sk_getsockopt(tab, fd, SOL_SOCKET, SO_DOMAIN, &fam, &l));
	l = sizeof(int);
	LAYER(mpt_sk_getsockopt(tab, fd, SOL_SOCKET, SO_PROTOCOL, &proto, &l));
	k = real.socket(fam, SOCK_STREAM, proto);
	if (k < 0 && proto == IPPROTO_MPTCP)
		k = real.socket(fam, SOCK_STREAM, IPPROTO_TCP);
	if (k < 0)
		return -1;
	for (size_t i = 0; i < sizeof(carried) / sizeof(carried[0]); i++) {
		if (carried[i].level == IPPROTO_IPV6 && fam != AF_INET6)
			continue;
		l = sizeof(v);
		if (LAYER(mpt_sk_getsockopt(tab, fd, carried[i].level, carried[i].name, &v, &l)) ==
		    0)
			real.setsockopt(k, carried[i].level, carried[i].name, &v, sizeof(v));
	}
	l = sizeof(lg);
	if (LAYER(mpt_sk_getsockopt(tab, fd, SOL_SOCKET, SO_LINGER, &lg, &l)) == 0 && lg.l_onoff)
		real.setsockopt(k, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	/* a port bound already (bind then connect) */
	if (LAYER(mpt_sk_getsockname(tab, fd, (struct sockaddr *)&ss, &sl)) == 0 &&
	    ((ss.ss_family == AF_INET && ((struct sockaddr_in *)&ss)->sin_port) ||
	     (ss.ss_family == AF_INET6 && ((struct sockaddr_in6 *)&ss)->sin6_port)) &&
	    real.bind(k, (struct sockaddr *)&ss, sl) < 0) {
		int e = errno;

		real.close(k);
		return fail(e);
	}
	fl = real.fcntl(fd, F_GETFL);
	fdfl = real.fcntl(fd, F_GETFD);
	if (fl >= 0)
		real.fcntl(k, F_SETFL, fl & O_NONBLOCK);
	if (real.dup3(k, fd, fdfl >= 0 && (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0) {
		int e = errno;

		real.close(k);
		return fail(e);
	}
	real.close(k);
	pl_fdtab_drop(&fds, fd, &d);
	LAYER(mpt_sk_detach(tab, fd));
	if (logfp)
		fprintf(logfp,
			"mpt-run: descriptor %d is the kernel's (loopback or a local "
			"address)\n",
			fd);
	return 0;
}

/* ---- address-taking calls ---------------------------------------------------------------- */

/* The kernel's checks of a sockaddr argument (move_addr_to_kernel): 0 or errno. */
static int check_in_addr(const struct sockaddr *sa, socklen_t len)
{
	if ((int)len < 0 || len > sizeof(struct sockaddr_storage))
		return EINVAL;
	if (!sa && len)
		return EFAULT;
	if (len < sizeof(sa_family_t))
		return EINVAL;
	return 0;
}

/* ... of a sockaddr result with its length (move_addr_to_user): 0 or errno. */
static int check_out_addr(const struct sockaddr *sa, const socklen_t *len)
{
	if (!sa)
		return 0;
	if (!len)
		return EFAULT;
	if ((int)*len < 0)
		return EINVAL;
	return 0;
}

EXPORT int bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	int key, e, rv;

	need_real();
	key = ours(fd);
	if (key < 0)
		return real.bind(fd, sa, len);
	e = check_in_addr(sa, len);
	if (e)
		return fail(e);
	if (pl_addr_loopback(sa, len)) {
		pthread_mutex_lock(&mu);
		rv = pl_fdtab_key(&fds, fd) == key ? to_kernel(key) : fail(EBADF);
		pthread_mutex_unlock(&mu);
		return rv < 0 ? rv : real.bind(fd, sa, len);
	}
	return LAYER(mpt_sk_bind(tab, key, sa, len));
}

EXPORT int listen(int fd, int backlog)
{
	int key, rv;

	need_real();
	key = ours(fd);
	if (key < 0)
		return real.listen(fd, backlog);
	rv = LAYER(mpt_sk_listen(tab, key, backlog));
	if (rv == 0 && logfp) {
		/* the kernel's ss does not see a libmpt listener: the log says it */
		struct sockaddr_storage ss;
		socklen_t l = sizeof(ss);
		int e = errno;

		if (LAYER(mpt_sk_getsockname(tab, key, (struct sockaddr *)&ss, &l)) == 0)
			fprintf(logfp, "mpt-run: listening on port %u\n",
				ntohs(ss.ss_family == AF_INET
					      ? ((struct sockaddr_in *)&ss)->sin_port
					      : ((struct sockaddr_in6 *)&ss)->sin6_port));
		errno = e;
	}
	return rv;
}

static int accept_common(int fd, struct sockaddr *sa, socklen_t *len, int flags, bool four)
{
	int key, nfd, e, rv;

	need_real();
	key = ours(fd);
	if (key < 0)
		return four ? real.accept4(fd, sa, len, flags) : real.accept(fd, sa, len);
	e = check_out_addr(sa, len);
	if (e)
		return fail(e);
	/* not under mu: a blocking accept waits here */
	nfd = LAYER(mpt_sk_accept(tab, key, sa, len, flags));
	if (nfd < 0)
		return -1;
	e = errno;
	pthread_mutex_lock(&mu);
	rv = pl_fdtab_add(&fds, nfd, ino_of(nfd));
	pthread_mutex_unlock(&mu);
	if (rv < 0) {
		LAYER(mpt_sk_close(tab, nfd));
		return fail(rv == -EBADF ? EMFILE : EIO);
	}
	errno = e;
	return nfd;
}

EXPORT int accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	return accept_common(fd, sa, len, 0, false);
}

EXPORT int accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	return accept_common(fd, sa, len, flags, true);
}

EXPORT int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	int key, e, rv;

	need_real();
	key = ours(fd);
	if (key < 0)
		return real.connect(fd, sa, len);
	e = check_in_addr(sa, len);
	if (e)
		return fail(e);
	if ((sa->sa_family == AF_INET || sa->sa_family == AF_INET6) && local_dest(sa, len)) {
		pthread_mutex_lock(&mu);
		rv = pl_fdtab_key(&fds, fd) == key ? to_kernel(key) : fail(EBADF);
		pthread_mutex_unlock(&mu);
		return rv < 0 ? rv : real.connect(fd, sa, len);
	}
	return LAYER(mpt_sk_connect(tab, key, sa, len));
}

EXPORT int shutdown(int fd, int how)
{
	int key;

	need_real();
	if (tab && !internal() && detached() && pl_fdtab_key(&fds, fd) >= 0) {
		/* a fork's copy: the parent's runtime reads the end of the stream; the
		 * reading side of the pair is never shut (the runtime would see it as
		 * closed) */
		if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
			return fail(EINVAL);
		return how == SHUT_RD ? 0 : real.shutdown(fd, SHUT_WR);
	}
	key = ours(fd);
	if (key < 0)
		return real.shutdown(fd, how);
	return LAYER(mpt_sk_shutdown(tab, key, how));
}

EXPORT int getsockname(int fd, struct sockaddr *sa, socklen_t *len)
{
	int key, e;

	need_real();
	key = ours(fd);
	if (key < 0)
		return real.getsockname(fd, sa, len);
	if (!len)
		return fail(EFAULT);
	e = check_out_addr(sa, len);
	if (!e && !sa && *len)
		e = EFAULT;
	if (e)
		return fail(e);
	return LAYER(mpt_sk_getsockname(tab, key, sa, len));
}

EXPORT int getpeername(int fd, struct sockaddr *sa, socklen_t *len)
{
	int key, e;

	need_real();
	key = ours(fd);
	if (key < 0)
		return real.getpeername(fd, sa, len);
	if (!len)
		return fail(EFAULT);
	e = check_out_addr(sa, len);
	if (!e && !sa && *len)
		e = EFAULT;
	if (e)
		return fail(e);
	return LAYER(mpt_sk_getpeername(tab, key, sa, len));
}

/* ---- options ----------------------------------------------------------------------------- */
EXPORT int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	int key, rv, dflt;
	uint8_t dummy[4];

	need_real();
	key = ours(fd);
	if (key < 0)
		return real.getsockopt(fd, level, name, val, len);
	if (!len)
		return fail(EFAULT);
	if ((int)*len < 0)
		return fail(EINVAL);
	if (!val && *len)
		return fail(EFAULT);
	rv = LAYER(mpt_sk_getsockopt(tab, key, level, name, val ? val : dummy, len));
	if (rv == 0 || errno != ENOPROTOOPT)
		return rv;
	switch (pl_opt_fallback(level, name, &dflt)) {
	case PL_OPT_NATIVE:
		return real.getsockopt(fd, level, name, val, len);
	case PL_OPT_IGNORE:
		if (*len > sizeof(dflt))
			*len = sizeof(dflt);
		if (*len)
			memcpy(val, &dflt, *len);
		return 0;
	case PL_OPT_REFUSE:
		break;
	}
	return fail(ENOPROTOOPT);
}

EXPORT int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	int key, rv;

	need_real();
	key = ours(fd);
	if (key < 0)
		return real.setsockopt(fd, level, name, val, len);
	if ((int)len < 0)
		return fail(EINVAL);
	if (!val && len)
		return fail(EFAULT);
	rv = LAYER(mpt_sk_setsockopt(tab, key, level, name, val, len));
	if (rv == 0 || errno != ENOPROTOOPT)
		return rv;
	switch (pl_opt_fallback(level, name, NULL)) {
	case PL_OPT_NATIVE:
		return real.setsockopt(fd, level, name, val, len);
	case PL_OPT_IGNORE:
		return len < sizeof(int) ? fail(EINVAL) : 0;
	case PL_OPT_REFUSE:
		break;
	}
	return fail(ENOPROTOOPT);
}

/* ---- close and copies -------------------------------------------------------------------- */

/* fd is going away (mu held): tell the layer.  replaced: the number was already
 * reused by dup2/dup3 (detach instead of close). */
static void drop_locked(int fd, bool replaced)
{
	struct pl_drop d;

	if (pl_fdtab_drop(&fds, fd, &d) < 0)
		return;
	if (d.last) {
		if (replaced)
			LAYER(mpt_sk_detach(tab, fd));
		else
			LAYER(mpt_sk_close(tab, fd));
	} else if (d.newkey >= 0) {
		LAYER(mpt_sk_rekey(tab, fd, d.newkey));
		if (!replaced)
			real.close(fd);
	} else if (!replaced) {
		real.close(fd);
	}
}

EXPORT int close(int fd)
{
	int e = errno;

	need_real();
	if (ours(fd) < 0)
		return real.close(fd);
	pthread_mutex_lock(&mu);
	if (pl_fdtab_key(&fds, fd) < 0) { /* closed meanwhile by another thread */
		pthread_mutex_unlock(&mu);
		return real.close(fd);
	}
	if (ino_of(fd) != pl_fdtab_ino(&fds, fd)) {
		/* the number was closed behind our back (a path we do not see) and
		 * reused: forget the socket, close what the number is now */
		drop_locked(fd, true);
		pthread_mutex_unlock(&mu);
		return real.close(fd);
	}
	drop_locked(fd, false);
	pthread_mutex_unlock(&mu);
	errno = e;
	return 0;
}

EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	int fd;

	need_real();
	if (!real.close_range)
		return fail(ENOSYS);
	if (!tab || internal() || detached() || (flags & CLOSE_RANGE_CLOEXEC) || first > last ||
	    first > INT_MAX)
		return real.close_range(first, last, flags);
	/* our sockets in the range close as close() closes them, then the rest */
	pthread_mutex_lock(&mu);
	for (fd = pl_fdtab_next(&fds, (int)first); fd >= 0 && (unsigned int)fd <= last;
	     fd = pl_fdtab_next(&fds, fd + 1))
		drop_locked(fd, false);
	pthread_mutex_unlock(&mu);
	return real.close_range(first, last, flags);
}

/* newfd (>= 0) now refers to what oldfd does: follow it (mu held).  newfd may have
 * been one of ours before: it was replaced. */
static void copied_locked(int oldfd, int newfd)
{
	if (oldfd == newfd)
		return;
	if (pl_fdtab_key(&fds, newfd) >= 0)
		drop_locked(newfd, true);
	if (pl_fdtab_key(&fds, oldfd) >= 0 && pl_fdtab_dup(&fds, oldfd, newfd) < 0) {
		/* a number beyond the table: the copy is simply not followed */
	}
}

EXPORT int dup(int fd)
{
	int nfd, e;

	need_real();
	if (ours(fd) < 0)
		return real.dup(fd);
	pthread_mutex_lock(&mu);
	nfd = real.dup(fd);
	e = errno;
	if (nfd >= 0)
		copied_locked(fd, nfd);
	pthread_mutex_unlock(&mu);
	errno = e;
	return nfd;
}

static int dup23(int oldfd, int newfd, int flags, bool three)
{
	int rv, e;

	need_real();
	if (!tab || internal() || detached() ||
	    (pl_fdtab_key(&fds, oldfd) < 0 && pl_fdtab_key(&fds, newfd) < 0))
		return three ? real.dup3(oldfd, newfd, flags) : real.dup2(oldfd, newfd);
	pthread_mutex_lock(&mu);
	rv = three ? real.dup3(oldfd, newfd, flags) : real.dup2(oldfd, newfd);
	e = errno;
	if (rv >= 0)
		copied_locked(oldfd, newfd);
	pthread_mutex_unlock(&mu);
	errno = e;
	return rv;
}

EXPORT int dup2(int oldfd, int newfd)
{
	return dup23(oldfd, newfd, 0, false);
}

EXPORT int dup3(int oldfd, int newfd, int flags)
{
	return dup23(oldfd, newfd, flags, true);
}

static int fcntl_common(int fd, int cmd, void *arg)
{
	int nfd, e;

	need_real();
	if ((cmd != F_DUPFD && cmd != F_DUPFD_CLOEXEC) || ours(fd) < 0)
		return real.fcntl(fd, cmd, arg);
	pthread_mutex_lock(&mu);
	nfd = real.fcntl(fd, cmd, arg);
	e = errno;
	if (nfd >= 0)
		copied_locked(fd, nfd);
	pthread_mutex_unlock(&mu);
	errno = e;
	return nfd;
}

EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl_common(fd, cmd, arg);
}

EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl_common(fd, cmd, arg);
}

/* ---- data: what a socketpair does not do as TCP ------------------------------------------- */
static bool mine_fast(int fd)
{
	/* no lock, no system call: send and recv are hot */
	return tab && pl_fdtab_key(&fds, fd) >= 0 && !internal();
}

EXPORT ssize_t send(int fd, const void *buf, size_t n, int flags)
{
	need_real();
	if (mine_fast(fd) && (flags & MSG_OOB))
		return fail(EOPNOTSUPP);
	return real.send(fd, buf, n, flags);
}

EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *sa,
		      socklen_t len)
{
	need_real();
	if (!mine_fast(fd))
		return real.sendto(fd, buf, n, flags, sa, len);
	if (flags & MSG_OOB)
		return fail(EOPNOTSUPP);
	if ((flags & MSG_FASTOPEN) && sa) {
		/* TCP Fast Open's connect-and-send: a connect, then the data */
		int rv = connect(fd, sa, len);

		if (rv < 0 && errno != EISCONN)
			return -1;
		flags &= ~MSG_FASTOPEN;
	}
	return real.send(fd, buf, n, flags); /* TCP ignores a destination */
}

EXPORT ssize_t sendmsg(int fd, const struct msghdr *m, int flags)
{
	struct msghdr c;

	need_real();
	if (!mine_fast(fd) || !m)
		return real.sendmsg(fd, m, flags);
	if (flags & MSG_OOB)
		return fail(EOPNOTSUPP);
	c = *m;
	c.msg_name = NULL;
	c.msg_namelen = 0;
	return real.sendmsg(fd, &c, flags & ~MSG_FASTOPEN);
}

EXPORT ssize_t recv(int fd, void *buf, size_t n, int flags)
{
	need_real();
	if (mine_fast(fd) && (flags & MSG_OOB))
		return fail(EINVAL); /* TCP without urgent data */
	return real.recv(fd, buf, n, flags);
}

EXPORT ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *sa, socklen_t *len)
{
	ssize_t r;

	need_real();
	if (!mine_fast(fd))
		return real.recvfrom(fd, buf, n, flags, sa, len);
	if (flags & MSG_OOB)
		return fail(EINVAL);
	r = real.recv(fd, buf, n, flags);
	if (r >= 0 && sa && len)
		*len = 0; /* TCP names no source */
	return r;
}

EXPORT ssize_t recvmsg(int fd, struct msghdr *m, int flags)
{
	ssize_t r;

	need_real();
	if (!mine_fast(fd) || !m)
		return real.recvmsg(fd, m, flags);
	if (flags & MSG_OOB)
		return fail(EINVAL);
	r = real.recvmsg(fd, m, flags);
	if (r >= 0)
		m->msg_namelen = 0;
	return r;
}

/* ---- exit ------------------------------------------------------------------------------ */
static void shim_exit(void)
{
	static char buf[32768];
	struct mpt_rt *rt;
	int fd;

	if (!tab || detached())
		return;
	/* what the kernel does with a process's sockets at its exit: close them; the
	 * connections then get MPT_RUN_LINGER to deliver what they hold */
	pthread_mutex_lock(&mu);
	while ((fd = pl_fdtab_next(&fds, 0)) >= 0)
		drop_locked(fd, false);
	pthread_mutex_unlock(&mu);
	for (uint64_t w = 0; w < env.linger_ns && mpt_sk_busy(tab); w += 10000000ull)
		usleep(10000);
	rt = mpt_socket_runtime();
	if (logfp && rt) {
		mpt_sk_lock(tab);
		if (mpt_counters_format(mpt_stack_counters(mpt_rt_stack(rt)), false, buf,
					sizeof(buf)) >= 0)
			fputs(buf, logfp);
		mpt_sk_unlock(tab);
	}
	depth++;
	mpt_socket_stop_within(0); /* the linger was waited out above, not twice */
	depth--;
	tab = NULL;
	if (logfp) {
		fclose(logfp);
		logfp = NULL;
	}
}
