/* The `kernel` path manager: Linux's in-kernel path manager (net/mptcp/pm_kernel.c),
 * driven by the endpoints (`ip mptcp endpoint`, mpt_stack_add_endpoint: flags
 * signal, subflow, backup, fullmesh on a local address).  Once the connection is
 * fully established (RFC 8684 3.2: a join needs the peer's key):
 *   - the connection's initiator opens a subflow from every `subflow` endpoint to the
 *     peer's address of the first subflow (and, with `fullmesh`, to every address the
 *     peer announced), with MP_JOIN's B flag for `backup` endpoints;
 *   - the initiator joins every address the peer announces (ADD_ADDR), up to
 *     cfg.max_add_addr_accepted (the mechanism's count), from the path routing picks
 *     (Linux lets routing choose the source; view->route asks the runtime, else the
 *     announced address's subnet, else the first subflow's path);
 *   - either side announces every `signal` endpoint off the first subflow's path with
 *     ADD_ADDR, and withdraws it (REMOVE_ADDR) when the endpoint is deleted;
 *   - an endpoint's backup flag changed: MP_PRIO on the subflows from its address.
 * All subject to cfg.max_subflows, counting the first subflow.  Unlike Linux, a
 * subflow that fails (timeout, reset, carrier loss, a join refused) is re-created
 * with backoff (mptcp_pathmgr.h): Linux opens each once.
 */
#include "mptcp_pathmgr.h"

#include <string.h>

struct kpm {
	struct mptcp_pm_slots slots; /* slot 0: the first subflow's path and address */
	uint8_t announced[32];	     /* endpoint ids announced, a bit each */
	uint8_t raddr_done[32];	     /* remote ids joined once, a bit each */
};

_Static_assert(sizeof(struct kpm) <= MPTCP_PM_PRIV, "kernel pm state");

static bool bit(const uint8_t *m, uint8_t i)
{
	return m[i / 8] & (1u << (i % 8));
}

static void set_bit(uint8_t *m, uint8_t i, bool on)
{
	if (on)
		m[i / 8] = (uint8_t)(m[i / 8] | (1u << (i % 8)));
	else
		m[i / 8] = (uint8_t)(m[i / 8] & ~(1u << (i % 8)));
}

/* Everything the endpoints and announced addresses ask for that is not wanted yet. */
static void scan(const struct mptcp_pm_view *v, struct kpm *k, struct mptcp_pm_cmds *c)
{
	const struct mptcp_pm_slot *first = &k->slots.s[0];
	uint32_t fpath = first->path;

	if (!v->active || first->state == MPTCP_PM_SLOT_FREE)
		return;
	for (int id = 1; id <= v->ep_max_id; id++) {
		struct mptcp_pm_cmd a = {.type = MPTCP_PM_CMD_ANNOUNCE, .id = (uint8_t)id};

		if (!v->ep[id].used || !(v->ep[id].flags & MPT_EP_SIGNAL) ||
		    v->ep[id].path == fpath || bit(k->announced, (uint8_t)id))
			continue;
		set_bit(k->announced, (uint8_t)id, true);
		mptcp_pm_cmd(v, c, &a);
	}
	if (v->server)
		return; /* the listener side does not open subflows (as Linux) */
	for (int id = 1; id <= v->ep_max_id; id++) {
		uint32_t flags = v->ep[id].flags, path = v->ep[id].path;
		bool backup = flags & MPT_EP_BACKUP;

		if (!v->ep[id].used || !(flags & MPT_EP_SUBFLOW) || path == fpath)
			continue;
		mptcp_pm_want(&k->slots, path, (uint8_t)id, &first->remote, 0, backup, false,
			      false);
		if (flags & MPT_EP_FULLMESH)
			for (uint32_t i = 0; i < MPTCP_PM_MAX_RADDRS; i++)
				if (v->raddr[i].used)
					mptcp_pm_want(&k->slots, path, (uint8_t)id,
						      &v->raddr[i].addr, v->raddr[i].id, backup,
						      true, false);
	}
	for (uint32_t i = 0; i < MPTCP_PM_MAX_RADDRS; i++) {
		const struct mptcp_pm_raddr *r = &v->raddr[i];
		uint32_t path;
		uint8_t lid = 0;

		if (!r->used || bit(k->raddr_done, r->id))
			continue;
		set_bit(k->raddr_done, r->id, true);
		path = v->route(v->route_ctx, &r->addr, fpath);
		for (int id = 1; id <= v->ep_max_id && path != fpath; id++)
			if (v->ep[id].used && v->ep[id].path == path)
				lid = (uint8_t)id;
		if (path != fpath && !lid)
			lid = (uint8_t)(100 + path);
		mptcp_pm_want(&k->slots, path, lid, &r->addr, r->id, false, true, false);
	}
}

static void kernel_event(const struct mptcp_pm_view *v, const struct mptcp_pm_event *e,
			 struct mptcp_pm_cmds *c)
{
	struct kpm *k = v->priv;

	mptcp_pm_slots_event(v, e, &k->slots, c);
	switch (e->type) {
	case MPTCP_PM_EV_ENDPOINT_DEL: {
		struct mptcp_pm_cmd w = {
			.type = MPTCP_PM_CMD_WITHDRAW, .id = e->id, .path = e->path};

		set_bit(k->announced, e->id, false);
		mptcp_pm_cmd(v, c, &w);
		break;
	}
	case MPTCP_PM_EV_ENDPOINT_FLAGS: {
		bool backup = v->ep[e->id].used && (v->ep[e->id].flags & MPT_EP_BACKUP);

		for (uint32_t i = 0; i < v->nsf && v->ep[e->id].used; i++)
			if (v->sf[i].path == v->ep[e->id].path && v->sf[i].backup != backup) {
				struct mptcp_pm_cmd b = {
					.type = MPTCP_PM_CMD_SET_BACKUP, .sf = i, .backup = backup};

				mptcp_pm_cmd(v, c, &b);
			}
		scan(v, k, c);
		break;
	}
	case MPTCP_PM_EV_RM_ADDR:
		set_bit(k->raddr_done, e->id, false);
		break;
	case MPTCP_PM_EV_ESTABLISHED:
	case MPTCP_PM_EV_ENDPOINT_ADDED:
	case MPTCP_PM_EV_ADD_ADDR:
	case MPTCP_PM_EV_LOCAL_UP:
		scan(v, k, c);
		break;
	default:
		break;
	}
	mptcp_pm_slots_open(v, &k->slots, c);
}

const struct mptcp_pm_ops mptcp_pm_kernel = {
	.name = "kernel",
	.desc = "Linux's in-kernel PM: endpoints (subflow, signal, backup, fullmesh), "
		"ADD_ADDR joins; failed subflows re-created",
	.event = kernel_event,
};
