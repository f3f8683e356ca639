/* CoDel (RFC 8289) as a pure decision object: see emu_codel.h. */
#include "emu_codel.h"

#include <math.h>

enum {
	PH_NEW = 0, /* the next judge() starts a dequeue */
	PH_LOOP,    /* dropped while dropping: the next frame is judged by the drop loop */
	PH_ENTERED, /* dropped on entering the dropping state: the next frame is sent */
};

void emu_codel_init(struct emu_codel *c, uint64_t target_ns, uint64_t interval_ns, uint32_t mtu)
{
	*c = (struct emu_codel){0};
	c->mtu = mtu ? mtu : EMU_CODEL_MTU;
	emu_codel_set(c, target_ns, interval_ns);
}

void emu_codel_set(struct emu_codel *c, uint64_t target_ns, uint64_t interval_ns)
{
	c->target_ns = target_ns ? target_ns : EMU_CODEL_TARGET_NS;
	c->interval_ns = interval_ns ? interval_ns : EMU_CODEL_INTERVAL_NS;
}

uint64_t emu_codel_control_law(const struct emu_codel *c, uint64_t t, uint32_t count)
{
	return t + (uint64_t)((double)c->interval_ns / sqrt((double)(count ? count : 1)));
}

/* The RFC's dodequeue() test for one frame: has the sojourn been above target
 * for a whole interval? */
static bool ok_to_drop(struct emu_codel *c, uint64_t now, uint64_t sojourn, uint64_t backlog)
{
	if (sojourn < c->target_ns || backlog <= c->mtu) {
		c->first_above = 0; /* went below: stay below for at least an interval */
		return false;
	}
	if (c->first_above == 0) {
		c->first_above = now + c->interval_ns;
		return false;
	}
	return now >= c->first_above;
}

/* Entering the dropping state (after its first drop): the drop rate that
 * controlled the queue last time is the starting point when that was recent. */
static void enter_dropping(struct emu_codel *c, uint64_t now)
{
	uint32_t delta = c->count - c->lastcount;

	c->dropping = true;
	c->count = 1;
	if (delta > 1 && (int64_t)(now - c->drop_next) < (int64_t)(16 * c->interval_ns))
		c->count = delta;
	c->drop_next = emu_codel_control_law(c, now, c->count);
	c->lastcount = c->count;
	c->dropping_spells++;
}

bool emu_codel_judge(struct emu_codel *c, uint64_t now, uint64_t sojourn_ns, uint64_t backlog_after)
{
	bool ok = ok_to_drop(c, now, sojourn_ns, backlog_after);

	switch (c->phase) {
	case PH_LOOP:
		if (!ok) {
			c->dropping = false;
			c->phase = PH_NEW;
			return false;
		}
		c->drop_next = emu_codel_control_law(c, c->drop_next, c->count);
		if (now >= c->drop_next) {
			c->count++;
			c->drops++;
			return true;
		}
		c->phase = PH_NEW;
		return false;
	case PH_ENTERED:
		enter_dropping(c, now);
		c->phase = PH_NEW;
		return false;
	default:
		break;
	}
	if (c->dropping) {
		if (!ok) {
			c->dropping = false; /* sojourn below target: leave the dropping state */
			return false;
		}
		if (now >= c->drop_next) {
			c->count++;
			c->drops++;
			c->phase = PH_LOOP;
			return true;
		}
		return false;
	}
	if (ok) {
		c->drops++;
		c->phase = PH_ENTERED;
		return true;
	}
	return false;
}

void emu_codel_empty(struct emu_codel *c, uint64_t now)
{
	c->first_above = 0;
	if (c->phase == PH_ENTERED)
		enter_dropping(c, now);
	c->dropping = false;
	c->phase = PH_NEW;
}
