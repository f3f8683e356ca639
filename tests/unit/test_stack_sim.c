/* Engine pairs over simulated links in virtual time. */
#include "test.h"
#include "mpt_sim.h"

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
	       (unsigned long long)x.received, x.done_ns / 1e9,
	       (unsigned long long)sim.trace_pkts, x.client_info.cwnd,
	       x.client_info.srtt_ns / 1e6);
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
	struct mpt_sim_link_cfg link = {.rate_bps = 100000000, .delay_ns = 10000000,
					.loss = 0.05, .reorder = 0.01, .reorder_ns = 3000000,
					.dup = 0.01, .queue_bytes = 300000};
	int rv;

	mpt_config_default(&cfg);
	cfg.cc = cc;
	memset(x, 0, sizeof(*x));
	x->bytes = bytes;
	x->deadline_ns = 3600ull * 1000000000ull;
	CHECK_EQ(mpt_sim_init(&sim, seed, &cfg, NULL, MPT_AF_INET, 1, &link), 0);
	rv = mpt_sim_transfer(&sim, x);
	if (verbose || rv) {
		printf("# seed %llu cc %s rv %d recv %llu/%llu t=%.3fs pkts %llu goodput %.2f Mbit/s\n",
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

TEST(stack_sim_lossy_newreno)
{
	struct mpt_sim_xfer x;

	CHECK_EQ(lossy(7, "newreno", sim_bytes(2000000), &x, NULL, true), 0);
	CHECK(x.data_ok);
}
