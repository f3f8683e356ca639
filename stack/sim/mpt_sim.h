/* Virtual-time harness: two stacks joined by simulated links in one process, plus
 * scripted-segment helpers for driving a single stack by hand.
 *
 * Deterministic by construction: one seeded PRNG per simulation drives link loss,
 * reordering and duplication, and the stacks' random_bytes; time only moves when
 * mpt_sim_step advances it to the earliest of (each stack's next timeout, the next
 * packet arrival) -- picoquic's tls_api_one_sim_round.  Every packet a stack emits is
 * folded into a 64-bit trace hash, so two runs can be compared in one number.
 *
 * The crypto both use is OpenSSL's SHA-256 / HMAC-SHA256 (the core never links to
 * OpenSSL itself); mpt_crypto_openssl() also gives a RAND_bytes-backed version for
 * real I/O loops.
 */
#ifndef MPT_SIM_H
#define MPT_SIM_H

#include "mpt.h"
#include "wire.h"

#define MPT_SIM_MAX_PATHS 4

/* OpenSSL-backed crypto.  With rng == NULL random_bytes uses RAND_bytes; otherwise it
 * draws from *rng (xorshift64*), which must outlive the returned struct's use. */
struct mpt_crypto mpt_crypto_openssl(uint64_t *rng);

/* The PRNG used everywhere in the harness (xorshift64*). */
uint64_t mpt_sim_rand(uint64_t *state);
/* Uniform in [0, 1). */
double mpt_sim_rand01(uint64_t *state);

struct mpt_sim_link_cfg {
	uint64_t rate_bps;  /* serialisation rate; 0 = infinite */
	uint64_t delay_ns;  /* one-way propagation delay */
	double loss;	    /* random loss probability */
	uint64_t loss_mask; /* bit i: drop the i-th packet (0-based) sent on this link */
	double reorder;	    /* probability a packet is held back reorder_ns extra */
	uint64_t reorder_ns;
	double dup;	      /* probability a packet is delivered twice */
	uint32_t queue_bytes; /* drop-tail limit of the bottleneck queue; 0 = unlimited */
	/* a random extra delay in [0, jitter_ns) per packet that keeps the link's order
	 * (a packet never arrives before the one sent ahead of it): breaks the lock-step
	 * timing of deterministic flows at a drop-tail queue */
	uint64_t jitter_ns;
	/* A middlebox that rewrites payload: from packet corrupt_from on (0-based, only
	 * when corrupt_count > 0), corrupt_count packets that carry payload get one byte
	 * flipped and their TCP checksum recomputed, so only an end-to-end check above
	 * TCP (the DSS checksum) can notice. */
	uint64_t corrupt_from;
	uint32_t corrupt_count;
};

/* A queue several links share: the bottleneck behind a router that paths of several
 * connections (and simulations, stepped together by mpt_sim_step_many) cross, in the
 * style of htsim's and smoltcp's netsim queues.  A packet offered to a link that
 * points here is serialised at the queue's rate after every packet already in it
 * (from any link), dropped when `limit_pkts` packets wait (drop-tail), and arrives
 * after the queue's delay plus its own link's delay_ns (the link's own rate and
 * queue_bytes are not used).  Zero it, set the three parameters, point links'
 * `shared` at it; it must outlive them. */
#define MPT_SIM_QUEUE_MAX 4096 /* packets a shared queue can hold */

struct mpt_sim_queue {
	uint64_t rate_bps;   /* serialisation rate; 0 = infinite */
	uint64_t delay_ns;   /* propagation delay after the queue */
	uint32_t limit_pkts; /* drop-tail buffer in packets (waiting, including the one
			      * being sent); 0 = MPT_SIM_QUEUE_MAX */
	/* state */
	uint64_t busy_until;
	uint64_t depart[MPT_SIM_QUEUE_MAX]; /* departure time of each queued packet */
	uint32_t head, len;
	/* stats */
	uint64_t enqueued, dropped, bytes, max_len;
};

struct mpt_sim_pkt {
	struct mpt_sim_pkt *next;
	uint64_t at;
	uint64_t order; /* tie-break: FIFO among equal arrival times */
	uint32_t path;
	uint32_t len;
	uint8_t data[];
};

struct mpt_sim_link {
	struct mpt_sim_link_cfg cfg;
	uint64_t busy_until;
	uint64_t count; /* packets offered */
	struct mpt_sim_pkt *head;
	/* stats */
	uint64_t delivered, dropped_loss, dropped_mask, dropped_queue, duplicated, reordered;
	uint64_t corrupted;
	uint64_t bytes_delivered;
	uint64_t last_at; /* arrival time of the last packet queued (jitter keeps order) */
	/* NULL, or the shared queue this link's packets go through (see above) */
	struct mpt_sim_queue *shared;
};

struct mpt_sim {
	struct mpt_stack *ep[2];
	struct mpt_sim_link link[2][MPT_SIM_MAX_PATHS]; /* [from][path] */
	uint32_t npaths;
	int family;
	uint64_t now;
	uint64_t rng;	    /* links */
	uint64_t ep_rng[2]; /* each stack's random_bytes */
	uint64_t order;
	uint64_t trace_hash; /* FNV-1a over (time, sender, path, bytes) of every packet */
	uint64_t trace_pkts;
	uint64_t steps;
	/* a routing table for each stack's env.route_source (the path manager's source
	 * for joining an announced address): route[ep].via[q] = p + 1 sends to the
	 * peer's address on path q from local path p; 0 (the default): no answer, so
	 * the stack's subnet rule decides */
	struct mpt_sim_route {
		const struct mpt_sim *sim;
		uint8_t via[MPT_SIM_MAX_PATHS];
		uint64_t asked;
	} route[2];
	/* optional tap: called for every packet a stack emits (before the link) */
	void (*tap)(void *ctx, int from, uint32_t path, const uint8_t *pkt, size_t len,
		    uint64_t now);
	void *tap_ctx;
	/* optional fault injector, asked for every packet a link is offered (after the
	 * tap, before the link's own loss / reorder / duplication): returns
	 * MPT_SIM_FAULT_* bits; *delay_ns (0 on entry) adds to the arrival time with
	 * MPT_SIM_FAULT_DELAY.  Lets a fuzzer decide each packet's fate. */
	uint32_t (*fault)(void *ctx, int from, uint32_t path, const uint8_t *pkt, size_t len,
			  uint64_t now, uint64_t *delay_ns);
	void *fault_ctx;
	/* set by a tap or fault hook to stop: drain loops end and mpt_sim_step returns 0
	 * (a harness that caught an unbounded burst of output at one instant) */
	bool halt;
};

#define MPT_SIM_FAULT_DROP    0x01 /* lose it */
#define MPT_SIM_FAULT_DUP     0x02 /* deliver it twice */
#define MPT_SIM_FAULT_DELAY   0x04 /* hold it back *delay_ns (reordering) */
#define MPT_SIM_FAULT_REWRITE 0x08 /* flip a payload byte, fix the TCP checksum */
#define MPT_SIM_FAULT_CORRUPT 0x10 /* flip a payload byte, leave the checksum wrong */
#define MPT_SIM_FAULT_RESET   0x20 /* turn it into a bare RST (same ports, seq, ack) */

/* Create stacks ep[0] ("client") and ep[1] ("server") with `cfg` (NULL = defaults)
 * and `npaths` paths each; path p joins 10.0.p.1 (ep 0) and 10.0.p.2 (ep 1), or
 * fd00::p:1 / fd00::p:2 for MPT_AF_INET6.  A packet travels on its sender's path's
 * link and is received on the path that owns its destination address (the paths
 * meet as at a router).  Both directions of every path get
 * `link` (NULL = 100 Mbit/s, 10 ms, lossless).  Returns 0 or a negative MPT_E*. */
int mpt_sim_init(struct mpt_sim *sim, uint64_t seed, const struct mpt_config *cfg,
		 const struct mpt_config *cfg_server, int family, uint32_t npaths,
		 const struct mpt_sim_link_cfg *link);
void mpt_sim_free(struct mpt_sim *sim);

/* The address of endpoint `ep` on path `path` with `port`. */
struct mpt_sockaddr mpt_sim_addr(const struct mpt_sim *sim, int ep, uint32_t path, uint16_t port);

/* One round: drain both stacks' output into the links at `now`, then advance time to
 * the next event (timer or arrival), not beyond `until`, and process it.  Returns 1
 * if something happened, 0 if time reached `until` with nothing to do. */
int mpt_sim_step(struct mpt_sim *sim, uint64_t until);

/* mpt_sim_step over several simulations in one virtual time (they must start at the
 * same `now`): drain all, advance all to the earliest event of any, process it in
 * each.  Links of different simulations may share a queue (struct mpt_sim_queue).
 * Returns 1 if something happened, 0 if time reached `until` (or a halt). */
int mpt_sim_step_many(struct mpt_sim *const *sims, size_t n, uint64_t until);

/* Packets still in the links. */
uint64_t mpt_sim_in_flight(const struct mpt_sim *sim);

/* ---- a bulk transfer between the two endpoints ---- */

/* Byte `off` of the deterministic test stream (not periodic over small spans). */
static inline uint8_t mpt_sim_pattern(uint64_t off)
{
	uint64_t x = (off / 8 + 1) * 0x9e3779b97f4a7c15ull;

	x ^= x >> 29;
	return (uint8_t)(x >> (8 * (off % 8)));
}

struct mpt_sim_xfer {
	uint64_t bytes;	      /* client -> server */
	uint64_t deadline_ns; /* virtual time limit (absolute) */
	uint16_t port;	      /* server port; default 5001 */
	/* results */
	uint64_t sent, received;
	bool data_ok;	    /* every byte matched the pattern */
	bool eof;	    /* server saw the FIN after all bytes */
	bool client_closed; /* client saw MPT_EV_CLOSED */
	uint64_t done_ns;   /* virtual time when the server had everything */
	uint64_t first_bad; /* offset of the first wrong byte, if !data_ok */
	int client_err, server_err;
	uint32_t client_id, server_id;
	struct mpt_conn_info client_info; /* snapshot when the server got EOF */
	struct mpt_ofo_stats server_ofo;  /* the server's out-of-order queue then */
	/* the loop's own state (mpt_sim_xfer_start / _poll) */
	uint32_t lid;
	bool shut, have_server, closed_server, started;
};

/* Run: ep 0 connects on path 0 to ep 1, writes x->bytes of mpt_sim_pattern, shuts
 * down; ep 1 accepts, reads and checks every byte, closes at EOF.  Returns 0 when
 * all bytes arrived intact with EOF before the deadline, else a negative code. */
int mpt_sim_transfer(struct mpt_sim *sim, struct mpt_sim_xfer *x);

/* The same in pieces, for transfers that run side by side (mpt_sim_step_many):
 * start listens and connects (0 or a negative code); poll does the applications'
 * work at sim->now (events, writing, reading and checking) and returns 1 once the
 * transfer is over (both ends closed, or an error), else 0; the caller steps time.
 * Lowering x->bytes to x->sent ends the stream there (the client shuts down).
 * result is mpt_sim_transfer's return value. */
int mpt_sim_xfer_start(struct mpt_sim *sim, struct mpt_sim_xfer *x);
int mpt_sim_xfer_poll(struct mpt_sim *sim, struct mpt_sim_xfer *x);
int mpt_sim_xfer_result(const struct mpt_sim_xfer *x);

/* ---- scripted segments against a single stack (smoltcp send!/recv! style) ---- */
struct mpt_script {
	struct mpt_stack *st;
	uint64_t rng;
	uint64_t now;
	struct mpt_sockaddr local, remote; /* stack side / our (the script's) side */
	uint8_t pkt[65536];
	uint8_t payload[65536];
	size_t payload_len;
	int last_recv_rv;
};

/* A stack on path 0 at 10.0.0.1 (or fd00::1); the script plays 10.0.0.2:remote_port. */
int mpt_script_init(struct mpt_script *s, const struct mpt_config *cfg, int family,
		    uint16_t local_port, uint16_t remote_port);
void mpt_script_free(struct mpt_script *s);

/* Feed `seg` (ports filled in from the script's addresses when 0) to the stack at
 * s->now.  Returns mpt_stack_recv's result. */
int mpt_script_inject(struct mpt_script *s, const struct wire_tcp_repr *seg);

/* Pull the next segment the stack emits at s->now: 1 and *seg (payload copied to
 * s->payload), or 0 if there is none. */
int mpt_script_pull(struct mpt_script *s, struct wire_tcp_repr *seg);

/* Move time forward by `ns`, then run the stack's timers that are due (once). */
void mpt_script_advance(struct mpt_script *s, uint64_t ns);

#endif
