/* HyStart++ (RFC 9406), see hystart.h. */
#include "hystart.h"

#include "seq.h"

#include <string.h>

void hystart_init(struct hystart *h, uint32_t css_rounds)
{
	memset(h, 0, sizeof(*h));
	h->css_rounds_max = css_rounds;
}

static uint64_t rtt_thresh(uint64_t last_round_min)
{
	/* 4.2: "RttThresh = max(MIN_RTT_THRESH, min(lastRoundMinRTT / MIN_RTT_DIVISOR,
	 * MAX_RTT_THRESH))" */
	uint64_t t = last_round_min / HYSTART_MIN_RTT_DIVISOR;

	if (t > HYSTART_MAX_RTT_THRESH_NS)
		t = HYSTART_MAX_RTT_THRESH_NS;
	return t < HYSTART_MIN_RTT_THRESH_NS ? HYSTART_MIN_RTT_THRESH_NS : t;
}

enum hystart_event hystart_on_ack(struct hystart *h, uint64_t rtt_ns, uint32_t una, uint32_t nxt)
{
	enum hystart_event ev = HYSTART_EV_NONE;

	if (h->phase == HYSTART_DONE)
		return ev;
	if (!h->started) {
		/* 4.2: "windowEnd = SND.NXT" at the start of the first round */
		h->started = true;
		h->window_end = nxt;
	}
	if (rtt_ns) {
		/* "currentRoundMinRTT = min(currentRoundMinRTT, currRTT);
		 * rttSampleCount += 1" */
		if (!h->cur_round_min || rtt_ns < h->cur_round_min)
			h->cur_round_min = rtt_ns;
		h->samples++;
	}
	if (h->samples >= HYSTART_N_RTT_SAMPLE && h->cur_round_min && h->last_round_min) {
		if (h->phase == HYSTART_SS &&
		    h->cur_round_min >= h->last_round_min + rtt_thresh(h->last_round_min)) {
			/* "cssBaselineMinRtt = currentRoundMinRTT; exit slow start and
			 * enter CSS" */
			h->css_baseline_min = h->cur_round_min;
			h->phase = HYSTART_CSS;
			h->css_rounds = 0;
			ev = HYSTART_EV_ENTER_CSS;
			if (!h->css_rounds_max) {
				/* no CSS configured: congestion avoidance now */
				h->phase = HYSTART_DONE;
				return HYSTART_EV_DELAY_EXIT;
			}
		} else if (h->phase == HYSTART_CSS && h->cur_round_min < h->css_baseline_min) {
			/* 4.2: "If currentRoundMinRTT < cssBaselineMinRtt ... the exit of slow
			 * start was spurious ... resume slow start" */
			h->css_baseline_min = 0;
			h->phase = HYSTART_SS;
			ev = HYSTART_EV_RESUME_SS;
		}
	}
	/* The round ends when the ACK covers windowEnd. */
	if (seq_ge(una, h->window_end)) {
		h->last_round_min = h->cur_round_min ? h->cur_round_min : h->last_round_min;
		h->cur_round_min = 0;
		h->samples = 0;
		h->window_end = nxt;
		if (h->phase == HYSTART_CSS && ++h->css_rounds >= h->css_rounds_max) {
			/* "If CSS_ROUNDS rounds are complete, enter congestion avoidance
			 * by setting the ssthresh to the current cwnd." */
			h->phase = HYSTART_DONE;
			ev = HYSTART_EV_EXIT;
		}
	}
	return ev;
}

uint32_t hystart_growth_divisor(const struct hystart *h)
{
	return h->phase == HYSTART_CSS ? HYSTART_CSS_GROWTH_DIVISOR : 1;
}

void hystart_end(struct hystart *h)
{
	h->phase = HYSTART_DONE;
}
