/* CoDel (RFC 8289), the controlled-delay AQM, as a pure object: no clock, no
 * queue of its own.  The bottleneck that owns the queue asks it about each frame
 * at the moment the frame would start service ("dequeue time"), with that time,
 * the frame's sojourn so far and the bytes still queued behind it; CoDel says
 * whether to drop it.
 *
 * Semantics are the RFC's pseudocode (section 5), with its Linux-derived restart
 * of `count` when the dropping state is re-entered soon after it was left:
 *  - a frame is "ok to drop" when the sojourn has been >= target (and more than
 *    one MTU is queued behind it) continuously for at least one interval;
 *  - the first such frame is dropped and the dropping state begins; while in it,
 *    the next drop is scheduled at drop_next = last + interval / sqrt(count);
 *  - the dropping state ends at the first frame with sojourn < target (or a
 *    queue of at most one MTU), or when the queue runs empty.
 *
 * One dequeue may drop several frames in a row (the RFC's while loop).  The
 * caller's contract: call emu_codel_judge() for the head frame at time `now`; if
 * it returns true, drop that frame and call emu_codel_judge() again for the new
 * head at the same `now`, or emu_codel_empty(now) when no frame had arrived by
 * `now`.  When it returns false, the frame is sent; the next call starts a new
 * dequeue.  Call emu_codel_empty(t) also whenever the link finishes a frame at t
 * and finds nothing queued (the RFC's dequeue of an empty queue).
 */
#ifndef MPNET_EMU_CODEL_H
#define MPNET_EMU_CODEL_H

#include <stdbool.h>
#include <stdint.h>

#define EMU_CODEL_TARGET_NS   5000000ull   /* RFC 8289's defaults: 5 ms */
#define EMU_CODEL_INTERVAL_NS 100000000ull /* and 100 ms */
#define EMU_CODEL_MTU	      1514u	   /* bytes: "one MTU" of an Ethernet frame */

struct emu_codel {
	uint64_t target_ns, interval_ns;
	uint32_t mtu;		  /* the "bytes() <= MAXPACKET" test */
	uint64_t first_above;	  /* 0: sojourn below target (or not yet an interval) */
	uint64_t drop_next;	  /* time of the next drop while dropping */
	uint32_t count;		  /* drops since entering the dropping state */
	uint32_t lastcount;	  /* count when the dropping state was last entered */
	bool dropping;		  /* in the dropping state */
	int phase;		  /* internal: where a multi-drop dequeue is */
	uint64_t drops;		  /* frames this object told the caller to drop */
	uint64_t dropping_spells; /* times the dropping state was entered */
};

/* Initialise with target and interval (0 = the RFC defaults) and the MTU in
 * bytes (0 = EMU_CODEL_MTU). */
void emu_codel_init(struct emu_codel *c, uint64_t target_ns, uint64_t interval_ns, uint32_t mtu);

/* Change target and interval in place (a topology event); the state is kept. */
void emu_codel_set(struct emu_codel *c, uint64_t target_ns, uint64_t interval_ns);

/* The head frame starts service at `now` after waiting `sojourn_ns`, with
 * `backlog_after` bytes queued behind it (arrived by `now`).  True: drop it (see
 * the contract above). */
bool emu_codel_judge(struct emu_codel *c, uint64_t now, uint64_t sojourn_ns,
		     uint64_t backlog_after);

/* The queue is empty at `now` (after a drop, or when the link went idle). */
void emu_codel_empty(struct emu_codel *c, uint64_t now);

/* The control law: t + interval / sqrt(count). */
uint64_t emu_codel_control_law(const struct emu_codel *c, uint64_t t, uint32_t count);

#endif
