/* netem backend: probe, expressibility and the libnl builder (emu_netem.h). */
#include "emu_netem.h"
#include "emu_dir.h"

#include <errno.h>
#include <math.h>
#include <netlink/netlink.h>
#include <netlink/route/class.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/htb.h>
#include <netlink/route/qdisc/netem.h>
#include <netlink/route/tc.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/pkt_sched.h>

uint32_t emu_netem_prob(double p)
{
	if (!(p > 0.0))
		return 0;
	if (p >= 1.0)
		return UINT32_MAX;
	return (uint32_t)llround(p * (double)UINT32_MAX);
}

void emu_netem_dist_table(enum topo_jitter_dist dist, int16_t table[EMU_NETEM_TABLE])
{
	for (int i = 0; i < EMU_NETEM_TABLE; i++) {
		double u = ((double)i + 0.5) / EMU_NETEM_TABLE;
		double v = rint(emu_dist_quantile(dist, u) * 8192.0);

		table[i] = (int16_t)(v > 32767 ? 32767 : (v < -32768 ? -32768 : v));
	}
}

bool emu_netem_can_express(const struct topo_dir *d, char *why, size_t len)
{
	const char *r = NULL;

	if (d->trace[0])
		r = "a trace (mahimahi delivery opportunities need the userspace emulator)";
	else if (d->loss_model == TOPO_LOSS_GEMODEL)
		r = "the gemodel loss model (libnl cannot send TCA_NETEM_LOSS)";
	else if (d->loss_model == TOPO_LOSS_STATE4)
		r = "the state4 loss model (libnl cannot send TCA_NETEM_LOSS)";
	else if (d->queue && d->queue_unit == TOPO_QUEUE_BYTES)
		r = "a queue limit in bytes (netem's limit counts packets)";
	else if (d->queue && d->queue_unit == TOPO_QUEUE_TIME)
		r = "a queue limit given as a time (netem's limit counts packets)";
	else if (d->codel)
		r = "a CoDel queue (the netem tree has no AQM)";
	else if (d->reorder > 0.0 && !d->delay_ns)
		r = "reordering without a delay";
	else if (d->rewrite)
		r = "netem cannot rewrite payload and fix the TCP checksum";
	if (r && why && len)
		snprintf(why, len, "%s", r);
	return r == NULL;
}

static int to_int(uint32_t v)
{
	return (int)v; /* libnl stores the u32 it is given in an int */
}

int emu_netem_build(struct rtnl_qdisc *q, const struct topo_dir *d, char *why, size_t len)
{
	uint64_t limit = EMU_DEFAULT_LIMIT;

	if (!emu_netem_can_express(d, why, len))
		return -EINVAL;
	if (rtnl_tc_set_kind(TC_CAST(q), "netem") < 0)
		return -EINVAL;
	if (d->queue && d->queue_unit == TOPO_QUEUE_PACKETS)
		limit = d->queue;
	rtnl_netem_set_limit(q, (int)(limit > INT32_MAX ? INT32_MAX : limit));
	rtnl_netem_set_delay(q, (int)(d->delay_ns / 1000));
	if (d->jitter_ns) {
		rtnl_netem_set_jitter(q, (int)(d->jitter_ns / 1000));
		rtnl_netem_set_delay_correlation(q, to_int(emu_netem_prob(d->delay_corr)));
		if (d->dist != TOPO_DIST_UNIFORM) {
			int16_t table[EMU_NETEM_TABLE];

			emu_netem_dist_table(d->dist, table);
			if (rtnl_netem_set_delay_distribution_data(q, table, EMU_NETEM_TABLE) < 0)
				return -ENOMEM;
		}
	}
	if (d->loss_model == TOPO_LOSS_RANDOM) {
		rtnl_netem_set_loss(q, to_int(emu_netem_prob(d->loss[0])));
		rtnl_netem_set_loss_correlation(q, to_int(emu_netem_prob(d->loss[1])));
	}
	if (d->duplicate > 0.0) {
		rtnl_netem_set_duplicate(q, to_int(emu_netem_prob(d->duplicate)));
		rtnl_netem_set_duplicate_correlation(q, to_int(emu_netem_prob(d->duplicate_corr)));
	}
	if (d->corrupt > 0.0) {
		rtnl_netem_set_corruption_probability(q, to_int(emu_netem_prob(d->corrupt)));
		rtnl_netem_set_corruption_correlation(q, to_int(emu_netem_prob(d->corrupt_corr)));
	}
	if (d->reorder > 0.0) {
		rtnl_netem_set_reorder_probability(q, to_int(emu_netem_prob(d->reorder)));
		rtnl_netem_set_reorder_correlation(q, to_int(emu_netem_prob(d->reorder_corr)));
		rtnl_netem_set_gap(q, d->reorder_gap ? (int)d->reorder_gap : 1);
	}
	return 0;
}

void emu_netem_tree_free(struct emu_netem_tree *t)
{
	if (t->htb)
		rtnl_qdisc_put(t->htb);
	if (t->cls)
		rtnl_class_put(t->cls);
	if (t->netem)
		rtnl_qdisc_put(t->netem);
	t->htb = t->netem = NULL;
	t->cls = NULL;
}

static void set_tc(struct rtnl_tc *tc, int ifindex, uint32_t parent, uint32_t handle)
{
	rtnl_tc_set_ifindex(tc, ifindex);
	rtnl_tc_set_parent(tc, parent);
	rtnl_tc_set_handle(tc, handle);
}

/* HTB root 1: (default class 1:1) and class 1:1 at the rate, as nlr_shape does:
 * burst = cburst = 1 ms at the rate + one MTU frame, quantum = one MTU frame. */
static int build_htb(struct emu_netem_tree *t, int ifindex, unsigned mtu, uint64_t rate_bps)
{
	uint64_t bytes_per_s = rate_bps / 8 ? rate_bps / 8 : 1;
	uint64_t burst = bytes_per_s / 1000 + mtu + 14;

	if (burst > UINT32_MAX / 2)
		burst = UINT32_MAX / 2;
	t->htb = rtnl_qdisc_alloc();
	t->cls = rtnl_class_alloc();
	if (!t->htb || !t->cls)
		return -ENOMEM;
	set_tc(TC_CAST(t->htb), ifindex, TC_H_ROOT, EMU_NETEM_HTB);
	if (rtnl_tc_set_kind(TC_CAST(t->htb), "htb") < 0 ||
	    rtnl_htb_set_defcls(t->htb, TC_H_MIN(EMU_NETEM_CLASS)) < 0)
		return -ENOMEM;
	set_tc(TC_CAST(t->cls), ifindex, EMU_NETEM_HTB, EMU_NETEM_CLASS);
	rtnl_tc_set_mtu(TC_CAST(t->cls), mtu + 14);
	if (rtnl_tc_set_kind(TC_CAST(t->cls), "htb") < 0 ||
	    rtnl_htb_set_rate64(t->cls, bytes_per_s) < 0 ||
	    rtnl_htb_set_ceil64(t->cls, bytes_per_s) < 0 ||
	    rtnl_htb_set_rbuffer(t->cls, (uint32_t)burst) < 0 ||
	    rtnl_htb_set_cbuffer(t->cls, (uint32_t)burst) < 0 ||
	    rtnl_htb_set_quantum(t->cls, mtu + 14) < 0)
		return -ENOMEM;
	return 0;
}

int emu_netem_tree_build(struct emu_netem_tree *t, int ifindex, unsigned mtu,
			 const struct topo_dir *d, char *why, size_t len)
{
	int err;

	*t = (struct emu_netem_tree){0};
	if (!emu_netem_can_express(d, why, len))
		return -EINVAL;
	if (!mtu)
		mtu = 1500;
	if (d->rate_bps && (err = build_htb(t, ifindex, mtu, d->rate_bps)))
		goto fail;
	t->netem = rtnl_qdisc_alloc();
	if (!t->netem) {
		err = -ENOMEM;
		goto fail;
	}
	set_tc(TC_CAST(t->netem), ifindex, d->rate_bps ? EMU_NETEM_CLASS : TC_H_ROOT,
	       EMU_NETEM_LEAF);
	err = emu_netem_build(t->netem, d, why, len);
	if (err)
		goto fail;
	return 0;
fail:
	emu_netem_tree_free(t);
	return err;
}

static bool has_table(const struct topo_dir *d)
{
	return d->jitter_ns && d->dist != TOPO_DIST_UNIFORM;
}

unsigned emu_netem_changes(const struct topo_dir *a, const struct topo_dir *b)
{
	unsigned ch = 0;

	if (!a->rate_bps && b->rate_bps)
		return EMU_NETEM_CH_REBUILD; /* the HTB root must go under everything */
	if (a->rate_bps && !b->rate_bps)
		return EMU_NETEM_CH_REBUILD; /* netem becomes the root */
	if (has_table(a) && b->jitter_ns && !has_table(b))
		return EMU_NETEM_CH_REBUILD; /* a change cannot remove netem's table */
	if (a->rate_bps != b->rate_bps)
		ch |= EMU_NETEM_CH_CLASS;
	if (a->delay_ns != b->delay_ns || a->jitter_ns != b->jitter_ns ||
	    a->delay_corr != b->delay_corr || (has_table(b) && a->dist != b->dist) ||
	    a->loss_model != b->loss_model || memcmp(a->loss, b->loss, sizeof(a->loss)) ||
	    a->duplicate != b->duplicate || a->duplicate_corr != b->duplicate_corr ||
	    a->corrupt != b->corrupt || a->corrupt_corr != b->corrupt_corr ||
	    a->reorder != b->reorder || a->reorder_corr != b->reorder_corr ||
	    a->reorder_gap != b->reorder_gap || a->queue != b->queue ||
	    a->queue_unit != b->queue_unit)
		ch |= EMU_NETEM_CH_LEAF;
	return ch;
}

/* In a child that owns a fresh network namespace: add a netem qdisc on lo. */
static int probe_child(void)
{
	struct nl_sock *sk;
	struct rtnl_qdisc *q;
	int err = 1;

	if (unshare(CLONE_NEWNET))
		return 2;
	sk = nl_socket_alloc();
	if (!sk || nl_connect(sk, NETLINK_ROUTE))
		return 3;
	q = rtnl_qdisc_alloc();
	if (q) {
		rtnl_tc_set_ifindex(TC_CAST(q), 1); /* lo */
		rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
		rtnl_tc_set_handle(TC_CAST(q), TC_HANDLE(1, 0));
		if (rtnl_tc_set_kind(TC_CAST(q), "netem") == 0) {
			rtnl_netem_set_delay(q, 1000);
			if (rtnl_qdisc_add(sk, q, NLM_F_CREATE) == 0) {
				rtnl_qdisc_delete(sk, q);
				err = 0;
			}
		}
		rtnl_qdisc_put(q);
	}
	nl_socket_free(sk);
	return err;
}

bool emu_netem_available(void)
{
	static int cached = -1;
	pid_t pid;
	int st;

	if (cached >= 0)
		return cached;
	pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0)
		_exit(probe_child());
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return false;
	cached = WIFEXITED(st) && WEXITSTATUS(st) == 0;
	return cached;
}
