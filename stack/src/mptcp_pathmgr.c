/* The MPTCP path manager's mechanism: events in, commands out (mptcp_pathmgr.h).
 *
 * RFC 8684 3.4 leaves the choice of subflows and addresses to local policy ("a
 * path manager"), as Linux does with its in-kernel and userspace path managers
 * behind one set of hooks (net/mptcp/pm.c).  Here the policy is an ops table chosen
 * per connection by name (mpt_config.path_manager, "NAME[:ARG]"), and this file is
 * the mechanism around it:
 *   - events: the connection becoming fully established, a subflow established or
 *     closed (and why), ADD_ADDR / REMOVE_ADDR received, endpoints added, removed or
 *     changed, a local link losing or regaining carrier (mpt_stack_path_link), an
 *     address going or coming back, the timer the path manager asked for.  Events
 *     found by looking (established, closed, announced) and those raised where no
 *     time is known (endpoint added or changed) wait in a small queue for the next
 *     tick (mptcp_tick); the others are delivered at once;
 *   - commands: ANNOUNCE (ADD_ADDR, retransmitted here every MPTCP_ADD_ADDR_TIMO until
 *     echoed, at most MPTCP_ADD_ADDR_RTX more times, RFC 8684 3.4.1), WITHDRAW
 *     (REMOVE_ADDR and our joins from that address closed), OPEN (an MP_JOIN
 *     subflow), CLOSE (reset, data reinjected), SET_BACKUP (MP_PRIO);
 *   - helpers the path managers share: the re-creation "slots" (mptcp_pathmgr.h).
 */
#include "mptcp.h"
#include "policy_spec.h"

#include <string.h>

_Static_assert(MPTCP_PM_MAX_SF == MPTCP_MAX_SUBFLOWS, "one view slot per subflow");
_Static_assert(MPTCP_PM_MAX_RADDRS == MPTCP_MAX_RADDRS, "one view slot per address");
_Static_assert(MPTCP_PM_MAX_PATHS == MPT_MAX_PATHS, "one view slot per path");
_Static_assert(sizeof(struct mptcp_pm_slots) <= MPTCP_PM_PRIV, "slots fit the private area");

#define PM_MAX_ROUNDS 64 /* events per tick: a path manager cannot spin the loop */

static const struct mptcp_pm_ops *const pms[] = {
#define MPTCP_PM_ENTRY(n) &mptcp_pm_##n,
	MPTCP_PATH_MANAGERS(MPTCP_PM_ENTRY)
#undef MPTCP_PM_ENTRY
};

const struct mptcp_pm_ops *mptcp_pm_find(const char *spec, uint32_t *arg)
{
	size_t n;
	uint32_t a;

	if (arg)
		*arg = 0;
	if (!spec || !*spec)
		return pms[0];
	if (!policy_spec_split(spec, &n, &a))
		return NULL;
	for (size_t i = 0; i < sizeof(pms) / sizeof(pms[0]); i++)
		if (strlen(pms[i]->name) == n && !strncmp(pms[i]->name, spec, n)) {
			if (a && (!pms[i]->arg_ok || !pms[i]->arg_ok(a)))
				return NULL;
			if (arg)
				*arg = a;
			return pms[i];
		}
	return NULL;
}

const char *mpt_path_manager_name(unsigned i, const char **desc)
{
	if (i >= sizeof(pms) / sizeof(pms[0]))
		return NULL;
	if (desc)
		*desc = pms[i]->desc;
	return pms[i]->name;
}

bool mpt_path_manager_valid(const char *spec)
{
	return mptcp_pm_find(spec, NULL) != NULL;
}

/* ---- helpers for the path managers ------------------------------------------------ */

static bool same_addr(const struct mpt_sockaddr *a, const struct mpt_sockaddr *b)
{
	return a->family == b->family && a->port == b->port &&
	       !memcmp(a->ip, b->ip, a->family == MPT_AF_INET ? 4 : 16);
}

void mptcp_pm_cmd(const struct mptcp_pm_view *v, struct mptcp_pm_cmds *c,
		  const struct mptcp_pm_cmd *cmd)
{
	if (c->n >= MPTCP_PM_MAX_CMDS) {
		v->ctr->pm_cmd_drop++;
		return;
	}
	c->v[c->n++] = *cmd;
}

int mptcp_pm_want(struct mptcp_pm_slots *t, uint32_t path, uint8_t ep_id,
		  const struct mpt_sockaddr *remote, uint8_t rid, bool backup, bool from_raddr,
		  bool distinct)
{
	int i;

	if (!distinct)
		for (i = 0; i < MPTCP_PM_MAX_SLOTS; i++)
			if (t->s[i].state != MPTCP_PM_SLOT_FREE && t->s[i].path == path &&
			    same_addr(&t->s[i].remote, remote))
				return i;
	for (i = 1; i < MPTCP_PM_MAX_SLOTS; i++) /* slot 0: the first subflow's */
		if (t->s[i].state == MPTCP_PM_SLOT_FREE)
			break;
	if (i == MPTCP_PM_MAX_SLOTS)
		return -1;
	memset(&t->s[i], 0, sizeof(t->s[i]));
	t->s[i].state = MPTCP_PM_SLOT_WANT;
	t->s[i].path = path;
	t->s[i].ep_id = ep_id;
	t->s[i].remote = *remote;
	t->s[i].rid = rid;
	t->s[i].backup = backup;
	t->s[i].from_raddr = from_raddr;
	t->s[i].backoff = MPTCP_PM_BACKOFF_MIN;
	return i;
}

void mptcp_pm_forget(struct mptcp_pm_slots *t, uint32_t path, int ep_id, int rid)
{
	for (int i = 0; i < MPTCP_PM_MAX_SLOTS; i++) {
		struct mptcp_pm_slot *s = &t->s[i];

		if (s->state == MPTCP_PM_SLOT_FREE || (path != UINT32_MAX && s->path != path) ||
		    (ep_id >= 0 && s->ep_id != ep_id) ||
		    (rid >= 0 && (!s->from_raddr || s->rid != rid)))
			continue;
		s->state = MPTCP_PM_SLOT_FREE;
	}
}

static bool raddr_announced(const struct mptcp_pm_view *v, uint8_t id)
{
	for (uint32_t i = 0; i < MPTCP_PM_MAX_RADDRS; i++)
		if (v->raddr[i].used && v->raddr[i].id == id)
			return true;
	return false;
}

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

void mptcp_pm_slots_event(const struct mptcp_pm_view *v, const struct mptcp_pm_event *e,
			  struct mptcp_pm_slots *t, struct mptcp_pm_cmds *c)
{
	struct mptcp_pm_slot *s = NULL;

	switch (e->type) {
	case MPTCP_PM_EV_ESTABLISHED:
		if (v->first >= 0 && t->s[0].state == MPTCP_PM_SLOT_FREE) {
			const struct mptcp_pm_sf *f = &v->sf[v->first];

			memset(&t->s[0], 0, sizeof(t->s[0]));
			t->s[0].state = MPTCP_PM_SLOT_OPEN;
			t->s[0].path = f->path;
			t->s[0].remote = f->remote;
			t->s[0].backup = f->backup;
			t->s[0].backoff = MPTCP_PM_BACKOFF_MIN;
		}
		break;
	case MPTCP_PM_EV_SF_ESTABLISHED:
		if (v->sf[e->sf].tag && v->sf[e->sf].tag <= MPTCP_PM_MAX_SLOTS)
			s = &t->s[v->sf[e->sf].tag - 1];
		if (s && s->state == MPTCP_PM_SLOT_OPEN) {
			if (s->failed)
				v->ctr->pm_recreated++;
			s->failed = false;
			s->backoff = MPTCP_PM_BACKOFF_MIN;
		}
		break;
	case MPTCP_PM_EV_SF_CLOSED:
		if (e->sf_tag && e->sf_tag <= MPTCP_PM_MAX_SLOTS)
			s = &t->s[e->sf_tag - 1];
		if (!s || s->state != MPTCP_PM_SLOT_OPEN)
			break;
		if (v->active && !v->server && mptcp_pm_close_retry(e->reason)) {
			s->state = MPTCP_PM_SLOT_WANT;
			s->failed = true;
			v->ctr->pm_retry_sched++;
			if (e->reason == MPTCP_PM_CLOSE_CARRIER && s->path < MPT_MAX_PATHS &&
			    v->paths[s->path].up) {
				/* closed for a carrier that is back already (the subflow goes
				 * when its held RST leaves, after LOCAL_UP): at once */
				s->retry_at = v->now;
				s->backoff = MPTCP_PM_BACKOFF_MIN;
				v->ctr->pm_link_up_retry++;
				break;
			}
			/* re-create after the backoff, doubled for the next failure */
			s->retry_at = v->now + s->backoff;
			s->backoff = min64(2 * s->backoff, MPTCP_PM_BACKOFF_MAX);
		} else {
			s->state = MPTCP_PM_SLOT_DONE;
			v->ctr->pm_no_retry++;
		}
		break;
	case MPTCP_PM_EV_LOCAL_DOWN:
		/* carrier lost: nothing gets through, close now (data reinjected on the
		 * other subflows) and re-open when it is back.  Only the subflows this end
		 * opened: a subflow the peer opened is on the path of the address it was
		 * sent to, which need not be the link it uses (a peer's lte subflow to our
		 * wifi address comes in on lte); closing it with wifi's carrier killed a
		 * working backup (direct_paths.bats, kernel -> libmpt handover) */
		if (v->server)
			break;
		for (uint32_t i = 0; i < v->nsf && !e->gone; i++)
			if (v->sf[i].path == e->path) {
				struct mptcp_pm_cmd k = {.type = MPTCP_PM_CMD_CLOSE,
							 .sf = i,
							 .reason = MPTCP_PM_CLOSE_CARRIER};

				mptcp_pm_cmd(v, c, &k);
				v->ctr->pm_carrier_close++;
			}
		break;
	case MPTCP_PM_EV_LOCAL_UP:
		for (int i = 0; i < MPTCP_PM_MAX_SLOTS; i++)
			if (t->s[i].state == MPTCP_PM_SLOT_WANT && t->s[i].path == e->path) {
				t->s[i].retry_at = v->now;
				t->s[i].backoff = MPTCP_PM_BACKOFF_MIN;
				v->ctr->pm_link_up_retry++;
			}
		break;
	case MPTCP_PM_EV_RM_ADDR:
		mptcp_pm_forget(t, UINT32_MAX, -1, e->id);
		break;
	case MPTCP_PM_EV_ENDPOINT_DEL:
		mptcp_pm_forget(t, UINT32_MAX, e->id, -1);
		break;
	default:
		break;
	}
}

void mptcp_pm_slots_open(const struct mptcp_pm_view *v, struct mptcp_pm_slots *t,
			 struct mptcp_pm_cmds *c)
{
	uint32_t live = v->nsub;

	if (!v->active || v->server)
		return;
	for (int i = 0; i < MPTCP_PM_MAX_SLOTS; i++) {
		struct mptcp_pm_slot *s = &t->s[i];
		struct mptcp_pm_cmd k;

		if (s->state != MPTCP_PM_SLOT_WANT)
			continue;
		if (s->path >= MPTCP_PM_MAX_PATHS || !v->paths[s->path].used ||
		    !v->paths[s->path].up || v->paths[s->path].local.family != s->remote.family)
			continue; /* waits for LOCAL_UP */
		if (s->from_raddr && !raddr_announced(v, s->rid)) {
			s->state = MPTCP_PM_SLOT_DONE;
			continue;
		}
		if (s->retry_at > v->now) {
			c->wake_at = min64(c->wake_at, s->retry_at);
			continue;
		}
		if (live >= v->max_subflows) {
			/* a closed subflow not freed yet still counts: look again soon */
			v->ctr->pm_no_room++;
			c->wake_at = min64(c->wake_at, v->now + MPTCP_PM_BACKOFF_MIN);
			continue;
		}
		memset(&k, 0, sizeof(k));
		k.type = MPTCP_PM_CMD_OPEN;
		k.path = s->path;
		k.id = s->ep_id;
		k.remote = s->remote;
		k.remote_id = s->rid;
		k.backup = s->backup;
		k.tag = (uint32_t)i + 1;
		mptcp_pm_cmd(v, c, &k);
		s->state = MPTCP_PM_SLOT_OPEN;
		live++;
		if (s->failed)
			v->ctr->pm_retry_open++;
	}
}

/* ---- the mechanism ------------------------------------------------------------------ */

static unsigned common_prefix(const struct mpt_sockaddr *a, const struct mpt_sockaddr *b)
{
	unsigned n = 0, len = a->family == MPT_AF_INET ? 4 : 16;

	for (unsigned i = 0; i < len; i++) {
		uint8_t x = a->ip[i] ^ b->ip[i];

		if (!x) {
			n += 8;
			continue;
		}
		while (!(x & 0x80)) {
			n++;
			x <<= 1;
		}
		break;
	}
	return n;
}

/* The local path to join an announced address from.  The core knows no routes: it
 * asks the injected env.route_source (the runtime asks the kernel's routing table)
 * and takes its answer if it names one of the stack's paths in remote's family.
 * Without one it does what routing would on the usual topologies: a local address
 * on the same subnet (/24, /64) as the announced one (directly attached), else dflt
 * (the first subflow's: both behind the same router). */
static uint32_t route(void *ctx, const struct mpt_sockaddr *remote, uint32_t dflt)
{
	struct mptcp_conn *mp = ctx;
	struct mpt_stack *st = mp->st;
	unsigned best = remote->family == MPT_AF_INET ? 24 : 64;
	uint32_t path = dflt;

	if (st->env.route_source) {
		struct mpt_sockaddr r = *remote;
		uint32_t rp;

		r.port = 0;
		if (st->env.route_source(st->env.route_ctx, &r, &rp) == 0 && rp < MPT_MAX_PATHS &&
		    st->paths[rp].used && st->paths[rp].local.family == remote->family) {
			st->ctr.join_src_route++;
			stack_log(st, 3, "conn %u: routing joins an announced address from path %u",
				  mp->id, rp);
			return rp;
		}
		stack_log(st, 2, "conn %u: no route answer for an announced address, subnet rule",
			  mp->id);
	}
	st->ctr.join_src_subnet++;

	for (uint32_t p = 0; p < MPT_MAX_PATHS; p++) {
		unsigned n;

		if (!st->paths[p].used || st->paths[p].local.family != remote->family)
			continue;
		n = common_prefix(&st->paths[p].local, remote);
		if (n >= best) {
			best = n;
			path = p;
		}
	}
	return path;
}

static bool sf_gone(const struct tcb *t)
{
	return t->sf->dead || t->state == MPT_CLOSED || t->state == MPT_TIME_WAIT;
}

/* Whether the path manager may open subflows and announce addresses. */
static bool pm_active(const struct mptcp_conn *mp)
{
	return !mp->fallback && !mp->fail_tx && !mp->fail_rx && mp->fully_established &&
	       !mp->closed_ev && !mp->error && !mp->app_closed;
}

struct pm_ctx {
	struct mptcp_pm_view v;
	struct mptcp_pm_ep ep[256];
	struct mptcp_pm_path paths[MPT_MAX_PATHS];
	struct tcb *tcb[MPTCP_MAX_SUBFLOWS]; /* view index -> subflow */
};

static void view_fill(struct mptcp_conn *mp, struct pm_ctx *x, uint64_t now)
{
	struct mpt_stack *st = mp->st;
	struct mptcp_pm_view *v = &x->v;

	memset(v, 0, sizeof(*v));
	v->now = now;
	v->server = mp->server;
	v->active = pm_active(mp);
	v->arg = mp->pm_arg;
	v->max_subflows = st->cfg.max_subflows < MPTCP_MAX_SUBFLOWS ? st->cfg.max_subflows
								    : MPTCP_MAX_SUBFLOWS;
	v->first = -1;
	for (uint32_t i = 0; i < mp->nsub; i++) {
		struct tcb *t = mp->sub[i];
		struct mptcp_pm_sf *s = &v->sf[v->nsf];

		if (sf_gone(t))
			continue;
		if (!t->sf->join)
			v->first = (int)v->nsf;
		s->path = t->path;
		s->local = t->local;
		s->remote = t->remote;
		s->local_id = t->sf->local_id;
		s->remote_id = t->sf->remote_id;
		s->join = t->sf->join;
		s->established = t->sf->usable;
		s->backup = t->sf->backup;
		s->tag = t->sf->pm_tag;
		x->tcb[v->nsf++] = t;
	}
	v->nsub = v->nsf;
	for (uint32_t i = 0; i < MPTCP_MAX_RADDRS; i++) {
		v->raddr[i].used = mp->raddr[i].used;
		v->raddr[i].id = mp->raddr[i].id;
		v->raddr[i].addr = mp->raddr[i].addr;
	}
	memset(x->ep, 0, sizeof(x->ep[0]) * ((size_t)st->ep_max_id + 1));
	for (int id = 1; id <= st->ep_max_id; id++) {
		x->ep[id].used = st->endpoints[id].used;
		x->ep[id].path = st->endpoints[id].path;
		x->ep[id].flags = st->endpoints[id].flags;
	}
	v->ep = x->ep;
	v->ep_max_id = st->ep_max_id;
	for (uint32_t p = 0; p < MPT_MAX_PATHS; p++) {
		x->paths[p].used = st->paths[p].used;
		x->paths[p].up = st->paths[p].used && !st->paths[p].down;
		x->paths[p].local = st->paths[p].local;
	}
	v->paths = x->paths;
	v->route = route;
	v->route_ctx = mp;
	v->ctr = &st->ctr;
	v->priv = mp->pm_priv;
}

static void queue(struct mptcp_conn *mp, const struct mptcp_pm_event *e)
{
	if (mp->pm_nev >= MPTCP_PM_EVQ) {
		mp->st->ctr.pm_event_drop++;
		return;
	}
	mp->pm_evq[mp->pm_nev++] = *e;
}

static struct tcb *signal_carrier(struct mptcp_conn *mp)
{
	for (uint32_t i = 0; i < mp->nsub; i++)
		if (mptcp_sf_sendable(mp->sub[i]))
			return mp->sub[i];
	return NULL;
}

static void withdraw(struct mptcp_conn *mp, uint8_t id, uint32_t path, uint64_t now)
{
	bool announced = mp->announce[id].sent > 0;

	mp->announce[id].sent = 0;
	mp->announce[id].due = false;
	mp->announce[id].echoed = false;
	for (uint32_t i = 0; i < mp->nsub; i++) {
		struct tcb *s = mp->sub[i];

		if (!s->sf->dead && s->path == path && s->sf->join) {
			mp->st->ctr.rm_subflow++;
			mptcp_sf_close(s, MPTCP_PM_CLOSE_WITHDRAWN, true, now);
			announced = true;
		}
	}
	if (announced && mp->nrm < MPTCP_RM_IDS_MAX && !mp->fallback)
		mp->rm_ids[mp->nrm++] = id;
}

static void exec(struct mptcp_conn *mp, struct pm_ctx *x, const struct mptcp_pm_cmds *c,
		 uint64_t now)
{
	struct mpt_stack *st = mp->st;

	for (uint32_t k = 0; k < c->n; k++) {
		const struct mptcp_pm_cmd *cmd = &c->v[k];
		struct tcb *t;

		switch (cmd->type) {
		case MPTCP_PM_CMD_ANNOUNCE:
			if (!cmd->id || !st->endpoints[cmd->id].used || mp->announce[cmd->id].sent)
				break;
			mp->announce[cmd->id].sent = 1;
			mp->announce[cmd->id].due = true;
			if ((t = signal_carrier(mp)))
				t->ack_now = true;
			break;
		case MPTCP_PM_CMD_WITHDRAW:
			if (cmd->id)
				withdraw(mp, cmd->id, cmd->path, now);
			break;
		case MPTCP_PM_CMD_OPEN: {
			struct mptcp_pm_event e = {.type = MPTCP_PM_EV_SF_CLOSED,
						   .sf_tag = cmd->tag,
						   .path = cmd->path,
						   .reason = MPTCP_PM_CLOSE_OPEN_FAILED};

			if (cmd->path < MPT_MAX_PATHS && st->paths[cmd->path].used &&
			    mp->nsub < MPTCP_MAX_SUBFLOWS &&
			    st->paths[cmd->path].local.family == cmd->remote.family &&
			    mptcp_join_active(mp, cmd->path, cmd->id, &cmd->remote, cmd->remote_id,
					      cmd->backup, now) == 0) {
				mp->sub[mp->nsub - 1]->sf->pm_tag = cmd->tag;
				st->ctr.pm_open++;
				break;
			}
			stack_log(st, 1, "conn %u: cannot open a subflow on path %u", mp->id,
				  cmd->path);
			st->ctr.pm_open_fail++;
			queue(mp, &e);
			break;
		}
		case MPTCP_PM_CMD_CLOSE:
			if (cmd->sf < x->v.nsf && !sf_gone(x->tcb[cmd->sf]))
				mptcp_sf_close(x->tcb[cmd->sf], cmd->reason, true, now);
			break;
		case MPTCP_PM_CMD_SET_BACKUP:
			if (cmd->sf >= x->v.nsf)
				break;
			t = x->tcb[cmd->sf];
			if (!t->sf->dead && t->sf->backup != cmd->backup) {
				t->sf->backup = cmd->backup;
				t->sf->prio_due = true;
				t->ack_now = true;
			}
			break;
		}
	}
}

static void deliver(struct mptcp_conn *mp, const struct mptcp_pm_event *e, uint64_t now)
{
	struct pm_ctx x;
	struct mptcp_pm_cmds c;

	view_fill(mp, &x, now);
	c.n = 0;
	c.wake_at = UINT64_MAX;
	mp->pm->event(&x.v, e, &c);
	mp->pm_wake_at = c.wake_at;
	exec(mp, &x, &c, now);
}

void mptcp_pm_init(struct mptcp_conn *mp)
{
	/* mpt_stack_new checked the name */
	mp->pm = mptcp_pm_find(mp->st->cfg.path_manager, &mp->pm_arg);
	if (!mp->pm)
		mp->pm = pms[0];
	mp->pm_wake_at = UINT64_MAX;
}

enum mptcp_pm_close mptcp_pm_close_reason(const struct tcb *t)
{
	if (t->sf->pm_reason_set)
		return (enum mptcp_pm_close)t->sf->pm_reason;
	if (t->error == MPT_ETIMEDOUT)
		return MPTCP_PM_CLOSE_TIMEOUT;
	if (t->error == MPT_ECONNRESET || t->error == MPT_ECONNREFUSED)
		return MPTCP_PM_CLOSE_RESET;
	if (t->sf->dead)
		return MPTCP_PM_CLOSE_LOCAL;
	return MPTCP_PM_CLOSE_NORMAL;
}

void mptcp_pm_sf_released(struct tcb *t)
{
	struct mptcp_conn *mp = t->mp;
	struct mptcp_pm_event e = {.type = MPTCP_PM_EV_SF_CLOSED};

	if (!mp->pm_started || t->sf->pm_closed_told || mp->nsub <= 1)
		return;
	t->sf->pm_closed_told = true;
	e.sf_tag = t->sf->pm_tag;
	e.path = t->path;
	e.reason = mptcp_pm_close_reason(t);
	queue(mp, &e);
}

void mptcp_pm_event_now(struct mptcp_conn *mp, const struct mptcp_pm_event *e, uint64_t now)
{
	if (mp->fallback)
		return;
	if (!mp->pm_started) {
		/* nothing to undo yet: ESTABLISHED will show the state as it is then */
		return;
	}
	deliver(mp, e, now);
}

void mptcp_pm_event_later(struct mptcp_conn *mp, const struct mptcp_pm_event *e)
{
	if (!mp->fallback && mp->pm_started)
		queue(mp, e);
}

static bool announce_rtx_armed(const struct mptcp_conn *mp, int id)
{
	return mp->st->endpoints[id].used && mp->announce[id].sent && !mp->announce[id].echoed &&
	       !mp->announce[id].due && mp->announce[id].sent <= MPTCP_ADD_ADDR_RTX &&
	       mp->announce[id].rtx_at;
}

uint64_t mptcp_pm_next_timeout(const struct mptcp_conn *mp)
{
	uint64_t n = UINT64_MAX;

	if (mp->fallback || !pm_active(mp))
		return n;
	for (int id = 1; id <= mp->st->ep_max_id; id++)
		if (announce_rtx_armed(mp, id) && mp->announce[id].rtx_at < n)
			n = mp->announce[id].rtx_at;
	if (mp->pm_started && mp->pm_wake_at < n)
		n = mp->pm_wake_at;
	return n;
}

void mptcp_pm_tick(struct mptcp_conn *mp, uint64_t now)
{
	struct mpt_stack *st = mp->st;
	unsigned rounds = 0;

	if (mp->fallback)
		return;
	if (!mp->pm_started) {
		struct mptcp_pm_event e = {.type = MPTCP_PM_EV_ESTABLISHED};

		if (!pm_active(mp))
			return;
		mp->pm_started = true;
		mp->pm_nev = 0;
		for (uint32_t i = 0; i < MPTCP_MAX_RADDRS; i++)
			mp->raddr[i].told = true; /* in the view ESTABLISHED sees */
		deliver(mp, &e, now);
	}
	/* what changed since the last tick, as events */
	for (uint32_t i = 0; i < mp->nsub; i++) {
		struct tcb *t = mp->sub[i];
		struct mptcp_pm_event e = {.type = MPTCP_PM_EV_SF_CLOSED};

		if (sf_gone(t)) {
			if (t->sf->pm_closed_told)
				continue;
			t->sf->pm_closed_told = true;
			e.sf_tag = t->sf->pm_tag;
			e.path = t->path;
			e.reason = mptcp_pm_close_reason(t);
			queue(mp, &e);
		} else if (t->sf->usable && t->sf->join && !t->sf->pm_est_told) {
			t->sf->pm_est_told = true;
			e.type = MPTCP_PM_EV_SF_ESTABLISHED;
			e.path = t->path;
			e.sf_tag = t->sf->pm_tag;
			queue(mp, &e);
		}
	}
	for (uint32_t i = 0; i < MPTCP_MAX_RADDRS; i++)
		if (mp->raddr[i].used && !mp->raddr[i].told) {
			struct mptcp_pm_event e = {.type = MPTCP_PM_EV_ADD_ADDR, .raddr = i};

			mp->raddr[i].told = true;
			queue(mp, &e);
		}
	while (mp->pm_nev && rounds++ < PM_MAX_ROUNDS) {
		struct mptcp_pm_event e = mp->pm_evq[0];

		memmove(mp->pm_evq, mp->pm_evq + 1, sizeof(e) * --mp->pm_nev);
		if (e.type == MPTCP_PM_EV_SF_ESTABLISHED) {
			/* the view's index of that subflow: found by tag and path */
			struct pm_ctx x;
			bool found = false;

			view_fill(mp, &x, now);
			for (uint32_t k = 0; k < x.v.nsf && !found; k++)
				if (x.v.sf[k].tag == e.sf_tag && x.v.sf[k].path == e.path &&
				    x.v.sf[k].established && x.v.sf[k].join) {
					e.sf = k;
					found = true;
				}
			if (!found)
				continue;
		}
		deliver(mp, &e, now);
	}
	if (now >= mp->pm_wake_at) {
		struct mptcp_pm_event e = {.type = MPTCP_PM_EV_TIMER};

		mp->pm_wake_at = UINT64_MAX;
		deliver(mp, &e, now);
	}
	if (!pm_active(mp))
		return;
	/* ADD_ADDR retransmissions, either side */
	for (int id = 1; id <= st->ep_max_id; id++) {
		struct tcb *t;

		if (!announce_rtx_armed(mp, id) || now < mp->announce[id].rtx_at)
			continue;
		mp->announce[id].sent++;
		mp->announce[id].due = true;
		if ((t = signal_carrier(mp)))
			t->ack_now = true;
	}
}
