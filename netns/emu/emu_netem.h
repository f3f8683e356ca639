/* The kernel's sch_netem as an alternative backend for a link direction.
 *
 * The orchestrator asks emu_netem_available() (is sch_netem in this kernel?) and
 * emu_netem_can_express() (can netem, built through libnl, apply this direction
 * exactly?); when both say yes it may put the qdisc built by emu_netem_build() on
 * the link instead of running mpnet-linkemu.  Rate and the queue are NOT part of
 * the netem qdisc built here: the caller keeps its HTB class for the rate and
 * hangs this netem under it as the leaf (netem's own rate needs TCA_NETEM_RATE,
 * which libnl does not expose).
 */
#ifndef MPNET_EMU_NETEM_H
#define MPNET_EMU_NETEM_H

#include "topology.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rtnl_qdisc;

#define EMU_NETEM_TABLE 4096 /* entries of a delay distribution table (as iproute2's) */

/* True when a netem qdisc can be created: tried once in a scratch network
 * namespace (a forked child that unshares one), then cached.  False without the
 * privileges to do so. */
bool emu_netem_available(void);

/* True when emu_netem_build() expresses d exactly (apart from netem's microsecond
 * granularity in libnl).  Otherwise false and a reason in why: a trace, the
 * Gilbert-Elliott and 4-state loss models (libnl cannot send TCA_NETEM_LOSS), a
 * queue in bytes or time (netem's limit counts packets). */
bool emu_netem_can_express(const struct topo_dir *d, char *why, size_t len);

/* Fill q (allocated by the caller, e.g. rtnl_qdisc_alloc) as a netem qdisc for d:
 * kind, delay, jitter + correlation + distribution table, random loss +
 * correlation, duplicate, corrupt, reorder + gap (tc's rule: reorder without gap
 * means gap 1), limit (packets; 1000 by default).  The caller sets ifindex and
 * parent.  Returns 0, or -EINVAL with a reason when !can_express. */
int emu_netem_build(struct rtnl_qdisc *q, const struct topo_dir *d, char *why, size_t len);

/* A probability as netem's u32 scale (0 = never, UINT32_MAX = always). */
uint32_t emu_netem_prob(double p);

/* The delay distribution table netem would get (int16 scaled by 8192), from the
 * same quantile functions as the userspace emulator.  Not for uniform. */
void emu_netem_dist_table(enum topo_jitter_dist dist, int16_t table[EMU_NETEM_TABLE]);

#endif
