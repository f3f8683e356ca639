/* ECF, Earliest Completion First: Lim, Nahum, Towsley, Gibbens, "ECF: An MPTCP Path
 * Scheduler to Manage Heterogeneous Paths", CoNEXT 2017.
 *
 * The default rule picks the lowest-RTT subflow with room; when that is a slower
 * subflow x_s (the fastest, x_f, is full), ECF compares finishing the k bytes waiting
 * at the data level on x_f alone, after it frees up, with sending on x_s now.  With
 * n = 1 + k / CWND_f rounds of x_f and delta = max(RTTVAR_f, RTTVAR_s):
 *
 *     if n * RTT_f < (1 + waiting * beta) * (RTT_s + delta):
 *         if (k / CWND_s) * RTT_s >= 2 * RTT_f + delta:
 *             wait for x_f (waiting = 1)
 *         else: use x_s
 *     else: use x_s (waiting = 0)
 *
 * beta = 0.25 is the hysteresis: once ECF waits, it keeps waiting until sending on
 * x_s wins by a quarter of an RTT_s more.  k/CWND_s is at least one round (a window's
 * worth).  k counts the bytes the peer's data-level window lets go now (the paper's
 * send buffer holds them; bytes beyond the window finish no sooner on either path).
 * Reinjections go the default way.
 */
#include "mptcp_sched.h"

#include <string.h>

#define ECF_BETA 0.25

struct ecf {
	bool waiting;
};

_Static_assert(sizeof(struct ecf) <= MPTCP_SCHED_CONN_PRIV, "ecf state");

static void ecf_get_send(const struct mptcp_sched_view *v, struct mptcp_sched_pick *p)
{
	int tier = mptcp_sched_best_tier(v), fi = -1, si = -1;
	const struct mptcp_sched_sf *f, *s;
	double k, cf, cs, rf, rs, delta;
	struct ecf e;
	uint64_t n;

	if (!v->len)
		return;
	for (uint32_t i = 0; i < v->nsf; i++) {
		const struct mptcp_sched_sf *x = &v->sf[i];

		if (!x->usable || mptcp_sched_tier(x) > tier)
			continue;
		if (fi < 0 || x->srtt_ns < v->sf[fi].srtt_ns)
			fi = (int)i;
		if (x->room && (si < 0 || x->srtt_ns < v->sf[si].srtt_ns))
			si = (int)i;
	}
	if (si < 0)
		return;
	s = &v->sf[si];
	f = &v->sf[fi];
	n = v->len < s->room ? v->len : s->room;
	if (si == fi || !f->srtt_ns || !s->srtt_ns || !f->cwnd || !s->cwnd) {
		mptcp_sched_give(p, (uint32_t)si, v->dsn, n);
		return;
	}
	memcpy(&e, v->priv, sizeof(e));
	k = (double)v->len; /* not yet given to a subflow, within the peer's window */
	cf = f->cwnd;
	cs = s->cwnd;
	rf = (double)f->srtt_ns;
	rs = (double)s->srtt_ns;
	delta = (double)(f->rttvar_ns > s->rttvar_ns ? f->rttvar_ns : s->rttvar_ns);
	if ((1.0 + k / cf) * rf < (1.0 + (e.waiting ? ECF_BETA : 0.0)) * (rs + delta)) {
		if ((k > cs ? k : cs) / cs * rs >= 2.0 * rf + delta) {
			e.waiting = true;
			memcpy(v->priv, &e, sizeof(e));
			p->held_back = true;
			return;
		}
	} else {
		e.waiting = false;
	}
	memcpy(v->priv, &e, sizeof(e));
	mptcp_sched_give(p, (uint32_t)si, v->dsn, n);
}

const struct mptcp_sched_ops mptcp_sched_ecf = {
	.name = "ecf",
	.desc = "default, but waits for the fast subflow when it finishes sooner (ECF)",
	.get_send = ecf_get_send,
};
