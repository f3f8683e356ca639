/* Links, addresses, routes, rules and qdiscs in one namespace, over libnl-3-route.
 * One `struct rtnl` is a route-netlink socket opened inside a namespace; it stays
 * bound to that namespace.  All functions return 0 or a negative errno-style code;
 * rtnl_last_error() gives a one-line description of the last failure. */
#ifndef MPNET_RTNL_H
#define MPNET_RTNL_H

#include "netaddr.h"

#include <stdbool.h>
#include <stdint.h>

struct rtnl;

/* Open a socket in namespace nsfd (-1: the caller's namespace). NULL on failure. */
struct rtnl *rtnl_open(int nsfd);
void rtnl_close(struct rtnl *r);
const char *rtnl_last_error(const struct rtnl *r);

/* Create a veth pair: name_a in namespace nsfd_a, name_b in nsfd_b (created there
 * directly, never visible in the caller's namespace).  Both down. */
int rtnl_veth_create(struct rtnl *r, const char *name_a, int nsfd_a, const char *name_b,
		     int nsfd_b);

/* A bridge named name in r's namespace (STP off, forward delay 0), down. */
int rtnl_bridge_create(struct rtnl *r, const char *name);

/* Enslave ifname to master (NULL: release it from its master). */
int rtnl_link_set_master(struct rtnl *r, const char *ifname, const char *master);

/* Administrative state up/down. */
int rtnl_link_set_up(struct rtnl *r, const char *ifname, bool up);

/* Interface index, or negative if absent. */
int rtnl_ifindex(struct rtnl *r, const char *ifname);

/* Disable/enable offloads is not netlink (ethtool); MTU is: */
int rtnl_link_set_mtu(struct rtnl *r, const char *ifname, unsigned mtu);

/* Add / delete an address (with its prefix length).  IPv6 addresses are added with
 * IFA_F_NODAD so they are usable at once. */
int rtnl_addr_add(struct rtnl *r, const char *ifname, const struct netaddr *a);
int rtnl_addr_del(struct rtnl *r, const char *ifname, const struct netaddr *a);

/* Add a route to dst (dst->prefixlen 0 = default) in table (254 = main), through
 * gateway gw (NULL or family 0: directly connected) out of ifname, with preferred
 * source src (NULL: none). */
int rtnl_route_add(struct rtnl *r, uint32_t table, const struct netaddr *dst,
		   const struct netaddr *gw, const char *ifname, const struct netaddr *src);

/* Policy rule "from src/prefixlen lookup table" at priority prio. */
int rtnl_rule_add(struct rtnl *r, const struct netaddr *src, uint32_t table, uint32_t prio);

enum rtnl_queue_kind { RTNL_QUEUE_PACKETS, RTNL_QUEUE_BYTES };

/* Shape egress of ifname: HTB root 1:, one class 1:1 with rate = ceil = rate_bps,
 * and a pfifo (packets) or bfifo (bytes) child of the given limit as the explicit
 * queue.  Replaces whatever root qdisc was there, so it also serves run-time
 * changes.  rate_bps 0 removes shaping (back to the default qdisc) but keeps an
 * explicit queue limit if limit > 0 (pfifo/bfifo as root). */
int rtnl_shape(struct rtnl *r, const char *ifname, uint64_t rate_bps, enum rtnl_queue_kind kind,
	       uint32_t limit);

struct rtnl_link_counters {
	uint64_t rx_bytes, rx_packets, tx_bytes, tx_packets;
	uint64_t rx_dropped, tx_dropped;
	uint64_t qdisc_drops;   /* drops counted by the root qdisc and its children */
	uint64_t qdisc_backlog; /* bytes queued now */
	bool carrier;           /* IFF_LOWER_UP */
	bool up;                /* IFF_UP */
};
int rtnl_link_counters(struct rtnl *r, const char *ifname, struct rtnl_link_counters *out);

#endif
