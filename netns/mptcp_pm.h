/* The kernel's in-kernel MPTCP path manager ("mptcp_pm" generic netlink family),
 * over libmnl: limits and endpoints, as `ip mptcp limits` / `ip mptcp endpoint`.
 * All functions return 0 or a negative errno; mptcp_pm_last_error() describes the
 * last failure (the kernel's extended ack message when it sent one). */
#ifndef MPNET_MPTCP_PM_H
#define MPNET_MPTCP_PM_H

#include "netaddr.h"

#include <stdint.h>

struct mptcp_pm;

/* Open a genl socket in namespace nsfd (-1: the caller's) and resolve the family.
 * NULL on failure with errno set (ENOENT: no MPTCP in the kernel).  The calling
 * thread's namespace is unchanged on return; the socket stays bound to nsfd. */
struct mptcp_pm *mptcp_pm_open(int nsfd);
void mptcp_pm_close(struct mptcp_pm *pm);
const char *mptcp_pm_last_error(const struct mptcp_pm *pm);

int mptcp_pm_set_limits(struct mptcp_pm *pm, uint32_t subflows, uint32_t add_addr_accepted);
int mptcp_pm_get_limits(struct mptcp_pm *pm, uint32_t *subflows, uint32_t *add_addr_accepted);

struct mptcp_pm_endpoint {
	struct netaddr addr;
	uint8_t id;	/* 0: the kernel picks */
	uint32_t flags; /* MPTCP_PM_ADDR_FLAG_* (signal 1, subflow 2, backup 4, fullmesh 8) */
	int ifindex;	/* 0: none */
	uint16_t port;	/* 0: none */
};

/* Add an endpoint.  The kernel answers -EBUSY for an id or address already there
 * (or over its limit of endpoints), -EINVAL for a port without the signal flag, and
 * -EADDRNOTAVAIL for a port on an address that is not local (it listens there). */
int mptcp_pm_add_endpoint(struct mptcp_pm *pm, const struct mptcp_pm_endpoint *ep);
/* Delete endpoint id (1..255; id 0 is refused with -EINVAL: the kernel needs the
 * address for it).  An unknown id: -EINVAL, "address not found". */
int mptcp_pm_del_endpoint(struct mptcp_pm *pm, uint8_t id);
int mptcp_pm_flush(struct mptcp_pm *pm);
/* Fill at most max endpoints; returns how many were filled (>= 0, at most max) or
 * a negative errno.  Endpoints the kernel added itself carry flag 16 (implicit). */
int mptcp_pm_dump(struct mptcp_pm *pm, struct mptcp_pm_endpoint *eps, int max);

#endif
