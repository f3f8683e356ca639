/* RFC 6356's first goal, "do no harm", in virtual time: one single-path TCP flow and
 * one two-subflow MPTCP connection, both subflows through the same 10 Mbit/s
 * bottleneck (a struct mpt_sim_queue shared by two simulations stepped together).
 * Goodput is counted at the receivers over the second half of the run; at its end the
 * senders stop writing and both transfers run to their FIN, every byte checked.
 * Coupled controllers (lia, olia, balia) take about the TCP (NewReno) flow's share;
 * uncoupled cubic, with buffers that do not limit it, about twice that.
 *
 * The unit suite runs 30 s (15 s measured, ~1.5 s of CPU each), where the ratio
 * still swings (0.8..1.5 for the coupled ones over seeds), so it asserts 0.6..1.6;
 * the acceptance case, 120 s with the last 60 s measured and 0.7..1.3, is
 * `make cc-bottleneck` (tests/cc_bottleneck/main.c, ~25 s). */
#include "mpt_sim_bneck.h"
#include "test.h"

#define SECS 30

static void check_ratio(const char *mp_cc, const char *tcp_cc, double lo, double hi)
{
	struct bneck_result r;
	struct bneck_params p = {.mp_cc = mp_cc, .tcp_cc = tcp_cc, .seconds = SECS, .seed = 7};

	CHECK_EQ(bneck_run(&p, &r), 0);
	printf("# %s vs TCP %s: MPTCP %.2f Mbit/s, TCP %.2f Mbit/s, ratio %.2f; queue drops "
	       "%llu, max %llu packets\n",
	       mp_cc, tcp_cc, r.mp_mbps, r.tcp_mbps, r.ratio, (unsigned long long)r.queue_drops,
	       (unsigned long long)r.queue_max_len);
	CHECK_EQ(r.tcp_rv, 0);
	CHECK_EQ(r.mp_rv, 0);
	CHECK(r.tcp_ok && r.mp_ok);
	CHECK_EQ(r.mp_subflows, 2);
	CHECK(r.queue_drops > 0); /* the bottleneck was the limit */
	CHECK(r.ratio >= lo && r.ratio <= hi);
}

TEST(cc_bottleneck_lia)
{
	check_ratio("lia", "newreno", 0.6, 1.6);
}

TEST(cc_bottleneck_olia)
{
	check_ratio("olia", "newreno", 0.6, 1.6);
}

TEST(cc_bottleneck_balia)
{
	check_ratio("balia", "newreno", 0.6, 1.6);
}

TEST(cc_bottleneck_uncoupled_cubic_takes_twice)
{
	check_ratio("cubic", "newreno", 1.5, 4.0);
}

/* The control: an MPTCP connection that opens no second subflow is one more TCP flow
 * (lia on a connection of one is NewReno). */
TEST(cc_bottleneck_one_subflow_control)
{
	struct bneck_result r;
	struct bneck_params p = {.mp_cc = "lia",
				 .tcp_cc = "newreno",
				 .seconds = SECS,
				 .seed = 7,
				 .one_subflow = true};

	CHECK_EQ(bneck_run(&p, &r), 0);
	printf("# one-subflow lia vs newreno: ratio %.2f\n", r.ratio);
	CHECK_EQ(r.mp_rv, 0);
	CHECK_EQ(r.tcp_rv, 0);
	CHECK_EQ(r.mp_subflows, 1);
	CHECK(r.ratio >= 0.6 && r.ratio <= 1.6);
}

/* RFC 6356 section 2, goal 3, "Balance congestion: A multipath flow should move as
 * much traffic as possible off its most congested paths": path 0 shares the
 * bottleneck with the TCP flow, path 1 has one of its own (struct bneck_params
 * .balance).  Uncoupled cubic takes about half of the shared path (5.0 Mbit/s at this
 * seed) and must take at least 4; a coupled controller must leave most of it (lia
 * 2.05, olia 0.99, balia 2.11 at this seed: at most 3) and fill the free one (9.4:
 * at least 8).  Virtual time and a fixed seed: the same numbers every run.  The
 * namespace twin, noisier, is tests/bats/libmpt_cc_testbed.bats "balance congestion". */
static void check_balance(const char *mp_cc, bool coupled)
{
	struct bneck_result r;
	struct bneck_params p = {
		.mp_cc = mp_cc, .tcp_cc = "newreno", .seconds = SECS, .seed = 7, .balance = true};
	double free_mbps;

	CHECK_EQ(bneck_run(&p, &r), 0);
	free_mbps = r.mp_sf_window[1] * 8.0 / (SECS - SECS / 2) / 1e6;
	printf("# balance, %s vs TCP newreno: MPTCP %.2f Mbit/s on the shared path, %.2f on "
	       "the free one; TCP %.2f\n",
	       mp_cc, r.mp_shared_mbps, free_mbps, r.tcp_mbps);
	CHECK_EQ(r.tcp_rv, 0);
	CHECK_EQ(r.mp_rv, 0);
	CHECK(r.tcp_ok && r.mp_ok);
	CHECK_EQ(r.mp_subflows, 2);
	CHECK(r.queue_drops > 0);
	CHECK(free_mbps >= 8.0);
	if (coupled)
		CHECK(r.mp_shared_mbps <= 3.0);
	else
		CHECK(r.mp_shared_mbps >= 4.0);
	/* what the TCP flow got is the rest of the shared path */
	CHECK(r.tcp_mbps + r.mp_shared_mbps <= 10.0);
}

TEST(cc_balance_lia_moves_off_the_shared_path)
{
	check_balance("lia", true);
}

TEST(cc_balance_olia_moves_off_the_shared_path)
{
	check_balance("olia", true);
}

TEST(cc_balance_balia_moves_off_the_shared_path)
{
	check_balance("balia", true);
}

TEST(cc_balance_uncoupled_cubic_keeps_its_share_of_the_shared_path)
{
	check_balance("cubic", false);
}
