#include "test.h"
#include "units.h"
#include "netaddr.h"

#include <sys/socket.h>

TEST(units_rate_tc_meaning)
{
	uint64_t v;
	CHECK_EQ(units_parse_rate("50mbit", &v), 0);
	CHECK_U64_EQ(v, 50000000);
	CHECK_EQ(units_parse_rate("1.5gbit", &v), 0);
	CHECK_U64_EQ(v, 1500000000);
	/* tc: "mbps" is megaBYTES per second */
	CHECK_EQ(units_parse_rate("1mbps", &v), 0);
	CHECK_U64_EQ(v, 8000000);
	CHECK_EQ(units_parse_rate("100kbit", &v), 0);
	CHECK_U64_EQ(v, 100000);
	CHECK_EQ(units_parse_rate("-5mbit", &v), -1);
	CHECK_EQ(units_parse_rate("5", &v), -1);
	CHECK_EQ(units_parse_rate("5 furlongs", &v), -1);
	CHECK_EQ(units_parse_rate("mbit", &v), -1);
	CHECK_EQ(units_parse_rate("0x10mbit", &v), -1);
}

TEST(units_time)
{
	uint64_t v;
	CHECK_EQ(units_parse_time("10ms", &v), 0);
	CHECK_U64_EQ(v, 10000000);
	CHECK_EQ(units_parse_time("1.5s", &v), 0);
	CHECK_U64_EQ(v, 1500000000);
	CHECK_EQ(units_parse_time("250us", &v), 0);
	CHECK_U64_EQ(v, 250000);
	CHECK_EQ(units_parse_time("7ns", &v), 0);
	CHECK_U64_EQ(v, 7);
	CHECK_EQ(units_parse_time("10", &v), -1);
	CHECK_EQ(units_parse_time("10MS", &v), -1);
	CHECK_EQ(units_parse_time("-1s", &v), -1);
}

TEST(units_size)
{
	uint64_t v;
	CHECK_EQ(units_parse_size("64MiB", &v), 0);
	CHECK_U64_EQ(v, 64ull << 20);
	CHECK_EQ(units_parse_size("150kB", &v), 0);
	CHECK_U64_EQ(v, 150000);
	CHECK_EQ(units_parse_size("1GB", &v), 0);
	CHECK_U64_EQ(v, 1000000000);
	CHECK_EQ(units_parse_size("1500", &v), 0);
	CHECK_U64_EQ(v, 1500);
	CHECK_EQ(units_parse_size("1mib", &v), -1);
	CHECK_EQ(units_parse_size("", &v), -1);
}

TEST(units_percent)
{
	double f;
	CHECK_EQ(units_parse_percent("0.5%", &f), 0);
	CHECK(f > 0.00499 && f < 0.00501);
	CHECK_EQ(units_parse_percent("100%", &f), 0);
	CHECK_EQ(units_parse_percent("101%", &f), -1);
	CHECK_EQ(units_parse_percent("0.5", &f), -1);
	CHECK_EQ(units_parse_percent("-1%", &f), -1);
}

TEST(units_format)
{
	char b[32];
	CHECK_STR_EQ(units_fmt_rate(50000000, b, sizeof(b)), "50mbit");
	CHECK_STR_EQ(units_fmt_time(10000000, b, sizeof(b)), "10ms");
	CHECK_STR_EQ(units_fmt_size(64ull << 20, b, sizeof(b)), "64MiB");
}

TEST(netaddr_parse_and_networks)
{
	struct netaddr a, n;
	char b[NETADDR_STRLEN];

	CHECK_EQ(netaddr_parse("198.18.3.1/24", &a), 0);
	CHECK_EQ(a.family, AF_INET);
	CHECK_EQ(a.prefixlen, 24);
	CHECK_STR_EQ(netaddr_fmt(&a, true, b, sizeof(b)), "198.18.3.1/24");
	n = netaddr_network(&a);
	CHECK_STR_EQ(netaddr_fmt(&n, true, b, sizeof(b)), "198.18.3.0/24");
	CHECK_EQ(netaddr_parse("198.18.3.77", &n), 0);
	CHECK(netaddr_in_net(&n, &a));
	CHECK_EQ(netaddr_parse("2001:db8:0:3::1/64", &a), 0);
	CHECK_EQ(a.family, AF_INET6);
	CHECK_STR_EQ(netaddr_fmt(&a, false, b, sizeof(b)), "2001:db8:0:3::1");
	CHECK_EQ(netaddr_parse("198.18.3.1/33", &a), -1);
	CHECK_EQ(netaddr_parse("198.18.3.1/", &a), -1);
	CHECK_EQ(netaddr_parse("not-an-address", &a), -1);
	CHECK_EQ(netaddr_parse("2001:db8::1/129", &a), -1);
}
