/* The packetdrill shim's state: one libmpt stack under the socket layer, driven in
 * virtual time by packetdrill's calls (no thread, no clock).  See
 * docs/PACKETDRILL.md.
 *
 * Two packetdrill threads call in (the script's main thread: packets, sleeps, clock;
 * its system-call thread: the socket calls), so every entry takes the socket
 * table's lock around the stack.  A blocking socket call waits with the lock
 * released while the main thread keeps injecting packets and advancing the clock.
 */
#ifndef MPT_PD_H
#define MPT_PD_H

#include "mpt.h"
#include "mpt_socket.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>
#include <unistd.h>

#define PD_MAX_PATHS 8
#define PD_QUEUE     256
#define PD_PKT_MAX   2048
#define PD_MAX_FD    1024

struct pd_pkt {
	uint64_t at; /* virtual ns the stack emitted it */
	uint16_t len;
	uint8_t buf[PD_PKT_MAX];
};

struct pd {
	struct mpt_stack *st;
	struct mpt_sk_table *t;
	struct mpt_config cfg;
	uint64_t rng;
	uint64_t now; /* virtual monotonic ns */
	/* local addresses known to the stack as paths 0..npaths-1 */
	struct mpt_sockaddr paths[PD_MAX_PATHS];
	int npaths;
	/* datagrams the stack sent, oldest first (a ring) */
	struct pd_pkt *q;
	unsigned qhead, qlen;
	unsigned drops; /* emitted with a full queue */
	uint16_t next_port;
	bool ep_added[256]; /* endpoint ids given to the stack (pd_pm.c) */
	/* SO_ERROR taken from the table by poll (to raise POLLERR) and not yet read
	 * by the script, per descriptor below PD_MAX_FD (pd_sock.c) */
	int pending_err[PD_MAX_FD];
};

/* pd_clock.c: start of virtual time (ns); the stack runs until nothing is due at
 * now and every emitted datagram is queued */
#define PD_EPOCH_NS 1000000000ull
void pd_pump_locked(struct pd *p);
void pd_pump(struct pd *p);
/* advance virtual time to `to`, firing the timers due on the way */
void pd_advance_locked(struct pd *p, uint64_t to);
int pd_usleep(void *ud, useconds_t usec);
int pd_gettimeofday(void *ud, struct timeval *tv, struct timezone *tz);

/* pd_netdev.c */
int pd_netdev_send(void *ud, const void *buf, size_t count);
int pd_netdev_receive(void *ud, void *buf, size_t *count, long long *time_usecs);
/* the path of local address a (added when new); negative MPT_E* when full */
int pd_path_of(struct pd *p, const struct mpt_sockaddr *a);

/* pd_pm.c: hand the namespace's MPTCP endpoints and limits to the stack */
void pd_pm_sync_locked(struct pd *p);

/* pd_sock.c: the socket calls of struct packetdrill_interface */
struct packetdrill_interface;
void pd_sock_fill(struct packetdrill_interface *ifc);

#endif
