/* The `ndiffports` path manager, as the out-of-tree multipath-tcp.org kernel's
 * mptcp_ndiffports.c: N subflows in all over the first subflow's address pair, each
 * from its own source port (the joins take ephemeral ports), to use several ECMP
 * paths through one pair of addresses.  N is `ndiffports:N` (1..16, default
 * MPTCP_PM_NDIFFPORTS_DEFAULT = 2, as that module's num_subflows), opened by the
 * initiator once the connection is fully established.  Endpoints and the peer's
 * ADD_ADDRs are ignored (that module announces nothing and joins nothing else).  A
 * subflow that fails is re-created with backoff (mptcp_pathmgr.h).
 */
#include "mptcp_pathmgr.h"

struct ndp {
	struct mptcp_pm_slots slots;
};

_Static_assert(sizeof(struct ndp) <= MPTCP_PM_PRIV, "ndiffports state");

static bool ndp_arg_ok(uint32_t n)
{
	return n >= 1 && n <= MPTCP_PM_MAX_SF;
}

static void ndp_event(const struct mptcp_pm_view *v, const struct mptcp_pm_event *e,
		      struct mptcp_pm_cmds *c)
{
	struct ndp *p = v->priv;
	const struct mptcp_pm_slot *first = &p->slots.s[0];

	mptcp_pm_slots_event(v, e, &p->slots, c);
	if (e->type == MPTCP_PM_EV_ESTABLISHED && !v->server &&
	    first->state != MPTCP_PM_SLOT_FREE) {
		uint32_t n = v->arg ? v->arg : MPTCP_PM_NDIFFPORTS_DEFAULT;

		for (uint32_t k = 1; k < n; k++)
			mptcp_pm_want(&p->slots, first->path, 0, &first->remote, 0, false, false,
				      true);
	}
	mptcp_pm_slots_open(v, &p->slots, c);
}

const struct mptcp_pm_ops mptcp_pm_ndiffports = {
	.name = "ndiffports",
	.desc = "N subflows (ndiffports:N, default 2) over the first subflow's addresses, "
		"different source ports",
	.arg_ok = ndp_arg_ok,
	.event = ndp_event,
};
