/* The `kernel` path manager on hand-built event sequences: what it opens, announces,
 * withdraws and re-creates, and when. */
#include "test.h"
#include "pm_view.h"

static struct pm_test t;

/* ESTABLISHED with the endpoints set; returns the OPEN count. */
static uint32_t established(struct pm_test *x)
{
	pv_event(x, MPTCP_PM_EV_ESTABLISHED, 0, NULL);
	return pv_count(x, MPTCP_PM_CMD_OPEN);
}

TEST(pm_kernel_endpoints_at_establishment)
{
	const struct mptcp_pm_cmd *o, *a;

	pv_init(&t, &mptcp_pm_kernel, 3, 0);
	t.ep[1] = (struct mptcp_pm_ep){
		.used = true, .path = 1, .flags = MPT_EP_SUBFLOW | MPT_EP_BACKUP};
	t.ep[2] = (struct mptcp_pm_ep){.used = true, .path = 2, .flags = MPT_EP_SIGNAL};
	t.ep[3] = (struct mptcp_pm_ep){.used = true, .path = 0, .flags = MPT_EP_SIGNAL};
	t.v.ep_max_id = 3;
	CHECK_EQ(established(&t), 1);
	o = pv_find(&t, MPTCP_PM_CMD_OPEN);
	CHECK_EQ(o->path, 1);
	CHECK_EQ(o->id, 1);
	CHECK(o->backup);
	CHECK_EQ(o->remote.port, 5001);
	CHECK_EQ(o->remote.ip[3], 2);
	CHECK_EQ(o->tag, 2); /* slot 1; slot 0 is the first subflow */
	/* the signal endpoint off the first subflow's path, not the one on it */
	CHECK_EQ(pv_count(&t, MPTCP_PM_CMD_ANNOUNCE), 1);
	a = pv_find(&t, MPTCP_PM_CMD_ANNOUNCE);
	CHECK_EQ(a->id, 2);
	CHECK_U64_EQ(t.c.wake_at, UINT64_MAX);
	/* a second look (an endpoint added) opens only the new one, announces nothing
	 * again */
	t.ep[4] = (struct mptcp_pm_ep){.used = true, .path = 2, .flags = MPT_EP_SUBFLOW};
	t.v.ep_max_id = 4;
	pv_event(&t, MPTCP_PM_EV_ENDPOINT_ADDED, 5, &(struct mptcp_pm_event){.id = 4});
	CHECK_EQ(pv_count(&t, MPTCP_PM_CMD_OPEN), 1);
	CHECK_EQ(pv_find(&t, MPTCP_PM_CMD_OPEN)->path, 2);
	CHECK_EQ(pv_find(&t, MPTCP_PM_CMD_OPEN)->id, 4);
	CHECK_EQ(pv_count(&t, MPTCP_PM_CMD_ANNOUNCE), 0);
}

TEST(pm_kernel_new_endpoint_opens_once)
{
	pv_init(&t, &mptcp_pm_kernel, 3, 0);
	CHECK_EQ(established(&t), 0);
	t.ep[1] = (struct mptcp_pm_ep){.used = true, .path = 2, .flags = MPT_EP_SUBFLOW};
	t.v.ep_max_id = 1;
	pv_event(&t, MPTCP_PM_EV_ENDPOINT_ADDED, 10, &(struct mptcp_pm_event){.id = 1});
	CHECK_EQ(pv_count(&t, MPTCP_PM_CMD_OPEN), 1);
	CHECK_EQ(pv_find(&t, MPTCP_PM_CMD_OPEN)->path, 2);
	pv_opened(&t, pv_find(&t, MPTCP_PM_CMD_OPEN), 40001);
	pv_event(&t, MPTCP_PM_EV_ENDPOINT_ADDED, 20, &(struct mptcp_pm_event){.id = 1});
	CHECK_EQ(pv_count(&t, MPTCP_PM_CMD_OPEN), 0);
}

TEST(pm_kernel_listener_announces_but_opens_nothing)
{
	pv_init(&t, &mptcp_pm_kernel, 2, 0);
	t.v.server = true;
	t.ep[1] = (struct mptcp_pm_ep){
		.used = true, .path = 1, .flags = MPT_EP_SUBFLOW | MPT_EP_SIGNAL};
	t.v.ep_max_id = 1;
	CHECK_EQ(established(&t), 0);
	CHECK_EQ(pv_count(&t, MPTCP_PM_CMD_ANNOUNCE), 1);
	/* a peer's subflow reset: the listener side re-creates nothing */
	pv_event(&t, MPTCP_PM_EV_SF_CLOSED, 100,
		 &(struct mptcp_pm_event){.sf_tag = 1, .reason = MPTCP_PM_CLOSE_RESET});
	CHECK_EQ(t.c.n, 0);
	CHECK_U64_EQ(t.c.wake_at, UINT64_MAX);
	/* a carrier loss on the path of the address the peer's subflow was sent to
	 * closes nothing: that subflow may come in on another link (the peer's lte
	 * subflow to our wifi address); its own timers decide */
	t.paths[0].up = false;
	pv_event(&t, MPTCP_PM_EV_LOCAL_DOWN, 200, &(struct mptcp_pm_event){.path = 0});
	CHECK_EQ(pv_count(&t, MPTCP_PM_CMD_CLOSE), 0);
	CHECK_U64_EQ(t.ctr.pm_carrier_close, 0);
}

TEST(pm_kernel_inactive_does_nothing)
{
	pv_init(&t, &mptcp_pm_kernel, 2, 0);
	t.v.active = false;
	t.ep[1] = (struct mptcp_pm_ep){
		.used = true, .path = 1, .flags = MPT_EP_SUBFLOW | MPT_EP_SIGNAL};
	t.v.ep_max_id = 1;
	CHECK_EQ(established(&t), 0);
	CHECK_EQ(t.c.n, 0);
}

TEST(pm_kernel_add_addr_joined_once_from_the_routed_path)
{
	const struct mptcp_pm_cmd *o;

	pv_init(&t, &mptcp_pm_kernel, 4, 0);
	CHECK_EQ(established(&t), 0);
	t.v.raddr[0] = (struct mptcp_pm_raddr){.used = true, .id = 5, .addr = pv_addr(3, 2, 5001)};
	t.route_to = 3;
	pv_event(&t, MPTCP_PM_EV_ADD_ADDR, 10, &(struct mptcp_pm_event){.raddr = 0});
	CHECK_EQ(pv_count(&t, MPTCP_PM_CMD_OPEN), 1);
	o = pv_find(&t, MPTCP_PM_CMD_OPEN);
	CHECK_EQ(o->path, 3);
	CHECK_EQ(o->id, 103); /* no endpoint on path 3: 100 + path */
	CHECK_EQ(o->remote_id, 5);
	CHECK_EQ(o->remote.ip[2], 3);
	CHECK(!o->backup);
	pv_opened(&t, o, 40002);
	/* the ADD_ADDR retransmitted: nothing new */
	pv_event(&t, MPTCP_PM_EV_ADD_ADDR, 20, &(struct mptcp_pm_event){.raddr = 0});
	CHECK_EQ(t.c.n, 0);
	/* REMOVE_ADDR, then the subflow closes as removed: not re-created */
	t.v.raddr[0].used = false;
	pv_event(&t, MPTCP_PM_EV_RM_ADDR, 30, &(struct mptcp_pm_event){.id = 5});
	pv_closed(&t, 1);
	pv_event(&t, MPTCP_PM_EV_SF_CLOSED, 31,
		 &(struct mptcp_pm_event){
			 .sf_tag = o->tag, .path = 3, .reason = MPTCP_PM_CLOSE_REMOVED});
	CHECK_EQ(t.c.n, 0);
	CHECK_U64_EQ(t.c.wake_at, UINT64_MAX);
	CHECK_U64_EQ(t.ctr.pm_retry_sched, 0);
}

TEST(pm_kernel_fullmesh_joins_every_announced_address)
{
	pv_init(&t, &mptcp_pm_kernel, 2, 0);
	t.ep[1] = (struct mptcp_pm_ep){
		.used = true, .path = 1, .flags = MPT_EP_SUBFLOW | MPT_EP_FULLMESH};
	t.v.ep_max_id = 1;
	t.v.raddr[0] = (struct mptcp_pm_raddr){.used = true, .id = 7, .addr = pv_addr(9, 2, 5001)};
	t.v.raddr[1] = (struct mptcp_pm_raddr){.used = true, .id = 8, .addr = pv_addr(8, 2, 5001)};
	/* both announced addresses route via path 0 (the first subflow's) */
	CHECK_EQ(established(&t), 5); /* ep 1 -> first, ep 1 -> 7, ep 1 -> 8, path 0 -> 7, 8 */
	pv_init(&t, &mptcp_pm_kernel, 2, 0);
	t.ep[1] = (struct mptcp_pm_ep){.used = true, .path = 1, .flags = MPT_EP_SUBFLOW};
	t.v.ep_max_id = 1;
	t.v.raddr[0] = (struct mptcp_pm_raddr){.used = true, .id = 7, .addr = pv_addr(9, 2, 5001)};
	CHECK_EQ(established(&t), 2); /* without fullmesh: ep 1 -> first, path 0 -> 7 */
}

/* Fail the subflow of `tag` (view index sf) at now_ms; returns the wake time (ms). */
static uint64_t fail(struct pm_test *x, uint32_t sf, uint32_t tag, uint32_t path,
		     enum mptcp_pm_close why, uint64_t now_ms)
{
	pv_closed(x, sf);
	pv_event(x, MPTCP_PM_EV_SF_CLOSED, now_ms,
		 &(struct mptcp_pm_event){.sf_tag = tag, .path = path, .reason = why});
	CHECK_EQ(pv_count(x, MPTCP_PM_CMD_OPEN), 0);
	return x->c.wake_at == UINT64_MAX ? UINT64_MAX : x->c.wake_at / PV_MS;
}

TEST(pm_kernel_reset_subflow_recreated_with_backoff)
{
	const struct mptcp_pm_cmd *o;
	struct mptcp_pm_cmd first;
	uint32_t sf;
	uint64_t at = 1000;
	static const uint64_t backoff_ms[] = {500, 1000, 2000, 4000, 8000, 16000, 16000};

	pv_init(&t, &mptcp_pm_kernel, 2, 0);
	t.ep[1] = (struct mptcp_pm_ep){.used = true, .path = 1, .flags = MPT_EP_SUBFLOW};
	t.v.ep_max_id = 1;
	CHECK_EQ(established(&t), 1);
	first = *pv_find(&t, MPTCP_PM_CMD_OPEN);
	sf = pv_opened(&t, &first, 40001);
	for (size_t k = 0; k < sizeof(backoff_ms) / sizeof(backoff_ms[0]); k++) {
		uint64_t wake = fail(&t, sf, first.tag, 1,
				     k % 2 ? MPTCP_PM_CLOSE_TIMEOUT : MPTCP_PM_CLOSE_RESET, at);

		CHECK_U64_EQ(wake, at + backoff_ms[k]);
		/* early: nothing */
		pv_event(&t, MPTCP_PM_EV_TIMER, wake - 1, NULL);
		CHECK_EQ(t.c.n, 0);
		CHECK_U64_EQ(t.c.wake_at, wake * PV_MS);
		pv_event(&t, MPTCP_PM_EV_TIMER, wake, NULL);
		CHECK_EQ(pv_count(&t, MPTCP_PM_CMD_OPEN), 1);
		o = pv_find(&t, MPTCP_PM_CMD_OPEN);
		CHECK_EQ(o->path, 1);
		CHECK_EQ(o->id, 1);
		CHECK_EQ(o->tag, first.tag);
		CHECK(!memcmp(&o->remote, &first.remote, sizeof(o->remote)));
		/* the join fails again at once (never established): backoff grows */
		sf = pv_opened(&t, o, (uint16_t)(40002 + k));
		t.v.sf[sf].established = false;
		at = wake + 100;
	}
	CHECK_U64_EQ(t.ctr.pm_retry_sched, 7);
	CHECK_U64_EQ(t.ctr.pm_retry_open, 7);
	CHECK_U64_EQ(t.ctr.pm_recreated, 0);
	/* established this time: counted, and the backoff starts over */
	t.v.sf[sf].established = true;
	pv_event(&t, MPTCP_PM_EV_SF_ESTABLISHED, at, &(struct mptcp_pm_event){.sf = sf});
	CHECK_U64_EQ(t.ctr.pm_recreated, 1);
	CHECK_U64_EQ(fail(&t, sf, first.tag, 1, MPTCP_PM_CLOSE_RESET, at + 1000), at + 1500);
}

TEST(pm_kernel_first_subflow_recreated_from_its_address)
{
	const struct mptcp_pm_cmd *o;

	pv_init(&t, &mptcp_pm_kernel, 2, 0);
	t.ep[1] = (struct mptcp_pm_ep){.used = true, .path = 1, .flags = MPT_EP_SUBFLOW};
	t.v.ep_max_id = 1;
	CHECK_EQ(established(&t), 1);
	pv_opened(&t, pv_find(&t, MPTCP_PM_CMD_OPEN), 40001);
	CHECK_U64_EQ(fail(&t, 0, 1, 0, MPTCP_PM_CLOSE_RESET, 2000), 2500);
	pv_event(&t, MPTCP_PM_EV_TIMER, 2500, NULL);
	o = pv_find(&t, MPTCP_PM_CMD_OPEN);
	CHECK(o->type == MPTCP_PM_CMD_OPEN);
	CHECK_EQ(o->path, 0);
	CHECK_EQ(o->id, 0); /* the first subflow's address is id 0 */
	CHECK_EQ(o->tag, 1);
	CHECK_EQ(o->remote.port, 5001);
}

TEST(pm_kernel_withdrawn_or_local_errors_not_recreated)
{
	static const enum mptcp_pm_close no[] = {MPTCP_PM_CLOSE_WITHDRAWN, MPTCP_PM_CLOSE_LOCAL,
						 MPTCP_PM_CLOSE_NORMAL, MPTCP_PM_CLOSE_REMOVED};

	for (size_t k = 0; k < sizeof(no) / sizeof(no[0]); k++) {
		uint32_t sf;

		pv_init(&t, &mptcp_pm_kernel, 2, 0);
		t.ep[1] = (struct mptcp_pm_ep){.used = true, .path = 1, .flags = MPT_EP_SUBFLOW};
		t.v.ep_max_id = 1;
		CHECK_EQ(established(&t), 1);
		sf = pv_opened(&t, pv_find(&t, MPTCP_PM_CMD_OPEN), 40001);
		CHECK_U64_EQ(fail(&t, sf, 2, 1, no[k], 1000), UINT64_MAX);
		CHECK_U64_EQ(t.ctr.pm_no_retry, 1);
		/* and a later look at the endpoints does not bring it back */
		pv_event(&t, MPTCP_PM_EV_ENDPOINT_FLAGS, 2000, &(struct mptcp_pm_event){.id = 1});
		CHECK_EQ(pv_count(&t, MPTCP_PM_CMD_OPEN), 0);
	}
}

TEST(pm_kernel_endpoint_deleted_withdraws)
{
	const struct mptcp_pm_cmd *w;
	uint32_t sf;

	pv_init(&t, &mptcp_pm_kernel, 2, 0);
	t.ep[1] = (struct mptcp_pm_ep){
		.used = true, .path = 1, .flags = MPT_EP_SUBFLOW | MPT_EP_SIGNAL};
	t.v.ep_max_id = 1;
	CHECK_EQ(established(&t), 1);
	sf = pv_opened(&t, pv_find(&t, MPTCP_PM_CMD_OPEN), 40001);
	t.ep[1].used = false;
	pv_event(&t, MPTCP_PM_EV_ENDPOINT_DEL, 500, &(struct mptcp_pm_event){.id = 1, .path = 1});
	CHECK_EQ(pv_count(&t, MPTCP_PM_CMD_WITHDRAW), 1);
	w = pv_find(&t, MPTCP_PM_CMD_WITHDRAW);
	CHECK_EQ(w->id, 1);
	CHECK_EQ(w->path, 1);
	/* the withdrawal closes the subflow (a reset-like close): not re-created */
	CHECK_U64_EQ(fail(&t, sf, 2, 1, MPTCP_PM_CLOSE_WITHDRAWN, 510), UINT64_MAX);
	/* the endpoint back: opened and announced again */
	t.ep[1].used = true;
	pv_event(&t, MPTCP_PM_EV_ENDPOINT_ADDED, 900, &(struct mptcp_pm_event){.id = 1});
	CHECK_EQ(pv_count(&t, MPTCP_PM_CMD_OPEN), 1);
	CHECK_EQ(pv_count(&t, MPTCP_PM_CMD_ANNOUNCE), 1);
}

TEST(pm_kernel_carrier_loss_closes_and_return_reopens_at_once)
{
	const struct mptcp_pm_cmd *k, *o;
	struct mptcp_pm_cmd first;
	uint32_t sf;

	pv_init(&t, &mptcp_pm_kernel, 2, 0);
	t.ep[1] = (struct mptcp_pm_ep){.used = true, .path = 1, .flags = MPT_EP_SUBFLOW};
	t.v.ep_max_id = 1;
	CHECK_EQ(established(&t), 1);
	first = *pv_find(&t, MPTCP_PM_CMD_OPEN);
	sf = pv_opened(&t, &first, 40001);
	t.paths[1].up = false;
	pv_event(&t, MPTCP_PM_EV_LOCAL_DOWN, 1000, &(struct mptcp_pm_event){.path = 1});
	CHECK_EQ(t.c.n, 1);
	k = pv_find(&t, MPTCP_PM_CMD_CLOSE);
	CHECK(k->type == MPTCP_PM_CMD_CLOSE);
	CHECK_EQ(k->sf, sf);
	CHECK_EQ(k->reason, MPTCP_PM_CLOSE_CARRIER);
	CHECK_U64_EQ(t.ctr.pm_carrier_close, 1);
	/* closed; the backoff passes while the carrier is still down: nothing */
	CHECK_U64_EQ(fail(&t, sf, first.tag, 1, MPTCP_PM_CLOSE_CARRIER, 1001), UINT64_MAX);
	pv_event(&t, MPTCP_PM_EV_TIMER, 5000, NULL);
	CHECK_EQ(t.c.n, 0);
	/* carrier back at 7 s: opened in the same answer */
	t.paths[1].up = true;
	pv_event(&t, MPTCP_PM_EV_LOCAL_UP, 7000, &(struct mptcp_pm_event){.path = 1});
	CHECK_EQ(pv_count(&t, MPTCP_PM_CMD_OPEN), 1);
	o = pv_find(&t, MPTCP_PM_CMD_OPEN);
	CHECK_EQ(o->path, 1);
	CHECK_EQ(o->tag, first.tag);
	CHECK_U64_EQ(t.ctr.pm_link_up_retry, 1);
	/* the first subflow's path was not touched */
	CHECK_EQ(t.v.first, 0);
}

/* The carrier lost and back before the closed subflow is gone (its RST waits for the
 * carrier, so the path manager hears of the close after LOCAL_UP): opened again at
 * once, not after the backoff. */
TEST(pm_kernel_carrier_close_heard_after_the_carrier_returned_reopens_at_once)
{
	const struct mptcp_pm_cmd *o;
	struct mptcp_pm_cmd first;
	uint32_t sf;

	pv_init(&t, &mptcp_pm_kernel, 2, 0);
	t.ep[1] = (struct mptcp_pm_ep){.used = true, .path = 1, .flags = MPT_EP_SUBFLOW};
	t.v.ep_max_id = 1;
	CHECK_EQ(established(&t), 1);
	first = *pv_find(&t, MPTCP_PM_CMD_OPEN);
	sf = pv_opened(&t, &first, 40001);
	t.paths[1].up = false;
	pv_event(&t, MPTCP_PM_EV_LOCAL_DOWN, 1000, &(struct mptcp_pm_event){.path = 1});
	CHECK_EQ(pv_count(&t, MPTCP_PM_CMD_CLOSE), 1);
	/* back 30 ms later, while the subflow still exists: nothing to re-open yet */
	t.paths[1].up = true;
	pv_event(&t, MPTCP_PM_EV_LOCAL_UP, 1030, &(struct mptcp_pm_event){.path = 1});
	CHECK_EQ(pv_count(&t, MPTCP_PM_CMD_OPEN), 0);
	/* its RST left, it is gone: re-opened in the same answer */
	pv_closed(&t, sf);
	pv_event(&t, MPTCP_PM_EV_SF_CLOSED, 1031,
		 &(struct mptcp_pm_event){
			 .sf_tag = first.tag, .path = 1, .reason = MPTCP_PM_CLOSE_CARRIER});
	CHECK_EQ(pv_count(&t, MPTCP_PM_CMD_OPEN), 1);
	o = pv_find(&t, MPTCP_PM_CMD_OPEN);
	CHECK_EQ(o->path, 1);
	CHECK_EQ(o->tag, first.tag);
	CHECK_U64_EQ(t.ctr.pm_link_up_retry, 1);
	/* a carrier close while the carrier is still down waits for LOCAL_UP instead */
	sf = pv_opened(&t, o, 40002);
	t.paths[1].up = false;
	pv_event(&t, MPTCP_PM_EV_LOCAL_DOWN, 2000, &(struct mptcp_pm_event){.path = 1});
	pv_closed(&t, sf);
	pv_event(&t, MPTCP_PM_EV_SF_CLOSED, 2001,
		 &(struct mptcp_pm_event){
			 .sf_tag = first.tag, .path = 1, .reason = MPTCP_PM_CLOSE_CARRIER});
	CHECK_EQ(pv_count(&t, MPTCP_PM_CMD_OPEN), 0);
}

TEST(pm_kernel_subflow_limit_waits)
{
	pv_init(&t, &mptcp_pm_kernel, 2, 0);
	t.v.max_subflows = 1;
	t.ep[1] = (struct mptcp_pm_ep){.used = true, .path = 1, .flags = MPT_EP_SUBFLOW};
	t.v.ep_max_id = 1;
	CHECK_EQ(established(&t), 0);
	CHECK_U64_EQ(t.ctr.pm_no_room, 1);
	CHECK_U64_EQ(t.c.wake_at, 500 * PV_MS); /* looks again */
	t.v.max_subflows = 2;
	pv_event(&t, MPTCP_PM_EV_TIMER, 500, NULL);
	CHECK_EQ(pv_count(&t, MPTCP_PM_CMD_OPEN), 1);
}

TEST(pm_kernel_backup_flag_change_sets_priority)
{
	const struct mptcp_pm_cmd *b;
	uint32_t sf;

	pv_init(&t, &mptcp_pm_kernel, 2, 0);
	t.ep[1] = (struct mptcp_pm_ep){.used = true, .path = 1, .flags = MPT_EP_SUBFLOW};
	t.v.ep_max_id = 1;
	CHECK_EQ(established(&t), 1);
	sf = pv_opened(&t, pv_find(&t, MPTCP_PM_CMD_OPEN), 40001);
	t.ep[1].flags |= MPT_EP_BACKUP;
	pv_event(&t, MPTCP_PM_EV_ENDPOINT_FLAGS, 100, &(struct mptcp_pm_event){.id = 1});
	CHECK_EQ(pv_count(&t, MPTCP_PM_CMD_SET_BACKUP), 1);
	b = pv_find(&t, MPTCP_PM_CMD_SET_BACKUP);
	CHECK_EQ(b->sf, sf);
	CHECK(b->backup);
	t.v.sf[sf].backup = true;
	pv_event(&t, MPTCP_PM_EV_ENDPOINT_FLAGS, 200, &(struct mptcp_pm_event){.id = 1});
	CHECK_EQ(pv_count(&t, MPTCP_PM_CMD_SET_BACKUP), 0);
}

TEST(pm_registry_names_and_args)
{
	uint32_t arg = 99;

	CHECK(mptcp_pm_find(NULL, &arg) == &mptcp_pm_kernel);
	CHECK_EQ(arg, 0);
	CHECK(mptcp_pm_find("", NULL) == &mptcp_pm_kernel);
	CHECK(mptcp_pm_find("kernel", NULL) == &mptcp_pm_kernel);
	CHECK(mptcp_pm_find("kernel:1", NULL) == NULL); /* takes no argument */
	CHECK(mptcp_pm_find("ndiffports:4", &arg) == &mptcp_pm_ndiffports);
	CHECK_EQ(arg, 4);
	CHECK(mptcp_pm_find("ndiff", NULL) == NULL);
	CHECK_STR_EQ(mpt_path_manager_name(0, NULL), "kernel");
	CHECK_STR_EQ(mpt_path_manager_name(1, NULL), "ndiffports");
	CHECK(mpt_path_manager_name(2, NULL) == NULL);
}
