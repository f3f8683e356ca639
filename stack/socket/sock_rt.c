/* The socket layer's thin shell: one runtime per process (stack/rt over the
 * namespace's addresses) run by one thread, which steps the stack and the socket
 * table and sleeps in ppoll on the runtime's epoll descriptor, a wake eventfd and the
 * table's descriptors, until the stack's next timer (at most 100 ms, so the path
 * manager's periodic re-read goes on).  Blocking calls wait in poll() on the
 * application's own descriptor. */
#include "sk.h"
#include "mpt_rt.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define RT_MAX_POLL	1024
#define RT_MAX_SLEEP_NS 100000000ull

static struct {
	struct mpt_rt *rt;
	struct mpt_sk_table *t;
	int wakefd;
	pthread_t thr;
	volatile int stop;
	bool running;
	uint64_t linger_ns;
} g = {.wakefd = -1};

/* set by the runtime thread itself, first thing: true before it makes any call */
static __thread bool on_rt_thread;

static uint64_t h_now(void *ctx)
{
	return mpt_rt_now(ctx);
}

static int h_wait(void *ctx, int fd, short events)
{
	struct pollfd p = {.fd = fd, .events = events};

	(void)ctx;
	if (poll(&p, 1, -1) < 0)
		return -errno;
	return 0;
}

static void h_wake(void *ctx)
{
	uint64_t one = 1;

	(void)ctx;
	if (write(g.wakefd, &one, sizeof(one)) < 0) {
		/* the counter is full: the thread is awake anyway */
	}
}

static int h_source(void *ctx, const struct mpt_sockaddr *dst, struct mpt_sockaddr *src)
{
	return mpt_rt_pick_source(ctx, dst, src);
}

static int h_port(void *ctx, uint16_t *port)
{
	return mpt_rt_pick_port(ctx, port);
}

static int h_claim(void *ctx, uint16_t port)
{
	return mpt_rt_claim_port(ctx, port);
}

static void *loop(void *arg)
{
	static struct pollfd pfds[RT_MAX_POLL];

	(void)arg;
	on_rt_thread = true;
	while (!g.stop) {
		uint64_t now, next;
		struct timespec ts;
		int n;

		mpt_sk_lock(g.t);
		mpt_rt_step(g.rt, 0);
		for (int i = 0; i < 8 && mpt_sk_step(g.t) > 0; i++)
			mpt_rt_flush(g.rt);
		mpt_rt_flush(g.rt);
		pfds[0] = (struct pollfd){.fd = mpt_rt_fd(g.rt), .events = POLLIN};
		pfds[1] = (struct pollfd){.fd = g.wakefd, .events = POLLIN};
		n = 2 + mpt_sk_pollfds(g.t, pfds + 2, RT_MAX_POLL - 2);
		now = mpt_rt_now(g.rt);
		next = mpt_stack_next_timeout(mpt_rt_stack(g.rt));
		mpt_sk_unlock(g.t);
		if (next <= now)
			continue;
		if (next - now > RT_MAX_SLEEP_NS)
			next = now + RT_MAX_SLEEP_NS;
		ts.tv_sec = (time_t)((next - now) / 1000000000ull);
		ts.tv_nsec = (long)((next - now) % 1000000000ull);
		if (ppoll(pfds, (nfds_t)n, &ts, NULL) > 0 && (pfds[1].revents & POLLIN)) {
			uint64_t v;

			if (read(g.wakefd, &v, sizeof(v)) < 0) {
				/* nothing to take: another wake already did */
			}
		}
	}
	return NULL;
}

int mpt_socket_start(const struct mpt_config *cfg, char *err, size_t errlen)
{
	struct mpt_socket_opts o = {.cfg = cfg};

	return mpt_socket_start_opts(&o, err, errlen);
}

bool mpt_socket_on_runtime_thread(void)
{
	return on_rt_thread;
}

int mpt_socket_start_opts(const struct mpt_socket_opts *o, char *err, size_t errlen)
{
	struct mpt_io_path paths[MPT_IO_MAX_PATHS];
	const struct mpt_config *cfg = o->cfg;
	struct mpt_sk_hooks h;
	struct mpt_config c;
	int n, rv;

	if (g.running) {
		snprintf(err, errlen, "the libmpt socket runtime is already started");
		return -EALREADY;
	}
	n = mpt_rt_discover_paths(paths, MPT_IO_MAX_PATHS);
	if (n < 0) {
		snprintf(err, errlen, "listing addresses: %s", strerror(-n));
		return n;
	}
	if (cfg) {
		c = *cfg;
	} else {
		mpt_config_default(&c);
		c.mptcp = true;
		c.sndbuf = c.rcvbuf = 4u << 20;
	}
	if (mpt_rt_open(&g.rt, &mpt_io_packet, paths, (size_t)n, &c, err, errlen))
		return -EIO;
	for (int i = 0; i < o->nendpoints; i++) {
		const struct mpt_socket_endpoint *ep = &o->endpoints[i];
		char a[64] = "?";

		rv = mpt_rt_add_endpoint(g.rt, ep->id, &ep->addr, ep->flags);
		if (!rv)
			continue;
		inet_ntop(ep->addr.family == MPT_AF_INET ? AF_INET : AF_INET6, ep->addr.ip, a,
			  sizeof(a));
		snprintf(err, errlen, "endpoint %s id %u: %s", a, ep->id,
			 rv == MPT_ENOENT ? "no interface here has that address"
					  : mpt_strerror(rv));
		rv = rv == MPT_ENOENT ? -ENOENT : -EINVAL;
		goto fail_rt;
	}
	if (c.mptcp && (!o->nendpoints || !o->own_limits)) {
		rv = mpt_rt_follow_pm(g.rt, !o->nendpoints, !o->own_limits, err, errlen);
		if (rv && rv != -ENOENT)
			goto fail_rt;
	}
	g.wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (g.wakefd < 0) {
		rv = -errno;
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		goto fail_rt;
	}
	h = (struct mpt_sk_hooks){.ctx = g.rt,
				  .now = h_now,
				  .wait = h_wait,
				  .wake = h_wake,
				  .pick_source = h_source,
				  .pick_port = h_port,
				  .claim_port = h_claim};
	rv = mpt_sk_table_new(&g.t, mpt_rt_stack(g.rt), &c, &h);
	if (rv) {
		snprintf(err, errlen, "socket table: %s", mpt_strerror(rv));
		rv = -ENOMEM;
		goto fail_fd;
	}
	g.stop = 0;
	g.linger_ns = o->linger_ns ? o->linger_ns : 2000000000ull;
	g.running = true;
	rv = -pthread_create(&g.thr, NULL, loop, NULL);
	if (rv) {
		g.running = false;
		snprintf(err, errlen, "runtime thread: %s", strerror(-rv));
		goto fail_t;
	}
	return 0;
fail_t:
	mpt_sk_table_free(g.t);
	g.t = NULL;
fail_fd:
	close(g.wakefd);
	g.wakefd = -1;
fail_rt:
	mpt_rt_close(g.rt);
	g.rt = NULL;
	return rv;
}

struct mpt_sk_table *mpt_socket_table(void)
{
	return g.running ? g.t : NULL;
}

struct mpt_rt *mpt_socket_runtime(void)
{
	return g.running ? g.rt : NULL;
}

void mpt_socket_stop(void)
{
	mpt_socket_stop_within(g.linger_ns);
}

void mpt_socket_stop_within(uint64_t linger_ns)
{
	if (!g.running)
		return;
	/* closed sockets finish first: their data and FIN handed to the stack, then
	 * acknowledged (the kernel keeps an orphaned socket sending after its process
	 * is gone; here the process is the stack) */
	for (uint64_t waited = 0; waited < linger_ns; waited += 10000000ull) {
		if (!mpt_sk_busy(g.t))
			break;
		h_wake(NULL);
		usleep(10000);
	}
	g.stop = 1;
	h_wake(NULL);
	pthread_join(g.thr, NULL);
	mpt_sk_table_free(g.t);
	mpt_rt_flush(g.rt);
	mpt_rt_close(g.rt);
	close(g.wakefd);
	g.t = NULL;
	g.rt = NULL;
	g.wakefd = -1;
	g.running = false;
}
