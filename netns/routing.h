/* Routes and policy rules for every host of a topology: pure computation, no
 * system calls, so it is unit-tested on hand-written topologies.
 *
 *  - main table: a route to every subnet the host can reach, through the first hop
 *    of a shortest path (transit only through hosts with forward: true);
 *  - a multi-homed host (two or more links) also gets, per link L, a table
 *    ROUTING_TABLE_BASE + L.index holding L's subnet and every subnet reachable by
 *    leaving on L, and a rule "from <its address on L> lookup that table": traffic
 *    from an address leaves on its own link (per-address source routing, as the
 *    kernel MPTCP selftests configure it).
 */
#ifndef MPNET_ROUTING_H
#define MPNET_ROUTING_H

#include "topology.h"

#define ROUTING_TABLE_MAIN     254u
#define ROUTING_TABLE_BASE     1000u
#define ROUTING_RULE_PRIO_BASE 1000u

struct route_entry {
	uint32_t table;
	struct netaddr dst; /* a network (host bits clear) */
	struct netaddr gw;  /* family 0: directly connected */
	int link;	    /* link index: the interface is the link's name */
	struct netaddr src; /* preferred source; family 0: none */
};

struct rule_entry {
	struct netaddr src; /* a host address (/32 or /128) */
	uint32_t table;
	uint32_t prio;
	int link;
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
