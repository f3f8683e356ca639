/* Routing on hand-built topologies: a chain through routers, and a multi-homed
 * host with per-address source routing. */
#include "test.h"
#include "routing.h"

#include <stdlib.h>
#include <sys/socket.h>

struct fixture {
	struct topology t;
	struct topo_host hosts[8];
	struct topo_link links[8];
	struct topo_app apps[4];
};

static void add_app(struct fixture *f, int client, int server)
{
	struct topo_app *a = &f->apps[f->t.napps++];

	a->client = client;
	a->server = server;
}

static void add_host(struct fixture *f, const char *name, bool fwd)
{
	struct topo_host *h = &f->hosts[f->t.nhosts++];

	snprintf(h->name, sizeof(h->name), "%s", name);
	h->forward = fwd;
}

static void add_link(struct fixture *f, int a, int b)
{
	int i = f->t.nlinks++;
	struct topo_link *l = &f->links[i];
	char s[64];

	snprintf(l->name, sizeof(l->name), "l%d", i);
	l->index = i;
	l->end[0].host = a;
	l->end[1].host = b;
	snprintf(s, sizeof(s), "198.18.%d.1/24", i);
	netaddr_parse(s, &l->end[0].addr4);
	snprintf(s, sizeof(s), "198.18.%d.2/24", i);
	netaddr_parse(s, &l->end[1].addr4);
	f->hosts[a].nifaces++;
	f->hosts[b].nifaces++;
}

static void init(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	f->t.hosts = f->hosts;
	f->t.links = f->links;
	f->t.apps = f->apps;
}

static const struct route_entry *find(const struct host_routing *r, uint32_t table, const char *dst)
{
	struct netaddr d;

	netaddr_parse(dst, &d);
	for (int i = 0; i < r->nroutes; i++)
		if (r->routes[i].table == table && netaddr_eq(&r->routes[i].dst, &d) &&
		    r->routes[i].dst.prefixlen == d.prefixlen)
			return &r->routes[i];
	return NULL;
}

static bool gw_is(const struct route_entry *e, const char *gw)
{
	struct netaddr g;

	netaddr_parse(gw, &g);
	return e && netaddr_eq(&e->gw, &g);
}

TEST(routing_chain_through_routers)
{
	struct fixture f;
	struct host_routing r;
	const struct route_entry *e;

	init(&f);
	add_host(&f, "client", false); /* 0 */
	add_host(&f, "r1", true);      /* 1 */
	add_host(&f, "r2", true);      /* 2 */
	add_host(&f, "server", false); /* 3 */
	add_link(&f, 0, 1);	       /* l0: 198.18.0.0/24 */
	add_link(&f, 1, 2);	       /* l1 */
	add_link(&f, 2, 3);	       /* l2 */

	CHECK_EQ(routing_compute(&f.t, 0, &r), 0);
	/* client: l1 and l2 through r1 (198.18.0.2); l2's nearest end r2 forwards,
	 * so the whole subnet is routed. */
	e = find(&r, ROUTING_TABLE_MAIN, "198.18.1.0/24");
	CHECK(e != NULL);
	CHECK(gw_is(e, "198.18.0.2"));
	CHECK_EQ(e->link, 0);
	e = find(&r, ROUTING_TABLE_MAIN, "198.18.2.0/24");
	CHECK(gw_is(e, "198.18.0.2"));
	CHECK_EQ(r.nrules, 0); /* single-homed: no source routing */
	routing_free(&r);

	CHECK_EQ(routing_compute(&f.t, 1, &r), 0);
	/* r1 reaches l2 through r2 (198.18.1.2), out of l1. */
	e = find(&r, ROUTING_TABLE_MAIN, "198.18.2.0/24");
	CHECK(gw_is(e, "198.18.1.2"));
	CHECK_EQ(e->link, 1);
	CHECK(find(&r, ROUTING_TABLE_MAIN, "198.18.0.0/24") == NULL); /* connected */
	routing_free(&r);

	CHECK_EQ(routing_compute(&f.t, 3, &r), 0);
	CHECK(gw_is(find(&r, ROUTING_TABLE_MAIN, "198.18.0.0/24"), "198.18.2.1"));
	routing_free(&r);
}

TEST(routing_no_transit_through_plain_hosts)
{
	struct fixture f;
	struct host_routing r;

	init(&f);
	add_host(&f, "a", false);
	add_host(&f, "b", false); /* does not forward */
	add_host(&f, "c", false);
	add_link(&f, 0, 1);
	add_link(&f, 1, 2);
	CHECK_EQ(routing_compute(&f.t, 0, &r), 0);
	/* a reaches b's address on l1 (b owns it), but not c and not the subnet. */
	CHECK(find(&r, ROUTING_TABLE_MAIN, "198.18.1.0/24") == NULL);
	CHECK(gw_is(find(&r, ROUTING_TABLE_MAIN, "198.18.1.1/32"), "198.18.0.2"));
	CHECK(find(&r, ROUTING_TABLE_MAIN, "198.18.1.2/32") == NULL);
	routing_free(&r);
}

TEST(routing_multihomed_source_tables)
{
	struct fixture f;
	struct host_routing r;
	const struct route_entry *e;

	init(&f);
	add_host(&f, "client", false);
	add_host(&f, "server", false);
	add_link(&f, 0, 1); /* wifi, 198.18.0.0/24 */
	add_link(&f, 0, 1); /* lte,  198.18.1.0/24 */
	CHECK_EQ(routing_compute(&f.t, 0, &r), 0);
	CHECK_EQ(r.nrules, 2); /* no app, no endpoint: nobody serves anybody */
	CHECK_EQ(r.rules[0].table, ROUTING_TABLE_BASE + 0);
	CHECK_EQ(r.rules[0].src.prefixlen, 32);
	CHECK_EQ(r.rules[1].table, ROUTING_TABLE_BASE + 1);
	CHECK(r.rules[0].prio != r.rules[1].prio);
	/* Table of wifi: its subnet, and the server's lte address through wifi. */
	e = find(&r, ROUTING_TABLE_BASE + 0, "198.18.0.0/24");
	CHECK(e != NULL);
	CHECK_EQ(e->link, 0);
	CHECK_EQ(e->gw.family, 0);
	e = find(&r, ROUTING_TABLE_BASE + 0, "198.18.1.2/32");
	CHECK(gw_is(e, "198.18.0.2"));
	CHECK_EQ(e->link, 0);
	/* Table of lte mirrors it. */
	e = find(&r, ROUTING_TABLE_BASE + 1, "198.18.0.2/32");
	CHECK(gw_is(e, "198.18.1.2"));
	CHECK_EQ(e->link, 1);
	routing_free(&r);
}

TEST(routing_multihomed_through_routers)
{
	struct fixture f;
	struct host_routing r;

	init(&f);
	add_host(&f, "client", false); /* 0 */
	add_host(&f, "ra", true);      /* 1 */
	add_host(&f, "rb", true);      /* 2 */
	add_host(&f, "server", false); /* 3 */
	add_link(&f, 0, 1);	       /* l0 client-ra */
	add_link(&f, 0, 2);	       /* l1 client-rb */
	add_link(&f, 1, 3);	       /* l2 ra-server */
	add_link(&f, 2, 3);	       /* l3 rb-server */
	CHECK_EQ(routing_compute(&f.t, 0, &r), 0);
	/* From the l0 address: l2 through ra; of l3 only the server's own address
	 * (the server does not forward, rb is not reachable that way). */
	CHECK(gw_is(find(&r, ROUTING_TABLE_BASE + 0, "198.18.2.0/24"), "198.18.0.2"));
	CHECK(gw_is(find(&r, ROUTING_TABLE_BASE + 0, "198.18.3.2/32"), "198.18.0.2"));
	CHECK(find(&r, ROUTING_TABLE_BASE + 0, "198.18.3.0/24") == NULL);
	CHECK(gw_is(find(&r, ROUTING_TABLE_BASE + 1, "198.18.3.0/24"), "198.18.1.2"));
	CHECK(gw_is(find(&r, ROUTING_TABLE_BASE + 1, "198.18.2.2/32"), "198.18.1.2"));
	/* Main table: the nearest forwarding end. */
	CHECK(gw_is(find(&r, ROUTING_TABLE_MAIN, "198.18.2.0/24"), "198.18.0.2"));
	CHECK(gw_is(find(&r, ROUTING_TABLE_MAIN, "198.18.3.0/24"), "198.18.1.2"));
	routing_free(&r);
}

/* The rule and the /32 route of the destination table, for one host. */
static const struct route_entry *dest(const struct host_routing *r, const char *addr)
{
	char s[64];

	snprintf(s, sizeof(s), "%s/32", addr);
	return find(r, ROUTING_TABLE_DEST, s);
}

static bool has_dest_rule(const struct host_routing *r)
{
	for (int i = 0; i < r->nrules; i++)
		if (r->rules[i].table == ROUTING_TABLE_DEST) {
			const struct rule_entry *ru = &r->rules[i];

			return ru->prio == ROUTING_RULE_PRIO_DEST && ru->src.prefixlen == 0 &&
			       ru->src.family == AF_INET && ru->link == -1 &&
			       ru->prio < ROUTING_RULE_PRIO_BASE;
		}
	return false;
}

static bool src_is(const struct route_entry *e, const char *a)
{
	struct netaddr s;

	netaddr_parse(a, &s);
	return e && netaddr_eq(&e->src, &s);
}

/* Two direct links between two end hosts, the client's app to the server: the server
 * reaches each client address on its own link (connected, from its address on that
 * link), before its source tables; the client keeps its source tables (from its lte
 * address it leaves on lte, to the server's wifi address too). */
TEST(routing_dest_direct_parallel_links)
{
	struct fixture f;
	struct host_routing r;
	const struct route_entry *e;

	init(&f);
	add_host(&f, "client", false);
	add_host(&f, "server", false);
	add_link(&f, 0, 1); /* wifi, 198.18.0.0/24 */
	add_link(&f, 0, 1); /* lte,  198.18.1.0/24 */
	add_app(&f, 0, 1);

	CHECK_EQ(routing_compute(&f.t, 1, &r), 0);
	CHECK(has_dest_rule(&r));
	CHECK_EQ(r.nrules, 3);
	e = dest(&r, "198.18.0.1");
	CHECK(e != NULL);
	CHECK_EQ(e->link, 0);
	CHECK_EQ(e->gw.family, 0); /* on the link */
	CHECK(src_is(e, "198.18.0.2"));
	e = dest(&r, "198.18.1.1");
	CHECK(e != NULL);
	CHECK_EQ(e->link, 1);
	CHECK_EQ(e->gw.family, 0);
	CHECK(src_is(e, "198.18.1.2"));
	CHECK(dest(&r, "198.18.0.2") == NULL); /* not its own */
	/* the conflict the destination table wins: wifi's source table has the
	 * client's lte address through wifi */
	CHECK_EQ(find(&r, ROUTING_TABLE_BASE + 0, "198.18.1.1/32")->link, 0);
	routing_free(&r);

	CHECK_EQ(routing_compute(&f.t, 0, &r), 0);
	CHECK_EQ(r.nrules, 2); /* the client: source rules only */
	CHECK(dest(&r, "198.18.0.2") == NULL);
	e = find(&r, ROUTING_TABLE_BASE + 1, "198.18.0.2/32");
	CHECK(gw_is(e, "198.18.1.2"));
	CHECK_EQ(e->link, 1);
	routing_free(&r);
}

/* Without an app, endpoints say who the client is: the host that opens subflows
 * (subflow or fullmesh) when its peer opens none. */
TEST(routing_dest_endpoints_name_the_client)
{
	struct fixture f;
	struct host_routing r;

	init(&f);
	add_host(&f, "client", false);
	add_host(&f, "server", false);
	add_link(&f, 0, 1);
	add_link(&f, 0, 1);
	f.links[1].end[0].endpoint_flags = TOPO_EP_SUBFLOW | TOPO_EP_BACKUP;
	f.links[1].end[1].endpoint_flags = TOPO_EP_SIGNAL;
	CHECK_EQ(routing_compute(&f.t, 1, &r), 0);
	CHECK_EQ(dest(&r, "198.18.1.1")->link, 1);
	CHECK_EQ(dest(&r, "198.18.0.1")->link, 0);
	routing_free(&r);
	CHECK_EQ(routing_compute(&f.t, 0, &r), 0);
	CHECK(!has_dest_rule(&r));
	routing_free(&r);

	/* both open subflows: neither is the other's server */
	f.links[0].end[1].endpoint_flags = TOPO_EP_FULLMESH;
	CHECK_EQ(routing_compute(&f.t, 1, &r), 0);
	CHECK(!has_dest_rule(&r));
	routing_free(&r);
}

/* Both client links to one router in front of a single-homed server: nobody has a
 * choice to make (the server has one link; the router is nobody's server). */
TEST(routing_dest_router_in_front_of_server)
{
	struct fixture f;
	struct host_routing r;

	init(&f);
	add_host(&f, "client", false); /* 0 */
	add_host(&f, "r", true);       /* 1 */
	add_host(&f, "server", false); /* 2 */
	add_link(&f, 0, 1);	       /* l0 wifi */
	add_link(&f, 0, 1);	       /* l1 lte */
	add_link(&f, 1, 2);	       /* l2 lan */
	add_app(&f, 0, 2);
	f.links[1].end[0].endpoint_flags = TOPO_EP_SUBFLOW;
	for (int h = 0; h < 3; h++) {
		CHECK_EQ(routing_compute(&f.t, h, &r), 0);
		CHECK(!has_dest_rule(&r));
		CHECK(find(&r, ROUTING_TABLE_DEST, "198.18.1.1/32") == NULL);
		routing_free(&r);
	}
	/* the server answers the client's lte address through the router, which has it
	 * on lte */
	CHECK_EQ(routing_compute(&f.t, 2, &r), 0);
	CHECK(gw_is(find(&r, ROUTING_TABLE_MAIN, "198.18.1.0/24"), "198.18.2.1"));
	routing_free(&r);
}

/* Client m - ra - server k and m - rb - k: the server answers the client's rb-side
 * address through rb whatever its own source address (before: its ra-side source
 * table sent it through ra, to the client's ra-side link), its ra-side address
 * through ra; the client's rb-side source table reaches the server's ra-side address
 * through rb. */
TEST(routing_dest_two_routers)
{
	struct fixture f;
	struct host_routing r;
	const struct route_entry *e;

	init(&f);
	add_host(&f, "m", false); /* 0 */
	add_host(&f, "ra", true); /* 1 */
	add_host(&f, "rb", true); /* 2 */
	add_host(&f, "k", false); /* 3 */
	add_link(&f, 0, 1);	  /* l0 m-ra */
	add_link(&f, 0, 2);	  /* l1 m-rb */
	add_link(&f, 1, 3);	  /* l2 ra-k */
	add_link(&f, 2, 3);	  /* l3 rb-k */
	add_app(&f, 0, 3);

	CHECK_EQ(routing_compute(&f.t, 3, &r), 0);
	CHECK(has_dest_rule(&r));
	e = dest(&r, "198.18.1.1"); /* m's rb-side address */
	CHECK(gw_is(e, "198.18.3.1"));
	CHECK_EQ(e->link, 3);
	CHECK(src_is(e, "198.18.3.2"));
	e = dest(&r, "198.18.0.1"); /* m's ra-side address */
	CHECK(gw_is(e, "198.18.2.1"));
	CHECK_EQ(e->link, 2);
	CHECK(src_is(e, "198.18.2.2"));
	/* the ra-side source table still has the /32 through ra (the conflict the
	 * destination rule wins) */
	CHECK(gw_is(find(&r, ROUTING_TABLE_BASE + 2, "198.18.1.1/32"), "198.18.2.1"));
	routing_free(&r);

	CHECK_EQ(routing_compute(&f.t, 0, &r), 0);
	CHECK(!has_dest_rule(&r));
	/* from the rb-side address to the server's ra-side address: through rb */
	CHECK(gw_is(find(&r, ROUTING_TABLE_BASE + 1, "198.18.2.2/32"), "198.18.1.2"));
	routing_free(&r);

	/* routers serve nobody */
	for (int h = 1; h < 3; h++) {
		CHECK_EQ(routing_compute(&f.t, h, &r), 0);
		CHECK(!has_dest_rule(&r));
		routing_free(&r);
	}
}

/* IPv6 addresses get /128 destination routes and their own rule. */
TEST(routing_dest_ipv6)
{
	struct fixture f;
	struct host_routing r;
	int rules6 = 0;

	init(&f);
	add_host(&f, "client", false);
	add_host(&f, "server", false);
	add_link(&f, 0, 1);
	add_link(&f, 0, 1);
	add_app(&f, 0, 1);
	netaddr_parse("2001:db8:0:1::1/64", &f.links[1].end[0].addr6);
	netaddr_parse("2001:db8:0:1::2/64", &f.links[1].end[1].addr6);
	CHECK_EQ(routing_compute(&f.t, 1, &r), 0);
	CHECK_EQ(find(&r, ROUTING_TABLE_DEST, "2001:db8:0:1::1/128")->link, 1);
	for (int i = 0; i < r.nrules; i++)
		rules6 +=
			r.rules[i].table == ROUTING_TABLE_DEST && r.rules[i].src.family == AF_INET6;
	CHECK_EQ(rules6, 1);
	routing_free(&r);
}
