/* The link emulator's core in virtual time: every test is deterministic. */
#include "emu_dir.h"
#include "test.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#define MS 1000000ull
#define US 1000ull

/* An Ethernet + IPv4 + UDP frame of `len` bytes with a recognisable payload. */
static void make_frame(uint8_t *f, size_t len, uint32_t seq)
{
	memset(f, 0, len);
	f[12] = 0x08;
	f[13] = 0x00;
	f[14] = 0x45;
	f[14 + 9] = 17;
	for (size_t i = 42; i < len; i++)
		f[i] = (uint8_t)(seq + i);
	if (len >= 46)
		memcpy(f + 42, &seq, 4);
}

static uint32_t frame_seq(const struct emu_pkt *p)
{
	uint32_t s;

	memcpy(&s, p->data + p->l2_off + 42, 4);
	return s;
}

static struct emu_dir *mk(const struct topo_dir *p, uint64_t seed)
{
	struct emu_dir *d = emu_dir_new(p, NULL, seed, 3, 0, 0);

	CHECK(d != NULL);
	return d;
}

/* Drain everything, recording departures and sequence numbers. */
struct out {
	uint64_t t[20000];
	uint32_t seq[20000];
	size_t n;
};

static void drain(struct emu_dir *d, struct out *o, uint64_t until)
{
	uint64_t now = 0;

	for (;;) {
		uint64_t t = emu_dir_next_event(d, now);
		struct emu_pkt *p;

		if (t == UINT64_MAX || t > until)
			return;
		now = t > now ? t : now;
		while ((p = emu_dir_dequeue(d, now))) {
			CHECK(p->depart_ns <= now);
			if (o->n < 20000) {
				o->t[o->n] = p->depart_ns;
				o->seq[o->n] = frame_seq(p);
				o->n++;
			}
			emu_pkt_free(p);
		}
	}
}

TEST(emu_constant_delay_exact)
{
	struct topo_dir p = {.delay_ns = 25 * MS};
	struct emu_dir *d = mk(&p, 1);
	uint8_t f[100];
	struct emu_pkt *pk;

	make_frame(f, sizeof(f), 7);
	CHECK(emu_dir_enqueue(d, f, sizeof(f), 0, 0, 1000) & EMU_V_QUEUED);
	CHECK_U64_EQ(emu_dir_next_event(d, 1000), 25 * MS + 1000);
	CHECK(emu_dir_dequeue(d, 25 * MS + 999) == NULL);
	pk = emu_dir_dequeue(d, 25 * MS + 1000);
	CHECK(pk != NULL);
	CHECK_U64_EQ(pk->depart_ns, 25 * MS + 1000);
	CHECK_EQ(frame_seq(pk), 7);
	CHECK_EQ(memcmp(pk->data, f, sizeof(f)), 0);
	emu_pkt_free(pk);
	CHECK_U64_EQ(emu_dir_next_event(d, 26 * MS), UINT64_MAX);
	CHECK_U64_EQ(emu_dir_stats(d)->pkts_out, 1);
	emu_dir_free(d);
}

static void jitter_case(enum topo_jitter_dist dist, double mean_tol_ms, double sd_lo, double sd_hi)
{
	static struct out o;
	struct topo_dir p = {.delay_ns = 50 * MS, .jitter_ns = 10 * MS, .dist = dist};
	struct emu_dir *d = mk(&p, 42);
	uint8_t f[64];
	const int n = 10000;
	double sum = 0, sq = 0;
	uint64_t now = 0;

	memset(&o, 0, sizeof(o));
	/* 1 frame per 100 us, dequeued as we go so the order check sees real time */
	for (int i = 0; i < n; i++) {
		struct emu_pkt *pk;

		make_frame(f, sizeof(f), (uint32_t)i);
		now = (uint64_t)i * 100 * US;
		CHECK(emu_dir_enqueue(d, f, sizeof(f), 0, 0, now) & EMU_V_QUEUED);
		while ((pk = emu_dir_dequeue(d, now))) {
			o.t[o.n] = pk->depart_ns;
			o.seq[o.n++] = frame_seq(pk);
			emu_pkt_free(pk);
		}
	}
	drain(d, &o, UINT64_MAX);
	CHECK_EQ(o.n, n);
	for (int i = 0; i < n; i++) {
		CHECK_EQ(o.seq[i], i); /* in order: no reordering asked for */
		CHECK(i == 0 || o.t[i] >= o.t[i - 1]);
	}
	/* the per-frame delay without the in-order clamp: sample a fresh object */
	emu_dir_free(d);
	d = mk(&p, 42);
	for (int i = 0; i < n; i++) {
		struct emu_pkt *pk;
		uint64_t t0 = (uint64_t)i * 1000 * MS; /* far apart: no clamping */
		double ms;

		make_frame(f, sizeof(f), (uint32_t)i);
		emu_dir_enqueue(d, f, sizeof(f), 0, 0, t0);
		pk = emu_dir_dequeue(d, t0 + 200 * MS);
		CHECK(pk != NULL);
		ms = (double)(pk->depart_ns - t0) / 1e6;
		sum += ms;
		sq += ms * ms;
		emu_pkt_free(pk);
	}
	{
		double mean = sum / n, sd = sqrt(sq / n - mean * mean);

		if (fabs(mean - 50.0) > mean_tol_ms || sd < sd_lo || sd > sd_hi)
			test_fail(__FILE__, __LINE__, "dist %d: mean %.3f sd %.3f", dist, mean, sd);
	}
	emu_dir_free(d);
}

TEST(emu_jitter_distributions)
{
	/* uniform on [40, 60): sd = 10 / sqrt(3) = 5.77 */
	jitter_case(TOPO_DIST_UNIFORM, 0.2, 5.5, 6.05);
	jitter_case(TOPO_DIST_NORMAL, 0.3, 9.6, 10.4);
	/* netem's pareto table: mean ~0 (the clamp at 4 sigma pulls it a bit below),
	 * sd ~ 4/3 * 0.866 minus the clamped tail */
	jitter_case(TOPO_DIST_PARETO, 1.0, 8.0, 11.6);
	jitter_case(TOPO_DIST_PARETONORMAL, 1.0, 6.0, 9.5);
}

/* 99% binomial interval check (normal approximation, z = 2.576). */
static void check_binomial(const char *what, uint64_t k, uint64_t n, double p)
{
	double mu = (double)n * p, sd = sqrt((double)n * p * (1 - p));

	if (fabs((double)k - mu) > 2.576 * sd + 1)
		test_fail(__FILE__, __LINE__,
			  "%s: %" PRIu64 " of %" PRIu64 ", expected %.1f +- %.1f", what, k, n, mu,
			  2.576 * sd);
}

static uint64_t run_loss(const struct topo_dir *p, uint64_t seed, int n, uint8_t *lost)
{
	struct emu_dir *d = mk(p, seed);
	uint8_t f[64];
	uint64_t drops;

	make_frame(f, sizeof(f), 0);
	for (int i = 0; i < n; i++) {
		int v = emu_dir_enqueue(d, f, sizeof(f), 0, 0, (uint64_t)i * US);

		if (lost)
			lost[i] = !(v & EMU_V_QUEUED);
		free(emu_dir_dequeue(d, (uint64_t)i * US));
	}
	drops = emu_dir_stats(d)->drops[EMU_DROP_LOSS];
	emu_dir_free(d);
	return drops;
}

TEST(emu_random_loss_rate)
{
	struct topo_dir p = {.loss_model = TOPO_LOSS_RANDOM, .loss = {0.1, 0}};

	check_binomial("loss 10%", run_loss(&p, 1, 20000, NULL), 20000, 0.1);
	p.loss[0] = 0.01;
	check_binomial("loss 1%", run_loss(&p, 9, 20000, NULL), 20000, 0.01);
	p.loss[0] = 1.0;
	CHECK_EQ(run_loss(&p, 1, 100, NULL), 100);
	p.loss[0] = 0.0;
	CHECK_EQ(run_loss(&p, 1, 100, NULL), 0);
}

TEST(emu_correlated_loss_bursts)
{
	/* netem's correlation keeps the marginal near P but lengthens runs */
	static uint8_t a[20000], b[20000];
	struct topo_dir p = {.loss_model = TOPO_LOSS_RANDOM, .loss = {0.5, 0}};
	int runs_a = 0, runs_b = 0;

	run_loss(&p, 5, 20000, a);
	p.loss[1] = 0.9;
	run_loss(&p, 5, 20000, b);
	for (int i = 1; i < 20000; i++) {
		runs_a += a[i] != a[i - 1];
		runs_b += b[i] != b[i - 1];
	}
	CHECK(runs_b * 3 < runs_a);
}

TEST(emu_gemodel_burst_length)
{
	static uint8_t lost[50000];
	/* p = 1%, r = 25%, 1-h = 100%, 1-k = 0%: bursts of mean 1/r = 4 */
	struct topo_dir p = {.loss_model = TOPO_LOSS_GEMODEL, .loss = {0.01, 0.25, 1.0, 0.0}};
	int bursts = 0, lostn = 0;
	double mean;

	run_loss(&p, 11, 50000, lost);
	for (int i = 0; i < 50000; i++) {
		lostn += lost[i];
		if (lost[i] && (i == 0 || !lost[i - 1]))
			bursts++;
	}
	CHECK(bursts > 50);
	mean = (double)lostn / bursts;
	if (fabs(mean - 4.0) > 0.6)
		test_fail(__FILE__, __LINE__, "mean burst %.2f, want 4", mean);
	/* stationary loss = p / (p + r) = 3.85 % */
	check_binomial("ge loss", (uint64_t)lostn, 50000, 0.01 / 0.26 * 1.0);
}

TEST(emu_state4_sanity)
{
	static uint8_t lost[50000];
	/* only isolated losses: p14 = 5%, nothing else -> every loss alone */
	struct topo_dir p = {.loss_model = TOPO_LOSS_STATE4, .loss = {0, 0, 0, 0, 0.05}};
	int lostn = 0, adjacent = 0;

	run_loss(&p, 3, 50000, lost);
	for (int i = 0; i < 50000; i++) {
		lostn += lost[i];
		adjacent += i > 0 && lost[i] && lost[i - 1];
	}
	CHECK_EQ(adjacent, 0);
	/* state 1 -> 4 with 5 %, 4 -> 1 always: loss rate 0.05 / 1.05 */
	check_binomial("state4 isolated", (uint64_t)lostn, 50000, 0.05 / 1.05);

	/* bursts: p13 = 1%, p31 = 30%, p32 = 0, p23 = 0: in burst each frame lost
	 * until 3 -> 1 (prob 0.3): mean burst 1 / 0.3 */
	{
		struct topo_dir q = {.loss_model = TOPO_LOSS_STATE4, .loss = {0.01, 0.3, 0, 0, 0}};
		int bursts = 0;

		lostn = 0;
		run_loss(&q, 4, 50000, lost);
		for (int i = 0; i < 50000; i++) {
			lostn += lost[i];
			bursts += lost[i] && (i == 0 || !lost[i - 1]);
		}
		CHECK(bursts > 100);
		if (fabs((double)lostn / bursts - 1 / 0.3) > 0.5)
			test_fail(__FILE__, __LINE__, "state4 burst %.2f", (double)lostn / bursts);
	}
	/* all zero: no loss at all */
	{
		struct topo_dir z = {.loss_model = TOPO_LOSS_STATE4};

		CHECK_EQ(run_loss(&z, 1, 1000, NULL), 0);
	}
}

TEST(emu_duplicate_and_corrupt_rates)
{
	struct topo_dir p = {.duplicate = 0.05, .corrupt = 0.02};
	struct emu_dir *d = mk(&p, 8);
	uint8_t f[200];
	uint64_t corrupted_seen = 0, out = 0;

	for (int i = 0; i < 20000; i++) {
		struct emu_pkt *pk;

		make_frame(f, sizeof(f), (uint32_t)i);
		emu_dir_enqueue(d, f, sizeof(f), 0, 0, (uint64_t)i * US);
		while ((pk = emu_dir_dequeue(d, (uint64_t)i * US))) {
			out++;
			if (memcmp(pk->data, f, sizeof(f)) != 0) {
				/* exactly one bit differs, after the UDP header */
				int bits = 0, first = -1;

				for (size_t k = 0; k < sizeof(f); k++) {
					int x = __builtin_popcount(pk->data[k] ^ f[k]);

					if (x && first < 0)
						first = (int)k;
					bits += x;
				}
				CHECK_EQ(bits, 1);
				CHECK(first >= 42);
				corrupted_seen++;
			}
			emu_pkt_free(pk);
		}
	}
	check_binomial("dup", emu_dir_stats(d)->duplicated, 20000, 0.05);
	check_binomial("corrupt", emu_dir_stats(d)->corrupted, 20000, 0.02);
	CHECK_U64_EQ(out, 20000 + emu_dir_stats(d)->duplicated);
	CHECK_U64_EQ(corrupted_seen, emu_dir_stats(d)->corrupted);
	CHECK_EQ(emu_dir_stats(d)->drops[EMU_DROP_LOSS], 0);
	emu_dir_free(d);
}

TEST(emu_reorder_gap)
{
	static struct out o;
	/* netem "delay 10ms reorder 100% gap 5": every 5th frame goes at once */
	struct topo_dir p = {.delay_ns = 10 * MS, .reorder = 1.0, .reorder_gap = 5};
	struct emu_dir *d = mk(&p, 1);
	uint8_t f[64];

	memset(&o, 0, sizeof(o));
	for (int i = 0; i < 100; i++) {
		make_frame(f, sizeof(f), (uint32_t)i);
		emu_dir_enqueue(d, f, sizeof(f), 0, 0, (uint64_t)i * 100 * US);
	}
	drain(d, &o, UINT64_MAX);
	CHECK_EQ(o.n, 100);
	CHECK_U64_EQ(emu_dir_stats(d)->reordered, 20);
	/* frames 4, 9, 14, ... left immediately: they arrive before frame 0 */
	CHECK_EQ(o.seq[0], 4);
	CHECK_EQ(o.seq[1], 9);
	for (size_t i = 1; i < o.n; i++)
		CHECK(o.t[i] >= o.t[i - 1]);
	emu_dir_free(d);

	/* reorder 25% without gap (tc makes gap 1): ~25 % of frames jump */
	{
		struct topo_dir q = {.delay_ns = 10 * MS, .reorder = 0.25};

		d = mk(&q, 2);
		for (int i = 0; i < 4000; i++) {
			make_frame(f, sizeof(f), (uint32_t)i);
			emu_dir_enqueue(d, f, sizeof(f), 0, 0, (uint64_t)i * 100 * US);
			free(emu_dir_dequeue(d, (uint64_t)i * 100 * US));
		}
		check_binomial("reorder 25%", emu_dir_stats(d)->reordered, 4000, 0.25);
		emu_dir_free(d);
	}
}

TEST(emu_rate_spacing)
{
	static struct out o;
	struct topo_dir p = {.rate_bps = 10000000, .queue = 100};
	struct emu_dir *d = mk(&p, 1);
	uint8_t f[1514];

	memset(&o, 0, sizeof(o));
	for (int i = 0; i < 50; i++) {
		make_frame(f, sizeof(f), (uint32_t)i);
		emu_dir_enqueue(d, f, sizeof(f), 0, 0, 0);
	}
	CHECK_U64_EQ(emu_dir_stats(d)->queued_pkts, 50);
	drain(d, &o, UINT64_MAX);
	CHECK_EQ(o.n, 50);
	/* 1514 * 8 / 10 Mbit/s = 1211.2 us, exactly, with the remainder carried */
	CHECK_U64_EQ(o.t[0], 1211200);
	for (size_t i = 1; i < o.n; i++)
		CHECK_U64_EQ(o.t[i] - o.t[i - 1], 1211200);
	/* bottleneck sojourn: the last waited 50 transmissions */
	CHECK_U64_EQ(emu_dir_stats(d)->qdelay.max_ns, 50 * 1211200ull);
	emu_dir_free(d);

	/* an odd rate: the remainder keeps the long-run average exact */
	{
		struct topo_dir q = {.rate_bps = 3000000, .queue = 2000};

		memset(&o, 0, sizeof(o));
		d = mk(&q, 1);
		for (int i = 0; i < 1000; i++) {
			make_frame(f, 1000, (uint32_t)i);
			emu_dir_enqueue(d, f, 1000, 0, 0, 0);
		}
		drain(d, &o, UINT64_MAX);
		CHECK_EQ(o.n, 1000);
		/* 1000 * 8000 bits / 3e6 = 2.6666... s */
		CHECK(o.t[999] >= 2666666666ull && o.t[999] <= 2666666667ull);
		emu_dir_free(d);
	}
}

TEST(emu_rate_then_delay)
{
	struct topo_dir p = {.rate_bps = 8000000, .delay_ns = 5 * MS};
	struct emu_dir *d = mk(&p, 1);
	uint8_t f[1000];
	struct emu_pkt *pk;

	make_frame(f, sizeof(f), 1);
	emu_dir_enqueue(d, f, sizeof(f), 0, 0, 0);
	/* 1000 bytes at 8 Mbit/s = 1 ms, then 5 ms */
	CHECK_U64_EQ(emu_dir_next_event(d, 0), 1 * MS);
	CHECK_U64_EQ(emu_dir_next_event(d, 1 * MS), 6 * MS);
	pk = emu_dir_dequeue(d, 6 * MS);
	CHECK(pk && pk->depart_ns == 6 * MS && pk->served_ns == 1 * MS);
	emu_pkt_free(pk);
	emu_dir_free(d);
}

static uint64_t fill_and_count_drops(struct topo_dir *p, size_t len, int n)
{
	struct emu_dir *d = mk(p, 1);
	uint8_t f[1514];
	uint64_t drops;

	make_frame(f, len, 0);
	for (int i = 0; i < n; i++)
		emu_dir_enqueue(d, f, len, 0, 0, 0);
	drops = emu_dir_stats(d)->drops[EMU_DROP_QUEUE];
	emu_dir_free(d);
	return drops;
}

TEST(emu_queue_limits)
{
	struct topo_dir p = {.rate_bps = 1000000, .queue_unit = TOPO_QUEUE_PACKETS, .queue = 10};

	CHECK_EQ(fill_and_count_drops(&p, 1000, 25), 15);
	p.queue = 0; /* default 1000 packets */
	CHECK_EQ(fill_and_count_drops(&p, 100, 1500), 500);
	p.queue_unit = TOPO_QUEUE_BYTES;
	p.queue = 10000;
	CHECK_EQ(fill_and_count_drops(&p, 1000, 25), 15);
	CHECK_EQ(fill_and_count_drops(&p, 1500, 25), 19); /* 6 * 1500 <= 10000 */
	/* 80 ms at 1 Mbit/s = 10000 bytes */
	p.queue_unit = TOPO_QUEUE_TIME;
	p.queue = 80 * MS;
	CHECK_EQ(fill_and_count_drops(&p, 1000, 25), 15);
	/* no rate: nothing waits, nothing dropped */
	p.rate_bps = 0;
	p.queue_unit = TOPO_QUEUE_PACKETS;
	p.queue = 10;
	CHECK_EQ(fill_and_count_drops(&p, 1000, 25), 0);
}

TEST(emu_queue_drains_then_accepts)
{
	struct topo_dir p = {.rate_bps = 8000000, .queue = 2};
	struct emu_dir *d = mk(&p, 1);
	uint8_t f[1000];

	make_frame(f, sizeof(f), 0);
	CHECK(emu_dir_enqueue(d, f, sizeof(f), 0, 0, 0) & EMU_V_QUEUED);
	CHECK(emu_dir_enqueue(d, f, sizeof(f), 0, 0, 0) & EMU_V_QUEUED);
	CHECK(emu_dir_enqueue(d, f, sizeof(f), 0, 0, 0) & EMU_V_DROPPED);
	/* after 1 ms the first is through: room for one more */
	CHECK(emu_dir_enqueue(d, f, sizeof(f), 0, 0, 1 * MS) & EMU_V_QUEUED);
	CHECK(emu_dir_enqueue(d, f, sizeof(f), 0, 0, 1 * MS) & EMU_V_DROPPED);
	emu_dir_free(d);
}

TEST(emu_trace_average_rate)
{
	/* 4 opportunities every 10 ms: 4 * 1500 B / 10 ms = 4.8 Mbit/s */
	uint32_t ms[] = {2, 4, 6, 10};
	struct emu_trace tr = {ms, 4};
	struct topo_dir p = {.queue = 5000};
	struct emu_dir *d;
	static struct out o;
	uint8_t f[1500];
	double mbit;

	snprintf(p.trace, sizeof(p.trace), "test.trace");
	d = emu_dir_new(&p, &tr, 1, 0, 0, 0);
	CHECK(d != NULL);
	memset(&o, 0, sizeof(o));
	for (int i = 0; i < 2000; i++) {
		make_frame(f, sizeof(f), (uint32_t)i);
		emu_dir_enqueue(d, f, sizeof(f), 0, 0, 0);
	}
	drain(d, &o, UINT64_MAX);
	CHECK_EQ(o.n, 2000);
	/* first deliveries exactly at the trace's opportunities */
	CHECK_U64_EQ(o.t[0], 2 * MS);
	CHECK_U64_EQ(o.t[1], 4 * MS);
	CHECK_U64_EQ(o.t[2], 6 * MS);
	CHECK_U64_EQ(o.t[3], 10 * MS);
	CHECK_U64_EQ(o.t[4], 12 * MS);
	mbit = 2000.0 * 1500 * 8 / ((double)o.t[1999] / 1e9) / 1e6;
	if (fabs(mbit - 4.8) > 0.01)
		test_fail(__FILE__, __LINE__, "trace rate %.3f Mbit/s", mbit);
	emu_dir_free(d);

	/* small frames share one opportunity; an idle link wastes them */
	d = emu_dir_new(&p, &tr, 1, 0, 0, 0);
	memset(&o, 0, sizeof(o));
	for (int i = 0; i < 3; i++) {
		make_frame(f, 500, (uint32_t)i);
		emu_dir_enqueue(d, f, 500, 0, 0, 25 * MS); /* after 22 and 24 ms */
	}
	drain(d, &o, UINT64_MAX);
	CHECK_EQ(o.n, 3);
	CHECK_U64_EQ(o.t[0], 26 * MS);
	CHECK_U64_EQ(o.t[2], 26 * MS);
	emu_dir_free(d);
}

TEST(emu_set_midstream_keeps_queue)
{
	static struct out o;
	struct topo_dir p = {.delay_ns = 50 * MS};
	struct topo_dir s = {.set = TOPO_F_DELAY, .delay_ns = 10 * MS};
	struct emu_dir *d = mk(&p, 1);
	uint8_t f[100];

	memset(&o, 0, sizeof(o));
	for (int i = 0; i < 10; i++) {
		make_frame(f, sizeof(f), (uint32_t)i);
		emu_dir_enqueue(d, f, sizeof(f), 0, 0, (uint64_t)i * MS);
	}
	CHECK_EQ(emu_dir_set(d, &s, NULL, 10 * MS), 0);
	CHECK_U64_EQ(emu_dir_params(d)->delay_ns, 10 * MS);
	for (int i = 10; i < 20; i++) {
		make_frame(f, sizeof(f), (uint32_t)i);
		emu_dir_enqueue(d, f, sizeof(f), 0, 0, (uint64_t)i * MS);
	}
	drain(d, &o, UINT64_MAX);
	CHECK_EQ(o.n, 20); /* nothing lost */
	for (int i = 0; i < 20; i++)
		CHECK_EQ(o.seq[i], i);
	CHECK_U64_EQ(o.t[0], 50 * MS);
	CHECK_U64_EQ(o.t[9], 59 * MS);
	/* new frames: 10 ms, but never before the old ones */
	CHECK_U64_EQ(o.t[10], 59 * MS);
	CHECK_U64_EQ(o.t[19], 29 * MS > 59 * MS ? 29 * MS : 59 * MS);
	/* a later one sees the new delay unclamped */
	make_frame(f, sizeof(f), 99);
	emu_dir_enqueue(d, f, sizeof(f), 0, 0, 100 * MS);
	CHECK_U64_EQ(emu_dir_next_event(d, 100 * MS), 110 * MS);
	/* only the masked fields change; a bad value changes nothing */
	s.set = TOPO_F_LOSS;
	s.loss_model = TOPO_LOSS_RANDOM;
	s.loss[0] = 2.0;
	CHECK_EQ(emu_dir_set(d, &s, NULL, 100 * MS), -EINVAL);
	CHECK_EQ(emu_dir_params(d)->loss_model, TOPO_LOSS_NONE);
	emu_dir_free(d);
}

TEST(emu_set_rate_applies_to_queue)
{
	struct topo_dir p = {.rate_bps = 1000000};
	struct topo_dir s = {.set = TOPO_F_RATE, .rate_bps = 100000000};
	struct emu_dir *d = mk(&p, 1);
	static struct out o;
	uint8_t f[1250];

	memset(&o, 0, sizeof(o));
	for (int i = 0; i < 10; i++) {
		make_frame(f, sizeof(f), (uint32_t)i);
		emu_dir_enqueue(d, f, sizeof(f), 0, 0, 0); /* 10 ms each at 1 Mbit/s */
	}
	CHECK_EQ(emu_dir_set(d, &s, NULL, 15 * MS), 0);
	drain(d, &o, UINT64_MAX);
	CHECK_EQ(o.n, 10);
	CHECK_U64_EQ(o.t[0], 10 * MS);
	/* frame 1 restarts at 15 ms at 100 Mbit/s: 100 us each */
	CHECK_U64_EQ(o.t[1], 15 * MS + 100 * US);
	CHECK_U64_EQ(o.t[9], 15 * MS + 900 * US);
	emu_dir_free(d);
}

static void loss_pattern(uint64_t seed, uint8_t *out, int n)
{
	struct topo_dir p = {.loss_model = TOPO_LOSS_RANDOM, .loss = {0.2, 0.3}};

	run_loss(&p, seed, n, out);
}

TEST(emu_seed_determinism)
{
	uint8_t a[2000], b[2000], c[2000];
	struct emu_rng r1, r2;

	loss_pattern(7, a, 2000);
	loss_pattern(7, b, 2000);
	loss_pattern(8, c, 2000);
	CHECK_EQ(memcmp(a, b, sizeof(a)), 0);
	CHECK(memcmp(a, c, sizeof(a)) != 0);
	/* link index and direction pick different streams */
	emu_rng_seed(&r1, 1, 0, 0);
	emu_rng_seed(&r2, 1, 0, 1);
	CHECK(emu_rng_next(&r1) != emu_rng_next(&r2));
	emu_rng_seed(&r1, 1, 0, 0);
	emu_rng_seed(&r2, 1, 1, 0);
	CHECK(emu_rng_next(&r1) != emu_rng_next(&r2));
}

TEST(emu_blackhole_and_flush)
{
	struct topo_dir p = {.delay_ns = 10 * MS};
	struct emu_dir *d = mk(&p, 1);
	uint8_t f[100];

	make_frame(f, sizeof(f), 0);
	emu_dir_enqueue(d, f, sizeof(f), 0, 0, 0);
	emu_dir_set_blackhole(d, true);
	CHECK(emu_dir_enqueue(d, f, sizeof(f), 0, 0, 1) & EMU_V_DROPPED);
	CHECK_EQ(emu_dir_stats(d)->drops[EMU_DROP_BLACKHOLE], 1);
	emu_dir_set_blackhole(d, false);
	emu_dir_enqueue(d, f, sizeof(f), 0, 0, 2);
	CHECK_EQ(emu_dir_stats(d)->held_pkts, 2);
	emu_dir_flush(d, EMU_DROP_CARRIER);
	CHECK_EQ(emu_dir_stats(d)->drops[EMU_DROP_CARRIER], 2);
	CHECK_EQ(emu_dir_stats(d)->held_pkts, 0);
	CHECK(emu_dir_dequeue(d, 100 * MS) == NULL);
	CHECK_U64_EQ(emu_dir_next_event(d, 100 * MS), UINT64_MAX);
	emu_dir_free(d);
}

TEST(emu_histogram_percentiles)
{
	static struct emu_hist h;

	memset(&h, 0, sizeof(h));
	for (uint64_t i = 1; i <= 1000; i++)
		emu_hist_add(&h, i * US);
	/* within a bucket's width (~3 %) of the true value */
	CHECK(llabs((long long)emu_hist_percentile(&h, 0.5) - 500000) < 500000 / 30);
	CHECK(llabs((long long)emu_hist_percentile(&h, 0.99) - 990000) < 990000 / 30);
	CHECK_U64_EQ(emu_hist_percentile(&h, 1.0), 1000 * US);
	CHECK_U64_EQ(h.max_ns, 1000 * US);
	memset(&h, 0, sizeof(h));
	emu_hist_add(&h, 7);
	CHECK_U64_EQ(emu_hist_percentile(&h, 0.5), 7);
}

TEST(emu_frame_payload_offset)
{
	uint8_t f[100] = {0};
	bool l4;

	f[12] = 0x08;
	f[14] = 0x45;
	f[14 + 9] = 6;
	f[34 + 12] = 8 << 4; /* TCP header of 32 bytes */
	CHECK_EQ(emu_frame_payload_off(f, sizeof(f), &l4), 14 + 20 + 32);
	CHECK(l4);
	f[12] = 0x86;
	f[13] = 0xdd;
	f[14 + 6] = 17;
	CHECK_EQ(emu_frame_payload_off(f, sizeof(f), &l4), 14 + 40 + 8);
	f[12] = 0x08;
	f[13] = 0x06; /* ARP */
	CHECK_EQ(emu_frame_payload_off(f, sizeof(f), &l4), 14);
	CHECK(!l4);
	CHECK_EQ(emu_frame_payload_off(f, 10, &l4), 0);
}
