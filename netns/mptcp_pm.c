/* The kernel's in-kernel MPTCP path manager over libmnl: the "mptcp_pm" generic
 * netlink family (include/uapi/linux/mptcp_pm.h), as `ip mptcp` speaks it. */
#include "mptcp_pm.h"
#include "netnsfs.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/mptcp.h>
#include <linux/netlink.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define PM_BUF 32768 /* one dump batch; the kernel sends at most a page or so */

struct mptcp_pm {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	uint16_t family;
	char err[512];
	char buf[PM_BUF] __attribute__((aligned(NLMSG_ALIGNTO)));
};

static int pm_fail(struct mptcp_pm *pm, int err, const char *extack, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Record "what: strerror (extack)" and return -err. */
static int pm_fail(struct mptcp_pm *pm, int err, const char *extack, const char *fmt, ...)
{
	char what[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (extack && *extack)
		n = snprintf(pm->err, sizeof(pm->err), "%s: %s (%s)", what, strerror(err), extack);
	else
		n = snprintf(pm->err, sizeof(pm->err), "%s: %s", what, strerror(err));
	(void)n; /* truncation is fine */
	return -err;
}

/* The NLMSGERR_ATTR_MSG string of an error/done message, or NULL. */
static const char *extack_msg(const struct nlmsghdr *h, const struct nlmsgerr *e)
{
	size_t off = NLMSG_HDRLEN + sizeof(*e);
	const struct nlattr *a;

	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return NULL;
	if (!(h->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	while (off + NLA_HDRLEN <= h->nlmsg_len) {
		a = (const struct nlattr *)((const char *)h + off);
		if (a->nla_len < NLA_HDRLEN || off + a->nla_len > h->nlmsg_len)
			break;
		if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG && a->nla_len > NLA_HDRLEN &&
		    memchr((const char *)a + NLA_HDRLEN, '\0', a->nla_len - NLA_HDRLEN))
			return (const char *)a + NLA_HDRLEN;
		off += NLA_ALIGN(a->nla_len);
	}
	return NULL;
}

typedef int (*pm_msg_cb)(const struct nlmsghdr *h, void *data);

/* Send nlh and read replies until the ack (or, for a dump, NLMSG_DONE); call cb
 * on each data message.  Returns 0 or a negative errno with pm->err set. */
static int pm_talk(struct mptcp_pm *pm, struct nlmsghdr *nlh, pm_msg_cb cb, void *data,
		   const char *what)
{
	bool dump = nlh->nlmsg_flags & NLM_F_DUMP;
	uint32_t seq = ++pm->seq;
	int cb_err = 0;

	nlh->nlmsg_seq = seq;
	if (!dump)
		nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(pm->nl, nlh, nlh->nlmsg_len) < 0)
		return pm_fail(pm, errno, NULL, "%s: send", what);

	for (;;) {
		ssize_t n = mnl_socket_recvfrom(pm->nl, pm->buf, sizeof(pm->buf));
		const struct nlmsghdr *h = (const struct nlmsghdr *)pm->buf;
		int len;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return pm_fail(pm, errno, NULL, "%s: receive", what);
		}
		len = (int)n;
		for (; mnl_nlmsg_ok(h, len); h = mnl_nlmsg_next(h, &len)) {
			if (h->nlmsg_seq != seq || h->nlmsg_pid != pm->portid)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);

				if (h->nlmsg_len < NLMSG_HDRLEN + sizeof(*e))
					return pm_fail(pm, EBADMSG, NULL, "%s", what);
				if (e->error)
					return pm_fail(pm, -e->error, extack_msg(h, e), "%s", what);
				return cb_err;
			}
			if (h->nlmsg_type == NLMSG_DONE) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);

				if (h->nlmsg_len >= NLMSG_HDRLEN + sizeof(int) && e->error < 0)
					return pm_fail(pm, -e->error,
						       h->nlmsg_len >= NLMSG_HDRLEN + sizeof(*e)
							       ? extack_msg(h, e)
							       : NULL,
						       "%s", what);
				return cb_err;
			}
			if (cb && !cb_err)
				cb_err = cb(h, data);
			if (!dump && cb_err)
				continue; /* still read up to the ack */
		}
	}
}

static struct nlmsghdr *pm_msg(struct mptcp_pm *pm, uint16_t type, uint8_t cmd, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(pm->buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = type == GENL_ID_CTRL ? 1 : MPTCP_PM_VER;
	return nlh;
}

static int family_cb(const struct nlmsghdr *h, void *data)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, h, sizeof(struct genlmsghdr))
	{
		if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID &&
		    mnl_attr_validate(a, MNL_TYPE_U16) == 0) {
			*(uint16_t *)data = mnl_attr_get_u16(a);
			return 0;
		}
	}
	return 0;
}

struct mptcp_pm *mptcp_pm_open(int nsfd)
{
	struct mptcp_pm *pm;
	struct nlmsghdr *nlh;
	int saved = -1, one = 1, err = 0;

	pm = calloc(1, sizeof(*pm));
	if (!pm)
		return NULL;
	if (nsfd >= 0) {
		err = netnsfs_enter(nsfd, &saved);
		if (err)
			goto fail;
	}
	pm->nl = mnl_socket_open2(NETLINK_GENERIC, SOCK_CLOEXEC);
	if (!pm->nl || mnl_socket_bind(pm->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		err = -errno;
	if (saved >= 0 && netnsfs_leave(saved) < 0)
		abort(); /* never continue in the wrong namespace */
	if (err)
		goto fail;
	pm->portid = mnl_socket_get_portid(pm->nl);
	mnl_socket_setsockopt(pm->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(pm->nl, NETLINK_CAP_ACK, &one, sizeof(one));

	nlh = pm_msg(pm, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, MPTCP_PM_NAME);
	err = pm_talk(pm, nlh, family_cb, &pm->family, "resolve " MPTCP_PM_NAME);
	if (!err && !pm->family)
		err = -ENOENT;
	if (err)
		goto fail;
	return pm;
fail:
	if (pm->nl)
		mnl_socket_close(pm->nl);
	free(pm);
	errno = -err;
	return NULL;
}

void mptcp_pm_close(struct mptcp_pm *pm)
{
	if (!pm)
		return;
	mnl_socket_close(pm->nl);
	free(pm);
}

const char *mptcp_pm_last_error(const struct mptcp_pm *pm)
{
	return pm->err;
}

int mptcp_pm_set_limits(struct mptcp_pm *pm, uint32_t subflows, uint32_t add_addr_accepted)
{
	struct nlmsghdr *nlh = pm_msg(pm, pm->family, MPTCP_PM_CMD_SET_LIMITS, 0);

	mnl_attr_put_u32(nlh, MPTCP_PM_ATTR_RCV_ADD_ADDRS, add_addr_accepted);
	mnl_attr_put_u32(nlh, MPTCP_PM_ATTR_SUBFLOWS, subflows);
	return pm_talk(pm, nlh, NULL, NULL, "set limits");
}

struct limits {
	uint32_t subflows, add_addr_accepted;
	int seen;
};

static int limits_cb(const struct nlmsghdr *h, void *data)
{
	struct limits *l = data;
	const struct nlattr *a;

	mnl_attr_for_each(a, h, sizeof(struct genlmsghdr))
	{
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			continue;
		if (mnl_attr_get_type(a) == MPTCP_PM_ATTR_SUBFLOWS) {
			l->subflows = mnl_attr_get_u32(a);
			l->seen |= 1;
		} else if (mnl_attr_get_type(a) == MPTCP_PM_ATTR_RCV_ADD_ADDRS) {
			l->add_addr_accepted = mnl_attr_get_u32(a);
			l->seen |= 2;
		}
	}
	return 0;
}

int mptcp_pm_get_limits(struct mptcp_pm *pm, uint32_t *subflows, uint32_t *add_addr_accepted)
{
	struct nlmsghdr *nlh = pm_msg(pm, pm->family, MPTCP_PM_CMD_GET_LIMITS, 0);
	struct limits l = {0};
	int err;

	err = pm_talk(pm, nlh, limits_cb, &l, "get limits");
	if (err)
		return err;
	if (l.seen != 3)
		return pm_fail(pm, EBADMSG, NULL, "get limits: incomplete reply");
	if (subflows)
		*subflows = l.subflows;
	if (add_addr_accepted)
		*add_addr_accepted = l.add_addr_accepted;
	return 0;
}

int mptcp_pm_add_endpoint(struct mptcp_pm *pm, const struct mptcp_pm_endpoint *ep)
{
	char buf[NETADDR_STRLEN];
	struct nlmsghdr *nlh;
	struct nlattr *nest;

	netaddr_fmt(&ep->addr, false, buf, sizeof(buf));
	if (ep->addr.family != AF_INET && ep->addr.family != AF_INET6)
		return pm_fail(pm, EAFNOSUPPORT, NULL, "add endpoint %s", buf);
	nlh = pm_msg(pm, pm->family, MPTCP_PM_CMD_ADD_ADDR, 0);
	nest = mnl_attr_nest_start(nlh, MPTCP_PM_ATTR_ADDR);
	mnl_attr_put_u16(nlh, MPTCP_PM_ADDR_ATTR_FAMILY, (uint16_t)ep->addr.family);
	if (ep->id)
		mnl_attr_put_u8(nlh, MPTCP_PM_ADDR_ATTR_ID, ep->id);
	if (ep->addr.family == AF_INET)
		mnl_attr_put(nlh, MPTCP_PM_ADDR_ATTR_ADDR4, 4, ep->addr.bytes);
	else
		mnl_attr_put(nlh, MPTCP_PM_ADDR_ATTR_ADDR6, 16, ep->addr.bytes);
	if (ep->port)
		mnl_attr_put_u16(nlh, MPTCP_PM_ADDR_ATTR_PORT, ep->port); /* host order */
	if (ep->flags)
		mnl_attr_put_u32(nlh, MPTCP_PM_ADDR_ATTR_FLAGS, ep->flags);
	if (ep->ifindex)
		mnl_attr_put_u32(nlh, MPTCP_PM_ADDR_ATTR_IF_IDX, (uint32_t)ep->ifindex);
	mnl_attr_nest_end(nlh, nest);
	return pm_talk(pm, nlh, NULL, NULL, "add endpoint");
}

int mptcp_pm_del_endpoint(struct mptcp_pm *pm, uint8_t id)
{
	struct nlmsghdr *nlh;
	struct nlattr *nest;

	if (!id) /* id 0 names the address of each connection's first subflow */
		return pm_fail(pm, EINVAL, NULL, "delete endpoint: id 0");
	nlh = pm_msg(pm, pm->family, MPTCP_PM_CMD_DEL_ADDR, 0);
	nest = mnl_attr_nest_start(nlh, MPTCP_PM_ATTR_ADDR);
	mnl_attr_put_u8(nlh, MPTCP_PM_ADDR_ATTR_ID, id);
	mnl_attr_nest_end(nlh, nest);
	return pm_talk(pm, nlh, NULL, NULL, "delete endpoint");
}

int mptcp_pm_flush(struct mptcp_pm *pm)
{
	struct nlmsghdr *nlh = pm_msg(pm, pm->family, MPTCP_PM_CMD_FLUSH_ADDRS, 0);

	return pm_talk(pm, nlh, NULL, NULL, "flush endpoints");
}

struct dump {
	struct mptcp_pm_endpoint *eps;
	int max, n;
};

static void parse_endpoint(const struct nlattr *nest, struct mptcp_pm_endpoint *ep)
{
	const struct nlattr *a;

	memset(ep, 0, sizeof(*ep));
	mnl_attr_for_each_nested(a, nest)
	{
		uint16_t len = mnl_attr_get_payload_len(a);
		const void *p = mnl_attr_get_payload(a);

		switch (mnl_attr_get_type(a)) {
		case MPTCP_PM_ADDR_ATTR_FAMILY:
			if (len >= 2)
				ep->addr.family = mnl_attr_get_u16(a);
			break;
		case MPTCP_PM_ADDR_ATTR_ID:
			if (len >= 1)
				ep->id = mnl_attr_get_u8(a);
			break;
		case MPTCP_PM_ADDR_ATTR_ADDR4:
			if (len >= 4) {
				memcpy(ep->addr.bytes, p, 4);
				ep->addr.prefixlen = 32;
			}
			break;
		case MPTCP_PM_ADDR_ATTR_ADDR6:
			if (len >= 16) {
				memcpy(ep->addr.bytes, p, 16);
				ep->addr.prefixlen = 128;
			}
			break;
		case MPTCP_PM_ADDR_ATTR_PORT:
			if (len >= 2)
				ep->port = mnl_attr_get_u16(a);
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
}

static int dump_cb(const struct nlmsghdr *h, void *data)
{
	struct dump *d = data;
	const struct nlattr *a;

	mnl_attr_for_each(a, h, sizeof(struct genlmsghdr))
	{
		if (mnl_attr_get_type(a) != MPTCP_PM_ATTR_ADDR)
			continue;
		if (d->n < d->max)
			parse_endpoint(a, &d->eps[d->n]);
		d->n++;
	}
	return 0;
}

int mptcp_pm_dump(struct mptcp_pm *pm, struct mptcp_pm_endpoint *eps, int max)
{
	struct nlmsghdr *nlh = pm_msg(pm, pm->family, MPTCP_PM_CMD_GET_ADDR, NLM_F_DUMP);
	struct dump d = {eps, max < 0 ? 0 : max, 0};
	int err;

	err = pm_talk(pm, nlh, dump_cb, &d, "dump endpoints");
	if (err)
		return err;
	return d.n < d.max ? d.n : d.max;
}
