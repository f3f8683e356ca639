/* Wire codecs: round trips, every truncation rejected (ngtcp2's loop), checksums,
 * malformed options, hand-derived byte vectors. */
#include "test.h"
#include "wire.h"
#include "seq.h"
#include "mpt_sim.h"

static void ip4(struct wire_ip_repr *ip)
{
	memset(ip, 0, sizeof(*ip));
	ip->family = MPT_AF_INET;
	ip->ttl = 64;
	ip->proto = WIRE_PROTO_TCP;
	ip->src[0] = 10, ip->src[3] = 1;
	ip->dst[0] = 10, ip->dst[3] = 2;
}

static void ip6(struct wire_ip_repr *ip)
{
	memset(ip, 0, sizeof(*ip));
	ip->family = MPT_AF_INET6;
	ip->ttl = 64;
	ip->proto = WIRE_PROTO_TCP;
	ip->src[0] = 0xfd, ip->src[15] = 1;
	ip->dst[0] = 0xfd, ip->dst[15] = 2;
	ip->tos = 0xb8;
}

/* RFC 1071-style vector: the classic IPv4 header 4500 0073 0000 4000 4011 b861
 * c0a8 0001 c0a8 00c7 carries checksum 0xb861. */
TEST(stack_wire_ipv4_vector)
{
	const uint8_t h[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
			       0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
	uint8_t buf[0x73];
	struct wire_ip_repr r;

	memset(buf, 0, sizeof(buf));
	memcpy(buf, h, sizeof(h));
	CHECK_EQ(wire_ip_parse(&r, buf, sizeof(buf)), 20);
	CHECK_EQ(r.proto, 17);
	CHECK_EQ(r.payload_len, 0x73 - 20);
	CHECK_EQ(r.src[0], 0xc0);
	CHECK_EQ(r.dst[3], 0xc7);
	/* emit reproduces the checksum */
	r.ident = 0;
	CHECK_EQ(wire_ip_emit(&r, buf, sizeof(buf)), 20);
	CHECK_EQ(buf[10], 0xb8);
	CHECK_EQ(buf[11], 0x61);
	buf[11] ^= 1;
	CHECK_EQ(wire_ip_parse(&r, buf, sizeof(buf)), MPT_ECSUM);
}

TEST(stack_wire_ip_truncations)
{
	struct wire_ip_repr ip, r;
	uint8_t buf[100];
	size_t i;

	ip4(&ip);
	ip.payload_len = 20;
	CHECK_EQ(wire_ip_emit(&ip, buf, sizeof(buf)), 20);
	memset(buf + 20, 0, 20);
	CHECK_EQ(wire_ip_parse(&r, buf, 40), 20);
	for (i = 0; i < 40; i++)
		CHECK(wire_ip_parse(&r, buf, i) < 0);
	for (i = 0; i < 20; i++)
		CHECK_EQ(wire_ip_emit(&ip, buf, i), MPT_ENOBUFS);
	/* fragments are not reassembled */
	CHECK_EQ(wire_ip_emit(&ip, buf, sizeof(buf)), 20);
	buf[6] |= 0x20; /* MF */
	buf[10] = buf[11] = 0;
	wire_put16(buf + 10, wire_csum_fold(wire_csum_add(0, buf, 20)));
	CHECK_EQ(wire_ip_parse(&r, buf, 40), MPT_EUNSUPP);
	/* bad IHL, bad version */
	CHECK_EQ(wire_ip_emit(&ip, buf, sizeof(buf)), 20);
	buf[0] = 0x44;
	CHECK_EQ(wire_ip_parse(&r, buf, 40), MPT_EMALFORMED);
	buf[0] = 0x55;
	CHECK_EQ(wire_ip_parse(&r, buf, 40), MPT_EMALFORMED);

	ip6(&ip);
	ip.payload_len = 20;
	CHECK_EQ(wire_ip_emit(&ip, buf, sizeof(buf)), 40);
	CHECK_EQ(wire_ip_parse(&r, buf, 60), 40);
	CHECK_EQ(r.tos, 0xb8);
	CHECK_EQ(r.payload_len, 20);
	CHECK(!memcmp(r.src, ip.src, 16));
	for (i = 0; i < 60; i++)
		CHECK(wire_ip_parse(&r, buf, i) < 0);
	for (i = 0; i < 40; i++)
		CHECK_EQ(wire_ip_emit(&ip, buf, i), MPT_ENOBUFS);
}

static void full_opts(struct wire_tcp_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->present = WIRE_HAS_MSS | WIRE_HAS_WS | WIRE_HAS_SACK_PERM | WIRE_HAS_TS;
	o->mss = 1460;
	o->wscale = 7;
	o->tsval = 0x01020304;
	o->tsecr = 0xa0b0c0d0;
}

TEST(stack_wire_option_codecs)
{
	uint8_t b[64];
	uint16_t mss;
	uint8_t ws, n;
	uint32_t v, e;
	struct wire_sack_block blk[4] = {{1, 2}, {3, 4}, {0xfffffff0, 0x10}, {7, 8}}, got[4];
	struct wire_mptcp_raw raw = {.len = 12}, raw2;
	size_t i;

	/* MSS */
	CHECK_EQ(wire_opt_mss_encode(b, sizeof(b), 1460), (ptrdiff_t)wire_opt_mss_len());
	CHECK_EQ(b[0], 2);
	CHECK_EQ(b[1], 4);
	CHECK_EQ(b[2], 0x05);
	CHECK_EQ(b[3], 0xb4);
	CHECK_EQ(wire_opt_mss_decode(&mss, b, 4), 4);
	CHECK_EQ(mss, 1460);
	for (i = 0; i < 4; i++) {
		CHECK(wire_opt_mss_decode(&mss, b, i) < 0);
		CHECK_EQ(wire_opt_mss_encode(b + 8, i, 1), MPT_ENOBUFS);
	}
	b[1] = 5;
	CHECK(wire_opt_mss_decode(&mss, b, 8) < 0);
	/* WS */
	CHECK_EQ(wire_opt_ws_encode(b, sizeof(b), 14), 3);
	CHECK_EQ(wire_opt_ws_decode(&ws, b, 3), 3);
	CHECK_EQ(ws, 14);
	for (i = 0; i < 3; i++)
		CHECK(wire_opt_ws_decode(&ws, b, i) < 0);
	/* SACK-permitted */
	CHECK_EQ(wire_opt_sack_perm_encode(b, sizeof(b)), 2);
	CHECK_EQ(wire_opt_sack_perm_decode(b, 2), 2);
	for (i = 0; i < 2; i++)
		CHECK(wire_opt_sack_perm_decode(b, i) < 0);
	/* SACK, 1..4 blocks */
	for (n = 1; n <= 4; n++) {
		uint8_t m = 0;
		size_t len = wire_opt_sack_len(n);

		CHECK_EQ(wire_opt_sack_encode(b, sizeof(b), blk, n), (ptrdiff_t)len);
		CHECK_EQ(b[1], len);
		CHECK_EQ(wire_opt_sack_decode(got, &m, b, len), (ptrdiff_t)len);
		CHECK_EQ(m, n);
		CHECK(!memcmp(got, blk, n * sizeof(blk[0])));
		for (i = 0; i < len; i++)
			CHECK(wire_opt_sack_decode(got, &m, b, i) < 0);
	}
	CHECK_EQ(wire_opt_sack_encode(b, sizeof(b), blk, 0), MPT_EINVAL);
	CHECK_EQ(wire_opt_sack_encode(b, sizeof(b), blk, 5), MPT_EINVAL);
	b[0] = 5, b[1] = 11; /* not 2 + 8n */
	CHECK(wire_opt_sack_decode(got, &n, b, 40) < 0);
	b[1] = 42; /* 5 blocks */
	CHECK(wire_opt_sack_decode(got, &n, b, 64) < 0);
	/* TS */
	CHECK_EQ(wire_opt_ts_encode(b, sizeof(b), 0xdeadbeef, 0x01020304), 10);
	CHECK_EQ(wire_opt_ts_decode(&v, &e, b, 10), 10);
	CHECK_U64_EQ(v, 0xdeadbeef);
	CHECK_U64_EQ(e, 0x01020304);
	for (i = 0; i < 10; i++)
		CHECK(wire_opt_ts_decode(&v, &e, b, i) < 0);
	/* MPTCP pass-through */
	raw.data[0] = 30;
	raw.data[1] = 12;
	raw.data[2] = 0x00; /* MP_CAPABLE v0 */
	for (i = 3; i < 12; i++)
		raw.data[i] = (uint8_t)i;
	CHECK_EQ(wire_opt_mptcp_encode(b, sizeof(b), &raw), 12);
	CHECK_EQ(wire_opt_mptcp_decode(&raw2, b, 12), 12);
	CHECK_EQ(raw2.len, 12);
	CHECK(!memcmp(raw2.data, raw.data, 12));
	for (i = 0; i < 12; i++)
		CHECK(wire_opt_mptcp_decode(&raw2, b, i) < 0);
	raw.data[1] = 11; /* length byte disagrees */
	CHECK_EQ(wire_opt_mptcp_encode(b, sizeof(b), &raw), MPT_EINVAL);
}

/* opts_len() equals what encode writes, for every combination of options. */
TEST(stack_wire_opts_len_matches_encode)
{
	uint8_t b[64];
	uint32_t mask;

	for (mask = 0; mask < 64; mask++) {
		struct wire_tcp_opts o, d;
		size_t len;
		ptrdiff_t w;

		full_opts(&o);
		o.present = mask;
		o.nsack = (mask & WIRE_HAS_TS) ? 3 : 4;
		o.sack[0].left = 100, o.sack[0].right = 200;
		o.nmptcp = 1;
		o.mptcp[0].len = 4;
		o.mptcp[0].data[0] = 30, o.mptcp[0].data[1] = 4, o.mptcp[0].data[2] = 0x20;
		len = wire_tcp_opts_len(&o);
		w = wire_tcp_opts_encode(b, sizeof(b), &o);
		if (len > 40) {
			CHECK_EQ(w, MPT_EINVAL);
			continue;
		}
		CHECK_EQ(w, (ptrdiff_t)len);
		CHECK_EQ(len % 4, 0);
		CHECK_EQ(wire_tcp_opts_decode(&d, b, len), 0);
		CHECK_EQ(d.present, mask);
		CHECK_EQ(d.n_malformed, 0);
		if (mask & WIRE_HAS_MSS)
			CHECK_EQ(d.mss, 1460);
		if (mask & WIRE_HAS_TS)
			CHECK_U64_EQ(d.tsecr, 0xa0b0c0d0);
		if (mask & WIRE_HAS_SACK)
			CHECK_EQ(d.nsack, o.nsack);
	}
}

TEST(stack_wire_opts_malformed)
{
	struct wire_tcp_opts o;
	const uint8_t zero_len[] = {1, 1, 8, 0};
	const uint8_t one_len[] = {8, 1, 1, 1};
	const uint8_t past_end[] = {1, 8, 10, 0, 0};
	const uint8_t bad_mss[] = {2, 3, 5, 1, 1, 1, 1, 0};
	const uint8_t unknown[] = {99, 4, 0, 0, 2, 4, 5, 0xb4};
	const uint8_t eol_stops[] = {0, 2, 4, 5, 0xb4};

	CHECK_EQ(wire_tcp_opts_decode(&o, zero_len, sizeof(zero_len)), MPT_EMALFORMED);
	CHECK_EQ(wire_tcp_opts_decode(&o, one_len, sizeof(one_len)), MPT_EMALFORMED);
	CHECK_EQ(wire_tcp_opts_decode(&o, past_end, sizeof(past_end)), MPT_EMALFORMED);
	CHECK_EQ(wire_tcp_opts_decode(&o, bad_mss, sizeof(bad_mss)), 0);
	CHECK_EQ(o.n_malformed, 1);
	CHECK(!(o.present & WIRE_HAS_MSS));
	CHECK_EQ(wire_tcp_opts_decode(&o, unknown, sizeof(unknown)), 0);
	CHECK_EQ(o.n_unknown, 1);
	CHECK(o.present & WIRE_HAS_MSS);
	CHECK_EQ(o.mss, 1460);
	CHECK_EQ(wire_tcp_opts_decode(&o, eol_stops, sizeof(eol_stops)), 0);
	CHECK_EQ(o.present, 0);
}

/* Found by tests/fuzz/fuzz_opts (crashes-found/fuzz_opts-sack-then-malformed-sack): a
 * malformed SACK after a good one zeroed nsack but left WIRE_HAS_SACK set, so the
 * list said "SACK" with no blocks and did not survive encode + decode. */
TEST(stack_wire_opts_malformed_sack_keeps_the_good_one)
{
	struct wire_tcp_opts o, o2;
	const uint8_t opts[] = {1, 1, 5, 10, 0, 0, 0, 100, 0, 0, 0, 200, 5, 5, 5, 5, 5, 0};
	uint8_t buf[40];
	ptrdiff_t n;

	CHECK_EQ(wire_tcp_opts_decode(&o, opts, sizeof(opts)), 0);
	CHECK_EQ(o.n_malformed, 1);
	CHECK(o.present & WIRE_HAS_SACK);
	CHECK_EQ(o.nsack, 1);
	CHECK_U64_EQ(o.sack[0].left, 100);
	CHECK_U64_EQ(o.sack[0].right, 200);
	n = wire_tcp_opts_encode(buf, sizeof(buf), &o);
	CHECK(n > 0);
	CHECK_EQ(wire_tcp_opts_decode(&o2, buf, (size_t)n), 0);
	CHECK_EQ(o2.present, o.present);
	CHECK_EQ(o2.nsack, 1);
}

static void tcp_round_trip(void (*mkip)(struct wire_ip_repr *))
{
	struct wire_ip_repr ip, pip;
	struct wire_tcp_repr t, p;
	uint8_t buf[200], payload[7] = "payload";
	ptrdiff_t n, ihl;
	size_t i, hlen;

	mkip(&ip);
	memset(&t, 0, sizeof(t));
	t.sport = 40000;
	t.dport = 5001;
	t.seq = 0xfffffff0;
	t.ack = 0x12345678;
	t.flags = WIRE_TCP_ACK | WIRE_TCP_PSH;
	t.window = 501;
	t.opt.present = WIRE_HAS_TS | WIRE_HAS_SACK | WIRE_HAS_MPTCP;
	t.opt.tsval = 1, t.opt.tsecr = 2;
	t.opt.nsack = 2;
	t.opt.sack[0].left = 10, t.opt.sack[0].right = 20;
	t.opt.sack[1].left = 30, t.opt.sack[1].right = 40;
	t.opt.nmptcp = 1;
	t.opt.mptcp[0].len = 8;
	t.opt.mptcp[0].data[0] = 30, t.opt.mptcp[0].data[1] = 8, t.opt.mptcp[0].data[2] = 0x20;
	t.payload = payload;
	t.payload_len = sizeof(payload);
	n = wire_packet_emit(&ip, &t, buf, sizeof(buf));
	hlen = wire_tcp_hdr_len(&t);
	CHECK_EQ(n, (ptrdiff_t)(wire_ip_hdr_len(&ip) + hlen + sizeof(payload)));
	CHECK_EQ(wire_packet_parse(&pip, &p, buf, (size_t)n), (ptrdiff_t)sizeof(payload));
	CHECK_EQ(p.sport, 40000);
	CHECK_EQ(p.dport, 5001);
	CHECK_U64_EQ(p.seq, 0xfffffff0);
	CHECK_U64_EQ(p.ack, 0x12345678);
	CHECK_EQ(p.flags, t.flags);
	CHECK_EQ(p.window, 501);
	CHECK_EQ(p.opt.present, t.opt.present);
	CHECK_EQ(p.opt.nsack, 2);
	CHECK_U64_EQ(p.opt.sack[1].right, 40);
	CHECK_EQ(p.opt.nmptcp, 1);
	CHECK_EQ(p.opt.mptcp[0].data[2], 0x20);
	CHECK(!memcmp(p.payload, payload, sizeof(payload)));
	/* every truncation of the TCP header is rejected */
	ihl = (ptrdiff_t)wire_ip_hdr_len(&ip);
	for (i = 0; i < hlen; i++)
		CHECK_EQ(wire_tcp_parse(&p, buf + ihl, i, NULL), MPT_EMALFORMED);
	/* ... and every truncation of the datagram */
	for (i = 0; i < (size_t)n; i++)
		CHECK(wire_packet_parse(&pip, &p, buf, i) < 0);
	/* every single-bit flip in the TCP part is caught by the checksum, or makes the
	 * header malformed */
	for (i = (size_t)ihl * 8; i < (size_t)n * 8; i++) {
		buf[i / 8] ^= (uint8_t)(1u << (i % 8));
		CHECK(wire_packet_parse(&pip, &p, buf, (size_t)n) < 0);
		buf[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	for (i = 0; i < (size_t)n; i++)
		CHECK_EQ(wire_packet_emit(&ip, &t, buf, i), MPT_ENOBUFS);
}

TEST(stack_wire_tcp_round_trip_v4)
{
	tcp_round_trip(ip4);
}

TEST(stack_wire_tcp_round_trip_v6)
{
	tcp_round_trip(ip6);
}

/* A stack counts bad checksums and malformed headers, and never crashes on
 * truncated or random input. */
TEST(stack_wire_stack_counts_bad_input)
{
	struct mpt_script s;
	struct wire_ip_repr ip;
	struct wire_tcp_repr t;
	uint8_t buf[128], junk[128];
	ptrdiff_t n;
	size_t i;
	uint64_t rng = 5;
	const struct mpt_counters *c;

	CHECK_EQ(mpt_script_init(&s, NULL, MPT_AF_INET, 80, 1234), 0);
	c = mpt_stack_counters(s.st);
	ip4(&ip);
	memcpy(ip.src, s.remote.ip, 16);
	memcpy(ip.dst, s.local.ip, 16);
	memset(&t, 0, sizeof(t));
	t.sport = 1234, t.dport = 80, t.flags = WIRE_TCP_SYN, t.seq = 1;
	n = wire_packet_emit(&ip, &t, buf, sizeof(buf));
	CHECK(n > 0);
	buf[n - 1] ^= 0x40; /* TCP checksum broken */
	CHECK_EQ(mpt_stack_recv(s.st, buf, (size_t)n, 0, s.now), MPT_ECSUM);
	CHECK_U64_EQ(c->tcp_in_csum_errors, 1);
	CHECK_U64_EQ(c->tcp_in_errs, 1);
	buf[n - 1] ^= 0x40;
	buf[10] ^= 1; /* IP checksum broken */
	CHECK_EQ(mpt_stack_recv(s.st, buf, (size_t)n, 0, s.now), MPT_ECSUM);
	CHECK_U64_EQ(c->ip_in_hdr_errors, 1);
	buf[10] ^= 1;
	for (i = 0; i < (size_t)n; i++)
		CHECK(mpt_stack_recv(s.st, buf, i, 0, s.now) < 0);
	CHECK_EQ(mpt_stack_recv(s.st, buf, (size_t)n, 7, s.now), MPT_ENOENT); /* no path 7 */
	CHECK_U64_EQ(c->ip_in_addr_errors, 1);
	for (i = 0; i < 2000; i++) {
		size_t k, len = 1 + mpt_sim_rand(&rng) % sizeof(junk);

		for (k = 0; k < len; k++)
			junk[k] = (uint8_t)mpt_sim_rand(&rng);
		if (i & 1)
			memcpy(junk, buf, 20 < len ? 20 : len); /* valid-looking IP header */
		mpt_stack_recv(s.st, junk, len, 0, s.now);
	}
	/* the valid SYN with no listener gets a RST */
	CHECK_EQ(mpt_stack_recv(s.st, buf, (size_t)n, 0, s.now), MPT_ENOENT);
	CHECK_EQ(mpt_script_pull(&s, &t), 1);
	CHECK(t.flags & WIRE_TCP_RST);
	CHECK_U64_EQ(t.ack, 2);
	mpt_script_free(&s);
}

TEST(stack_seq_wraparound)
{
	CHECK(seq_lt(0xffffff00u, 0x10));
	CHECK(seq_gt(0x10, 0xffffff00u));
	CHECK(seq_le(5, 5) && seq_ge(5, 5));
	CHECK(!seq_lt(5, 5));
	CHECK_EQ(seq_diff(0x10, 0xfffffff0u), 0x20);
	CHECK_EQ(seq_diff(0xfffffff0u, 0x10), -0x20);
	CHECK_U64_EQ(seq_max(0xfffffff0u, 0x10), 0x10);
	CHECK_U64_EQ(seq_min(0xfffffff0u, 0x10), 0xfffffff0u);
	CHECK(seq_in(0, 0xfffffff0u, 0x10));
	CHECK(seq_in(0xfffffff0u, 0xfffffff0u, 0x10));
	CHECK(!seq_in(0x10, 0xfffffff0u, 0x10));
	CHECK(seq_lt(0, 0x7fffffff));
	CHECK(seq_gt(0, 0x80000001u)); /* more than 2^31 apart: the other way round */
}

TEST(stack_counters_nstat_format)
{
	struct mpt_counters c;
	char buf[8192];
	ptrdiff_t n;

	memset(&c, 0, sizeof(c));
	c.challenge_ack = 3;
	c.tcp_in_csum_errors = 1;
	n = mpt_counters_format(&c, false, buf, sizeof(buf));
	CHECK(n > 0);
	CHECK_CONTAINS(buf, "#kernel\n");
	CHECK_CONTAINS(buf, "TcpExtTCPChallengeACK           3               ");
	CHECK_CONTAINS(buf, "TcpInCsumErrors");
	CHECK(!strstr(buf, "TcpExtTCPTimeouts"));
	n = mpt_counters_format(&c, true, buf, sizeof(buf));
	CHECK_CONTAINS(buf, "TcpExtTCPTimeouts               0");
	CHECK_EQ(mpt_counters_format(&c, true, buf, 20), MPT_ENOBUFS);
	CHECK_U64_EQ(mpt_counters_get(&c, "TCPChallengeACK"), 3);
	CHECK_U64_EQ(mpt_counters_get(&c, "TcpExtTCPChallengeACK"), 3);
	CHECK_U64_EQ(mpt_counters_get(&c, "NoSuch"), UINT64_MAX);
}

/* The RFC 1071 reference: 16-bit big-endian words one at a time, an odd tail padded
 * with a zero byte, end-around carry into a 32-bit running sum. */
static uint32_t csum_ref(uint32_t sum, const uint8_t *p, size_t len)
{
	uint64_t s = sum;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)((p[i] << 8) | p[i + 1]);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 32)
		s = (s & 0xffffffffu) + (s >> 32);
	return (uint32_t)s;
}

/* The word-wise checksum agrees with the reference after folding, for every length
 * 0..300, every alignment 0..7, several start sums, random and all-0xff bytes
 * (carries everywhere); and a 64 KiB buffer. */
TEST(stack_wire_csum_matches_reference)
{
	static uint8_t buf[65536 + 16];
	const uint32_t starts[] = {0, 1, 0xffff, 0x1fffe, 0xfffffffe, 0xffffffff};
	uint32_t x = 12345;

	for (int fill = 0; fill < 2; fill++) {
		for (size_t i = 0; i < sizeof(buf); i++) {
			x = x * 1103515245u + 12345u;
			buf[i] = fill ? 0xff : (uint8_t)(x >> 16);
		}
		for (size_t off = 0; off < 8; off++)
			for (size_t len = 0; len <= 300; len++)
				for (size_t k = 0; k < sizeof(starts) / sizeof(starts[0]); k++)
					CHECK_EQ(wire_csum_fold(
							 wire_csum_add(starts[k], buf + off, len)),
						 wire_csum_fold(
							 csum_ref(starts[k], buf + off, len)));
		CHECK_EQ(wire_csum_fold(wire_csum_add(0, buf + 3, 65536)),
			 wire_csum_fold(csum_ref(0, buf + 3, 65536)));
		/* chained calls (even pieces) equal one call */
		CHECK_EQ(
			wire_csum_fold(wire_csum_add(wire_csum_add(7, buf, 1000), buf + 1000, 501)),
			wire_csum_fold(csum_ref(7, buf, 1501)));
	}
}

/* mpt_stack_recv_verified skips the TCP checksum (a kernel-vouched frame), nothing
 * else: the IPv4 header checksum and the structure are still checked. */
TEST(stack_wire_recv_verified_skips_tcp_csum_only)
{
	struct mpt_script s;
	struct wire_ip_repr ip;
	struct wire_tcp_repr t;
	uint8_t buf[128];
	ptrdiff_t n;
	const struct mpt_counters *c;

	CHECK_EQ(mpt_script_init(&s, NULL, MPT_AF_INET, 80, 1234), 0);
	c = mpt_stack_counters(s.st);
	ip4(&ip);
	memcpy(ip.src, s.remote.ip, 16);
	memcpy(ip.dst, s.local.ip, 16);
	memset(&t, 0, sizeof(t));
	t.sport = 1234, t.dport = 80, t.flags = WIRE_TCP_SYN, t.seq = 1;
	ip.csum_partial = true; /* as a kernel hands a CHECKSUM_PARTIAL frame over */
	n = wire_packet_emit(&ip, &t, buf, sizeof(buf));
	CHECK(n > 0);
	CHECK_EQ(mpt_stack_recv(s.st, buf, (size_t)n, 0, s.now), MPT_ECSUM);
	CHECK_U64_EQ(c->tcp_in_csum_errors, 1);
	/* taken: no listener, so a RST answers it */
	CHECK_EQ(mpt_stack_recv_verified(s.st, buf, (size_t)n, 0, s.now), MPT_ENOENT);
	CHECK_U64_EQ(c->tcp_in_csum_errors, 1);
	CHECK_U64_EQ(c->no_socket, 1);
	CHECK_EQ(mpt_script_pull(&s, &t), 1);
	CHECK(t.flags & WIRE_TCP_RST);
	buf[10] ^= 1; /* IP header checksum broken: still refused */
	CHECK_EQ(mpt_stack_recv_verified(s.st, buf, (size_t)n, 0, s.now), MPT_ECSUM);
	CHECK_U64_EQ(c->ip_in_hdr_errors, 1);
	buf[10] ^= 1;
	for (size_t i = 0; i < (size_t)n; i++)
		CHECK(mpt_stack_recv_verified(s.st, buf, i, 0, s.now) < 0);
	mpt_script_free(&s);
}
