/* The MPTCP scheduler: which subflow carries the next data-level bytes.
 *
 * RFC 8684 3.3.8 leaves the policy open; this is the kernel's default in spirit: the
 * non-backup subflow with the lowest smoothed RTT that has room in its congestion
 * window; backup subflows only when no non-backup subflow is usable (RFC 8684 3.3.8:
 * "a backup path ... only used if there are no non-backup paths available"); stale
 * subflows only when nothing else is usable.  Data queued for reinjection (from a
 * stale or dead subflow) goes first.  In fallback everything goes to the one subflow.
 */
#include "mptcp.h"

/* Bytes a subflow may take now: what its congestion window can send in the next round
 * plus two segments of slack, minus what it already holds unsent or in flight. */
static uint32_t sf_room(const struct tcb *t)
{
	uint32_t held = (t->snd_nxt - t->snd_una) + tcp_unsent(t);
	uint32_t want = t->cc.cwnd + 2 * t->snd_mss;
	uint32_t room = want > held ? want - held : 0;
	uint32_t buf = tcp_sndbuf_room(t);

	return room < buf ? room : buf;
}

/* Tier of a subflow: 0 regular, 1 backup, 2 stale regular, 3 stale backup. */
static int tier(const struct tcb *t)
{
	bool backup = t->sf->backup || t->sf->peer_backup;

	return (t->sf->stale ? 2 : 0) + (backup ? 1 : 0);
}

/* The subflow for the next chunk, or NULL: the best tier that has a usable subflow,
 * and in it the lowest RTT with room (a full best tier waits rather than spilling to
 * backups). */
static struct tcb *pick(struct mptcp_conn *mp, const struct tcb *exclude)
{
	int best_tier = 4;
	struct tcb *best = NULL;

	for (uint32_t i = 0; i < mp->nsub; i++) {
		struct tcb *s = mp->sub[i];

		if (s != exclude && mptcp_sf_sendable(s) && tier(s) < best_tier)
			best_tier = tier(s);
	}
	for (uint32_t i = 0; i < mp->nsub; i++) {
		struct tcb *s = mp->sub[i];

		if (s == exclude || !mptcp_sf_sendable(s) || tier(s) != best_tier || !sf_room(s))
			continue;
		if (!best || s->srtt < best->srtt)
			best = s;
	}
	return best;
}

static void push_reinjections(struct mptcp_conn *mp)
{
	struct mptcp_maps *q = &mp->reinj;

	while (q->n) {
		struct tcb *t = pick(mp, NULL);
		uint64_t dsn = q->v[0].dsn;
		uint32_t n, room;

		if (!t)
			return;
		if (dsn < mp->snd_una) { /* acknowledged meanwhile */
			uint64_t skip = mp->snd_una - dsn;

			if (skip >= q->v[0].len) {
				q->v[0].len = 0;
			} else {
				q->v[0].len -= (uint32_t)skip;
				q->v[0].dsn = dsn = mp->snd_una;
			}
		}
		if (q->v[0].len) {
			room = sf_room(t);
			n = q->v[0].len < room ? q->v[0].len : room;
			n = mptcp_copy_to_subflow(mp, t, dsn, n);
			if (!n)
				return;
			mp->st->ctr.mptcp_retrans++;
			q->v[0].dsn += n;
			q->v[0].len -= n;
		}
		if (!q->v[0].len) {
			memmove(q->v, q->v + 1, (q->n - 1) * sizeof(*q->v));
			q->n--;
		}
	}
}

void mptcp_sched_push(struct mptcp_conn *mp, uint64_t now)
{
	uint64_t end = mp->snd_una + mp->sndbuf.len;

	if (mp->fallback) {
		mptcp_fallback_push(mp, now);
		return;
	}
	if (!mp->remote_key_known)
		return;
	push_reinjections(mp);
	while (mp->snd_nxt < end && mp->snd_nxt < mp->snd_wnd_edge) {
		struct tcb *t = pick(mp, NULL);
		uint64_t lim = end < mp->snd_wnd_edge ? end : mp->snd_wnd_edge;
		uint32_t n, room;

		if (!t)
			return;
		room = sf_room(t);
		n = lim - mp->snd_nxt < room ? (uint32_t)(lim - mp->snd_nxt) : room;
		/* Whole segments while more data waits: a map ends where a copy ends, and
		 * a segment never crosses a map, so a ragged copy would send a runt. */
		if (n < lim - mp->snd_nxt && t->snd_mss && n >= t->snd_mss)
			n -= n % t->snd_mss;
		n = mptcp_copy_to_subflow(mp, t, mp->snd_nxt, n);
		if (!n)
			return;
		mp->snd_nxt += n;
	}
}
