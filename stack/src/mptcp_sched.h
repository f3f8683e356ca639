/* MPTCP schedulers: the policy half of mptcp_sched.c, as Linux's struct mptcp_sched_ops
 * (net/mptcp/sched.c).
 *
 * The send loop is mechanism (mptcp_sched.c): it fills a read-only view of the
 * connection and its subflows, asks the connection's scheduler which subflow(s) take
 * which data-level bytes next, checks the answer against the data-level window and
 * copies the bytes into the subflows' send buffers.  A scheduler sees only this header
 * and mpt.h: no tcb, no mptcp_conn.  It keeps its own state in the two opaque areas
 * the view points to (one per connection, one per subflow; zeroed at creation, then
 * ops->init on the connection's).
 *
 * Adding one: a file stack/src/sched_<name>.c defining `const struct mptcp_sched_ops
 * mptcp_sched_<name>`, an X(<name>) line in MPTCP_SCHEDULERS below, and
 * tests/unit/test_sched_<name>.c with views built by hand.
 */
#ifndef MPT_MPTCP_SCHED_H
#define MPT_MPTCP_SCHED_H

#include "mpt.h"

#include <stdbool.h>
#include <stdint.h>

#define MPTCP_SCHED_MAX_SF    16 /* = MPTCP_MAX_SUBFLOWS (checked in mptcp_sched.c) */
#define MPTCP_SCHED_CONN_PRIV 64 /* bytes of per-connection state */
#define MPTCP_SCHED_SF_PRIV   32 /* bytes of per-subflow state */

/* The registry: one line per scheduler, in the order `mpt-perf --scheduler list`
 * prints them; the first is the default. */
#define MPTCP_SCHEDULERS(X) \
	X(default)          \
	X(roundrobin)       \
	X(redundant)        \
	X(blest)            \
	X(ecf)

/* One subflow as a scheduler sees it.  Byte counts are the subflow's own (TCP level). */
struct mptcp_sched_sf {
	bool usable;	    /* may carry data now: handshake done, not dead, not shut */
	bool backup;	    /* backup priority, asked by either side (B flag / MP_PRIO) */
	bool stale;	    /* stopped making progress (RTOs); its data was reinjected */
	bool rto_recovery;  /* since an RTO, until its window is back at ssthresh */
	uint64_t srtt_ns;   /* smoothed RTT, 0 before the first sample */
	uint64_t rttvar_ns; /* RTT variance (RFC 6298 RTTVAR) */
	uint32_t mss;	    /* payload bytes per segment */
	uint32_t cwnd;	    /* congestion window, bytes */
	uint32_t in_flight; /* sent, not acknowledged */
	uint32_t queued;    /* in its send buffer, not sent yet */
	/* what it may take now: its congestion window plus two segments of slack, minus
	 * what it holds (in flight + queued), at most its send-buffer room */
	uint32_t room;
	uint32_t sndbuf_room; /* free bytes in its send buffer */
	/* data sequence number just past the last byte it was given (0: none yet) */
	uint64_t data_nxt;
	void *priv; /* MPTCP_SCHED_SF_PRIV bytes, the scheduler's */
};

enum mptcp_sched_kind {
	MPTCP_SCHED_NEW,      /* new data: [dsn, dsn + len) = [snd_nxt, min(end, wnd_edge)) */
	MPTCP_SCHED_REINJECT, /* data from a stale or dead subflow, to send again */
};

/* The connection as a scheduler sees it.  Data sequence numbers are 64-bit. */
struct mptcp_sched_view {
	enum mptcp_sched_kind kind;
	uint64_t now;
	uint64_t snd_una;  /* oldest byte not DATA_ACKed */
	uint64_t snd_nxt;  /* next byte never given to any subflow */
	uint64_t end;	   /* end of the application's data in the send buffer */
	uint64_t wnd_edge; /* right edge of the peer's data-level receive window */
	/* the bytes to place; for MPTCP_SCHED_NEW a scheduler may also give any byte of
	 * [snd_una, dsn + len) again (redundant) */
	uint64_t dsn;
	uint64_t len;
	uint32_t burst_segs; /* roundrobin's burst: its ":N", else mpt_config.sched_burst_segs */
	uint32_t nsf;
	struct mptcp_sched_sf sf[MPTCP_SCHED_MAX_SF];
	void *priv; /* MPTCP_SCHED_CONN_PRIV bytes, the scheduler's */
};

/* A scheduler's answer: give sf[i] the bytes [dsn, dsn + len).  n == 0 is "wait"
 * (the loop asks again on the next ACK, timer or write).  The loop drops an entry
 * outside the window or on an unusable subflow (MpnetExtSchedBadPick), trims a length
 * to whole segments while more data waits, and copies at most what the subflow's
 * send buffer takes. */
struct mptcp_sched_pick {
	uint32_t n;
	/* a subflow with room was passed over on purpose (BLEST/ECF: sending there would
	 * block the window): counted as MpnetExtSchedHoldBack */
	bool held_back;
	struct {
		uint32_t sf;
		uint64_t dsn;
		uint32_t len;
	} v[MPTCP_SCHED_MAX_SF];
};

struct mptcp_sched_ops {
	const char *name;
	const char *desc; /* one line, for `mpt-perf --scheduler list` */
	/* Optional: whether `arg` (NAME:ARG) is acceptable; NULL: it takes none. */
	bool (*arg_ok)(uint32_t arg);
	/* Optional: set up the per-connection state (zeroed before). */
	void (*init)(void *conn_priv);
	/* Required: the next bytes of new data (view->kind == MPTCP_SCHED_NEW). */
	void (*get_send)(const struct mptcp_sched_view *v, struct mptcp_sched_pick *p);
	/* Optional: where a reinjection goes (view->kind == MPTCP_SCHED_REINJECT);
	 * NULL: the default scheduler's rule. */
	void (*get_retrans)(const struct mptcp_sched_view *v, struct mptcp_sched_pick *p);
};

#define MPTCP_SCHED_DECLARE(n) extern const struct mptcp_sched_ops mptcp_sched_##n;
MPTCP_SCHEDULERS(MPTCP_SCHED_DECLARE)
#undef MPTCP_SCHED_DECLARE

/* The scheduler `spec` names ("NAME" or "NAME:ARG"; NULL or "" = "default") and, in
 * *arg when not NULL, its ARG (0: none), or NULL (unknown, or an ARG it refuses). */
const struct mptcp_sched_ops *mptcp_sched_find(const char *spec, uint32_t *arg);

/* Helpers shared by the schedulers. */

/* Tier of a subflow: 0 regular, 1 backup, 2 stale regular, 3 stale backup. */
static inline int mptcp_sched_tier(const struct mptcp_sched_sf *s)
{
	return (s->stale ? 2 : 0) + (s->backup ? 1 : 0);
}

/* The subflows a scheduler may use are the usable ones of tier <= this: the best tier
 * with a usable subflow (RFC 8684 3.3.8: "a backup path ... only used if there are no
 * non-backup paths available"; stale ones only when nothing else is), or 4 when none
 * is usable.  One exception: when every usable regular subflow is climbing back from
 * an RTO (rto_recovery), the backups join them (1).  Its first flights go to data the
 * others already carried, from one segment of window: a primary path back from a
 * blackout would otherwise make the connection dip while the backup idles. */
static inline int mptcp_sched_best_tier(const struct mptcp_sched_view *v)
{
	int best = 4;
	bool healthy_regular = false;

	for (uint32_t i = 0; i < v->nsf; i++) {
		const struct mptcp_sched_sf *s = &v->sf[i];

		if (!s->usable)
			continue;
		if (mptcp_sched_tier(s) < best)
			best = mptcp_sched_tier(s);
		if (mptcp_sched_tier(s) == 0 && !s->rto_recovery)
			healthy_regular = true;
	}
	if (best == 0 && !healthy_regular)
		best = 1;
	return best;
}

/* Append an entry to p. */
static inline void mptcp_sched_give(struct mptcp_sched_pick *p, uint32_t sf, uint64_t dsn,
				    uint64_t len)
{
	if (p->n >= MPTCP_SCHED_MAX_SF || !len)
		return;
	p->v[p->n].sf = sf;
	p->v[p->n].dsn = dsn;
	p->v[p->n].len = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
	p->n++;
}

#endif
