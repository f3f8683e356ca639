/* HyStart++ (RFC 9406): the state machine alone (RTT rounds), then in virtual time
 * against a drop-tail bottleneck, where leaving slow start on a growing RTT loses
 * far fewer segments than overflowing the queue. */
#include "hystart.h"
#include "mpt_sim.h"
#include "test.h"

#define MS 1000000ull

/* One round: `n` ACKs with RTT `rtt`, SND.UNA moving to the round's end at the last;
 * returns the events seen (bit per enum value); una and nxt advance. */
static unsigned round_of(struct hystart *h, int n, uint64_t rtt, uint32_t *una, uint32_t *nxt)
{
	unsigned seen = 0;
	uint32_t end = *nxt;

	*nxt += (uint32_t)n * 2000; /* the window doubles: more is sent than acked */
	for (int i = 1; i <= n; i++) {
		*una = i == n ? end : *una + 1;
		seen |= 1u << hystart_on_ack(h, rtt, *una, *nxt);
	}
	return seen;
}

/* The first ACK, without an RTT sample, opens the first round at SND.NXT. */
static void start(struct hystart *h, uint32_t nxt)
{
	hystart_init(h);
	CHECK_EQ(hystart_on_ack(h, 0, 0, nxt), HYSTART_EV_NONE);
}

TEST(hystart_constant_rtt_stays_in_slow_start)
{
	struct hystart h;
	uint32_t una = 0, nxt = 10000;

	start(&h, nxt);
	for (int r = 0; r < 20; r++)
		CHECK_EQ(round_of(&h, 16, 50 * MS, &una, &nxt), 1u << HYSTART_EV_NONE);
	CHECK_EQ(h.phase, HYSTART_SS);
	CHECK_EQ(hystart_growth_divisor(&h), 1);
}

TEST(hystart_rtt_growth_enters_css_then_exits_after_five_rounds)
{
	struct hystart h;
	uint32_t una = 0, nxt = 10000;

	start(&h, nxt);
	CHECK_EQ(round_of(&h, 16, 40 * MS, &una, &nxt), 1u << HYSTART_EV_NONE);
	/* 40 ms: RttThresh = max(4, min(40 / 8, 16)) = 5 ms; +4 ms is not enough */
	CHECK_EQ(round_of(&h, 16, 44 * MS, &una, &nxt), 1u << HYSTART_EV_NONE);
	CHECK_EQ(h.phase, HYSTART_SS);
	/* last round's min 44 -> thresh 5.5 ms; 50 ms is: CSS, growth / 4 */
	CHECK(round_of(&h, 16, 50 * MS, &una, &nxt) & (1u << HYSTART_EV_ENTER_CSS));
	CHECK_EQ(h.phase, HYSTART_CSS);
	CHECK_EQ(hystart_growth_divisor(&h), HYSTART_CSS_GROWTH_DIVISOR);
	/* the round that entered CSS counts as its first; four more end it */
	for (int r = 0; r < HYSTART_CSS_ROUNDS - 2; r++)
		CHECK_EQ(round_of(&h, 16, 52 * MS, &una, &nxt), 1u << HYSTART_EV_NONE);
	CHECK(round_of(&h, 16, 52 * MS, &una, &nxt) & (1u << HYSTART_EV_EXIT));
	CHECK_EQ(h.phase, HYSTART_DONE);
	CHECK_EQ(round_of(&h, 16, 90 * MS, &una, &nxt), 1u << HYSTART_EV_NONE);
}

TEST(hystart_css_resumes_slow_start_when_rtt_falls_back)
{
	struct hystart h;
	uint32_t una = 0, nxt = 10000;

	start(&h, nxt);
	round_of(&h, 16, 20 * MS, &una, &nxt);
	CHECK(round_of(&h, 16, 30 * MS, &una, &nxt) & (1u << HYSTART_EV_ENTER_CSS));
	/* below the CSS baseline (30 ms) after 8 samples: the exit was spurious */
	CHECK(round_of(&h, 16, 21 * MS, &una, &nxt) & (1u << HYSTART_EV_RESUME_SS));
	CHECK_EQ(h.phase, HYSTART_SS);
	/* fewer than N_RTT_SAMPLE samples in a round decide nothing */
	CHECK_EQ(round_of(&h, HYSTART_N_RTT_SAMPLE - 1, 80 * MS, &una, &nxt),
		 1u << HYSTART_EV_NONE);
	CHECK_EQ(h.phase, HYSTART_SS);
	hystart_end(&h);
	CHECK_EQ(round_of(&h, 16, 200 * MS, &una, &nxt), 1u << HYSTART_EV_NONE);
	CHECK_EQ(h.phase, HYSTART_DONE);
}

/* 10 Mbit/s, 20 ms one way, a queue of 64 full segments: slow start from 10
 * segments overflows it by far; HyStart++ sees the queue's delay and slows down. */
static void bottleneck_run(bool hystart, uint64_t *retrans, uint64_t *detect, uint64_t *done)
{
	struct mpt_config c;
	struct mpt_sim sim;
	struct mpt_sim_link_cfg l = {
		.rate_bps = 10000000, .delay_ns = 20 * MS, .queue_bytes = 64 * 1500};
	struct mpt_sim_xfer x = {.bytes = 3000000, .deadline_ns = 120000000000ull};
	const struct mpt_counters *k;

	mpt_config_default(&c);
	c.cc = "cubic";
	c.no_hystart = !hystart;
	CHECK_EQ(mpt_sim_init(&sim, 7, &c, &c, MPT_AF_INET, 1, &l), 0);
	CHECK_EQ(mpt_sim_transfer(&sim, &x), 0);
	CHECK(x.data_ok);
	k = mpt_stack_counters(sim.ep[0]);
	*retrans = k->tcp_retrans_segs;
	*detect = k->hystart_delay_detect;
	*done = x.done_ns;
	printf("# hystart %d: retransmitted %llu segments, %llu CSS entries (cwnd %llu), done "
	       "at %.3f s\n",
	       hystart, (unsigned long long)k->tcp_retrans_segs,
	       (unsigned long long)k->hystart_delay_detect,
	       (unsigned long long)k->hystart_delay_cwnd, x.done_ns / 1e9);
	mpt_sim_free(&sim);
}

TEST(hystart_sim_bottleneck_fewer_losses)
{
	uint64_t r_on, r_off, d_on, d_off, t_on, t_off;

	bottleneck_run(true, &r_on, &d_on, &t_on);
	bottleneck_run(false, &r_off, &d_off, &t_off);
	CHECK_U64_EQ(d_off, 0);
	CHECK(d_on >= 1);
	CHECK(r_off > 20);	 /* the overflow without it */
	CHECK(r_on * 4 < r_off); /* well under a quarter of those losses with it */
	CHECK(t_on <= t_off + t_off / 10);
}
