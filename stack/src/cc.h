/* Congestion controllers: what cc.c (NewReno, CUBIC) and the coupled controllers
 * (cc_lia.c, cc_olia.c, cc_balia.c) share.
 *
 * A controller sees only this header and mpt.h: its own subflow in struct mpt_cc and,
 * during every call, the connection in cc->conn (struct mpt_cc_conn: each subflow's
 * cwnd, ssthresh, RTTs, in flight, state, backup/stale), which the engine (tcp.c, and
 * mptcp.c through tcp_ulp_ops.cc_view for an MPTCP subflow) fills before the call.
 * The coupled controllers read their siblings from it, as the out-of-tree Linux
 * kernel's mptcp_coupled.c / mptcp_olia.c / mptcp_balia.c walk mptcp_for_each_sk.
 *
 * Adding one: a file stack/src/cc_<name>.c defining `const struct mpt_cc_ops
 * mpt_cc_<name>` (declared in mpt.h), an entry in cc.c's builtin_ccs, and
 * tests/unit/test_cc_<name>.c with views built by hand (tests/unit/cc_view.h).
 */
#ifndef MPT_CC_H
#define MPT_CC_H

#include "mpt.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* The i-th built-in controller (registered by every stack), NULL past the last. */
const struct mpt_cc_ops *cc_builtin(unsigned i);

/* ---- shared by the coupled controllers ---- */

/* One subflow a coupled controller couples with: window in bytes, RTT in seconds. */
struct cc_path {
	double cwnd;
	double rtt;
	uint32_t mss;
	const struct mpt_cc_sf *sf; /* its entry in the view (NULL: no view) */
};

/* The subflows coupled with cc's own: those that can send and have an RTT sample,
 * as mptcp_coupled.c's mptcp_ccc_sk_can_send ("mptcp_sk_can_send(sk) && srtt"),
 * leaving out stale subflows and backups (a backup carries data only when no regular
 * subflow can, so it does not compete with them at a bottleneck).  The subflow of the
 * event always counts, with its live cwnd.  Fills p (at most MPT_CC_MAX_SF) and
 * returns how many, with cc's own at *self; without a view or an RTT sample of its
 * own, cc's subflow alone (a connection of one: the controllers reduce to NewReno). */
static inline uint32_t cc_coupled_paths(const struct mpt_cc *cc, struct cc_path *p, uint32_t *self)
{
	const struct mpt_cc_conn *v = cc->conn;
	uint32_t n = 0;

	*self = 0;
	if (v && cc->srtt_ns && v->self < v->nsf) {
		for (uint32_t i = 0; i < v->nsf && i < MPT_CC_MAX_SF; i++) {
			const struct mpt_cc_sf *s = &v->sf[i];

			if (i == v->self) {
				*self = n;
				p[n].cwnd = cc->cwnd;
				p[n].rtt = (double)cc->srtt_ns / 1e9;
				p[n].mss = cc->mss;
				p[n++].sf = s;
				continue;
			}
			if (!s->usable || !s->srtt_ns || s->stale || s->backup || !s->cwnd)
				continue;
			p[n].cwnd = s->cwnd;
			p[n].rtt = (double)s->srtt_ns / 1e9;
			p[n].mss = s->mss;
			p[n++].sf = s;
		}
	}
	if (!n) {
		p[0].cwnd = cc->cwnd;
		p[0].rtt = cc->srtt_ns ? (double)cc->srtt_ns / 1e9 : 1.0;
		p[0].mss = cc->mss;
		p[0].sf = NULL;
		n = 1;
	}
	return n;
}

/* Slow start as NewReno's (RFC 5681 3.1 with RFC 3465 ABC, L = 2*SMSS): true when cc
 * was below ssthresh and grew.  RFC 6356 3: the coupled increase "only applies to the
 * increase phase of the congestion avoidance state specifying how the window
 * inflates upon receiving an ACK.  The slow start, fast retransmit, and fast recovery
 * algorithms, as well as the multiplicative decrease of the congestion avoidance
 * state are the same as in standard TCP". */
static inline bool cc_slow_start(struct mpt_cc *cc, uint32_t acked)
{
	if (cc->cwnd >= cc->ssthresh)
		return false;
	cc->cwnd += acked < 2 * cc->mss ? acked : 2 * cc->mss;
	return true;
}

/* Add `inc` bytes (fractional, may be negative) to cwnd through the accumulator
 * *frac, whole bytes at a time; cwnd stays at least one MSS. */
static inline void cc_add(struct mpt_cc *cc, double *frac, double inc)
{
	*frac += inc;
	if (*frac >= 1.0) {
		double add = *frac > 1e9 ? 1e9 : *frac;

		cc->cwnd += (uint32_t)add;
		*frac -= (uint32_t)add;
	} else if (*frac <= -1.0) {
		uint32_t sub = (uint32_t)(-*frac > 1e9 ? 1e9 : -*frac);

		cc->cwnd = cc->cwnd > sub + cc->mss ? cc->cwnd - sub : cc->mss;
		*frac += sub;
	}
}

/* RFC 5681 (4): "ssthresh = max (FlightSize / 2, 2*SMSS)" */
static inline uint32_t cc_half_flight(const struct mpt_cc *cc)
{
	uint32_t h = cc->flight / 2;

	return h > 2 * cc->mss ? h : 2 * cc->mss;
}

/* ---- the coupled controllers' formulas, for their unit tests ---- */

/* LIA (RFC 6356 3): alpha for cc's connection, and the increase in bytes for `acked`
 * bytes cumulatively acknowledged in congestion avoidance. */
double cc_lia_alpha(const struct mpt_cc *cc);
double cc_lia_increase(const struct mpt_cc *cc, uint32_t acked);
/* OLIA (Khalili et al.): alpha_r of cc's subflow (the epsilon term: 1/(|R_u| |B\M|),
 * -1/(|R_u| |M|) or 0), and the increase in bytes for `acked` bytes. */
double cc_olia_alpha(const struct mpt_cc *cc);
double cc_olia_increase(const struct mpt_cc *cc, uint32_t acked);
/* OLIA's l_r: bytes acknowledged between the last two losses, or since the last one
 * when more (the priv of a subflow running OLIA). */
uint64_t cc_olia_interloss(const uint64_t *priv);
/* BALIA (Peng et al.): alpha_r = max_k x_k / x_r, the increase in bytes for `acked`
 * bytes, and the window after a loss (before the 2*SMSS floor). */
double cc_balia_alpha(const struct mpt_cc *cc);
double cc_balia_increase(const struct mpt_cc *cc, uint32_t acked);
double cc_balia_decrease(const struct mpt_cc *cc);

#endif
