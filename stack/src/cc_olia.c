/* OLIA, the Opportunistic Linked-Increases Algorithm: R. Khalili, N. Gast, M. Popovic,
 * U. Upadhyay, J.-Y. Le Boudec, "MPTCP is not Pareto-optimal: performance issues and
 * a possible solution", ACM CoNEXT 2012 (and IEEE/ACM ToN 21(5), 2013), section 5:
 *
 *   "For each ACK on path r, increase w_r by
 *
 *          w_r / rtt_r^2                alpha_r
 *      ------------------------   +   ---------
 *      ( sum_p  w_p / rtt_p )^2          w_r
 *
 *    For each loss on path r, decrease w_r by w_r / 2."
 *
 *   with l_r the number of bytes transmitted on path r between the last two losses
 *   (l_r = max(l1_r, l2_r): l2_r counts the bytes since the last loss), the set of
 *   presumably best paths B = { r : l_r / rtt_r^2 is maximal }, the set of paths with
 *   the largest window M = { r : w_r is maximal }, and
 *
 *      alpha_r =  1 / (|R_u| |B\M|)   if r in B\M != {}
 *                -1 / (|R_u| |M|)     if r in M and B\M != {}
 *                 0                   otherwise
 *
 *   R_u being the paths of the connection.
 *
 * Windows here are bytes: the per-ACK increase in packets, times MSS, for acked/MSS
 * packets, i.e.  acked * MSS_r * (W_r/rtt_r^2 / (sum W_p/rtt_p)^2 + alpha_r / W_r)
 * with W in bytes.  Slow start and recovery are NewReno's (cc.h).
 *
 * The out-of-tree kernel (net/mptcp/mptcp_olia.c) computes the same sets (its
 * mptcp_get_epsilon: best path by max l/rtt^2 with l = max(loss3 - loss2, loss2 -
 * loss1) over snd_una marks, M by max cwnd), in packets with 2^10 scaling, and counts
 * one increase per ACK rather than per acknowledged segment.  We follow the paper's
 * per-packet increase (per acknowledged byte, as the engine's NewReno); the loss marks
 * are the kernel's (a loss moves them only if bytes were acknowledged since the last
 * one, so an RTO repeated without progress is one loss).
 */
#include "cc.h"

struct olia {
	double frac;	/* fractional bytes of growth (or decrease) */
	double alpha;	/* the last alpha_r computed (epsilon in the kernel) */
	uint64_t acked; /* bytes cumulatively acknowledged (the kernel's loss3) */
	uint64_t loss1; /* acked at the loss before the last */
	uint64_t loss2; /* acked at the last loss */
};

_Static_assert(sizeof(struct olia) <= sizeof(((struct mpt_cc *)0)->priv), "olia state");

uint64_t cc_olia_interloss(const uint64_t *priv)
{
	struct olia s;
	uint64_t l1, l2;

	memcpy(&s, priv, sizeof(s));
	l1 = s.loss2 - s.loss1;
	l2 = s.acked - s.loss2;
	return l1 > l2 ? l1 : l2;
}

/* l_r of a path: its own priv for cc's subflow, a sibling's when it runs OLIA too,
 * else 0. */
static double interloss(const struct mpt_cc *cc, const struct cc_path *p, bool self)
{
	if (self)
		return (double)cc_olia_interloss(cc->priv);
	if (p->sf && p->sf->ops == &mpt_cc_olia && p->sf->priv)
		return (double)cc_olia_interloss(p->sf->priv);
	return 0;
}

double cc_olia_alpha(const struct mpt_cc *cc)
{
	struct cc_path p[MPT_CC_MAX_SF];
	double l[MPT_CC_MAX_SF], best_l = 0, best_rtt2 = 1, max_w = 0;
	uint32_t self, n = cc_coupled_paths(cc, p, &self), nm = 0, nbm = 0;
	bool in_b[MPT_CC_MAX_SF];

	if (n == 1)
		return 0;
	for (uint32_t i = 0; i < n; i++) {
		double rtt2 = p[i].rtt * p[i].rtt;

		l[i] = interloss(cc, &p[i], i == self);
		/* B: max l_r / rtt_r^2, compared as l_r * rtt_b^2 >= l_b * rtt_r^2 */
		if (l[i] * best_rtt2 >= best_l * rtt2) {
			best_l = l[i];
			best_rtt2 = rtt2;
		}
		if (p[i].cwnd > max_w)
			max_w = p[i].cwnd;
	}
	for (uint32_t i = 0; i < n; i++) {
		in_b[i] = l[i] * best_rtt2 == best_l * (p[i].rtt * p[i].rtt);
		if (p[i].cwnd == max_w)
			nm++;
		else if (in_b[i])
			nbm++;
	}
	if (!nbm)
		return 0;
	if (p[self].cwnd != max_w && in_b[self])
		return 1.0 / ((double)n * nbm);
	if (p[self].cwnd == max_w)
		return -1.0 / ((double)n * nm);
	return 0;
}

double cc_olia_increase(const struct mpt_cc *cc, uint32_t acked)
{
	struct cc_path p[MPT_CC_MAX_SF];
	uint32_t self, n = cc_coupled_paths(cc, p, &self);
	double sum = 0, w = p[self].cwnd, rtt = p[self].rtt;

	for (uint32_t i = 0; i < n; i++)
		sum += p[i].cwnd / p[i].rtt;
	if (sum <= 0 || w <= 0)
		return 0;
	return (double)acked * cc->mss * ((w / (rtt * rtt)) / (sum * sum) + cc_olia_alpha(cc) / w);
}

static void olia_init(struct mpt_cc *cc, uint64_t now)
{
	struct olia s;

	memset(&s, 0, sizeof(s));
	memcpy(cc->priv, &s, sizeof(s));
}

static void olia_on_ack(struct mpt_cc *cc, uint32_t acked, uint64_t rtt_ns, uint64_t now)
{
	struct olia s;

	memcpy(&s, cc->priv, sizeof(s));
	s.acked += acked;
	memcpy(cc->priv, &s, sizeof(s));
	if (cc_slow_start(cc, acked))
		return;
	s.alpha = cc_olia_alpha(cc);
	cc_add(cc, &s.frac, cc_olia_increase(cc, acked));
	memcpy(cc->priv, &s, sizeof(s));
}

/* "For each loss on path r, decrease w_r by w_r / 2" (RFC 5681's halving of the
 * flight), and the loss marks move: l1 = the bytes between the last two losses. */
static void olia_loss(struct mpt_cc *cc, uint32_t cwnd_after)
{
	struct olia s;

	memcpy(&s, cc->priv, sizeof(s));
	if (s.acked != s.loss2) {
		s.loss1 = s.loss2;
		s.loss2 = s.acked;
	}
	s.frac = 0;
	memcpy(cc->priv, &s, sizeof(s));
	cc->ssthresh = cc_half_flight(cc);
	cc->cwnd = cwnd_after ? cwnd_after : cc->ssthresh;
}

static void olia_on_congestion(struct mpt_cc *cc, uint64_t now)
{
	olia_loss(cc, 0);
}

static void olia_on_recovery_end(struct mpt_cc *cc, uint64_t now)
{
	cc->cwnd = cc->ssthresh;
}

static void olia_on_rto(struct mpt_cc *cc, uint64_t now)
{
	olia_loss(cc, cc->mss);
}

const struct mpt_cc_ops mpt_cc_olia = {
	.name = "olia",
	.desc = "OLIA (Khalili et al. 2012): coupled, Pareto-optimal, responsive",
	.init = olia_init,
	.on_ack = olia_on_ack,
	.on_congestion = olia_on_congestion,
	.on_recovery_end = olia_on_recovery_end,
	.on_rto = olia_on_rto,
};
