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
