/* Engine pairs over simulated links in virtual time. */
#include "test.h"
#include "mpt_sim.h"
#include "tcp.h"

#include <stdlib.h>

static __attribute__((unused)) uint64_t sim_bytes(uint64_t dflt)
{
	const char *e = getenv("MPT_SIM_BYTES");

	return e && *e ? strtoull(e, NULL, 0) : dflt;
}

TEST(stack_sim_clean_transfer)
{
	struct mpt_sim sim;
	struct mpt_sim_xfer x = {.bytes = 1000000, .deadline_ns = 60000000000ull};
	int rv;

	CHECK_EQ(mpt_sim_init(&sim, 1, NULL, NULL, MPT_AF_INET, 1, NULL), 0);
	rv = mpt_sim_transfer(&sim, &x);
	printf("# rv %d recv %llu t=%.3fs pkts %llu cwnd %u srtt %.1fms\n", rv,
	       (unsigned long long)x.received, x.done_ns / 1e9, (unsigned long long)sim.trace_pkts,
	       x.client_info.cwnd, x.client_info.srtt_ns / 1e6);
	CHECK_EQ(rv, 0);
	CHECK(x.data_ok);
	CHECK_U64_EQ(x.received, x.bytes);
	mpt_sim_free(&sim);
}

static void print_ctr(const struct mpt_stack *st)
{
	char buf[8192];

	if (mpt_counters_format(mpt_stack_counters(st), false, buf, sizeof(buf)) > 0)
		printf("%s", buf);
}

static int lossy(uint64_t seed, const char *cc, uint64_t bytes, struct mpt_sim_xfer *x,
		 uint64_t *hash, bool verbose)
{
	struct mpt_sim sim;
	struct mpt_config cfg;
	struct mpt_sim_link_cfg link = {.rate_bps = 100000000,
					.delay_ns = 10000000,
					.loss = 0.05,
					.reorder = 0.01,
					.reorder_ns = 3000000,
					.dup = 0.01,
					.queue_bytes = 300000};
	int rv;

	mpt_config_default(&cfg);
	cfg.cc = cc;
	memset(x, 0, sizeof(*x));
	x->bytes = bytes;
	x->deadline_ns = 3600ull * 1000000000ull;
	CHECK_EQ(mpt_sim_init(&sim, seed, &cfg, NULL, MPT_AF_INET, 1, &link), 0);
	rv = mpt_sim_transfer(&sim, x);
	if (verbose || rv) {
		printf("# seed %llu cc %s rv %d recv %llu/%llu t=%.3fs pkts %llu goodput %.2f "
		       "Mbit/s\n",
		       (unsigned long long)seed, cc, rv, (unsigned long long)x->received,
		       (unsigned long long)bytes, x->done_ns / 1e9,
		       (unsigned long long)sim.trace_pkts,
		       x->done_ns ? x->received * 8 / (x->done_ns / 1e9) / 1e6 : 0.0);
		print_ctr(sim.ep[0]);
	}
	if (hash)
		*hash = sim.trace_hash;
	mpt_sim_free(&sim);
	return rv;
}

/* The acceptance scenario, scaled by MPT_SIM_BYTES (default 2 MB here; 100 MB takes
 * about 2.5 s of wall time): 5% loss, 1% reordering, 1% duplication, both ways. */
TEST(stack_sim_lossy_newreno)
{
	struct mpt_sim_xfer x;

	CHECK_EQ(lossy(7, "newreno", sim_bytes(2000000), &x, NULL, true), 0);
	CHECK(x.data_ok);
	CHECK_U64_EQ(x.received, x.bytes);
}

TEST(stack_sim_lossy_cubic)
{
	struct mpt_sim_xfer x;

	CHECK_EQ(lossy(8, "cubic", sim_bytes(2000000), &x, NULL, true), 0);
	CHECK(x.data_ok);
	CHECK_U64_EQ(x.received, x.bytes);
	CHECK_STR_EQ(x.client_info.cc, "cubic");
}

/* Same seed, same trace of segments (time, sender, path, bytes); another seed, another
 * trace. */
TEST(stack_sim_deterministic_trace)
{
	struct mpt_sim_xfer x;
	uint64_t h1, h2, h3;

	CHECK_EQ(lossy(11, "newreno", 300000, &x, &h1, false), 0);
	CHECK_EQ(lossy(11, "newreno", 300000, &x, &h2, false), 0);
	CHECK_EQ(lossy(12, "newreno", 300000, &x, &h3, false), 0);
	printf("# %016llx %016llx %016llx\n", (unsigned long long)h1, (unsigned long long)h2,
	       (unsigned long long)h3);
	CHECK_U64_EQ(h1, h2);
	CHECK(h1 != h3);
	CHECK_EQ(lossy(11, "cubic", 300000, &x, &h3, false), 0);
	CHECK(h1 != h3);
}

static double goodput(const char *cc, double loss, uint64_t bytes, uint64_t seed)
{
	struct mpt_sim sim;
	struct mpt_config cfg;
	struct mpt_sim_link_cfg link = {
		.rate_bps = 20000000, .delay_ns = 10000000, .loss = loss, .queue_bytes = 100000};
	struct mpt_sim_xfer x = {.bytes = bytes, .deadline_ns = 600000000000ull};
	double g;

	mpt_config_default(&cfg);
	cfg.cc = cc;
	CHECK_EQ(mpt_sim_init(&sim, seed, &cfg, NULL, MPT_AF_INET, 1, &link), 0);
	CHECK_EQ(mpt_sim_transfer(&sim, &x), 0);
	g = (double)x.received * 8 / ((double)x.done_ns / 1e9);
	printf("# %s loss %.3f: %.2f Mbit/s, %llu retrans, %llu timeouts\n", cc, loss, g / 1e6,
	       (unsigned long long)x.client_info.retrans_segs,
	       (unsigned long long)mpt_stack_counters(sim.ep[0])->timeouts);
	mpt_sim_free(&sim);
	return g;
}

/* 20 Mbit/s, 20 ms RTT, 1% random loss each way.  The Mathis bound,
 * MSS/RTT * 1.22/sqrt(p), is ~7 Mbit/s; ask for a sane fraction of it, and for the
 * lossless case to approach the link rate. */
TEST(stack_sim_goodput_sane)
{
	uint64_t n = sim_bytes(2000000);

	CHECK(goodput("newreno", 0.0, n, 3) > 12e6);
	CHECK(goodput("cubic", 0.0, n, 3) > 12e6);
	CHECK(goodput("newreno", 0.01, n, 3) > 2e6);
	CHECK(goodput("cubic", 0.01, n, 3) > 2e6);
}

/* Queue limit + drop tail only (no random loss): losses come from the bottleneck. */
TEST(stack_sim_bottleneck_queue)
{
	struct mpt_sim sim;
	struct mpt_sim_link_cfg link = {
		.rate_bps = 10000000, .delay_ns = 5000000, .queue_bytes = 30000};
	struct mpt_sim_xfer x = {.bytes = 3000000, .deadline_ns = 600000000000ull};

	CHECK_EQ(mpt_sim_init(&sim, 4, NULL, NULL, MPT_AF_INET, 1, &link), 0);
	CHECK_EQ(mpt_sim_transfer(&sim, &x), 0);
	CHECK(sim.link[0][0].dropped_queue > 0);
	CHECK(x.data_ok);
	CHECK(x.received * 8 / (x.done_ns / 1e9) > 7e6);
	mpt_sim_free(&sim);
}

TEST(stack_sim_ipv6_and_close)
{
	struct mpt_sim sim;
	struct mpt_sim_xfer x = {.bytes = 500000, .deadline_ns = 60000000000ull};
	struct mpt_conn_info i;

	CHECK_EQ(mpt_sim_init(&sim, 5, NULL, NULL, MPT_AF_INET6, 1, NULL), 0);
	CHECK_EQ(mpt_sim_transfer(&sim, &x), 0);
	CHECK(x.client_closed);
	CHECK_EQ(mpt_conn_info(sim.ep[0], x.client_id, &i), 0);
	CHECK_EQ(i.state, MPT_TIME_WAIT); /* the client closed first */
	CHECK_EQ(i.snd_mss, 1440 - 12);
	while (mpt_sim_step(&sim, sim.now + 61000000000ull))
		;
	CHECK_EQ(mpt_conn_info(sim.ep[0], x.client_id, &i), 0);
	CHECK_EQ(i.state, MPT_CLOSED);
	CHECK_EQ(mpt_close(sim.ep[0], x.client_id, sim.now), 0);
	CHECK_U64_EQ(mpt_stack_next_timeout(sim.ep[0]), UINT64_MAX);
	CHECK_U64_EQ(mpt_stack_next_timeout(sim.ep[1]), UINT64_MAX);
	CHECK_U64_EQ(mpt_stack_counters(sim.ep[0])->tcp_curr_estab, 0);
	mpt_sim_free(&sim);
}

/* A loss mask drops exactly the chosen packets: the SYN and the first SYN-ACK. */
TEST(stack_sim_loss_mask_handshake)
{
	struct mpt_sim sim;
	struct mpt_sim_xfer x = {.bytes = 10000, .deadline_ns = 60000000000ull};

	CHECK_EQ(mpt_sim_init(&sim, 6, NULL, NULL, MPT_AF_INET, 1, NULL), 0);
	sim.link[0][0].cfg.loss_mask = 1; /* client's first packet (SYN) */
	sim.link[1][0].cfg.loss_mask = 1; /* server's first packet (SYN-ACK) */
	CHECK_EQ(mpt_sim_transfer(&sim, &x), 0);
	CHECK_U64_EQ(sim.link[0][0].dropped_mask, 1);
	CHECK_U64_EQ(sim.link[1][0].dropped_mask, 1);
	CHECK(x.done_ns > 1000000000ull); /* it took an initial RTO */
	CHECK_U64_EQ(mpt_stack_counters(sim.ep[0])->timeouts, 1);
	mpt_sim_free(&sim);
}

/* Several connections share one stack pair and one link: demultiplexing by 4-tuple,
 * round-robin output, every stream intact. */
TEST(stack_sim_concurrent_connections)
{
	enum { N = 4, BYTES = 200000 };
	struct mpt_sim sim;
	struct mpt_sim_link_cfg link = {.rate_bps = 50000000, .delay_ns = 5000000, .loss = 0.01};
	struct mpt_sockaddr cl, sv;
	uint32_t lid, cid[N], sid[N];
	uint64_t sent[N] = {0}, got[N] = {0};
	int nacc = 0, i, done = 0;
	uint8_t buf[8192];

	CHECK_EQ(mpt_sim_init(&sim, 9, NULL, NULL, MPT_AF_INET, 1, &link), 0);
	cl = mpt_sim_addr(&sim, 0, 0, 0);
	sv = mpt_sim_addr(&sim, 1, 0, 7000);
	CHECK_EQ(mpt_listen(sim.ep[1], &sv, N, &lid), 0);
	for (i = 0; i < N; i++)
		CHECK_EQ(mpt_connect(sim.ep[0], &cl, &sv, sim.now, &cid[i]), 0);
	while (done < N && sim.now < 120000000000ull) {
		struct mpt_event ev;

		while (mpt_stack_poll_event(sim.ep[1], &ev) == 1)
			if (ev.type == MPT_EV_ACCEPTABLE)
				while (nacc < N && mpt_accept(sim.ep[1], lid, &sid[nacc]) == 0)
					nacc++;
		while (mpt_stack_poll_event(sim.ep[0], &ev) == 1)
			CHECK(ev.type != MPT_EV_ERROR);
		for (i = 0; i < N; i++) {
			while (sent[i] < BYTES) {
				size_t n = sizeof(buf) < BYTES - sent[i] ? sizeof(buf)
									 : BYTES - sent[i];
				ptrdiff_t w;

				for (size_t k = 0; k < n; k++)
					buf[k] = mpt_sim_pattern(sent[i] + k + (uint64_t)i * 7);
				w = mpt_send(sim.ep[0], cid[i], buf, n, sim.now);
				if (w <= 0)
					break;
				sent[i] += (uint64_t)w;
			}
		}
		for (i = 0; i < nacc; i++) {
			ptrdiff_t r;

			while ((r = mpt_recv(sim.ep[1], sid[i], buf, sizeof(buf), sim.now)) > 0) {
				struct mpt_conn_info info;
				int which = -1;

				/* map the server connection to its client by port */
				CHECK_EQ(mpt_conn_info(sim.ep[1], sid[i], &info), 0);
				for (int k = 0; k < N; k++) {
					struct mpt_conn_info ci;

					mpt_conn_info(sim.ep[0], cid[k], &ci);
					if (ci.local.port == info.remote.port)
						which = k;
				}
				CHECK(which >= 0);
				for (ptrdiff_t k = 0; k < r; k++)
					CHECK_EQ(buf[k], mpt_sim_pattern(got[which] + (uint64_t)k +
									 (uint64_t)which * 7));
				got[which] += (uint64_t)r;
				if (got[which] == BYTES)
					done++;
			}
		}
		if (!mpt_sim_step(&sim, 120000000000ull))
			break;
	}
	CHECK_EQ(nacc, N);
	CHECK_EQ(done, N);
	mpt_sim_free(&sim);
}

/* Many connections between one stack pair (the demultiplexing cache in front of the
 * connection list, hash collisions included): each client connection sends its own
 * stream, the server maps each accepted connection to its client by port and checks
 * every byte; then every connection closes, and the freed ones leave the cache (a new
 * round on the same ports works). */
TEST(stack_sim_many_connections)
{
	enum { N = 400, BYTES = 3000 };
	static uint32_t cid[N], sid[N], which[N], port2idx[65536];
	static uint64_t got[N];
	struct mpt_sim sim;
	struct mpt_sim_link_cfg link = {.rate_bps = 1000000000, .delay_ns = 1000000};
	struct mpt_config cfg;
	struct mpt_sockaddr cl, sv;
	uint32_t lid;
	int nacc = 0, done = 0;
	uint8_t buf[BYTES];

	mpt_config_default(&cfg);
	cfg.sndbuf = cfg.rcvbuf = 8192;
	cfg.time_wait_ns = 1000000; /* TIME_WAIT over quickly: the tcbs get freed */
	CHECK_EQ(mpt_sim_init(&sim, 21, &cfg, NULL, MPT_AF_INET, 1, &link), 0);
	cl = mpt_sim_addr(&sim, 0, 0, 0);
	sv = mpt_sim_addr(&sim, 1, 0, 7000);
	CHECK_EQ(mpt_listen(sim.ep[1], &sv, N, &lid), 0);
	for (int i = 0; i < N; i++) {
		CHECK_EQ(mpt_connect(sim.ep[0], &cl, &sv, sim.now, &cid[i]), 0);
		for (int k = 0; k < BYTES; k++)
			buf[k] = mpt_sim_pattern((uint64_t)k + (uint64_t)i * 13);
		CHECK_EQ(mpt_send(sim.ep[0], cid[i], buf, BYTES, sim.now), BYTES);
		CHECK_EQ(mpt_shutdown(sim.ep[0], cid[i], MPT_SHUT_WR, sim.now), 0);
	}
	for (uint32_t k = 0; k < 65536; k++)
		port2idx[k] = N;
	for (uint32_t k = 0; k < N; k++) {
		struct mpt_conn_info ci;

		CHECK_EQ(mpt_conn_info(sim.ep[0], cid[k], &ci), 0);
		port2idx[ci.local.port] = k;
	}
	while (done < N && sim.now < 60000000000ull) {
		struct mpt_event ev;

		while (mpt_stack_poll_event(sim.ep[1], &ev) == 1) {
			if (ev.type != MPT_EV_ACCEPTABLE)
				continue;
			while (nacc < N && mpt_accept(sim.ep[1], lid, &sid[nacc]) == 0) {
				struct mpt_conn_info si;

				CHECK_EQ(mpt_conn_info(sim.ep[1], sid[nacc], &si), 0);
				which[nacc] = port2idx[si.remote.port];
				CHECK(which[nacc] < N);
				nacc++;
			}
		}
		while (mpt_stack_poll_event(sim.ep[0], &ev) == 1)
			CHECK(ev.type != MPT_EV_ERROR);
		for (int i = 0; i < nacc; i++) {
			ptrdiff_t r;

			if (got[i] == BYTES)
				continue;
			while ((r = mpt_recv(sim.ep[1], sid[i], buf, sizeof(buf), sim.now)) > 0) {
				for (ptrdiff_t k = 0; k < r; k++)
					CHECK_EQ(buf[k], mpt_sim_pattern(got[i] + (uint64_t)k +
									 (uint64_t)which[i] * 13));
				got[i] += (uint64_t)r;
			}
			if (got[i] == BYTES && r == 0) {
				CHECK_EQ(mpt_close(sim.ep[1], sid[i], sim.now), 0);
				done++;
			}
		}
		if (!mpt_sim_step(&sim, 60000000000ull))
			break;
	}
	CHECK_EQ(nacc, N);
	CHECK_EQ(done, N);
	CHECK_U64_EQ(mpt_stack_counters(sim.ep[1])->no_socket, 0);
	for (int i = 0; i < N; i++)
		CHECK_EQ(mpt_close(sim.ep[0], cid[i], sim.now), 0);
	/* run out TIME_WAIT and the closes: everything freed */
	{
		uint64_t end = sim.now + 5000000000ull;

		while (sim.now < end && mpt_sim_step(&sim, end))
			;
	}
	for (uint32_t b = 0; b < STACK_DEMUX_BUCKETS; b++) {
		CHECK(sim.ep[0]->demux[b] == NULL);
		CHECK(sim.ep[1]->demux[b] == NULL);
	}
	CHECK(sim.ep[0]->conns == NULL);
	CHECK(sim.ep[1]->conns == NULL);
	mpt_sim_free(&sim);
}
