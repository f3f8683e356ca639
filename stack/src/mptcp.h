/* MPTCP connection level (RFC 8684) above several TCP subflows.
 *
 * Shape (as Linux's msk / subflow split):
 *   mptcp_conn     what the application holds (its id is the first subflow's id):
 *                  the data-level send buffer (bytes from the peer's DATA_ACK on), the
 *                  data-level receive buffer with reassembly across subflows, keys,
 *                  tokens, the path manager's state and the list of subflows.
 *   mptcp_subflow  per TCP control block: MP_JOIN state, backup flags, and the DSS
 *                  mappings of the bytes it carries (tx) and has received (rx).
 * Data moves in two steps each way.  Sending: the application writes into the
 * connection; the scheduler (mptcp_sched.c) copies chunks into subflow send buffers,
 * recording subflow sequence -> data sequence maps; every data segment carries the
 * DSS mapping of its own bytes (a segment never crosses a map boundary: the
 * seg_limit hook).  Receiving: a subflow's in-order bytes are moved, map by map, to
 * their data-level place; duplicates (reinjected data) are dropped there.
 * Fallback (RFC 8684 3.7) keeps both steps with an identity map on the first subflow
 * and no options: at the handshake, after unanswered MP_CAPABLE SYNs, or mid-way on a
 * single subflow after a DSS checksum failure (MP_FAIL, then the infinite mapping).
 *
 * Hooks, called by stack.c around the TCP engine:
 *   mptcp_input_pre    before tcp_input: parse kind-30 options, handshakes (MP_CAPABLE,
 *                      MP_JOIN), DSS mappings and DATA_ACKs, signals;
 *   mptcp_input_post   after tcp_input: move in-order subflow bytes to the data level;
 *   mptcp_output       after tcp_output: this segment's MPTCP options;
 *   mptcp_tick         before output: path manager and scheduler;
 * plus the tcp_ulp_ops (events, seg_limit, release) the engine calls.
 */
#ifndef MPT_MPTCP_H
#define MPT_MPTCP_H

#include "mptcp_opt.h"
#include "mptcp_pathmgr.h"
#include "mptcp_sched.h"
#include "tcp.h"

/* Option bytes kept on every segment: DSS with an 8-octet DATA_ACK and an 8-octet
 * DSN mapping (4 + 8 + 8 + 4 + 2 = 26, padded to 28). */
#define MPTCP_OPT_RESERVE   28
/* On a pure ACK: DSS with an 8-octet DATA_ACK (4 + 8).  With timestamps that leaves
 * room for one SACK block, as on Linux; a DATA_FIN or signal that does not fit
 * waits for the next segment. */
#define MPTCP_ACK_RESERVE   12
#define MPTCP_MAX_SUBFLOWS  16 /* hard cap; cfg.max_subflows is the limit used */
#define MPTCP_OFO_MAX	    1024
#define MPTCP_MAX_RADDRS    8
#define MPTCP_REINJ_MAX	    32
#define MPTCP_PM_EVQ	    16 /* path manager events waiting for the next tick */
#define MPTCP_STALE_RTOS    1  /* an RTO without progress: stale */
#define MPTCP_STALE_MIN_NS  (200ull * 1000000ull)   /* least stall before stale */
#define MPTCP_RST_HOLD_NS   (60ull * 1000000000ull) /* a carrier-loss RST waits this long */
#define MPTCP_IDLE_PROBE_NS (200ull * 1000000ull)   /* silent this long: probed on a join */
#define MPTCP_ADD_ADDR_RTX  3			    /* "at most 3 more times" */
#define MPTCP_ADD_ADDR_TIMO                                          \
	(2ull * 1000000000ull) /* Linux's add_addr_timeout is 120 s; \
				  ours retries sooner */

struct mptcp_map {
	uint32_t ssn; /* absolute subflow sequence number of the first byte */
	uint64_t dsn;
	uint32_t len;	  /* data bytes (a DATA_FIN is not counted) */
	uint16_t csum;	  /* received maps: the DSS checksum, when has_csum */
	uint8_t has_csum; /* received with a checksum */
	uint8_t fin;	  /* received with DATA_FIN (the checksum's length counts it) */
	uint8_t sent;	  /* transmit maps: on the wire, so it never grows again */
};

struct mptcp_maps {
	struct mptcp_map *v;
	uint32_t n, cap;
};

struct mptcp_conn;

struct mptcp_subflow {
	struct mptcp_conn *mp;
	bool join;	   /* opened by MP_JOIN (not the first subflow) */
	bool usable;	   /* may carry data (join: handshake finished) */
	bool join_ack_due; /* initiator: third ACK sent, no answer seen yet */
	bool backup;	   /* we asked the peer to treat it as backup (B / MP_PRIO) */
	bool peer_backup;  /* the peer asked us to (B / MP_PRIO) */
	bool prio_due;	   /* MP_PRIO to send */
	bool stale;	   /* RTOs without progress: not scheduled while others work */
	bool dead;	   /* closed, reset or its address gone: never scheduled */
	bool reinjected;   /* its unacknowledged data was queued on the others */
	bool rst_reason_set;
	uint8_t rst_reason;
	uint8_t local_id, remote_id;
	uint32_t local_nonce, remote_nonce;
	bool kill_due; /* handshake failed: reset after this input (rst_reason) */
	/* MP_FAIL(fail_dsn) to send: on the RST of a subflow whose checksum failed, or
	 * (single subflow, RFC 8684 3.7) on a pure ACK, as the receiver's signal or the
	 * sender's answer before its infinite mapping */
	bool fail_due;
	bool fail_ack_tried; /* a pure ACK went out for it (data waits only once) */
	uint64_t fail_dsn;
	bool hmac_ok; /* responder: the third ACK's HMAC was right */
	uint32_t stale_una, stale_una_at_stale;
	uint64_t progress_at;	 /* last time SND.UNA moved (or nothing was in flight) */
	uint64_t stale_probe_at; /* stale: next probe of its path (tcp_probe_head) */
	uint64_t join_ack_rtx_at;
	struct mptcp_maps tx, rx;
	/* scheduler (mptcp_sched.c): DSN just past the last byte given to this subflow,
	 * and the scheduler's own per-subflow state */
	uint64_t sched_data_nxt;
	_Alignas(8) uint8_t sched_priv[MPTCP_SCHED_SF_PRIV];
	/* path manager (mptcp_pathmgr.c): the slot it was opened for + 1 (1: the first
	 * subflow), what the path manager was told, why it closed */
	uint32_t pm_tag;
	bool pm_est_told, pm_closed_told, pm_reason_set;
	uint8_t pm_reason; /* enum mptcp_pm_close */
};

struct mptcp_raddr {
	bool used, told; /* told: the path manager saw its ADD_ADDR event */
	uint8_t id;
	struct mpt_sockaddr addr;
};

struct mptcp_conn {
	struct mpt_stack *st;
	uint32_t id; /* the application's handle: the first subflow's id */
	struct tcb *sub[MPTCP_MAX_SUBFLOWS];
	uint32_t nsub;
	uint32_t tick_gen;

	bool server;
	bool fallback;		/* plain TCP on the first subflow from now on */
	bool fully_established; /* the peer has our key / we saw its DSS (RFC 8684 3.1) */
	bool remote_key_known;
	bool connected_ev, closed_ev, eof_ev;
	bool app_closed, rd_shut, wr_shut;
	bool fastclose_tx; /* abort: MP_FASTCLOSE on every subflow's RST */
	bool csum;	   /* DSS checksums in use (RFC 8684 3.3.1: either side asked) */
	bool peer_dsn64;   /* the peer's last mapping had an 8-octet DSN (cfg.mptcp_ack32) */
	/* RFC 8684 3.7, the infinite mapping: possible while one subflow carried every
	 * byte once, in order (no join completed, no data-level reinjection, no
	 * out-of-order or duplicate data at the data level), as Linux's
	 * allow_infinite_fallback */
	bool infinite_ok;
	bool fail_tx;	     /* we sent MP_FAIL on an ACK: an MP_FAIL back is the answer */
	bool fail_rx;	     /* we got MP_FAIL: answered, infinite mapping next */
	bool infmap_due;     /* the next data segment carries the infinite mapping */
	uint64_t infmap_dsn; /* its data sequence number (the DSN MP_FAIL named) */
	uint8_t *csum_buf;   /* one whole mapping, to check before delivering it */
	int error;
	uint64_t local_key, remote_key;
	uint32_t local_token, remote_token;
	uint64_t local_idsn, remote_idsn;

	/* send side: bytes [snd_una, snd_una + sndbuf.len) held, [snd_una, snd_nxt)
	 * given to subflows */
	struct ring sndbuf;
	uint64_t snd_una, snd_nxt;
	uint64_t snd_wnd_edge; /* right edge of the peer's data-level window */
	bool want_writable;
	bool data_fin_acked;
	uint64_t data_fin_rtx_at;
	struct mptcp_maps reinj; /* data-level ranges to send again (ssn unused), by dsn */
	uint64_t data_rtx_at;	 /* data-level retransmission timer (0 = off) */
	uint32_t data_rtx_backoff;
	bool head_reinj_done; /* the data at head_reinj_una was sent again (mptcp_head_reinject) */
	uint64_t head_reinj_una;

	/* receive side: in-order unread bytes, then room for out-of-order data */
	struct ring rcvbuf;
	uint64_t rcv_nxt;
	struct {
		uint64_t left, right;
	} ofo[MPTCP_OFO_MAX];
	uint32_t nofo;
	struct mpt_ofo_stats ofo_st; /* mpt_conn_ofo_stats; updated in place() */
	bool readable_ev;
	bool data_fin_rcvd, data_fin_in_order;
	uint64_t rcv_data_fin_dsn;

	/* path manager */
	struct mptcp_raddr raddr[MPTCP_MAX_RADDRS];
	uint32_t add_addr_accepted;
	struct {
		uint8_t sent;	 /* ADD_ADDR transmissions */
		bool echoed;	 /* the peer echoed it */
		bool due;	 /* to send on the next segment */
		uint64_t rtx_at; /* next retransmission */
	} announce[256];
	bool echo_due;
	struct mptcp_opt_add_addr echo;
	uint8_t rm_ids[MPTCP_RM_IDS_MAX], nrm;
	/* the path manager (mptcp_pathmgr.c; from cfg.path_manager at attach) */
	const struct mptcp_pm_ops *pm;
	uint32_t pm_arg;
	bool pm_started; /* ESTABLISHED delivered */
	uint64_t pm_wake_at;
	struct mptcp_pm_event pm_evq[MPTCP_PM_EVQ];
	uint32_t pm_nev;
	_Alignas(8) uint8_t pm_priv[MPTCP_PM_PRIV];

	/* scheduler (mptcp_sched.c; chosen from cfg.scheduler at the first push) */
	const struct mptcp_sched_ops *sched;
	uint32_t sched_arg; /* its NAME:ARG (0: none) */
	_Alignas(8) uint8_t sched_priv[MPTCP_SCHED_CONN_PRIV];
};

/* Attach a fresh connection to t, its first subflow (active open, or a passive open
 * whose SYN carried MP_CAPABLE): draws the local key from the injected random source,
 * retrying while its token collides with another connection's, allocates the data-
 * level buffers and reserves the option space.  Returns 0, MPT_ENOMEM or MPT_ECRYPTO. */
int mptcp_attach(struct tcb *t, bool server);

/* Whether a SYN reaching a listener should get an MPTCP connection: MP_CAPABLE v1.
 * Counts MPCapableSYNRX. */
bool mptcp_syn_wants_mptcp(struct mpt_stack *st, const struct wire_tcp_repr *syn);
/* The SYN of a passive connection just attached: takes its checksum request. */
int mptcp_passive_syn(struct tcb *t, const struct wire_tcp_repr *syn);

/* A SYN with MP_JOIN reached a listener; t is fresh (addresses and path set).  Finds
 * the connection by token and attaches t to it as a joining subflow.  Returns 0, or
 * MPT_ENOENT (no such token: the caller resets), MPT_ENOBUFS (subflow limit), ... */
int mptcp_join_passive(struct tcb *t, const struct wire_tcp_repr *syn, uint64_t now);
bool mptcp_syn_is_join(struct mpt_stack *st, const struct wire_tcp_repr *syn);

/* The hooks described at the top. */
void mptcp_input_pre(struct tcb *t, const struct wire_tcp_repr *seg, uint64_t now);
void mptcp_input_post(struct tcb *t, uint64_t now);
void mptcp_output(struct tcb *t, struct wire_tcp_repr *seg, uint64_t now);
void mptcp_tick(struct mptcp_conn *mp, uint64_t now);
uint64_t mptcp_next_timeout(const struct mptcp_conn *mp);

/* The application's calls on an MPTCP connection (stack.c dispatches here when the
 * id's control block has an mp). */
ptrdiff_t mptcp_app_send(struct mptcp_conn *mp, const uint8_t *buf, size_t len, uint64_t now);
ptrdiff_t mptcp_app_recv(struct mptcp_conn *mp, uint8_t *buf, size_t len, uint64_t now);
int mptcp_app_shutdown(struct mptcp_conn *mp, int how, uint64_t now);
void mptcp_app_close(struct mptcp_conn *mp, uint64_t now);
void mptcp_app_abort(struct mptcp_conn *mp, uint64_t now);
void mptcp_app_accepted(struct mptcp_conn *mp);
int mptcp_poll(const struct mptcp_conn *mp);
void mptcp_info(const struct mptcp_conn *mp, struct mpt_conn_info *info);
/* The data-level out-of-order queue's statistics (mpt_conn_ofo_stats). */
void mptcp_ofo_stats(const struct mptcp_conn *mp, struct mpt_ofo_stats *out);
void mptcp_subflow_flags(const struct tcb *t, struct mpt_subflow_info *o);

/* Path events from the stack: a path's address is gone (its subflows die silently,
 * data reinjected; then the path manager hears of it). */
void mptcp_path_gone(struct mptcp_conn *mp, uint32_t path, uint64_t now);
/* The application removes a local address from the connection (RFC 6897
 * TCP_MULTIPATH_REMOVE): its live subflows from `local` (port 0: any port) close
 * with a RST, their data reinjected on the others.  Returns how many it closed. */
int mptcp_user_remove(struct mptcp_conn *mp, const struct mpt_sockaddr *local, uint64_t now);

/* ---- internal, shared with mptcp_sched.c / mptcp_pathmgr.c ---- */
bool mptcp_sf_sendable(const struct tcb *t);
void mptcp_sched_push(struct mptcp_conn *mp, uint64_t now);
/* The subflow for a lone signal (DATA_FIN, ADD_ADDR echo, REMOVE_ADDR): the lowest
 * RTT among those making progress; a stale one only when all are.  NULL if none. */
struct tcb *mptcp_sched_signal_sf(struct mptcp_conn *mp);
/* Give mp the scheduler ops (fresh per-connection and per-subflow state). */
void mptcp_sched_set(struct mptcp_conn *mp, const struct mptcp_sched_ops *ops, uint32_t arg);
void mptcp_fallback_push(struct mptcp_conn *mp, uint64_t now);
uint32_t mptcp_copy_to_subflow(struct mptcp_conn *mp, struct tcb *t, uint64_t dsn, uint32_t n);
/* The path manager's mechanism (mptcp_pathmgr.c). */
void mptcp_pm_init(struct mptcp_conn *mp);
/* Deliver what changed (subflows established or closed, ADD_ADDRs, queued events),
 * the timer when due; retransmit ADD_ADDRs. */
void mptcp_pm_tick(struct mptcp_conn *mp, uint64_t now);
/* The earliest time mptcp_pm_tick has work (an ADD_ADDR retransmission, the path
 * manager's timer), or UINT64_MAX. */
uint64_t mptcp_pm_next_timeout(const struct mptcp_conn *mp);
/* An event for the path manager, now (endpoint deleted, carrier) or at the next
 * tick (where no time is known: endpoint added or changed, address back). */
void mptcp_pm_event_now(struct mptcp_conn *mp, const struct mptcp_pm_event *e, uint64_t now);
void mptcp_pm_event_later(struct mptcp_conn *mp, const struct mptcp_pm_event *e);
/* A subflow is being freed: its SF_CLOSED event if not told yet. */
void mptcp_pm_sf_released(struct tcb *t);
enum mptcp_pm_close mptcp_pm_close_reason(const struct tcb *t);
/* Close a subflow on purpose, for `why` (enum mptcp_pm_close): what it received in
 * order moves to the data level first; RST (send_rst), data reinjected. */
void mptcp_sf_close(struct tcb *t, enum mptcp_pm_close why, bool send_rst, uint64_t now);
int mptcp_join_active(struct mptcp_conn *mp, uint32_t path, uint8_t local_id,
		      const struct mpt_sockaddr *remote, uint8_t remote_id, bool backup,
		      uint64_t now);
void mptcp_sf_kill(struct tcb *t, uint8_t reason, bool send_rst, uint64_t now);
/* Queue data-level bytes [dsn, dsn + len) for sending again on some subflow. */
void mptcp_reinj_add(struct mptcp_conn *mp, uint64_t dsn, uint64_t len);
/* Whether subflow t sent data sequence number dsn and has no TCP ACK for it yet. */
bool mptcp_sf_holds(const struct tcb *t, uint64_t dsn);
/* No new data can go (called by the scheduler): queue the head of the window again
 * when a slow subflow holds it while another sits idle (see mptcp.c). */
void mptcp_head_reinject(struct mptcp_conn *mp);

#endif
