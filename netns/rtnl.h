/* Links, addresses, routes, rules and qdiscs in one namespace, over libnl-3-route.
 * One `struct nlr` is a route-netlink socket opened inside a namespace; it stays
 * bound to that namespace.  All functions return 0 or a negative errno (the
 * kernel's, when it refused); nlr_last_error() gives a one-line description of the
 * last failure, with the kernel's extended-ack message when it sent one.
 *
 * The prefix is nlr_ ("netlink route"), not rtnl_: libnl-route-3 already exports
 * rtnl_addr_add, rtnl_route_add, rtnl_rule_add, rtnl_link_set_master,
 * rtnl_link_set_mtu and rtnl_link_delete with other signatures. */
#ifndef MPNET_NLR_H
#define MPNET_NLR_H

#include "netaddr.h"

#include <stdbool.h>
#include <stdint.h>

struct nlr;

/* Open a socket in namespace nsfd (-1: the caller's namespace). NULL on failure,
 * with errno set.  The calling thread's namespace is unchanged on return. */
struct nlr *nlr_open(int nsfd);
void nlr_close(struct nlr *r);
const char *nlr_last_error(const struct nlr *r);

/* Create a veth pair: name_a in namespace nsfd_a, name_b in nsfd_b (created there
 * directly, never visible in the caller's namespace; -1 means r's namespace).  The
 * two names may be equal when the namespaces differ.  Both down.  -EEXIST if a
 * name is taken. */
int nlr_veth_create(struct nlr *r, const char *name_a, int nsfd_a, const char *name_b, int nsfd_b);

/* Every frame arriving on `from` leaves on `to` through to's qdiscs (an ingress
 * qdisc with a match-all u32 filter and a mirred egress redirect), or with on false
 * nothing is redirected any more (frames arriving on `from` go to r's namespace,
 * which drops them when it has no address for them).  Unlike a bridge port, a
 * redirect passes frames the moment both devices are up: a Linux bridge dropped
 * every frame for about 0.55 s after its ports came back up (measured), which
 * turned a link's carrier return into a half-second blackout. */
int nlr_redirect(struct nlr *r, const char *from, const char *to, bool on);

/* Administrative state up/down. */
int nlr_link_set_up(struct nlr *r, const char *ifname, bool up);

/* Interface index, or a negative errno (-ENODEV) if absent. */
int nlr_ifindex(struct nlr *r, const char *ifname);

/* Delete a link (for a veth, both ends go).  -ENODEV if absent. */
int nlr_link_delete(struct nlr *r, const char *ifname);

/* Disable/enable offloads is not netlink (ethtool); MTU is: */
int nlr_link_set_mtu(struct nlr *r, const char *ifname, unsigned mtu);

/* Add / delete an address (with its prefix length).  IPv6 addresses are added with
 * IFA_F_NODAD so they are usable at once.  Adding one that is there: -EEXIST. */
int nlr_addr_add(struct nlr *r, const char *ifname, const struct netaddr *a);
int nlr_addr_del(struct nlr *r, const char *ifname, const struct netaddr *a);

/* Add a route to dst (dst->prefixlen 0 = default) in table (254 = main), through
 * gateway gw (NULL or family 0: directly connected) out of ifname (NULL: wherever
 * gw is reachable; one of the two is needed), with preferred source src (NULL or
 * family 0: none).  All addresses of one family.  -EEXIST if the route is there. */
int nlr_route_add(struct nlr *r, uint32_t table, const struct netaddr *dst,
		  const struct netaddr *gw, const char *ifname, const struct netaddr *src);

/* Delete the route to dst in table (gw, ifname: NULL matches any). */
int nlr_route_del(struct nlr *r, uint32_t table, const struct netaddr *dst,
		  const struct netaddr *gw, const char *ifname);

/* Policy rule "from src/prefixlen lookup table" at priority prio; the family is
 * src's (prefixlen 0: "from all").  -EEXIST if the same rule is there. */
int nlr_rule_add(struct nlr *r, const struct netaddr *src, uint32_t table, uint32_t prio);
int nlr_rule_del(struct nlr *r, const struct netaddr *src, uint32_t table, uint32_t prio);

enum nlr_queue_kind { NLR_QUEUE_PACKETS, NLR_QUEUE_BYTES };

/* Shape egress of ifname: HTB root 1: (default class 1:1), one class 1:1 with
 * rate = ceil = rate_bps, and a pfifo (packets) or bfifo (bytes) child 10: of the
 * given limit as the explicit queue (limit 0: no explicit child; HTB's default leaf
 * is a pfifo of txqueuelen packets).  burst = cburst = 1 ms at the rate + one MTU
 * frame; quantum = one MTU frame.  Replaces whatever root qdisc was there, so it
 * also serves run-time changes: when the tree is already ours, the class rate and
 * the fifo limit are changed in place and queued packets stay (a pfifo<->bfifo
 * switch replaces the child and drops what it held).  rate_bps 0 removes shaping
 * (back to the default qdisc) but keeps an explicit queue limit if limit > 0
 * (pfifo/bfifo 10: as root). */
int nlr_shape(struct nlr *r, const char *ifname, uint64_t rate_bps, enum nlr_queue_kind kind,
	      uint32_t limit);

struct rtnl_qdisc;
struct rtnl_class;

/* Send a qdisc / class the caller built (ifindex, parent, handle, kind and
 * options set) with NLM_F_CREATE | NLM_F_REPLACE: created, or changed in place
 * when one of that handle and kind is there (its queue is kept).  `what` names it
 * in nlr_last_error. */
int nlr_qdisc_put(struct nlr *r, struct rtnl_qdisc *q, const char *what);
int nlr_class_put(struct nlr *r, struct rtnl_class *c, const char *what);

/* Delete ifname's root qdisc if it is not the device's default (0 when there was
 * nothing to delete). */
int nlr_root_qdisc_delete(struct nlr *r, const char *ifname);

/* Counters of ifname's qdisc with `handle` (0: the root). found = false when
 * there is none. */
struct nlr_qdisc_stats {
	bool found;
	char kind[16];
	uint64_t packets, bytes; /* what it handed on (sent) */
	uint64_t drops, overlimits, requeues;
	uint64_t qlen, backlog; /* now */
};
int nlr_qdisc_stats(struct nlr *r, const char *ifname, uint32_t handle,
		    struct nlr_qdisc_stats *out);

struct nlr_link_counters {
	uint64_t rx_bytes, rx_packets, tx_bytes, tx_packets;
	uint64_t rx_dropped, tx_dropped;
	uint64_t qdisc_drops;	/* drops counted by the root qdisc (it counts its
				 * children's too: HTB, fifo and mq all do) */
	uint64_t qdisc_backlog; /* bytes queued now in the root's tree */
	bool carrier;		/* IFF_LOWER_UP */
	bool up;		/* IFF_UP */
};
int nlr_link_counters(struct nlr *r, const char *ifname, struct nlr_link_counters *out);

#endif
