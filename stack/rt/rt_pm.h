/* The namespace's MPTCP settings, from the kernel's path manager.
 *
 * A libmpt stack takes its endpoints and limits where Linux keeps them for the
 * kernel's own MPTCP: the "mptcp_pm" generic-netlink family that `ip mptcp
 * endpoint show` (MPTCP_PM_CMD_GET_ADDR, a dump) and `ip mptcp limits show`
 * (MPTCP_PM_CMD_GET_LIMITS) read.  The family's multicast group
 * ("mptcp_pm_events") reports connection events of the kernel's sockets only,
 * never an endpoint or limit change, so the runtime re-reads (rt.c: every second
 * and on each address change it follows).  Parsing is separate from the socket so
 * tests can feed it hand-built messages.
 */
#ifndef MPT_RT_PM_H
#define MPT_RT_PM_H

#include "mpt.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RT_PM_MAX_EPS 32

/* One endpoint, as `ip mptcp endpoint show` prints it. */
struct rt_pm_ep {
	uint8_t id;
	uint32_t flags; /* MPT_EP_* (signal, subflow, backup, fullmesh) */
	int ifindex;	/* 0: none given */
	struct mpt_sockaddr addr;
};

/* What the kernel's path manager says: endpoints (implicit ones, which the kernel
 * makes for its own connections, left out) and limits. */
struct rt_pm_state {
	struct rt_pm_ep eps[RT_PM_MAX_EPS];
	int neps;
	bool have_limits;
	uint32_t subflows; /* beyond the first, as the kernel counts */
	uint32_t add_addr_accepted;
};

/* The stack's subflow limit for the kernel's `subflows` (libmpt counts the first). */
uint8_t rt_pm_max_subflows(uint32_t kernel_subflows);

/* Parse one generic-netlink message of the family (a GET_ADDR reply or dump part,
 * or a GET_LIMITS reply) into st: endpoints are appended (at most RT_PM_MAX_EPS;
 * without an id or an address they are skipped), limits set when both are there.
 * Returns the number of endpoints added, or -EINVAL for a malformed message. */
int rt_pm_parse_msg(const void *nlh, size_t len, struct rt_pm_state *st);

struct rt_pm;

/* Open a generic-netlink socket in the calling thread's namespace and resolve the
 * family.  Returns 0 and *out, -ENOENT when the kernel has no MPTCP, or -errno. */
int rt_pm_open(struct rt_pm **out);

/* Read endpoints and limits now (blocking requests; the kernel answers at once).
 * Returns 0 or -errno. */
int rt_pm_read(struct rt_pm *pm, struct rt_pm_state *st);

void rt_pm_close(struct rt_pm *pm);

#endif
