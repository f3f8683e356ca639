/* The topology parser: a full file resolves as documented; every error points at
 * its node (exact FILE:LINE:COL) with a message a user can act on. */
#include "test.h"
#include "topology.h"

#include <dirent.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static char err[TOPO_ERR_MAX];

static struct topology *load(const char *yaml)
{
	struct topology *t = NULL;

	err[0] = '\0';
	if (topo_load_string("t.yaml", yaml, strlen(yaml), &t, err))
		CHECK(t == NULL);
	return t;
}

/* The load must fail with "t.yaml:POS: ..." containing frag. */
#define ERR(yaml, pos, frag)                                                                 \
	do {                                                                                 \
		struct topology *t_ = load(yaml);                                            \
		if (t_) {                                                                    \
			topo_free(t_);                                                       \
			test_fail(__FILE__, __LINE__, "loaded, expected %s: %s", pos, frag); \
		}                                                                            \
		CHECK_CONTAINS(err, "t.yaml:" pos ": ");                                     \
		CHECK_CONTAINS(err, frag);                                                   \
		CHECK(strchr(err, '\n') == NULL);                                            \
	} while (0)

static const char *fmt(const struct netaddr *a)
{
	static char buf[4][NETADDR_STRLEN];
	static int i;

	i = (i + 1) % 4;
	return netaddr_fmt(a, true, buf[i], sizeof(buf[i]));
}

/* Lines 1-3 of most error cases; links start on line 4. */
#define HEAD                                                                                      \
	"name: t\n"                                                                               \
	"hosts: { a: { stack: tcp }, b: { stack: tcp }, c: { stack: tcp }, r: { forward: true } " \
	"}\n"                                                                                     \
	"links:\n"

static const char full[] =
	"name: two-path\n"							      /* 1 */
	"seed: 7\n"								      /* 2 */
	"hosts:\n"								      /* 3 */
	"  client: { stack: mpt }\n"						      /* 4 */
	"  r1: { forward: true }\n"						      /* 5 */
	"  server: { stack: kernel, mptcp: { subflows: 4, add_addr_accepted: 2 } }\n" /* 6 */
	"links:\n"								      /* 7 */
	"  - name: wifi\n"							      /* 8 */
	"    between: [client, r1]\n"						      /* 9 */
	"    rate: 50mbit\n"							      /* 10 */
	"    delay: 10ms\n"							      /* 11 */
	"    jitter: 1ms\n"							      /* 12 */
	"    loss: 0.5%\n"							      /* 13 */
	"    queue: 100\n"							      /* 14 */
	"    endpoint: [subflow]\n"						      /* 15 */
	"  - name: lte\n"							      /* 16 */
	"    between: [client, r1]\n"						      /* 17 */
	"    up: { rate: 5mbit, delay: 30ms }\n"				      /* 18 */
	"    down: { rate: 20mbit, delay: 30ms, loss: { model: gemodel, p: 1% } }\n"  /* 19 */
	"    endpoint: { client: [subflow, backup], r1: [signal] }\n"		      /* 20 */
	"    addresses: [198.18.9.1/24, 198.18.9.2/24]\n"			      /* 21 */
	"  - name: core\n"							      /* 22 */
	"    between: [r1, server]\n"						      /* 23 */
	"    queue: 150kB\n"							      /* 24 */
	"    endpoint: []\n"							      /* 25 */
	"    emulator: user\n"							      /* 26 */
	"apps:\n"								      /* 27 */
	"  - name: bulk\n"							      /* 28 */
	"    client: client\n"							      /* 29 */
	"    server: server\n"							      /* 30 */
	"    bytes: 64MiB\n"							      /* 31 */
	"  - name: timed\n"							      /* 32 */
	"    client: server\n"							      /* 33 */
	"    server: client\n"							      /* 34 */
	"    time: 10s\n"							      /* 35 */
	"    direction: download\n"						      /* 36 */
	"    to_link: lte\n"							      /* 37 */
	"    ipv6: true\n"							      /* 38 */
	"    start: 1s\n"							      /* 39 */
	"events:\n"								      /* 40 */
	"  - { at: 9s, link: wifi, action: blackhole }\n"			      /* 41 */
	"  - { at: 5s, link: wifi, action: down }\n"				      /* 42 */
	"  - { at: 7s, link: wifi, action: up }\n"				      /* 43 */
	"  - { at: 8s, link: lte, action: set, dir: up, loss: 2%, delay: 50ms }\n"    /* 44 */
	"  - { at: 9s, host: client, link: wifi, action: addr-del }\n";		      /* 45 */

TEST(topology_full_example)
{
	struct topology *t = load(full);
	const struct topo_link *wifi, *lte, *core;
	const struct topo_app *bulk, *timed;

	CHECK_STR_EQ(err, "");
	CHECK(t != NULL);
	CHECK_STR_EQ(t->name, "two-path");
	CHECK_U64_EQ(t->seed, 7);
	CHECK(t->seed_set);
	CHECK(t->ipv6);
	CHECK_EQ(t->emulator, TOPO_EMU_AUTO);

	CHECK_EQ(t->nhosts, 3);
	CHECK_EQ(topo_host_find(t, "client"), 0);
	CHECK_EQ(topo_host_find(t, "server"), 2);
	CHECK_EQ(topo_host_find(t, "nobody"), -1);
	CHECK_EQ(t->hosts[0].stack, TOPO_STACK_MPT);
	CHECK_EQ(t->hosts[1].stack, TOPO_STACK_NONE);
	CHECK(t->hosts[1].forward);
	CHECK_EQ(t->hosts[2].stack, TOPO_STACK_KERNEL);
	CHECK_EQ(t->hosts[2].mptcp.subflows, 4);
	CHECK_EQ(t->hosts[2].mptcp.add_addr_accepted, 2);
	CHECK_EQ(t->hosts[0].mptcp.subflows, 8);
	CHECK_EQ(t->hosts[0].mptcp.add_addr_accepted, 8);
	CHECK_EQ(t->hosts[0].nifaces, 2);
	CHECK_EQ(t->hosts[1].nifaces, 3);
	CHECK_EQ(t->hosts[2].pos.line, 6);
	CHECK_EQ(t->hosts[2].pos.col, 3);

	CHECK_EQ(t->nlinks, 3);
	wifi = &t->links[0];
	lte = &t->links[1];
	core = &t->links[2];
	CHECK_EQ(topo_link_find(t, "core"), 2);
	CHECK_STR_EQ(wifi->name, "wifi");
	CHECK_STR_EQ(wifi->end[0].ifname, "wifi");
	CHECK_STR_EQ(wifi->end[1].ifname, "wifi");
	CHECK_EQ(wifi->end[0].host, 0);
	CHECK_EQ(wifi->end[1].host, 1);
	CHECK_EQ(wifi->pos.line, 8);
	CHECK_EQ(wifi->pos.col, 5);
	CHECK_EQ(wifi->index, 0);
	CHECK_STR_EQ(fmt(&wifi->end[0].addr4), "198.18.0.1/24");
	CHECK_STR_EQ(fmt(&wifi->end[1].addr4), "198.18.0.2/24");
	CHECK_STR_EQ(fmt(&wifi->end[0].addr6), "2001:db8::1/64");
	CHECK_STR_EQ(fmt(&lte->end[0].addr4), "198.18.9.1/24");
	CHECK_STR_EQ(fmt(&lte->end[1].addr4), "198.18.9.2/24");
	CHECK_STR_EQ(fmt(&lte->end[1].addr6), "2001:db8:0:1::2/64");
	CHECK_STR_EQ(fmt(&core->end[0].addr4), "198.18.2.1/24");
	CHECK_STR_EQ(fmt(&core->end[1].addr6), "2001:db8:0:2::2/64");

	/* both directions from the link's keys */
	for (int d = 0; d < 2; d++) {
		CHECK_U64_EQ(wifi->dir[d].rate_bps, 50000000);
		CHECK_U64_EQ(wifi->dir[d].delay_ns, 10000000);
		CHECK_U64_EQ(wifi->dir[d].jitter_ns, 1000000);
		CHECK_EQ(wifi->dir[d].loss_model, TOPO_LOSS_RANDOM);
		CHECK(wifi->dir[d].loss[0] > 0.00499 && wifi->dir[d].loss[0] < 0.00501);
		CHECK_EQ(wifi->dir[d].queue_unit, TOPO_QUEUE_PACKETS);
		CHECK_U64_EQ(wifi->dir[d].queue, 100);
		CHECK_EQ(wifi->dir[d].set,
			 TOPO_F_RATE | TOPO_F_DELAY | TOPO_F_JITTER | TOPO_F_LOSS | TOPO_F_QUEUE);
		CHECK_EQ(wifi->dir[d].emu_pos.line, 11); /* delay: */
		CHECK_EQ(wifi->dir[d].emu_pos.col, 5);
	}
	/* up:/down: blocks */
	CHECK_U64_EQ(lte->dir[0].rate_bps, 5000000);
	CHECK_U64_EQ(lte->dir[1].rate_bps, 20000000);
	CHECK_U64_EQ(lte->dir[0].delay_ns, 30000000);
	CHECK_EQ(lte->dir[0].pos.line, 18);
	CHECK_EQ(lte->dir[0].pos.col, 9);
	CHECK_EQ(lte->dir[0].loss_model, TOPO_LOSS_NONE);
	CHECK_EQ(lte->dir[1].loss_model, TOPO_LOSS_GEMODEL);
	CHECK(lte->dir[1].loss[0] > 0.0099 && lte->dir[1].loss[0] < 0.0101);
	CHECK(lte->dir[1].loss[1] > 0.989 && lte->dir[1].loss[1] < 0.991); /* r = 1 - p */
	CHECK(lte->dir[1].loss[2] == 1.0);				   /* 1-h */
	CHECK(lte->dir[1].loss[3] == 0.0);				   /* 1-k */
	CHECK_EQ(core->dir[0].queue_unit, TOPO_QUEUE_BYTES);
	CHECK_U64_EQ(core->dir[1].queue, 150000);
	CHECK_EQ(core->dir[0].set, TOPO_F_QUEUE);
	CHECK_EQ(core->dir[0].emu_pos.line, 0);
	CHECK_EQ(core->emulator, TOPO_EMU_USER);
	CHECK(core->emulator_set);
	CHECK(!wifi->emulator_set);

	/* endpoints: flags and per-host ids in link order */
	CHECK(wifi->end[0].endpoint_set);
	CHECK_EQ(wifi->end[0].endpoint_flags, TOPO_EP_SUBFLOW);
	CHECK_EQ(wifi->end[0].endpoint_id, 1);
	CHECK_EQ(wifi->end[0].endpoint_pos.line, 15);
	CHECK_EQ(wifi->end[0].endpoint_pos.col, 15);
	CHECK(!wifi->end[1].endpoint_set);
	CHECK_EQ(lte->end[0].endpoint_flags, TOPO_EP_SUBFLOW | TOPO_EP_BACKUP);
	CHECK_EQ(lte->end[0].endpoint_id, 2);
	CHECK_EQ(lte->end[1].endpoint_flags, TOPO_EP_SIGNAL);
	CHECK_EQ(lte->end[1].endpoint_id, 1);
	CHECK(core->end[0].endpoint_set);
	CHECK_EQ(core->end[0].endpoint_flags, 0);
	CHECK_EQ(core->end[0].endpoint_id, 2);
	CHECK(!core->end[1].endpoint_set);

	/* apps */
	CHECK_EQ(t->napps, 2);
	bulk = &t->apps[0];
	timed = &t->apps[1];
	CHECK_EQ(bulk->client, 0);
	CHECK_EQ(bulk->server, 2);
	CHECK_EQ(bulk->server_link, 2);
	CHECK_STR_EQ(fmt(&bulk->server_addr), "198.18.2.2/24");
	CHECK_U64_EQ(bulk->bytes, 64ull << 20);
	CHECK_U64_EQ(bulk->time_ns, 0);
	CHECK_EQ(bulk->direction, TOPO_UPLOAD);
	CHECK_EQ(bulk->port, 5201);
	CHECK_U64_EQ(bulk->timeout_ns, 300000000000ull);
	CHECK_EQ(bulk->server_pos.line, 30);
	CHECK_EQ(bulk->server_pos.col, 13);
	CHECK_EQ(timed->port, 5202);
	CHECK_EQ(timed->direction, TOPO_DOWNLOAD);
	CHECK_EQ(timed->server_link, 1);
	CHECK(timed->ipv6);
	CHECK_STR_EQ(fmt(&timed->server_addr), "2001:db8:0:1::1/64");
	CHECK_U64_EQ(timed->time_ns, 10000000000ull);
	CHECK_U64_EQ(timed->timeout_ns, 40000000000ull);
	CHECK_U64_EQ(timed->start_ns, 1000000000ull);

	/* events: sorted by time, stable */
	CHECK_EQ(t->nevents, 5);
	CHECK_EQ(t->events[0].action, TOPO_EV_DOWN);
	CHECK_EQ(t->events[1].action, TOPO_EV_UP);
	CHECK_EQ(t->events[2].action, TOPO_EV_SET);
	CHECK_EQ(t->events[3].action, TOPO_EV_BLACKHOLE);
	CHECK_EQ(t->events[4].action, TOPO_EV_ADDR_DEL);
	CHECK_EQ(t->events[3].pos.line, 41);
	CHECK_EQ(t->events[4].host, 0);
	CHECK_EQ(t->events[3].host, -1);
	CHECK_EQ(t->events[2].link, 1);
	CHECK_EQ(t->events[2].dir_mask, 1);
	CHECK_EQ(t->events[2].params.set, TOPO_F_LOSS | TOPO_F_DELAY);
	CHECK_U64_EQ(t->events[2].params.delay_ns, 50000000);
	CHECK_EQ(t->events[2].params.emu_pos.line, 44);
	CHECK_EQ(t->events[2].params.emu_pos.col, 48);
	CHECK_U64_EQ(t->events[0].at_ns, 5000000000ull);

	CHECK(topo_reachable(t, 0, 2));
	CHECK_EQ(topo_route_first_link(t, 0, 2), 0);
	CHECK_EQ(topo_route_first_link(t, 2, 0), 2);
	CHECK_EQ(topo_link_end(t, 1, 1), 1);
	CHECK_EQ(topo_link_end(t, 2, 0), -1);
	topo_free(t);
}

TEST(topology_names_and_helpers)
{
	struct topology *t = load(HEAD "  - { name: l, between: [a, b] }\n"
				       "  - { name: m, between: [b, r] }\n"
				       "  - { name: n, between: [r, c] }\n");

	CHECK(t != NULL);
	CHECK_STR_EQ(topo_stack_name(TOPO_STACK_MPT), "mpt");
	CHECK_STR_EQ(topo_stack_name(TOPO_STACK_NONE), "none");
	CHECK_STR_EQ(topo_action_name(TOPO_EV_ADDR_ADD), "addr-add");
	CHECK_STR_EQ(topo_emulator_name(TOPO_EMU_NETEM), "netem");
	/* b does not forward: a cannot reach r or c through it; r forwards */
	CHECK(topo_reachable(t, 0, 1));
	CHECK(!topo_reachable(t, 0, 3));
	CHECK(topo_reachable(t, 1, 2));
	CHECK_EQ(topo_route_first_link(t, 1, 2), 1);
	CHECK(topo_reachable(t, 2, 2));
	CHECK_EQ(topo_route_first_link(t, 2, 2), -1);
	/* ipv6 defaults on; app-less topologies are fine */
	CHECK(t->ipv6);
	CHECK_EQ(t->napps, 0);
	topo_free(t);

	CHECK_EQ(topo_errorf(NULL, (struct topo_pos){3, 4}, err, "bad\n%s", "x"), -1);
	CHECK_STR_EQ(err, "?:3:4: bad?x");
}

TEST(topology_ipv6_off_and_auto_subnets)
{
	char *y = malloc(64 * 1024);
	size_t n;
	struct topology *t;

	CHECK(y != NULL);
	n = (size_t)sprintf(y, "name: big\nipv6: false\nhosts: { a: {}, b: {} }\nlinks:\n");
	for (int i = 0; i < 512; i++)
		n += (size_t)sprintf(y + n, "  - { name: l%d, between: [a, b] }\n", i);
	t = load(y);
	CHECK(t != NULL);
	CHECK_STR_EQ(fmt(&t->links[255].end[1].addr4), "198.18.255.2/24");
	CHECK_STR_EQ(fmt(&t->links[256].end[0].addr4), "198.19.0.1/24");
	CHECK_STR_EQ(fmt(&t->links[511].end[0].addr4), "198.19.255.1/24");
	CHECK_EQ(t->links[3].end[0].addr6.family, 0);
	topo_free(t);

	sprintf(y + n, "  - { name: l512, between: [a, b] }\n");
	ERR(y, "517:5", "too many links: at most 512");
	free(y);
}

TEST(topology_loss_models_and_params)
{
	struct topology *t = load(
		HEAD
		"  - name: l\n"
		"    between: [a, b]\n"
		"    delay: 20ms\n"
		"    jitter: 2ms\n"
		"    distribution: pareto\n"
		"    delay_correlation: 25%\n"
		"    duplicate: { p: 1%, correlation: 10% }\n"
		"    corrupt: 0.1%\n"
		"    reorder: { p: 25%, correlation: 50%, gap: 5 }\n"
		"    queue: 50ms\n"
		"    up: { loss: { model: state4, p13: 2% } }\n"
		"    down: { loss: { model: random, p: 3%, correlation: 20% }, rate: 1mbps }\n");
	const struct topo_dir *up, *down;

	CHECK_STR_EQ(err, "");
	CHECK(t != NULL);
	up = &t->links[0].dir[0];
	down = &t->links[0].dir[1];
	CHECK_EQ(up->dist, TOPO_DIST_PARETO);
	CHECK(up->delay_corr == 0.25);
	CHECK(up->duplicate == 0.01 && up->duplicate_corr == 0.1);
	CHECK(up->corrupt > 0.00099 && up->corrupt < 0.00101);
	CHECK(up->reorder == 0.25 && up->reorder_corr == 0.5);
	CHECK_EQ(up->reorder_gap, 5);
	CHECK_EQ(up->queue_unit, TOPO_QUEUE_TIME);
	CHECK_U64_EQ(up->queue, 50000000);
	CHECK_EQ(up->loss_model, TOPO_LOSS_STATE4);
	CHECK(up->loss[0] == 0.02 && up->loss[1] == 0.98); /* p31 = 1 - p13 */
	CHECK(up->loss[2] == 0.0 && up->loss[3] == 1.0 && up->loss[4] == 0.0);
	CHECK_EQ(up->emu_pos.line, 6); /* delay: */
	CHECK_EQ(down->loss_model, TOPO_LOSS_RANDOM);
	CHECK(down->loss[0] == 0.03 && down->loss[1] == 0.2);
	CHECK_U64_EQ(down->rate_bps, 8000000); /* tc: mbps = megabytes/s */
	CHECK(down->set & TOPO_F_RATE);
	CHECK(!(up->set & TOPO_F_RATE));
	CHECK(up->set & TOPO_F_DELAY_CORR);
	topo_free(t);
}

TEST(topology_trace_relative_to_file)
{
	char dir[] = "/tmp/mpnet-topo-XXXXXX", path[128], tr[128];
	struct topology *t = NULL;
	FILE *f;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(tr, sizeof(tr), "%s/lte.down", dir);
	f = fopen(tr, "w");
	CHECK(f != NULL);
	fputs("1\n1\n5\n9\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/x.yaml", dir);
	f = fopen(path, "w");
	CHECK(f != NULL);
	fputs(HEAD
	      "  - { name: l, between: [a, b], down: { trace: lte.down }, up: { rate: 1mbit } }\n",
	      f);
	fclose(f);
	CHECK_EQ(topo_load(path, &t, err), 0);
	CHECK(t->links[0].dir[1].set & TOPO_F_TRACE);
	CHECK_CONTAINS(t->links[0].dir[1].trace, "/lte.down");
	CHECK_EQ(t->links[0].dir[1].trace[0], '/');
	CHECK_STR_EQ(t->links[0].dir[0].trace, "");
	topo_free(t);

	/* a trace that goes back in time */
	f = fopen(tr, "w");
	fputs("1\n5\n3\n", f);
	fclose(f);
	CHECK_EQ(topo_load(path, &t, err), -1);
	CHECK_CONTAINS(err, "x.yaml:4:48: trace \"lte.down\" line 3 goes back in time");
	unlink(tr);
	CHECK_EQ(topo_load(path, &t, err), -1);
	CHECK_CONTAINS(err, "x.yaml:4:48: cannot read trace \"lte.down\" (");
	unlink(path);
	rmdir(dir);
	CHECK_EQ(topo_load(path, &t, err), -1);
	CHECK_CONTAINS(err, "x.yaml: cannot open: No such file");
}

TEST(topology_event_set_replay)
{
	/* reorder needs a delay: given by an earlier event, it passes; before it, no */
	struct topology *t = load(HEAD "  - { name: l, between: [a, b] }\n"
				       "events:\n"
				       "  - { at: 2s, link: l, action: set, reorder: 10% }\n"
				       "  - { at: 1s, link: l, action: set, delay: 10ms }\n");
	CHECK(t != NULL);
	CHECK_EQ(t->events[0].params.set, TOPO_F_DELAY);
	CHECK_EQ(t->events[1].dir_mask, 3);
	topo_free(t);
	ERR(HEAD "  - { name: l, between: [a, b] }\n"
		 "events:\n"
		 "  - { at: 1s, link: l, action: set, reorder: 10% }\n"
		 "  - { at: 2s, link: l, action: set, delay: 10ms }\n",
	    "6:37", "reorder needs a delay");
}

/* rewrite: a count of TCP payloads to rewrite, on a link or in a set event (then the
 * link needs the userspace emulator) */
TEST(topology_rewrite)
{
	struct topology *t =
		load(HEAD "  - { name: l, between: [a, b], up: { rewrite: 3 } }\n"
			  "events:\n"
			  "  - { at: 2s, link: l, action: set, dir: down, rewrite: 1 }\n");
	CHECK(t != NULL);
	CHECK_EQ(t->links[0].dir[0].rewrite, 3);
	CHECK(t->links[0].dir[0].set & TOPO_F_REWRITE);
	CHECK(!(t->links[0].dir[1].set & TOPO_F_REWRITE));
	CHECK_EQ(t->events[0].params.set, TOPO_F_REWRITE);
	CHECK_EQ(t->events[0].params.rewrite, 1);
	CHECK(TOPO_F_NEEDS_EMULATOR & TOPO_F_REWRITE);
	topo_free(t);
	ERR(HEAD "  - { name: l, between: [a, b], rewrite: -1 }\n", "4:42", "rewrite");
	ERR(HEAD "  - { name: l, between: [a, b], rewrite: lots }\n", "4:42", "rewrite");
	ERR(HEAD "  - { name: l, between: [a, b] }\n"
		 "events:\n"
		 "  - { at: 1s, link: l, action: set, rewrite: 2000000 }\n",
	    "6:46", "rewrite");
}

/* --- every error points at its node ---------------------------------------------------- */

TEST(topology_err_document)
{
	ERR("", "1:1", "the file is empty");
	ERR("# only a comment\n", "1:1", "the file is empty");
	ERR("- a\n- b\n", "1:1",
	    "a topology must be a mapping with name:, hosts: and links:, got a sequence");
	ERR("name: x\n---\nname: y\n", "2:1", "a second YAML document");
	ERR("name: x\nhosts: [a\n", "3:1", "YAML syntax error: did not find expected ',' or ']'");
	ERR("name: x\n\thosts: {}\n", "2:1", "tabs cannot indent YAML");
	ERR("name: x\nname: y\n", "2:1",
	    "duplicate key \"name\" in the topology (first at line 1)");
	ERR("hosts: { a: {} }\nlinks: []\n", "1:1", "missing \"name:\"");
	ERR("name: x\nlinks: []\n", "1:1", "missing \"hosts:\"");
	ERR("name: x\nhosts: { a: {} }\n", "1:1", "missing \"links:\"");
	ERR("name: x\nhosts: { a: {} }\nlinks: []\n", "3:1", "links: is empty");
	ERR("name: x\nhosts:\nlinks: []\n", "2:1", "hosts: is empty");
	ERR("name: x\nhost: {}\n", "2:1",
	    "unknown key \"host\" in the topology: did you mean \"hosts\"? (allowed: name, seed, "
	    "ipv6, "
	    "emulator, hosts, links, apps, events)");
	ERR("name: x\ncolour: red\n", "2:1", "unknown key \"colour\" in the topology (allowed: ");
	ERR("name: Two_Path\n", "1:7", "topology name \"Two_Path\" must start with a letter a-z");
	ERR("name: two_path\n", "1:7", "has '_': use only a-z, 0-9 and '-'");
	ERR("name:\n", "1:6", "topology name needs a value (e.g. two-path)");
	ERR("name: [x]\n", "1:7", "topology name must be a scalar (e.g. two-path), got a sequence");
	ERR("name: x\nseed: -1\n", "2:7", "seed must be a whole number from 0 to");
	ERR("name: x\nipv6: yes\n", "2:7", "ipv6 must be true or false, got \"yes\"");
	ERR("name: x\nemulator: qemu\n", "2:11",
	    "unknown emulator \"qemu\" (use auto, user or netem)");
}

TEST(topology_err_hosts)
{
	ERR("name: x\nhosts: [a, b]\n", "2:8",
	    "hosts must be a mapping (key: value, ...), got a sequence");
	ERR("name: x\nhosts:\n  a: {}\n  a: {}\n", "4:3",
	    "duplicate key \"a\" in hosts (first at line 3)");
	ERR("name: x\nhosts:\n  a: { stack: linux }\n", "3:15",
	    "unknown stack \"linux\" (use mpt, kernel, tcp or none)");
	ERR("name: x\nhosts:\n  a: { stak: tcp }\n", "3:8", "did you mean \"stack\"?");
	ERR("name: x\nhosts:\n  a: tcp\n", "3:6",
	    "host \"a\" must be a mapping (e.g. { stack: kernel }), got a scalar");
	ERR("name: x\nhosts:\n  a: { mptcp: { subflows: 9 } }\n", "3:27",
	    "subflows must be a whole number from 0 to 8, got \"9\"");
	ERR("name: x\nhosts:\n  a: { mptcp: { add_addr_accepted: -1 } }\n", "3:36",
	    "add_addr_accepted must be a whole number from 0 to 8");
	ERR("name: x\nhosts:\n  a: { forward: 1 }\n", "3:17", "forward must be true or false");
	ERR("name: x\nhosts:\n  a: { stack: mpt, congestion: bbr }\n", "3:32",
	    "congestion: libmpt (stack: mpt) has newreno, cubic, lia, olia, balia (reno = "
	    "newreno), not bbr");
	ERR("name: x\nhosts:\n  a: { stack: mpt, scheduler: fastest }\n", "3:31",
	    "scheduler: \"fastest\" is not one of libmpt's: default, roundrobin, redundant");
	ERR("name: x\nhosts:\n  k: { stack: kernel, scheduler: redundant }\n", "3:34",
	    "scheduler: redundant is libmpt's; host \"k\" runs the kernel's MPTCP, whose "
	    "scheduler is the sysctl net.mptcp.scheduler: give it stack: mpt");
	ERR("name: x\nhosts:\n  a: { stack: tcp, scheduler: roundrobin }\n", "3:31",
	    "scheduler: host \"a\" does not run MPTCP");
	ERR("name: x\nhosts:\n  a: { stack: mpt, scheduler: [x] }\n", "3:31", "scheduler");
	ERR("name: x\nhosts:\n  a: { stack: mpt, scheduler: \"roundrobin:0\" }\n", "3:31",
	    "scheduler: \"roundrobin:0\" is not one of libmpt's: default, roundrobin, redundant, "
	    "blest, ecf (roundrobin takes :N, 1..64)");
	ERR("name: x\nhosts:\n  a: { stack: mpt, scheduler: \"blest:2\" }\n", "3:31",
	    "scheduler: \"blest:2\" is not one of libmpt's");
	ERR("name: x\nhosts:\n  a: { stack: mpt, path_manager: fullmesh }\n", "3:34",
	    "path_manager: \"fullmesh\" is not one of libmpt's: kernel, ndiffports (ndiffports "
	    "takes :N, 1..16)");
	ERR("name: x\nhosts:\n  a: { stack: mpt, path_manager: \"ndiffports:17\" }\n", "3:34",
	    "path_manager: \"ndiffports:17\" is not one of libmpt's");
	ERR("name: x\nhosts:\n  k: { stack: kernel, path_manager: ndiffports }\n", "3:37",
	    "path_manager: ndiffports is libmpt's; host \"k\" runs the kernel's MPTCP, whose "
	    "path manager is the sysctl net.mptcp.path_manager: give it stack: mpt");
	ERR("name: x\nhosts:\n  a: { stack: tcp, path_manager: ndiffports }\n", "3:34",
	    "path_manager: host \"a\" does not run MPTCP");
	ERR("name: x\nhosts:\n  a: { congestion: cubic }\n", "3:20",
	    "congestion: host \"a\" has no stack (give it stack: mpt, kernel or tcp)");
	ERR("name: x\nhosts:\n  a: { stack: tcp, congestion: \"Cu bic\" }\n", "3:32",
	    "congestion: \"Cu bic\" is not an algorithm name (e.g. cubic, reno, bbr)");
	ERR("name: x\nhosts:\n  a: { stack: tcp, congestion: [cubic] }\n", "3:32", "congestion");
	ERR("name: x\nhosts:\n  1a: {}\n", "3:3", "host name \"1a\" must start with a letter");
	ERR("name: x\nhosts:\n  abcdefghijabcdefghijabcdefghijabc: {}\n", "3:3",
	    "is 33 characters long; at most 31");
}

TEST(topology_err_links)
{
	ERR(HEAD "  - { name: l, between: [a, b], rat: 5mbit }\n", "4:33",
	    "unknown key \"rat\" in link \"l\": did you mean \"rate\"?");
	ERR(HEAD "  - name: l\n    between: [a, b]\n    rate: 5mbs\n", "6:11",
	    "unknown rate unit \"mbs\" (use bit, kbit, mbit, gbit, or bps, kbps, mbps, gbps as tc "
	    "does)");
	ERR(HEAD "  - { name: l, between: [a, b], rate: -5mbit }\n", "4:39",
	    "negative rate \"-5mbit\"");
	ERR(HEAD "  - { name: l, between: [a, b], rate: 50 }\n", "4:39",
	    "rate \"50\" needs a unit, e.g. 50mbit");
	ERR(HEAD "  - { name: l, between: [a, b], rate: fast }\n", "4:39",
	    "expected a rate such as 50mbit");
	ERR(HEAD "  - { name: l, between: [a, b], rate: 0mbit }\n", "4:39", "rate must be above 0");
	ERR(HEAD "  - { name: l, between: [a, b], delay: 10 }\n", "4:40",
	    "delay \"10\" needs a unit, e.g. 10ms (use ns, us, ms or s)");
	ERR(HEAD "  - { name: l, between: [a, b], delay: 10sec2 }\n", "4:40",
	    "unknown time unit \"sec2\"");
	ERR(HEAD "  - { name: l, between: [a, b], delay: 61s }\n", "4:40", "is above 60s");
	ERR(HEAD "  - { name: l, between: [a, b] }\n  - { name: l, between: [a, c] }\n", "5:13",
	    "duplicate link name \"l\" (first at line 4)");
	ERR(HEAD "  - { name: l, between: [a, d] }\n", "4:29",
	    "unknown host \"d\" in between (hosts: a, b, c, r)");
	ERR(HEAD "  - { name: l, between: [a, a] }\n", "4:29",
	    "link \"l\" connects host \"a\" to itself");
	ERR(HEAD "  - { name: l, between: [a, b, c] }\n", "4:25",
	    "between needs exactly two hosts, got 3");
	ERR(HEAD "  - { name: l, between: a }\n", "4:25",
	    "between must be a sequence of two hosts");
	ERR(HEAD "  - { between: [a, b] }\n", "4:5", "link needs a name:");
	ERR(HEAD "  - { name: l }\n", "4:5", "link \"l\" needs between: [host, host]");
	ERR(HEAD "  - { name: wifi-to-the-moon, between: [a, b] }\n", "4:13",
	    "link name \"wifi-to-the-moon\" is 16 characters long; at most 15 (it is the interface "
	    "name)");
	ERR(HEAD "  - { name: lo, between: [a, b] }\n", "4:13", "link name \"lo\" is reserved");
	ERR(HEAD "  - wifi\n", "4:5", "a link must be a mapping");
	ERR("name: t\nhosts: { a: {} }\nlinks: { l: 1 }\n", "3:8", "links must be a sequence");
	ERR(HEAD "  - { name: l, between: [a, b], up: { delay: 1ms, name: x } }\n", "4:51",
	    "unknown key \"name\" in up: of link \"l\" (allowed: rate, delay,");
	ERR(HEAD "  - { name: l, between: [a, b], up: 5mbit }\n", "4:37",
	    "up: of link \"l\" must be a mapping");
	ERR(HEAD "  - { name: l, between: [a, b], emulator: tc }\n", "4:43",
	    "unknown emulator \"tc\"");
	ERR(HEAD "  - { name: l, between: [a, b], queue: 10 apples }\n", "4:40",
	    "bad queue \"10 apples\" (use a packet count like 100");
	ERR(HEAD "  - { name: l, between: [a, b], queue: 0 }\n", "4:40",
	    "queue must be a whole number from 1 to");
}

TEST(topology_err_params)
{
	ERR(HEAD "  - { name: l, between: [a, b], loss: 0.5 }\n", "4:39",
	    "loss \"0.5\" needs a % sign, e.g. 0.5%");
	ERR(HEAD "  - { name: l, between: [a, b], loss: 150% }\n", "4:39",
	    "loss \"150%\" is above 100%");
	ERR(HEAD "  - { name: l, between: [a, b], loss: -1% }\n", "4:39", "negative percentage");
	ERR(HEAD "  - { name: l, between: [a, b], loss: { model: ge, p: 1% } }\n", "4:48",
	    "unknown loss model \"ge\" (use random, gemodel or state4)");
	ERR(HEAD "  - { name: l, between: [a, b], loss: { model: gemodel, p13: 1% } }\n", "4:57",
	    "(allowed: model, p, r, 1-h, 1-k)");
	ERR(HEAD "  - { name: l, between: [a, b], loss: { model: gemodel, r: 1% } }\n", "4:39",
	    "loss model gemodel needs p:");
	ERR(HEAD "  - { name: l, between: [a, b], loss: [1%] }\n", "4:39",
	    "loss must be a percentage");
	ERR(HEAD "  - { name: l, between: [a, b], reorder: 5% }\n", "4:33",
	    "reorder needs a delay");
	ERR(HEAD "  - { name: l, between: [a, b], delay: 1ms, reorder: { p: 5%, gap: 0 } }\n",
	    "4:68", "gap must be a whole number from 1 to");
	ERR(HEAD "  - { name: l, between: [a, b], distribution: normal }\n", "4:33",
	    "distribution needs jitter");
	ERR(HEAD "  - { name: l, between: [a, b], delay: 1ms, jitter: 1ms, distribution: gauss }\n",
	    "4:72", "unknown distribution \"gauss\" (use uniform, normal, pareto or paretonormal)");
	ERR(HEAD "  - { name: l, between: [a, b], duplicate: { correlation: 1% } }\n", "4:44",
	    "duplicate needs p:");
	ERR(HEAD "  - { name: l, between: [a, b], trace: /nonexistent/x.down }\n", "4:40",
	    "cannot read trace \"/nonexistent/x.down\": No such file or directory");
	ERR(HEAD "  - { name: l, between: [a, b], trace: /dev/null }\n", "4:40",
	    "is not a regular file");
}

TEST(topology_err_trace_and_rate)
{
	char dir[] = "/tmp/mpnet-topo-XXXXXX", tr[128], y[512];
	FILE *f;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(tr, sizeof(tr), "%s/t.up", dir);
	f = fopen(tr, "w");
	CHECK(f != NULL);
	fputs("2\n4\n", f);
	fclose(f);
	snprintf(y, sizeof(y),
		 HEAD "  - { name: l, between: [a, b], rate: 5mbit, up: { trace: %s } }\n", tr);
	ERR(y, "4:52", "a trace and a rate on the same direction");
	snprintf(y, sizeof(y),
		 HEAD "  - { name: l, between: [a, b], emulator: netem, trace: %s }\n", tr);
	ERR(y, "4:50", "netem cannot play a trace (use emulator: user or auto)");
	snprintf(y, sizeof(y), HEAD "  - { name: l, between: [a, b], trace: %s }\n", tr);
	{
		struct topology *t = load(y);

		CHECK(t != NULL);
		CHECK_STR_EQ(t->links[0].dir[0].trace, tr);
		CHECK_EQ(t->links[0].dir[0].emu_pos.col, 33);
		topo_free(t);
	}
	unlink(tr);
	rmdir(dir);
}

TEST(topology_err_endpoints_and_addresses)
{
	ERR(HEAD "  - { name: l, between: [a, b], endpoint: [subflo] }\n", "4:44",
	    "unknown endpoint flag \"subflo\" (use signal, subflow, backup or fullmesh)");
	ERR(HEAD "  - { name: l, between: [a, b], endpoint: [signal, fullmesh] }\n", "4:43",
	    "signal and fullmesh cannot be combined");
	ERR(HEAD "  - { name: l, between: [a, b], endpoint: { c: [subflow] } }\n", "4:45",
	    "host \"c\" is not on link \"l\" (between: a, b)");
	ERR(HEAD "  - { name: l, between: [a, b], endpoint: subflow }\n", "4:43",
	    "endpoint must be a sequence of flags (e.g. [subflow]) or a mapping");
	ERR(HEAD "  - { name: l, between: [a, b], addresses: [10.0.0.1/24, 10.0.0.2/24] }\n",
	    "4:45",
	    "address \"10.0.0.1/24\" is outside the testbed's ranges (use 198.18.0.0/15 for IPv4 "
	    "or "
	    "2001:db8::/32 for IPv6)");
	ERR(HEAD "  - { name: l, between: [a, b], addresses: [198.18.9.1/24, 198.18.8.2/24] }\n",
	    "4:60", "address is not in the same subnet as 198.18.9.1/24");
	ERR(HEAD "  - { name: l, between: [a, b], addresses: [198.18.9.1/24] }\n", "4:45",
	    "only one IPv4 address");
	ERR(HEAD "  - { name: l, between: [a, b], addresses: [198.18.9.1] }\n", "4:45",
	    "address \"198.18.9.1\" needs a prefix length (e.g. 198.18.9.1/24)");
	ERR(HEAD "  - { name: l, between: [a, b], addresses: [198.18.9.0/24, 198.18.9.2/24] }\n",
	    "4:45", "is the network address of its subnet");
	ERR(HEAD "  - { name: l, between: [a, b], addresses: [198.18.9.1/24, 198.18.9.1/24] }\n",
	    "4:60", "address 198.18.9.1/24 is given twice");
	ERR(HEAD "  - { name: l, between: [a, b], addresses: [198.18.9.1/24, 198.18.9.2/24, "
		 "198.18.9.3/24] }\n",
	    "4:75", "more than two IPv4 addresses");
	ERR(HEAD "  - { name: l, between: [a, b], addresses: [banana] }\n", "4:45",
	    "bad address \"banana\"");
	ERR(HEAD "  - { name: l, between: [a, b] }\n"
		 "  - { name: m, between: [a, c], addresses: [198.18.0.1/24, 198.18.0.7/24] }\n",
	    "5:45", "address 198.18.0.1 is already used on link \"l\" (line 4)");
	ERR(HEAD "  - { name: l, between: [a, b], addresses: [198.18.0.5/16, 198.18.0.7/16] }\n"
		 "  - { name: m, between: [a, c] }\n",
	    "4:45", "subnet 198.18.0.0/16 overlaps subnet 198.18.1.0/24 of link \"m\" (line 5)");
	ERR("name: t\nipv6: false\nhosts: { a: {}, b: {} }\nlinks:\n"
	    "  - { name: l, between: [a, b], addresses: [2001:db8:9::1/64, 2001:db8:9::2/64] }\n",
	    "5:45", "IPv6 address \"2001:db8:9::1/64\" but the topology has ipv6: false");
	{
		struct topology *t = load(HEAD "  - { name: l, between: [a, b], addresses: "
					       "[2001:db8:9::1/64, 198.18.7.1/30, 198.18.7.2/30, "
					       "2001:db8:9::2/64] }\n");
		CHECK(t != NULL);
		CHECK_STR_EQ(fmt(&t->links[0].end[0].addr6), "2001:db8:9::1/64");
		CHECK_STR_EQ(fmt(&t->links[0].end[1].addr6), "2001:db8:9::2/64");
		CHECK_STR_EQ(fmt(&t->links[0].end[1].addr4), "198.18.7.2/30");
		topo_free(t);
	}
}

#define APPS HEAD "  - { name: l, between: [a, b] }\n  - { name: m, between: [b, c] }\napps:\n"

TEST(topology_err_apps)
{
	ERR(APPS "  - { name: x, client: a, server: a, bytes: 1MB }\n", "7:35",
	    "app \"x\": client and server are the same host \"a\"");
	ERR(APPS "  - { name: x, client: a, server: c, bytes: 1MB }\n", "7:35",
	    "app \"x\": server \"c\" is not reachable from client \"a\" (paths only cross hosts "
	    "with "
	    "forward: true)");
	ERR(APPS "  - { name: x, client: a, server: b, bytes: 1MB, time: 1s }\n", "7:50",
	    "app \"x\" has both bytes: and time: (give exactly one)");
	ERR(APPS "  - { name: x, client: a, server: b }\n", "7:5",
	    "app \"x\" needs bytes: (e.g. 64MiB) or time: (e.g. 10s)");
	ERR(APPS "  - { name: x, client: a, server: z, bytes: 1MB }\n", "7:35",
	    "unknown host \"z\" in server");
	ERR(APPS "  - { name: x, client: a, server: r, bytes: 1MB }\n", "7:35",
	    "app \"x\": host \"r\" has no stack (give it stack: mpt, kernel or tcp)");
	ERR(APPS "  - { name: x, client: a, server: b, bytes: 1MB }\n"
		 "  - { name: x, client: a, server: b, bytes: 1MB }\n",
	    "8:13", "duplicate app name \"x\" (first at line 7)");
	ERR(APPS "  - { name: x, client: a, server: b, bytes: 1MB, port: 5300 }\n"
		 "  - { name: y, client: a, server: b, bytes: 1MB, port: 5300 }\n",
	    "8:56", "port 5300 on host \"b\" is already used by app \"x\" (line 7)");
	ERR(APPS "  - { name: x, client: a, server: b, bytes: 1MB, port: 70000 }\n", "7:56",
	    "port must be a whole number from 1 to 65535");
	ERR(APPS "  - { name: x, client: a, server: b, bytes: 1 parsec }\n", "7:45",
	    "unknown size unit \"parsec\"");
	ERR(APPS "  - { name: x, client: a, server: b, time: 10s, timeout: 5s }\n", "7:58",
	    "timeout must be longer than time: (10s)");
	ERR(APPS "  - { name: x, client: a, server: b, bytes: 1MB, to_link: n }\n", "7:59",
	    "unknown link \"n\" in to_link (links: l, m)");
	ERR(APPS "  - { name: x, client: a, server: c, bytes: 1MB, to_link: l }\n", "7:35",
	    "is not reachable");
	ERR(APPS "  - { name: x, client: a, server: b, bytes: 1MB, direction: sideways }\n", "7:61",
	    "unknown direction \"sideways\" (use upload or download)");
	ERR(APPS "  - { name: x, client: a, server: b, bytes: 1MB, proto: quic }\n", "7:50",
	    "unknown key \"proto\" in app (allowed: name, client, server, bytes, time, direction, "
	    "start, "
	    "port, timeout, to_link, ipv6, mode, request, response, exchanges, rate, chunk, "
	    "rcvbuf)");
	ERR(APPS "  - { client: a, server: b, bytes: 1MB }\n", "7:5", "app needs a name:");
	{
		struct topology *t = load(
			APPS
			"  - { name: x, client: a, server: b, bytes: 1MB, to_link: l, port: 80 }\n"
			"  - { name: y, client: c, server: b, time: 2s }\n");
		CHECK(t != NULL);
		CHECK_EQ(t->apps[0].port, 80);
		CHECK_EQ(t->apps[1].port, 5202);
		CHECK_EQ(t->apps[1].server_link, 0); /* b's first link */
		CHECK_STR_EQ(fmt(&t->apps[1].server_addr), "198.18.0.2/24");
		CHECK_EQ(t->apps[1].mode, TOPO_MODE_BULK);
		topo_free(t);
	}
}

/* mode: rr / stream with their parameters; every mistake at its key. */
TEST(topology_app_modes)
{
	struct topology *t =
		load(APPS "  - { name: web, client: a, server: b, mode: rr, request: "
			  "100, response: 256KiB, exchanges: 200 }\n"
			  "  - { name: w2, client: a, server: b, mode: rr, request: 1kB, "
			  "response: 1MB }\n"
			  "  - { name: tv, client: a, server: b, mode: stream, rate: 8mbit, "
			  "chunk: 64KiB, time: 10s, direction: download }\n"
			  "  - { name: tv2, client: a, server: b, mode: stream, rate: 1mbit, "
			  "chunk: 1000, bytes: 1MB }\n"
			  "  - { name: bulk, client: a, server: b, mode: bulk, bytes: 1MB }\n");

	CHECK(t != NULL);
	CHECK_EQ(t->apps[0].mode, TOPO_MODE_RR);
	CHECK_U64_EQ(t->apps[0].request, 100);
	CHECK_U64_EQ(t->apps[0].response, 262144);
	CHECK_EQ(t->apps[0].exchanges, 200);
	CHECK_U64_EQ(t->apps[0].timeout_ns, 300000000000ull);
	CHECK_EQ(t->apps[1].exchanges, TOPO_RR_DEFAULT_EXCHANGES);
	CHECK_EQ(t->apps[2].mode, TOPO_MODE_STREAM);
	CHECK_U64_EQ(t->apps[2].rate_bps, 8000000);
	CHECK_U64_EQ(t->apps[2].chunk, 65536);
	CHECK_U64_EQ(t->apps[2].time_ns, 10000000000ull);
	CHECK_EQ(t->apps[2].direction, TOPO_DOWNLOAD);
	CHECK_U64_EQ(t->apps[3].bytes, 1000000);
	CHECK_EQ(t->apps[4].mode, TOPO_MODE_BULK);
	CHECK_STR_EQ(topo_mode_name(t->apps[3].mode), "stream");
	topo_free(t);

	ERR(APPS "  - { name: x, client: a, server: b, mode: video, bytes: 1MB }\n", "7:44",
	    "unknown mode \"video\" (use bulk, rr or stream)");
	ERR(APPS "  - { name: x, client: a, server: b, mode: rr, request: 100 }\n", "7:5",
	    "app \"x\": mode: rr needs request: and response: (bytes each way per exchange, e.g. "
	    "request: 100, response: 256KiB)");
	ERR(APPS "  - { name: x, client: a, server: b, mode: rr, request: 100, response: 1kB, "
		 "bytes: 1MB }\n",
	    "7:77", "app \"x\": mode: rr runs exchanges: (default 100), not bytes:");
	ERR(APPS "  - { name: x, client: a, server: b, mode: rr, request: 100, response: 1kB, "
		 "exchanges: 0 }\n",
	    "7:88", "exchanges must be a whole number from 1 to 1000000");
	ERR(APPS "  - { name: x, client: a, server: b, mode: rr, request: 0, response: 1kB }\n",
	    "7:57", "request must be 1 byte to 1GiB");
	ERR(APPS "  - { name: x, client: a, server: b, mode: rr, request: 1, response: 1kB, "
		 "direction: download }\n",
	    "7:86", "app \"x\": mode: rr has requests up and responses down; drop direction:");
	ERR(APPS "  - { name: x, client: a, server: b, bytes: 1MB, request: 100 }\n", "7:50",
	    "app \"x\": request: is for mode: rr (this app is mode: bulk)");
	ERR(APPS "  - { name: x, client: a, server: b, mode: rr, request: 1, response: 1, rate: "
		 "1mbit }\n",
	    "7:73", "app \"x\": rate: is for mode: stream (this app is mode: rr)");
	ERR(APPS "  - { name: x, client: a, server: b, mode: stream, rate: 1mbit, time: 1s }\n",
	    "7:5", "app \"x\": mode: stream needs rate: and chunk:");
	ERR(APPS "  - { name: x, client: a, server: b, mode: stream, rate: 1mbit, chunk: 8 }\n",
	    "7:72", "chunk must be 16 bytes (its time stamp) to 1GiB");
	ERR(APPS "  - { name: x, client: a, server: b, mode: stream, rate: 1, chunk: 1kB, time: "
		 "1s }\n",
	    "7:58", "rate \"1\" needs a unit");
	ERR(APPS "  - { name: x, client: a, server: b, mode: stream, rate: 1mbit, chunk: 1000, "
		 "bytes: 1500 }\n",
	    "7:85",
	    "app \"x\": bytes: must be whole chunks (a multiple of chunk: 1000), or give "
	    "time:");
	ERR(APPS "  - { name: x, client: a, server: b, mode: stream, rate: 1mbit, chunk: 1000 }\n",
	    "7:5", "app \"x\" needs bytes: (e.g. 64MiB) or time: (e.g. 10s)");
}

/* A command app: client: / server: { host, command }; the placeholders. */
#define CMD_C		     "client: { host: a, command: \"nc {server_addr} {port}\" }"
#define CMD_S		     "server: { host: b, command: \"nc -l {port}\" }"
#define CMD_APP(c, s, extra) APPS "  - { name: x, " c ", " s extra " }\n"

TEST(topology_command_apps)
{
	struct topology *t = load(
		APPS "  - { name: x, " CMD_C ", " CMD_S ", start: 1s, timeout: 20s, port: 80 }\n"
		     "  - { name: y, client: a, server: b, bytes: 1MB }\n"
		     "  - name: z\n"
		     "    client: { host: a, command: \"curl -o {run_dir}/{app} "
		     "http://{server_addr_url}:{port}/ && awk '{{print}' ${HOME}/f\" }\n"
		     "    server: { host: b, command: \"python3 -m http.server {port}\" }\n"
		     "    ipv6: true\n");
	char out[256];
	const struct topo_cmd_vars v = {"2001:db8::2", "[2001:db8::2]", "z", "/r", 5203};
	size_t bad = 0, badlen = 0;

	CHECK(t != NULL);
	CHECK_EQ(t->apps[0].mode, TOPO_MODE_COMMAND);
	CHECK_STR_EQ(topo_mode_name(t->apps[0].mode), "command");
	CHECK_STR_EQ(t->apps[0].client_cmd, "nc {server_addr} {port}");
	CHECK_STR_EQ(t->apps[0].server_cmd, "nc -l {port}");
	CHECK_EQ(t->apps[0].client, 0);
	CHECK_EQ(t->apps[0].server, 1);
	CHECK_EQ(t->apps[0].port, 80);
	CHECK_U64_EQ(t->apps[0].timeout_ns, 20000000000ull);
	CHECK_U64_EQ(t->apps[0].start_ns, 1000000000ull);
	CHECK_EQ(t->apps[1].mode, TOPO_MODE_BULK);
	CHECK_STR_EQ(t->apps[1].client_cmd, "");
	CHECK_EQ(t->apps[2].mode, TOPO_MODE_COMMAND);
	CHECK_U64_EQ(t->apps[2].timeout_ns, 300000000000ull);
	CHECK_EQ(t->apps[2].server_addr.family, AF_INET6);
	CHECK_EQ(topo_cmd_expand(t->apps[2].client_cmd, &v, out, sizeof(out), NULL, NULL), 0);
	CHECK_STR_EQ(out, "curl -o /r/z http://[2001:db8::2]:5203/ && awk '{print}' ${HOME}/f");
	topo_free(t);

	CHECK_EQ(topo_cmd_expand("a {server_addr} b", &v, out, sizeof(out), NULL, NULL), 0);
	CHECK_STR_EQ(out, "a 2001:db8::2 b");
	CHECK_EQ(topo_cmd_expand("{ x } {} {port", &v, out, sizeof(out), NULL, NULL), 0);
	CHECK_STR_EQ(out, "{ x } {} {port");
	CHECK_EQ(topo_cmd_expand("nc {srv} 1", &v, out, sizeof(out), &bad, &badlen), -1);
	CHECK_EQ(bad, 3);
	CHECK_EQ(badlen, 5);
	CHECK_EQ(topo_cmd_expand("{server_addr}", &v, out, 8, NULL, NULL), -2);
	CHECK_EQ(topo_cmd_expand("{nope}", &v, NULL, 0, NULL, NULL), -1);

	/* keys of mpt-perf's workloads, each at its key */
	ERR(CMD_APP(CMD_C, CMD_S, ", bytes: 1MB"), "7:119",
	    "app \"x\": bytes: is for mpt-perf apps; a command app runs until its client command "
	    "exits (give timeout: to bound it)");
	ERR(CMD_APP(CMD_C, CMD_S, ", mode: rr"), "7:119", "app \"x\": mode: is for mpt-perf apps");
	ERR(CMD_APP(CMD_C, CMD_S, ", time: 5s"), "7:119", "app \"x\": time: is for mpt-perf apps");
	ERR(CMD_APP(CMD_C, CMD_S, ", request: 100"), "7:119",
	    "app \"x\": request: is for mpt-perf apps");
	ERR(CMD_APP(CMD_C, CMD_S, ", rate: 1mbit"), "7:119",
	    "app \"x\": rate: is for mpt-perf apps");
	ERR(CMD_APP(CMD_C, CMD_S, ", direction: download"), "7:119",
	    "app \"x\": direction: is for mpt-perf apps");
	ERR(CMD_APP(CMD_C, CMD_S, ", rcvbuf: 64KiB"), "7:119",
	    "app \"x\": rcvbuf: is for mpt-perf apps");
	/* unknown placeholders, at the command */
	ERR(CMD_APP("client: { host: a, command: \"nc {server} {port}\" }", CMD_S, ""), "7:44",
	    "app \"x\": unknown placeholder \"{server}\" in the client command (use {server_addr}, "
	    "{server_addr_url}, {port}, {app}, {run_dir}; {{ for a literal {)");
	ERR(CMD_APP(CMD_C, "server: { host: b, command: \"nc -l {Port}\" }", ""), "7:101",
	    "app \"x\": unknown placeholder \"{Port}\" in the server command");
	/* empty commands */
	ERR(CMD_APP("client: { host: a, command: \"\" }", CMD_S, ""), "7:44",
	    "app \"x\": the client command is empty");
	ERR(CMD_APP("client: { host: a, command: \"  \" }", CMD_S, ""), "7:44",
	    "app \"x\": the client command is empty");
	ERR(CMD_APP(CMD_C, "server: { host: b, command: '' }", ""), "7:101",
	    "app \"x\": the server command is empty");
	/* the ends' forms */
	ERR(CMD_APP(CMD_C, "server: b", ""), "7:81",
	    "app \"x\": the client runs a command, so the server needs one too (server: { host: "
	    "b, command: \"...\" })");
	ERR(CMD_APP("client: a", CMD_S, ""), "7:24",
	    "app \"x\": the server runs a command, so the client needs one too");
	ERR(CMD_APP("client: { command: \"nc {server_addr} {port}\" }", CMD_S, ""), "7:24",
	    "app \"x\": client needs host:");
	ERR(CMD_APP("client: { host: a }", CMD_S, ""), "7:24",
	    "app \"x\": client needs command: (or give the host alone: client: a)");
	ERR(CMD_APP("client: { host: a, cmd: \"x\" }", CMD_S, ""), "7:35",
	    "unknown key \"cmd\" in client of app \"x\"");
	ERR(CMD_APP("client: { host: z, command: \"x\" }", CMD_S, ""), "7:32",
	    "unknown host \"z\" in client");
}

/* rcvbuf: both ends' receive buffer, a size 4KiB..1GiB; absent = 0 (the defaults). */
TEST(topology_app_rcvbuf)
{
	struct topology *t =
		load(APPS "  - { name: s, client: a, server: b, bytes: 1MB, rcvbuf: 64KiB }\n"
			  "  - { name: d, client: a, server: b, bytes: 1MB }\n"
			  "  - { name: r, client: a, server: b, mode: rr, request: 100, response: "
			  "1kB, rcvbuf: 4096 }\n"
			  "  - { name: g, client: a, server: b, time: 1s, rcvbuf: 1GiB }\n");

	CHECK(t != NULL);
	CHECK_U64_EQ(t->apps[0].rcvbuf, 65536);
	CHECK_U64_EQ(t->apps[1].rcvbuf, 0);
	CHECK_U64_EQ(t->apps[2].rcvbuf, 4096);
	CHECK_U64_EQ(t->apps[3].rcvbuf, 1ull << 30);
	topo_free(t);

	ERR(APPS "  - { name: x, client: a, server: b, bytes: 1MB, rcvbuf: 4095 }\n", "7:58",
	    "rcvbuf must be 4KiB to 1GiB (e.g. 64KiB), or drop it for the stacks' defaults");
	ERR(APPS "  - { name: x, client: a, server: b, bytes: 1MB, rcvbuf: 2GiB }\n", "7:58",
	    "rcvbuf must be 4KiB to 1GiB");
	ERR(APPS "  - { name: x, client: a, server: b, bytes: 1MB, rcvbuf: 0 }\n", "7:58",
	    "rcvbuf must be 4KiB to 1GiB");
	ERR(APPS "  - { name: x, client: a, server: b, bytes: 1MB, rcvbuf: 64 parsec }\n", "7:58",
	    "unknown size unit \"parsec\"");
	ERR(APPS "  - { name: x, client: a, server: b, bytes: 1MB, rcvbuf: [64KiB] }\n", "7:58",
	    "rcvbuf");
}

#define EVENTS HEAD "  - { name: l, between: [a, b] }\n  - { name: m, between: [b, c] }\nevents:\n"

TEST(topology_err_events)
{
	ERR(EVENTS "  - { at: 1s, link: x, action: down }\n", "7:21",
	    "unknown link \"x\" in event (links: l, m)");
	ERR(EVENTS "  - { at: 1s, link: l, action: addr-del, host: c }\n", "7:48",
	    "host \"c\" is not on link \"l\" (between: a, b)");
	ERR(EVENTS "  - { at: 1s, link: l, action: addr-add }\n", "7:5",
	    "action addr-add needs host: (a or b, the ends of link \"l\")");
	ERR(EVENTS "  - { at: 1s, link: l, action: down, dir: up }\n", "7:38",
	    "dir: is only for action: set");
	ERR(EVENTS "  - { at: 1s, link: l, action: down, host: a }\n", "7:38",
	    "host: is only for actions addr-del and addr-add");
	ERR(EVENTS "  - { at: 1s, link: l, action: up, loss: 1% }\n", "7:36",
	    "loss: is only for action: set");
	ERR(EVENTS "  - { at: 1s, link: l, action: set }\n", "7:5",
	    "action: set needs at least one parameter");
	ERR(EVENTS "  - { at: 1s, link: l, action: set, dir: sideways, loss: 1% }\n", "7:42",
	    "unknown dir \"sideways\" (use up, down or both)");
	ERR(EVENTS "  - { at: 1s, link: l, action: explode }\n", "7:32",
	    "unknown action \"explode\" (use down, up, set, blackhole, restore, addr-del or "
	    "addr-add)");
	ERR(EVENTS "  - { link: l, action: down }\n", "7:5", "event needs at: (e.g. at: 5s)");
	ERR(EVENTS "  - { at: 5, link: l, action: down }\n", "7:11", "at \"5\" needs a unit");
	ERR(EVENTS "  - { at: 1s, link: l, action: set, rate: 1mbit, loss: 1%, rate: 2mbit }\n",
	    "7:60", "duplicate key \"rate\" in event (first at line 7)");
	ERR(EVENTS "  - { at: 1s, link: l, action: set, los: 1% }\n", "7:37",
	    "did you mean \"loss\"?");
	ERR(EVENTS "  - [1s, l, down]\n", "7:5", "an event must be a mapping");
	{
		struct topology *t = load(
			EVENTS
			"  - { at: 3s, link: m, action: addr-add, host: c }\n"
			"  - { at: 1s, link: l, action: set, dir: down, rate: 1mbit, queue: 20 }\n"
			"  - { at: 3s, link: l, action: restore }\n"
			"  - { at: 0s, link: l, action: set, dir: both, loss: { model: gemodel, p: "
			"5%, r: 10%, 1-h: 50%, 1-k: 1% } }\n");
		CHECK(t != NULL);
		CHECK_EQ(t->events[0].dir_mask, 3);
		CHECK_EQ(t->events[0].params.loss_model, TOPO_LOSS_GEMODEL);
		CHECK(t->events[0].params.loss[2] == 0.5 && t->events[0].params.loss[3] == 0.01);
		CHECK_EQ(t->events[1].dir_mask, 2);
		CHECK_EQ(t->events[1].params.set, TOPO_F_RATE | TOPO_F_QUEUE);
		CHECK_EQ(t->events[1].params.emu_pos.line, 0);
		CHECK_EQ(t->events[2].action, TOPO_EV_ADDR_ADD);
		CHECK_EQ(t->events[2].host, 2);
		CHECK_EQ(t->events[3].action, TOPO_EV_RESTORE);
		topo_free(t);
	}
}

TEST(topology_dir_apply)
{
	struct topo_dir d, s;

	memset(&d, 0, sizeof(d));
	memset(&s, 0, sizeof(s));
	d.set = TOPO_F_RATE | TOPO_F_DELAY;
	d.rate_bps = 5;
	d.delay_ns = 7;
	s.set = TOPO_F_TRACE | TOPO_F_LOSS;
	snprintf(s.trace, sizeof(s.trace), "/x");
	s.loss_model = TOPO_LOSS_RANDOM;
	s.loss[0] = 0.5;
	s.delay_ns = 99; /* not in the mask: ignored */
	topo_dir_apply(&d, &s);
	CHECK_EQ(d.set, TOPO_F_TRACE | TOPO_F_LOSS | TOPO_F_DELAY);
	CHECK_U64_EQ(d.rate_bps, 0);
	CHECK_U64_EQ(d.delay_ns, 7);
	CHECK_STR_EQ(d.trace, "/x");
	CHECK(d.loss[0] == 0.5);
}

/* Every shipped topology loads (tests run from the repository root). */
TEST(topology_shipped_files_load)
{
	DIR *dir = opendir("topologies");
	struct dirent *de;
	int n = 0;

	CHECK(dir != NULL);
	while ((de = readdir(dir))) {
		char path[512];
		struct topology *t = NULL;
		size_t len = strlen(de->d_name);

		if (len < 6 || strcmp(de->d_name + len - 5, ".yaml") != 0)
			continue;
		snprintf(path, sizeof(path), "topologies/%s", de->d_name);
		if (topo_load(path, &t, err)) {
			closedir(dir);
			test_fail(__FILE__, __LINE__, "%s", err);
		}
		CHECK(t->nlinks > 0);
		topo_free(t);
		n++;
	}
	closedir(dir);
	CHECK(n >= 4);
}

/* Every bad fixture fails with the position and message its first line expects. */
TEST(topology_bad_fixtures)
{
	DIR *dir = opendir("tests/bats/fixtures/bad");
	struct dirent *de;
	int n = 0;

	CHECK(dir != NULL);
	while ((de = readdir(dir))) {
		char path[512], first[512], want[600];
		struct topology *t = NULL;
		size_t len = strlen(de->d_name);
		FILE *f;

		if (len < 6 || strcmp(de->d_name + len - 5, ".yaml") != 0)
			continue;
		snprintf(path, sizeof(path), "tests/bats/fixtures/bad/%s", de->d_name);
		f = fopen(path, "r");
		CHECK(f != NULL);
		if (!fgets(first, sizeof(first), f))
			first[0] = '\0';
		fclose(f);
		first[strcspn(first, "\n")] = '\0';
		if (strncmp(first, "# expect: ", 10) != 0)
			test_fail(__FILE__, __LINE__, "%s: no '# expect: ' line", path);
		{
			int line = 0, col = 0, off = 0;

			if (sscanf(first + 10, "%d:%d: %n", &line, &col, &off) < 2 || !off)
				test_fail(__FILE__, __LINE__, "%s: bad expect line", path);
			snprintf(want, sizeof(want), "%s:%d:%d: ", path, line, col);
			if (topo_load(path, &t, err) == 0) {
				topo_free(t);
				test_fail(__FILE__, __LINE__, "%s loaded", path);
			}
			if (strncmp(err, want, strlen(want)) != 0 ||
			    !strstr(err, first + 10 + off)) {
				closedir(dir);
				test_fail(__FILE__, __LINE__, "%s: got \"%s\", want \"%s...%s\"",
					  path, err, want, first + 10 + off);
			}
		}
		n++;
	}
	closedir(dir);
	CHECK(n >= 15);
}

/* Every truncation of the full example either loads or fails with one positioned
 * line (no crash, no leak under ASan); the same for every byte replaced by junk. */
TEST(topology_truncations_and_mutations)
{
	size_t len = strlen(full);
	char *buf = malloc(len + 1);
	static const char junk[] = {':', '-', '[', '{', '"', '\t', '&', '*', ' ', 'x'};

	CHECK(buf != NULL);
	for (size_t n = 0; n <= len; n++) {
		struct topology *t = NULL;

		memcpy(buf, full, n);
		buf[n] = '\0';
		if (topo_load_string("t.yaml", buf, n, &t, err) == 0) {
			topo_free(t);
			continue;
		}
		CHECK(t == NULL);
		CHECK(strncmp(err, "t.yaml:", 7) == 0 && err[7] >= '1' && err[7] <= '9');
		CHECK(strchr(err, '\n') == NULL);
	}
	for (size_t i = 0; i < len; i++) {
		struct topology *t = NULL;

		memcpy(buf, full, len + 1);
		buf[i] = junk[i % sizeof(junk)];
		if (topo_load_string("t.yaml", buf, len, &t, err) == 0) {
			topo_free(t);
			continue;
		}
		CHECK(strncmp(err, "t.yaml:", 7) == 0 && err[7] >= '1' && err[7] <= '9');
	}
	free(buf);
}

/* queue: a limit, or { limit, codel }; codel true/false/{ target, interval }. */
TEST(topology_queue_codel)
{
	struct topology *t =
		load(HEAD "  - { name: l, between: [a, b], rate: 20mbit, queue: { limit: 500, "
			  "codel: { target: 10ms, interval: 200ms } } }\n"
			  "  - { name: m, between: [a, c], rate: 20mbit, up: { queue: { "
			  "codel: true } } }\n"
			  "events:\n"
			  "  - { at: 1s, link: m, action: set, dir: up, queue: { codel: "
			  "false } }\n");
	const struct topo_dir *d;

	CHECK(t != NULL);
	d = &t->links[0].dir[0];
	CHECK_EQ(d->set & (TOPO_F_QUEUE | TOPO_F_AQM), TOPO_F_QUEUE | TOPO_F_AQM);
	CHECK_EQ(d->queue, 500);
	CHECK_EQ(d->queue_unit, TOPO_QUEUE_PACKETS);
	CHECK(d->codel);
	CHECK_U64_EQ(d->codel_target_ns, 10000000);
	CHECK_U64_EQ(d->codel_interval_ns, 200000000);
	CHECK(t->links[0].dir[1].codel); /* both directions */
	/* codel: true = RFC 8289's defaults; the limit stays the default */
	d = &t->links[1].dir[0];
	CHECK_EQ(d->set & (TOPO_F_QUEUE | TOPO_F_AQM), TOPO_F_AQM);
	CHECK(d->codel);
	CHECK_U64_EQ(d->codel_target_ns, 5000000);
	CHECK_U64_EQ(d->codel_interval_ns, 100000000);
	CHECK(!t->links[1].dir[1].codel);
	/* codel needs the emulator (HTB has no AQM); the key is where it was given */
	CHECK(d->set & TOPO_F_NEEDS_EMULATOR);
	CHECK_EQ(d->emu_pos.line, 5);
	/* an event switches it off: only the AQM changes, not the limit */
	CHECK_EQ(t->events[0].params.set, TOPO_F_AQM);
	CHECK(!t->events[0].params.codel);
	topo_free(t);

	ERR(HEAD "  - { name: l, between: [a, b], queue: {} }\n", "4:40",
	    "queue needs limit: or codel:");
	ERR(HEAD "  - { name: l, between: [a, b], queue: { codel: { target: 0ms } } }\n", "4:59",
	    "codel target \"0ms\" must be above 0");
	ERR(HEAD "  - { name: l, between: [a, b], queue: { codel: { interval: 2ms } } }\n", "4:49",
	    "codel target (5000 us) must be below its interval (2000 us)");
	ERR(HEAD "  - { name: l, between: [a, b], queue: { codel: [5ms] } }\n", "4:49",
	    "codel must be true, false or a mapping");
	ERR(HEAD "  - { name: l, between: [a, b], queue: { limit: -3 } }\n", "4:49",
	    "negative queue \"-3\"");
}

/* congestion: libmpt's coupled controllers are names a `stack: mpt` host takes (reno
 * is newreno's other name); an unknown one is an error at its position. */
TEST(topology_congestion_coupled)
{
	static const char *const names[] = {"lia", "olia", "balia", "cubic", "newreno"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char yaml[256];
		struct topology *t;

		snprintf(yaml, sizeof(yaml),
			 "name: x\nhosts:\n  a: { stack: mpt, congestion: %s }\n  b: { stack: "
			 "kernel }\nlinks:\n  - { name: l, between: [a, b] }\n",
			 names[i]);
		t = load(yaml);
		CHECK_STR_EQ(err, "");
		CHECK(t != NULL);
		if (!t)
			continue;
		CHECK_STR_EQ(t->hosts[0].congestion, names[i]);
		CHECK_EQ(t->hosts[0].congestion_pos.line, 3);
		topo_free(t);
	}
	ERR("name: x\nhosts:\n  a: { stack: mpt, congestion: wvegas }\n", "3:32",
	    "congestion: libmpt (stack: mpt) has newreno, cubic, lia, olia, balia");
}
