/* mpt-perf connections over the kernel or libmpt (see perf_conn.h). */
#include "perf_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/sockios.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* close: wait for the FIN exchange until the peer has acknowledged nothing new for
 * MPT_LINGER_NS, and never longer than MPT_LINGER_MAX_NS in all (a 30-minute run's
 * report over a lossy path takes longer than 3 s to leave, and closing before it
 * has is a reset in the middle of it) */
#define MPT_LINGER_NS	  (3 * 1000000000ull)
#define MPT_LINGER_MAX_NS (60 * 1000000000ull)
#define PERF_MPT_BUF	  (4u << 20) /* libmpt send and receive buffers */
#define PERF_MPT_BACKLOG  16

static int mpt_errno(ptrdiff_t e)
{
	switch (e) {
	case MPT_ECONNRESET:
		return ECONNRESET;
	case MPT_ECONNREFUSED:
		return ECONNREFUSED;
	case MPT_ETIMEDOUT:
		return ETIMEDOUT;
	case MPT_EPIPE:
		return EPIPE;
	case MPT_ENOTCONN:
		return ENOTCONN;
	case MPT_ENOMEM:
		return ENOMEM;
	default:
		return EIO;
	}
}

volatile sig_atomic_t perf_interrupted;

#define PERF_INTR_POLL_NS 100000000ull /* how often a libmpt wait looks at the flag */

/* mpt_rt_wait in slices, so that a SIGTERM (whose EINTR the runtime's epoll
 * swallows) ends the wait: returns -EINTR then. */
static int conn_wait(struct perf_conn *c, int mask, uint64_t deadline)
{
	for (;;) {
		uint64_t now = mpt_rt_now(c->rt), until = now + PERF_INTR_POLL_NS;
		int r;

		if (perf_interrupted)
			return -EINTR;
		if (deadline < until)
			until = deadline;
		r = mpt_rt_wait(c->rt, c->id, mask, until);
		if (r != 0 || until == deadline)
			return r;
	}
}

ptrdiff_t perf_conn_read(struct perf_conn *c, void *buf, size_t len)
{
	if (!c->rt) {
		for (;;) {
			ssize_t n;

			/* a signal that came between two reads interrupts no read */
			if (perf_interrupted)
				return -EINTR;
			n = read(c->fd, buf, len);

			if (n < 0 && errno == EINTR && !perf_interrupted)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return -ETIMEDOUT; /* SO_RCVTIMEO */
			return n < 0 ? -errno : n;
		}
	}
	for (;;) {
		ptrdiff_t n;
		int r;

		if (perf_interrupted)
			return -EINTR;
		n = mpt_recv(mpt_rt_stack(c->rt), c->id, buf, len, mpt_rt_now(c->rt));

		if (n >= 0)
			return n;
		if (n != MPT_EAGAIN)
			return -mpt_errno(n);
		r = conn_wait(c, MPT_POLLIN | MPT_POLLHUP | MPT_POLLERR,
			      c->rd_deadline ? c->rd_deadline : UINT64_MAX);
		if (r == -EINTR)
			return r;
		if (r == 0)
			return -ETIMEDOUT;
		if (r < 0)
			return r == MPT_ENOENT ? -ENOTCONN : r;
	}
}

/* A time-limited sender must stop close to its -t: what sits in the send buffer at
 * the deadline still has to drain, and libmpt's buffer is a fixed 4 MiB (many
 * seconds at the rate of a lossy or slow path).  Wait while more than
 * PERF_MPT_MAX_UNSENT bytes are written but not yet sent, as TCP_NOTSENT_LOWAT does
 * for the kernel stacks (a bound on cwnd would not do: libmpt's cwnd grows far past
 * a deep emulated queue).  Not yet sent is mpt_conn_info's notsent: written minus
 * DATA_ACKed minus the subflows' flight is not, for while the head of the data waits
 * on a slow subflow, what a fast one sent and had acknowledged at the TCP level
 * counted as unsent, and the writer stopped with the fast path idle (bench-sched
 * asym-rtt: 12 Mbit/s where Linux moved 22). */
static void wait_backlog(struct perf_conn *c)
{
	struct mpt_stack *st = mpt_rt_stack(c->rt);

	for (;;) {
		struct mpt_conn_info ci;
		uint64_t now = mpt_rt_now(c->rt);

		if (now >= c->wr_bound_until || mpt_conn_info(st, c->id, &ci) || ci.error ||
		    perf_interrupted)
			return;
		if (ci.notsent <= PERF_MPT_MAX_UNSENT)
			return;
		if (mpt_rt_step(c->rt, c->wr_bound_until) < 0)
			return;
	}
}

static int write_all(struct perf_conn *c, const void *buf, size_t len, bool step)
{
	const uint8_t *p = buf;

	while (len) {
		ptrdiff_t n;

		if (!c->rt) {
			if (perf_interrupted)
				return -EINTR;
			n = write(c->fd, p, len);
			if (n < 0) {
				if (errno == EINTR && !perf_interrupted)
					continue;
				return -errno;
			}
		} else {
			if (c->wr_bound_until)
				wait_backlog(c);
			n = mpt_send(mpt_rt_stack(c->rt), c->id, p, len, mpt_rt_now(c->rt));
			if (n == MPT_EAGAIN) {
				int r = conn_wait(c, MPT_POLLOUT | MPT_POLLERR | MPT_POLLHUP,
						  UINT64_MAX);

				if (r == -EINTR)
					return r;
				if (r < 0)
					return r == MPT_ENOENT ? -ENOTCONN : r;
				if (r & MPT_POLLERR && !(r & MPT_POLLOUT))
					return -mpt_errno(mpt_send(mpt_rt_stack(c->rt), c->id, p,
								   len, mpt_rt_now(c->rt)));
				continue;
			}
			if (n < 0)
				return -mpt_errno(n);
			c->written += (uint64_t)n;
			/* the new bytes leave now, not at the next wake-up (the last
			 * write of a corked run sends them all: one step per 16 KiB slice
			 * made a map, a GSO frame of 12 segments and a receiver wake-up
			 * per slice, and four system calls) */
			if (step || (size_t)n < len)
				mpt_rt_step(c->rt, 0);
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int perf_conn_write_all(struct perf_conn *c, const void *buf, size_t len)
{
	return write_all(c, buf, len, true);
}

int perf_conn_write_corked(struct perf_conn *c, const void *buf, size_t len)
{
	return write_all(c, buf, len, false);
}

int perf_conn_shutdown_wr(struct perf_conn *c)
{
	int rv;

	if (!c->rt)
		return shutdown(c->fd, SHUT_WR) < 0 ? -errno : 0;
	rv = mpt_shutdown(mpt_rt_stack(c->rt), c->id, MPT_SHUT_WR, mpt_rt_now(c->rt));
	mpt_rt_flush(c->rt);
	return rv < 0 ? -mpt_errno(rv) : 0;
}

bool perf_conn_wait_readable(struct perf_conn *c, uint64_t timeout_ns)
{
	if (!c->rt) {
		struct pollfd p = {.fd = c->fd, .events = POLLIN};

		return poll(&p, 1, (int)(timeout_ns / 1000000)) > 0;
	}
	return mpt_rt_wait(c->rt, c->id, MPT_POLLIN | MPT_POLLHUP | MPT_POLLERR,
			   mpt_rt_now(c->rt) + timeout_ns) != 0;
}

bool perf_conn_unacked(struct perf_conn *c)
{
	struct mpt_conn_info ci;
	int outq = 0;

	if (!c->rt)
		return ioctl(c->fd, SIOCOUTQ, &outq) == 0 && outq > 0;
	if (mpt_conn_info(mpt_rt_stack(c->rt), c->id, &ci) || ci.error)
		return false;
	return ci.bytes_acked < ci.bytes_sent || ci.in_flight > 0;
}

static uint8_t linux_state(enum mpt_state s)
{
	/* include/net/tcp_states.h */
	static const uint8_t map[MPT_NSTATES] = {
		[MPT_CLOSED] = 7,	[MPT_LISTEN] = 10,     [MPT_SYN_SENT] = 2,
		[MPT_SYN_RECEIVED] = 3, [MPT_ESTABLISHED] = 1, [MPT_FIN_WAIT_1] = 4,
		[MPT_FIN_WAIT_2] = 5,	[MPT_CLOSE_WAIT] = 8,  [MPT_CLOSING] = 11,
		[MPT_LAST_ACK] = 9,	[MPT_TIME_WAIT] = 6,
	};
	return (unsigned)s < MPT_NSTATES ? map[s] : 0;
}

static void to_ss(const struct mpt_sockaddr *a, struct sockaddr_storage *ss);

void perf_conn_sockinfo(struct perf_conn *c, struct perf_sockinfo *si)
{
	struct mpt_conn_info ci;

	if (!c->rt) {
		perf_sockinfo_get(c->fd, si);
		return;
	}
	memset(si, 0, sizeof(*si));
	if (mpt_conn_info(mpt_rt_stack(c->rt), c->id, &ci))
		return;
	si->have_tcp = true;
	si->ti.tcpi_state = linux_state(ci.state);
	si->ti.tcpi_bytes_sent = ci.bytes_sent;
	si->ti.tcpi_bytes_acked = ci.bytes_acked;
	si->ti.tcpi_bytes_received = ci.bytes_received;
	si->ti.tcpi_rtt = (uint32_t)(ci.srtt_ns / 1000);
	si->ti.tcpi_rttvar = (uint32_t)(ci.rttvar_ns / 1000);
	si->ti.tcpi_total_retrans = (uint32_t)ci.retrans_segs;
	si->ti.tcpi_snd_cwnd = ci.snd_mss ? ci.cwnd / ci.snd_mss : 0;
	si->ti.tcpi_pmtu = 1500;
	if (ci.mptcp || ci.mptcp_fallback) {
		int n = perf_conn_subflows(c, si->sub, PERF_MAX_SUBFLOWS);

		si->is_mptcp = true;
		si->fallback = ci.mptcp_fallback;
		si->have_info = true;
		memset(&si->mi, 0, sizeof(si->mi));
		si->mi.mptcpi_subflows = (uint8_t)(n > 0 ? n - 1 : 0);
		si->mi.mptcpi_csum_enabled = ci.mptcp_checksum;
		si->mi.mptcpi_token = ci.token;
		si->n_sub_kernel = n;
		si->n_sub = n < PERF_MAX_SUBFLOWS ? n : PERF_MAX_SUBFLOWS;
		/* the connection's totals are its subflows' */
		si->ti.tcpi_bytes_sent = si->ti.tcpi_bytes_acked = 0;
		si->ti.tcpi_bytes_received = si->ti.tcpi_bytes_retrans = 0;
		si->ti.tcpi_total_retrans = 0;
		for (int i = 0; i < si->n_sub; i++) {
			si->ti.tcpi_bytes_sent += si->sub[i].ti.tcpi_bytes_sent;
			si->ti.tcpi_bytes_acked += si->sub[i].ti.tcpi_bytes_acked;
			si->ti.tcpi_bytes_received += si->sub[i].ti.tcpi_bytes_received;
			si->ti.tcpi_bytes_retrans += si->sub[i].ti.tcpi_bytes_retrans;
			si->ti.tcpi_total_retrans += si->sub[i].ti.tcpi_total_retrans;
		}
	}
}

int perf_conn_subflows(struct perf_conn *c, struct perf_subflow *sub, int max)
{
	struct mpt_subflow_info si[PERF_MAX_SUBFLOWS];
	int n;

	if (!c->rt)
		return -1;
	n = mpt_conn_subflows(mpt_rt_stack(c->rt), c->id, si, PERF_MAX_SUBFLOWS);
	if (n < 0)
		return 0;
	if (n > max)
		n = max;
	if (n > PERF_MAX_SUBFLOWS)
		n = PERF_MAX_SUBFLOWS;
	for (int i = 0; i < n; i++) {
		struct tcp_info *ti = &sub[i].ti;

		memset(&sub[i], 0, sizeof(sub[i]));
		to_ss(&si[i].local, &sub[i].local);
		to_ss(&si[i].remote, &sub[i].remote);
		ti->tcpi_state = linux_state(si[i].state);
		ti->tcpi_bytes_sent = si[i].bytes_sent;
		ti->tcpi_bytes_acked = si[i].bytes_acked;
		ti->tcpi_bytes_retrans = si[i].bytes_retrans;
		ti->tcpi_bytes_received = si[i].bytes_received;
		ti->tcpi_total_retrans = (uint32_t)si[i].retrans_segs;
		ti->tcpi_rtt = (uint32_t)(si[i].srtt_ns / 1000);
	}
	return n;
}

static void to_ss(const struct mpt_sockaddr *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == MPT_AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(a->port);
		memcpy(&s4->sin_addr, a->ip, 4);
	} else if (a->family == MPT_AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(a->port);
		memcpy(&s6->sin6_addr, a->ip, 16);
	}
}

const char *perf_mpt_congestion(const struct perf_opts *o)
{
	return o->congestion[0] ? o->congestion : "cubic";
}

void perf_conn_congestion(const struct perf_conn *c, const struct perf_opts *o, char *out,
			  size_t len)
{
	socklen_t sl = (socklen_t)len;

	if (!len)
		return;
	out[0] = '\0';
	if (c->rt)
		snprintf(out, len, "%s", perf_mpt_congestion(o));
	else if (c->fd < 0 || getsockopt(c->fd, IPPROTO_TCP, TCP_CONGESTION, out, &sl))
		out[0] = '\0';
	else
		out[len - 1] = '\0';
}

void perf_conn_addrs(struct perf_conn *c, struct sockaddr_storage *local,
		     struct sockaddr_storage *remote)
{
	struct mpt_conn_info ci;
	socklen_t len;

	if (!c->rt) {
		len = sizeof(*local);
		getsockname(c->fd, (struct sockaddr *)local, &len);
		len = sizeof(*remote);
		getpeername(c->fd, (struct sockaddr *)remote, &len);
		return;
	}
	if (mpt_conn_info(mpt_rt_stack(c->rt), c->id, &ci) == 0) {
		to_ss(&ci.local, local);
		to_ss(&ci.remote, remote);
	}
}

void perf_conn_abort(struct perf_conn *c)
{
	if (!c->rt) {
		struct linger lg = {.l_onoff = 1, .l_linger = 0};

		if (c->fd >= 0) {
			setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			close(c->fd);
		}
		c->fd = -1;
		return;
	}
	mpt_abort(mpt_rt_stack(c->rt), c->id, mpt_rt_now(c->rt));
	mpt_rt_flush(c->rt);
	c->id = 0;
}

void perf_conn_close(struct perf_conn *c)
{
	if (!c->rt && c->fd < 0)
		return;
	if (c->rt && !c->id)
		return; /* aborted */
	struct mpt_stack *st;
	uint64_t give_up, hard_limit, acked = 0;

	if (!c->rt) {
		if (c->fd >= 0)
			close(c->fd);
		c->fd = -1;
		return;
	}
	st = mpt_rt_stack(c->rt);
	mpt_shutdown(st, c->id, MPT_SHUT_WR, mpt_rt_now(c->rt));
	give_up = mpt_rt_now(c->rt) + MPT_LINGER_NS;
	hard_limit = mpt_rt_now(c->rt) + MPT_LINGER_MAX_NS;
	for (;;) {
		struct mpt_conn_info ci;
		uint64_t now = mpt_rt_now(c->rt);

		if (mpt_conn_info(st, c->id, &ci) || ci.error || ci.state == MPT_TIME_WAIT ||
		    ci.state == MPT_CLOSED || now >= give_up || now >= hard_limit ||
		    perf_interrupted)
			break;
		if (ci.bytes_acked != acked) { /* the peer still takes what we wrote */
			acked = ci.bytes_acked;
			give_up = now + MPT_LINGER_NS;
		}
		/* unread bytes (a peer that kept sending) would make close a RST */
		if (ci.state == MPT_CLOSE_WAIT || ci.state == MPT_ESTABLISHED ||
		    ci.state == MPT_FIN_WAIT_1 || ci.state == MPT_FIN_WAIT_2) {
			uint8_t sink[4096];

			while (mpt_recv(st, c->id, sink, sizeof(sink), now) > 0)
				;
		}
		if (mpt_rt_step(c->rt, now + 10000000ull) < 0)
			break;
	}
	mpt_close(st, c->id, mpt_rt_now(c->rt));
	mpt_rt_flush(c->rt);
}

/* ---- libmpt set-up ---- */

static int parse_addr(const char *s, uint16_t port, struct mpt_sockaddr *a)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	int rc = getaddrinfo(s, NULL, &hints, &res);

	if (rc || !res)
		return -1;
	memset(a, 0, sizeof(*a));
	a->port = port;
	if (res->ai_family == AF_INET) {
		a->family = MPT_AF_INET;
		memcpy(a->ip, &((struct sockaddr_in *)res->ai_addr)->sin_addr, 4);
	} else {
		a->family = MPT_AF_INET6;
		memcpy(a->ip, &((struct sockaddr_in6 *)res->ai_addr)->sin6_addr, 16);
	}
	freeaddrinfo(res);
	return 0;
}

uint32_t perf_mpt_rcvbuf(const struct perf_opts *o)
{
	return o->rcvbuf ? (uint32_t)o->rcvbuf : PERF_MPT_BUF;
}

int perf_mpt_open(const struct perf_opts *o, struct mpt_rt **rt, char *err, size_t errlen)
{
	struct mpt_io_path paths[MPT_IO_MAX_PATHS];
	struct mpt_config cfg;
	struct mpt_sockaddr b;
	int n = mpt_rt_discover_paths(paths, MPT_IO_MAX_PATHS);

	if (n < 0) {
		snprintf(err, errlen, "listing addresses: %s", strerror(-n));
		return -1;
	}
	if (o->bind) {
		int k = 0;

		if (parse_addr(o->bind, 0, &b)) {
			snprintf(err, errlen, "-B %s: not an address", o->bind);
			return -1;
		}
		for (int i = 0; i < n; i++)
			if (paths[i].addr.family == b.family &&
			    !memcmp(paths[i].addr.ip, b.ip, b.family == MPT_AF_INET ? 4 : 16))
				paths[k++] = paths[i];
		if (!k) {
			snprintf(err, errlen, "-B %s: no interface here has that address", o->bind);
			return -1;
		}
		n = k;
	}
	mpt_config_default(&cfg);
	cfg.cc = perf_mpt_congestion(o);
	cfg.sndbuf = PERF_MPT_BUF;
	cfg.rcvbuf = perf_mpt_rcvbuf(o);
	cfg.mptcp = !o->no_mptcp;
	if (o->max_subflows)
		cfg.max_subflows = o->max_subflows;
	cfg.mptcp_checksum = o->checksum;
	/* rr and stream writes must leave at once; a server learns its client's
	 * workload only after its stack is open, so it always runs without Nagle
	 * (a bulk sender is window-limited, where Nagle holds nothing back) */
	cfg.nodelay = o->role == PERF_ROLE_SERVER || o->workload != PERF_WL_BULK;
	if (o->scheduler[0])
		cfg.scheduler = o->scheduler;
	if (o->path_manager[0])
		cfg.path_manager = o->path_manager;
	if (mpt_rt_open(rt, &mpt_io_packet, paths, (size_t)n, &cfg, err, errlen))
		return -1;
	mpt_rt_set_interrupt(*rt, &perf_interrupted);
	for (int i = 0; i < o->nendpoints; i++) {
		const struct perf_endpoint *ep = &o->endpoints[i];
		int rv;

		if (parse_addr(ep->addr, 0, &b)) {
			snprintf(err, errlen, "--endpoint %s: not an address", ep->addr);
			return -1;
		}
		rv = mpt_rt_add_endpoint(*rt, ep->id, &b, ep->flags);
		if (rv == MPT_ENOENT) {
			snprintf(err, errlen,
				 "--endpoint %s: no interface in this namespace has that "
				 "address%s",
				 ep->addr, o->bind ? " (or -B left it out)" : "");
			return -1;
		}
		if (rv) {
			snprintf(err, errlen, "--endpoint %s,id=%u: %s", ep->addr, ep->id,
				 mpt_strerror(rv));
			return -1;
		}
	}
	/* Without --endpoint / --max-subflows, the namespace's own settings, as the
	 * kernel's MPTCP takes them (ip mptcp endpoint / limits); a kernel without
	 * MPTCP has none, and libmpt keeps its defaults. */
	if (!o->no_mptcp) {
		int rv = mpt_rt_follow_pm(*rt, !o->nendpoints, !o->max_subflows, err, errlen);

		if (rv && rv != -ENOENT)
			return -1;
	}
	return 0;
}

int perf_mpt_connect(struct mpt_rt *rt, const struct perf_opts *o, struct perf_conn *c, char *err,
		     size_t errlen)
{
	struct mpt_stack *st = mpt_rt_stack(rt);
	struct mpt_sockaddr dst, src;
	int rv;

	if (parse_addr(o->host, o->port, &dst)) {
		snprintf(err, errlen, "-c %s: not an address", o->host);
		return -1;
	}
	if (o->bind) {
		if (parse_addr(o->bind, 0, &src) || src.family != dst.family) {
			snprintf(err, errlen, "-B %s: not an address of -c's family", o->bind);
			return -1;
		}
	} else if (mpt_rt_pick_source(rt, &dst, &src)) {
		snprintf(err, errlen, "connect to %s port %u: no route from a local address",
			 o->host, o->port);
		return -1;
	}
	rv = mpt_rt_pick_port(rt, &src.port);
	if (!rv)
		rv = mpt_connect(st, &src, &dst, mpt_rt_now(rt), &c->id);
	if (rv) {
		snprintf(err, errlen, "connect to %s port %u: %s", o->host, o->port,
			 mpt_strerror(rv));
		return -1;
	}
	c->fd = -1;
	c->rt = rt;
	for (;;) {
		struct mpt_conn_info ci;

		if (mpt_conn_info(st, c->id, &ci) == 0 && ci.state >= MPT_ESTABLISHED)
			return 0;
		if (ci.error) {
			snprintf(err, errlen, "connect to %s port %u: %s", o->host, o->port,
				 strerror(mpt_errno(ci.error)));
			mpt_close(st, c->id, mpt_rt_now(rt));
			return -1;
		}
		if (perf_interrupted) {
			snprintf(err, errlen, "connect to %s port %u: interrupted by a signal",
				 o->host, o->port);
			mpt_close(st, c->id, mpt_rt_now(rt));
			return -1;
		}
		rv = mpt_rt_step(rt, mpt_rt_now(rt) + PERF_INTR_POLL_NS);
		if (rv < 0) {
			snprintf(err, errlen, "runtime: %s", strerror(-rv));
			return -1;
		}
	}
}

int perf_mpt_listen(struct mpt_rt *rt, const struct perf_opts *o, uint32_t lids[2], char *err,
		    size_t errlen)
{
	struct mpt_stack *st = mpt_rt_stack(rt);
	struct mpt_sockaddr a;
	int n = 0, rv = 0;

	if (o->bind) {
		if (parse_addr(o->bind, o->port, &a)) {
			snprintf(err, errlen, "-B %s: not an address", o->bind);
			return -1;
		}
		rv = mpt_listen(st, &a, PERF_MPT_BACKLOG, &lids[n]);
		n += rv == 0;
	} else {
		for (int f = 0; f < 2; f++) {
			memset(&a, 0, sizeof(a));
			a.family = f ? MPT_AF_INET6 : MPT_AF_INET;
			a.port = o->port;
			rv = mpt_listen(st, &a, PERF_MPT_BACKLOG, &lids[n]);
			if (rv)
				break;
			n++;
		}
	}
	if (rv || mpt_rt_claim_port(rt, o->port)) {
		snprintf(err, errlen, "listen on port %u: %s", o->port, mpt_strerror(rv));
		return -1;
	}
	return n;
}

int perf_mpt_accept(struct mpt_rt *rt, const uint32_t *lids, int n, struct perf_conn *c)
{
	struct mpt_stack *st = mpt_rt_stack(rt);

	for (;;) {
		for (int i = 0; i < n; i++) {
			if (mpt_accept(st, lids[i], &c->id) == 0) {
				c->fd = -1;
				c->rt = rt;
				return 0;
			}
		}
		if (perf_interrupted || mpt_rt_step(rt, mpt_rt_now(rt) + PERF_INTR_POLL_NS) < 0)
			return -1;
	}
}

void perf_mpt_counters_text(struct mpt_rt *rt, char *buf, size_t cap)
{
	const struct mpt_io_stats *io = mpt_rt_io_stats(rt);
	const struct mpt_rt_stats *rs = mpt_rt_stats(rt);
	ptrdiff_t n = mpt_counters_format(mpt_stack_counters(mpt_rt_stack(rt)), false, buf, cap);

	if (n < 0 || (size_t)n >= cap)
		return;
	const struct {
		const char *name;
		uint64_t v;
	} extra[] = {
		{"MpnetIoRxFrames", io->rx_frames},
		{"MpnetIoRxGsoFrames", io->rx_gso_frames},
		{"MpnetIoRxCsumFixed", io->rx_csum_fixed},
		{"MpnetIoRxUnclaimed", rs->rx_unclaimed},
		{"MpnetIoRxSockDrops", io->rx_sock_drops},
		{"MpnetIoTxErrors", io->tx_errors},
		{"MpnetRtAddrDel", rs->addr_del},
		{"MpnetRtAddrAdd", rs->addr_add},
		{"MpnetRtEndpointReadd", rs->endpoints_readded},
		{"MpnetRtAddrOverruns", rs->addr_overruns},
		{"MpnetRtLinkDown", rs->link_down},
		{"MpnetRtLinkUp", rs->link_up},
		{"MpnetRtPmReads", rs->pm_reads},
		{"MpnetRtPmErrors", rs->pm_errors},
		{"MpnetRtPmEndpointAdd", rs->pm_ep_add},
		{"MpnetRtPmEndpointDel", rs->pm_ep_del},
		{"MpnetRtPmEndpointFlags", rs->pm_ep_flags},
		{"MpnetRtPmLimits", rs->pm_limits},
		{"MpnetRtRouteLookups", rs->route_lookups},
		{"MpnetRtRouteMisses", rs->route_misses},
		{"MpnetRtMemLive", rs->mem_live},
		{"MpnetRtMemPeak", rs->mem_peak},
		{"MpnetRtMemAllocs", rs->mem_allocs},
		{"MpnetIoTxPackets", io->tx_packets},
		{"MpnetIoTxGsoFrames", io->tx_gso_frames},
	};

	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
		int k;

		if (!extra[i].v)
			continue;
		/* nstat: "%-32s%-16llu%6.1f\n" (name, value, rate) */
		k = snprintf(buf + n, cap - (size_t)n, "%-32s%-16llu%6.1f\n", extra[i].name,
			     (unsigned long long)extra[i].v, 0.0);
		if (k < 0 || (size_t)k >= cap - (size_t)n)
			return;
		n += k;
	}
}

json_t *perf_mpt_counters_json(struct mpt_rt *rt)
{
	char buf[8192], *line, *save = NULL;
	json_t *o = json_object();

	perf_mpt_counters_text(rt, buf, sizeof(buf));
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[64];
		unsigned long long v;

		if (line[0] == '#' || sscanf(line, "%63s %llu", name, &v) != 2)
			continue;
		json_object_set_new(o, name, json_integer((json_int_t)v));
	}
	return o;
}
