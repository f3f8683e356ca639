/* The preload shim's pure parts (stack/preload/pl.h): the descriptor table that
 * follows dup and close, the option fallback, the loopback rule, MPT_RUN_*. */
#include "test.h"
#include "pl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <string.h>

TEST(preload_fdtab_add_dup_close_last)
{
	struct pl_fdtab t = {0};
	struct pl_drop d;

	CHECK_EQ(pl_fdtab_init(&t, 64), 0);
	CHECK_EQ(pl_fdtab_key(&t, 5), -1);
	CHECK_EQ(pl_fdtab_add(&t, 5, 777), 0);
	CHECK_EQ(pl_fdtab_add(&t, 5, 777), -EEXIST);
	CHECK_EQ(pl_fdtab_key(&t, 5), 5);
	CHECK_EQ(pl_fdtab_refs(&t, 5), 1);
	CHECK_U64_EQ(pl_fdtab_ino(&t, 5), 777);
	/* two copies */
	CHECK_EQ(pl_fdtab_dup(&t, 5, 9), 0);
	CHECK_EQ(pl_fdtab_dup(&t, 9, 12), 0);
	CHECK_EQ(pl_fdtab_key(&t, 12), 5);
	CHECK_EQ(pl_fdtab_refs(&t, 9), 3);
	CHECK_EQ(pl_fdtab_dup(&t, 5, 5), 0); /* dup2(fd, fd): nothing */
	CHECK_EQ(pl_fdtab_refs(&t, 5), 3);
	CHECK_EQ(pl_fdtab_dup(&t, 5, 12), -EEXIST);
	CHECK_EQ(pl_fdtab_dup(&t, 7, 13), -ENOENT);
	/* a copy goes: the key stays */
	CHECK_EQ(pl_fdtab_drop(&t, 12, &d), 0);
	CHECK(!d.last);
	CHECK_EQ(d.key, 5);
	CHECK_EQ(d.newkey, -1);
	CHECK_EQ(pl_fdtab_key(&t, 12), -1);
	CHECK_EQ(pl_fdtab_drop(&t, 12, &d), -ENOENT);
	/* the key goes while a copy remains: the copy is the key, inode kept */
	CHECK_EQ(pl_fdtab_drop(&t, 5, &d), 0);
	CHECK(!d.last);
	CHECK_EQ(d.key, 5);
	CHECK_EQ(d.newkey, 9);
	CHECK_EQ(pl_fdtab_key(&t, 9), 9);
	CHECK_EQ(pl_fdtab_refs(&t, 9), 1);
	CHECK_U64_EQ(pl_fdtab_ino(&t, 9), 777);
	CHECK_EQ(pl_fdtab_key(&t, 5), -1);
	/* the number can be a new socket now */
	CHECK_EQ(pl_fdtab_add(&t, 5, 888), 0);
	CHECK_EQ(pl_fdtab_key(&t, 5), 5);
	/* the last number goes */
	CHECK_EQ(pl_fdtab_drop(&t, 9, &d), 0);
	CHECK(d.last);
	CHECK_EQ(d.key, 9);
	CHECK_EQ(pl_fdtab_refs(&t, 9), 0);
	CHECK_EQ(pl_fdtab_refs(&t, 5), 1);
	pl_fdtab_free(&t);
	pl_fdtab_free(&t); /* twice: no-op */
}

TEST(preload_fdtab_range_and_walk)
{
	struct pl_fdtab t = {0};
	struct pl_drop d;
	int seen = 0;

	CHECK_EQ(pl_fdtab_init(&t, 0), -EINVAL);
	CHECK_EQ(pl_fdtab_init(NULL, 8), -EINVAL);
	CHECK_EQ(pl_fdtab_key(&t, 3), -1); /* not initialised: nothing tracked */
	CHECK_EQ(pl_fdtab_init(&t, 16), 0);
	CHECK_EQ(pl_fdtab_add(&t, -1, 1), -EBADF);
	CHECK_EQ(pl_fdtab_add(&t, 16, 1), -EBADF);
	CHECK_EQ(pl_fdtab_key(&t, -7), -1);
	CHECK_EQ(pl_fdtab_key(&t, 1 << 30), -1);
	CHECK_EQ(pl_fdtab_add(&t, 3, 1), 0);
	CHECK_EQ(pl_fdtab_dup(&t, 3, 16), -EBADF);
	CHECK_EQ(pl_fdtab_dup(&t, 3, 15), 0);
	CHECK_EQ(pl_fdtab_add(&t, 7, 2), 0);
	CHECK_EQ(pl_fdtab_next(&t, 0), 3);
	CHECK_EQ(pl_fdtab_next(&t, 4), 7);
	CHECK_EQ(pl_fdtab_next(&t, 8), 15);
	CHECK_EQ(pl_fdtab_next(&t, 16), -1);
	CHECK_EQ(pl_fdtab_next(&t, -2), -1);
	/* closing everything at exit: each number once, the last of a group says so */
	for (int fd; (fd = pl_fdtab_next(&t, 0)) >= 0; seen++) {
		CHECK_EQ(pl_fdtab_drop(&t, fd, &d), 0);
		if (fd == 3) {
			CHECK(!d.last);
			CHECK_EQ(d.newkey, 15);
		} else {
			CHECK(d.last);
		}
	}
	CHECK_EQ(seen, 3);
	pl_fdtab_free(&t);
}

TEST(preload_option_fallback)
{
	int v = -5;

	CHECK_EQ(pl_opt_fallback(SOL_SOCKET, SO_RCVTIMEO, &v), PL_OPT_NATIVE);
	CHECK_EQ(pl_opt_fallback(SOL_SOCKET, SO_SNDTIMEO, NULL), PL_OPT_NATIVE);
	CHECK_EQ(pl_opt_fallback(SOL_SOCKET, SO_RCVLOWAT, &v), PL_OPT_NATIVE);
	CHECK_EQ(pl_opt_fallback(IPPROTO_TCP, TCP_KEEPIDLE, &v), PL_OPT_IGNORE);
	CHECK_EQ(v, 7200);
	CHECK_EQ(pl_opt_fallback(IPPROTO_TCP, TCP_KEEPCNT, &v), PL_OPT_IGNORE);
	CHECK_EQ(v, 9);
	CHECK_EQ(pl_opt_fallback(IPPROTO_IP, IP_TOS, &v), PL_OPT_IGNORE);
	CHECK_EQ(v, 0);
	CHECK_EQ(pl_opt_fallback(IPPROTO_TCP, TCP_USER_TIMEOUT, NULL), PL_OPT_IGNORE);
	/* what changes behaviour the application sees is refused, as the layer said */
	CHECK_EQ(pl_opt_fallback(SOL_SOCKET, SO_BINDTODEVICE, &v), PL_OPT_REFUSE);
	CHECK_EQ(pl_opt_fallback(SOL_SOCKET, SO_MAX_PACING_RATE, &v), PL_OPT_REFUSE);
	CHECK_EQ(pl_opt_fallback(IPPROTO_TCP, TCP_MD5SIG, &v), PL_OPT_REFUSE);
	CHECK_EQ(pl_opt_fallback(12345, 1, &v), PL_OPT_REFUSE);
	CHECK_EQ(v, 0);
}

static socklen_t in4(struct sockaddr_storage *ss, const char *ip)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	in->sin_family = AF_INET;
	in->sin_port = htons(80);
	CHECK_EQ(inet_pton(AF_INET, ip, &in->sin_addr), 1);
	return sizeof(*in);
}

static socklen_t in6(struct sockaddr_storage *ss, const char *ip)
{
	struct sockaddr_in6 *in = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	in->sin6_family = AF_INET6;
	in->sin6_port = htons(80);
	CHECK_EQ(inet_pton(AF_INET6, ip, &in->sin6_addr), 1);
	return sizeof(*in);
}

TEST(preload_loopback_rule)
{
	struct sockaddr_storage a, b;
	socklen_t l;

	l = in4(&a, "127.0.0.1");
	CHECK(pl_addr_loopback((struct sockaddr *)&a, l));
	CHECK(!pl_addr_loopback((struct sockaddr *)&a, l - 1)); /* short: not judged */
	l = in4(&a, "127.200.3.4");
	CHECK(pl_addr_loopback((struct sockaddr *)&a, l));
	l = in4(&a, "198.18.2.2");
	CHECK(!pl_addr_loopback((struct sockaddr *)&a, l));
	l = in4(&a, "0.0.0.0");
	CHECK(!pl_addr_loopback((struct sockaddr *)&a, l));
	l = in6(&a, "::1");
	CHECK(pl_addr_loopback((struct sockaddr *)&a, l));
	l = in6(&a, "::ffff:127.0.0.1");
	CHECK(pl_addr_loopback((struct sockaddr *)&a, l));
	l = in6(&a, "::ffff:198.18.2.2");
	CHECK(!pl_addr_loopback((struct sockaddr *)&a, l));
	l = in6(&a, "::");
	CHECK(!pl_addr_loopback((struct sockaddr *)&a, l));
	l = in6(&a, "2001:db8::1");
	CHECK(!pl_addr_loopback((struct sockaddr *)&a, l));
	CHECK(!pl_addr_loopback(NULL, 16));
	a.ss_family = AF_UNIX;
	CHECK(!pl_addr_loopback((struct sockaddr *)&a, sizeof(a)));

	/* same IP across families (v4-mapped), ports ignored */
	l = in6(&a, "::ffff:198.18.0.1");
	in4(&b, "198.18.0.1");
	((struct sockaddr_in *)&b)->sin_port = htons(9);
	CHECK(pl_addr_same_ip((struct sockaddr *)&a, l, (struct sockaddr *)&b));
	in4(&b, "198.18.0.2");
	CHECK(!pl_addr_same_ip((struct sockaddr *)&a, l, (struct sockaddr *)&b));
	l = in6(&a, "2001:db8::1");
	in6(&b, "2001:db8::1");
	CHECK(pl_addr_same_ip((struct sockaddr *)&a, l, (struct sockaddr *)&b));
	CHECK(!pl_addr_same_ip((struct sockaddr *)&a, l, NULL));
}

static const char *vars[16][2];

static const char *get(const char *name)
{
	for (int i = 0; i < 16 && vars[i][0]; i++)
		if (!strcmp(vars[i][0], name))
			return vars[i][1];
	return NULL;
}

static void setv(int i, const char *name, const char *v)
{
	vars[i][0] = name;
	vars[i][1] = v;
	vars[i + 1][0] = NULL;
}

TEST(preload_env_parse)
{
	struct pl_env e;
	struct mpt_config c;
	char err[256];

	setv(0, "MPT_RUN_X", "1");
	CHECK_EQ(pl_env_parse(&e, get, err, sizeof(err)), 0);
	CHECK_EQ(e.nendpoints, 0);
	CHECK_U64_EQ(e.linger_ns, 10000000000ull);
	pl_env_config(&e, &c);
	CHECK(c.mptcp);
	CHECK_STR_EQ(c.cc, "cubic");
	CHECK_EQ(c.sndbuf, 4u << 20);
	CHECK(!c.scheduler || !strcmp(c.scheduler, "default"));

	setv(0, "MPT_RUN_SCHEDULER", "roundrobin");
	setv(1, "MPT_RUN_PATH_MANAGER", "ndiffports:3");
	setv(2, "MPT_RUN_CC", "lia");
	setv(3, "MPT_RUN_ENDPOINTS", " 198.18.0.1,subflow  198.18.1.1,id=7,subflow,backup ");
	setv(4, "MPT_RUN_MAX_SUBFLOWS", "4");
	setv(5, "MPT_RUN_LOG", "/tmp/x.log");
	setv(6, "MPT_RUN_LINGER", "0");
	CHECK_EQ(pl_env_parse(&e, get, err, sizeof(err)), 0);
	CHECK_EQ(e.nendpoints, 2);
	CHECK_EQ(e.endpoints[0].id, 1);
	CHECK_EQ(e.endpoints[0].flags, MPT_EP_SUBFLOW);
	CHECK_EQ(e.endpoints[0].addr.family, MPT_AF_INET);
	CHECK_EQ(e.endpoints[0].addr.ip[0], 198);
	CHECK_EQ(e.endpoints[1].id, 7);
	CHECK_EQ(e.endpoints[1].flags, MPT_EP_SUBFLOW | MPT_EP_BACKUP);
	CHECK_EQ(e.max_subflows, 4);
	CHECK_STR_EQ(e.log, "/tmp/x.log");
	CHECK_U64_EQ(e.linger_ns, 1);
	pl_env_config(&e, &c);
	CHECK_STR_EQ(c.scheduler, "roundrobin");
	CHECK_STR_EQ(c.path_manager, "ndiffports:3");
	CHECK_STR_EQ(c.cc, "lia");
	CHECK_EQ(c.max_subflows, 4);

	/* each bad value names its variable */
	static const char *const bad[][3] = {
		{"MPT_RUN_SCHEDULER", "fastest", "MPT_RUN_SCHEDULER"},
		{"MPT_RUN_PATH_MANAGER", "ndiffports:99", "MPT_RUN_PATH_MANAGER"},
		{"MPT_RUN_CC", "bbr", "MPT_RUN_CC"},
		{"MPT_RUN_ENDPOINTS", "198.18.0.300", "not an IPv4"},
		{"MPT_RUN_ENDPOINTS", "198.18.0.1,id=0", "id wants"},
		{"MPT_RUN_ENDPOINTS", "198.18.0.1,bogus", "unknown flag"},
		{"MPT_RUN_ENDPOINTS", "198.18.0.1,signal,fullmesh", "exclude"},
		{"MPT_RUN_ENDPOINTS", "198.18.0.1,id=2 198.18.1.1,id=2", "twice"},
		{"MPT_RUN_MAX_SUBFLOWS", "0", "MPT_RUN_MAX_SUBFLOWS"},
		{"MPT_RUN_MAX_SUBFLOWS", "4x", "MPT_RUN_MAX_SUBFLOWS"},
		{"MPT_RUN_NO_MPTCP", "yes", "MPT_RUN_NO_MPTCP"},
		{"MPT_RUN_LINGER", "-1", "MPT_RUN_LINGER"},
		{"MPT_RUN_LINGER", "3601", "MPT_RUN_LINGER"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setv(0, bad[i][0], bad[i][1]);
		err[0] = '\0';
		CHECK_EQ(pl_env_parse(&e, get, err, sizeof(err)), -1);
		if (!strstr(err, bad[i][2]))
			test_fail(__FILE__, __LINE__, "%s=%s: '%s' does not say '%s'", bad[i][0],
				  bad[i][1], err, bad[i][2]);
	}
	/* no MPTCP and MPTCP settings contradict */
	setv(0, "MPT_RUN_NO_MPTCP", "1");
	setv(1, "MPT_RUN_SCHEDULER", "redundant");
	CHECK_EQ(pl_env_parse(&e, get, err, sizeof(err)), -1);
	setv(1, "MPT_RUN_CC", "newreno");
	CHECK_EQ(pl_env_parse(&e, get, err, sizeof(err)), 0);
	pl_env_config(&e, &c);
	CHECK(!c.mptcp);
}

TEST(preload_endpoint_parse)
{
	struct mpt_socket_endpoint ep;
	char err[128];

	CHECK_EQ(pl_endpoint_parse("2001:db8:0:1::1,id=3,signal", &ep, err, sizeof(err)), 0);
	CHECK_EQ(ep.addr.family, MPT_AF_INET6);
	CHECK_EQ(ep.id, 3);
	CHECK_EQ(ep.flags, MPT_EP_SIGNAL);
	CHECK_EQ(pl_endpoint_parse("", &ep, err, sizeof(err)), -1);
	CHECK_EQ(pl_endpoint_parse(NULL, &ep, err, sizeof(err)), -1);
	CHECK_EQ(pl_endpoint_parse(",subflow", &ep, err, sizeof(err)), -1);
	CHECK_EQ(pl_endpoint_parse("198.18.0.1,id=256", &ep, err, sizeof(err)), -1);
	{
		char longs[300];

		memset(longs, 'a', sizeof(longs) - 1);
		longs[sizeof(longs) - 1] = '\0';
		CHECK_EQ(pl_endpoint_parse(longs, &ep, err, sizeof(err)), -1);
	}
}
