/* Redundant on hand-built views: every usable non-backup subflow is given every byte,
 * each from where it stopped, skipping what is DATA_ACKed; backups only alone. */
#include "test.h"
#include "sched_view.h"

static struct mptcp_sched_pick ask(struct sched_test *t)
{
	struct mptcp_sched_pick p = {0};

	mptcp_sched_redundant.get_send(&t->v, &p);
	return p;
}

TEST(sched_redundant_same_bytes_on_every_subflow)
{
	struct sched_test t;
	struct mptcp_sched_pick p;

	sv_init(&t, &mptcp_sched_redundant, 0, 100000);
	sv_add(&t, 10, 4);
	sv_add(&t, 80, 2);
	sv_add(&t, 10, 9)->backup = true;
	p = ask(&t);
	CHECK_EQ(p.n, 2);
	CHECK_EQ(p.v[0].sf, 0);
	CHECK_U64_EQ(p.v[0].dsn, 0);
	CHECK_EQ(p.v[0].len, 4 * SV_MSS);
	CHECK_EQ(p.v[1].sf, 1);
	CHECK_U64_EQ(p.v[1].dsn, 0);
	CHECK_EQ(p.v[1].len, 2 * SV_MSS);
	sv_apply(&t, &p);
	CHECK_U64_EQ(t.v.snd_nxt, 4 * SV_MSS);
	/* the fast one gets room again: new bytes; the slow one still full: nothing */
	t.v.sf[0].room = 3 * SV_MSS;
	p = ask(&t);
	CHECK_EQ(p.n, 1);
	CHECK_EQ(p.v[0].sf, 0);
	CHECK_U64_EQ(p.v[0].dsn, 4 * SV_MSS);
	sv_apply(&t, &p);
	/* the slow one gets room: it continues where it stopped, behind snd_nxt */
	t.v.sf[1].room = 2 * SV_MSS;
	p = ask(&t);
	CHECK_EQ(p.n, 1);
	CHECK_EQ(p.v[0].sf, 1);
	CHECK_U64_EQ(p.v[0].dsn, 2 * SV_MSS);
	CHECK_EQ(p.v[0].len, 2 * SV_MSS);
}

TEST(sched_redundant_lagging_subflow_skips_acked_data)
{
	struct sched_test t;
	struct mptcp_sched_sf *slow;
	struct mptcp_sched_pick p;

	sv_init(&t, &mptcp_sched_redundant, 0, 100000);
	sv_add(&t, 10, 0);
	slow = sv_add(&t, 200, 5);
	slow->data_nxt = 1000;
	t.v.snd_nxt = 50000;
	t.v.snd_una = 30000; /* the fast one's copies were DATA_ACKed up to here */
	t.v.dsn = 50000;
	t.v.len = 50000;
	p = ask(&t);
	CHECK_EQ(p.n, 1);
	CHECK_EQ(p.v[0].sf, 1);
	CHECK_U64_EQ(p.v[0].dsn, 30000);
	CHECK_EQ(p.v[0].len, 5 * SV_MSS);
}

TEST(sched_redundant_waits_when_everyone_is_done_or_full)
{
	struct sched_test t;
	struct mptcp_sched_pick p;

	sv_init(&t, &mptcp_sched_redundant, 0, 8000);
	sv_add(&t, 10, 100);
	sv_add(&t, 30, 0);
	p = ask(&t);
	CHECK_EQ(p.n, 1);
	sv_apply(&t, &p);
	p = ask(&t); /* 0 has all; 1 is full */
	CHECK_EQ(p.n, 0);
	t.v.sf[1].room = 100 * SV_MSS;
	p = ask(&t);
	CHECK_EQ(p.n, 1);
	CHECK_EQ(p.v[0].sf, 1);
	CHECK_EQ(p.v[0].len, 8000);
	sv_apply(&t, &p);
	p = ask(&t);
	CHECK_EQ(p.n, 0);
}

TEST(sched_redundant_backup_when_alone)
{
	struct sched_test t;
	struct mptcp_sched_pick p;

	sv_init(&t, &mptcp_sched_redundant, 0, 8000);
	sv_add(&t, 10, 100)->stale = true;
	sv_add(&t, 30, 100)->backup = true;
	sv_add(&t, 30, 100)->backup = true;
	p = ask(&t);
	CHECK_EQ(p.n, 2);
	CHECK_EQ(p.v[0].sf, 1);
	CHECK_EQ(p.v[1].sf, 2);
}
