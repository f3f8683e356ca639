/* The libmpt runtime loop (see mpt_rt.h). */
#include "mpt_rt.h"
#include "mpt_sim.h"
#include "rt_addr.h"
#include "rt_pm.h"
#include "rt_route.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define RT_BATCH     256
#define RT_RX_ROUNDS 8	  /* receive batches per step before timers and output */
#define RT_MAX_PORTS 4096 /* claimed at once; the unused are given back when full */
#define RT_MAX_EPS   32
#define RT_PM_PERIOD 1000000000ull /* re-read the kernel path manager every second */

/* epoll tags */
enum { RT_EV_IO, RT_EV_TIMER, RT_EV_ADDR };

/* An endpoint the application declared, kept so that it comes back with its
 * address (mpt_stack_del_path drops the stack's copy with the path). */
struct rt_ep {
	bool used;
	uint8_t id;
	uint32_t flags;
	struct mpt_sockaddr addr;
};
/* Received bytes after which the ACKs they call for leave at once, before more
 * input is read: a batch of GSO super-frames can hold megabytes, and holding the
 * ACKs that long would stall a sender on the window. */
#define RT_ACK_BYTES (128u << 10)

struct mpt_rt {
	struct mpt_stack *st;
	const struct mpt_io_ops *ops;
	void *io;
	int epfd, tfd;
	uint64_t armed; /* timerfd expiry currently set; 0 = disarmed */
	uint32_t mtu;
	struct mpt_io_path paths[MPT_IO_MAX_PATHS];
	bool gone[MPT_IO_MAX_PATHS]; /* the address was deleted; the id is free in the stack */
	bool carrier_down[MPT_IO_MAX_PATHS]; /* its link lost carrier (rtnetlink) */
	size_t npaths;
	struct rt_addr_watch *aw;
	struct rt_route *rr; /* route lookups for the path manager; NULL: none */
	struct rt_ep eps[RT_MAX_EPS];
	struct rt_pm *pm; /* mpt_rt_follow_pm: the kernel's path manager */
	bool pm_eps, pm_limits, pm_due;
	uint64_t pm_next;
	uint8_t lim_subflows, lim_add_addr; /* the stack's limits now */
	volatile sig_atomic_t *intr;	    /* mpt_rt_set_interrupt */
	uint64_t ports[65536 / 64];	    /* claimed local ports, a bit each */
	size_t nports;
	uint8_t *txbuf; /* RT_BATCH * mtu */
	struct mpt_io_pkt txp[RT_BATCH];
	struct mpt_io_pkt rxp[RT_BATCH];
	struct mpt_rt_stats stats;
	void (*tick_fn)(void *ctx, uint64_t now);
	void *tick_ctx;
	uint64_t tick_interval, tick_next;
};

static uint64_t clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t mpt_rt_now(const struct mpt_rt *rt)
{
	return clock_ns();
}

int mpt_rt_discover_paths(struct mpt_io_path *paths, size_t max)
{
	struct ifaddrs *ifa, *i;
	size_t n = 0;

	if (getifaddrs(&ifa))
		return -errno;
	for (i = ifa; i && n < max; i = i->ifa_next) {
		struct mpt_io_path *p = &paths[n];

		if (!i->ifa_addr || (i->ifa_flags & IFF_LOOPBACK) || !(i->ifa_flags & IFF_UP))
			continue;
		memset(p, 0, sizeof(*p));
		if (i->ifa_addr->sa_family == AF_INET) {
			p->addr.family = MPT_AF_INET;
			memcpy(p->addr.ip, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			const struct in6_addr *a = &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;

			if (IN6_IS_ADDR_LINKLOCAL(a) || IN6_IS_ADDR_MULTICAST(a))
				continue;
			p->addr.family = MPT_AF_INET6;
			memcpy(p->addr.ip, a, 16);
		} else {
			continue;
		}
		snprintf(p->ifname, sizeof(p->ifname), "%s", i->ifa_name);
		p->ifindex = (int)if_nametoindex(i->ifa_name);
		p->id = (uint32_t)n;
		if (p->ifindex > 0)
			n++;
	}
	freeifaddrs(ifa);
	return (int)n;
}

static int rt_pick_port_cb(void *ctx, uint16_t *port);
static int rt_route_source_cb(void *ctx, const struct mpt_sockaddr *remote, uint32_t *path);
static bool same_ip(const struct mpt_sockaddr *a, const struct mpt_sockaddr *b);

/* env.alloc: a 16-byte header holding the size, so that the stack's memory can be
 * counted (mpt_rt_stats.mem_*); the stack runs on the runtime thread, or under the
 * runtime's lock: plain counters.  Blocks of RT_MEM_MMAP and more (the send and
 * receive buffers, MiBs each per subflow) are mapped and unmapped here: glibc's
 * malloc would map them too, but after the first such free it raises its mmap
 * threshold and serves them from the heap, whose freed holes stay resident; a
 * connection re-creating its subflows then grew by about 4 MiB per re-creation in
 * RSS (the live soak: 27 -> 43 MiB in 240 s, with mem_live flat). */
#define RT_MEM_HDR  16
#define RT_MEM_MMAP (128u << 10)

static void *rt_calloc(void *ctx, size_t n, size_t size)
{
	struct mpt_rt *rt = ctx;
	unsigned char *p;
	size_t bytes;

	if (size && n > (SIZE_MAX - RT_MEM_HDR) / size)
		return NULL;
	bytes = n * size;
	if (bytes >= RT_MEM_MMAP) {
		p = mmap(NULL, bytes + RT_MEM_HDR, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
	} else {
		p = calloc(1, bytes + RT_MEM_HDR);
	}
	if (!p)
		return NULL;
	memcpy(p, &bytes, sizeof(bytes));
	rt->stats.mem_live += bytes;
	rt->stats.mem_allocs++;
	if (rt->stats.mem_live > rt->stats.mem_peak)
		rt->stats.mem_peak = rt->stats.mem_live;
	return p + RT_MEM_HDR;
}

static void rt_free(void *ctx, void *q)
{
	struct mpt_rt *rt = ctx;
	unsigned char *p = q;
	size_t bytes;

	if (!p)
		return;
	p -= RT_MEM_HDR;
	memcpy(&bytes, p, sizeof(bytes));
	rt->stats.mem_live -= bytes;
	if (bytes >= RT_MEM_MMAP)
		munmap(p, bytes + RT_MEM_HDR);
	else
		free(p);
}

int mpt_rt_open(struct mpt_rt **out, const struct mpt_io_ops *io, const struct mpt_io_path *paths,
		size_t npaths, const struct mpt_config *cfg, char *err, size_t errlen)
{
	struct epoll_event ev = {.events = EPOLLIN};
	struct mpt_config def;
	struct mpt_env env;
	struct mpt_rt *rt;
	int rv;

	if (!npaths || npaths > MPT_IO_MAX_PATHS) {
		snprintf(err, errlen, "no usable address in this namespace (%zu)", npaths);
		return MPT_EINVAL;
	}
	if (!cfg)
		mpt_config_default(&def);
	else
		def = *cfg;
	def.tx_csum_partial = io->tx_csum_partial;
	cfg = &def;
	rt = calloc(1, sizeof(*rt));
	if (!rt) {
		snprintf(err, errlen, "out of memory");
		return MPT_ENOMEM;
	}
	rt->epfd = rt->tfd = -1;
	rt->ops = io;
	rt->mtu = cfg->mtu;
	rt->lim_subflows = cfg->max_subflows;
	rt->lim_add_addr = cfg->max_add_addr_accepted;
	memcpy(rt->paths, paths, npaths * sizeof(*paths));
	rt->npaths = npaths;
	rt->txbuf = malloc((size_t)RT_BATCH * rt->mtu);
	if (!rt->txbuf) {
		snprintf(err, errlen, "out of memory");
		rv = MPT_ENOMEM;
		goto fail;
	}
	memset(&env, 0, sizeof(env));
	env.crypto = mpt_crypto_openssl(NULL);
	env.pick_port = rt_pick_port_cb;
	env.port_ctx = rt;
	env.alloc.ctx = rt;
	env.alloc.calloc = rt_calloc;
	env.alloc.free = rt_free;
	/* without an rtnetlink socket the stack keeps its subnet rule */
	if (!rt_route_open(&rt->rr)) {
		env.route_source = rt_route_source_cb;
		env.route_ctx = rt;
	}
	rv = mpt_stack_new(&rt->st, &env, cfg);
	if (rv) {
		snprintf(err, errlen, "mpt_stack_new: %s", mpt_strerror(rv));
		goto fail;
	}
	for (size_t i = 0; i < npaths; i++) {
		rv = mpt_stack_add_path(rt->st, paths[i].id, &paths[i].addr);
		if (rv) {
			snprintf(err, errlen, "path %u: %s", paths[i].id, mpt_strerror(rv));
			goto fail;
		}
	}
	rt->epfd = epoll_create1(EPOLL_CLOEXEC);
	rt->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (rt->epfd < 0 || rt->tfd < 0) {
		rv = -errno;
		snprintf(err, errlen, "epoll/timerfd: %s", strerror(errno));
		goto fail;
	}
	rv = io->open(&rt->io, paths, npaths, rt->mtu, err, errlen);
	if (rv)
		goto fail;
	ev.data.u32 = RT_EV_IO;
	if (epoll_ctl(rt->epfd, EPOLL_CTL_ADD, io->fd(rt->io), &ev)) {
		rv = -errno;
		goto fail_errno;
	}
	ev.data.u32 = RT_EV_TIMER;
	if (epoll_ctl(rt->epfd, EPOLL_CTL_ADD, rt->tfd, &ev)) {
		rv = -errno;
		goto fail_errno;
	}
	rv = rt_addr_watch_open(&rt->aw);
	if (rv) {
		snprintf(err, errlen, "rtnetlink address watch: %s", strerror(-rv));
		goto fail;
	}
	ev.data.u32 = RT_EV_ADDR;
	if (epoll_ctl(rt->epfd, EPOLL_CTL_ADD, rt_addr_watch_fd(rt->aw), &ev)) {
		rv = -errno;
		goto fail_errno;
	}
	*out = rt;
	return 0;
fail_errno:
	snprintf(err, errlen, "epoll_ctl: %s", strerror(-rv));
fail:
	mpt_rt_close(rt);
	return rv;
}

void mpt_rt_close(struct mpt_rt *rt)
{
	if (!rt)
		return;
	if (rt->io)
		rt->ops->close(rt->io);
	if (rt->epfd >= 0)
		close(rt->epfd);
	if (rt->tfd >= 0)
		close(rt->tfd);
	rt_addr_watch_close(rt->aw);
	rt_pm_close(rt->pm);
	mpt_stack_free(rt->st);
	rt_route_close(rt->rr);
	free(rt->txbuf);
	free(rt);
}

struct mpt_stack *mpt_rt_stack(struct mpt_rt *rt)
{
	return rt->st;
}

static bool port_claimed(const struct mpt_rt *rt, uint16_t port)
{
	return rt->ports[port / 64] >> (port % 64) & 1;
}

/* Give back the claimed ports no connection or listener of the stack uses any more
 * (closed, TIME_WAIT over): a process that opens connections one after another
 * would otherwise run out after RT_MAX_PORTS of them. */
static void ports_gc(struct mpt_rt *rt)
{
	for (uint32_t p = 0; p < 65536; p++)
		if (port_claimed(rt, (uint16_t)p) && !mpt_stack_port_in_use(rt->st, (uint16_t)p)) {
			rt->ports[p / 64] &= ~(1ull << (p % 64));
			rt->nports--;
		}
}

int mpt_rt_claim_port(struct mpt_rt *rt, uint16_t port)
{
	if (port_claimed(rt, port))
		return 0;
	if (rt->nports >= RT_MAX_PORTS)
		ports_gc(rt);
	if (rt->nports >= RT_MAX_PORTS)
		return MPT_ENOMEM;
	rt->ports[port / 64] |= 1ull << (port % 64);
	rt->nports++;
	return 0;
}

int mpt_rt_pick_port(struct mpt_rt *rt, uint16_t *port)
{
	uint16_t r;

	for (int tries = 0; tries < 64; tries++) {
		if (getrandom(&r, sizeof(r), 0) != sizeof(r))
			r = (uint16_t)clock_ns();
		r = (uint16_t)(49152 + r % 16384);
		if (!port_claimed(rt, r)) {
			*port = r;
			return mpt_rt_claim_port(rt, r);
		}
	}
	return MPT_EADDRINUSE;
}

/* The stack's own subflows take their ports from the same claimed set. */
static int rt_pick_port_cb(void *ctx, uint16_t *port)
{
	return mpt_rt_pick_port(ctx, port);
}

int mpt_rt_pick_source(struct mpt_rt *rt, const struct mpt_sockaddr *dst, struct mpt_sockaddr *src)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, rv = MPT_ENOENT;

	memset(&ss, 0, sizeof(ss));
	if (dst->family == MPT_AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(dst->port ? dst->port : 9);
		memcpy(&s4->sin_addr, dst->ip, 4);
		sl = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(dst->port ? dst->port : 9);
		memcpy(&s6->sin6_addr, dst->ip, 16);
		sl = sizeof(*s6);
	}
	/* a connected UDP socket: the kernel's source selection, no datagram sent */
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return MPT_ENOENT;
	if (connect(fd, (struct sockaddr *)&ss, sl) == 0 &&
	    getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
		const uint8_t *ip =
			ss.ss_family == AF_INET
				? (const uint8_t *)&((struct sockaddr_in *)&ss)->sin_addr
				: (const uint8_t *)&((struct sockaddr_in6 *)&ss)->sin6_addr;

		for (size_t i = 0; i < rt->npaths; i++) {
			const struct mpt_sockaddr *a = &rt->paths[i].addr;

			if (!rt->gone[i] && a->family == dst->family &&
			    !memcmp(a->ip, ip, a->family == MPT_AF_INET ? 4 : 16)) {
				*src = *a;
				src->port = 0;
				rv = 0;
				break;
			}
		}
	}
	close(fd);
	return rv;
}

/* env.route_source: the kernel's route to remote (RTM_GETROUTE, rt_route.h) mapped
 * onto a live path: the one with the route's preferred source address, else the
 * first on the route's output interface in remote's family. */
static int rt_route_source_cb(void *ctx, const struct mpt_sockaddr *remote, uint32_t *path)
{
	struct mpt_rt *rt = ctx;
	struct rt_route_answer ans;
	size_t i;

	rt->stats.route_lookups++;
	if (rt_route_get(rt->rr, remote, &ans)) {
		rt->stats.route_misses++;
		return MPT_ENOENT;
	}
	for (i = 0; ans.prefsrc.family && i < rt->npaths; i++)
		if (!rt->gone[i] && same_ip(&rt->paths[i].addr, &ans.prefsrc)) {
			*path = rt->paths[i].id;
			return 0;
		}
	for (i = 0; ans.oif && i < rt->npaths; i++)
		if (!rt->gone[i] && rt->paths[i].ifindex == ans.oif &&
		    rt->paths[i].addr.family == remote->family) {
			*path = rt->paths[i].id;
			return 0;
		}
	rt->stats.route_misses++;
	return MPT_ENOENT;
}

int mpt_rt_fd(const struct mpt_rt *rt)
{
	return rt->epfd;
}

int mpt_rt_flush(struct mpt_rt *rt)
{
	uint64_t now = clock_ns();

	for (;;) {
		unsigned n = 0;
		int rv;

		while (n < RT_BATCH) {
			uint8_t *b = rt->txbuf + (size_t)n * rt->mtu;
			uint32_t path;
			ptrdiff_t len = mpt_stack_send(rt->st, b, rt->mtu, &path, now);

			if (len <= 0)
				break;
			rt->txp[n].data = b;
			rt->txp[n].len = (uint32_t)len;
			rt->txp[n].path = path;
			n++;
		}
		if (!n)
			return 0;
		rv = rt->ops->send(rt->io, rt->txp, n);
		if (rv < 0)
			return rv;
		rt->stats.tx_datagrams += n;
		if (n < RT_BATCH)
			return 0;
	}
}

static uint16_t dst_port(const uint8_t *ip, size_t len)
{
	size_t hl;

	if ((ip[0] >> 4) == 4)
		hl = (size_t)(ip[0] & 0x0f) * 4;
	else
		hl = 40;
	if (len < hl + 4)
		return 0;
	return (uint16_t)(ip[hl + 2] << 8 | ip[hl + 3]);
}

static int arm(struct mpt_rt *rt, uint64_t at)
{
	struct itimerspec its = {0};

	/* An armed expiry that comes sooner stays: waking early is harmless (the
	 * step finds nothing due and arms again), and the RTO moving later on every
	 * ACK would otherwise cost a timerfd_settime per step. */
	if (rt->armed && rt->armed <= at)
		return 0;
	if (at != UINT64_MAX) {
		its.it_value.tv_sec = (time_t)(at / 1000000000ull);
		its.it_value.tv_nsec = (long)(at % 1000000000ull);
		if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
			its.it_value.tv_nsec = 1;
	}
	if (timerfd_settime(rt->tfd, TFD_TIMER_ABSTIME, &its, NULL))
		return -errno;
	rt->armed = at;
	return 0;
}

static bool same_ip(const struct mpt_sockaddr *a, const struct mpt_sockaddr *b)
{
	return a->family == b->family && !memcmp(a->ip, b->ip, a->family == MPT_AF_INET ? 4 : 16);
}

static int path_with(const struct mpt_rt *rt, const struct mpt_sockaddr *addr)
{
	for (size_t i = 0; i < rt->npaths; i++)
		if (same_ip(&rt->paths[i].addr, addr))
			return (int)i;
	return -1;
}

/* The endpoints the application declared on addr go back into the stack. */
static void readd_endpoints(struct mpt_rt *rt, size_t i)
{
	for (size_t e = 0; e < RT_MAX_EPS; e++) {
		const struct rt_ep *ep = &rt->eps[e];

		if (ep->used && same_ip(&ep->addr, &rt->paths[i].addr) &&
		    !mpt_stack_add_endpoint(rt->st, ep->id, rt->paths[i].id, ep->flags))
			rt->stats.endpoints_readded++;
	}
}

/* rtnetlink says an address came or went (rt_addr.h). */
static void addr_changed(void *ctx, bool added, int ifindex, const struct mpt_sockaddr *addr)
{
	struct mpt_rt *rt = ctx;
	int i = path_with(rt, addr);
	char err[128];

	if (!added) {
		if (i < 0 || rt->gone[i])
			return;
		/* the stack closes the path's subflows without sending on them and
		 * reinjects their data; the I/O backend keeps its sockets for a return */
		mpt_stack_del_path(rt->st, rt->paths[i].id, clock_ns());
		rt->gone[i] = true;
		rt->stats.addr_del++;
		return;
	}
	if (i >= 0) {
		/* the same address back on another interface would need the backend
		 * to move its sockets; not done, the path stays gone */
		if (!rt->gone[i] || rt->paths[i].ifindex != ifindex)
			return;
		if (mpt_stack_add_path(rt->st, rt->paths[i].id, &rt->paths[i].addr))
			return;
		rt->gone[i] = false;
		rt->carrier_down[i] = false; /* as the stack's path, fresh */
		rt->stats.addr_add++;
		readd_endpoints(rt, (size_t)i);
		return;
	}
	if (rt->npaths >= MPT_IO_MAX_PATHS || !rt->ops->add_path)
		return;
	{
		struct mpt_io_path *p = &rt->paths[rt->npaths];

		memset(p, 0, sizeof(*p));
		if (!if_indextoname((unsigned)ifindex, p->ifname))
			return;
		p->ifindex = ifindex;
		p->addr = *addr;
		p->addr.port = 0;
		/* ids are indices: the first free one is the next */
		p->id = (uint32_t)rt->npaths;
		if (rt->ops->add_path(rt->io, p, err, sizeof(err)) ||
		    mpt_stack_add_path(rt->st, p->id, &p->addr))
			return;
		rt->gone[rt->npaths] = false;
		rt->npaths++;
		rt->stats.addr_add++;
	}
}

/* rtnetlink says a link lost or regained carrier (rt_addr.h): the stack's path
 * managers close the paths' subflows, or re-open them at once. */
static void link_changed(void *ctx, int ifindex, bool carrier)
{
	struct mpt_rt *rt = ctx;

	for (size_t i = 0; i < rt->npaths; i++) {
		if (rt->paths[i].ifindex != ifindex || rt->gone[i] ||
		    rt->carrier_down[i] == !carrier)
			continue;
		rt->carrier_down[i] = !carrier;
		if (carrier)
			rt->stats.link_up++;
		else
			rt->stats.link_down++;
		mpt_stack_path_link(rt->st, rt->paths[i].id, carrier, clock_ns());
	}
}

int mpt_rt_add_endpoint(struct mpt_rt *rt, uint8_t id, const struct mpt_sockaddr *addr,
			uint32_t flags)
{
	int i = path_with(rt, addr), rv;
	size_t e;

	if (i < 0 || rt->gone[i])
		return MPT_ENOENT;
	for (e = 0; e < RT_MAX_EPS && rt->eps[e].used; e++)
		;
	if (e == RT_MAX_EPS)
		return MPT_ENOMEM;
	rv = mpt_stack_add_endpoint(rt->st, id, rt->paths[i].id, flags);
	if (rv)
		return rv;
	rt->eps[e] = (struct rt_ep){.used = true, .id = id, .flags = flags, .addr = *addr};
	return 0;
}

int mpt_rt_del_endpoint(struct mpt_rt *rt, uint8_t id)
{
	for (size_t e = 0; e < RT_MAX_EPS; e++) {
		if (!rt->eps[e].used || rt->eps[e].id != id)
			continue;
		rt->eps[e].used = false;
		/* MPT_ENOENT: its address is gone, the stack dropped it already */
		mpt_stack_del_endpoint(rt->st, id, clock_ns());
		return 0;
	}
	return MPT_ENOENT;
}

int mpt_rt_set_endpoint_flags(struct mpt_rt *rt, uint8_t id, uint32_t flags)
{
	for (size_t e = 0; e < RT_MAX_EPS; e++) {
		int rv;

		if (!rt->eps[e].used || rt->eps[e].id != id)
			continue;
		rv = mpt_stack_set_endpoint_flags(rt->st, id, flags);
		if (rv && rv != MPT_ENOENT)
			return rv;
		rt->eps[e].flags = flags;
		return 0;
	}
	return MPT_ENOENT;
}

int mpt_rt_endpoints(const struct mpt_rt *rt, struct mpt_rt_endpoint *out, int max)
{
	int n = 0;

	for (size_t e = 0; e < RT_MAX_EPS; e++) {
		if (!rt->eps[e].used)
			continue;
		if (n < max)
			out[n] = (struct mpt_rt_endpoint){.id = rt->eps[e].id,
							  .flags = rt->eps[e].flags,
							  .addr = rt->eps[e].addr};
		n++;
	}
	return n;
}

bool mpt_rt_follows_pm(const struct mpt_rt *rt)
{
	return rt->pm && rt->pm_eps;
}

/* Bring the stack in line with what the kernel's path manager says. */
static int pm_sync(struct mpt_rt *rt, uint64_t now)
{
	struct rt_pm_state ps;
	int rv;

	rt->pm_due = false;
	rt->pm_next = now + RT_PM_PERIOD;
	rv = rt_pm_read(rt->pm, &ps);
	if (rv) {
		rt->stats.pm_errors++;
		return rv;
	}
	rt->stats.pm_reads++;
	if (rt->pm_limits) {
		uint8_t ms = rt_pm_max_subflows(ps.subflows);
		uint8_t aa = ps.add_addr_accepted > 255 ? 255 : (uint8_t)ps.add_addr_accepted;

		if (rt->lim_subflows != ms || rt->lim_add_addr != aa) {
			mpt_stack_set_limits(rt->st, ms, aa);
			rt->lim_subflows = ms;
			rt->lim_add_addr = aa;
			rt->stats.pm_limits++;
		}
	}
	if (!rt->pm_eps)
		return 0;
	/* gone or moved to another address: delete */
	for (size_t e = 0; e < RT_MAX_EPS; e++) {
		const struct rt_ep *ep = &rt->eps[e];
		bool keep = false;

		if (!ep->used)
			continue;
		for (int k = 0; k < ps.neps; k++)
			if (ps.eps[k].id == ep->id && same_ip(&ps.eps[k].addr, &ep->addr))
				keep = true;
		if (!keep && !mpt_rt_del_endpoint(rt, ep->id))
			rt->stats.pm_ep_del++;
	}
	/* new ones (or ones whose address was not there yet), changed flags */
	for (int k = 0; k < ps.neps; k++) {
		const struct rt_pm_ep *pe = &ps.eps[k];
		size_t e;

		for (e = 0; e < RT_MAX_EPS; e++)
			if (rt->eps[e].used && rt->eps[e].id == pe->id)
				break;
		if (e == RT_MAX_EPS) {
			if (!mpt_rt_add_endpoint(rt, pe->id, &pe->addr, pe->flags))
				rt->stats.pm_ep_add++;
		} else if (rt->eps[e].flags != pe->flags &&
			   !mpt_rt_set_endpoint_flags(rt, pe->id, pe->flags)) {
			rt->stats.pm_ep_flags++;
		}
	}
	return 0;
}

int mpt_rt_follow_pm(struct mpt_rt *rt, bool endpoints, bool limits, char *err, size_t errlen)
{
	int rv;

	if (!endpoints && !limits)
		return 0;
	rv = rt_pm_open(&rt->pm);
	if (rv) {
		snprintf(err, errlen,
			 "the kernel's MPTCP path manager (generic netlink mptcp_pm): %s; give "
			 "--endpoint / --max-subflows instead",
			 strerror(-rv));
		return rv;
	}
	rt->pm_eps = endpoints;
	rt->pm_limits = limits;
	rv = pm_sync(rt, clock_ns());
	if (rv) {
		snprintf(err, errlen,
			 "reading the kernel's MPTCP endpoints and limits: %s; give --endpoint / "
			 "--max-subflows instead",
			 strerror(-rv));
		rt_pm_close(rt->pm);
		rt->pm = NULL;
	}
	return rv;
}

void mpt_rt_set_tick(struct mpt_rt *rt, uint64_t interval_ns, void (*fn)(void *ctx, uint64_t now),
		     void *ctx)
{
	rt->tick_fn = interval_ns ? fn : NULL;
	rt->tick_ctx = ctx;
	rt->tick_interval = interval_ns;
	rt->tick_next = clock_ns() + interval_ns;
}

int mpt_rt_step(struct mpt_rt *rt, uint64_t deadline)
{
	struct epoll_event evs[3];
	struct mpt_event ev;
	uint64_t now, wake;
	uint32_t unflushed = 0;
	int rv, nev;

	rt->stats.steps++;
	rv = mpt_rt_flush(rt);
	if (rv < 0)
		return rv;
	now = clock_ns();
	if (rt->tick_fn && now >= rt->tick_next) {
		rt->tick_fn(rt->tick_ctx, now);
		rt->tick_next += rt->tick_interval;
		if (rt->tick_next <= now) /* fell behind: skip, do not burst */
			rt->tick_next = now + rt->tick_interval;
	}
	if (rt->pm && (rt->pm_due || now >= rt->pm_next))
		pm_sync(rt, now);
	wake = mpt_stack_next_timeout(rt->st);
	if (deadline < wake)
		wake = deadline;
	if (rt->pm && rt->pm_next < wake)
		wake = rt->pm_next;
	if (rt->tick_fn && rt->tick_next < wake)
		wake = rt->tick_next;
	if (wake > now) {
		rv = arm(rt, wake);
		if (rv)
			return rv;
		nev = epoll_wait(rt->epfd, evs, 3, -1);
	} else {
		nev = epoll_wait(rt->epfd, evs, 3, 0);
	}
	if (nev < 0 && errno != EINTR)
		return -errno;
	for (int i = 0; i < nev; i++) {
		if (evs[i].data.u32 == RT_EV_TIMER) {
			uint64_t exp;

			if (read(rt->tfd, &exp, sizeof(exp)) > 0)
				rt->stats.wakeups_timer++;
			rt->armed = 0;
		} else if (evs[i].data.u32 == RT_EV_ADDR) {
			/* ENOBUFS (changes lost) is counted; the next change of an address
			 * we track still brings it in line */
			if (rt_addr_watch_read(rt->aw, addr_changed, link_changed, rt) < 0)
				rt->stats.addr_overruns++;
			rt->pm_due = true; /* an endpoint may wait for that address */
		}
	}
	for (int round = 0; round < RT_RX_ROUNDS; round++) {
		int n = rt->ops->recv(rt->io, rt->rxp, RT_BATCH);

		if (n < 0)
			return n;
		now = clock_ns();
		for (int i = 0; i < n; i++) {
			const struct mpt_io_pkt *p = &rt->rxp[i];

			if (!port_claimed(rt, dst_port(p->data, p->len))) {
				rt->stats.rx_unclaimed++;
				continue;
			}
			rt->stats.rx_datagrams++;
			if (p->csum_ok)
				mpt_stack_recv_verified(rt->st, p->data, p->len, p->path, now);
			else
				mpt_stack_recv(rt->st, p->data, p->len, p->path, now);
			unflushed += p->len;
			if (unflushed >= RT_ACK_BYTES) {
				unflushed = 0;
				rv = mpt_rt_flush(rt);
				if (rv < 0)
					return rv;
			}
		}
		if (n < RT_BATCH)
			break;
		/* answer what came in so far (ACK clocking) before reading more */
		rv = mpt_rt_flush(rt);
		if (rv < 0)
			return rv;
	}
	now = clock_ns();
	if (now >= mpt_stack_next_timeout(rt->st))
		mpt_stack_handle_expiry(rt->st, now);
	while (mpt_stack_poll_event(rt->st, &ev) == 1)
		; /* levels (mpt_poll) are what callers look at */
	return mpt_rt_flush(rt);
}

void mpt_rt_set_interrupt(struct mpt_rt *rt, volatile sig_atomic_t *flag)
{
	rt->intr = flag;
}

int mpt_rt_wait(struct mpt_rt *rt, uint32_t id, int mask, uint64_t deadline)
{
	for (;;) {
		int r = mpt_poll(rt->st, id), rv;

		if (r < 0)
			return r;
		if (r & mask)
			return r;
		if (rt->intr && *rt->intr)
			return -EINTR;
		if (clock_ns() >= deadline)
			return 0;
		rv = mpt_rt_step(rt, deadline);
		if (rv < 0)
			return rv;
	}
}

const struct mpt_rt_stats *mpt_rt_stats(const struct mpt_rt *rt)
{
	return &rt->stats;
}

const struct mpt_io_stats *mpt_rt_io_stats(const struct mpt_rt *rt)
{
	return rt->ops->stats(rt->io);
}
