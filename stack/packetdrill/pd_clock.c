/* Virtual time for the packetdrill shim: the clock moves only when packetdrill
 * sleeps, reads it (by a microsecond) or waits for a packet; the stack's timers fire
 * on the way. */
#include "pd.h"

#include <string.h>

#define PD_TICK_NS 1000u

/* Queue every datagram the stack has due now. */
static void drain(struct pd *p)
{
	for (;;) {
		uint8_t buf[PD_PKT_MAX];
		uint32_t path = 0;
		ptrdiff_t n = mpt_stack_send(p->st, buf, sizeof(buf), &path, p->now);
		struct pd_pkt *slot;

		if (n <= 0)
			return;
		if (p->qlen == PD_QUEUE) {
			p->drops++;
			continue;
		}
		slot = &p->q[(p->qhead + p->qlen) % PD_QUEUE];
		slot->at = p->now;
		slot->len = (uint16_t)n;
		memcpy(slot->buf, buf, (size_t)n);
		p->qlen++;
	}
}

void pd_pump_locked(struct pd *p)
{
	if (mpt_stack_next_timeout(p->st) <= p->now)
		mpt_stack_handle_expiry(p->st, p->now);
	drain(p);
	for (int i = 0; i < 16 && mpt_sk_step(p->t) > 0; i++)
		drain(p);
	drain(p);
}

void pd_pump(struct pd *p)
{
	mpt_sk_lock(p->t);
	pd_pump_locked(p);
	mpt_sk_unlock(p->t);
}

void pd_advance_locked(struct pd *p, uint64_t to)
{
	for (;;) {
		uint64_t next = mpt_stack_next_timeout(p->st);

		if (next > to)
			break;
		if (next > p->now)
			p->now = next;
		mpt_stack_handle_expiry(p->st, p->now);
		pd_pump_locked(p);
	}
	if (to > p->now)
		p->now = to;
	pd_pump_locked(p);
}

int pd_usleep(void *ud, useconds_t usec)
{
	struct pd *p = ud;

	mpt_sk_lock(p->t);
	pd_advance_locked(p, p->now + (uint64_t)usec * 1000u);
	mpt_sk_unlock(p->t);
	return 0;
}

int pd_gettimeofday(void *ud, struct timeval *tv, struct timezone *tz)
{
	struct pd *p = ud;
	uint64_t now;

	(void)tz;
	mpt_sk_lock(p->t);
	/* packetdrill sleeps until just before an event and then spins reading the
	 * clock: every reading moves it on by PD_TICK_NS so the spin ends */
	pd_advance_locked(p, p->now + PD_TICK_NS);
	now = p->now;
	mpt_sk_unlock(p->t);
	tv->tv_sec = (time_t)(now / 1000000000u);
	tv->tv_usec = (suseconds_t)(now % 1000000000u / 1000u);
	return 0;
}
