/* mpt-perf's latency workloads, without sockets or clocks: the write-time stamp a
 * stream chunk carries in its first PERF_STAMP_LEN bytes, and the statistics of a
 * list of samples (rr completion times, stream delays).
 *
 * The stamp keeps every byte verifiable: a chunk is the pattern (common/pattern.h)
 * at its stream offsets, with its first 16 bytes XORed with two big-endian words,
 * the sender's CLOCK_MONOTONIC write time ts and the check ts ^ mix(k) (k the
 * chunk's index).  The receiver XORs the pattern back out and takes ts only when
 * the check matches; anything else is a mismatch in the stamp.
 */
#ifndef MPNET_PERF_WL_H
#define MPNET_PERF_WL_H

#include "perf_proto.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* XOR chunk k's stamp (write time ts) into head, which holds the chunk's first
 * PERF_STAMP_LEN pattern bytes. */
void perf_stamp_put(uint8_t head[PERF_STAMP_LEN], uint64_t k, uint64_t ts);

/* Recover chunk k's write time from the received head and the pattern's bytes at
 * the same offsets.  Returns -1 with *ts set when the check holds, else the index
 * (0..15) of the first head byte found wrong (in the time word when the two words
 * disagree there: the stamp cannot tell which of the two was hit). */
int perf_stamp_get(const uint8_t rx[PERF_STAMP_LEN], const uint8_t pattern[PERF_STAMP_LEN],
		   uint64_t k, uint64_t *ts);

/* Statistics of n samples (ns).  Percentiles by nearest rank on the sorted samples:
 * pXX = sorted[ceil(XX / 100 * n) - 1]; all zero when n is 0. */
struct perf_wl_stats {
	size_t n;
	uint64_t min, p50, p95, p99, max;
	double mean;
	/* stream: chunks delayed more than stall_threshold = p50 + 2 * period */
	uint64_t stall_threshold;
	size_t stalls;
};

/* Fill st from the n samples in v (v is left unsorted).  period_ns > 0 (stream)
 * also counts the stalls.  Returns 0, or -1 when memory for sorting ran out. */
int perf_wl_stats(const uint64_t *v, size_t n, uint64_t period_ns, struct perf_wl_stats *st);

/* The chunk period of a stream: chunk bytes at rate bytes/s, in ns (>= 1). */
uint64_t perf_wl_period_ns(uint64_t rate, uint64_t chunk);

#endif
