/* The stack object: paths, demultiplexing, listeners, stateless replies, events and
 * the socket-like API.  The TCP state machine itself lives in tcp.c. */
#include "cc.h"
#include "mptcp.h"
#include "mptcp_opt.h"
#include "tcp.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- environment ---- */

void *stack_calloc(struct mpt_stack *st, size_t n, size_t size)
{
	if (st->env.alloc.calloc)
		return st->env.alloc.calloc(st->env.alloc.ctx, n, size);
	return calloc(n, size);
}

void stack_free(struct mpt_stack *st, void *p)
{
	if (!p)
		return;
	if (st->env.alloc.free)
		st->env.alloc.free(st->env.alloc.ctx, p);
	else
		free(p);
}

void stack_log(struct mpt_stack *st, int level, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	if (!st->env.log)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	st->env.log(st->env.log_ctx, level, buf);
}

const char *mpt_strerror(int err)
{
	static const char *const names[] = {
		"OK",		"EINVAL",    "ENOMEM",	"EAGAIN",     "ENOTCONN", "ECONNRESET",
		"ECONNREFUSED", "ETIMEDOUT", "EPIPE",	"EADDRINUSE", "ENOENT",	  "EMALFORMED",
		"ECSUM",	"ENOBUFS",   "ECRYPTO", "EUNSUPP",    "ESTATE",
	};

	if (err > 0 || -err >= (int)(sizeof(names) / sizeof(names[0])))
		return "E?";
	return names[-err];
}

const char *mpt_state_name(int s)
{
	static const char *const names[MPT_NSTATES] = {
		"CLOSED",     "LISTEN",	    "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED", "FIN_WAIT_1",
		"FIN_WAIT_2", "CLOSE_WAIT", "CLOSING",	"LAST_ACK",	"TIME_WAIT",
	};

	if (s < 0 || s >= MPT_NSTATES)
		return "?";
	return names[s];
}

void mpt_config_default(struct mpt_config *c)
{
	memset(c, 0, sizeof(*c));
	c->mtu = 1500;
	c->sndbuf = 256 * 1024;
	c->rcvbuf = 256 * 1024;
	c->cc = "newreno";
	c->init_cwnd_segs = 10;
	c->min_rto_ns = 200000000ull;
	c->max_rto_ns = 120000000000ull;
	c->init_rto_ns = 1000000000ull;
	c->delack_ns = 40000000ull;
	c->time_wait_ns = 60000000000ull;
	c->max_retries = 15;
	c->max_syn_retries = 6;
	c->challenge_ack_limit = 1000;
	c->max_subflows = 8;
	c->max_add_addr_accepted = 8;
	c->mptcp_syn_retrans_before_fallback = 2;
	c->scheduler = "default";
	c->path_manager = "kernel";
	c->sched_burst_segs = 1;
}

static const struct mpt_cc_ops *find_cc(const struct mpt_stack *st, const char *name)
{
	uint32_t i;

	for (i = 0; i < st->ncc; i++)
		if (!strcmp(st->ccs[i]->name, name))
			return st->ccs[i];
	return NULL;
}

int mpt_stack_register_cc(struct mpt_stack *st, const struct mpt_cc_ops *ops)
{
	if (!st || !ops || !ops->name || !ops->init)
		return MPT_EINVAL;
	if (find_cc(st, ops->name))
		return MPT_EADDRINUSE;
	if (st->ncc >= MPT_MAX_CC)
		return MPT_ENOMEM;
	st->ccs[st->ncc++] = ops;
	return 0;
}

int mpt_stack_new(struct mpt_stack **out, const struct mpt_env *env, const struct mpt_config *cfg)
{
	struct mpt_stack *st;
	struct mpt_config def;
	uint8_t rnd[2];

	if (!out || !env || !env->crypto.sha256 || !env->crypto.hmac_sha256 ||
	    !env->crypto.random_bytes)
		return MPT_EINVAL;
	if (!cfg) {
		mpt_config_default(&def);
		cfg = &def;
	}
	if (cfg->mtu < 576 || cfg->mtu > 65535 || cfg->sndbuf < 4096 || cfg->rcvbuf < 4096 ||
	    cfg->rcvbuf > (1u << 30) || cfg->sndbuf > (1u << 30) || !cfg->init_cwnd_segs)
		return MPT_EINVAL;
	st = env->alloc.calloc ? env->alloc.calloc(env->alloc.ctx, 1, sizeof(*st))
			       : calloc(1, sizeof(*st));
	if (!st)
		return MPT_ENOMEM;
	st->env = *env;
	st->cfg = *cfg;
	st->next_id = 1;
	for (unsigned i = 0; cc_builtin(i); i++)
		mpt_stack_register_cc(st, cc_builtin(i));
	st->cc_default = find_cc(st, cfg->cc ? cfg->cc : "newreno");
	if (!st->cc_default) {
		stack_free(st, st);
		return MPT_ENOENT;
	}
	st->cfg.cc = st->cc_default->name;
	if (!mptcp_sched_find(cfg->scheduler, &st->sched_arg)) {
		stack_free(st, st);
		return MPT_ENOENT;
	}
	st->cfg.scheduler = mptcp_sched_find(cfg->scheduler, NULL)->name;
	if (!mptcp_pm_find(cfg->path_manager, NULL)) {
		stack_free(st, st);
		return MPT_ENOENT;
	}
	if (!cfg->path_manager || !*cfg->path_manager)
		st->cfg.path_manager = "kernel";
	if (!st->cfg.sched_burst_segs)
		st->cfg.sched_burst_segs = 1;
	if (env->crypto.random_bytes(env->crypto.ctx, st->isn_secret, sizeof(st->isn_secret)) < 0 ||
	    env->crypto.random_bytes(env->crypto.ctx, rnd, sizeof(rnd)) < 0) {
		stack_free(st, st);
		return MPT_ECRYPTO;
	}
	/* ephemeral ports: 32768..60999 as Linux, starting at a random point */
	st->next_port = (uint16_t)(32768 + wire_get16(rnd) % 28232);
	*out = st;
	return 0;
}

static void listener_free(struct mpt_stack *st, struct listener *l)
{
	stack_free(st, l->queue);
	stack_free(st, l);
}

void mpt_stack_free(struct mpt_stack *st)
{
	if (!st)
		return;
	while (st->conns) {
		struct tcb *t = st->conns;

		st->conns = t->next;
		tcp_free(t);
	}
	while (st->listeners) {
		struct listener *l = st->listeners;

		st->listeners = l->next;
		listener_free(st, l);
	}
	stack_free(st, st->ev);
	stack_free(st, st);
}

/* Each MPTCP connection once (connections are reached through their subflows). */
#define FOR_EACH_MP(st, t)                                            \
	for ((st)->mp_gen++, (t) = (st)->conns; (t); (t) = (t)->next) \
		if ((t)->mp && (t)->mp->tick_gen != (st)->mp_gen &&   \
		    ((t)->mp->tick_gen = (st)->mp_gen, true))

int mpt_stack_add_path(struct mpt_stack *st, uint32_t path, const struct mpt_sockaddr *local)
{
	if (!st || !local || path >= MPT_MAX_PATHS ||
	    (local->family != MPT_AF_INET && local->family != MPT_AF_INET6))
		return MPT_EINVAL;
	if (st->paths[path].used)
		return MPT_EADDRINUSE;
	st->paths[path].used = true;
	st->paths[path].down = false;
	st->paths[path].local = *local;
	st->paths[path].local.port = 0;
	{
		/* an address back: the path managers may open subflows there again */
		struct mptcp_pm_event e = {.type = MPTCP_PM_EV_LOCAL_UP, .path = path};
		struct tcb *t;

		FOR_EACH_MP (st, t)
			mptcp_pm_event_later(t->mp, &e);
	}
	return 0;
}

int mpt_stack_add_endpoint(struct mpt_stack *st, uint8_t id, uint32_t path, uint32_t flags)
{
	if (!st || !id || path >= MPT_MAX_PATHS || !st->paths[path].used ||
	    (flags & ~(uint32_t)(MPT_EP_SIGNAL | MPT_EP_SUBFLOW | MPT_EP_BACKUP | MPT_EP_FULLMESH)))
		return MPT_EINVAL;
	if (st->endpoints[id].used)
		return MPT_EADDRINUSE;
	st->endpoints[id].used = true;
	st->endpoints[id].path = path;
	st->endpoints[id].flags = flags;
	if (id > st->ep_max_id)
		st->ep_max_id = id;
	{
		struct mptcp_pm_event e = {.type = MPTCP_PM_EV_ENDPOINT_ADDED, .id = id};
		struct tcb *t;

		FOR_EACH_MP (st, t)
			mptcp_pm_event_later(t->mp, &e);
	}
	return 0;
}

int mpt_stack_del_endpoint(struct mpt_stack *st, uint8_t id, uint64_t now)
{
	struct tcb *t;

	struct mptcp_pm_event e = {.type = MPTCP_PM_EV_ENDPOINT_DEL, .id = id};

	if (!st || !id || !st->endpoints[id].used)
		return MPT_ENOENT;
	st->endpoints[id].used = false;
	e.path = st->endpoints[id].path;
	FOR_EACH_MP (st, t)
		mptcp_pm_event_now(t->mp, &e, now);
	return 0;
}

int mpt_stack_set_endpoint_flags(struct mpt_stack *st, uint8_t id, uint32_t flags)
{
	struct tcb *t;
	struct mptcp_pm_event e = {.type = MPTCP_PM_EV_ENDPOINT_FLAGS, .id = id};

	if (!st || !id || !st->endpoints[id].used)
		return MPT_ENOENT;
	if (flags & ~(uint32_t)(MPT_EP_SIGNAL | MPT_EP_SUBFLOW | MPT_EP_BACKUP | MPT_EP_FULLMESH))
		return MPT_EINVAL;
	st->endpoints[id].flags = flags;
	FOR_EACH_MP (st, t)
		mptcp_pm_event_later(t->mp, &e);
	return 0;
}

int mpt_stack_set_limits(struct mpt_stack *st, uint8_t max_subflows, uint8_t max_add_addr_accepted)
{
	st->cfg.max_subflows = max_subflows ? max_subflows : 1;
	st->cfg.max_add_addr_accepted = max_add_addr_accepted;
	return 0;
}

int mpt_stack_del_path(struct mpt_stack *st, uint32_t path, uint64_t now)
{
	struct tcb *t;

	if (!st || path >= MPT_MAX_PATHS || !st->paths[path].used)
		return MPT_ENOENT;
	for (int id = 1; id <= st->ep_max_id; id++)
		if (st->endpoints[id].used && st->endpoints[id].path == path)
			mpt_stack_del_endpoint(st, (uint8_t)id, now);
	FOR_EACH_MP (st, t)
		mptcp_path_gone(t->mp, path, now);
	for (t = st->conns; t; t = t->next)
		if (!t->mp && t->path == path && t->state != MPT_CLOSED) {
			/* plain TCP on a vanished address: nothing can be sent any more */
			t->error = MPT_ECONNRESET;
			tcp_set_state(t, MPT_CLOSED);
			if (t->app_visible && !t->app_closed)
				stack_event(st, MPT_EV_ERROR, t->id, MPT_ECONNRESET);
		}
	st->paths[path].used = false;
	return 0;
}

int mpt_stack_path_link(struct mpt_stack *st, uint32_t path, bool up, uint64_t now)
{
	struct mptcp_pm_event e = {.type = up ? MPTCP_PM_EV_LOCAL_UP : MPTCP_PM_EV_LOCAL_DOWN,
				   .path = path};
	struct tcb *t;

	if (!st || path >= MPT_MAX_PATHS)
		return MPT_EINVAL;
	if (!st->paths[path].used)
		return MPT_ENOENT;
	if (st->paths[path].down == !up)
		return 0;
	st->paths[path].down = !up;
	stack_log(st, 2, "path %u: carrier %s", path, up ? "back" : "lost");
	FOR_EACH_MP (st, t)
		mptcp_pm_event_now(t->mp, &e, now);
	return 0;
}

const struct mpt_counters *mpt_stack_counters(const struct mpt_stack *st)
{
	return &st->ctr;
}

uint64_t mpt_stack_transitions(const struct mpt_stack *st, int from, int to)
{
	if (from < 0 || to < 0 || from >= MPT_NSTATES || to >= MPT_NSTATES)
		return 0;
	return st->transitions[from][to];
}

/* ---- events ---- */

void stack_event(struct mpt_stack *st, enum mpt_event_type type, uint32_t id, int err)
{
	if (st->ev_len == st->ev_cap) {
		uint32_t ncap = st->ev_cap ? st->ev_cap * 2 : 64, i;
		struct mpt_event *n;

		if (ncap > 65536 || !(n = stack_calloc(st, ncap, sizeof(*n)))) {
			st->ctr.event_queue_drop++;
			return;
		}
		for (i = 0; i < st->ev_len; i++)
			n[i] = st->ev[(st->ev_head + i) % st->ev_cap];
		stack_free(st, st->ev);
		st->ev = n;
		st->ev_cap = ncap;
		st->ev_head = 0;
	}
	st->ev[(st->ev_head + st->ev_len) % st->ev_cap] =
		(struct mpt_event){.type = type, .id = id, .err = err};
	st->ev_len++;
}

int mpt_stack_poll_event(struct mpt_stack *st, struct mpt_event *ev)
{
	if (!st->ev_len)
		return 0;
	*ev = st->ev[st->ev_head];
	st->ev_head = (st->ev_head + 1) % st->ev_cap;
	st->ev_len--;
	return 1;
}

bool stack_challenge_ok(struct mpt_stack *st, uint64_t now)
{
	if (now - st->chal_epoch >= 1000000000ull || now < st->chal_epoch) {
		st->chal_epoch = now;
		st->chal_count = 0;
	}
	if (st->chal_count >= st->cfg.challenge_ack_limit)
		return false;
	st->chal_count++;
	return true;
}

/* ---- lookup ---- */

static bool addr_eq(const struct mpt_sockaddr *a, const struct mpt_sockaddr *b)
{
	size_t n = a->family == MPT_AF_INET ? 4 : 16;

	return a->family == b->family && a->port == b->port && !memcmp(a->ip, b->ip, n);
}

static bool ip_is_any(const struct mpt_sockaddr *a)
{
	static const uint8_t zero[16];

	return !memcmp(a->ip, zero, a->family == MPT_AF_INET ? 4 : 16);
}

static uint32_t demux_hash(const struct mpt_sockaddr *l, const struct mpt_sockaddr *r)
{
	size_t n = l->family == MPT_AF_INET ? 4 : 16;
	uint32_t h = 2166136261u; /* FNV-1a */

	for (size_t i = 0; i < n; i++)
		h = (h ^ l->ip[i]) * 16777619u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ r->ip[i]) * 16777619u;
	h = (h ^ l->port) * 16777619u;
	h = (h ^ r->port) * 16777619u;
	return (h ^ (h >> 15)) & (STACK_DEMUX_BUCKETS - 1);
}

void stack_demux_forget(struct mpt_stack *st, struct tcb *t)
{
	struct tcb **pp;

	if (!t->demux_in)
		return;
	for (pp = &st->demux[demux_hash(&t->local, &t->remote)]; *pp; pp = &(*pp)->demux_next)
		if (*pp == t) {
			*pp = t->demux_next;
			break;
		}
	t->demux_in = false;
	t->demux_next = NULL;
}

/* The connection of a 4-tuple: the newest in `conns` (a CLOSED one may linger there
 * next to its successor).  The cache answers for live connections; anything else
 * takes the list, and what the list finds is cached. */
static struct tcb *find_tcb(struct mpt_stack *st, const struct mpt_sockaddr *l,
			    const struct mpt_sockaddr *r)
{
	uint32_t h = demux_hash(l, r);
	struct tcb *t;

	for (t = st->demux[h]; t; t = t->demux_next)
		if (addr_eq(&t->local, l) && addr_eq(&t->remote, r)) {
			if (t->state != MPT_CLOSED)
				return t;
			break;
		}
	for (t = st->conns; t; t = t->next)
		if (addr_eq(&t->local, l) && addr_eq(&t->remote, r))
			break;
	if (t && !t->demux_in) {
		t->demux_next = st->demux[h];
		st->demux[h] = t;
		t->demux_in = true;
	}
	return t;
}

static struct tcb *find_id(const struct mpt_stack *st, uint32_t id)
{
	struct tcb *t;

	for (t = st->conns; t; t = t->next)
		if (t->id == id && !t->app_closed)
			return t;
	return NULL;
}

static struct listener *find_listener_id(const struct mpt_stack *st, uint32_t id)
{
	struct listener *l;

	for (l = st->listeners; l; l = l->next)
		if (l->id == id)
			return l;
	return NULL;
}

static struct listener *find_listener(struct mpt_stack *st, const struct mpt_sockaddr *local)
{
	struct listener *l;

	for (l = st->listeners; l; l = l->next)
		if (l->local.family == local->family && l->local.port == local->port &&
		    (ip_is_any(&l->local) || addr_eq(&l->local, local)))
			return l;
	return NULL;
}

/* Free connections nobody will ask about again: closed orphans with nothing left to
 * send, and closed never-accepted children. */
static void reap(struct mpt_stack *st)
{
	struct tcb **pp = &st->conns;
	bool again = false;

	if (!st->reap_hint)
		return;
	while (*pp) {
		struct tcb *t = *pp;

		if (t->state == MPT_CLOSED && !t->rst_pending &&
		    (t->app_closed || !t->app_visible) && !t->in_accept_queue) {
			*pp = t->next;
			tcp_free(t);
			continue;
		}
		/* waiting for its RST to leave: look again later */
		again |= t->state == MPT_CLOSED && t->rst_pending;
		pp = &t->next;
	}
	st->reap_hint = again;
}

/* ---- listeners ---- */

void stack_listener_established(struct mpt_stack *st, struct tcb *t)
{
	struct listener *l = t->parent;

	if (l->qlen >= l->backlog) {
		st->ctr.listen_overflows++;
		st->ctr.listen_drops++;
		t->rst_pending = true;
		tcp_set_state(t, MPT_CLOSED);
		return;
	}
	l->queue[l->qlen++] = t;
	t->in_accept_queue = true;
	if (l->embryonic)
		l->embryonic--;
	stack_event(st, MPT_EV_ACCEPTABLE, l->id, 0);
}

void stack_listener_unlink(struct mpt_stack *st, struct tcb *t)
{
	struct listener *l = t->parent;
	uint32_t i;

	if (!l)
		return;
	if (t->in_accept_queue) {
		for (i = 0; i < l->qlen; i++)
			if (l->queue[i] == t) {
				memmove(&l->queue[i], &l->queue[i + 1],
					(l->qlen - i - 1) * sizeof(l->queue[0]));
				l->qlen--;
				break;
			}
		t->in_accept_queue = false;
	} else if (l->embryonic) {
		l->embryonic--;
	}
	t->parent = NULL;
}

static void addr_from_ip(struct mpt_sockaddr *a, const struct wire_ip_repr *ip, bool src,
			 uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->family = ip->family;
	memcpy(a->ip, src ? ip->src : ip->dst, ip->family == MPT_AF_INET ? 4 : 16);
	a->port = port;
}

/* A fresh control block for a SYN that reached us on `path` (counted as a listen drop
 * when memory runs out). */
static struct tcb *tcb_for_syn(struct mpt_stack *st, uint32_t path, const struct wire_ip_repr *ip,
			       const struct wire_tcp_repr *seg)
{
	struct tcb *t = tcp_new(st);

	if (!t) {
		st->ctr.listen_drops++;
		return NULL;
	}
	t->id = st->next_id++;
	t->path = path;
	addr_from_ip(&t->local, ip, false, seg->dport);
	addr_from_ip(&t->remote, ip, true, seg->sport);
	return t;
}

/* A SYN with MP_JOIN: a new subflow of a known connection (found by token), not an
 * accept-queue entry.  Accepted on any local address and port the connection could be
 * reached at, with or without a listener there (announced addresses need none). */
static void join_input(struct mpt_stack *st, uint32_t path, const struct wire_ip_repr *ip,
		       const struct wire_tcp_repr *seg, uint64_t now)
{
	struct tcb *t = tcb_for_syn(st, path, ip, seg);

	if (!t)
		return;
	if (mptcp_join_passive(t, seg, now) < 0 || tcp_open_passive(t, seg, now) < 0) {
		unsigned queued = st->ctl_len;

		tcp_free(t);
		stack_reply_rst(st, path, ip, seg);
		if (st->ctl_len > queued) {
			/* with MP_TCPRST "unspecified MPTCP error" (RFC 8684 3.6), as
			 * Linux's MPTCP_RST_EMPTCP for a join it refuses */
			struct ctl_seg *c =
				&st->ctl[(st->ctl_head + st->ctl_len - 1) % STACK_CTL_QUEUE];
			struct mptcp_opts w = {.suboptions = MPTCP_OPT_RST};

			w.rst.reason = 1; /* MPTCP_RST_EMPTCP */
			mptcp_opts_emit(&w, c->tcp.flags, WIRE_TCP_MAX_OPT, &c->tcp.opt);
		}
		return;
	}
	stack_link(st, t);
}

static void listen_input(struct mpt_stack *st, struct listener *l, uint32_t path,
			 const struct wire_ip_repr *ip, const struct wire_tcp_repr *seg,
			 uint64_t now)
{
	struct tcb *t;

	/* RFC 9293 3.10.7.2 LISTEN: "first check for an RST ... An incoming RST segment
	 * could not be valid since it could not have been sent in response to anything
	 * sent by this incarnation of the connection.  An incoming RST should be
	 * ignored." */
	if (seg->flags & WIRE_TCP_RST)
		return;
	/* "second check for an ACK ... Any acknowledgment is bad if it arrives on a
	 * connection still in the LISTEN state.  An acceptable reset segment should be
	 * formed for any arriving ACK-bearing segment." */
	if (seg->flags & WIRE_TCP_ACK) {
		stack_reply_rst(st, path, ip, seg);
		return;
	}
	if (!(seg->flags & WIRE_TCP_SYN))
		return; /* "Any other control or text-bearing segment ... drop it" */
	if (l->qlen + l->embryonic >= l->backlog + 16 || l->qlen >= l->backlog) {
		st->ctr.listen_overflows++;
		st->ctr.listen_drops++;
		return;
	}
	if (st->cfg.mptcp && mptcp_syn_is_join(st, seg)) {
		join_input(st, path, ip, seg, now);
		return;
	}
	t = tcb_for_syn(st, path, ip, seg);
	if (!t)
		return;
	t->parent = l;
	if (st->cfg.mptcp && !l->tcp_only && mptcp_syn_wants_mptcp(st, seg) &&
	    (mptcp_attach(t, true) < 0 || mptcp_passive_syn(t, seg) < 0)) {
		st->ctr.listen_drops++;
		tcp_free(t);
		return;
	}
	if (tcp_open_passive(t, seg, now) < 0) {
		st->ctr.listen_drops++;
		tcp_free(t);
		return;
	}
	l->embryonic++;
	t->next = st->conns;
	st->conns = t;
}

/* ---- stateless replies ---- */

void stack_reply_rst(struct mpt_stack *st, uint32_t path, const struct wire_ip_repr *ip,
		     const struct wire_tcp_repr *seg)
{
	struct ctl_seg *c;
	uint32_t seglen;

	if (seg->flags & WIRE_TCP_RST)
		return; /* never answer a RST */
	if (st->ctl_len == STACK_CTL_QUEUE) {
		st->ctr.ctl_queue_drop++;
		return;
	}
	c = &st->ctl[(st->ctl_head + st->ctl_len) % STACK_CTL_QUEUE];
	memset(c, 0, sizeof(*c));
	c->path = path;
	c->ip.family = ip->family;
	memcpy(c->ip.src, ip->dst, 16);
	memcpy(c->ip.dst, ip->src, 16);
	c->ip.ttl = 64;
	c->tcp.sport = seg->dport;
	c->tcp.dport = seg->sport;
	/* RFC 9293 3.10.7.1: "If the ACK bit is off, sequence number zero is used,
	 * <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.  If the ACK bit is on,
	 * <SEQ=SEG.ACK><CTL=RST>" */
	if (seg->flags & WIRE_TCP_ACK) {
		c->tcp.seq = seg->ack;
		c->tcp.flags = WIRE_TCP_RST;
	} else {
		seglen = (uint32_t)seg->payload_len + ((seg->flags & WIRE_TCP_SYN) ? 1 : 0) +
			 ((seg->flags & WIRE_TCP_FIN) ? 1 : 0);
		c->tcp.seq = 0;
		c->tcp.ack = seg->seq + seglen;
		c->tcp.flags = WIRE_TCP_RST | WIRE_TCP_ACK;
	}
	st->ctl_len++;
}

/* ---- packets in ---- */

static int recv_one(struct mpt_stack *st, const uint8_t *pkt, size_t len, uint32_t path,
		    uint64_t now, bool verify)
{
	struct wire_ip_repr ip;
	struct wire_tcp_repr seg;
	struct mpt_sockaddr l, r;
	ptrdiff_t ihl, rv;
	struct tcb *t;
	struct listener *lst;
	int ret = 0;

	st->ctr.ip_in_receives++;
	ihl = wire_ip_parse(&ip, pkt, len);
	if (ihl < 0) {
		if (ihl == MPT_EUNSUPP)
			st->ctr.ip_reasm_fails++;
		else
			st->ctr.ip_in_hdr_errors++;
		return (int)ihl;
	}
	if (path >= MPT_MAX_PATHS || !st->paths[path].used ||
	    st->paths[path].local.family != ip.family ||
	    memcmp(st->paths[path].local.ip, ip.dst, ip.family == MPT_AF_INET ? 4 : 16)) {
		st->ctr.ip_in_addr_errors++;
		return MPT_ENOENT;
	}
	if (ip.proto != WIRE_PROTO_TCP) {
		st->ctr.ip_in_unknown_protos++;
		return MPT_EUNSUPP;
	}
	st->ctr.ip_in_delivers++;
	rv = wire_tcp_parse(&seg, pkt + ihl, ip.payload_len, verify ? &ip : NULL);
	if (rv < 0) {
		st->ctr.tcp_in_errs++;
		if (rv == MPT_ECSUM)
			st->ctr.tcp_in_csum_errors++;
		else
			st->ctr.hdr_malformed++;
		return (int)rv;
	}
	st->ctr.tcp_in_segs++;
	if (seg.opt.n_malformed)
		st->ctr.opt_malformed += seg.opt.n_malformed;
	if (seg.opt.n_unknown)
		st->ctr.opt_unknown += seg.opt.n_unknown;
	if (seg.opt.nmptcp)
		st->ctr.opt_mptcp_seen += seg.opt.nmptcp;

	addr_from_ip(&l, &ip, false, seg.dport);
	addr_from_ip(&r, &ip, true, seg.sport);
	t = find_tcb(st, &l, &r);
	if (t && t->state != MPT_CLOSED && t->mp) {
		mptcp_input_pre(t, &seg, now);
		if (t->state != MPT_CLOSED)
			tcp_input(t, &ip, &seg, now);
		mptcp_input_post(t, now);
	} else if (t && t->state != MPT_CLOSED) {
		tcp_input(t, &ip, &seg, now);
	} else if (t && t->rst_pending) {
		/* Closed, its own RST not sent yet: that RST carries the reason (an
		 * MPTCP subflow's MP_TCPRST, MP_FAIL, MP_FASTCLOSE).  A plain RST
		 * answering this segment would leave first, the peer would accept it
		 * and then drop ours as meant for no socket: the options would never
		 * be read.  The segment is dropped; our RST answers it. */
		st->ctr.rst_pending_drop++;
	} else if ((lst = find_listener(st, &l)) != NULL) {
		listen_input(st, lst, path, &ip, &seg, now);
	} else if (st->cfg.mptcp && (seg.flags & WIRE_TCP_SYN) && !(seg.flags & WIRE_TCP_ACK) &&
		   !(seg.flags & WIRE_TCP_RST) && mptcp_syn_is_join(st, &seg)) {
		join_input(st, path, &ip, &seg, now);
	} else {
		/* RFC 9293 3.10.7.1 CLOSED: "An incoming segment not containing a RST
		 * causes a RST to be sent in response." */
		st->ctr.no_socket++;
		stack_reply_rst(st, path, &ip, &seg);
		ret = MPT_ENOENT;
	}
	reap(st);
	return ret;
}

int mpt_stack_recv(struct mpt_stack *st, const uint8_t *pkt, size_t len, uint32_t path,
		   uint64_t now)
{
	return recv_one(st, pkt, len, path, now, true);
}

int mpt_stack_recv_verified(struct mpt_stack *st, const uint8_t *pkt, size_t len, uint32_t path,
			    uint64_t now)
{
	return recv_one(st, pkt, len, path, now, false);
}

/* ---- packets out ---- */

static ptrdiff_t emit(struct mpt_stack *st, struct wire_ip_repr *ip,
		      const struct wire_tcp_repr *seg, uint8_t *buf, size_t cap)
{
	ptrdiff_t n;

	ip->ident = st->ip_ident++;
	ip->csum_partial = st->cfg.tx_csum_partial;
	if (!ip->ttl)
		ip->ttl = 64;
	n = wire_packet_emit(ip, seg, buf, cap);
	if (n > 0) {
		st->ctr.ip_out_requests++;
		st->ctr.tcp_out_segs++;
		if (!seg->payload_len && seg->flags == WIRE_TCP_ACK)
			st->ctr.pure_acks++;
	}
	return n;
}

/* A subflow closed for its link's carrier keeps its RST until the carrier is back
 * (mptcp_sf_close); past rst_hold_until the RST is dropped, so that the control
 * block can go. */
static bool rst_held(struct mpt_stack *st, struct tcb *t, uint64_t now)
{
	if (!t->rst_hold_until || !t->rst_pending)
		return false;
	if (t->path >= MPT_MAX_PATHS || !st->paths[t->path].used || !st->paths[t->path].down) {
		t->rst_hold_until = 0;
		st->ctr.rst_held_sent++;
		return false;
	}
	if (now < t->rst_hold_until)
		return true;
	t->rst_hold_until = 0;
	t->rst_pending = false;
	st->ctr.rst_held_dropped++;
	st->reap_hint = true;
	return true;
}

/* t's segment (tcp_output filled it) with its MPTCP options, as an IP datagram on
 * t's path. */
static ptrdiff_t emit_tcb(struct mpt_stack *st, struct tcb *t, struct wire_tcp_repr *seg,
			  uint8_t *buf, size_t cap, uint32_t *path, uint64_t now)
{
	struct wire_ip_repr ip;
	ptrdiff_t n;

	if (t->mp)
		mptcp_output(t, seg, now);
	memset(&ip, 0, sizeof(ip));
	ip.family = t->local.family;
	memcpy(ip.src, t->local.ip, 16);
	memcpy(ip.dst, t->remote.ip, 16);
	*path = t->path;
	n = emit(st, &ip, seg, buf, cap);
	reap(st);
	return n;
}

ptrdiff_t mpt_stack_send(struct mpt_stack *st, uint8_t *buf, size_t cap, uint32_t *path,
			 uint64_t now)
{
	uint8_t scratch[65536];
	struct wire_tcp_repr seg;
	struct tcb *t, *start = NULL;

	if (cap < st->cfg.mtu)
		return MPT_ENOBUFS;
	if (st->ctl_len) {
		struct ctl_seg *c = &st->ctl[st->ctl_head];

		st->ctl_head = (st->ctl_head + 1) % STACK_CTL_QUEUE;
		st->ctl_len--;
		*path = c->path;
		st->ctr.tcp_out_rsts++;
		return emit(st, &c->ip, &c->tcp, buf, cap);
	}
	FOR_EACH_MP (st, t)
		mptcp_tick(t->mp, now);
	/* RSTs of closed subflows first (reap_hint: some may be waiting): one held for
	 * a carrier that is back must reach the peer before the join re-created on that
	 * path, or the peer may refuse the join while it still counts the old one. */
	for (t = st->reap_hint ? st->conns : NULL; t; t = t->next) {
		if (t->state != MPT_CLOSED || !t->rst_pending || rst_held(st, t, now))
			continue;
		if (tcp_output(t, now, scratch, &seg))
			return emit_tcb(st, t, &seg, buf, cap, path, now);
	}
	/* Round robin: start after the connection that sent last. */
	for (t = st->conns; t; t = t->next)
		if (t->id > st->rr && (!start || t->id < start->id))
			start = t;
	for (int pass = 0; pass < 2; pass++) {
		for (t = st->conns; t; t = t->next) {
			if (pass == 0 ? (start && t->id < start->id)
				      : (start && t->id >= start->id))
				continue;
			if (rst_held(st, t, now))
				continue;
			if (!tcp_output(t, now, scratch, &seg))
				continue;
			st->rr = t->id;
			return emit_tcb(st, t, &seg, buf, cap, path, now);
		}
	}
	st->rr = 0;
	reap(st);
	return 0;
}

/* ---- timers ---- */

unsigned mpt_stack_open_conns(const struct mpt_stack *st)
{
	unsigned n = 0;

	for (const struct tcb *t = st->conns; t; t = t->next)
		if (t->state != MPT_CLOSED && t->state != MPT_TIME_WAIT && t->state != MPT_LISTEN)
			n++;
	return n;
}

bool mpt_stack_port_in_use(const struct mpt_stack *st, uint16_t port)
{
	for (const struct tcb *t = st->conns; t; t = t->next)
		if (t->local.port == port && t->state != MPT_CLOSED)
			return true;
	for (const struct listener *l = st->listeners; l; l = l->next)
		if (l->local.port == port)
			return true;
	return false;
}

uint64_t mpt_stack_next_timeout(const struct mpt_stack *st)
{
	uint64_t n = UINT64_MAX;
	const struct tcb *t;

	for (t = st->conns; t; t = t->next) {
		uint64_t x = tcp_next_timeout(t);

		if (x < n)
			n = x;
		if (t->mp) {
			x = mptcp_next_timeout(t->mp);
			if (x < n)
				n = x;
		}
	}
	return n;
}

void mpt_stack_handle_expiry(struct mpt_stack *st, uint64_t now)
{
	struct tcb *t;

	for (t = st->conns; t; t = t->next)
		if (tcp_next_timeout(t) <= now)
			tcp_on_timer(t, now);
	FOR_EACH_MP (st, t)
		mptcp_tick(t->mp, now);
	reap(st);
}

/* ---- socket-like API ---- */

int stack_path_for(const struct mpt_stack *st, const struct mpt_sockaddr *local)
{
	uint32_t i;

	for (i = 0; i < MPT_MAX_PATHS; i++) {
		const struct mpt_sockaddr *p = &st->paths[i].local;

		if (st->paths[i].used && p->family == local->family &&
		    !memcmp(p->ip, local->ip, p->family == MPT_AF_INET ? 4 : 16))
			return (int)i;
	}
	return MPT_ENOENT;
}

int stack_tcb_new_active(struct mpt_stack *st, const struct mpt_sockaddr *local,
			 const struct mpt_sockaddr *remote, uint32_t path, struct tcb **out)
{
	struct mpt_sockaddr l = *local;
	struct tcb *t;

	if (!l.port && st->env.pick_port) {
		int rv = st->env.pick_port(st->env.port_ctx, &l.port);

		if (rv < 0)
			return rv;
	} else if (!l.port) {
		for (uint32_t tries = 0; tries < 28232; tries++) {
			l.port = st->next_port;
			st->next_port = st->next_port >= 60999 ? 32768 : st->next_port + 1;
			if (!find_tcb(st, &l, remote) && !find_listener(st, &l))
				break;
		}
	}
	if (find_tcb(st, &l, remote))
		return MPT_EADDRINUSE;
	t = tcp_new(st);
	if (!t)
		return MPT_ENOMEM;
	t->id = st->next_id++;
	t->local = l;
	t->remote = *remote;
	t->path = path;
	*out = t;
	return 0;
}

void stack_link(struct mpt_stack *st, struct tcb *t)
{
	t->next = st->conns;
	st->conns = t;
}

static int connect_as(struct mpt_stack *st, const struct mpt_sockaddr *local,
		      const struct mpt_sockaddr *remote, bool mptcp, uint64_t now, uint32_t *id);

int mpt_connect(struct mpt_stack *st, const struct mpt_sockaddr *local,
		const struct mpt_sockaddr *remote, uint64_t now, uint32_t *id)
{
	return connect_as(st, local, remote, st && st->cfg.mptcp, now, id);
}

int mpt_connect_tcp(struct mpt_stack *st, const struct mpt_sockaddr *local,
		    const struct mpt_sockaddr *remote, uint64_t now, uint32_t *id)
{
	return connect_as(st, local, remote, false, now, id);
}

static int connect_as(struct mpt_stack *st, const struct mpt_sockaddr *local,
		      const struct mpt_sockaddr *remote, bool mptcp, uint64_t now, uint32_t *id)
{
	struct tcb *t;
	int path, rv;

	if (!st || !local || !remote || !id || local->family != remote->family || !remote->port)
		return MPT_EINVAL;
	path = stack_path_for(st, local);
	if (path < 0)
		return path;
	rv = stack_tcb_new_active(st, local, remote, (uint32_t)path, &t);
	if (rv < 0)
		return rv;
	if (mptcp) {
		rv = mptcp_attach(t, false);
		if (rv < 0) {
			tcp_free(t);
			return rv;
		}
	}
	rv = tcp_open_active(t, now);
	if (rv < 0) {
		tcp_free(t);
		return rv;
	}
	stack_link(st, t);
	*id = t->id;
	return 0;
}

static int listen_new(struct mpt_stack *st, const struct mpt_sockaddr *local, uint32_t backlog,
		      bool tcp_only, uint32_t *id)
{
	struct listener *l;

	if (!st || !local || !id || !local->port || !backlog ||
	    (local->family != MPT_AF_INET && local->family != MPT_AF_INET6))
		return MPT_EINVAL;
	if (find_listener(st, local))
		return MPT_EADDRINUSE;
	l = stack_calloc(st, 1, sizeof(*l));
	if (!l)
		return MPT_ENOMEM;
	l->queue = stack_calloc(st, backlog, sizeof(*l->queue));
	if (!l->queue) {
		stack_free(st, l);
		return MPT_ENOMEM;
	}
	l->id = st->next_id++;
	l->local = *local;
	l->backlog = backlog;
	l->tcp_only = tcp_only;
	l->next = st->listeners;
	st->listeners = l;
	*id = l->id;
	return 0;
}

int mpt_listen(struct mpt_stack *st, const struct mpt_sockaddr *local, uint32_t backlog,
	       uint32_t *id)
{
	return listen_new(st, local, backlog, false, id);
}

int mpt_listen_tcp(struct mpt_stack *st, const struct mpt_sockaddr *local, uint32_t backlog,
		   uint32_t *id)
{
	return listen_new(st, local, backlog, true, id);
}

int mpt_accept(struct mpt_stack *st, uint32_t lid, uint32_t *id)
{
	struct listener *l = find_listener_id(st, lid);
	struct tcb *t;

	if (!l || !id)
		return MPT_ENOENT;
	if (!l->qlen)
		return MPT_EAGAIN;
	t = l->queue[0];
	stack_listener_unlink(st, t);
	t->app_visible = true;
	*id = t->id;
	if (t->mp)
		mptcp_app_accepted(t->mp);
	else if (t->rcvbuf.len || t->fin_rcvd)
		stack_event(st, MPT_EV_READABLE, t->id, 0);
	return 0;
}

ptrdiff_t mpt_send(struct mpt_stack *st, uint32_t id, const void *buf, size_t len, uint64_t now)
{
	struct tcb *t = find_id(st, id);

	if (!t || !t->app_visible)
		return MPT_ENOENT;
	if (!buf && len)
		return MPT_EINVAL;
	if (t->mp)
		return mptcp_app_send(t->mp, buf, len, now);
	return tcp_app_send(t, buf, len, now);
}

ptrdiff_t mpt_recv(struct mpt_stack *st, uint32_t id, void *buf, size_t len, uint64_t now)
{
	struct tcb *t = find_id(st, id);

	if (!t || !t->app_visible)
		return MPT_ENOENT;
	if (!buf && len)
		return MPT_EINVAL;
	if (t->mp)
		return mptcp_app_recv(t->mp, buf, len, now);
	return tcp_app_recv(t, buf, len, now);
}

int mpt_shutdown(struct mpt_stack *st, uint32_t id, int how, uint64_t now)
{
	struct tcb *t = find_id(st, id);

	if (!t || !t->app_visible)
		return MPT_ENOENT;
	if (t->mp)
		return mptcp_app_shutdown(t->mp, how, now);
	return tcp_app_shutdown(t, how, now);
}

static int close_listener(struct mpt_stack *st, uint32_t id, uint64_t now)
{
	struct listener **pp = &st->listeners;
	struct tcb *t;

	while (*pp && (*pp)->id != id)
		pp = &(*pp)->next;
	if (!*pp)
		return MPT_ENOENT;
	for (t = st->conns; t; t = t->next)
		if (t->parent == *pp) {
			stack_listener_unlink(st, t);
			tcp_app_abort(t, now);
		}
	{
		struct listener *l = *pp;

		*pp = l->next;
		listener_free(st, l);
	}
	st->reap_hint = true;
	reap(st);
	return 0;
}

int mpt_close(struct mpt_stack *st, uint32_t id, uint64_t now)
{
	struct tcb *t = find_id(st, id);

	if (!t || !t->app_visible)
		return close_listener(st, id, now);
	if (t->mp)
		mptcp_app_close(t->mp, now);
	else
		tcp_app_close(t, now);
	st->reap_hint = true;
	reap(st);
	return 0;
}

int mpt_abort(struct mpt_stack *st, uint32_t id, uint64_t now)
{
	struct tcb *t = find_id(st, id);

	if (!t || !t->app_visible)
		return close_listener(st, id, now);
	if (t->mp)
		mptcp_app_abort(t->mp, now);
	else
		tcp_app_abort(t, now);
	st->reap_hint = true;
	reap(st);
	return 0;
}

int mpt_poll(const struct mpt_stack *st, uint32_t id)
{
	const struct tcb *t = find_id(st, id);
	const struct listener *l;

	if (t && t->app_visible)
		return t->mp ? mptcp_poll(t->mp) : tcp_poll(t);
	l = find_listener_id(st, id);
	if (l)
		return l->qlen ? MPT_POLLIN : 0;
	return MPT_ENOENT;
}

int mpt_conn_set_scheduler(struct mpt_stack *st, uint32_t id, const char *name)
{
	struct tcb *t = find_id(st, id);

	uint32_t arg;
	const struct mptcp_sched_ops *ops = mptcp_sched_find(name, &arg);

	if (!t || !ops)
		return MPT_ENOENT;
	if (!t->mp || t->mp->fallback)
		return MPT_EINVAL;
	mptcp_sched_set(t->mp, ops, arg);
	return 0;
}

const char *mpt_conn_scheduler(const struct mpt_stack *st, uint32_t id)
{
	const struct tcb *t = find_id(st, id);

	if (!t || !t->mp || t->mp->fallback)
		return NULL;
	return t->mp->sched ? t->mp->sched->name : mptcp_sched_find(st->cfg.scheduler, NULL)->name;
}

int mpt_conn_ofo_stats(const struct mpt_stack *st, uint32_t id, struct mpt_ofo_stats *out)
{
	const struct tcb *t = find_id(st, id);

	if (!t || !out)
		return MPT_ENOENT;
	if (!t->mp)
		return MPT_EINVAL;
	mptcp_ofo_stats(t->mp, out);
	return 0;
}

int mpt_conn_set_path_manager(struct mpt_stack *st, uint32_t id, const char *spec)
{
	struct tcb *t = find_id(st, id);
	uint32_t arg;
	const struct mptcp_pm_ops *pm = mptcp_pm_find(spec, &arg);

	if (!t || !pm)
		return MPT_ENOENT;
	if (!t->mp || t->mp->fallback || t->mp->pm_started)
		return MPT_EINVAL;
	t->mp->pm = pm;
	t->mp->pm_arg = arg;
	return 0;
}

const char *mpt_conn_path_manager(const struct mpt_stack *st, uint32_t id)
{
	const struct tcb *t = find_id(st, id);

	if (!t || !t->mp || t->mp->fallback)
		return NULL;
	return t->mp->pm->name;
}

int mpt_conn_info(const struct mpt_stack *st, uint32_t id, struct mpt_conn_info *info)
{
	const struct tcb *t = find_id(st, id);

	if (!t || !info)
		return MPT_ENOENT;
	tcp_info(t, info);
	if (t->mp)
		mptcp_info(t->mp, info);
	return 0;
}

static void subflow_info(const struct tcb *t, struct mpt_subflow_info *o)
{
	struct mpt_conn_info ci;

	tcp_info(t, &ci);
	memset(o, 0, sizeof(*o));
	o->local = t->local;
	o->remote = t->remote;
	o->path = t->path;
	o->state = t->state;
	o->cwnd = ci.cwnd;
	o->srtt_ns = ci.srtt_ns;
	o->bytes_sent = ci.bytes_sent;
	o->bytes_acked = ci.bytes_acked;
	o->bytes_retrans = ci.bytes_retrans;
	o->bytes_received = ci.bytes_received;
	o->retrans_segs = ci.retrans_segs;
	if (t->mp)
		mptcp_subflow_flags(t, o);
}

int mpt_conn_subflows(const struct mpt_stack *st, uint32_t id, struct mpt_subflow_info *out,
		      size_t max)
{
	const struct tcb *t = find_id(st, id);
	size_t n = 0;

	if (!t)
		return MPT_ENOENT;
	if (!t->mp) {
		if (max)
			subflow_info(t, out);
		return 1;
	}
	/* the first subflow first, then the joins in the order they were made */
	for (uint32_t pass = 0; pass < 2; pass++)
		for (uint32_t i = 0; i < t->mp->nsub; i++) {
			const struct tcb *s = t->mp->sub[i];

			if ((pass == 0) == s->sf->join)
				continue;
			if (n < max)
				subflow_info(s, &out[n]);
			n++;
		}
	return (int)n;
}

int mpt_conn_add_subflow(struct mpt_stack *st, uint32_t id, const struct mpt_sockaddr *local,
			 const struct mpt_sockaddr *remote, bool backup, uint64_t now)
{
	struct tcb *t = find_id(st, id);
	const struct mpt_sockaddr *r = remote;
	size_t alen;
	uint8_t lid;
	int path = -1;

	if (!t || !local)
		return MPT_ENOENT;
	if (!t->mp || t->mp->fallback || !t->mp->fully_established || t->mp->error)
		return MPT_ESTATE;
	if (!r)
		r = &t->remote;
	if (local->family != r->family)
		return MPT_EINVAL;
	alen = local->family == MPT_AF_INET ? 4 : 16;
	for (uint32_t p = 0; p < MPT_MAX_PATHS; p++)
		if (st->paths[p].used && st->paths[p].local.family == local->family &&
		    !memcmp(st->paths[p].local.ip, local->ip, alen))
			path = (int)p;
	if (path < 0)
		return MPT_ENOENT;
	if (t->mp->nsub >= MPTCP_MAX_SUBFLOWS)
		return MPT_ENOBUFS;
	lid = (uint8_t)(100 + path);
	for (int e = 1; e <= st->ep_max_id; e++)
		if (st->endpoints[e].used && st->endpoints[e].path == (uint32_t)path)
			lid = (uint8_t)e;
	if ((uint32_t)path == t->path)
		lid = 0;
	return mptcp_join_active(t->mp, (uint32_t)path, lid, r, 0, backup, now);
}

int mpt_conn_remove_subflows(struct mpt_stack *st, uint32_t id, const struct mpt_sockaddr *local,
			     uint64_t now)
{
	struct tcb *t = find_id(st, id);

	if (!t || !local)
		return MPT_ENOENT;
	if (!t->mp || t->mp->fallback)
		return MPT_ESTATE;
	return mptcp_user_remove(t->mp, local, now);
}

int mpt_conn_mptcp_info(const struct mpt_stack *st, uint32_t id, struct mpt_mptcp_conn_info *o)
{
	const struct tcb *t = find_id(st, id);
	const struct mptcp_conn *mp;

	if (!t || !o)
		return MPT_ENOENT;
	if (!t->mp)
		return MPT_EINVAL;
	mp = t->mp;
	memset(o, 0, sizeof(*o));
	for (uint32_t i = 0; i < mp->nsub; i++) {
		const struct tcb *s = mp->sub[i];

		if (s->sf->dead)
			continue;
		o->subflows++;
		if (!s->sf->join)
			o->first_alive = true;
		if (s->sf->join && s->sf->local_id)
			o->local_addr_used++;
	}
	for (int e = 1; e <= st->ep_max_id; e++) {
		if (!st->endpoints[e].used)
			continue;
		if (st->endpoints[e].flags & MPT_EP_SIGNAL)
			o->add_addr_signal_max++;
		if (st->endpoints[e].flags & MPT_EP_SUBFLOW)
			o->local_addr_max++;
		if (mp->announce[e].sent)
			o->add_addr_signal++;
	}
	o->add_addr_accepted = (uint8_t)mp->add_addr_accepted;
	o->subflows_max = (uint8_t)(st->cfg.max_subflows ? st->cfg.max_subflows - 1 : 0);
	o->add_addr_accepted_max = st->cfg.max_add_addr_accepted;
	o->fallback = mp->fallback;
	o->remote_key_known = mp->remote_key_known;
	o->csum = mp->csum && !mp->fallback;
	o->token = mp->local_token;
	o->snd_una = mp->snd_una;
	o->write_seq = mp->snd_una + mp->sndbuf.len;
	o->rcv_nxt = mp->rcv_nxt;
	if (mp->remote_key_known)
		o->bytes_received = mp->rcv_nxt - (mp->remote_idsn + 1);
	return 0;
}
