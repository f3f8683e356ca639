/* Routes and policy rules for every host of a topology: pure computation, no
 * system calls, so it is unit-tested on hand-written topologies.
 *
 *  - main table: a route to every subnet the host can reach, through the first hop
 *    of a shortest path (transit only through hosts with forward: true);
 *  - a multi-homed host (two or more links) also gets, per link L, a table
 *    ROUTING_TABLE_BASE + L.index holding L's subnet and every subnet reachable by
 *    leaving on L, and a rule "from <its address on L> lookup that table": traffic
 *    from an address leaves on its own link (per-address source routing, as the
 *    kernel MPTCP selftests configure it);
 *  - a multi-homed host that serves clients also gets table ROUTING_TABLE_DEST,
 *    looked up before the source tables (rule "from all lookup ROUTING_TABLE_DEST"
 *    at priority ROUTING_RULE_PRIO_DEST): a /32 (/128) route to every address of
 *    each of its clients along the path that ends on that address's own link,
 *    whatever the source address: the server answers the client's lte address over
 *    the path that ends on the client's lte link.  Its clients: the client of an app
 *    it serves, or a host that opens subflows (a `subflow`/`fullmesh` endpoint) when
 *    it opens none itself.  The client keeps its source tables: from its lte address
 *    it leaves on lte, to whichever server address.  So a subflow keeps to one path,
 *    both ways: the one of its client's address.
 */
#ifndef MPNET_ROUTING_H
#define MPNET_ROUTING_H

#include "topology.h"

#define ROUTING_TABLE_MAIN     254u
#define ROUTING_TABLE_BASE     1000u
#define ROUTING_RULE_PRIO_BASE 1000u
#define ROUTING_TABLE_DEST     999u
#define ROUTING_RULE_PRIO_DEST 900u

struct route_entry {
	uint32_t table;
	struct netaddr dst; /* a network (host bits clear) */
	struct netaddr gw;  /* family 0: directly connected */
	int link;	    /* link index: the interface is the link's name */
	struct netaddr src; /* preferred source; family 0: none */
};

struct rule_entry {
	struct netaddr src; /* a host address (/32 or /128); prefixlen 0: from all */
	uint32_t table;
	uint32_t prio;
	int link; /* -1: not tied to a link (the destination rule) */
};

struct host_routing {
	struct route_entry *routes;
	int nroutes;
	struct rule_entry *rules;
	int nrules;
};

/* Compute host h's routes and rules.  Returns 0 or -ENOMEM; free with
 * routing_free.  Connected routes in the main table are not listed (the kernel
 * adds them with the addresses); those in per-link tables are. */
int routing_compute(const struct topology *t, int h, struct host_routing *out);
void routing_free(struct host_routing *r);

/* The entries of r that belong to link l (for re-adding after an address event). */
bool routing_entry_on_link(const struct route_entry *e, int l);

#endif
