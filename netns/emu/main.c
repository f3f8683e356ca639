/* mpnet-linkemu: the userspace link emulator of one topology link.  Runs inside
 * the link's namespace and forwards frames between e0 and e1 (docs/EMULATOR.md).
 *
 *   mpnet-linkemu --config FILE.json --control PATH [--stats FILE]
 *                 [--pcap-dir DIR] [--ready-fd N] [--spin-us N]
 */
#include "emu_io.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: mpnet-linkemu --config FILE.json --control PATH [--stats FILE]\n"
		   "                     [--pcap-dir DIR] [--ready-fd N] [--spin-us N]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'}, {"control", required_argument, NULL, 'C'},
		{"stats", required_argument, NULL, 's'},  {"pcap-dir", required_argument, NULL, 'p'},
		{"ready-fd", required_argument, NULL, 'r'}, {"spin-us", required_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},	  {NULL, 0, NULL, 0},
	};
	struct emu_opts o = {.ready_fd = -1};
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
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!o.config_path || !o.control_path || optind != argc) {
		usage(stderr);
		return 2;
	}
	return emu_run(&o);
}
