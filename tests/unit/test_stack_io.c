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

/* Transmit-side GSO.  NSEG segments of one flow as the stack emits them (the checksum
 * partial or complete, PSH on each, FIN on the last when asked), with payload byte
 * o = (o * 7 + 3), MSS-sized but the last (SHORT bytes). */
#define NSEG  5
#define SHORT 100
static uint8_t txs[NSEG][GSO + 100];

static void build_run(int family, bool fin, bool partial, struct mpt_io_pkt *pkts)
{
	static uint8_t payload[NSEG * GSO];

	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 3);
	for (int k = 0; k < NSEG; k++) {
		struct wire_ip_repr ip = {.family = (uint8_t)family,
					  .ttl = 64,
					  .ident = (uint16_t)(9 + k),
					  .csum_partial = partial};
		struct wire_tcp_repr t = {.sport = 40000,
					  .dport = 5201,
					  .seq = 0xffffff00u + (uint32_t)k * GSO,
					  .ack = 77,
					  .flags = 0x18,
					  .window = 500};
		ptrdiff_t n;

		if (family == MPT_AF_INET) {
			ip.src[0] = 198, ip.src[1] = 18, ip.src[3] = 1;
			ip.dst[0] = 198, ip.dst[1] = 18, ip.dst[3] = 2;
		} else {
			ip.src[0] = 0x20, ip.src[1] = 0x01, ip.src[15] = 1;
			ip.dst[0] = 0x20, ip.dst[1] = 0x01, ip.dst[15] = 2;
		}
		t.opt.present = WIRE_HAS_TS;
		t.opt.tsval = 1000;
		t.opt.tsecr = 2000;
		t.payload = payload + (size_t)k * GSO;
		t.payload_len = k == NSEG - 1 ? SHORT : GSO;
		if (fin && k == NSEG - 1)
			t.flags |= 0x01;
		n = wire_packet_emit(&ip, &t, txs[k], sizeof(txs[k]));
		CHECK(n > 0);
		pkts[k] = (struct mpt_io_pkt){.data = txs[k], .len = (uint32_t)n, .path = 3};
	}
}

/* A run coalesces into one super-datagram that mpt_io_gso_segment (what the kernel
 * does to it) cuts back into the same segments: same sequence numbers and bytes,
 * valid checksums, FIN and PSH on the last. */
static void check_gso_run(int family, bool partial)
{
	static uint8_t big[NSEG * GSO + 200], seg[2048];
	struct mpt_io_pkt pkts[NSEG];
	size_t iphl = family == MPT_AF_INET ? 20 : 40, hl = iphl + 32, total;
	uint32_t gso = 0, k;

	build_run(family, true, partial, pkts);
	CHECK_EQ(mpt_io_gso_run(pkts, NSEG, 65535, &gso), NSEG);
	CHECK_EQ(gso, GSO);
	memcpy(big, pkts[0].data, pkts[0].len);
	total = pkts[0].len;
	for (k = 1; k < NSEG; k++) {
		memcpy(big + total, pkts[k].data + hl, pkts[k].len - hl);
		total += pkts[k].len - hl;
	}
	CHECK_EQ(total, hl + (NSEG - 1) * GSO + SHORT);
	mpt_io_gso_prepare(big, total, pkts[NSEG - 1].data[iphl + 13]);
	/* what the kernel gets is a CHECKSUM_PARTIAL datagram: completed, it parses */
	{
		static uint8_t whole[sizeof(big)];
		struct wire_ip_repr ip;
		struct wire_tcp_repr t;

		memcpy(whole, big, total);
		CHECK_EQ(mpt_io_tcp_csum_fix(whole, total), 0);
		CHECK_EQ(wire_packet_parse(&ip, &t, whole, total), (ptrdiff_t)(total - hl));
		CHECK_EQ(t.flags, 0x19);
	}
	for (k = 0;; k++) {
		struct wire_ip_repr ip;
		struct wire_tcp_repr t;
		ptrdiff_t n = mpt_io_gso_segment(big, total, gso, k, seg, sizeof(seg));

		CHECK(n >= 0);
		if (!n)
			break;
		CHECK_EQ(n, pkts[k].len);
		CHECK_EQ(wire_packet_parse(&ip, &t, seg, (size_t)n),
			 (ptrdiff_t)(n - (ptrdiff_t)hl));
		CHECK_EQ(t.seq, 0xffffff00u + k * GSO);
		CHECK_EQ(t.flags, k == NSEG - 1 ? 0x19 : 0x10);
		CHECK_EQ(t.opt.tsval, 1000);
		CHECK(!memcmp(t.payload, pkts[k].data + hl, t.payload_len));
	}
	CHECK_EQ(k, NSEG);
}

TEST(stack_io_gso_run_round_trip)
{
	check_gso_run(MPT_AF_INET, false);
	check_gso_run(MPT_AF_INET, true);
	check_gso_run(MPT_AF_INET6, false);
	check_gso_run(MPT_AF_INET6, true);
}

/* What must break a run. */
TEST(stack_io_gso_run_boundaries)
{
	struct mpt_io_pkt pkts[NSEG];
	uint32_t gso;

	build_run(MPT_AF_INET, false, false, pkts);
	CHECK_EQ(mpt_io_gso_run(pkts, 1, 65535, &gso), 1);
	CHECK_EQ(gso, 0);
	CHECK_EQ(mpt_io_gso_run(pkts, 3, 65535, &gso), 3);
	/* the byte cap */
	CHECK_EQ(mpt_io_gso_run(pkts, NSEG, pkts[0].len + 2 * GSO, &gso), 3);
	/* another path */
	pkts[2].path = 4;
	CHECK_EQ(mpt_io_gso_run(pkts, NSEG, 65535, &gso), 2);
	build_run(MPT_AF_INET, false, false, pkts);
	/* a hole in the sequence */
	pkts[3].data[24] ^= 1;
	CHECK_EQ(mpt_io_gso_run(pkts, NSEG, 65535, &gso), 3);
	build_run(MPT_AF_INET, false, false, pkts);
	/* another ACK, window, option value, TTL, destination */
	pkts[2].data[20 + 11] ^= 1;
	CHECK_EQ(mpt_io_gso_run(pkts, NSEG, 65535, &gso), 2);
	build_run(MPT_AF_INET, false, false, pkts);
	pkts[2].data[20 + 15] ^= 1;
	CHECK_EQ(mpt_io_gso_run(pkts, NSEG, 65535, &gso), 2);
	build_run(MPT_AF_INET, false, false, pkts);
	pkts[4].data[20 + 30] ^= 1;
	CHECK_EQ(mpt_io_gso_run(pkts, NSEG, 65535, &gso), 4);
	build_run(MPT_AF_INET, false, false, pkts);
	pkts[1].data[8] ^= 1;
	CHECK_EQ(mpt_io_gso_run(pkts, NSEG, 65535, &gso), 1);
	build_run(MPT_AF_INET, false, false, pkts);
	pkts[1].data[19] ^= 1;
	CHECK_EQ(mpt_io_gso_run(pkts, NSEG, 65535, &gso), 1);
	/* SYN, RST, URG, ECE, CWR: alone */
	build_run(MPT_AF_INET, false, false, pkts);
	for (int b = 0; b < 8; b++) {
		uint8_t f = (uint8_t)(1u << b);

		if (f == 0x10 || f == 0x08 || f == 0x01)
			continue;
		pkts[0].data[33] |= f;
		CHECK_EQ(mpt_io_gso_run(pkts, NSEG, 65535, &gso), 1);
		pkts[0].data[33] &= (uint8_t)~f;
		pkts[2].data[33] |= f;
		CHECK_EQ(mpt_io_gso_run(pkts, NSEG, 65535, &gso), 2);
		pkts[2].data[33] &= (uint8_t)~f;
	}
	/* FIN ends a run, and a FIN segment never starts one */
	build_run(MPT_AF_INET, true, false, pkts);
	CHECK_EQ(mpt_io_gso_run(pkts, NSEG, 65535, &gso), NSEG);
	CHECK_EQ(mpt_io_gso_run(pkts + NSEG - 1, 1, 65535, &gso), 1);
	/* a short segment in the middle ends the run after it */
	build_run(MPT_AF_INET, false, false, pkts);
	{
		struct mpt_io_pkt two[2] = {pkts[NSEG - 1], pkts[0]};

		CHECK_EQ(mpt_io_gso_run(two, 2, 65535, &gso), 1);
	}
	/* a pure ACK never coalesces */
	pkts[0].len = 52;
	wire_put16(pkts[0].data + 2, 52);
	CHECK_EQ(mpt_io_gso_run(pkts, NSEG, 65535, &gso), 1);
}

/* tx_csum_partial: the stack's segments carry the pseudo-header sum only; completing
 * it gives what a full emit writes. */
TEST(stack_io_partial_csum_completes)
{
	struct mpt_io_pkt full[NSEG], part[NSEG];
	static uint8_t copy[NSEG][GSO + 100];

	for (int f = 0; f < 2; f++) {
		int fam = f ? MPT_AF_INET6 : MPT_AF_INET;

		build_run(fam, true, false, full);
		memcpy(copy, txs, sizeof(copy));
		build_run(fam, true, true, part);
		for (int k = 0; k < NSEG; k++) {
			CHECK(memcmp(copy[k], txs[k], full[k].len) != 0);
			CHECK_EQ(mpt_io_tcp_csum_fix(part[k].data, part[k].len), 0);
			CHECK(!memcmp(copy[k], txs[k], full[k].len));
		}
	}
}
