#include "routing.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct reach {
	int dist;	/* hops from the host; -1 unreached */
	int first_link; /* link of the first hop */
	int first_end;	/* which end of first_link is the next hop */
};

static int other_end(const struct topo_link *l, int host)
{
	return l->end[0].host == host ? 1 : 0;
}

static bool on_link(const struct topo_link *l, int host)
{
	return l->end[0].host == host || l->end[1].host == host;
}

/* BFS from host h.  If only_link >= 0 the first hop must use that link. */
static int bfs(const struct topology *t, int h, int only_link, struct reach *r)
{
	int *queue = calloc((size_t)t->nhosts, sizeof(*queue));
	int qh = 0, qt = 0;

	if (!queue)
		return -ENOMEM;
	for (int i = 0; i < t->nhosts; i++)
		r[i] = (struct reach){.dist = -1, .first_link = -1, .first_end = -1};
	r[h].dist = 0;
	queue[qt++] = h;
	while (qh < qt) {
		int u = queue[qh++];

		if (u != h && !t->hosts[u].forward)
			continue; /* reached, but does not forward */
		for (int l = 0; l < t->nlinks; l++) {
			const struct topo_link *lk = &t->links[l];
			int e, v;

			if (!on_link(lk, u) || (u == h && only_link >= 0 && l != only_link))
				continue;
			e = other_end(lk, u);
			v = lk->end[e].host;
			if (r[v].dist >= 0)
				continue;
			r[v].dist = r[u].dist + 1;
			r[v].first_link = u == h ? l : r[u].first_link;
			r[v].first_end = u == h ? e : r[u].first_end;
			queue[qt++] = v;
		}
	}
	free(queue);
	return 0;
}

static int push_route(struct host_routing *out, const struct route_entry *e)
{
	struct route_entry *n = realloc(out->routes, sizeof(*n) * (size_t)(out->nroutes + 1));

	if (!n)
		return -ENOMEM;
	out->routes = n;
	n[out->nroutes++] = *e;
	return 0;
}

static int push_rule(struct host_routing *out, const struct rule_entry *e)
{
	struct rule_entry *n = realloc(out->rules, sizeof(*n) * (size_t)(out->nrules + 1));

	if (!n)
		return -ENOMEM;
	out->rules = n;
	n[out->nrules++] = *e;
	return 0;
}

static const struct netaddr *iface_addr(const struct topo_iface *i, int family)
{
	return family == AF_INET ? &i->addr4 : &i->addr6;
}

/* Routes in `table` to every link reached in r, except the host's own links
 * (and except skip_link).  A link whose nearest reached end forwards is routed
 * as a subnet; otherwise only that end's own address is (a /32 or /128). */
static int add_reached(const struct topology *t, int h, const struct reach *r, uint32_t table,
		       const struct netaddr *src4, const struct netaddr *src6,
		       struct host_routing *out)
{
	static const int families[2] = {AF_INET, AF_INET6};

	for (int l = 0; l < t->nlinks; l++) {
		const struct topo_link *lk = &t->links[l];
		int best = -1;

		if (on_link(lk, h))
			continue;
		for (int e = 0; e < 2; e++) {
			int v = lk->end[e].host;
			if (r[v].dist > 0 && (best < 0 || r[v].dist < r[lk->end[best].host].dist))
				best = e;
		}
		if (best < 0)
			continue;
		for (int f = 0; f < 2; f++) {
			const struct reach *rv = &r[lk->end[best].host];
			const struct topo_link *hop = &t->links[rv->first_link];
			const struct netaddr *dst = iface_addr(&lk->end[best], families[f]);
			const struct netaddr *gw =
				iface_addr(&hop->end[rv->first_end], families[f]);
			const struct netaddr *src = families[f] == AF_INET ? src4 : src6;
			struct route_entry e = {.table = table, .link = rv->first_link};
			int err;

			if (!dst->family || !gw->family)
				continue;
			if (t->hosts[lk->end[best].host].forward) {
				e.dst = netaddr_network(dst);
			} else {
				e.dst = *dst;
				e.dst.prefixlen = families[f] == AF_INET ? 32 : 128;
			}
			e.gw = *gw;
			e.gw.prefixlen = families[f] == AF_INET ? 32 : 128;
			if (src && src->family)
				e.src = *src;
			err = push_route(out, &e);
			if (err)
				return err;
		}
	}
	return 0;
}

static bool opens_subflows(const struct topology *t, int d)
{
	for (int l = 0; l < t->nlinks; l++)
		for (int e = 0; e < 2; e++)
			if (t->links[l].end[e].host == d &&
			    t->links[l].end[e].endpoint_flags &
				    (TOPO_EP_SUBFLOW | TOPO_EP_FULLMESH))
				return true;
	return false;
}

/* Whether host h is a server of host d: an app has client d and server h, or d opens
 * subflows (a `subflow` or `fullmesh` endpoint) and h, an end host, does not.  The client picks a
 * subflow's addresses (its own, and the server's first address or an announced
 * one), so its addresses decide the path. */
static bool serves(const struct topology *t, int h, int d)
{
	for (int a = 0; a < t->napps; a++)
		if (t->apps[a].client == d && t->apps[a].server == h)
			return true;
	return !t->hosts[h].forward && opens_subflows(t, d) && !opens_subflows(t, h);
}

/* The destination table of a multi-homed host h: a /32 (/128) route to every address
 * of each host it serves (see serves()) along the path that ends on that address's
 * own link, as in a real network where a client's lte address is reachable only
 * through the lte network: directly when h is the link's other end, else through the
 * first hop of h's shortest path to that other end, when it forwards.  An address
 * whose own link cannot be reached that way gets no entry here (the source tables
 * and the main table route it as before).  r is the unrestricted BFS from h.  The
 * preferred source is h's address on the outgoing link. */
static int add_destinations(const struct topology *t, int h, const struct reach *r,
			    struct host_routing *out)
{
	for (int l = 0; l < t->nlinks; l++) {
		const struct topo_link *lk = &t->links[l];

		for (int d = 0; d < 2; d++) {
			const struct topo_iface *x = &lk->end[d];
			int n = lk->end[d ^ 1].host;
			int out_link, gw_end = -1;

			if (x->host == h || t->hosts[x->host].forward || !serves(t, h, x->host))
				continue;
			if (n == h) {
				out_link = l;
			} else if (t->hosts[n].forward && r[n].dist > 0) {
				out_link = r[n].first_link;
				gw_end = r[n].first_end;
			} else {
				continue;
			}
			for (int f = 0; f < 2; f++) {
				const struct topo_link *ol = &t->links[out_link];
				const struct topo_iface *me = &ol->end[other_end(ol, h) ^ 1];
				const struct netaddr *dst = f ? &x->addr6 : &x->addr4;
				const struct netaddr *src = f ? &me->addr6 : &me->addr4;
				struct route_entry e = {.table = ROUTING_TABLE_DEST,
							.link = out_link};
				int err;

				if (!dst->family)
					continue;
				e.dst = *dst;
				e.dst.prefixlen = f ? 128 : 32;
				if (gw_end >= 0) {
					const struct netaddr *gw = iface_addr(
						&ol->end[gw_end], f ? AF_INET6 : AF_INET);

					if (!gw->family)
						continue;
					e.gw = *gw;
					e.gw.prefixlen = e.dst.prefixlen;
				}
				if (src->family)
					e.src = *src;
				err = push_route(out, &e);
				if (err)
					return err;
			}
		}
	}
	return 0;
}

int routing_compute(const struct topology *t, int h, struct host_routing *out)
{
	struct reach *r = calloc((size_t)t->nhosts, sizeof(*r));
	int err;

	memset(out, 0, sizeof(*out));
	if (!r)
		return -ENOMEM;
	err = bfs(t, h, -1, r);
	if (!err)
		err = add_reached(t, h, r, ROUTING_TABLE_MAIN, NULL, NULL, out);
	if (err || t->hosts[h].nifaces < 2)
		goto out;

	for (int l = 0; l < t->nlinks && !err; l++) {
		const struct topo_link *lk = &t->links[l];
		const struct topo_iface *me, *peer;
		uint32_t table = ROUTING_TABLE_BASE + (uint32_t)lk->index;

		if (!on_link(lk, h))
			continue;
		me = &lk->end[other_end(lk, h) ^ 1];
		peer = &lk->end[other_end(lk, h)];
		/* The link's own subnet; the neighbour's addresses on the host's other
		 * links to it (parallel links: a non-forwarding neighbour still owns
		 * them, and traffic from this address must stay on this link). */
		for (int f = 0; f < 2 && !err; f++) {
			const struct netaddr *a = f ? &me->addr6 : &me->addr4;
			struct route_entry e = {.table = table, .link = l, .src = *a};
			struct rule_entry ru = {.src = *a,
						.table = table,
						.prio = ROUTING_RULE_PRIO_BASE +
							(uint32_t)lk->index,
						.link = l};

			if (!a->family)
				continue;
			e.dst = netaddr_network(a);
			err = push_route(out, &e);
			ru.src.prefixlen = f ? 128 : 32;
			if (!err)
				err = push_rule(out, &ru);
		}
		for (int l2 = 0; l2 < t->nlinks && !err; l2++) {
			const struct topo_link *o = &t->links[l2];
			const struct topo_iface *pi;

			if (l2 == l || !on_link(o, peer->host) || !on_link(o, h) ||
			    t->hosts[peer->host].forward)
				continue;
			pi = &o->end[o->end[0].host == peer->host ? 0 : 1];
			for (int f = 0; f < 2 && !err; f++) {
				const struct netaddr *d = f ? &pi->addr6 : &pi->addr4;
				const struct netaddr *gw = f ? &peer->addr6 : &peer->addr4;
				const struct netaddr *src = f ? &me->addr6 : &me->addr4;
				struct route_entry e = {.table = table, .link = l};

				if (!d->family || !gw->family)
					continue;
				e.dst = *d;
				e.dst.prefixlen = f ? 128 : 32;
				e.gw = *gw;
				e.gw.prefixlen = e.dst.prefixlen;
				e.src = *src;
				err = push_route(out, &e);
			}
		}
		if (!err)
			err = bfs(t, h, l, r);
		if (!err)
			err = add_reached(t, h, r, table, &me->addr4, &me->addr6, out);
	}
	/* Destinations (rule priority ROUTING_RULE_PRIO_DEST, before the source rules):
	 * "from all lookup ROUTING_TABLE_DEST" per family in use.  r was restricted to
	 * the last link: recompute it unrestricted. */
	if (!err)
		err = bfs(t, h, -1, r);
	if (!err)
		err = add_destinations(t, h, r, out);
	for (int f = 0; f < 2 && !err; f++) {
		bool used = false;

		for (int i = 0; i < out->nroutes; i++)
			used |= out->routes[i].table == ROUTING_TABLE_DEST &&
				out->routes[i].dst.family == (f ? AF_INET6 : AF_INET);
		if (used)
			err = push_rule(out,
					&(struct rule_entry){.src.family = f ? AF_INET6 : AF_INET,
							     .table = ROUTING_TABLE_DEST,
							     .prio = ROUTING_RULE_PRIO_DEST,
							     .link = -1});
	}
out:
	free(r);
	if (err)
		routing_free(out);
	return err;
}

void routing_free(struct host_routing *r)
{
	free(r->routes);
	free(r->rules);
	memset(r, 0, sizeof(*r));
}

bool routing_entry_on_link(const struct route_entry *e, int l)
{
	return e->link == l;
}
