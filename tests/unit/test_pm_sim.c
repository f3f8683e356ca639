/* The path managers end to end in virtual time, every byte checked
 * (mpt_sim_transfer): ndiffports:4 opens four subflows over one address pair and
 * moves 20 MB on all of them; a subflow the peer resets comes back after the backoff
 * and carries data again; a carrier loss closes a path's subflow and its return
 * re-opens it at once. */
#include "test.h"
#include "mpt_sim.h"

#include <string.h>

#define MS 1000000ull

static struct mpt_config pm_cfg(const char *pm)
{
	struct mpt_config c;

	mpt_config_default(&c);
	c.mptcp = true;
	c.path_manager = pm;
	c.sndbuf = 1 << 20;
	c.rcvbuf = 1 << 20;
	return c;
}

static void dump(const char *who, const struct mpt_stack *st)
{
	char buf[8192];

	if (mpt_counters_format(mpt_stack_counters(st), false, buf, sizeof(buf)) > 0)
		printf("# %s\n%s", who, buf);
}

/* Source port and payload bytes of an IPv4 TCP packet (0 when it is not one). */
static uint32_t tcp_payload(const uint8_t *p, size_t len, uint16_t *sport, bool *rst)
{
	size_t ihl, doff, tot;

	if (len < 40 || (p[0] >> 4) != 4)
		return 0;
	ihl = (size_t)(p[0] & 15) * 4;
	tot = (size_t)p[2] << 8 | p[3];
	if (tot > len || ihl + 20 > tot)
		return 0;
	*sport = (uint16_t)(p[ihl] << 8 | p[ihl + 1]);
	doff = (size_t)(p[ihl + 12] >> 4) * 4;
	*rst = p[ihl + 13] & 0x04;
	return tot > ihl + doff ? (uint32_t)(tot - ihl - doff) : 0;
}

/* ---- ndiffports:4 over one address pair ---- */

struct ports {
	uint16_t port[16];
	uint64_t bytes[16];
	uint32_t n;
};

static void ports_tap(void *ctx, int from, uint32_t path, const uint8_t *pkt, size_t len,
		      uint64_t now)
{
	struct ports *p = ctx;
	uint16_t sport = 0;
	bool rst = false;
	uint32_t n = tcp_payload(pkt, len, &sport, &rst), i;

	(void)path, (void)now;
	if (from != 0 || !n)
		return;
	for (i = 0; i < p->n && p->port[i] != sport; i++)
		;
	if (i == p->n && p->n < 16)
		p->port[p->n++] = sport;
	if (i < 16)
		p->bytes[i] += n;
}

TEST(pm_sim_ndiffports_4_subflows_one_address_pair_20mb)
{
	struct mpt_config c = pm_cfg("ndiffports:4"), s = pm_cfg(NULL);
	struct mpt_sim_link_cfg l = {
		.rate_bps = 50000000, .delay_ns = 10 * MS, .queue_bytes = 200000, .loss = 0.002};
	struct mpt_sim sim;
	struct mpt_sim_xfer x = {.bytes = 20000000, .deadline_ns = 600000000000ull};
	struct ports p;
	const struct mpt_counters *cc, *sc;
	int rv;

	memset(&p, 0, sizeof(p));
	CHECK_EQ(mpt_sim_init(&sim, 1301, &c, &s, MPT_AF_INET, 1, &l), 0);
	sim.tap = ports_tap;
	sim.tap_ctx = &p;
	rv = mpt_sim_transfer(&sim, &x);
	cc = mpt_stack_counters(sim.ep[0]);
	sc = mpt_stack_counters(sim.ep[1]);
	printf("# ndiffports:4: rv %d, %llu bytes in %.3f s over %u source ports:", rv,
	       (unsigned long long)x.received, x.done_ns / 1e9, p.n);
	for (uint32_t i = 0; i < p.n; i++)
		printf(" %u=%llu", p.port[i], (unsigned long long)p.bytes[i]);
	printf("\n");
	if (rv)
		dump("client", sim.ep[0]);
	CHECK_EQ(rv, 0);
	CHECK(x.data_ok);
	CHECK(x.eof);
	CHECK_STR_EQ(mpt_conn_path_manager(sim.ep[0], x.client_id), "ndiffports");
	CHECK_U64_EQ(cc->pm_open, 3);
	CHECK_U64_EQ(sc->join_ack_rx, 3); /* three joins, all on path 0 */
	CHECK_EQ(p.n, 4);
	for (uint32_t i = 0; i < p.n; i++)
		CHECK(p.bytes[i] > 1000000); /* every subflow carried data */
	CHECK_U64_EQ(cc->dss_not_matching + sc->dss_not_matching, 0);
	mpt_sim_free(&sim);
}

TEST(pm_sim_ndiffports_default_two_and_bad_specs_refused)
{
	struct mpt_config c = pm_cfg("ndiffports"), s = pm_cfg(NULL);
	struct mpt_sim sim;
	struct mpt_sim_xfer x = {.bytes = 1000000, .deadline_ns = 60000000000ull};
	static const char *const bad[] = {
		"ndiffports:0", "ndiffports:17", "ndiffports:", "ndiffports:x",
		"kernel:2",	"fullmesh",	 "kernelx"};

	CHECK_EQ(mpt_sim_init(&sim, 1302, &c, &s, MPT_AF_INET, 1, NULL), 0);
	CHECK_EQ(mpt_sim_transfer(&sim, &x), 0);
	CHECK(x.data_ok);
	CHECK_U64_EQ(mpt_stack_counters(sim.ep[0])->pm_open, 1);
	CHECK_U64_EQ(mpt_stack_counters(sim.ep[1])->join_ack_rx, 1);
	mpt_sim_free(&sim);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = pm_cfg(bad[i]);
		CHECK_EQ(mpt_sim_init(&sim, 1, &c, &s, MPT_AF_INET, 1, NULL), MPT_ENOENT);
	}
}

/* ---- a subflow reset by the peer comes back ---- */

struct reset {
	struct mpt_sim *sim;
	uint64_t reset_at;   /* reset the first server->client segment on path 1 from here */
	uint64_t reset_done; /* when it was */
	/* client->server payload bytes on path 1 from another port after that, the
	 * first of them */
	uint64_t path1_after, first_after;
	uint16_t old_port, new_port;
};

static uint32_t reset_fault(void *ctx, int from, uint32_t path, const uint8_t *pkt, size_t len,
			    uint64_t now, uint64_t *delay_ns)
{
	struct reset *r = ctx;
	uint16_t sport = 0;
	bool rst = false;
	uint32_t n = tcp_payload(pkt, len, &sport, &rst);

	(void)delay_ns;
	if (from == 1 && path == 1 && !r->reset_done && now >= r->reset_at && !rst) {
		r->reset_done = now;
		return MPT_SIM_FAULT_RESET;
	}
	/* the old subflow sends until the RST reaches it (one delay later) */
	if (from == 0 && path == 1 && r->reset_done && n && sport != r->old_port) {
		r->path1_after += n;
		r->new_port = sport;
		if (!r->first_after)
			r->first_after = now;
	}
	if (from == 0 && path == 1 && !r->reset_done && n)
		r->old_port = sport;
	return 0;
}

TEST(pm_sim_kernel_subflow_reset_by_peer_comes_back)
{
	struct mpt_config c = pm_cfg("kernel");
	struct mpt_sim_link_cfg l = {
		.rate_bps = 20000000, .delay_ns = 10 * MS, .queue_bytes = 100000};
	struct mpt_sim sim;
	struct mpt_sim_xfer x = {.bytes = 20000000, .deadline_ns = 600000000000ull};
	struct reset r = {.sim = &sim, .reset_at = 2000 * MS};
	const struct mpt_counters *cc;
	int rv;

	CHECK_EQ(mpt_sim_init(&sim, 1310, &c, &c, MPT_AF_INET, 2, &l), 0);
	CHECK_EQ(mpt_stack_add_endpoint(sim.ep[0], 1, 1, MPT_EP_SUBFLOW), 0);
	sim.fault = reset_fault;
	sim.fault_ctx = &r;
	rv = mpt_sim_transfer(&sim, &x);
	cc = mpt_stack_counters(sim.ep[0]);
	printf("# reset at %.3f s: rv %d, done %.3f s; path 1 data again after %.1f ms: %llu "
	       "bytes, port %u -> %u\n",
	       r.reset_done / 1e9, rv, x.done_ns / 1e9,
	       r.first_after ? (r.first_after - r.reset_done) / 1e6 : -1.0,
	       (unsigned long long)r.path1_after, r.old_port, r.new_port);
	if (rv)
		dump("client", sim.ep[0]);
	CHECK_EQ(rv, 0);
	CHECK(x.data_ok);
	CHECK(r.reset_done > 0);
	CHECK(cc->pm_retry_sched >= 1);
	CHECK(cc->pm_retry_open >= 1);
	CHECK(cc->pm_recreated >= 1);
	CHECK(r.new_port != r.old_port); /* a new subflow, not the old one */
	/* after the RST's way (10 ms) and the first backoff (0.5 s), plus the join's
	 * round trips */
	CHECK(r.first_after >= r.reset_done + 510 * MS);
	CHECK(r.first_after < r.reset_done + 700 * MS);
	CHECK(r.path1_after > 2000000); /* and it carried data again */
	mpt_sim_free(&sim);
}

/* ---- carrier lost, then back ---- */

struct flap {
	struct mpt_sim *sim;
	uint64_t down_at, up_at;
	bool down_done, up_done;
	uint64_t first_data_after_up; /* client->server payload on path 1 after up */
	uint64_t path1_after;
};

static void flap_tap(void *ctx, int from, uint32_t path, const uint8_t *pkt, size_t len,
		     uint64_t now)
{
	struct flap *f = ctx;
	uint16_t sport = 0;
	bool rst = false;
	uint32_t n = tcp_payload(pkt, len, &sport, &rst);

	if (!f->down_done && now >= f->down_at) {
		f->down_done = true;
		f->sim->link[0][1].cfg.loss = 1.0;
		f->sim->link[1][1].cfg.loss = 1.0;
		CHECK_EQ(mpt_stack_path_link(f->sim->ep[0], 1, false, now), 0);
	}
	if (f->down_done && !f->up_done && now >= f->up_at) {
		f->up_done = true;
		f->sim->link[0][1].cfg.loss = 0;
		f->sim->link[1][1].cfg.loss = 0;
		CHECK_EQ(mpt_stack_path_link(f->sim->ep[0], 1, true, now), 0);
	}
	if (f->up_done && from == 0 && path == 1 && n) {
		if (!f->first_data_after_up)
			f->first_data_after_up = now;
		f->path1_after += n;
	}
}

TEST(pm_sim_kernel_carrier_loss_then_back_reopens_at_once)
{
	struct mpt_config c = pm_cfg("kernel");
	struct mpt_sim_link_cfg l = {
		.rate_bps = 20000000, .delay_ns = 10 * MS, .queue_bytes = 100000};
	struct mpt_sim sim;
	struct mpt_sim_xfer x = {.bytes = 20000000, .deadline_ns = 600000000000ull};
	/* 7 s without carrier (the handover topology's outage): the backoff has grown
	 * past 4 s by the time it returns */
	struct flap f = {.sim = &sim, .down_at = 1000 * MS, .up_at = 8000 * MS};
	const struct mpt_counters *cc;
	int rv;

	l.rate_bps = 10000000;
	CHECK_EQ(mpt_sim_init(&sim, 1320, &c, &c, MPT_AF_INET, 2, &l), 0);
	CHECK_EQ(mpt_stack_add_endpoint(sim.ep[0], 1, 1, MPT_EP_SUBFLOW), 0);
	sim.tap = flap_tap;
	sim.tap_ctx = &f;
	rv = mpt_sim_transfer(&sim, &x);
	cc = mpt_stack_counters(sim.ep[0]);
	printf("# carrier down 1 s .. 8 s: rv %d, done %.3f s; path 1 data again %.1f ms after "
	       "the carrier, %llu bytes\n",
	       rv, x.done_ns / 1e9,
	       f.first_data_after_up ? (f.first_data_after_up - f.up_at) / 1e6 : -1.0,
	       (unsigned long long)f.path1_after);
	if (rv)
		dump("client", sim.ep[0]);
	CHECK_EQ(rv, 0);
	CHECK(x.data_ok);
	CHECK(f.up_done);
	CHECK(x.done_ns > f.up_at); /* the transfer outlived the outage */
	CHECK_U64_EQ(cc->pm_carrier_close, 1);
	CHECK_U64_EQ(cc->pm_open, 2); /* the first join, and one when the carrier came back */
	CHECK(cc->pm_link_up_retry >= 1);
	CHECK(cc->pm_recreated >= 1);
	/* a join (3 packets) and the first data: a few RTTs (20 ms) */
	CHECK(f.first_data_after_up > 0 && f.first_data_after_up - f.up_at < 200 * MS);
	CHECK(f.path1_after > 1000000);
	mpt_sim_free(&sim);
}

/* ---- repeated carrier flaps: what the live soak does ---- */

struct flaps {
	struct mpt_sim *sim;
	uint64_t period, down_for, start;
	uint32_t cycles, done_cycles;
	bool down;
	uint64_t max_estab[2];
};

static void flaps_tap(void *ctx, int from, uint32_t path, const uint8_t *pkt, size_t len,
		      uint64_t now)
{
	struct flaps *f = ctx;
	uint64_t phase;

	(void)from, (void)path, (void)pkt, (void)len;
	for (int ep = 0; ep < 2; ep++) {
		uint64_t e = mpt_stack_counters(f->sim->ep[ep])->tcp_curr_estab;

		if (e > f->max_estab[ep])
			f->max_estab[ep] = e;
	}
	if (now < f->start || f->done_cycles >= f->cycles)
		return;
	phase = (now - f->start) % f->period;
	if (!f->down && phase < f->down_for) {
		f->down = true;
		f->sim->link[0][1].cfg.loss = 1.0;
		f->sim->link[1][1].cfg.loss = 1.0;
		CHECK_EQ(mpt_stack_path_link(f->sim->ep[0], 1, false, now), 0);
		CHECK_EQ(mpt_stack_path_link(f->sim->ep[1], 1, false, now), 0);
	} else if (f->down && phase >= f->down_for) {
		f->down = false;
		f->done_cycles++;
		f->sim->link[0][1].cfg.loss = 0;
		f->sim->link[1][1].cfg.loss = 0;
		CHECK_EQ(mpt_stack_path_link(f->sim->ep[0], 1, true, now), 0);
		CHECK_EQ(mpt_stack_path_link(f->sim->ep[1], 1, true, now), 0);
	}
}

/* The carrier of path 1 goes away for 2 s every 5 s, 20 times, while 1 s of it
 * would have carried 1.25 MB: each time the client closes its subflow (its RST is
 * lost with the carrier) and opens a new one when the carrier returns.  Neither end
 * may keep the subflows it lost: the server's count of established subflows stays
 * at two or three (the new one may come before the old one is known dead), and
 * the 20th re-creation works as the first did. */
TEST(pm_sim_kernel_twenty_carrier_flaps_leave_no_dead_subflow_behind)
{
	struct mpt_config c = pm_cfg("kernel");
	struct mpt_sim_link_cfg l = {
		.rate_bps = 10000000, .delay_ns = 10 * MS, .queue_bytes = 100000};
	struct mpt_sim sim;
	struct mpt_sim_xfer x = {.bytes = 200000000, .deadline_ns = 600000000000ull};
	struct flaps f = {.sim = &sim,
			  .period = 5000 * MS,
			  .down_for = 2000 * MS,
			  .start = 1000 * MS,
			  .cycles = 20};
	const struct mpt_counters *cc, *sc;
	int rv;

	CHECK_EQ(mpt_sim_init(&sim, 1330, &c, &c, MPT_AF_INET, 2, &l), 0);
	CHECK_EQ(mpt_stack_add_endpoint(sim.ep[0], 1, 1, MPT_EP_SUBFLOW), 0);
	sim.tap = flaps_tap;
	sim.tap_ctx = &f;
	rv = mpt_sim_transfer(&sim, &x);
	cc = mpt_stack_counters(sim.ep[0]);
	sc = mpt_stack_counters(sim.ep[1]);
	printf("# %u flaps: rv %d, done %.3f s; established subflows at most %llu (client) "
	       "%llu (server); client recreated %llu, no room %llu; server join SYNs "
	       "%llu\n",
	       f.done_cycles, rv, x.done_ns / 1e9, (unsigned long long)f.max_estab[0],
	       (unsigned long long)f.max_estab[1], (unsigned long long)cc->pm_recreated,
	       (unsigned long long)cc->pm_no_room, (unsigned long long)sc->join_syn_rx);
	if (rv || cc->pm_recreated < 20) {
		dump("client", sim.ep[0]);
		dump("server", sim.ep[1]);
	}
	CHECK_EQ(rv, 0);
	CHECK(x.data_ok);
	CHECK_EQ(f.done_cycles, 20);
	CHECK(cc->pm_recreated >= 20);
	printf("# client: RSTs held for the carrier %llu, sent %llu, dropped %llu; server: idle "
	       "subflows probed %llu, RSTs accepted %llu\n",
	       (unsigned long long)cc->pm_carrier_close, (unsigned long long)cc->rst_held_sent,
	       (unsigned long long)cc->rst_held_dropped, (unsigned long long)sc->idle_subflow_probe,
	       (unsigned long long)sc->rst_accepted);
	CHECK(f.max_estab[1] <= 3);
	CHECK(f.max_estab[0] <= 3);
	/* each closed subflow's RST went out when the carrier came back */
	CHECK_U64_EQ(cc->rst_held_sent, cc->pm_carrier_close);
	CHECK_U64_EQ(cc->rst_held_dropped, 0);
	mpt_sim_free(&sim);
}

/* A carrier that never comes back: the closed subflow's RST waits MPTCP_RST_HOLD_NS
 * (60 s), then is dropped, and the transfer carries on over the other path. */
TEST(pm_sim_kernel_carrier_gone_for_good_drops_the_held_rst)
{
	struct mpt_config c = pm_cfg("kernel");
	struct mpt_sim_link_cfg l = {
		.rate_bps = 20000000, .delay_ns = 10 * MS, .queue_bytes = 100000};
	struct mpt_sim sim;
	struct mpt_sim_xfer x = {.bytes = 180000000, .deadline_ns = 600000000000ull};
	struct flaps f = {.sim = &sim,
			  .period = 1000000 * MS,
			  .down_for = 999999 * MS,
			  .start = 1000 * MS,
			  .cycles = 1};
	const struct mpt_counters *cc;
	int rv;

	CHECK_EQ(mpt_sim_init(&sim, 1340, &c, &c, MPT_AF_INET, 2, &l), 0);
	CHECK_EQ(mpt_stack_add_endpoint(sim.ep[0], 1, 1, MPT_EP_SUBFLOW), 0);
	sim.tap = flaps_tap;
	sim.tap_ctx = &f;
	rv = mpt_sim_transfer(&sim, &x);
	cc = mpt_stack_counters(sim.ep[0]);
	printf("# carrier gone at 1 s: rv %d, done %.3f s; RSTs held %llu, sent %llu, dropped "
	       "%llu\n",
	       rv, x.done_ns / 1e9, (unsigned long long)cc->pm_carrier_close,
	       (unsigned long long)cc->rst_held_sent, (unsigned long long)cc->rst_held_dropped);
	CHECK_EQ(rv, 0);
	CHECK(x.data_ok);
	CHECK(x.done_ns > 62000 * MS); /* the hold ran out mid-transfer */
	CHECK_U64_EQ(cc->pm_carrier_close, 1);
	CHECK_U64_EQ(cc->rst_held_sent, 0);
	CHECK_U64_EQ(cc->rst_held_dropped, 1);
	mpt_sim_free(&sim);
}

/* ---- the initial subflow reset: the connection carries on, without an error ---- */

struct first_reset {
	struct mpt_sim *sim;
	struct mpt_sim_xfer *x;
	uint64_t reset_at, reset_done;
	uint64_t infos, errors; /* the client's mpt_conn_info after the reset, with an error */
};

static uint32_t first_reset_fault(void *ctx, int from, uint32_t path, const uint8_t *pkt,
				  size_t len, uint64_t now, uint64_t *delay_ns)
{
	struct first_reset *r = ctx;
	struct mpt_conn_info ci;
	uint16_t sport = 0;
	bool rst = false;

	(void)delay_ns;
	(void)tcp_payload(pkt, len, &sport, &rst);
	if (from == 1 && path == 0 && !r->reset_done && now >= r->reset_at && !rst) {
		r->reset_done = now;
		return MPT_SIM_FAULT_RESET;
	}
	if (r->reset_done && r->x->client_id && !r->x->client_closed &&
	    mpt_conn_info(r->sim->ep[0], r->x->client_id, &ci) == 0 && ci.state != MPT_CLOSED &&
	    ci.state != MPT_TIME_WAIT) {
		r->infos++;
		r->errors += ci.error != 0;
	}
	return 0;
}

/* The peer resets the connection's first subflow (as a carrier loss's held RST does)
 * while another carries on.  mpt_conn_info reported that subflow's ECONNRESET as the
 * connection's error: mpt-perf's close took it for the end and closed with its report
 * unsent (bench case 19, libmpt -> libmpt).  The error is the connection's now. */
TEST(pm_sim_first_subflow_reset_is_not_the_connections_error)
{
	struct mpt_config c = pm_cfg("kernel");
	struct mpt_sim_link_cfg l = {
		.rate_bps = 20000000, .delay_ns = 10 * MS, .queue_bytes = 100000};
	struct mpt_sim sim;
	struct mpt_sim_xfer x = {.bytes = 8000000, .deadline_ns = 600000000000ull};
	struct first_reset r = {.sim = &sim, .x = &x, .reset_at = 1000 * MS};
	int rv;

	CHECK_EQ(mpt_sim_init(&sim, 1311, &c, &c, MPT_AF_INET, 2, &l), 0);
	CHECK_EQ(mpt_stack_add_endpoint(sim.ep[0], 1, 1, MPT_EP_SUBFLOW), 0);
	sim.fault = first_reset_fault;
	sim.fault_ctx = &r;
	rv = mpt_sim_transfer(&sim, &x);
	printf("# first subflow reset at %.3f s: rv %d, done %.3f s; %llu of %llu infos after it "
	       "had an error\n",
	       r.reset_done / 1e9, rv, x.done_ns / 1e9, (unsigned long long)r.errors,
	       (unsigned long long)r.infos);
	CHECK_EQ(rv, 0);
	CHECK(x.data_ok);
	CHECK(r.reset_done > 0);
	CHECK(r.infos > 100);
	CHECK_U64_EQ(r.errors, 0);
	mpt_sim_free(&sim);
}
