#include "test.h"
#include "perf_proto.h"
#include "perf_rx.h"
#include "perf_wl.h"
#include "perf_args.h"
#include "pattern.h"
#include "mpt.h"

#include <stdlib.h>

static const struct perf_hdr sample_hdr = {
	.dir = PERF_DOWNLOAD,
	.time_mode = true,
	.corrupt = true,
	.amount = 1500000000ull,
	.seed = 0x0123456789abcdefull,
	.interval_ns = 10000000ull,
	.corrupt_at = 77,
};

TEST(perf_hdr_round_trip)
{
	uint8_t buf[PERF_HDR_LEN + 4];
	struct perf_hdr h;

	CHECK_EQ(perf_hdr_encode(&sample_hdr, buf, sizeof(buf)), PERF_HDR_LEN);
	/* the layout written in perf_proto.h */
	CHECK(memcmp(buf, "MPPH\0\2\1\3", 8) == 0);
	CHECK_EQ(buf[23], 0xef);
	CHECK_EQ(buf[40], PERF_WL_BULK);
	memset(&h, 0, sizeof(h));
	CHECK_EQ(perf_hdr_decode(&h, buf, PERF_HDR_LEN), PERF_HDR_LEN);
	CHECK_EQ(h.dir, PERF_DOWNLOAD);
	CHECK(h.time_mode && h.corrupt);
	CHECK_U64_EQ(h.amount, sample_hdr.amount);
	CHECK_U64_EQ(h.seed, sample_hdr.seed);
	CHECK_U64_EQ(h.interval_ns, sample_hdr.interval_ns);
	CHECK_U64_EQ(h.corrupt_at, 77);
	CHECK_EQ(perf_hdr_encode(&sample_hdr, buf, PERF_HDR_LEN - 1), PERF_ESHORT);
}

TEST(perf_hdr_rejects_defects)
{
	uint8_t good[PERF_HDR_LEN], buf[PERF_HDR_LEN];
	struct perf_hdr h, bad;

	CHECK_EQ(perf_hdr_encode(&sample_hdr, good, sizeof(good)), PERF_HDR_LEN);
	/* every truncation */
	for (size_t len = 0; len < PERF_HDR_LEN; len++)
		CHECK_EQ(perf_hdr_decode(&h, good, len), PERF_ESHORT);

	memcpy(buf, good, sizeof(buf));
	buf[0] = 'G'; /* "GET /..." from a stray HTTP client */
	CHECK_EQ(perf_hdr_decode(&h, buf, sizeof(buf)), PERF_EMAGIC);
	memcpy(buf, good, sizeof(buf));
	buf[5] = 1; /* an mpt-perf of the 48-byte header */
	CHECK_EQ(perf_hdr_decode(&h, buf, sizeof(buf)), PERF_EVERSION);
	memcpy(buf, good, sizeof(buf));
	buf[6] = 2; /* direction */
	CHECK_EQ(perf_hdr_decode(&h, buf, sizeof(buf)), PERF_EFIELD);
	memcpy(buf, good, sizeof(buf));
	buf[7] |= 0x80; /* unknown flag */
	CHECK_EQ(perf_hdr_decode(&h, buf, sizeof(buf)), PERF_EFIELD);
	memcpy(buf, good, sizeof(buf));
	buf[47] = 1; /* reserved */
	CHECK_EQ(perf_hdr_decode(&h, buf, sizeof(buf)), PERF_EFIELD);
	memcpy(buf, good, sizeof(buf));
	buf[41] = 1; /* reserved */
	CHECK_EQ(perf_hdr_decode(&h, buf, sizeof(buf)), PERF_EFIELD);
	memcpy(buf, good, sizeof(buf));
	buf[40] = 3; /* no such workload */
	CHECK_EQ(perf_hdr_decode(&h, buf, sizeof(buf)), PERF_EFIELD);
	memcpy(buf, good, sizeof(buf));
	buf[63] = 1; /* a bulk transfer has no workload parameters */
	CHECK_EQ(perf_hdr_decode(&h, buf, sizeof(buf)), PERF_EFIELD);
	memcpy(buf, good, sizeof(buf));
	memset(buf + 8, 0, 8); /* amount 0 */
	CHECK_EQ(perf_hdr_decode(&h, buf, sizeof(buf)), PERF_EFIELD);
	memcpy(buf, good, sizeof(buf));
	buf[7] &= (uint8_t)~PERF_HDR_F_CORRUPT; /* corrupt_at without its flag */
	CHECK_EQ(perf_hdr_decode(&h, buf, sizeof(buf)), PERF_EFIELD);

	bad = sample_hdr;
	bad.amount = 0;
	CHECK_EQ(perf_hdr_encode(&bad, buf, sizeof(buf)), PERF_EFIELD);
	CHECK_STR_EQ(perf_proto_strerror(PERF_EMAGIC), "bad magic");
}

TEST(perf_res_round_trip_and_rejects)
{
	struct perf_res r = {
		.flags = PERF_RES_F_MISMATCH,
		.bytes = 20u << 20,
		.elapsed_ns = 123456789,
		.first_mismatch = 1000,
		.t0_mono_ns = 987654321000ull,
		.interval_ns = 100000000,
		.n_intervals = 3,
	};
	struct perf_ivl iv = {100, 200, 4096}, iv2;
	uint8_t good[PERF_RES_LEN], buf[PERF_RES_LEN], ib[PERF_IVL_LEN];
	struct perf_res d;

	CHECK_EQ(perf_res_encode(&r, good, sizeof(good)), PERF_RES_LEN);
	CHECK(memcmp(good, "MPPR\0\2\0\2", 8) == 0);
	CHECK_EQ(good[56], PERF_WL_BULK);
	CHECK_EQ(perf_res_decode(&d, good, sizeof(good)), PERF_RES_LEN);
	CHECK_EQ(d.flags, PERF_RES_F_MISMATCH);
	CHECK_U64_EQ(d.bytes, r.bytes);
	CHECK_U64_EQ(d.elapsed_ns, r.elapsed_ns);
	CHECK_U64_EQ(d.first_mismatch, 1000);
	CHECK_U64_EQ(d.t0_mono_ns, r.t0_mono_ns);
	CHECK_U64_EQ(d.interval_ns, r.interval_ns);
	CHECK_EQ(d.n_intervals, 3);
	for (size_t len = 0; len < PERF_RES_LEN; len++)
		CHECK_EQ(perf_res_decode(&d, good, len), PERF_ESHORT);

	memcpy(buf, good, sizeof(buf));
	buf[3] = 'H'; /* a header is not a result */
	CHECK_EQ(perf_res_decode(&d, buf, sizeof(buf)), PERF_EMAGIC);
	memcpy(buf, good, sizeof(buf));
	buf[5] = 1;
	CHECK_EQ(perf_res_decode(&d, buf, sizeof(buf)), PERF_EVERSION);
	memcpy(buf, good, sizeof(buf));
	buf[7] |= PERF_RES_F_VERIFIED; /* verified and a mismatch */
	CHECK_EQ(perf_res_decode(&d, buf, sizeof(buf)), PERF_EFIELD);
	memcpy(buf, good, sizeof(buf));
	buf[6] = 0x80;
	CHECK_EQ(perf_res_decode(&d, buf, sizeof(buf)), PERF_EFIELD);
	memcpy(buf, good, sizeof(buf));
	buf[24] = 0xff; /* mismatch beyond the bytes received */
	CHECK_EQ(perf_res_decode(&d, buf, sizeof(buf)), PERF_EFIELD);
	memcpy(buf, good, sizeof(buf));
	buf[48] = 0xff; /* too many intervals */
	CHECK_EQ(perf_res_decode(&d, buf, sizeof(buf)), PERF_EFIELD);
	memcpy(buf, good, sizeof(buf));
	buf[63] = 1; /* reserved */
	CHECK_EQ(perf_res_decode(&d, buf, sizeof(buf)), PERF_EFIELD);
	memcpy(buf, good, sizeof(buf));
	buf[56] = 3; /* no such workload */
	CHECK_EQ(perf_res_decode(&d, buf, sizeof(buf)), PERF_EFIELD);
	memcpy(buf, good, sizeof(buf));
	buf[52] = 0xff; /* too many samples */
	CHECK_EQ(perf_res_decode(&d, buf, sizeof(buf)), PERF_EFIELD);

	CHECK_EQ(perf_ivl_encode(&iv, ib, sizeof(ib)), PERF_IVL_LEN);
	CHECK_EQ(perf_ivl_decode(&iv2, ib, sizeof(ib)), PERF_IVL_LEN);
	CHECK_U64_EQ(iv2.start_ns, 100);
	CHECK_U64_EQ(iv2.end_ns, 200);
	CHECK_U64_EQ(iv2.bytes, 4096);
	CHECK_EQ(perf_ivl_decode(&iv2, ib, PERF_IVL_LEN - 1), PERF_ESHORT);
	ib[15] = 0; /* end 0 < start 100 */
	CHECK_EQ(perf_ivl_decode(&iv2, ib, sizeof(ib)), PERF_EFIELD);
}

TEST(perf_rx_verifies_and_bins)
{
	enum { LEN = 10000 };
	uint8_t *buf = malloc(LEN);
	struct perf_rx rx;
	struct perf_res res;
	const uint64_t t0 = 1000000000, ms = 1000000;

	CHECK(buf);
	pattern_fill(5, 0, buf, LEN);
	perf_rx_init(&rx, 5, 10 * ms, t0);
	CHECK_EQ(perf_rx_data(&rx, buf, 4000, t0 + 1 * ms), 0);
	CHECK_EQ(perf_rx_data(&rx, buf + 4000, 4000, t0 + 5 * ms), 0);
	/* a gap: the 10..20 ms interval stays empty */
	CHECK_EQ(perf_rx_data(&rx, buf + 8000, 2000, t0 + 25 * ms), 0);
	CHECK_EQ(perf_rx_finish(&rx), 0);
	CHECK_EQ(rx.n_ivl, 3);
	CHECK_U64_EQ(rx.ivl[0].bytes, 8000);
	CHECK_U64_EQ(rx.ivl[0].end_ns, 10 * ms);
	CHECK_U64_EQ(rx.ivl[1].bytes, 0);
	CHECK_U64_EQ(rx.ivl[2].start_ns, 20 * ms);
	CHECK_U64_EQ(rx.ivl[2].end_ns, 25 * ms);
	CHECK_U64_EQ(rx.ivl[2].bytes, 2000);
	perf_rx_result(&rx, LEN, &res);
	CHECK_EQ(res.flags, PERF_RES_F_VERIFIED);
	CHECK_U64_EQ(res.bytes, LEN);
	CHECK_U64_EQ(res.elapsed_ns, 25 * ms);
	CHECK_EQ(res.n_intervals, 3);
	/* short transfer in byte mode is not verified */
	perf_rx_result(&rx, LEN + 1, &res);
	CHECK_EQ(res.flags, 0);
	/* time mode: any count */
	perf_rx_result(&rx, 0, &res);
	CHECK_EQ(res.flags, PERF_RES_F_VERIFIED);
	perf_rx_free(&rx);

	/* one flipped byte, found at its stream offset across chunk boundaries */
	buf[6001] ^= 0x40;
	perf_rx_init(&rx, 5, 0, t0);
	for (size_t o = 0; o < LEN; o += 999)
		perf_rx_data(&rx, buf + o, o + 999 <= LEN ? 999 : LEN - o, t0 + o);
	perf_rx_finish(&rx);
	CHECK_EQ(rx.n_ivl, 0);
	perf_rx_result(&rx, LEN, &res);
	CHECK_EQ(res.flags, PERF_RES_F_MISMATCH);
	CHECK_U64_EQ(res.first_mismatch, 6001);
	CHECK_U64_EQ(res.bytes, LEN);
	perf_rx_free(&rx);
	free(buf);
}

/* The workloads travel in the header and come back in the result: an rr or stream
 * request is what the server runs, and a result of another workload is noticed. */
TEST(perf_proto_workloads)
{
	struct perf_hdr rr = {.dir = PERF_UPLOAD,
			      .amount = 200,
			      .seed = 9,
			      .workload = PERF_WL_RR,
			      .p1 = 100,
			      .p2 = 262144},
			st = {.dir = PERF_DOWNLOAD,
			      .time_mode = true,
			      .amount = 1000000000,
			      .workload = PERF_WL_STREAM,
			      .p1 = 1000000,
			      .p2 = 65536},
			h, bad;
	struct perf_res res = {.flags = PERF_RES_F_VERIFIED,
			       .workload = PERF_WL_RR,
			       .n_samples = 200},
			d;
	uint8_t buf[PERF_HDR_LEN], rb[PERF_RES_LEN], sb[PERF_SMP_LEN];
	uint64_t ns;

	CHECK_EQ(perf_hdr_encode(&rr, buf, sizeof(buf)), PERF_HDR_LEN);
	CHECK_EQ(buf[40], PERF_WL_RR);
	CHECK_EQ(buf[55], 100);
	CHECK_EQ(perf_hdr_decode(&h, buf, sizeof(buf)), PERF_HDR_LEN);
	CHECK_EQ(h.workload, PERF_WL_RR);
	CHECK_U64_EQ(h.amount, 200);
	CHECK_U64_EQ(h.p1, 100);
	CHECK_U64_EQ(h.p2, 262144);
	CHECK_EQ(perf_hdr_encode(&st, buf, sizeof(buf)), PERF_HDR_LEN);
	CHECK_EQ(perf_hdr_decode(&h, buf, sizeof(buf)), PERF_HDR_LEN);
	CHECK_EQ(h.workload, PERF_WL_STREAM);
	CHECK(h.time_mode && h.dir == PERF_DOWNLOAD);
	CHECK_U64_EQ(h.p1, 1000000);
	CHECK_U64_EQ(h.p2, 65536);

	/* what each workload cannot be */
	bad = rr;
	bad.dir = PERF_DOWNLOAD; /* the client writes the requests */
	CHECK_EQ(perf_hdr_encode(&bad, buf, sizeof(buf)), PERF_EFIELD);
	bad = rr;
	bad.p2 = 0;
	CHECK_EQ(perf_hdr_encode(&bad, buf, sizeof(buf)), PERF_EFIELD);
	bad = rr;
	bad.amount = PERF_WL_MAX_N + 1;
	CHECK_EQ(perf_hdr_encode(&bad, buf, sizeof(buf)), PERF_EFIELD);
	bad = st;
	bad.p2 = PERF_STAMP_LEN - 1; /* no room for the stamp */
	CHECK_EQ(perf_hdr_encode(&bad, buf, sizeof(buf)), PERF_EFIELD);
	bad = st;
	bad.time_mode = false;
	bad.amount = 65536 * 3 + 1; /* not whole chunks */
	CHECK_EQ(perf_hdr_encode(&bad, buf, sizeof(buf)), PERF_EFIELD);
	bad.amount = 65536 * 3;
	CHECK_EQ(perf_hdr_encode(&bad, buf, sizeof(buf)), PERF_HDR_LEN);
	/* the decoder checks the same on the wire */
	CHECK_EQ(perf_hdr_encode(&rr, buf, sizeof(buf)), PERF_HDR_LEN);
	buf[6] = PERF_DOWNLOAD;
	CHECK_EQ(perf_hdr_decode(&h, buf, sizeof(buf)), PERF_EFIELD);

	CHECK_EQ(perf_res_encode(&res, rb, sizeof(rb)), PERF_RES_LEN);
	CHECK_EQ(perf_res_decode(&d, rb, sizeof(rb)), PERF_RES_LEN);
	CHECK_EQ(d.workload, PERF_WL_RR);
	CHECK_EQ(d.n_samples, 200);
	res.workload = (enum perf_workload)7;
	CHECK_EQ(perf_res_encode(&res, rb, sizeof(rb)), PERF_EFIELD);
	CHECK_EQ(perf_smp_encode(123456789012ull, sb, sizeof(sb)), PERF_SMP_LEN);
	CHECK_EQ(perf_smp_decode(&ns, sb, sizeof(sb)), PERF_SMP_LEN);
	CHECK_U64_EQ(ns, 123456789012ull);
	CHECK_EQ(perf_smp_decode(&ns, sb, PERF_SMP_LEN - 1), PERF_ESHORT);
	CHECK_STR_EQ(perf_workload_name(PERF_WL_STREAM), "stream");
}

/* A server that cannot take a header says why; a result or a header is no refusal. */
TEST(perf_proto_refusal)
{
	uint8_t rej[PERF_REJ_LEN], hb[PERF_HDR_LEN];
	ptrdiff_t reason = 0;

	CHECK_EQ(perf_rej_encode(PERF_EVERSION, rej, sizeof(rej)), PERF_REJ_LEN);
	CHECK(memcmp(rej, "MPPE\0\2\0\3", 8) == 0);
	CHECK_EQ(perf_rej_decode(&reason, rej, sizeof(rej)), PERF_REJ_LEN);
	CHECK_EQ(reason, PERF_EVERSION);
	CHECK_STR_EQ(perf_proto_strerror(reason), "unsupported version");
	for (size_t len = 0; len < PERF_REJ_LEN; len++)
		CHECK_EQ(perf_rej_decode(&reason, rej, len), PERF_ESHORT);
	rej[7] = 9; /* no such reason */
	CHECK_EQ(perf_rej_decode(&reason, rej, sizeof(rej)), PERF_EFIELD);
	CHECK_EQ(perf_rej_encode(0, rej, sizeof(rej)), PERF_EFIELD);
	CHECK_EQ(perf_hdr_encode(&sample_hdr, hb, sizeof(hb)), PERF_HDR_LEN);
	CHECK_EQ(perf_rej_decode(&reason, hb, PERF_REJ_LEN), PERF_EMAGIC);
}

/* The stamp: written over the pattern, read back exactly, and any flipped byte of it
 * is a mismatch. */
TEST(perf_stamp_round_trip_and_defects)
{
	uint8_t pat[PERF_STAMP_LEN], head[PERF_STAMP_LEN], bad[PERF_STAMP_LEN];
	uint64_t ts = 0;

	pattern_fill(77, 4096, pat, sizeof(pat));
	memcpy(head, pat, sizeof(head));
	perf_stamp_put(head, 3, 123456789ull);
	CHECK(memcmp(head, pat, sizeof(head)) != 0);
	CHECK_EQ(perf_stamp_get(head, pat, 3, &ts), -1);
	CHECK_U64_EQ(ts, 123456789ull);
	/* the check binds the stamp to its chunk */
	CHECK(perf_stamp_get(head, pat, 4, &ts) >= 0);
	for (int i = 0; i < PERF_STAMP_LEN; i++) {
		int at;

		memcpy(bad, head, sizeof(bad));
		bad[i] ^= 0x01;
		at = perf_stamp_get(bad, pat, 3, &ts);
		CHECK(at >= 0);
		CHECK_EQ(at, i % 8);
	}
	/* a plain pattern chunk (no stamp) is caught too, unless its time was 0 */
	CHECK(perf_stamp_get(pat, pat, 3, &ts) >= 0);
}

/* A stream of stamped chunks, read in pieces that cut through the stamps: one delay
 * per whole chunk, every byte verified, a flipped byte found at its offset. */
TEST(perf_rx_stream_chunks)
{
	enum { CHUNK = 100, N = 7, LEN = CHUNK * N };
	uint8_t buf[LEN];
	const uint64_t t0 = 5000000000ull;
	struct perf_rx rx;
	struct perf_res res;

	pattern_fill(11, 0, buf, LEN);
	/* chunk k written at t0 + 10 * its offset; a piece of 7 bytes at offset o
	 * arrives at t0 + 10 * o + 3 */
	for (int k = 0; k < N; k++)
		perf_stamp_put(buf + k * CHUNK, (uint64_t)k, t0 + (uint64_t)k * CHUNK * 10);
	perf_rx_init(&rx, 11, 0, t0);
	perf_rx_set_chunks(&rx, CHUNK);
	for (size_t o = 0; o < LEN; o += 7)
		CHECK_EQ(perf_rx_data(&rx, buf + o, o + 7 <= LEN ? 7 : LEN - o, t0 + 10 * o + 3),
			 0);
	perf_rx_result(&rx, LEN, &res);
	CHECK_EQ(res.flags, PERF_RES_F_VERIFIED);
	CHECK_EQ(res.n_samples, N);
	CHECK_EQ(rx.n_smp, N);
	for (uint64_t k = 0; k < N; k++) /* the piece with the chunk's last byte */
		CHECK_U64_EQ(rx.smp[k], ((k + 1) * CHUNK - 1) / 7 * 70 + 3 - k * CHUNK * 10);
	perf_rx_free(&rx);

	/* a flip in chunk 2's payload, then one in chunk 4's stamp */
	for (int t = 0; t < 2; t++) {
		size_t at = t ? 4 * CHUNK + 2 : 2 * CHUNK + 60;

		buf[at] ^= 0x10;
		perf_rx_init(&rx, 11, 0, t0);
		perf_rx_set_chunks(&rx, CHUNK);
		perf_rx_data(&rx, buf, LEN, t0 + 100000);
		perf_rx_result(&rx, LEN, &res);
		CHECK_EQ(res.flags, PERF_RES_F_MISMATCH);
		CHECK_U64_EQ(res.first_mismatch, at);
		CHECK_EQ(rx.n_smp, t ? 4 : 2); /* the chunks before it */
		perf_rx_free(&rx);
		buf[at] ^= 0x10;
	}
}

TEST(perf_wl_stats_nearest_rank_and_stalls)
{
	uint64_t v[100];
	struct perf_wl_stats st;

	for (int i = 0; i < 100; i++)
		v[i] = (uint64_t)(100 - i) * 1000; /* 100000 .. 1000, unsorted */
	CHECK_EQ(perf_wl_stats(v, 100, 0, &st), 0);
	CHECK_U64_EQ(st.n, 100);
	CHECK_U64_EQ(st.min, 1000);
	CHECK_U64_EQ(st.p50, 50000);
	CHECK_U64_EQ(st.p95, 95000);
	CHECK_U64_EQ(st.p99, 99000);
	CHECK_U64_EQ(st.max, 100000);
	CHECK(st.mean > 50499 && st.mean < 50501);
	CHECK_EQ(st.stalls, 0);
	CHECK_U64_EQ(v[0], 100000); /* left unsorted */
	/* stalls: above p50 + 2 periods = 50000 + 2 * 20000 */
	CHECK_EQ(perf_wl_stats(v, 100, 20000, &st), 0);
	CHECK_U64_EQ(st.stall_threshold, 90000);
	CHECK_EQ(st.stalls, 10);
	/* one sample is every percentile; none is all zeros */
	CHECK_EQ(perf_wl_stats(v, 1, 0, &st), 0);
	CHECK_U64_EQ(st.p50, 100000);
	CHECK_U64_EQ(st.p99, 100000);
	CHECK_EQ(perf_wl_stats(v, 0, 0, &st), 0);
	CHECK_U64_EQ(st.max, 0);
	CHECK_U64_EQ(perf_wl_period_ns(1000000, 65536), 65536000);
	CHECK_U64_EQ(perf_wl_period_ns(1000000000, 16), 16);
}

static int parse(struct perf_opts *o, char *err, size_t len, const char *const *args)
{
	char *argv[32];
	int argc = 0;

	argv[argc++] = (char *)"mpt-perf";
	while (*args)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	return perf_args_parse(argc, argv, o, err, len);
}

#define PARSE(o, err, ...) parse(o, err, sizeof(err), (const char *const[]){__VA_ARGS__, NULL})

TEST(perf_args)
{
	struct perf_opts o;
	char err[256];

	CHECK_EQ(PARSE(&o, err, "-c", "198.18.0.1", "-n", "20MiB", "-R", "-J", "-i", "0.01"), 0);
	CHECK_EQ(o.role, PERF_ROLE_CLIENT);
	CHECK_STR_EQ(o.host, "198.18.0.1");
	CHECK_U64_EQ(o.amount, 20u << 20);
	CHECK(!o.time_mode && o.reverse && o.json);
	CHECK_U64_EQ(o.interval_ns, 10000000);
	CHECK_EQ(o.port, PERF_DEFAULT_PORT);
	CHECK_EQ(o.stack, PERF_STACK_KERNEL);

	CHECK_EQ(PARSE(&o, err, "-s", "--once", "-p", "6000", "--stack", "tcp", "-B", "::1"), 0);
	CHECK_EQ(o.role, PERF_ROLE_SERVER);
	CHECK(o.once);
	CHECK_EQ(o.port, 6000);
	CHECK_EQ(o.stack, PERF_STACK_TCP);

	CHECK_EQ(PARSE(&o, err, "-c", "x", "-t", "1.5"), 0);
	CHECK(o.time_mode);
	CHECK_U64_EQ(o.amount, 1500000000);

	CHECK_EQ(PARSE(&o, err, "-s", "--stack", "mpt", "--counters"), 0);
	CHECK_EQ(o.stack, PERF_STACK_MPT);
	CHECK(o.counters);
	CHECK_EQ(PARSE(&o, err, "-s", "--stack", "bogus"), -1);
	CHECK_CONTAINS(err, "unknown stack");
	CHECK_EQ(PARSE(&o, err, "-c", "x"), -1);
	CHECK_CONTAINS(err, "-n BYTES or -t SECONDS");
	CHECK_EQ(PARSE(&o, err, "-c", "x", "-n", "1", "-t", "1"), -1);
	CHECK_EQ(PARSE(&o, err, "-s", "-c", "x"), -1);
	CHECK_EQ(PARSE(&o, err, "-s", "-n", "5"), -1);
	CHECK_CONTAINS(err, "client options");
	CHECK_EQ(PARSE(&o, err, "-c", "x", "-n", "5", "--once"), -1);
	CHECK_EQ(PARSE(&o, err, "-s", "-p", "70000"), -1);
	CHECK_EQ(PARSE(&o, err, "-s", "--bogus"), -1);
	CHECK_CONTAINS(err, "--bogus");
	CHECK_EQ(PARSE(&o, err, "-s", "-p"), -1);
	CHECK_CONTAINS(err, "needs an argument");
	CHECK_EQ(PARSE(&o, err, "-c", "x", "-n", "lots"), -1);
	CHECK_EQ(PARSE(&o, err, "-c", "x", "-t", "-1"), -1);
	CHECK_EQ(PARSE(&o, err, "-s", "--ready-fd", "987654"), -1);
	CHECK_EQ(PARSE(&o, err, "-s", "extra"), -1);
	CHECK_EQ(PARSE(&o, err, "--help"), 0);
	CHECK(o.help);

	/* --scheduler: libmpt's names; list; the kernel takes only its default */
	CHECK_EQ(PARSE(&o, err, "-s", "--stack", "mpt", "--scheduler", "redundant"), 0);
	CHECK_STR_EQ(o.scheduler, "redundant");
	CHECK_EQ(PARSE(&o, err, "-s", "--stack", "mpt"), 0);
	CHECK_STR_EQ(o.scheduler, "");
	CHECK_EQ(PARSE(&o, err, "--scheduler", "list"), 0);
	CHECK(o.scheduler_list);
	CHECK_EQ(PARSE(&o, err, "-s", "--stack", "mpt", "--scheduler", "fastest"), -1);
	CHECK_CONTAINS(err, "default, roundrobin, redundant");
	CHECK_EQ(PARSE(&o, err, "-s", "--scheduler", "roundrobin"), -1);
	CHECK_CONTAINS(err, "--stack mpt");
	CHECK_CONTAINS(err, "net.mptcp.scheduler");
	CHECK_EQ(PARSE(&o, err, "-s", "--scheduler", "default"), 0);
	CHECK_EQ(PARSE(&o, err, "-s", "--stack", "mpt", "--scheduler", "roundrobin:8"), 0);
	CHECK_STR_EQ(o.scheduler, "roundrobin:8");
	CHECK_EQ(PARSE(&o, err, "-s", "--stack", "mpt", "--scheduler", "roundrobin:65"), -1);
	CHECK_CONTAINS(err, "roundrobin taking :N (1..64)");
	CHECK_EQ(PARSE(&o, err, "-s", "--stack", "mpt", "--scheduler", "ecf:1"), -1);

	/* --path-manager: libmpt's, NAME[:N]; list; the kernel takes only "kernel" */
	CHECK_EQ(PARSE(&o, err, "-s", "--stack", "mpt", "--path-manager", "ndiffports:4"), 0);
	CHECK_STR_EQ(o.path_manager, "ndiffports:4");
	CHECK_EQ(PARSE(&o, err, "-s", "--stack", "mpt"), 0);
	CHECK_STR_EQ(o.path_manager, "");
	CHECK_EQ(PARSE(&o, err, "--path-manager", "list"), 0);
	CHECK(o.path_manager_list);
	CHECK_EQ(PARSE(&o, err, "-s", "--stack", "mpt", "--path-manager", "ndiffports:0"), -1);
	CHECK_CONTAINS(err, "kernel, ndiffports");
	CHECK_EQ(PARSE(&o, err, "-s", "--stack", "mpt", "--path-manager", "userspace"), -1);
	CHECK_CONTAINS(err, "--path-manager list");
	CHECK_EQ(PARSE(&o, err, "-s", "--path-manager", "ndiffports"), -1);
	CHECK_CONTAINS(err, "net.mptcp.path_manager");
	CHECK_EQ(PARSE(&o, err, "-s", "--path-manager", "kernel"), 0);

	/* -C: any name for the kernel (it decides), reno -> newreno for libmpt */
	CHECK_EQ(PARSE(&o, err, "-c", "x", "-n", "1", "-C", "bbr"), 0);
	CHECK_STR_EQ(o.congestion, "bbr");
	CHECK_EQ(PARSE(&o, err, "-c", "x", "-n", "1"), 0);
	CHECK_STR_EQ(o.congestion, "");
	CHECK_EQ(PARSE(&o, err, "-s", "--stack", "mpt", "--congestion", "reno"), 0);
	CHECK_STR_EQ(o.congestion, "newreno");
	CHECK_EQ(PARSE(&o, err, "-s", "--stack", "mpt", "-C", "cubic"), 0);
	CHECK_STR_EQ(o.congestion, "cubic");
	CHECK_EQ(PARSE(&o, err, "-s", "--stack", "mpt", "-C", "bbr"), -1);
	CHECK_STR_EQ(err, "--congestion bbr: libmpt has newreno, cubic, lia, olia, balia (reno = "
			  "newreno; -C list describes them)");
	/* the coupled ones (stack/src/cc_*.c) */
	CHECK_EQ(PARSE(&o, err, "-s", "--stack", "mpt", "-C", "lia"), 0);
	CHECK_STR_EQ(o.congestion, "lia");
	CHECK_EQ(PARSE(&o, err, "-s", "--stack", "mpt", "-C", "olia"), 0);
	CHECK_STR_EQ(o.congestion, "olia");
	CHECK_EQ(PARSE(&o, err, "-s", "--stack", "mpt", "-C", "balia"), 0);
	CHECK_STR_EQ(o.congestion, "balia");
	CHECK_EQ(PARSE(&o, err, "-C", "list"), 0);
	CHECK(o.congestion_list);
	CHECK_EQ(PARSE(&o, err, "-s", "-C", "averyveryverylongname"), -1);
	CHECK_CONTAINS(err, "not an algorithm name");
	CHECK_EQ(PARSE(&o, err, "-s", "-C", "../x"), -1);
	CHECK_EQ(PARSE(&o, err, "-s", "-C", ""), -1);
}

TEST(perf_args_endpoints)
{
	struct perf_opts o;
	char err[256];

	CHECK_EQ(PARSE(&o, err, "-c", "198.18.2.2", "-t", "1", "--stack", "mpt", "--endpoint",
		       "198.18.1.1,id=3,subflow,backup", "--endpoint", "2001:db8::1,signal",
		       "--max-subflows", "3"),
		 0);
	CHECK_EQ(o.nendpoints, 2);
	CHECK_STR_EQ(o.endpoints[0].addr, "198.18.1.1");
	CHECK_EQ(o.endpoints[0].id, 3);
	CHECK_EQ(o.endpoints[0].flags, MPT_EP_SUBFLOW | MPT_EP_BACKUP);
	CHECK_STR_EQ(o.endpoints[1].addr, "2001:db8::1");
	CHECK_EQ(o.endpoints[1].id, 2); /* its position */
	CHECK_EQ(o.endpoints[1].flags, MPT_EP_SIGNAL);
	CHECK_EQ(o.max_subflows, 3);
	{
		char fl[64];
		CHECK_STR_EQ(
			perf_endpoint_flags_str(MPT_EP_SUBFLOW | MPT_EP_BACKUP, fl, sizeof(fl)),
			"subflow,backup");
		CHECK_STR_EQ(perf_endpoint_flags_str(0, fl, sizeof(fl)), "");
	}
	/* an endpoint with no flags, on a server */
	CHECK_EQ(PARSE(&o, err, "-s", "--stack", "mpt", "--endpoint", "198.18.1.1"), 0);
	CHECK_EQ(o.endpoints[0].id, 1);
	CHECK_EQ(o.endpoints[0].flags, 0u);

	CHECK_EQ(PARSE(&o, err, "-s", "--endpoint", "198.18.1.1"), -1);
	CHECK_CONTAINS(err, "--endpoint is for --stack mpt");
	CHECK_EQ(PARSE(&o, err, "-s", "--stack", "tcp", "--max-subflows", "2"), -1);
	CHECK_CONTAINS(err, "--max-subflows is for --stack mpt");
	CHECK_EQ(PARSE(&o, err, "-s", "--stack", "mpt", "--no-mptcp", "--endpoint", "198.18.1.1"),
		 -1);
	CHECK_CONTAINS(err, "drop --no-mptcp");
	CHECK_EQ(PARSE(&o, err, "-s", "--stack", "mpt", "--endpoint", "wifi,subflow"), -1);
	CHECK_CONTAINS(err, "'wifi' is not an IPv4 or IPv6 address");
	CHECK_EQ(PARSE(&o, err, "-s", "--stack", "mpt", "--endpoint", "198.18.1.1,sub"), -1);
	CHECK_CONTAINS(err, "unknown flag 'sub'");
	CHECK_EQ(PARSE(&o, err, "-s", "--stack", "mpt", "--endpoint", "198.18.1.1,id=0"), -1);
	CHECK_CONTAINS(err, "id wants 1..255");
	CHECK_EQ(PARSE(&o, err, "-s", "--stack", "mpt", "--endpoint", "198.18.1.1,signal,fullmesh"),
		 -1);
	CHECK_CONTAINS(err, "signal and fullmesh exclude each other");
	CHECK_EQ(PARSE(&o, err, "-s", "--stack", "mpt", "--endpoint", "198.18.1.1,id=2",
		       "--endpoint", "198.18.2.1,id=2"),
		 -1);
	CHECK_CONTAINS(err, "id 2 is already 198.18.1.1's");
	CHECK_EQ(PARSE(&o, err, "-s", "--stack", "mpt", "--max-subflows", "0"), -1);
	CHECK_CONTAINS(err, "--max-subflows 0: give 1..255");
	CHECK_EQ(PARSE(&o, err, "-s", "--stack", "mpt", "--endpoint"), -1);
	CHECK_CONTAINS(err, "needs an argument");
}

TEST(perf_args_rcvbuf)
{
	struct perf_opts o;
	char err[256];
	uint64_t v = 0;

	/* default: 0, the stack's own (kernel autotuning; libmpt 4 MiB) */
	CHECK_EQ(PARSE(&o, err, "-s"), 0);
	CHECK_U64_EQ(o.rcvbuf, 0);
	/* sizes as -n takes them, on either end and any stack */
	CHECK_EQ(PARSE(&o, err, "-c", "198.18.0.1", "-n", "1MiB", "--rcvbuf", "64KiB"), 0);
	CHECK_U64_EQ(o.rcvbuf, 64u << 10);
	CHECK_EQ(PARSE(&o, err, "-s", "--stack", "mpt", "--rcvbuf", "4MiB"), 0);
	CHECK_U64_EQ(o.rcvbuf, 4u << 20);
	CHECK_EQ(PARSE(&o, err, "-s", "--stack", "tcp", "--rcvbuf", "131072"), 0);
	CHECK_U64_EQ(o.rcvbuf, 131072);
	/* the bounds, 4 KiB and 1 GiB, are in; one byte past either is not */
	CHECK_EQ(perf_parse_rcvbuf("4KiB", &v, err, sizeof(err)), 0);
	CHECK_U64_EQ(v, 4096);
	CHECK_EQ(perf_parse_rcvbuf("1GiB", &v, err, sizeof(err)), 0);
	CHECK_U64_EQ(v, 1u << 30);
	CHECK_EQ(perf_parse_rcvbuf("4095", &v, err, sizeof(err)), -1);
	CHECK_CONTAINS(err, "--rcvbuf 4095: give 4KiB..1GiB");
	CHECK_EQ(perf_parse_rcvbuf("1073741825", &v, err, sizeof(err)), -1);
	CHECK_CONTAINS(err, "give 4KiB..1GiB");
	CHECK_EQ(PARSE(&o, err, "-s", "--rcvbuf", "0"), -1);
	CHECK_CONTAINS(err, "--rcvbuf 0: give 4KiB..1GiB");
	CHECK_EQ(PARSE(&o, err, "-s", "--rcvbuf", "big"), -1);
	CHECK_CONTAINS(err, "--rcvbuf big: give a size like 64KiB");
	CHECK_EQ(PARSE(&o, err, "-s", "--rcvbuf", "-64KiB"), -1);
	CHECK_EQ(PARSE(&o, err, "-s", "--rcvbuf"), -1);
	CHECK_CONTAINS(err, "--rcvbuf needs an argument");
	CHECK(!strchr(err, '\n'));
}
