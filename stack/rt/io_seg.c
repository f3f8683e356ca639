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
