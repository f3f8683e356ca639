/* The kernel's sch_netem as an alternative backend for a link direction.
 *
 * The orchestrator asks emu_netem_available() (is sch_netem in this kernel?) and
 * emu_netem_can_express() (can netem, built through libnl, apply this direction
 * exactly?); when both say yes it may put the qdisc built by emu_netem_build() on
 * the link instead of running mpnet-linkemu.  The rate is NOT part of the netem
 * qdisc: emu_netem_tree_build() puts an HTB class above it for the rate and hangs
 * netem under it as the leaf (netem's own rate needs TCA_NETEM_RATE, which libnl
 * does not expose).
 */
#ifndef MPNET_EMU_NETEM_H
#define MPNET_EMU_NETEM_H

#include "topology.h"

#include <netlink/route/tc.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rtnl_qdisc;

#define EMU_NETEM_TABLE 4096 /* entries of a delay distribution table (as iproute2's) */

/* True when a netem qdisc can be created: tried once in a scratch network
 * namespace (a forked child that unshares one), then cached.  False without the
 * privileges to do so. */
bool emu_netem_available(void);

/* True when emu_netem_tree_build() expresses d exactly (apart from netem's
 * microsecond granularity in libnl).  Otherwise false, and `why` names what
 * cannot be expressed as a noun phrase that completes "netem cannot express ...":
 * a trace, the Gilbert-Elliott and 4-state loss models (libnl cannot send
 * TCA_NETEM_LOSS), a queue limit in bytes or time (netem's limit counts
 * packets), a CoDel queue (the tree has no AQM). */
bool emu_netem_can_express(const struct topo_dir *d, char *why, size_t len);

/* The tc tree of one direction on its egress interface (docs/EMULATOR.md):
 *   with a rate:    HTB root 1: (default class 1:1) -> class 1:1 (rate = ceil)
 *                   -> netem 10: as its leaf (delay, loss, ..., limit);
 *   without a rate: netem 10: as the root.
 * The netem limit is the direction's queue (packets), so the bottleneck queue is
 * netem's. */
#define EMU_NETEM_HTB	TC_HANDLE(1, 0)	   /* 1:  HTB root */
#define EMU_NETEM_CLASS TC_HANDLE(1, 1)	   /* 1:1 its class */
#define EMU_NETEM_LEAF	TC_HANDLE(0x10, 0) /* 10: netem */

struct rtnl_class;

struct emu_netem_tree {
	struct rtnl_qdisc *htb;	  /* HTB root, NULL without a rate */
	struct rtnl_class *cls;	  /* class 1:1, NULL without a rate */
	struct rtnl_qdisc *netem; /* netem 10: (parent 1:1, or root) */
};

/* Build the objects of d's tree for interface ifindex whose MTU is mtu (the HTB
 * quantum and burst: one MTU frame + 1 ms at the rate, as nlr_shape).  The caller
 * sends them in order (htb, cls, netem) with NLM_F_CREATE | NLM_F_REPLACE, which
 * creates them or changes them in place, and frees them with
 * emu_netem_tree_free.  Returns 0, -EINVAL with `why` (see can_express) or
 * -ENOMEM. */
int emu_netem_tree_build(struct emu_netem_tree *t, int ifindex, unsigned mtu,
			 const struct topo_dir *d, char *why, size_t len);
void emu_netem_tree_free(struct emu_netem_tree *t);

/* What a run-time change from `before` to `after` needs on the tree (bits). */
enum {
	EMU_NETEM_CH_CLASS = 1u << 0,	/* the rate: change class 1:1 in place */
	EMU_NETEM_CH_LEAF = 1u << 1,	/* netem's parameters: change 10: in place, queue kept */
	EMU_NETEM_CH_REBUILD = 1u << 2, /* the tree's shape: delete the root and build it
					 * again (what it held is lost): a rate where there
					 * was none, or back to uniform jitter after a table
					 * (netem keeps its table when a change has none) */
};
unsigned emu_netem_changes(const struct topo_dir *before, const struct topo_dir *after);

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
