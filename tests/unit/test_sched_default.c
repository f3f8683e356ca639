/* The default scheduler on hand-built views: lowest RTT with room, backups only when
 * no regular subflow is usable, stale last, a full best tier waits. */
#include "test.h"
#include "sched_view.h"

static struct mptcp_sched_pick ask(struct sched_test *t)
{
	struct mptcp_sched_pick p = {0};

	mptcp_sched_default.get_send(&t->v, &p);
	return p;
}

TEST(sched_default_lowest_rtt_with_room)
{
	struct sched_test t;
	struct mptcp_sched_pick p;

	sv_init(&t, &mptcp_sched_default, 1000, 1000 + 100000);
	sv_add(&t, 40, 5);
	sv_add(&t, 10, 3);
	sv_add(&t, 20, 8);
	p = ask(&t);
	CHECK_EQ(p.n, 1);
	CHECK_EQ(p.v[0].sf, 1);
	CHECK_U64_EQ(p.v[0].dsn, 1000);
	CHECK_EQ(p.v[0].len, 3 * SV_MSS);
	/* the fastest is full: the next fastest */
	sv_apply(&t, &p);
	p = ask(&t);
	CHECK_EQ(p.n, 1);
	CHECK_EQ(p.v[0].sf, 2);
	CHECK_U64_EQ(p.v[0].dsn, 1000 + 3 * SV_MSS);
	CHECK_EQ(p.v[0].len, 8 * SV_MSS);
}

TEST(sched_default_gives_no_more_than_the_data)
{
	struct sched_test t;
	struct mptcp_sched_pick p;

	sv_init(&t, &mptcp_sched_default, 0, 1500);
	sv_add(&t, 10, 10);
	p = ask(&t);
	CHECK_EQ(p.n, 1);
	CHECK_EQ(p.v[0].len, 1500);
	sv_apply(&t, &p);
	p = ask(&t); /* nothing new: wait */
	CHECK_EQ(p.n, 0);
}

TEST(sched_default_backup_only_when_no_regular_is_usable)
{
	struct sched_test t;
	struct mptcp_sched_sf *reg, *bk;
	struct mptcp_sched_pick p;

	sv_init(&t, &mptcp_sched_default, 0, 100000);
	reg = sv_add(&t, 50, 0); /* regular, full */
	bk = sv_add(&t, 5, 10);
	bk->backup = true;
	/* a full regular subflow waits rather than spilling onto the backup */
	p = ask(&t);
	CHECK_EQ(p.n, 0);
	/* the regular one is gone: the backup carries */
	reg->usable = false;
	p = ask(&t);
	CHECK_EQ(p.n, 1);
	CHECK_EQ(p.v[0].sf, 1);
}

TEST(sched_default_backup_helps_a_regular_climbing_back_from_an_rto)
{
	struct sched_test t;
	struct mptcp_sched_sf *reg, *bk, *reg2;
	struct mptcp_sched_pick p;

	sv_init(&t, &mptcp_sched_default, 0, 100000);
	reg = sv_add(&t, 50, 0); /* regular, window full: one segment after an RTO */
	reg->rto_recovery = true;
	bk = sv_add(&t, 5, 10);
	bk->backup = true;
	/* every regular subflow is in RTO recovery: the backup carries meanwhile */
	p = ask(&t);
	CHECK_EQ(p.n, 1);
	CHECK_EQ(p.v[0].sf, 1);
	/* with room, the recovering regular one is used too (its window must grow);
	 * the backup is faster, so it goes first */
	reg->room = 4 * SV_MSS;
	sv_apply(&t, &p);
	p = ask(&t);
	CHECK_EQ(p.n, 1);
	CHECK_EQ(p.v[0].sf, 0);
	/* out of recovery: the backup is left alone again */
	reg->rto_recovery = false;
	bk->room = 10 * SV_MSS;
	reg->room = 0;
	p = ask(&t);
	CHECK_EQ(p.n, 0);
	/* a healthy regular subflow beside the recovering one: no backup */
	reg->rto_recovery = true;
	reg2 = sv_add(&t, 20, 0);
	(void)reg2;
	p = ask(&t);
	CHECK_EQ(p.n, 0);
}

TEST(sched_default_stale_last)
{
	struct sched_test t;
	struct mptcp_sched_sf *a, *b;
	struct mptcp_sched_pick p;

	sv_init(&t, &mptcp_sched_default, 0, 100000);
	a = sv_add(&t, 5, 10);
	b = sv_add(&t, 80, 10);
	b->backup = true;
	a->stale = true;
	/* a stale regular subflow comes after a working backup */
	p = ask(&t);
	CHECK_EQ(p.n, 1);
	CHECK_EQ(p.v[0].sf, 1);
	/* both stale: the regular one again */
	b->stale = true;
	p = ask(&t);
	CHECK_EQ(p.n, 1);
	CHECK_EQ(p.v[0].sf, 0);
}

TEST(sched_default_nothing_usable_waits)
{
	struct sched_test t;
	struct mptcp_sched_pick p;

	sv_init(&t, &mptcp_sched_default, 0, 100000);
	sv_add(&t, 5, 10)->usable = false;
	p = ask(&t);
	CHECK_EQ(p.n, 0);
}

TEST(sched_default_registered_first)
{
	const char *desc = NULL;

	CHECK(mptcp_sched_find(NULL, NULL) == &mptcp_sched_default);
	CHECK(mptcp_sched_find("", NULL) == &mptcp_sched_default);
	CHECK(mptcp_sched_find("default", NULL) == &mptcp_sched_default);
	CHECK(mptcp_sched_find("nope", NULL) == NULL);
	CHECK_STR_EQ(mpt_scheduler_name(0, &desc), "default");
	CHECK(desc && *desc);
	for (unsigned i = 0; mpt_scheduler_name(i, &desc); i++) {
		CHECK(mptcp_sched_find(mpt_scheduler_name(i, NULL), NULL) != NULL);
		CHECK(desc && strlen(desc) < 80);
	}
}
