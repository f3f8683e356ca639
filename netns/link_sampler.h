/* Link counters over a run: every LINK_SAMPLE_NS, each link's counters per direction
 * (what `summary.json` links[] has as totals) go into DIR/link_samples.csv, which
 * metrics_run() turns into timeseries.csv rows (kinds link_*, key LINK/DIR; see
 * results/README.md).
 *
 * Rows "t_s,link,dir,kind,value", t_s since the run's t0.  Kinds: tx_bytes,
 * tx_packets, dropped, backlog_bytes (cumulative counters, except the backlog,
 * which is the queue at the sample); with the userspace emulator also drops_<cause>
 * (cumulative, one per cause it counts: queue, loss, blackhole, carrier) and
 * qdelay_mean_ns, the mean queueing delay of the packets that left the link since
 * the previous sample (no row when none left).  100 ms: a control-socket round trip
 * per link and direction costs ~0.1 ms, so ten a second stay far below the 10 ms
 * event precision the run loop keeps.
 */
#ifndef MPNET_LINK_SAMPLER_H
#define MPNET_LINK_SAMPLER_H

#include "world.h"

#include <stdint.h>
#include <stdio.h>

#define LINK_SAMPLE_NS	  (100ull * 1000000ull)
#define LINK_SAMPLES_FILE "link_samples.csv"

struct link_sampler {
	FILE *f;
	uint64_t next_ns; /* since t0: when the next sample is due */
	int nlinks;
	double *qd_count, *qd_sum; /* per link and direction: at the previous sample */
};

/* Create DIR/link_samples.csv with its header.  Returns 0 or -1 (errno set). */
int link_sampler_open(struct link_sampler *s, const char *dir, int nlinks);

/* If a sample is due at now_ns (since t0), take one of every link of w.  Returns the
 * time of the next one. */
uint64_t link_sampler_poll(struct link_sampler *s, struct world *w, uint64_t now_ns);

/* Take one now, whether due or not (the last, before teardown). */
void link_sampler_take(struct link_sampler *s, struct world *w, uint64_t now_ns);

void link_sampler_close(struct link_sampler *s);

#endif
