/* System tests of the orchestrator's system layer: named namespaces, route
 * netlink and the kernel MPTCP path manager.  They need root; without it each one
 * prints "# skip: needs root" and passes.
 *
 * Every test works in scratch namespaces named mpnt-<pid>-<x>; they are deleted
 * at the start (left-overs of dead test processes too) and by an atexit handler,
 * which also runs when a CHECK fails (test_fail calls exit). */
#include "mptcp_pm.h"
#include "netaddr.h"
#include "netnsfs.h"
#include "rtnl.h"
#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NS_PREFIX "mpnt-"

/* The output (stdout and stderr) of a shell command; tests only. */
static char *run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char ns_prefix[32]; /* "mpnt-<pid>-" */
static pid_t ns_owner;

static int del_cb(const char *name, void *arg)
{
	netnsfs_delete(name, 200);
	return 0;
}

/* Delete namespaces of test processes that are gone (a crash, a kill -9). */
static int stale_cb(const char *name, void *arg)
{
	long pid = strtol(name + strlen(NS_PREFIX), NULL, 10);

	if (pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH)
		netnsfs_delete(name, 200);
	return 0;
}

static void sys_cleanup(void)
{
	if (getpid() == ns_owner)
		netnsfs_list(ns_prefix, del_cb, NULL);
}

static bool sys_begin(void)
{
	if (geteuid() != 0) {
		printf("# skip: needs root\n");
		return false;
	}
	ns_owner = getpid();
	snprintf(ns_prefix, sizeof(ns_prefix), NS_PREFIX "%d-", (int)ns_owner);
	netnsfs_list(NS_PREFIX, stale_cb, NULL);
	netnsfs_list(ns_prefix, del_cb, NULL);
	atexit(sys_cleanup);
	return true;
}

/* The runner ends a passing test with _exit(), which skips atexit handlers:
 * every test ends with SYS_END(). */
static void sys_end(void)
{
	netnsfs_list(ns_prefix, del_cb, NULL);
	CHECK(!strstr(run("ip netns list"), ns_prefix));
}

#define SYS_END() sys_end()

#define SYS_BEGIN()               \
	do {                      \
		if (!sys_begin()) \
			return;   \
	} while (0)

static const char *ns(const char *suffix)
{
	static char names[8][48];
	static int next;
	char *buf = names[next++ % 8];

	snprintf(buf, sizeof(names[0]), "%s%s", ns_prefix, suffix);
	return buf;
}

/* Create namespace ns(suffix) with lo up; returns an fd of it. */
static int ns_make(const char *suffix)
{
	const char *name = ns(suffix);
	struct nlr *r;
	int fd;

	CHECK_EQ(netnsfs_create(name), 0);
	fd = netnsfs_open(name);
	CHECK(fd >= 0);
	r = nlr_open(fd);
	CHECK(r != NULL);
	CHECK_EQ(nlr_link_set_up(r, "lo", true), 0);
	nlr_close(r);
	return fd;
}

static char *run(const char *fmt, ...)
{
	static char out[16384];
	char cmd[512];
	size_t n = 0, got;
	va_list ap;
	FILE *p;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	strncat(cmd, " 2>&1", sizeof(cmd) - strlen(cmd) - 1);
	p = popen(cmd, "r");
	CHECK(p != NULL);
	while (n < sizeof(out) - 1 && (got = fread(out + n, 1, sizeof(out) - 1 - n, p)) > 0)
		n += got;
	out[n] = '\0';
	pclose(p);
	return out;
}

static struct netaddr addr(const char *s)
{
	struct netaddr a;

	CHECK_EQ(netaddr_parse(s, &a), 0);
	return a;
}

static ino_t cur_netns(void)
{
	struct stat st;

	CHECK_EQ(stat("/proc/thread-self/ns/net", &st), 0);
	return st.st_ino;
}

static int sock_in(int nsfd, int family, int type)
{
	int saved, s;

	CHECK_EQ(netnsfs_enter(nsfd, &saved), 0);
	s = socket(family, type | SOCK_CLOEXEC, 0);
	CHECK_EQ(netnsfs_leave(saved), 0);
	CHECK(s >= 0);
	return s;
}

static socklen_t sockaddr_of(const char *ip, uint16_t port, struct sockaddr_storage *ss)
{
	struct netaddr a = addr(ip);

	memset(ss, 0, sizeof(*ss));
	if (a.family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, a.bytes, 4);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	memcpy(&sin6->sin6_addr, a.bytes, 16);
	return sizeof(*sin6);
}

/* Send one UDP datagram from namespace `from` to to_ip:port (a socket bound to
 * the wildcard address and port in namespace `to`); true if it arrived within
 * timeout_ms. */
static bool udp_pass(int from, int to, const char *to_ip, uint16_t port, int timeout_ms)
{
	struct sockaddr_storage ss;
	socklen_t len = sockaddr_of(to_ip, port, &ss);
	char buf[16] = "";
	int rx, tx;
	bool ok = false;

	struct sockaddr_storage any;
	socklen_t any_len = sockaddr_of(ss.ss_family == AF_INET ? "0.0.0.0" : "::", port, &any);

	rx = sock_in(to, ss.ss_family, SOCK_DGRAM);
	tx = sock_in(from, ss.ss_family, SOCK_DGRAM);
	if (bind(rx, (struct sockaddr *)&any, any_len) < 0)
		test_fail(__FILE__, __LINE__, "bind port %u: %s", port, strerror(errno));
	CHECK_EQ(sendto(tx, "mpnet", 5, 0, (struct sockaddr *)&ss, len), 5);
	struct pollfd pfd = {rx, POLLIN, 0};

	if (poll(&pfd, 1, timeout_ms) == 1 && recv(rx, buf, sizeof(buf) - 1, 0) == 5)
		ok = !strcmp(buf, "mpnet");
	close(rx);
	close(tx);
	return ok;
}

/* A TCP connection from namespace `from` to to_ip:port listened on in `to`. */
static bool tcp_pass(int from, int to, const char *to_ip, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = sockaddr_of(to_ip, port, &ss);
	int lst, c, a, soerr = 0;
	socklen_t elen = sizeof(soerr);
	bool ok = false;

	lst = sock_in(to, ss.ss_family, SOCK_STREAM);
	c = sock_in(from, ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK);
	CHECK_EQ(bind(lst, (struct sockaddr *)&ss, len), 0);
	CHECK_EQ(listen(lst, 4), 0);
	if (connect(c, (struct sockaddr *)&ss, len) < 0)
		CHECK_EQ(errno, EINPROGRESS);
	struct pollfd pfd = {c, POLLOUT, 0};

	if (poll(&pfd, 1, 3000) == 1 && getsockopt(c, SOL_SOCKET, SO_ERROR, &soerr, &elen) == 0 &&
	    soerr == 0) {
		a = accept(lst, NULL, NULL);
		ok = a >= 0;
		if (a >= 0)
			close(a);
	}
	close(c);
	close(lst);
	return ok;
}

static int count_cb(const char *name, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

static int ns_count(const char *prefix)
{
	int n = 0;

	CHECK_EQ(netnsfs_list(prefix, count_cb, &n), 0);
	return n;
}

static char *read_sysctl_in(int nsfd, const char *path, char *buf, size_t len)
{
	int saved = -1, fd;
	ssize_t n;

	if (nsfd >= 0)
		CHECK_EQ(netnsfs_enter(nsfd, &saved), 0);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (saved >= 0)
		CHECK_EQ(netnsfs_leave(saved), 0);
	CHECK(fd >= 0);
	n = read(fd, buf, len - 1);
	close(fd);
	CHECK(n > 0);
	buf[n] = '\0';
	return buf;
}

TEST(netns_sys_create_list_delete)
{
	char path[128], mount_line[160], buf[32], root_fwd[32];
	ino_t before;
	int fd, st;
	pid_t child;

	SYS_BEGIN();
	before = cur_netns();
	CHECK_EQ(netnsfs_create(ns("a")), 0);
	CHECK_EQ(cur_netns(), before);
	CHECK_EQ(netnsfs_create(ns("b")), 0);
	CHECK_EQ(netnsfs_create(ns("a")), -EEXIST);
	CHECK_EQ(netnsfs_create("bad/name"), -EINVAL);
	CHECK_EQ(ns_count(ns_prefix), 2);

	/* A real bind mount that iproute2 sees. */
	snprintf(path, sizeof(path), NETNS_RUN_DIR "/%s", ns("a"));
	snprintf(mount_line, sizeof(mount_line), " %s ", path);
	CHECK_CONTAINS(run("cat /proc/self/mountinfo"), mount_line);
	CHECK_CONTAINS(run("ip netns list"), ns("a"));
	CHECK_CONTAINS(run("ip -n %s link show lo", ns("a")), "LOOPBACK");

	/* Enter and leave. */
	fd = netnsfs_open(ns("a"));
	CHECK(fd >= 0);
	{
		int saved;
		struct stat nst;

		CHECK_EQ(fstat(fd, &nst), 0);
		CHECK_EQ(netnsfs_enter(fd, &saved), 0);
		CHECK_EQ(cur_netns(), nst.st_ino);
		CHECK_EQ(netnsfs_leave(saved), 0);
		CHECK_EQ(cur_netns(), before);
	}

	/* sysctl lands in the namespace only. */
	read_sysctl_in(-1, "/proc/sys/net/ipv4/ip_forward", root_fwd, sizeof(root_fwd));
	CHECK_EQ(netnsfs_sysctl(fd, "net/ipv4/ip_forward", "1"), 0);
	CHECK_STR_EQ(read_sysctl_in(fd, "/proc/sys/net/ipv4/ip_forward", buf, sizeof(buf)), "1\n");
	CHECK_STR_EQ(read_sysctl_in(-1, "/proc/sys/net/ipv4/ip_forward", buf, sizeof(buf)),
		     root_fwd);
	CHECK(netnsfs_sysctl(fd, "net/ipv4/no_such_key", "1") < 0);
	CHECK_EQ(netnsfs_sysctl(fd, "net.ipv6.conf.all.keep_addr_on_down", "1"), 0);
	CHECK_STR_EQ(read_sysctl_in(fd, "/proc/sys/net/ipv6/conf/all/keep_addr_on_down", buf,
				    sizeof(buf)),
		     "1\n");

	/* A process in the namespace is found and killed by delete. */
	CHECK_EQ(netnsfs_count_procs(ns("a")), 0);
	child = fork();
	CHECK(child >= 0);
	if (child == 0) {
		if (setns(fd, CLONE_NEWNET) == 0)
			pause();
		_exit(3);
	}
	for (int i = 0; i < 200 && netnsfs_count_procs(ns("a")) != 1; i++)
		usleep(5000);
	CHECK_EQ(netnsfs_count_procs(ns("a")), 1);
	CHECK_EQ(netnsfs_delete(ns("a"), 500), 0);
	CHECK_EQ(waitpid(child, &st, 0), child);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	close(fd);

	CHECK_EQ(netnsfs_delete(ns("a"), 0), 0); /* already gone: not an error */
	CHECK_EQ(netnsfs_open(ns("a")), -ENOENT);
	CHECK_EQ(netnsfs_delete(ns("b"), 0), 0);
	CHECK_EQ(ns_count(ns_prefix), 0);
	CHECK(!strstr(run("ip netns list"), ns_prefix));
	CHECK(!strstr(run("cat /proc/self/mountinfo"), mount_line));
	SYS_END();
}

TEST(netns_sys_veth_udp_tcp)
{
	int a, b;
	struct nlr *root, *ra, *rb;
	struct netaddr a4 = addr("198.18.1.1/24"), b4 = addr("198.18.1.2/24");
	struct netaddr a6 = addr("2001:db8:1::1/64"), b6 = addr("2001:db8:1::2/64");

	SYS_BEGIN();
	a = ns_make("a");
	b = ns_make("b");

	root = nlr_open(-1);
	CHECK(root != NULL);
	/* The same name on both ends, created straight into the namespaces. */
	CHECK_EQ(nlr_veth_create(root, "mpnt0", a, "mpnt0", b), 0);
	CHECK(nlr_ifindex(root, "mpnt0") < 0);
	CHECK_EQ(nlr_veth_create(root, "mpnt0", a, "mpnt1", b), -EEXIST);
	CHECK(strlen(nlr_last_error(root)) > 0);
	nlr_close(root);

	ra = nlr_open(a);
	rb = nlr_open(b);
	CHECK(ra && rb);
	CHECK(nlr_ifindex(ra, "mpnt0") > 0);
	CHECK(nlr_ifindex(rb, "mpnt0") > 0);
	CHECK_EQ(nlr_link_set_mtu(ra, "mpnt0", 1400), 0);
	CHECK_CONTAINS(run("ip -n %s link show mpnt0", ns("a")), "mtu 1400");
	CHECK_EQ(nlr_addr_add(ra, "mpnt0", &a4), 0);
	CHECK_EQ(nlr_addr_add(ra, "mpnt0", &a4), -EEXIST);
	CHECK_EQ(nlr_addr_add(ra, "mpnt0", &a6), 0);
	CHECK_EQ(nlr_addr_add(rb, "mpnt0", &b4), 0);
	CHECK_EQ(nlr_addr_add(rb, "mpnt0", &b6), 0);
	CHECK_EQ(nlr_addr_add(rb, "nosuchdev", &b6), -ENODEV);
	CHECK_EQ(nlr_link_set_up(ra, "mpnt0", true), 0);
	CHECK_EQ(nlr_link_set_up(rb, "mpnt0", true), 0);
	CHECK_CONTAINS(run("ip -n %s addr show mpnt0", ns("a")), "inet 198.18.1.1/24");
	CHECK_CONTAINS(run("ip -n %s addr show mpnt0", ns("a")), "inet6 2001:db8:1::1/64");

	CHECK(udp_pass(a, b, "198.18.1.2", 5001, 2000));
	CHECK(udp_pass(b, a, "2001:db8:1::1", 5002, 2000));
	CHECK(tcp_pass(a, b, "2001:db8:1::2", 5003));
	CHECK(tcp_pass(b, a, "198.18.1.1", 5004));

	CHECK_EQ(nlr_addr_del(rb, "mpnt0", &b4), 0);
	CHECK(!udp_pass(a, b, "198.18.1.2", 5005, 300));
	CHECK_EQ(nlr_link_delete(ra, "mpnt0"), 0);
	CHECK(nlr_ifindex(rb, "mpnt0") < 0); /* the peer went too */
	nlr_close(ra);
	nlr_close(rb);
	close(a);
	close(b);
	SYS_END();
}

/* Two redirects join pa and pb as a link namespace's e0/e1: traffic passes; without
 * them nothing does; and it passes again the moment both ends are back up after a
 * carrier loss (a bridge dropped the first ~0.55 s: ARCHITECTURE.md). */
TEST(netns_sys_redirect)
{
	int a, m, b;
	struct netaddr a4 = addr("198.18.2.1/24"), b4 = addr("198.18.2.2/24");
	struct nlr *ra, *rm, *rb;

	SYS_BEGIN();
	a = ns_make("a");
	m = ns_make("m");
	b = ns_make("b");

	rm = nlr_open(m);
	CHECK(rm != NULL);
	CHECK_EQ(nlr_veth_create(rm, "p0", a, "pa", -1), 0);
	CHECK_EQ(nlr_veth_create(rm, "p0", b, "pb", -1), 0);
	CHECK_EQ(nlr_redirect(rm, "pa", "pb", true), 0);
	CHECK_EQ(nlr_redirect(rm, "pb", "pa", true), 0);
	CHECK_CONTAINS(run("tc -n %s filter show dev pa ingress", ns("m")), "mirred");
	CHECK_EQ(nlr_link_set_up(rm, "pa", true), 0);
	CHECK_EQ(nlr_link_set_up(rm, "pb", true), 0);

	ra = nlr_open(a);
	rb = nlr_open(b);
	CHECK(ra && rb);
	CHECK_EQ(nlr_addr_add(ra, "p0", &a4), 0);
	CHECK_EQ(nlr_addr_add(rb, "p0", &b4), 0);
	CHECK_EQ(nlr_link_set_up(ra, "p0", true), 0);
	CHECK_EQ(nlr_link_set_up(rb, "p0", true), 0);
	CHECK(udp_pass(a, b, "198.18.2.2", 6001, 2000));
	CHECK(tcp_pass(b, a, "198.18.2.1", 6002));

	/* carrier lost and back (pb down, then up): the first datagram after it
	 * passes within 100 ms */
	CHECK_EQ(nlr_link_set_up(rm, "pb", false), 0);
	CHECK_EQ(nlr_link_set_up(rm, "pb", true), 0);
	CHECK(udp_pass(a, b, "198.18.2.2", 6004, 100));

	/* without the redirects nothing passes; with them again it does */
	CHECK_EQ(nlr_redirect(rm, "pa", "pb", false), 0);
	CHECK_EQ(nlr_redirect(rm, "pb", "pa", false), 0);
	CHECK(!strstr(run("tc -n %s filter show dev pa ingress", ns("m")), "mirred"));
	CHECK(!udp_pass(a, b, "198.18.2.2", 6003, 300));
	CHECK_EQ(nlr_redirect(rm, "pa", "pb", false), 0); /* twice: nothing to remove */
	CHECK_EQ(nlr_redirect(rm, "pa", "pb", true), 0);
	CHECK_EQ(nlr_redirect(rm, "pb", "pa", true), 0);
	CHECK(udp_pass(a, b, "198.18.2.2", 6005, 2000));
	CHECK_EQ(nlr_redirect(rm, "pa", "nosuchdev", true), -ENODEV);

	nlr_close(ra);
	nlr_close(rb);
	nlr_close(rm);
	close(a);
	close(m);
	close(b);
	SYS_END();
}

TEST(netns_sys_route_rule)
{
	int a, b;
	struct netaddr a4 = addr("198.18.3.1/24"), b4 = addr("198.18.3.2/24");
	struct netaddr a6 = addr("2001:db8:3::1/64");
	struct netaddr dst = addr("198.18.50.0/24"), dflt = addr("0.0.0.0/0");
	struct netaddr gw = addr("198.18.3.2"), src = addr("198.18.3.1");
	struct netaddr dst6 = addr("2001:db8:50::/48"), gw6 = addr("2001:db8:3::2");
	struct netaddr from = addr("198.18.3.1/32"), from6 = addr("2001:db8:3::1/128");
	struct nlr *ra;
	const char *out;

	SYS_BEGIN();
	a = ns_make("a");
	b = ns_make("b");

	ra = nlr_open(a);
	CHECK(ra != NULL);
	CHECK_EQ(nlr_veth_create(ra, "p0", -1, "p0", b), 0);
	CHECK_EQ(nlr_addr_add(ra, "p0", &a4), 0);
	CHECK_EQ(nlr_addr_add(ra, "p0", &a6), 0);
	CHECK_EQ(nlr_link_set_up(ra, "p0", true), 0);
	(void)b4;

	CHECK_EQ(nlr_route_add(ra, 100, &dst, &gw, "p0", &src), 0);
	CHECK_EQ(nlr_route_add(ra, 100, &dflt, &gw, NULL, NULL), 0);
	CHECK_EQ(nlr_route_add(ra, 100, &dst, &gw, "p0", &src), -EEXIST);
	CHECK_EQ(nlr_route_add(ra, 254, &dst6, &gw6, "p0", NULL), 0);
	CHECK_EQ(nlr_route_add(ra, 100, &dst6, &gw, "p0", NULL), -EAFNOSUPPORT);
	CHECK_EQ(nlr_rule_add(ra, &from, 100, 1000), 0);
	CHECK_EQ(nlr_rule_add(ra, &from6, 100, 1001), 0);
	CHECK_EQ(nlr_rule_add(ra, &from, 100, 1000), -EEXIST);

	out = run("ip -n %s route show table 100", ns("a"));
	CHECK_CONTAINS(out, "198.18.50.0/24 via 198.18.3.2 dev p0");
	CHECK_CONTAINS(out, "src 198.18.3.1");
	CHECK_CONTAINS(out, "default via 198.18.3.2 dev p0");
	CHECK_CONTAINS(run("ip -n %s -6 route show", ns("a")),
		       "2001:db8:50::/48 via 2001:db8:3::2");
	CHECK_CONTAINS(run("ip -n %s rule show", ns("a")), "1000:\tfrom 198.18.3.1 lookup 100");
	CHECK_CONTAINS(run("ip -n %s -6 rule show", ns("a")),
		       "1001:\tfrom 2001:db8:3::1 lookup 100");
	/* The routing decision uses them. */
	CHECK_CONTAINS(run("ip -n %s route get 198.18.50.7 from 198.18.3.1", ns("a")),
		       "via 198.18.3.2 dev p0 table 100");

	CHECK_EQ(nlr_route_del(ra, 100, &dst, NULL, NULL), 0);
	CHECK_EQ(nlr_route_del(ra, 100, &dst, NULL, NULL), -ESRCH);
	CHECK(!strstr(run("ip -n %s route show table 100", ns("a")), "198.18.50.0"));
	CHECK_EQ(nlr_rule_del(ra, &from, 100, 1000), 0);
	CHECK(!strstr(run("ip -n %s rule show", ns("a")), "1000:"));
	nlr_close(ra);
	close(a);
	close(b);
	SYS_END();
}

/* Blast n datagrams of len bytes from namespace nsfd to ip:port. */
static void udp_blast(int nsfd, const char *ip, uint16_t port, int n, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sockaddr_of(ip, port, &ss);
	char payload[1500] = {0};
	int tx = sock_in(nsfd, ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK);

	for (int i = 0; i < n; i++)
		sendto(tx, payload, len, 0, (struct sockaddr *)&ss, sl);
	close(tx);
}

static uint64_t tc_dropped(const char *out, const char *qdisc)
{
	const char *p = strstr(out, qdisc);

	if (!p || !(p = strstr(p, "dropped ")))
		return UINT64_MAX;
	return strtoull(p + strlen("dropped "), NULL, 10);
}

TEST(netns_sys_shape)
{
	int a, b;
	struct netaddr a4 = addr("198.18.5.1/24"), b4 = addr("198.18.5.2/24");
	struct nlr_link_counters c;
	struct nlr *ra, *rb;
	const char *out;

	SYS_BEGIN();
	a = ns_make("a");
	b = ns_make("b");

	ra = nlr_open(a);
	rb = nlr_open(b);
	CHECK(ra && rb);
	CHECK_EQ(nlr_veth_create(ra, "p0", -1, "p0", b), 0);
	CHECK_EQ(nlr_addr_add(ra, "p0", &a4), 0);
	CHECK_EQ(nlr_addr_add(rb, "p0", &b4), 0);
	CHECK_EQ(nlr_link_set_up(ra, "p0", true), 0);
	CHECK_EQ(nlr_link_set_up(rb, "p0", true), 0);

	CHECK_EQ(nlr_shape(ra, "p0", 10000000, NLR_QUEUE_PACKETS, 50), 0);
	out = run("tc -n %s qdisc show dev p0", ns("a"));
	CHECK_CONTAINS(out, "qdisc htb 1: root");
	CHECK_CONTAINS(out, "default 0x1");
	CHECK_CONTAINS(out, "qdisc pfifo 10: parent 1:1 limit 50p");
	out = run("tc -n %s class show dev p0", ns("a"));
	CHECK_CONTAINS(out, "class htb 1:1 root leaf 10: prio 0 rate 10Mbit ceil 10Mbit");
	CHECK(!strstr(out, "quantum")); /* no warning printed */
	CHECK_CONTAINS(run("tc -n %s -d class show dev p0", ns("a")), "quantum 1514");

	CHECK(udp_pass(a, b, "198.18.5.2", 7000, 2000)); /* ARP done, path works */
	udp_blast(a, "198.18.5.2", 7001, 400, 1400);
	CHECK_EQ(nlr_link_counters(ra, "p0", &c), 0);
	CHECK(c.up && c.carrier);
	CHECK(c.tx_packets > 0 && c.tx_bytes > 0);
	CHECK(c.qdisc_drops > 0);
	CHECK(c.qdisc_backlog > 0); /* 50 x 1.4 kB take ~60 ms at 10 Mbit/s */
	out = run("tc -n %s -s qdisc show dev p0", ns("a"));
	CHECK_U64_EQ(tc_dropped(out, "qdisc htb 1:"), c.qdisc_drops);
	CHECK_U64_EQ(tc_dropped(out, "qdisc pfifo 10:"), c.qdisc_drops);
	printf("# shape: 400 x 1400 B into 10 Mbit/s pfifo 50: %" PRIu64 " dropped, %" PRIu64
	       " B backlog\n",
	       c.qdisc_drops, c.qdisc_backlog);

	/* A run-time change happens in place: the fifo keeps its statistics. */
	CHECK_EQ(nlr_shape(ra, "p0", 20000000, NLR_QUEUE_PACKETS, 100), 0);
	out = run("tc -n %s -s qdisc show dev p0", ns("a"));
	CHECK_CONTAINS(out, "qdisc pfifo 10: parent 1:1 limit 100p");
	CHECK_U64_EQ(tc_dropped(out, "qdisc pfifo 10:"), c.qdisc_drops);
	CHECK_CONTAINS(run("tc -n %s class show dev p0", ns("a")), "rate 20Mbit ceil 20Mbit");
	CHECK_EQ(nlr_shape(ra, "p0", 2000000000ULL, NLR_QUEUE_BYTES, 30000), 0);
	CHECK_CONTAINS(run("tc -n %s qdisc show dev p0", ns("a")),
		       "qdisc bfifo 10: parent 1:1 limit 30000b");
	CHECK_CONTAINS(run("tc -n %s class show dev p0", ns("a")), "rate 2Gbit ceil 2Gbit");
	CHECK_EQ(nlr_shape(ra, "p0", 8000000000ULL, NLR_QUEUE_BYTES, 0), 0); /* > 4 GB/s: rate64 */
	out = run("tc -n %s qdisc show dev p0", ns("a"));
	CHECK(!strstr(out, "bfifo"));
	CHECK_CONTAINS(run("tc -n %s class show dev p0", ns("a")), "rate 8Gbit ceil 8Gbit");
	CHECK(udp_pass(a, b, "198.18.5.2", 7002, 2000));

	/* Unshaped with an explicit queue, then back to the default. */
	CHECK_EQ(nlr_shape(ra, "p0", 0, NLR_QUEUE_PACKETS, 64), 0);
	out = run("tc -n %s qdisc show dev p0", ns("a"));
	CHECK_CONTAINS(out, "qdisc pfifo 10: root");
	CHECK_CONTAINS(out, "limit 64p");
	CHECK(!strstr(out, "htb"));
	CHECK_EQ(nlr_shape(ra, "p0", 0, NLR_QUEUE_PACKETS, 128), 0);
	CHECK_CONTAINS(run("tc -n %s qdisc show dev p0", ns("a")), "limit 128p");
	CHECK_EQ(nlr_shape(ra, "p0", 0, NLR_QUEUE_PACKETS, 0), 0);
	out = run("tc -n %s qdisc show dev p0", ns("a"));
	CHECK(!strstr(out, "pfifo") && !strstr(out, "htb"));
	CHECK_EQ(nlr_shape(ra, "p0", 0, NLR_QUEUE_PACKETS, 0), 0); /* idempotent */
	CHECK_EQ(nlr_shape(ra, "nosuchdev", 1000000, NLR_QUEUE_PACKETS, 10), -ENODEV);
	CHECK(udp_pass(a, b, "198.18.5.2", 7003, 2000));

	/* Carrier follows the peer. */
	CHECK_EQ(nlr_link_set_up(rb, "p0", false), 0);
	CHECK_EQ(nlr_link_counters(ra, "p0", &c), 0);
	CHECK(c.up && !c.carrier);
	CHECK_EQ(nlr_link_counters(rb, "p0", &c), 0);
	CHECK(!c.up && !c.carrier);
	nlr_close(ra);
	nlr_close(rb);
	close(a);
	close(b);
	SYS_END();
}

static const struct mptcp_pm_endpoint *ep_find(const struct mptcp_pm_endpoint *eps, int n,
					       uint8_t id)
{
	for (int i = 0; i < n; i++)
		if (eps[i].id == id)
			return &eps[i];
	return NULL;
}

TEST(netns_sys_mptcp_pm)
{
	int a;
	struct mptcp_pm_endpoint eps[8],
		want[3] = {
			{.addr = addr("198.18.4.1"), .id = 1, .flags = 1 | 4, .ifindex = 1},
			{.addr = addr("2001:db8:4::1"), .id = 2, .flags = 2 | 8},
			{.addr = addr("198.18.4.2"), .id = 3, .flags = 1, .port = 10000},
		};
	struct mptcp_pm_endpoint bad;
	struct mptcp_pm *pm;
	struct nlr *r;
	uint32_t sf = 99, aa = 99, root_sf, root_aa;
	const char *out;
	int n;

	SYS_BEGIN();
	a = ns_make("a");

	pm = mptcp_pm_open(-1);
	if (!pm && errno == ENOENT) {
		printf("# skip: no MPTCP in this kernel\n");
		return;
	}
	CHECK(pm != NULL);
	CHECK_EQ(mptcp_pm_get_limits(pm, &root_sf, &root_aa), 0);
	mptcp_pm_close(pm);

	/* An endpoint with a port listens on it: its address must be local. */
	r = nlr_open(a);
	CHECK(r != NULL);
	CHECK_EQ(nlr_addr_add(r, "lo", &want[2].addr), 0);
	nlr_close(r);

	pm = mptcp_pm_open(a);
	CHECK(pm != NULL);
	CHECK_EQ(mptcp_pm_set_limits(pm, 4, 3), 0);
	CHECK_EQ(mptcp_pm_get_limits(pm, &sf, &aa), 0);
	CHECK_EQ(sf, 4);
	CHECK_EQ(aa, 3);
	CHECK_CONTAINS(run("ip -n %s mptcp limits show", ns("a")),
		       "add_addr_accepted 3 subflows 4");

	for (int i = 0; i < 3; i++)
		CHECK_EQ(mptcp_pm_add_endpoint(pm, &want[i]), 0);
	n = mptcp_pm_dump(pm, eps, 8);
	CHECK_EQ(n, 3);
	for (int i = 0; i < 3; i++) {
		const struct mptcp_pm_endpoint *got = ep_find(eps, n, want[i].id);

		CHECK(got != NULL);
		CHECK_EQ(got->addr.family, want[i].addr.family);
		CHECK(netaddr_eq(&got->addr, &want[i].addr));
		CHECK_EQ(got->flags, want[i].flags);
		CHECK_EQ(got->ifindex, want[i].ifindex);
		CHECK_EQ(got->port, want[i].port);
	}
	CHECK_EQ(mptcp_pm_dump(pm, eps, 1), 1); /* truncated to max */
	out = run("ip -n %s mptcp endpoint show", ns("a"));
	CHECK_CONTAINS(out, "198.18.4.1 id 1 signal backup dev lo");
	CHECK_CONTAINS(out, "2001:db8:4::1 id 2 subflow fullmesh");
	CHECK_CONTAINS(out, "198.18.4.2 port 10000 id 3 signal");

	/* Errors carry the kernel's message. */
	bad = (struct mptcp_pm_endpoint){.addr = addr("198.18.4.9"), .flags = 2, .port = 1234};
	CHECK_EQ(mptcp_pm_add_endpoint(pm, &bad), -EINVAL);
	printf("# port without signal: %s\n", mptcp_pm_last_error(pm));
	CHECK_CONTAINS(mptcp_pm_last_error(pm), "signal");
	bad = (struct mptcp_pm_endpoint){.addr = addr("198.18.4.9"), .id = 1, .flags = 1};
	n = mptcp_pm_add_endpoint(pm, &bad);
	printf("# id collision: %d %s\n", n, mptcp_pm_last_error(pm));
	CHECK(n < 0);
	CHECK(strlen(mptcp_pm_last_error(pm)) > 0);
	bad = (struct mptcp_pm_endpoint){.addr = {.family = AF_UNIX}, .id = 9};
	CHECK_EQ(mptcp_pm_add_endpoint(pm, &bad), -EAFNOSUPPORT);
	CHECK_EQ(mptcp_pm_del_endpoint(pm, 77), -EINVAL);
	printf("# delete unknown id: %s\n", mptcp_pm_last_error(pm));

	CHECK_EQ(mptcp_pm_del_endpoint(pm, 2), 0);
	n = mptcp_pm_dump(pm, eps, 8);
	CHECK_EQ(n, 2);
	CHECK(ep_find(eps, n, 2) == NULL);
	CHECK_EQ(mptcp_pm_flush(pm), 0);
	CHECK_EQ(mptcp_pm_dump(pm, eps, 8), 0);
	mptcp_pm_close(pm);

	/* The caller's namespace was never touched. */
	pm = mptcp_pm_open(-1);
	CHECK(pm != NULL);
	CHECK_EQ(mptcp_pm_get_limits(pm, &sf, &aa), 0);
	CHECK_EQ(sf, root_sf);
	CHECK_EQ(aa, root_aa);
	mptcp_pm_close(pm);
	close(a);
	SYS_END();
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

TEST(netns_sys_timing)
{
	enum { N = 64 };
	double t0, t1, t2;
	char name[16];

	SYS_BEGIN();
	t0 = now_ms();
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "t%d", i);
		CHECK_EQ(netnsfs_create(ns(name)), 0);
	}
	t1 = now_ms();
	CHECK_EQ(ns_count(ns_prefix), N);
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "t%d", i);
		CHECK_EQ(netnsfs_delete(ns(name), 100), 0);
	}
	t2 = now_ms();
	CHECK_EQ(ns_count(ns_prefix), 0);
	printf("# %d namespaces: create %.1f ms (%.2f ms each), delete %.1f ms\n", N, t1 - t0,
	       (t1 - t0) / N, t2 - t1);
	SYS_END();
}
