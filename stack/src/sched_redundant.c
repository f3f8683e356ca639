/* Redundant: every byte on every usable subflow of the best tier (the non-backup
 * ones; backups only when none is usable), as the out-of-tree multipath-tcp.org
 * kernel's mptcp_redundant.c and Frommgen et al., "ReMP TCP: Low latency multipath
 * TCP" (ICC 2016): trade capacity for latency and loss resilience.  The receiver
 * keeps the first copy of each byte (libmpt's data-level reassembly drops the
 * others, as Linux's does, counting them as MPTcpExtDuplicateData).
 *
 * Each subflow walks the data level on its own: it takes the next bytes after the
 * last ones it was given (the view's data_nxt), skipping what the peer already
 * DATA_ACKed, as far as its room allows.  A slow subflow therefore lags and skips,
 * never holds the fast one back, and the loss of either path costs nothing: the other
 * already carries every byte.
 */
#include "mptcp_sched.h"

static void red_get_send(const struct mptcp_sched_view *v, struct mptcp_sched_pick *p)
{
	int tier = mptcp_sched_best_tier(v);
	uint64_t lim = v->dsn + v->len; /* the end of the window's data */

	for (uint32_t i = 0; i < v->nsf; i++) {
		const struct mptcp_sched_sf *s = &v->sf[i];
		uint64_t from = s->data_nxt > v->snd_una ? s->data_nxt : v->snd_una;

		if (!s->usable || mptcp_sched_tier(s) > tier || !s->room || from >= lim)
			continue;
		/* the loop copies entries in order and a byte must not leave a gap after
		 * snd_nxt: those beyond it wait for the next round */
		if (from > v->snd_nxt)
			continue;
		mptcp_sched_give(p, i, from, lim - from < s->room ? lim - from : s->room);
	}
}

const struct mptcp_sched_ops mptcp_sched_redundant = {
	.name = "redundant",
	.desc = "every byte on every usable non-backup subflow; the receiver keeps the first",
	.get_send = red_get_send,
};
