/* An adversarial two-path transfer in virtual time, with an end-to-end check.
 *
 * Two stacks (mpt_sim) speak MPTCP over two paths.  A byte source decides
 * everything adversarial: the configuration (DSS checksums, SACK, timestamps,
 * congestion control, path delays and rates), a schedule of events (application
 * writes, path blackouts, the join of a second subflow, ADD_ADDR / REMOVE_ADDR,
 * path flaps, MP_PRIO changes) and each packet's fate (loss, duplication, delay
 * that reorders, payload corruption with a bad checksum, payload rewriting with a
 * fixed TCP checksum while DSS checksums are in use, turning it into a RST that
 * resets its subflow).
 *
 * The byte source is either a fuzzer's input (bytes past its end read as 0: no
 * more faults) or a seeded PRNG (the integrity runner, tests/integrity/main.c).
 *
 * The run passes when the receiver read exactly the bytes the sender wrote and saw
 * the end of the stream, or when either application was told of an error; the
 * bytes it did read must always be the sender's.  It fails (adv_sim_run returns a
 * message) on: wrong bytes delivered, EOF after too few or too many bytes, a stall
 * (nothing in flight, no timer armed, transfer unfinished), a spin (a timer due at
 * or before `now` right after the expiry ran), an output livelock (one stack emits
 * an unbounded burst at one instant) or no end by the virtual-time bound.
 */
#ifndef MPNET_ADV_SIM_H
#define MPNET_ADV_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct adv_src {
	const uint8_t *p; /* fuzzer input, or NULL for the PRNG */
	size_t n, i;
	uint64_t rng;
	/* PRNG mode: per-packet fault probabilities in 1/10000 (drawn from the seed) */
	uint32_t p_drop, p_dup, p_delay, p_corrupt, p_rewrite, p_reset;
	/* failure classes not to report (ADV_IGNORE_*), so a fuzzer can look past a
	 * known defect: a spin is then stepped over, an output livelock ends the run */
	uint32_t ignore;
};

#define ADV_IGNORE_SPIN	    0x1
#define ADV_IGNORE_LIVELOCK 0x2
#define ADV_IGNORE_STALL    0x4 /* stall and no end by the time bound */

/* "spin,livelock,stall" (e.g. from the environment) -> ADV_IGNORE_* */
uint32_t adv_ignore_parse(const char *s);

struct adv_result {
	uint64_t written, received; /* bytes the sender's application wrote / receiver read */
	bool eof, error, checksum, fallback;
	int client_err, server_err;
	uint64_t end_ns, steps, pkts;
	uint64_t drops, dups, delays, corrupts, rewrites, resets, events;
	char what[160]; /* the failure, if any */
};

void adv_src_bytes(struct adv_src *s, const uint8_t *p, size_t n);
void adv_src_seed(struct adv_src *s, uint64_t seed);

/* Run one transfer.  Returns NULL when it passed, else r->what (a one-line
 * description of the failure).  `verbose` prints the schedule to stderr. */
const char *adv_sim_run(struct adv_src *src, struct adv_result *r, bool verbose);

#endif
