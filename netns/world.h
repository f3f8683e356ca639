/* A topology made real: namespaces, veths, redirects, addresses, routes, rules,
 * qdiscs and kernel MPTCP endpoints, and the run-time changes the topology's
 * events make to them.
 *
 * Layout (docs/ARCHITECTURE.md): host H of topology T lives in namespace
 * "mpn-T-H"; link L gets a hidden namespace "mpnl-T-L" (prefix "mpn" unless
 * $MPNET_NS_PREFIX says otherwise) holding e0 (the veth peer
 * of L's first host) and e1 (peer of the second host).  Up (first -> second)
 * leaves on e1, down on e0.  Between e0 and e1 sit two tc redirects (each one's
 * ingress to the other's egress) with HTB shaping on e0/e1 egress, or the
 * userspace link emulator.  Carrier down = e0 and e1 admin
 * down: hosts keep their addresses and routes and see NO-CARRIER, as with a lost
 * radio.
 */
#ifndef MPNET_WORLD_H
#define MPNET_WORLD_H

#include "topology.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define WORLD_DEFAULT_PREFIX	    "mpn"
#define WORLD_STATE_DIR		    "/run/mpnet"
#define WORLD_DEFAULT_QUEUE_PACKETS 100

struct nlr;
struct mptcp_pm;

enum world_backend {
	WORLD_BACKEND_HTB = 0, /* redirects + HTB: rate and queue only */
	WORLD_BACKEND_USER,    /* mpnet-linkemu in the link namespace */
	WORLD_BACKEND_NETEM,   /* netem on e0/e1 (kernels that have it) */
};

struct world_link_state {
	enum world_backend backend;
	bool down;
	bool blackhole;
	struct topo_dir dir[2]; /* parameters in force now */
	int emu_pid;		/* user backend: the emulator process, else 0 */
	char emu_ctl[320];	/* its control socket */
};

struct world {
	const struct topology *t;
	int *host_ns; /* fds, -1 when not open */
	int *link_ns;
	struct nlr **host_rt;
	struct nlr **link_rt;
	struct mptcp_pm **host_pm; /* for stack kernel and mpt hosts (NULL: none) */
	struct world_link_state *links;
	char state_dir[256]; /* /run/mpnet/T */
	char pcap_dir[2100]; /* "" unless --pcap: set before world_check/world_up */
	char err[TOPO_ERR_MAX];
	bool verbose;
	bool detach; /* world_release leaves the emulators running (mpnet up) */
};

/* The namespace prefix P: $MPNET_NS_PREFIX ([a-z0-9], 1..8 chars) or "mpn".
 * Hosts are P-T-H, links Pl-T-L, state in /run/mpnet/P-T.  The test suite uses
 * its own prefix so that `make test` never touches a user's topologies. */
const char *world_prefix(void);

/* Namespace names. */
void world_host_ns_name(const struct topology *t, int host, char *buf, size_t len);
void world_link_ns_name(const struct topology *t, int link, char *buf, size_t len);

/* Checks that need the system but create nothing: that this process can do the
 * job (root), that no namespace of this topology exists yet, and that every link
 * can get the backend it needs.  Returns 0 or -1 with w->err set; a topology
 * problem is reported as FILE:LINE:COL. */
int world_check(struct world *w, const struct topology *t);

/* Build everything.  On failure, everything built so far is removed, w->err says
 * why, and -1 is returned.  world_down() must be called after success. */
int world_up(struct world *w, const struct topology *t);

/* Remove everything of topology t (whether or not this process built it):
 * processes in its namespaces, the namespaces, its state directory.  Safe to call
 * on a topology that is not up.  Returns the number of namespaces removed. */
int world_down_topology(const struct topology *t);

/* Remove everything any mpnet run left behind under the current prefix (all P-*
 * and Pl-* namespaces, /run/mpnet/P-*).  Returns the number of namespaces removed. */
int world_down_all(void);

/* Close the handles of w (after world_down_topology, or to detach). */
void world_release(struct world *w);

/* Apply one event.  Returns 0 or -1 with w->err set. */
int world_apply_event(struct world *w, const struct topo_event *ev);

struct world_link_counters {
	uint64_t tx_bytes, tx_packets, dropped;
	uint64_t backlog_bytes;
};

/* Counters of link l in direction d (0 up, 1 down): what left the link toward the
 * receiving host, and what the link dropped. */
int world_link_counters(struct world *w, int l, int d, struct world_link_counters *out);

/* The links[] entry of summary.json for link l, direction d: name, dir, backend,
 * tx_bytes, tx_packets, dropped, backlog_bytes (queued now), and with the emulator its full
 * counters (drops by cause, queueing delay percentiles).  New reference. */
json_t *world_link_json(struct world *w, int l, int d);

/* The mpnet-linkemu binary: $MPNET_LINKEMU, else beside the running program. */
const char *world_linkemu_path(void);

/* Run fn(arg) with the calling thread inside host h's namespace, then come back.
 * For children: world_enter_host() switches for good (call after fork). */
int world_enter_host(const struct topology *t, int host);

const char *world_backend_name(enum world_backend b);

/* True when topology t is up (its first host namespace exists). */
bool world_is_up(const struct topology *t);

#endif
