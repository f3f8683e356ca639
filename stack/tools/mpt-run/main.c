/* mpt-run: run an unmodified program with its TCP sockets on libmpt.  It puts
 * libmpt-preload.so (stack/preload/so/shim.c) in LD_PRELOAD, hands its options over
 * as MPT_RUN_* variables (stack/preload/pl.h) and execs the program. */
#include "pl.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
	"usage: mpt-run [options] [--] PROGRAM [ARGS...]\n"
	"\n"
	"Runs PROGRAM with its TCP sockets (AF_INET/AF_INET6 SOCK_STREAM, protocol 0,\n"
	"IPPROTO_TCP or IPPROTO_MPTCP) on libmpt, the userspace MPTCP stack, through an\n"
	"LD_PRELOAD library.  Run it as root inside a host of a topology:\n"
	"  mpnet exec FILE HOST -- mpt-run iperf3 -c 198.18.2.2\n"
	"libmpt starts at the program's first TCP socket on every non-loopback address of the\n"
	"namespace and follows its `ip mptcp endpoint` and `ip mptcp limits` as the kernel\n"
	"would.  Sockets bound or connected to loopback (127.0.0.0/8, ::1) or connected to an\n"
	"address of this host are the kernel's; a listener on the any address is libmpt's and\n"
	"serves the interfaces only.  UDP and other sockets are untouched.  At exit, open\n"
	"sockets are closed and closed connections get --linger seconds to deliver their data.\n"
	"\n"
	"options:\n"
	"  -S, --scheduler NAME        libmpt's MPTCP scheduler (`list` prints them)\n"
	"  -P, --path-manager NAME[:ARG]  libmpt's path manager (`list` prints them)\n"
	"  -C, --congestion ALGO       congestion control, default cubic (`list` prints them)\n"
	"  -e, --endpoint ADDR[,id=N][,signal][,subflow][,backup][,fullmesh]\n"
	"                              an MPTCP endpoint, instead of the namespace's\n"
	"                              `ip mptcp endpoint` ones (repeatable)\n"
	"  -m, --max-subflows N        subflows per connection counting the first (1..255),\n"
	"                              instead of `ip mptcp limits`\n"
	"      --no-mptcp              libmpt speaks plain TCP\n"
	"  -l, --log FILE              a log: libmpt's start, each listener's port (the\n"
	"                              kernel's ss does not see them), sockets given to the\n"
	"                              kernel, and at exit libmpt's counters (nstat's form)\n"
	"      --linger SECONDS        how long connections closed at exit may take to finish\n"
	"                              (0..3600, default 10)\n"
	"      --lib PATH              the preload library (default: ../lib/libmpt-preload.so\n"
	"                              beside mpt-run)\n"
	"  -h, --help                  this text\n"
	"\n"
	"exit status: PROGRAM's; 2 for a bad option, 127 when PROGRAM cannot be run.\n";

enum { OPT_NO_MPTCP = 256, OPT_LINGER, OPT_LIB };

static const struct option long_opts[] = {
	{"scheduler", required_argument, NULL, 'S'},
	{"path-manager", required_argument, NULL, 'P'},
	{"congestion", required_argument, NULL, 'C'},
	{"endpoint", required_argument, NULL, 'e'},
	{"max-subflows", required_argument, NULL, 'm'},
	{"no-mptcp", no_argument, NULL, OPT_NO_MPTCP},
	{"log", required_argument, NULL, 'l'},
	{"linger", required_argument, NULL, OPT_LINGER},
	{"lib", required_argument, NULL, OPT_LIB},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static int list(const char *what, const char *(*name)(unsigned, const char **))
{
	printf("libmpt's %s:\n", what);
	for (unsigned i = 0; name(i, NULL); i++) {
		const char *desc = NULL;
		const char *n = name(i, &desc);

		printf("  %-12s %s\n", n, desc ? desc : "");
	}
	return 0;
}

__attribute__((format(printf, 1, 2))) static int bad(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mpt-run: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (mpt-run --help)\n");
	return 2;
}

/* the preload library beside this program: BIN/../lib/libmpt-preload.so */
static int default_lib(char *out, size_t cap)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0)
		return -1;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	if ((size_t)snprintf(out, cap, "%s/../lib/libmpt-preload.so", exe) >= cap)
		return -1;
	return 0;
}

static const char *env_get(const char *name)
{
	return getenv(name);
}

int main(int argc, char **argv)
{
	char endpoints[2048] = "", lib[PATH_MAX], err[256], real_lib[PATH_MAX];
	const char *lib_opt = NULL;
	struct pl_env check;
	size_t eplen = 0;
	int c;

	/* stale settings of an outer mpt-run are not inherited */
	static const char *const vars[] = {
		"MPT_RUN_SCHEDULER",	"MPT_RUN_PATH_MANAGER", "MPT_RUN_CC",  "MPT_RUN_ENDPOINTS",
		"MPT_RUN_MAX_SUBFLOWS", "MPT_RUN_NO_MPTCP",	"MPT_RUN_LOG", "MPT_RUN_LINGER"};
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);

	while ((c = getopt_long(argc, argv, "+S:P:C:e:m:l:h", long_opts, NULL)) != -1) {
		struct mpt_socket_endpoint ep;

		switch (c) {
		case 'S':
			if (!strcmp(optarg, "list"))
				return list("schedulers", mpt_scheduler_name);
			setenv("MPT_RUN_SCHEDULER", optarg, 1);
			break;
		case 'P':
			if (!strcmp(optarg, "list"))
				return list("path managers (ndiffports takes :N, 1..16)",
					    mpt_path_manager_name);
			setenv("MPT_RUN_PATH_MANAGER", optarg, 1);
			break;
		case 'C':
			if (!strcmp(optarg, "list"))
				return list("congestion controls", mpt_cc_name);
			setenv("MPT_RUN_CC", optarg, 1);
			break;
		case 'e':
			if (pl_endpoint_parse(optarg, &ep, err, sizeof(err)))
				return bad("--%s", err);
			if (eplen + strlen(optarg) + 2 > sizeof(endpoints))
				return bad("--endpoint: too many");
			eplen += (size_t)snprintf(endpoints + eplen, sizeof(endpoints) - eplen,
						  "%s%s", eplen ? " " : "", optarg);
			break;
		case 'm':
			setenv("MPT_RUN_MAX_SUBFLOWS", optarg, 1);
			break;
		case OPT_NO_MPTCP:
			setenv("MPT_RUN_NO_MPTCP", "1", 1);
			break;
		case 'l':
			setenv("MPT_RUN_LOG", optarg, 1);
			break;
		case OPT_LINGER:
			setenv("MPT_RUN_LINGER", optarg, 1);
			break;
		case OPT_LIB:
			lib_opt = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind >= argc)
		return bad("no PROGRAM to run");
	if (eplen)
		setenv("MPT_RUN_ENDPOINTS", endpoints, 1);
	/* the shim's own parser decides, so the two never disagree; its messages name
	 * the variable, ours the option */
	if (pl_env_parse(&check, env_get, err, sizeof(err))) {
		static const char *const opt[][2] = {
			{"MPT_RUN_SCHEDULER", "--scheduler"},
			{"MPT_RUN_PATH_MANAGER", "--path-manager"},
			{"MPT_RUN_CC", "--congestion"},
			{"MPT_RUN_ENDPOINTS", "--endpoint"},
			{"MPT_RUN_MAX_SUBFLOWS", "--max-subflows"},
			{"MPT_RUN_NO_MPTCP=1", "--no-mptcp"},
			{"MPT_RUN_LINGER", "--linger"},
			{"MPT_RUN_LOG", "--log"},
		};

		for (size_t i = 0; i < sizeof(opt) / sizeof(opt[0]); i++) {
			size_t n = strlen(opt[i][0]);

			if (!strncmp(err, opt[i][0], n))
				return bad("%s%s", opt[i][1], err + n);
		}
		return bad("%s", err);
	}

	if (lib_opt)
		snprintf(lib, sizeof(lib), "%s", lib_opt);
	else if (default_lib(lib, sizeof(lib)))
		return bad("cannot find the preload library beside mpt-run: give --lib PATH");
	if (!realpath(lib, real_lib) || access(real_lib, R_OK))
		return bad("%s: %s (build it with make, or give --lib PATH)", lib, strerror(errno));
	{
		const char *old = getenv("LD_PRELOAD");
		size_t n = strlen(real_lib) + (old ? strlen(old) : 0) + 2;
		char *v = malloc(n);

		if (!v)
			return bad("out of memory");
		snprintf(v, n, "%s%s%s", real_lib, old && *old ? " " : "", old ? old : "");
		setenv("LD_PRELOAD", v, 1);
		free(v);
	}
	execvp(argv[optind], argv + optind);
	fprintf(stderr, "mpt-run: %s: %s\n", argv[optind], strerror(errno));
	return 127;
}
