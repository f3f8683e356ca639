/* libmpt: a sans-I/O userspace TCP engine with MPTCP (RFC 8684 v1) over several subflows
 * (opt-in: mpt_config.mptcp; see stack/src/mptcp.h).
 *
 * The library never reads a clock, opens a socket, calls rand() or holds a global.
 * The caller (an I/O backend, or the virtual-time simulator in stack/sim/) does:
 *
 *   for (;;) {
 *           now = its clock;
 *           for each packet p that arrived on path id P:  mpt_stack_recv(st, p, len, P, now);
 *           if (now >= mpt_stack_next_timeout(st))       mpt_stack_handle_expiry(st, now);
 *           while ((n = mpt_stack_send(st, buf, sizeof(buf), &P, now)) > 0)
 *                   put buf[0..n) on the wire of path P;
 *           while (mpt_stack_poll_event(st, &ev) == 1)    react (accept, read, write...);
 *           sleep until min(next packet, mpt_stack_next_timeout(st));
 *   }
 *
 * Packets are whole IP datagrams (IPv4 or IPv6 header + TCP).  A *path* is a small
 * integer naming where a packet came in / must leave (an interface, a tun, a
 * simulated link); each path is bound to one local address (mpt_stack_add_path).
 * Time is monotonic nanoseconds (uint64_t).  Errors are negative MPT_E* codes;
 * lengths are ptrdiff_t.  Connections and listeners are named by a uint32_t id
 * (never 0); an id stays valid until mpt_close() on it, even after a reset.
 */
#ifndef MPT_H
#define MPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- error codes ---------------------------------------------------------------- */
enum {
	MPT_OK = 0,
	MPT_EINVAL = -1,       /* bad argument */
	MPT_ENOMEM = -2,       /* allocation failed */
	MPT_EAGAIN = -3,       /* would block: no data / no buffer space / nothing to accept */
	MPT_ENOTCONN = -4,     /* not (yet / any more) connected */
	MPT_ECONNRESET = -5,   /* peer reset the connection */
	MPT_ECONNREFUSED = -6, /* RST in answer to our SYN */
	MPT_ETIMEDOUT = -7,    /* retransmissions exhausted */
	MPT_EPIPE = -8,	       /* send after shutdown(WR) / close */
	MPT_EADDRINUSE = -9,   /* 4-tuple or listening port already taken */
	MPT_ENOENT = -10,      /* no such connection / listener / path / cc */
	MPT_EMALFORMED = -11,  /* codec: malformed or truncated input */
	MPT_ECSUM = -12,       /* codec: bad checksum */
	MPT_ENOBUFS = -13,     /* output buffer too small */
	MPT_ECRYPTO = -14,     /* the injected crypto failed */
	MPT_EUNSUPP = -15,     /* well-formed but not supported (IP fragments, ext headers) */
	MPT_ESTATE = -16,      /* operation not valid in the current state */
};

/* A short name for an MPT_E* code ("EAGAIN"); never NULL. */
const char *mpt_strerror(int err);

/* ---- addresses ------------------------------------------------------------------- */
#define MPT_AF_INET  4
#define MPT_AF_INET6 6

/* An IP address and port.  IPv4 uses ip[0..3], network byte order; port is host order. */
struct mpt_sockaddr {
	uint8_t family; /* MPT_AF_INET or MPT_AF_INET6 */
	uint16_t port;
	uint8_t ip[16];
};

/* ---- injected environment ---------------------------------------------------------- */

/* Crypto the engine needs: RFC 6528 ISNs (sha256 of the 4-tuple and a secret),
 * timestamp offsets (random_bytes), and for MPTCP keys (random_bytes), tokens and
 * IDSNs (sha256) and HMAC-SHA256.  Each returns 0 or a negative value on failure.  `ctx` is passed
 * back untouched.  The harness supplies an OpenSSL implementation (stack/sim/mpt_sim.h). */
struct mpt_crypto {
	void *ctx;
	int (*sha256)(void *ctx, const uint8_t *msg, size_t len, uint8_t out[32]);
	int (*hmac_sha256)(void *ctx, const uint8_t *key, size_t keylen, const uint8_t *msg,
			   size_t len, uint8_t out[32]);
	int (*random_bytes)(void *ctx, uint8_t *out, size_t len);
};

/* Allocation; NULL members mean libc malloc/calloc/free. */
struct mpt_alloc {
	void *ctx;
	void *(*calloc)(void *ctx, size_t n, size_t size);
	void (*free)(void *ctx, void *p);
};

/* Optional log sink (level 0 = error .. 3 = debug); NULL = silent. */
typedef void mpt_log_fn(void *ctx, int level, const char *msg);

struct mpt_env {
	struct mpt_crypto crypto; /* required: all three functions */
	struct mpt_alloc alloc;
	mpt_log_fn *log;
	void *log_ctx;
	/* Optional: choose (and reserve) a free local port for a connection the stack
	 * opens itself (an MPTCP subflow) or for mpt_connect with port 0, when several
	 * stacks share the addresses (one per process).  Returns 0 or a negative
	 * MPT_E*.  NULL: the stack's own ephemeral range 32768..60999. */
	int (*pick_port)(void *ctx, uint16_t *port);
	void *port_ctx;
	/* Optional: routing's choice of a source toward `remote` (port 0), as the
	 * kernel's `ip route get` (its preferred source, else its output device): the
	 * path manager asks it which local path joins an address the peer announced.
	 * Returns 0 and *path (a path id given to mpt_stack_add_path), or a negative
	 * MPT_E* for no answer.  NULL, no answer, or a path that is not the stack's in
	 * remote's family: the stack's own rule (same /24 or /64, else the first
	 * subflow's path; stack/src/mptcp_pathmgr.c).  Called from inside the stack:
	 * it must not call back into it. */
	int (*route_source)(void *ctx, const struct mpt_sockaddr *remote, uint32_t *path);
	void *route_ctx;
};

/* ---- configuration ------------------------------------------------------------------ */
struct mpt_config {
	uint32_t mtu; /* IP MTU of every path; default 1500 */
	/* Buffers are fixed (no autotuning) and allocated with the connection.  The
	 * window never exceeds them, so one connection moves at most about
	 * min(sndbuf, rcvbuf) per RTT: 256 KiB is ~50 Mbit/s at 40 ms, ~2 Gbit/s at
	 * 1 ms.  mpt-perf asks for 4 MiB each. */
	uint32_t sndbuf;    /* bytes of send buffer per connection; default 256 KiB */
	uint32_t rcvbuf;    /* bytes of receive buffer per connection; default 256 KiB */
	const char *cc;	    /* congestion control (mpt_cc_name): "newreno" (default), "cubic",
			     * or coupled "lia", "olia", "balia" */
	bool no_sack;	    /* do not offer / use SACK (RFC 2018) */
	bool no_timestamps; /* do not offer RFC 7323 timestamps */
	/* Accept non-RST segments without a TSopt once timestamps are in use, as Linux
	 * does.  Default off: drop them (RFC 7323 3.2 SHOULD, counted no_ts_drop). */
	bool ts_accept_missing;
	bool no_hystart; /* no HyStart++ (RFC 9406) in the initial slow start */
	/* keep cwnd across an idle period longer than the RTO (Linux's
	 * net.ipv4.tcp_slow_start_after_idle = 0); default: restart, RFC 5681 4.1 */
	bool no_slow_start_after_idle;
	/* HyStart++'s Conservative Slow Start rounds after the RTT grows (RFC 9406 says
	 * 5).  Default 0: leave slow start at that signal, as Linux's CUBIC does; without
	 * pacing, CSS overflows deep queues (src/hystart.h). */
	uint8_t hystart_css_rounds;
	bool no_wscale;		      /* do not offer window scaling */
	bool nodelay;		      /* disable Nagle */
	uint8_t init_cwnd_segs;	      /* initial window in segments; default 10 (RFC 6928) */
	uint64_t min_rto_ns;	      /* default 200 ms (Linux; RFC 6298 says 1 s) */
	uint64_t max_rto_ns;	      /* default 120 s */
	uint64_t init_rto_ns;	      /* default 1 s (RFC 6298 2.1) */
	uint64_t delack_ns;	      /* delayed-ACK timer; default 40 ms (RFC 9293: < 0.5 s) */
	uint64_t time_wait_ns;	      /* 2*MSL; default 60 s */
	uint32_t max_retries;	      /* RTO expiries before giving up; default 15 */
	uint32_t max_syn_retries;     /* default 6 */
	uint32_t challenge_ack_limit; /* challenge ACKs per second per stack; default 1000 */
	bool no_tlp;		      /* disable tail loss probes */
	/* Speak MPTCP (RFC 8684 v1): connections offer MP_CAPABLE, listeners answer it
	 * (and MP_JOIN); more subflows follow the endpoints (mpt_stack_add_endpoint)
	 * and the peer's ADD_ADDRs; a peer that does not answer falls back to plain
	 * TCP.  Default off (plain TCP). */
	bool mptcp;
	/* MPTCP limits (kernel `ip mptcp limits` analogues).  Subflows per connection,
	 * counting the first (default 8); ADD_ADDRs from a peer acted upon per
	 * connection (default 8). */
	uint8_t max_subflows;
	uint8_t max_add_addr_accepted;
	/* Ask for DSS checksums (RFC 8684 3.3.1 flag A); the peer asking turns them on
	 * as well.  Default off (Linux's net.mptcp.checksum_enabled = 0). */
	bool mptcp_checksum;
	/* SYN retransmissions that still carry MP_CAPABLE; the next one goes without it
	 * and the connection is plain TCP (MPCapableSYNTXDrop), as Linux's
	 * net.mptcp.syn_retrans_before_tcp_fallback.  Default 2 (Linux's default). */
	uint8_t mptcp_syn_retrans_before_fallback;
	/* DATA_ACKs on 4 octets while the peer's last mapping had a 4-octet DSN (and
	 * before any mapping), on 8 once it sends an 8-octet one: Linux's choice
	 * (msk->use_64bit_ack), which packetdrill's MPTCP scripts encode.  Default off:
	 * always 8 octets (RFC 8684 3.3 allows both). */
	bool mptcp_ack32;
	/* Transmit checksum offload: segments leave mpt_stack_send with the TCP checksum
	 * field holding only the pseudo-header sum, not inverted (Linux's
	 * CHECKSUM_PARTIAL form); the I/O layer, the kernel or the device completes it.
	 * Default off (complete checksums).  The runtime (mpt_rt.h) turns it on for
	 * backends that complete checksums (mpt_io_ops.tx_csum_partial). */
	bool tx_csum_partial;
	/* MPTCP scheduler, "NAME" or "NAME:ARG" (mpt_scheduler_name lists them):
	 * "default" (NULL too), "roundrobin[:BURST]", "redundant", "blest", "ecf".  Each
	 * connection gets its own instance. */
	const char *scheduler;
	/* roundrobin: segments a subflow sends in its turn before the next one's; 0 =
	 * the default, 1; "roundrobin:N" in .scheduler overrides it */
	uint8_t sched_burst_segs;
	/* MPTCP path manager, "NAME" or "NAME:ARG" (mpt_path_manager_name lists them):
	 * "kernel" (NULL too; the endpoints, as Linux's in-kernel path manager) or
	 * "ndiffports[:N]" (N subflows over the first subflow's addresses, default 2).
	 * Both re-create a failed subflow with backoff (stack/src/mptcp_pathmgr.h). */
	const char *path_manager;
};

/* Fill `cfg` with the defaults listed above. */
void mpt_config_default(struct mpt_config *cfg);

/* ---- counters ------------------------------------------------------------------------ */
/* X(field, nstat name).  Names follow the kernel's SNMP / TcpExt MIBs where one exists;
 * MpnetExt* are ours. */
#define MPT_COUNTERS(X)                                             \
	X(ip_in_receives, "IpInReceives")                           \
	X(ip_in_hdr_errors, "IpInHdrErrors")                        \
	X(ip_in_addr_errors, "IpInAddrErrors")                      \
	X(ip_in_unknown_protos, "IpInUnknownProtos")                \
	X(ip_in_delivers, "IpInDelivers")                           \
	X(ip_out_requests, "IpOutRequests")                         \
	X(ip_reasm_fails, "IpReasmFails")                           \
	X(tcp_active_opens, "TcpActiveOpens")                       \
	X(tcp_passive_opens, "TcpPassiveOpens")                     \
	X(tcp_attempt_fails, "TcpAttemptFails")                     \
	X(tcp_estab_resets, "TcpEstabResets")                       \
	X(tcp_curr_estab, "TcpCurrEstab")                           \
	X(tcp_in_segs, "TcpInSegs")                                 \
	X(tcp_out_segs, "TcpOutSegs")                               \
	X(tcp_retrans_segs, "TcpRetransSegs")                       \
	X(tcp_in_errs, "TcpInErrs")                                 \
	X(tcp_out_rsts, "TcpOutRsts")                               \
	X(tcp_in_csum_errors, "TcpInCsumErrors")                    \
	X(sack_recovery, "TcpExtTCPSACKRecovery")                   \
	X(reno_recovery, "TcpExtTCPRenoRecovery")                   \
	X(fast_retrans, "TcpExtTCPFastRetrans")                     \
	X(slow_start_retrans, "TcpExtTCPSlowStartRetrans")          \
	X(timeouts, "TcpExtTCPTimeouts")                            \
	X(cwnd_restart, "MpnetExtTCPCwndRestart")                   \
	X(rto_ssthresh_held, "MpnetExtTcpRtoSsthreshHeld")          \
	X(hystart_delay_detect, "TcpExtTCPHystartDelayDetect")      \
	X(hystart_delay_cwnd, "TcpExtTCPHystartDelayCwnd")          \
	X(loss_probes, "TcpExtTCPLossProbes")                       \
	X(challenge_ack, "TcpExtTCPChallengeACK")                   \
	X(syn_challenge, "TcpExtTCPSYNChallenge")                   \
	X(ack_skipped_challenge, "TcpExtTCPACKSkippedChallenge")    \
	X(abort_on_data, "TcpExtTCPAbortOnData")                    \
	X(abort_on_close, "TcpExtTCPAbortOnClose")                  \
	X(abort_on_timeout, "TcpExtTCPAbortOnTimeout")              \
	X(ofo_queue, "TcpExtTCPOFOQueue")                           \
	X(ofo_drop, "TcpExtTCPOFODrop")                             \
	X(ofo_merge, "TcpExtTCPOFOMerge")                           \
	X(rcv_coalesce, "TcpExtTCPRcvCoalesce")                     \
	X(delayed_acks, "TcpExtDelayedACKs")                        \
	X(pure_acks, "TcpExtTCPPureAcks")                           \
	X(paws_estab, "TcpExtPAWSEstab")                            \
	X(win_probe, "TcpExtTCPWinProbe")                           \
	X(keepalive_probes, "MpnetExtTcpKeepaliveProbe")            \
	X(zero_window_drop, "TcpExtTCPZeroWindowDrop")              \
	X(to_zero_window_adv, "TcpExtTCPToZeroWindowAdv")           \
	X(from_zero_window_adv, "TcpExtTCPFromZeroWindowAdv")       \
	X(time_waited, "TcpExtTW")                                  \
	X(listen_drops, "TcpExtListenDrops")                        \
	X(listen_overflows, "TcpExtListenOverflows")                \
	X(sack_reneging, "TcpExtTCPSACKReneging")                   \
	X(sack_discard, "TcpExtTCPSACKDiscard")                     \
	X(ack_skipped_seq, "TcpExtTCPACKSkippedSeq")                \
	X(rst_ignored, "MpnetExtRstOutOfWindow")                    \
	X(rst_accepted, "MpnetExtRstAccepted")                      \
	X(ack_too_new, "MpnetExtAckTooNew")                         \
	X(ack_too_old, "MpnetExtAckTooOld")                         \
	X(seq_out_of_window, "MpnetExtSeqOutOfWindow")              \
	X(no_ts_drop, "MpnetExtNoTimestampDrop")                    \
	X(opt_malformed, "MpnetExtTcpOptMalformed")                 \
	X(opt_unknown, "MpnetExtTcpOptUnknown")                     \
	X(opt_mptcp_seen, "MpnetExtTcpOptMptcp")                    \
	X(hdr_malformed, "MpnetExtTcpHdrMalformed")                 \
	X(no_socket, "MpnetExtNoSocket")                            \
	X(rst_pending_drop, "MpnetExtRstPendingDrop")               \
	X(rst_held_sent, "MpnetExtRstHeldForCarrierSent")           \
	X(rst_held_dropped, "MpnetExtRstHeldForCarrierDropped")     \
	X(ctl_queue_drop, "MpnetExtCtlQueueDrop")                   \
	X(state_transitions, "MpnetExtStateTransitions")            \
	X(state_bad_transitions, "MpnetExtStateBadTransitions")     \
	X(rtt_samples, "MpnetExtRttSamples")                        \
	X(karn_skipped, "MpnetExtKarnSkipped")                      \
	X(event_queue_drop, "MpnetExtEventQueueDrop")               \
	X(dsack_old_sent, "TcpExtTCPDSACKOldSent")                  \
	X(dsack_recv, "TcpExtTCPDSACKRecv")                         \
	X(dsack_undo, "TcpExtTCPDSACKUndo")                         \
	X(mptcp_opt_malformed, "MpnetExtMPTcpOptMalformed")         \
	X(mptcp_opt_unknown, "MpnetExtMPTcpOptUnknown")             \
	X(mptcp_opt_conflict, "MpnetExtMPTcpOptConflict")           \
	X(mpc_syn_tx, "MPTcpExtMPCapableSYNTX")                     \
	X(mpc_syn_rx, "MPTcpExtMPCapableSYNRX")                     \
	X(mpc_synack_rx, "MPTcpExtMPCapableSYNACKRX")               \
	X(mpc_ack_rx, "MPTcpExtMPCapableACKRX")                     \
	X(mpc_fallback_ack, "MPTcpExtMPCapableFallbackACK")         \
	X(mpc_fallback_synack, "MPTcpExtMPCapableFallbackSYNACK")   \
	X(mpc_data_fallback, "MPTcpExtMPCapableDataFallback")       \
	X(dss_not_matching, "MPTcpExtDSSNotMatching")               \
	X(data_fin_rx, "MpnetExtMPTcpDataFinRx")                    \
	X(mpc_csum_refused, "MpnetExtMPTcpCsumRefused")             \
	X(mptcp_token_retry, "MpnetExtMPTcpTokenRetry")             \
	X(join_syn_tx, "MPTcpExtMPJoinSynTx")                       \
	X(join_syn_rx, "MPTcpExtMPJoinSynRx")                       \
	X(join_synack_rx, "MPTcpExtMPJoinSynAckRx")                 \
	X(join_ack_rx, "MPTcpExtMPJoinAckRx")                       \
	X(join_synack_hmac_fail, "MPTcpExtMPJoinSynAckHMacFailure") \
	X(join_ack_hmac_fail, "MPTcpExtMPJoinAckHMacFailure")       \
	X(join_no_token, "MPTcpExtMPJoinNoTokenFound")              \
	X(join_rejected, "MPTcpExtMPJoinRejected")                  \
	X(join_synack_missing, "MpnetExtMPJoinSynAckMissing")       \
	X(join_ack_rtx_rx, "MpnetExtMPJoinAckRtxRx")                \
	X(dss_no_map, "MPTcpExtDSSNoMatchTCP")                      \
	X(duplicate_data, "MPTcpExtDuplicateData")                  \
	X(mptcp_retrans, "MPTcpExtMPTCPRetrans")                    \
	X(subflow_stale, "MPTcpExtSubflowStale")                    \
	X(subflow_recover, "MPTcpExtSubflowRecover")                \
	X(stale_probe, "MpnetExtMPTcpStaleProbe")                   \
	X(add_addr_rx, "MPTcpExtAddAddr")                           \
	X(add_addr_tx, "MPTcpExtAddAddrTx")                         \
	X(add_addr_tx_drop, "MPTcpExtAddAddrTxDrop")                \
	X(echo_add_rx, "MPTcpExtEchoAdd")                           \
	X(echo_add_tx, "MPTcpExtEchoAddTx")                         \
	X(add_addr_drop, "MPTcpExtAddAddrDrop")                     \
	X(join_src_route, "MpnetExtMPTcpJoinSrcRoute")              \
	X(join_src_subnet, "MpnetExtMPTcpJoinSrcSubnet")            \
	X(rm_addr_rx, "MPTcpExtRmAddr")                             \
	X(rm_addr_tx, "MPTcpExtRmAddrTx")                           \
	X(rm_subflow, "MPTcpExtRmSubflow")                          \
	X(prio_tx, "MPTcpExtMPPrioTx")                              \
	X(prio_rx, "MPTcpExtMPPrioRx")                              \
	X(fastclose_tx, "MPTcpExtMPFastcloseTx")                    \
	X(fastclose_rx, "MPTcpExtMPFastcloseRx")                    \
	X(mprst_tx, "MPTcpExtMPRstTx")                              \
	X(mprst_rx, "MPTcpExtMPRstRx")                              \
	X(rcv_pruned, "MPTcpExtRcvPruned")                          \
	X(mptcp_ofo_queue, "MPTcpExtOFOQueue")                      \
	X(subflow_dead, "MpnetExtMPTcpSubflowDead")                 \
	X(idle_subflow_probe, "MpnetExtMPTcpIdleSubflowProbe")      \
	X(data_fin_tx, "MpnetExtMPTcpDataFinTx")                    \
	X(data_csum_err, "MPTcpExtDataCsumErr")                     \
	X(data_rtx, "MpnetExtMPTcpDataRtxTimeout")                  \
	X(data_rtx_held, "MpnetExtMPTcpDataRtxHeld")                \
	X(head_reinject, "MpnetExtMPTcpHeadReinject")               \
	X(opt_sack_shrunk, "MpnetExtMPTcpSackShrunk")               \
	X(opt_deferred, "MpnetExtMPTcpOptDeferred")                 \
	X(rm_addr_tx_drop, "MPTcpExtRmAddrTxDrop")                  \
	X(mp_fail_tx, "MPTcpExtMPFailTx")                           \
	X(mp_fail_rx, "MPTcpExtMPFailRx")                           \
	X(infinite_map_rx, "MPTcpExtInfiniteMapRx")                 \
	X(infinite_map_tx, "MPTcpExtInfiniteMapTx")                 \
	X(dss_fallback, "MPTcpExtDssFallback")                      \
	X(mpc_syn_tx_drop, "MPTcpExtMPCapableSYNTXDrop")            \
	X(mpc_ack_fallback, "MpnetExtMPTcpAckFallback")             \
	X(sched_pick, "MpnetExtSchedPick")                          \
	X(sched_wait, "MpnetExtSchedWait")                          \
	X(sched_redundant_bytes, "MpnetExtSchedRedundantBytes")     \
	X(sched_hold_back, "MpnetExtSchedHoldBack")                 \
	X(sched_bad_pick, "MpnetExtSchedBadPick")                   \
	X(sched_runt_wait, "MpnetExtSchedRuntWait")                 \
	X(sched_wnd_reserve, "MpnetExtSchedWndReserve")             \
	X(sched_signal, "MpnetExtSchedSignalPick")                  \
	X(pm_open, "MpnetExtPmSubflowOpen")                         \
	X(pm_open_fail, "MpnetExtPmOpenFailed")                     \
	X(pm_retry_sched, "MpnetExtPmRetryScheduled")               \
	X(pm_retry_open, "MpnetExtPmRetryOpen")                     \
	X(pm_recreated, "MpnetExtPmSubflowRecreated")               \
	X(pm_no_retry, "MpnetExtPmNoRetry")                         \
	X(pm_link_up_retry, "MpnetExtPmLinkUpRetry")                \
	X(pm_carrier_close, "MpnetExtPmCarrierClose")               \
	X(pm_no_room, "MpnetExtPmNoRoom")                           \
	X(pm_cmd_drop, "MpnetExtPmCmdDrop")                         \
	X(pm_event_drop, "MpnetExtPmEventDrop")

struct mpt_counters {
#define MPT_COUNTER_FIELD(f, n) uint64_t f;
	MPT_COUNTERS(MPT_COUNTER_FIELD)
#undef MPT_COUNTER_FIELD
};

/* Write the counters in nstat's text form ("#kernel\n" then "Name  value  0.0" lines)
 * into buf (NUL-terminated).  Zero counters are skipped unless `zeros`.  Returns the
 * length written (without the NUL), or MPT_ENOBUFS if `cap` is too small. */
ptrdiff_t mpt_counters_format(const struct mpt_counters *c, bool zeros, char *buf, size_t cap);

/* Look a counter up by its nstat name (with or without the Tcp/TcpExt prefix as
 * printed).  Returns the value, or UINT64_MAX for an unknown name. */
uint64_t mpt_counters_get(const struct mpt_counters *c, const char *name);

/* TCP states (RFC 9293 3.3.2), of a connection or a subflow. */
enum mpt_state {
	MPT_CLOSED = 0,
	MPT_LISTEN,
	MPT_SYN_SENT,
	MPT_SYN_RECEIVED,
	MPT_ESTABLISHED,
	MPT_FIN_WAIT_1,
	MPT_FIN_WAIT_2,
	MPT_CLOSE_WAIT,
	MPT_CLOSING,
	MPT_LAST_ACK,
	MPT_TIME_WAIT,
	MPT_NSTATES
};

/* ---- congestion control --------------------------------------------------------------- */
#define MPT_CC_MAX_SF 16 /* subflows in a connection view (= the MPTCP subflow cap) */

struct mpt_cc_ops;

/* One subflow of the connection as a congestion controller sees it (bytes, ns). */
struct mpt_cc_sf {
	uint32_t cwnd, ssthresh, mss;
	uint32_t in_flight; /* sent, not cumulatively acknowledged */
	uint64_t srtt_ns;   /* smoothed RTT, 0 before the first sample */
	uint64_t min_rtt_ns;
	enum mpt_state state;
	bool usable;	  /* may carry data now: handshake done, not dead, not shut */
	bool backup;	  /* backup priority, asked by either side (B flag / MP_PRIO) */
	bool stale;	  /* stopped making progress (RTOs); used only when nothing else is */
	bool in_recovery; /* in fast recovery or RTO recovery */
	/* that subflow's controller and its state (read only: a coupled controller
	 * may read its siblings' state when ops is its own table) */
	const struct mpt_cc_ops *ops;
	const uint64_t *priv;
};

/* The connection a subflow belongs to, filled by the engine before every call of a
 * controller (cc->conn, NULL outside the call): every subflow of the MPTCP connection
 * (first subflow first, dead ones included with usable == false), or a connection of
 * one for plain TCP and MPTCP in fallback.  sf[self] is the subflow of the event, as
 * it was just before the call (cc->cwnd is the live value). */
struct mpt_cc_conn {
	uint32_t nsf;
	uint32_t self;
	struct mpt_cc_sf sf[MPT_CC_MAX_SF];
};

/* What a congestion controller sees and updates; units are bytes. */
struct mpt_cc {
	uint32_t cwnd;
	uint32_t ssthresh;
	uint32_t mss;
	uint32_t flight;  /* on a loss or RTO: RFC 5681's FlightSize (sent, not
			   * cumulatively acknowledged); on an ACK: the RFC 6675 pipe */
	uint64_t srtt_ns; /* smoothed RTT, 0 before the first sample */
	uint64_t min_rtt_ns;
	const struct mpt_cc_conn *conn; /* during a call: the connection (see above) */
	uint64_t priv[8];		/* the algorithm's own state */
};

/* One function pointer per event.  All may be NULL except init; the engine calls
 * on_ack only outside loss recovery.  The ops table must outlive the stack.  Every
 * call sees the connection in cc->conn (coupled controllers: LIA, OLIA, BALIA). */
struct mpt_cc_ops {
	const char *name;
	const char *desc; /* one line, for `mpt-perf -C list` */
	void (*init)(struct mpt_cc *cc, uint64_t now);
	/* `acked` new bytes were cumulatively acknowledged; rtt_ns is this ACK's sample
	 * or 0. */
	void (*on_ack)(struct mpt_cc *cc, uint32_t acked, uint64_t rtt_ns, uint64_t now);
	/* Loss detected by duplicate ACKs / SACK: set ssthresh, and cwnd for recovery. */
	void (*on_congestion)(struct mpt_cc *cc, uint64_t now);
	/* Fast recovery finished (the recovery point was acknowledged). */
	void (*on_recovery_end)(struct mpt_cc *cc, uint64_t now);
	/* Retransmission timeout. */
	void (*on_rto)(struct mpt_cc *cc, uint64_t now);
};

extern const struct mpt_cc_ops mpt_cc_newreno;
extern const struct mpt_cc_ops mpt_cc_cubic;
/* Coupled (MPTCP) controllers; on a connection of one they behave as NewReno. */
extern const struct mpt_cc_ops mpt_cc_lia;   /* RFC 6356 */
extern const struct mpt_cc_ops mpt_cc_olia;  /* Khalili et al., CoNEXT 2012 */
extern const struct mpt_cc_ops mpt_cc_balia; /* Peng et al., IEEE/ACM ToN 2016 */

/* The built-in congestion controllers (mpt_config.cc), in registration order: the
 * name of the i-th and, when desc is not NULL, its one-line description in *desc;
 * NULL past the last. */
const char *mpt_cc_name(unsigned i, const char **desc);

/* ---- the stack ------------------------------------------------------------------------ */
struct mpt_stack;

/* Create a stack.  `env` is copied (its crypto must be complete; the function pointers
 * and contexts must outlive the stack); `cfg` may be NULL for the defaults and is
 * copied (cfg->cc must name a registered algorithm).  Draws the RFC 6528 secret
 * through env->crypto.random_bytes.  Returns 0 and *out, or MPT_EINVAL / MPT_ENOMEM /
 * MPT_ECRYPTO / MPT_ENOENT (unknown cc or scheduler). */
int mpt_stack_new(struct mpt_stack **out, const struct mpt_env *env, const struct mpt_config *cfg);

/* Free the stack and every connection it owns, without sending anything.  NULL is a
 * no-op. */
void mpt_stack_free(struct mpt_stack *st);

/* Register a congestion controller by ops->name (the ops table is borrowed).  The
 * built-ins (mpt_cc_name) are registered at creation.  Returns 0,
 * MPT_EADDRINUSE if the name exists, MPT_ENOMEM when the table is full. */
int mpt_stack_register_cc(struct mpt_stack *st, const struct mpt_cc_ops *ops);

/* The built-in MPTCP schedulers (mpt_config.scheduler), in table order: the name of
 * the i-th and, when desc is not NULL, its one-line description in *desc; NULL past
 * the last. */
const char *mpt_scheduler_name(unsigned i, const char **desc);

/* Whether `spec` ("NAME" or "NAME:ARG") names a scheduler that takes that argument
 * (roundrobin: its burst, 1..64 segments); NULL and "" are the default. */
bool mpt_scheduler_valid(const char *spec);

/* The built-in MPTCP path managers (mpt_config.path_manager), as mpt_scheduler_name. */
const char *mpt_path_manager_name(unsigned i, const char **desc);

/* Whether `spec` ("NAME" or "NAME:ARG") names a path manager that takes that
 * argument (ndiffports: 1..16); NULL and "" are the default, "kernel". */
bool mpt_path_manager_valid(const char *spec);

/* Bind path id `path` (chosen by the caller, < 64) to a local address (port ignored).
 * Packets arriving on the path must be addressed to it; packets of connections bound
 * to it leave on it.  Returns 0, MPT_EINVAL, or MPT_EADDRINUSE if the id is taken. */
int mpt_stack_add_path(struct mpt_stack *st, uint32_t path, const struct mpt_sockaddr *local);

/* Feed one IP datagram that arrived on `path` at `now`.  The bytes are only read
 * during the call.  Malformed, mis-addressed or unwanted packets are dropped and
 * counted; returns 0 if the packet was delivered to TCP, otherwise the negative
 * reason (for tests; I/O loops may ignore it). */
int mpt_stack_recv(struct mpt_stack *st, const uint8_t *pkt, size_t len, uint32_t path,
		   uint64_t now);

/* As mpt_stack_recv, for a datagram whose TCP checksum needs no check: the caller
 * verified it, or the datagram never crossed a wire (a frame the local kernel hands
 * over as CHECKSUM_PARTIAL, or marks DATA_VALID).  The IPv4 header checksum is
 * still checked. */
int mpt_stack_recv_verified(struct mpt_stack *st, const uint8_t *pkt, size_t len, uint32_t path,
			    uint64_t now);

/* Produce the next packet to transmit into buf (cap must be >= the configured MTU),
 * and its path in *path.  Call until it returns 0.  Returns the packet length, 0 when
 * nothing is due now, or MPT_ENOBUFS when cap < MTU. */
ptrdiff_t mpt_stack_send(struct mpt_stack *st, uint8_t *buf, size_t cap, uint32_t *path,
			 uint64_t now);

/* The earliest time at which mpt_stack_handle_expiry has work (a retransmission,
 * delayed ACK, probe, TIME_WAIT end...), or UINT64_MAX when no timer is armed. */
uint64_t mpt_stack_next_timeout(const struct mpt_stack *st);

/* TCP connections of the stack (MPTCP subflows included) not yet finished: in any
 * state but CLOSED, TIME_WAIT and LISTEN, whether the application still holds them
 * or closed them (mpt_close) and they are delivering their data and FIN.  A runtime
 * stopping at exit waits for this to reach 0, as the kernel keeps an orphaned
 * socket sending after its process is gone. */
unsigned mpt_stack_open_conns(const struct mpt_stack *st);

/* Whether a connection (in any state but CLOSED, TIME_WAIT included) or a listener
 * of the stack has local port `port`: a runtime that hands the stack only the
 * segments of the ports it claimed can give the others back. */
bool mpt_stack_port_in_use(const struct mpt_stack *st, uint16_t port);

/* Run the timers that are due at `now`.  Output they cause is fetched with
 * mpt_stack_send.  Calling it early is harmless. */
void mpt_stack_handle_expiry(struct mpt_stack *st, uint64_t now);

/* The stack's counters (live, read-only). */
const struct mpt_counters *mpt_stack_counters(const struct mpt_stack *st);

/* How many times connections went from state `from` to state `to` (enum mpt_state). */
uint64_t mpt_stack_transitions(const struct mpt_stack *st, int from, int to);

/* ---- MPTCP endpoints (the path manager's view of local addresses) -------------------- */
/* Flags: the kernel's MPTCP_PM_ADDR_FLAG_* values, same meaning as `ip mptcp endpoint`. */
#define MPT_EP_SIGNAL	0x1 /* announce the address (ADD_ADDR) on every connection */
#define MPT_EP_SUBFLOW	0x2 /* as a client, open a subflow from it to the peer */
#define MPT_EP_BACKUP	0x4 /* subflows from/to it are backups (MP_JOIN B / MP_PRIO) */
#define MPT_EP_FULLMESH 0x8 /* a subflow from it to every address the peer has */

/* Declare endpoint `id` (1..255; 0 is the address of a connection's first subflow) on
 * the local address of `path` (added with mpt_stack_add_path) with MPT_EP_* flags.
 * Applies to connections established from now on and to live ones (their path
 * manager runs on the next mpt_stack_handle_expiry / send).  Returns 0, MPT_EINVAL
 * (bad id or flags, unknown path), MPT_EADDRINUSE (id taken). */
int mpt_stack_add_endpoint(struct mpt_stack *st, uint8_t id, uint32_t path, uint32_t flags);

/* Remove endpoint `id`: live connections send REMOVE_ADDR for it (if announced) and
 * close their subflows using its address.  Returns 0 or MPT_ENOENT. */
int mpt_stack_del_endpoint(struct mpt_stack *st, uint8_t id, uint64_t now);

/* Change endpoint `id`'s flags; a change of MPT_EP_BACKUP sends MP_PRIO on the live
 * subflows from its address.  Returns 0, MPT_ENOENT or MPT_EINVAL. */
int mpt_stack_set_endpoint_flags(struct mpt_stack *st, uint8_t id, uint32_t flags);

/* Change the MPTCP limits of a running stack (cfg.max_subflows, counting the first
 * subflow, and cfg.max_add_addr_accepted), as `ip mptcp limits set` does for the
 * kernel: connections check them when their path manager runs next; subflows already
 * open stay.  0 for max_subflows is taken as 1.  Returns 0. */
int mpt_stack_set_limits(struct mpt_stack *st, uint8_t max_subflows, uint8_t max_add_addr_accepted);

/* The address of `path` is gone (deleted from the interface): every subflow on that
 * path is closed without sending anything more on it (its data is reinjected on other
 * subflows), endpoints on it are removed as by mpt_stack_del_endpoint, and the path
 * id becomes free.  Returns 0 or MPT_ENOENT. */
int mpt_stack_del_path(struct mpt_stack *st, uint32_t path, uint64_t now);

/* The link under `path` lost (up = false) or regained (up = true) carrier, as
 * rtnetlink's IFF_LOWER_UP says; the address stays.  Carrier lost: the path managers
 * close the subflows on the path (their data is reinjected on the others) and open
 * nothing there; carrier back: they re-open those subflows at once.  Returns 0,
 * MPT_ENOENT (no such path) or MPT_EINVAL. */
int mpt_stack_path_link(struct mpt_stack *st, uint32_t path, bool up, uint64_t now);

/* ---- events ------------------------------------------------------------------------------ */
enum mpt_event_type {
	MPT_EV_CONNECTED = 1, /* conn: handshake completed (active or passive side) */
	MPT_EV_ACCEPTABLE,    /* id is a listener: a connection waits in mpt_accept */
	MPT_EV_READABLE,      /* conn: bytes (or EOF) can be read */
	MPT_EV_WRITABLE,      /* conn: send buffer space opened after MPT_EAGAIN */
	MPT_EV_PEER_CLOSED,   /* conn: peer's FIN received; recv returns 0 after the data */
	MPT_EV_ERROR,	      /* conn: reset / refused / timed out; err holds MPT_E* */
	MPT_EV_CLOSED,	      /* conn: both directions finished (FIN exchanged and acked) */
};

struct mpt_event {
	enum mpt_event_type type;
	uint32_t id;
	int err;
};

/* Pop the oldest application event.  Returns 1 and fills *ev, or 0 if the queue is
 * empty.  Events are edge-triggered hints; mpt_poll gives the level. */
int mpt_stack_poll_event(struct mpt_stack *st, struct mpt_event *ev);

#define MPT_POLLIN  0x1 /* recv would not return MPT_EAGAIN */
#define MPT_POLLOUT 0x2 /* send would accept at least one byte */
#define MPT_POLLHUP 0x4 /* peer sent FIN, or the connection is gone */
#define MPT_POLLERR 0x8 /* connection failed (mpt_conn_info.error says why) */

/* Readiness of a connection or listener (POLLIN = accept would succeed).  Returns the
 * MPT_POLL* mask, or MPT_ENOENT. */
int mpt_poll(const struct mpt_stack *st, uint32_t id);

/* ---- socket-like calls -------------------------------------------------------------------- */

/* Open a connection from `local` (its IP must be a path's address; port 0 picks an
 * ephemeral port) to `remote`, leaving on that path.  The SYN goes out on the next
 * mpt_stack_send.  Returns 0 and *id, MPT_EINVAL, MPT_ENOENT (no path has that local
 * address), MPT_EADDRINUSE, MPT_ENOMEM, MPT_ECRYPTO. */
int mpt_connect(struct mpt_stack *st, const struct mpt_sockaddr *local,
		const struct mpt_sockaddr *remote, uint64_t now, uint32_t *id);

/* As mpt_connect, but plain TCP even on a stack with mpt_config.mptcp (RFC 6897's
 * TCP_MULTIPATH_ENABLE turned off on one socket). */
int mpt_connect_tcp(struct mpt_stack *st, const struct mpt_sockaddr *local,
		    const struct mpt_sockaddr *remote, uint64_t now, uint32_t *id);

/* Listen on `local` (all-zero IP = any path address).  Up to `backlog` established
 * connections wait for mpt_accept; SYNs beyond are dropped (ListenOverflows).
 * Returns 0 and *id, MPT_EINVAL, MPT_EADDRINUSE, MPT_ENOMEM. */
int mpt_listen(struct mpt_stack *st, const struct mpt_sockaddr *local, uint32_t backlog,
	       uint32_t *id);

/* As mpt_listen, but plain TCP on a stack with mpt_config.mptcp: SYNs asking for
 * MP_CAPABLE are answered without it (Linux's IPPROTO_TCP listener).  MP_JOIN SYNs
 * still go to the connection their token names. */
int mpt_listen_tcp(struct mpt_stack *st, const struct mpt_sockaddr *local, uint32_t backlog,
		   uint32_t *id);

/* Take one established connection from listener `lid`.  Returns 0 and *id (the
 * caller now owns it and must mpt_close it), MPT_EAGAIN if none waits, MPT_ENOENT. */
int mpt_accept(struct mpt_stack *st, uint32_t lid, uint32_t *id);

/* Copy up to len bytes into the connection's send buffer.  Returns the number
 * accepted (may be short), MPT_EAGAIN when the buffer is full, MPT_EPIPE after
 * shutdown/close, the connection's error after a failure, MPT_ENOTCONN before the
 * handshake started.  Data may be queued in SYN_SENT / SYN_RECEIVED. */
ptrdiff_t mpt_send(struct mpt_stack *st, uint32_t id, const void *buf, size_t len, uint64_t now);

/* Copy up to len in-order received bytes out.  Returns the number copied, 0 at EOF
 * (peer FIN and everything read), MPT_EAGAIN when nothing is available yet, or the
 * connection's error.  Reading may open the receive window (a window update is then
 * sent by mpt_stack_send). */
ptrdiff_t mpt_recv(struct mpt_stack *st, uint32_t id, void *buf, size_t len, uint64_t now);

#define MPT_SHUT_RD   1
#define MPT_SHUT_WR   2
#define MPT_SHUT_RDWR 3

/* Shut down a direction: WR queues a FIN after the buffered data; RD discards further
 * received data (any that arrives after a full close triggers a RST).  Returns 0,
 * MPT_ENOTCONN, MPT_EINVAL. */
int mpt_shutdown(struct mpt_stack *st, uint32_t id, int how, uint64_t now);

/* Close: the id is invalid on return.  A listener is destroyed (waiting connections
 * are reset).  A connection with unread received data is aborted with a RST
 * (RFC 9293 3.6 / RFC 2525); otherwise a FIN follows the buffered data and the stack
 * finishes the close (FIN_WAIT, TIME_WAIT) on its own.  Returns 0 or MPT_ENOENT. */
int mpt_close(struct mpt_stack *st, uint32_t id, uint64_t now);

/* Close at once with a RST (SO_LINGER 0).  The id is invalid on return. */
int mpt_abort(struct mpt_stack *st, uint32_t id, uint64_t now);

/* "ESTABLISHED" etc.; "?" for an out-of-range value. */
const char *mpt_state_name(int state);

struct mpt_conn_info {
	enum mpt_state state;
	int error; /* 0 or the MPT_E* that ended the connection */
	struct mpt_sockaddr local, remote;
	uint32_t path;
	uint32_t snd_mss, rcv_mss;
	uint8_t snd_wscale, rcv_wscale; /* 0xff when not negotiated */
	bool sack_ok, ts_ok;
	uint32_t cwnd, ssthresh; /* bytes */
	uint64_t srtt_ns, rttvar_ns, rto_ns, min_rtt_ns;
	uint32_t snd_wnd, rcv_wnd;
	uint32_t in_flight; /* bytes */
	/* bytes written and not yet sent (what TCP_NOTSENT_LOWAT bounds): for MPTCP
	 * the data level's, plus what its subflows hold unsent */
	uint64_t notsent;
	uint64_t bytes_sent, bytes_acked, bytes_received, bytes_retrans;
	uint64_t segs_out, segs_in, retrans_segs;
	uint32_t rto_backoff;
	bool in_recovery;
	char cc[16];
	/* For an MPTCP connection the byte and segment counts are the sums over its
	 * subflows, bytes_acked is what the peer DATA_ACKed, in_flight the subflows'
	 * and cwnd the sum over the subflows that can send; the rest describes the
	 * first subflow. */
	bool mptcp;			     /* MPTCP in use (false: plain TCP or fallback) */
	bool mptcp_fallback;		     /* MPTCP was offered / accepted, then fell back */
	bool mptcp_checksum;		     /* DSS checksums in use */
	uint32_t token;			     /* local token (MPTCP) */
	uint64_t data_snd_nxt, data_rcv_nxt; /* 64-bit data-level sequence numbers */
};

/* One subflow of a connection (a plain TCP connection is its own one subflow). */
struct mpt_subflow_info {
	struct mpt_sockaddr local, remote;
	uint32_t path;
	enum mpt_state state;
	bool backup; /* we or the peer asked for backup */
	bool stale;  /* stopped making progress: used only when nothing else is */
	bool dead;   /* reset, closed, or its address gone */
	uint8_t local_id, remote_id;
	uint32_t cwnd; /* bytes */
	uint64_t srtt_ns;
	uint64_t bytes_sent, bytes_acked, bytes_retrans, bytes_received;
	uint64_t retrans_segs;
};

/* Fill up to `max` subflows of connection `id` (first subflow first; subflows
 * already freed are not listed).  Returns how many the connection has (may exceed
 * max), or MPT_ENOENT. */
int mpt_conn_subflows(const struct mpt_stack *st, uint32_t id, struct mpt_subflow_info *out,
		      size_t max);

/* Choose connection `id`'s MPTCP scheduler by name (mpt_scheduler_name), instead of
 * mpt_config.scheduler; takes effect at its next send step, with fresh scheduler
 * state.  Returns 0, MPT_ENOENT (no such connection or scheduler) or MPT_EINVAL (not
 * an MPTCP connection: plain TCP or fallen back). */
int mpt_conn_set_scheduler(struct mpt_stack *st, uint32_t id, const char *name);

/* The name of connection `id`'s MPTCP scheduler, or NULL (no such connection, or not
 * MPTCP). */
const char *mpt_conn_scheduler(const struct mpt_stack *st, uint32_t id);

/* The data-level out-of-order queue of an MPTCP connection's receive side: data that
 * arrived on a subflow ahead of the data-level sequence, held until the gap fills.
 * Updated each time a subflow's in-order data reaches the data level (a placement);
 * nothing here is reset.  The time-weighted mean size is area_byte_ns /
 * (last_ns - first_ns) (the stack's own clock, the `now` of its calls). */
struct mpt_ofo_stats {
	uint64_t bytes;		    /* held out of order now */
	uint64_t peak_bytes;	    /* most held at once */
	uint32_t ranges;	    /* separate ranges now (at most the stack's limit) */
	uint32_t peak_ranges;	    /* most ranges at once */
	uint64_t segments;	    /* placements at the data level */
	uint64_t ofo_segments;	    /* of which arrived ahead of the data-level sequence */
	uint64_t area_byte_ns;	    /* integral of bytes over time, between placements */
	uint64_t first_ns, last_ns; /* first and latest placement */
};

/* Fill *out for connection `id`.  Returns 0, MPT_ENOENT, or MPT_EINVAL (a plain TCP
 * connection: no data level; one that fell back keeps what it had counted). */
int mpt_conn_ofo_stats(const struct mpt_stack *st, uint32_t id, struct mpt_ofo_stats *out);

/* Choose connection `id`'s MPTCP path manager ("NAME[:ARG]", mpt_path_manager_name)
 * instead of mpt_config.path_manager, before it is fully established.  Returns 0,
 * MPT_ENOENT (no such connection or path manager) or MPT_EINVAL (not MPTCP, or its
 * path manager already started). */
int mpt_conn_set_path_manager(struct mpt_stack *st, uint32_t id, const char *spec);

/* The name of connection `id`'s path manager (without its argument), or NULL. */
const char *mpt_conn_path_manager(const struct mpt_stack *st, uint32_t id);

/* Snapshot of one connection.  Returns 0 or MPT_ENOENT. */
int mpt_conn_info(const struct mpt_stack *st, uint32_t id, struct mpt_conn_info *info);

/* The data level of an MPTCP connection, for Linux's MPTCP_INFO (struct mptcp_info). */
struct mpt_mptcp_conn_info {
	uint8_t subflows;	       /* live subflows, the first included */
	bool first_alive;	       /* the first (MP_CAPABLE) subflow is one of them */
	uint8_t add_addr_signal;       /* our endpoints announced on this connection */
	uint8_t add_addr_accepted;     /* peer's ADD_ADDRs acted upon */
	uint8_t subflows_max;	       /* additional subflows allowed (max_subflows - 1) */
	uint8_t add_addr_signal_max;   /* signal endpoints of the stack */
	uint8_t add_addr_accepted_max; /* cfg.max_add_addr_accepted */
	uint8_t local_addr_used;       /* live joins from an endpoint's address */
	uint8_t local_addr_max;	       /* subflow endpoints of the stack */
	bool fallback, remote_key_known, csum;
	uint32_t token;
	uint64_t write_seq, snd_una, rcv_nxt; /* 64-bit data sequence numbers */
	uint64_t bytes_received;	      /* in order at the data level */
};

/* Fill *o for MPTCP connection `id` (also after a fallback: o->fallback).  Returns 0,
 * MPT_ENOENT, or MPT_EINVAL for a plain TCP connection. */
int mpt_conn_mptcp_info(const struct mpt_stack *st, uint32_t id, struct mpt_mptcp_conn_info *o);

/* RFC 6897 TCP_MULTIPATH_ADD: open a subflow (MP_JOIN) of MPTCP connection `id` from
 * the path whose address is local's IP (its port is ignored) to `remote` (NULL: the
 * first subflow's peer address and port), as a backup if asked.  Returns 0,
 * MPT_ENOENT (no such connection, or no path has that address), MPT_ESTATE (not
 * MPTCP, fallen back, failed, or not fully established yet), MPT_EINVAL (families
 * differ), MPT_ENOBUFS (subflow limit) or the error of opening it. */
int mpt_conn_add_subflow(struct mpt_stack *st, uint32_t id, const struct mpt_sockaddr *local,
			 const struct mpt_sockaddr *remote, bool backup, uint64_t now);

/* RFC 6897 TCP_MULTIPATH_REMOVE: close connection `id`'s live subflows from local's
 * IP (and port, when not 0) with a RST (REMOVE_ADDR id 0 for the first subflow's
 * address); their unacknowledged data goes again on the others.  Returns how many
 * were closed (0: none matched), MPT_ENOENT or MPT_ESTATE (not MPTCP). */
int mpt_conn_remove_subflows(struct mpt_stack *st, uint32_t id, const struct mpt_sockaddr *local,
			     uint64_t now);

#endif
