/* BALIA, the Balanced Linked Adaptation algorithm: Q. Peng, A. Walid, J. Hwang, S. H.
 * Low, "Multipath TCP: Analysis, Design, and Implementation", IEEE/ACM Transactions on
 * Networking 24(1), 2016, section VI:
 *
 *   "For each ACK on path r, increase w_r by
 *
 *          x_r              1 + alpha_r   4 + alpha_r
 *      ---------------- * ----------- * -----------
 *      tau_r (sum_k x_k)^2       2             5
 *
 *    For each packet loss on path r, decrease w_r by
 *
 *      w_r / 2 * min{alpha_r, 1.5}"
 *
 *   where x_k = w_k / tau_k (tau: RTT) and alpha_r = max_k{x_k} / x_r.
 *
 * Windows here are bytes: the per-ACK increase in packets times MSS, for acked/MSS
 * packets, i.e. acked * MSS_r * X_r / (tau_r (sum X_k)^2) * (1+a)/2 * (4+a)/5 with X in
 * bytes per second; on a loss w_r is RFC 5681's FlightSize (as the engine's NewReno
 * halves it).  Slow start and recovery are NewReno's (cc.h).  On a connection of one
 * alpha = 1 and both rules are NewReno's.
 *
 * The out-of-tree kernel (net/mptcp/mptcp_balia.c) has the same increase (its ai =
 * (sum x)^2 * 10 * w_r / ((x_r + max x)(4 x_r + max x)) ACKs per packet is the
 * paper's term turned upside down), but counts it per ACK rather than per acknowledged
 * segment, and computes alpha = max_rate / rate in integers, so its decrease
 * cwnd/2 * min(alpha, 1.5) is cwnd/2 for every alpha below 2 and 3/4 cwnd above.  We
 * follow the paper: alpha real-valued (the decrease then grows smoothly from 1/2 at
 * alpha = 1 to 3/4 at alpha = 1.5, the balance the paper's analysis relies on), the
 * increase per acknowledged byte as the engine's NewReno.
 */
#include "cc.h"

struct balia {
	double frac;  /* fractional bytes of growth */
	double alpha; /* the last alpha_r computed */
};

_Static_assert(sizeof(struct balia) <= sizeof(((struct mpt_cc *)0)->priv), "balia state");

/* x_k = w_k / tau_k for the coupled paths; *sum, *max over them; returns n. */
static uint32_t rates(const struct mpt_cc *cc, struct cc_path *p, uint32_t *self, double *x_self,
		      double *sum, double *max)
{
	uint32_t n = cc_coupled_paths(cc, p, self);

	*sum = 0;
	*max = 0;
	for (uint32_t i = 0; i < n; i++) {
		double x = p[i].cwnd / p[i].rtt;

		*sum += x;
		if (x > *max)
			*max = x;
	}
	*x_self = p[*self].cwnd / p[*self].rtt;
	return n;
}

double cc_balia_alpha(const struct mpt_cc *cc)
{
	struct cc_path p[MPT_CC_MAX_SF];
	uint32_t self;
	double x, sum, max;

	if (rates(cc, p, &self, &x, &sum, &max) == 1 || x <= 0)
		return 1.0;
	/* alpha_r = max_k{x_k} / x_r */
	return max / x;
}

double cc_balia_increase(const struct mpt_cc *cc, uint32_t acked)
{
	struct cc_path p[MPT_CC_MAX_SF];
	uint32_t self;
	double x, sum, max, a = cc_balia_alpha(cc);

	rates(cc, p, &self, &x, &sum, &max);
	if (sum <= 0)
		return 0;
	/* x_r / (tau_r (sum_k x_k)^2) * (1 + alpha_r)/2 * (4 + alpha_r)/5, per packet */
	return (double)acked * cc->mss * x / (p[self].rtt * sum * sum) * (1.0 + a) / 2.0 *
	       (4.0 + a) / 5.0;
}

double cc_balia_decrease(const struct mpt_cc *cc)
{
	double a = cc_balia_alpha(cc);

	/* w_r - w_r / 2 * min{alpha_r, 1.5} */
	return cc->flight - cc->flight / 2.0 * (a < 1.5 ? a : 1.5);
}

static void balia_init(struct mpt_cc *cc, uint64_t now)
{
	struct balia s = {.frac = 0, .alpha = 1.0};

	memcpy(cc->priv, &s, sizeof(s));
}

static void balia_on_ack(struct mpt_cc *cc, uint32_t acked, uint64_t rtt_ns, uint64_t now)
{
	struct balia s;

	if (cc_slow_start(cc, acked))
		return;
	memcpy(&s, cc->priv, sizeof(s));
	s.alpha = cc_balia_alpha(cc);
	cc_add(cc, &s.frac, cc_balia_increase(cc, acked));
	memcpy(cc->priv, &s, sizeof(s));
}

static void balia_loss(struct mpt_cc *cc, uint32_t cwnd_after)
{
	struct balia s;
	double w = cc_balia_decrease(cc);

	memcpy(&s, cc->priv, sizeof(s));
	s.alpha = cc_balia_alpha(cc);
	s.frac = 0;
	memcpy(cc->priv, &s, sizeof(s));
	cc->ssthresh = w > 2.0 * cc->mss ? (uint32_t)w : 2 * cc->mss;
	cc->cwnd = cwnd_after ? cwnd_after : cc->ssthresh;
}

static void balia_on_congestion(struct mpt_cc *cc, uint64_t now)
{
	balia_loss(cc, 0);
}

static void balia_on_recovery_end(struct mpt_cc *cc, uint64_t now)
{
	cc->cwnd = cc->ssthresh;
}

static void balia_on_rto(struct mpt_cc *cc, uint64_t now)
{
	balia_loss(cc, cc->mss);
}

const struct mpt_cc_ops mpt_cc_balia = {
	.name = "balia",
	.desc = "BALIA (Peng et al. 2016): coupled, balances friendliness and responsiveness",
	.init = balia_init,
	.on_ack = balia_on_ack,
	.on_congestion = balia_on_congestion,
	.on_recovery_end = balia_on_recovery_end,
	.on_rto = balia_on_rto,
};
