/* TCP header and option codec.  One decode / encode / len per option. */
#include "wire.h"

#include <assert.h>
#include <string.h>

/* ---- MSS (RFC 9293 3.2): kind 2, length 4 ---- */
ptrdiff_t wire_opt_mss_decode(uint16_t *mss, const uint8_t *p, size_t len)
{
	if (len < WIRE_OPT_MSS_LEN || p[0] != WIRE_OPT_MSS || p[1] != WIRE_OPT_MSS_LEN)
		return MPT_EMALFORMED;
	*mss = wire_get16(p + 2);
	return WIRE_OPT_MSS_LEN;
}

ptrdiff_t wire_opt_mss_encode(uint8_t *p, size_t cap, uint16_t mss)
{
	if (cap < WIRE_OPT_MSS_LEN)
		return MPT_ENOBUFS;
	p[0] = WIRE_OPT_MSS;
	p[1] = WIRE_OPT_MSS_LEN;
	wire_put16(p + 2, mss);
	return WIRE_OPT_MSS_LEN;
}

size_t wire_opt_mss_len(void)
{
	return WIRE_OPT_MSS_LEN;
}

/* ---- Window scale (RFC 7323 2.2): kind 3, length 3 ---- */
ptrdiff_t wire_opt_ws_decode(uint8_t *shift, const uint8_t *p, size_t len)
{
	if (len < WIRE_OPT_WS_LEN || p[0] != WIRE_OPT_WS || p[1] != WIRE_OPT_WS_LEN)
		return MPT_EMALFORMED;
	*shift = p[2];
	return WIRE_OPT_WS_LEN;
}

ptrdiff_t wire_opt_ws_encode(uint8_t *p, size_t cap, uint8_t shift)
{
	if (cap < WIRE_OPT_WS_LEN)
		return MPT_ENOBUFS;
	p[0] = WIRE_OPT_WS;
	p[1] = WIRE_OPT_WS_LEN;
	p[2] = shift;
	return WIRE_OPT_WS_LEN;
}

size_t wire_opt_ws_len(void)
{
	return WIRE_OPT_WS_LEN;
}

/* ---- SACK-permitted (RFC 2018 2): kind 4, length 2 ---- */
ptrdiff_t wire_opt_sack_perm_decode(const uint8_t *p, size_t len)
{
	if (len < WIRE_OPT_SACK_PERM_LEN || p[0] != WIRE_OPT_SACK_PERM ||
	    p[1] != WIRE_OPT_SACK_PERM_LEN)
		return MPT_EMALFORMED;
	return WIRE_OPT_SACK_PERM_LEN;
}

ptrdiff_t wire_opt_sack_perm_encode(uint8_t *p, size_t cap)
{
	if (cap < WIRE_OPT_SACK_PERM_LEN)
		return MPT_ENOBUFS;
	p[0] = WIRE_OPT_SACK_PERM;
	p[1] = WIRE_OPT_SACK_PERM_LEN;
	return WIRE_OPT_SACK_PERM_LEN;
}

size_t wire_opt_sack_perm_len(void)
{
	return WIRE_OPT_SACK_PERM_LEN;
}

/* ---- SACK (RFC 2018 3): kind 5, length 2 + 8n, 1 <= n <= 4 ---- */
ptrdiff_t wire_opt_sack_decode(struct wire_sack_block *blocks, uint8_t *n, const uint8_t *p,
			       size_t len)
{
	size_t olen, i;

	if (len < 2 || p[0] != WIRE_OPT_SACK)
		return MPT_EMALFORMED;
	olen = p[1];
	if (olen < 10 || (olen - 2) % 8 != 0 || (olen - 2) / 8 > WIRE_OPT_SACK_MAX_BLOCKS ||
	    olen > len)
		return MPT_EMALFORMED;
	*n = (uint8_t)((olen - 2) / 8);
	for (i = 0; i < *n; i++) {
		blocks[i].left = wire_get32(p + 2 + 8 * i);
		blocks[i].right = wire_get32(p + 6 + 8 * i);
	}
	return (ptrdiff_t)olen;
}

size_t wire_opt_sack_len(uint8_t n)
{
	return 2 + 8 * (size_t)n;
}

ptrdiff_t wire_opt_sack_encode(uint8_t *p, size_t cap, const struct wire_sack_block *blocks,
			       uint8_t n)
{
	size_t i, olen = wire_opt_sack_len(n);

	if (n < 1 || n > WIRE_OPT_SACK_MAX_BLOCKS)
		return MPT_EINVAL;
	if (cap < olen)
		return MPT_ENOBUFS;
	p[0] = WIRE_OPT_SACK;
	p[1] = (uint8_t)olen;
	for (i = 0; i < n; i++) {
		wire_put32(p + 2 + 8 * i, blocks[i].left);
		wire_put32(p + 6 + 8 * i, blocks[i].right);
	}
	return (ptrdiff_t)olen;
}

/* ---- Timestamps (RFC 7323 3.2): kind 8, length 10 ---- */
ptrdiff_t wire_opt_ts_decode(uint32_t *tsval, uint32_t *tsecr, const uint8_t *p, size_t len)
{
	if (len < WIRE_OPT_TS_LEN || p[0] != WIRE_OPT_TS || p[1] != WIRE_OPT_TS_LEN)
		return MPT_EMALFORMED;
	*tsval = wire_get32(p + 2);
	*tsecr = wire_get32(p + 6);
	return WIRE_OPT_TS_LEN;
}

ptrdiff_t wire_opt_ts_encode(uint8_t *p, size_t cap, uint32_t tsval, uint32_t tsecr)
{
	if (cap < WIRE_OPT_TS_LEN)
		return MPT_ENOBUFS;
	p[0] = WIRE_OPT_TS;
	p[1] = WIRE_OPT_TS_LEN;
	wire_put32(p + 2, tsval);
	wire_put32(p + 6, tsecr);
	return WIRE_OPT_TS_LEN;
}

size_t wire_opt_ts_len(void)
{
	return WIRE_OPT_TS_LEN;
}

/* ---- MPTCP (RFC 8684 3): kind 30, opaque here; length >= 3 (kind, len, subtype) ---- */
ptrdiff_t wire_opt_mptcp_decode(struct wire_mptcp_raw *raw, const uint8_t *p, size_t len)
{
	size_t olen;

	if (len < 3 || p[0] != WIRE_OPT_MPTCP)
		return MPT_EMALFORMED;
	olen = p[1];
	if (olen < 3 || olen > len || olen > WIRE_OPT_MPTCP_MAX_LEN)
		return MPT_EMALFORMED;
	raw->len = (uint8_t)olen;
	memcpy(raw->data, p, olen);
	return (ptrdiff_t)olen;
}

ptrdiff_t wire_opt_mptcp_encode(uint8_t *p, size_t cap, const struct wire_mptcp_raw *raw)
{
	if (raw->len < 3 || raw->len > WIRE_OPT_MPTCP_MAX_LEN || raw->data[0] != WIRE_OPT_MPTCP ||
	    raw->data[1] != raw->len)
		return MPT_EINVAL;
	if (cap < raw->len)
		return MPT_ENOBUFS;
	memcpy(p, raw->data, raw->len);
	return raw->len;
}

size_t wire_opt_mptcp_len(const struct wire_mptcp_raw *raw)
{
	return raw->len;
}

/* ---- option lists ---- */
int wire_tcp_opts_decode(struct wire_tcp_opts *o, const uint8_t *p, size_t len)
{
	size_t off = 0;

	memset(o, 0, sizeof(*o));
	while (off < len) {
		uint8_t kind = p[off];
		size_t olen;
		ptrdiff_t rv = 0;

		if (kind == WIRE_OPT_EOL)
			break;
		if (kind == WIRE_OPT_NOP) {
			off++;
			continue;
		}
		if (len - off < 2)
			return MPT_EMALFORMED;
		olen = p[off + 1];
		if (olen < 2 || olen > len - off)
			return MPT_EMALFORMED;
		switch (kind) {
		case WIRE_OPT_MSS:
			rv = wire_opt_mss_decode(&o->mss, p + off, olen);
			if (rv == (ptrdiff_t)olen)
				o->present |= WIRE_HAS_MSS;
			break;
		case WIRE_OPT_WS:
			rv = wire_opt_ws_decode(&o->wscale, p + off, olen);
			if (rv == (ptrdiff_t)olen)
				o->present |= WIRE_HAS_WS;
			break;
		case WIRE_OPT_SACK_PERM:
			rv = wire_opt_sack_perm_decode(p + off, olen);
			if (rv == (ptrdiff_t)olen)
				o->present |= WIRE_HAS_SACK_PERM;
			break;
		case WIRE_OPT_SACK:
			/* the decoder writes nothing unless the option is whole: a
			 * malformed SACK after a valid one leaves the valid one (as
			 * Linux's tcp_parse_options) */
			rv = wire_opt_sack_decode(o->sack, &o->nsack, p + off, olen);
			if (rv == (ptrdiff_t)olen)
				o->present |= WIRE_HAS_SACK;
			break;
		case WIRE_OPT_TS:
			rv = wire_opt_ts_decode(&o->tsval, &o->tsecr, p + off, olen);
			if (rv == (ptrdiff_t)olen)
				o->present |= WIRE_HAS_TS;
			break;
		case WIRE_OPT_MPTCP:
			if (o->nmptcp < WIRE_OPT_MPTCP_MAX) {
				rv = wire_opt_mptcp_decode(&o->mptcp[o->nmptcp], p + off, olen);
				if (rv == (ptrdiff_t)olen) {
					o->nmptcp++;
					o->present |= WIRE_HAS_MPTCP;
				}
			} else {
				rv = (ptrdiff_t)olen; /* surplus: skipped */
			}
			break;
		default:
			o->n_unknown++;
			rv = (ptrdiff_t)olen;
			break;
		}
		if (rv != (ptrdiff_t)olen)
			o->n_malformed++;
		off += olen;
	}
	return 0;
}

/* The layout, shared by len and encode so the two cannot disagree:
 *   MSS                       4
 *   SACK_PERM + TS            12  (or NOP NOP TS = 12, or NOP NOP SACK_PERM = 4)
 *   NOP + WS                  4
 *   NOP NOP + SACK(n)         4 + 8n
 *   MPTCP(len) + NOP pad      roundup(len, 4)
 */
static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

size_t wire_tcp_opts_len(const struct wire_tcp_opts *o)
{
	size_t n = 0, i;

	if (o->present & WIRE_HAS_MSS)
		n += 4;
	if (o->present & WIRE_HAS_TS)
		n += 12;
	else if (o->present & WIRE_HAS_SACK_PERM)
		n += 4;
	if (o->present & WIRE_HAS_WS)
		n += 4;
	if ((o->present & WIRE_HAS_SACK) && o->nsack)
		n += 2 + wire_opt_sack_len(o->nsack);
	if (o->present & WIRE_HAS_MPTCP)
		for (i = 0; i < o->nmptcp; i++)
			n += pad4(o->mptcp[i].len);
	return n;
}

ptrdiff_t wire_tcp_opts_encode(uint8_t *p, size_t cap, const struct wire_tcp_opts *o)
{
	size_t need = wire_tcp_opts_len(o), off = 0, i;
	ptrdiff_t rv;

	if (need > WIRE_TCP_MAX_OPT)
		return MPT_EINVAL;
	if (cap < need)
		return MPT_ENOBUFS;
	if (o->present & WIRE_HAS_MSS) {
		rv = wire_opt_mss_encode(p + off, cap - off, o->mss);
		off += (size_t)rv;
	}
	if (o->present & WIRE_HAS_TS) {
		if (o->present & WIRE_HAS_SACK_PERM) {
			off += (size_t)wire_opt_sack_perm_encode(p + off, cap - off);
		} else {
			p[off++] = WIRE_OPT_NOP;
			p[off++] = WIRE_OPT_NOP;
		}
		off += (size_t)wire_opt_ts_encode(p + off, cap - off, o->tsval, o->tsecr);
	} else if (o->present & WIRE_HAS_SACK_PERM) {
		p[off++] = WIRE_OPT_NOP;
		p[off++] = WIRE_OPT_NOP;
		off += (size_t)wire_opt_sack_perm_encode(p + off, cap - off);
	}
	if (o->present & WIRE_HAS_WS) {
		p[off++] = WIRE_OPT_NOP;
		off += (size_t)wire_opt_ws_encode(p + off, cap - off, o->wscale);
	}
	if ((o->present & WIRE_HAS_SACK) && o->nsack) {
		p[off++] = WIRE_OPT_NOP;
		p[off++] = WIRE_OPT_NOP;
		rv = wire_opt_sack_encode(p + off, cap - off, o->sack, o->nsack);
		if (rv < 0)
			return rv;
		off += (size_t)rv;
	}
	if (o->present & WIRE_HAS_MPTCP) {
		for (i = 0; i < o->nmptcp; i++) {
			rv = wire_opt_mptcp_encode(p + off, cap - off, &o->mptcp[i]);
			if (rv < 0)
				return rv;
			off += (size_t)rv;
			while (off & 3)
				p[off++] = WIRE_OPT_NOP;
		}
	}
	/* ngtcp2's habit: what was written is what len said. */
	assert(off == need);
	return (ptrdiff_t)off;
}

/* ---- header ---- */
ptrdiff_t wire_tcp_parse(struct wire_tcp_repr *r, const uint8_t *p, size_t len,
			 const struct wire_ip_repr *ip)
{
	size_t doff;

	memset(r, 0, sizeof(*r));
	if (len < WIRE_TCP_HDR_LEN)
		return MPT_EMALFORMED;
	doff = (size_t)(p[12] >> 4) * 4;
	if (doff < WIRE_TCP_HDR_LEN || doff > len)
		return MPT_EMALFORMED;
	/* RFC 9293 3.1: "The checksum field is the 16-bit ones' complement of the ones'
	 * complement sum of all 16-bit words in the header and text."  MUST-2/MUST-3:
	 * the checksum is generated by the sender and checked by the receiver. */
	if (ip && wire_csum_fold(wire_csum_add(wire_ip_pseudo_sum(ip, (uint32_t)len), p, len)) != 0)
		return MPT_ECSUM;
	r->sport = wire_get16(p);
	r->dport = wire_get16(p + 2);
	r->seq = wire_get32(p + 4);
	r->ack = wire_get32(p + 8);
	r->flags = p[13];
	r->window = wire_get16(p + 14);
	r->urg = wire_get16(p + 18);
	if (wire_tcp_opts_decode(&r->opt, p + WIRE_TCP_HDR_LEN, doff - WIRE_TCP_HDR_LEN) < 0)
		return MPT_EMALFORMED;
	r->payload = p + doff;
	r->payload_len = len - doff;
	return (ptrdiff_t)doff;
}

size_t wire_tcp_hdr_len(const struct wire_tcp_repr *r)
{
	return WIRE_TCP_HDR_LEN + wire_tcp_opts_len(&r->opt);
}

ptrdiff_t wire_tcp_emit(const struct wire_tcp_repr *r, const struct wire_ip_repr *ip, uint8_t *buf,
			size_t cap)
{
	size_t hlen = wire_tcp_hdr_len(r), total;
	ptrdiff_t rv;

	if (hlen > WIRE_TCP_HDR_LEN + WIRE_TCP_MAX_OPT)
		return MPT_EINVAL;
	total = hlen + r->payload_len;
	if (cap < total)
		return MPT_ENOBUFS;
	wire_put16(buf, r->sport);
	wire_put16(buf + 2, r->dport);
	wire_put32(buf + 4, r->seq);
	wire_put32(buf + 8, r->ack);
	buf[12] = (uint8_t)((hlen / 4) << 4);
	buf[13] = r->flags;
	wire_put16(buf + 14, r->window);
	wire_put16(buf + 16, 0);
	wire_put16(buf + 18, r->urg);
	rv = wire_tcp_opts_encode(buf + WIRE_TCP_HDR_LEN, cap - WIRE_TCP_HDR_LEN, &r->opt);
	if (rv < 0)
		return rv;
	if (r->payload_len)
		memmove(buf + hlen, r->payload, r->payload_len);
	if (ip && ip->csum_partial) /* CHECKSUM_PARTIAL: the pseudo-header sum, not inverted */
		wire_put16(buf + 16,
			   (uint16_t)~wire_csum_fold(wire_ip_pseudo_sum(ip, (uint32_t)total)));
	else if (ip)
		wire_put16(buf + 16, wire_csum_fold(wire_csum_add(
					     wire_ip_pseudo_sum(ip, (uint32_t)total), buf, total)));
	return (ptrdiff_t)total;
}

ptrdiff_t wire_packet_emit(struct wire_ip_repr *ip, const struct wire_tcp_repr *tcp, uint8_t *buf,
			   size_t cap)
{
	size_t ihl = wire_ip_hdr_len(ip);
	ptrdiff_t rv;

	if (cap < ihl)
		return MPT_ENOBUFS;
	ip->proto = WIRE_PROTO_TCP;
	ip->payload_len = (uint32_t)(wire_tcp_hdr_len(tcp) + tcp->payload_len);
	rv = wire_tcp_emit(tcp, ip, buf + ihl, cap - ihl);
	if (rv < 0)
		return rv;
	rv = wire_ip_emit(ip, buf, cap);
	if (rv < 0)
		return rv;
	return (ptrdiff_t)(ihl + ip->payload_len);
}

ptrdiff_t wire_packet_parse(struct wire_ip_repr *ip, struct wire_tcp_repr *tcp, const uint8_t *p,
			    size_t len)
{
	ptrdiff_t ihl = wire_ip_parse(ip, p, len), rv;

	if (ihl < 0)
		return ihl;
	if (ip->proto != WIRE_PROTO_TCP)
		return MPT_EUNSUPP;
	rv = wire_tcp_parse(tcp, p + ihl, ip->payload_len, ip);
	if (rv < 0)
		return rv;
	return (ptrdiff_t)tcp->payload_len;
}
