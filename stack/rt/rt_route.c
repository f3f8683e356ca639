/* Route lookups over rtnetlink (see rt_route.h). */
#include "rt_route.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#define RT_ROUTE_BUF 8192 /* one route answer is ~100 bytes */

struct rt_route {
	struct mnl_socket *nl;
	unsigned portid, seq;
};

struct parse_ctx {
	struct rt_route_answer *ans;
	bool found;
};

static int attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, RTA_MAX) < 0)
		return MNL_CB_OK;
	if (type == RTA_OIF && mnl_attr_validate(a, MNL_TYPE_U32) < 0)
		return MNL_CB_ERROR;
	if (type == RTA_PREFSRC && mnl_attr_validate(a, MNL_TYPE_BINARY) < 0)
		return MNL_CB_ERROR;
	tb[type] = a;
	return MNL_CB_OK;
}

static int msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct parse_ctx *pc = data;
	const struct nlattr *tb[RTA_MAX + 1] = {0};
	const struct rtmsg *rtm;

	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return MNL_CB_OK;
	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*rtm))
		return MNL_CB_ERROR;
	rtm = mnl_nlmsg_get_payload(nlh);
	if (mnl_attr_parse(nlh, sizeof(*rtm), attr_cb, tb) < 0)
		return MNL_CB_ERROR;
	memset(pc->ans, 0, sizeof(*pc->ans));
	if (tb[RTA_OIF])
		pc->ans->oif = (int)mnl_attr_get_u32(tb[RTA_OIF]);
	if (tb[RTA_PREFSRC]) {
		size_t alen = mnl_attr_get_payload_len(tb[RTA_PREFSRC]);

		if (rtm->rtm_family == AF_INET && alen == 4) {
			pc->ans->prefsrc.family = MPT_AF_INET;
			memcpy(pc->ans->prefsrc.ip, mnl_attr_get_payload(tb[RTA_PREFSRC]), 4);
		} else if (rtm->rtm_family == AF_INET6 && alen == 16) {
			pc->ans->prefsrc.family = MPT_AF_INET6;
			memcpy(pc->ans->prefsrc.ip, mnl_attr_get_payload(tb[RTA_PREFSRC]), 16);
		}
	}
	pc->found = true;
	return MNL_CB_STOP;
}

int rt_route_parse(const void *buf, size_t len, unsigned seq, struct rt_route_answer *ans)
{
	struct parse_ctx pc = {.ans = ans};
	int rv;

	/* mnl_cb_run turns an NLMSG_ERROR into -1 with errno set */
	errno = 0;
	rv = mnl_cb_run(buf, len, seq, 0, msg_cb, &pc);
	if (rv == MNL_CB_ERROR)
		return errno && errno != ESRCH && errno != EPROTO ? -errno : -EINVAL;
	return pc.found ? 0 : -EINVAL;
}

int rt_route_open(struct rt_route **out)
{
	struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
	struct rt_route *r = calloc(1, sizeof(*r));
	int rv;

	if (!r)
		return -ENOMEM;
	r->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!r->nl) {
		rv = -errno;
		free(r);
		return rv;
	}
	if (mnl_socket_bind(r->nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    setsockopt(mnl_socket_get_fd(r->nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv))) {
		rv = -errno;
		rt_route_close(r);
		return rv;
	}
	r->portid = mnl_socket_get_portid(r->nl);
	*out = r;
	return 0;
}

int rt_route_get(struct rt_route *r, const struct mpt_sockaddr *dst, struct rt_route_answer *ans)
{
	char buf[RT_ROUTE_BUF];
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	bool v4 = dst->family == MPT_AF_INET;
	unsigned seq = ++r->seq;

	if (!v4 && dst->family != MPT_AF_INET6)
		return -EAFNOSUPPORT;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = seq;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = v4 ? AF_INET : AF_INET6;
	rtm->rtm_dst_len = v4 ? 32 : 128;
	mnl_attr_put(nlh, RTA_DST, v4 ? 4 : 16, dst->ip);
	if (mnl_socket_sendto(r->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(r->nl, buf, sizeof(buf));
		int rv;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
		}
		/* an answer to an earlier request that timed out: skip it */
		if ((size_t)n >= sizeof(*nlh) && ((struct nlmsghdr *)buf)->nlmsg_seq != seq)
			continue;
		rv = rt_route_parse(buf, (size_t)n, seq, ans);
		return rv;
	}
}

void rt_route_close(struct rt_route *r)
{
	if (!r)
		return;
	if (r->nl)
		mnl_socket_close(r->nl);
	free(r);
}
