/* MPTCP option codec (RFC 8684 section 3; TCP option kind 30).
 *
 * One decode / encode / len function per suboption, as the TCP option codecs in
 * wire.h: decode gets p at the kind byte and `len` bytes available, checks the exact
 * length for the subtype and flags, fills the suboption's struct and says which form
 * it found; it returns the option length, MPT_EMALFORMED (wrong or truncated length)
 * or MPT_EUNSUPP (unknown subtype, unsupported version or flags).  encode writes
 * exactly len() bytes and returns that, or MPT_ENOBUFS / MPT_EINVAL.  Nothing here
 * allocates.
 *
 * A segment's MPTCP options are one struct mptcp_opts whose `suboptions` bitmask
 * says which members are valid (as Linux's struct mptcp_options_received).
 * mptcp_opts_parse turns the engine's raw kind-30 options (wire_tcp_opts.mptcp)
 * into one, dropping and counting what is malformed, unknown or in conflict;
 * mptcp_opts_emit goes the other way, choosing what fits in the option space by the
 * compatibility matrix in mptcp_opt.c.
 */
#ifndef MPT_MPTCP_OPT_H
#define MPT_MPTCP_OPT_H

#include "mpt.h"
#include "wire.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- subtypes (RFC 8684 7.2 / IANA) ---- */
#define MPTCP_SUB_CAPABLE   0x0
#define MPTCP_SUB_JOIN	    0x1
#define MPTCP_SUB_DSS	    0x2
#define MPTCP_SUB_ADD_ADDR  0x3
#define MPTCP_SUB_RM_ADDR   0x4
#define MPTCP_SUB_PRIO	    0x5
#define MPTCP_SUB_FAIL	    0x6
#define MPTCP_SUB_FASTCLOSE 0x7
#define MPTCP_SUB_TCPRST    0x8

/* ---- suboption bits (the forms; Linux's OPTION_MPTCP_* numbering) ---- */
#define MPTCP_OPT_MPC_SYN    (1u << 0)
#define MPTCP_OPT_MPC_SYNACK (1u << 1)
#define MPTCP_OPT_MPC_ACK    (1u << 2) /* third ACK, or ACK + data (mpc.has_data_len) */
#define MPTCP_OPT_MPJ_SYN    (1u << 3)
#define MPTCP_OPT_MPJ_SYNACK (1u << 4)
#define MPTCP_OPT_MPJ_ACK    (1u << 5)
#define MPTCP_OPT_ADD_ADDR   (1u << 6)
#define MPTCP_OPT_RM_ADDR    (1u << 7)
#define MPTCP_OPT_FASTCLOSE  (1u << 8)
#define MPTCP_OPT_PRIO	     (1u << 9)
#define MPTCP_OPT_RST	     (1u << 10)
#define MPTCP_OPT_DSS	     (1u << 11)
#define MPTCP_OPT_FAIL	     (1u << 12)
#define MPTCP_OPT_MPC	     (MPTCP_OPT_MPC_SYN | MPTCP_OPT_MPC_SYNACK | MPTCP_OPT_MPC_ACK)
#define MPTCP_OPT_MPJ	     (MPTCP_OPT_MPJ_SYN | MPTCP_OPT_MPJ_SYNACK | MPTCP_OPT_MPJ_ACK)

/* ---- exact lengths (kind and length bytes included) ---- */
#define MPTCP_LEN_MPC_SYN	    4
#define MPTCP_LEN_MPC_SYNACK	    12
#define MPTCP_LEN_MPC_ACK	    20
#define MPTCP_LEN_MPC_ACK_DATA	    22
#define MPTCP_LEN_MPC_ACK_DATA_CSUM 24
#define MPTCP_LEN_MPJ_SYN	    12
#define MPTCP_LEN_MPJ_SYNACK	    16
#define MPTCP_LEN_MPJ_ACK	    24
#define MPTCP_LEN_DSS_BASE	    4
#define MPTCP_LEN_RM_ADDR_BASE	    3
#define MPTCP_RM_IDS_MAX	    8 /* Linux's MPTCP_RM_IDS_MAX */
#define MPTCP_LEN_PRIO		    3
#define MPTCP_LEN_FAIL		    12
#define MPTCP_LEN_FASTCLOSE	    12
#define MPTCP_LEN_TCPRST	    4

#define MPTCP_VERSION 1

/* MP_CAPABLE flags (RFC 8684 3.1: A B C D E F G H, A is the high bit) */
#define MPTCP_MPC_A	    0x80 /* checksum required */
#define MPTCP_MPC_B	    0x40 /* extensibility; must be 0 in v1 */
#define MPTCP_MPC_C	    0x20 /* do not open subflows to the source address */
#define MPTCP_MPC_H	    0x01 /* HMAC-SHA256; required */
/* D E F G H: H must be the only one set (Linux's MPTCP_CAP_FLAG_MASK) */
#define MPTCP_MPC_FLAG_MASK 0x1f

/* DSS flags (RFC 8684 3.3, the low five bits of the fourth octet) */
#define MPTCP_DSS_A 0x01 /* DATA_ACK present */
#define MPTCP_DSS_a 0x02 /* DATA_ACK is 8 octets */
#define MPTCP_DSS_M 0x04 /* mapping present (DSN, subflow seq, length[, checksum]) */
#define MPTCP_DSS_m 0x08 /* DSN is 8 octets */
#define MPTCP_DSS_F 0x10 /* DATA_FIN */

/* MP_TCPRST flags (RFC 8684 3.6) */
#define MPTCP_RST_U 0x8
#define MPTCP_RST_V 0x4
#define MPTCP_RST_W 0x2
#define MPTCP_RST_T 0x1 /* transient */

struct mptcp_opt_mpc {
	uint8_t version; /* decode: as received; encode: written as given */
	uint8_t flags;	 /* MPTCP_MPC_* */
	uint64_t sndr_key, rcvr_key;
	bool has_data_len; /* MPC_ACK only: the ACK + data form */
	uint16_t data_len;
	bool has_csum; /* with has_data_len */
	uint16_t csum;
};

struct mptcp_opt_mpj {
	bool backup;	  /* SYN, SYN-ACK */
	uint8_t addr_id;  /* SYN, SYN-ACK */
	uint32_t token;	  /* SYN */
	uint32_t nonce;	  /* SYN, SYN-ACK */
	uint64_t thmac;	  /* SYN-ACK: leftmost 64 bits of the HMAC */
	uint8_t hmac[20]; /* ACK: leftmost 160 bits */
};

struct mptcp_opt_dss {
	uint8_t flags; /* MPTCP_DSS_*; a / m only count when A / M are set */
	uint64_t data_ack;
	uint64_t data_seq;
	uint32_t subflow_seq; /* relative to the subflow's ISN */
	uint16_t data_len;
	bool has_csum; /* with M */
	uint16_t csum;
};

struct mptcp_opt_add_addr {
	bool echo; /* E: an echo carries no HMAC */
	uint8_t id;
	uint8_t family; /* MPT_AF_INET / MPT_AF_INET6 */
	uint8_t addr[16];
	bool has_port;
	uint16_t port;
	uint64_t hmac; /* rightmost 64 bits; only when !echo */
};

struct mptcp_opt_rm_addr {
	uint8_t nids; /* 1..MPTCP_RM_IDS_MAX */
	uint8_t ids[MPTCP_RM_IDS_MAX];
};

struct mptcp_opt_prio {
	bool backup;
};

struct mptcp_opt_fail {
	uint64_t dsn;
};

struct mptcp_opt_fastclose {
	uint64_t rcvr_key;
};

struct mptcp_opt_rst {
	uint8_t flags; /* MPTCP_RST_* */
	uint8_t reason;
};

/* All the MPTCP options of one segment. */
struct mptcp_opts {
	uint32_t suboptions; /* MPTCP_OPT_* */
	struct mptcp_opt_mpc mpc;
	struct mptcp_opt_mpj mpj;
	struct mptcp_opt_dss dss;
	struct mptcp_opt_add_addr add_addr;
	struct mptcp_opt_rm_addr rm_addr;
	struct mptcp_opt_prio prio;
	struct mptcp_opt_fail fail;
	struct mptcp_opt_fastclose fastclose;
	struct mptcp_opt_rst rst;
};

/* ---- per-suboption codecs ----
 * MP_CAPABLE and MP_JOIN have several forms told apart by length (the TCP flags
 * decide which one is allowed: mptcp_opts_parse checks that); `form` is one
 * MPTCP_OPT_MPC_* / MPTCP_OPT_MPJ_* bit. */
ptrdiff_t mptcp_mpc_decode(struct mptcp_opt_mpc *m, uint32_t *form, const uint8_t *p, size_t len);
ptrdiff_t mptcp_mpc_encode(uint8_t *p, size_t cap, uint32_t form, const struct mptcp_opt_mpc *m);
size_t mptcp_mpc_len(uint32_t form, const struct mptcp_opt_mpc *m); /* 0: bad form */

ptrdiff_t mptcp_mpj_decode(struct mptcp_opt_mpj *m, uint32_t *form, const uint8_t *p, size_t len);
ptrdiff_t mptcp_mpj_encode(uint8_t *p, size_t cap, uint32_t form, const struct mptcp_opt_mpj *m);
size_t mptcp_mpj_len(uint32_t form); /* 0: bad form */

ptrdiff_t mptcp_dss_decode(struct mptcp_opt_dss *d, const uint8_t *p, size_t len);
ptrdiff_t mptcp_dss_encode(uint8_t *p, size_t cap, const struct mptcp_opt_dss *d);
size_t mptcp_dss_len(const struct mptcp_opt_dss *d);

ptrdiff_t mptcp_add_addr_decode(struct mptcp_opt_add_addr *a, const uint8_t *p, size_t len);
ptrdiff_t mptcp_add_addr_encode(uint8_t *p, size_t cap, const struct mptcp_opt_add_addr *a);
size_t mptcp_add_addr_len(const struct mptcp_opt_add_addr *a); /* 0: bad family */

ptrdiff_t mptcp_rm_addr_decode(struct mptcp_opt_rm_addr *r, const uint8_t *p, size_t len);
ptrdiff_t mptcp_rm_addr_encode(uint8_t *p, size_t cap, const struct mptcp_opt_rm_addr *r);
size_t mptcp_rm_addr_len(const struct mptcp_opt_rm_addr *r); /* 0: bad nids */

/* RFC 8684 3.3.8: length 3, no address id (RFC 6824's 4-octet form with an id is
 * gone); Linux accepts only length 3, so do we. */
ptrdiff_t mptcp_prio_decode(struct mptcp_opt_prio *pr, const uint8_t *p, size_t len);
ptrdiff_t mptcp_prio_encode(uint8_t *p, size_t cap, const struct mptcp_opt_prio *pr);
size_t mptcp_prio_len(void);

ptrdiff_t mptcp_fail_decode(struct mptcp_opt_fail *f, const uint8_t *p, size_t len);
ptrdiff_t mptcp_fail_encode(uint8_t *p, size_t cap, const struct mptcp_opt_fail *f);
size_t mptcp_fail_len(void);

ptrdiff_t mptcp_fastclose_decode(struct mptcp_opt_fastclose *f, const uint8_t *p, size_t len);
ptrdiff_t mptcp_fastclose_encode(uint8_t *p, size_t cap, const struct mptcp_opt_fastclose *f);
size_t mptcp_fastclose_len(void);

ptrdiff_t mptcp_rst_decode(struct mptcp_opt_rst *r, const uint8_t *p, size_t len);
ptrdiff_t mptcp_rst_encode(uint8_t *p, size_t cap, const struct mptcp_opt_rst *r);
size_t mptcp_rst_len(void);

/* ---- one suboption by bit ---- */

/* Decode one kind-30 option at p[0..len) into the matching member of *m (other
 * members and m->suboptions untouched); *bit gets its MPTCP_OPT_* bit.  Returns the
 * option length or MPT_EMALFORMED / MPT_EUNSUPP as the per-suboption decoders. */
ptrdiff_t mptcp_subopt_decode(struct mptcp_opts *m, uint32_t *bit, const uint8_t *p, size_t len);

/* Length / encoding of the suboption named by one MPTCP_OPT_* bit, taken from m.
 * len returns 0 for an invalid bit or contents. */
size_t mptcp_subopt_len(const struct mptcp_opts *m, uint32_t bit);
ptrdiff_t mptcp_subopt_encode(uint8_t *p, size_t cap, const struct mptcp_opts *m, uint32_t bit);

/* ---- a segment ---- */

/* Whether suboption bits a and b may share one segment (mptcp_opt.c's matrix).
 * `input`: the receive-side rule (Linux accepts the "P" pairs a peer may send);
 * otherwise what we emit. */
bool mptcp_opts_compatible(uint32_t a, uint32_t b, bool input);

/* Turn the engine's raw kind-30 options into *m (zeroed first).  `tcp_flags`
 * (WIRE_TCP_*) and `payload_len` choose which MP_CAPABLE / MP_JOIN forms are
 * allowed, as Linux's mptcp_parse_option (MP_CAPABLE: SYN form on SYN, SYN-ACK form
 * on SYN+ACK, ACK+data form iff the segment carries payload; MP_TCPRST only on a
 * RST; MP_JOIN forms on the matching SYN / SYN+ACK / ACK, which Linux checks later
 * in subflow.c rather than in the parser).  Each raw option that is malformed, of the
 * wrong form for the flags, unknown, a duplicate or in conflict with an earlier one
 * is ignored and counted in *ctr (may be NULL): mptcp_opt_malformed,
 * mptcp_opt_unknown, mptcp_opt_conflict.  Never fails; returns how many suboptions
 * were accepted. */
int mptcp_opts_parse(struct mptcp_opts *m, const struct wire_tcp_opts *o, uint8_t tcp_flags,
		     size_t payload_len, struct mpt_counters *ctr);

/* Emit what fits: from the suboptions `want` asks for, pick in Linux's order (on a
 * RST: FASTCLOSE or FAIL, then TCPRST; otherwise MP_CAPABLE or MP_JOIN or DSS [+
 * FAIL], then ADD_ADDR or else RM_ADDR, then MP_PRIO) those compatible with what is
 * already chosen and that fit in `space` bytes (each option padded to 4, as
 * wire_tcp_opts_len counts them) and in o's free raw slots; append them to o.
 * Returns the bitmask of suboptions written (the caller keeps the rest pending). */
/* Make room for the MPTCP options of *w before mptcp_opts_emit: the suboptions
 * that must reach the peer (a DSS's DATA_ACK and mapping, MP_FAIL, ADD_ADDR and its
 * echo, REMOVE_ADDR, MP_PRIO) fit or wait for a segment of their own.  SACK blocks
 * in *o are dropped from the end while the planned options do not fit (MPTCP
 * before SACK, as Linux's tcp_established_options).  On a segment without payload
 * whose signals (ADD_ADDR, RM_ADDR, MP_PRIO) or MP_FAIL still do not fit, the DSS's
 * DATA_FIN mapping is taken off (it goes on a later ACK), then, for a signal that
 * fits alone, the DSS itself (Linux's drop_other_suboptions for ADD_ADDR on a pure
 * ACK); a signal that fits nowhere leaves the rest as it was.  SYN and RST
 * segments are left alone.  *gave_up gets MPTCP_FIT_* bits for what was given up.
 * Returns the option space left for mptcp_opts_emit. */
#define MPTCP_FIT_SACK	   0x1u /* SACK blocks dropped */
#define MPTCP_FIT_DATA_FIN 0x2u /* the DATA_FIN mapping waits */
#define MPTCP_FIT_DSS	   0x4u /* the DSS waits */
size_t mptcp_opts_fit(struct mptcp_opts *w, uint8_t tcp_flags, size_t payload_len,
		      struct wire_tcp_opts *o, uint32_t *gave_up);

uint32_t mptcp_opts_emit(const struct mptcp_opts *want, uint8_t tcp_flags, size_t space,
			 struct wire_tcp_opts *o);

#endif
