/* BLEST: Ferlin, Alay, Mehani, Boreli, "BLEST: Blocking Estimation-based MPTCP
 * Scheduler for Heterogeneous Networks", IFIP Networking 2016.
 *
 * The default rule picks the lowest-RTT subflow with room; when that is not the
 * fastest subflow (the fastest is full), BLEST asks whether sending on the slower one
 * would block the data-level window: while a segment sent on the slow subflow x_s is
 * in flight (about RTT_s), the fast subflow x_f would send, growing its window by one
 * segment per RTT as Reno does,
 *
 *     X = MSS_f * (CWND_f + (rtts - 1) / 2) * rtts,   rtts = RTT_s / RTT_f
 *
 * (the paper's estimate, CWND_f in segments), and those bytes need room in the
 * connection's send window W beside what x_s holds.  If lambda * X > W - (inflight_s
 * + the new bytes), x_s is skipped and the data waits for x_f.  Here the answer is a
 * length: x_s gets what leaves lambda * X free, whole segments, or nothing.
 *
 * lambda corrects the estimate.  As the out-of-tree multipath-tcp.org kernel's
 * mptcp_blest.c does, it starts at 1.2 and moves within
 * 1.0 .. 1.3 once per fast-subflow RTT: up 0.04 when the window blocked sending in
 * that time (mptcp_blest.c's signal is its retransmission to free the receive
 * buffer; libmpt has none, so the block itself is the signal: data waiting and
 * snd_nxt at the window's edge), down 0.01 otherwise.  Reinjections go the default way.
 */
#include "mptcp_sched.h"

#include <string.h>

#define BLEST_LAMBDA_INIT 1.2
#define BLEST_LAMBDA_MIN  1.0
#define BLEST_LAMBDA_MAX  1.3
#define BLEST_LAMBDA_UP	  0.04
#define BLEST_LAMBDA_DOWN 0.01

struct blest {
	double lambda;
	uint64_t updated_at; /* last lambda change (view time) */
	bool blocked;	     /* the window blocked sending since then */
};

_Static_assert(sizeof(struct blest) <= MPTCP_SCHED_CONN_PRIV, "blest state");

static void blest_init(void *priv)
{
	struct blest b = {.lambda = BLEST_LAMBDA_INIT};

	memcpy(priv, &b, sizeof(b));
}

/* The fastest usable subflow of the best tier (room or not), and the default rule's
 * choice (the fastest with room); -1 for none. */
static void fast_and_best(const struct mptcp_sched_view *v, int *fast, int *best)
{
	int tier = mptcp_sched_best_tier(v);

	*fast = *best = -1;
	for (uint32_t i = 0; i < v->nsf; i++) {
		const struct mptcp_sched_sf *s = &v->sf[i];

		if (!s->usable || mptcp_sched_tier(s) > tier)
			continue;
		if (*fast < 0 || s->srtt_ns < v->sf[*fast].srtt_ns)
			*fast = (int)i;
		if (s->room && (*best < 0 || s->srtt_ns < v->sf[*best].srtt_ns))
			*best = (int)i;
	}
}

static void blest_adapt(struct blest *b, const struct mptcp_sched_view *v, uint64_t srtt_f)
{
	if (v->end > v->snd_nxt && v->snd_nxt >= v->wnd_edge)
		b->blocked = true;
	if (!b->updated_at) { /* the first RTT starts now */
		b->updated_at = v->now ? v->now : 1;
		return;
	}
	if (!srtt_f || v->now - b->updated_at < srtt_f)
		return;
	b->lambda += b->blocked ? BLEST_LAMBDA_UP : -BLEST_LAMBDA_DOWN;
	if (b->lambda < BLEST_LAMBDA_MIN)
		b->lambda = BLEST_LAMBDA_MIN;
	if (b->lambda > BLEST_LAMBDA_MAX)
		b->lambda = BLEST_LAMBDA_MAX;
	b->blocked = false;
	b->updated_at = v->now;
}

static void blest_get_send(const struct mptcp_sched_view *v, struct mptcp_sched_pick *p)
{
	const struct mptcp_sched_sf *f, *s;
	struct blest b;
	int fi, si;
	uint64_t n, w, held;
	double rtts, x, room;

	memcpy(&b, v->priv, sizeof(b));
	fast_and_best(v, &fi, &si);
	blest_adapt(&b, v, fi >= 0 ? v->sf[fi].srtt_ns : 0);
	memcpy(v->priv, &b, sizeof(b));
	if (!v->len || si < 0)
		return;
	s = &v->sf[si];
	n = v->len < s->room ? v->len : s->room;
	f = &v->sf[fi];
	if (si == fi || !f->srtt_ns || !s->srtt_ns || !f->mss) {
		mptcp_sched_give(p, (uint32_t)si, v->dsn, n);
		return;
	}
	rtts = (double)s->srtt_ns / (double)f->srtt_ns;
	x = (double)f->mss * ((double)f->cwnd / f->mss + (rtts - 1.0) / 2.0) * rtts;
	w = v->wnd_edge > v->snd_una ? v->wnd_edge - v->snd_una : 0;
	held = (uint64_t)s->in_flight + s->queued;
	room = (double)w - (double)held - b.lambda * x;
	if (room < (double)(s->mss ? s->mss : 1) && room < (double)n) {
		p->held_back = true; /* x_s would block x_f: wait for x_f */
		return;
	}
	if (room < (double)n)
		n = (uint64_t)room - (s->mss ? (uint64_t)room % s->mss : 0);
	mptcp_sched_give(p, (uint32_t)si, v->dsn, n);
}

const struct mptcp_sched_ops mptcp_sched_blest = {
	.name = "blest",
	.desc = "default, but skips a slow subflow when it would block the window (BLEST)",
	.init = blest_init,
	.get_send = blest_get_send,
};
