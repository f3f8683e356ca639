/* Route lookups as the libmpt runtime asks them (rt_route.c): hand-built
 * RTM_NEWROUTE answers (preferred source and output interface, IPv4 and IPv6, an
 * answer without a source), an error message, a truncated one; and one real
 * RTM_GETROUTE for the loopback address in this namespace. */
#include "rt_route.h"
#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>

static size_t put_route(char *buf, int family, unsigned seq, int oif, const char *src)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;
	uint8_t bin[16];

	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_seq = seq;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)family;
	rtm->rtm_dst_len = family == AF_INET ? 32 : 128;
	inet_pton(family, family == AF_INET ? "198.18.3.2" : "2001:db8:3::2", bin);
	mnl_attr_put(nlh, RTA_DST, family == AF_INET ? 4 : 16, bin);
	if (oif)
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)oif);
	if (src) {
		inet_pton(family, src, bin);
		mnl_attr_put(nlh, RTA_PREFSRC, family == AF_INET ? 4 : 16, bin);
	}
	return nlh->nlmsg_len;
}

TEST(rt_route_parse_source_and_device)
{
	char buf[512];
	struct rt_route_answer a;
	uint8_t want[16];
	size_t n;

	n = put_route(buf, AF_INET, 7, 5, "198.18.1.1");
	CHECK_EQ(rt_route_parse(buf, n, 7, &a), 0);
	CHECK_EQ(a.oif, 5);
	CHECK_EQ(a.prefsrc.family, MPT_AF_INET);
	inet_pton(AF_INET, "198.18.1.1", want);
	CHECK(!memcmp(a.prefsrc.ip, want, 4));

	n = put_route(buf, AF_INET6, 8, 6, "2001:db8:1::1");
	CHECK_EQ(rt_route_parse(buf, n, 8, &a), 0);
	CHECK_EQ(a.oif, 6);
	CHECK_EQ(a.prefsrc.family, MPT_AF_INET6);
	inet_pton(AF_INET6, "2001:db8:1::1", want);
	CHECK(!memcmp(a.prefsrc.ip, want, 16));

	/* a route without a preferred source: the device only */
	n = put_route(buf, AF_INET, 9, 3, NULL);
	CHECK_EQ(rt_route_parse(buf, n, 9, &a), 0);
	CHECK_EQ(a.oif, 3);
	CHECK_EQ(a.prefsrc.family, 0);
}

TEST(rt_route_parse_error_and_malformed)
{
	char buf[512];
	struct rt_route_answer a;
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nlmsgerr *e;
	size_t n;

	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_seq = 4;
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = -ENETUNREACH;
	CHECK_EQ(rt_route_parse(buf, nlh->nlmsg_len, 4, &a), -ENETUNREACH);
	/* truncated: the rtmsg cut short */
	n = put_route(buf, AF_INET, 1, 5, "198.18.1.1");
	((struct nlmsghdr *)buf)->nlmsg_len = MNL_NLMSG_HDRLEN + 4;
	CHECK(rt_route_parse(buf, n, 1, &a) < 0);
	/* no route message at all */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWADDR;
	CHECK_EQ(rt_route_parse(buf, nlh->nlmsg_len, 0, &a), -EINVAL);
}

TEST(rt_route_get_loopback)
{
	struct rt_route *r;
	struct rt_route_answer a;
	struct mpt_sockaddr dst = {.family = MPT_AF_INET, .ip = {127, 0, 0, 1}};

	CHECK_EQ(rt_route_open(&r), 0);
	CHECK_EQ(rt_route_get(r, &dst, &a), 0);
	CHECK_EQ(a.oif, (int)if_nametoindex("lo"));
	CHECK_EQ(a.prefsrc.family, MPT_AF_INET);
	CHECK(!memcmp(a.prefsrc.ip, dst.ip, 4));
	/* twice on the same socket: the sequence numbers keep answers apart */
	CHECK_EQ(rt_route_get(r, &dst, &a), 0);
	rt_route_close(r);
}
