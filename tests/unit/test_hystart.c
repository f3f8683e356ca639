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
	hystart_init(h, HYSTART_CSS_ROUNDS);
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

TEST(hystart_without_css_rounds_leaves_slow_start_at_the_delay_signal)
{
	struct hystart h;
	uint32_t una = 0, nxt = 10000;

	hystart_init(&h, 0);
	CHECK_EQ(hystart_on_ack(&h, 0, 0, nxt), HYSTART_EV_NONE);
	CHECK_EQ(round_of(&h, 16, 40 * MS, &una, &nxt), 1u << HYSTART_EV_NONE);
	/* the same signal as above: +10 ms over 40 ms; no CSS, congestion avoidance */
	CHECK_EQ(round_of(&h, 16, 50 * MS, &una, &nxt) &
			 ((1u << HYSTART_EV_DELAY_EXIT) | (1u << HYSTART_EV_ENTER_CSS)),
		 1u << HYSTART_EV_DELAY_EXIT);
	CHECK_EQ(h.phase, HYSTART_DONE);
	CHECK_EQ(hystart_growth_divisor(&h), 1);
	/* a later fall of the RTT does not resume slow start */
	CHECK_EQ(round_of(&h, 16, 20 * MS, &una, &nxt), 1u << HYSTART_EV_NONE);
	CHECK_EQ(h.phase, HYSTART_DONE);
}

/* One cubic transfer of `bytes` over one path: `css` CSS rounds, or -1 for no
 * HyStart++ at all.  Returns segments retransmitted; *detect the delay signals seen,
 * *done when the receiver had it all. */
static uint64_t bottleneck_run(const struct mpt_sim_link_cfg *l, uint64_t bytes, int css,
			       uint64_t *detect, uint64_t *done)
{
	struct mpt_config c;
	struct mpt_sim sim;
	struct mpt_sim_xfer x = {.bytes = bytes, .deadline_ns = 120000000000ull};
	const struct mpt_counters *k;
	uint64_t retrans;

	mpt_config_default(&c);
	c.cc = "cubic";
	c.sndbuf = c.rcvbuf = 4u << 20;
	c.no_hystart = css < 0;
	c.hystart_css_rounds = css < 0 ? 0 : (uint8_t)css;
	CHECK_EQ(mpt_sim_init(&sim, 7, &c, &c, MPT_AF_INET, 1, l), 0);
	CHECK_EQ(mpt_sim_transfer(&sim, &x), 0);
	CHECK(x.data_ok);
	k = mpt_stack_counters(sim.ep[0]);
	retrans = k->tcp_retrans_segs;
	*detect = k->hystart_delay_detect;
	*done = x.done_ns;
	printf("# %.0f Mbit/s, %.0f ms, queue %u B, CSS rounds %d: retransmitted %llu "
	       "segments, %llu delay signals (cwnd %llu), done at %.3f s\n",
	       l->rate_bps / 1e6, l->delay_ns / 1e6, l->queue_bytes, css,
	       (unsigned long long)retrans, (unsigned long long)k->hystart_delay_detect,
	       (unsigned long long)k->hystart_delay_cwnd, x.done_ns / 1e9);
	mpt_sim_free(&sim);
	return retrans;
}

/* 10 Mbit/s, 20 ms one way, a queue of 64 full segments: slow start from 10
 * segments overflows it by far; HyStart++ sees the queue's delay and slows down,
 * with RFC 9406's five CSS rounds or without any. */
TEST(hystart_sim_bottleneck_fewer_losses)
{
	const struct mpt_sim_link_cfg l = {
		.rate_bps = 10000000, .delay_ns = 20 * MS, .queue_bytes = 64 * 1500};
	uint64_t r_off, d_off, t_off;

	r_off = bottleneck_run(&l, 3000000, -1, &d_off, &t_off);
	CHECK_U64_EQ(d_off, 0);
	CHECK(r_off > 20); /* the overflow without it */
	for (int css = 0; css <= HYSTART_CSS_ROUNDS; css += HYSTART_CSS_ROUNDS) {
		uint64_t d_on, t_on, r_on = bottleneck_run(&l, 3000000, css, &d_on, &t_on);

		CHECK(d_on >= 1);
		CHECK(r_on * 4 < r_off); /* well under a quarter of those losses with it */
		CHECK(t_on <= t_off + t_off / 10);
	}
}

/* bench case 05's slow path: 3 Mbit/s, 25 ms, 100 packets of drop-tail queue (400
 * ms; mpnet's default queue).  The delay signal comes early (the path's BDP is 6
 * segments), but five CSS rounds of growth / 4 still triple the window past the
 * queue; leaving slow start at the signal, as Linux's CUBIC does, loses nothing. */
TEST(hystart_sim_deep_queue_css_overflows_it_leaving_at_the_signal_does_not)
{
	const struct mpt_sim_link_cfg l = {
		.rate_bps = 3000000, .delay_ns = 25 * MS, .queue_bytes = 100 * 1514};
	uint64_t d0, t0, d5, t5;
	uint64_t r0 = bottleneck_run(&l, 1500000, 0, &d0, &t0);
	uint64_t r5 = bottleneck_run(&l, 1500000, HYSTART_CSS_ROUNDS, &d5, &t5);

	CHECK(d0 >= 1 && d5 >= 1);
	CHECK(r5 >= 10);
	CHECK_U64_EQ(r0, 0);
	CHECK(t0 <= t5);
}
