/* ECF on hand-built views: wait for the full fast subflow when it would finish the
 * waiting data sooner than the slow one, with beta = 0.25 of hysteresis. */
#include "test.h"
#include "sched_view.h"

static struct mptcp_sched_pick ask(struct sched_test *t)
{
	struct mptcp_sched_pick p = {0};

	mptcp_sched_ecf.get_send(&t->v, &p);
	return p;
}

/* fast: 10 ms, cwnd 10 segments, full; slow: srtt_ms, cwnd 10 segments, room;
 * k bytes waiting; RTTVAR 0 to keep the arithmetic plain. */
static void two(struct sched_test *t, uint64_t srtt_ms, uint64_t k)
{
	sv_init(t, &mptcp_sched_ecf, 0, k);
	sv_add(t, 10, 0)->rttvar_ns = 0;
	sv_add(t, srtt_ms, 10)->rttvar_ns = 0;
}

TEST(sched_ecf_waits_for_the_fast_subflow)
{
	struct sched_test t;
	struct mptcp_sched_pick p;

	/* k = 10 segments: n = 2 rounds of 10 ms = 20 < 100 ms; on the slow one one
	 * round of 100 ms >= 2 * 10 ms: wait */
	two(&t, 100, 10 * SV_MSS);
	p = ask(&t);
	CHECK_EQ(p.n, 0);
	CHECK(p.held_back);
}

TEST(sched_ecf_uses_the_slow_subflow_when_much_data_waits)
{
	struct sched_test t;
	struct mptcp_sched_pick p;

	/* k = 200 segments: 21 rounds of 10 ms = 210 ms >= 100 ms: the slow one helps */
	two(&t, 100, 200 * SV_MSS);
	p = ask(&t);
	CHECK_EQ(p.n, 1);
	CHECK_EQ(p.v[0].sf, 1);
	CHECK_EQ(p.v[0].len, 10 * SV_MSS);
}

TEST(sched_ecf_slow_but_not_that_slow_is_used)
{
	struct sched_test t;
	struct mptcp_sched_pick p;

	/* k = 10 segments, slow 15 ms: n * RTT_f = 20 >= 15: use it */
	two(&t, 15, 10 * SV_MSS);
	p = ask(&t);
	CHECK_EQ(p.n, 1);
	CHECK_EQ(p.v[0].sf, 1);
	/* slow 25 ms: 20 < 25, but one slow round 25 < 2 * 10 + 0? no: 25 >= 20, wait */
	two(&t, 25, 10 * SV_MSS);
	p = ask(&t);
	CHECK_EQ(p.n, 0);
}

TEST(sched_ecf_hysteresis)
{
	struct sched_test t;
	struct mptcp_sched_pick p;

	/* k = 100 segments: n = 11 rounds, 110 ms, against RTT_s = 100 ms: not waiting,
	 * 110 >= 100, use the slow one */
	two(&t, 100, 100 * SV_MSS);
	p = ask(&t);
	CHECK_EQ(p.n, 1);
	/* less waits (k = 5 segments): ECF waits ... */
	t.v.end = 5 * SV_MSS;
	t.v.len = 5 * SV_MSS;
	p = ask(&t);
	CHECK_EQ(p.n, 0);
	/* ... and, waiting, needs n * RTT_f >= 1.25 * RTT_s = 125 ms to stop: 110 ms
	 * (k = 100 segments) keeps waiting now */
	t.v.end = 100 * SV_MSS;
	t.v.len = 100 * SV_MSS;
	p = ask(&t);
	CHECK_EQ(p.n, 0);
	CHECK(p.held_back);
	/* 130 ms (k = 120 segments) goes */
	t.v.end = 120 * SV_MSS;
	t.v.len = 120 * SV_MSS;
	p = ask(&t);
	CHECK_EQ(p.n, 1);
	/* and the hysteresis is off again: 110 ms goes */
	t.v.end = 100 * SV_MSS;
	t.v.len = 100 * SV_MSS;
	p = ask(&t);
	CHECK_EQ(p.n, 1);
}

TEST(sched_ecf_fast_with_room_goes_first)
{
	struct sched_test t;
	struct mptcp_sched_pick p;

	two(&t, 100, 10 * SV_MSS);
	t.v.sf[0].room = 2 * SV_MSS;
	p = ask(&t);
	CHECK_EQ(p.n, 1);
	CHECK_EQ(p.v[0].sf, 0);
	CHECK_EQ(p.v[0].len, 2 * SV_MSS);
}
