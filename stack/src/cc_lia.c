/* LIA, the Linked Increases Algorithm of RFC 6356 ("Coupled Congestion Control for
 * Multipath Transport Protocols"), section 3.
 *
 * Only the congestion-avoidance increase is coupled; slow start, fast retransmit and
 * recovery and the halving on a loss are NewReno's (cc.h).  Windows are bytes, as the
 * RFC writes them ("cwnd_i ... in bytes"), and the increase counts acknowledged bytes
 * (RFC 3465 style), as the RFC's "bytes_acked".
 *
 * Where the out-of-tree kernel (net/mptcp/mptcp_coupled.c) differs: it counts windows
 * in packets, adds one packet after max(cwnd_total / alpha, cwnd_i) ACKs (its scaled
 * alpha is alpha / cwnd_total; one ACK of two segments counts once), and recomputes
 * alpha on a loss and when its own window grows by a packet.  We follow the RFC: the
 * increase per acknowledged byte, and alpha from the current windows of the view on
 * every ACK in congestion avoidance (alpha depends on the windows only, and any of
 * them may have moved since: a superset of "on loss and on window growth") and after
 * each loss, kept in priv for the report.
 */
#include "cc.h"

struct lia {
	double frac;  /* fractional bytes of growth */
	double alpha; /* the last alpha computed */
};

_Static_assert(sizeof(struct lia) <= sizeof(((struct mpt_cc *)0)->priv), "lia state");

/* RFC 6356 3:
 *
 *                           cwnd_i
 *                      max --------
 *                       i         2
 *                          rtt_i
 *   alpha = cwnd_total * -------------------------
 *                       /      cwnd_i \ 2
 *                       | sum ---------|
 *                       \  i   rtt_i  /
 */
static double alpha_of(const struct cc_path *p, uint32_t n, double *total)
{
	double tot = 0, best = 0, sum = 0;

	for (uint32_t i = 0; i < n; i++) {
		double r = p[i].cwnd / (p[i].rtt * p[i].rtt);

		tot += p[i].cwnd;
		if (r > best)
			best = r;
		sum += p[i].cwnd / p[i].rtt;
	}
	*total = tot;
	return sum > 0 ? tot * best / (sum * sum) : 1.0;
}

double cc_lia_alpha(const struct mpt_cc *cc)
{
	struct cc_path p[MPT_CC_MAX_SF];
	uint32_t self, n = cc_coupled_paths(cc, p, &self);
	double tot;

	return n == 1 ? 1.0 : alpha_of(p, n, &tot);
}

/* RFC 6356 3: "For each ACK received on subflow i, increase cwnd_i by:
 *
 *                alpha * bytes_acked * MSS_i   bytes_acked * MSS_i
 *          min ( --------------------------- , ------------------- )  (2)
 *                         cwnd_total                   cwnd_i"
 */
double cc_lia_increase(const struct mpt_cc *cc, uint32_t acked)
{
	struct cc_path p[MPT_CC_MAX_SF];
	uint32_t self, n = cc_coupled_paths(cc, p, &self);
	double tot, alpha, coupled, single;

	single = (double)acked * cc->mss / (double)(cc->cwnd ? cc->cwnd : 1);
	if (n == 1)
		return single;
	alpha = alpha_of(p, n, &tot);
	coupled = alpha * acked * cc->mss / tot;
	return coupled < single ? coupled : single;
}

static void lia_init(struct mpt_cc *cc, uint64_t now)
{
	struct lia s = {.frac = 0, .alpha = 1.0};

	memcpy(cc->priv, &s, sizeof(s));
}

static void lia_on_ack(struct mpt_cc *cc, uint32_t acked, uint64_t rtt_ns, uint64_t now)
{
	struct lia s;

	if (cc_slow_start(cc, acked))
		return;
	memcpy(&s, cc->priv, sizeof(s));
	s.alpha = cc_lia_alpha(cc);
	cc_add(cc, &s.frac, cc_lia_increase(cc, acked));
	memcpy(cc->priv, &s, sizeof(s));
}

/* "the multiplicative decrease of the congestion avoidance state [is] the same as in
 * standard TCP": RFC 5681's halving; alpha again with the new window. */
static void lia_loss(struct mpt_cc *cc, uint32_t cwnd_after)
{
	struct lia s;

	memcpy(&s, cc->priv, sizeof(s));
	cc->ssthresh = cc_half_flight(cc);
	cc->cwnd = cwnd_after ? cwnd_after : cc->ssthresh;
	s.frac = 0;
	s.alpha = cc_lia_alpha(cc);
	memcpy(cc->priv, &s, sizeof(s));
}

static void lia_on_congestion(struct mpt_cc *cc, uint64_t now)
{
	lia_loss(cc, 0);
}

static void lia_on_recovery_end(struct mpt_cc *cc, uint64_t now)
{
	cc->cwnd = cc->ssthresh;
}

static void lia_on_rto(struct mpt_cc *cc, uint64_t now)
{
	lia_loss(cc, cc->mss);
}

const struct mpt_cc_ops mpt_cc_lia = {
	.name = "lia",
	.desc = "RFC 6356 linked increases, coupled over the connection's subflows",
	.init = lia_init,
	.on_ack = lia_on_ack,
	.on_congestion = lia_on_congestion,
	.on_recovery_end = lia_on_recovery_end,
	.on_rto = lia_on_rto,
};
