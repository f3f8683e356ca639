/* packetdrill's tun device, replaced: datagrams packetdrill injects go into the
 * stack on the path of their destination address; datagrams the stack emits come
 * back from pd_netdev_receive, stamped with the virtual time they left. */
#include "pd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* How far pd_netdev_receive runs the clock ahead to the stack's next timer while
 * packetdrill waits for a datagram (longer than any RTO backoff a script waits
 * out), and how long in real time it waits for the script's system-call thread
 * when no timer is armed. */
#define PD_MAX_AHEAD_NS	 (180ull * 1000000000u)
#define PD_IDLE_REAL_MS	 2000
#define PD_IDLE_SLEEP_NS 1000000

int pd_path_of(struct pd *p, const struct mpt_sockaddr *a)
{
	struct mpt_sockaddr l = *a;
	int rv;

	l.port = 0;
	for (int i = 0; i < p->npaths; i++)
		if (p->paths[i].family == l.family && !memcmp(p->paths[i].ip, l.ip, 16))
			return i;
	if (p->npaths == PD_MAX_PATHS)
		return MPT_ENOMEM;
	rv = mpt_stack_add_path(p->st, (uint32_t)p->npaths, &l);
	if (rv)
		return rv;
	p->paths[p->npaths] = l;
	return p->npaths++;
}

/* The destination of an IPv4 or IPv6 datagram; -1 if neither. */
static int dst_of(const uint8_t *b, size_t n, struct mpt_sockaddr *a)
{
	memset(a, 0, sizeof(*a));
	if (n >= 20 && b[0] >> 4 == 4) {
		a->family = MPT_AF_INET;
		memcpy(a->ip, b + 16, 4);
		return 0;
	}
	if (n >= 40 && b[0] >> 4 == 6) {
		a->family = MPT_AF_INET6;
		memcpy(a->ip, b + 24, 16);
		return 0;
	}
	return -1;
}

int pd_netdev_send(void *ud, const void *buf, size_t count)
{
	struct pd *p = ud;
	struct mpt_sockaddr dst;
	int path;

	if (dst_of(buf, count, &dst))
		return -1;
	mpt_sk_lock(p->t);
	path = pd_path_of(p, &dst);
	if (path >= 0) {
		/* a refused datagram (no socket, bad option) is the stack's answer, not an
		 * error of the device: the stack may have queued a reset */
		(void)mpt_stack_recv(p->st, buf, count, (uint32_t)path, p->now);
		pd_pump_locked(p);
	}
	mpt_sk_unlock(p->t);
	return path >= 0 ? 0 : -1;
}

/* Pop the oldest queued datagram into buf; false when none. */
static bool pop(struct pd *p, void *buf, size_t *count, long long *time_usecs)
{
	struct pd_pkt *s;

	if (!p->qlen)
		return false;
	s = &p->q[p->qhead];
	*count = s->len < *count ? s->len : *count;
	memcpy(buf, s->buf, *count);
	*time_usecs = (long long)(s->at / 1000u);
	p->qhead = (p->qhead + 1) % PD_QUEUE;
	p->qlen--;
	return true;
}

int pd_netdev_receive(void *ud, void *buf, size_t *count, long long *time_usecs)
{
	struct pd *p = ud;
	const struct timespec idle = {0, PD_IDLE_SLEEP_NS};

	for (int waited = 0; waited < PD_IDLE_REAL_MS; waited++) {
		uint64_t next;

		mpt_sk_lock(p->t);
		pd_pump_locked(p);
		if (pop(p, buf, count, time_usecs)) {
			mpt_sk_unlock(p->t);
			return 0;
		}
		next = mpt_stack_next_timeout(p->st);
		if (next != UINT64_MAX && next <= p->now + PD_MAX_AHEAD_NS) {
			pd_advance_locked(p, next);
			mpt_sk_unlock(p->t);
			waited = 0;
			continue;
		}
		mpt_sk_unlock(p->t);
		/* nothing due: the script's system-call thread may still be writing */
		nanosleep(&idle, NULL);
	}
	/* packetdrill retries a failed receive forever: end the run with the reason */
	fprintf(stderr, "libmpt-packetdrill: expected an outbound packet; libmpt sent none "
			"and has no timer armed\n");
	exit(1);
}
