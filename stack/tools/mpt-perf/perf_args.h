/* mpt-perf's command line: parsed and checked here, without side effects other
 * than checking that a --ready-fd is open, so tests can feed it argument vectors.
 */
#ifndef MPNET_PERF_ARGS_H
#define MPNET_PERF_ARGS_H

#include "perf_proto.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PERF_DEFAULT_PORT  5201
#define PERF_SEED_MAX	   ((1ull << 53) - 1) /* seeds stay exact in JSON numbers */
#define PERF_MAX_ENDPOINTS 16
#define PERF_ADDR_MAX	   64
#define PERF_RR_DEFAULT_N  100	 /* --rr REQ,RESP without N */
#define PERF_RCVBUF_MIN	   4096u /* --rcvbuf bounds (libmpt's mpt_config's) */
#define PERF_RCVBUF_MAX	   (1u << 30)

/* --endpoint ADDR[,id=N][,signal][,subflow][,backup][,fullmesh] (libmpt): an MPTCP
 * endpoint on the path with that local address, as `ip mptcp endpoint add` declares
 * one for the kernel. */
struct perf_endpoint {
	char addr[PERF_ADDR_MAX]; /* numeric IPv4 or IPv6, checked */
	uint8_t id;		  /* 1..255; default: 1 + its position among --endpoint */
	uint32_t flags;		  /* MPT_EP_* */
};

enum perf_role {
	PERF_ROLE_NONE,
	PERF_ROLE_SERVER,
	PERF_ROLE_CLIENT,
};

enum perf_stack {
	PERF_STACK_KERNEL, /* IPPROTO_MPTCP sockets */
	PERF_STACK_TCP,	   /* plain TCP */
	PERF_STACK_MPT,	   /* libmpt over the packet-socket backend (stack/rt) */
};

struct perf_opts {
	enum perf_role role;
	const char *host; /* -c: server address (client) */
	const char *bind; /* -B: listen address (server) or source address (client) */
	uint16_t port;
	enum perf_stack stack;
	bool once;
	bool json;
	bool reverse;	      /* -R: download, the server sends */
	bool time_mode;	      /* -t given; else -n */
	uint64_t amount;      /* bytes (-n) or ns (-t) */
	uint64_t interval_ns; /* -i, 0 for none */
	int ready_fd;	      /* -1 when unset */
	const char *logfile;  /* NULL: stdout */
	bool have_seed;
	uint64_t seed;
	uint64_t abort_at; /* --abort-at (test hook): the sender aborts after this many
			    * bytes (RST; MPTCP: MP_FASTCLOSE); 0 = never */
	bool corrupt;	   /* --corrupt-at (test hook) */
	uint64_t corrupt_at;
	bool counters; /* --counters: the stack's counters in nstat form (libmpt) */
	bool no_mptcp; /* --no-mptcp: libmpt speaks plain TCP (default: MPTCP) */
	struct perf_endpoint endpoints[PERF_MAX_ENDPOINTS];
	int nendpoints;
	uint8_t max_subflows; /* --max-subflows (libmpt; counts the first); 0 = default */
	bool checksum;	      /* --checksum: libmpt asks for DSS checksums (flag A) */
	/* -C/--congestion: the sender's congestion control; "" = the stack's default
	 * (libmpt: cubic; kernel: net.ipv4.tcp_congestion_control) */
	char congestion[16];
	/* --scheduler: libmpt's MPTCP scheduler ("" = default); the kernel's is the
	 * sysctl net.mptcp.scheduler, so there only "default" is taken */
	char scheduler[32];
	bool scheduler_list;  /* --scheduler list: print the names and exit */
	bool congestion_list; /* -C list: print libmpt's congestion controls and exit */
	/* --rr REQ,RESP[,N] / --stream RATE,CHUNK (client): the workload, else bulk */
	enum perf_workload workload;
	uint64_t rr_req, rr_resp; /* bytes up, bytes down per exchange */
	uint32_t rr_n;		  /* exchanges (PERF_RR_DEFAULT_N without N) */
	uint64_t stream_rate;	  /* bytes per second (RATE is given in bits/s) */
	uint64_t stream_chunk;	  /* bytes */
	/* --path-manager: libmpt's, "NAME[:ARG]" ("" = kernel); the kernel's is the
	 * sysctl net.mptcp.path_manager, so there only "kernel" is taken */
	char path_manager[32];
	bool path_manager_list; /* --path-manager list */
	/* --rcvbuf: this end's receive buffer in bytes; 0 = the stack's default (kernel:
	 * autotuning; libmpt: 4 MiB).  Kernel stacks: SO_RCVBUF before connect / listen,
	 * which turns autotuning off (Linux doubles the value; -J reports both). */
	uint64_t rcvbuf;
	bool help;
};

/* Parse argv into o (defaults first).  Returns 0, or -1 with a one-line message
 * naming the fix in err (no "mpt-perf: " prefix, no newline).  With --help, returns
 * 0 with o->help set and nothing else checked. */
int perf_args_parse(int argc, char **argv, struct perf_opts *o, char *err, size_t errlen);

/* Parse a duration in seconds: "1", "0.01", or with a unit as units_parse_time
 * takes it ("10ms").  Returns 0, or -1 on syntax error or a negative value. */
int perf_parse_seconds(const char *s, uint64_t *ns);

const char *perf_stack_name(enum perf_stack s);

/* Parse one --endpoint value into ep (id 0 when none is given).  Returns 0, or -1
 * with a one-line message in err. */
int perf_parse_endpoint(const char *s, struct perf_endpoint *ep, char *err, size_t errlen);

/* Parse --rr REQ,RESP[,N] into o (workload, rr_*).  Returns 0, or -1 with a
 * one-line message in err. */
int perf_parse_rr(const char *s, struct perf_opts *o, char *err, size_t errlen);

/* Parse a --rcvbuf value (a size as -n takes it, 4KiB..1GiB) into *bytes.  Returns
 * 0, or -1 with a one-line message naming the fix in err. */
int perf_parse_rcvbuf(const char *s, uint64_t *bytes, char *err, size_t errlen);

/* Parse --stream RATE,CHUNK into o (workload, stream_*). */
int perf_parse_stream(const char *s, struct perf_opts *o, char *err, size_t errlen);

/* "signal,subflow" etc. for MPT_EP_* flags ("" for none) into buf. */
const char *perf_endpoint_flags_str(uint32_t flags, char *buf, size_t len);

#endif
