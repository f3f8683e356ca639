/* Software GSO segmentation (emu_gso): crafted TSO/USO frames cut into wire
 * segments, checked field by field with an independent checksum; malformed
 * virtio-net headers and frames are refused, never read out of bounds. */
#include "emu_gso.h"
#include "test.h"

#include <errno.h>
#include <linux/virtio_net.h>
#include <stdlib.h>

#define MSS 1448u

static uint8_t frame[70000], seg[70000];

/* RFC 1071 the slow way, 16 bits at a time: the reference for emu_csum_*. */
static uint32_t ref_sum(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i += 2)
		s += (uint32_t)(p[i] << 8 | (i + 1 < n ? p[i + 1] : 0));
	return s;
}

static uint16_t ref_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Does the L4 checksum of a segment verify (sum over pseudo-header + L4 = 0xffff)? */
static bool l4_csum_ok(const uint8_t *f, size_t len, size_t l3, size_t l4, bool v6, uint8_t proto)
{
	uint32_t s;

	if (v6)
		s = ref_sum(0, f + l3 + 8, 32);
	else
		s = ref_sum(0, f + l3 + 12, 8);
	s += (uint32_t)(len - l4) + proto;
	s = ref_sum(s, f + l4, len - l4);
	return ref_fold(s) == 0xffff;
}

/* Ethernet + IPv4 (DF, id 0x1234) or IPv6 + TCP with a 12-byte option block
 * (doff 8) + payload bytes (i * 7 + 3); flags as given.  Returns the frame length. */
static size_t make_tcp(bool v6, size_t payload, uint32_t seq, uint8_t flags)
{
	size_t l3 = 14, l4 = v6 ? 54 : 34, hl = l4 + 32, len = hl + payload;

	memset(frame, 0, hl);
	frame[12] = v6 ? 0x86 : 0x08;
	frame[13] = v6 ? 0xdd : 0x00;
	if (v6) {
		frame[l3] = 0x60;
		frame[l3 + 6] = 6;
		frame[l3 + 7] = 64;
		for (int i = 0; i < 32; i++)
			frame[l3 + 8 + i] = (uint8_t)(0x20 + i);
	} else {
		frame[l3] = 0x45;
		frame[l3 + 2] = 0; /* total length: as a host's TSO frame, not trusted */
		frame[l3 + 4] = 0x12;
		frame[l3 + 5] = 0x34;
		frame[l3 + 6] = 0x40; /* DF */
		frame[l3 + 8] = 64;
		frame[l3 + 9] = 6;
		memcpy(frame + l3 + 12, "\xc6\x12\x00\x01\xc6\x12\x00\x02", 8);
	}
	frame[l4] = 0x13;
	frame[l4 + 1] = 0x89;
	frame[l4 + 2] = 0xc3;
	frame[l4 + 3] = 0x50;
	frame[l4 + 4] = (uint8_t)(seq >> 24);
	frame[l4 + 5] = (uint8_t)(seq >> 16);
	frame[l4 + 6] = (uint8_t)(seq >> 8);
	frame[l4 + 7] = (uint8_t)seq;
	frame[l4 + 12] = 8 << 4;
	frame[l4 + 13] = flags;
	frame[l4 + 14] = 0xff;
	frame[l4 + 16] = 0xab; /* a partial (pseudo-header) sum: overwritten */
	frame[l4 + 20] = 1;
	frame[l4 + 21] = 1;
	frame[l4 + 22] = 8;
	frame[l4 + 23] = 10;
	for (size_t i = 0; i < payload; i++)
		frame[hl + i] = (uint8_t)(i * 7 + 3);
	return len;
}

static struct virtio_net_hdr vnet(uint8_t type, uint16_t gso_size, uint16_t csum_start,
				  uint16_t csum_off)
{
	struct virtio_net_hdr v = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				   .gso_type = type,
				   .hdr_len = csum_start,
				   .gso_size = gso_size,
				   .csum_start = csum_start,
				   .csum_offset = csum_off};

	return v;
}

/* Segment a TCP frame and check every segment. */
static void check_tcp(bool v6, size_t payload, uint8_t gso_type)
{
	const uint32_t seq0 = 0xfffff000u;		 /* wraps within the frame */
	const uint8_t flags = 0x80 | 0x10 | 0x08 | 0x01; /* CWR ACK PSH FIN */
	size_t l3 = 14, l4 = v6 ? 54 : 34, hl = l4 + 32;
	size_t len = make_tcp(v6, payload, seq0, flags), got = 0;
	struct virtio_net_hdr v = vnet(gso_type, MSS, (uint16_t)l4, 16);
	struct emu_gso g;
	size_t want = (payload + MSS - 1) / MSS;
	int n = emu_gso_init(&g, &v, sizeof(v), frame, len);

	CHECK_EQ(n, want);
	CHECK_EQ(g.hdr_len, hl);
	for (size_t i = 0; i < (size_t)n; i++) {
		ptrdiff_t sl = emu_gso_segment(&g, i, seg, sizeof(seg));
		size_t plen = i + 1 < (size_t)n ? MSS : payload - i * MSS;
		uint8_t fl = seg[l4 + 13];

		CHECK_EQ(sl, hl + plen);
		if (v6) {
			CHECK_EQ(rd16(seg + l3 + 4), 32 + plen);
		} else {
			CHECK_EQ(rd16(seg + l3 + 2), 20 + 32 + plen);
			CHECK_EQ(rd16(seg + l3 + 4), 0x1234 + i);
			CHECK_EQ(ref_fold(ref_sum(0, seg + l3, 20)), 0xffff);
		}
		CHECK_U64_EQ(rd32(seg + l4 + 4), (uint32_t)(seq0 + i * MSS));
		CHECK_EQ(fl & 0x10, 0x10); /* ACK everywhere */
		CHECK_EQ(fl & 0x80, i == 0 ? 0x80 : 0);
		CHECK_EQ(fl & 0x09, i + 1 == (size_t)n ? 0x09 : 0);
		CHECK(memcmp(seg + 12, frame + 12, 2) == 0);
		CHECK(memcmp(seg + l4 + 20, frame + l4 + 20, 12) == 0); /* options */
		CHECK(memcmp(seg + hl, frame + hl + i * MSS, plen) == 0);
		CHECK(l4_csum_ok(seg, (size_t)sl, l3, l4, v6, 6));
		got += plen;
	}
	CHECK_EQ(got, payload);
	CHECK_EQ(emu_gso_segment(&g, (size_t)n, seg, sizeof(seg)), -EINVAL);
	CHECK_EQ(emu_gso_segment(&g, 0, seg, hl), -ENOSPC);
}

TEST(emu_gso_tcpv4_ten_mss)
{
	check_tcp(false, 10 * MSS, VIRTIO_NET_HDR_GSO_TCPV4);
}

TEST(emu_gso_tcpv4_ecn_short_last)
{
	check_tcp(false, 10 * MSS - 100, VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN);
}

TEST(emu_gso_tcpv6)
{
	check_tcp(true, 10 * MSS, VIRTIO_NET_HDR_GSO_TCPV6);
	check_tcp(true, 3 * MSS + 700, VIRTIO_NET_HDR_GSO_TCPV6 | VIRTIO_NET_HDR_GSO_ECN);
}

TEST(emu_gso_tcp_largest)
{
	/* 64 KB of payload at a 1448-byte MSS: 46 segments */
	check_tcp(false, 65535 - 66, VIRTIO_NET_HDR_GSO_TCPV4);
}

TEST(emu_gso_one_segment_and_none)
{
	struct virtio_net_hdr v = vnet(VIRTIO_NET_HDR_GSO_TCPV4, MSS, 34, 16);
	size_t len = make_tcp(false, 100, 7, 0x18);
	struct emu_gso g;

	CHECK_EQ(emu_gso_init(&g, &v, sizeof(v), frame, len), 1);
	CHECK_EQ(emu_gso_segment(&g, 0, seg, sizeof(seg)), len);
	CHECK_EQ(seg[34 + 13], 0x18); /* PSH stays on the (only, last) segment */
	CHECK(l4_csum_ok(seg, len, 14, 34, false, 6));
	v.gso_type = VIRTIO_NET_HDR_GSO_NONE;
	CHECK_EQ(emu_gso_init(&g, &v, sizeof(v), frame, len), 0);
}

TEST(emu_gso_udp_l4)
{
	/* Ethernet + VLAN tag + IPv4 + UDP, 3 x 1200 + 50 bytes */
	size_t l3 = 18, l4 = 38, hl = 46, payload = 3 * 1200 + 50, len = hl + payload;
	struct virtio_net_hdr v = vnet(VIRTIO_NET_HDR_GSO_UDP_L4, 1200, (uint16_t)l4, 6);
	struct emu_gso g;

	memset(frame, 0, hl);
	frame[12] = 0x81;
	frame[16] = 0x08;
	frame[l3] = 0x45;
	frame[l3 + 8] = 64;
	frame[l3 + 9] = 17;
	memcpy(frame + l3 + 12, "\xc6\x12\x00\x01\xc6\x12\x00\x02", 8);
	frame[l4 + 1] = 53;
	frame[l4 + 3] = 53;
	for (size_t i = 0; i < payload; i++)
		frame[hl + i] = (uint8_t)(i ^ 0x5a);
	CHECK_EQ(emu_gso_init(&g, &v, sizeof(v), frame, len), 4);
	for (size_t i = 0; i < 4; i++) {
		ptrdiff_t sl = emu_gso_segment(&g, i, seg, sizeof(seg));
		size_t plen = i < 3 ? 1200 : 50;

		CHECK_EQ(sl, hl + plen);
		CHECK_EQ(rd16(seg + l3 + 2), 28 + plen);
		CHECK_EQ(rd16(seg + l3 + 4), i);
		CHECK_EQ(ref_fold(ref_sum(0, seg + l3, 20)), 0xffff);
		CHECK_EQ(rd16(seg + l4 + 4), 8 + plen);
		CHECK(rd16(seg + l4 + 6) != 0);
		CHECK(l4_csum_ok(seg, (size_t)sl, l3, l4, false, 17));
		CHECK(memcmp(seg + hl, frame + hl + i * 1200, plen) == 0);
	}
}

TEST(emu_gso_rejects_bad_headers)
{
	size_t len = make_tcp(false, 10 * MSS, 1, 0x10);
	struct virtio_net_hdr v = vnet(VIRTIO_NET_HDR_GSO_TCPV4, MSS, 34, 16), w;
	struct emu_gso g;

	/* truncated virtio-net header */
	for (size_t n = 0; n < sizeof(v); n++)
		CHECK_EQ(emu_gso_init(&g, &v, n, frame, len), -EINVAL);
	CHECK_EQ(emu_gso_init(&g, NULL, sizeof(v), frame, len), -EINVAL);
	/* every truncation of the frame inside its headers */
	for (size_t n = 0; n < 66; n++)
		CHECK_EQ(emu_gso_init(&g, &v, sizeof(v), frame, n), -EINVAL);
	w = v;
	w.gso_size = 0;
	CHECK_EQ(emu_gso_init(&g, &w, sizeof(w), frame, len), -EINVAL);
	w = v;
	w.gso_type = VIRTIO_NET_HDR_GSO_UDP; /* UFO: not handled */
	CHECK_EQ(emu_gso_init(&g, &w, sizeof(w), frame, len), -EPROTONOSUPPORT);
	w.gso_type = 0x40;
	CHECK_EQ(emu_gso_init(&g, &w, sizeof(w), frame, len), -EPROTONOSUPPORT);
	w.gso_type = VIRTIO_NET_HDR_GSO_TCPV6; /* an IPv4 frame */
	CHECK_EQ(emu_gso_init(&g, &w, sizeof(w), frame, len), -EINVAL);
	w.gso_type = VIRTIO_NET_HDR_GSO_UDP_L4; /* a TCP frame */
	CHECK_EQ(emu_gso_init(&g, &w, sizeof(w), frame, len), -EINVAL);
	w = v;
	w.csum_start = 30; /* not the L4 header */
	CHECK_EQ(emu_gso_init(&g, &w, sizeof(w), frame, len), -EINVAL);
	w = v;
	w.gso_size = 1; /* 14480 segments */
	CHECK_EQ(emu_gso_init(&g, &w, sizeof(w), frame, len), -E2BIG);
	frame[14 + 6] = 0x20; /* MF: a fragment */
	CHECK_EQ(emu_gso_init(&g, &v, sizeof(v), frame, len), -EINVAL);
	/* IPv6 with an extension header (hop-by-hop) */
	len = make_tcp(true, 4 * MSS, 1, 0x10);
	frame[14 + 6] = 0;
	w = vnet(VIRTIO_NET_HDR_GSO_TCPV6, MSS, 54, 16);
	CHECK_EQ(emu_gso_init(&g, &w, sizeof(w), frame, len), -EPROTONOSUPPORT);
	CHECK_EQ(emu_gso_segment(&g, 0, seg, sizeof(seg)), -EINVAL); /* g was reset */
}

TEST(emu_gso_garbage_never_crashes)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	int accepted = 0;

	/* random headers over a valid frame's bytes with random damage */
	for (int round = 0; round < 20000; round++) {
		struct virtio_net_hdr v;
		struct emu_gso g;
		size_t len = make_tcp(round & 1, (size_t)(round % 9) * 500, 1, 0x18);
		uint8_t raw[sizeof(v)];
		int n;

		for (size_t i = 0; i < sizeof(raw); i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			raw[i] = (uint8_t)x;
		}
		memcpy(&v, raw, sizeof(v));
		if (round % 3 == 0) { /* plausible types and sizes, damaged frame */
			v.gso_type = (uint8_t)(x % 6);
			v.gso_size = (uint16_t)(x >> 8) % 3000;
			frame[(x >> 20) % 80] ^= (uint8_t)(x >> 40);
		}
		len = (size_t)((x >> 32) % (len + 1));
		n = emu_gso_init(&g, &v, sizeof(v), frame, len);
		CHECK(n <= (int)EMU_GSO_MAX_SEGS);
		if (n > 0) {
			accepted++;
			for (int i = 0; i < n; i++) {
				ptrdiff_t sl = emu_gso_segment(&g, (size_t)i, seg, sizeof(seg));

				CHECK(sl > 0 && (size_t)sl <= emu_gso_seg_max(&g));
			}
		}
	}
	CHECK(accepted > 0);
}

TEST(emu_csum_matches_reference)
{
	for (size_t n = 0; n < 300; n++) {
		uint32_t r;

		for (size_t i = 0; i < n; i++)
			frame[i] = (uint8_t)(i * 31 + n);
		r = ref_fold(ref_sum(0, frame, n));
		CHECK_EQ(emu_csum_fold(emu_csum_add(0, frame, n)), (uint16_t)~r);
	}
}
