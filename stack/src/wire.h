/* Wire codecs: IPv4, IPv6, TCP header and TCP options.
 *
 * Two layers, as smoltcp's Packet/Repr: a *checked view* step (wire_*_parse) that
 * validates lengths and checksums of raw bytes and fills a *repr* (the parsed form,
 * plain host-order fields); and an *emit* step that writes a repr into an exact-size
 * buffer.  Each TCP option has its own decode / encode / len function (ngtcp2 style):
 * decode returns the bytes consumed or a negative MPT_E*; encode returns the bytes
 * written (always == len) or MPT_ENOBUFS.  Nothing here allocates or counts: the
 * caller counts what the negative codes mean.
 */
#ifndef MPT_WIRE_H
#define MPT_WIRE_H

#include "mpt.h"

#include <stddef.h>
#include <stdint.h>

/* ---- byte helpers ---- */
static inline uint16_t wire_get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}
static inline uint32_t wire_get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline void wire_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline void wire_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* ---- Internet checksum (RFC 1071) ---- */
/* Add len bytes to a running 32-bit sum (an odd tail is padded with a zero byte). */
uint32_t wire_csum_add(uint32_t sum, const uint8_t *p, size_t len);
/* Fold and complement. */
uint16_t wire_csum_fold(uint32_t sum);

/* ---- IP ---- */
#define WIRE_IPV4_HDR_LEN 20
#define WIRE_IPV6_HDR_LEN 40
#define WIRE_PROTO_TCP	  6

struct wire_ip_repr {
	uint8_t family; /* MPT_AF_INET / MPT_AF_INET6 */
	uint8_t proto;	/* next header */
	uint8_t ttl;	/* hop limit */
	uint8_t tos;	/* traffic class */
	uint16_t ident; /* IPv4 identification (emit only) */
	uint8_t src[16], dst[16];
	uint32_t payload_len; /* L4 bytes following the header */
	/* emit only: leave the TCP checksum to the I/O layer -- the field gets the
	 * pseudo-header sum, not inverted (Linux's CHECKSUM_PARTIAL form) */
	bool csum_partial;
};

/* Validate an IPv4 or IPv6 header at p[0..len) (version nibble picks which) and fill
 * r.  IPv4: version, IHL >= 5, total length within len, header checksum, no
 * fragments (MPT_EUNSUPP); options are skipped.  IPv6: payload length within len; a
 * next header other than TCP is returned as-is in r->proto (no extension-header walk).
 * Bytes beyond the IP total length (link padding) are ignored.  Returns the header
 * length, MPT_EMALFORMED, MPT_ECSUM or MPT_EUNSUPP. */
ptrdiff_t wire_ip_parse(struct wire_ip_repr *r, const uint8_t *p, size_t len);

/* Header length r would emit (20 or 40). */
size_t wire_ip_hdr_len(const struct wire_ip_repr *r);

/* Write the header of r (IPv4 with DF set and its checksum).  Returns the header
 * length or MPT_ENOBUFS / MPT_EINVAL. */
ptrdiff_t wire_ip_emit(const struct wire_ip_repr *r, uint8_t *buf, size_t cap);

/* Sum of the TCP/UDP pseudo-header (RFC 9293 3.1 for IPv4, RFC 8200 8.1 for IPv6)
 * for an upper-layer length l4len. */
uint32_t wire_ip_pseudo_sum(const struct wire_ip_repr *r, uint32_t l4len);

/* ---- TCP header ---- */
#define WIRE_TCP_HDR_LEN 20
#define WIRE_TCP_MAX_OPT 40

#define WIRE_TCP_FIN 0x01
#define WIRE_TCP_SYN 0x02
#define WIRE_TCP_RST 0x04
#define WIRE_TCP_PSH 0x08
#define WIRE_TCP_ACK 0x10
#define WIRE_TCP_URG 0x20
#define WIRE_TCP_ECE 0x40
#define WIRE_TCP_CWR 0x80

/* option kinds */
#define WIRE_OPT_EOL	   0
#define WIRE_OPT_NOP	   1
#define WIRE_OPT_MSS	   2
#define WIRE_OPT_WS	   3
#define WIRE_OPT_SACK_PERM 4
#define WIRE_OPT_SACK	   5
#define WIRE_OPT_TS	   8
#define WIRE_OPT_MPTCP	   30

/* exact option lengths */
#define WIRE_OPT_MSS_LEN	 4
#define WIRE_OPT_WS_LEN		 3
#define WIRE_OPT_SACK_PERM_LEN	 2
#define WIRE_OPT_TS_LEN		 10
#define WIRE_OPT_SACK_MAX_BLOCKS 4
#define WIRE_OPT_MPTCP_MAX	 4  /* kind-30 options kept per segment */
#define WIRE_OPT_MPTCP_MAX_LEN	 40 /* bytes incl. kind and length */
/* RFC 7323 2.3: "the shift.cnt value... If a Window Scale option is received with a
 * shift.cnt value larger than 14, the TCP SHOULD log the error but MUST use 14". */
#define WIRE_WS_MAX		 14

/* present bits */
#define WIRE_HAS_MSS	   0x01
#define WIRE_HAS_WS	   0x02
#define WIRE_HAS_SACK_PERM 0x04
#define WIRE_HAS_SACK	   0x08
#define WIRE_HAS_TS	   0x10
#define WIRE_HAS_MPTCP	   0x20

struct wire_sack_block {
	uint32_t left, right;
};

/* One MPTCP option carried opaquely (kind 30): len includes kind and length bytes,
 * data[0] == 30.  The MPTCP codec (next step) interprets it. */
struct wire_mptcp_raw {
	uint8_t len;
	uint8_t data[WIRE_OPT_MPTCP_MAX_LEN];
};

struct wire_tcp_opts {
	uint32_t present;
	uint16_t mss;
	uint8_t wscale;
	uint8_t nsack;
	uint32_t tsval, tsecr;
	struct wire_sack_block sack[WIRE_OPT_SACK_MAX_BLOCKS];
	uint8_t nmptcp;
	struct wire_mptcp_raw mptcp[WIRE_OPT_MPTCP_MAX];
	/* decode-side notes (not emitted) */
	uint8_t n_malformed; /* known kinds with a wrong length: ignored */
	uint8_t n_unknown;   /* unknown kinds: skipped */
};

struct wire_tcp_repr {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t window; /* raw, unscaled */
	uint16_t urg;
	struct wire_tcp_opts opt;
	const uint8_t *payload;
	size_t payload_len;
};

/* Per-option codecs.  decode gets p at the kind byte and `len` bytes available. */
ptrdiff_t wire_opt_mss_decode(uint16_t *mss, const uint8_t *p, size_t len);
ptrdiff_t wire_opt_mss_encode(uint8_t *p, size_t cap, uint16_t mss);
size_t wire_opt_mss_len(void);
ptrdiff_t wire_opt_ws_decode(uint8_t *shift, const uint8_t *p, size_t len);
ptrdiff_t wire_opt_ws_encode(uint8_t *p, size_t cap, uint8_t shift);
size_t wire_opt_ws_len(void);
ptrdiff_t wire_opt_sack_perm_decode(const uint8_t *p, size_t len);
ptrdiff_t wire_opt_sack_perm_encode(uint8_t *p, size_t cap);
size_t wire_opt_sack_perm_len(void);
ptrdiff_t wire_opt_sack_decode(struct wire_sack_block *blocks, uint8_t *n, const uint8_t *p,
			       size_t len);
ptrdiff_t wire_opt_sack_encode(uint8_t *p, size_t cap, const struct wire_sack_block *blocks,
			       uint8_t n);
size_t wire_opt_sack_len(uint8_t n);
ptrdiff_t wire_opt_ts_decode(uint32_t *tsval, uint32_t *tsecr, const uint8_t *p, size_t len);
ptrdiff_t wire_opt_ts_encode(uint8_t *p, size_t cap, uint32_t tsval, uint32_t tsecr);
size_t wire_opt_ts_len(void);
ptrdiff_t wire_opt_mptcp_decode(struct wire_mptcp_raw *raw, const uint8_t *p, size_t len);
ptrdiff_t wire_opt_mptcp_encode(uint8_t *p, size_t cap, const struct wire_mptcp_raw *raw);
size_t wire_opt_mptcp_len(const struct wire_mptcp_raw *raw);

/* Decode an option list.  Structural damage (a length byte < 2 or running past the
 * end) fails the whole list with MPT_EMALFORMED; a known kind with the wrong length is
 * ignored and noted in n_malformed (as Linux ignores it); unknown kinds are skipped
 * (n_unknown).  Returns 0 or MPT_EMALFORMED. */
int wire_tcp_opts_decode(struct wire_tcp_opts *o, const uint8_t *p, size_t len);

/* Bytes the option list takes when encoded, padded to a multiple of 4.  The layout
 * is Linux's: MSS, [SACK_PERM|NOP NOP] TS, NOP WS, NOP NOP SACK, then each MPTCP
 * option padded with NOPs; exactly what wire_tcp_opts_encode writes. */
size_t wire_tcp_opts_len(const struct wire_tcp_opts *o);

/* Encode; returns wire_tcp_opts_len(o) or MPT_ENOBUFS / MPT_EINVAL (over 40 bytes). */
ptrdiff_t wire_tcp_opts_encode(uint8_t *p, size_t cap, const struct wire_tcp_opts *o);

/* Validate a TCP segment at p[0..len) (len = the IP payload length): header length,
 * data offset, and, when ip != NULL, the checksum over the pseudo-header.  Fills r
 * (payload points into p).  Returns the TCP header length, MPT_EMALFORMED (header or
 * option list) or MPT_ECSUM. */
ptrdiff_t wire_tcp_parse(struct wire_tcp_repr *r, const uint8_t *p, size_t len,
			 const struct wire_ip_repr *ip);

/* Header + options length r emits. */
size_t wire_tcp_hdr_len(const struct wire_tcp_repr *r);

/* Write header, options and payload, and the checksum when ip != NULL (only the
 * pseudo-header part when ip->csum_partial).  Returns the segment length or
 * MPT_ENOBUFS / MPT_EINVAL. */
ptrdiff_t wire_tcp_emit(const struct wire_tcp_repr *r, const struct wire_ip_repr *ip, uint8_t *buf,
			size_t cap);

/* Emit a whole IP datagram: ip->payload_len is set from tcp.  Returns its length. */
ptrdiff_t wire_packet_emit(struct wire_ip_repr *ip, const struct wire_tcp_repr *tcp, uint8_t *buf,
			   size_t cap);

/* Parse a whole IP datagram carrying TCP.  Returns the TCP payload length, or a
 * negative code (MPT_EUNSUPP for a non-TCP protocol). */
ptrdiff_t wire_packet_parse(struct wire_ip_repr *ip, struct wire_tcp_repr *tcp, const uint8_t *p,
			    size_t len);

#endif
