/* The namespace's `ip mptcp` settings for the shim.  Scripts configure the path
 * manager with shell lines (`ip mptcp endpoint add ADDR signal`, `ip mptcp limits
 * set ...`, common/server.sh and client.sh) before they open a socket; the shim
 * reads endpoints and limits from the kernel of its namespace, as the runtime does
 * (stack/rt/rt_pm.c), at every socket() call and hands them to the stack.  An
 * endpoint's address becomes one of the stack's paths.  Endpoints removed from the
 * namespace later are not removed from the stack. */
#include "pd.h"
#include "rt_pm.h"

#include <string.h>

void pd_pm_sync_locked(struct pd *p)
{
	struct rt_pm_state s;
	struct rt_pm *pm;

	if (!p->cfg.mptcp || rt_pm_open(&pm))
		return; /* no MPTCP path manager here: the stack's defaults */
	memset(&s, 0, sizeof(s));
	if (rt_pm_read(pm, &s)) {
		rt_pm_close(pm);
		return;
	}
	rt_pm_close(pm);
	for (int i = 0; i < s.neps; i++) {
		const struct rt_pm_ep *e = &s.eps[i];
		int path;

		if (p->ep_added[e->id])
			continue;
		path = pd_path_of(p, &e->addr);
		if (path < 0)
			continue;
		if (!mpt_stack_add_endpoint(p->st, e->id, (uint32_t)path, e->flags))
			p->ep_added[e->id] = true;
	}
	if (s.have_limits)
		(void)mpt_stack_set_limits(
			p->st, rt_pm_max_subflows(s.subflows),
			(uint8_t)(s.add_addr_accepted > 255 ? 255 : s.add_addr_accepted));
}
