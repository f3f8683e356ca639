/* The netem backend's requests, as the kernel would receive them: the HTB root,
 * its class and the netem leaf for a link direction (handles, parents, kinds,
 * options), and what each kind of run-time change sends. */
#include "emu_netem.h"
#include "test.h"

#include <errno.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/route/class.h>
#include <netlink/route/qdisc.h>
#include <netlink/utils.h>

#define MS 1000000ull

/* One parsed RTM_NEWQDISC / RTM_NEWTCLASS request. */
struct req {
	int type, flags;
	struct tcmsg tcm;
	char kind[16];
	struct nlattr *tb[TCA_MAX + 1];
	struct nl_msg *msg;
};

static void parse(struct nl_msg *msg, struct req *r)
{
	struct nlmsghdr *h = nlmsg_hdr(msg);

	memset(r, 0, sizeof(*r));
	r->msg = msg;
	r->type = h->nlmsg_type;
	r->flags = h->nlmsg_flags;
	memcpy(&r->tcm, nlmsg_data(h), sizeof(r->tcm));
	CHECK_EQ(nlmsg_parse(h, sizeof(struct tcmsg), r->tb, TCA_MAX, NULL), 0);
	CHECK(r->tb[TCA_KIND] != NULL);
	snprintf(r->kind, sizeof(r->kind), "%s", (const char *)nla_data(r->tb[TCA_KIND]));
}

static void qdisc_req(struct rtnl_qdisc *q, struct req *r)
{
	struct nl_msg *msg = NULL;

	CHECK_EQ(rtnl_qdisc_build_add_request(q, NLM_F_CREATE | NLM_F_REPLACE, &msg), 0);
	parse(msg, r);
	CHECK_EQ(r->type, RTM_NEWQDISC);
}

static void class_req(struct rtnl_class *c, struct req *r)
{
	struct nl_msg *msg = NULL;

	CHECK_EQ(rtnl_class_build_add_request(c, NLM_F_CREATE | NLM_F_REPLACE, &msg), 0);
	parse(msg, r);
	CHECK_EQ(r->type, RTM_NEWTCLASS);
}

/* netem's TCA_OPTIONS: a struct tc_netem_qopt, then nested attributes. */
struct netem_opts {
	struct tc_netem_qopt q;
	struct nlattr *tb[TCA_NETEM_MAX + 1];
};

static void netem_opts(const struct req *r, struct netem_opts *o)
{
	struct nlattr *a = r->tb[TCA_OPTIONS];
	int skip = NLA_ALIGN(sizeof(struct tc_netem_qopt));

	CHECK(a != NULL);
	CHECK(nla_len(a) >= (int)sizeof(o->q));
	memcpy(&o->q, nla_data(a), sizeof(o->q));
	memset(o->tb, 0, sizeof(o->tb));
	if (nla_len(a) > skip)
		CHECK_EQ(nla_parse(o->tb, TCA_NETEM_MAX,
				   (struct nlattr *)((char *)nla_data(a) + skip), nla_len(a) - skip,
				   NULL),
			 0);
}

static void base_dir(struct topo_dir *d)
{
	memset(d, 0, sizeof(*d));
	d->rate_bps = 20000000;
	d->delay_ns = 25 * MS;
	d->jitter_ns = 2 * MS;
	d->delay_corr = 0.25;
	d->dist = TOPO_DIST_NORMAL;
	d->loss_model = TOPO_LOSS_RANDOM;
	d->loss[0] = 0.1;
	d->loss[1] = 0.5;
	d->duplicate = 0.01;
	d->duplicate_corr = 0.2;
	d->corrupt = 0.001;
	d->reorder = 0.25;
	d->reorder_gap = 5;
	d->queue = 300;
	d->queue_unit = TOPO_QUEUE_PACKETS;
}

TEST(emu_netem_tree_with_rate_htb_root_class_and_netem_leaf)
{
	struct emu_netem_tree t;
	struct topo_dir d;
	struct req r;
	struct netem_opts o;
	char why[160] = "";

	base_dir(&d);
	CHECK_EQ(emu_netem_tree_build(&t, 7, 1500, &d, why, sizeof(why)), 0);
	CHECK(t.htb && t.cls && t.netem);

	/* HTB root 1: on ifindex 7, unclassified traffic to 1:1 */
	qdisc_req(t.htb, &r);
	CHECK_EQ(r.flags & (NLM_F_CREATE | NLM_F_REPLACE | NLM_F_EXCL),
		 NLM_F_CREATE | NLM_F_REPLACE);
	CHECK_EQ(r.tcm.tcm_ifindex, 7);
	CHECK_U64_EQ(r.tcm.tcm_parent, TC_H_ROOT);
	CHECK_U64_EQ(r.tcm.tcm_handle, 0x10000u);
	CHECK_STR_EQ(r.kind, "htb");
	{
		struct nlattr *h[TCA_HTB_MAX + 1];
		struct tc_htb_glob g;

		CHECK(r.tb[TCA_OPTIONS] != NULL);
		CHECK_EQ(nla_parse_nested(h, TCA_HTB_MAX, r.tb[TCA_OPTIONS], NULL), 0);
		CHECK(h[TCA_HTB_INIT] != NULL);
		memcpy(&g, nla_data(h[TCA_HTB_INIT]), sizeof(g));
		CHECK_EQ(g.defcls, 1);
	}
	nlmsg_free(r.msg);

	/* class 1:1 under 1:, rate = ceil = 20 Mbit/s = 2.5 MB/s */
	class_req(t.cls, &r);
	CHECK_EQ(r.tcm.tcm_ifindex, 7);
	CHECK_U64_EQ(r.tcm.tcm_parent, 0x10000u);
	CHECK_U64_EQ(r.tcm.tcm_handle, 0x10001u);
	CHECK_STR_EQ(r.kind, "htb");
	{
		struct nlattr *h[TCA_HTB_MAX + 1];
		struct tc_htb_opt p;

		CHECK_EQ(nla_parse_nested(h, TCA_HTB_MAX, r.tb[TCA_OPTIONS], NULL), 0);
		CHECK(h[TCA_HTB_PARMS] != NULL);
		memcpy(&p, nla_data(h[TCA_HTB_PARMS]), sizeof(p));
		CHECK_EQ(p.rate.rate, 2500000);
		CHECK_EQ(p.ceil.rate, 2500000);
		CHECK_EQ(p.quantum, 1514);
	}
	nlmsg_free(r.msg);

	/* netem 10: under class 1:1 */
	qdisc_req(t.netem, &r);
	CHECK_EQ(r.tcm.tcm_ifindex, 7);
	CHECK_U64_EQ(r.tcm.tcm_parent, 0x10001u);
	CHECK_U64_EQ(r.tcm.tcm_handle, 0x100000u);
	CHECK_STR_EQ(r.kind, "netem");
	netem_opts(&r, &o);
	CHECK_EQ(o.q.latency, nl_us2ticks(25000));
	CHECK_EQ(o.q.jitter, nl_us2ticks(2000));
	CHECK_EQ(o.q.limit, 300);
	CHECK_EQ(o.q.loss, emu_netem_prob(0.1));
	CHECK_EQ(o.q.duplicate, emu_netem_prob(0.01));
	CHECK_EQ(o.q.gap, 5);
	CHECK(o.tb[TCA_NETEM_CORR] != NULL);
	{
		struct tc_netem_corr c;

		memcpy(&c, nla_data(o.tb[TCA_NETEM_CORR]), sizeof(c));
		CHECK_EQ(c.delay_corr, emu_netem_prob(0.25));
		CHECK_EQ(c.loss_corr, emu_netem_prob(0.5));
		CHECK_EQ(c.dup_corr, emu_netem_prob(0.2));
	}
	CHECK(o.tb[TCA_NETEM_REORDER] != NULL);
	{
		struct tc_netem_reorder ro;

		memcpy(&ro, nla_data(o.tb[TCA_NETEM_REORDER]), sizeof(ro));
		CHECK_EQ(ro.probability, emu_netem_prob(0.25));
	}
	CHECK(o.tb[TCA_NETEM_CORRUPT] != NULL);
	{
		struct tc_netem_corrupt co;

		memcpy(&co, nla_data(o.tb[TCA_NETEM_CORRUPT]), sizeof(co));
		CHECK_EQ(co.probability, emu_netem_prob(0.001));
	}
	/* the normal table: 4096 int16 */
	CHECK(o.tb[TCA_NETEM_DELAY_DIST] != NULL);
	CHECK_EQ(nla_len(o.tb[TCA_NETEM_DELAY_DIST]), EMU_NETEM_TABLE * 2);
	/* libnl has no TCA_NETEM_RATE / LOSS: the rate is HTB's, the loss model random */
	CHECK(o.tb[TCA_NETEM_RATE] == NULL && o.tb[TCA_NETEM_LOSS] == NULL);
	nlmsg_free(r.msg);
	emu_netem_tree_free(&t);
	CHECK(t.htb == NULL && t.cls == NULL && t.netem == NULL);
}

TEST(emu_netem_tree_without_rate_is_netem_at_the_root)
{
	struct emu_netem_tree t;
	struct topo_dir d;
	struct req r;
	struct netem_opts o;

	memset(&d, 0, sizeof(d));
	d.delay_ns = 10 * MS;
	CHECK_EQ(emu_netem_tree_build(&t, 3, 1500, &d, NULL, 0), 0);
	CHECK(t.htb == NULL && t.cls == NULL && t.netem != NULL);
	qdisc_req(t.netem, &r);
	CHECK_U64_EQ(r.tcm.tcm_parent, TC_H_ROOT);
	CHECK_U64_EQ(r.tcm.tcm_handle, 0x100000u);
	netem_opts(&r, &o);
	CHECK_EQ(o.q.latency, nl_us2ticks(10000));
	CHECK_EQ(o.q.jitter, 0);
	CHECK_EQ(o.q.loss, 0);
	CHECK_EQ(o.q.limit, 1000); /* no queue given: netem's own default */
	CHECK(o.tb[TCA_NETEM_DELAY_DIST] == NULL);
	nlmsg_free(r.msg);
	emu_netem_tree_free(&t);
}

TEST(emu_netem_what_netem_cannot_express)
{
	struct emu_netem_tree t;
	struct topo_dir d;
	char why[160];

	base_dir(&d);
	d.loss_model = TOPO_LOSS_STATE4;
	CHECK_EQ(emu_netem_tree_build(&t, 3, 1500, &d, why, sizeof(why)), -EINVAL);
	CHECK(t.htb == NULL && t.cls == NULL && t.netem == NULL);
	CHECK_STR_EQ(why, "the state4 loss model (libnl cannot send TCA_NETEM_LOSS)");
	base_dir(&d);
	d.codel = true;
	CHECK(!emu_netem_can_express(&d, why, sizeof(why)));
	CHECK_STR_EQ(why, "a CoDel queue (the netem tree has no AQM)");
	base_dir(&d);
	d.queue_unit = TOPO_QUEUE_TIME;
	CHECK(!emu_netem_can_express(&d, why, sizeof(why)));
	CHECK_CONTAINS(why, "a queue limit given as a time");
	base_dir(&d);
	snprintf(d.trace, sizeof(d.trace), "/x.trace");
	CHECK(!emu_netem_can_express(&d, why, sizeof(why)));
	CHECK_CONTAINS(why, "a trace");
}

/* A change request for the leaf: the full netem options with the new values. */
static void leaf_after(const struct topo_dir *d, struct netem_opts *o)
{
	struct emu_netem_tree t;
	struct req r;

	CHECK_EQ(emu_netem_tree_build(&t, 7, 1500, d, NULL, 0), 0);
	qdisc_req(t.netem, &r);
	CHECK_U64_EQ(r.tcm.tcm_handle, 0x100000u); /* same handle and kind: changed in place */
	CHECK_STR_EQ(r.kind, "netem");
	netem_opts(&r, o);
	nlmsg_free(r.msg);
	emu_netem_tree_free(&t);
}

TEST(emu_netem_changes_per_kind_of_event)
{
	struct topo_dir a, b;
	struct netem_opts o;

	base_dir(&a);
	b = a;
	CHECK_EQ(emu_netem_changes(&a, &b), 0);
	/* delay: the leaf only, the new latency in its request */
	b.delay_ns = 40 * MS;
	CHECK_EQ(emu_netem_changes(&a, &b), EMU_NETEM_CH_LEAF);
	leaf_after(&b, &o);
	CHECK_EQ(o.q.latency, nl_us2ticks(40000));
	/* loss, duplicate, corrupt, reorder, the queue: the leaf */
	b = a;
	b.loss[0] = 0.02;
	CHECK_EQ(emu_netem_changes(&a, &b), EMU_NETEM_CH_LEAF);
	leaf_after(&b, &o);
	CHECK_EQ(o.q.loss, emu_netem_prob(0.02));
	b = a;
	b.loss_model = TOPO_LOSS_NONE;
	memset(b.loss, 0, sizeof(b.loss));
	CHECK_EQ(emu_netem_changes(&a, &b), EMU_NETEM_CH_LEAF);
	leaf_after(&b, &o);
	CHECK_EQ(o.q.loss, 0);
	b = a;
	b.queue = 50;
	CHECK_EQ(emu_netem_changes(&a, &b), EMU_NETEM_CH_LEAF);
	leaf_after(&b, &o);
	CHECK_EQ(o.q.limit, 50);
	b = a;
	b.duplicate = 0.3;
	CHECK_EQ(emu_netem_changes(&a, &b), EMU_NETEM_CH_LEAF);
	b = a;
	b.reorder_gap = 2;
	CHECK_EQ(emu_netem_changes(&a, &b), EMU_NETEM_CH_LEAF);
	/* the rate: the class only (netem keeps its queue) */
	b = a;
	b.rate_bps = 5000000;
	CHECK_EQ(emu_netem_changes(&a, &b), EMU_NETEM_CH_CLASS);
	/* rate and delay in one event: both */
	b.delay_ns = 1 * MS;
	CHECK_EQ(emu_netem_changes(&a, &b), EMU_NETEM_CH_CLASS | EMU_NETEM_CH_LEAF);
	/* a rate where there was none: HTB must go under netem, the tree is rebuilt */
	a.rate_bps = 0;
	b = a;
	b.rate_bps = 1000000;
	CHECK_EQ(emu_netem_changes(&a, &b), EMU_NETEM_CH_REBUILD);
	/* normal -> uniform jitter: a change cannot take netem's table away */
	base_dir(&a);
	b = a;
	b.dist = TOPO_DIST_UNIFORM;
	CHECK_EQ(emu_netem_changes(&a, &b), EMU_NETEM_CH_REBUILD);
	/* uniform -> pareto: the new table goes with the change */
	a.dist = TOPO_DIST_UNIFORM;
	b.dist = TOPO_DIST_PARETO;
	CHECK_EQ(emu_netem_changes(&a, &b), EMU_NETEM_CH_LEAF);
	leaf_after(&b, &o);
	CHECK(o.tb[TCA_NETEM_DELAY_DIST] != NULL);
	/* the distribution without jitter means nothing: no change */
	a.jitter_ns = b.jitter_ns = 0;
	CHECK_EQ(emu_netem_changes(&a, &b), 0);
}
