/* IPv4 / IPv6 header codec and the Internet checksum. */
#include "wire.h"

#include <string.h>

/* RFC 1071 1.2: the one's complement sum is independent of byte order, so words are
 * summed in native order, 64 bits at a time with end-around carries, and the folded
 * 16-bit result is swapped into network order at the end (section 1.2 (B) and (C)). */
static inline uint64_t add_carry64(uint64_t s, uint64_t w)
{
	s += w;
	return s + (s < w);
}

uint32_t wire_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	uint64_t s = 0, w;
	uint32_t w32;
	uint16_t w16;

	while (len >= 32) {
		uint64_t a, b, c, d;

		memcpy(&a, p, 8);
		memcpy(&b, p + 8, 8);
		memcpy(&c, p + 16, 8);
		memcpy(&d, p + 24, 8);
		s = add_carry64(s, a);
		s = add_carry64(s, b);
		s = add_carry64(s, c);
		s = add_carry64(s, d);
		p += 32;
		len -= 32;
	}
	while (len >= 8) {
		memcpy(&w, p, 8);
		s = add_carry64(s, w);
		p += 8;
		len -= 8;
	}
	if (len >= 4) {
		memcpy(&w32, p, 4);
		s = add_carry64(s, w32);
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		memcpy(&w16, p, 2);
		s = add_carry64(s, w16);
		p += 2;
		len -= 2;
	}
	if (len) { /* an odd tail is the high byte of a zero-padded word (network order) */
		uint8_t pad[2] = {p[0], 0};

		memcpy(&w16, pad, 2);
		s = add_carry64(s, w16);
	}
	/* fold 64 -> 16 bits, keeping every carry */
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffffffffu) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	s = ((s & 0xff) << 8) | (s >> 8);
#endif
	s += sum;
	s = (s & 0xffffffffu) + (s >> 32);
	return (uint32_t)s;
}

uint16_t wire_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

ptrdiff_t wire_ip_parse(struct wire_ip_repr *r, const uint8_t *p, size_t len)
{
	memset(r, 0, sizeof(*r));
	if (len < 1)
		return MPT_EMALFORMED;
	if ((p[0] >> 4) == 4) {
		size_t ihl, total;
		uint16_t frag;

		if (len < WIRE_IPV4_HDR_LEN)
			return MPT_EMALFORMED;
		ihl = (size_t)(p[0] & 0x0f) * 4;
		total = wire_get16(p + 2);
		if (ihl < WIRE_IPV4_HDR_LEN || ihl > len || total < ihl || total > len)
			return MPT_EMALFORMED;
		/* RFC 791: "The checksum field is the 16 bit one's complement of the one's
		 * complement sum of all 16 bit words in the header." */
		if (wire_csum_fold(wire_csum_add(0, p, ihl)) != 0)
			return MPT_ECSUM;
		frag = wire_get16(p + 6);
		if (frag & 0x3fff) /* MF or a fragment offset: no reassembly here */
			return MPT_EUNSUPP;
		r->family = MPT_AF_INET;
		r->tos = p[1];
		r->ident = wire_get16(p + 4);
		r->ttl = p[8];
		r->proto = p[9];
		memcpy(r->src, p + 12, 4);
		memcpy(r->dst, p + 16, 4);
		r->payload_len = (uint32_t)(total - ihl);
		return (ptrdiff_t)ihl;
	}
	if ((p[0] >> 4) == 6) {
		size_t plen;

		if (len < WIRE_IPV6_HDR_LEN)
			return MPT_EMALFORMED;
		plen = wire_get16(p + 4);
		if (plen > len - WIRE_IPV6_HDR_LEN)
			return MPT_EMALFORMED;
		r->family = MPT_AF_INET6;
		r->tos = (uint8_t)(((p[0] & 0x0f) << 4) | (p[1] >> 4));
		r->proto = p[6];
		r->ttl = p[7];
		memcpy(r->src, p + 8, 16);
		memcpy(r->dst, p + 24, 16);
		r->payload_len = (uint32_t)plen;
		return WIRE_IPV6_HDR_LEN;
	}
	return MPT_EMALFORMED;
}

size_t wire_ip_hdr_len(const struct wire_ip_repr *r)
{
	return r->family == MPT_AF_INET6 ? WIRE_IPV6_HDR_LEN : WIRE_IPV4_HDR_LEN;
}

ptrdiff_t wire_ip_emit(const struct wire_ip_repr *r, uint8_t *buf, size_t cap)
{
	if (r->family == MPT_AF_INET) {
		if (cap < WIRE_IPV4_HDR_LEN)
			return MPT_ENOBUFS;
		if (r->payload_len > 0xffff - WIRE_IPV4_HDR_LEN)
			return MPT_EINVAL;
		buf[0] = 0x45;
		buf[1] = r->tos;
		wire_put16(buf + 2, (uint16_t)(WIRE_IPV4_HDR_LEN + r->payload_len));
		wire_put16(buf + 4, r->ident);
		wire_put16(buf + 6, 0x4000); /* DF */
		buf[8] = r->ttl;
		buf[9] = r->proto;
		wire_put16(buf + 10, 0);
		memcpy(buf + 12, r->src, 4);
		memcpy(buf + 16, r->dst, 4);
		wire_put16(buf + 10, wire_csum_fold(wire_csum_add(0, buf, WIRE_IPV4_HDR_LEN)));
		return WIRE_IPV4_HDR_LEN;
	}
	if (r->family == MPT_AF_INET6) {
		if (cap < WIRE_IPV6_HDR_LEN)
			return MPT_ENOBUFS;
		if (r->payload_len > 0xffff)
			return MPT_EINVAL;
		buf[0] = (uint8_t)(0x60 | (r->tos >> 4));
		buf[1] = (uint8_t)(r->tos << 4);
		buf[2] = 0;
		buf[3] = 0;
		wire_put16(buf + 4, (uint16_t)r->payload_len);
		buf[6] = r->proto;
		buf[7] = r->ttl;
		memcpy(buf + 8, r->src, 16);
		memcpy(buf + 24, r->dst, 16);
		return WIRE_IPV6_HDR_LEN;
	}
	return MPT_EINVAL;
}

uint32_t wire_ip_pseudo_sum(const struct wire_ip_repr *r, uint32_t l4len)
{
	uint8_t tail[8];
	uint32_t s;

	if (r->family == MPT_AF_INET) {
		s = wire_csum_add(0, r->src, 4);
		s = wire_csum_add(s, r->dst, 4);
		tail[0] = 0;
		tail[1] = r->proto;
		wire_put16(tail + 2, (uint16_t)l4len);
		return wire_csum_add(s, tail, 4);
	}
	s = wire_csum_add(0, r->src, 16);
	s = wire_csum_add(s, r->dst, 16);
	wire_put32(tail, l4len);
	tail[4] = tail[5] = tail[6] = 0;
	tail[7] = r->proto;
	return wire_csum_add(s, tail, 8);
}
