/* OLIA (Khalili et al., CoNEXT 2012) on hand-computed fixtures: windows, RTTs and
 * inter-loss distances in, alpha_r and the increase per ACK out (MSS 1000, one MSS
 * acknowledged). */
#include "cc_view.h"

/* Give subflow i of t an inter-loss distance l_r of `bytes`: acknowledged since the
 * start, no loss yet (l2_r = bytes), on its own controller state. */
static void set_interloss(struct cc_test *t, uint32_t i, uint32_t bytes)
{
	struct mpt_cc *cc = cv_cc(t, i);
	uint32_t cwnd = cc->cwnd;

	cc->ssthresh = UINT32_MAX / 2; /* slow start: the window moves, not the sets */
	mpt_cc_olia.on_ack(cc, bytes, 0, 0);
	cc->cwnd = cwnd;
	CHECK_U64_EQ(cc_olia_interloss(cc->priv), bytes);
}

/* Path 0: 10000 @ 100 ms, l = 100000; path 1: 20000 @ 100 ms, l = 50000.
 *   B (max l/rtt^2) = {0}; M (max w) = {1}; B\M = {0}; |R_u| = 2
 *   alpha_0 = 1/(2*1) = 0.5, alpha_1 = -1/(2*1) = -0.5
 *   sum w/rtt = 1e5 + 2e5 = 3e5, squared 9e10
 *   path 0: 1e6 * (10000/0.01 / 9e10 + 0.5/10000) = 1e6 * (1.1111e-5 + 5e-5) = 61.111
 *   path 1: 1e6 * (20000/0.01 / 9e10 - 0.5/20000) = 1e6 * (2.2222e-5 - 2.5e-5) = -2.778 */
TEST(cc_olia_best_path_not_max_window)
{
	struct cc_test t;

	cv_init(&t, &mpt_cc_olia);
	cv_add(&t, 10000, 100);
	cv_add(&t, 20000, 100);
	set_interloss(&t, 0, 100000);
	set_interloss(&t, 1, 50000);
	CHECK_NEAR(cc_olia_alpha(cv_cc(&t, 0)), 0.5, 1e-12);
	CHECK_NEAR(cc_olia_alpha(cv_cc(&t, 1)), -0.5, 1e-12);
	CHECK_NEAR(cc_olia_increase(cv_cc(&t, 0), CV_MSS), 1e6 * (1e6 / 9e10 + 0.5 / 10000), 1e-9);
	CHECK_NEAR(cc_olia_increase(cv_cc(&t, 1), CV_MSS), 1e6 * (2e6 / 9e10 - 0.5 / 20000), 1e-9);
	CHECK(cc_olia_increase(cv_cc(&t, 1), CV_MSS) < 0);
}

/* The best path also has the largest window: B\M is empty, alpha = 0 everywhere, and
 * the increase is the first term alone: path 0 (20000 @ 100 ms, l = 100000):
 * 1e6 * 2e6 / 9e10 = 22.222; path 1 (10000, l = 50000): 1e6 * 1e6 / 9e10 = 11.111. */
TEST(cc_olia_best_path_is_max_window)
{
	struct cc_test t;

	cv_init(&t, &mpt_cc_olia);
	cv_add(&t, 20000, 100);
	cv_add(&t, 10000, 100);
	set_interloss(&t, 0, 100000);
	set_interloss(&t, 1, 50000);
	CHECK_NEAR(cc_olia_alpha(cv_cc(&t, 0)), 0.0, 1e-12);
	CHECK_NEAR(cc_olia_alpha(cv_cc(&t, 1)), 0.0, 1e-12);
	CHECK_NEAR(cc_olia_increase(cv_cc(&t, 0), CV_MSS), 1e6 * 2e6 / 9e10, 1e-9);
	CHECK_NEAR(cc_olia_increase(cv_cc(&t, 1), CV_MSS), 1e6 * 1e6 / 9e10, 1e-9);
}

/* Three paths, two of them best but not max (ties in l/rtt^2): |B\M| = 2, |M| = 1:
 * alpha = 1/(3*2) for each best one, -1/(3*1) for the max-window one.  RTTs differ:
 * path 0 10000 @ 100 ms l = 40000 (4e6), path 1 12000 @ 200 ms l = 160000 (4e6),
 * path 2 30000 @ 100 ms l = 10000 (1e6). */
TEST(cc_olia_sets_with_ties)
{
	struct cc_test t;

	cv_init(&t, &mpt_cc_olia);
	cv_add(&t, 10000, 100);
	cv_add(&t, 12000, 200);
	cv_add(&t, 30000, 100);
	set_interloss(&t, 0, 40000);
	set_interloss(&t, 1, 160000);
	set_interloss(&t, 2, 10000);
	CHECK_NEAR(cc_olia_alpha(cv_cc(&t, 0)), 1.0 / 6, 1e-12);
	CHECK_NEAR(cc_olia_alpha(cv_cc(&t, 1)), 1.0 / 6, 1e-12);
	CHECK_NEAR(cc_olia_alpha(cv_cc(&t, 2)), -1.0 / 3, 1e-12);
}

/* One path: alpha 0 and NewReno's 1e6/cwnd = 100. */
TEST(cc_olia_one_path_is_newreno)
{
	struct cc_test t;

	cv_init(&t, &mpt_cc_olia);
	cv_add(&t, 10000, 100);
	CHECK_NEAR(cc_olia_alpha(cv_cc(&t, 0)), 0.0, 1e-12);
	CHECK_NEAR(cc_olia_increase(cv_cc(&t, 0), CV_MSS), 100.0, 1e-9);
}

/* The loss marks: l_r = max(bytes between the last two losses, bytes since the last);
 * a loss with nothing acknowledged since the previous one (a repeated RTO) is not a
 * new interval.  Losses halve the flight. */
TEST(cc_olia_interloss_marks)
{
	struct cc_test t;
	struct mpt_cc *cc;

	cv_init(&t, &mpt_cc_olia);
	cv_add(&t, 10000, 100);
	cc = cv_cc(&t, 0);
	cc->ssthresh = 1000000;
	mpt_cc_olia.on_ack(cc, 5000, 0, 0);
	CHECK_U64_EQ(cc_olia_interloss(cc->priv), 5000);
	cc->flight = 12000;
	mpt_cc_olia.on_congestion(cc, 0); /* marks 0 | 5000 */
	CHECK_EQ(cc->ssthresh, 6000);
	CHECK_EQ(cc->cwnd, 6000);
	mpt_cc_olia.on_ack(cc, 3000, 0, 0); /* 8000: max(5000, 3000) */
	CHECK_U64_EQ(cc_olia_interloss(cc->priv), 5000);
	mpt_cc_olia.on_ack(cc, 4000, 0, 0); /* 12000: max(5000, 7000) */
	CHECK_U64_EQ(cc_olia_interloss(cc->priv), 7000);
	mpt_cc_olia.on_rto(cc, 0); /* marks 5000 | 12000 */
	CHECK_EQ(cc->cwnd, CV_MSS);
	CHECK_U64_EQ(cc_olia_interloss(cc->priv), 7000);
	mpt_cc_olia.on_rto(cc, 0); /* nothing acknowledged since: the same interval */
	CHECK_U64_EQ(cc_olia_interloss(cc->priv), 7000);
	mpt_cc_olia.on_ack(cc, 1000, 0, 0);
	mpt_cc_olia.on_congestion(cc, 0); /* marks 12000 | 13000: l = 1000 */
	CHECK_U64_EQ(cc_olia_interloss(cc->priv), 1000);
}

/* Through on_ack in congestion avoidance: the max-window path of the first fixture
 * shrinks (negative increase), the best one grows by ~61 bytes. */
TEST(cc_olia_ops_move_windows)
{
	struct cc_test t;
	struct mpt_cc *cc;

	cv_init(&t, &mpt_cc_olia);
	cv_add(&t, 10000, 100);
	cv_add(&t, 20000, 100);
	set_interloss(&t, 0, 100000);
	set_interloss(&t, 1, 50000);
	cc = cv_cc(&t, 0);
	mpt_cc_olia.on_ack(cc, CV_MSS, 0, 0);
	CHECK_EQ(cc->cwnd, 10061);
	cc = cv_cc(&t, 1);
	mpt_cc_olia.on_ack(cc, CV_MSS, 0, 0);
	CHECK_EQ(cc->cwnd, 20000 - 2);
}
