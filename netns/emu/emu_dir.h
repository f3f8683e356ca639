/* One direction of an emulated link, as a pure object (sans-I/O).
 *
 * Nothing here reads a clock, opens a file or makes a syscall: every entry point
 * takes `now` (monotonic nanoseconds, any epoch, never decreasing between calls)
 * and the object says when it next has work (emu_dir_next_departure).  The
 * forwarding loop (emu_io.c) and the unit tests (virtual time) drive it the same
 * way.
 *
 * Pipeline of one frame (see docs/EMULATOR.md for the reasoning):
 *
 *   enqueue:  blackhole? -> drop(blackhole)
 *             duplicate? (netem: count = 1 + dup; a loss removes one copy)
 *             loss model (random+corr, Gilbert-Elliott, 4-state)  -> drop(loss)
 *             corrupt? (flip one random bit after the L4 header)
 *             bottleneck queue full? -> drop(queue)
 *   bottleneck: FIFO served by the rate (wire bytes * 8 / rate) or by a mahimahi
 *             trace (1500-byte delivery opportunities); unlimited: served at once.
 *             With CoDel (p->codel), the head frame is judged when its service
 *             would start (RFC 8289's dequeue) -> drop(codel).
 *   delay line: departure = end of service + delay (+ jitter, distribution,
 *             correlation), never before its predecessor's departure (in order,
 *             like netem with a rate) -- except a packet chosen by the reorder
 *             model (netem: gap N / P%), which leaves right at the end of service.
 *
 * Parameters are the topology's own `struct topo_dir`.  Probabilities are
 * fractions; the PRNG is xoshiro256** seeded from (seed, link index, direction).
 */
#ifndef MPNET_EMU_DIR_H
#define MPNET_EMU_DIR_H

#include "topology.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EMU_TRACE_MTU	  1500	       /* bytes per mahimahi delivery opportunity */
#define EMU_DEFAULT_LIMIT 1000	       /* packets in the bottleneck queue when queue = 0 */
#define EMU_MAX_BUFFERED  (256u << 20) /* bytes held per direction, all stages */
#define EMU_HIST_SUB	  32	       /* histogram sub-buckets per power of two (~3 %) */
#define EMU_HIST_BUCKETS  (40 * EMU_HIST_SUB)

enum emu_drop_cause {
	EMU_DROP_QUEUE = 0, /* bottleneck queue full (drop-tail) */
	EMU_DROP_LOSS,	    /* loss model */
	EMU_DROP_BLACKHOLE, /* blackhole on */
	EMU_DROP_CARRIER,   /* the interface was down: flushed or could not be sent */
	EMU_DROP_CODEL,	    /* CoDel AQM (queue: { codel: ... }), at dequeue time */
	EMU_DROP_NCAUSES,
};

/* What enqueue did with one frame (bits). */
enum {
	EMU_V_QUEUED = 1u << 0,	    /* at least one copy is in the emulator */
	EMU_V_DROPPED = 1u << 1,    /* a copy was dropped (see the counters for the cause) */
	EMU_V_DUPLICATED = 1u << 2, /* two copies were made */
	EMU_V_CORRUPTED = 1u << 3,  /* a bit was flipped (a copy is still delivered) */
};

/* A mahimahi trace: delivery opportunities at ms[i] milliseconds, repeating
 * with period ms[n - 1] (> 0). */
struct emu_trace {
	uint32_t *ms;
	size_t n;
};

/* A frame held by the emulator.  data[0 .. len) is what the caller handed in;
 * data[l2_off ..] is the Ethernet frame. */
struct emu_pkt {
	struct emu_pkt *next; /* internal */
	uint64_t arrive_ns;   /* when it was enqueued */
	uint64_t served_ns;   /* when the bottleneck finished sending it */
	uint64_t depart_ns;   /* when it leaves the link */
	uint32_t len;
	uint32_t l2_off;
	uint32_t wire_len; /* bytes the link carries (see emu_dir_enqueue) */
	uint32_t flags;	   /* EMU_PKT_* */
	uint8_t data[];
};

enum {
	EMU_PKT_REORDERED = 1u << 0, /* skipped the delay line */
	EMU_PKT_DUPLICATE = 1u << 1, /* the second copy */
	EMU_PKT_CORRUPTED = 1u << 2,
	EMU_PKT_REWRITE = 1u << 3, /* rewrite its TCP payload if it has one (emu_rewrite) */
};

struct emu_hist {
	uint64_t count, max_ns, sum_ns;
	uint64_t bucket[EMU_HIST_BUCKETS];
};

struct emu_dir_stats {
	uint64_t pkts_in, bytes_in;   /* frames handed to enqueue (Ethernet bytes) */
	uint64_t pkts_out, bytes_out; /* frames handed back by dequeue */
	uint64_t drops[EMU_DROP_NCAUSES];
	uint64_t duplicated, corrupted, reordered;
	uint64_t rewritten; /* TCP payloads rewritten (params.rewrite counts down) */
	uint64_t queued_pkts, queued_bytes; /* now, in the bottleneck */
	uint64_t held_pkts;		    /* now, all stages */
	struct emu_hist qdelay;		    /* bottleneck sojourn: served - arrive */
};

struct emu_dir;

/* Create one direction.  `p` gives the parameters (all fields are read; `set` is
 * ignored here), `trace` the parsed trace when p->trace is non-empty (copied; may
 * be NULL otherwise).  The PRNG is seeded from (seed, link_index, dir).  `now` is
 * the trace's time origin.  Returns NULL on allocation failure or an invalid
 * parameter (a probability outside [0, 1], a trace without opportunities). */
struct emu_dir *emu_dir_new(const struct topo_dir *p, const struct emu_trace *trace, uint64_t seed,
			    int link_index, int dir, uint64_t now);
void emu_dir_free(struct emu_dir *d);

/* Change the fields in p->set (TOPO_F_*); others keep their value.  Frames in the
 * emulator are kept: a new delay applies to frames leaving the bottleneck from
 * now on (and never reorders), a new rate to the frame being served and the
 * rest of the queue.  With TOPO_F_TRACE, `trace` replaces the trace (NULL with an
 * empty p->trace removes it).  Returns 0 or -EINVAL (nothing changed then). */
int emu_dir_set(struct emu_dir *d, const struct topo_dir *p, const struct emu_trace *trace,
		uint64_t now);

/* The current parameters. */
const struct topo_dir *emu_dir_params(const struct emu_dir *d);

void emu_dir_set_blackhole(struct emu_dir *d, bool on);

/* Hand one frame to the emulator; it is copied.  buf[l2_off ..] must be an
 * Ethernet frame (the bytes before it are carried opaquely, e.g. a virtio-net
 * header).  `wire_len` is what the frame costs on the link (for the rate and byte
 * limits; 0 = len - l2_off): the Ethernet header and payload, without FCS,
 * preamble and inter-frame gap, summed over the segments of a GSO frame.
 * Returns EMU_V_* bits, or -ENOMEM (nothing queued, counted as a queue drop). */
int emu_dir_enqueue(struct emu_dir *d, const void *buf, size_t len, size_t l2_off,
		    uint32_t wire_len, uint64_t now);

/* The earliest time something happens inside (a frame leaves the bottleneck or
 * the link, a trace opportunity with a frame waiting); UINT64_MAX when empty. */
uint64_t emu_dir_next_event(struct emu_dir *d, uint64_t now);

/* The earliest departure time among frames already past the bottleneck, or the
 * next internal event, whichever is first (a safe wake-up time). */
#define emu_dir_next_departure emu_dir_next_event

/* The next frame whose departure time is <= now, or NULL.  The caller owns it
 * (emu_pkt_free).  pkt->depart_ns is the exact emulated departure time. */
struct emu_pkt *emu_dir_dequeue(struct emu_dir *d, uint64_t now);
void emu_pkt_free(struct emu_pkt *p);

/* Drop everything held (bottleneck and delay line), counted under `cause`. */
void emu_dir_flush(struct emu_dir *d, enum emu_drop_cause cause);

/* Count one frame dropped by the caller after dequeue (e.g. send failed). */
void emu_dir_count_drop(struct emu_dir *d, enum emu_drop_cause cause);

const struct emu_dir_stats *emu_dir_stats(const struct emu_dir *d);

/* Percentile q (0..1) of a histogram in ns (upper edge of the bucket, capped at
 * the maximum seen); 0 when empty. */
uint64_t emu_hist_percentile(const struct emu_hist *h, double q);
void emu_hist_add(struct emu_hist *h, uint64_t ns);

const char *emu_drop_cause_name(enum emu_drop_cause c);

/* The jitter distributions as netem's tables define them: the value for a
 * uniform u in (0, 1), in units of the jitter (uniform: 2u - 1; normal: the
 * standard normal quantile; pareto and paretonormal: iproute2's construction);
 * clamped to +-32767/8192 like the int16 tables. */
double emu_dist_quantile(enum topo_jitter_dist dist, double u);

/* The byte offset of the payload after the L2/L3/L4 headers of an Ethernet frame
 * (VLAN tags, IPv4/IPv6, TCP/UDP); *is_l4 says whether an L4 header was found
 * (else the offset is past the L3 header, or the L2 header when not IP, 0 when
 * shorter than an Ethernet header).  Used for corruption and for the wire size of
 * GSO frames. */
size_t emu_frame_payload_off(const uint8_t *frame, size_t len, bool *is_l4);

/* PRNG, exposed for tests and the netem probe's scratch names. */
struct emu_rng {
	uint64_t s[4];
};
void emu_rng_seed(struct emu_rng *r, uint64_t seed, int link_index, int dir);
uint64_t emu_rng_next(struct emu_rng *r);
double emu_rng_double(struct emu_rng *r); /* [0, 1) */

#endif
