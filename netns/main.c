/* mpnet: build YAML topologies of network namespaces and emulated links, run
 * traffic and events across them, and collect what happened. */
#include "rtnl.h"
#include "metrics.h"
#include "netnsfs.h"
#include "scenario.h"
#include "topo_json.h"
#include "topology.h"
#include "units.h"
#include "world.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char usage_text[] =
	"usage: mpnet COMMAND [ARGS]\n"
	"\n"
	"Build a topology of network namespaces from a YAML file (docs/TOPOLOGY.md), run\n"
	"traffic and events across it, and collect the results.\n"
	"\n"
	"commands:\n"
	"  check FILE                 parse and check FILE; create nothing\n"
	"  up FILE                    build the topology and leave it up\n"
	"  down FILE                  remove everything of FILE's topology\n"
	"  down --all                 remove everything any mpnet run left behind\n"
	"                             (namespaces mpn-* and mpnl-*, their processes, their\n"
	"                             state under /run/mpnet)\n"
	"  show FILE [--json]         hosts, interfaces, addresses, links and their parameters;\n"
	"                             link state and counters when the topology is up\n"
	"  exec FILE HOST -- CMD...   run CMD inside HOST's namespace (the topology must be up)\n"
	"  run FILE [--out DIR] [--seed N] [--interval S] [--pcap] [--quiet]\n"
	"                             up, start the apps, fire the events, collect, down;\n"
	"                             results in DIR (default results/<name>-<UTC timestamp>/);\n"
	"                             --pcap: every link through the link emulator, which\n"
	"                             writes DIR/pcap/<link>-up.pcap and <link>-down.pcap;\n"
	"                             --interval: mpt-perf's sample bin (default 0.01 s);\n"
	"                             writes timeseries.csv, plot.png and, per app and event\n"
	"                             that takes a path away, a handover record in summary.json\n"
	"  plot DIR                   redraw DIR/plot.png (script DIR/plot.gp) from a run's "
	"files;\n"
	"                             needs gnuplot\n"
	"\n"
	"Namespaces are named mpn-<topology>-<host> (hosts) and mpnl-<topology>-<link>\n"
	"(links), under /run/netns, so `ip netns exec` and `ip -n` work on them.\n"
	"MPNET_NS_PREFIX=P ([a-z0-9], 1..8 chars) uses P-... and Pl-... instead; down --all\n"
	"removes only the current prefix's namespaces (the test suite runs with its own).\n"
	"\n"
	"exit status: 0 ok; 1 the scenario ran but an app failed (bytes not verified,\n"
	"timeout, ...) or the run was interrupted; 2 usage or topology error (nothing\n"
	"created); 3 the system refused an operation (netlink, fork, ...).\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "mpnet: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'mpnet --help'.\n");
	return MPNET_EXIT_USAGE;
}

static struct topology *load(const char *path)
{
	struct topology *t = NULL;
	char err[TOPO_ERR_MAX];

	if (topo_load(path, &t, err)) {
		fprintf(stderr, "%s\n", err);
		return NULL;
	}
	return t;
}

static int cmd_check(int argc, char **argv)
{
	struct topology *t;
	char err[TOPO_ERR_MAX];
	int rc = MPNET_EXIT_OK;

	if (argc != 2)
		return usage_error("usage: mpnet check %s", "FILE");
	t = load(argv[1]);
	if (!t)
		return MPNET_EXIT_USAGE;
	if (scenario_check(t, err)) {
		fprintf(stderr, "%s\n", err);
		rc = MPNET_EXIT_USAGE;
	} else {
		printf("%s: ok (%d hosts, %d links, %d apps, %d events)\n", t->path, t->nhosts,
		       t->nlinks, t->napps, t->nevents);
	}
	topo_free(t);
	return rc;
}

static int cmd_up(int argc, char **argv)
{
	struct world w = {0};
	struct topology *t;
	struct timespec a, b;
	int rc = MPNET_EXIT_OK;

	if (argc != 2)
		return usage_error("usage: mpnet up %s", "FILE");
	t = load(argv[1]);
	if (!t)
		return MPNET_EXIT_USAGE;
	if (world_check(&w, t)) {
		fprintf(stderr, "%s\n", w.err);
		topo_free(t);
		return MPNET_EXIT_USAGE;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	if (world_up(&w, t)) {
		fprintf(stderr, "mpnet: %s\n", w.err);
		rc = MPNET_EXIT_SYSTEM;
	} else {
		clock_gettime(CLOCK_MONOTONIC, &b);
		printf("%s: up: %d hosts, %d links in %.3f s\n", t->name, t->nhosts, t->nlinks,
		       (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9);
		w.detach = true; /* the link emulators stay, until mpnet down */
		world_release(&w);
	}
	topo_free(t);
	return rc;
}

static int cmd_down(int argc, char **argv)
{
	struct topology *t;
	int n;

	if (argc != 2)
		return usage_error("usage: mpnet down %s", "FILE | mpnet down --all");
	if (geteuid() != 0) {
		fprintf(stderr, "mpnet: removing namespaces needs root; run mpnet as root\n");
		return MPNET_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--all")) {
		n = world_down_all();
		printf("removed %d namespaces\n", n);
		return MPNET_EXIT_OK;
	}
	t = load(argv[1]);
	if (!t)
		return MPNET_EXIT_USAGE;
	n = world_down_topology(t);
	printf("%s: removed %d namespaces\n", t->name, n);
	topo_free(t);
	return MPNET_EXIT_OK;
}

/* Live state of link l's two directions, from its namespace. */
static json_t *live_link(const struct topology *t, int l)
{
	char name[256];
	json_t *o = json_object();
	int fd;
	struct nlr *r;

	world_link_ns_name(t, l, name, sizeof(name));
	fd = netnsfs_open(name);
	if (fd < 0)
		return o;
	r = nlr_open(fd);
	for (int d = 0; r && d < 2; d++) {
		struct nlr_link_counters c;
		if (nlr_link_counters(r, d == 0 ? "e1" : "e0", &c) == 0)
			json_object_set_new(o, d ? "down" : "up",
					    json_pack("{s:b, s:I, s:I, s:I}", "carrier",
						      c.up && c.carrier, "tx_bytes",
						      (json_int_t)c.tx_bytes, "tx_packets",
						      (json_int_t)c.tx_packets, "dropped",
						      (json_int_t)(c.tx_dropped + c.qdisc_drops)));
	}
	nlr_close(r);
	close(fd);
	return o;
}

static void print_dir(const char *label, const struct topo_dir *d)
{
	char b[64];

	printf("      %-5s", label);
	if (d->rate_bps)
		printf(" rate %s", units_fmt_rate(d->rate_bps, b, sizeof(b)));
	else
		printf(" rate unlimited");
	if (d->set & TOPO_F_DELAY)
		printf(" delay %s", units_fmt_time(d->delay_ns, b, sizeof(b)));
	if (d->set & TOPO_F_JITTER)
		printf(" jitter %s", units_fmt_time(d->jitter_ns, b, sizeof(b)));
	if ((d->set & TOPO_F_LOSS) && d->loss_model == TOPO_LOSS_RANDOM)
		printf(" loss %g%%", d->loss[0] * 100);
	else if (d->set & TOPO_F_LOSS)
		printf(" loss (model)");
	if (d->set & TOPO_F_QUEUE)
		printf(" queue %llu%s", (unsigned long long)d->queue,
		       d->queue_unit == TOPO_QUEUE_PACKETS ? "p"
		       : d->queue_unit == TOPO_QUEUE_BYTES ? "B"
							   : "ns");
	else
		printf(" queue %dp (default)", WORLD_DEFAULT_QUEUE_PACKETS);
	if (d->set & TOPO_F_TRACE)
		printf(" trace %s", d->trace);
	if (d->codel)
		printf(" codel target %s", units_fmt_time(d->codel_target_ns, b, sizeof(b)));
	if (d->codel)
		printf(" interval %s", units_fmt_time(d->codel_interval_ns, b, sizeof(b)));
	printf("\n");
}

static int cmd_show(int argc, char **argv)
{
	bool as_json = false, up;
	const char *file = NULL;
	struct topology *t;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			as_json = true;
		else if (!file && argv[i][0] != '-')
			file = argv[i];
		else
			return usage_error("show: unexpected argument '%s'", argv[i]);
	}
	if (!file)
		return usage_error("usage: mpnet show %s", "FILE [--json]");
	t = load(file);
	if (!t)
		return MPNET_EXIT_USAGE;
	up = geteuid() == 0 && world_is_up(t);
	if (as_json) {
		json_t *o = topo_json(t), *links = json_object_get(o, "links");
		json_object_set_new(o, "up", json_boolean(up));
		for (int l = 0; up && l < t->nlinks; l++)
			json_object_set_new(json_array_get(links, (size_t)l), "state",
					    live_link(t, l));
		json_dumpf(o, stdout, JSON_INDENT(2));
		printf("\n");
		json_decref(o);
		topo_free(t);
		return MPNET_EXIT_OK;
	}
	printf("topology %s (%s), seed %llu, %s\n", t->name, t->path, (unsigned long long)t->seed,
	       up ? "up" : "not up");
	printf("hosts:\n");
	for (int h = 0; h < t->nhosts; h++) {
		char ns[256];
		world_host_ns_name(t, h, ns, sizeof(ns));
		printf("  %-12s stack %-6s%s  namespace %s\n", t->hosts[h].name,
		       topo_stack_name(t->hosts[h].stack), t->hosts[h].forward ? " router" : "",
		       ns);
		for (int l = 0; l < t->nlinks; l++)
			for (int e = 0; e < 2; e++) {
				const struct topo_iface *i = &t->links[l].end[e];
				char a4[NETADDR_STRLEN], a6[NETADDR_STRLEN], fl[64];
				if (i->host != h)
					continue;
				printf("    %-15s %-18s %s", i->ifname,
				       netaddr_fmt(&i->addr4, true, a4, sizeof(a4)),
				       i->addr6.family
					       ? netaddr_fmt(&i->addr6, true, a6, sizeof(a6))
					       : "");
				if (i->endpoint_set)
					printf("  endpoint id %d %s", i->endpoint_id,
					       topo_endpoint_flags_str(i->endpoint_flags, fl,
								       sizeof(fl)));
				printf("\n");
			}
	}
	printf("links:\n");
	for (int l = 0; l < t->nlinks; l++) {
		const struct topo_link *lk = &t->links[l];
		printf("  %-12s %s <-> %s\n", lk->name, t->hosts[lk->end[0].host].name,
		       t->hosts[lk->end[1].host].name);
		print_dir("up", &lk->dir[0]);
		print_dir("down", &lk->dir[1]);
		if (up) {
			json_t *s = live_link(t, l), *v;
			const char *k;
			json_object_foreach(s, k, v)
			{
				printf("      %-5s carrier %s, %lld bytes, %lld packets, %lld "
				       "dropped\n",
				       k,
				       json_is_true(json_object_get(v, "carrier")) ? "on" : "off",
				       (long long)json_integer_value(
					       json_object_get(v, "tx_bytes")),
				       (long long)json_integer_value(
					       json_object_get(v, "tx_packets")),
				       (long long)json_integer_value(
					       json_object_get(v, "dropped")));
			}
			json_decref(s);
		}
	}
	if (t->napps)
		printf("apps:\n");
	for (int a = 0; a < t->napps; a++) {
		const struct topo_app *ap = &t->apps[a];
		char addr[NETADDR_STRLEN], b[64], w1[32], w2[32];

		if (ap->mode == TOPO_MODE_COMMAND) {
			printf("  %-12s %s -> %s (%s:%u) command\n      client: %s\n      server: "
			       "%s\n",
			       ap->name, t->hosts[ap->client].name, t->hosts[ap->server].name,
			       netaddr_fmt(&ap->server_addr, false, addr, sizeof(addr)), ap->port,
			       ap->client_cmd, ap->server_cmd);
			continue;
		}
		if (ap->mode == TOPO_MODE_RR)
			snprintf(b, sizeof(b), "%s up / %s down x %u",
				 units_fmt_size(ap->request, w1, sizeof(w1)),
				 units_fmt_size(ap->response, w2, sizeof(w2)), ap->exchanges);
		else if (ap->bytes)
			units_fmt_size(ap->bytes, b, sizeof(b));
		else
			units_fmt_time(ap->time_ns, b, sizeof(b));
		if (ap->mode == TOPO_MODE_STREAM)
			snprintf(b + strlen(b), sizeof(b) - strlen(b), " stream: %s chunks at %s",
				 units_fmt_size(ap->chunk, w1, sizeof(w1)),
				 units_fmt_rate(ap->rate_bps, w2, sizeof(w2)));
		printf("  %-12s %s -> %s (%s:%u) %s %s\n", ap->name, t->hosts[ap->client].name,
		       t->hosts[ap->server].name,
		       netaddr_fmt(&ap->server_addr, false, addr, sizeof(addr)), ap->port,
		       ap->mode == TOPO_MODE_RR	      ? "rr"
		       : ap->direction == TOPO_UPLOAD ? "upload"
						      : "download",
		       b);
	}
	if (t->nevents)
		printf("events:\n");
	for (int i = 0; i < t->nevents; i++) {
		const struct topo_event *e = &t->events[i];
		char b[64];
		printf("  %-8s %-10s %s%s%s\n", units_fmt_time(e->at_ns, b, sizeof(b)),
		       topo_action_name(e->action), t->links[e->link].name,
		       e->host >= 0 ? " host " : "", e->host >= 0 ? t->hosts[e->host].name : "");
	}
	topo_free(t);
	return MPNET_EXIT_OK;
}

static int cmd_exec(int argc, char **argv)
{
	struct topology *t;
	int h, i = 3;

	if (argc < 4)
		return usage_error("usage: mpnet exec %s", "FILE HOST -- CMD [ARGS...]");
	if (!strcmp(argv[3], "--"))
		i = 4;
	if (i >= argc)
		return usage_error("exec: no command given (%s)", "mpnet exec FILE HOST -- CMD");
	t = load(argv[1]);
	if (!t)
		return MPNET_EXIT_USAGE;
	h = topo_host_find(t, argv[2]);
	if (h < 0) {
		fprintf(stderr, "mpnet: exec: no host '%s' in %s\n", argv[2], t->path);
		topo_free(t);
		return MPNET_EXIT_USAGE;
	}
	if (geteuid() != 0 || !world_is_up(t)) {
		fprintf(stderr, "mpnet: exec: topology %s is not up (run: mpnet up %s, as root)\n",
			t->name, t->path);
		topo_free(t);
		return MPNET_EXIT_USAGE;
	}
	if (world_enter_host(t, h)) {
		fprintf(stderr, "mpnet: exec: cannot enter host %s: %s\n", argv[2],
			strerror(errno));
		topo_free(t);
		return MPNET_EXIT_SYSTEM;
	}
	topo_free(t);
	execvp(argv[i], argv + i);
	fprintf(stderr, "mpnet: exec: %s: %s\n", argv[i], strerror(errno));
	return 127;
}

static void perf_path(char *buf, size_t len)
{
	const char *env = getenv("MPNET_PERF");
	char self[PATH_MAX - 64];
	ssize_t n;
	char *slash;

	if (env && *env) {
		snprintf(buf, len, "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0) {
		snprintf(buf, len, "mpt-perf");
		return;
	}
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	snprintf(buf, len, "%s/mpt-perf", self);
}

static int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{"out", required_argument, NULL, 'o'},	    {"seed", required_argument, NULL, 's'},
		{"interval", required_argument, NULL, 'i'}, {"quiet", no_argument, NULL, 'q'},
		{"pcap", no_argument, NULL, 'P'},	    {NULL, 0, NULL, 0},
	};
	struct scenario_opts o = {.interval_s = 0.01};
	char perf[PATH_MAX], mpt_run[PATH_MAX + 8];
	bool seed_set = false;
	unsigned long long seed = 0;
	struct topology *t;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:s:i:q", opts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'o':
			o.out_dir = optarg;
			break;
		case 's':
			errno = 0;
			seed = strtoull(optarg, &end, 0);
			if (errno || *end || optarg[0] == '-')
				return usage_error("--seed: '%s' is not a non-negative integer",
						   optarg);
			seed_set = true;
			break;
		case 'i':
			o.interval_s = strtod(optarg, &end);
			if (*end || !(o.interval_s >= 0.001 && o.interval_s <= 60))
				return usage_error("--interval: '%s' is not a number of seconds in "
						   "[0.001, 60]",
						   optarg);
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'P':
			o.pcap = true;
			break;
		default:
			return usage_error("run: bad option (%s)", "see mpnet --help");
		}
	}
	if (optind != argc - 1)
		return usage_error("usage: mpnet run %s", "FILE [--out DIR] [--seed N]");
	t = load(argv[optind]);
	if (!t)
		return MPNET_EXIT_USAGE;
	if (seed_set) {
		t->seed = seed;
		t->seed_set = true;
	}
	perf_path(perf, sizeof(perf));
	if (t->napps && access(perf, X_OK)) {
		fprintf(stderr,
			"mpnet: the traffic tool %s is missing (run make, or set MPNET_PERF)\n",
			perf);
		topo_free(t);
		return MPNET_EXIT_USAGE;
	}
	o.perf_bin = perf;
	{ /* mpt-run beside mpt-perf, for command apps on libmpt hosts */
		char *slash = strrchr(perf, '/');

		snprintf(mpt_run, sizeof(mpt_run), "%.*s%smpt-run", slash ? (int)(slash - perf) : 0,
			 perf, slash ? "/" : "");
		o.mpt_run_bin = mpt_run;
	}
	rc = scenario_run(t, &o);
	topo_free(t);
	return rc;
}

static int cmd_plot(int argc, char **argv)
{
	if (argc != 2)
		return usage_error("usage: mpnet plot %s", "DIR");
	if (metrics_run(argv[1], MX_PLOT | MX_PRINT))
		return MPNET_EXIT_USAGE;
	return MPNET_EXIT_OK;
}

int main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2) {
		fputs(usage_text, stderr);
		return MPNET_EXIT_USAGE;
	}
	cmd = argv[1];
	{
		const char *p = getenv("MPNET_NS_PREFIX");
		if (p && *p &&
		    (strlen(p) > 8 ||
		     strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789") != strlen(p))) {
			fprintf(stderr,
				"mpnet: MPNET_NS_PREFIX='%s': use 1 to 8 characters of "
				"[a-z0-9]\n",
				p);
			return MPNET_EXIT_USAGE;
		}
	}
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		fputs(usage_text, stdout);
		return MPNET_EXIT_OK;
	}
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage_text, stdout);
			return MPNET_EXIT_OK;
		}
	}
	if (!strcmp(cmd, "check"))
		return cmd_check(argc - 1, argv + 1);
	if (!strcmp(cmd, "up"))
		return cmd_up(argc - 1, argv + 1);
	if (!strcmp(cmd, "down"))
		return cmd_down(argc - 1, argv + 1);
	if (!strcmp(cmd, "show"))
		return cmd_show(argc - 1, argv + 1);
	if (!strcmp(cmd, "exec"))
		return cmd_exec(argc - 1, argv + 1);
	if (!strcmp(cmd, "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(cmd, "plot"))
		return cmd_plot(argc - 1, argv + 1);
	return usage_error("unknown command '%s'", cmd);
}
