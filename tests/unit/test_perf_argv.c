/* The mpt-perf command lines mpnet run builds: libmpt hosts get their endpoints and
 * subflow limit on the command line, kernel and TCP hosts do not. */
#include "perf_argv.h"
#include "test.h"
#include "topology.h"

static const char yaml[] =
	"name: pa\n"
	"hosts:\n"
	"  client: { stack: mpt, mptcp: { subflows: 2 }, path_manager: \"ndiffports:3\" }\n"
	"  r: { forward: true }\n"
	"  server: { stack: mpt, congestion: reno, scheduler: redundant }\n"
	"  k: { stack: kernel, congestion: bbr, scheduler: default, path_manager: kernel }\n"
	"links:\n"
	"  - { name: wifi, between: [client, r] }\n"
	"  - { name: lte, between: [client, r], endpoint: [subflow, backup] }\n"
	"  - { name: lan, between: [r, server], endpoint: { server: [signal] } }\n"
	"  - { name: kl, between: [k, r], endpoint: [subflow] }\n"
	"apps:\n"
	"  - { name: up, client: client, server: server, time: 2s }\n"
	"  - { name: down, client: k, server: server, bytes: 1MB, direction: "
	"download }\n";

TEST(perf_argv_mpt_endpoints_and_limits)
{
	struct topology *t = NULL;
	struct perf_argv pa;
	char err[TOPO_ERR_MAX], s[2048];

	if (topo_load_string("pa.yaml", yaml, strlen(yaml), &t, err))
		test_fail(__FILE__, __LINE__, "load: %s", err);
	CHECK_EQ(perf_argv_client(&pa, t, 0, "/b/mpt-perf", 0.01), 0);
	CHECK_STR_EQ(perf_argv_str(&pa, s, sizeof(s)),
		     "/b/mpt-perf -c 198.18.2.2 -p 5201 --stack mpt -t 2.000 -J -i 0.01 "
		     "--path-manager ndiffports:3 --endpoint 198.18.1.1,id=1,subflow,backup "
		     "--max-subflows 3");
	CHECK(pa.argv[pa.argc] == NULL);
	CHECK_EQ(perf_argv_server(&pa, t, 0, "/b/mpt-perf"), 0);
	CHECK_STR_EQ(perf_argv_str(&pa, s, sizeof(s)),
		     "/b/mpt-perf -s -p 5201 --stack mpt --once -J --ready-fd 3 -C newreno "
		     "--scheduler redundant --endpoint 198.18.2.2,id=1,signal --max-subflows 9");
	/* a kernel client: its endpoints are the kernel's (world.c), none here; its
	 * congestion control goes on the command line as for libmpt */
	CHECK_EQ(perf_argv_client(&pa, t, 1, "/b/mpt-perf", 0.5), 0);
	CHECK_STR_EQ(perf_argv_str(&pa, s, sizeof(s)),
		     "/b/mpt-perf -c 198.18.2.2 -p 5202 --stack kernel -n 1000000 -R -J -i 0.5 "
		     "-C bbr");
	topo_free(t);
}
