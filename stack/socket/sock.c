/* The socket table: POSIX-like calls over libmpt connections, each behind one end of
 * an AF_UNIX socketpair (mpt_socket.h).  No thread, no clock: mpt_sk_step does the
 * shuttling, whoever runs the stack calls it. */
#include "sk.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int mpt_sk_errno(int e)
{
	switch (e) {
	case MPT_EINVAL:
		return EINVAL;
	case MPT_ENOMEM:
		return ENOMEM;
	case MPT_EAGAIN:
		return EAGAIN;
	case MPT_ENOTCONN:
		return ENOTCONN;
	case MPT_ECONNRESET:
		return ECONNRESET;
	case MPT_ECONNREFUSED:
		return ECONNREFUSED;
	case MPT_ETIMEDOUT:
		return ETIMEDOUT;
	case MPT_EPIPE:
		return EPIPE;
	case MPT_EADDRINUSE:
		return EADDRINUSE;
	case MPT_ENOENT:
		return EADDRNOTAVAIL;
	case MPT_ENOBUFS:
		return ENOBUFS;
	case MPT_EUNSUPP:
		return EOPNOTSUPP;
	case MPT_ESTATE:
		return EINVAL;
	default:
		return EIO;
	}
}

static int fail(int err)
{
	errno = err;
	return -1;
}

void mpt_sk_lock(struct mpt_sk_table *t)
{
	pthread_mutex_lock(&t->lock);
}

void mpt_sk_unlock(struct mpt_sk_table *t)
{
	pthread_mutex_unlock(&t->lock);
}

uint64_t sk_now(struct mpt_sk_table *t)
{
	return t->h.now(t->h.ctx);
}

static void wake(struct mpt_sk_table *t)
{
	if (t->h.wake)
		t->h.wake(t->h.ctx);
}

struct sk *sk_find(struct mpt_sk_table *t, int fd)
{
	if (fd < 0)
		return NULL;
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i]->app_fd == fd)
			return t->v[i];
	return NULL;
}

bool mpt_sk_is_socket(struct mpt_sk_table *t, int fd)
{
	bool r;

	mpt_sk_lock(t);
	r = sk_find(t, fd) != NULL;
	mpt_sk_unlock(t);
	return r;
}

uint32_t mpt_sk_conn_id(struct mpt_sk_table *t, int fd)
{
	struct sk *s;
	uint32_t id = 0;

	mpt_sk_lock(t);
	s = sk_find(t, fd);
	if (s && s->state != SK_LISTEN)
		id = s->id;
	mpt_sk_unlock(t);
	return id;
}

/* ---- addresses ----------------------------------------------------------------------- */

static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int sk_from_sa(const struct sk *s, const struct sockaddr *sa, socklen_t len,
	       struct mpt_sockaddr *out)
{
	memset(out, 0, sizeof(*out));
	if (!sa)
		return -EFAULT;
	if (s->family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		if (len < sizeof(*in))
			return -EINVAL;
		if (in->sin_family != AF_INET)
			return -EAFNOSUPPORT;
		out->family = MPT_AF_INET;
		memcpy(out->ip, &in->sin_addr, 4);
		out->port = ntohs(in->sin_port);
		return 0;
	}
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

	if (len < sizeof(*in6))
		return -EINVAL;
	if (in6->sin6_family != AF_INET6)
		return -EAFNOSUPPORT;
	out->port = ntohs(in6->sin6_port);
	if (!memcmp(in6->sin6_addr.s6_addr, v4mapped, 12)) {
		if (s->v6only)
			return -EADDRNOTAVAIL;
		out->family = MPT_AF_INET;
		memcpy(out->ip, in6->sin6_addr.s6_addr + 12, 4);
	} else {
		out->family = MPT_AF_INET6;
		memcpy(out->ip, in6->sin6_addr.s6_addr, 16);
	}
	return 0;
}

socklen_t sk_to_sa(int family, const struct mpt_sockaddr *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(a->port);
		memcpy(&in->sin_addr, a->ip, 4);
		return sizeof(*in);
	}
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons(a->port);
	if (a->family == MPT_AF_INET) {
		memcpy(in6->sin6_addr.s6_addr, v4mapped, 12);
		memcpy(in6->sin6_addr.s6_addr + 12, a->ip, 4);
	} else {
		memcpy(in6->sin6_addr.s6_addr, a->ip, 16);
	}
	return sizeof(*in6);
}

static void copy_out_sa(int family, const struct mpt_sockaddr *a, struct sockaddr *sa,
			socklen_t *len)
{
	struct sockaddr_storage ss;
	socklen_t n = sk_to_sa(family, a, &ss);

	if (sa && len) {
		memcpy(sa, &ss, *len < n ? *len : n);
		*len = n;
	}
}

static bool is_any(const struct mpt_sockaddr *a)
{
	static const uint8_t zero[16];

	return !memcmp(a->ip, zero, a->family == MPT_AF_INET ? 4 : 16);
}

/* ---- the table ---------------------------------------------------------------------- */

int mpt_sk_table_new(struct mpt_sk_table **out, struct mpt_stack *st, const struct mpt_config *cfg,
		     const struct mpt_sk_hooks *hooks)
{
	struct mpt_sk_table *t;

	if (!out || !st || !hooks || !hooks->now)
		return MPT_EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return MPT_ENOMEM;
	pthread_mutex_init(&t->lock, NULL);
	t->st = st;
	if (cfg)
		t->cfg = *cfg;
	else
		mpt_config_default(&t->cfg);
	t->h = *hooks;
	*out = t;
	return 0;
}

static void sk_free(struct sk *s)
{
	if (s->app_fd >= 0)
		close(s->app_fd);
	if (s->rt_fd >= 0)
		close(s->rt_fd);
	free(s->out);
	free(s->in);
	free(s);
}

void mpt_sk_table_free(struct mpt_sk_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		struct sk *s = t->v[i];
		uint64_t now = sk_now(t);

		for (unsigned k = 0; k < s->npending; k++)
			mpt_abort(t->st, s->pending[k], now);
		if (s->state == SK_LISTEN) {
			mpt_close(t->st, s->id, now);
			if (s->id4)
				mpt_close(t->st, s->id4, now);
		} else if (s->id) {
			mpt_abort(t->st, s->id, now);
		}
		sk_free(s);
	}
	free(t->v);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

static void remove_at(struct mpt_sk_table *t, size_t i)
{
	sk_free(t->v[i]);
	t->v[i] = t->v[--t->n];
}

static struct sk *sk_new(struct mpt_sk_table *t, int family, int protocol, int type_flags)
{
	struct sk *s;
	int sv[2];
	int fl;

	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct sk **v = realloc(t->v, cap * sizeof(*v));

		if (!v) {
			errno = ENOMEM;
			return NULL;
		}
		t->v = v;
		t->cap = cap;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		errno = ENOMEM;
		return NULL;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		free(s);
		return NULL;
	}
	s->app_fd = sv[0];
	s->rt_fd = sv[1];
	fl = fcntl(s->rt_fd, F_GETFL);
	fcntl(s->rt_fd, F_SETFL, fl | O_NONBLOCK);
	if (type_flags & SOCK_NONBLOCK) {
		fl = fcntl(s->app_fd, F_GETFL);
		fcntl(s->app_fd, F_SETFL, fl | O_NONBLOCK);
	}
	if (!(type_flags & SOCK_CLOEXEC))
		fcntl(s->app_fd, F_SETFD, 0);
	s->family = family;
	s->protocol = protocol;
	s->mptcp = true;
	s->state = SK_NEW;
	t->v[t->n++] = s;
	return s;
}

static int alloc_bufs(struct sk *s)
{
	s->out = malloc(SK_STAGE);
	s->in = malloc(SK_STAGE);
	return s->out && s->in ? 0 : -ENOMEM;
}

int mpt_sk_socket(struct mpt_sk_table *t, int domain, int type, int protocol)
{
	struct sk *s;
	int fd;

	if (domain != AF_INET && domain != AF_INET6)
		return fail(EAFNOSUPPORT);
	if ((type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) != SOCK_STREAM)
		return fail(ESOCKTNOSUPPORT);
	if (protocol != 0 && protocol != IPPROTO_TCP && protocol != IPPROTO_MPTCP)
		return fail(EPROTONOSUPPORT);
	mpt_sk_lock(t);
	s = sk_new(t, domain, protocol ? protocol : IPPROTO_TCP, type);
	fd = s ? s->app_fd : -1;
	mpt_sk_unlock(t);
	return fd;
}

int mpt_sk_bind(struct mpt_sk_table *t, int fd, const struct sockaddr *sa, socklen_t len)
{
	struct mpt_sockaddr a;
	struct sk *s;
	int rv;

	mpt_sk_lock(t);
	s = sk_find(t, fd);
	if (!s) {
		rv = fail(EBADF);
		goto out;
	}
	if (s->bound || s->state != SK_NEW) {
		rv = fail(EINVAL);
		goto out;
	}
	rv = sk_from_sa(s, sa, len, &a);
	if (rv < 0) {
		rv = fail(-rv);
		goto out;
	}
	/* an AF_INET6 socket bound to :: keeps the v6 any (listen adds IPv4) */
	s->local = a;
	s->bound = true;
	rv = 0;
out:
	mpt_sk_unlock(t);
	return rv;
}

static int pick_port(struct mpt_sk_table *t, uint16_t *port)
{
	if (!t->h.pick_port)
		return -EADDRINUSE;
	return t->h.pick_port(t->h.ctx, port) < 0 ? -EADDRINUSE : 0;
}

int mpt_sk_listen(struct mpt_sk_table *t, int fd, int backlog)
{
	struct mpt_sockaddr a;
	struct sk *s;
	int rv;

	if (backlog <= 0)
		backlog = 1;
	if (backlog > SK_PENDING)
		backlog = SK_PENDING;
	mpt_sk_lock(t);
	s = sk_find(t, fd);
	if (!s) {
		rv = fail(EBADF);
		goto out;
	}
	if (s->state == SK_LISTEN) {
		rv = 0;
		goto out;
	}
	if (s->state != SK_NEW) {
		rv = fail(EINVAL);
		goto out;
	}
	if (!s->bound) {
		memset(&s->local, 0, sizeof(s->local));
		s->local.family = s->family == AF_INET ? MPT_AF_INET : MPT_AF_INET6;
	}
	if (!s->local.port) {
		rv = pick_port(t, &s->local.port);
		if (rv < 0) {
			rv = fail(-rv);
			goto out;
		}
	} else if (t->h.claim_port && t->h.claim_port(t->h.ctx, s->local.port) < 0) {
		rv = fail(ENOBUFS);
		goto out;
	}
	/* TCP_MULTIPATH_ENABLE 0: a plain-TCP listener */
	rv = (s->mptcp ? mpt_listen : mpt_listen_tcp)(t->st, &s->local, (uint32_t)backlog, &s->id);
	if (rv < 0) {
		rv = fail(mpt_sk_errno(rv));
		goto out;
	}
	if (s->family == AF_INET6 && s->local.family == MPT_AF_INET6 && is_any(&s->local) &&
	    !s->v6only) {
		a = s->local;
		a.family = MPT_AF_INET;
		if ((s->mptcp ? mpt_listen : mpt_listen_tcp)(t->st, &a, (uint32_t)backlog,
							     &s->id4) < 0)
			s->id4 = 0; /* IPv4 taken by another listener: IPv6 only */
	}
	s->state = SK_LISTEN;
	wake(t);
	rv = 0;
out:
	mpt_sk_unlock(t);
	return rv;
}

/* Wait (unlocked) for events on the application's fd if it is blocking.  Returns 0
 * to retry, or -errno. */
static int wait_unlocked(struct mpt_sk_table *t, int fd, short events)
{
	int fl = fcntl(fd, F_GETFL), rv;

	if (fl >= 0 && (fl & O_NONBLOCK))
		return -EAGAIN;
	if (!t->h.wait)
		return -EAGAIN;
	wake(t);
	mpt_sk_unlock(t);
	rv = t->h.wait(t->h.ctx, fd, events);
	mpt_sk_lock(t);
	return rv < 0 ? rv : 0;
}

int mpt_sk_accept(struct mpt_sk_table *t, int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	struct mpt_conn_info ci;
	struct sk *s, *c;
	uint32_t id;
	uint8_t b;
	int rv;

	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return fail(EINVAL);
	mpt_sk_lock(t);
	for (;;) {
		s = sk_find(t, fd);
		if (!s) {
			rv = fail(EBADF);
			goto out;
		}
		if (s->state != SK_LISTEN) {
			rv = fail(EINVAL);
			goto out;
		}
		if (s->npending && recv(s->app_fd, &b, 1, MSG_DONTWAIT) == 1)
			break;
		rv = wait_unlocked(t, fd, POLLIN);
		if (rv < 0) {
			rv = fail(-rv);
			goto out;
		}
	}
	id = s->pending[0];
	memmove(s->pending, s->pending + 1, (s->npending - 1) * sizeof(s->pending[0]));
	s->npending--;
	c = sk_new(t, s->family, s->protocol, flags);
	if (!c || alloc_bufs(c) < 0) {
		mpt_abort(t->st, id, sk_now(t));
		if (c) { /* freed by the next step */
			c->state = SK_FAILED;
			c->closed = true;
			close(c->app_fd);
			c->app_fd = -1;
		}
		rv = fail(ENOMEM);
		goto out;
	}
	c->id = id;
	c->state = SK_CONNECTED;
	c->bound = true;
	c->nodelay = s->nodelay;
	memcpy(c->sched, s->sched, sizeof(c->sched));
	if (mpt_conn_info(t->st, id, &ci) == 0) {
		c->local = ci.local;
		c->remote = ci.remote;
		c->mptcp = ci.mptcp;
	}
	if (c->sched[0])
		mpt_conn_set_scheduler(t->st, id, c->sched);
	copy_out_sa(c->family, &c->remote, sa, len);
	rv = c->app_fd;
	wake(t);
out:
	mpt_sk_unlock(t);
	return rv;
}

/* Make app_fd unwritable while connecting: a small send buffer, filled. */
static void fill(struct sk *s)
{
	static const uint8_t junk[4096];
	socklen_t l = sizeof(s->app_sndbuf);
	int small = 4096;
	ssize_t n;

	getsockopt(s->app_fd, SOL_SOCKET, SO_SNDBUF, &s->app_sndbuf, &l);
	setsockopt(s->app_fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	while ((n = send(s->app_fd, junk, sizeof(junk), MSG_DONTWAIT | MSG_NOSIGNAL)) > 0)
		s->filler += (size_t)n;
}

/* The handshake ended: take the filler back so that app_fd is writable again. */
static void unfill(struct sk *s)
{
	uint8_t junk[4096];
	int sb = s->app_sndbuf / 2;

	while (s->filler) {
		ssize_t n = recv(s->rt_fd, junk,
				 s->filler < sizeof(junk) ? s->filler : sizeof(junk), MSG_DONTWAIT);

		if (n <= 0)
			break;
		s->filler -= (size_t)n;
	}
	if (sb > 0)
		setsockopt(s->app_fd, SOL_SOCKET, SO_SNDBUF, &sb, sizeof(sb));
}

int mpt_sk_connect(struct mpt_sk_table *t, int fd, const struct sockaddr *sa, socklen_t len)
{
	struct mpt_sockaddr r, l;
	struct mpt_conn_info ci;
	struct sk *s;
	int rv;

	mpt_sk_lock(t);
	s = sk_find(t, fd);
	if (!s) {
		rv = fail(EBADF);
		goto out;
	}
	switch (s->state) {
	case SK_CONNECTING:
		rv = fail(EALREADY);
		goto out;
	case SK_CONNECTED:
		rv = fail(EISCONN);
		goto out;
	case SK_LISTEN:
	case SK_FAILED:
		rv = fail(EINVAL);
		goto out;
	case SK_NEW:
		break;
	}
	rv = sk_from_sa(s, sa, len, &r);
	if (rv < 0) {
		rv = fail(-rv);
		goto out;
	}
	if (!r.port) {
		rv = fail(ECONNREFUSED);
		goto out;
	}
	if (s->bound && !is_any(&s->local)) {
		l = s->local;
		if (l.family != r.family) {
			rv = fail(EAFNOSUPPORT);
			goto out;
		}
	} else {
		if (!t->h.pick_source || t->h.pick_source(t->h.ctx, &r, &l) < 0) {
			rv = fail(ENETUNREACH);
			goto out;
		}
		l.port = s->bound ? s->local.port : 0;
	}
	if (l.port && t->h.claim_port)
		t->h.claim_port(t->h.ctx, l.port);
	if (alloc_bufs(s) < 0) {
		rv = fail(ENOMEM);
		goto out;
	}
	if (s->mptcp)
		rv = mpt_connect(t->st, &l, &r, sk_now(t), &s->id);
	else
		rv = mpt_connect_tcp(t->st, &l, &r, sk_now(t), &s->id);
	if (rv < 0) {
		rv = fail(mpt_sk_errno(rv));
		goto out;
	}
	if (mpt_conn_info(t->st, s->id, &ci) == 0)
		s->local = ci.local;
	s->remote = r;
	s->bound = true;
	s->state = SK_CONNECTING;
	fill(s);
	/* blocking: wait until the step makes the descriptor writable */
	for (;;) {
		if (s->state != SK_CONNECTING) {
			if (s->so_error) {
				rv = fail(s->so_error);
				s->so_error = 0;
			} else {
				rv = 0;
			}
			goto out;
		}
		rv = wait_unlocked(t, fd, POLLOUT);
		if (rv == -EAGAIN) {
			rv = fail(EINPROGRESS);
			goto out;
		}
		if (rv < 0) {
			rv = fail(-rv);
			goto out;
		}
		s = sk_find(t, fd);
		if (!s) {
			rv = fail(EBADF);
			goto out;
		}
	}
out:
	wake(t);
	mpt_sk_unlock(t);
	return rv;
}

int mpt_sk_shutdown(struct mpt_sk_table *t, int fd, int how)
{
	struct sk *s;
	int rv = 0;

	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
		return fail(EINVAL);
	mpt_sk_lock(t);
	s = sk_find(t, fd);
	if (!s) {
		rv = fail(EBADF);
		goto out;
	}
	if (s->state != SK_CONNECTED && s->state != SK_CONNECTING) {
		rv = fail(ENOTCONN);
		goto out;
	}
	/* writing: the step reads EOF on rt_fd after the data and sends DATA_FIN.
	 * Never shut the descriptor's reading side: rt_fd would look closed. */
	if (how != SHUT_RD)
		shutdown(s->app_fd, SHUT_WR);
	if (how != SHUT_WR && !s->rd_shut) {
		s->rd_shut = true;
		mpt_shutdown(t->st, s->id, MPT_SHUT_RD, sk_now(t));
	}
	wake(t);
out:
	mpt_sk_unlock(t);
	return rv;
}

/* Whether the application's end has no copy left: every descriptor of it closed (in
 * every process), so the runtime's end sees POLLHUP. */
static bool rt_hup(const struct sk *s)
{
	struct pollfd p = {.fd = s->rt_fd, .events = 0};

	return poll(&p, 1, 0) == 1 && (p.revents & POLLHUP);
}

int mpt_sk_close(struct mpt_sk_table *t, int fd)
{
	struct sk *s;
	int unread = 0;

	mpt_sk_lock(t);
	s = sk_find(t, fd);
	if (!s) {
		mpt_sk_unlock(t);
		return fail(EBADF);
	}
	if (ioctl(s->app_fd, FIONREAD, &unread) < 0)
		unread = 0;
	if (s->linger0)
		s->abort_close = true;
	s->closed = true;
	close(s->app_fd);
	s->app_fd = -1;
	/* unread data resets the connection only when this was the last copy: a copy
	 * in a forked child reads it (a server that forks after accept closes its own
	 * copy at once, before the child read the request) */
	if (unread > 0 && s->state != SK_LISTEN && rt_hup(s))
		s->abort_close = true;
	wake(t);
	mpt_sk_unlock(t);
	return 0;
}

int mpt_sk_detach(struct mpt_sk_table *t, int fd)
{
	struct sk *s;

	mpt_sk_lock(t);
	s = sk_find(t, fd);
	if (!s) {
		mpt_sk_unlock(t);
		return fail(EBADF);
	}
	if (s->linger0)
		s->abort_close = true;
	s->closed = true;
	s->app_fd = -1; /* the number is the caller's again: not closed here */
	wake(t);
	mpt_sk_unlock(t);
	return 0;
}

int mpt_sk_rekey(struct mpt_sk_table *t, int fd, int newfd)
{
	struct sk *s;
	int rv = 0;

	mpt_sk_lock(t);
	s = sk_find(t, fd);
	if (!s)
		rv = fail(EBADF);
	else if (newfd < 0 || sk_find(t, newfd))
		rv = fail(EINVAL);
	else
		s->app_fd = newfd;
	mpt_sk_unlock(t);
	return rv;
}

size_t mpt_sk_busy(struct mpt_sk_table *t)
{
	size_t n;

	mpt_sk_lock(t);
	n = t->n + mpt_stack_open_conns(t->st);
	mpt_sk_unlock(t);
	return n;
}

int mpt_sk_getsockname(struct mpt_sk_table *t, int fd, struct sockaddr *sa, socklen_t *len)
{
	struct mpt_conn_info ci;
	struct sk *s;
	int rv = 0;

	mpt_sk_lock(t);
	s = sk_find(t, fd);
	if (!s) {
		rv = fail(EBADF);
	} else if (s->id && s->state != SK_LISTEN && mpt_conn_info(t->st, s->id, &ci) == 0) {
		copy_out_sa(s->family, &ci.local, sa, len);
	} else if (s->bound || s->state == SK_LISTEN) {
		copy_out_sa(s->family, &s->local, sa, len);
	} else {
		struct mpt_sockaddr z = {.family =
						 s->family == AF_INET ? MPT_AF_INET : MPT_AF_INET6};

		copy_out_sa(s->family, &z, sa, len);
	}
	mpt_sk_unlock(t);
	return rv;
}

int mpt_sk_getpeername(struct mpt_sk_table *t, int fd, struct sockaddr *sa, socklen_t *len)
{
	struct sk *s;
	int rv = 0;

	mpt_sk_lock(t);
	s = sk_find(t, fd);
	if (!s)
		rv = fail(EBADF);
	else if (s->state != SK_CONNECTED)
		rv = fail(ENOTCONN);
	else
		copy_out_sa(s->family, &s->remote, sa, len);
	mpt_sk_unlock(t);
	return rv;
}

/* ---- the step ------------------------------------------------------------------------ */

static void set_error(struct sk *s, int mpt_err)
{
	if (!s->so_error)
		s->so_error = mpt_sk_errno(mpt_err);
}

/* The connection failed: the descriptor's stream ends both ways. */
static void fail_stream(struct sk *s)
{
	s->eof_out = true;
	s->out_off = s->out_len = 0;
	s->in_off = s->in_len = 0;
	shutdown(s->rt_fd, SHUT_RDWR);
}

static bool net_to_app(struct mpt_sk_table *t, struct sk *s, uint64_t now)
{
	bool progress = false;

	while (!s->eof_out) {
		ssize_t n;

		if (s->out_off == s->out_len) {
			ptrdiff_t r = mpt_recv(t->st, s->id, s->out, SK_STAGE, now);

			if (r == MPT_EAGAIN)
				break;
			if (r == 0) {
				shutdown(s->rt_fd, SHUT_WR);
				s->eof_out = true;
				progress = true;
				break;
			}
			if (r < 0) {
				set_error(s, (int)r);
				fail_stream(s);
				progress = true;
				break;
			}
			if (s->rd_shut)
				continue; /* SHUT_RD: discarded */
			s->out_off = 0;
			s->out_len = (size_t)r;
			progress = true;
		}
		n = send(s->rt_fd, s->out + s->out_off, s->out_len - s->out_off,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n <= 0)
			break; /* full (backpressure) or closed */
		s->out_off += (size_t)n;
		progress = true;
	}
	return progress;
}

static bool app_to_net(struct mpt_sk_table *t, struct sk *s, uint64_t now)
{
	bool progress = false;

	for (;;) {
		ptrdiff_t r;

		if (s->in_off == s->in_len) {
			ssize_t n;

			if (s->app_eof)
				break;
			n = recv(s->rt_fd, s->in, SK_STAGE, MSG_DONTWAIT);
			if (n < 0)
				break;
			progress = true;
			if (n == 0) {
				s->app_eof = true;
				break;
			}
			s->in_off = 0;
			s->in_len = (size_t)n;
		}
		r = mpt_send(t->st, s->id, s->in + s->in_off, s->in_len - s->in_off, now);
		if (r == MPT_EAGAIN)
			break;
		if (r < 0) {
			set_error(s, (int)r);
			fail_stream(s);
			break;
		}
		s->in_off += (size_t)r;
		progress = true;
	}
	if (s->app_eof && s->in_off == s->in_len && !s->wr_shut_sent && !s->so_error) {
		s->wr_shut_sent = true;
		mpt_shutdown(t->st, s->id, MPT_SHUT_WR, now);
		progress = true;
	}
	return progress;
}

/* Whether every copy of the application's descriptor is closed. */
static bool app_gone(struct sk *s)
{
	if (s->app_fd >= 0)
		return false;
	if (!s->hup && rt_hup(s))
		s->hup = true;
	return s->hup;
}

/* Returns true when s is finished and can be freed. */
static bool step_one(struct mpt_sk_table *t, struct sk *s, uint64_t now, int *progress)
{
	struct mpt_conn_info ci;
	uint8_t b = 1;

	switch (s->state) {
	case SK_NEW:
		return s->closed;
	case SK_LISTEN:
		if (s->closed && app_gone(s)) {
			for (unsigned k = 0; k < s->npending; k++)
				mpt_abort(t->st, s->pending[k], now);
			mpt_close(t->st, s->id, now);
			if (s->id4)
				mpt_close(t->st, s->id4, now);
			return true;
		}
		for (int k = 0; k < 2; k++) {
			uint32_t lid = k ? s->id4 : s->id, id;

			while (lid && s->npending < SK_PENDING &&
			       mpt_accept(t->st, lid, &id) == 0) {
				s->pending[s->npending++] = id;
				send(s->rt_fd, &b, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
				(*progress)++;
			}
		}
		return false;
	case SK_CONNECTING:
		if (mpt_conn_info(t->st, s->id, &ci) < 0) {
			s->so_error = ECONNABORTED;
		} else if (ci.error) {
			set_error(s, ci.error);
		} else if (ci.state == MPT_SYN_SENT || ci.state == MPT_SYN_RECEIVED) {
			if (!s->closed)
				return false;
		}
		unfill(s);
		(*progress)++;
		if (s->so_error || s->closed) {
			s->state = SK_FAILED;
			fail_stream(s);
			if (s->closed) {
				mpt_abort(t->st, s->id, now);
				return true;
			}
			return false;
		}
		s->state = SK_CONNECTED;
		s->remote = ci.remote;
		s->mptcp = ci.mptcp;
		if (s->sched[0])
			mpt_conn_set_scheduler(t->st, s->id, s->sched);
		__attribute__((fallthrough)); /* now connected: move its data */
	case SK_CONNECTED:
		if (net_to_app(t, s, now))
			(*progress)++;
		if (app_to_net(t, s, now))
			(*progress)++;
		if (s->so_error && s->state == SK_CONNECTED)
			s->state = SK_FAILED;
		if (s->closed && app_gone(s) && s->app_eof && s->in_off == s->in_len) {
			uint8_t probe[1];

			/* unread: what the application left in its descriptor, what we
			 * hold, or what the connection still has */
			if (s->out_off != s->out_len ||
			    (!s->eof_out && mpt_recv(t->st, s->id, probe, 1, now) > 0))
				s->abort_close = true;
			if (s->abort_close) {
				mpt_abort(t->st, s->id, now);
			} else {
				mpt_close(t->st, s->id, now);
			}
			return true;
		}
		return false;
	case SK_FAILED:
		if (s->closed && app_gone(s)) {
			mpt_close(t->st, s->id, now);
			return true;
		}
		return false;
	}
	return false;
}

int mpt_sk_step(struct mpt_sk_table *t)
{
	uint64_t now = sk_now(t);
	int progress = 0;

	for (size_t i = 0; i < t->n;) {
		if (step_one(t, t->v[i], now, &progress))
			remove_at(t, i);
		else
			i++;
	}
	return progress;
}

int mpt_sk_pollfds(struct mpt_sk_table *t, struct pollfd *pfds, int max)
{
	int n = 0;

	for (size_t i = 0; i < t->n && n < max; i++) {
		const struct sk *s = t->v[i];
		short ev = 0;

		if (s->state == SK_CONNECTED) {
			if (s->in_off == s->in_len && !s->app_eof)
				ev |= POLLIN;
			if (s->out_off != s->out_len)
				ev |= POLLOUT;
		}
		/* a closed one waits for POLLHUP (every copy closed); a failed one is
		 * shut down on our side and would report POLLHUP at once */
		if (s->hup || (!ev && !(s->closed && s->state != SK_FAILED)))
			continue; /* (after POLLHUP, poll would return at once forever) */
		pfds[n].fd = s->rt_fd;
		pfds[n].events = ev;
		pfds[n].revents = 0;
		n++;
	}
	return n;
}
