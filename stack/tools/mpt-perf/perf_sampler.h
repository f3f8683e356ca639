/* Per-subflow counters over time: a thread that wakes every interval and reads
 * the socket's per-subflow tcp_info (one MPTCP_SUBFLOW_ADDRS + one MPTCP_TCPINFO
 * getsockopt; TCP_INFO for plain TCP or a fallen-back socket), plus how many bytes
 * the application had written (sender) or read (receiver) by then.  Rendered as
 * mpt-perf -J's "subflow_samples" and "app_intervals".
 *
 * The storage half (perf_sampler_add, perf_sampler_json) is pure, so tests can
 * feed it made-up samples; the thread half only calls it.
 */
#ifndef MPNET_PERF_SAMPLER_H
#define MPNET_PERF_SAMPLER_H

#include "perf_sockinfo.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PERF_MAX_SAMPLES (1u << 20) /* about 2.9 h at 10 ms */

/* One subflow in one sample; peer indexes perf_sampler.peer. */
struct perf_sample_sub {
	uint64_t bytes_acked, bytes_sent, bytes_retrans, bytes_received;
	uint32_t total_retrans;
	uint8_t peer;
};

struct perf_sample {
	uint64_t t_ns;	    /* CLOCK_MONOTONIC when it was taken */
	uint64_t app_bytes; /* the application's count at t_ns */
	size_t first, n;    /* subflows: sub[first .. first + n) */
};

struct perf_sampler {
	int fd;
	uint64_t interval_ns;
	bool is_mptcp;
	struct sockaddr_storage conn_local, conn_remote; /* for plain TCP / fallback */
	_Atomic uint64_t app_bytes;			 /* the caller keeps it current */
	/* (local, remote) pairs seen so far: samples refer to them by index */
	struct {
		struct sockaddr_storage local, remote;
	} peer[PERF_MAX_SUBFLOWS];
	int n_peer;
	struct perf_sample *s;
	size_t n, cap;
	struct perf_sample_sub *sub;
	size_t n_sub, cap_sub;
	bool truncated; /* PERF_MAX_SAMPLES reached, or memory ran out */
	/* the thread */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool running, stop;
};

/* Set up sp for socket fd (not yet sampling).  interval_ns 0 disables sampling;
 * local/remote are the connection's addresses, used as the one "subflow" of a
 * plain TCP or fallen-back socket. */
void perf_sampler_init(struct perf_sampler *sp, int fd, uint64_t interval_ns,
		       const struct sockaddr_storage *local, const struct sockaddr_storage *remote);

/* Take a sample now and then every interval_ns in a thread, until
 * perf_sampler_stop.  Returns 0, or -errno when the thread cannot start (then
 * there are no samples but nothing else changes). */
int perf_sampler_start(struct perf_sampler *sp);

/* Stop the thread (if running) and take one last sample.  Safe to call twice. */
void perf_sampler_stop(struct perf_sampler *sp);

/* Record one sample taken at t_ns: n subflows from sub[].  Returns 0, or -1 when
 * the sample was dropped (limit or memory; sp->truncated is set). */
int perf_sampler_add(struct perf_sampler *sp, uint64_t t_ns, uint64_t app_bytes,
		     const struct perf_subflow *sub, int n);

/* Add to obj: "subflow_samples" [{t, app_bytes, subflows: [{local, remote,
 * bytes_acked, bytes_sent, bytes_retrans, bytes_received, total_retrans}]}] and
 * "app_intervals" [{start, end, bytes}] (bytes the application wrote or read
 * between consecutive samples), times in seconds since t0_ns; and
 * "samples_truncated". */
void perf_sampler_json(const struct perf_sampler *sp, uint64_t t0_ns, json_t *obj);

void perf_sampler_free(struct perf_sampler *sp);

#endif
