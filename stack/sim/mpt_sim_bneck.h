/* A shared bottleneck in virtual time: one single-path TCP flow (simulation A) and one
 * two-subflow MPTCP connection (simulation B), every data packet of the three
 * subflows through one struct mpt_sim_queue, the two simulations stepped together.
 * The "do no harm" experiment of RFC 6356 (section 2, goal 2: "Do no harm"), used by
 * tests/unit/test_cc_bottleneck.c and tests/cc_bottleneck/main.c.
 *
 * Shape (every flow: 30 ms base RTT, 1500-byte MTU, 4 MiB send and receive buffers,
 * so the windows, not the buffers, limit):
 *
 *   client --5 ms--\                                  /-- server
 *   (TCP, 1 path)   >-- 10 Mbit/s, 10 ms, 50 packets --<
 *   client --5 ms--/  (drop-tail, shared; 2 BDP)       \-- server
 *   (MPTCP, paths 0 and 1)
 *
 * ACKs come back on unshared 100 Mbit/s links of 14 ms plus up to 2 ms of jitter
 * (order kept): without it the deterministic flows lock into phase at the drop-tail
 * queue and one of them takes most losses for tens of seconds.
 *
 * With `balance` set, the MPTCP connection's path 1 goes through a bottleneck of its
 * own (same rate, delay and queue) that nothing else uses: RFC 6356 section 2, goal 3
 * ("Balance congestion: A multipath flow should move as much traffic as possible off
 * its most congested paths"), the virtual-time twin of topologies/congestion-balance.yaml
 * with one TCP flow on the shared path. */
#ifndef MPT_SIM_BNECK_H
#define MPT_SIM_BNECK_H

#include "mpt_sim.h"

#define MPT_SIM_BNECK_RATE_BPS	 10000000ull
#define MPT_SIM_BNECK_QUEUE_PKTS 50

struct bneck_result {
	int tcp_rv, mp_rv;  /* mpt_sim_xfer_result of each transfer (0: complete, intact) */
	bool tcp_ok, mp_ok; /* every byte matched, EOF seen */
	uint64_t tcp_bytes; /* received in the measured window (the second half) */
	uint64_t mp_bytes;  /* the same for the MPTCP connection */
	double tcp_mbps, mp_mbps;
	double ratio;		 /* mp_bytes / tcp_bytes */
	uint32_t mp_subflows;	 /* subflows the MPTCP connection had at the end */
	uint64_t mp_sf_bytes[2]; /* bytes each MPTCP subflow's sender had acknowledged */
	/* the same over the measured window (the second half): path 0 is the shared one */
	uint64_t mp_sf_window[2];
	double mp_shared_mbps; /* mp_sf_window[0] as Mbit/s */
	/* the senders' loss episodes over the whole run (fast recoveries, RTOs), and
	 * the MPTCP sender's reinjections (MPTcpExtMPTCPRetrans) */
	uint64_t tcp_recoveries, tcp_rtos, mp_recoveries, mp_rtos, mp_reinjected;
	uint64_t queue_drops, queue_max_len;
};

#include <stdio.h>

struct bneck_params {
	const char *mp_cc, *tcp_cc; /* congestion control of each (mpt_cc_name) */
	unsigned seconds;	    /* virtual run time; goodput over the second half */
	uint64_t seed;
	uint32_t queue_pkts; /* 0: MPT_SIM_BNECK_QUEUE_PKTS */
	FILE *trace;	     /* NULL, or a line per second: goodput and windows */
	bool one_subflow;    /* the MPTCP connection opens no second subflow (control) */
	bool balance;	     /* MPTCP path 1 through a bottleneck of its own (see above) */
};

/* Run p->seconds of virtual time; goodput over the second half; then both senders
 * stop writing and the transfers finish (at most 60 s more).  Returns 0, or a
 * negative MPT_E* when the simulations could not be set up. */
int bneck_run(const struct bneck_params *p, struct bneck_result *r);

#endif
