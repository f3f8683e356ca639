/* Congestion control: NewReno (RFC 5681 / RFC 6582 / RFC 3465) and CUBIC (RFC 9438),
 * each an mpt_cc_ops table.  The engine owns the loss-recovery machinery (which
 * segments to retransmit, RFC 6675 pipe); these only move cwnd and ssthresh. */
#include "cc.h"

#include <math.h>
#include <string.h>

static uint32_t max_u32(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* ---- NewReno ---- */
/* priv[0]: bytes acked since the last congestion-avoidance increase. */

static void reno_init(struct mpt_cc *cc, uint64_t now)
{
	cc->priv[0] = 0;
}

static void reno_on_ack(struct mpt_cc *cc, uint32_t acked, uint64_t rtt_ns, uint64_t now)
{
	if (cc->cwnd < cc->ssthresh) {
		/* RFC 5681 3.1 with RFC 3465 ABC, L = 2*SMSS: "cwnd += min (N, SMSS)"
		 * generalised to at most 2*SMSS per ACK. */
		cc->cwnd += min_u32(acked, 2 * cc->mss);
		return;
	}
	/* Congestion avoidance: one SMSS per cwnd of acknowledged bytes. */
	cc->priv[0] += acked;
	if (cc->priv[0] >= cc->cwnd) {
		cc->priv[0] -= cc->cwnd;
		cc->cwnd += cc->mss;
	}
}

static void reno_on_congestion(struct mpt_cc *cc, uint64_t now)
{
	/* RFC 5681 (4): "ssthresh = max (FlightSize / 2, 2*SMSS)" */
	cc->ssthresh = max_u32(cc->flight / 2, 2 * cc->mss);
	cc->cwnd = cc->ssthresh;
	cc->priv[0] = 0;
}

static void reno_on_recovery_end(struct mpt_cc *cc, uint64_t now)
{
	cc->cwnd = cc->ssthresh;
}

static void reno_on_rto(struct mpt_cc *cc, uint64_t now)
{
	cc->ssthresh = max_u32(cc->flight / 2, 2 * cc->mss);
	/* RFC 5681 3.1: "cwnd MUST be set to no more than the loss window, LW, which
	 * equals 1 full-sized segment". */
	cc->cwnd = cc->mss;
	cc->priv[0] = 0;
}

const struct mpt_cc_ops mpt_cc_newreno = {
	.name = "newreno",
	.desc = "RFC 5681/6582 NewReno, per subflow (uncoupled)",
	.init = reno_init,
	.on_ack = reno_on_ack,
	.on_congestion = reno_on_congestion,
	.on_recovery_end = reno_on_recovery_end,
	.on_rto = reno_on_rto,
};

/* ---- CUBIC (RFC 9438) ---- */
#define CUBIC_C	   0.4
#define CUBIC_BETA 0.7

struct cubic {
	double w_max; /* segments, before the last reduction */
	double w_last_max;
	double k;	/* seconds */
	double w_est;	/* Reno-friendly estimate, segments */
	double frac;	/* fractional bytes of cwnd growth */
	uint64_t epoch; /* ns; 0 = no epoch */
};

_Static_assert(sizeof(struct cubic) <= sizeof(((struct mpt_cc *)0)->priv), "cubic state");

static void cubic_load(const struct mpt_cc *cc, struct cubic *s)
{
	memcpy(s, cc->priv, sizeof(*s));
}

static void cubic_store(struct mpt_cc *cc, const struct cubic *s)
{
	memcpy(cc->priv, s, sizeof(*s));
}

static void cubic_init(struct mpt_cc *cc, uint64_t now)
{
	struct cubic s;

	memset(&s, 0, sizeof(s));
	cubic_store(cc, &s);
}

static void cubic_on_ack(struct mpt_cc *cc, uint32_t acked, uint64_t rtt_ns, uint64_t now)
{
	struct cubic s;
	double cwnd, t, target, w_t, rtt, inc;

	if (cc->cwnd < cc->ssthresh) {
		cc->cwnd += min_u32(acked, 2 * cc->mss);
		return;
	}
	cubic_load(cc, &s);
	cwnd = (double)cc->cwnd / cc->mss;
	if (!s.epoch) {
		s.epoch = now ? now : 1;
		/* RFC 9438 4.2: "K = cubic_root((W_max - cwnd_epoch) / C)" */
		s.k = s.w_max > cwnd ? cbrt((s.w_max - cwnd) / CUBIC_C) : 0.0;
		if (s.w_max < cwnd)
			s.w_max = cwnd;
		s.w_est = cwnd;
	}
	rtt = (double)(cc->srtt_ns ? cc->srtt_ns : (rtt_ns ? rtt_ns : 100000000)) / 1e9;
	t = (double)(now - s.epoch) / 1e9;
	/* 4.2: W_cubic(t) = C * (t - K)^3 + W_max; target = W_cubic(t + RTT), clamped
	 * to [cwnd, 1.5 cwnd]. */
	target = CUBIC_C * pow(t + rtt - s.k, 3) + s.w_max;
	if (target < cwnd)
		target = cwnd;
	if (target > 1.5 * cwnd)
		target = 1.5 * cwnd;
	/* 4.3 Reno-friendly region: alpha_cubic = 3 (1 - beta) / (1 + beta). */
	s.w_est += 3.0 * (1.0 - CUBIC_BETA) / (1.0 + CUBIC_BETA) * ((double)acked / cc->mss) / cwnd;
	w_t = CUBIC_C * pow(t - s.k, 3) + s.w_max;
	if (w_t < s.w_est) {
		inc = (s.w_est - cwnd) * cc->mss;
	} else {
		/* 4.4: cwnd += (target - cwnd) / cwnd per acked segment */
		inc = (target - cwnd) / cwnd * acked;
	}
	if (inc > 0) {
		s.frac += inc;
		if (s.frac >= 1.0) {
			uint32_t add = (uint32_t)s.frac;

			cc->cwnd += add;
			s.frac -= add;
		}
	}
	cubic_store(cc, &s);
}

static void cubic_reduce(struct mpt_cc *cc, struct cubic *s)
{
	double cwnd = (double)cc->cwnd / cc->mss;

	/* 4.7 fast convergence */
	if (cwnd < s->w_last_max)
		s->w_max = cwnd * (1.0 + CUBIC_BETA) / 2.0;
	else
		s->w_max = cwnd;
	s->w_last_max = cwnd;
	s->epoch = 0;
	s->frac = 0;
	/* 4.6: "ssthresh = cwnd * beta_cubic", at least 2 segments */
	cc->ssthresh = max_u32((uint32_t)(cc->cwnd * CUBIC_BETA), 2 * cc->mss);
}

static void cubic_on_congestion(struct mpt_cc *cc, uint64_t now)
{
	struct cubic s;

	cubic_load(cc, &s);
	cubic_reduce(cc, &s);
	cc->cwnd = cc->ssthresh;
	cubic_store(cc, &s);
}

static void cubic_on_recovery_end(struct mpt_cc *cc, uint64_t now)
{
	cc->cwnd = cc->ssthresh;
}

static void cubic_on_rto(struct mpt_cc *cc, uint64_t now)
{
	struct cubic s;

	cubic_load(cc, &s);
	cubic_reduce(cc, &s);
	cc->cwnd = cc->mss;
	cubic_store(cc, &s);
}

const struct mpt_cc_ops mpt_cc_cubic = {
	.name = "cubic",
	.desc = "RFC 9438 CUBIC, per subflow (uncoupled)",
	.init = cubic_init,
	.on_ack = cubic_on_ack,
	.on_congestion = cubic_on_congestion,
	.on_recovery_end = cubic_on_recovery_end,
	.on_rto = cubic_on_rto,
};

/* ---- the built-ins, in registration order ---- */
static const struct mpt_cc_ops *const builtin_ccs[] = {
	&mpt_cc_newreno, &mpt_cc_cubic, &mpt_cc_lia, &mpt_cc_olia, &mpt_cc_balia,
};

const struct mpt_cc_ops *cc_builtin(unsigned i)
{
	return i < sizeof(builtin_ccs) / sizeof(builtin_ccs[0]) ? builtin_ccs[i] : NULL;
}

const char *mpt_cc_name(unsigned i, const char **desc)
{
	const struct mpt_cc_ops *ops = cc_builtin(i);

	if (ops && desc)
		*desc = ops->desc;
	return ops ? ops->name : NULL;
}
