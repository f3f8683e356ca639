/* Round robin: the usable subflows of the best tier (backups only when no regular one
 * is usable, stale ones last) take turns, each sending a burst of N segments
 * ("roundrobin:N", else mpt_config.sched_burst_segs, default 1) before the next one's
 * turn, as the out-of-tree multipath-tcp.org kernel's mptcp_rr.c ("num_segments").  A subflow
 * whose congestion window is full loses its turn (that scheduler's `cwnd_limited`
 * default): round robin never waits on one slow path while another has room.
 * Reinjections go the default way (lowest RTT with room).
 */
#include "mptcp_sched.h"

#include <string.h>

struct rr {
	uint32_t cur;	 /* subflow whose turn it is */
	uint32_t credit; /* bytes left in its burst; 0: its turn is over */
};

_Static_assert(sizeof(struct rr) <= MPTCP_SCHED_CONN_PRIV, "rr state");

static void rr_get_send(const struct mptcp_sched_view *v, struct mptcp_sched_pick *p)
{
	int tier = mptcp_sched_best_tier(v);
	struct rr rr;

	if (!v->len || !v->nsf)
		return;
	memcpy(&rr, v->priv, sizeof(rr));
	for (uint32_t k = 0; k <= v->nsf; k++) {
		uint32_t i = (rr.cur + k) % v->nsf;
		const struct mptcp_sched_sf *s = &v->sf[i];
		uint64_t n;

		if (k > 0 || i != rr.cur || !rr.credit)
			rr.credit = 0; /* a new turn starts below */
		if (!s->usable || mptcp_sched_tier(s) > tier || !s->room)
			continue;
		if (!rr.credit)
			rr.credit = v->burst_segs * (s->mss ? s->mss : 1);
		n = v->len < rr.credit ? v->len : rr.credit;
		if (n > s->room)
			n = s->room;
		rr.cur = i;
		rr.credit -= (uint32_t)n;
		if (!rr.credit)
			rr.cur = (i + 1) % v->nsf;
		mptcp_sched_give(p, i, v->dsn, n);
		break;
	}
	memcpy(v->priv, &rr, sizeof(rr));
}

static bool rr_arg_ok(uint32_t burst)
{
	return burst >= 1 && burst <= 64;
}

const struct mptcp_sched_ops mptcp_sched_roundrobin = {
	.name = "roundrobin",
	.desc = "subflows take turns of N segments (roundrobin:N, 1..64, default 1)",
	.arg_ok = rr_arg_ok,
	.get_send = rr_get_send,
};
