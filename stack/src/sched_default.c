/* The default scheduler: the kernel's default in spirit (net/mptcp/protocol.c,
 * mptcp_subflow_get_send): the non-backup subflow with the lowest smoothed RTT that
 * has room in its congestion window; backup subflows only when no non-backup subflow
 * is usable (RFC 8684 3.3.8: "a backup path ... only used if there are no non-backup
 * paths available"); stale subflows only when nothing else is usable.  A full best
 * tier waits rather than spilling to backups.  Reinjections follow the same rule.
 */
#include "mptcp_sched.h"

static void default_get_send(const struct mptcp_sched_view *v, struct mptcp_sched_pick *p)
{
	int best_tier = mptcp_sched_best_tier(v);
	const struct mptcp_sched_sf *best = NULL;
	uint32_t bi = 0;

	if (!v->len)
		return;
	for (uint32_t i = 0; i < v->nsf; i++) {
		const struct mptcp_sched_sf *s = &v->sf[i];

		if (!s->usable || mptcp_sched_tier(s) > best_tier || !s->room)
			continue;
		if (!best || s->srtt_ns < best->srtt_ns) {
			best = s;
			bi = i;
		}
	}
	if (best)
		mptcp_sched_give(p, bi, v->dsn, v->len < best->room ? v->len : best->room);
}

const struct mptcp_sched_ops mptcp_sched_default = {
	.name = "default",
	.desc = "lowest RTT with room; backups only when nothing else; stale last",
	.get_send = default_get_send,
	.get_retrans = default_get_send,
};
