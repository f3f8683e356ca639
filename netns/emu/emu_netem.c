/* netem backend: probe, expressibility and the libnl builder (emu_netem.h). */
#include "emu_netem.h"
#include "emu_dir.h"

#include <errno.h>
#include <math.h>
#include <netlink/netlink.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/netem.h>
#include <netlink/route/tc.h>
#include <sched.h>
#include <stdio.h>
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
		r = "a trace needs the userspace emulator";
	else if (d->loss_model == TOPO_LOSS_GEMODEL || d->loss_model == TOPO_LOSS_STATE4)
		r = "libnl cannot configure netem's gemodel/state4 loss models";
	else if (d->queue && d->queue_unit != TOPO_QUEUE_PACKETS)
		r = "netem's limit counts packets, not bytes or time";
	else if (d->reorder > 0.0 && !d->delay_ns)
		r = "reordering needs a delay";
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
