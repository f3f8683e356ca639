/* The `ndiffports` path manager on hand-built event sequences. */
#include "test.h"
#include "pm_view.h"

static struct pm_test t;

TEST(pm_ndiffports_opens_n_minus_one_over_the_first_pair)
{
	static const uint32_t args[] = {0, 1, 2, 4, 8};
	static const uint32_t opens[] = {1, 0, 1, 3, 7}; /* 0: the default, 2 in all */

	for (size_t k = 0; k < sizeof(args) / sizeof(args[0]); k++) {
		pv_init(&t, &mptcp_pm_ndiffports, 2, args[k]);
		pv_event(&t, MPTCP_PM_EV_ESTABLISHED, 0, NULL);
		CHECK_EQ(pv_count(&t, MPTCP_PM_CMD_OPEN), opens[k]);
		for (uint32_t i = 0; i < t.c.n; i++) {
			const struct mptcp_pm_cmd *o = &t.c.v[i];

			CHECK_EQ(o->type, MPTCP_PM_CMD_OPEN);
			CHECK_EQ(o->path, 0);
			CHECK_EQ(o->id, 0);
			CHECK_EQ(o->remote_id, 0);
			CHECK_EQ(o->remote.port, 5001);
			CHECK_EQ(o->tag, i + 2); /* each its own slot */
		}
	}
}

TEST(pm_ndiffports_ignores_endpoints_and_announcements)
{
	pv_init(&t, &mptcp_pm_ndiffports, 3, 2);
	t.ep[1] = (struct mptcp_pm_ep){
		.used = true, .path = 1, .flags = MPT_EP_SUBFLOW | MPT_EP_SIGNAL};
	t.v.ep_max_id = 1;
	t.v.raddr[0] = (struct mptcp_pm_raddr){.used = true, .id = 3, .addr = pv_addr(2, 2, 5001)};
	pv_event(&t, MPTCP_PM_EV_ESTABLISHED, 0, NULL);
	CHECK_EQ(t.c.n, 1);
	CHECK_EQ(pv_find(&t, MPTCP_PM_CMD_OPEN)->path, 0);
	pv_event(&t, MPTCP_PM_EV_ADD_ADDR, 10, &(struct mptcp_pm_event){.raddr = 0});
	CHECK_EQ(t.c.n, 0);
	pv_event(&t, MPTCP_PM_EV_ENDPOINT_ADDED, 20, &(struct mptcp_pm_event){.id = 1});
	CHECK_EQ(t.c.n, 0);
}

TEST(pm_ndiffports_listener_opens_nothing)
{
	pv_init(&t, &mptcp_pm_ndiffports, 1, 4);
	t.v.server = true;
	pv_event(&t, MPTCP_PM_EV_ESTABLISHED, 0, NULL);
	CHECK_EQ(t.c.n, 0);
}

TEST(pm_ndiffports_reset_subflow_recreated)
{
	struct mptcp_pm_cmd o[3];
	uint32_t sf[3];

	pv_init(&t, &mptcp_pm_ndiffports, 1, 4);
	pv_event(&t, MPTCP_PM_EV_ESTABLISHED, 0, NULL);
	CHECK_EQ(t.c.n, 3);
	for (int i = 0; i < 3; i++) {
		o[i] = t.c.v[i];
		sf[i] = pv_opened(&t, &o[i], (uint16_t)(40001 + i));
	}
	/* the second one reset by the peer at 3 s */
	pv_closed(&t, sf[1]);
	pv_event(&t, MPTCP_PM_EV_SF_CLOSED, 3000,
		 &(struct mptcp_pm_event){.sf_tag = o[1].tag, .reason = MPTCP_PM_CLOSE_RESET});
	CHECK_EQ(t.c.n, 0);
	CHECK_U64_EQ(t.c.wake_at, 3500 * PV_MS);
	pv_event(&t, MPTCP_PM_EV_TIMER, 3500, NULL);
	CHECK_EQ(pv_count(&t, MPTCP_PM_CMD_OPEN), 1);
	CHECK_EQ(pv_find(&t, MPTCP_PM_CMD_OPEN)->tag, o[1].tag);
	CHECK_EQ(pv_find(&t, MPTCP_PM_CMD_OPEN)->path, 0);
	CHECK_U64_EQ(t.ctr.pm_retry_sched, 1);
	CHECK_U64_EQ(t.ctr.pm_retry_open, 1);
}

TEST(pm_ndiffports_limited_by_max_subflows)
{
	pv_init(&t, &mptcp_pm_ndiffports, 1, 4);
	t.v.max_subflows = 3;
	pv_event(&t, MPTCP_PM_EV_ESTABLISHED, 0, NULL);
	CHECK_EQ(pv_count(&t, MPTCP_PM_CMD_OPEN), 2);
	CHECK_U64_EQ(t.ctr.pm_no_room, 1);
}

TEST(pm_ndiffports_argument_range)
{
	CHECK(mptcp_pm_ndiffports.arg_ok(1));
	CHECK(mptcp_pm_ndiffports.arg_ok(16));
	CHECK(!mptcp_pm_ndiffports.arg_ok(0));
	CHECK(!mptcp_pm_ndiffports.arg_ok(17));
	CHECK(mptcp_pm_find("ndiffports:16", NULL) != NULL);
	CHECK(mptcp_pm_find("ndiffports:17", NULL) == NULL);
}
