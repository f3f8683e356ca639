/* The mpt-perf command lines `mpnet run` starts for an app: pure (no system calls),
 * so tests can check exactly what a topology turns into.
 *
 * For a `stack: mpt` end, the host's MPTCP configuration goes on the command line,
 * since libmpt lives in the mpt-perf process and has no system-wide path manager to
 * configure: one `--endpoint ADDR,id=N[,signal][,subflow][,backup][,fullmesh]` per
 * interface of the host that has `endpoint:` flags (its IPv4 address and endpoint id,
 * as world.c gives the kernel for `stack: kernel` hosts), and `--max-subflows` =
 * the host's `mptcp.subflows` + 1 (the kernel's limit counts the subflows added to
 * the first; libmpt's counts all).
 */
#ifndef MPNET_PERF_ARGV_H
#define MPNET_PERF_ARGV_H

#include "topology.h"

#include <stdbool.h>
#include <stddef.h>

#define PERF_ARGV_MAX 64

struct perf_argv {
	char *argv[PERF_ARGV_MAX + 1]; /* NULL-terminated; points into buf or literals */
	int argc;
	char buf[4096];
	size_t used;
};

/* The server of app a: `PERF -s -p PORT --stack S --once -J --ready-fd 3 [mpt]`.
 * Returns 0 or -1 (too many arguments). */
int perf_argv_server(struct perf_argv *pa, const struct topology *t, int a, const char *perf_bin);

/* The client of app a: `PERF -c ADDR -p PORT --stack S (-n B | -t S | --rr
 * REQ,RESP,N) [--stream RATEbit,CHUNK] [-R] -J -i I [mpt]`.  Returns 0 or -1. */
int perf_argv_client(struct perf_argv *pa, const struct topology *t, int a, const char *perf_bin,
		     double interval_s);

/* What a command app's command line needs besides the topology. */
struct perf_cmd_env {
	const char *mpt_run;  /* build/bin/mpt-run, for stack: mpt hosts */
	const char *mptcpize; /* mptcpize, for stack: kernel hosts */
	const char *run_dir;  /* {run_dir} */
	const char *mpt_log;  /* mpt-run --log FILE (stack: mpt hosts) */
};

/* One end (server when `server`, else client) of command app a: the end's command
 * with its placeholders expanded (topo_cmd_expand), run by `/bin/sh -c`, under the
 * host's stack: `mptcpize run /bin/sh -c CMD` on a kernel host (its TCP sockets
 * become MPTCP ones, as mpt-perf --stack kernel opens them), `MPT_RUN [--scheduler
 * S] [--path-manager P] [-C CC] --endpoint ... --max-subflows N --log LOG --
 * /bin/sh -c CMD` on a libmpt host (the same options mpt-perf gets), `/bin/sh -c
 * CMD` on a tcp host.  Returns 0 or -1 (too long). */
int perf_argv_command(struct perf_argv *pa, const struct topology *t, int a, bool server,
		      const struct perf_cmd_env *e);

/* argv joined with spaces (for messages and tests) into buf. */
const char *perf_argv_str(const struct perf_argv *pa, char *buf, size_t len);

#endif
