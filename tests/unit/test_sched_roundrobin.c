/* Round robin on hand-built views: turns in subflow order, bursts of N segments, a
 * full subflow loses its turn, backups only when no regular subflow is usable. */
#include "test.h"
#include "sched_view.h"

static struct mptcp_sched_pick ask(struct sched_test *t)
{
	struct mptcp_sched_pick p = {0};

	mptcp_sched_roundrobin.get_send(&t->v, &p);
	return p;
}

TEST(sched_roundrobin_one_segment_each_in_turn)
{
	struct sched_test t;
	uint32_t order[6];

	sv_init(&t, &mptcp_sched_roundrobin, 0, 1000000);
	sv_add(&t, 50, 100);
	sv_add(&t, 5, 100);
	sv_add(&t, 20, 100);
	for (int i = 0; i < 6; i++) {
		struct mptcp_sched_pick p = ask(&t);

		CHECK_EQ(p.n, 1);
		CHECK_EQ(p.v[0].len, SV_MSS);
		CHECK_U64_EQ(p.v[0].dsn, (uint64_t)i * SV_MSS);
		order[i] = p.v[0].sf;
		sv_apply(&t, &p);
	}
	/* RTT does not matter: 0 1 2 0 1 2 */
	for (int i = 0; i < 6; i++)
		CHECK_EQ(order[i], i % 3);
}

TEST(sched_roundrobin_bursts)
{
	struct sched_test t;
	uint32_t count[2] = {0, 0}, last = 9, switches = 0;

	sv_init(&t, &mptcp_sched_roundrobin, 0, 1000000);
	t.v.burst_segs = 4;
	sv_add(&t, 10, 100);
	sv_add(&t, 10, 100);
	for (int i = 0; i < 16; i++) {
		struct mptcp_sched_pick p = ask(&t);

		CHECK_EQ(p.n, 1);
		count[p.v[0].sf] += p.v[0].len;
		if (p.v[0].sf != last)
			switches++;
		last = p.v[0].sf;
		sv_apply(&t, &p);
	}
	/* the loop may be given a whole burst at once or segment by segment: either way
	 * each turn is 4 segments */
	CHECK_EQ(count[0], count[1]);
	CHECK_EQ(count[0] % (4 * SV_MSS), 0);
	CHECK(switches >= 2);
}

TEST(sched_roundrobin_full_subflow_loses_its_turn)
{
	struct sched_test t;
	struct mptcp_sched_pick p;

	sv_init(&t, &mptcp_sched_roundrobin, 0, 1000000);
	sv_add(&t, 10, 0); /* full */
	sv_add(&t, 10, 3);
	p = ask(&t);
	CHECK_EQ(p.n, 1);
	CHECK_EQ(p.v[0].sf, 1);
	sv_apply(&t, &p);
	/* both full: wait */
	t.v.sf[1].room = 0;
	p = ask(&t);
	CHECK_EQ(p.n, 0);
	/* room again: subflow 0's turn */
	t.v.sf[0].room = 5 * SV_MSS;
	t.v.sf[1].room = 5 * SV_MSS;
	p = ask(&t);
	CHECK_EQ(p.n, 1);
	CHECK_EQ(p.v[0].sf, 0);
}

TEST(sched_roundrobin_skips_backup_and_unusable)
{
	struct sched_test t;

	sv_init(&t, &mptcp_sched_roundrobin, 0, 1000000);
	sv_add(&t, 10, 100);
	sv_add(&t, 10, 100)->backup = true;
	sv_add(&t, 10, 100)->usable = false;
	sv_add(&t, 10, 100);
	for (int i = 0; i < 8; i++) {
		struct mptcp_sched_pick p = ask(&t);

		CHECK_EQ(p.n, 1);
		CHECK(p.v[0].sf == 0 || p.v[0].sf == 3);
		CHECK_EQ(p.v[0].sf, i % 2 ? 3 : 0);
		sv_apply(&t, &p);
	}
}

TEST(sched_roundrobin_short_data_then_wait)
{
	struct sched_test t;
	struct mptcp_sched_pick p;

	sv_init(&t, &mptcp_sched_roundrobin, 500, 800);
	sv_add(&t, 10, 100);
	p = ask(&t);
	CHECK_EQ(p.n, 1);
	CHECK_U64_EQ(p.v[0].dsn, 500);
	CHECK_EQ(p.v[0].len, 300);
	sv_apply(&t, &p);
	p = ask(&t);
	CHECK_EQ(p.n, 0);
}

/* "roundrobin:N" names the burst; a scheduler without an argument refuses one, and a
 * malformed spec is refused whole. */
TEST(sched_roundrobin_burst_from_the_spec)
{
	uint32_t arg = 99;

	CHECK(mptcp_sched_find("roundrobin:4", &arg) == &mptcp_sched_roundrobin);
	CHECK_EQ(arg, 4);
	CHECK(mptcp_sched_find("roundrobin", &arg) == &mptcp_sched_roundrobin);
	CHECK_EQ(arg, 0);
	CHECK(mptcp_sched_find("roundrobin:64", NULL) == &mptcp_sched_roundrobin);
	CHECK(mpt_scheduler_valid("roundrobin:1"));
	CHECK(mpt_scheduler_valid(NULL));
	CHECK(!mpt_scheduler_valid("roundrobin:0"));
	CHECK(!mpt_scheduler_valid("roundrobin:65"));
	CHECK(!mpt_scheduler_valid("roundrobin:"));
	CHECK(!mpt_scheduler_valid("roundrobin:4x"));
	CHECK(!mpt_scheduler_valid("roundrobin:-1"));
	CHECK(!mpt_scheduler_valid("roundrobin:99999999999"));
	CHECK(!mpt_scheduler_valid("default:2"));
	CHECK(!mpt_scheduler_valid("redundant:1"));
	CHECK(!mpt_scheduler_valid("round"));
	CHECK(!mpt_scheduler_valid(":4"));
}
