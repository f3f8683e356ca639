/* LIA (RFC 6356 3) on hand-computed fixtures: windows and RTTs in, alpha and the
 * increase per ACK out (MSS 1000, one MSS acknowledged). */
#include "cc_view.h"

/* cwnd 10000 @ 100 ms and 20000 @ 200 ms:
 *   max cwnd_i/rtt_i^2 = 10000/0.01 = 1e6 (vs 20000/0.04 = 5e5)
 *   sum cwnd_i/rtt_i = 1e5 + 1e5 = 2e5, squared 4e10; cwnd_total = 30000
 *   alpha = 30000 * 1e6 / 4e10 = 0.75
 *   subflow 0: min(0.75*1000*1000/30000, 1000*1000/10000) = min(25, 100) = 25
 *   subflow 1: min(25, 1000*1000/20000 = 50) = 25 */
TEST(cc_lia_alpha_two_paths)
{
	struct cc_test t;

	cv_init(&t, &mpt_cc_lia);
	cv_add(&t, 10000, 100);
	cv_add(&t, 20000, 200);
	CHECK_NEAR(cc_lia_alpha(cv_cc(&t, 0)), 0.75, 1e-12);
	CHECK_NEAR(cc_lia_increase(cv_cc(&t, 0), CV_MSS), 25.0, 1e-9);
	CHECK_NEAR(cc_lia_alpha(cv_cc(&t, 1)), 0.75, 1e-12);
	CHECK_NEAR(cc_lia_increase(cv_cc(&t, 1), CV_MSS), 25.0, 1e-9);
}

/* cwnd 10000 @ 10 ms and 40000 @ 100 ms:
 *   max = 10000/1e-4 = 1e8; sum = 1e6 + 4e5 = 1.4e6, squared 1.96e12; total 50000
 *   alpha = 50000 * 1e8 / 1.96e12 = 2.551020408...
 *   subflow 0: min(2.5510204 * 1e6 / 50000 = 51.020408, 100) = 51.020408
 *   subflow 1: min(51.020408, 1e6 / 40000 = 25) = 25: the uncoupled term caps it */
TEST(cc_lia_min_takes_the_single_path_term)
{
	struct cc_test t;

	cv_init(&t, &mpt_cc_lia);
	cv_add(&t, 10000, 10);
	cv_add(&t, 40000, 100);
	CHECK_NEAR(cc_lia_alpha(cv_cc(&t, 0)), 5e12 / 1.96e12, 1e-9);
	CHECK_NEAR(cc_lia_increase(cv_cc(&t, 0), CV_MSS), 5e12 / 1.96e12 * 20.0, 1e-9);
	CHECK_NEAR(cc_lia_increase(cv_cc(&t, 1), CV_MSS), 25.0, 1e-9);
}

/* Two equal paths (10000 @ 100 ms): alpha = 20000 * 1e6 / (2e5)^2 = 0.5, each grows by
 * 0.5 * 1e6 / 20000 = 25 = a quarter of NewReno's 100, so the pair takes what one TCP
 * would.  A connection of one: alpha 1, NewReno's 1e6/cwnd. */
TEST(cc_lia_equal_paths_and_one_path)
{
	struct cc_test t;

	cv_init(&t, &mpt_cc_lia);
	cv_add(&t, 10000, 100);
	cv_add(&t, 10000, 100);
	CHECK_NEAR(cc_lia_alpha(cv_cc(&t, 0)), 0.5, 1e-12);
	CHECK_NEAR(cc_lia_increase(cv_cc(&t, 1), CV_MSS), 25.0, 1e-9);

	cv_init(&t, &mpt_cc_lia);
	cv_add(&t, 10000, 100);
	CHECK_NEAR(cc_lia_alpha(cv_cc(&t, 0)), 1.0, 1e-12);
	CHECK_NEAR(cc_lia_increase(cv_cc(&t, 0), CV_MSS), 100.0, 1e-9);
	/* no view at all (a controller called outside the engine): the same */
	t.cc[0].conn = NULL;
	CHECK_NEAR(cc_lia_increase(&t.cc[0], CV_MSS), 100.0, 1e-9);
}

/* Subflows that cannot share the bottleneck now are not coupled: a backup, a stale
 * one, one not usable (closed) and one without an RTT sample leave alpha as it was. */
TEST(cc_lia_skips_backup_stale_and_closed)
{
	struct cc_test t;

	cv_init(&t, &mpt_cc_lia);
	cv_add(&t, 10000, 100);
	cv_add(&t, 20000, 200);
	cv_add(&t, 90000, 10)->backup = true;
	cv_add(&t, 90000, 10)->stale = true;
	cv_add(&t, 90000, 10)->usable = false;
	cv_add(&t, 90000, 10)->srtt_ns = 0;
	CHECK_NEAR(cc_lia_alpha(cv_cc(&t, 0)), 0.75, 1e-12);
	/* the subflow of the event counts even when it is the backup: 90000 @ 10 ms;
	 * max = 9e8, sum = 1e5 + 1e5 + 9e6 = 9.2e6, total 120000 */
	CHECK_NEAR(cc_lia_alpha(cv_cc(&t, 2)), (120000.0 * 9e8) / (9.2e6 * 9.2e6), 1e-9);
}

/* Through the ops: congestion avoidance grows by the coupled term (the integer part
 * of 25 bytes), slow start as NewReno (2 MSS per ACK at most), a loss halves the
 * flight and alpha follows the new window; RTO: one MSS. */
TEST(cc_lia_ops)
{
	struct cc_test t;
	struct mpt_cc *cc;
	double a;

	cv_init(&t, &mpt_cc_lia);
	cv_add(&t, 10000, 100);
	cv_add(&t, 20000, 200);
	cc = cv_cc(&t, 0);
	mpt_cc_lia.on_ack(cc, CV_MSS, 0, 1);
	CHECK(cc->cwnd == 10024 || cc->cwnd == 10025);
	for (int i = 0; i < 39; i++)
		mpt_cc_lia.on_ack(cc, CV_MSS, 0, 1);
	/* 40 ACKs of ~25 bytes: about one MSS (alpha moves a little as cwnd grows) */
	CHECK(cc->cwnd >= 10950 && cc->cwnd <= 11000);

	cc = cv_cc(&t, 1);
	cc->ssthresh = 30000;
	mpt_cc_lia.on_ack(cc, 3 * CV_MSS, 0, 1);
	CHECK_EQ(cc->cwnd, 22000);

	cc = cv_cc(&t, 0);
	cc->flight = 10000;
	mpt_cc_lia.on_congestion(cc, 2);
	CHECK_EQ(cc->ssthresh, 5000);
	CHECK_EQ(cc->cwnd, 5000);
	/* alpha with 5000 @ 100 ms and 20000 @ 200 ms: max(5e5, 5e5) = 5e5; sum 1.5e5 */
	memcpy(&a, &cc->priv[1], sizeof(a));
	CHECK_NEAR(a, 25000.0 * 5e5 / (1.5e5 * 1.5e5), 1e-9);
	mpt_cc_lia.on_rto(cc, 3);
	CHECK_EQ(cc->cwnd, CV_MSS);
	CHECK_EQ(cc->ssthresh, 5000);
}
