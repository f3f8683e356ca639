/* The kernel path manager's answers as the libmpt runtime reads them (rt_pm.c):
 * hand-built MPTCP_PM_CMD_GET_ADDR dump parts and a GET_LIMITS reply. */
#include "rt_pm.h"
#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/mptcp.h>
#include <string.h>

static struct nlmsghdr *genl_msg(char *buf, uint8_t cmd)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = 0x1c; /* the family's id: any */
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = MPTCP_PM_VER;
	return nlh;
}

/* One endpoint as the kernel dumps it; id < 0 leaves the id out. */
static size_t put_ep(char *buf, int family, const char *ip, int id, uint32_t flags, int ifindex)
{
	struct nlmsghdr *nlh = genl_msg(buf, MPTCP_PM_CMD_GET_ADDR);
	struct nlattr *nest = mnl_attr_nest_start(nlh, MPTCP_PM_ATTR_ADDR);
	uint8_t bin[16];

	inet_pton(family, ip, bin);
	mnl_attr_put_u16(nlh, MPTCP_PM_ADDR_ATTR_FAMILY, (uint16_t)family);
	if (id >= 0)
		mnl_attr_put_u8(nlh, MPTCP_PM_ADDR_ATTR_ID, (uint8_t)id);
	if (family == AF_INET)
		mnl_attr_put(nlh, MPTCP_PM_ADDR_ATTR_ADDR4, 4, bin);
	else
		mnl_attr_put(nlh, MPTCP_PM_ADDR_ATTR_ADDR6, 16, bin);
	mnl_attr_put_u32(nlh, MPTCP_PM_ADDR_ATTR_FLAGS, flags);
	if (ifindex)
		mnl_attr_put_u32(nlh, MPTCP_PM_ADDR_ATTR_IF_IDX, (uint32_t)ifindex);
	mnl_attr_nest_end(nlh, nest);
	return nlh->nlmsg_len;
}

TEST(rt_pm_parse_endpoints)
{
	char buf[512] __attribute__((aligned(4)));
	struct rt_pm_state st;
	uint8_t v4[4], v6[16];
	size_t n;

	memset(&st, 0, sizeof(st));
	n = put_ep(buf, AF_INET, "198.18.1.1", 1, MPTCP_PM_ADDR_FLAG_SUBFLOW, 3);
	CHECK_EQ(rt_pm_parse_msg(buf, n, &st), 1);
	n = put_ep(buf, AF_INET6, "2001:db8:0:1::1", 2,
		   MPTCP_PM_ADDR_FLAG_SIGNAL | MPTCP_PM_ADDR_FLAG_BACKUP, 0);
	CHECK_EQ(rt_pm_parse_msg(buf, n, &st), 1);
	CHECK_EQ(st.neps, 2);
	CHECK(!st.have_limits);

	inet_pton(AF_INET, "198.18.1.1", v4);
	CHECK_EQ(st.eps[0].id, 1);
	CHECK_EQ(st.eps[0].addr.family, MPT_AF_INET);
	CHECK(!memcmp(st.eps[0].addr.ip, v4, 4));
	CHECK_EQ(st.eps[0].flags, MPT_EP_SUBFLOW);
	CHECK_EQ(st.eps[0].ifindex, 3);

	inet_pton(AF_INET6, "2001:db8:0:1::1", v6);
	CHECK_EQ(st.eps[1].id, 2);
	CHECK_EQ(st.eps[1].addr.family, MPT_AF_INET6);
	CHECK(!memcmp(st.eps[1].addr.ip, v6, 16));
	CHECK_EQ(st.eps[1].flags, MPT_EP_SIGNAL | MPT_EP_BACKUP);
	CHECK_EQ(st.eps[1].ifindex, 0);
}

TEST(rt_pm_parse_skips_implicit_and_incomplete)
{
	char buf[512] __attribute__((aligned(4)));
	struct rt_pm_state st;
	size_t n;

	memset(&st, 0, sizeof(st));
	/* the kernel's own endpoint for an address a peer announced */
	n = put_ep(buf, AF_INET, "198.18.2.2", 3, MPTCP_PM_ADDR_FLAG_IMPLICIT, 0);
	CHECK_EQ(rt_pm_parse_msg(buf, n, &st), 0);
	/* no id */
	n = put_ep(buf, AF_INET, "198.18.1.1", -1, MPTCP_PM_ADDR_FLAG_SUBFLOW, 0);
	CHECK_EQ(rt_pm_parse_msg(buf, n, &st), 0);
	/* unknown flag bits are dropped, the known ones kept */
	n = put_ep(buf, AF_INET, "198.18.1.1", 4, MPTCP_PM_ADDR_FLAG_FULLMESH | 0x100, 0);
	CHECK_EQ(rt_pm_parse_msg(buf, n, &st), 1);
	CHECK_EQ(st.neps, 1);
	CHECK_EQ(st.eps[0].flags, MPT_EP_FULLMESH);
	/* truncated: the header claims more than the buffer holds */
	CHECK_EQ(rt_pm_parse_msg(buf, 8, &st), -EINVAL);
	CHECK_EQ(rt_pm_parse_msg(buf, n - 4, &st), -EINVAL);
	CHECK_EQ(st.neps, 1);
}

TEST(rt_pm_parse_limits)
{
	char buf[256] __attribute__((aligned(4)));
	struct nlmsghdr *nlh = genl_msg(buf, MPTCP_PM_CMD_GET_LIMITS);
	struct rt_pm_state st;

	memset(&st, 0, sizeof(st));
	mnl_attr_put_u32(nlh, MPTCP_PM_ATTR_RCV_ADD_ADDRS, 0);
	CHECK_EQ(rt_pm_parse_msg(buf, nlh->nlmsg_len, &st), 0);
	CHECK(!st.have_limits); /* one of the two is no answer */
	mnl_attr_put_u32(nlh, MPTCP_PM_ATTR_SUBFLOWS, 2);
	CHECK_EQ(rt_pm_parse_msg(buf, nlh->nlmsg_len, &st), 0);
	CHECK(st.have_limits);
	CHECK_EQ(st.subflows, 2);
	CHECK_EQ(st.add_addr_accepted, 0);
	/* libmpt counts the first subflow, the kernel does not */
	CHECK_EQ(rt_pm_max_subflows(0), 1);
	CHECK_EQ(rt_pm_max_subflows(8), 9);
	CHECK_EQ(rt_pm_max_subflows(1000), 255);
}
