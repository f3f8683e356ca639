/* Address changes from rtnetlink (see rt_addr.h). */
#include "rt_addr.h"

#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define RT_ADDR_BUF 8192 /* address notifications are ~100 bytes each */

struct rt_addr_watch {
	struct mnl_socket *nl;
};

struct parse_ctx {
	rt_addr_fn *fn;
	void *ctx;
	int changes;
};

static int attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, IFA_MAX) < 0)
		return MNL_CB_OK;
	if ((type == IFA_LOCAL || type == IFA_ADDRESS) && mnl_attr_validate(a, MNL_TYPE_BINARY) < 0)
		return MNL_CB_ERROR;
	tb[type] = a;
	return MNL_CB_OK;
}

static int msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct parse_ctx *pc = data;
	const struct nlattr *tb[IFA_MAX + 1] = {0};
	const struct ifaddrmsg *ifa;
	const struct nlattr *a;
	struct mpt_sockaddr addr = {0};
	size_t alen;

	if (nlh->nlmsg_type != RTM_NEWADDR && nlh->nlmsg_type != RTM_DELADDR)
		return MNL_CB_OK;
	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*ifa))
		return MNL_CB_ERROR;
	ifa = mnl_nlmsg_get_payload(nlh);
	if (mnl_attr_parse(nlh, sizeof(*ifa), attr_cb, tb) < 0)
		return MNL_CB_ERROR;
	/* IPv4: IFA_LOCAL is the interface's own address (IFA_ADDRESS is the peer's
	 * on point-to-point links); IPv6 has IFA_ADDRESS only */
	a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!a)
		return MNL_CB_OK;
	alen = mnl_attr_get_payload_len(a);
	if (ifa->ifa_family == AF_INET && alen == 4) {
		addr.family = MPT_AF_INET;
		memcpy(addr.ip, mnl_attr_get_payload(a), 4);
		if (addr.ip[0] == 127)
			return MNL_CB_OK;
	} else if (ifa->ifa_family == AF_INET6 && alen == 16) {
		const struct in6_addr *a6 = mnl_attr_get_payload(a);

		/* as mpt_rt_discover_paths: link-local, multicast and loopback are no paths */
		if (IN6_IS_ADDR_LINKLOCAL(a6) || IN6_IS_ADDR_MULTICAST(a6) ||
		    IN6_IS_ADDR_LOOPBACK(a6))
			return MNL_CB_OK;
		addr.family = MPT_AF_INET6;
		memcpy(addr.ip, a6, 16);
	} else {
		return MNL_CB_OK;
	}
	pc->fn(pc->ctx, nlh->nlmsg_type == RTM_NEWADDR, (int)ifa->ifa_index, &addr);
	pc->changes++;
	return MNL_CB_OK;
}

int rt_addr_parse(const void *buf, size_t len, rt_addr_fn *fn, void *ctx)
{
	struct parse_ctx pc = {.fn = fn, .ctx = ctx};

	if (mnl_cb_run(buf, len, 0, 0, msg_cb, &pc) == MNL_CB_ERROR)
		return -EINVAL;
	return pc.changes;
}

struct link_ctx {
	rt_link_fn *fn;
	void *ctx;
	int changes;
};

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link_ctx *lc = data;
	const struct ifinfomsg *ifi;

	if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK)
		return MNL_CB_OK;
	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*ifi))
		return MNL_CB_ERROR;
	ifi = mnl_nlmsg_get_payload(nlh);
	lc->fn(lc->ctx, ifi->ifi_index,
	       nlh->nlmsg_type == RTM_NEWLINK && (ifi->ifi_flags & IFF_UP) &&
		       (ifi->ifi_flags & IFF_LOWER_UP));
	lc->changes++;
	return MNL_CB_OK;
}

int rt_link_parse(const void *buf, size_t len, rt_link_fn *fn, void *ctx)
{
	struct link_ctx lc = {.fn = fn, .ctx = ctx};

	if (mnl_cb_run(buf, len, 0, 0, link_cb, &lc) == MNL_CB_ERROR)
		return -EINVAL;
	return lc.changes;
}

int rt_addr_watch_open(struct rt_addr_watch **out)
{
	struct rt_addr_watch *w = calloc(1, sizeof(*w));
	int rv;

	if (!w)
		return -ENOMEM;
	w->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!w->nl) {
		rv = -errno;
		free(w);
		return rv;
	}
	if (mnl_socket_bind(w->nl, RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_LINK,
			    MNL_SOCKET_AUTOPID) < 0) {
		rv = -errno;
		rt_addr_watch_close(w);
		return rv;
	}
	*out = w;
	return 0;
}

int rt_addr_watch_fd(const struct rt_addr_watch *w)
{
	return mnl_socket_get_fd(w->nl);
}

int rt_addr_watch_read(struct rt_addr_watch *w, rt_addr_fn *fn, rt_link_fn *lfn, void *ctx)
{
	char buf[RT_ADDR_BUF];
	int total = 0;

	for (;;) {
		ssize_t n = mnl_socket_recvfrom(w->nl, buf, sizeof(buf));
		int k;

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return total;
			if (errno == EINTR)
				continue;
			return -errno;
		}
		k = rt_addr_parse(buf, (size_t)n, fn, ctx);
		if (k > 0)
			total += k;
		if (lfn && (k = rt_link_parse(buf, (size_t)n, lfn, ctx)) > 0)
			total += k;
	}
}

void rt_addr_watch_close(struct rt_addr_watch *w)
{
	if (!w)
		return;
	if (w->nl)
		mnl_socket_close(w->nl);
	free(w);
}
