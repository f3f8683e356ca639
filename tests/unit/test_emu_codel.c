/* CoDel (RFC 8289) in virtual time: the pure decision object, then the
 * emulator's bottleneck with it. */
#include "emu_codel.h"
#include "emu_dir.h"
#include "test.h"

#include <math.h>
#include <stdlib.h>

#define MS 1000000ull
#define US 1000ull

/* One dequeue at `now` of a queue whose every frame has waited `sojourn` and
 * which holds `backlog` bytes behind each head: returns the frames dropped in it
 * (the RFC's while loop may drop several). */
static int dequeue_at(struct emu_codel *c, uint64_t now, uint64_t sojourn, uint64_t backlog)
{
	int drops = 0;

	while (emu_codel_judge(c, now, sojourn, backlog))
		drops++;
	return drops;
}

TEST(emu_codel_standing_queue_drop_spacing)
{
	/* A standing queue of 20 ms (target 5 ms) served one frame per ms: nothing
	 * for one interval, then drops at interval / sqrt(count) spacing. */
	struct emu_codel c;
	uint64_t drops[64], expect, next;
	int n = 0;

	emu_codel_init(&c, 5 * MS, 100 * MS, 1514);
	for (uint64_t now = 0; now <= 2000 * MS && n < 64; now += MS) {
		int k = dequeue_at(&c, now, 20 * MS, 100000);

		CHECK(k <= 1); /* one frame per ms never needs two drops at once here */
		if (k)
			drops[n++] = now;
	}
	CHECK(n >= 10);
	/* first above target at 0: ok to drop from 0 + interval */
	CHECK_U64_EQ(drops[0], 100 * MS);
	/* then drop_next = 100 + 100/sqrt(1), + 100/sqrt(2), + 100/sqrt(3), ...;
	 * each drop happens at the first dequeue (1 ms grid) at or after it */
	next = 100 * MS + 100 * MS;
	for (int i = 1; i < n; i++) {
		expect = (next + MS - 1) / MS * MS;
		CHECK_U64_EQ(drops[i], expect);
		next += (uint64_t)(100.0 * MS / sqrt((double)(i + 1)));
	}
	/* the spacing shrinks as 1/sqrt(count): 100, 70.7, 57.7, 50 ms ... */
	CHECK_U64_EQ(drops[2] - drops[1], 71 * MS);
	CHECK_U64_EQ(drops[4] - drops[3], 50 * MS);
	CHECK(c.dropping);
	CHECK_EQ(c.count, (uint32_t)n);
	CHECK_U64_EQ(c.drops, (uint64_t)n);
}

TEST(emu_codel_below_target_never_drops)
{
	struct emu_codel c;
	int drops = 0;

	emu_codel_init(&c, 5 * MS, 100 * MS, 1514);
	/* 4.9 ms of sojourn for 10 s */
	for (uint64_t now = 0; now <= 10000 * MS; now += MS)
		drops += dequeue_at(&c, now, 4900 * US, 1000000);
	CHECK_EQ(drops, 0);
	/* above target, but at most one MTU queued behind: the backlog test keeps a
	 * slow link busy, no drops either */
	for (uint64_t now = 10001 * MS; now <= 20000 * MS; now += MS)
		drops += dequeue_at(&c, now, 50 * MS, 1514);
	CHECK_EQ(drops, 0);
	CHECK(!c.dropping);
	CHECK_U64_EQ(c.first_above, 0);
}

TEST(emu_codel_short_burst_is_not_dropped)
{
	/* above target for less than an interval, then below: no drop */
	struct emu_codel c;
	int drops = 0;

	emu_codel_init(&c, 5 * MS, 100 * MS, 1514);
	for (int round = 0; round < 20; round++) {
		uint64_t base = (uint64_t)round * 200 * MS;

		for (uint64_t t = 0; t < 99 * MS; t += MS)
			drops += dequeue_at(&c, base + t, 30 * MS, 100000);
		for (uint64_t t = 99 * MS; t < 200 * MS; t += MS)
			drops += dequeue_at(&c, base + t, 1 * MS, 100000);
	}
	CHECK_EQ(drops, 0);
}

TEST(emu_codel_leaves_and_reenters_with_previous_rate)
{
	struct emu_codel c;
	uint64_t now = 0;
	uint32_t count_before;

	emu_codel_init(&c, 5 * MS, 100 * MS, 1514);
	for (; now <= 1000 * MS; now += MS)
		dequeue_at(&c, now, 20 * MS, 100000);
	CHECK(c.dropping);
	count_before = c.count;
	CHECK(count_before >= 5);
	/* one frame below target: the dropping state ends at once */
	CHECK(!emu_codel_judge(&c, now, 1 * MS, 100000));
	CHECK(!c.dropping);
	now += MS;
	/* above again: after one interval it drops and, being soon after, restarts
	 * from count - lastcount rather than 1 (RFC 8289 / Linux) */
	for (; !c.dropping; now += MS)
		dequeue_at(&c, now, 20 * MS, 100000);
	CHECK_EQ(c.dropping_spells, 2);
	CHECK_EQ(c.count, count_before - 1);
	/* an empty queue also ends the dropping state */
	emu_codel_empty(&c, now);
	CHECK(!c.dropping);
	CHECK_U64_EQ(c.first_above, 0);
}

TEST(emu_codel_control_law)
{
	struct emu_codel c;

	emu_codel_init(&c, 0, 0, 0);
	CHECK_U64_EQ(c.target_ns, 5 * MS);
	CHECK_U64_EQ(c.interval_ns, 100 * MS);
	CHECK_EQ(c.mtu, EMU_CODEL_MTU);
	CHECK_U64_EQ(emu_codel_control_law(&c, 1000, 1), 1000 + 100 * MS);
	CHECK_U64_EQ(emu_codel_control_law(&c, 0, 4), 50 * MS);
	CHECK_U64_EQ(emu_codel_control_law(&c, 0, 100), 10 * MS);
}

/* ---- the emulator's bottleneck with CoDel -------------------------------------- */

struct run_result {
	uint64_t in, out, codel, queue, held;
	double p50_ms;	   /* sojourn (arrival -> end of service) over the last third */
	double goodput;	   /* delivered bytes / link capacity over the run */
	uint64_t max_pkts; /* queued frames at most */
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* 10 Mbit/s, 1000-packet queue; 1514-byte frames arriving at `load` times the
 * rate for `secs` seconds (a constant, unresponsive overload). */
static void overload(bool codel, double load, int secs, struct run_result *r)
{
	struct topo_dir p = {.rate_bps = 10000000,
			     .queue = 1000,
			     .codel = codel,
			     .codel_target_ns = 5 * MS,
			     .codel_interval_ns = 100 * MS};
	struct emu_dir *d = emu_dir_new(&p, NULL, 1, 0, 0, 0);
	uint64_t gap = (uint64_t)(1514 * 8 * 1e9 / 10e6 / load), end = (uint64_t)secs * 1000 * MS;
	uint64_t next_in = 0, now = 0, bytes = 0;
	size_t ns = 0, cap = 200000;
	uint64_t *soj = malloc(cap * sizeof(*soj));
	uint8_t f[1514] = {0};

	CHECK(d != NULL && soj != NULL);
	memset(r, 0, sizeof(*r));
	f[12] = 0x08;
	while (now < end) {
		uint64_t t = emu_dir_next_event(d, now);
		struct emu_pkt *pk;

		now = t < next_in ? t : next_in;
		if (now >= next_in) {
			emu_dir_enqueue(d, f, sizeof(f), 0, 0, now);
			next_in += gap;
		}
		while ((pk = emu_dir_dequeue(d, now))) {
			if (pk->arrive_ns >= end / 3 * 2 && ns < cap)
				soj[ns++] = pk->served_ns - pk->arrive_ns;
			bytes += pk->wire_len;
			emu_pkt_free(pk);
		}
		if (emu_dir_stats(d)->queued_pkts > r->max_pkts)
			r->max_pkts = emu_dir_stats(d)->queued_pkts;
	}
	r->in = emu_dir_stats(d)->pkts_in;
	r->out = emu_dir_stats(d)->pkts_out;
	r->codel = emu_dir_stats(d)->drops[EMU_DROP_CODEL];
	r->queue = emu_dir_stats(d)->drops[EMU_DROP_QUEUE];
	r->held = emu_dir_stats(d)->held_pkts;
	qsort(soj, ns, sizeof(*soj), cmp_u64);
	r->p50_ms = ns ? (double)soj[ns / 2] / 1e6 : 0;
	r->goodput = (double)bytes * 8 / (10e6 * secs);
	free(soj);
	emu_dir_free(d);
}

TEST(emu_codel_overload_converges_near_target)
{
	struct run_result with, without;

	/* 5 % more than the link carries, unresponsive: CoDel must drop ~1 frame in
	 * 21 for good (with a larger, unresponsive overload CoDel's dropping spells
	 * restart and the sojourn saw-tooths: see docs/EMULATOR.md) */
	overload(true, 1.05, 60, &with);
	overload(false, 1.05, 60, &without);
	/* drop-tail: the 1000-frame queue fills (1.2 s of sojourn at 10 Mbit/s) */
	CHECK(without.p50_ms > 1000.0);
	CHECK(without.max_pkts == 1000);
	CHECK_EQ(without.codel, 0);
	CHECK(without.queue > 0);
	/* CoDel: the standing queue is controlled, no tail drops, the sojourn sits
	 * near the 5 ms target, and the link stays busy */
	CHECK(with.codel > 0);
	CHECK_EQ(with.queue, 0);
	if (!(with.p50_ms > 2.0 && with.p50_ms < 15.0))
		test_fail(__FILE__, __LINE__, "sojourn p50 %.2f ms, want near 5 ms", with.p50_ms);
	CHECK(with.goodput > 0.97);
	/* it drops what the link cannot carry (5 % of 1/1.05 of the arrivals), not more */
	if (!(with.codel > with.in * 0.035 && with.codel < with.in * 0.07))
		test_fail(__FILE__, __LINE__, "codel dropped %" PRIu64 " of %" PRIu64, with.codel,
			  with.in);
	CHECK_EQ(with.in, with.out + with.codel + with.held); /* every frame accounted for */
	CHECK(with.max_pkts < 1000);
}

TEST(emu_codel_switched_by_set)
{
	/* 10 Mbit/s, 10 % overload: drop-tail until CoDel is switched on at 5 s
	 * (the standing queue is then drained by CoDel drops), off again at 15 s */
	struct topo_dir p = {.rate_bps = 10000000, .queue = 1000};
	struct topo_dir on = {.set = TOPO_F_AQM,
			      .codel = true,
			      .codel_target_ns = 5 * MS,
			      .codel_interval_ns = 100 * MS};
	struct topo_dir off = {.set = TOPO_F_AQM, .codel = false};
	struct emu_dir *d = emu_dir_new(&p, NULL, 1, 0, 0, 0);
	uint64_t gap = (uint64_t)(1514 * 8 * 1e9 / 10e6 / 1.1), next_in = 0, now = 0;
	uint64_t at_on = 0, at_off = 0, queued_on = 0, queued_off = 0;
	bool is_on = false, is_off = false;
	uint8_t f[1514] = {0};

	CHECK(d != NULL);
	while (now < 20000 * MS) {
		uint64_t t = emu_dir_next_event(d, now);
		struct emu_pkt *pk;

		now = t < next_in ? t : next_in;
		if (now >= 5000 * MS && !is_on) {
			is_on = true;
			queued_on = emu_dir_stats(d)->queued_pkts;
			CHECK_EQ(emu_dir_set(d, &on, NULL, now), 0);
			at_on = emu_dir_stats(d)->drops[EMU_DROP_CODEL];
		}
		if (now >= 15000 * MS && !is_off) {
			is_off = true;
			queued_off = emu_dir_stats(d)->queued_pkts;
			CHECK_EQ(emu_dir_set(d, &off, NULL, now), 0);
			at_off = emu_dir_stats(d)->drops[EMU_DROP_CODEL];
			CHECK(!emu_dir_params(d)->codel);
		}
		if (now >= next_in) {
			emu_dir_enqueue(d, f, sizeof(f), 0, 0, now);
			next_in += gap;
		}
		while ((pk = emu_dir_dequeue(d, now)))
			emu_pkt_free(pk);
	}
	CHECK_EQ(at_on, 0);
	CHECK(queued_on > 300); /* drop-tail let the queue grow */
	CHECK(at_off > 300);	/* CoDel drained it, and kept dropping */
	CHECK(queued_off < 50); /* to a short queue */
	CHECK_U64_EQ(emu_dir_stats(d)->drops[EMU_DROP_CODEL], at_off); /* none once off */
	CHECK(emu_dir_stats(d)->queued_pkts > queued_off + 100);       /* and it grows again */
	emu_dir_free(d);
}
