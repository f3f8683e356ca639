/* `mpnet run`: build a topology, run its apps (mpt-perf on every client and
 * server), fire its events on time, collect what happened into a run directory,
 * and always tear down. */
#ifndef MPNET_SCENARIO_H
#define MPNET_SCENARIO_H

#include "topology.h"

#include <stdbool.h>

struct scenario_opts {
	const char *out_dir;	 /* NULL: results/<name>-<UTC timestamp>/ */
	const char *perf_bin;	 /* the mpt-perf binary */
	const char *mpt_run_bin; /* mpt-run, for command apps on libmpt hosts (NULL: beside
				  * perf_bin) */
	bool pcap;		 /* per-link pcaps (needs the link emulator) */
	bool quiet;		 /* no progress line, no summary on stdout */
	double interval_s;	 /* mpt-perf -i; default 0.01 (10 ms bins) */
};

/* Exit codes of mpnet. */
enum {
	MPNET_EXIT_OK = 0,
	MPNET_EXIT_APP_FAILED = 1, /* ran, but an app failed (bytes not verified, ...) */
	MPNET_EXIT_USAGE = 2,	   /* usage or topology error: nothing was created */
	MPNET_EXIT_SYSTEM = 3,	   /* the system refused (netlink, fork, ...) */
};

/* Run the scenario; returns one of the exit codes above.  Messages go to stderr,
 * the summary to stdout. */
int scenario_run(const struct topology *t, const struct scenario_opts *o);

/* The check `mpnet run` does before anything is created (apps' stacks, ...):
 * returns 0 or -1 with a FILE:LINE:COL message in err. */
int scenario_check(const struct topology *t, char err[TOPO_ERR_MAX]);

#endif
