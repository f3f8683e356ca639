/* Address changes of the runtime's network namespace, from rtnetlink.
 *
 * The runtime learns its paths from getifaddrs() at start; an address removed or
 * added later (a radio link lost, DHCP, mpnet's addr-del / addr-add events) arrives
 * here as RTM_DELADDR / RTM_NEWADDR on the RTNLGRP_IPV4_IFADDR and
 * RTNLGRP_IPV6_IFADDR groups of a non-blocking libmnl socket whose fd sits in the
 * runtime's epoll set.  The same socket follows RTNLGRP_LINK: an interface losing or
 * regaining carrier (RTM_NEWLINK's IFF_LOWER_UP; a cable pulled, a radio out of
 * range, the peer end of a veth set down) while its address stays.  Parsing is separate from the
 * socket so tests can feed it hand-built messages.
 */
#ifndef MPT_RT_ADDR_H
#define MPT_RT_ADDR_H

#include "mpt.h"

#include <stdbool.h>
#include <stddef.h>

struct rt_addr_watch;

/* One change: an address appeared (added) or went away on interface ifindex. */
typedef void rt_addr_fn(void *ctx, bool added, int ifindex, const struct mpt_sockaddr *addr);

/* One link change: interface ifindex has carrier (up and IFF_LOWER_UP) or not. */
typedef void rt_link_fn(void *ctx, int ifindex, bool carrier);

/* Open the watch.  Returns 0 and *out, or -errno. */
int rt_addr_watch_open(struct rt_addr_watch **out);

/* The fd that becomes readable when notifications wait. */
int rt_addr_watch_fd(const struct rt_addr_watch *w);

/* Read every waiting notification and call fn for each address change, lfn (when
 * not NULL) for each link message.  Returns the number of changes reported or
 * -errno; an overrun socket (ENOBUFS: changes were lost) returns -ENOBUFS and the
 * caller should re-read the addresses. */
int rt_addr_watch_read(struct rt_addr_watch *w, rt_addr_fn *fn, rt_link_fn *lfn, void *ctx);

void rt_addr_watch_close(struct rt_addr_watch *w);

/* Parse buf[0..len) (one or more netlink messages) and call fn per RTM_NEWADDR /
 * RTM_DELADDR of an IPv4 or non-link-local IPv6 address; other messages are
 * skipped.  Returns the number of changes or -EINVAL on a malformed buffer. */
int rt_addr_parse(const void *buf, size_t len, rt_addr_fn *fn, void *ctx);

/* Parse buf[0..len) and call fn per RTM_NEWLINK (carrier: IFF_UP and IFF_LOWER_UP)
 * and RTM_DELLINK (no carrier); other messages are skipped.  Returns the number of
 * link messages or -EINVAL on a malformed buffer. */
int rt_link_parse(const void *buf, size_t len, rt_link_fn *fn, void *ctx);

#endif
