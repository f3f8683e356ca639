/* Route lookups for the libmpt runtime, over rtnetlink: RTM_GETROUTE for one
 * destination, as `ip route get ADDR` asks the kernel, in the runtime's network
 * namespace.  The answer's preferred source (RTA_PREFSRC) and output interface
 * (RTA_OIF) tell the stack's path manager which local path routing would use toward
 * an address the peer announced (mpt_env.route_source).  Parsing is separate from
 * the socket so tests can feed it hand-built messages.
 */
#ifndef MPT_RT_ROUTE_H
#define MPT_RT_ROUTE_H

#include "mpt.h"

#include <stddef.h>

struct rt_route;

/* What the kernel answered: the source it would pick (family 0 when the route
 * carries none) and the output interface (0 when none). */
struct rt_route_answer {
	struct mpt_sockaddr prefsrc;
	int oif;
};

/* Open a blocking rtnetlink socket for lookups.  Returns 0 and *out, or -errno. */
int rt_route_open(struct rt_route **out);

/* Ask the kernel's routing for dst (its port is ignored).  Returns 0 and *ans, or
 * -errno (-ENETUNREACH / -EHOSTUNREACH: no route; -EAGAIN: no answer within
 * 200 ms). */
int rt_route_get(struct rt_route *r, const struct mpt_sockaddr *dst, struct rt_route_answer *ans);

void rt_route_close(struct rt_route *r);

/* Parse buf[0..len), the kernel's answer to request `seq` (0: any): an RTM_NEWROUTE
 * fills *ans and returns 0; an error message returns its -errno; anything else or a
 * malformed buffer -EINVAL. */
int rt_route_parse(const void *buf, size_t len, unsigned seq, struct rt_route_answer *ans);

#endif
