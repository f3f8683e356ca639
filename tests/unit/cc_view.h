/* Hand-built congestion-control connection views for tests/unit/test_cc_*.c (as
 * sched_view.h for the schedulers): subflows with cwnd and RTT in, a controller called
 * on one of them. */
#ifndef MPNET_TEST_CC_VIEW_H
#define MPNET_TEST_CC_VIEW_H

#include "cc.h"
#include "test.h"

#include <math.h>
#include <string.h>

#define CV_MSS 1000u
#define CV_MS  1000000ull

#define CHECK_NEAR(a, b, eps)                                                                  \
	do {                                                                                   \
		double na_ = (double)(a), nb_ = (double)(b);                                   \
		if (!(fabs(na_ - nb_) <= (eps)))                                               \
			test_fail(__FILE__, __LINE__, "%s ~= %s: %.9g != %.9g (+-%g)", #a, #b, \
				  na_, nb_, (double)(eps));                                    \
	} while (0)

struct cc_test {
	const struct mpt_cc_ops *ops;
	struct mpt_cc_conn v;
	struct mpt_cc cc[MPT_CC_MAX_SF]; /* each subflow's controller state */
};

static inline void cv_init(struct cc_test *t, const struct mpt_cc_ops *ops)
{
	memset(t, 0, sizeof(*t));
	t->ops = ops;
}

/* Add an established, usable subflow in congestion avoidance (ssthresh below cwnd)
 * with `cwnd` bytes and a smoothed RTT of rtt_ms; its controller is initialised. */
static inline struct mpt_cc_sf *cv_add(struct cc_test *t, uint32_t cwnd, uint64_t rtt_ms)
{
	uint32_t i = t->v.nsf++;
	struct mpt_cc_sf *s = &t->v.sf[i];

	s->cwnd = cwnd;
	s->ssthresh = 2 * CV_MSS;
	s->mss = CV_MSS;
	s->srtt_ns = rtt_ms * CV_MS;
	s->min_rtt_ns = s->srtt_ns;
	s->in_flight = cwnd;
	s->state = MPT_ESTABLISHED;
	s->usable = true;
	s->ops = t->ops;
	s->priv = t->cc[i].priv;
	t->cc[i].mss = CV_MSS;
	t->ops->init(&t->cc[i], 0);
	return s;
}

/* Subflow i's controller, ready for a call: its window, RTT and flight from the view
 * entry, the view pointing at it as self. */
static inline struct mpt_cc *cv_cc(struct cc_test *t, uint32_t i)
{
	struct mpt_cc *cc = &t->cc[i];
	const struct mpt_cc_sf *s = &t->v.sf[i];

	cc->cwnd = s->cwnd;
	cc->ssthresh = s->ssthresh;
	cc->mss = s->mss;
	cc->srtt_ns = s->srtt_ns;
	cc->min_rtt_ns = s->min_rtt_ns;
	cc->flight = s->in_flight;
	cc->conn = &t->v;
	t->v.self = i;
	return cc;
}

/* After a call: the view takes subflow i's new window (as the engine's next view). */
static inline void cv_sync(struct cc_test *t, uint32_t i)
{
	t->v.sf[i].cwnd = t->cc[i].cwnd;
	t->v.sf[i].ssthresh = t->cc[i].ssthresh;
}

#endif
