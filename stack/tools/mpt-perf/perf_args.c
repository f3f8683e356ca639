#include "perf_args.h"
#include "mpt.h"
#include "units.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	OPT_STACK = 256,
	OPT_ONCE,
	OPT_READY_FD,
	OPT_LOGFILE,
	OPT_SEED,
	OPT_CORRUPT_AT,
	OPT_ABORT_AT,
	OPT_COUNTERS,
	OPT_NO_MPTCP,
	OPT_ENDPOINT,
	OPT_MAX_SUBFLOWS,
	OPT_CHECKSUM,
	OPT_SCHEDULER,
	OPT_RR,
	OPT_STREAM,
	OPT_PATH_MANAGER,
	OPT_RCVBUF,
};

static const struct option long_opts[] = {
	{"server", no_argument, NULL, 's'},
	{"client", required_argument, NULL, 'c'},
	{"bind", required_argument, NULL, 'B'},
	{"port", required_argument, NULL, 'p'},
	{"bytes", required_argument, NULL, 'n'},
	{"time", required_argument, NULL, 't'},
	{"reverse", no_argument, NULL, 'R'},
	{"json", no_argument, NULL, 'J'},
	{"interval", required_argument, NULL, 'i'},
	{"help", no_argument, NULL, 'h'},
	{"stack", required_argument, NULL, OPT_STACK},
	{"once", no_argument, NULL, OPT_ONCE},
	{"ready-fd", required_argument, NULL, OPT_READY_FD},
	{"logfile", required_argument, NULL, OPT_LOGFILE},
	{"seed", required_argument, NULL, OPT_SEED},
	{"corrupt-at", required_argument, NULL, OPT_CORRUPT_AT},
	{"abort-at", required_argument, NULL, OPT_ABORT_AT},
	{"counters", no_argument, NULL, OPT_COUNTERS},
	{"no-mptcp", no_argument, NULL, OPT_NO_MPTCP},
	{"endpoint", required_argument, NULL, OPT_ENDPOINT},
	{"max-subflows", required_argument, NULL, OPT_MAX_SUBFLOWS},
	{"checksum", no_argument, NULL, OPT_CHECKSUM},
	{"congestion", required_argument, NULL, 'C'},
	{"scheduler", required_argument, NULL, OPT_SCHEDULER},
	{"rr", required_argument, NULL, OPT_RR},
	{"stream", required_argument, NULL, OPT_STREAM},
	{"path-manager", required_argument, NULL, OPT_PATH_MANAGER},
	{"rcvbuf", required_argument, NULL, OPT_RCVBUF},
	{NULL, 0, NULL, 0},
};

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -1;
}

static bool mpt_cc_known(const char *name)
{
	for (unsigned i = 0; mpt_cc_name(i, NULL); i++)
		if (!strcmp(mpt_cc_name(i, NULL), name))
			return true;
	return false;
}

/* The names a libmpt registry lists (mpt_cc_name, mpt_scheduler_name,
 * mpt_path_manager_name), joined: "newreno, cubic, lia, ...".  One static buffer per
 * registry, so two lists can share one message. */
static const char *names_of(const char *(*name)(unsigned, const char **), char *buf, size_t cap)
{
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned i = 0; name(i, NULL) && n < cap; i++)
		n += (size_t)snprintf(buf + n, cap - n, "%s%s", i ? ", " : "", name(i, NULL));
	return buf;
}

static const char *cc_names(void)
{
	static char buf[256];

	return names_of(mpt_cc_name, buf, sizeof(buf));
}

static const char *sched_names(void)
{
	static char buf[256];

	return names_of(mpt_scheduler_name, buf, sizeof(buf));
}

static const char *pm_names(void)
{
	static char buf[256];

	return names_of(mpt_path_manager_name, buf, sizeof(buf));
}

const char *perf_stack_name(enum perf_stack s)
{
	switch (s) {
	case PERF_STACK_KERNEL:
		return "kernel";
	case PERF_STACK_TCP:
		return "tcp";
	case PERF_STACK_MPT:
		return "mpt";
	}
	return "?";
}

int perf_parse_seconds(const char *s, uint64_t *ns)
{
	char *end;
	double v;

	if (!s || !*s || isspace((unsigned char)*s) || *s == '-' || *s == '+')
		return -1;
	if (isalpha((unsigned char)s[strlen(s) - 1]))
		return units_parse_time(s, ns);
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < 0 || v > 1e9)
		return -1;
	*ns = (uint64_t)llround(v * 1e9);
	return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

static const struct {
	const char *name;
	uint32_t flag;
} ep_flags[] = {
	{"signal", MPT_EP_SIGNAL},
	{"subflow", MPT_EP_SUBFLOW},
	{"backup", MPT_EP_BACKUP},
	{"fullmesh", MPT_EP_FULLMESH},
};

const char *perf_endpoint_flags_str(uint32_t flags, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(ep_flags) / sizeof(ep_flags[0]); i++) {
		int k;

		if (!(flags & ep_flags[i].flag))
			continue;
		k = snprintf(buf + n, len - n, "%s%s", n ? "," : "", ep_flags[i].name);
		if (k < 0 || (size_t)k >= len - n)
			break;
		n += (size_t)k;
	}
	return buf;
}

int perf_parse_endpoint(const char *s, struct perf_endpoint *ep, char *err, size_t errlen)
{
	char copy[256], *tok, *save = NULL;
	uint8_t bin[16];
	bool first = true;

	memset(ep, 0, sizeof(*ep));
	if (strlen(s) >= sizeof(copy))
		return fail(err, errlen, "--endpoint %.32s...: too long", s);
	memcpy(copy, s, strlen(s) + 1);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t i;

		if (first) {
			if (inet_pton(AF_INET, tok, bin) != 1 && inet_pton(AF_INET6, tok, bin) != 1)
				return fail(err, errlen,
					    "--endpoint %s: '%s' is not an IPv4 or IPv6 address", s,
					    tok);
			snprintf(ep->addr, sizeof(ep->addr), "%s", tok);
			first = false;
			continue;
		}
		if (!strncmp(tok, "id=", 3)) {
			uint64_t v;

			if (parse_u64(tok + 3, &v) || v < 1 || v > 255)
				return fail(err, errlen, "--endpoint %s: id wants 1..255", s);
			ep->id = (uint8_t)v;
			continue;
		}
		for (i = 0; i < sizeof(ep_flags) / sizeof(ep_flags[0]); i++)
			if (!strcmp(tok, ep_flags[i].name))
				break;
		if (i == sizeof(ep_flags) / sizeof(ep_flags[0]))
			return fail(err, errlen,
				    "--endpoint %s: unknown flag '%s' (use id=N, signal, subflow, "
				    "backup, fullmesh)",
				    s, tok);
		ep->flags |= ep_flags[i].flag;
	}
	if (first)
		return fail(err, errlen, "--endpoint wants ADDR[,id=N][,FLAG...]");
	if ((ep->flags & MPT_EP_SIGNAL) && (ep->flags & MPT_EP_FULLMESH))
		return fail(err, errlen,
			    "--endpoint %s: signal and fullmesh exclude each other (as in the "
			    "kernel)",
			    s);
	return 0;
}

/* Split "a,b[,c]" into at most 3 fields; returns how many, or -1 (empty field, too
 * many, too long). */
static int split3(const char *s, char f[3][64])
{
	int n = 0;

	for (const char *p = s;; n++) {
		const char *c = strchr(p, ',');
		size_t len = c ? (size_t)(c - p) : strlen(p);

		if (n == 3 || !len || len >= 64)
			return -1;
		memcpy(f[n], p, len);
		f[n][len] = '\0';
		if (!c)
			return n + 1;
		p = c + 1;
	}
}

int perf_parse_rr(const char *s, struct perf_opts *o, char *err, size_t errlen)
{
	char f[3][64];
	uint64_t req, resp, n = PERF_RR_DEFAULT_N;
	int k = split3(s, f);

	if (k < 2 || units_parse_size(f[0], &req) || units_parse_size(f[1], &resp) ||
	    (k == 3 && parse_u64(f[2], &n)))
		return fail(err, errlen,
			    "--rr %s: give REQ,RESP[,N]: request and response bytes and the number "
			    "of exchanges, e.g. 100,256KiB,200 (N default %d)",
			    s, PERF_RR_DEFAULT_N);
	if (!req || !resp || req > PERF_WL_MAX_MSG || resp > PERF_WL_MAX_MSG)
		return fail(err, errlen, "--rr %s: REQ and RESP must be 1 byte to 1GiB", s);
	if (!n || n > PERF_WL_MAX_N)
		return fail(err, errlen, "--rr %s: N must be 1 to %u exchanges", s, PERF_WL_MAX_N);
	o->workload = PERF_WL_RR;
	o->rr_req = req;
	o->rr_resp = resp;
	o->rr_n = (uint32_t)n;
	return 0;
}

int perf_parse_rcvbuf(const char *s, uint64_t *bytes, char *err, size_t errlen)
{
	uint64_t v;

	if (units_parse_size(s, &v))
		return fail(err, errlen,
			    "--rcvbuf %s: give a size like 64KiB, 4MiB or 131072 (4KiB..1GiB)", s);
	if (v < PERF_RCVBUF_MIN || v > PERF_RCVBUF_MAX)
		return fail(err, errlen, "--rcvbuf %s: give 4KiB..1GiB (e.g. 64KiB)", s);
	*bytes = v;
	return 0;
}

int perf_parse_stream(const char *s, struct perf_opts *o, char *err, size_t errlen)
{
	char f[3][64];
	uint64_t bps, chunk;

	if (split3(s, f) != 2 || units_parse_rate(f[0], &bps) || units_parse_size(f[1], &chunk))
		return fail(err, errlen,
			    "--stream %s: give RATE,CHUNK: a rate with its unit and the bytes "
			    "written each CHUNK/RATE seconds, e.g. 8mbit,64KiB",
			    s);
	if (bps < 8)
		return fail(err, errlen, "--stream %s: RATE must be at least 8bit (1 byte/s)", s);
	if (chunk < PERF_STAMP_LEN || chunk > PERF_WL_MAX_MSG)
		return fail(err, errlen,
			    "--stream %s: CHUNK must be %d bytes (its time stamp) to 1GiB", s,
			    PERF_STAMP_LEN);
	o->workload = PERF_WL_STREAM;
	o->stream_rate = bps / 8;
	o->stream_chunk = chunk;
	return 0;
}

int perf_args_parse(int argc, char **argv, struct perf_opts *o, char *err, size_t errlen)
{
	bool have_n = false, have_t = false, have_i = false;
	bool server_only = false, have_rr = false, have_stream = false;
	const char *server_opt = NULL;
	uint64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	o->port = PERF_DEFAULT_PORT;
	o->stack = PERF_STACK_KERNEL;
	o->interval_ns = 1000000000ull;
	o->ready_fd = -1;

	optind = 0; /* glibc: full re-initialisation, so tests can call us repeatedly */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":sc:B:p:n:t:RJi:hC:", long_opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (o->role == PERF_ROLE_CLIENT)
				return fail(err, errlen, "-s and -c exclude each other: pick one");
			o->role = PERF_ROLE_SERVER;
			break;
		case 'c':
			if (o->role == PERF_ROLE_SERVER)
				return fail(err, errlen, "-s and -c exclude each other: pick one");
			o->role = PERF_ROLE_CLIENT;
			o->host = optarg;
			break;
		case 'B':
			o->bind = optarg;
			break;
		case 'p':
			if (parse_u64(optarg, &v) || v == 0 || v > 65535)
				return fail(err, errlen, "-p %s: give a port number 1..65535",
					    optarg);
			o->port = (uint16_t)v;
			break;
		case 'n':
			if (units_parse_size(optarg, &v) || v == 0)
				return fail(
					err, errlen,
					"-n %s: give a byte count > 0 like 20MiB, 150kB or 1500",
					optarg);
			o->amount = v;
			have_n = true;
			break;
		case 't':
			if (perf_parse_seconds(optarg, &v) || v == 0)
				return fail(err, errlen,
					    "-t %s: give a duration > 0 in seconds like 10 or 0.5",
					    optarg);
			o->amount = v;
			have_t = true;
			break;
		case 'R':
			o->reverse = true;
			break;
		case 'J':
			o->json = true;
			break;
		case 'i':
			if (perf_parse_seconds(optarg, &v) || (v && v < 1000000))
				return fail(
					err, errlen,
					"-i %s: give an interval in seconds, 0 (none) or >= 0.001",
					optarg);
			o->interval_ns = v;
			have_i = true;
			break;
		case 'h':
			o->help = true;
			return 0;
		case OPT_STACK:
			if (!strcmp(optarg, "kernel"))
				o->stack = PERF_STACK_KERNEL;
			else if (!strcmp(optarg, "tcp"))
				o->stack = PERF_STACK_TCP;
			else if (!strcmp(optarg, "mpt"))
				o->stack = PERF_STACK_MPT;
			else
				return fail(err, errlen,
					    "--stack %s: unknown stack, use kernel, tcp or mpt",
					    optarg);
			break;
		case OPT_ONCE:
			o->once = true;
			server_only = true;
			server_opt = "--once";
			break;
		case OPT_READY_FD:
			if (parse_u64(optarg, &v) || v > 1000000)
				return fail(err, errlen,
					    "--ready-fd %s: give a file descriptor number", optarg);
			if (fcntl((int)v, F_GETFD) < 0)
				return fail(err, errlen,
					    "--ready-fd %s: descriptor is not open; open it (e.g. "
					    "3>file)",
					    optarg);
			o->ready_fd = (int)v;
			server_only = true;
			server_opt = "--ready-fd";
			break;
		case OPT_LOGFILE:
			o->logfile = optarg;
			break;
		case OPT_SEED:
			if (parse_u64(optarg, &v))
				return fail(err, errlen, "--seed %s: give an unsigned integer",
					    optarg);
			o->seed = v;
			o->have_seed = true;
			break;
		case OPT_CORRUPT_AT:
			if (parse_u64(optarg, &v))
				return fail(err, errlen, "--corrupt-at %s: give a stream offset",
					    optarg);
			o->corrupt = true;
			o->corrupt_at = v;
			break;
		case OPT_ABORT_AT:
			if (units_parse_size(optarg, &v) || !v)
				return fail(err, errlen,
					    "--abort-at %s: give a byte count > 0 like 2MiB",
					    optarg);
			o->abort_at = v;
			break;
		case OPT_COUNTERS:
			o->counters = true;
			break;
		case OPT_NO_MPTCP:
			o->no_mptcp = true;
			break;
		case OPT_ENDPOINT: {
			struct perf_endpoint *ep = &o->endpoints[o->nendpoints];

			if (o->nendpoints >= PERF_MAX_ENDPOINTS)
				return fail(err, errlen, "--endpoint: at most %d",
					    PERF_MAX_ENDPOINTS);
			if (perf_parse_endpoint(optarg, ep, err, errlen))
				return -1;
			if (!ep->id)
				ep->id = (uint8_t)(o->nendpoints + 1);
			for (int i = 0; i < o->nendpoints; i++)
				if (o->endpoints[i].id == ep->id)
					return fail(err, errlen,
						    "--endpoint %s: id %u is already %s's; give "
						    "another id=N",
						    optarg, ep->id, o->endpoints[i].addr);
			o->nendpoints++;
			break;
		}
		case OPT_MAX_SUBFLOWS:
			if (parse_u64(optarg, &v) || v < 1 || v > 255)
				return fail(err, errlen,
					    "--max-subflows %s: give 1..255 (the first subflow "
					    "counts)",
					    optarg);
			o->max_subflows = (uint8_t)v;
			break;
		case OPT_CHECKSUM:
			o->checksum = true;
			break;
		case 'C':
			if (!strcmp(optarg, "list")) {
				o->congestion_list = true;
				break;
			}
			if (!*optarg || strlen(optarg) >= sizeof(o->congestion) ||
			    strspn(optarg, "abcdefghijklmnopqrstuvwxyz0123456789_-") !=
				    strlen(optarg))
				return fail(err, errlen,
					    "--congestion %s: not an algorithm name (e.g. cubic, "
					    "reno, bbr)",
					    optarg);
			snprintf(o->congestion, sizeof(o->congestion), "%s", optarg);
			break;
		case OPT_SCHEDULER:
			if (!strcmp(optarg, "list")) {
				o->scheduler_list = true;
				break;
			}
			if (strlen(optarg) >= sizeof(o->scheduler) || !*optarg ||
			    !mpt_scheduler_valid(optarg))
				return fail(err, errlen,
					    "--scheduler %s: not a scheduler; the names are %s, "
					    "roundrobin taking :N (1..64) (--scheduler list "
					    "describes them)",
					    optarg, sched_names());
			snprintf(o->scheduler, sizeof(o->scheduler), "%s", optarg);
			break;
		case OPT_RR:
			if (perf_parse_rr(optarg, o, err, errlen))
				return -1;
			have_rr = true;
			break;
		case OPT_STREAM:
			if (perf_parse_stream(optarg, o, err, errlen))
				return -1;
			have_stream = true;
			break;
		case OPT_PATH_MANAGER:
			if (!strcmp(optarg, "list")) {
				o->path_manager_list = true;
				break;
			}
			if (strlen(optarg) >= sizeof(o->path_manager) ||
			    !mpt_path_manager_valid(optarg))
				return fail(err, errlen,
					    "--path-manager %s: not a path manager; the names are "
					    "%s, ndiffports taking :N (1..16) (--path-manager list "
					    "describes them)",
					    optarg, pm_names());
			snprintf(o->path_manager, sizeof(o->path_manager), "%s", optarg);
			break;
		case OPT_RCVBUF:
			if (perf_parse_rcvbuf(optarg, &o->rcvbuf, err, errlen))
				return -1;
			break;
		case ':':
			return fail(err, errlen, "%s needs an argument; see --help",
				    argv[optind - 1]);
		default:
			if (optopt)
				return fail(err, errlen, "unknown option -%c; see --help", optopt);
			return fail(err, errlen, "unknown option %s; see --help", argv[optind - 1]);
		}
	}
	if (o->scheduler_list || o->congestion_list || o->path_manager_list)
		return 0;
	if (optind < argc)
		return fail(err, errlen, "unexpected argument '%s'; see --help", argv[optind]);
	if (o->scheduler[0] && strcmp(o->scheduler, "default") &&
	    (o->stack != PERF_STACK_MPT || o->no_mptcp))
		return fail(err, errlen,
			    "--scheduler %s is libmpt's: add --stack mpt (the kernel's scheduler "
			    "is the sysctl net.mptcp.scheduler)",
			    o->scheduler);
	if (o->path_manager[0] && strcmp(o->path_manager, "kernel") &&
	    (o->stack != PERF_STACK_MPT || o->no_mptcp))
		return fail(err, errlen,
			    "--path-manager %s is libmpt's: add --stack mpt (the kernel's path "
			    "manager is the sysctl net.mptcp.path_manager)",
			    o->path_manager);
	if ((o->nendpoints || o->max_subflows || o->checksum) && o->stack != PERF_STACK_MPT)
		return fail(
			err, errlen,
			"%s is for --stack mpt (the kernel's endpoints, limits and checksums "
			"are the system's: ip mptcp endpoint / limits, net.mptcp.checksum_enabled)",
			o->nendpoints	  ? "--endpoint"
			: o->max_subflows ? "--max-subflows"
					  : "--checksum");
	if ((o->nendpoints || o->max_subflows || o->checksum) && o->no_mptcp)
		return fail(err, errlen, "%s needs MPTCP; drop --no-mptcp",
			    o->nendpoints     ? "--endpoint"
			    : o->max_subflows ? "--max-subflows"
					      : "--checksum");

	if (o->congestion[0] && o->stack == PERF_STACK_MPT) {
		/* libmpt's built-ins; the kernel calls NewReno "reno" */
		if (!strcmp(o->congestion, "reno"))
			snprintf(o->congestion, sizeof(o->congestion), "newreno");
		if (!mpt_cc_known(o->congestion))
			return fail(err, errlen,
				    "--congestion %s: libmpt has %s (reno = newreno; -C list "
				    "describes them)",
				    o->congestion, cc_names());
	}

	switch (o->role) {
	case PERF_ROLE_NONE:
		return fail(err, errlen, "give -s (server) or -c ADDR (client); see --help");
	case PERF_ROLE_SERVER:
		if (have_n || have_t || o->reverse || have_i || o->have_seed || o->corrupt ||
		    have_rr || have_stream)
			return fail(err, errlen,
				    "-n, -t, -R, -i, --seed, --corrupt-at, --rr and --stream are "
				    "client options; the client sends them to the server");
		break;
	case PERF_ROLE_CLIENT:
		if (server_only)
			return fail(err, errlen, "%s is a server option; drop it or use -s",
				    server_opt);
		if (have_rr && have_stream)
			return fail(err, errlen, "--rr and --stream exclude each other: pick one");
		if (have_rr && (have_n || have_t))
			return fail(
				err, errlen,
				"--rr sets the amount (N exchanges): drop %s, or give N in --rr "
				"REQ,RESP,N",
				have_n ? "-n" : "-t");
		if (have_rr && o->reverse)
			return fail(err, errlen,
				    "--rr: the client sends the requests and the server the "
				    "responses; drop -R");
		if (have_rr) {
			o->amount = o->rr_n;
			break;
		}
		if (have_n && have_t)
			return fail(err, errlen, "-n and -t exclude each other: pick one");
		if (have_stream && have_n && o->amount % o->stream_chunk)
			return fail(err, errlen,
				    "-n %" PRIu64 " with --stream: give a multiple of the chunk "
				    "(%" PRIu64 " bytes), or use -t SECONDS",
				    o->amount, o->stream_chunk);
		if (!have_n && !have_t)
			return fail(err, errlen, "the client needs -n BYTES or -t SECONDS");
		o->time_mode = have_t;
		break;
	}
	return 0;
}
