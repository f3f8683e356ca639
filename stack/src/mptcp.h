/* MPTCP connection level (RFC 8684) above one TCP control block.
 *
 * Today one subflow: the connection is created with its first subflow (mpt_connect
 * with cfg.mptcp, or a listener receiving an MP_CAPABLE SYN), negotiates MP_CAPABLE
 * v1 and then maps every data segment with a DSS option.  With a single subflow the
 * data sequence space is the subflow's byte stream shifted by the IDSN, so the map is
 * linear: DSN = IDSN + (subflow seq - ISN).  Sequence numbers at the data level are
 * 64 bits (Linux sends 8-octet DSNs and DATA_ACKs; so do we).
 *
 * Hooks, called by stack.c around the TCP engine:
 *   mptcp_input_pre    before tcp_input: parse kind-30 options, run the handshake
 *                      (keys, fallback decisions), validate mappings, take DATA_ACKs;
 *   mptcp_input_post   after tcp_input: a DATA_FIN that is now in order ends the
 *                      stream for the application;
 *   mptcp_output       after tcp_output: add this segment's MPTCP options in the
 *                      option space the TCP engine kept (tcb.ulp_opt_reserve).
 * Fallback (RFC 8684 3.7) drops the MPTCP options and gives the reserve back.
 */
#ifndef MPT_MPTCP_H
#define MPT_MPTCP_H

#include "mptcp_opt.h"
#include "tcp.h"

/* Option bytes kept on every segment: DSS with an 8-octet DATA_ACK and an 8-octet
 * DSN mapping (4 + 8 + 8 + 4 + 2 = 26, padded to 28). */
#define MPTCP_OPT_RESERVE 28

struct mptcp_conn {
	bool server;
	bool fallback;		/* plain TCP from now on */
	bool fully_established; /* the peer has our key / we saw its DSS (RFC 8684 3.1) */
	bool remote_key_known;
	uint64_t local_key, remote_key;
	uint32_t local_token, remote_token;
	uint64_t local_idsn, remote_idsn;

	bool seq_init;
	/* send side: DSN of the subflow's byte (iss + 1) is local_idsn + 1 */
	uint32_t snd_base32;   /* a subflow sequence number ... */
	uint64_t snd_base64;   /* ... and its offset from iss + 1, unwrapped */
	uint64_t snd_data_ack; /* the peer's latest DATA_ACK */
	bool data_fin_sent;

	/* receive side */
	uint32_t rcv_base32;
	uint64_t rcv_base64;
	bool data_fin_rcvd, data_fin_in_order;
	uint64_t rcv_data_fin_seq;
};

/* Attach a fresh connection object to t (active open, or a passive open whose SYN
 * carried MP_CAPABLE): draws the local key from the injected random source, retrying
 * while its token collides with another connection's in the stack, and reserves the
 * option space.  Returns 0, MPT_ENOMEM or MPT_ECRYPTO. */
int mptcp_attach(struct tcb *t, bool server);

/* Free t->mp (NULL is fine) and clear it. */
void mptcp_detach(struct tcb *t);

/* Whether a SYN reaching a listener should get an MPTCP connection: MP_CAPABLE v1
 * without the checksum flag (A is politely refused: plain TCP).  Counts
 * MPCapableSYNRX. */
bool mptcp_syn_wants_mptcp(struct mpt_stack *st, const struct wire_tcp_repr *syn);

/* The hooks described at the top.  input_pre leaves the segment's parsed options
 * in *m (for the caller's use). */
void mptcp_input_pre(struct tcb *t, const struct wire_tcp_repr *seg, struct mptcp_opts *m);
void mptcp_input_post(struct tcb *t);
void mptcp_output(struct tcb *t, struct wire_tcp_repr *seg);

/* Fill the MPTCP fields of an info snapshot. */
void mptcp_info(const struct tcb *t, struct mpt_conn_info *info);

/* 64-bit data-level sequence numbers (for tests and info). */
uint64_t mptcp_data_rcv_nxt(struct tcb *t);
uint64_t mptcp_data_snd_nxt(struct tcb *t);

#endif
