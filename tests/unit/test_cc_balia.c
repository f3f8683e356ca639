/* BALIA (Peng et al., IEEE/ACM ToN 2016) on hand-computed fixtures: windows and RTTs
 * in, alpha_r, the increase per ACK and the window after a loss out (MSS 1000). */
#include "cc_view.h"

/* Path 0: 10000 @ 100 ms (x = 1e5 B/s); path 1: 40000 @ 200 ms (x = 2e5 B/s).
 *   sum x = 3e5, squared 9e10; alpha_0 = 2e5/1e5 = 2, alpha_1 = 1
 *   path 0: 1e6 * 1e5 / (0.1 * 9e10) * (1+2)/2 * (4+2)/5 = 11.111 * 1.8 = 20
 *   path 1: 1e6 * 2e5 / (0.2 * 9e10) * 1 * 1 = 11.111
 *   loss on path 0 (flight 10000): 10000 - 10000/2 * min(2, 1.5) = 2500
 *   loss on path 1 (flight 40000): 40000 - 40000/2 * 1 = 20000 */
TEST(cc_balia_two_paths)
{
	struct cc_test t;

	cv_init(&t, &mpt_cc_balia);
	cv_add(&t, 10000, 100);
	cv_add(&t, 40000, 200);
	CHECK_NEAR(cc_balia_alpha(cv_cc(&t, 0)), 2.0, 1e-12);
	CHECK_NEAR(cc_balia_alpha(cv_cc(&t, 1)), 1.0, 1e-12);
	CHECK_NEAR(cc_balia_increase(cv_cc(&t, 0), CV_MSS), 20.0, 1e-9);
	CHECK_NEAR(cc_balia_increase(cv_cc(&t, 1), CV_MSS), 1e11 / 9e9, 1e-9);
	CHECK_NEAR(cc_balia_decrease(cv_cc(&t, 0)), 2500.0, 1e-9);
	CHECK_NEAR(cc_balia_decrease(cv_cc(&t, 1)), 20000.0, 1e-9);
}

/* alpha between 1 and 1.5: the paper's decrease, not the kernel's integer alpha.
 * Path 0: 10000 @ 100 ms (x = 1e5), path 1: 12000 @ 100 ms (x = 1.2e5): alpha_0 = 1.2,
 * after a loss 10000 - 5000 * 1.2 = 4000 (the kernel's integer alpha 1 gives 5000).
 * Increase: 1e6 * 1e5 / (0.1 * 2.2e5^2) * 2.2/2 * 5.2/5 = 20.661 * 1.144 = 23.636 */
TEST(cc_balia_fractional_alpha)
{
	struct cc_test t;
	struct mpt_cc *cc;

	cv_init(&t, &mpt_cc_balia);
	cv_add(&t, 10000, 100);
	cv_add(&t, 12000, 100);
	CHECK_NEAR(cc_balia_alpha(cv_cc(&t, 0)), 1.2, 1e-12);
	CHECK_NEAR(cc_balia_decrease(cv_cc(&t, 0)), 4000.0, 1e-9);
	CHECK_NEAR(cc_balia_increase(cv_cc(&t, 0), CV_MSS), 1e11 / (0.1 * 4.84e10) * 1.1 * 1.04,
		   1e-9);
	cc = cv_cc(&t, 0);
	mpt_cc_balia.on_congestion(cc, 0);
	CHECK_EQ(cc->ssthresh, 4000);
	CHECK_EQ(cc->cwnd, 4000);
	/* floor: never below 2 MSS */
	cc = cv_cc(&t, 0);
	cc->flight = 3000;
	t.v.sf[1].cwnd = 100000; /* alpha 10: 3000 - 1500 * 1.5 = 750 -> 2000 */
	mpt_cc_balia.on_congestion(cc, 0);
	CHECK_EQ(cc->ssthresh, 2 * CV_MSS);
}

/* One path: alpha 1; the increase is NewReno's 1e6/cwnd, the decrease a halving. */
TEST(cc_balia_one_path_is_newreno)
{
	struct cc_test t;
	struct mpt_cc *cc;

	cv_init(&t, &mpt_cc_balia);
	cv_add(&t, 10000, 100);
	CHECK_NEAR(cc_balia_alpha(cv_cc(&t, 0)), 1.0, 1e-12);
	CHECK_NEAR(cc_balia_increase(cv_cc(&t, 0), CV_MSS), 100.0, 1e-9);
	CHECK_NEAR(cc_balia_decrease(cv_cc(&t, 0)), 5000.0, 1e-9);
	cc = cv_cc(&t, 0);
	mpt_cc_balia.on_ack(cc, CV_MSS, 0, 0);
	CHECK_EQ(cc->cwnd, 10100);
	mpt_cc_balia.on_rto(cc, 0);
	CHECK_EQ(cc->cwnd, CV_MSS);
	CHECK_EQ(cc->ssthresh, 5000);
}

/* Through on_ack: path 0 of the first fixture grows by 20 bytes per MSS acked. */
TEST(cc_balia_ops_grow)
{
	struct cc_test t;
	struct mpt_cc *cc;

	cv_init(&t, &mpt_cc_balia);
	cv_add(&t, 10000, 100);
	cv_add(&t, 40000, 200);
	cc = cv_cc(&t, 0);
	mpt_cc_balia.on_ack(cc, CV_MSS, 0, 0);
	CHECK(cc->cwnd == 10019 || cc->cwnd == 10020);
}
