/* The socket layer (mpt_socket.h) in virtual time: two socket tables over the two
 * stacks of the simulator, descriptors used with read/write/poll as an application
 * would.  Blocking calls wait through a hook that runs the simulation until the
 * descriptor is ready.  Every transfer checks every byte. */
#include "test.h"
#include "mpt_sim.h"
#include "mpt_socket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <unistd.h>

#define MS 1000000ull
#define S  1000000000ull

struct env {
	struct mpt_sim sim;
	struct mpt_sk_table *t[2];
	uint16_t next_port[2];
	uint64_t deadline;
};

static uint64_t hook_now(void *ctx)
{
	return ((struct env *)ctx)->sim.now;
}

/* ctx of the per-table hooks: env with the side in the low bit is awkward; use two
 * small structs */
struct side {
	struct env *e;
	int ep;
};

static struct side sides[2];

static uint64_t side_now(void *ctx)
{
	return hook_now(((struct side *)ctx)->e);
}

static int side_source(void *ctx, const struct mpt_sockaddr *dst, struct mpt_sockaddr *src)
{
	struct side *sd = ctx;

	*src = mpt_sim_addr(&sd->e->sim, sd->ep, 0, 0);
	return src->family == dst->family ? 0 : MPT_ENOENT;
}

static int side_port(void *ctx, uint16_t *port)
{
	struct side *sd = ctx;

	*port = sd->e->next_port[sd->ep]++;
	return 0;
}

/* One round: the simulation moves to its next event (at most 1 ms on), then both
 * tables shuttle. */
static void round1(struct env *e)
{
	mpt_sim_step(&e->sim, e->sim.now + MS);
	for (int i = 0; i < 2; i++) {
		mpt_sk_lock(e->t[i]);
		mpt_sk_step(e->t[i]);
		mpt_sk_unlock(e->t[i]);
	}
}

static short ready(int fd, short events)
{
	struct pollfd p = {.fd = fd, .events = events};

	return poll(&p, 1, 0) == 1 ? p.revents : 0;
}

/* Run until fd has one of events, or virtual seconds pass.  Returns revents. */
static short run_until(struct env *e, int fd, short events, uint64_t secs)
{
	uint64_t end = e->sim.now + secs * S;
	short r;

	while (!(r = ready(fd, events)) && e->sim.now < end)
		round1(e);
	return r;
}

static int side_wait(void *ctx, int fd, short events)
{
	struct side *sd = ctx;

	return run_until(sd->e, fd, events, 120) ? 0 : -ETIMEDOUT;
}

static void env_init(struct env *e, int family, uint32_t npaths, const struct mpt_config *cfg)
{
	struct mpt_config c;

	memset(e, 0, sizeof(*e));
	if (cfg) {
		c = *cfg;
	} else {
		mpt_config_default(&c);
		c.mptcp = true;
	}
	CHECK_EQ(mpt_sim_init(&e->sim, 7, &c, &c, family, npaths, NULL), 0);
	for (int i = 0; i < 2; i++) {
		struct mpt_sk_hooks h = {.ctx = &sides[i],
					 .now = side_now,
					 .wait = side_wait,
					 .pick_source = side_source,
					 .pick_port = side_port};

		sides[i].e = e;
		sides[i].ep = i;
		e->next_port[i] = (uint16_t)(40000 + 1000 * i);
		CHECK_EQ(mpt_sk_table_new(&e->t[i], e->sim.ep[i], &c, &h), 0);
	}
}

static void env_free(struct env *e)
{
	mpt_sk_table_free(e->t[0]);
	mpt_sk_table_free(e->t[1]);
	mpt_sim_free(&e->sim);
}

static socklen_t sa_of(struct env *e, int ep, uint32_t path, uint16_t port,
		       struct sockaddr_storage *ss)
{
	struct mpt_sockaddr a = mpt_sim_addr(&e->sim, ep, path, port);

	memset(ss, 0, sizeof(*ss));
	if (a.family == MPT_AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		memcpy(&in->sin_addr, a.ip, 4);
		return sizeof(*in);
	}
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons(port);
	memcpy(&in6->sin6_addr, a.ip, 16);
	return sizeof(*in6);
}

static void set_nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* A listener on the server (ep 1) at port, blocking unless nb. */
static int listener(struct env *e, int family, uint16_t port, bool nb)
{
	struct sockaddr_storage ss;
	socklen_t l = sa_of(e, 1, 0, port, &ss);
	int fd = mpt_sk_socket(e->t[1], family, SOCK_STREAM | (nb ? SOCK_NONBLOCK : 0),
			       IPPROTO_MPTCP);

	CHECK(fd >= 0);
	CHECK_EQ(mpt_sk_bind(e->t[1], fd, (struct sockaddr *)&ss, l), 0);
	CHECK_EQ(mpt_sk_listen(e->t[1], fd, 8), 0);
	return fd;
}

/* Blocking connect + blocking accept: the wait hook runs the simulation. */
static void pair_blocking(struct env *e, int family, uint16_t port, int *cfd, int *sfd)
{
	struct sockaddr_storage ss;
	socklen_t l = sa_of(e, 1, 0, port, &ss);
	int lfd = listener(e, family, port, false);

	*cfd = mpt_sk_socket(e->t[0], family, SOCK_STREAM, IPPROTO_MPTCP);
	CHECK(*cfd >= 0);
	CHECK_EQ(mpt_sk_connect(e->t[0], *cfd, (struct sockaddr *)&ss, l), 0);
	*sfd = mpt_sk_accept(e->t[1], lfd, NULL, NULL, 0);
	CHECK(*sfd >= 0);
	CHECK_EQ(mpt_sk_close(e->t[1], lfd), 0);
}

/* Move `bytes` of the test pattern from fd a to fd b (non-blocking descriptors),
 * checking each byte; then a shuts down writing and b must read EOF.  Returns the
 * bytes b received. */
static uint64_t pump(struct env *e, int a, int b, uint64_t bytes, bool shut)
{
	static uint8_t buf[65536];
	uint64_t sent = 0, got = 0, end = e->sim.now + 300 * S;
	bool eof = false;

	set_nonblock(a);
	set_nonblock(b);
	while (e->sim.now < end && !(eof || (!shut && got == bytes))) {
		while (sent < bytes) {
			size_t n =
				bytes - sent < sizeof(buf) ? (size_t)(bytes - sent) : sizeof(buf);
			ssize_t w;

			for (size_t i = 0; i < n; i++)
				buf[i] = mpt_sim_pattern(sent + i);
			w = write(a, buf, n);
			if (w <= 0)
				break;
			sent += (uint64_t)w;
			if (sent == bytes && shut)
				CHECK_EQ(shutdown(a, SHUT_WR), 0);
		}
		for (;;) {
			ssize_t r = read(b, buf, sizeof(buf));

			if (r == 0) {
				eof = true;
				break;
			}
			if (r < 0)
				break;
			for (ssize_t i = 0; i < r; i++)
				if (buf[i] != mpt_sim_pattern(got + (uint64_t)i))
					test_fail(__FILE__, __LINE__, "byte %llu differs",
						  (unsigned long long)(got + (uint64_t)i));
			got += (uint64_t)r;
		}
		if (!(eof || (!shut && got == bytes)))
			round1(e);
	}
	CHECK_U64_EQ(got, bytes);
	if (shut)
		CHECK(eof);
	return got;
}

TEST(socket_blocking_connect_accept_transfer)
{
	struct env e;
	struct sockaddr_in sa;
	socklen_t l = sizeof(sa);
	int c, s;

	env_init(&e, MPT_AF_INET, 1, NULL);
	pair_blocking(&e, AF_INET, 5000, &c, &s);
	CHECK_EQ(mpt_sk_getpeername(e.t[0], c, (struct sockaddr *)&sa, &l), 0);
	CHECK_EQ(ntohs(sa.sin_port), 5000);
	CHECK_EQ(sa.sin_addr.s_addr, htonl(0x0a000002));
	l = sizeof(sa);
	CHECK_EQ(mpt_sk_getsockname(e.t[1], s, (struct sockaddr *)&sa, &l), 0);
	CHECK_EQ(ntohs(sa.sin_port), 5000);
	pump(&e, c, s, 3000000, true);
	/* and back, on the same connection */
	pump(&e, s, c, 500000, true);
	env_free(&e);
}

TEST(socket_nonblocking_connect_accept_readiness)
{
	struct env e;
	struct sockaddr_storage ss;
	socklen_t l;
	int lfd, c, s, err = -1;
	socklen_t el = sizeof(err);

	env_init(&e, MPT_AF_INET, 1, NULL);
	lfd = listener(&e, AF_INET, 5001, true);
	CHECK_EQ(mpt_sk_accept(e.t[1], lfd, NULL, NULL, 0), -1);
	CHECK_EQ(errno, EAGAIN);
	CHECK_EQ(ready(lfd, POLLIN), 0);
	c = mpt_sk_socket(e.t[0], AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	l = sa_of(&e, 1, 0, 5001, &ss);
	CHECK_EQ(mpt_sk_connect(e.t[0], c, (struct sockaddr *)&ss, l), -1);
	CHECK_EQ(errno, EINPROGRESS);
	/* a connecting socket is not writable, and a second connect says so */
	CHECK_EQ(ready(c, POLLOUT), 0);
	CHECK_EQ(mpt_sk_connect(e.t[0], c, (struct sockaddr *)&ss, l), -1);
	CHECK_EQ(errno, EALREADY);
	CHECK_EQ(write(c, "x", 1), -1);
	CHECK_EQ(errno, EAGAIN);
	CHECK(run_until(&e, c, POLLOUT, 10) & POLLOUT);
	CHECK_EQ(mpt_sk_getsockopt(e.t[0], c, SOL_SOCKET, SO_ERROR, &err, &el), 0);
	CHECK_EQ(err, 0);
	CHECK_EQ(mpt_sk_connect(e.t[0], c, (struct sockaddr *)&ss, l), -1);
	CHECK_EQ(errno, EISCONN);
	/* the listener's descriptor is readable once the connection waits */
	CHECK(run_until(&e, lfd, POLLIN, 10) & POLLIN);
	s = mpt_sk_accept(e.t[1], lfd, NULL, NULL, SOCK_NONBLOCK);
	CHECK(s >= 0);
	CHECK_EQ(ready(lfd, POLLIN), 0);
	CHECK_EQ(mpt_sk_accept(e.t[1], lfd, NULL, NULL, 0), -1);
	CHECK_EQ(errno, EAGAIN);
	/* nothing to read yet; readable when data arrived */
	CHECK_EQ(ready(s, POLLIN), 0);
	CHECK_EQ(write(c, "hello", 5), 5);
	CHECK(run_until(&e, s, POLLIN, 10) & POLLIN);
	{
		char b[8];

		CHECK_EQ(read(s, b, sizeof(b)), 5);
		CHECK(!memcmp(b, "hello", 5));
	}
	CHECK_EQ(ready(s, POLLIN), 0);
	env_free(&e);
}

TEST(socket_connect_refused_both_modes)
{
	struct env e;
	struct sockaddr_storage ss;
	socklen_t l;
	int c, err = 0;
	socklen_t el = sizeof(err);

	env_init(&e, MPT_AF_INET, 1, NULL);
	l = sa_of(&e, 1, 0, 6000, &ss);
	c = mpt_sk_socket(e.t[0], AF_INET, SOCK_STREAM, 0);
	CHECK_EQ(mpt_sk_connect(e.t[0], c, (struct sockaddr *)&ss, l), -1);
	CHECK_EQ(errno, ECONNREFUSED);
	c = mpt_sk_socket(e.t[0], AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK_EQ(mpt_sk_connect(e.t[0], c, (struct sockaddr *)&ss, l), -1);
	CHECK_EQ(errno, EINPROGRESS);
	CHECK(run_until(&e, c, POLLOUT, 10) & POLLOUT);
	CHECK_EQ(mpt_sk_getsockopt(e.t[0], c, SOL_SOCKET, SO_ERROR, &err, &el), 0);
	CHECK_EQ(err, ECONNREFUSED);
	CHECK_EQ(mpt_sk_close(e.t[0], c), 0);
	/* bad input: clear errnos */
	CHECK_EQ(mpt_sk_socket(e.t[0], AF_UNIX, SOCK_STREAM, 0), -1);
	CHECK_EQ(errno, EAFNOSUPPORT);
	CHECK_EQ(mpt_sk_socket(e.t[0], AF_INET, SOCK_DGRAM, 0), -1);
	CHECK_EQ(errno, ESOCKTNOSUPPORT);
	CHECK_EQ(mpt_sk_connect(e.t[0], 12345, (struct sockaddr *)&ss, l), -1);
	CHECK_EQ(errno, EBADF);
	env_free(&e);
}

/* Backpressure: a receiver that does not read stops the sender after a bounded
 * amount (partial writes, then EAGAIN); reading it all gives every byte. */
TEST(socket_partial_writes_backpressure)
{
	static uint8_t buf[65536];
	struct env e;
	struct mpt_config c;
	uint64_t sent = 0;
	int cfd, sfd, partial = 0;

	mpt_config_default(&c);
	c.mptcp = true;
	c.sndbuf = c.rcvbuf = 128 * 1024;
	env_init(&e, MPT_AF_INET, 1, &c);
	pair_blocking(&e, AF_INET, 5002, &cfd, &sfd);
	set_nonblock(cfd);
	for (int round = 0; round < 3000; round++) {
		for (;;) {
			ssize_t w;

			for (size_t i = 0; i < sizeof(buf); i++)
				buf[i] = mpt_sim_pattern(sent + i);
			w = write(cfd, buf, sizeof(buf));
			if (w < 0) {
				CHECK_EQ(errno, EAGAIN);
				break;
			}
			if ((size_t)w < sizeof(buf))
				partial++;
			sent += (uint64_t)w;
			if ((size_t)w < sizeof(buf))
				break;
		}
		round1(&e);
	}
	printf("# accepted %llu bytes before blocking, %d partial writes\n",
	       (unsigned long long)sent, partial);
	CHECK(ready(cfd, POLLOUT) == 0);
	/* bounded: the two buffers of libmpt, two stages and the socketpairs' */
	CHECK(sent < 8ull * 1024 * 1024);
	CHECK(sent > 2 * 128 * 1024);
	{
		uint64_t got = 0, end = e.sim.now + 60 * S;

		set_nonblock(sfd);
		CHECK_EQ(shutdown(cfd, SHUT_WR), 0);
		while (e.sim.now < end) {
			ssize_t r = read(sfd, buf, sizeof(buf));

			if (r == 0)
				break;
			if (r > 0) {
				for (ssize_t i = 0; i < r; i++)
					CHECK_EQ(buf[i], mpt_sim_pattern(got + (uint64_t)i));
				got += (uint64_t)r;
				continue;
			}
			round1(&e);
		}
		CHECK_U64_EQ(got, sent);
	}
	env_free(&e);
}

/* Closing with unread data resets the connection (RFC 2525), as TCP does; the peer
 * sees EOF on the descriptor and ECONNRESET in SO_ERROR, and its writes fail. */
TEST(socket_close_with_unread_data_resets)
{
	struct env e;
	int c, s, err = 0;
	socklen_t el = sizeof(err);
	uint64_t rst0;

	env_init(&e, MPT_AF_INET, 1, NULL);
	pair_blocking(&e, AF_INET, 5003, &c, &s);
	CHECK_EQ(write(c, "unread", 6), 6);
	CHECK(run_until(&e, s, POLLIN, 10) & POLLIN);
	rst0 = mpt_stack_counters(e.sim.ep[1])->tcp_out_rsts;
	CHECK_EQ(mpt_sk_close(e.t[1], s), 0);
	CHECK(run_until(&e, c, POLLIN, 10) & POLLIN);
	{
		char b[4];

		CHECK_EQ(read(c, b, sizeof(b)), 0);
	}
	CHECK(mpt_stack_counters(e.sim.ep[1])->tcp_out_rsts > rst0);
	CHECK_EQ(mpt_sk_getsockopt(e.t[0], c, SOL_SOCKET, SO_ERROR, &err, &el), 0);
	CHECK_EQ(err, ECONNRESET);
	signal(SIGPIPE, SIG_IGN);
	CHECK_EQ(write(c, "x", 1), -1);
	CHECK_EQ(errno, EPIPE);
	env_free(&e);
}

/* A close after everything was read ends with FINs, no reset. */
TEST(socket_close_after_reading_is_graceful)
{
	struct env e;
	int c, s, err = -1;
	socklen_t el = sizeof(err);
	uint64_t rst0, rst1;

	env_init(&e, MPT_AF_INET, 1, NULL);
	pair_blocking(&e, AF_INET, 5004, &c, &s);
	rst0 = mpt_stack_counters(e.sim.ep[0])->tcp_out_rsts;
	rst1 = mpt_stack_counters(e.sim.ep[1])->tcp_out_rsts;
	pump(&e, c, s, 100000, true);
	CHECK_EQ(mpt_sk_close(e.t[1], s), 0);
	CHECK(run_until(&e, c, POLLIN, 10) & POLLIN);
	{
		char b[4];

		CHECK_EQ(read(c, b, sizeof(b)), 0);
	}
	CHECK_EQ(mpt_sk_close(e.t[0], c), 0);
	for (int i = 0; i < 2000; i++)
		round1(&e);
	CHECK_U64_EQ(mpt_stack_counters(e.sim.ep[0])->tcp_out_rsts, rst0);
	CHECK_U64_EQ(mpt_stack_counters(e.sim.ep[1])->tcp_out_rsts, rst1);
	(void)err;
	(void)el;
	env_free(&e);
}

/* shutdown(SHUT_WR) each way: the other side reads EOF after the data and can still
 * send; SHUT_RD discards what arrives but writing goes on. */
TEST(socket_shutdown_each_way)
{
	struct env e;
	int c, s;

	env_init(&e, MPT_AF_INET, 1, NULL);
	pair_blocking(&e, AF_INET, 5005, &c, &s);
	CHECK_EQ(mpt_sk_shutdown(e.t[0], c, SHUT_WR), 0);
	CHECK(run_until(&e, s, POLLIN, 10) & POLLIN);
	{
		char b[4];

		CHECK_EQ(read(s, b, sizeof(b)), 0);
	}
	/* the other way is still open */
	pump(&e, s, c, 200000, false);
	CHECK_EQ(mpt_sk_shutdown(e.t[1], s, SHUT_WR), 0);
	CHECK(run_until(&e, c, POLLIN, 10) & POLLIN);
	{
		char b[4];

		CHECK_EQ(read(c, b, sizeof(b)), 0);
	}
	env_free(&e);

	env_init(&e, MPT_AF_INET, 1, NULL);
	pair_blocking(&e, AF_INET, 5006, &c, &s);
	CHECK_EQ(mpt_sk_shutdown(e.t[1], s, SHUT_RD), 0);
	CHECK_EQ(write(c, "dropped", 7), 7);
	for (int i = 0; i < 200; i++)
		round1(&e);
	CHECK_EQ(ready(s, POLLIN), 0);
	pump(&e, s, c, 100000, true);
	CHECK_EQ(mpt_sk_shutdown(e.t[0], 999, SHUT_WR), -1);
	CHECK_EQ(errno, EBADF);
	CHECK_EQ(mpt_sk_shutdown(e.t[0], c, 7), -1);
	CHECK_EQ(errno, EINVAL);
	env_free(&e);
}

TEST(socket_ipv6_and_v4_mapped)
{
	struct env e;
	struct sockaddr_in6 sa;
	socklen_t l = sizeof(sa);
	int c, s;

	env_init(&e, MPT_AF_INET6, 1, NULL);
	pair_blocking(&e, AF_INET6, 5007, &c, &s);
	CHECK_EQ(mpt_sk_getpeername(e.t[1], s, (struct sockaddr *)&sa, &l), 0);
	CHECK_EQ(sa.sin6_family, AF_INET6);
	CHECK_EQ(l, sizeof(sa));
	pump(&e, c, s, 1000000, true);
	env_free(&e);
}

/* Several connections and listeners in one table at once. */
TEST(socket_several_connections_and_listeners)
{
	struct env e;
	int l1, l2, c[4], s[4];

	env_init(&e, MPT_AF_INET, 1, NULL);
	l1 = listener(&e, AF_INET, 5010, false);
	l2 = listener(&e, AF_INET, 5011, false);
	for (int i = 0; i < 4; i++) {
		struct sockaddr_storage ss;
		socklen_t l = sa_of(&e, 1, 0, (uint16_t)(i % 2 ? 5011 : 5010), &ss);

		c[i] = mpt_sk_socket(e.t[0], AF_INET, SOCK_STREAM, 0);
		CHECK_EQ(mpt_sk_connect(e.t[0], c[i], (struct sockaddr *)&ss, l), 0);
		s[i] = mpt_sk_accept(e.t[1], i % 2 ? l2 : l1, NULL, NULL, 0);
		CHECK(s[i] >= 0);
	}
	for (int i = 0; i < 4; i++)
		pump(&e, c[i], s[i], 200000 + 1000 * (uint64_t)i, true);
	env_free(&e);
}

/* ---- options ------------------------------------------------------------------------ */

/* Two paths, the client with a subflow endpoint on the second: two subflows. */
static void mp_pair(struct env *e, uint16_t port, int *c, int *s, bool endpoint)
{
	env_init(e, MPT_AF_INET, 2, NULL);
	if (endpoint)
		CHECK_EQ(mpt_stack_add_endpoint(e->sim.ep[0], 1, 1, MPT_EP_SUBFLOW), 0);
	pair_blocking(e, AF_INET, port, c, s);
}

static int live_subflows(struct env *e, uint32_t id, struct mpt_subflow_info *sfs)
{
	struct mpt_subflow_info all[16];
	int n = mpt_conn_subflows(e->sim.ep[0], id, all, 16), k = 0;

	for (int i = 0; i < n && i < 16; i++)
		if (!all[i].dead)
			sfs[k++] = all[i];
	return k;
}

TEST(socket_getsockopt_mptcp_info_matches_conn_info)
{
	struct env e;
	struct mpt_uapi_mptcp_info mi;
	struct mpt_conn_info ci;
	struct mpt_subflow_info sfs[16];
	socklen_t l;
	uint32_t id;
	int c, s, n;

	mp_pair(&e, 5020, &c, &s, true);
	pump(&e, c, s, 2000000, false);
	id = mpt_sk_conn_id(e.t[0], c);
	CHECK(id != 0);
	/* until the last DATA_ACK is in */
	for (int i = 0; i < 1000; i++) {
		CHECK_EQ(mpt_conn_info(e.sim.ep[0], id, &ci), 0);
		if (ci.bytes_acked == 2000000)
			break;
		round1(&e);
	}
	n = live_subflows(&e, id, sfs);
	CHECK_EQ(n, 2);

	l = sizeof(mi);
	CHECK_EQ(mpt_sk_getsockopt(e.t[0], c, SOL_MPTCP, MPTCP_INFO, &mi, &l), 0);
	CHECK_EQ(l, sizeof(mi));
	CHECK_EQ(mi.mptcpi_subflows, 1); /* Linux counts the joins */
	CHECK_EQ(mi.mptcpi_subflows_total, 2);
	CHECK_U64_EQ(mi.mptcpi_token, ci.token);
	CHECK_U64_EQ(mi.mptcpi_bytes_sent, ci.bytes_sent);
	CHECK_U64_EQ(mi.mptcpi_bytes_acked, ci.bytes_acked);
	CHECK_U64_EQ(mi.mptcpi_bytes_acked, 2000000);
	CHECK_U64_EQ(mi.mptcpi_bytes_received, 0);	  /* the client received nothing */
	CHECK_U64_EQ(mi.mptcpi_snd_una, ci.data_snd_nxt); /* all acked */
	CHECK_U64_EQ(mi.mptcpi_write_seq, mi.mptcpi_snd_una);
	CHECK_U64_EQ(mi.mptcpi_rcv_nxt, ci.data_rcv_nxt);
	CHECK_EQ(mi.mptcpi_flags & MPT_UAPI_INFO_FLAG_FALLBACK, 0);
	CHECK(mi.mptcpi_flags & MPT_UAPI_INFO_FLAG_REMOTE_KEY_RECEIVED);
	CHECK_EQ(mi.mptcpi_subflows_max, 7);
	CHECK_EQ(mi.mptcpi_local_addr_max, 1);
	CHECK_EQ(mi.mptcpi_local_addr_used, 1);
	/* a short buffer gets a prefix, optlen says how much */
	l = 8;
	memset(&mi, 0, sizeof(mi));
	CHECK_EQ(mpt_sk_getsockopt(e.t[0], c, SOL_MPTCP, MPTCP_INFO, &mi, &l), 0);
	CHECK_EQ(l, 8);
	CHECK_EQ(mi.mptcpi_subflows, 1);
	CHECK_EQ(mi.mptcpi_token, 0);
	/* the server side reads its own connection */
	l = sizeof(mi);
	CHECK_EQ(mpt_sk_getsockopt(e.t[1], s, SOL_MPTCP, MPTCP_INFO, &mi, &l), 0);
	CHECK_U64_EQ(mi.mptcpi_bytes_received, 2000000);

	/* TCP_INFO: the first subflow, the connection's byte sums */
	{
		struct tcp_info ti;

		l = sizeof(ti);
		CHECK_EQ(mpt_sk_getsockopt(e.t[0], c, IPPROTO_TCP, TCP_INFO, &ti, &l), 0);
		CHECK_EQ(l, sizeof(ti));
		CHECK_EQ(ti.tcpi_state, 1); /* TCP_ESTABLISHED */
		CHECK_EQ(ti.tcpi_snd_mss, ci.snd_mss);
		CHECK_U64_EQ(ti.tcpi_bytes_acked, ci.bytes_acked);
		CHECK_U64_EQ(ti.tcpi_bytes_sent, ci.bytes_sent);
		CHECK_EQ(ti.tcpi_rtt, ci.srtt_ns / 1000);
		CHECK_EQ(ti.tcpi_snd_cwnd, ci.cwnd / ci.snd_mss);
		CHECK(ti.tcpi_options & TCPI_OPT_SACK);
	}
	/* TCP_CONGESTION, buffers, flags */
	{
		char cc[16];
		int v = 0;

		l = sizeof(cc);
		CHECK_EQ(mpt_sk_getsockopt(e.t[0], c, IPPROTO_TCP, TCP_CONGESTION, cc, &l), 0);
		CHECK_STR_EQ(cc, ci.cc);
		CHECK_EQ(mpt_sk_setsockopt(e.t[0], c, IPPROTO_TCP, TCP_CONGESTION, ci.cc,
					   (socklen_t)strlen(ci.cc)),
			 0);
		CHECK_EQ(mpt_sk_setsockopt(e.t[0], c, IPPROTO_TCP, TCP_CONGESTION, "bbr", 3), -1);
		CHECK_EQ(errno, EOPNOTSUPP);
		l = sizeof(v);
		CHECK_EQ(mpt_sk_getsockopt(e.t[0], c, SOL_SOCKET, SO_SNDBUF, &v, &l), 0);
		CHECK_EQ(v, 256 * 1024);
		CHECK_EQ(mpt_sk_getsockopt(e.t[0], c, SOL_SOCKET, SO_RCVBUF, &v, &l), 0);
		CHECK_EQ(v, 256 * 1024);
		v = 1;
		CHECK_EQ(mpt_sk_setsockopt(e.t[0], c, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)), 0);
		v = 0;
		CHECK_EQ(mpt_sk_getsockopt(e.t[0], c, IPPROTO_TCP, TCP_NODELAY, &v, &l), 0);
		CHECK_EQ(v, 1);
		v = 16384;
		CHECK_EQ(
			mpt_sk_setsockopt(e.t[0], c, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v, sizeof(v)),
			0);
		v = 0;
		CHECK_EQ(mpt_sk_getsockopt(e.t[0], c, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v, &l), 0);
		CHECK_EQ(v, 16384);
		v = 1;
		CHECK_EQ(mpt_sk_setsockopt(e.t[0], c, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v)), 0);
		CHECK_EQ(mpt_sk_getsockopt(e.t[0], c, SOL_SOCKET, SO_ERROR, &v, &l), 0);
		CHECK_EQ(v, 0);
		CHECK_EQ(mpt_sk_getsockopt(e.t[0], c, SOL_SOCKET, SO_PROTOCOL, &v, &l), 0);
		CHECK_EQ(v, IPPROTO_MPTCP);
		CHECK_EQ(mpt_sk_getsockopt(e.t[0], c, SOL_SOCKET, 9999, &v, &l), -1);
		CHECK_EQ(errno, ENOPROTOOPT);
	}
	env_free(&e);
}

static bool same_sa_ip(const struct sockaddr_storage *ss, const struct mpt_sockaddr *a)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

	return in->sin_family == AF_INET && !memcmp(&in->sin_addr, a->ip, 4) &&
	       ntohs(in->sin_port) == a->port;
}

TEST(socket_getsockopt_subflow_data_negotiation)
{
	struct env e;
	struct mpt_subflow_info sfs[16];
	struct mpt_conn_info ci;
	struct {
		struct mpt_uapi_subflow_data d;
		struct mpt_uapi_subflow_addrs a[4];
	} sa;
	struct {
		struct mpt_uapi_subflow_data d;
		uint8_t ti[2][sizeof(struct tcp_info) + 64];
	} tb;
	socklen_t l;
	uint32_t id;
	int c, s, n;

	mp_pair(&e, 5021, &c, &s, true);
	pump(&e, c, s, 1000000, false);
	id = mpt_sk_conn_id(e.t[0], c);
	mpt_conn_info(e.sim.ep[0], id, &ci);
	n = live_subflows(&e, id, sfs);
	CHECK_EQ(n, 2);

	/* MPTCP_SUBFLOW_ADDRS: room for 4, 2 written */
	memset(&sa, 0, sizeof(sa));
	sa.d.size_subflow_data = sizeof(sa.d);
	sa.d.size_user = sizeof(sa.a[0]);
	l = sizeof(sa);
	CHECK_EQ(mpt_sk_getsockopt(e.t[0], c, SOL_MPTCP, MPTCP_SUBFLOW_ADDRS, &sa, &l), 0);
	CHECK_EQ(sa.d.num_subflows, 2);
	CHECK_EQ(sa.d.size_kernel, sizeof(struct mpt_uapi_subflow_addrs));
	CHECK_EQ(l, sizeof(sa.d) + 2 * sizeof(sa.a[0]));
	for (int i = 0; i < 2; i++) {
		CHECK(same_sa_ip(&sa.a[i].local, &sfs[i].local));
		CHECK(same_sa_ip(&sa.a[i].remote, &sfs[i].remote));
	}
	CHECK_EQ(((struct sockaddr_in *)&sa.a[1].local)->sin_addr.s_addr, htonl(0x0a000101));
	/* room for one: num_subflows still says 2 */
	l = sizeof(sa.d) + sizeof(sa.a[0]);
	memset(&sa, 0, sizeof(sa));
	sa.d.size_subflow_data = sizeof(sa.d);
	sa.d.size_user = sizeof(sa.a[0]);
	CHECK_EQ(mpt_sk_getsockopt(e.t[0], c, SOL_MPTCP, MPTCP_SUBFLOW_ADDRS, &sa, &l), 0);
	CHECK_EQ(sa.d.num_subflows, 2);
	CHECK_EQ(l, sizeof(sa.d) + sizeof(sa.a[0]));
	/* the kernel's checks: header too short, num_subflows set, size_subflow_data > optlen */
	l = 8;
	CHECK_EQ(mpt_sk_getsockopt(e.t[0], c, SOL_MPTCP, MPTCP_SUBFLOW_ADDRS, &sa, &l), -1);
	CHECK_EQ(errno, EINVAL);
	memset(&sa, 0, sizeof(sa));
	sa.d.size_subflow_data = sizeof(sa.d);
	sa.d.num_subflows = 1;
	l = sizeof(sa);
	CHECK_EQ(mpt_sk_getsockopt(e.t[0], c, SOL_MPTCP, MPTCP_SUBFLOW_ADDRS, &sa, &l), -1);
	CHECK_EQ(errno, EINVAL);
	memset(&sa, 0, sizeof(sa));
	sa.d.size_subflow_data = 64;
	l = 32;
	CHECK_EQ(mpt_sk_getsockopt(e.t[0], c, SOL_MPTCP, MPTCP_SUBFLOW_ADDRS, &sa, &l), -1);
	CHECK_EQ(errno, EINVAL);

	/* MPTCP_TCPINFO: a user element larger than the kernel's is clipped to it */
	memset(&tb, 0, sizeof(tb));
	tb.d.size_subflow_data = sizeof(tb.d);
	tb.d.size_user = sizeof(tb.ti[0]);
	l = sizeof(tb);
	CHECK_EQ(mpt_sk_getsockopt(e.t[0], c, SOL_MPTCP, MPTCP_TCPINFO, &tb, &l), 0);
	CHECK_EQ(tb.d.num_subflows, 2);
	CHECK_EQ(tb.d.size_kernel, sizeof(struct tcp_info));
	CHECK_EQ(tb.d.size_user, sizeof(struct tcp_info));
	CHECK_EQ(l, sizeof(tb.d) + 2 * sizeof(struct tcp_info));
	{
		struct tcp_info t0, t1;
		uint8_t *p = (uint8_t *)&tb + sizeof(tb.d);

		memcpy(&t0, p, sizeof(t0));
		memcpy(&t1, p + sizeof(struct tcp_info), sizeof(t1));
		CHECK_U64_EQ(t0.tcpi_bytes_sent, sfs[0].bytes_sent);
		CHECK_U64_EQ(t1.tcpi_bytes_sent, sfs[1].bytes_sent);
		CHECK_U64_EQ(t0.tcpi_bytes_sent + t1.tcpi_bytes_sent, ci.bytes_sent);
		CHECK(t1.tcpi_bytes_sent > 0); /* both paths carried data */
		CHECK_EQ(t0.tcpi_state, 1);
	}
	/* a smaller user element (an older struct tcp_info): a prefix of each */
	memset(&tb, 0, sizeof(tb));
	tb.d.size_subflow_data = sizeof(tb.d);
	tb.d.size_user = 104;
	l = sizeof(tb.d) + 2 * 104;
	CHECK_EQ(mpt_sk_getsockopt(e.t[0], c, SOL_MPTCP, MPTCP_TCPINFO, &tb, &l), 0);
	CHECK_EQ(tb.d.size_user, 104);
	CHECK_EQ(l, sizeof(tb.d) + 2 * 104);
	env_free(&e);
}

TEST(socket_getsockopt_full_info)
{
	struct env e;
	struct mpt_subflow_info sfs[16];
	struct mpt_conn_info ci;
	struct mpt_uapi_full_info fi;
	struct mpt_uapi_subflow_info si[4];
	struct tcp_info ti[4];
	socklen_t l;
	uint32_t id;
	int c, s;

	mp_pair(&e, 5022, &c, &s, true);
	pump(&e, c, s, 1000000, false);
	id = mpt_sk_conn_id(e.t[0], c);
	mpt_conn_info(e.sim.ep[0], id, &ci);
	CHECK_EQ(live_subflows(&e, id, sfs), 2);
	memset(&fi, 0, sizeof(fi));
	memset(si, 0, sizeof(si));
	memset(ti, 0, sizeof(ti));
	fi.size_tcpinfo_user = sizeof(ti[0]);
	fi.size_sfinfo_user = sizeof(si[0]);
	fi.size_arrays_user = 4;
	fi.subflow_info = (uint64_t)(uintptr_t)si;
	fi.tcp_info = (uint64_t)(uintptr_t)ti;
	l = sizeof(fi);
	CHECK_EQ(mpt_sk_getsockopt(e.t[0], c, SOL_MPTCP, MPTCP_FULL_INFO, &fi, &l), 0);
	CHECK_EQ(l, sizeof(fi));
	CHECK_EQ(fi.num_subflows, 2);
	CHECK_EQ(fi.size_tcpinfo_kernel, sizeof(struct tcp_info));
	CHECK_EQ(fi.size_sfinfo_kernel, sizeof(struct mpt_uapi_subflow_info));
	CHECK_EQ(fi.mptcp_info.mptcpi_token, ci.token);
	CHECK_EQ(fi.mptcp_info.mptcpi_subflows, 1);
	for (int i = 0; i < 2; i++) {
		CHECK_EQ(si[i].id, (uint32_t)i + 1);
		CHECK(same_sa_ip(&si[i].addrs.local, &sfs[i].local));
		CHECK(same_sa_ip(&si[i].addrs.remote, &sfs[i].remote));
		CHECK_U64_EQ(ti[i].tcpi_bytes_sent, sfs[i].bytes_sent);
	}
	CHECK_EQ(si[2].id, 0); /* untouched */
	/* arrays for one: the count is still 2, one element written */
	memset(si, 0, sizeof(si));
	fi.size_tcpinfo_kernel = fi.size_sfinfo_kernel = fi.num_subflows = 0;
	fi.size_arrays_user = 1;
	l = sizeof(fi);
	CHECK_EQ(mpt_sk_getsockopt(e.t[0], c, SOL_MPTCP, MPTCP_FULL_INFO, &fi, &l), 0);
	CHECK_EQ(fi.num_subflows, 2);
	CHECK_EQ(si[0].id, 1);
	CHECK_EQ(si[1].id, 0);
	/* the kernel's input checks */
	fi.num_subflows = 3;
	l = sizeof(fi);
	CHECK_EQ(mpt_sk_getsockopt(e.t[0], c, SOL_MPTCP, MPTCP_FULL_INFO, &fi, &l), -1);
	CHECK_EQ(errno, EINVAL);
	l = 20;
	CHECK_EQ(mpt_sk_getsockopt(e.t[0], c, SOL_MPTCP, MPTCP_FULL_INFO, &fi, &l), -1);
	CHECK_EQ(errno, EINVAL);
	/* only the header: no mptcp_info copied */
	memset(&fi, 0, sizeof(fi));
	l = 40;
	CHECK_EQ(mpt_sk_getsockopt(e.t[0], c, SOL_MPTCP, MPTCP_FULL_INFO, &fi, &l), 0);
	CHECK_EQ(l, 40);
	CHECK_EQ(fi.num_subflows, 2);
	env_free(&e);
}

/* RFC 6897: add a subflow by address mid-transfer, list it, remove it, read the
 * connection id; and a socket with MPTCP turned off. */
TEST(socket_rfc6897_options)
{
	static uint8_t buf[65536];
	struct env e;
	struct mpt_conn_info ci;
	struct mpt_uapi_subflow_addrs pairs[4];
	struct sockaddr_in a1 = {.sin_family = AF_INET};
	uint32_t connid = 0, id;
	socklen_t l;
	uint64_t sent = 0, got = 0, total = 6000000, end;
	int c, s, v = 0;

	mp_pair(&e, 5023, &c, &s, false);
	id = mpt_sk_conn_id(e.t[0], c);
	l = sizeof(v);
	CHECK_EQ(mpt_sk_getsockopt(e.t[0], c, IPPROTO_TCP, TCP_MULTIPATH_ENABLE, &v, &l), 0);
	CHECK_EQ(v, 1);
	l = sizeof(connid);
	CHECK_EQ(mpt_sk_getsockopt(e.t[0], c, IPPROTO_TCP, TCP_MULTIPATH_CONNID, &connid, &l), 0);
	CHECK_EQ(mpt_conn_info(e.sim.ep[0], id, &ci), 0);
	CHECK_EQ(connid, ci.token);
	CHECK(connid != 0);
	l = sizeof(pairs);
	CHECK_EQ(mpt_sk_getsockopt(e.t[0], c, IPPROTO_TCP, TCP_MULTIPATH_SUBFLOWS, pairs, &l), 0);
	CHECK_EQ(l, sizeof(pairs[0]));

	/* a transfer; at 1 MB the second address is added, at 4 MB removed */
	set_nonblock(c);
	set_nonblock(s);
	a1.sin_addr.s_addr = htonl(0x0a000101); /* 10.0.1.1, the client's path 1 */
	end = e.sim.now + 300 * S;
	bool added = false, removed = false;
	uint64_t on_path1 = 0;

	while (got < total && e.sim.now < end) {
		while (sent < total) {
			size_t n =
				total - sent < sizeof(buf) ? (size_t)(total - sent) : sizeof(buf);
			ssize_t w;

			for (size_t i = 0; i < n; i++)
				buf[i] = mpt_sim_pattern(sent + i);
			w = write(c, buf, n);
			if (w <= 0)
				break;
			sent += (uint64_t)w;
		}
		for (;;) {
			ssize_t r = read(s, buf, sizeof(buf));

			if (r <= 0)
				break;
			for (ssize_t i = 0; i < r; i++)
				CHECK_EQ(buf[i], mpt_sim_pattern(got + (uint64_t)i));
			got += (uint64_t)r;
		}
		if (!added && got >= 1000000) {
			CHECK_EQ(mpt_sk_setsockopt(e.t[0], c, IPPROTO_TCP, TCP_MULTIPATH_ADD, &a1,
						   sizeof(a1)),
				 0);
			added = true;
		}
		if (added && !removed && got >= 4000000) {
			l = sizeof(pairs);
			CHECK_EQ(mpt_sk_getsockopt(e.t[0], c, IPPROTO_TCP, TCP_MULTIPATH_SUBFLOWS,
						   pairs, &l),
				 0);
			CHECK_EQ(l, 2 * sizeof(pairs[0]));
			CHECK_EQ(((struct sockaddr_in *)&pairs[1].local)->sin_addr.s_addr,
				 a1.sin_addr.s_addr);
			CHECK_EQ(((struct sockaddr_in *)&pairs[1].remote)->sin_addr.s_addr,
				 htonl(0x0a000002));
			CHECK_EQ(ntohs(((struct sockaddr_in *)&pairs[1].remote)->sin_port), 5023);
			on_path1 = e.sim.link[0][1].bytes_delivered;
			CHECK_EQ(mpt_sk_setsockopt(e.t[0], c, IPPROTO_TCP, TCP_MULTIPATH_REMOVE,
						   &a1, sizeof(a1)),
				 0);
			removed = true;
			l = sizeof(pairs);
			CHECK_EQ(mpt_sk_getsockopt(e.t[0], c, IPPROTO_TCP, TCP_MULTIPATH_SUBFLOWS,
						   pairs, &l),
				 0);
			CHECK_EQ(l, sizeof(pairs[0]));
			CHECK_EQ(((struct sockaddr_in *)&pairs[0].local)->sin_addr.s_addr,
				 htonl(0x0a000001));
		}
		round1(&e);
	}
	CHECK_U64_EQ(got, total);
	CHECK(removed);
	printf("# path 1 carried %llu bytes while its subflow lived\n",
	       (unsigned long long)on_path1);
	CHECK(on_path1 > 500000);
	/* removing again: nothing matches */
	CHECK_EQ(mpt_sk_setsockopt(e.t[0], c, IPPROTO_TCP, TCP_MULTIPATH_REMOVE, &a1, sizeof(a1)),
		 -1);
	CHECK_EQ(errno, EADDRNOTAVAIL);
	/* an address that is not ours */
	a1.sin_addr.s_addr = htonl(0x0a000909);
	CHECK_EQ(mpt_sk_setsockopt(e.t[0], c, IPPROTO_TCP, TCP_MULTIPATH_ADD, &a1, sizeof(a1)), -1);
	CHECK_EQ(errno, EADDRNOTAVAIL);
	CHECK_EQ(mpt_sk_setsockopt(e.t[0], c, IPPROTO_TCP, TCP_MULTIPATH_CONNID, &v, sizeof(v)),
		 -1);
	CHECK_EQ(errno, EOPNOTSUPP);
	env_free(&e);
}

TEST(socket_rfc6897_enable_off_is_plain_tcp)
{
	struct env e;
	struct sockaddr_storage ss;
	struct mpt_uapi_mptcp_info mi;
	socklen_t l;
	int lfd, c, s, v = 0;

	env_init(&e, MPT_AF_INET, 1, NULL);
	lfd = listener(&e, AF_INET, 5024, false);
	c = mpt_sk_socket(e.t[0], AF_INET, SOCK_STREAM, 0);
	CHECK_EQ(mpt_sk_setsockopt(e.t[0], c, IPPROTO_TCP, TCP_MULTIPATH_ENABLE, &v, sizeof(v)), 0);
	l = sa_of(&e, 1, 0, 5024, &ss);
	CHECK_EQ(mpt_sk_connect(e.t[0], c, (struct sockaddr *)&ss, l), 0);
	s = mpt_sk_accept(e.t[1], lfd, NULL, NULL, 0);
	CHECK(s >= 0);
	v = 1;
	l = sizeof(v);
	CHECK_EQ(mpt_sk_getsockopt(e.t[0], c, IPPROTO_TCP, TCP_MULTIPATH_ENABLE, &v, &l), 0);
	CHECK_EQ(v, 0);
	CHECK_EQ(mpt_sk_getsockopt(e.t[1], s, SOL_MPTCP, TCP_MULTIPATH_ENABLE, &v, &l), 0);
	CHECK_EQ(v, 0);
	l = sizeof(mi);
	CHECK_EQ(mpt_sk_getsockopt(e.t[0], c, SOL_MPTCP, MPTCP_INFO, &mi, &l), -1);
	CHECK_EQ(errno, EOPNOTSUPP);
	CHECK_EQ(mpt_sk_setsockopt(e.t[0], c, IPPROTO_TCP, TCP_MULTIPATH_ENABLE, &v, sizeof(v)),
		 -1);
	CHECK_EQ(errno, EISCONN);
	CHECK_U64_EQ(mpt_stack_counters(e.sim.ep[0])->mpc_syn_tx, 0);
	pump(&e, c, s, 500000, true);
	env_free(&e);
}

TEST(socket_scheduler_option)
{
	struct env e;
	char nm[16];
	socklen_t l = sizeof(nm);
	int c, s;

	mp_pair(&e, 5025, &c, &s, true);
	CHECK_EQ(mpt_sk_getsockopt(e.t[0], c, SOL_MPTCP, MPT_SO_SCHEDULER, nm, &l), 0);
	CHECK_STR_EQ(nm, "default");
	CHECK_EQ(mpt_sk_setsockopt(e.t[0], c, SOL_MPTCP, MPT_SO_SCHEDULER, "roundrobin", 10), 0);
	l = sizeof(nm);
	CHECK_EQ(mpt_sk_getsockopt(e.t[0], c, SOL_MPTCP, MPT_SO_SCHEDULER, nm, &l), 0);
	CHECK_STR_EQ(nm, "roundrobin");
	CHECK_STR_EQ(mpt_conn_scheduler(e.sim.ep[0], mpt_sk_conn_id(e.t[0], c)), "roundrobin");
	CHECK_EQ(mpt_sk_setsockopt(e.t[0], c, SOL_MPTCP, MPT_SO_SCHEDULER, "fastest", 7), -1);
	CHECK_EQ(errno, ENOENT);
	pump(&e, c, s, 1000000, true);
	env_free(&e);
}

/* fork: the descriptors are shared kernel objects, so a child writes on an accepted
 * connection while the parent's table shuttles; the parent closes its copy at once
 * and the connection ends (FIN, no reset) only when the child's copy closes too. */
TEST(socket_fork_child_writes_parent_closes)
{
	static uint8_t buf[65536];
	struct env e;
	uint64_t got = 0, bytes = 300000, end;
	uint64_t rst = 0;
	bool eof = false;
	pid_t pid;
	int c, s, st = -1;

	env_init(&e, MPT_AF_INET, 1, NULL);
	pair_blocking(&e, AF_INET, 5030, &c, &s);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		uint64_t sent = 0;

		while (sent < bytes) {
			size_t n =
				bytes - sent < sizeof(buf) ? (size_t)(bytes - sent) : sizeof(buf);
			ssize_t w;

			for (size_t i = 0; i < n; i++)
				buf[i] = mpt_sim_pattern(sent + i);
			w = write(s, buf, n);
			if (w <= 0)
				_exit(1);
			sent += (uint64_t)w;
		}
		_exit(0);
	}
	CHECK_EQ(mpt_sk_close(e.t[1], s), 0);
	rst = mpt_stack_counters(e.sim.ep[1])->tcp_out_rsts;
	set_nonblock(c);
	end = e.sim.now + 120 * S;
	while (!eof && e.sim.now < end) {
		ssize_t r = read(c, buf, sizeof(buf));

		if (r > 0) {
			for (ssize_t i = 0; i < r; i++)
				CHECK_EQ(buf[i], mpt_sim_pattern(got + (uint64_t)i));
			got += (uint64_t)r;
			continue;
		}
		if (r == 0)
			eof = true;
		else
			round1(&e);
		if (st < 0 && waitpid(pid, &st, WNOHANG) != pid)
			st = -1;
	}
	if (st < 0)
		CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK_U64_EQ(got, bytes);
	CHECK(eof);
	CHECK_U64_EQ(mpt_stack_counters(e.sim.ep[1])->tcp_out_rsts, rst);
	env_free(&e);
}

/* SO_LINGER with a zero timeout: close resets even with nothing unread. */
TEST(socket_linger_zero_close_resets)
{
	struct env e;
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	int c, s, err = 0;
	socklen_t el = sizeof(err);

	env_init(&e, MPT_AF_INET, 1, NULL);
	pair_blocking(&e, AF_INET, 5031, &c, &s);
	pump(&e, c, s, 10000, false);
	CHECK_EQ(mpt_sk_setsockopt(e.t[1], s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	CHECK_EQ(mpt_sk_close(e.t[1], s), 0);
	CHECK(run_until(&e, c, POLLIN, 10) & POLLIN);
	CHECK_EQ(mpt_sk_getsockopt(e.t[0], c, SOL_SOCKET, SO_ERROR, &err, &el), 0);
	CHECK_EQ(err, ECONNRESET);
	env_free(&e);
}

/* A peer that never answers: the SYN retries run out, connect fails with ETIMEDOUT
 * (blocking) or SO_ERROR says so (non-blocking). */
TEST(socket_connect_timeout)
{
	struct env e;
	struct mpt_config c;
	struct sockaddr_storage ss;
	socklen_t l;
	int fd, err = 0;
	socklen_t el = sizeof(err);

	mpt_config_default(&c);
	c.mptcp = true;
	c.max_syn_retries = 2;
	env_init(&e, MPT_AF_INET, 1, &c);
	e.sim.link[0][0].cfg.loss = 1.0; /* nothing the client sends arrives */
	l = sa_of(&e, 1, 0, 5032, &ss);
	fd = mpt_sk_socket(e.t[0], AF_INET, SOCK_STREAM, 0);
	CHECK_EQ(mpt_sk_connect(e.t[0], fd, (struct sockaddr *)&ss, l), -1);
	CHECK_EQ(errno, ETIMEDOUT);
	fd = mpt_sk_socket(e.t[0], AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	CHECK_EQ(mpt_sk_connect(e.t[0], fd, (struct sockaddr *)&ss, l), -1);
	CHECK_EQ(errno, EINPROGRESS);
	CHECK(run_until(&e, fd, POLLOUT, 60) & POLLOUT);
	CHECK_EQ(mpt_sk_getsockopt(e.t[0], fd, SOL_SOCKET, SO_ERROR, &err, &el), 0);
	CHECK_EQ(err, ETIMEDOUT);
	env_free(&e);
}

/* TCP_MULTIPATH_REMOVE of the first subflow's address: the join carries on, and
 * MPTCP_INFO counts as Linux does (mptcpi_subflows: the joins; _total: + the first
 * subflow only while it lives). */
TEST(socket_rfc6897_remove_first_subflow)
{
	struct env e;
	struct sockaddr_in a0 = {.sin_family = AF_INET};
	struct mpt_uapi_mptcp_info mi;
	struct mpt_uapi_subflow_addrs pairs[4];
	socklen_t l;
	int c, s;

	mp_pair(&e, 5033, &c, &s, true);
	pump(&e, c, s, 500000, false);
	l = sizeof(mi);
	CHECK_EQ(mpt_sk_getsockopt(e.t[0], c, SOL_MPTCP, MPTCP_INFO, &mi, &l), 0);
	CHECK_EQ(mi.mptcpi_subflows, 1);
	CHECK_EQ(mi.mptcpi_subflows_total, 2);
	a0.sin_addr.s_addr = htonl(0x0a000001);
	CHECK_EQ(mpt_sk_setsockopt(e.t[0], c, IPPROTO_TCP, TCP_MULTIPATH_REMOVE, &a0, sizeof(a0)),
		 0);
	l = sizeof(pairs);
	CHECK_EQ(mpt_sk_getsockopt(e.t[0], c, IPPROTO_TCP, TCP_MULTIPATH_SUBFLOWS, pairs, &l), 0);
	CHECK_EQ(l, sizeof(pairs[0]));
	CHECK_EQ(((struct sockaddr_in *)&pairs[0].local)->sin_addr.s_addr, htonl(0x0a000101));
	l = sizeof(mi);
	CHECK_EQ(mpt_sk_getsockopt(e.t[0], c, SOL_MPTCP, MPTCP_INFO, &mi, &l), 0);
	CHECK_EQ(mi.mptcpi_subflows, 1);
	CHECK_EQ(mi.mptcpi_subflows_total, 1);
	/* the connection goes on over the join (in the other direction, whose
	 * pattern starts at offset 0) */
	pump(&e, s, c, 1000000, true);
	env_free(&e);
}

/* epoll and select on the descriptors, as an event loop would use them. */
TEST(socket_epoll_and_select_readiness)
{
	struct env e;
	struct sockaddr_storage ss;
	struct epoll_event ev, out[4];
	socklen_t l;
	int ep, lfd, c, s = -1, n;
	fd_set rd;
	struct timeval tv = {0, 0};

	env_init(&e, MPT_AF_INET, 1, NULL);
	lfd = listener(&e, AF_INET, 5034, true);
	c = mpt_sk_socket(e.t[0], AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	l = sa_of(&e, 1, 0, 5034, &ss);
	ep = epoll_create1(0);
	CHECK(ep >= 0);
	ev = (struct epoll_event){.events = EPOLLOUT, .data.fd = c};
	CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev), 0);
	ev = (struct epoll_event){.events = EPOLLIN, .data.fd = lfd};
	CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev), 0);
	CHECK_EQ(mpt_sk_connect(e.t[0], c, (struct sockaddr *)&ss, l), -1);
	CHECK_EQ(errno, EINPROGRESS);
	CHECK_EQ(epoll_wait(ep, out, 4, 0), 0);
	bool connected = false, acceptable = false;

	for (int i = 0; i < 10000 && !(connected && acceptable); i++) {
		round1(&e);
		n = epoll_wait(ep, out, 4, 0);
		for (int k = 0; k < n; k++) {
			if (out[k].data.fd == c && (out[k].events & EPOLLOUT))
				connected = true;
			if (out[k].data.fd == lfd && (out[k].events & EPOLLIN))
				acceptable = true;
		}
	}
	CHECK(connected);
	CHECK(acceptable);
	s = mpt_sk_accept(e.t[1], lfd, NULL, NULL, 0);
	CHECK(s >= 0);
	FD_ZERO(&rd);
	FD_SET(s, &rd);
	CHECK_EQ(select(s + 1, &rd, NULL, NULL, &tv), 0);
	CHECK_EQ(write(c, "ping", 4), 4);
	for (int i = 0; i < 10000; i++) {
		FD_ZERO(&rd);
		FD_SET(s, &rd);
		tv = (struct timeval){0, 0};
		if (select(s + 1, &rd, NULL, NULL, &tv) == 1)
			break;
		round1(&e);
	}
	CHECK(FD_ISSET(s, &rd));
	close(ep);
	env_free(&e);
}

/* A server that forks after accept closes its own copy before the child read the
 * request: that is not a close with unread data (the child reads it), so no reset;
 * the child answers and the client reads the answer, then EOF. */
TEST(socket_fork_after_accept_parent_closes_unread)
{
	char buf[64];
	struct env e;
	uint64_t rst;
	ssize_t r;
	size_t got = 0;
	pid_t pid;
	int c, s, st = -1, err = -1;
	socklen_t el = sizeof(err);

	env_init(&e, MPT_AF_INET, 1, NULL);
	pair_blocking(&e, AF_INET, 5040, &c, &s);
	CHECK_EQ(write(c, "GET /\n", 6), 6);
	CHECK(run_until(&e, s, POLLIN, 10) & POLLIN); /* the request waits, unread */
	rst = mpt_stack_counters(e.sim.ep[1])->tcp_out_rsts;
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		char req[6];

		/* the parent closes its copy first; the child then reads and answers */
		usleep(50000);
		if (read(s, req, sizeof(req)) != 6 || memcmp(req, "GET /\n", 6))
			_exit(1);
		if (write(s, "200 ok\n", 7) != 7)
			_exit(2);
		_exit(0);
	}
	CHECK_EQ(mpt_sk_close(e.t[1], s), 0);
	set_nonblock(c);
	for (int i = 0; i < 20000; i++) {
		r = read(c, buf + got, sizeof(buf) - got);
		if (r == 0)
			break;
		if (r > 0)
			got += (size_t)r;
		else
			round1(&e);
		if (st < 0 && waitpid(pid, &st, WNOHANG) != pid)
			st = -1;
	}
	if (st < 0)
		CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK_EQ(got, 7);
	CHECK(!memcmp(buf, "200 ok\n", 7));
	CHECK_U64_EQ(mpt_stack_counters(e.sim.ep[1])->tcp_out_rsts, rst);
	CHECK_EQ(mpt_sk_getsockopt(e.t[0], c, SOL_SOCKET, SO_ERROR, &err, &el), 0);
	CHECK_EQ(err, 0);
	env_free(&e);
}

/* The last copy closed with data unread still resets (the fix above is only for
 * copies left elsewhere). */
TEST(socket_close_last_copy_unread_resets_after_dup)
{
	struct env e;
	uint64_t rst;
	int c, s, s2;

	env_init(&e, MPT_AF_INET, 1, NULL);
	pair_blocking(&e, AF_INET, 5041, &c, &s);
	CHECK_EQ(write(c, "unread", 6), 6);
	CHECK(run_until(&e, s, POLLIN, 10) & POLLIN);
	rst = mpt_stack_counters(e.sim.ep[1])->tcp_out_rsts;
	s2 = dup(s);
	CHECK(s2 >= 0);
	/* the table knows the socket as s2 now; s is an ordinary copy */
	CHECK_EQ(mpt_sk_rekey(e.t[1], s, s2), 0);
	CHECK(mpt_sk_is_socket(e.t[1], s2));
	CHECK(!mpt_sk_is_socket(e.t[1], s));
	CHECK_EQ(mpt_sk_rekey(e.t[1], s, s2), -1);
	CHECK_EQ(errno, EBADF);
	CHECK_EQ(mpt_sk_rekey(e.t[1], s2, -1), -1);
	CHECK_EQ(errno, EINVAL);
	close(s);
	CHECK_EQ(mpt_sk_close(e.t[1], s2), 0);
	CHECK(run_until(&e, c, POLLIN, 10) & POLLIN);
	CHECK(mpt_stack_counters(e.sim.ep[1])->tcp_out_rsts > rst);
	env_free(&e);
}

/* detach: the number was replaced (dup2 over it); the connection closes with a FIN
 * once no copy is left, and the number is not closed by the table. */
TEST(socket_detach_after_dup2_over_it)
{
	struct env e;
	char b[4];
	int c, s, devnull;

	env_init(&e, MPT_AF_INET, 1, NULL);
	pair_blocking(&e, AF_INET, 5042, &c, &s);
	pump(&e, c, s, 5000, false);
	devnull = open("/dev/null", O_RDONLY);
	CHECK(devnull >= 0);
	CHECK_EQ(dup2(devnull, s), s);
	CHECK_EQ(mpt_sk_detach(e.t[1], s), 0);
	CHECK_EQ(mpt_sk_detach(e.t[1], s), -1);
	CHECK_EQ(errno, EBADF);
	CHECK(fcntl(s, F_GETFD) >= 0); /* still open: /dev/null's copy */
	set_nonblock(c);
	CHECK(run_until(&e, c, POLLIN, 10) & POLLIN);
	CHECK_EQ(read(c, b, sizeof(b)), 0);
	close(s);
	close(devnull);
	env_free(&e);
}

/* mpt_sk_busy counts closed connections until their FIN exchange ends, so a runtime
 * stopping at exit waits for the data it still holds: after the client's close,
 * while its data is still on the way, and 0 only once both ends closed. */
TEST(socket_busy_until_fin_exchange_ends)
{
	static uint8_t buf[65536];
	struct env e;
	uint64_t sent = 0, got = 0, bytes = 16 * 65536;
	int c, s, i;
	bool eof = false;

	env_init(&e, MPT_AF_INET, 1, NULL);
	pair_blocking(&e, AF_INET, 5043, &c, &s);
	CHECK_EQ(mpt_sk_busy(e.t[0]), 2); /* the socket and its connection */
	set_nonblock(c);
	set_nonblock(s);
	/* the client writes everything and closes at once, as a program that exits;
	 * the server reads meanwhile */
	for (i = 0; i < 400000 && !eof; i++) {
		bool moved = false;
		ssize_t r;

		if (sent < bytes) {
			size_t n =
				bytes - sent < sizeof(buf) ? (size_t)(bytes - sent) : sizeof(buf);
			ssize_t w;

			for (size_t k = 0; k < n; k++)
				buf[k] = mpt_sim_pattern(sent + k);
			w = write(c, buf, n);
			if (w > 0) {
				sent += (uint64_t)w;
				moved = true;
				if (sent >= bytes) {
					CHECK_EQ(mpt_sk_close(e.t[0], c), 0);
					CHECK(mpt_sk_busy(e.t[0]) >= 1);
				}
			}
		}
		r = read(s, buf, sizeof(buf));
		if (r > 0) {
			for (ssize_t k = 0; k < r; k++)
				CHECK_EQ(buf[k], mpt_sim_pattern(got + (uint64_t)k));
			got += (uint64_t)r;
			moved = true;
			if (sent >= bytes && got < bytes)
				CHECK(mpt_sk_busy(e.t[0]) >= 1); /* closed, still sending */
		} else if (r == 0) {
			eof = true;
		}
		if (!moved)
			round1(&e);
	}
	CHECK(eof);
	CHECK_U64_EQ(got, bytes);
	CHECK_EQ(mpt_sk_close(e.t[1], s), 0);
	for (i = 0; i < 20000 && mpt_sk_busy(e.t[0]); i++)
		round1(&e);
	CHECK_EQ(mpt_sk_busy(e.t[0]), 0);
	env_free(&e);
}
