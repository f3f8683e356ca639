/* MPTCP connection level: handshakes, DSS, data-level buffers (see mptcp.h). */
#include "mptcp.h"

#include "mptcp_crypto.h"

#include <string.h>

#define MPTCP_TOKEN_TRIES 16
#define MPTCP_COPY_CHUNK  16384
#define MPTCP_MAP_MAX	  65535u /* DSS data-level length: 16 bits */

static struct mpt_counters *ctr(const struct mptcp_conn *mp)
{
	return &mp->st->ctr;
}

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static bool is_master(const struct tcb *t)
{
	return !t->sf->join;
}

static struct tcb *master_of(const struct mptcp_conn *mp)
{
	for (uint32_t i = 0; i < mp->nsub; i++)
		if (!mp->sub[i]->sf->join)
			return mp->sub[i];
	return NULL;
}

static void app_event(struct mptcp_conn *mp, enum mpt_event_type type, int err)
{
	if (!mp->app_closed)
		stack_event(mp->st, type, mp->id, err);
}

/* ---- DSS maps ---------------------------------------------------------------------- */

static int maps_reserve(struct mpt_stack *st, struct mptcp_maps *m)
{
	struct mptcp_map *v;
	uint32_t cap;

	if (m->n < m->cap)
		return 0;
	cap = m->cap ? m->cap * 2 : 16;
	v = stack_calloc(st, cap, sizeof(*v));
	if (!v)
		return MPT_ENOMEM;
	if (m->n)
		memcpy(v, m->v, m->n * sizeof(*v));
	stack_free(st, m->v);
	m->v = v;
	m->cap = cap;
	return 0;
}

/* The map holding subflow sequence number seq, or NULL. */
static struct mptcp_map *maps_find(const struct mptcp_maps *m, uint32_t seq)
{
	for (uint32_t i = 0; i < m->n; i++)
		if (seq_ge(seq, m->v[i].ssn) && seq_lt(seq, m->v[i].ssn + m->v[i].len))
			return &m->v[i];
	return NULL;
}

/* Append a map; extends the last one when both sequence spaces continue it, it has
 * not been on the wire yet (a map once announced never changes: RFC 8684 3.3.1,
 * Linux resets a subflow whose map changes under data it covers), and it stays
 * within cap bytes (a longer run becomes several maps). */
static int maps_add(struct mpt_stack *st, struct mptcp_maps *m, uint32_t ssn, uint64_t dsn,
		    uint32_t len, uint32_t cap)
{
	while (len) {
		struct mptcp_map *last = m->n ? &m->v[m->n - 1] : NULL;
		uint32_t k;

		if (last && last->ssn + last->len == ssn && last->dsn + last->len == dsn &&
		    last->len < cap && !last->sent) {
			k = len < cap - last->len ? len : cap - last->len;
			last->len += k;
		} else {
			if (maps_reserve(st, m) < 0)
				return MPT_ENOMEM;
			k = len < cap ? len : cap;
			m->v[m->n++] = (struct mptcp_map){ssn, dsn, k, 0, 0, 0, 0};
		}
		ssn += k;
		dsn += k;
		len -= k;
	}
	return 0;
}

/* Forget maps wholly before subflow sequence number una. */
static void maps_trim(struct mptcp_maps *m, uint32_t una)
{
	uint32_t k = 0;

	while (k < m->n && seq_le(m->v[k].ssn + m->v[k].len, una))
		k++;
	if (k) {
		memmove(m->v, m->v + k, (m->n - k) * sizeof(*m->v));
		m->n -= k;
	}
}

/* A received mapping: remembered unless an equal or covering one is known.  A map
 * that contradicts a known one (same subflow bytes, other data sequence numbers) is
 * not honoured (RFC 8684 3.3.1: DSSNotMatching). */
static void rx_map_add(struct tcb *t, uint32_t ssn, uint64_t dsn, uint32_t len, bool has_csum,
		       uint16_t csum, bool fin)
{
	struct mptcp_maps *m = &t->sf->rx;
	struct mptcp_map *old = maps_find(m, ssn);

	if (old) {
		if (old->dsn + (uint32_t)(ssn - old->ssn) != dsn) {
			ctr(t->mp)->dss_not_matching++;
			return;
		}
		if (seq_le(ssn + len, old->ssn + old->len))
			return; /* repeated */
	}
	if (maps_reserve(t->st, m) < 0)
		return;
	/* keep the list ordered by subflow sequence */
	uint32_t i = m->n;

	while (i > 0 && seq_gt(m->v[i - 1].ssn, ssn)) {
		m->v[i] = m->v[i - 1];
		i--;
	}
	m->v[i] = (struct mptcp_map){ssn, dsn, len, csum, has_csum, fin, 0};
	m->n++;
}

/* ---- creation and teardown ------------------------------------------------------- */

static void sf_event(struct tcb *t, enum mpt_event_type type, int err);
static int csum_on(struct mptcp_conn *mp);
static uint32_t sf_seg_limit(struct tcb *t, uint32_t seq, uint32_t len);
static void sf_release(struct tcb *t);
static void sf_cc_view(struct tcb *t, struct mpt_cc_conn *v);

static const struct tcp_ulp_ops mptcp_ulp = {
	.event = sf_event,
	.seg_limit = sf_seg_limit,
	.release = sf_release,
	.cc_view = sf_cc_view,
};

_Static_assert(MPT_CC_MAX_SF >= MPTCP_MAX_SUBFLOWS, "one cc view slot per subflow");

/* tcp_ulp_ops.cc_view: every subflow of t's connection, as the out-of-tree kernel's
 * coupled controllers walk mptcp_for_each_sk; usable as the scheduler's (handshake
 * done, not dead, not shut), backup as either side asked, stale.  Fallback (one
 * subflow, plain TCP from now on) leaves v empty: a connection of one. */
static void sf_cc_view(struct tcb *t, struct mpt_cc_conn *v)
{
	struct mptcp_conn *mp = t->mp;
	bool found = false;

	if (!mp || mp->fallback || !t->sf)
		return;
	for (uint32_t i = 0; i < mp->nsub && v->nsf < MPT_CC_MAX_SF; i++) {
		const struct tcb *s = mp->sub[i];
		struct mpt_cc_sf *o = &v->sf[v->nsf];

		tcp_cc_sf(s, o);
		o->usable = mptcp_sf_sendable(s);
		o->backup = s->sf->backup || s->sf->peer_backup;
		o->stale = s->sf->stale;
		if (s == t) {
			v->self = v->nsf;
			found = true;
		}
		v->nsf++;
	}
	if (!found)
		v->nsf = 0; /* not (or no longer) listed: a connection of one */
}

static bool token_in_use(const struct mpt_stack *st, uint32_t token)
{
	for (const struct tcb *o = st->conns; o; o = o->next)
		if (o->mp && o->mp->local_token == token)
			return true;
	return false;
}

static int random32(struct mpt_stack *st, uint32_t *out)
{
	uint8_t rnd[4];

	if (st->env.crypto.random_bytes(st->env.crypto.ctx, rnd, sizeof(rnd)) < 0)
		return MPT_ECRYPTO;
	*out = wire_get32(rnd);
	return 0;
}

static int sf_attach(struct mptcp_conn *mp, struct tcb *t, bool join)
{
	struct mptcp_subflow *sf;

	if (mp->nsub >= MPTCP_MAX_SUBFLOWS)
		return MPT_ENOBUFS;
	sf = stack_calloc(t->st, 1, sizeof(*sf));
	if (!sf)
		return MPT_ENOMEM;
	sf->mp = mp;
	sf->join = join;
	if (join && random32(t->st, &sf->local_nonce) < 0) {
		stack_free(t->st, sf);
		return MPT_ECRYPTO;
	}
	t->sf = sf;
	t->mp = mp;
	t->ulp = &mptcp_ulp;
	mp->sub[mp->nsub++] = t;
	tcp_set_ulp_reserve(t, MPTCP_OPT_RESERVE);
	t->ulp_ack_reserve = MPTCP_ACK_RESERVE;
	return 0;
}

int mptcp_attach(struct tcb *t, bool server)
{
	struct mpt_stack *st = t->st;
	const struct mpt_crypto *c = &st->env.crypto;
	struct mptcp_conn *mp = stack_calloc(st, 1, sizeof(*mp));
	uint8_t rnd[8];
	int i, rv;

	if (!mp)
		return MPT_ENOMEM;
	mp->st = st;
	mp->sndbuf.cap = st->cfg.sndbuf;
	mp->rcvbuf.cap = st->cfg.rcvbuf;
	mp->sndbuf.buf = stack_calloc(st, 1, mp->sndbuf.cap);
	mp->rcvbuf.buf = stack_calloc(st, 1, mp->rcvbuf.cap);
	if (!mp->sndbuf.buf || !mp->rcvbuf.buf) {
		rv = MPT_ENOMEM;
		goto fail;
	}
	for (i = 0; i < MPTCP_TOKEN_TRIES; i++) {
		rv = MPT_ECRYPTO;
		if (c->random_bytes(c->ctx, rnd, sizeof(rnd)) < 0)
			goto fail;
		mp->local_key = (uint64_t)wire_get32(rnd) << 32 | wire_get32(rnd + 4);
		if (mptcp_crypto_key_sha(c, mp->local_key, &mp->local_token, &mp->local_idsn) < 0)
			goto fail;
		if (mp->local_key && !token_in_use(st, mp->local_token))
			break;
		st->ctr.mptcp_token_retry++;
	}
	rv = MPT_ECRYPTO;
	if (i == MPTCP_TOKEN_TRIES)
		goto fail;
	mp->server = server;
	mp->id = t->id;
	mp->infinite_ok = true;
	if (!server && st->cfg.mptcp_checksum && csum_on(mp) < 0) {
		rv = MPT_ENOMEM;
		goto fail;
	}
	mp->snd_una = mp->snd_nxt = mp->local_idsn + 1;
	mp->snd_wnd_edge = mp->snd_una + 65535;
	rv = sf_attach(mp, t, false);
	if (rv < 0)
		goto fail;
	mptcp_pm_init(mp);
	t->sf->pm_tag = 1; /* the path managers' slot 0 */
	return 0;

fail:
	stack_free(st, mp->csum_buf);
	stack_free(st, mp->sndbuf.buf);
	stack_free(st, mp->rcvbuf.buf);
	stack_free(st, mp);
	return rv;
}

static void sf_release(struct tcb *t)
{
	struct mptcp_conn *mp = t->mp;
	struct mptcp_subflow *sf = t->sf;
	uint32_t i;

	mptcp_pm_sf_released(t);
	for (i = 0; i < mp->nsub; i++)
		if (mp->sub[i] == t) {
			mp->sub[i] = mp->sub[--mp->nsub];
			break;
		}
	stack_free(t->st, sf->tx.v);
	stack_free(t->st, sf->rx.v);
	stack_free(t->st, sf);
	t->sf = NULL;
	t->mp = NULL;
	t->ulp = NULL;
	if (!mp->nsub) {
		stack_free(mp->st, mp->reinj.v);
		stack_free(mp->st, mp->csum_buf);
		stack_free(mp->st, mp->sndbuf.buf);
		stack_free(mp->st, mp->rcvbuf.buf);
		stack_free(mp->st, mp);
	}
}

static void sf_event(struct tcb *t, enum mpt_event_type type, int err);

static void fallback(struct mptcp_conn *mp, struct tcb *t)
{
	if (mp->fallback)
		return;
	mp->fallback = true;
	tcp_set_ulp_reserve(t, 0);
	/* from here the subflow's byte stream is the data stream: every data-level
	 * mechanism stops (reinjection, the data-level and DATA_FIN retransmission
	 * timers, ADD_ADDR retransmission and pending signals) */
	mp->reinj.n = 0;
	mp->data_rtx_at = 0;
	mp->data_fin_rtx_at = 0;
	mp->echo_due = false;
	mp->nrm = 0;
	for (int id = 0; id < 256; id++)
		mp->announce[id].due = false, mp->announce[id].rtx_at = 0;
	/* bytes already given to the subflow are its own now: its TCP ACKs are the only
	 * acknowledgements from here on */
	if (mp->snd_nxt > mp->snd_una) {
		ring_consume(&mp->sndbuf, (uint32_t)(mp->snd_nxt - mp->snd_una));
		mp->snd_una = mp->snd_nxt;
	}
	stack_log(mp->st, 2, "conn %u: MPTCP fallback to TCP", mp->id);
	/* the peer's FIN may have come before the fallback (as MPTCP, a subflow FIN is
	 * not the end of the stream); now it is */
	if (t->fin_rcvd)
		sf_event(t, MPT_EV_PEER_CLOSED, 0);
	if (t->state == MPT_CLOSED || t->state == MPT_TIME_WAIT)
		sf_event(t, MPT_EV_CLOSED, 0);
}

static int set_remote_key(struct mptcp_conn *mp, uint64_t key)
{
	int rv =
		mptcp_crypto_key_sha(&mp->st->env.crypto, key, &mp->remote_token, &mp->remote_idsn);

	if (rv < 0)
		return rv;
	mp->remote_key = key;
	mp->remote_key_known = true;
	mp->rcv_nxt = mp->remote_idsn + 1;
	return 0;
}

/* Both sequence spaces of a subflow exist once its ISNs are known. */
static bool seq_ready(const struct tcb *t)
{
	return t->state != MPT_CLOSED && t->state != MPT_LISTEN && t->state != MPT_SYN_SENT;
}

bool mptcp_sf_sendable(const struct tcb *t)
{
	return t->sf->usable && !t->sf->dead && !t->wr_shut &&
	       (t->state == MPT_ESTABLISHED || t->state == MPT_CLOSE_WAIT);
}

void mptcp_reinj_add(struct mptcp_conn *mp, uint64_t dsn, uint64_t len)
{
	struct mptcp_maps *q = &mp->reinj;
	uint32_t i;

	while (len) {
		uint32_t k = len > 0x40000000u ? 0x40000000u : (uint32_t)len;

		mp->infinite_ok = false; /* data sent twice: not contiguous any more */
		/* extend a range it continues, else insert in dsn order */
		for (i = 0; i < q->n; i++)
			if (q->v[i].dsn + q->v[i].len == dsn)
				break;
		if (i < q->n) {
			q->v[i].len += k;
		} else {
			if (maps_reserve(mp->st, q) < 0)
				return;
			for (i = q->n; i > 0 && q->v[i - 1].dsn > dsn; i--)
				q->v[i] = q->v[i - 1];
			q->v[i] = (struct mptcp_map){0, dsn, k, 0, 0, 0, 0};
			q->n++;
		}
		dsn += k;
		len -= k;
	}
}

/* Queue the not yet DATA_ACKed data a subflow carried for the others. */
static void reinject_from(struct tcb *t)
{
	struct mptcp_conn *mp = t->mp;
	struct mptcp_subflow *sf = t->sf;

	if (mp->fallback || sf->reinjected)
		return;
	sf->reinjected = true;
	for (uint32_t i = 0; i < sf->tx.n; i++) {
		const struct mptcp_map *m = &sf->tx.v[i];
		uint64_t l = max64(m->dsn, mp->snd_una), r = min64(m->dsn + m->len, mp->snd_nxt);

		if (r > l)
			mptcp_reinj_add(mp, l, r - l);
	}
}

void mptcp_sf_kill(struct tcb *t, uint8_t reason, bool send_rst, uint64_t now)
{
	struct mptcp_subflow *sf = t->sf;

	(void)now;
	if (sf->dead)
		return;
	sf->dead = true;
	if (!sf->pm_reason_set) {
		sf->pm_reason_set = true;
		sf->pm_reason = MPTCP_PM_CLOSE_LOCAL;
	}
	ctr(t->mp)->subflow_dead++;
	reinject_from(t);
	if (t->state == MPT_CLOSED)
		return;
	if (send_rst && t->state != MPT_SYN_SENT && t->state != MPT_TIME_WAIT) {
		sf->rst_reason_set = true;
		sf->rst_reason = reason;
		t->rst_pending = true;
	}
	tcp_set_state(t, MPT_CLOSED);
}

/* ---- events from the subflows --------------------------------------------------- */

static bool any_alive(const struct mptcp_conn *mp)
{
	for (uint32_t i = 0; i < mp->nsub; i++) {
		const struct tcb *s = mp->sub[i];

		if (!s->sf->dead && s->state != MPT_CLOSED && s->state != MPT_TIME_WAIT)
			return true;
	}
	return false;
}

static void conn_fail(struct mptcp_conn *mp, int err)
{
	if (mp->error || mp->closed_ev)
		return;
	mp->error = err ? err : MPT_ECONNRESET;
	app_event(mp, MPT_EV_ERROR, mp->error);
}

static void sf_event(struct tcb *t, enum mpt_event_type type, int err)
{
	struct mptcp_conn *mp = t->mp;

	switch (type) {
	case MPT_EV_CONNECTED:
		if (is_master(t) && !mp->connected_ev) {
			mp->connected_ev = true;
			app_event(mp, MPT_EV_CONNECTED, 0);
		}
		break;
	case MPT_EV_ERROR:
		if (!t->sf->pm_reason_set) {
			t->sf->pm_reason_set = true;
			t->sf->pm_reason = err == MPT_ETIMEDOUT ? MPTCP_PM_CLOSE_TIMEOUT
								: MPTCP_PM_CLOSE_RESET;
		}
		t->sf->dead = true;
		reinject_from(t);
		if (mp->fallback || !mp->fully_established || !any_alive(mp))
			conn_fail(mp, err);
		break;
	case MPT_EV_PEER_CLOSED:
		if (mp->fallback && is_master(t) && !mp->eof_ev) {
			mp->eof_ev = true;
			app_event(mp, MPT_EV_PEER_CLOSED, 0);
			app_event(mp, MPT_EV_READABLE, 0);
		}
		break;
	case MPT_EV_CLOSED:
		if (mp->fallback && is_master(t) && !mp->closed_ev) {
			mp->closed_ev = true;
			app_event(mp, MPT_EV_CLOSED, 0);
		}
		break;
	default: /* READABLE / WRITABLE: the data moves in input_post and the scheduler */
		break;
	}
}

static uint32_t sf_seg_limit(struct tcb *t, uint32_t seq, uint32_t len)
{
	const struct mptcp_map *m;

	if (t->mp->fallback)
		return len;
	/* MP_FAIL first, on a pure ACK (a full data segment has no room for it) */
	if (t->sf->fail_due && !t->sf->fail_ack_tried && !t->sf->dead)
		return 0;
	m = maps_find(&t->sf->tx, seq);
	if (!m)
		return len;
	return len < m->ssn + m->len - seq ? len : m->ssn + m->len - seq;
}

/* ---- data level: receive ------------------------------------------------------- */

static void notify_readable(struct mptcp_conn *mp)
{
	if (!mp->readable_ev) {
		mp->readable_ev = true;
		app_event(mp, MPT_EV_READABLE, 0);
	}
}

/* How many bytes from dsn the data-level buffer can take now (duplicates count as
 * taken: they are dropped). */
static uint32_t place_room(const struct mptcp_conn *mp, uint64_t dsn, uint32_t n)
{
	uint64_t limit = mp->rcv_nxt + (mp->rcvbuf.cap - mp->rcvbuf.len);

	if (dsn + n <= mp->rcv_nxt)
		return n;
	if (dsn >= limit)
		return 0;
	if (dsn > mp->rcv_nxt && mp->nofo == MPTCP_OFO_MAX) {
		/* a new out-of-order range needs an entry; one that touches a known range
		 * does not */
		bool touches = false;

		for (uint32_t i = 0; i < mp->nofo; i++)
			if (dsn <= mp->ofo[i].right && dsn + n >= mp->ofo[i].left)
				touches = true;
		if (!touches)
			return 0;
	}
	return dsn + n <= limit ? n : (uint32_t)(limit - dsn);
}

static void ofo_add(struct mptcp_conn *mp, uint64_t l, uint64_t r)
{
	uint32_t i = 0, j;

	mp->infinite_ok = false; /* out-of-order data at the data level (RFC 8684 3.7) */
	while (i < mp->nofo && mp->ofo[i].right < l)
		i++;
	if (i < mp->nofo && mp->ofo[i].left <= r) {
		/* overlaps or touches entry i: widen it, then swallow followers */
		mp->ofo[i].left = min64(mp->ofo[i].left, l);
		mp->ofo[i].right = max64(mp->ofo[i].right, r);
		while (i + 1 < mp->nofo && mp->ofo[i + 1].left <= mp->ofo[i].right) {
			mp->ofo[i].right = max64(mp->ofo[i].right, mp->ofo[i + 1].right);
			for (j = i + 1; j + 1 < mp->nofo; j++)
				mp->ofo[j] = mp->ofo[j + 1];
			mp->nofo--;
		}
		return;
	}
	if (mp->nofo == MPTCP_OFO_MAX)
		return; /* place_room() prevents this */
	for (j = mp->nofo; j > i; j--)
		mp->ofo[j] = mp->ofo[j - 1];
	mp->ofo[i].left = l;
	mp->ofo[i].right = r;
	mp->nofo++;
	ctr(mp)->mptcp_ofo_queue++;
}

/* After each placement: the queue's size now, its peak, and its integral over time
 * (for the time-weighted mean mpt_conn_ofo_stats reports). */
static void ofo_account(struct mptcp_conn *mp, bool in_order, uint64_t now)
{
	struct mpt_ofo_stats *o = &mp->ofo_st;
	uint64_t bytes = 0;

	for (uint32_t i = 0; i < mp->nofo; i++)
		bytes += mp->ofo[i].right - mp->ofo[i].left;
	if (!o->segments)
		o->first_ns = now;
	else if (now > o->last_ns)
		o->area_byte_ns += o->bytes * (now - o->last_ns);
	o->last_ns = now > o->last_ns ? now : o->last_ns;
	o->segments++;
	o->ofo_segments += !in_order;
	o->bytes = bytes;
	o->ranges = mp->nofo;
	if (bytes > o->peak_bytes)
		o->peak_bytes = bytes;
	if (mp->nofo > o->peak_ranges)
		o->peak_ranges = mp->nofo;
}

static void place(struct mptcp_conn *mp, uint64_t dsn, const uint8_t *d, uint32_t n, uint64_t now)
{
	if (dsn + n <= mp->rcv_nxt) {
		ctr(mp)->duplicate_data++;
		mp->infinite_ok = false;
		return;
	}
	if (dsn < mp->rcv_nxt) {
		uint32_t skip = (uint32_t)(mp->rcv_nxt - dsn);

		ctr(mp)->duplicate_data++;
		mp->infinite_ok = false;
		d += skip;
		n -= skip;
		dsn = mp->rcv_nxt;
	}
	if (!mp->rd_shut)
		ring_write_at(&mp->rcvbuf, mp->rcvbuf.len + (uint32_t)(dsn - mp->rcv_nxt), d, n);
	if (dsn != mp->rcv_nxt) {
		ofo_add(mp, dsn, dsn + n);
		ofo_account(mp, false, now);
		return;
	}
	mp->rcv_nxt += n;
	if (!mp->rd_shut)
		mp->rcvbuf.len += n;
	while (mp->nofo && mp->ofo[0].left <= mp->rcv_nxt) {
		if (mp->ofo[0].right > mp->rcv_nxt) {
			uint32_t add = (uint32_t)(mp->ofo[0].right - mp->rcv_nxt);

			if (!mp->rd_shut)
				mp->rcvbuf.len += add;
			mp->rcv_nxt += add;
		}
		for (uint32_t j = 0; j + 1 < mp->nofo; j++)
			mp->ofo[j] = mp->ofo[j + 1];
		mp->nofo--;
	}
	ofo_account(mp, true, now);
	notify_readable(mp);
}

static uint32_t live_subflows(const struct mptcp_conn *mp)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < mp->nsub; i++)
		if (!mp->sub[i]->sf->dead && mp->sub[i]->state != MPT_CLOSED)
			n++;
	return n;
}

/* Whether the connection may still fall back with an infinite mapping. */
static bool infinite_possible(const struct mptcp_conn *mp)
{
	return mp->infinite_ok && !mp->fallback && live_subflows(mp) == 1;
}

/* A mapping failed its checksum.  RFC 8684 3.7 (paraphrased): with a single subflow
 * and no out-of-order data, the receiver sends MP_FAIL carrying the data sequence
 * number of the start of the failing mapping, on an ACK (the subflow stays); the
 * sender answers with an infinite mapping and both ends go on as plain TCP.  With
 * more subflows (or data that came out of order) it MUST reset the subflow with
 * MP_FAIL instead, and the data comes again on another (drain_checked).  The
 * failing mapping's bytes are delivered as they came: the infinite mapping applies
 * from the start of that mapping on, and the sender does not send them again (the
 * RFC's retroactive mapping; Linux does the same, its own selftest counts the
 * rewritten bytes at the receiver).  Returns true when MP_FAIL went on an ACK. */
static bool csum_fail_single(struct tcb *t, uint64_t dsn)
{
	struct mptcp_conn *mp = t->mp;

	if (mp->fail_tx)
		return true; /* signalled already: the infinite mapping is on its way */
	if (!infinite_possible(mp))
		return false;
	mp->fail_tx = true;
	t->sf->fail_due = true;
	t->sf->fail_dsn = dsn;
	t->ack_now = true;
	stack_log(mp->st, 2, "conn %u: checksum failed on the only subflow: MP_FAIL dsn %llu",
		  mp->id, (unsigned long long)dsn);
	return true;
}

/* A mapping with a DSS checksum is delivered whole or not at all: it waits until
 * all its bytes are in order on the subflow and the data level has room, then the
 * checksum over the pseudo-header and the whole mapping decides (RFC 8684 3.3.1).
 * A failure resets the subflow with MP_FAIL (its data comes again on another
 * subflow), or on a single subflow sends MP_FAIL on an ACK (csum_fail_single).
 * Returns bytes delivered, 0 to wait, < 0 after a reset. */
static int drain_checked(struct tcb *t, const struct mptcp_map *m, uint64_t now)
{
	struct mptcp_conn *mp = t->mp;
	uint32_t n = m->len;
	uint64_t dsn = m->dsn;

	if (t->rcvbuf.len < n || place_room(mp, dsn, n) < n)
		return 0;
	ring_read_at(&t->rcvbuf, 0, mp->csum_buf, n);
	if (!mptcp_dss_csum_ok(dsn, m->ssn - t->irs, (uint16_t)(n + m->fin), m->csum, mp->csum_buf,
			       n)) {
		ctr(mp)->data_csum_err++;
		if (!csum_fail_single(t, dsn)) {
			t->sf->fail_due = true;
			t->sf->fail_dsn = dsn;
			mptcp_sf_kill(t, 6 /* MPTCP_RST_EMIDDLEBOX */, true, now);
			return -1;
		}
	}
	if (tcp_app_recv(t, mp->csum_buf, n, now) != (ptrdiff_t)n)
		return -1;
	place(mp, dsn, mp->csum_buf, n, now);
	return (int)n;
}

/* Move a subflow's in-order bytes to the data level, map by map. */
static void drain(struct tcb *t, uint64_t now)
{
	struct mptcp_conn *mp = t->mp;
	uint8_t tmp[MPTCP_COPY_CHUNK];

	if (t->sf->dead)
		return; /* a reset subflow's leftovers come again on another */
	while (t->rcvbuf.len) {
		uint32_t ssn = t->rcv_nxt - (t->fin_rcvd ? 1 : 0) - t->rcvbuf.len, n;
		uint64_t dsn;
		ptrdiff_t got;

		if (mp->fallback) {
			dsn = mp->rcv_nxt;
			n = t->rcvbuf.len;
		} else {
			const struct mptcp_map *m = maps_find(&t->sf->rx, ssn);

			if (!m && mp->fail_tx && live_subflows(mp) == 1) {
				/* after our MP_FAIL, bytes without a mapping: the sender
				 * fell back and the segment with its infinite mapping was
				 * lost (its retransmission carries no option); Linux's
				 * receiver takes the same as a fallback (DssFallback) */
				ctr(mp)->dss_fallback++;
				fallback(mp, t);
				continue;
			}
			if (!m) {
				/* bytes no mapping covers (yet): RFC 8684 3.3.1 lets the
				 * receiver wait for it or reset; we wait */
				ctr(mp)->dss_no_map++;
				return;
			}
			if (mp->csum && m->has_csum && ssn == m->ssn) {
				if (drain_checked(t, m, now) <= 0)
					return;
				continue;
			}
			dsn = m->dsn + (uint32_t)(ssn - m->ssn);
			n = m->ssn + m->len - ssn;
			if (n > t->rcvbuf.len)
				n = t->rcvbuf.len;
		}
		n = place_room(mp, dsn, n);
		if (!n)
			return;
		if (n > sizeof(tmp))
			n = sizeof(tmp);
		got = tcp_app_recv(t, tmp, n, now);
		if (got <= 0)
			return;
		place(mp, dsn, tmp, (uint32_t)got, now);
	}
	if (!mp->fallback)
		maps_trim(&t->sf->rx, t->rcv_nxt - (t->fin_rcvd ? 1 : 0));
}

/* Close a subflow on purpose (REMOVE_ADDR, an address gone, the path manager): what
 * it already received in order, and acknowledged at the TCP level, moves to the data
 * level first; the peer will not send those bytes again on its own. */
void mptcp_sf_close(struct tcb *t, enum mptcp_pm_close why, bool send_rst, uint64_t now)
{
	if (!t->sf->dead && !t->sf->pm_reason_set) {
		t->sf->pm_reason_set = true;
		t->sf->pm_reason = (uint8_t)why;
	}
	if (!t->sf->dead && t->state != MPT_CLOSED)
		drain(t, now);
	mptcp_sf_kill(t, 0, send_rst, now);
	/* Closed for its link's carrier: its RST would be lost with the carrier, and
	 * the peer, with nothing to send on it (the receiver of an upload), would keep
	 * it open, counted under its subflow limit, and refuse our next join from this
	 * address.  The RST waits for the carrier instead (mpt_stack_send). */
	if (why == MPTCP_PM_CLOSE_CARRIER && t->rst_pending)
		t->rst_hold_until = now + MPTCP_RST_HOLD_NS;
}

static void check_data_fin(struct mptcp_conn *mp, struct tcb *t)
{
	if (mp->data_fin_rcvd && !mp->data_fin_in_order && mp->rcv_nxt == mp->rcv_data_fin_dsn) {
		mp->data_fin_in_order = true;
		mp->eof_ev = true;
		t->ack_now = true; /* DATA_ACK the DATA_FIN */
		app_event(mp, MPT_EV_PEER_CLOSED, 0);
		app_event(mp, MPT_EV_READABLE, 0);
	}
}

/* ---- data level: send ----------------------------------------------------------- */

static uint64_t snd_end(const struct mptcp_conn *mp)
{
	return mp->snd_una + mp->sndbuf.len;
}

static bool data_fin_due(const struct mptcp_conn *mp)
{
	return mp->wr_shut && !mp->data_fin_acked && mp->snd_nxt == snd_end(mp) && !mp->fallback;
}

static void data_ack_input(struct mptcp_conn *mp, uint64_t ack)
{
	uint64_t end = snd_end(mp);

	if (ack <= mp->snd_una || ack > end + 1)
		return;
	if (ack == end + 1) {
		if (!mp->wr_shut || mp->snd_nxt != end)
			return; /* acknowledges a DATA_FIN we never sent */
		mp->data_fin_acked = true;
		ack = end;
	}
	ring_consume(&mp->sndbuf, (uint32_t)(ack - mp->snd_una));
	mp->snd_una = ack;
	if (mp->snd_nxt < ack)
		mp->snd_nxt = ack;
	{
		struct mptcp_maps *q = &mp->reinj;
		uint32_t k = 0;

		while (k < q->n && q->v[k].dsn + q->v[k].len <= ack)
			k++;
		if (k) {
			memmove(q->v, q->v + k, (q->n - k) * sizeof(*q->v));
			q->n -= k;
		}
		if (q->n && q->v[0].dsn < ack) {
			q->v[0].len -= (uint32_t)(ack - q->v[0].dsn);
			q->v[0].dsn = ack;
		}
	}
	/* progress: the data-level retransmission timer restarts */
	mp->data_rtx_backoff = 0;
	mp->data_rtx_at = 0;
	if (mp->want_writable && mp->sndbuf.len < mp->sndbuf.cap) {
		mp->want_writable = false;
		app_event(mp, MPT_EV_WRITABLE, 0);
	}
}

/* How long a subflow's transmit maps may grow.  Without checksums every segment
 * carries its whole map (as Linux repeats an skb's mapping on each TSO segment), so
 * the segments of a burst have identical options and the I/O layer can send them as
 * one GSO super-frame: a map is at most 64 KiB (the DSS data-level length is 16
 * bits), a whole number of segments so no short segment cuts a burst.  With
 * checksums each segment carries its own map and checksum: no limit. */
static uint32_t tx_map_cap(const struct mptcp_conn *mp, const struct tcb *t)
{
	uint32_t mss = t->snd_mss ? t->snd_mss : 1;

	if (mp->csum)
		return UINT32_MAX;
	return mss < MPTCP_MAP_MAX ? MPTCP_MAP_MAX / mss * mss : MPTCP_MAP_MAX;
}

/* Copy data-level bytes [dsn, dsn + n) into subflow t's send buffer, recording the
 * map.  Returns the bytes moved. */
uint32_t mptcp_copy_to_subflow(struct mptcp_conn *mp, struct tcb *t, uint64_t dsn, uint32_t n)
{
	uint8_t tmp[MPTCP_COPY_CHUNK];
	uint32_t done = 0, cap = tx_map_cap(mp, t);

	if (t->wr_shut)
		return 0; /* nothing follows a FIN */
	if (n > tcp_sndbuf_room(t))
		n = tcp_sndbuf_room(t);
	while (done < n) {
		uint32_t k = n - done < sizeof(tmp) ? n - done : (uint32_t)sizeof(tmp);
		uint32_t ssn = t->sndbuf_seq + t->sndbuf.len;

		if (maps_add(t->st, &t->sf->tx, ssn, dsn + done, k, cap) < 0)
			break;
		ring_read_at(&mp->sndbuf, (uint32_t)(dsn + done - mp->snd_una), tmp, k);
		tcp_ulp_push(t, tmp, k);
		done += k;
	}
	return done;
}

/* Fallback: plain TCP on the first subflow.  Bytes move to it as it has room and leave
 * the data level at once (its TCP ACKs are the only acknowledgements); a shutdown
 * follows the last byte. */
void mptcp_fallback_push(struct mptcp_conn *mp, uint64_t now)
{
	uint8_t tmp[MPTCP_COPY_CHUNK];
	struct tcb *t = master_of(mp);

	if (!t)
		return;
	while (mp->sndbuf.len && tcp_sndbuf_room(t) && !t->wr_shut) {
		uint32_t k = mp->sndbuf.len < sizeof(tmp) ? mp->sndbuf.len : (uint32_t)sizeof(tmp);

		if (k > tcp_sndbuf_room(t))
			k = tcp_sndbuf_room(t);
		ring_read_at(&mp->sndbuf, 0, tmp, k);
		tcp_ulp_push(t, tmp, k);
		ring_consume(&mp->sndbuf, k);
		mp->snd_una += k;
		mp->snd_nxt = mp->snd_una;
	}
	if (mp->want_writable && mp->sndbuf.len < mp->sndbuf.cap) {
		mp->want_writable = false;
		app_event(mp, MPT_EV_WRITABLE, 0);
	}
	if (mp->wr_shut && !mp->sndbuf.len && !t->wr_shut &&
	    (t->state == MPT_ESTABLISHED || t->state == MPT_CLOSE_WAIT ||
	     t->state == MPT_SYN_RECEIVED || t->state == MPT_SYN_SENT)) {
		if (mp->app_closed)
			tcp_app_close(t, now);
		else
			tcp_app_shutdown(t, MPT_SHUT_WR, now);
	}
}

/* ---- handshakes ------------------------------------------------------------------- */

bool mptcp_syn_wants_mptcp(struct mpt_stack *st, const struct wire_tcp_repr *syn)
{
	struct mptcp_opts m;

	mptcp_opts_parse(&m, &syn->opt, syn->flags, syn->payload_len, &st->ctr);
	if (!(m.suboptions & MPTCP_OPT_MPC_SYN))
		return false;
	st->ctr.mpc_syn_rx++;
	return true;
}

static int csum_on(struct mptcp_conn *mp)
{
	if (mp->csum)
		return 0;
	mp->csum_buf = stack_calloc(mp->st, 1, 65536);
	if (!mp->csum_buf)
		return MPT_ENOMEM;
	mp->csum = true;
	return 0;
}

int mptcp_passive_syn(struct tcb *t, const struct wire_tcp_repr *syn)
{
	struct mptcp_opts m;

	mptcp_opts_parse(&m, &syn->opt, syn->flags, syn->payload_len, &t->st->ctr);
	/* RFC 8684 3.1: "if either host requires the use of checksums, checksums
	 * MUST be used" */
	if ((m.mpc.flags & MPTCP_MPC_A) || t->st->cfg.mptcp_checksum)
		return csum_on(t->mp);
	return 0;
}

bool mptcp_syn_is_join(struct mpt_stack *st, const struct wire_tcp_repr *syn)
{
	struct mptcp_opts m;

	mptcp_opts_parse(&m, &syn->opt, syn->flags, syn->payload_len, &st->ctr);
	return (m.suboptions & MPTCP_OPT_MPJ_SYN) != 0;
}

static uint8_t local_id_of_path(const struct mpt_stack *st, uint32_t path)
{
	for (int id = 1; id < 256; id++)
		if (st->endpoints[id].used && st->endpoints[id].path == path)
			return (uint8_t)id;
	return 0;
}

/* A subflow whose peer end is gone without a word (its RST lost with the carrier or
 * in a blackhole) stays ESTABLISHED here as long as we have nothing to send on it:
 * the receiving end of an upload never learns.  It holds its buffers and a place
 * under the subflow limit, so the peer's next join from that address is refused.
 * A join is when the peer is likely to have lost one: every subflow that heard
 * nothing for MPTCP_IDLE_PROBE_NS is asked whether it still exists; a peer that
 * has it ACKs, one that does not answers RST, which closes it (its place frees for
 * the peer's next try). */
static void probe_idle_subflows(struct mptcp_conn *mp, uint64_t now)
{
	for (uint32_t i = 0; i < mp->nsub; i++) {
		struct tcb *s = mp->sub[i];

		if (s->sf->dead || s->keepalive_pending ||
		    now < s->last_rcv_at + MPTCP_IDLE_PROBE_NS)
			continue;
		tcp_keepalive(s);
		if (s->keepalive_pending)
			ctr(mp)->idle_subflow_probe++;
	}
}

int mptcp_join_passive(struct tcb *t, const struct wire_tcp_repr *syn, uint64_t now)
{
	struct mpt_stack *st = t->st;
	struct mptcp_conn *mp = NULL;
	struct mptcp_opts m;
	struct tcb *o, *master;
	int rv;

	mptcp_opts_parse(&m, &syn->opt, syn->flags, syn->payload_len, &st->ctr);
	st->ctr.join_syn_rx++;
	for (o = st->conns; o; o = o->next)
		if (o->mp && o->mp->local_token == m.mpj.token && !o->mp->fallback &&
		    !o->mp->fail_tx && !o->mp->fail_rx) {
			mp = o->mp;
			break;
		}
	if (!mp || !mp->remote_key_known || mp->closed_ev || mp->error) {
		/* RFC 8684 3.2: "If the token is unknown ... the receiver will send back a
		 * reset (RST) signal" */
		st->ctr.join_no_token++;
		return MPT_ENOENT;
	}
	probe_idle_subflows(mp, now);
	if (mp->nsub >= st->cfg.max_subflows || mp->nsub >= MPTCP_MAX_SUBFLOWS) {
		st->ctr.join_rejected++;
		return MPT_ENOBUFS;
	}
	rv = sf_attach(mp, t, true);
	if (rv < 0)
		return rv;
	t->sf->remote_nonce = m.mpj.nonce;
	t->sf->remote_id = m.mpj.addr_id;
	t->sf->peer_backup = m.mpj.backup;
	master = master_of(mp);
	t->sf->local_id = (master && master->path == t->path) ? 0 : local_id_of_path(st, t->path);
	if (!t->sf->local_id && master && master->path != t->path)
		t->sf->local_id = (uint8_t)(100 + t->path);
	t->sf->backup = t->sf->local_id && st->endpoints[t->sf->local_id].used &&
			(st->endpoints[t->sf->local_id].flags & MPT_EP_BACKUP);
	return 0;
}

int mptcp_join_active(struct mptcp_conn *mp, uint32_t path, uint8_t local_id,
		      const struct mpt_sockaddr *remote, uint8_t remote_id, bool backup,
		      uint64_t now)
{
	struct mpt_sockaddr local;
	struct tcb *t;
	int rv;

	memset(&local, 0, sizeof(local));
	local = mp->st->paths[path].local;
	local.port = 0;
	rv = stack_tcb_new_active(mp->st, &local, remote, path, &t);
	if (rv < 0)
		return rv;
	rv = sf_attach(mp, t, true);
	if (rv < 0) {
		tcp_free(t);
		return rv;
	}
	t->sf->local_id = local_id;
	t->sf->remote_id = remote_id;
	t->sf->backup = backup;
	rv = tcp_open_active(t, now);
	t->app_visible = false;
	if (rv < 0) {
		tcp_free(t);
		return rv;
	}
	stack_link(mp->st, t);
	return 0;
}

/* A join's HMAC; the sender is "local" in mptcp_crypto_join_hmac. */
static int hmac_for(const struct tcb *t, bool sender_is_us, uint8_t out[32])
{
	const struct mptcp_conn *mp = t->mp;
	const struct mptcp_subflow *sf = t->sf;

	if (sender_is_us)
		return mptcp_crypto_join_hmac(&mp->st->env.crypto, mp->local_key, mp->remote_key,
					      sf->local_nonce, sf->remote_nonce, out);
	return mptcp_crypto_join_hmac(&mp->st->env.crypto, mp->remote_key, mp->local_key,
				      sf->remote_nonce, sf->local_nonce, out);
}

static void mpc_handshake_input(struct tcb *t, const struct wire_tcp_repr *seg,
				const struct mptcp_opts *m)
{
	struct mptcp_conn *mp = t->mp;
	bool ack_ok = (seg->flags & WIRE_TCP_ACK) && seq_gt(seg->ack, t->snd_una) &&
		      seq_le(seg->ack, t->snd_nxt);

	if (t->state == MPT_SYN_SENT && (seg->flags & WIRE_TCP_SYN) && ack_ok) {
		if (!(m->suboptions & MPTCP_OPT_MPC_SYNACK)) {
			ctr(mp)->mpc_fallback_synack++;
			fallback(mp, t);
		} else if ((m->mpc.flags & MPTCP_MPC_A) && csum_on(mp) < 0) {
			fallback(mp, t);
		} else if (set_remote_key(mp, m->mpc.sndr_key) < 0) {
			fallback(mp, t);
		} else {
			ctr(mp)->mpc_synack_rx++;
			t->sf->usable = true;
		}
		return;
	}
	if (t->state == MPT_SYN_RECEIVED && !(seg->flags & WIRE_TCP_SYN) && ack_ok) {
		/* The third ACK, or the first data when it was lost (RFC 8684 3.1). */
		if (!(m->suboptions & MPTCP_OPT_MPC_ACK) ||
		    set_remote_key(mp, m->mpc.sndr_key) < 0) {
			ctr(mp)->mpc_fallback_ack++;
			fallback(mp, t);
			return;
		}
		ctr(mp)->mpc_ack_rx++;
		mp->fully_established = true;
		t->sf->usable = true;
	}
}

static void join_handshake_input(struct tcb *t, const struct wire_tcp_repr *seg,
				 const struct mptcp_opts *m)
{
	struct mptcp_conn *mp = t->mp;
	struct mptcp_subflow *sf = t->sf;
	bool ack_ok = (seg->flags & WIRE_TCP_ACK) && seq_gt(seg->ack, t->snd_una) &&
		      seq_le(seg->ack, t->snd_nxt);
	uint8_t h[32];

	if (t->state == MPT_SYN_SENT && (seg->flags & WIRE_TCP_SYN) && ack_ok) {
		if (!(m->suboptions & MPTCP_OPT_MPJ_SYNACK)) {
			/* RFC 8684 3.2: no MP_JOIN on the SYN-ACK: the subflow is reset */
			ctr(mp)->join_synack_missing++;
			sf->kill_due = true;
			sf->rst_reason = 0;
			return;
		}
		sf->remote_nonce = m->mpj.nonce;
		sf->remote_id = m->mpj.addr_id;
		sf->peer_backup = m->mpj.backup;
		if (hmac_for(t, false, h) < 0 || mptcp_crypto_thmac(h) != m->mpj.thmac) {
			ctr(mp)->join_synack_hmac_fail++;
			sf->kill_due = true;
			sf->rst_reason = 1; /* MPTCP_RST_EMPTCP */
			return;
		}
		ctr(mp)->join_synack_rx++;
		sf->join_ack_due = true;
		return;
	}
	if (t->state == MPT_SYN_RECEIVED && !(seg->flags & WIRE_TCP_SYN) && ack_ok) {
		if (!(m->suboptions & MPTCP_OPT_MPJ_ACK) || hmac_for(t, false, h) < 0 ||
		    memcmp(h, m->mpj.hmac, sizeof(m->mpj.hmac))) {
			/* RFC 8684 3.2: a wrong HMAC "MUST" close the subflow with a RST */
			ctr(mp)->join_ack_hmac_fail++;
			sf->kill_due = true;
			sf->rst_reason = 5; /* MPTCP_RST_EPROHIBIT */
			return;
		}
		ctr(mp)->join_ack_rx++;
		sf->hmac_ok = true;
	}
}

/* ---- signals ------------------------------------------------------------------------ */

static void add_addr_input(struct tcb *t, const struct mptcp_opt_add_addr *a)
{
	struct mptcp_conn *mp = t->mp;
	uint64_t h;
	uint32_t i, free_i = MPTCP_MAX_RADDRS;

	if (a->echo) {
		ctr(mp)->echo_add_rx++;
		mp->announce[a->id].echoed = true;
		return;
	}
	if (mptcp_crypto_add_addr_hmac(&mp->st->env.crypto, mp->remote_key, mp->local_key, a->id,
				       a->family, a->addr, a->has_port ? a->port : 0, &h) < 0 ||
	    h != a->hmac) {
		ctr(mp)->add_addr_drop++;
		return;
	}
	ctr(mp)->add_addr_rx++;
	/* echo it (RFC 8684 3.4.1: "MUST" be echoed, without the HMAC) */
	mp->echo = *a;
	mp->echo.echo = true;
	mp->echo_due = true;
	t->ack_now = true;
	for (i = 0; i < MPTCP_MAX_RADDRS; i++) {
		if (mp->raddr[i].used && mp->raddr[i].id == a->id)
			return; /* a retransmission */
		if (!mp->raddr[i].used && free_i == MPTCP_MAX_RADDRS)
			free_i = i;
	}
	if (free_i == MPTCP_MAX_RADDRS ||
	    mp->add_addr_accepted >= mp->st->cfg.max_add_addr_accepted)
		return;
	mp->add_addr_accepted++;
	mp->raddr[free_i].used = true;
	mp->raddr[free_i].told = false;
	mp->raddr[free_i].id = a->id;
	memset(&mp->raddr[free_i].addr, 0, sizeof(mp->raddr[free_i].addr));
	mp->raddr[free_i].addr.family = a->family;
	memcpy(mp->raddr[free_i].addr.ip, a->addr, a->family == MPT_AF_INET ? 4 : 16);
	mp->raddr[free_i].addr.port = a->has_port ? a->port : t->remote.port;
}

static void rm_addr_input(struct tcb *t, const struct mptcp_opt_rm_addr *r, uint64_t now)
{
	struct mptcp_conn *mp = t->mp;

	for (uint8_t k = 0; k < r->nids; k++) {
		struct mptcp_pm_event e = {.type = MPTCP_PM_EV_RM_ADDR, .id = r->ids[k]};

		ctr(mp)->rm_addr_rx++;
		mptcp_pm_event_later(mp, &e);
		for (uint32_t i = 0; i < MPTCP_MAX_RADDRS; i++)
			if (mp->raddr[i].used && mp->raddr[i].id == r->ids[k])
				mp->raddr[i].used = false;
		for (uint32_t i = 0; i < mp->nsub; i++) {
			struct tcb *s = mp->sub[i];

			if (!s->sf->dead && s->sf->remote_id == r->ids[k] &&
			    s->state != MPT_CLOSED) {
				ctr(mp)->rm_subflow++;
				mptcp_sf_close(s, MPTCP_PM_CLOSE_REMOVED, true, now);
			}
		}
	}
}

/* RFC 8684 3.5: MP_FASTCLOSE on a RST (option R) resets its own subflow already;
 * on an ACK (option A) "host B answers on the same subflow with a TCP RST", so that
 * subflow is reset as well as the others. */
static void fastclose_input(struct tcb *t, const struct mptcp_opt_fastclose *f, bool on_rst,
			    uint64_t now)
{
	struct mptcp_conn *mp = t->mp;

	if (f->rcvr_key != mp->local_key)
		return;
	ctr(mp)->fastclose_rx++;
	for (uint32_t i = 0; i < mp->nsub; i++)
		if (mp->sub[i] != t || !on_rst)
			mptcp_sf_kill(mp->sub[i], 0, true, now);
	conn_fail(mp, MPT_ECONNRESET);
}

/* ---- input hooks ------------------------------------------------------------------- */

static uint64_t widen(uint64_t ref, uint64_t low32)
{
	return ref + (uint64_t)(int64_t)(int32_t)((uint32_t)low32 - (uint32_t)ref);
}

/* An infinite mapping (a DSS mapping with data-level length 0, RFC 8684 3.3.1):
 * the peer fell back to plain TCP, so do we, from the bytes not yet moved to the
 * data level on.  Linux's receiver takes the mapping's sequence numbers as given
 * too: one subflow that carried every byte once keeps both sequence spaces in step.
 * With other subflows alive (the RFC allows it only on the last one) the subflow
 * is reset instead. */
static void infinite_map_input(struct tcb *t, uint64_t now)
{
	struct mptcp_conn *mp = t->mp;

	ctr(mp)->infinite_map_rx++;
	if (!infinite_possible(mp) && !(mp->fail_tx && live_subflows(mp) == 1)) {
		mptcp_sf_kill(t, 1 /* MPTCP_RST_EMPTCP */, true, now);
		return;
	}
	ctr(mp)->dss_fallback++;
	drain(t, now); /* bytes before it belong to their mappings */
	fallback(mp, t);
}

/* MP_FAIL on a segment that is not a RST (RFC 8684 3.7).  After our own MP_FAIL it
 * is the peer's answer (Linux echoes it before its infinite mapping).  Otherwise
 * the peer's checksum failed on the only subflow: answer with MP_FAIL on an ACK,
 * as Linux does (its receiver resets the subflow when no answer comes), then send
 * the infinite mapping on the next data segment and fall back.  If the data in
 * flight is not contiguous (reinjected, more subflows), the subflow is reset with
 * MP_FAIL and its data reinjected. */
static void mp_fail_input(struct tcb *t, uint64_t dsn, uint64_t now)
{
	struct mptcp_conn *mp = t->mp;

	if (mp->fail_tx || mp->fail_rx)
		return;
	if (!infinite_possible(mp)) {
		t->sf->fail_due = true;
		t->sf->fail_dsn = dsn;
		mptcp_sf_kill(t, 6 /* MPTCP_RST_EMIDDLEBOX */, true, now);
		return;
	}
	mp->fail_rx = true;
	mp->infmap_due = true;
	mp->infmap_dsn = dsn;
	t->sf->fail_due = true;
	t->sf->fail_dsn = dsn;
	t->ack_now = true;
}

static void dss_input(struct tcb *t, const struct wire_tcp_repr *seg, const struct mptcp_opts *m,
		      uint64_t now)
{
	struct mptcp_conn *mp = t->mp;
	const struct mptcp_opt_dss *d = &m->dss;

	if ((m->suboptions & MPTCP_OPT_MPC_ACK) && m->mpc.has_data_len && seg->payload_len &&
	    is_master(t)) {
		/* MP_CAPABLE with data: the first data-level bytes at subflow byte 1 */
		mp->peer_dsn64 = true; /* its implicit DSN is the 64-bit IDSN + 1 */
		rx_map_add(t, t->irs + 1, mp->remote_idsn + 1, m->mpc.data_len, m->mpc.has_csum,
			   m->mpc.csum, false);
	}
	if (!(m->suboptions & MPTCP_OPT_DSS)) {
		if (!is_master(t))
			return;
		/* First data without a mapping (and not the MP_CAPABLE + data form): the
		 * peer is not doing MPTCP after all (RFC 8684 3.7). */
		if (seg->payload_len && !(m->suboptions & MPTCP_OPT_MPC_ACK) &&
		    t->bytes_received == 0 && seg->seq == t->irs + 1 && mp->nsub == 1) {
			ctr(mp)->mpc_data_fallback++;
			fallback(mp, t);
		} else if (!mp->server && !mp->fully_established && !m->suboptions &&
			   (seg->flags & WIRE_TCP_ACK) && seq_gt(seg->ack, t->iss + 1) &&
			   mp->nsub == 1) {
			/* The server acknowledges our data without a DATA_ACK: it never
			 * got our key (our MP_CAPABLE segments were lost and a DSS one
			 * completed its handshake, which Linux answers by falling back).
			 * RFC 8684 3.7 (paraphrased: data acknowledged without a DSS
			 * carrying a DATA_ACK means the path is not MPTCP-capable) is,
			 * as Linux reads it, a decision made at the start only: "if a
			 * peer acknowledges the first received data packet with a regular
			 * TCP header (no MPTCP options), fallback is allowed" (commit
			 * ae66fb2ba6c3).  So never once the peer has sent a DSS
			 * (fully_established), and not on a segment with any MPTCP option
			 * (the peer speaks MPTCP; its DSS waited for room). */
			ctr(mp)->mpc_ack_fallback++;
			fallback(mp, t);
		}
		return;
	}
	if (!mp->server)
		mp->fully_established = true; /* the server has our key */
	if (d->flags & MPTCP_DSS_A) {
		uint64_t ack =
			(d->flags & MPTCP_DSS_a) ? d->data_ack : widen(mp->snd_una, d->data_ack);
		uint64_t wnd = (uint64_t)seg->window << (t->ws_ok ? t->snd_wscale : 0);

		data_ack_input(mp, ack);
		/* RFC 8684 3.3.4: the window is relative to the DATA_ACK */
		if (ack >= mp->snd_una && ack + wnd > mp->snd_wnd_edge)
			mp->snd_wnd_edge = ack + wnd;
	}
	if (d->flags & MPTCP_DSS_M) {
		bool fin = (d->flags & MPTCP_DSS_F) != 0;
		bool fin_only = fin && d->data_len == 1 && d->subflow_seq == 0;
		uint64_t dsn = d->data_seq;
		uint32_t len = d->data_len;

		/* the width of the peer's DSNs on data (Linux sets use_64bit_ack from the
		 * mappings of data segments only, not the DATA_FIN-only one) */
		if (seg->payload_len)
			mp->peer_dsn64 = (d->flags & MPTCP_DSS_m) != 0;
		if (!(d->flags & MPTCP_DSS_m)) /* 4-octet DSN */
			dsn = widen(mp->rcv_nxt, dsn);
		if (fin)
			len--;
		if (!fin_only && len) {
			rx_map_add(t, t->irs + d->subflow_seq, dsn, len, d->has_csum, d->csum, fin);
		} else if (!fin && !len && seg->payload_len) {
			/* the infinite mapping covers data (RFC 8684 3.7); a zero-length
			 * mapping on a pure ACK maps nothing and is ignored, as Linux
			 * reads mappings only from segments with payload */
			infinite_map_input(t, now);
			return;
		}
		if (fin && !mp->data_fin_rcvd) {
			mp->data_fin_rcvd = true;
			mp->rcv_data_fin_dsn = dsn + len;
			ctr(mp)->data_fin_rx++;
		}
	}
}

void mptcp_input_pre(struct tcb *t, const struct wire_tcp_repr *seg, uint64_t now)
{
	struct mptcp_conn *mp = t->mp;
	struct mptcp_subflow *sf = t->sf;
	struct mptcp_opts m;

	mptcp_opts_parse(&m, &seg->opt, seg->flags, seg->payload_len, ctr(mp));
	if (mp->fallback)
		return;
	if (m.suboptions & MPTCP_OPT_RST)
		ctr(mp)->mprst_rx++;
	if (m.suboptions & MPTCP_OPT_FAIL) {
		ctr(mp)->mp_fail_rx++; /* on a RST: the subflow goes, its data is reinjected */
		if (!(seg->flags & WIRE_TCP_RST) && seq_ready(t) && !sf->dead) {
			mp_fail_input(t, m.fail.dsn, now);
			if (sf->dead)
				return;
		}
	}
	if (m.suboptions & MPTCP_OPT_FASTCLOSE) {
		fastclose_input(t, &m.fastclose, (seg->flags & WIRE_TCP_RST) != 0, now);
		return;
	}
	if (seg->flags & WIRE_TCP_RST)
		return;
	if (t->state == MPT_SYN_SENT || t->state == MPT_SYN_RECEIVED) {
		if (sf->join)
			join_handshake_input(t, seg, &m);
		else
			mpc_handshake_input(t, seg, &m);
		if (t->state == MPT_SYN_SENT || mp->fallback || sf->kill_due)
			return;
	} else if (sf->join_ack_due && (seg->flags & WIRE_TCP_ACK) &&
		   !(seg->flags & WIRE_TCP_SYN)) {
		/* the peer answered our third ACK: the join is done (RFC 8684 3.2) */
		sf->join_ack_due = false;
		sf->usable = true;
		mp->infinite_ok = false; /* a second subflow: no infinite mapping (Linux too) */
	} else if (sf->join && sf->hmac_ok && (m.suboptions & MPTCP_OPT_MPJ_ACK) &&
		   seg->seq == t->irs + 1 && seg->payload_len == 0) {
		/* The peer repeats its third ACK: our answer (the fourth ACK) was lost,
		 * and it sends nothing on the subflow until it sees one (RFC 8684 3.2:
		 * the third ACK is delivered reliably).  Answer each repeat, as Linux's
		 * check_fully_established does for a passive MP_JOIN subflow; else the
		 * subflow stays unusable for good, and with the first one gone no byte
		 * moves. */
		ctr(mp)->join_ack_rtx_rx++;
		t->ack_now = true;
	}
	if (!seq_ready(t) || !mp->remote_key_known)
		return;
	dss_input(t, seg, &m, now);
	if (m.suboptions & MPTCP_OPT_ADD_ADDR)
		add_addr_input(t, &m.add_addr);
	if (m.suboptions & MPTCP_OPT_RM_ADDR)
		rm_addr_input(t, &m.rm_addr, now);
	if (m.suboptions & MPTCP_OPT_PRIO) {
		ctr(mp)->prio_rx++;
		sf->peer_backup = m.prio.backup;
	}
}

void mptcp_input_post(struct tcb *t, uint64_t now)
{
	struct mptcp_conn *mp = t->mp;
	struct mptcp_subflow *sf;

	if (!mp)
		return; /* released during input */
	sf = t->sf;
	if (sf->kill_due) {
		sf->kill_due = false;
		mptcp_sf_kill(t, sf->rst_reason, true, now);
		return;
	}
	if (sf->hmac_ok && !sf->usable && t->state == MPT_ESTABLISHED) {
		sf->usable = true;
		mp->infinite_ok = false;
		t->ack_now = true; /* the fourth ACK (RFC 8684 3.2) */
	}
	if (!seq_ready(t) && t->state != MPT_CLOSED)
		return;
	if (!mp->fallback && !mp->remote_key_known)
		return;
	drain(t, now);
	if (!mp->fallback)
		check_data_fin(mp, t);
	if (!mp->fallback && mp->wr_shut && mp->data_fin_acked && mp->data_fin_in_order &&
	    !mp->closed_ev) {
		/* Both DATA_FINs acknowledged: the connection is over; close the subflows
		 * (RFC 8684 3.3.3) */
		mp->closed_ev = true;
		app_event(mp, MPT_EV_CLOSED, 0);
		for (uint32_t i = 0; i < mp->nsub; i++) {
			struct tcb *s = mp->sub[i];

			if (s->state == MPT_ESTABLISHED || s->state == MPT_CLOSE_WAIT)
				tcp_app_shutdown(s, MPT_SHUT_WR, now);
		}
	}
}

/* ---- output hook -------------------------------------------------------------------- */

/* A signal that did not go out even on a segment without payload, where
 * mptcp_opts_fit gave it all the room there is: it never will (an ADD_ADDR too long
 * beside the timestamps).  Dropped and counted, not retried on every ACK (an output
 * livelock, issue 11). */
static void signal_unsendable(struct tcb *t, const struct mptcp_opts *w, uint32_t bits)
{
	struct mptcp_conn *mp = t->mp;

	if (bits & MPTCP_OPT_ADD_ADDR) {
		ctr(mp)->add_addr_tx_drop++;
		if (w->add_addr.echo)
			mp->echo_due = false;
		else
			mp->announce[w->add_addr.id].due = false;
	} else if (bits & MPTCP_OPT_RM_ADDR) {
		ctr(mp)->rm_addr_tx_drop++;
		mp->nrm = 0;
	}
	stack_log(mp->st, 1, "conn %u: signal 0x%x does not fit, dropped", mp->id, bits);
}

static bool emit_signals(struct tcb *t, struct mptcp_opts *w)
{
	struct mptcp_conn *mp = t->mp;
	bool any = false;

	if (mp->echo_due) {
		w->add_addr = mp->echo;
		w->suboptions |= MPTCP_OPT_ADD_ADDR;
		return true;
	}
	for (int id = 1; id <= mp->st->ep_max_id; id++) {
		const struct mpt_sockaddr *a;

		if (!mp->announce[id].due || !mp->st->endpoints[id].used)
			continue;
		a = &mp->st->paths[mp->st->endpoints[id].path].local;
		memset(&w->add_addr, 0, sizeof(w->add_addr));
		w->add_addr.id = (uint8_t)id;
		w->add_addr.family = a->family;
		memcpy(w->add_addr.addr, a->ip, a->family == MPT_AF_INET ? 4 : 16);
		if (mptcp_crypto_add_addr_hmac(&mp->st->env.crypto, mp->local_key, mp->remote_key,
					       (uint8_t)id, a->family, a->ip, 0,
					       &w->add_addr.hmac) < 0)
			continue;
		w->suboptions |= MPTCP_OPT_ADD_ADDR;
		any = true;
		break;
	}
	if (!any && mp->nrm) {
		w->rm_addr.nids = mp->nrm;
		memcpy(w->rm_addr.ids, mp->rm_ids, mp->nrm);
		w->suboptions |= MPTCP_OPT_RM_ADDR;
		any = true;
	}
	if (t->sf->prio_due) {
		w->prio.backup = t->sf->backup;
		w->suboptions |= MPTCP_OPT_PRIO;
		any = true;
	}
	return any;
}

static void signals_sent(struct tcb *t, const struct mptcp_opts *w, uint32_t sent, uint64_t now)
{
	struct mptcp_conn *mp = t->mp;

	if (sent & MPTCP_OPT_ADD_ADDR) {
		if (w->add_addr.echo) {
			mp->echo_due = false;
			ctr(mp)->echo_add_tx++;
		} else {
			mp->announce[w->add_addr.id].due = false;
			mp->announce[w->add_addr.id].rtx_at = now + MPTCP_ADD_ADDR_TIMO;
			ctr(mp)->add_addr_tx++;
		}
	}
	if (sent & MPTCP_OPT_RM_ADDR) {
		ctr(mp)->rm_addr_tx++;
		mp->nrm = 0;
	}
	if (sent & MPTCP_OPT_PRIO) {
		t->sf->prio_due = false;
		ctr(mp)->prio_tx++;
	}
}

/* The infinite mapping (RFC 8684 3.7: a DSS mapping with data-level length 0) on
 * data segment seg, whose bytes the subflow map mm covers.  It names the DSN the
 * peer's MP_FAIL named and the subflow sequence number that DSN had: one subflow
 * that carried every byte once keeps both spaces a constant distance apart. */
static void infinite_map_fill(const struct mptcp_conn *mp, const struct tcb *t,
			      const struct mptcp_map *mm, const struct wire_tcp_repr *seg,
			      struct mptcp_opt_dss *d)
{
	uint64_t seg_dsn = mm->dsn + (uint32_t)(seg->seq - mm->ssn);
	uint32_t rel = seg->seq - t->iss;

	d->flags |= MPTCP_DSS_M | MPTCP_DSS_m;
	d->data_seq = seg_dsn;
	d->subflow_seq = rel;
	if (mp->infmap_dsn <= seg_dsn && seg_dsn - mp->infmap_dsn < rel) {
		d->data_seq = mp->infmap_dsn;
		d->subflow_seq = rel - (uint32_t)(seg_dsn - mp->infmap_dsn);
	}
	d->data_len = 0;
}

void mptcp_output(struct tcb *t, struct wire_tcp_repr *seg, uint64_t now)
{
	struct mptcp_conn *mp = t->mp;
	struct mptcp_subflow *sf = t->sf;
	struct mptcp_opts w;
	size_t used = wire_tcp_opts_len(&seg->opt);
	size_t space = used < WIRE_TCP_MAX_OPT ? WIRE_TCP_MAX_OPT - used : 0;
	uint32_t want, sent, gave_up;
	uint8_t h[32];
	bool infmap = false;

	if (mp->fallback)
		return;
	memset(&w, 0, sizeof(w));
	if (seg->flags & WIRE_TCP_RST) {
		if (mp->fastclose_tx && mp->remote_key_known) {
			w.fastclose.rcvr_key = mp->remote_key;
			w.suboptions |= MPTCP_OPT_FASTCLOSE;
		}
		if (sf->rst_reason_set || mp->fastclose_tx) {
			w.rst.reason = sf->rst_reason;
			w.suboptions |= MPTCP_OPT_RST;
		}
		if (sf->fail_due) {
			w.fail.dsn = sf->fail_dsn;
			w.suboptions |= MPTCP_OPT_FAIL;
		}
		sent = mptcp_opts_emit(&w, seg->flags, space, &seg->opt);
		if (sent & MPTCP_OPT_FAIL) {
			sf->fail_due = false;
			ctr(mp)->mp_fail_tx++;
		}
		if (sent & MPTCP_OPT_FASTCLOSE)
			ctr(mp)->fastclose_tx++;
		if (sent & MPTCP_OPT_RST)
			ctr(mp)->mprst_tx++;
		return;
	}
	w.mpc.version = MPTCP_VERSION;
	w.mpc.flags = MPTCP_MPC_H | (mp->csum ? MPTCP_MPC_A : 0);
	if (sf->join && (seg->flags & WIRE_TCP_SYN)) {
		w.mpj.backup = sf->backup;
		w.mpj.addr_id = sf->local_id;
		w.mpj.nonce = sf->local_nonce;
		if (seg->flags & WIRE_TCP_ACK) {
			if (hmac_for(t, true, h) < 0)
				return;
			w.mpj.thmac = mptcp_crypto_thmac(h);
			want = MPTCP_OPT_MPJ_SYNACK;
		} else {
			w.mpj.token = mp->remote_token;
			want = MPTCP_OPT_MPJ_SYN;
			ctr(mp)->join_syn_tx++;
		}
	} else if (sf->join && sf->join_ack_due) {
		/* the third ACK, repeated until the peer answers */
		if (hmac_for(t, true, h) < 0)
			return;
		memcpy(w.mpj.hmac, h, sizeof(w.mpj.hmac));
		want = MPTCP_OPT_MPJ_ACK;
		sf->join_ack_rtx_at = now + (t->rto ? t->rto : 1000000000ull);
	} else if (seg->flags & WIRE_TCP_SYN) {
		if (seg->flags & WIRE_TCP_ACK) {
			want = MPTCP_OPT_MPC_SYNACK;
			w.mpc.sndr_key = mp->local_key;
		} else if (t->syn_retries > mp->st->cfg.mptcp_syn_retrans_before_fallback) {
			/* The SYNs with MP_CAPABLE went unanswered: a middlebox may drop
			 * them.  RFC 8684 3.7 leaves this to local policy; Linux (net.mptcp.
			 * syn_retrans_before_tcp_fallback, default 2) sends the next SYN
			 * without MP_CAPABLE and counts MPCapableSYNTXDrop. */
			ctr(mp)->mpc_syn_tx_drop++;
			fallback(mp, t);
			return;
		} else {
			want = MPTCP_OPT_MPC_SYN;
			ctr(mp)->mpc_syn_tx++;
		}
	} else if (!mp->remote_key_known || !seq_ready(t)) {
		return;
	} else if (!mp->server && !mp->fully_established && !sf->join && seg->seq == t->iss + 1 &&
		   !(seg->flags & WIRE_TCP_FIN) && !data_fin_due(mp)) {
		/* The third ACK, and the first data until the server shows it has our
		 * key: both keys (RFC 8684 3.1), as Linux's mptcp_established_options_mp;
		 * a DATA_FIN due takes a DSS instead (Linux: snd_data_fin_enable), or a
		 * client that shuts down before sending anything would never send it. */
		want = MPTCP_OPT_MPC_ACK;
		w.mpc.sndr_key = mp->local_key;
		w.mpc.rcvr_key = mp->remote_key;
		if (seg->payload_len) {
			w.mpc.has_data_len = true;
			w.mpc.data_len = (uint16_t)seg->payload_len;
			if (mp->csum) {
				w.mpc.has_csum = true;
				w.mpc.csum = mptcp_dss_csum(mp->local_idsn + 1, 1, w.mpc.data_len,
							    seg->payload, seg->payload_len);
			}
		}
	} else {
		struct mptcp_opt_dss *d = &w.dss;

		want = MPTCP_OPT_DSS;
		d->flags = MPTCP_DSS_A;
		if (!t->st->cfg.mptcp_ack32 || mp->peer_dsn64)
			d->flags |= MPTCP_DSS_a;
		d->data_ack = mp->rcv_nxt + (mp->data_fin_in_order ? 1 : 0);
		if (seg->payload_len) {
			struct mptcp_map *mm = maps_find(&sf->tx, seg->seq);

			if (mm)
				mm->sent = 1;
			if (mm && mp->infmap_due) {
				infmap = true;
				infinite_map_fill(mp, t, mm, seg, d);
			} else if (mm && !mp->csum) {
				/* The whole map, the same on each of its segments (see
				 * tx_map_cap).  A DATA_FIN never rides on them: a map
				 * already sent cannot grow by one, and Linux resets a
				 * subflow whose map changes under data it covers
				 * (DSSNotMatching); it goes alone once all data is
				 * sent (the "DATA_FIN only" map below). */
				d->flags |= MPTCP_DSS_M | MPTCP_DSS_m;
				d->data_seq = mm->dsn;
				d->subflow_seq = mm->ssn - t->iss;
				d->data_len = (uint16_t)mm->len;
			} else if (mm) {
				d->flags |= MPTCP_DSS_M | MPTCP_DSS_m;
				d->data_seq = mm->dsn + (uint32_t)(seg->seq - mm->ssn);
				d->subflow_seq = seg->seq - t->iss;
				d->data_len = (uint16_t)seg->payload_len;
				if (data_fin_due(mp) &&
				    d->data_seq + seg->payload_len == snd_end(mp)) {
					d->flags |= MPTCP_DSS_F;
					d->data_len++;
				}
			}
		} else if (data_fin_due(mp) && sf->usable) {
			/* DATA_FIN alone: the RFC's "DATA_FIN only" map (subflow sequence
			 * 0, length 1), as Linux's mptcp_write_data_fin */
			d->flags |= MPTCP_DSS_M | MPTCP_DSS_m | MPTCP_DSS_F;
			d->data_seq = snd_end(mp);
			d->subflow_seq = 0;
			d->data_len = 1;
		}
		if ((d->flags & MPTCP_DSS_M) && mp->csum) {
			d->has_csum = true;
			/* the infinite mapping's checksum is 0 (Linux's form) */
			d->csum = infmap ? 0
					 : mptcp_dss_csum(d->data_seq, d->subflow_seq, d->data_len,
							  seg->payload, seg->payload_len);
		}
		if (!seg->payload_len)
			emit_signals(t, &w);
		if (!seg->payload_len && sf->fail_due) {
			/* MP_FAIL on an ACK (RFC 8684 3.7), with the DSS and nothing else */
			w.fail.dsn = sf->fail_dsn;
			w.suboptions |= MPTCP_OPT_FAIL;
			sf->fail_ack_tried = true;
		}
		want = w.suboptions | MPTCP_OPT_DSS;
	}
	w.suboptions |= want;
	space = mptcp_opts_fit(&w, seg->flags, seg->payload_len, &seg->opt, &gave_up);
	if (gave_up & MPTCP_FIT_SACK)
		ctr(mp)->opt_sack_shrunk++;
	if (gave_up & (MPTCP_FIT_DATA_FIN | MPTCP_FIT_DSS))
		ctr(mp)->opt_deferred++;
	want &= w.suboptions;
	sent = mptcp_opts_emit(&w, seg->flags, space, &seg->opt);
	signals_sent(t, &w, sent, now);
	if ((sent & MPTCP_OPT_DSS) && (w.dss.flags & MPTCP_DSS_F)) {
		ctr(mp)->data_fin_tx++;
		mp->data_fin_rtx_at = now + (t->rto ? t->rto : 1000000000ull);
	}
	if (!seg->payload_len && !(want & MPTCP_OPT_FAIL) &&
	    (want & ~sent & (MPTCP_OPT_ADD_ADDR | MPTCP_OPT_RM_ADDR)))
		signal_unsendable(t, &w, want & ~sent);
	if (sent & MPTCP_OPT_FAIL) {
		sf->fail_due = false;
		ctr(mp)->mp_fail_tx++;
	}
	if (infmap && (sent & MPTCP_OPT_DSS)) {
		/* from this segment on: plain TCP, no more options, no more subflows
		 * (Linux counts the fallback as InfiniteMapTx) */
		ctr(mp)->infinite_map_tx++;
		mp->infmap_due = false;
		stack_log(mp->st, 2, "conn %u: infinite mapping sent (dsn %llu)", mp->id,
			  (unsigned long long)w.dss.data_seq);
		fallback(mp, t);
		return;
	}
	if ((sent & want & ~(uint32_t)(MPTCP_OPT_ADD_ADDR | MPTCP_OPT_RM_ADDR | MPTCP_OPT_PRIO)) !=
	    (want & ~(uint32_t)(MPTCP_OPT_ADD_ADDR | MPTCP_OPT_RM_ADDR | MPTCP_OPT_PRIO)))
		stack_log(mp->st, 1, "conn %u: no room for MPTCP option 0x%x", mp->id, want);
}

/* ---- timers and the per-step work ------------------------------------------------- */

static uint64_t earliest(uint64_t a, uint64_t b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	return a < b ? a : b;
}

/* When a subflow with data in flight counts as stalled: no acknowledgement for three
 * smoothed RTTs (at least MPTCP_STALE_MIN_NS), or an RTO.  An ACK clock never
 * pauses that long on a working path; a receiver's zero window is not a stall. */
static uint64_t stall_after(const struct tcb *s)
{
	uint64_t thr = 3 * s->srtt;

	return thr > MPTCP_STALE_MIN_NS ? thr : MPTCP_STALE_MIN_NS;
}

static bool in_flight(const struct tcb *s)
{
	return s->snd_nxt != s->snd_una && s->snd_wnd > 0;
}

uint64_t mptcp_next_timeout(const struct mptcp_conn *mp)
{
	uint64_t n = 0;

	/* Each time reported here is consumed or re-armed by mptcp_tick when it comes
	 * (the simulator checks it after every expiry). */
	if (mp->fallback || mp->error)
		return UINT64_MAX;
	if (data_fin_due(mp) && mp->data_fin_rtx_at)
		n = earliest(n, mp->data_fin_rtx_at);
	if (mp->data_rtx_at)
		n = earliest(n, mp->data_rtx_at);
	if (mptcp_pm_next_timeout(mp) != UINT64_MAX)
		n = earliest(n, mptcp_pm_next_timeout(mp));
	for (uint32_t i = 0; i < mp->nsub; i++) {
		const struct tcb *s = mp->sub[i];

		if (s->sf->join_ack_due && s->sf->join_ack_rtx_at)
			n = earliest(n, s->sf->join_ack_rtx_at);
		if (!s->sf->dead && !s->sf->stale && in_flight(s) && s->sf->progress_at &&
		    mp->nsub > 1)
			n = earliest(n, s->sf->progress_at + stall_after(s));
		if (!s->sf->dead && s->sf->stale && s->sf->stale_probe_at)
			n = earliest(n, s->sf->stale_probe_at);
	}
	return n ? n : UINT64_MAX;
}

/* Whether a subflow other than s could carry reinjected data. */
static bool other_sendable(const struct mptcp_conn *mp, const struct tcb *s)
{
	for (uint32_t i = 0; i < mp->nsub; i++)
		if (mp->sub[i] != s && mptcp_sf_sendable(mp->sub[i]))
			return true;
	return false;
}

/* Stale subflows (RFC 8684 3.3.6: a subflow that stops making progress, e.g. its path
 * silently lost): its unacknowledged data is queued on the others, and it is used
 * again only when nothing else is usable, or once it makes progress. */

static void stale_check(struct mptcp_conn *mp, uint64_t now)
{
	for (uint32_t i = 0; i < mp->nsub; i++) {
		struct tcb *s = mp->sub[i];
		struct mptcp_subflow *sf = s->sf;

		if (sf->dead)
			continue;
		maps_trim(&sf->tx, s->snd_una);
		if (s->snd_una != sf->stale_una || !in_flight(s)) {
			sf->stale_una = s->snd_una;
			sf->progress_at = now;
			sf->stale_probe_at = 0;
			if (sf->stale && s->snd_una != sf->stale_una_at_stale) {
				sf->stale = false;
				sf->reinjected = false;
				ctr(mp)->subflow_recover++;
			}
		} else if (!sf->stale && (s->backoff >= MPTCP_STALE_RTOS ||
					  now - sf->progress_at >= stall_after(s))) {
			sf->stale = true;
			sf->stale_una_at_stale = s->snd_una;
			ctr(mp)->subflow_stale++;
			/* alone, it would only carry its own data twice (its TCP
			 * retransmits it anyway), and the stream would no longer be
			 * contiguous for an infinite mapping (RFC 8684 3.7) */
			if (other_sendable(mp, s))
				reinject_from(s);
			sf->stale_probe_at = now + stall_after(s);
		} else if (sf->stale && sf->stale_probe_at && now >= sf->stale_probe_at) {
			/* A stale subflow's own RTO backs off to seconds while its data
			 * goes on the others, so a path that comes back (a blackout ends,
			 * a carrier returns) would wait that out before carrying again
			 * (issue 15: 1.1 s after a 2 s blackout in virtual time).  While
			 * another subflow carries the data, probe it every stall period
			 * (3 smoothed RTTs, at least 200 ms) with the segment at SND.UNA:
			 * one segment, whose ACK ends the stale state at once. */
			sf->stale_probe_at = now + stall_after(s);
			if (other_sendable(mp, s) && s->rto_at > sf->stale_probe_at) {
				tcp_probe_head(s);
				ctr(mp)->stale_probe++;
			}
		}
	}
}

bool mptcp_sf_holds(const struct tcb *s, uint64_t dsn)
{
	for (uint32_t k = 0; k < s->sf->tx.n; k++) {
		const struct mptcp_map *m = &s->sf->tx.v[k];
		uint32_t ssn;

		if (dsn < m->dsn || dsn >= m->dsn + m->len)
			continue;
		ssn = m->ssn + (uint32_t)(dsn - m->dsn);
		if (seq_ge(ssn, s->snd_una) && seq_lt(ssn, s->snd_nxt))
			return true;
	}
	return false;
}

/* Whether a usable subflow (stale or not: a stale one's data was already queued on
 * the others by stale_check) still holds data sequence number dsn, sent and not yet
 * acknowledged at the TCP level. */
static bool held_in_flight(const struct mptcp_conn *mp, uint64_t dsn)
{
	for (uint32_t i = 0; i < mp->nsub; i++)
		if (mptcp_sf_sendable(mp->sub[i]) && mptcp_sf_holds(mp->sub[i], dsn))
			return true;
	return false;
}

/* The head of the window sent again on an idle subflow (the out-of-tree kernel's
 * opportunistic retransmission, mptcp_rcv_buf_optimization, without its penalty).
 * When no new data can go (all of it handed out, or the peer's window full) and the
 * data at DATA_ACK is still in flight on one subflow while another has nothing in
 * flight at all, the connection waits on that one subflow: its loss recovery, its
 * RTO (bench case 05, 15/5 Mbit/s at 1/25 ms: the last three segments of a 1.5 s
 * upload waited 700 ms for the slow subflow's RTO while the fast one sat idle), or
 * its queue.  Then what that subflow holds from the DATA_ACK on (at most 64 KiB) is
 * queued again, once per DATA_ACK value; push_reinjections never offers it to a
 * subflow that holds it.  An idle backup subflow does not count (RFC 8684 3.3.8:
 * used only when no non-backup path is available).  Not after a fallback or during
 * MP_FAIL (the subflow's stream must stay contiguous, issue 11). */
void mptcp_head_reinject(struct mptcp_conn *mp)
{
	const struct tcb *holder = NULL;
	bool idle = false;
	uint64_t cap = 65536, queued = 0;

	if (mp->fallback || mp->fail_tx || mp->fail_rx || mp->reinj.n ||
	    mp->snd_una == mp->snd_nxt ||
	    (mp->head_reinj_done && mp->head_reinj_una == mp->snd_una))
		return;
	/* the cheap test first: this runs on every output step while no new data can go */
	for (uint32_t i = 0; i < mp->nsub && !idle; i++) {
		const struct tcb *s = mp->sub[i];

		idle = mptcp_sf_sendable(s) && s->snd_nxt == s->snd_una && s->srtt &&
		       !s->sf->stale && !tcp_unsent(s) && !s->sf->backup && !s->sf->peer_backup;
	}
	/* an idle subflow has nothing in flight: it never holds the head */
	for (uint32_t i = 0; i < mp->nsub && idle && !holder; i++)
		if (mptcp_sf_sendable(mp->sub[i]) && mptcp_sf_holds(mp->sub[i], mp->snd_una))
			holder = mp->sub[i];
	if (!holder)
		return;
	for (uint32_t k = 0; k < holder->sf->tx.n && queued < cap; k++) {
		const struct mptcp_map *m = &holder->sf->tx.v[k];
		uint32_t a = seq_gt(holder->snd_una, m->ssn) ? holder->snd_una : m->ssn;
		uint32_t b = seq_lt(holder->snd_nxt, m->ssn + m->len) ? holder->snd_nxt
								      : m->ssn + m->len;
		uint64_t l, r;

		if (!seq_lt(a, b))
			continue;
		l = max64(m->dsn + (uint32_t)(a - m->ssn), mp->snd_una);
		r = min64(m->dsn + (uint32_t)(b - m->ssn), mp->snd_nxt);
		if (r <= l)
			continue;
		if (r - l > cap - queued)
			r = l + (cap - queued);
		mptcp_reinj_add(mp, l, r - l);
		queued += r - l;
	}
	if (!queued)
		return;
	mp->head_reinj_done = true;
	mp->head_reinj_una = mp->snd_una;
	ctr(mp)->head_reinject++;
}

/* The data-level retransmission timer (as Linux's mptcp_retransmit_timer): data handed
 * to subflows that the peer does not DATA_ACK in time (a subflow that delivered it
 * died, or the peer dropped it at the data level) is queued again from the DATA_ACK
 * on, one window at a time, with exponential backoff. */
static void data_rtx_check(struct mptcp_conn *mp, uint64_t now)
{
	uint64_t rto = 0;

	if (mp->snd_una == mp->snd_nxt) {
		mp->data_rtx_at = 0;
		return;
	}
	if (mp->fail_tx || mp->fail_rx) {
		/* MP_FAIL on the only subflow: the infinite mapping is on its way and
		 * that subflow's byte stream becomes the data stream from the failing
		 * mapping on (RFC 8684 3.7), which needs it contiguous.  Bytes queued
		 * again would go on the same subflow a second time: the infinite
		 * mapping would then start at a reinjected segment's data sequence
		 * number, and after the fallback the peer delivers those bytes twice.
		 * Its own TCP retransmissions carry what it holds. */
		if (mp->data_rtx_at)
			ctr(mp)->data_rtx_held++;
		mp->data_rtx_at = 0;
		return;
	}
	for (uint32_t i = 0; i < mp->nsub; i++)
		if (mptcp_sf_sendable(mp->sub[i]) && mp->sub[i]->rto > rto)
			rto = mp->sub[i]->rto;
	if (!rto)
		rto = 1000000000ull;
	rto = max64(rto, 200000000ull) << (mp->data_rtx_backoff < 6 ? mp->data_rtx_backoff : 6);
	if (!mp->data_rtx_at) {
		mp->data_rtx_at = now + 2 * rto;
		return;
	}
	if (now < mp->data_rtx_at)
		return;
	if (held_in_flight(mp, mp->snd_una)) {
		/* A working subflow still holds these bytes unacknowledged: its own
		 * retransmissions carry them.  Queued again, they would go on the same
		 * subflow (the only one, during the handshake) and its byte stream would
		 * hold them twice, which a fallback to TCP then delivers twice (issue 11). */
		ctr(mp)->data_rtx_held++;
		mp->data_rtx_at = now + 2 * rto;
		return;
	}
	mptcp_reinj_add(mp, mp->snd_una, min64(mp->snd_nxt - mp->snd_una, 65536));
	ctr(mp)->data_rtx++;
	mp->data_rtx_backoff++;
	mp->data_rtx_at = now + 2 * (rto << 1);
}

void mptcp_tick(struct mptcp_conn *mp, uint64_t now)
{
	struct tcb *t;

	if (!mp->fallback) {
		stale_check(mp, now);
		for (uint32_t i = 0; i < mp->nsub; i++) {
			struct mptcp_subflow *sf = mp->sub[i]->sf;

			if (sf->join_ack_due && sf->join_ack_rtx_at && now >= sf->join_ack_rtx_at) {
				mp->sub[i]->ack_now = true;
				sf->join_ack_rtx_at = 0;
			}
		}
		if (data_fin_due(mp) && (!mp->data_fin_rtx_at || now >= mp->data_fin_rtx_at)) {
			/* re-armed even when no subflow can carry it now (one that
			 * becomes usable carries it on its next ACK) */
			t = mptcp_sched_signal_sf(mp);
			if (t)
				t->ack_now = true;
			mp->data_fin_rtx_at = now + (t && t->rto ? t->rto : 1000000000ull);
		}
		if (mp->echo_due || mp->nrm) {
			t = mptcp_sched_signal_sf(mp);
			if (t)
				t->ack_now = true;
		}
		mptcp_pm_tick(mp, now);
		data_rtx_check(mp, now);
	}
	mptcp_sched_push(mp, now);
	if (mp->fully_established && !mp->fallback && !any_alive(mp) && !mp->closed_ev)
		conn_fail(mp, MPT_ECONNRESET);
}

/* ---- application calls -------------------------------------------------------------- */

ptrdiff_t mptcp_app_send(struct mptcp_conn *mp, const uint8_t *buf, size_t len, uint64_t now)
{
	uint32_t n;
	struct tcb *m = master_of(mp);

	(void)now;
	if (mp->error)
		return mp->error;
	if (mp->wr_shut || mp->app_closed)
		return MPT_EPIPE;
	if (!m || (m->state != MPT_SYN_SENT && m->state != MPT_SYN_RECEIVED && !mp->connected_ev &&
		   m->state != MPT_ESTABLISHED && m->state != MPT_CLOSE_WAIT))
		return MPT_ENOTCONN;
	n = ring_append(&mp->sndbuf, buf, len);
	if (!n && len) {
		mp->want_writable = true;
		return MPT_EAGAIN;
	}
	return n;
}

ptrdiff_t mptcp_app_recv(struct mptcp_conn *mp, uint8_t *buf, size_t len, uint64_t now)
{
	uint32_t n;

	if (!mp->rcvbuf.len) {
		if (mp->data_fin_in_order || (mp->fallback && mp->eof_ev))
			return 0;
		mp->readable_ev = false;
		if (mp->error)
			return mp->error;
		if (!any_alive(mp) && mp->connected_ev)
			return MPT_ENOTCONN;
		return MPT_EAGAIN;
	}
	n = (uint32_t)(len < mp->rcvbuf.len ? len : mp->rcvbuf.len);
	ring_read_at(&mp->rcvbuf, 0, buf, n);
	ring_consume(&mp->rcvbuf, n);
	if (!mp->rcvbuf.len)
		mp->readable_ev = false;
	/* room opened: subflows holding bytes the data level could not take move on */
	for (uint32_t i = 0; i < mp->nsub; i++)
		if (mp->sub[i]->rcvbuf.len)
			drain(mp->sub[i], now);
	if (!mp->fallback && mp->nsub)
		check_data_fin(mp, mp->sub[0]);
	return n;
}

int mptcp_app_shutdown(struct mptcp_conn *mp, int how, uint64_t now)
{
	(void)now;
	if (how < MPT_SHUT_RD || how > MPT_SHUT_RDWR)
		return MPT_EINVAL;
	if (how & MPT_SHUT_RD) {
		mp->rd_shut = true;
		mp->rcvbuf.len = 0;
	}
	if (how & MPT_SHUT_WR)
		mp->wr_shut = true;
	return 0;
}

void mptcp_app_abort(struct mptcp_conn *mp, uint64_t now)
{
	struct tcb *m = master_of(mp);

	mp->fastclose_tx = !mp->fallback && mp->remote_key_known;
	for (uint32_t i = 0; i < mp->nsub; i++) {
		struct tcb *s = mp->sub[i];

		if (s->state == MPT_SYN_SENT || s->state == MPT_CLOSED) {
			if (s->state != MPT_CLOSED)
				tcp_set_state(s, MPT_CLOSED);
			continue;
		}
		s->sf->dead = true;
		s->rst_pending = true;
		tcp_set_state(s, MPT_CLOSED);
	}
	mp->app_closed = true;
	if (m)
		m->app_closed = true;
}

void mptcp_app_close(struct mptcp_conn *mp, uint64_t now)
{
	struct tcb *m = master_of(mp);

	if (mp->rcvbuf.len && any_alive(mp)) {
		/* RFC 9293 3.6 / RFC 2525 2.17: closing with unread data resets */
		ctr(mp)->abort_on_close++;
		mptcp_app_abort(mp, now);
		return;
	}
	mp->wr_shut = true;
	mp->app_closed = true;
	if (m)
		m->app_closed = true;
	/* Without MPTCP (fallback, or keys not exchanged yet) the subflow's FIN ends the
	 * stream, so it must follow the buffered bytes (mpt.h: "a FIN follows the
	 * buffered data"): with bytes still at the data level, mptcp_fallback_push
	 * closes the subflow after the last (or, once the handshake completes with
	 * MPTCP, the DATA_FIN does). */
	if ((mp->fallback || !mp->remote_key_known) && !mp->sndbuf.len) {
		for (uint32_t i = 0; i < mp->nsub; i++)
			tcp_app_close(mp->sub[i], now);
	}
}

void mptcp_app_accepted(struct mptcp_conn *mp)
{
	mp->connected_ev = true;
	if (mp->rcvbuf.len || mp->data_fin_in_order)
		app_event(mp, MPT_EV_READABLE, 0);
}

int mptcp_poll(const struct mptcp_conn *mp)
{
	int m = 0;
	const struct tcb *t = master_of(mp);
	bool open = t && (t->state == MPT_ESTABLISHED || t->state == MPT_CLOSE_WAIT ||
			  (mp->connected_ev && any_alive(mp)));

	if (mp->rcvbuf.len || mp->data_fin_in_order || mp->error || (mp->fallback && mp->eof_ev))
		m |= MPT_POLLIN;
	if (!mp->wr_shut && mp->sndbuf.len < mp->sndbuf.cap && open)
		m |= MPT_POLLOUT;
	if (mp->data_fin_in_order || mp->eof_ev || !any_alive(mp))
		m |= MPT_POLLHUP;
	if (mp->error)
		m |= MPT_POLLERR;
	return m;
}

void mptcp_ofo_stats(const struct mptcp_conn *mp, struct mpt_ofo_stats *out)
{
	*out = mp->ofo_st;
}

void mptcp_info(const struct mptcp_conn *mp, struct mpt_conn_info *info)
{
	if (!mp->fallback && mp->nsub) {
		/* the connection's view: bytes the peer DATA_ACKed, the subflows' sums,
		 * and the window of the ones that can send */
		uint32_t cwnd = 0, pipe = 0;

		info->bytes_acked = mp->snd_una - (mp->local_idsn + 1);
		info->notsent = mp->sndbuf.len - (mp->snd_nxt - mp->snd_una);
		info->bytes_sent = info->bytes_retrans = info->bytes_received = 0;
		info->segs_out = info->segs_in = info->retrans_segs = 0;
		for (uint32_t i = 0; i < mp->nsub; i++) {
			const struct tcb *s = mp->sub[i];

			info->bytes_sent += s->bytes_sent;
			info->bytes_retrans += s->bytes_retrans;
			info->bytes_received += s->bytes_received;
			info->segs_out += s->segs_out;
			info->segs_in += s->segs_in;
			info->retrans_segs += s->retrans_segs;
			if (mptcp_sf_sendable(s))
				cwnd += s->cc.cwnd;
			if (!s->sf->dead) {
				pipe += tcp_pipe(s);
				info->notsent += tcp_unsent(s);
			}
		}
		if (cwnd)
			info->cwnd = cwnd;
		info->in_flight = pipe;
	} else if (mp->fallback) {
		info->notsent += mp->sndbuf.len; /* not yet handed to the one subflow */
	}
	if (!mp->fallback) {
		/* the connection's state, not the first subflow's: that one may be gone
		 * (its address removed) while others carry on */
		if (mp->closed_ev) {
			info->state = MPT_CLOSED;
		} else if (info->state == MPT_CLOSED) {
			for (uint32_t i = 0; i < mp->nsub; i++)
				if (!mp->sub[i]->sf->dead && mp->sub[i]->state != MPT_CLOSED) {
					info->state = mp->sub[i]->state;
					break;
				}
		}
	}
	info->mptcp = !mp->fallback;
	info->mptcp_fallback = mp->fallback;
	info->mptcp_checksum = mp->csum && !mp->fallback;
	info->token = mp->local_token;
	info->data_snd_nxt = mp->snd_nxt;
	info->data_rcv_nxt = mp->remote_key_known ? mp->rcv_nxt : 0;
	/* the connection's error, not the first subflow's: a peer that reset that
	 * subflow (a carrier loss's held RST) leaves the others carrying on, and a
	 * caller that took the subflow's ECONNRESET for the connection's closed it with
	 * data unsent (mpt-perf's end of test, bench case 19 libmpt -> libmpt: the
	 * report's last 696 bytes never left, the peer waited for them) */
	if (!mp->fallback && !mp->error && info->error && any_alive(mp))
		info->error = 0;
	if (mp->error && !info->error)
		info->error = mp->error;
}

void mptcp_subflow_flags(const struct tcb *t, struct mpt_subflow_info *o)
{
	o->backup = t->sf->backup || t->sf->peer_backup;
	o->stale = t->sf->stale;
	o->dead = t->sf->dead;
	o->local_id = t->sf->local_id;
	o->remote_id = t->sf->remote_id;
}

/* ---- path events -------------------------------------------------------------------- */

void mptcp_path_gone(struct mptcp_conn *mp, uint32_t path, uint64_t now)
{
	struct mptcp_pm_event e = {.type = MPTCP_PM_EV_LOCAL_DOWN, .path = path, .gone = true};

	for (uint32_t i = 0; i < mp->nsub; i++) {
		struct tcb *s = mp->sub[i];

		if (s->path != path || s->sf->dead)
			continue;
		if (!s->sf->join && mp->nrm < MPTCP_RM_IDS_MAX && !mp->fallback)
			mp->rm_ids[mp->nrm++] = 0; /* the first subflow's address, id 0 */
		mptcp_sf_close(s, MPTCP_PM_CLOSE_ADDR_GONE, false, now);
	}
	mptcp_pm_event_later(mp, &e);
}

int mptcp_user_remove(struct mptcp_conn *mp, const struct mpt_sockaddr *local, uint64_t now)
{
	size_t alen = local->family == MPT_AF_INET ? 4 : 16;
	int n = 0;

	for (uint32_t i = 0; i < mp->nsub; i++) {
		struct tcb *s = mp->sub[i];

		if (s->sf->dead || s->local.family != local->family ||
		    memcmp(s->local.ip, local->ip, alen) ||
		    (local->port && s->local.port != local->port))
			continue;
		if (!s->sf->join && mp->nrm < MPTCP_RM_IDS_MAX && !mp->fallback)
			mp->rm_ids[mp->nrm++] = 0;
		ctr(mp)->rm_subflow++;
		/* withdrawn by the application: not re-created */
		mptcp_sf_close(s, MPTCP_PM_CLOSE_WITHDRAWN, true, now);
		n++;
	}
	return n;
}
