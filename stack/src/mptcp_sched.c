/* The MPTCP send loop: which subflow carries the next data-level bytes.
 *
 * RFC 8684 3.3.8 (Subflow Policy) leaves the policy open: "Within a local MPTCP
 * implementation, a host may use any local policy it wishes to decide how to share
 * the traffic to be sent over the available paths."  As Linux's net/mptcp/sched.c,
 * the policy is an ops table (mptcp_sched.h) chosen per connection by name, and this
 * file is the mechanism around it: fill the read-only view, ask, check the answer
 * against the data-level window, copy the bytes into the subflows' send buffers.
 * Data queued for reinjection (from a stale or dead subflow) goes first.  In fallback
 * everything goes to the one subflow, without asking.
 */
#include "mptcp.h"
#include "policy_spec.h"

_Static_assert(MPTCP_SCHED_MAX_SF == MPTCP_MAX_SUBFLOWS, "one view slot per subflow");

#define SCHED_MAX_ROUNDS 4096 /* answers per push: a scheduler cannot spin the loop */

static const struct mptcp_sched_ops *const schedulers[] = {
#define MPTCP_SCHED_ENTRY(n) &mptcp_sched_##n,
	MPTCP_SCHEDULERS(MPTCP_SCHED_ENTRY)
#undef MPTCP_SCHED_ENTRY
};

const struct mptcp_sched_ops *mptcp_sched_find(const char *spec, uint32_t *arg)
{
	size_t n;
	uint32_t a;

	if (arg)
		*arg = 0;
	if (!spec || !*spec)
		return schedulers[0];
	if (!policy_spec_split(spec, &n, &a))
		return NULL;
	for (size_t i = 0; i < sizeof(schedulers) / sizeof(schedulers[0]); i++)
		if (strlen(schedulers[i]->name) == n && !strncmp(schedulers[i]->name, spec, n)) {
			if (a && (!schedulers[i]->arg_ok || !schedulers[i]->arg_ok(a)))
				return NULL;
			if (arg)
				*arg = a;
			return schedulers[i];
		}
	return NULL;
}

bool mpt_scheduler_valid(const char *spec)
{
	return mptcp_sched_find(spec, NULL) != NULL;
}

const char *mpt_scheduler_name(unsigned i, const char **desc)
{
	if (i >= sizeof(schedulers) / sizeof(schedulers[0]))
		return NULL;
	if (desc)
		*desc = schedulers[i]->desc;
	return schedulers[i]->name;
}

/* Bytes a subflow may take now: what its congestion window can send in the next round
 * plus two segments of slack, minus what it already holds unsent or in flight, in
 * whole segments (a byte-counted window, as CUBIC's or a coupled one's, leaves a
 * fraction: handed out, it would become a runt segment). */
static uint32_t sf_room(const struct tcb *t)
{
	uint32_t held = (t->snd_nxt - t->snd_una) + tcp_unsent(t);
	uint32_t want = t->cc.cwnd + 2 * t->snd_mss;
	uint32_t room = want > held ? want - held : 0;
	uint32_t buf = tcp_sndbuf_room(t);

	room = room < buf ? room : buf;
	return t->snd_mss ? room - room % t->snd_mss : room;
}

static void view_fill(struct mptcp_conn *mp, struct mptcp_sched_view *v, enum mptcp_sched_kind kind,
		      uint64_t dsn, uint64_t len, uint64_t now)
{
	v->kind = kind;
	v->now = now;
	v->snd_una = mp->snd_una;
	v->snd_nxt = mp->snd_nxt;
	v->end = mp->snd_una + mp->sndbuf.len;
	v->wnd_edge = mp->snd_wnd_edge;
	v->dsn = dsn;
	v->len = len;
	v->burst_segs = mp->sched_arg		       ? mp->sched_arg
			: mp->st->cfg.sched_burst_segs ? mp->st->cfg.sched_burst_segs
						       : 1;
	v->priv = mp->sched_priv;
	v->nsf = mp->nsub;
	for (uint32_t i = 0; i < mp->nsub; i++) {
		struct tcb *t = mp->sub[i];
		struct mptcp_sched_sf *s = &v->sf[i];

		s->usable = mptcp_sf_sendable(t);
		s->backup = t->sf->backup || t->sf->peer_backup;
		s->stale = t->sf->stale;
		s->rto_recovery = t->in_loss || t->rto_slow_start;
		s->srtt_ns = t->srtt;
		s->rttvar_ns = t->rttvar;
		s->mss = t->snd_mss;
		s->cwnd = t->cc.cwnd;
		s->in_flight = t->snd_nxt - t->snd_una;
		s->queued = tcp_unsent(t);
		s->room = s->usable ? sf_room(t) : 0;
		s->sndbuf_room = tcp_sndbuf_room(t);
		s->data_nxt = t->sf->sched_data_nxt;
		s->priv = t->sf->sched_priv;
	}
}

void mptcp_sched_set(struct mptcp_conn *mp, const struct mptcp_sched_ops *ops, uint32_t arg)
{
	mp->sched = ops ? ops : schedulers[0];
	mp->sched_arg = ops ? arg : 0;
	memset(mp->sched_priv, 0, sizeof(mp->sched_priv));
	for (uint32_t i = 0; i < mp->nsub; i++)
		memset(mp->sub[i]->sf->sched_priv, 0, sizeof(mp->sub[i]->sf->sched_priv));
	if (mp->sched->init)
		mp->sched->init(mp->sched_priv);
}

static const struct mptcp_sched_ops *sched_of(struct mptcp_conn *mp)
{
	/* mpt_stack_new checked the name */
	if (!mp->sched)
		mptcp_sched_set(mp, mptcp_sched_find(mp->st->cfg.scheduler, NULL),
				mp->st->sched_arg);
	return mp->sched;
}

static uint32_t give(struct mptcp_conn *mp, struct tcb *t, uint64_t dsn, uint32_t n)
{
	n = mptcp_copy_to_subflow(mp, t, dsn, n);
	if (n && dsn + n > t->sf->sched_data_nxt)
		t->sf->sched_data_nxt = dsn + n;
	return n;
}

static void push_reinjections(struct mptcp_conn *mp, uint64_t now)
{
	const struct mptcp_sched_ops *ops = sched_of(mp);
	struct mptcp_maps *q = &mp->reinj;
	struct mptcp_sched_view v;

	while (q->n) {
		struct mptcp_sched_pick p = {0};
		uint64_t dsn = q->v[0].dsn;
		struct tcb *t;
		uint32_t n;

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
			view_fill(mp, &v, MPTCP_SCHED_REINJECT, dsn, q->v[0].len, now);
			/* a subflow still holding these bytes in flight carries them with
			 * its own retransmissions: twice in its stream, a fallback would
			 * deliver them twice (issue 11) */
			for (uint32_t i = 0; i < mp->nsub; i++)
				if (v.sf[i].usable && mptcp_sf_holds(mp->sub[i], dsn)) {
					v.sf[i].usable = false;
					v.sf[i].room = 0;
				}
			(ops->get_retrans ? ops->get_retrans : mptcp_sched_default.get_send)(&v,
											     &p);
			if (!p.n) {
				mp->st->ctr.sched_wait++;
				return;
			}
			/* one subflow carries a reinjection: the first answer, from dsn */
			if (p.v[0].sf >= mp->nsub || !v.sf[p.v[0].sf].usable || p.v[0].dsn != dsn) {
				mp->st->ctr.sched_bad_pick++;
				return;
			}
			mp->st->ctr.sched_pick++;
			t = mp->sub[p.v[0].sf];
			n = p.v[0].len < q->v[0].len ? p.v[0].len : q->v[0].len;
			n = give(mp, t, dsn, n);
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

/* Apply one answer for new data; returns the bytes copied. */
static uint64_t apply(struct mptcp_conn *mp, const struct mptcp_sched_view *v,
		      const struct mptcp_sched_pick *p, uint64_t lim)
{
	uint64_t moved = 0;

	if (p->held_back)
		mp->st->ctr.sched_hold_back++;
	for (uint32_t k = 0; k < p->n; k++) {
		uint64_t dsn = p->v[k].dsn;
		uint32_t n = p->v[k].len;
		struct tcb *t;

		/* only bytes of the window that were sent already or come next */
		if (p->v[k].sf >= mp->nsub || !v->sf[p->v[k].sf].usable || dsn < mp->snd_una ||
		    dsn > mp->snd_nxt || dsn >= lim || !n) {
			mp->st->ctr.sched_bad_pick++;
			continue;
		}
		mp->st->ctr.sched_pick++;
		t = mp->sub[p->v[k].sf];
		if (n > lim - dsn)
			n = (uint32_t)(lim - dsn);
		/* Whole segments while more data waits: a map ends where a copy ends, and
		 * a segment never crosses a map, so a ragged copy would send a runt.  Less
		 * than a segment (the fraction of a byte-counted window: cwnd + 2 MSS -
		 * held) waits for the room to grow: runts would take a packet's place in
		 * a bottleneck queue for part of its bytes, and leave in bursts of three. */
		if (n < lim - dsn && t->snd_mss) {
			if (n < t->snd_mss) {
				mp->st->ctr.sched_runt_wait++;
				continue;
			}
			n -= n % t->snd_mss;
		}
		n = give(mp, t, dsn, n);
		if (dsn < mp->snd_nxt)
			mp->st->ctr.sched_redundant_bytes +=
				dsn + n <= mp->snd_nxt ? n : mp->snd_nxt - dsn;
		if (dsn + n > mp->snd_nxt)
			mp->snd_nxt = dsn + n;
		moved += n;
	}
	return moved;
}

/* The right edge new data may reach.  Linux (6.18) moves a subflow's in-sequence
 * bytes into the connection only while the connection's memory, its out-of-order
 * queue included, is within its receive buffer ("over limit? can't append more skbs
 * to msk", net/mptcp/protocol.c __mptcp_data_ready), and it sizes the window it
 * announces to that buffer.  A sender that fills the whole window on one subflow
 * while the head of the window is still on its way on another fills that buffer with
 * out-of-order data; the head then arrives, is acknowledged at the TCP level, and is
 * never taken in: the connection stalls for good (seen against `nc -l` under
 * mptcpize: a 164-byte tail of a map on the join subflow, the window filled behind it
 * on the first).  The window Linux announces is the buffer's free space times the
 * payload share it measured of its buffers (tcp_win_from_space), and out-of-order
 * segments, kept one by one, cost more: an eighth left free still wedged a 40 Mbit/s
 * iperf3 to Linux (msk rmem 3.8 MB over its buffer, the head in the other subflow's
 * queue) about one run in four; a quarter, none in 16.  So while two or more subflows
 * can carry data, new data leaves the last quarter of the window free. */
static uint64_t new_data_edge(struct mptcp_conn *mp)
{
	uint64_t edge = mp->snd_wnd_edge;
	uint32_t usable = 0;

	for (uint32_t i = 0; i < mp->nsub && usable < 2; i++)
		usable += mptcp_sf_sendable(mp->sub[i]);
	if (usable < 2 || edge <= mp->snd_una)
		return edge;
	return edge - (edge - mp->snd_una) / 4;
}

void mptcp_sched_push(struct mptcp_conn *mp, uint64_t now)
{
	const struct mptcp_sched_ops *ops;
	uint64_t end = mp->snd_una + mp->sndbuf.len, edge, lim;
	struct mptcp_sched_view v;

	if (mp->fallback) {
		mptcp_fallback_push(mp, now);
		return;
	}
	if (!mp->remote_key_known)
		return;
	ops = sched_of(mp);
	for (uint32_t i = 0; i < mp->nsub; i++)
		if (mptcp_sf_sendable(mp->sub[i]))
			tcp_idle_restart(mp->sub[i], now);
	push_reinjections(mp, now);
	/* the window, the queue end and the subflows' states stay as they are while the
	 * loop hands out data: the limit once */
	edge = new_data_edge(mp);
	lim = end < edge ? end : edge;
	/* nothing new, and nothing in the window a scheduler could send again */
	if (lim <= mp->snd_una)
		return;
	for (int round = 0; round < SCHED_MAX_ROUNDS; round++) {
		struct mptcp_sched_pick p = {0};

		if (mp->snd_nxt >= lim && lim < end && lim < mp->snd_wnd_edge)
			mp->st->ctr.sched_wnd_reserve++;
		if (mp->snd_nxt >= lim) {
			/* no new data can go: maybe the head again, on an idle subflow */
			mptcp_head_reinject(mp);
			if (mp->reinj.n)
				push_reinjections(mp, now);
		}
		view_fill(mp, &v, MPTCP_SCHED_NEW, mp->snd_nxt,
			  lim > mp->snd_nxt ? lim - mp->snd_nxt : 0, now);
		ops->get_send(&v, &p);
		if (!p.n) {
			if (mp->snd_nxt < lim)
				mp->st->ctr.sched_wait++;
			if (p.held_back)
				mp->st->ctr.sched_hold_back++;
			return;
		}
		if (!apply(mp, &v, &p, lim))
			return;
	}
}

struct tcb *mptcp_sched_signal_sf(struct mptcp_conn *mp)
{
	struct tcb *best = NULL;

	for (uint32_t i = 0; i < mp->nsub; i++) {
		struct tcb *s = mp->sub[i];

		if (!mptcp_sf_sendable(s))
			continue;
		if (!best || (best->sf->stale && !s->sf->stale) ||
		    (best->sf->stale == s->sf->stale && s->srtt < best->srtt))
			best = s;
	}
	if (best)
		mp->st->ctr.sched_signal++;
	return best;
}
