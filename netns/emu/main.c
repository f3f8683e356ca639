/* mpnet-linkemu: the userspace link emulator of one topology link.  Runs inside
 * the link's namespace and forwards frames between e0 and e1 (docs/EMULATOR.md).
 *
 *   mpnet-linkemu --config FILE.json --control PATH [--stats FILE]
 *                 [--pcap-dir DIR] [--ready-fd N] [--spin-us N]
 *                 [--busy-poll-us N] [--rt PRIO] [--spin-share PCT]
 *
 * and, as a control client of a running emulator (for scripts and tests):
 *
 *   mpnet-linkemu --ctl PATH stats
 *   mpnet-linkemu --ctl PATH blackhole on|off
 *   mpnet-linkemu --ctl PATH set up|down|both '{"set": ["delay"], "delay_ns": 10000000}'
 */
#include "emu_config.h"
#include "emu_ctl.h"
#include "emu_io.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: mpnet-linkemu --config FILE.json --control PATH [--stats FILE]\n"
		   "                     [--pcap-dir DIR] [--ready-fd N] [--spin-us N]\n"
		   "                     [--busy-poll-us N] [--rt PRIO] [--spin-share PCT]\n"
		   "       mpnet-linkemu --ctl PATH stats | blackhole on|off |\n"
		   "                     set up|down|both PARAMS-JSON\n");
}

static int ctl_main(const char *path, int argc, char **argv)
{
	int rc = -EINVAL;

	if (argc == 1 && !strcmp(argv[0], "stats")) {
		char *out;

		rc = emu_ctl_stats(path, &out);
		if (!rc) {
			printf("%s\n", out);
			free(out);
		}
	} else if (argc == 2 && !strcmp(argv[0], "blackhole") &&
		   (!strcmp(argv[1], "on") || !strcmp(argv[1], "off"))) {
		rc = emu_ctl_blackhole(path, !strcmp(argv[1], "on"));
	} else if (argc == 3 && !strcmp(argv[0], "set")) {
		int mask = !strcmp(argv[1], "up")     ? 1
			   : !strcmp(argv[1], "down") ? 2
			   : !strcmp(argv[1], "both") ? 3
						      : 0;
		json_t *j = json_loads(argv[2], 0, NULL);
		struct topo_dir p;
		char err[256];

		if (!mask || !j || emu_params_from_json(j, &p, err, sizeof(err))) {
			fprintf(stderr, "mpnet-linkemu: set: bad direction or parameters\n");
			json_decref(j);
			return 2;
		}
		json_decref(j);
		rc = emu_ctl_set(path, mask, &p);
	} else {
		usage(stderr);
		return 2;
	}
	if (rc) {
		fprintf(stderr, "mpnet-linkemu: %s: %s\n", path, strerror(-rc));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"control", required_argument, NULL, 'C'},
		{"stats", required_argument, NULL, 's'},
		{"pcap-dir", required_argument, NULL, 'p'},
		{"ready-fd", required_argument, NULL, 'r'},
		{"spin-us", required_argument, NULL, 'S'},
		{"busy-poll-us", required_argument, NULL, 'B'},
		{"rt", required_argument, NULL, 'R'},
		{"spin-share", required_argument, NULL, 'P'},
		{"ctl", required_argument, NULL, 'x'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct emu_opts o = {
		.ready_fd = -1, .busy_ns = EMU_BUSY_POLL_DEFAULT_NS, .rt_prio = EMU_RT_AUTO};
	const char *ctl = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o.config_path = optarg;
			break;
		case 'C':
			o.control_path = optarg;
			break;
		case 's':
			o.stats_path = optarg;
			break;
		case 'p':
			o.pcap_dir = optarg;
			break;
		case 'r':
			o.ready_fd = atoi(optarg);
			break;
		case 'S':
			o.spin_ns = strtoull(optarg, NULL, 10) * 1000;
			break;
		case 'B':
			o.busy_ns = strtoull(optarg, NULL, 10) * 1000;
			break;
		case 'R':
			o.rt_prio = atoi(optarg);
			break;
		case 'P':
			o.spin_share_pct = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'x':
			ctl = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (ctl)
		return ctl_main(ctl, argc - optind, argv + optind);
	if (!o.config_path || !o.control_path || optind != argc) {
		usage(stderr);
		return 2;
	}
	return emu_run(&o);
}
