/* BLEST on hand-built views: the fast subflow when it has room; a slow one only as far
 * as it leaves the fast one's expected bytes (lambda * X) free in the window; lambda
 * starts at 1.2 and stays within 1.0 .. 1.3. */
#include "test.h"
#include "sched_view.h"

#include <string.h>

static struct mptcp_sched_pick ask(struct sched_test *t)
{
	struct mptcp_sched_pick p = {0};

	mptcp_sched_blest.get_send(&t->v, &p);
	return p;
}

static double lambda(const struct sched_test *t)
{
	double l;

	memcpy(&l, t->conn_priv, sizeof(l)); /* the first member of its state */
	return l;
}

/* fast: 10 ms, cwnd 10 segments, full; slow: 100 ms, room 10 segments.  rtts = 10,
 * X = 1000 * (10 + 4.5) * 10 = 145000 bytes, lambda * X = 174000. */
static void two(struct sched_test *t, uint64_t wnd)
{
	sv_init(t, &mptcp_sched_blest, 0, 1000000);
	t->v.wnd_edge = wnd;
	t->v.len = wnd;
	sv_add(t, 10, 0);
	sv_add(t, 100, 10)->in_flight = 2000;
}

TEST(sched_blest_fast_subflow_with_room_goes_first)
{
	struct sched_test t;
	struct mptcp_sched_pick p;

	two(&t, 100000);
	t.v.sf[0].room = 3 * SV_MSS;
	p = ask(&t);
	CHECK_EQ(p.n, 1);
	CHECK_EQ(p.v[0].sf, 0);
	CHECK_EQ(p.v[0].len, 3 * SV_MSS);
	CHECK(!p.held_back);
}

TEST(sched_blest_small_window_holds_the_slow_subflow_back)
{
	struct sched_test t;
	struct mptcp_sched_pick p;

	two(&t, 150000); /* 150000 - 2000 - 174000 < 0 */
	CHECK(lambda(&t) > 1.19 && lambda(&t) < 1.21);
	p = ask(&t);
	CHECK_EQ(p.n, 0);
	CHECK(p.held_back);
}

TEST(sched_blest_window_with_room_left_sends_what_fits)
{
	struct sched_test t;
	struct mptcp_sched_pick p;

	/* 180500 - 2000 - 174000 = 4500: four whole segments of the ten */
	two(&t, 180500);
	p = ask(&t);
	CHECK_EQ(p.n, 1);
	CHECK_EQ(p.v[0].sf, 1);
	CHECK_EQ(p.v[0].len, 4 * SV_MSS);
	/* a large window: all the room */
	two(&t, 1000000);
	p = ask(&t);
	CHECK_EQ(p.n, 1);
	CHECK_EQ(p.v[0].len, 10 * SV_MSS);
}

TEST(sched_blest_lambda_adapts_within_bounds)
{
	struct sched_test t;

	two(&t, 150000);
	/* blocked: data waits and snd_nxt sits at the window's edge; one step per
	 * fast RTT (10 ms) */
	t.v.snd_nxt = 150000;
	t.v.dsn = 150000;
	t.v.len = 0;
	for (int i = 1; i <= 20; i++) {
		t.v.now = (uint64_t)i * 10 * SV_MS;
		ask(&t);
	}
	CHECK(lambda(&t) > 1.299 && lambda(&t) < 1.301);
	/* not blocked: down 0.01 per RTT to 1.0 */
	t.v.wnd_edge = 10000000;
	t.v.len = 100000;
	for (int i = 21; i <= 80; i++) {
		t.v.now = (uint64_t)i * 10 * SV_MS;
		ask(&t);
	}
	CHECK(lambda(&t) > 0.999 && lambda(&t) < 1.001);
	/* twice in one RTT: one step */
	t.v.now += 1 * SV_MS;
	ask(&t);
	CHECK(lambda(&t) > 0.999 && lambda(&t) < 1.001);
}

TEST(sched_blest_no_rtt_sample_follows_the_default)
{
	struct sched_test t;
	struct mptcp_sched_pick p;

	two(&t, 150000);
	t.v.sf[1].srtt_ns = 0;
	t.v.sf[0].srtt_ns = 0;
	t.v.sf[0].room = 0;
	p = ask(&t);
	CHECK_EQ(p.n, 1);
	CHECK_EQ(p.v[0].sf, 1);
}
