/* Hand-built scheduler views for tests/unit/test_sched_*.c. */
#ifndef MPNET_TEST_SCHED_VIEW_H
#define MPNET_TEST_SCHED_VIEW_H

#include "mptcp_sched.h"

#include <string.h>

#define SV_MSS 1000u
#define SV_MS  1000000ull

struct sched_test {
	struct mptcp_sched_view v;
	uint64_t conn_priv[MPTCP_SCHED_CONN_PRIV / 8];
	uint64_t sf_priv[MPTCP_SCHED_MAX_SF][MPTCP_SCHED_SF_PRIV / 8];
};

/* A connection with new data [una, end), a wide window, no subflows yet. */
static inline void sv_init(struct sched_test *t, const struct mptcp_sched_ops *ops, uint64_t una,
			   uint64_t end)
{
	memset(t, 0, sizeof(*t));
	t->v.kind = MPTCP_SCHED_NEW;
	t->v.snd_una = una;
	t->v.snd_nxt = una;
	t->v.end = end;
	t->v.wnd_edge = una + (1u << 30);
	t->v.dsn = una;
	t->v.len = end - una;
	t->v.burst_segs = 1;
	t->v.priv = t->conn_priv;
	if (ops->init)
		ops->init(t->conn_priv);
}

/* Add a usable subflow with srtt_ms and room segments of room. */
static inline struct mptcp_sched_sf *sv_add(struct sched_test *t, uint64_t srtt_ms,
					    uint32_t room_segs)
{
	struct mptcp_sched_sf *s = &t->v.sf[t->v.nsf];

	s->usable = true;
	s->srtt_ns = srtt_ms * SV_MS;
	s->rttvar_ns = srtt_ms * SV_MS / 4;
	s->mss = SV_MSS;
	s->cwnd = 10 * SV_MSS;
	s->room = room_segs * SV_MSS;
	s->in_flight = s->cwnd + 2 * SV_MSS > s->room ? s->cwnd + 2 * SV_MSS - s->room : 0;
	s->sndbuf_room = 1u << 20;
	s->priv = t->sf_priv[t->v.nsf];
	t->v.nsf++;
	return s;
}

/* The loop's bookkeeping after an answer, for multi-step tests: snd_nxt and each
 * subflow's data_nxt move, the room shrinks. */
static inline void sv_apply(struct sched_test *t, const struct mptcp_sched_pick *p)
{
	for (uint32_t k = 0; k < p->n; k++) {
		struct mptcp_sched_sf *s = &t->v.sf[p->v[k].sf];
		uint64_t e = p->v[k].dsn + p->v[k].len;

		s->room -= p->v[k].len < s->room ? p->v[k].len : s->room;
		s->in_flight += p->v[k].len;
		if (e > s->data_nxt)
			s->data_nxt = e;
		if (e > t->v.snd_nxt)
			t->v.snd_nxt = e;
	}
	t->v.dsn = t->v.snd_nxt;
	t->v.len = t->v.end > t->v.snd_nxt ? t->v.end - t->v.snd_nxt : 0;
}

#endif
