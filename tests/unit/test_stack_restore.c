/* A path that comes back after a blackout, in virtual time (issue 15): the
 * connection's goodput in the second after the restoration must not fall below what
 * the surviving path carried just before it.  Measured at the data level: the
 * server's DATA_ACKs, read off the wire by a tap.  Every transfer checks its bytes. */
#include "test.h"
#include "mpt_sim.h"
#include "mptcp_opt.h"
#include "wire.h"

#include <string.h>

#define MS 1000000ull

struct restore {
	struct mpt_sim *sim;
	uint32_t path;
	uint64_t from, until; /* blackout of `path`, both directions */
	uint64_t ack_at[64];  /* data ACK at the end of each 100 ms bin */
	uint64_t ack_base;
	uint64_t sent[2][64]; /* client payload bytes per path and bin */
	bool have_base;
};

static void restore_tap(void *ctx, int from, uint32_t path, const uint8_t *pkt, size_t len,
			uint64_t now)
{
	struct restore *r = ctx;
	struct wire_ip_repr ip;
	struct wire_tcp_repr t;
	struct mptcp_opts m;
	struct mpt_counters c;
	ptrdiff_t h;
	double loss = now >= r->from && now < r->until ? 1.0 : 0.0;

	r->sim->link[0][r->path].cfg.loss = loss;
	r->sim->link[1][r->path].cfg.loss = loss;
	h = wire_ip_parse(&ip, pkt, len);
	if (h < 0 || wire_tcp_parse(&t, pkt + h, len - (size_t)h, NULL) < 0)
		return;
	if (from == 0) {
		if (path < 2 && now / (100 * MS) < 64)
			r->sent[path][now / (100 * MS)] += t.payload_len;
		return;
	}
	memset(&m, 0, sizeof(m));
	memset(&c, 0, sizeof(c));
	mptcp_opts_parse(&m, &t.opt, t.flags, t.payload_len, &c);
	if (!(m.suboptions & MPTCP_OPT_DSS) || !(m.dss.flags & MPTCP_DSS_A))
		return;
	if (!r->have_base) {
		r->ack_base = m.dss.data_ack;
		r->have_base = true;
	}
	for (uint64_t b = now / (100 * MS); b < 64; b++)
		if (m.dss.data_ack - r->ack_base > r->ack_at[b])
			r->ack_at[b] = m.dss.data_ack - r->ack_base;
}

/* Mbit/s delivered in [a, b) (multiples of 100 ms) */
static double rate(const struct restore *r, uint64_t a, uint64_t b)
{
	uint64_t x = r->ack_at[a / (100 * MS) - 1], y = r->ack_at[b / (100 * MS) - 1];

	return (double)(y - x) * 8 / ((double)(b - a) / 1e9) / 1e6;
}

static void blackout_then_restore(uint64_t seed, bool backup)
{
	static const struct mpt_sim_link_cfg link = {
		.rate_bps = 20000000, .delay_ns = 10 * MS, .queue_bytes = 100000};
	struct mpt_config c;
	struct mpt_sim sim;
	struct mpt_sim_xfer x = {.bytes = 40000000, .deadline_ns = 60000000000ull};
	struct restore r = {.sim = &sim, .path = 0, .from = 1500 * MS, .until = 3500 * MS};
	double before, after;

	mpt_config_default(&c);
	c.mptcp = true;
	CHECK_EQ(mpt_sim_init(&sim, seed, &c, &c, MPT_AF_INET, 2, &link), 0);
	CHECK_EQ(mpt_stack_add_endpoint(sim.ep[0], 1, 1,
					MPT_EP_SUBFLOW | (backup ? MPT_EP_BACKUP : 0)),
		 0);
	sim.tap = restore_tap;
	sim.tap_ctx = &r;
	CHECK_EQ(mpt_sim_transfer(&sim, &x), 0);
	CHECK(x.data_ok);
	CHECK(x.eof);
	before = rate(&r, 3000 * MS, 3500 * MS);
	after = rate(&r, 3500 * MS, 4500 * MS);
	printf("# %s: surviving path before the restoration %.1f Mbit/s, next second %.1f Mbit/s;"
	       " per 100 ms:",
	       backup ? "backup" : "active", before, after);
	for (int b = 25; b < 50; b++)
		printf(" %.0f", (double)(r.ack_at[b] - r.ack_at[b - 1]) * 8 / 0.1 / 1e6);
	printf("\n# sent on each path per 100 ms (Mbit/s):");
	for (int b = 25; b < 50; b++)
		printf(" %.0f/%.0f", (double)r.sent[0][b] * 8 / 0.1 / 1e6,
		       (double)r.sent[1][b] * 8 / 0.1 / 1e6);
	printf("\n");
	CHECK(before > 5);
	CHECK(after >= before);
	/* the restored path was found by a probe, not by its backed-off RTO */
	CHECK(mpt_stack_counters(sim.ep[0])->stale_probe >= 1);
	mpt_sim_free(&sim);
}

TEST(restore_after_blackout_goodput_does_not_dip)
{
	blackout_then_restore(5, false);
}

TEST(restore_after_blackout_of_the_primary_with_a_backup)
{
	blackout_then_restore(6, true);
}
