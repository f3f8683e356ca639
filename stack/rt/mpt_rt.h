/* The libmpt runtime: one stack, one I/O backend, one epoll + timerfd loop.
 *
 * This is the only place that reads the clock on the stack's behalf
 * (CLOCK_MONOTONIC, the same clock mpt-perf measures with).  Each mpt_rt_step
 * flushes what the stack wants to send, sleeps in epoll until a datagram arrives,
 * the stack's next timer (a timerfd armed at mpt_stack_next_timeout, ns precision)
 * or the caller's deadline, then feeds the datagrams in batches, runs due timers and
 * flushes again.  Application events are drained and dropped: callers use mpt_poll
 * levels (mpt_rt_wait).  Crypto is OpenSSL (RAND_bytes for the secrets).
 *
 * Several processes may run stacks on the same addresses (a server and a client app
 * on one host): each hands its stack only the segments for the local ports it
 * claimed (mpt_rt_claim_port), so nobody answers another's segments with a RST.
 * Segments for unclaimed ports are dropped without an answer.
 *
 * Addresses: the paths are the namespace's addresses at open; an rtnetlink socket
 * in the same epoll set (rt_addr.h) follows them.  RTM_DELADDR of a path's address
 * -> mpt_stack_del_path (its subflows close, its endpoints go); RTM_NEWADDR of that
 * address again on the same interface -> mpt_stack_add_path with the same id and
 * the endpoints declared with mpt_rt_add_endpoint on it come back; RTM_NEWADDR of
 * a new address -> a new path (the next free id) when the backend can add one.
 *
 * Routes: the stack's path manager joins an address the peer announces from the
 * path the kernel's routing would use toward it (mpt_env.route_source): the
 * runtime asks rtnetlink (RTM_GETROUTE, as `ip route get`; rt_route.h) and maps the
 * answer's preferred source onto the path with that address, else its output
 * interface onto that interface's path.
 */
#ifndef MPT_RT_H
#define MPT_RT_H

#include "mpt.h"
#include "mpt_io.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

struct mpt_rt;

struct mpt_rt_stats {
	uint64_t steps, wakeups_timer, rx_datagrams, rx_unclaimed, tx_datagrams;
	/* address changes followed: paths removed, paths (re)added, endpoints put back
	 * with their address, netlink overruns (changes lost) */
	uint64_t addr_del, addr_add, endpoints_readded, addr_overruns;
	/* carrier lost / back on a path's interface, passed to mpt_stack_path_link */
	uint64_t link_down, link_up;
	/* the kernel's path manager followed (mpt_rt_follow_pm): reads, failed reads,
	 * endpoints added / removed / changed, limit changes */
	uint64_t pm_reads, pm_errors, pm_ep_add, pm_ep_del, pm_ep_flags, pm_limits;
	/* the path manager's route lookups (RTM_GETROUTE, rt_route.h), and those that
	 * gave no path of ours (no route, or its source and device are not ours) */
	uint64_t route_lookups, route_misses;
	/* the stack's memory, through the runtime's allocator: bytes held now, the most
	 * ever held, allocations made.  A long run whose mem_live grows is a libmpt
	 * leak; one whose RSS grows with mem_live flat is the C library's heap */
	uint64_t mem_live, mem_peak, mem_allocs;
};

/* Find the paths of the calling thread's network namespace: every IPv4 and global
 * IPv6 address on an up, non-loopback interface, ids 0, 1, ... in getifaddrs order.
 * Returns the count (may be 0) or -errno. */
int mpt_rt_discover_paths(struct mpt_io_path *paths, size_t max);

/* Open a runtime over `io` on paths[0..npaths) with the stack configuration cfg
 * (NULL: defaults).  Returns 0 and *out, or a negative code with a one-line reason
 * in err. */
int mpt_rt_open(struct mpt_rt **out, const struct mpt_io_ops *io, const struct mpt_io_path *paths,
		size_t npaths, const struct mpt_config *cfg, char *err, size_t errlen);

/* Close the backend and free the stack (without sending anything).  NULL: no-op. */
void mpt_rt_close(struct mpt_rt *rt);

struct mpt_stack *mpt_rt_stack(struct mpt_rt *rt);

/* Declare MPTCP endpoint `id` with MPT_EP_* flags on the path whose local address is
 * addr's IP (mpt_stack_add_endpoint), and remember it: if the address is deleted and
 * comes back, so does the endpoint.  Returns 0, MPT_ENOENT (no path has that
 * address now), MPT_ENOMEM (table full) or mpt_stack_add_endpoint's error. */
int mpt_rt_add_endpoint(struct mpt_rt *rt, uint8_t id, const struct mpt_sockaddr *addr,
			uint32_t flags);

/* Remove endpoint `id` (mpt_stack_del_endpoint: live connections close its subflows
 * and send REMOVE_ADDR) and forget it.  Returns 0 or MPT_ENOENT. */
int mpt_rt_del_endpoint(struct mpt_rt *rt, uint8_t id);

/* Change endpoint `id`'s flags (a backup change sends MP_PRIO).  Returns 0,
 * MPT_ENOENT or MPT_EINVAL. */
int mpt_rt_set_endpoint_flags(struct mpt_rt *rt, uint8_t id, uint32_t flags);

/* One endpoint the runtime holds (declared, or followed from the kernel). */
struct mpt_rt_endpoint {
	uint8_t id;
	uint32_t flags;
	struct mpt_sockaddr addr;
};

/* Copy at most max of the endpoints held now; returns how many there are. */
int mpt_rt_endpoints(const struct mpt_rt *rt, struct mpt_rt_endpoint *out, int max);

/* Whether the endpoints come from the kernel's path manager (mpt_rt_follow_pm). */
bool mpt_rt_follows_pm(const struct mpt_rt *rt);

/* Take the namespace's MPTCP settings from the kernel's path manager, as the
 * kernel's own MPTCP does (rt_pm.h): with `endpoints`, the endpoints of `ip mptcp
 * endpoint show` become the stack's (mpt_rt_add_endpoint; an endpoint whose
 * address is not a path yet comes when the address does); with `limits`, `ip mptcp
 * limits show` gives max_subflows (the kernel's subflows + 1) and
 * max_add_addr_accepted.  Read now and again every second and after each address
 * change: an endpoint deleted there is deleted here (mpt_rt_del_endpoint), a
 * changed one changes.  Returns 0, or -ENOENT (the kernel has no MPTCP path
 * manager) / -errno with a one-line reason in err. */
int mpt_rt_follow_pm(struct mpt_rt *rt, bool endpoints, bool limits, char *err, size_t errlen);

/* The runtime's clock (monotonic ns). */
uint64_t mpt_rt_now(const struct mpt_rt *rt);

/* Deliver segments for local port `port` to this stack.  Returns 0, MPT_ENOMEM
 * when 4096 ports are claimed and the stack uses every one of them (ports no
 * connection or listener uses any more are given back then). */
int mpt_rt_claim_port(struct mpt_rt *rt, uint16_t port);

/* A local port no one in this process uses, from 49152..65535 at random; claimed. */
int mpt_rt_pick_port(struct mpt_rt *rt, uint16_t *port);

/* The source address the kernel's routing would pick toward dst (no packet is
 * sent), which must be one of the runtime's paths.  Returns 0 or MPT_ENOENT. */
int mpt_rt_pick_source(struct mpt_rt *rt, const struct mpt_sockaddr *dst, struct mpt_sockaddr *src);

/* One round of the loop; sleeps at most until deadline (absolute, monotonic ns;
 * 0 = do not sleep).  Returns 0 or -errno from the backend / epoll. */
int mpt_rt_step(struct mpt_rt *rt, uint64_t deadline);

/* Call fn(ctx, now) from the loop about every interval_ns (between steps, never from
 * inside the stack: fn may call the mpt_* API).  interval_ns 0 or fn NULL: off. */
void mpt_rt_set_tick(struct mpt_rt *rt, uint64_t interval_ns, void (*fn)(void *ctx, uint64_t now),
		     void *ctx);

/* A flag (set by the caller's signal handler) that ends mpt_rt_wait: once it is
 * non-zero, mpt_rt_wait returns -EINTR right after the step a signal woke.  NULL:
 * none. */
void mpt_rt_set_interrupt(struct mpt_rt *rt, volatile sig_atomic_t *flag);

/* The runtime's epoll descriptor: readable when mpt_rt_step(rt, 0) has input to
 * read (datagrams, address changes), for a caller that sleeps in its own poll
 * (stack/socket/sock_rt.c; it wakes for the stack's timers itself). */
int mpt_rt_fd(const struct mpt_rt *rt);

/* Push out whatever the stack has to send now. */
int mpt_rt_flush(struct mpt_rt *rt);

/* Step until mpt_poll(id) & mask or the deadline (UINT64_MAX: none).  Returns the
 * poll mask (> 0), 0 at the deadline, MPT_ENOENT, -EINTR (mpt_rt_set_interrupt's
 * flag is set), or -errno. */
int mpt_rt_wait(struct mpt_rt *rt, uint32_t id, int mask, uint64_t deadline);

const struct mpt_rt_stats *mpt_rt_stats(const struct mpt_rt *rt);
const struct mpt_io_stats *mpt_rt_io_stats(const struct mpt_rt *rt);

#endif
