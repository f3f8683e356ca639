/* The congestion controller's connection view, filled by the engine (tcp.c's
 * cc_view, mptcp.c's tcp_ulp_ops.cc_view) before every call: a probe controller
 * (NewReno's rules) records what it sees through a two-subflow MPTCP transfer in
 * virtual time, while the second subflow joins, becomes a backup (MP_PRIO) and
 * closes (its address deleted); a plain TCP connection sees a connection of one. */
#include "mpt_sim.h"
#include "tcp.h"
#include "test.h"

#include <string.h>

#define MS 1000000ull

static struct probe {
	uint64_t calls, bad_self, bad_cwnd, bad_priv, no_view;
	uint32_t max_nsf, max_usable;
	uint64_t two_usable, backup_seen, closed_seen; /* calls that saw each */
	uint64_t two_usable_late; /* two usable regular subflows after the backup */
} pr;

static void probe_look(const struct mpt_cc *cc)
{
	const struct mpt_cc_conn *v = cc->conn;
	uint32_t usable = 0, regular = 0;
	bool backup = false;

	pr.calls++;
	if (!v) {
		pr.no_view++;
		return;
	}
	if (v->self >= v->nsf) {
		pr.bad_self++;
		return;
	}
	if (v->sf[v->self].cwnd != cc->cwnd)
		pr.bad_cwnd++;
	if (v->sf[v->self].priv != cc->priv)
		pr.bad_priv++;
	for (uint32_t i = 0; i < v->nsf; i++) {
		usable += v->sf[i].usable;
		regular += v->sf[i].usable && !v->sf[i].backup;
		backup = backup || (v->sf[i].usable && v->sf[i].backup);
	}
	if (v->nsf > pr.max_nsf)
		pr.max_nsf = v->nsf;
	if (usable > pr.max_usable)
		pr.max_usable = usable;
	pr.two_usable += usable == 2 && !backup;
	pr.backup_seen += backup;
	/* after the close: listed but not usable, or no longer listed */
	pr.closed_seen += usable == 1 && pr.backup_seen;
	pr.two_usable_late += regular == 2 && pr.backup_seen;
}

static void probe_init(struct mpt_cc *cc, uint64_t now)
{
	probe_look(cc);
	mpt_cc_newreno.init(cc, now);
}

static void probe_ack(struct mpt_cc *cc, uint32_t acked, uint64_t rtt, uint64_t now)
{
	probe_look(cc);
	mpt_cc_newreno.on_ack(cc, acked, rtt, now);
}

static void probe_congestion(struct mpt_cc *cc, uint64_t now)
{
	probe_look(cc);
	mpt_cc_newreno.on_congestion(cc, now);
}

static void probe_rto(struct mpt_cc *cc, uint64_t now)
{
	probe_look(cc);
	mpt_cc_newreno.on_rto(cc, now);
}

static const struct mpt_cc_ops probe = {
	.name = "probe",
	.init = probe_init,
	.on_ack = probe_ack,
	.on_congestion = probe_congestion,
	.on_recovery_end = NULL,
	.on_rto = probe_rto,
};

/* At 1 s the second subflow's endpoint becomes a backup, at 2 s its address goes. */
struct events {
	struct mpt_sim *sim;
	bool mptcp, backup_done, del_done;
};

static void events_tap(void *ctx, int from, uint32_t path, const uint8_t *pkt, size_t len,
		       uint64_t now)
{
	struct events *e = ctx;

	(void)from, (void)path, (void)pkt, (void)len;
	if (!e->mptcp)
		return;
	if (!e->backup_done && now >= 1000 * MS) {
		e->backup_done = true;
		CHECK_EQ(mpt_stack_set_endpoint_flags(e->sim->ep[0], 1,
						      MPT_EP_SUBFLOW | MPT_EP_BACKUP),
			 0);
	}
	if (!e->del_done && now >= 2000 * MS) {
		e->del_done = true;
		CHECK_EQ(mpt_stack_del_path(e->sim->ep[0], 1, now), 0);
	}
}

static void run(bool mptcp, struct mpt_sim_xfer *x)
{
	static const struct mpt_sim_link_cfg link = {
		.rate_bps = 10000000, .delay_ns = 10 * MS, .queue_bytes = 60000};
	struct mpt_config c;
	struct mpt_sim sim;
	struct events e = {.sim = &sim, .mptcp = mptcp};

	mpt_config_default(&c);
	c.mptcp = mptcp;
	c.sndbuf = c.rcvbuf = 1 << 20;
	memset(&pr, 0, sizeof(pr));
	CHECK_EQ(mpt_sim_init(&sim, 3, &c, &c, MPT_AF_INET, 2, &link), 0);
	CHECK_EQ(mpt_stack_register_cc(sim.ep[0], &probe), 0);
	sim.ep[0]->cc_default = &probe; /* the client's connections run the probe */
	if (mptcp)
		CHECK_EQ(mpt_stack_add_endpoint(sim.ep[0], 1, 1, MPT_EP_SUBFLOW), 0);
	sim.tap = events_tap;
	sim.tap_ctx = &e;
	CHECK_EQ(mpt_sim_transfer(&sim, x), 0);
	CHECK(x->data_ok);
	CHECK(x->eof);
	CHECK(e.del_done == mptcp);
	mpt_sim_free(&sim);
	printf("# mptcp %d: %llu calls, max nsf %u, max usable %u, two usable %llu, backup "
	       "%llu, closed %llu, two regular after backup %llu, done at %.2f s\n",
	       mptcp, (unsigned long long)pr.calls, pr.max_nsf, pr.max_usable,
	       (unsigned long long)pr.two_usable, (unsigned long long)pr.backup_seen,
	       (unsigned long long)pr.closed_seen, (unsigned long long)pr.two_usable_late,
	       x->done_ns / 1e9);
}

TEST(cc_view_follows_join_backup_and_close)
{
	struct mpt_sim_xfer x = {.bytes = 8000000, .deadline_ns = 60000 * MS};

	run(true, &x);
	CHECK(pr.calls > 1000);
	CHECK_U64_EQ(pr.no_view + pr.bad_self + pr.bad_cwnd + pr.bad_priv, 0);
	CHECK_EQ(pr.max_nsf, 2);
	CHECK_EQ(pr.max_usable, 2);
	CHECK(pr.two_usable > 100);  /* joined: both regular, both usable */
	CHECK(pr.backup_seen > 100); /* MP_PRIO: the second one is a backup */
	CHECK(pr.closed_seen > 100); /* its address deleted: listed, not usable */
	CHECK_U64_EQ(pr.two_usable_late, 0);
}

TEST(cc_view_plain_tcp_is_a_connection_of_one)
{
	struct mpt_sim_xfer x = {.bytes = 4000000, .deadline_ns = 60000 * MS};

	run(false, &x);
	CHECK(pr.calls > 1000);
	CHECK_U64_EQ(pr.no_view + pr.bad_self + pr.bad_cwnd + pr.bad_priv, 0);
	CHECK_EQ(pr.max_nsf, 1);
	CHECK_EQ(pr.max_usable, 1);
	CHECK_U64_EQ(pr.backup_seen, 0);
}
