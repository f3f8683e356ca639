/* The topology: a YAML file (docs/TOPOLOGY.md) parsed, checked and resolved into
 * plain structs.  Nothing here touches the system: topo_load() either returns a
 * complete, consistent topology (every address assigned, every reference an
 * index) or an error "FILE:LINE:COL: message" and no topology.
 *
 * Every struct keeps the position of the YAML node it came from, so that later
 * checks (for example "this link asks for delay but no emulator can apply it")
 * can report FILE:LINE:COL too: see topo_errorf().
 */
#ifndef MPNET_TOPOLOGY_H
#define MPNET_TOPOLOGY_H

#include "netaddr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOPO_NAME_MAX	32 /* names: [a-z0-9-], 1..31 chars; link names <= 15 (interface names) */
#define TOPO_IFNAME_MAX 15
#define TOPO_ERR_MAX	512
#define TOPO_CMD_MAX	1024 /* a command app's command line, with its NUL */
#define TOPO_PATH_MAX	4096

struct topo_pos {
	int line; /* 1-based; 0 when unknown */
	int col;  /* 1-based */
};

enum topo_stack {
	TOPO_STACK_NONE = 0, /* a router or a host without apps: no traffic tool */
	TOPO_STACK_KERNEL,   /* Linux MPTCP (IPPROTO_MPTCP) */
	TOPO_STACK_TCP,	     /* Linux TCP */
	TOPO_STACK_MPT,	     /* libmpt, the userspace stack */
};

/* MPTCP endpoint flags: the kernel's MPTCP_PM_ADDR_FLAG_* values. */
enum {
	TOPO_EP_SIGNAL = 1 << 0,
	TOPO_EP_SUBFLOW = 1 << 1,
	TOPO_EP_BACKUP = 1 << 2,
	TOPO_EP_FULLMESH = 1 << 3,
};

enum topo_emulator {
	TOPO_EMU_AUTO =
		0,	/* netem where the kernel has it and it can express the link, else user */
	TOPO_EMU_USER,	/* mpnet's userspace link emulator */
	TOPO_EMU_NETEM, /* the kernel's sch_netem; an error where the kernel lacks it */
};

enum topo_queue_unit {
	TOPO_QUEUE_PACKETS = 0,
	TOPO_QUEUE_BYTES,
	TOPO_QUEUE_TIME, /* ns of the link's rate: converted to bytes where a rate is set */
};

enum topo_jitter_dist {
	TOPO_DIST_UNIFORM = 0,
	TOPO_DIST_NORMAL,
	TOPO_DIST_PARETO,
	TOPO_DIST_PARETONORMAL,
};

enum topo_loss_model {
	TOPO_LOSS_NONE = 0,
	TOPO_LOSS_RANDOM,  /* loss: P% [correlation C%] */
	TOPO_LOSS_GEMODEL, /* Gilbert-Elliott: p, r, 1-h, 1-k */
	TOPO_LOSS_STATE4,  /* netem's 4-state Markov model: p13 p31 p32 p23 p14 */
};

/* Which fields of a topo_dir were given (by the link, its up:/down: block, or an
 * event's set).  An event's set changes only the fields in its mask. */
enum {
	TOPO_F_RATE = 1u << 0,
	TOPO_F_DELAY = 1u << 1,
	TOPO_F_JITTER = 1u << 2,
	TOPO_F_LOSS = 1u << 3,
	TOPO_F_QUEUE = 1u << 4,
	TOPO_F_DUPLICATE = 1u << 5,
	TOPO_F_CORRUPT = 1u << 6,
	TOPO_F_REORDER = 1u << 7,
	TOPO_F_TRACE = 1u << 8,
	TOPO_F_DIST = 1u << 9,
	TOPO_F_DELAY_CORR = 1u << 10, /* delay_correlation (delay_corr) */
	TOPO_F_AQM = 1u << 11,	      /* queue: { codel: ... } (codel, codel_*_ns) */
	TOPO_F_REWRITE = 1u << 12,    /* rewrite: N TCP payloads, checksum fixed */
	/* Fields only the link emulator (or netem) can apply; HTB applies RATE and QUEUE. */
	TOPO_F_NEEDS_EMULATOR = TOPO_F_DELAY | TOPO_F_JITTER | TOPO_F_LOSS | TOPO_F_DUPLICATE |
				TOPO_F_CORRUPT | TOPO_F_REORDER | TOPO_F_TRACE | TOPO_F_DIST |
				TOPO_F_DELAY_CORR | TOPO_F_AQM | TOPO_F_REWRITE,
};

/* One direction of a link.  Probabilities are fractions in [0, 1]. */
struct topo_dir {
	uint32_t set;	   /* TOPO_F_* given */
	uint64_t rate_bps; /* bits per second; 0 = unlimited */
	uint64_t delay_ns; /* one-way */
	uint64_t jitter_ns;
	double delay_corr; /* jitter correlation */
	enum topo_jitter_dist dist;
	enum topo_loss_model loss_model;
	double loss[5]; /* RANDOM: {p, corr}; GEMODEL: {p, r, 1-h, 1-k};
			 * STATE4: {p13, p31, p32, p23, p14} */
	double duplicate, duplicate_corr;
	double corrupt, corrupt_corr;
	double reorder, reorder_corr; /* reorder: fraction sent at once; needs delay */
	uint32_t reorder_gap;	      /* netem's gap N; 0 = none */
	/* A payload-rewriting middlebox: the next `rewrite` TCP segments with payload get
	 * one byte changed and their TCP checksum fixed (userspace emulator only) */
	uint32_t rewrite;
	enum topo_queue_unit queue_unit;
	uint64_t queue;		  /* packets, bytes or ns, per queue_unit; 0 = default */
	bool codel;		  /* CoDel AQM on the bottleneck queue (RFC 8289) */
	uint64_t codel_target_ns; /* its target and interval (set when codel) */
	uint64_t codel_interval_ns;
	char trace[TOPO_PATH_MAX]; /* mahimahi trace file (resolved path), or "" */
	struct topo_pos pos;	   /* the block the fields came from */
	struct topo_pos emu_pos;   /* first key that needs the emulator (TOPO_F_NEEDS_EMULATOR) */
};

/* One host's end of a link. */
struct topo_iface {
	int host; /* index into topology.hosts */
	char ifname[TOPO_IFNAME_MAX +
		    1];		 /* the interface's name inside the host (the link's name) */
	struct netaddr addr4;	 /* with prefix length, e.g. 198.18.3.1/24 */
	struct netaddr addr6;	 /* e.g. 2001:db8:0:3::1/64; family 0 if ipv6 is off */
	uint32_t endpoint_flags; /* TOPO_EP_*; 0 = no MPTCP endpoint for this address */
	bool endpoint_set;	 /* an endpoint was asked for (flags may still be 0) */
	int endpoint_id;	 /* MPTCP address id, 1..255, unique per host */
	struct topo_pos endpoint_pos;
};

struct topo_link {
	char name[TOPO_NAME_MAX]; /* also the interface name on both hosts */
	struct topo_pos pos;
	struct topo_iface end[2]; /* end[0] = first host of between:, end[1] = second */
	struct topo_dir dir[2];	  /* dir[0] = "up" (end 0 -> end 1), dir[1] = "down" */
	enum topo_emulator emulator;
	bool emulator_set; /* given on the link (else the topology's) */
	int index;	   /* position in the file, 0-based: picks the auto subnet */
};

struct topo_mptcp {
	int subflows;	       /* kernel limit "subflows", 0..8; default 8 */
	int add_addr_accepted; /* kernel limit "add_addr_accepted", 0..8; default 8 */
	struct topo_pos pos;
};

struct topo_host {
	char name[TOPO_NAME_MAX];
	struct topo_pos pos;
	enum topo_stack stack;
	bool forward;		 /* a router: IPv4/IPv6 forwarding on */
	struct topo_mptcp mptcp; /* for stack kernel (and mpt later) */
	/* congestion control of the host's TCP senders ("" = the stack's default):
	 * kernel/tcp hosts: the namespace's net.ipv4.tcp_congestion_control; mpt
	 * hosts: mpt-perf -C (newreno or cubic) */
	char congestion[16];
	struct topo_pos congestion_pos;
	/* libmpt's MPTCP scheduler (mpt-perf --scheduler; "" = default); a kernel host
	 * takes only "default" (its own is net.mptcp.scheduler) */
	char scheduler[32];
	/* libmpt's MPTCP path manager, "NAME[:ARG]" (mpt-perf --path-manager; "" =
	 * kernel); a kernel host takes only "kernel" (net.mptcp.path_manager) */
	char path_manager[32];
	int nifaces; /* how many links end at this host */
};

enum topo_direction {
	TOPO_UPLOAD = 0, /* the client sends */
	TOPO_DOWNLOAD,	 /* the server sends */
};

/* What an app's mpt-perf does (mpt-perf's workloads). */
enum topo_mode {
	TOPO_MODE_BULK = 0, /* one direction, as fast as it goes (bytes: or time:) */
	TOPO_MODE_RR,	    /* request/response: --rr REQUEST,RESPONSE,EXCHANGES */
	TOPO_MODE_STREAM,   /* paced chunks: --stream RATE,CHUNK with bytes: or time: */
	TOPO_MODE_COMMAND,  /* any program: client: / server: { host, command } */
};

#define TOPO_RR_DEFAULT_EXCHANGES 100

struct topo_app {
	char name[TOPO_NAME_MAX];
	struct topo_pos pos;
	int client, server; /* host indices */
	struct topo_pos client_pos, server_pos;
	int server_link;	    /* link index of the address the client connects to */
	struct netaddr server_addr; /* that address (IPv4 unless the app says ipv6) */
	uint64_t bytes;		    /* 0 when time-limited */
	uint64_t time_ns;	    /* 0 when byte-limited */
	enum topo_direction direction;
	uint64_t start_ns;
	uint16_t port;	     /* default 5201 + app index */
	uint64_t timeout_ns; /* give up after this long (default: time + 30 s, or 300 s) */
	bool ipv6;	     /* server_addr is the IPv6 address (the app's ipv6: true) */
	enum topo_mode mode;
	uint64_t request, response; /* rr: bytes up and down per exchange */
	uint32_t exchanges;	    /* rr: how many (default TOPO_RR_DEFAULT_EXCHANGES) */
	uint64_t rate_bps, chunk;   /* stream: bits per second, bytes per write */
	/* both ends' receive buffer (mpt-perf --rcvbuf), 4 KiB..1 GiB; 0 = the stacks'
	 * defaults (kernel autotuning, libmpt 4 MiB) */
	uint64_t rcvbuf;
	/* mode command: the shell command lines (`/bin/sh -c`), placeholders not yet
	 * expanded (topo_cmd_expand); "" for mpt-perf apps */
	char client_cmd[TOPO_CMD_MAX], server_cmd[TOPO_CMD_MAX];
};

/* "bulk", "rr", "stream", "command". */
const char *topo_mode_name(enum topo_mode m);

enum topo_action {
	TOPO_EV_DOWN = 0, /* carrier down on both ends; addresses and routes stay */
	TOPO_EV_UP,
	TOPO_EV_SET,	   /* change link parameters (dir up, down or both) */
	TOPO_EV_BLACKHOLE, /* drop everything; carrier stays up */
	TOPO_EV_RESTORE,   /* end a blackhole */
	TOPO_EV_ADDR_DEL,  /* remove the host's addresses on the link */
	TOPO_EV_ADDR_ADD,  /* put them back (and the routes and the endpoint) */
};

struct topo_event {
	uint64_t at_ns;
	struct topo_pos pos;
	enum topo_action action;
	int link;		/* link index */
	int host;		/* host index for addr-del/addr-add, else -1 */
	int dir_mask;		/* for set: bit 0 = up, bit 1 = down */
	struct topo_dir params; /* for set: the fields in params.set */
};

struct topology {
	char path[TOPO_PATH_MAX]; /* the file it came from */
	char name[TOPO_NAME_MAX];
	uint64_t seed; /* default 1 */
	bool seed_set;
	bool ipv6;		     /* assign IPv6 addresses too (default true) */
	enum topo_emulator emulator; /* default for links */
	struct topo_host *hosts;
	int nhosts;
	struct topo_link *links;
	int nlinks;
	struct topo_app *apps;
	int napps;
	struct topo_event *events; /* sorted by at_ns (stable) */
	int nevents;
};

/* Load, check and resolve a topology file.  On success returns 0 and *out (free
 * with topo_free).  On any problem returns -1, leaves *out NULL and writes one line
 * "FILE:LINE:COL: message" (no newline) into err. */
int topo_load(const char *path, struct topology **out, char err[TOPO_ERR_MAX]);

/* The same, from a string; `path` is only used in messages and to resolve
 * relative trace files. */
int topo_load_string(const char *path, const char *yaml, size_t len, struct topology **out,
		     char err[TOPO_ERR_MAX]);

void topo_free(struct topology *t);

/* Format "FILE:LINE:COL: message" for a position in t's file into err; returns -1
 * so callers can `return topo_errorf(...)`.  A position with line 0 (unknown, e.g.
 * the file cannot be read) gives "FILE: message".  Control characters in the
 * message become '?', so the result is always one line. */
int topo_errorf(const struct topology *t, struct topo_pos pos, char err[TOPO_ERR_MAX],
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Index of the host / link with this name, or -1. */
int topo_host_find(const struct topology *t, const char *name);
int topo_link_find(const struct topology *t, const char *name);

/* What a command app's placeholders stand for (see docs/TOPOLOGY.md, "Command
 * apps"): {server_addr} (bare), {server_addr_url} (IPv6 in brackets, for URLs),
 * {port}, {app}, {run_dir}.  NULL strings expand to nothing. */
struct topo_cmd_vars {
	const char *server_addr;
	const char *server_addr_url;
	const char *app;
	const char *run_dir;
	unsigned port;
};

/* Expand the placeholders of command tmpl into out (cap bytes, NUL-terminated):
 * "{NAME}" with NAME made of [A-Za-z0-9_] is a placeholder and must be one of the
 * above; "{{" is a literal "{"; "${" is left to the shell (its parameter
 * expansion); any other "{" is itself.  Returns 0; -1 with *bad / *badlen (when
 * not NULL) naming an unknown placeholder (offset into tmpl, length with the
 * braces); -2 when out is too small. */
int topo_cmd_expand(const char *tmpl, const struct topo_cmd_vars *v, char *out, size_t cap,
		    size_t *bad, size_t *badlen);

/* Names for printing. */
const char *topo_stack_name(enum topo_stack s);
const char *topo_action_name(enum topo_action a);
const char *topo_emulator_name(enum topo_emulator e);

/* True when a path exists from host a to host b through hosts with forward: true
 * (a and b themselves need not forward).  A host reaches itself. */
bool topo_reachable(const struct topology *t, int a, int b);

/* The first link of one shortest path from host a to host b (through forwarding
 * hosts), or -1 when b is unreachable or a == b.  Ties go to the link earliest in
 * the file, so the result is stable. */
int topo_route_first_link(const struct topology *t, int a, int b);

/* Which end of link l host h is: 0, 1, or -1 when h is not on l. */
int topo_link_end(const struct topology *t, int l, int h);

/* Copy into dst the fields named in src->set (an event's `set` onto a link
 * direction), and add them to dst->set.  A rate replaces a trace and a trace
 * replaces a rate (their bits are cleared in dst).  Positions in dst are left alone. */
void topo_dir_apply(struct topo_dir *dst, const struct topo_dir *src);

#endif
