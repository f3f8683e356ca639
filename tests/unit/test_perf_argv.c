/* The mpt-perf command lines mpnet run builds: libmpt hosts get their endpoints and
 * subflow limit on the command line, kernel and TCP hosts do not. */
#include "perf_args.h"
#include "perf_argv.h"
#include "test.h"
#include "topology.h"

static const char yaml[] =
	"name: pa\n"
	"hosts:\n"
	"  client: { stack: mpt, mptcp: { subflows: 2 }, path_manager: \"ndiffports:3\" }\n"
	"  r: { forward: true }\n"
	"  server: { stack: mpt, congestion: reno, scheduler: \"roundrobin:4\" }\n"
	"  k: { stack: kernel, congestion: bbr, scheduler: default, path_manager: kernel }\n"
	"links:\n"
	"  - { name: wifi, between: [client, r] }\n"
	"  - { name: lte, between: [client, r], endpoint: [subflow, backup] }\n"
	"  - { name: lan, between: [r, server], endpoint: { server: [signal] } }\n"
	"  - { name: kl, between: [k, r], endpoint: [subflow] }\n"
	"apps:\n"
	"  - { name: up, client: client, server: server, time: 2s }\n"
	"  - { name: down, client: k, server: server, bytes: 1MB, direction: "
	"download }\n"
	"  - { name: web, client: k, server: server, mode: rr, request: 100, response: 256KiB, "
	"exchanges: 20 }\n"
	"  - { name: tv, client: client, server: server, mode: stream, rate: 8mbit, chunk: 64KiB, "
	"time: 3s, direction: download }\n"
	"  - { name: small, client: k, server: server, bytes: 2MiB, rcvbuf: 64KiB, direction: "
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
		     "--scheduler roundrobin:4 --endpoint 198.18.2.2,id=1,signal --max-subflows 9");
	/* a kernel client: its endpoints are the kernel's (world.c), none here; its
	 * congestion control goes on the command line as for libmpt */
	CHECK_EQ(perf_argv_client(&pa, t, 1, "/b/mpt-perf", 0.5), 0);
	CHECK_STR_EQ(perf_argv_str(&pa, s, sizeof(s)),
		     "/b/mpt-perf -c 198.18.2.2 -p 5202 --stack kernel -n 1000000 -R -J -i 0.5 "
		     "-C bbr");
	/* the workloads: --rr instead of an amount; --stream beside one */
	CHECK_EQ(perf_argv_client(&pa, t, 2, "/b/mpt-perf", 1), 0);
	CHECK_STR_EQ(perf_argv_str(&pa, s, sizeof(s)),
		     "/b/mpt-perf -c 198.18.2.2 -p 5203 --stack kernel --rr 100,262144,20 -J -i 1 "
		     "-C bbr");
	CHECK_EQ(perf_argv_client(&pa, t, 3, "/b/mpt-perf", 1), 0);
	CHECK_STR_EQ(perf_argv_str(&pa, s, sizeof(s)),
		     "/b/mpt-perf -c 198.18.2.2 -p 5204 --stack mpt -t 3.000 --stream "
		     "8000000bit,65536 -R -J -i 1 --path-manager ndiffports:3 "
		     "--endpoint 198.18.1.1,id=1,subflow,backup --max-subflows 3");
	/* and mpt-perf takes what mpnet writes */
	{
		struct perf_opts o;
		char e2[256];

		CHECK_EQ(perf_args_parse(pa.argc, pa.argv, &o, e2, sizeof(e2)), 0);
		CHECK_EQ(o.workload, PERF_WL_STREAM);
		CHECK_U64_EQ(o.stream_rate, 1000000);
		CHECK_U64_EQ(o.stream_chunk, 65536);
		CHECK_EQ(perf_argv_client(&pa, t, 2, "/b/mpt-perf", 1), 0);
		CHECK_EQ(perf_args_parse(pa.argc, pa.argv, &o, e2, sizeof(e2)), 0);
		CHECK_EQ(o.workload, PERF_WL_RR);
		CHECK_EQ(o.rr_n, 20);
	}
	/* rcvbuf: on both ends' command lines, in bytes, and mpt-perf takes it */
	CHECK_EQ(perf_argv_client(&pa, t, 4, "/b/mpt-perf", 1), 0);
	CHECK_STR_EQ(perf_argv_str(&pa, s, sizeof(s)),
		     "/b/mpt-perf -c 198.18.2.2 -p 5205 --stack kernel -n 2097152 -R -J -i 1 "
		     "--rcvbuf 65536 -C bbr");
	{
		struct perf_opts o;
		char e2[256];

		CHECK_EQ(perf_args_parse(pa.argc, pa.argv, &o, e2, sizeof(e2)), 0);
		CHECK_U64_EQ(o.rcvbuf, 65536);
		CHECK_EQ(perf_argv_server(&pa, t, 4, "/b/mpt-perf"), 0);
		CHECK_STR_EQ(perf_argv_str(&pa, s, sizeof(s)),
			     "/b/mpt-perf -s -p 5205 --stack mpt --once -J --ready-fd 3 --rcvbuf "
			     "65536 -C newreno --scheduler roundrobin:4 --endpoint "
			     "198.18.2.2,id=1,signal --max-subflows 9");
		/* without rcvbuf: no --rcvbuf, the stacks' defaults */
		CHECK_EQ(perf_argv_server(&pa, t, 1, "/b/mpt-perf"), 0);
		CHECK(!strstr(perf_argv_str(&pa, s, sizeof(s)), "--rcvbuf"));
	}
	topo_free(t);
}

/* mpt-perf's own command line: --rr and --stream, and each mistake one line naming
 * the fix (main prints it and exits 2). */

static int perf_parse(struct perf_opts *o, char *err, const char *const *args)
{
	char *argv[32];
	int argc = 0;

	argv[argc++] = (char *)"mpt-perf";
	while (*args)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	err[0] = '\0';
	return perf_args_parse(argc, argv, o, err, 256);
}

#define PARSE(...) perf_parse(&o, err, (const char *const[]){__VA_ARGS__, NULL})

TEST(perf_args_rr_and_stream)
{
	struct perf_opts o;
	char err[256];

	CHECK_EQ(PARSE("-c", "10.0.0.2", "--rr", "100,256KiB,200"), 0);
	CHECK_EQ(o.workload, PERF_WL_RR);
	CHECK_U64_EQ(o.rr_req, 100);
	CHECK_U64_EQ(o.rr_resp, 262144);
	CHECK_EQ(o.rr_n, 200);
	CHECK_U64_EQ(o.amount, 200);
	CHECK_EQ(PARSE("-c", "10.0.0.2", "--rr", "1kB,1MB"), 0);
	CHECK_EQ(o.rr_n, PERF_RR_DEFAULT_N);
	CHECK_U64_EQ(o.rr_req, 1000);
	CHECK_U64_EQ(o.rr_resp, 1000000);

	CHECK_EQ(PARSE("-c", "10.0.0.2", "--stream", "8mbit,64KiB", "-t", "10"), 0);
	CHECK_EQ(o.workload, PERF_WL_STREAM);
	CHECK_U64_EQ(o.stream_rate, 1000000); /* bytes per second */
	CHECK_U64_EQ(o.stream_chunk, 65536);
	CHECK(o.time_mode);
	CHECK_EQ(PARSE("-c", "10.0.0.2", "--stream", "1mbit,1000", "-n", "100kB", "-R"), 0);
	CHECK(o.reverse && !o.time_mode);
	CHECK_EQ(PARSE("-c", "10.0.0.2", "-n", "1MiB"), 0);
	CHECK_EQ(o.workload, PERF_WL_BULK);
}

TEST(perf_args_rr_and_stream_mistakes)
{
	struct perf_opts o;
	char err[256];

	CHECK_EQ(PARSE("-c", "10.0.0.2", "--rr", "100"), -1);
	CHECK_STR_EQ(err, "--rr 100: give REQ,RESP[,N]: request and response bytes and the "
			  "number of exchanges, e.g. 100,256KiB,200 (N default 100)");
	CHECK_EQ(PARSE("-c", "10.0.0.2", "--rr", "100,,3"), -1);
	CHECK_CONTAINS(err, "give REQ,RESP[,N]");
	CHECK_EQ(PARSE("-c", "10.0.0.2", "--rr", "100,1zB,3"), -1); /* no such unit */
	CHECK_CONTAINS(err, "give REQ,RESP[,N]");
	CHECK_EQ(PARSE("-c", "10.0.0.2", "--rr", "100,1kB,3,4"), -1);
	CHECK_CONTAINS(err, "give REQ,RESP[,N]");
	CHECK_EQ(PARSE("-c", "10.0.0.2", "--rr", "0,1kB"), -1);
	CHECK_STR_EQ(err, "--rr 0,1kB: REQ and RESP must be 1 byte to 1GiB");
	CHECK_EQ(PARSE("-c", "10.0.0.2", "--rr", "1,2GiB"), -1);
	CHECK_STR_EQ(err, "--rr 1,2GiB: REQ and RESP must be 1 byte to 1GiB");
	CHECK_EQ(PARSE("-c", "10.0.0.2", "--rr", "1,1,0"), -1);
	CHECK_STR_EQ(err, "--rr 1,1,0: N must be 1 to 1000000 exchanges");
	CHECK_EQ(PARSE("-c", "10.0.0.2", "--rr", "1,1,x"), -1);
	CHECK_CONTAINS(err, "give REQ,RESP[,N]");
	CHECK_EQ(PARSE("-c", "10.0.0.2", "--rr", "1,1", "-n", "1MiB"), -1);
	CHECK_STR_EQ(err, "--rr sets the amount (N exchanges): drop -n, or give N in --rr "
			  "REQ,RESP,N");
	CHECK_EQ(PARSE("-c", "10.0.0.2", "--rr", "1,1", "-R"), -1);
	CHECK_CONTAINS(err, "drop -R");
	CHECK_EQ(PARSE("-c", "10.0.0.2", "--rr", "1,1", "--stream", "1mbit,1kB", "-t", "1"), -1);
	CHECK_STR_EQ(err, "--rr and --stream exclude each other: pick one");
	CHECK_EQ(PARSE("-s", "--rr", "1,1"), -1);
	CHECK_CONTAINS(err, "--rr and --stream are client options");

	CHECK_EQ(PARSE("-c", "10.0.0.2", "--stream", "8000000,64KiB", "-t", "1"), -1);
	CHECK_STR_EQ(err, "--stream 8000000,64KiB: give RATE,CHUNK: a rate with its unit and "
			  "the bytes written each CHUNK/RATE seconds, e.g. 8mbit,64KiB");
	CHECK_EQ(PARSE("-c", "10.0.0.2", "--stream", "8mbit", "-t", "1"), -1);
	CHECK_CONTAINS(err, "give RATE,CHUNK");
	CHECK_EQ(PARSE("-c", "10.0.0.2", "--stream", "8mbit,15", "-t", "1"), -1);
	CHECK_STR_EQ(err, "--stream 8mbit,15: CHUNK must be 16 bytes (its time stamp) to 1GiB");
	CHECK_EQ(PARSE("-c", "10.0.0.2", "--stream", "4bit,1kB", "-t", "1"), -1);
	CHECK_STR_EQ(err, "--stream 4bit,1kB: RATE must be at least 8bit (1 byte/s)");
	CHECK_EQ(PARSE("-c", "10.0.0.2", "--stream", "8mbit,1000", "-n", "1500"), -1);
	CHECK_STR_EQ(err, "-n 1500 with --stream: give a multiple of the chunk (1000 bytes), or "
			  "use -t SECONDS");
	CHECK_EQ(PARSE("-c", "10.0.0.2", "--stream", "8mbit,1000"), -1);
	CHECK_STR_EQ(err, "the client needs -n BYTES or -t SECONDS");
}

/* Command apps: the host's stack wraps `/bin/sh -c CMD` (mptcpize run on a kernel
 * host, mpt-run with the host's libmpt options on a libmpt host, nothing on a tcp
 * host), and the placeholders are expanded. */
TEST(perf_argv_command_apps)
{
	static const char y[] =
		"name: pc\n"
		"hosts:\n"
		"  m: { stack: mpt, mptcp: { subflows: 2 }, scheduler: redundant }\n"
		"  k: { stack: kernel }\n"
		"  p: { stack: tcp }\n"
		"links:\n"
		"  - { name: wifi, between: [m, k] }\n"
		"  - { name: lte, between: [m, k], endpoint: [subflow] }\n"
		"  - { name: pl, between: [p, m] }\n"
		"apps:\n"
		"  - name: ip\n"
		"    client: { host: m, command: \"iperf3 -c {server_addr} -p {port} -t 3\" }\n"
		"    server: { host: k, command: \"iperf3 -s -1 -p {port}\" }\n"
		"  - name: web\n"
		"    client: { host: p, command: \"curl -o {run_dir}/{app}.bin "
		"'http://{server_addr_url}:{port}/f'\" }\n"
		"    server: { host: m, command: \"python3 -m http.server {port}\" }\n"
		"    ipv6: true\n";
	const struct perf_cmd_env e = {"/b/mpt-run", "/usr/bin/mptcpize", "/r/run1", "/r/l.log"};
	struct topology *t = NULL;
	struct perf_argv pa;
	char err[TOPO_ERR_MAX], s[2048];

	if (topo_load_string("pc.yaml", y, strlen(y), &t, err))
		test_fail(__FILE__, __LINE__, "load: %s", err);
	CHECK_EQ(perf_argv_command(&pa, t, 0, false, &e), 0);
	CHECK_STR_EQ(
		perf_argv_str(&pa, s, sizeof(s)),
		"/b/mpt-run --scheduler redundant --endpoint 198.18.1.1,id=1,subflow "
		"--max-subflows 3 --log /r/l.log -- /bin/sh -c iperf3 -c 198.18.0.2 -p 5201 -t 3");
	CHECK_EQ(pa.argc, 13);
	CHECK_STR_EQ(pa.argv[12], "iperf3 -c 198.18.0.2 -p 5201 -t 3");
	CHECK_EQ(perf_argv_command(&pa, t, 0, true, &e), 0);
	CHECK_STR_EQ(perf_argv_str(&pa, s, sizeof(s)),
		     "/usr/bin/mptcpize run /bin/sh -c iperf3 -s -1 -p 5201");
	CHECK_EQ(perf_argv_command(&pa, t, 1, false, &e), 0);
	CHECK_EQ(pa.argc, 3);
	CHECK_STR_EQ(pa.argv[0], "/bin/sh");
	CHECK_STR_EQ(pa.argv[2], "curl -o /r/run1/web.bin 'http://[2001:db8::1]:5202/f'");
	CHECK_EQ(perf_argv_command(&pa, t, 1, true, &e), 0);
	CHECK_STR_EQ(pa.argv[0], "/b/mpt-run");
	CHECK_STR_EQ(pa.argv[pa.argc - 1], "python3 -m http.server 5202");
	CHECK(pa.argv[pa.argc] == NULL);
	topo_free(t);
}
