/* One mpt-perf connection, whichever stack carries it: a kernel socket (fd) or a
 * libmpt connection driven by the runtime (stack/rt).  main.c's transfer code
 * (sender, receiver, result record) is written once against these calls.
 */
#ifndef MPNET_PERF_CONN_H
#define MPNET_PERF_CONN_H

#include "mpt_rt.h"
#include "perf_args.h"
#include "perf_sockinfo.h"

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct perf_conn {
	int fd;		      /* kernel stacks; -1 for libmpt */
	struct mpt_rt *rt;    /* libmpt; NULL for kernel stacks */
	uint32_t id;	      /* libmpt connection */
	uint64_t rd_deadline; /* libmpt: perf_conn_read gives -ETIMEDOUT after this; 0 none */
	/* libmpt, time mode: until this deadline, writes wait while more than
	 * PERF_MPT_MAX_UNSENT bytes are written but not yet sent; 0 = no bound */
	uint64_t wr_bound_until;
	uint64_t written; /* libmpt: bytes mpt_send took */
};

/* The unsent backlog a bounded libmpt writer keeps at most (the kernel stacks'
 * TCP_NOTSENT_LOWAT in main.c) */
#define PERF_MPT_MAX_UNSENT (128 * 1024)

/* Read up to len bytes: > 0, 0 at EOF, or -errno. */
ptrdiff_t perf_conn_read(struct perf_conn *c, void *buf, size_t len);

/* Write all of buf.  Returns 0 or -errno. */
int perf_conn_write_all(struct perf_conn *c, const void *buf, size_t len);

/* The same, but libmpt's runtime does not step after it: the caller writes more at
 * once and ends with perf_conn_write_all, which sends what both wrote (a kernel
 * socket: write(2) as perf_conn_write_all; its autocorking does the same). */
int perf_conn_write_corked(struct perf_conn *c, const void *buf, size_t len);

/* shutdown(SHUT_WR).  Returns 0 or -errno. */
int perf_conn_shutdown_wr(struct perf_conn *c);

/* Wait up to timeout_ns for input.  Returns true when readable (or at EOF/error). */
bool perf_conn_wait_readable(struct perf_conn *c, uint64_t timeout_ns);

/* True while sent bytes are not yet acknowledged (SIOCOUTQ > 0 for the kernel). */
bool perf_conn_unacked(struct perf_conn *c);

/* The connection's counters in the shape perf_sockinfo_json prints; a libmpt
 * connection shows as plain TCP ("tcp"). */
void perf_conn_sockinfo(struct perf_conn *c, struct perf_sockinfo *si);

/* Local and remote addresses. */
/* The congestion control libmpt runs for these options (--congestion or cubic). */
const char *perf_mpt_congestion(const struct perf_opts *o);
/* The congestion control this connection's sends use ("" when unknown). */
void perf_conn_congestion(const struct perf_conn *c, const struct perf_opts *o, char *out,
			  size_t len);
void perf_conn_addrs(struct perf_conn *c, struct sockaddr_storage *local,
		     struct sockaddr_storage *remote);

/* libmpt: the connection's subflows as the kernel's MPTCP_TCPINFO would give them
 * (first subflow first).  Returns how many were filled, or -1 for kernel stacks. */
int perf_conn_subflows(struct perf_conn *c, struct perf_subflow *sub, int max);

/* Abort: a RST now (kernel: SO_LINGER 0 then close, which Linux MPTCP turns into
 * MP_FASTCLOSE; libmpt: mpt_abort, MP_FASTCLOSE on every subflow's RST). */
void perf_conn_abort(struct perf_conn *c);

/* Close.  libmpt: after our FIN, keep the loop running until the close handshake
 * is done (TIME_WAIT or CLOSED) or a few seconds passed, then release the id. */
void perf_conn_close(struct perf_conn *c);

/* Set (from a SIGTERM / SIGINT handler, nothing else there) when the run must stop:
 * waits return -EINTR soon after, so the caller reports what it measured so far. */
extern volatile sig_atomic_t perf_interrupted;

/* ---- libmpt set-up ---- */

/* Open the runtime on every address of this namespace (-B: only that one), with
 * --max-subflows, and declare the --endpoint list on the paths with those addresses
 * (mpt_rt_add_endpoint, so they survive an address removed and restored).  Without
 * --endpoint (or --max-subflows), the namespace's endpoints (limits) come from the
 * kernel's path manager and follow its changes (mpt_rt_follow_pm).  Returns 0 or -1
 * with a reason in err (*rt may then be open: mpt_rt_close it). */
int perf_mpt_open(const struct perf_opts *o, struct mpt_rt **rt, char *err, size_t errlen);

/* libmpt's receive buffer for these options, in bytes (--rcvbuf, or 4 MiB). */
uint32_t perf_mpt_rcvbuf(const struct perf_opts *o);

/* Connect to o->host:o->port and wait for the handshake.  Returns 0 or -1 with err. */
int perf_mpt_connect(struct mpt_rt *rt, const struct perf_opts *o, struct perf_conn *c, char *err,
		     size_t errlen);

/* Listen on o->port (every address, or -B).  Fills lids (up to 2: IPv4, IPv6).
 * Returns the number of listeners, or -1 with err. */
int perf_mpt_listen(struct mpt_rt *rt, const struct perf_opts *o, uint32_t lids[2], char *err,
		    size_t errlen);

/* Wait for and accept one connection on any of the listeners.  Returns 0 or -1. */
int perf_mpt_accept(struct mpt_rt *rt, const uint32_t *lids, int n, struct perf_conn *c);

/* The stack's counters in nstat text form (plus the runtime's own) into buf. */
void perf_mpt_counters_text(struct mpt_rt *rt, char *buf, size_t cap);

/* The same as a JSON object {name: value} (non-zero counters). */
json_t *perf_mpt_counters_json(struct mpt_rt *rt);

#endif
