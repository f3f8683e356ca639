/* Internal: the stack object and the TCP control block.
 *
 * Layering (what MPTCP will plug into):
 *   mpt_stack   paths (id -> local address), demux by 4-tuple, listeners, a queue of
 *               stateless control segments (RSTs), application events, counters.
 *   tcb         one TCP connection == one future MPTCP subflow: its own 4-tuple and
 *               path id, sequence space, send/receive buffers, SACK scoreboard
 *               (the retransmission queue), RTT/RTO, congestion controller.
 *               Option space on every segment is budgeted (tcp_opt_budget): MSS /
 *               TS / SACK plus `ulp_opt_reserve` bytes kept for the MPTCP layer,
 *               whose kind-30 options travel opaquely in wire_tcp_opts.mptcp.
 * All entry points take `now`; nothing reads a clock.
 */
#ifndef MPT_TCP_H
#define MPT_TCP_H

#include "hystart.h"
#include "mpt.h"
#include "ring.h"
#include "seq.h"
#include "wire.h"

#define MPT_MAX_PATHS		64
#define MPT_MAX_CC		16
#define TCP_MAX_OFO		32
#define TCP_DUPTHRESH		3
/* Linux's net.ipv4.tcp_invalid_ratelimit default (500 ms) */
#define TCP_OOW_ACK_INTERVAL_NS 500000000ull
#define STACK_CTL_QUEUE		64
#define STACK_DEMUX_BUCKETS	1024 /* a power of two */

/* One sent segment in the retransmission queue (the SACK scoreboard). */
struct tcp_txseg {
	uint32_t seq, len; /* len in sequence space (data + 1 if FIN) */
	uint64_t sent_ns;
	uint8_t fin;
	uint8_t sacked;	      /* covered by a SACK block */
	uint8_t lost;	      /* RFC 6675 IsLost() / RTO: needs retransmission */
	uint8_t retrans;      /* retransmitted since marked lost (counts in pipe) */
	uint8_t ever_retrans; /* Karn: never take an RTT sample from it */
};

struct tcp_ofo {
	uint32_t left, right; /* [left, right) held out of order */
	uint32_t stamp;	      /* recency, for SACK block order (RFC 2018 4) */
};

struct listener;
struct mptcp_conn;
struct mptcp_subflow;
struct tcb;

/* The upper layer above a TCP connection (MPTCP), as Linux's tcp_ulp_ops: the engine
 * hands it the application events of a subflow (the ULP decides what the application
 * sees), asks it where a data segment must end (a DSS mapping boundary), and tells it
 * when the control block is freed. */
struct tcp_ulp_ops {
	void (*event)(struct tcb *t, enum mpt_event_type type, int err);
	uint32_t (*seg_limit)(struct tcb *t, uint32_t seq, uint32_t len);
	void (*release)(struct tcb *t);
	/* Optional: fill the congestion controller's view of the connection t belongs
	 * to (every subflow, v->self = t's index), before each call of t's controller;
	 * NULL: a connection of one. */
	void (*cc_view)(struct tcb *t, struct mpt_cc_conn *v);
};

struct tcb {
	struct mpt_stack *st;
	struct tcb *next;
	struct tcb *demux_next; /* chain in st->demux (stack.c), while demux_in */
	bool demux_in;
	uint32_t id;
	enum mpt_state state;
	int error;
	struct listener *parent;  /* passive, not yet accepted */
	struct mptcp_conn *mp;	  /* the MPTCP connection above this subflow, or NULL */
	struct mptcp_subflow *sf; /* this subflow's MPTCP state (with mp) */
	const struct tcp_ulp_ops *ulp;
	bool ulp_eof;	  /* the upper layer saw the end of the stream (DATA_FIN) */
	bool app_visible; /* active, or accepted */
	bool app_closed;  /* mpt_close called: orphan */
	bool rd_shut, wr_shut;
	bool in_accept_queue;

	struct mpt_sockaddr local, remote;
	uint32_t path;

	/* send sequence space (RFC 9293 3.3.1) */
	uint32_t iss, snd_una, snd_nxt, snd_wnd, snd_wl1, snd_wl2, max_snd_wnd;
	struct ring sndbuf;
	uint32_t sndbuf_seq; /* sequence number of sndbuf's first byte */
	bool fin_sent;
	uint32_t fin_seq;
	struct tcp_txseg *rtx;
	uint32_t rtx_cap, rtx_head, rtx_len;
	uint32_t rtx_bytes; /* sum of rtx[].len */
	/* Some rtx entry may be SACKed, lost or retransmitted.  While false the
	 * scoreboard is plain (pipe == rtx_bytes, nothing to retransmit) and the
	 * per-segment scans are skipped. */
	bool sb_dirty;

	/* receive sequence space */
	uint32_t irs, rcv_nxt, rcv_adv, last_ack_sent;
	struct ring rcvbuf; /* in-order unread bytes, then room for out-of-order data */
	struct tcp_ofo ofo[TCP_MAX_OFO];
	uint32_t n_ofo, ofo_stamp;
	bool fin_rcvd, rcv_fin_pending;
	uint64_t last_oow_ack_at; /* our last reply to an out-of-window pure ACK (0: none) */
	uint64_t last_rcv_at;	  /* when the last segment came in (0: none yet) */
	uint32_t rcv_fin_seq;

	/* negotiated options */
	bool ws_ok, sack_ok, ts_ok;
	uint8_t snd_wscale, rcv_wscale;
	uint32_t peer_mss;	  /* MSS the peer announced (536 / 1220 default) */
	uint32_t rcv_mss;	  /* MSS we announced */
	uint32_t snd_mss;	  /* payload bytes per data segment */
	uint32_t ulp_opt_reserve; /* option bytes kept for the MPTCP layer */
	uint32_t ulp_ack_reserve; /* the same on segments without payload (<= the above) */
	uint32_t ts_recent, ts_offset;
	uint64_t ts_recent_age;

	/* timers (0 = disarmed) */
	uint64_t rto_at, tlp_at, delack_at, persist_at, tw_at;
	/* when a segment with data last left (0: never), and the idle period whose
	 * restart (tcp_idle_restart) was applied already: that time */
	uint64_t last_data_tx_at, idle_restarted_from;

	/* RTT (RFC 6298) */
	uint64_t srtt, rttvar, rto, min_rtt;
	bool rtt_valid;
	uint32_t backoff, persist_backoff, syn_retries;

	/* loss recovery (RFC 6675 / RFC 6582) */
	bool in_recovery, in_loss, tlp_out;
	bool rto_slow_start; /* since an RTO, until cwnd is back at ssthresh */
	/* D-SACK (RFC 2883): a duplicate range to report first in the next ACK */
	bool dsack_pending;
	uint32_t dsack_left, dsack_right;
	/* Undo (RFC 3708 with D-SACK, as Linux): cwnd / ssthresh before the episode's
	 * first reduction, its start (SND.UNA then), and how many of its
	 * retransmissions no D-SACK has shown to be spurious yet. */
	bool undo_valid, undo_closing; /* closing: recovery over, D-SACKs until undo_end */
	uint32_t undo_end;
	uint32_t undo_cwnd, undo_ssthresh, undo_marker, undo_retrans, undo_dsacks;
	bool force_rtx;	   /* retransmit the first lost segment regardless of pipe */
	bool zero_wnd_adv; /* our last advertised window was zero */
	uint32_t recovery_point, dupacks;

	struct mpt_cc cc;
	const struct mpt_cc_ops *ccops;
	struct hystart hs; /* RFC 9406, in the initial slow start */
	uint64_t ack_rtt;  /* the RTT sample of the ACK being processed, 0 = none */

	/* output requests */
	bool syn_pending, rst_pending, ack_now, probe_pending, tlp_pending;
	/* rst_pending, closed because its link lost carrier: the RST waits for the
	 * carrier (or this time, then is dropped) instead of being lost with it */
	uint64_t rst_hold_until;
	bool head_probe_pending; /* tcp_probe_head: resend SND.UNA's segment once */
	bool keepalive_pending;	 /* tcp_keepalive: one <SEQ=SND.UNA-1><CTL=ACK> */
	uint32_t segs_unacked;	 /* full segments received since our last ACK */

	/* app notification state */
	bool readable_ev, want_writable;

	/* stats */
	uint64_t bytes_sent, bytes_acked, bytes_received, bytes_retrans;
	uint64_t segs_out, segs_in, retrans_segs;
};

struct listener {
	struct listener *next;
	uint32_t id;
	struct mpt_sockaddr local;
	uint32_t backlog;
	struct tcb **queue; /* established, waiting for accept */
	uint32_t qlen;
	uint32_t embryonic;
	bool tcp_only; /* mpt_listen_tcp: never answers MP_CAPABLE */
};

struct ctl_seg {
	uint32_t path;
	struct wire_ip_repr ip;
	struct wire_tcp_repr tcp;
};

struct mpt_stack {
	struct mpt_env env;
	struct mpt_config cfg;
	struct mpt_counters ctr;
	uint64_t transitions[MPT_NSTATES][MPT_NSTATES];
	const struct mpt_cc_ops *ccs[MPT_MAX_CC];
	uint32_t ncc;
	const struct mpt_cc_ops *cc_default;
	uint32_t sched_arg; /* cfg.scheduler's ":ARG" (0: none); cfg.scheduler is the name */
	uint8_t isn_secret[32];

	struct {
		bool used;
		bool down; /* its link has no carrier (mpt_stack_path_link) */
		struct mpt_sockaddr local;
	} paths[MPT_MAX_PATHS];
	struct {
		bool used;
		uint32_t path;
		uint32_t flags; /* MPT_EP_* */
	} endpoints[256];	/* by endpoint id; 0 unused */
	int ep_max_id;		/* highest id ever used (bounds the walks) */

	struct tcb *conns;
	/* 4-tuple -> tcb, a cache in front of the `conns` list: filled by lookups that
	 * fell back to the list, emptied of a tcb by tcp_free (stack_demux_forget) */
	struct tcb *demux[STACK_DEMUX_BUCKETS];
	bool reap_hint; /* some connection may be ready to free (reap) */
	struct listener *listeners;
	uint32_t next_id;
	uint16_t next_port;
	uint16_t ip_ident;

	struct mpt_event *ev;
	uint32_t ev_cap, ev_head, ev_len;

	struct ctl_seg ctl[STACK_CTL_QUEUE];
	uint32_t ctl_head, ctl_len;

	uint64_t chal_epoch;
	uint32_t chal_count;

	uint32_t rr;	 /* round-robin cursor over connections (by id) */
	uint32_t mp_gen; /* visit mark for walks over MPTCP connections */
};

/* ---- stack services used by tcp.c ---- */
void *stack_calloc(struct mpt_stack *st, size_t n, size_t size);
void stack_free(struct mpt_stack *st, void *p);
void stack_event(struct mpt_stack *st, enum mpt_event_type type, uint32_t id, int err);
/* Queue a RST answering `seg` received on `path` (RFC 9293 3.10.7.1 form). */
void stack_reply_rst(struct mpt_stack *st, uint32_t path, const struct wire_ip_repr *ip,
		     const struct wire_tcp_repr *seg);
/* RFC 5961 7: rate limit.  Returns true if a challenge ACK may be sent now. */
bool stack_challenge_ok(struct mpt_stack *st, uint64_t now);
void stack_log(struct mpt_stack *st, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void stack_listener_established(struct mpt_stack *st, struct tcb *t);
void stack_listener_unlink(struct mpt_stack *st, struct tcb *t);
/* A fresh control block from `local` (port 0: an ephemeral one) to `remote` leaving
 * on `path`, with an id; not yet linked.  Returns 0, MPT_EADDRINUSE or MPT_ENOMEM. */
int stack_tcb_new_active(struct mpt_stack *st, const struct mpt_sockaddr *local,
			 const struct mpt_sockaddr *remote, uint32_t path, struct tcb **out);
/* Put t on the connection list (demux, timers, output). */
void stack_link(struct mpt_stack *st, struct tcb *t);
/* The path id whose address is `local`'s IP, or MPT_ENOENT. */
int stack_path_for(const struct mpt_stack *st, const struct mpt_sockaddr *local);
/* Drop t from the demultiplexing cache (tcp_free calls it). */
void stack_demux_forget(struct mpt_stack *st, struct tcb *t);

/* ---- TCP engine (tcp.c) ---- */
/* The one state setter: checks tcp_transition_ok, counts, logs.  Returns 0 or
 * MPT_ESTATE (the transition is refused and counted). */
int tcp_set_state(struct tcb *t, enum mpt_state to);
bool tcp_transition_ok(enum mpt_state from, enum mpt_state to);

struct tcb *tcp_new(struct mpt_stack *st);
void tcp_free(struct tcb *t);
int tcp_open_active(struct tcb *t, uint64_t now);
/* A SYN reached a listener: t is fresh (local/remote/path set). */
int tcp_open_passive(struct tcb *t, const struct wire_tcp_repr *syn, uint64_t now);
void tcp_input(struct tcb *t, const struct wire_ip_repr *ip, const struct wire_tcp_repr *seg,
	       uint64_t now);
/* Fill seg with the next segment due (its payload points into the send buffer, or into
 * scratch, >= snd_mss bytes, when it wraps there).
 * Returns 1 if there is one, 0 otherwise. */
int tcp_output(struct tcb *t, uint64_t now, uint8_t *scratch, struct wire_tcp_repr *seg);
uint64_t tcp_next_timeout(const struct tcb *t);
void tcp_on_timer(struct tcb *t, uint64_t now);
/* Resend the earliest unacknowledged segment once, on the next output, outside the
 * congestion window and without touching the retransmission timer or its backoff: a
 * probe of a path that may have come back (the MPTCP layer probes stale subflows). */
/* Ask the peer whether this connection still exists: one keep-alive segment (RFC
 * 1122 4.2.3.6, "SEG.SEQ = SND.NXT-1" in its Linux form SND.UNA-1, no data), which
 * a live peer answers with an ACK and a peer without the connection with a RST
 * (RFC 9293 3.10.7.1).  Only in ESTABLISHED or CLOSE_WAIT. */
void tcp_keepalive(struct tcb *t);
void tcp_probe_head(struct tcb *t);
/* Before new data goes on a connection with nothing in flight: if no data left for
 * longer than the RTO, cut cwnd to the restart window (RFC 5681 4.1, Linux's
 * tcp_cwnd_restart; counted cwnd_restart).  Once per idle period; the MPTCP
 * scheduler calls it so that its view of each subflow's room is the restarted one. */
void tcp_idle_restart(struct tcb *t, uint64_t now);
ptrdiff_t tcp_app_send(struct tcb *t, const uint8_t *buf, size_t len, uint64_t now);
ptrdiff_t tcp_app_recv(struct tcb *t, uint8_t *buf, size_t len, uint64_t now);
int tcp_app_shutdown(struct tcb *t, int how, uint64_t now);
void tcp_app_close(struct tcb *t, uint64_t now);
void tcp_app_abort(struct tcb *t, uint64_t now);
int tcp_poll(const struct tcb *t);
void tcp_info(const struct tcb *t, struct mpt_conn_info *info);
uint32_t tcp_pipe(const struct tcb *t);
/* One subflow's entry in a congestion controller's view (struct mpt_cc_conn): its
 * window, RTTs, in flight, state and controller; usable = established (the MPTCP
 * layer refines usable, backup and stale). */
void tcp_cc_sf(const struct tcb *t, struct mpt_cc_sf *o);
/* Set the option bytes kept for the MPTCP layer and recompute the send MSS. */
void tcp_set_ulp_reserve(struct tcb *t, uint32_t bytes);
/* The upper layer reached the end of the peer's stream (DATA_FIN) without a TCP
 * FIN: recv returns 0 once the buffer is drained, PEER_CLOSED is raised. */
void tcp_ulp_eof(struct tcb *t);
/* Append bytes to the subflow's send buffer for the upper layer (no application
 * checks).  Returns the bytes taken (bounded by the free space; 0 once the write
 * side is shut: nothing may follow the FIN). */
uint32_t tcp_ulp_push(struct tcb *t, const uint8_t *buf, uint32_t len);
/* Free bytes in the send buffer, and bytes queued but not yet sent. */
uint32_t tcp_sndbuf_room(const struct tcb *t);
uint32_t tcp_unsent(const struct tcb *t);
/* RFC 6528: ISN = M + F(localip, localport, remoteip, remoteport, secretkey). */
int tcp_isn(struct mpt_stack *st, const struct mpt_sockaddr *l, const struct mpt_sockaddr *r,
	    uint64_t now, uint32_t *isn);

#endif
