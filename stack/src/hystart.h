/* HyStart++ (RFC 9406): leave slow start when the RTT starts to grow, before the
 * queue at the bottleneck overflows and a window's worth of segments is lost.
 *
 * Pure and independent of the congestion controller: the TCP engine feeds it each
 * ACK of the initial slow start (its RTT sample, SND.UNA and SND.NXT) and scales
 * the slow-start growth it hands the controller by hystart_growth_divisor(); on
 * leaving Conservative Slow Start it sets ssthresh = cwnd, so the controller's
 * congestion avoidance takes over.  A loss or an RTO ends it for the connection
 * (RFC 9406 4.3 uses it in the initial slow start only).
 *
 * How many CSS rounds is the caller's choice (mpt_config.hystart_css_rounds).  With
 * 0 the first delay signal ends slow start at once, as Linux's CUBIC does with its
 * HyStart (tcp_cubic.c: "tp->snd_ssthresh = tcp_snd_cwnd(tp)" on HYSTART_DELAY):
 * without pacing, RFC 9406's 5 rounds of growth / 4 multiply the window by ~3 after
 * the queue has begun to grow, and a deep drop-tail queue (a 3 Mbit/s link with 100
 * packets of buffer: 400 ms) overflows anyway.  RFC 9406 4.3 lets an
 * implementation tune the constants for different network characteristics. */
#ifndef MPT_HYSTART_H
#define MPT_HYSTART_H

#include <stdbool.h>
#include <stdint.h>

/* RFC 9406 4.3 constants */
#define HYSTART_MIN_RTT_THRESH_NS  4000000ull  /* 4 ms */
#define HYSTART_MAX_RTT_THRESH_NS  16000000ull /* 16 ms */
#define HYSTART_MIN_RTT_DIVISOR	   8
#define HYSTART_N_RTT_SAMPLE	   8
#define HYSTART_CSS_GROWTH_DIVISOR 4
#define HYSTART_CSS_ROUNDS	   5 /* the RFC's value; mpt_config's default is 0 */

enum hystart_phase {
	HYSTART_SS = 0, /* standard slow start, watching the RTT */
	HYSTART_CSS,	/* Conservative Slow Start: growth / 4 */
	HYSTART_DONE,	/* congestion avoidance, or ended by a loss / RTO */
};

struct hystart {
	enum hystart_phase phase;
	bool started;		   /* window_end is set */
	uint32_t window_end;	   /* SND.NXT when the round began */
	uint64_t last_round_min;   /* ns; 0 = none yet */
	uint64_t cur_round_min;	   /* ns; 0 = none yet */
	uint32_t samples;	   /* RTT samples in this round */
	uint64_t css_baseline_min; /* ns */
	uint32_t css_rounds;	   /* rounds completed in CSS */
	uint32_t css_rounds_max;   /* CSS rounds before congestion avoidance; 0: none */
};

/* What one ACK did to the state machine. */
enum hystart_event {
	HYSTART_EV_NONE = 0,
	HYSTART_EV_ENTER_CSS, /* the RTT grew: slow start -> CSS */
	HYSTART_EV_RESUME_SS, /* CSS saw the RTT fall back: a spurious exit, slow start again */
	HYSTART_EV_EXIT,      /* CSS_ROUNDS done: set ssthresh = cwnd */
	/* the RTT grew and there is no CSS (css_rounds_max 0): set ssthresh = cwnd now */
	HYSTART_EV_DELAY_EXIT,
};

/* `css_rounds`: rounds of Conservative Slow Start after the delay signal (RFC 9406:
 * HYSTART_CSS_ROUNDS); 0 leaves slow start at the signal. */
void hystart_init(struct hystart *h, uint32_t css_rounds);
/* One ACK in slow start: `rtt_ns` is its sample (0: none), `una` the new SND.UNA,
 * `nxt` SND.NXT. */
enum hystart_event hystart_on_ack(struct hystart *h, uint64_t rtt_ns, uint32_t una, uint32_t nxt);
/* The divisor of slow start's growth now: 1 in slow start, 4 in CSS. */
uint32_t hystart_growth_divisor(const struct hystart *h);
/* A loss or an RTO: HyStart++ is over for this connection. */
void hystart_end(struct hystart *h);

#endif
