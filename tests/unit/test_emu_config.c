/* The link emulator's config JSON, trace files and netem builder. */
#include "emu_config.h"
#include "emu_netem.h"
#include "test.h"

#include <errno.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/netem.h>
#include <netlink/route/tc.h>
#include <stdlib.h>
#include <unistd.h>

static void full_dir(struct topo_dir *d, int variant)
{
	memset(d, 0, sizeof(*d));
	d->set = TOPO_F_RATE | TOPO_F_DELAY | TOPO_F_JITTER | TOPO_F_LOSS | TOPO_F_QUEUE |
		 TOPO_F_DUPLICATE | TOPO_F_CORRUPT | TOPO_F_REORDER | TOPO_F_DIST;
	d->rate_bps = 20000000 + (uint64_t)variant;
	d->delay_ns = 25000000;
	d->jitter_ns = 1234567;
	d->delay_corr = 0.25;
	d->dist = TOPO_DIST_PARETONORMAL;
	d->loss_model = variant ? TOPO_LOSS_STATE4 : TOPO_LOSS_GEMODEL;
	d->loss[0] = 0.01;
	d->loss[1] = 0.3;
	d->loss[2] = 1.0 / 3.0; /* not exact in decimal: needs 17 digits */
	d->loss[3] = 0.001;
	d->loss[4] = variant ? 0.07 : 0.0;
	d->duplicate = 0.02;
	d->duplicate_corr = 0.1;
	d->corrupt = 0.003;
	d->corrupt_corr = 0.5;
	d->reorder = 0.25;
	d->reorder_corr = 0.5;
	d->reorder_gap = 5;
	d->queue_unit = TOPO_QUEUE_TIME;
	d->queue = 50000000;
	d->set |= TOPO_F_DELAY_CORR | TOPO_F_AQM;
	d->codel = variant == 0;
	d->codel_target_ns = 5000000 + (uint64_t)variant;
	d->codel_interval_ns = 100000000;
	if (variant) {
		d->set |= TOPO_F_TRACE;
		snprintf(d->trace, sizeof(d->trace), "/tmp/some \"odd\" trace.txt");
	}
}

static bool dir_eq(const struct topo_dir *a, const struct topo_dir *b)
{
	return a->set == b->set && a->rate_bps == b->rate_bps && a->delay_ns == b->delay_ns &&
	       a->jitter_ns == b->jitter_ns && a->delay_corr == b->delay_corr &&
	       a->dist == b->dist && a->loss_model == b->loss_model &&
	       !memcmp(a->loss, b->loss, sizeof(a->loss)) && a->duplicate == b->duplicate &&
	       a->duplicate_corr == b->duplicate_corr && a->corrupt == b->corrupt &&
	       a->corrupt_corr == b->corrupt_corr && a->reorder == b->reorder &&
	       a->reorder_corr == b->reorder_corr && a->reorder_gap == b->reorder_gap &&
	       a->queue_unit == b->queue_unit && a->queue == b->queue && a->codel == b->codel &&
	       a->codel_target_ns == b->codel_target_ns &&
	       a->codel_interval_ns == b->codel_interval_ns && !strcmp(a->trace, b->trace);
}

TEST(emu_config_round_trip)
{
	struct topo_dir dir[2];
	struct emu_config c;
	char err[256], *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	full_dir(&dir[0], 0);
	full_dir(&dir[1], 1);
	CHECK(f != NULL);
	CHECK_EQ(emu_config_write(f, "wan-1", dir, 0xfeedbeefull, 7), 0);
	fclose(f);
	if (emu_config_parse(text, &c, err, sizeof(err)))
		test_fail(__FILE__, __LINE__, "%s", err);
	free(text);
	CHECK_STR_EQ(c.link, "wan-1");
	CHECK_U64_EQ(c.seed, 0xfeedbeefull);
	CHECK_EQ(c.link_index, 7);
	CHECK_STR_EQ(c.ifname[0], "e0");
	CHECK_STR_EQ(c.ifname[1], "e1");
	CHECK(dir_eq(&c.dir[0], &dir[0]));
	CHECK(dir_eq(&c.dir[1], &dir[1]));
}

TEST(emu_config_errors)
{
	struct emu_config c;
	char err[256];

	CHECK_EQ(emu_config_parse("{", &c, err, sizeof(err)), -1);
	CHECK_EQ(emu_config_parse("{\"seed\": 1}", &c, err, sizeof(err)), -1);
	CHECK_CONTAINS(err, "link");
	CHECK_EQ(emu_config_parse("{\"link\":\"a\",\"up\":{\"duplicate\": 1.5}}", &c, err,
				  sizeof(err)),
		 -1);
	CHECK_CONTAINS(err, "up: duplicate");
	CHECK_EQ(emu_config_parse("{\"link\":\"a\",\"down\":{\"set\":[\"speed\"]}}", &c, err,
				  sizeof(err)),
		 -1);
	CHECK_CONTAINS(err, "down: set");
	CHECK_EQ(emu_config_parse("{\"link\":\"a\",\"up\":{\"dist\":\"cauchy\"}}", &c, err,
				  sizeof(err)),
		 -1);
	/* minimal: everything else zero */
	CHECK_EQ(emu_config_parse("{\"link\":\"a\",\"up\":{\"set\":[\"delay\"],\"delay_ns\":5}}",
				  &c, err, sizeof(err)),
		 0);
	CHECK_U64_EQ(c.dir[0].delay_ns, 5);
	CHECK_EQ(c.dir[0].set, TOPO_F_DELAY);
	CHECK_EQ(c.dir[1].set, 0);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CHECK(f != NULL);
	fputs(text, f);
	fclose(f);
}

TEST(emu_trace_file)
{
	char path[] = "/tmp/mpnet-emu-trace-XXXXXX", err[256];
	struct emu_trace t;
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	close(fd);
	write_file(path, "0\n0\n5\n12\n");
	CHECK_EQ(emu_trace_load(path, &t, err, sizeof(err)), 0);
	CHECK_EQ(t.n, 4);
	CHECK_EQ(t.ms[3], 12);
	emu_trace_free(&t);
	write_file(path, "5\n3\n");
	CHECK_EQ(emu_trace_load(path, &t, err, sizeof(err)), -1);
	CHECK_CONTAINS(err, ":2:");
	write_file(path, "0\n0\n");
	CHECK_EQ(emu_trace_load(path, &t, err, sizeof(err)), -1);
	write_file(path, "12ms\n");
	CHECK_EQ(emu_trace_load(path, &t, err, sizeof(err)), -1);
	unlink(path);
	CHECK_EQ(emu_trace_load(path, &t, err, sizeof(err)), -1);
}

TEST(emu_netem_builder_values)
{
	struct topo_dir d = {0};
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();
	char why[128];
	int16_t *tab = NULL;

	CHECK(q != NULL);
	d.delay_ns = 25000000;
	d.jitter_ns = 2000000;
	d.delay_corr = 0.25;
	d.dist = TOPO_DIST_NORMAL;
	d.loss_model = TOPO_LOSS_RANDOM;
	d.loss[0] = 0.1;
	d.loss[1] = 0.5;
	d.duplicate = 0.01;
	d.corrupt = 1.0;
	d.reorder = 0.25;
	d.queue = 300;
	CHECK_EQ(emu_netem_build(q, &d, why, sizeof(why)), 0);
	CHECK_STR_EQ(rtnl_tc_get_kind(TC_CAST(q)), "netem");
	CHECK_EQ(rtnl_netem_get_delay(q), 25000);
	CHECK_EQ(rtnl_netem_get_jitter(q), 2000);
	CHECK_U64_EQ((uint32_t)rtnl_netem_get_delay_correlation(q), 1073741824u);
	CHECK_U64_EQ((uint32_t)rtnl_netem_get_loss(q), 429496730u);
	CHECK_U64_EQ((uint32_t)rtnl_netem_get_loss_correlation(q), 2147483648u);
	CHECK_U64_EQ((uint32_t)rtnl_netem_get_duplicate(q), 42949673u);
	CHECK_U64_EQ((uint32_t)rtnl_netem_get_corruption_probability(q), UINT32_MAX);
	CHECK_U64_EQ((uint32_t)rtnl_netem_get_reorder_probability(q), 1073741824u);
	CHECK_EQ(rtnl_netem_get_gap(q), 1); /* tc's rule */
	CHECK_EQ(rtnl_netem_get_limit(q), 300);
	CHECK_EQ(rtnl_netem_get_delay_distribution_size(q), EMU_NETEM_TABLE);
	CHECK(rtnl_netem_get_delay_distribution(q, &tab) >= 0 && tab != NULL);
	/* the normal table: symmetric, 0 in the middle, about +-1 sigma at the quartiles */
	CHECK(tab[0] < -20000 && tab[EMU_NETEM_TABLE - 1] > 20000);
	CHECK(abs(tab[EMU_NETEM_TABLE / 2]) <= 3);
	CHECK(abs(tab[EMU_NETEM_TABLE / 4] + 5525) < 20); /* -0.6745 * 8192 */
	rtnl_qdisc_put(q);

	/* not expressible */
	d.loss_model = TOPO_LOSS_GEMODEL;
	CHECK(!emu_netem_can_express(&d, why, sizeof(why)));
	CHECK_CONTAINS(why, "gemodel");
	q = rtnl_qdisc_alloc();
	CHECK_EQ(emu_netem_build(q, &d, why, sizeof(why)), -EINVAL);
	rtnl_qdisc_put(q);
	d.loss_model = TOPO_LOSS_NONE;
	snprintf(d.trace, sizeof(d.trace), "x.trace");
	CHECK(!emu_netem_can_express(&d, why, sizeof(why)));
	d.trace[0] = '\0';
	d.queue_unit = TOPO_QUEUE_BYTES;
	CHECK(!emu_netem_can_express(&d, why, sizeof(why)));
	d.queue_unit = TOPO_QUEUE_PACKETS;
	CHECK(emu_netem_can_express(&d, why, sizeof(why)));
	CHECK_U64_EQ(emu_netem_prob(0.0), 0);
	CHECK_U64_EQ(emu_netem_prob(-1.0), 0);
	CHECK_U64_EQ(emu_netem_prob(2.0), UINT32_MAX);
}

TEST(emu_netem_probe_on_this_kernel)
{
	/* Needs root to make a scratch namespace; this kernel has no sch_netem, so
	 * the probe says false either way.  It must also not hang and be cached. */
	bool a = emu_netem_available(), b = emu_netem_available();

	CHECK_EQ(a, b);
	if (access("/proc/sys/net/core", F_OK) == 0 && geteuid() == 0 && a) {
		/* a kernel with netem: fine too, nothing more to check here */
	}
}
