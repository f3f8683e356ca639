/* rtnetlink address notifications as the libmpt runtime reads them (rt_addr.c):
 * hand-built RTM_NEWADDR / RTM_DELADDR messages, IPv4 by IFA_LOCAL, IPv6 by
 * IFA_ADDRESS, link-local and other message types skipped, truncation rejected;
 * RTM_NEWLINK / RTM_DELLINK as carrier (IFF_UP and IFF_LOWER_UP) or not. */
#include "rt_addr.h"
#include "test.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

struct seen {
	int n;
	bool added[8];
	int ifindex[8];
	struct mpt_sockaddr addr[8];
};

static void record(void *ctx, bool added, int ifindex, const struct mpt_sockaddr *addr)
{
	struct seen *s = ctx;

	if (s->n < 8) {
		s->added[s->n] = added;
		s->ifindex[s->n] = ifindex;
		s->addr[s->n] = *addr;
	}
	s->n++;
}

static size_t put_addr(char *buf, uint16_t type, int family, int ifindex, uint16_t attr,
		       const char *ip)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;
	uint8_t bin[16];

	nlh->nlmsg_type = type;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)family;
	ifa->ifa_index = (uint32_t)ifindex;
	inet_pton(family, ip, bin);
	mnl_attr_put(nlh, attr, family == AF_INET ? 4 : 16, bin);
	return nlh->nlmsg_len;
}

TEST(rt_addr_parse_new_and_del)
{
	char buf[1024];
	size_t n = 0;
	struct seen s = {0};

	n += put_addr(buf + n, RTM_DELADDR, AF_INET, 3, IFA_LOCAL, "198.18.1.1");
	n += put_addr(buf + n, RTM_NEWADDR, AF_INET6, 4, IFA_ADDRESS, "2001:db8:0:1::1");
	n += put_addr(buf + n, RTM_NEWADDR, AF_INET6, 4, IFA_ADDRESS, "fe80::1");
	n += put_addr(buf + n, RTM_NEWLINK, AF_INET, 4, IFA_LOCAL, "198.18.9.9");
	n += put_addr(buf + n, RTM_NEWADDR, AF_INET, 1, IFA_LOCAL, "127.0.0.1");
	CHECK_EQ(rt_addr_parse(buf, n, record, &s), 2);
	CHECK_EQ(s.n, 2);
	CHECK(!s.added[0]);
	CHECK_EQ(s.ifindex[0], 3);
	CHECK_EQ(s.addr[0].family, MPT_AF_INET);
	CHECK_EQ(s.addr[0].ip[0], 198);
	CHECK_EQ(s.addr[0].ip[3], 1);
	CHECK(s.added[1]);
	CHECK_EQ(s.ifindex[1], 4);
	CHECK_EQ(s.addr[1].family, MPT_AF_INET6);
	CHECK_EQ(s.addr[1].ip[15], 1);
	/* a message cut short is rejected, not read past its end */
	s.n = 0;
	n = put_addr(buf, RTM_DELADDR, AF_INET, 3, IFA_LOCAL, "198.18.1.1");
	{
		struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
		nlh->nlmsg_len = MNL_NLMSG_HDRLEN + 2;
	}
	CHECK(rt_addr_parse(buf, n, record, &s) < 0);
	CHECK_EQ(s.n, 0);
}

/* ---- link carrier (RTM_NEWLINK / RTM_DELLINK) ---- */

struct links {
	int n;
	int ifindex[8];
	bool carrier[8];
};

static void record_link(void *ctx, int ifindex, bool carrier)
{
	struct links *l = ctx;

	if (l->n < 8) {
		l->ifindex[l->n] = ifindex;
		l->carrier[l->n] = carrier;
	}
	l->n++;
}

static size_t put_link(char *buf, uint16_t type, int ifindex, unsigned flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = type;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = flags;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "wifi0");
	return nlh->nlmsg_len;
}

TEST(rt_link_parse_carrier)
{
	char buf[1024];
	size_t n = 0;
	struct links l = {0};
	struct seen s = {0};

	n += put_link(buf + n, RTM_NEWLINK, 3, IFF_UP | IFF_RUNNING | IFF_LOWER_UP);
	n += put_link(buf + n, RTM_NEWLINK, 3, IFF_UP);	      /* NO-CARRIER */
	n += put_link(buf + n, RTM_NEWLINK, 4, IFF_LOWER_UP); /* administratively down */
	n += put_link(buf + n, RTM_DELLINK, 5, IFF_UP | IFF_LOWER_UP);
	n += put_addr(buf + n, RTM_NEWADDR, AF_INET, 3, IFA_LOCAL, "198.18.1.1");
	CHECK_EQ(rt_link_parse(buf, n, record_link, &l), 4);
	CHECK_EQ(l.n, 4);
	CHECK_EQ(l.ifindex[0], 3);
	CHECK(l.carrier[0]);
	CHECK_EQ(l.ifindex[1], 3);
	CHECK(!l.carrier[1]);
	CHECK(!l.carrier[2]);
	CHECK_EQ(l.ifindex[3], 5);
	CHECK(!l.carrier[3]);
	/* the address parser skips the link messages */
	CHECK_EQ(rt_addr_parse(buf, n, record, &s), 1);
	/* cut short: rejected */
	l.n = 0;
	n = put_link(buf, RTM_NEWLINK, 3, IFF_UP | IFF_LOWER_UP);
	((struct nlmsghdr *)buf)->nlmsg_len = MNL_NLMSG_HDRLEN + 4;
	CHECK(rt_link_parse(buf, n, record_link, &l) < 0);
	CHECK_EQ(l.n, 0);
}
