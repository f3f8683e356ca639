/* The payload-rewriting middlebox (emu_rewrite): one payload byte of a TCP segment
 * changed, the TCP checksum still right (checked with an independent sum), every
 * other frame untouched, truncated or malformed frames refused without reading out
 * of bounds; and emu_dir applying a `rewrite` count exactly that many times. */
#include "emu_dir.h"
#include "emu_rewrite.h"
#include "test.h"

#include <stdlib.h>

static uint8_t rw[2048];

static uint32_t rsum(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i += 2)
		s += (uint32_t)(p[i] << 8 | (i + 1 < n ? p[i + 1] : 0));
	return s;
}

static uint16_t rfold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* TCP checksum over pseudo-header + segment; 0xffff when right. */
static uint16_t tcp_sum(const uint8_t *f, size_t l3, size_t l4, size_t end, bool v6)
{
	uint32_t s = v6 ? rsum(0, f + l3 + 8, 32) : rsum(0, f + l3 + 12, 8);

	s += (uint32_t)(end - l4) + 6;
	return rfold(rsum(s, f + l4, end - l4));
}

/* Ethernet (+ one VLAN tag if vlan) + IPv4/IPv6 + TCP (doff 5) + payload, right
 * checksum, `pad` zero bytes of Ethernet padding after it.  Returns the length. */
static size_t make(bool v6, bool vlan, size_t payload, uint8_t flags, size_t pad)
{
	size_t l3 = vlan ? 18 : 14, l4 = l3 + (v6 ? 40 : 20), end = l4 + 20 + payload;
	uint16_t c;

	memset(rw, 0, sizeof(rw));
	if (vlan) {
		rw[12] = 0x81;
		rw[14] = 0x00;
		rw[15] = 0x07;
	}
	rw[l3 - 2] = v6 ? 0x86 : 0x08;
	rw[l3 - 1] = v6 ? 0xdd : 0x00;
	if (v6) {
		rw[l3] = 0x60;
		rw[l3 + 4] = (uint8_t)((20 + payload) >> 8);
		rw[l3 + 5] = (uint8_t)(20 + payload);
		rw[l3 + 6] = 6;
		rw[l3 + 7] = 64;
		rw[l3 + 23] = 1;
		rw[l3 + 39] = 2;
	} else {
		rw[l3] = 0x45;
		rw[l3 + 2] = (uint8_t)((40 + payload) >> 8);
		rw[l3 + 3] = (uint8_t)(40 + payload);
		rw[l3 + 6] = 0x40; /* DF */
		rw[l3 + 8] = 64;
		rw[l3 + 9] = 6;
		rw[l3 + 12] = 198;
		rw[l3 + 15] = 1;
		rw[l3 + 16] = 198;
		rw[l3 + 19] = 2;
	}
	rw[l4 + 12] = 5 << 4;
	rw[l4 + 13] = flags;
	for (size_t i = 0; i < payload; i++)
		rw[l4 + 20 + i] = (uint8_t)(i * 13 + 5);
	c = (uint16_t)~tcp_sum(rw, l3, l4, end, v6);
	rw[l4 + 16] = (uint8_t)(c >> 8);
	rw[l4 + 17] = (uint8_t)c;
	return end + pad;
}

static void check_rewrite(bool v6, bool vlan, size_t payload, size_t pad)
{
	size_t len = make(v6, vlan, payload, 0x18 /* PSH|ACK */, pad), l3 = vlan ? 18 : 14;
	size_t l4 = l3 + (v6 ? 40 : 20), end = l4 + 20 + payload;
	uint8_t before[sizeof(rw)];
	size_t diff = 0, at = 0;

	CHECK_EQ(tcp_sum(rw, l3, l4, end, v6), 0xffff);
	memcpy(before, rw, len);
	CHECK(emu_rewrite_tcp(rw, len));
	CHECK_EQ(tcp_sum(rw, l3, l4, end, v6), 0xffff);
	for (size_t i = l4 + 20; i < len; i++)
		if (rw[i] != before[i]) {
			diff++;
			at = i;
		}
	CHECK_EQ(diff, 1);
	CHECK_EQ(at, l4 + 20 + payload / 2);
	CHECK_EQ(rw[at], (uint8_t)~before[at]);
	CHECK(!memcmp(rw, before, l4 + 16)); /* headers untouched but the checksum */
}

TEST(emu_rewrite_tcp_payload_checksum_fixed)
{
	size_t sizes[] = {1, 2, 3, 100, 1001, 1448};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		check_rewrite(false, false, sizes[i], 0);
		check_rewrite(true, false, sizes[i], 0);
		check_rewrite(false, true, sizes[i], 0);
		check_rewrite(false, false, sizes[i], 6); /* Ethernet padding ignored */
	}
}

TEST(emu_rewrite_leaves_other_frames_alone)
{
	uint8_t before[sizeof(rw)];
	size_t len;

	/* no payload, SYN, RST, UDP, an IPv4 fragment */
	len = make(false, false, 0, 0x10, 6);
	memcpy(before, rw, len);
	CHECK(!emu_rewrite_tcp(rw, len));
	CHECK(!memcmp(rw, before, len));
	len = make(false, false, 10, 0x02, 0);
	CHECK(!emu_rewrite_tcp(rw, len));
	len = make(true, false, 10, 0x14, 0);
	CHECK(!emu_rewrite_tcp(rw, len));
	len = make(false, false, 10, 0x18, 0);
	rw[14 + 9] = 17;
	CHECK(!emu_rewrite_tcp(rw, len));
	len = make(false, false, 10, 0x18, 0);
	rw[14 + 6] = 0x20; /* MF */
	CHECK(!emu_rewrite_tcp(rw, len));
	/* every truncation of a good frame is refused (the IP length says more) */
	len = make(true, true, 40, 0x18, 0);
	for (size_t n = 0; n < len; n++) {
		memcpy(before, rw, len);
		CHECK(!emu_rewrite_tcp(rw, n));
		CHECK(!memcmp(rw, before, len));
	}
	/* random garbage never crashes */
	srand(7);
	for (int k = 0; k < 2000; k++) {
		size_t n = (size_t)rand() % 200;

		for (size_t i = 0; i < n; i++)
			rw[i] = (uint8_t)rand();
		if (k & 1) {
			rw[12] = 0x08;
			rw[13] = 0x00;
		}
		(void)emu_rewrite_tcp(rw, n);
	}
}

/* emu_dir: `rewrite: 2` rewrites the next two TCP segments with payload (pure ACKs
 * pass as they are), then nothing; a `set` of rewrite starts the count again. */
TEST(emu_dir_rewrite_count)
{
	struct topo_dir p;
	struct emu_dir *d;
	struct emu_pkt *o;
	uint64_t now = 1000;
	size_t len;
	int changed = 0;

	memset(&p, 0, sizeof(p));
	p.set = TOPO_F_REWRITE;
	p.rewrite = 2;
	d = emu_dir_new(&p, NULL, 1, 0, 0, now);
	CHECK(d != NULL);
	for (int k = 0; k < 6; k++) {
		uint8_t before[sizeof(rw)];

		len = make(false, false, k == 0 ? 0 : 100, 0x18, 0);
		memcpy(before, rw, len);
		CHECK(emu_dir_enqueue(d, rw, len, 0, 0, now) >= 0);
		o = emu_dir_dequeue(d, now);
		CHECK(o != NULL);
		CHECK_EQ(o->len, len);
		if (memcmp(o->data, before, len))
			changed++;
		CHECK_EQ(tcp_sum(o->data, 14, 34, len, false), 0xffff);
		emu_pkt_free(o);
	}
	CHECK_EQ(changed, 2);
	CHECK_U64_EQ(emu_dir_stats(d)->rewritten, 2);
	CHECK_EQ(emu_dir_params(d)->rewrite, 0);
	p.rewrite = 1;
	CHECK_EQ(emu_dir_set(d, &p, NULL, now), 0);
	len = make(false, false, 50, 0x18, 0);
	CHECK(emu_dir_enqueue(d, rw, len, 0, 0, now) >= 0);
	o = emu_dir_dequeue(d, now);
	CHECK(o != NULL);
	emu_pkt_free(o);
	CHECK_U64_EQ(emu_dir_stats(d)->rewritten, 3);
	emu_dir_free(d);
}
