/* MPTCP path managers: the policy half of mptcp_pathmgr.c, as Linux's in-kernel path
 * manager behind its pm ops (net/mptcp/pm.c, pm_kernel.c) and the out-of-tree
 * kernel's mptcp_ndiffports.c.
 *
 * Events go in, commands come out.  The mechanism (mptcp_pathmgr.c) fills a read-only
 * view of the connection (its subflows with their paths, addresses and ids, the
 * addresses the peer announced, the stack's endpoints and local paths, the limits)
 * and calls the connection's path manager with one event; the path manager answers
 * with commands (announce or withdraw an endpoint's address, open or close a
 * subflow, set a subflow's backup priority) and the time it next wants a timer
 * event.  A path manager sees only this header and mpt.h: no tcb, no mptcp_conn.
 * Its own state lives in the opaque area the view points to (zeroed at creation).
 *
 * Subflow re-creation (both built-ins; what Linux lacks, mptcp_net-next #440/#497):
 * a subflow the path manager opened, or the first one, that closes by a timeout, a
 * reset, a carrier loss or a failed join is opened again after 0.5 s, then 1, 2,
 * 4, 8, 16 s, at most MPTCP_PM_BACKOFF_MAX (the backoff starts over once one
 * establishes), while its local path is up and its remote address still announced;
 * a carrier or address coming back opens it at once.  One withdrawn on purpose
 * (endpoint removed, REMOVE_ADDR, a local protocol error) is not.  The helpers
 * below (mptcp_pm_want ...) keep that state in a table of "slots" inside the path
 * manager's private area; a subflow opened for slot k carries tag k + 1 (tag 1:
 * the connection's first subflow, slot 0).
 *
 * Adding one: a file stack/src/pm_<name>.c defining `const struct mptcp_pm_ops
 * mptcp_pm_<name>`, an X(<name>) line in MPTCP_PATH_MANAGERS below, and
 * tests/unit/test_pm_<name>.c with event sequences built by hand.
 */
#ifndef MPT_MPTCP_PATHMGR_H
#define MPT_MPTCP_PATHMGR_H

#include "mpt.h"

#include <stdbool.h>
#include <stdint.h>

#define MPTCP_PM_MAX_SF		    16 /* = MPTCP_MAX_SUBFLOWS (checked in mptcp_pathmgr.c) */
#define MPTCP_PM_MAX_RADDRS	    8  /* = MPTCP_MAX_RADDRS */
#define MPTCP_PM_MAX_CMDS	    32
#define MPTCP_PM_MAX_PATHS	    64 /* = MPT_MAX_PATHS (checked in mptcp_pathmgr.c) */
#define MPTCP_PM_MAX_SLOTS	    24
#define MPTCP_PM_BACKOFF_MIN	    (500ull * 1000000ull)   /* first re-creation: 0.5 s */
#define MPTCP_PM_BACKOFF_MAX	    (16ull * 1000000000ull) /* doubling up to 16 s */
#define MPTCP_PM_NDIFFPORTS_DEFAULT 2

/* The registry: one line per path manager, in the order `mpt-perf --path-manager
 * list` prints them; the first is the default. */
#define MPTCP_PATH_MANAGERS(X) \
	X(kernel)              \
	X(ndiffports)

/* Why a subflow closed. */
enum mptcp_pm_close {
	MPTCP_PM_CLOSE_TIMEOUT,	    /* retransmissions (or SYN retries) exhausted */
	MPTCP_PM_CLOSE_RESET,	    /* the peer reset it (RST, or RST to our SYN) */
	MPTCP_PM_CLOSE_CARRIER,	    /* its local link lost carrier */
	MPTCP_PM_CLOSE_ADDR_GONE,   /* its local address went away */
	MPTCP_PM_CLOSE_REMOVED,	    /* the peer's REMOVE_ADDR named its remote address */
	MPTCP_PM_CLOSE_WITHDRAWN,   /* we withdrew it (endpoint removed, path manager) */
	MPTCP_PM_CLOSE_LOCAL,	    /* a local protocol decision (bad HMAC, MP_FAIL...) */
	MPTCP_PM_CLOSE_NORMAL,	    /* FIN exchange */
	MPTCP_PM_CLOSE_OPEN_FAILED, /* the open command failed at once (no port, limit) */
};

/* Re-creation applies: the subflow failed rather than being withdrawn. */
static inline bool mptcp_pm_close_retry(enum mptcp_pm_close c)
{
	return c == MPTCP_PM_CLOSE_TIMEOUT || c == MPTCP_PM_CLOSE_RESET ||
	       c == MPTCP_PM_CLOSE_CARRIER || c == MPTCP_PM_CLOSE_ADDR_GONE ||
	       c == MPTCP_PM_CLOSE_OPEN_FAILED;
}

enum mptcp_pm_event_type {
	MPTCP_PM_EV_ESTABLISHED,    /* the connection is fully established */
	MPTCP_PM_EV_SF_ESTABLISHED, /* .sf: a subflow's join finished */
	MPTCP_PM_EV_SF_CLOSED,	    /* .sf_tag, .path, .reason: a subflow closed */
	MPTCP_PM_EV_ADD_ADDR,	    /* .raddr: the peer announced an address */
	MPTCP_PM_EV_RM_ADDR,	    /* .id: the peer removed its address id */
	MPTCP_PM_EV_LOCAL_DOWN,	    /* .path: carrier lost (.gone: the address too) */
	MPTCP_PM_EV_LOCAL_UP,	    /* .path: carrier back, or the address back */
	MPTCP_PM_EV_ENDPOINT_ADDED, /* .id */
	MPTCP_PM_EV_ENDPOINT_DEL,   /* .id, .path (the endpoint is gone from the view) */
	MPTCP_PM_EV_ENDPOINT_FLAGS, /* .id: its flags changed */
	MPTCP_PM_EV_TIMER,	    /* the time asked for (or any tick after it) */
};

struct mptcp_pm_event {
	enum mptcp_pm_event_type type;
	uint32_t sf;		    /* SF_ESTABLISHED: index in the view */
	uint32_t sf_tag;	    /* SF_CLOSED: the subflow's tag (0: not the PM's) */
	enum mptcp_pm_close reason; /* SF_CLOSED */
	uint32_t path;		    /* SF_CLOSED, LOCAL_*, ENDPOINT_DEL */
	bool gone;		    /* LOCAL_DOWN: the address went away, not only carrier */
	uint8_t id;		    /* RM_ADDR (remote id), ENDPOINT_* (endpoint id) */
	uint32_t raddr;		    /* ADD_ADDR: index in the view's raddr[] */
};

/* One subflow as a path manager sees it (closed ones are not in the view). */
struct mptcp_pm_sf {
	uint32_t path;
	struct mpt_sockaddr local, remote;
	uint8_t local_id, remote_id;
	bool join;	  /* opened by MP_JOIN (not the first subflow) */
	bool established; /* may carry data */
	bool backup;	  /* we asked for backup priority */
	uint32_t tag;	  /* the slot it was opened for, + 1; 0: none */
};

struct mptcp_pm_raddr {
	bool used;
	uint8_t id;
	struct mpt_sockaddr addr;
};

struct mptcp_pm_ep {
	bool used;
	uint32_t path;
	uint32_t flags; /* MPT_EP_* */
};

struct mptcp_pm_path {
	bool used; /* the address exists */
	bool up;   /* and its link has carrier */
	struct mpt_sockaddr local;
};

struct mptcp_pm_view {
	uint64_t now;
	bool server;   /* the listener's side (opens no subflows, as Linux) */
	bool active;   /* fully established, not in fallback, not closing */
	uint32_t arg;  /* the path manager's parameter (ndiffports:N), 0 = none */
	uint32_t nsub; /* subflows counting closed ones not yet freed (the limit's count) */
	uint32_t max_subflows;
	int first; /* index of the first (MP_CAPABLE) subflow in sf[], -1: closed */
	uint32_t nsf;
	struct mptcp_pm_sf sf[MPTCP_PM_MAX_SF];
	struct mptcp_pm_raddr raddr[MPTCP_PM_MAX_RADDRS];
	const struct mptcp_pm_ep *ep; /* [256], by endpoint id */
	int ep_max_id;
	const struct mptcp_pm_path *paths; /* [MPTCP_PM_MAX_PATHS] */
	/* The local path to join remote from: the runtime's routing answer
	 * (env.route_source), else a path on remote's /24 or /64, else dflt; counts
	 * MpnetExtMPTcpJoinSrcRoute / MpnetExtMPTcpJoinSrcSubnet. */
	uint32_t (*route)(void *ctx, const struct mpt_sockaddr *remote, uint32_t dflt);
	void *route_ctx;
	struct mpt_counters *ctr; /* the decisions' counters */
	void *priv;		  /* MPTCP_PM_PRIV bytes, the path manager's */
};

enum mptcp_pm_cmd_type {
	MPTCP_PM_CMD_ANNOUNCE,	 /* .id: ADD_ADDR for endpoint id (retransmitted until echoed) */
	MPTCP_PM_CMD_WITHDRAW,	 /* .id, .path: REMOVE_ADDR; closes our joins from .path */
	MPTCP_PM_CMD_OPEN,	 /* .path, .id (local), .remote, .remote_id, .backup, .tag */
	MPTCP_PM_CMD_CLOSE,	 /* .sf, .reason: reset that subflow (its data reinjected) */
	MPTCP_PM_CMD_SET_BACKUP, /* .sf, .backup: MP_PRIO */
};

struct mptcp_pm_cmd {
	enum mptcp_pm_cmd_type type;
	uint8_t id, remote_id;
	uint32_t path, sf, tag;
	struct mpt_sockaddr remote;
	bool backup;
	enum mptcp_pm_close reason;
};

struct mptcp_pm_cmds {
	uint32_t n;
	struct mptcp_pm_cmd v[MPTCP_PM_MAX_CMDS];
	uint64_t wake_at; /* the next timer event wanted; UINT64_MAX: none */
};

/* One slot: a subflow the path manager wants (re-creation state). */
enum mptcp_pm_slot_state {
	MPTCP_PM_SLOT_FREE,
	MPTCP_PM_SLOT_WANT, /* to open at retry_at */
	MPTCP_PM_SLOT_OPEN, /* opened (join in progress or established) */
	MPTCP_PM_SLOT_DONE, /* closed for good (withdrawn, local error): not re-wanted */
};

struct mptcp_pm_slot {
	uint8_t state; /* enum mptcp_pm_slot_state */
	uint8_t ep_id; /* local endpoint id of the subflow (0: the first's address) */
	uint8_t rid;   /* remote address id (0: the first subflow's) */
	bool backup;
	bool from_raddr; /* remote is an announced address: only while announced */
	bool failed;	 /* closed at least once: an establishment is a re-creation */
	uint32_t path;
	struct mpt_sockaddr remote;
	uint64_t retry_at, backoff;
};

struct mptcp_pm_slots {
	struct mptcp_pm_slot s[MPTCP_PM_MAX_SLOTS];
};

#define MPTCP_PM_PRIV (sizeof(struct mptcp_pm_slots) + 64)

struct mptcp_pm_ops {
	const char *name;
	const char *desc; /* one line, for `mpt-perf --path-manager list` */
	/* Optional: whether `arg` (NAME:ARG; 0 when not given) is acceptable. */
	bool (*arg_ok)(uint32_t arg);
	/* Required: one event; commands into c (n = 0, wake_at = UINT64_MAX before). */
	void (*event)(const struct mptcp_pm_view *v, const struct mptcp_pm_event *e,
		      struct mptcp_pm_cmds *c);
};

#define MPTCP_PM_DECLARE(n) extern const struct mptcp_pm_ops mptcp_pm_##n;
MPTCP_PATH_MANAGERS(MPTCP_PM_DECLARE)
#undef MPTCP_PM_DECLARE

/* The path manager spelled `spec` ("NAME" or "NAME:ARG"; NULL or "" = "kernel"), or
 * NULL (unknown name, or an argument it does not take).  *arg gets ARG (0 without). */
const struct mptcp_pm_ops *mptcp_pm_find(const char *spec, uint32_t *arg);

/* ---- helpers shared by the path managers (mptcp_pathmgr.c) ---- */

/* Append a command (dropped when c is full: MpnetExtPmCmdDrop). */
void mptcp_pm_cmd(const struct mptcp_pm_view *v, struct mptcp_pm_cmds *c,
		  const struct mptcp_pm_cmd *cmd);

/* Want a subflow from path (endpoint ep_id) to remote (id rid): a slot, unless one
 * already wants the same (path, remote, and - for ndiffports - k); opened at once by
 * mptcp_pm_slots_run.  Returns the slot index, or -1 (table full). */
int mptcp_pm_want(struct mptcp_pm_slots *t, uint32_t path, uint8_t ep_id,
		  const struct mpt_sockaddr *remote, uint8_t rid, bool backup, bool from_raddr,
		  bool distinct);
/* Forget the slots matching: on path (UINT32_MAX: any), from endpoint ep_id (-1:
 * any), to remote id rid (-1: any) among announced ones. */
void mptcp_pm_forget(struct mptcp_pm_slots *t, uint32_t path, int ep_id, int rid);
/* The re-creation rules of the top of this file for events ESTABLISHED (slot 0 takes
 * the first subflow), SF_ESTABLISHED, SF_CLOSED, LOCAL_DOWN (closes the subflows on
 * that path), LOCAL_UP, RM_ADDR and ENDPOINT_DEL (their slots forgotten). */
void mptcp_pm_slots_event(const struct mptcp_pm_view *v, const struct mptcp_pm_event *e,
			  struct mptcp_pm_slots *t, struct mptcp_pm_cmds *c);
/* Open every wanted slot that is due (path up, room under the subflow limit) and
 * lower c->wake_at to the next one due.  Nothing on the listener's side. */
void mptcp_pm_slots_open(const struct mptcp_pm_view *v, struct mptcp_pm_slots *t,
			 struct mptcp_pm_cmds *c);

#endif
