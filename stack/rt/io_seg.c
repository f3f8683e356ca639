/* Checksum completion and GSO segmentation for I/O backends (see mpt_io.h). */
#include "mpt_io.h"
#include "wire.h"

#include <string.h>

/* Locate the IP and TCP headers: *iphl, *tcphl, and the datagram's own length
 * (link padding excluded) in *total. */
static int tcp_headers(const uint8_t *ip, size_t len, size_t *iphl, size_t *tcphl, size_t *total)
{
	if (len < 1)
		return MPT_EMALFORMED;
	if ((ip[0] >> 4) == 4) {
		if (len < WIRE_IPV4_HDR_LEN)
			return MPT_EMALFORMED;
		*iphl = (size_t)(ip[0] & 0x0f) * 4;
		*total = wire_get16(ip + 2);
		if (*iphl < WIRE_IPV4_HDR_LEN || *total < *iphl || *total > len)
			return MPT_EMALFORMED;
		if (ip[9] != WIRE_PROTO_TCP || (wire_get16(ip + 6) & 0x3fff))
			return MPT_EUNSUPP;
	} else if ((ip[0] >> 4) == 6) {
		if (len < WIRE_IPV6_HDR_LEN)
			return MPT_EMALFORMED;
		*iphl = WIRE_IPV6_HDR_LEN;
		*total = WIRE_IPV6_HDR_LEN + (size_t)wire_get16(ip + 4);
		if (*total > len)
			return MPT_EMALFORMED;
		if (ip[6] != WIRE_PROTO_TCP)
			return MPT_EUNSUPP;
	} else {
		return MPT_EMALFORMED;
	}
	if (*total < *iphl + 20)
		return MPT_EMALFORMED;
	*tcphl = (size_t)(ip[*iphl + 12] >> 4) * 4;
	if (*tcphl < 20 || *iphl + *tcphl > *total)
		return MPT_EMALFORMED;
	return 0;
}

static uint16_t tcp_csum(const uint8_t *ip, size_t iphl, const uint8_t *tcp, size_t tcplen)
{
	uint32_t sum;
	uint8_t ph[4];

	if ((ip[0] >> 4) == 4)
		sum = wire_csum_add(0, ip + 12, 8);
	else
		sum = wire_csum_add(0, ip + 8, 32);
	wire_put16(ph, 0);
	ph[2] = 0;
	ph[3] = WIRE_PROTO_TCP;
	sum = wire_csum_add(sum, ph, 4);
	wire_put16(ph, (uint16_t)(tcplen >> 16));
	wire_put16(ph + 2, (uint16_t)tcplen);
	sum = wire_csum_add(sum, ph, 4);
	/* the header's checksum field (bytes 16..17) is left out of the sum */
	sum = wire_csum_add(sum, tcp, 16);
	sum = wire_csum_add(sum, tcp + 18, tcplen - 18);
	(void)iphl;
	return wire_csum_fold(sum);
}

int mpt_io_tcp_check(const uint8_t *ip, size_t len)
{
	size_t iphl, tcphl, total;

	return tcp_headers(ip, len, &iphl, &tcphl, &total);
}

int mpt_io_tcp_csum_fix(uint8_t *ip, size_t len)
{
	size_t iphl, tcphl, total;
	int rv = tcp_headers(ip, len, &iphl, &tcphl, &total);

	if (rv)
		return rv;
	wire_put16(ip + iphl + 16, tcp_csum(ip, iphl, ip + iphl, total - iphl));
	return 0;
}

ptrdiff_t mpt_io_gso_segment(const uint8_t *ip, size_t len, uint32_t gso_size, uint32_t k,
			     uint8_t *out, size_t cap)
{
	size_t iphl, tcphl, total, hl, payload, off, n;
	uint8_t *tcp, flags;
	int rv = tcp_headers(ip, len, &iphl, &tcphl, &total);

	if (rv)
		return rv;
	if (!gso_size)
		return MPT_EMALFORMED;
	hl = iphl + tcphl;
	payload = total - hl;
	off = (size_t)k * gso_size;
	if (off >= payload && !(k == 0 && payload == 0))
		return 0;
	n = payload - off < gso_size ? payload - off : gso_size;
	if (hl + n > cap)
		return MPT_ENOBUFS;
	memcpy(out, ip, hl);
	memcpy(out + hl, ip + hl + off, n);
	tcp = out + iphl;
	wire_put32(tcp + 4, wire_get32(ip + iphl + 4) + (uint32_t)off);
	flags = tcp[13];
	if (k > 0)
		flags &= (uint8_t)~0x80; /* CWR */
	if (off + n < payload)
		flags &= (uint8_t)~0x09; /* FIN, PSH */
	tcp[13] = flags;
	if ((ip[0] >> 4) == 4) {
		wire_put16(out + 2, (uint16_t)(hl + n));
		wire_put16(out + 4, (uint16_t)(wire_get16(ip + 4) + k));
		wire_put16(out + 10, 0);
		wire_put16(out + 10, wire_csum_fold(wire_csum_add(0, out, iphl)));
	} else {
		wire_put16(out + 4, (uint16_t)(tcphl + n));
	}
	wire_put16(tcp + 16, tcp_csum(out, iphl, tcp, tcphl + n));
	return (ptrdiff_t)(hl + n);
}

/* What mpt_io_gso_run compares: the parsed lengths of one datagram. */
struct seg_view {
	size_t iphl, tcphl, total;
	uint32_t seq, plen;
	uint8_t flags;
};

static int seg_view(const struct mpt_io_pkt *p, struct seg_view *v)
{
	const uint8_t *tcp;

	if (tcp_headers(p->data, p->len, &v->iphl, &v->tcphl, &v->total) || v->total != p->len)
		return -1;
	if (v->iphl != ((p->data[0] >> 4) == 4 ? WIRE_IPV4_HDR_LEN : WIRE_IPV6_HDR_LEN))
		return -1;
	tcp = p->data + v->iphl;
	v->seq = wire_get32(tcp + 4);
	v->flags = tcp[13];
	v->plen = (uint32_t)(v->total - v->iphl - v->tcphl);
	return 0;
}

/* Bytes of the IP header that every segment of one flow shares (IPv4: all but the
 * total length, identification and header checksum; IPv6: all but the payload
 * length). */
static bool ip_same(const uint8_t *a, const uint8_t *b, size_t iphl)
{
	if (iphl == WIRE_IPV4_HDR_LEN)
		return !memcmp(a, b, 2) && !memcmp(a + 6, b + 6, 4) && !memcmp(a + 12, b + 12, 8);
	return !memcmp(a, b, 4) && !memcmp(a + 6, b + 6, 34);
}

#define GSO_OK_FLAGS (WIRE_TCP_ACK | WIRE_TCP_PSH | WIRE_TCP_FIN)

unsigned mpt_io_gso_run(const struct mpt_io_pkt *pkts, unsigned n, size_t max_len,
			uint32_t *gso_size)
{
	struct seg_view f, prev, v;
	size_t len;
	unsigned k;

	*gso_size = 0;
	if (!n || seg_view(&pkts[0], &f) || !f.plen || (f.flags & ~GSO_OK_FLAGS) ||
	    !(f.flags & WIRE_TCP_ACK) || (f.flags & WIRE_TCP_FIN))
		return 1;
	prev = f;
	len = f.total;
	for (k = 1; k < n; k++) {
		const uint8_t *a = pkts[0].data, *b = pkts[k].data;

		if (pkts[k].path != pkts[0].path || seg_view(&pkts[k], &v) || v.iphl != f.iphl ||
		    v.tcphl != f.tcphl || prev.plen != f.plen || !v.plen || v.plen > f.plen ||
		    len + v.plen > max_len || v.seq != prev.seq + prev.plen ||
		    (v.flags & ~(uint8_t)(WIRE_TCP_PSH | WIRE_TCP_FIN)) !=
			    (f.flags & ~(uint8_t)WIRE_TCP_PSH) ||
		    !ip_same(a, b, f.iphl))
			break;
		a += f.iphl;
		b += f.iphl;
		/* ports, ack, data offset, window, urgent pointer, options */
		if (memcmp(a, b, 4) || memcmp(a + 8, b + 8, 5) || memcmp(a + 14, b + 14, 2) ||
		    memcmp(a + 18, b + 18, f.tcphl - 18))
			break;
		len += v.plen;
		prev = v;
		if (v.flags & WIRE_TCP_FIN) {
			k++;
			break;
		}
	}
	if (k > 1)
		*gso_size = f.plen;
	return k;
}

void mpt_io_gso_prepare(uint8_t *ip, size_t total, uint8_t last_flags)
{
	size_t iphl = (ip[0] >> 4) == 4 ? WIRE_IPV4_HDR_LEN : WIRE_IPV6_HDR_LEN;
	uint8_t *tcp = ip + iphl, ph[4];
	uint32_t sum;

	if (iphl == WIRE_IPV4_HDR_LEN) {
		wire_put16(ip + 2, (uint16_t)total);
		wire_put16(ip + 10, 0);
		wire_put16(ip + 10, wire_csum_fold(wire_csum_add(0, ip, iphl)));
		sum = wire_csum_add(0, ip + 12, 8);
	} else {
		wire_put16(ip + 4, (uint16_t)(total - iphl));
		sum = wire_csum_add(0, ip + 8, 32);
	}
	/* the segmenter leaves FIN and PSH on the last segment only */
	tcp[13] |= last_flags & (WIRE_TCP_FIN | WIRE_TCP_PSH);
	ph[0] = 0;
	ph[1] = WIRE_PROTO_TCP;
	wire_put16(ph + 2, (uint16_t)(total - iphl));
	sum = wire_csum_add(sum, ph, 4);
	/* CHECKSUM_PARTIAL: the field holds the pseudo-header sum, not complemented */
	wire_put16(tcp + 16, (uint16_t)~wire_csum_fold(sum));
}
