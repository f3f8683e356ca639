/* The receiving end of an mpt-perf stream, without the socket: checks every byte
 * against the pattern, counts, and bins arrivals into intervals.  The caller reads
 * the socket and passes each chunk with the CLOCK_MONOTONIC time it arrived, so
 * tests can drive it with made-up clocks.
 *
 * A stream workload's receiver (perf_rx_set_chunks) also takes each chunk's write
 * time out of its stamp (perf_wl.h) and keeps, per chunk that arrived whole, its
 * one-way delay: the arrival of its last byte minus its write time.  Samples can
 * also be added by the caller (rr: completion times).
 */
#ifndef MPNET_PERF_RX_H
#define MPNET_PERF_RX_H

#include "perf_proto.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct perf_rx {
	uint64_t seed;
	uint64_t interval_ns; /* 0: no intervals */
	uint64_t t0;	      /* start of the data phase (absolute ns) */
	uint64_t last_ns;     /* arrival of the latest byte (absolute ns), t0 if none */
	uint64_t bytes;
	bool mismatch;
	uint64_t first_mismatch; /* stream offset, valid when mismatch */
	bool truncated;		 /* more than PERF_MAX_INTERVALS intervals */
	struct perf_ivl *ivl;	 /* closed intervals, times relative to t0 */
	size_t n_ivl, cap_ivl;
	uint64_t cur_start; /* open interval, relative to t0 */
	uint64_t cur_bytes;
	/* stream: chunk size (0: no stamps), the current chunk's head, its write time */
	uint64_t chunk;
	uint8_t head[PERF_STAMP_LEN];
	bool have_ts;
	uint64_t ts;
	/* samples (ns): stream delays, or what perf_rx_sample added */
	uint64_t *smp;
	size_t n_smp, cap_smp;
	bool smp_truncated; /* more than PERF_MAX_WL_SAMPLES, or memory ran out */
};

/* Start a receiver for the stream with this seed; t0 is the monotonic time the
 * data phase began.  Never fails (intervals are allocated as they close). */
void perf_rx_init(struct perf_rx *rx, uint64_t seed, uint64_t interval_ns, uint64_t t0);

/* Stream workload: the stream is made of chunks of this many bytes (>=
 * PERF_STAMP_LEN), each stamped (perf_wl.h). */
void perf_rx_set_chunks(struct perf_rx *rx, uint64_t chunk);

/* Add a sample (ns).  Past PERF_MAX_WL_SAMPLES, or out of memory, the sample is
 * dropped and smp_truncated set. */
void perf_rx_sample(struct perf_rx *rx, uint64_t ns);

/* Account for len bytes that arrived at time now (>= t0): verify them (after the
 * first mismatch, bytes are only counted) and add them to the interval of now.
 * Returns 0, or -1 when memory for an interval record ran out (rx stays usable). */
int perf_rx_data(struct perf_rx *rx, const void *buf, size_t len, uint64_t now);

/* Close the open interval at the last byte's arrival.  Call once, at EOF. */
int perf_rx_finish(struct perf_rx *rx);

/* The result record describing rx; expected is the byte count the sender
 * promised, 0 in time mode.  verified = no mismatch and (expected == 0 or
 * all expected bytes arrived). */
void perf_rx_result(const struct perf_rx *rx, uint64_t expected, struct perf_res *res);

void perf_rx_free(struct perf_rx *rx);

#endif
