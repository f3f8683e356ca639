/* Hand-built path manager views for tests/unit/test_pm_*.c: a client (10.0.p.1 on
 * path p) talking to 10.0.0.2:5001 over its first subflow on path 0. */
#ifndef MPNET_TEST_PM_VIEW_H
#define MPNET_TEST_PM_VIEW_H

#include "mptcp_pathmgr.h"

#include <string.h>

#define PV_MS 1000000ull

struct pm_test {
	const struct mptcp_pm_ops *ops;
	struct mptcp_pm_view v;
	struct mptcp_pm_ep ep[256];
	struct mptcp_pm_path paths[MPTCP_PM_MAX_PATHS];
	struct mpt_counters ctr;
	uint64_t priv[MPTCP_PM_PRIV / 8 + 1];
	struct mptcp_pm_cmds c; /* the last answer */
	uint32_t route_to;	/* what view->route answers (UINT32_MAX: dflt) */
};

static inline struct mpt_sockaddr pv_addr(uint8_t net, uint8_t host, uint16_t port)
{
	struct mpt_sockaddr a;

	memset(&a, 0, sizeof(a));
	a.family = MPT_AF_INET;
	a.ip[0] = 10;
	a.ip[2] = net;
	a.ip[3] = host;
	a.port = port;
	return a;
}

static inline uint32_t pv_route(void *ctx, const struct mpt_sockaddr *remote, uint32_t dflt)
{
	const struct pm_test *t = ctx;

	(void)remote;
	return t->route_to == UINT32_MAX ? dflt : t->route_to;
}

/* npaths local paths up, the first subflow established on path 0. */
static inline void pv_init(struct pm_test *t, const struct mptcp_pm_ops *ops, uint32_t npaths,
			   uint32_t arg)
{
	memset(t, 0, sizeof(*t));
	t->ops = ops;
	t->route_to = UINT32_MAX;
	for (uint32_t p = 0; p < npaths; p++) {
		t->paths[p].used = t->paths[p].up = true;
		t->paths[p].local = pv_addr((uint8_t)p, 1, 0);
	}
	t->v.active = true;
	t->v.arg = arg;
	t->v.max_subflows = 8;
	t->v.ep = t->ep;
	t->v.paths = t->paths;
	t->v.route = pv_route;
	t->v.route_ctx = t;
	t->v.ctr = &t->ctr;
	t->v.priv = t->priv;
	t->v.first = 0;
	t->v.nsf = t->v.nsub = 1;
	t->v.sf[0].path = 0;
	t->v.sf[0].local = pv_addr(0, 1, 40000);
	t->v.sf[0].remote = pv_addr(0, 2, 5001);
	t->v.sf[0].established = true;
	t->v.sf[0].tag = 1;
}

/* Deliver one event at `now_ms`; the answer is in t->c. */
static inline void pv_event(struct pm_test *t, enum mptcp_pm_event_type type, uint64_t now_ms,
			    const struct mptcp_pm_event *more)
{
	struct mptcp_pm_event e;

	if (more)
		e = *more;
	else
		memset(&e, 0, sizeof(e));
	e.type = type;
	t->v.now = now_ms * PV_MS;
	t->c.n = 0;
	t->c.wake_at = UINT64_MAX;
	t->ops->event(&t->v, &e, &t->c);
}

/* Commands of a type in the last answer. */
static inline uint32_t pv_count(const struct pm_test *t, enum mptcp_pm_cmd_type type)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < t->c.n; i++)
		n += t->c.v[i].type == type;
	return n;
}

/* The first command of a type in the last answer; none: one of type PV_NONE whose
 * fields match nothing a test expects. */
#define PV_NONE ((enum mptcp_pm_cmd_type)99)
static inline const struct mptcp_pm_cmd *pv_find(const struct pm_test *t,
						 enum mptcp_pm_cmd_type type)
{
	static const struct mptcp_pm_cmd none = {.type = PV_NONE,
						 .id = 255,
						 .path = UINT32_MAX,
						 .sf = UINT32_MAX,
						 .tag = UINT32_MAX};

	for (uint32_t i = 0; i < t->c.n; i++)
		if (t->c.v[i].type == type)
			return &t->c.v[i];
	return &none;
}

/* What the mechanism does after an OPEN: the subflow appears, established. */
static inline uint32_t pv_opened(struct pm_test *t, const struct mptcp_pm_cmd *o, uint16_t sport)
{
	struct mptcp_pm_sf *s = &t->v.sf[t->v.nsf];

	memset(s, 0, sizeof(*s));
	s->path = o->path;
	s->local = t->paths[o->path].local;
	s->local.port = sport;
	s->remote = o->remote;
	s->local_id = o->id;
	s->remote_id = o->remote_id;
	s->join = true;
	s->established = true;
	s->backup = o->backup;
	s->tag = o->tag;
	t->v.nsub++;
	return t->v.nsf++;
}

/* ... and after it closed: gone from the view. */
static inline void pv_closed(struct pm_test *t, uint32_t sf)
{
	uint32_t last = --t->v.nsf;

	if (t->v.first == (int)sf)
		t->v.first = -1;
	else if (t->v.first == (int)last)
		t->v.first = (int)sf;
	t->v.sf[sf] = t->v.sf[last];
	t->v.nsub--;
}

#endif
