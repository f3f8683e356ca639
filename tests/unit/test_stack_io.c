/* I/O backend helpers: TCP checksum completion and GSO segmentation (stack/rt). */
#include "mpt_io.h"
#include "test.h"
#include "wire.h"

#include <stdlib.h>

#define PAYLOAD 4000
#define GSO	1448

/* A GSO-sized datagram as a peer with TSO hands it over: one header, PAYLOAD bytes. */
static size_t build(int family, uint8_t flags, uint8_t *buf, size_t cap)
{
	static uint8_t payload[PAYLOAD];
	struct wire_ip_repr ip = {
		.family = (uint8_t)family, .proto = WIRE_PROTO_TCP, .ttl = 64, .ident = 0x1234};
	struct wire_tcp_repr t = {.sport = 5201,
				  .dport = 40000,
				  .seq = 0xfffff000u,
				  .ack = 77,
				  .flags = flags,
				  .window = 500};
	ptrdiff_t n;

	for (size_t i = 0; i < PAYLOAD; i++)
		payload[i] = (uint8_t)(i * 7 + 3);
	if (family == MPT_AF_INET) {
		ip.src[0] = 198, ip.src[1] = 18, ip.src[3] = 2;
		ip.dst[0] = 198, ip.dst[1] = 18, ip.dst[3] = 1;
	} else {
		ip.src[0] = 0x20, ip.src[1] = 0x01, ip.src[15] = 2;
		ip.dst[0] = 0x20, ip.dst[1] = 0x01, ip.dst[15] = 1;
	}
	t.opt.present = WIRE_HAS_TS;
	t.opt.tsval = 1000;
	t.opt.tsecr = 2000;
	t.payload = payload;
	t.payload_len = PAYLOAD;
	n = wire_packet_emit(&ip, &t, buf, cap);
	CHECK(n > 0);
	return (size_t)n;
}

static void check_segments(int family)
{
	static uint8_t big[8192], seg[2048];
	const uint8_t F_CWR = 0x80, F_PSH = 0x08, F_FIN = 0x01, F_ACK = 0x10;
	size_t len = build(family, F_CWR | F_PSH | F_FIN | F_ACK, big, sizeof(big));
	uint32_t k, total = 0;

	for (k = 0;; k++) {
		struct wire_ip_repr ip;
		struct wire_tcp_repr t;
		ptrdiff_t n = mpt_io_gso_segment(big, len, GSO, k, seg, sizeof(seg)), hl, tl;

		CHECK(n >= 0);
		if (n == 0)
			break;
		/* every segment parses with valid IP and TCP checksums */
		hl = wire_ip_parse(&ip, seg, (size_t)n);
		CHECK(hl > 0);
		tl = wire_tcp_parse(&t, seg + hl, ip.payload_len, &ip);
		CHECK(tl > 0);
		CHECK_EQ(t.seq, 0xfffff000u + total); /* wraps on the way */
		CHECK_EQ(t.payload_len, k < 2 ? GSO : PAYLOAD - 2 * GSO);
		CHECK_EQ(!!(t.flags & F_CWR), k == 0);
		CHECK_EQ(!!(t.flags & F_FIN), k == 2);
		CHECK_EQ(!!(t.flags & F_PSH), k == 2);
		CHECK(t.flags & F_ACK);
		CHECK(t.opt.present & WIRE_HAS_TS);
		CHECK_EQ(t.opt.tsval, 1000);
		for (size_t i = 0; i < t.payload_len; i++)
			CHECK_EQ(t.payload[i], (uint8_t)((total + i) * 7 + 3));
		if (family == MPT_AF_INET)
			CHECK_EQ(ip.ident, 0x1234 + k);
		total += (uint32_t)t.payload_len;
	}
	CHECK_EQ(k, 3);
	CHECK_EQ(total, PAYLOAD);
	/* too small an output buffer */
	CHECK_EQ(mpt_io_gso_segment(big, len, GSO, 0, seg, 100), MPT_ENOBUFS);
	CHECK_EQ(mpt_io_gso_segment(big, len, 0, 0, seg, sizeof(seg)), MPT_EMALFORMED);
}

TEST(stack_io_gso_segment_ipv4)
{
	check_segments(MPT_AF_INET);
}

TEST(stack_io_gso_segment_ipv6)
{
	check_segments(MPT_AF_INET6);
}

TEST(stack_io_csum_fix)
{
	static uint8_t buf[8192];
	int fams[2] = {MPT_AF_INET, MPT_AF_INET6};

	for (int f = 0; f < 2; f++) {
		size_t len = build(fams[f], 0x10, buf, sizeof(buf));
		size_t iphl = fams[f] == MPT_AF_INET ? 20 : 40;
		struct wire_ip_repr ip;
		struct wire_tcp_repr t;

		/* a CHECKSUM_PARTIAL frame: only the pseudo-header sum is there */
		buf[iphl + 16] ^= 0x5a;
		CHECK(wire_ip_parse(&ip, buf, len) > 0);
		CHECK_EQ(wire_tcp_parse(&t, buf + iphl, ip.payload_len, &ip), MPT_ECSUM);
		CHECK_EQ(mpt_io_tcp_csum_fix(buf, len), 0);
		CHECK(wire_tcp_parse(&t, buf + iphl, ip.payload_len, &ip) > 0);
	}
}

TEST(stack_io_truncations_fail_cleanly)
{
	static uint8_t buf[8192], seg[2048], cut[8192];
	size_t len = build(MPT_AF_INET, 0x18, buf, sizeof(buf));

	for (size_t n = 0; n < 60; n++) {
		memcpy(cut, buf, n);
		CHECK(mpt_io_tcp_csum_fix(cut, n) < 0);
		CHECK(mpt_io_gso_segment(cut, n, GSO, 0, seg, sizeof(seg)) < 0);
	}
	/* not TCP */
	memcpy(cut, buf, len);
	cut[9] = 17;
	CHECK_EQ(mpt_io_tcp_csum_fix(cut, len), MPT_EUNSUPP);
}
