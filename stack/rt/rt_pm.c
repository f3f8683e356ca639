/* The kernel's MPTCP path manager settings, read for libmpt (see rt_pm.h). */
#include "rt_pm.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/mptcp.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define RT_PM_BUF 16384

struct rt_pm {
	struct mnl_socket *nl;
	uint32_t portid, seq;
	uint16_t family;
	char buf[RT_PM_BUF] __attribute__((aligned(NLMSG_ALIGNTO)));
};

uint8_t rt_pm_max_subflows(uint32_t kernel_subflows)
{
	/* the kernel allows at most 8 (MPTCP_PM_ADDR_MAX); libmpt's field is a byte */
	return kernel_subflows >= 254 ? 255 : (uint8_t)(kernel_subflows + 1);
}

static bool parse_ep(const struct nlattr *nest, struct rt_pm_ep *ep)
{
	const struct nlattr *a;
	uint16_t family = 0;
	bool have_id = false, have_addr = false;

	memset(ep, 0, sizeof(*ep));
	mnl_attr_for_each_nested(a, nest)
	{
		uint16_t len = mnl_attr_get_payload_len(a);
		const void *p = mnl_attr_get_payload(a);

		switch (mnl_attr_get_type(a)) {
		case MPTCP_PM_ADDR_ATTR_FAMILY:
			if (len >= 2)
				family = mnl_attr_get_u16(a);
			break;
		case MPTCP_PM_ADDR_ATTR_ID:
			if (len >= 1) {
				ep->id = mnl_attr_get_u8(a);
				have_id = true;
			}
			break;
		case MPTCP_PM_ADDR_ATTR_ADDR4:
			if (len >= 4) {
				ep->addr.family = MPT_AF_INET;
				memcpy(ep->addr.ip, p, 4);
				have_addr = true;
			}
			break;
		case MPTCP_PM_ADDR_ATTR_ADDR6:
			if (len >= 16) {
				ep->addr.family = MPT_AF_INET6;
				memcpy(ep->addr.ip, p, 16);
				have_addr = true;
			}
			break;
		case MPTCP_PM_ADDR_ATTR_FLAGS:
			if (len >= 4)
				ep->flags = mnl_attr_get_u32(a);
			break;
		case MPTCP_PM_ADDR_ATTR_IF_IDX:
			if (len >= 4)
				ep->ifindex = (int)mnl_attr_get_u32(a);
			break;
		default:
			break;
		}
	}
	if (!have_id || !ep->id || !have_addr)
		return false;
	if ((family == AF_INET && ep->addr.family != MPT_AF_INET) ||
	    (family == AF_INET6 && ep->addr.family != MPT_AF_INET6))
		return false;
	/* the kernel's own (implicit) endpoints are not the user's configuration */
	if (ep->flags & MPTCP_PM_ADDR_FLAG_IMPLICIT)
		return false;
	ep->flags &= MPT_EP_SIGNAL | MPT_EP_SUBFLOW | MPT_EP_BACKUP | MPT_EP_FULLMESH;
	return true;
}

int rt_pm_parse_msg(const void *buf, size_t len, struct rt_pm_state *st)
{
	const struct nlmsghdr *h = buf;
	const struct nlattr *a;
	uint32_t lim[2] = {0};
	int seen = 0, added = 0;

	if (len < NLMSG_HDRLEN + GENL_HDRLEN || h->nlmsg_len > len ||
	    h->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
		return -EINVAL;
	mnl_attr_for_each(a, h, GENL_HDRLEN)
	{
		switch (mnl_attr_get_type(a)) {
		case MPTCP_PM_ATTR_ADDR:
			if (st->neps < RT_PM_MAX_EPS && parse_ep(a, &st->eps[st->neps])) {
				st->neps++;
				added++;
			}
			break;
		case MPTCP_PM_ATTR_SUBFLOWS:
			if (mnl_attr_validate(a, MNL_TYPE_U32) == 0) {
				lim[0] = mnl_attr_get_u32(a);
				seen |= 1;
			}
			break;
		case MPTCP_PM_ATTR_RCV_ADD_ADDRS:
			if (mnl_attr_validate(a, MNL_TYPE_U32) == 0) {
				lim[1] = mnl_attr_get_u32(a);
				seen |= 2;
			}
			break;
		default:
			break;
		}
	}
	if (seen == 3) {
		st->have_limits = true;
		st->subflows = lim[0];
		st->add_addr_accepted = lim[1];
	}
	return added;
}

static struct nlmsghdr *pm_msg(struct rt_pm *pm, uint16_t type, uint8_t cmd, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(pm->buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++pm->seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = type == GENL_ID_CTRL ? 1 : MPTCP_PM_VER;
	return nlh;
}

typedef void pm_cb(const struct nlmsghdr *h, void *data);

/* Send and read up to the ack or NLMSG_DONE.  Returns 0 or -errno. */
static int pm_talk(struct rt_pm *pm, struct nlmsghdr *nlh, pm_cb *cb, void *data)
{
	uint32_t seq = nlh->nlmsg_seq;

	if (!(nlh->nlmsg_flags & NLM_F_DUMP))
		nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(pm->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(pm->nl, pm->buf, sizeof(pm->buf));
		const struct nlmsghdr *h = (const struct nlmsghdr *)pm->buf;
		int len;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		len = (int)n;
		for (; mnl_nlmsg_ok(h, len); h = mnl_nlmsg_next(h, &len)) {
			if (h->nlmsg_seq != seq || h->nlmsg_pid != pm->portid)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR || h->nlmsg_type == NLMSG_DONE) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);

				if (h->nlmsg_len < NLMSG_HDRLEN + sizeof(int))
					return -EBADMSG;
				return e->error < 0 ? e->error : 0;
			}
			cb(h, data);
		}
	}
}

static void family_cb(const struct nlmsghdr *h, void *data)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, h, GENL_HDRLEN)
	{
		if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID &&
		    mnl_attr_validate(a, MNL_TYPE_U16) == 0)
			*(uint16_t *)data = mnl_attr_get_u16(a);
	}
}

static void state_cb(const struct nlmsghdr *h, void *data)
{
	(void)rt_pm_parse_msg(h, h->nlmsg_len, data);
}

int rt_pm_open(struct rt_pm **out)
{
	struct rt_pm *pm = calloc(1, sizeof(*pm));
	struct nlmsghdr *nlh;
	int rv;

	if (!pm)
		return -ENOMEM;
	pm->nl = mnl_socket_open2(NETLINK_GENERIC, SOCK_CLOEXEC);
	if (!pm->nl || mnl_socket_bind(pm->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		rv = -errno;
		goto fail;
	}
	pm->portid = mnl_socket_get_portid(pm->nl);
	nlh = pm_msg(pm, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, MPTCP_PM_NAME);
	rv = pm_talk(pm, nlh, family_cb, &pm->family);
	if (!rv && !pm->family)
		rv = -ENOENT;
	if (rv)
		goto fail;
	*out = pm;
	return 0;
fail:
	rt_pm_close(pm);
	return rv;
}

int rt_pm_read(struct rt_pm *pm, struct rt_pm_state *st)
{
	int rv;

	memset(st, 0, sizeof(*st));
	rv = pm_talk(pm, pm_msg(pm, pm->family, MPTCP_PM_CMD_GET_ADDR, NLM_F_DUMP), state_cb, st);
	if (!rv)
		rv = pm_talk(pm, pm_msg(pm, pm->family, MPTCP_PM_CMD_GET_LIMITS, 0), state_cb, st);
	if (!rv && !st->have_limits)
		rv = -EBADMSG;
	return rv;
}

void rt_pm_close(struct rt_pm *pm)
{
	if (!pm)
		return;
	if (pm->nl)
		mnl_socket_close(pm->nl);
	free(pm);
}
