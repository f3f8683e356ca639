/* The MPTCP path manager: which subflows to open and which addresses to announce.
 *
 * Endpoints are the kernel's (`ip mptcp endpoint`): flags signal, subflow, backup,
 * fullmesh on a local address (mpt_stack_add_endpoint).  Like Linux's in-kernel path
 * manager, and once the connection is fully established (RFC 8684 3.2: a join needs
 * the peer's key):
 *   - the connection's initiator opens a subflow from every `subflow` endpoint to the
 *     peer's address of the first subflow (and, with `fullmesh`, to every address the
 *     peer announced), with MP_JOIN's B flag for `backup` endpoints;
 *   - the initiator joins every address the peer announces (ADD_ADDR), from a local
 *     address on its subnet if there is one (Linux lets routing choose the source),
 *     else from the first subflow's address, up to cfg.max_add_addr_accepted;
 *   - either side announces every `signal` endpoint with ADD_ADDR, retransmitted every
 *     MPTCP_ADD_ADDR_TIMO until echoed, at most MPTCP_ADD_ADDR_RTX more times
 *     (RFC 8684 3.4.1).
 * All subject to cfg.max_subflows, counting the first subflow.  A subflow is opened
 * once per endpoint / address: one that fails is not retried.
 */
#include "mptcp.h"

#include <string.h>

static bool has_subflow(const struct mptcp_conn *mp, uint32_t path,
			const struct mpt_sockaddr *remote)
{
	for (uint32_t i = 0; i < mp->nsub; i++) {
		const struct tcb *s = mp->sub[i];

		if (s->path == path && s->remote.family == remote->family &&
		    !memcmp(s->remote.ip, remote->ip, remote->family == MPT_AF_INET ? 4 : 16) &&
		    s->remote.port == remote->port)
			return true;
	}
	return false;
}

static const struct tcb *first_subflow(const struct mptcp_conn *mp)
{
	for (uint32_t i = 0; i < mp->nsub; i++)
		if (!mp->sub[i]->sf->join)
			return mp->sub[i];
	return NULL;
}

static bool room_for_subflow(const struct mptcp_conn *mp)
{
	return mp->nsub < mp->st->cfg.max_subflows && mp->nsub < MPTCP_MAX_SUBFLOWS;
}

static void try_join(struct mptcp_conn *mp, uint32_t path, uint8_t local_id,
		     const struct mpt_sockaddr *remote, uint8_t remote_id, bool backup,
		     uint64_t now)
{
	const struct mpt_sockaddr *l = &mp->st->paths[path].local;

	if (!room_for_subflow(mp) || l->family != remote->family || has_subflow(mp, path, remote))
		return;
	if (mptcp_join_active(mp, path, local_id, remote, remote_id, backup, now) < 0)
		stack_log(mp->st, 1, "conn %u: cannot open a subflow on path %u", mp->id, path);
}

static unsigned common_prefix(const struct mpt_sockaddr *a, const struct mpt_sockaddr *b)
{
	unsigned n = 0, len = a->family == MPT_AF_INET ? 4 : 16;

	for (unsigned i = 0; i < len; i++) {
		uint8_t x = a->ip[i] ^ b->ip[i];

		if (!x) {
			n += 8;
			continue;
		}
		while (!(x & 0x80)) {
			n++;
			x <<= 1;
		}
		break;
	}
	return n;
}

/* The local path to join an announced address from.  The core knows no routes, so
 * it does what routing would on the usual topologies: a local address on the same
 * subnet (/24, /64) as the announced one (directly attached), else the first
 * subflow's address (both behind the same router). */
static uint32_t local_path_for(const struct mptcp_conn *mp, const struct mpt_sockaddr *remote,
			       uint32_t dflt)
{
	const struct mpt_stack *st = mp->st;
	unsigned best = remote->family == MPT_AF_INET ? 24 : 64;
	uint32_t path = dflt;

	for (uint32_t p = 0; p < MPT_MAX_PATHS; p++) {
		unsigned n;

		if (!st->paths[p].used || st->paths[p].local.family != remote->family)
			continue;
		n = common_prefix(&st->paths[p].local, remote);
		if (n >= best) {
			best = n;
			path = p;
		}
	}
	return path;
}

/* Whether the path manager acts on the connection at all. */
static bool pm_active(const struct mptcp_conn *mp)
{
	return !mp->fallback && !mp->fail_tx && !mp->fail_rx && mp->fully_established &&
	       !mp->closed_ev && !mp->error && first_subflow(mp) && !mp->app_closed;
}

/* Endpoint id's address is announced on this connection (a signal endpoint off the
 * first subflow's path). */
static bool announces(const struct mptcp_conn *mp, int id)
{
	const struct mpt_stack *st = mp->st;
	const struct tcb *first = first_subflow(mp);

	return first && st->endpoints[id].used && (st->endpoints[id].flags & MPT_EP_SIGNAL) &&
	       st->endpoints[id].path != first->path;
}

/* The ADD_ADDR retransmission of endpoint id is armed: announced, not echoed, not
 * queued again yet, retries left.  The one test for mptcp_pm_tick, which consumes
 * it, and mptcp_pm_next_timeout, which reports it: a time reported that the tick
 * does not consume makes a runtime spin (issue 11). */
static bool announce_rtx_armed(const struct mptcp_conn *mp, int id)
{
	return announces(mp, id) && mp->announce[id].sent && !mp->announce[id].echoed &&
	       !mp->announce[id].due && mp->announce[id].sent <= MPTCP_ADD_ADDR_RTX &&
	       mp->announce[id].rtx_at;
}

uint64_t mptcp_pm_next_timeout(const struct mptcp_conn *mp)
{
	uint64_t n = UINT64_MAX;

	if (!pm_active(mp))
		return n;
	for (int id = 1; id <= mp->st->ep_max_id; id++)
		if (announce_rtx_armed(mp, id) && mp->announce[id].rtx_at < n)
			n = mp->announce[id].rtx_at;
	return n;
}

void mptcp_pm_tick(struct mptcp_conn *mp, uint64_t now)
{
	struct mpt_stack *st = mp->st;
	const struct tcb *first = first_subflow(mp);

	if (!pm_active(mp))
		return;
	/* announcements, either side */
	for (int id = 1; id <= st->ep_max_id; id++) {
		if (!announces(mp, id))
			continue;
		if (!mp->announce[id].sent) {
			mp->announce[id].sent = 1;
			mp->announce[id].due = true;
		} else if (announce_rtx_armed(mp, id) && now >= mp->announce[id].rtx_at) {
			mp->announce[id].sent++;
			mp->announce[id].due = true;
		} else {
			continue;
		}
		for (uint32_t i = 0; i < mp->nsub; i++)
			if (mptcp_sf_sendable(mp->sub[i])) {
				mp->sub[i]->ack_now = true;
				break;
			}
	}
	if (mp->server)
		return; /* the listener side does not open subflows (as Linux) */
	for (int id = 1; id <= st->ep_max_id; id++) {
		uint32_t flags = st->endpoints[id].flags;
		uint32_t path = st->endpoints[id].path;

		if (!st->endpoints[id].used || !(flags & MPT_EP_SUBFLOW) || path == first->path ||
		    now < mp->ep_retry_at[id])
			continue;
		/* a failed join is retried, but not faster than once a second */
		if (!has_subflow(mp, path, &first->remote))
			mp->ep_retry_at[id] = now + 1000000000ull;
		try_join(mp, path, (uint8_t)id, &first->remote, 0, flags & MPT_EP_BACKUP, now);
		if (flags & MPT_EP_FULLMESH)
			for (uint32_t i = 0; i < MPTCP_MAX_RADDRS; i++)
				if (mp->raddr[i].used)
					try_join(mp, path, (uint8_t)id, &mp->raddr[i].addr,
						 mp->raddr[i].id, flags & MPT_EP_BACKUP, now);
	}
	for (uint32_t i = 0; i < MPTCP_MAX_RADDRS; i++) {
		if (!mp->raddr[i].used || mp->raddr[i].joined)
			continue;
		uint32_t path = local_path_for(mp, &mp->raddr[i].addr, first->path);
		uint8_t lid = 0;

		mp->raddr[i].joined = true;
		for (int id = 1; id <= st->ep_max_id && path != first->path; id++)
			if (st->endpoints[id].used && st->endpoints[id].path == path)
				lid = (uint8_t)id;
		if (path != first->path && !lid)
			lid = (uint8_t)(100 + path);
		try_join(mp, path, lid, &mp->raddr[i].addr, mp->raddr[i].id, false, now);
	}
}
