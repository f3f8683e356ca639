/* Resolution after parsing (addresses, endpoint ids, app targets, event order and
 * the checks that need them), and the small query API of topology.h. */
#include "topology_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* --- addresses -------------------------------------------------------------- */

/* Link i: 198.18.i.{1,2}/24 (i < 256), then 198.19.(i-256).{1,2}/24;
 * 2001:db8:0:<i>::{1,2}/64. */
static void auto_addresses(struct topology *t)
{
	for (int i = 0; i < t->nlinks; i++) {
		struct topo_link *l = &t->links[i];

		for (int e = 0; e < 2; e++) {
			struct netaddr *a4 = &l->end[e].addr4, *a6 = &l->end[e].addr6;

			if (!a4->family) {
				memset(a4, 0, sizeof(*a4));
				a4->family = AF_INET;
				a4->bytes[0] = 198;
				a4->bytes[1] = (uint8_t)(18 + i / 256);
				a4->bytes[2] = (uint8_t)(i % 256);
				a4->bytes[3] = (uint8_t)(e + 1);
				a4->prefixlen = 24;
			}
			if (t->ipv6 && !a6->family) {
				static const uint8_t pfx[] = {0x20, 0x01, 0x0d, 0xb8, 0, 0};

				memset(a6, 0, sizeof(*a6));
				a6->family = AF_INET6;
				memcpy(a6->bytes, pfx, sizeof(pfx));
				a6->bytes[6] = (uint8_t)(i >> 8);
				a6->bytes[7] = (uint8_t)(i & 0xff);
				a6->bytes[15] = (uint8_t)(e + 1);
				a6->prefixlen = 64;
			}
		}
	}
}

static const struct netaddr *addr_of(const struct topo_link *l, int f, int e)
{
	return f ? &l->end[e].addr6 : &l->end[e].addr4;
}

/* Two links' subnets must not overlap (and so no address is used twice).  Auto
 * subnets never overlap each other, so the blame goes to an overridden one. */
static int check_pair(struct tp_ctx *c, int i, int j, int f)
{
	const struct topology *t = c->t;
	const struct topo_link *li = &t->links[i], *lj = &t->links[j];
	const struct netaddr *ai = addr_of(li, f, 0), *aj = addr_of(lj, f, 0);
	char sb[NETADDR_STRLEN], so[NETADDR_STRLEN];
	int b, o;

	if (!ai->family || !aj->family)
		return 0;
	if (!netaddr_in_net(aj, ai) && !netaddr_in_net(ai, aj))
		return 0;
	b = c->addr_pos[j][f][0].line ? j : i;
	o = b == j ? i : j;
	for (int eb = 0; eb < 2; eb++) {
		for (int eo = 0; eo < 2; eo++) {
			const struct netaddr *x = addr_of(&t->links[b], f, eb);

			if (netaddr_eq(x, addr_of(&t->links[o], f, eo)))
				return tp_err_at(c, c->addr_pos[b][f][eb],
						 "address %s is already used on link \"%s\" (line "
						 "%d)",
						 netaddr_fmt(x, false, sb, sizeof(sb)),
						 t->links[o].name, t->links[o].pos.line);
		}
	}
	{
		struct netaddr nb = netaddr_network(addr_of(&t->links[b], f, 0));
		struct netaddr no = netaddr_network(addr_of(&t->links[o], f, 0));

		return tp_err_at(c, c->addr_pos[b][f][0],
				 "subnet %s overlaps subnet %s of link \"%s\" (line %d): each link "
				 "needs its own subnet",
				 netaddr_fmt(&nb, true, sb, sizeof(sb)),
				 netaddr_fmt(&no, true, so, sizeof(so)), t->links[o].name,
				 t->links[o].pos.line);
	}
}

static int check_addresses(struct tp_ctx *c)
{
	const struct topology *t = c->t;

	for (int j = 1; j < t->nlinks; j++)
		for (int i = 0; i < j; i++)
			for (int f = 0; f < 2; f++)
				if ((c->addr_pos[i][f][0].line || c->addr_pos[j][f][0].line) &&
				    check_pair(c, i, j, f))
					return -1;
	return 0;
}

/* --- endpoints, apps, events ------------------------------------------------- */

static int endpoint_ids(struct tp_ctx *c)
{
	struct topology *t = c->t;
	int *next = calloc((size_t)t->nhosts, sizeof(int));

	if (!next)
		return tp_err_at(c, (struct topo_pos){0, 0}, "out of memory");
	for (int i = 0; i < t->nlinks; i++) {
		for (int e = 0; e < 2; e++) {
			struct topo_iface *ifc = &t->links[i].end[e];

			if (!ifc->endpoint_set)
				continue;
			ifc->endpoint_id = ++next[ifc->host];
			if (ifc->endpoint_id > 255) {
				free(next);
				return tp_err_at(c, ifc->endpoint_pos,
						 "host \"%s\" has more than 255 MPTCP endpoints",
						 t->hosts[ifc->host].name);
			}
		}
	}
	free(next);
	return 0;
}

static void app_addresses(struct topology *t)
{
	for (int i = 0; i < t->napps; i++) {
		struct topo_app *a = &t->apps[i];
		int e;

		if (a->server_link < 0)
			continue;
		e = topo_link_end(t, a->server_link, a->server);
		a->server_addr = a->ipv6 ? t->links[a->server_link].end[e].addr6
					 : t->links[a->server_link].end[e].addr4;
	}
}

struct ev_key {
	uint64_t at;
	int idx;
};

static int cmp_event(const void *x, const void *y)
{
	const struct ev_key *a = x, *b = y;

	if (a->at != b->at)
		return a->at < b->at ? -1 : 1;
	return (a->idx > b->idx) - (a->idx < b->idx); /* stable: file order */
}

/* Replay the `set` events in time order on each link's directions, so that the
 * checks of tp_check_dir see the state each event actually produces. */
static int replay_sets(struct tp_ctx *c, const int *order)
{
	struct topology *t = c->t;
	struct topo_dir *run = malloc((size_t)t->nlinks * 2 * sizeof(*run));
	int r = 0;

	if (!run)
		return tp_err_at(c, (struct topo_pos){0, 0}, "out of memory");
	for (int i = 0; i < t->nlinks; i++) {
		run[2 * i] = t->links[i].dir[0];
		run[2 * i + 1] = t->links[i].dir[1];
	}
	for (int k = 0; k < t->nevents && !r; k++) {
		const struct topo_event *ev = &t->events[order[k]];
		struct tp_marks m;

		if (ev->action != TOPO_EV_SET)
			continue;
		for (int b = 0; b < TP_NFLAGS; b++)
			m.key[b] = (ev->params.set & (1u << b)) ? c->ev_marks[order[k]].key[b]
								: ev->pos;
		for (int d = 0; d < 2 && !r; d++) {
			struct topo_dir *cur = &run[2 * ev->link + d];

			if (!(ev->dir_mask & (1 << d)))
				continue;
			topo_dir_apply(cur, &ev->params);
			r = tp_check_dir(c, cur, &m, t->links[ev->link].emulator);
		}
	}
	free(run);
	return r;
}

static int sort_events(struct tp_ctx *c)
{
	struct topology *t = c->t;
	struct ev_key *keys;
	struct topo_event *sorted;
	int *order;
	int r;

	if (t->nevents == 0)
		return 0;
	keys = malloc((size_t)t->nevents * sizeof(*keys));
	order = malloc((size_t)t->nevents * sizeof(*order));
	sorted = malloc((size_t)t->nevents * sizeof(*sorted));
	if (!keys || !order || !sorted) {
		r = tp_err_at(c, (struct topo_pos){0, 0}, "out of memory");
		goto out;
	}
	for (int i = 0; i < t->nevents; i++)
		keys[i] = (struct ev_key){t->events[i].at_ns, i};
	qsort(keys, (size_t)t->nevents, sizeof(*keys), cmp_event);
	for (int i = 0; i < t->nevents; i++)
		order[i] = keys[i].idx;
	r = replay_sets(c, order);
	for (int i = 0; i < t->nevents; i++)
		sorted[i] = t->events[order[i]];
	free(t->events);
	t->events = sorted;
	sorted = NULL;
out:
	free(keys);
	free(order);
	free(sorted);
	return r;
}

int tp_resolve(struct tp_ctx *c)
{
	auto_addresses(c->t);
	if (check_addresses(c) || endpoint_ids(c))
		return -1;
	app_addresses(c->t);
	return sort_events(c);
}

/* --- API ---------------------------------------------------------------------- */

void topo_free(struct topology *t)
{
	if (!t)
		return;
	free(t->hosts);
	free(t->links);
	free(t->apps);
	free(t->events);
	free(t);
}

int topo_errorf(const struct topology *t, struct topo_pos pos, char err[TOPO_ERR_MAX],
		const char *fmt, ...)
{
	char msg[TOPO_ERR_MAX];
	const char *path = t ? t->path : "?";
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (pos.line > 0)
		r = snprintf(err, TOPO_ERR_MAX, "%s:%d:%d: %s", path, pos.line, pos.col, msg);
	else
		r = snprintf(err, TOPO_ERR_MAX, "%s: %s", path, msg);
	if (r < 0)
		err[0] = '\0';
	for (char *p = err; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return -1;
}

int topo_host_find(const struct topology *t, const char *name)
{
	for (int i = 0; i < t->nhosts; i++)
		if (!strcmp(t->hosts[i].name, name))
			return i;
	return -1;
}

int topo_link_find(const struct topology *t, const char *name)
{
	for (int i = 0; i < t->nlinks; i++)
		if (!strcmp(t->links[i].name, name))
			return i;
	return -1;
}

int topo_link_end(const struct topology *t, int l, int h)
{
	if (l < 0 || l >= t->nlinks)
		return -1;
	if (t->links[l].end[0].host == h)
		return 0;
	if (t->links[l].end[1].host == h)
		return 1;
	return -1;
}

const char *topo_stack_name(enum topo_stack s)
{
	switch (s) {
	case TOPO_STACK_NONE:
		return "none";
	case TOPO_STACK_KERNEL:
		return "kernel";
	case TOPO_STACK_TCP:
		return "tcp";
	case TOPO_STACK_MPT:
		return "mpt";
	}
	return "?";
}

const char *topo_action_name(enum topo_action a)
{
	switch (a) {
	case TOPO_EV_DOWN:
		return "down";
	case TOPO_EV_UP:
		return "up";
	case TOPO_EV_SET:
		return "set";
	case TOPO_EV_BLACKHOLE:
		return "blackhole";
	case TOPO_EV_RESTORE:
		return "restore";
	case TOPO_EV_ADDR_DEL:
		return "addr-del";
	case TOPO_EV_ADDR_ADD:
		return "addr-add";
	}
	return "?";
}

const char *topo_emulator_name(enum topo_emulator e)
{
	switch (e) {
	case TOPO_EMU_AUTO:
		return "auto";
	case TOPO_EMU_USER:
		return "user";
	case TOPO_EMU_NETEM:
		return "netem";
	}
	return "?";
}

int topo_route_first_link(const struct topology *t, int a, int b)
{
	int *first, *queue, head = 0, tail = 0, found = -1;

	if (a == b || a < 0 || b < 0 || a >= t->nhosts || b >= t->nhosts)
		return -1;
	first = malloc((size_t)t->nhosts * sizeof(*first));
	queue = malloc((size_t)t->nhosts * sizeof(*queue));
	if (!first || !queue)
		goto out;
	for (int i = 0; i < t->nhosts; i++)
		first[i] = -2; /* not seen */
	first[a] = -1;
	queue[tail++] = a;
	while (head < tail && found < 0) {
		int u = queue[head++];

		if (u != a && !t->hosts[u].forward)
			continue; /* reached, but it does not pass packets on */
		for (int l = 0; l < t->nlinks && found < 0; l++) {
			int e = topo_link_end(t, l, u), v;

			if (e < 0)
				continue;
			v = t->links[l].end[1 - e].host;
			if (first[v] != -2)
				continue;
			first[v] = u == a ? l : first[u];
			if (v == b)
				found = first[v];
			queue[tail++] = v;
		}
	}
out:
	free(first);
	free(queue);
	return found;
}

bool topo_reachable(const struct topology *t, int a, int b)
{
	if (a == b)
		return a >= 0 && a < t->nhosts;
	return topo_route_first_link(t, a, b) >= 0;
}

void topo_dir_apply(struct topo_dir *dst, const struct topo_dir *src)
{
	uint32_t s = src->set;

	if (s & TOPO_F_RATE) {
		dst->rate_bps = src->rate_bps;
		dst->set &= ~(uint32_t)TOPO_F_TRACE; /* a rate replaces a trace */
		dst->trace[0] = '\0';
	}
	if (s & TOPO_F_TRACE) {
		memcpy(dst->trace, src->trace, sizeof(dst->trace));
		dst->set &= ~(uint32_t)TOPO_F_RATE; /* and a trace replaces a rate */
		dst->rate_bps = 0;
	}
	if (s & TOPO_F_DELAY)
		dst->delay_ns = src->delay_ns;
	if (s & TOPO_F_JITTER)
		dst->jitter_ns = src->jitter_ns;
	if (s & TOPO_F_DELAY_CORR)
		dst->delay_corr = src->delay_corr;
	if (s & TOPO_F_DIST)
		dst->dist = src->dist;
	if (s & TOPO_F_LOSS) {
		dst->loss_model = src->loss_model;
		memcpy(dst->loss, src->loss, sizeof(dst->loss));
	}
	if (s & TOPO_F_DUPLICATE) {
		dst->duplicate = src->duplicate;
		dst->duplicate_corr = src->duplicate_corr;
	}
	if (s & TOPO_F_CORRUPT) {
		dst->corrupt = src->corrupt;
		dst->corrupt_corr = src->corrupt_corr;
	}
	if (s & TOPO_F_REWRITE)
		dst->rewrite = src->rewrite;
	if (s & TOPO_F_REORDER) {
		dst->reorder = src->reorder;
		dst->reorder_corr = src->reorder_corr;
		dst->reorder_gap = src->reorder_gap;
	}
	if (s & TOPO_F_QUEUE) {
		dst->queue_unit = src->queue_unit;
		dst->queue = src->queue;
	}
	if (s & TOPO_F_AQM) {
		dst->codel = src->codel;
		dst->codel_target_ns = src->codel_target_ns;
		dst->codel_interval_ns = src->codel_interval_ns;
	}
	dst->set |= s;
}
