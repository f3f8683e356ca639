/* The shared-bottleneck experiment (mpt_sim_bneck.h). */
#include "mpt_sim_bneck.h"

#include <stdlib.h>
#include <string.h>

#define MS 1000000ull
#define S  1000000000ull

static struct mpt_config bneck_cfg(const char *cc, bool mptcp)
{
	struct mpt_config c;

	mpt_config_default(&c);
	c.cc = cc;
	c.mptcp = mptcp;
	c.sndbuf = 4u << 20;
	c.rcvbuf = 4u << 20;
	return c;
}

/* Every path's data through q, except path 1 through q1 when q1 is not NULL. */
static void bneck_links(struct mpt_sim *sim, struct mpt_sim_queue *q, struct mpt_sim_queue *q1)
{
	for (uint32_t p = 0; p < sim->npaths; p++) {
		struct mpt_sim_link *up = &sim->link[0][p], *down = &sim->link[1][p];

		memset(&up->cfg, 0, sizeof(up->cfg));
		up->cfg.delay_ns = 5 * MS;
		up->shared = p == 1 && q1 ? q1 : q;
		memset(&down->cfg, 0, sizeof(down->cfg));
		down->cfg.rate_bps = 100000000;
		down->cfg.delay_ns = 14 * MS;
		down->cfg.jitter_ns = 2 * MS;
	}
}

/* One trace line: time, each flow's goodput over the last second (Mbit/s), the TCP
 * flow's cwnd and each subflow's (segments). */
static void trace_line(FILE *f, struct mpt_sim *a, struct mpt_sim *b, const struct mpt_sim_xfer *xa,
		       const struct mpt_sim_xfer *xb, uint64_t *la, uint64_t *lb)
{
	struct mpt_subflow_info sfi[4];
	struct mpt_conn_info ci;
	int n = mpt_conn_subflows(b->ep[0], xb->client_id, sfi, 4);

	mpt_conn_info(a->ep[0], xa->client_id, &ci);
	fprintf(f, "%6.1f tcp %5.2f mptcp %5.2f Mbit/s  cwnd tcp %3u", a->now / 1e9,
		(xa->received - *la) * 8 / 1e6, (xb->received - *lb) * 8 / 1e6,
		ci.cwnd / (ci.snd_mss ? ci.snd_mss : 1));
	for (int i = 0; i < n && i < 4; i++)
		fprintf(f, " sf%d %3u", i, sfi[i].cwnd / (ci.snd_mss ? ci.snd_mss : 1));
	fputc('\n', f);
	*la = xa->received;
	*lb = xb->received;
}

static void bneck_queue(struct mpt_sim_queue *q, const struct bneck_params *p)
{
	q->rate_bps = MPT_SIM_BNECK_RATE_BPS;
	q->delay_ns = 10 * MS;
	q->limit_pkts = p->queue_pkts ? p->queue_pkts : MPT_SIM_BNECK_QUEUE_PKTS;
}

/* Each MPTCP subflow's acknowledged bytes now; returns the number of subflows. */
static uint32_t subflow_acked(struct mpt_sim *b, const struct mpt_sim_xfer *xb, uint64_t out[2])
{
	struct mpt_subflow_info sfi[4];
	int n = mpt_conn_subflows(b->ep[0], xb->client_id, sfi, 4);

	for (int i = 0; i < n && i < 2; i++)
		out[i] = sfi[i].bytes_acked;
	return n > 0 ? (uint32_t)n : 0;
}

int bneck_run(const struct bneck_params *p, struct bneck_result *r)
{
	const char *mp_cc = p->mp_cc, *tcp_cc = p->tcp_cc;
	unsigned seconds = p->seconds;
	uint64_t seed = p->seed, next_trace = S, la = 0, lb = 0, until;
	/* 32 KiB of departure times each; q[1]: path 1's own bottleneck (balance) */
	struct mpt_sim_queue *q = calloc(2, sizeof(*q));
	struct mpt_config ct = bneck_cfg(tcp_cc, false), cm = bneck_cfg(mp_cc, true);
	struct mpt_sim a, b;
	struct mpt_sim *both[2] = {&a, &b};
	struct mpt_sim_xfer xa = {.bytes = 1ull << 40}, xb = {.bytes = 1ull << 40};
	uint64_t end = (uint64_t)seconds * S, half = end / 2, ra = 0, rb = 0, sf_half[2] = {0, 0};
	bool measured = false, stopped = false, done_a = false, done_b = false;
	int rv;

	memset(r, 0, sizeof(*r));
	if (!q)
		return MPT_ENOMEM;
	bneck_queue(&q[0], p);
	bneck_queue(&q[1], p);
	rv = mpt_sim_init(&a, seed, &ct, &ct, MPT_AF_INET, 1, NULL);
	if (rv < 0) {
		free(q);
		return rv;
	}
	rv = mpt_sim_init(&b, seed + 1, &cm, &cm, MPT_AF_INET, 2, NULL);
	if (rv < 0) {
		mpt_sim_free(&a);
		free(q);
		return rv;
	}
	bneck_links(&a, &q[0], NULL);
	bneck_links(&b, &q[0], p->balance ? &q[1] : NULL);
	rv = p->one_subflow ? 0 : mpt_stack_add_endpoint(b.ep[0], 1, 1, MPT_EP_SUBFLOW);
	if (!rv)
		rv = mpt_sim_xfer_start(&a, &xa);
	if (!rv)
		rv = mpt_sim_xfer_start(&b, &xb);
	if (rv < 0)
		goto out;
	xa.deadline_ns = xb.deadline_ns = end + 60 * S;
	while (!(done_a && done_b)) {
		if (!done_a)
			done_a = mpt_sim_xfer_poll(&a, &xa);
		if (!done_b)
			done_b = mpt_sim_xfer_poll(&b, &xb);
		if (p->trace && !stopped && a.now >= next_trace) {
			trace_line(p->trace, &a, &b, &xa, &xb, &la, &lb);
			next_trace += S;
		}
		if (!measured && a.now >= half) {
			measured = true;
			ra = xa.received;
			rb = xb.received;
			subflow_acked(&b, &xb, sf_half);
		}
		if (!stopped && a.now >= end) {
			stopped = true;
			r->tcp_bytes = xa.received - ra;
			r->mp_bytes = xb.received - rb;
			r->mp_subflows = subflow_acked(&b, &xb, r->mp_sf_bytes);
			for (int i = 0; i < 2; i++)
				r->mp_sf_window[i] = r->mp_sf_bytes[i] - sf_half[i];
			/* the senders stop writing: each stream ends where it is */
			xa.bytes = xa.sent;
			xb.bytes = xb.sent;
		}
		until = stopped ? xa.deadline_ns : end;
		if (p->trace && !stopped && next_trace < until)
			until = next_trace;
		if (!mpt_sim_step_many(both, 2, until) && stopped)
			break;
	}
	rv = 0;
	r->tcp_rv = mpt_sim_xfer_result(&xa);
	r->mp_rv = mpt_sim_xfer_result(&xb);
	r->tcp_ok = xa.data_ok && xa.eof;
	r->mp_ok = xb.data_ok && xb.eof;
	r->tcp_mbps = r->tcp_bytes * 8.0 / ((end - half) / 1e9) / 1e6;
	r->mp_mbps = r->mp_bytes * 8.0 / ((end - half) / 1e9) / 1e6;
	r->mp_shared_mbps = r->mp_sf_window[0] * 8.0 / ((end - half) / 1e9) / 1e6;
	r->ratio = r->tcp_bytes ? (double)r->mp_bytes / (double)r->tcp_bytes : 0;
	{
		const struct mpt_counters *ca = mpt_stack_counters(a.ep[0]),
					  *cb = mpt_stack_counters(b.ep[0]);

		r->tcp_recoveries = ca->sack_recovery + ca->reno_recovery;
		r->tcp_rtos = ca->timeouts;
		r->mp_recoveries = cb->sack_recovery + cb->reno_recovery;
		r->mp_rtos = cb->timeouts;
		r->mp_reinjected = cb->mptcp_retrans;
	}
	r->queue_drops = q[0].dropped;
	r->queue_max_len = q[0].max_len;
out:
	mpt_sim_free(&a);
	mpt_sim_free(&b);
	free(q);
	return rv;
}
