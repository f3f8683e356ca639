/* MPTCP connection level over one subflow: MP_CAPABLE v1 and DSS (see mptcp.h). */
#include "mptcp.h"

#include "mptcp_crypto.h"

#include <string.h>

#define MPTCP_TOKEN_TRIES 16

static struct mpt_counters *ctr(struct tcb *t)
{
	return &t->st->ctr;
}

static bool token_in_use(const struct mpt_stack *st, uint32_t token)
{
	const struct tcb *o;

	for (o = st->conns; o; o = o->next)
		if (o->mp && o->mp->local_token == token)
			return true;
	return false;
}

int mptcp_attach(struct tcb *t, bool server)
{
	const struct mpt_crypto *c = &t->st->env.crypto;
	struct mptcp_conn *mp = stack_calloc(t->st, 1, sizeof(*mp));
	uint8_t rnd[8];
	int i, rv;

	if (!mp)
		return MPT_ENOMEM;
	for (i = 0; i < MPTCP_TOKEN_TRIES; i++) {
		if (c->random_bytes(c->ctx, rnd, sizeof(rnd)) < 0)
			goto fail_crypto;
		mp->local_key = (uint64_t)wire_get32(rnd) << 32 | wire_get32(rnd + 4);
		rv = mptcp_crypto_key_sha(c, mp->local_key, &mp->local_token, &mp->local_idsn);
		if (rv < 0)
			goto fail_crypto;
		if (mp->local_key && !token_in_use(t->st, mp->local_token))
			break;
		ctr(t)->mptcp_token_retry++;
	}
	if (i == MPTCP_TOKEN_TRIES)
		goto fail_crypto;
	mp->server = server;
	t->mp = mp;
	tcp_set_ulp_reserve(t, MPTCP_OPT_RESERVE);
	return 0;

fail_crypto:
	stack_free(t->st, mp);
	return MPT_ECRYPTO;
}

void mptcp_detach(struct tcb *t)
{
	stack_free(t->st, t->mp);
	t->mp = NULL;
}

static void fallback(struct tcb *t)
{
	if (t->mp->fallback)
		return;
	t->mp->fallback = true;
	tcp_set_ulp_reserve(t, 0);
	stack_log(t->st, 2, "conn %u: MPTCP fallback to TCP", t->id);
}

static int set_remote_key(struct tcb *t, uint64_t key)
{
	struct mptcp_conn *mp = t->mp;
	int rv = mptcp_crypto_key_sha(&t->st->env.crypto, key, &mp->remote_token, &mp->remote_idsn);

	if (rv < 0)
		return rv;
	mp->remote_key = key;
	mp->remote_key_known = true;
	return 0;
}

/* Both sequence spaces start once the subflow's ISNs are known. */
static bool seq_ready(const struct tcb *t)
{
	return t->state != MPT_CLOSED && t->state != MPT_LISTEN && t->state != MPT_SYN_SENT;
}

static void seq_sync(struct tcb *t)
{
	struct mptcp_conn *mp = t->mp;
	uint32_t cur;

	if (!mp->seq_init) {
		mp->seq_init = true;
		mp->snd_base32 = t->iss + 1;
		mp->rcv_base32 = t->irs + 1;
	}
	if (seq_gt(t->snd_una, mp->snd_base32)) {
		mp->snd_base64 += (uint32_t)(t->snd_una - mp->snd_base32);
		mp->snd_base32 = t->snd_una;
	}
	cur = t->rcv_nxt - (t->fin_rcvd ? 1 : 0);
	if (seq_gt(cur, mp->rcv_base32)) {
		mp->rcv_base64 += (uint32_t)(cur - mp->rcv_base32);
		mp->rcv_base32 = cur;
	}
}

static uint64_t dsn_of(const struct tcb *t, uint32_t seq)
{
	const struct mptcp_conn *mp = t->mp;

	return mp->local_idsn + 1 + mp->snd_base64 +
	       (uint64_t)(int64_t)seq_diff(seq, mp->snd_base32);
}

static uint64_t data_ack_value(const struct tcb *t)
{
	const struct mptcp_conn *mp = t->mp;

	return mp->remote_idsn + 1 + mp->rcv_base64 + (mp->data_fin_in_order ? 1 : 0);
}

uint64_t mptcp_data_rcv_nxt(struct tcb *t)
{
	if (!t->mp || !t->mp->remote_key_known || !seq_ready(t))
		return 0;
	seq_sync(t);
	return data_ack_value(t);
}

uint64_t mptcp_data_snd_nxt(struct tcb *t)
{
	if (!t->mp || !seq_ready(t))
		return 0;
	seq_sync(t);
	return dsn_of(t, t->snd_nxt);
}

bool mptcp_syn_wants_mptcp(struct mpt_stack *st, const struct wire_tcp_repr *syn)
{
	struct mptcp_opts m;

	mptcp_opts_parse(&m, &syn->opt, syn->flags, syn->payload_len, &st->ctr);
	if (!(m.suboptions & MPTCP_OPT_MPC_SYN))
		return false;
	st->ctr.mpc_syn_rx++;
	if (m.mpc.flags & MPTCP_MPC_A) {
		/* Checksums are not implemented: answer as plain TCP, the peer falls back
		 * (RFC 8684 3.1 lets a host refuse to negotiate). */
		st->ctr.mpc_csum_refused++;
		return false;
	}
	return true;
}

/* A 4-octet sequence number widened to the 64-bit value nearest to ref. */
static uint64_t widen(uint64_t ref, uint64_t low32)
{
	return ref + (uint64_t)(int64_t)(int32_t)((uint32_t)low32 - (uint32_t)ref);
}

static void handshake_input(struct tcb *t, const struct wire_tcp_repr *seg,
			    const struct mptcp_opts *m)
{
	struct mptcp_conn *mp = t->mp;
	bool ack_ok = (seg->flags & WIRE_TCP_ACK) && seq_gt(seg->ack, t->snd_una) &&
		      seq_le(seg->ack, t->snd_nxt);

	if (seg->flags & WIRE_TCP_RST)
		return;
	if (t->state == MPT_SYN_SENT && (seg->flags & WIRE_TCP_SYN) && ack_ok) {
		if (!(m->suboptions & MPTCP_OPT_MPC_SYNACK)) {
			ctr(t)->mpc_fallback_synack++;
			fallback(t);
		} else if (m->mpc.flags & MPTCP_MPC_A) {
			ctr(t)->mpc_csum_refused++;
			fallback(t); /* our third ACK goes without MP_CAPABLE */
		} else if (set_remote_key(t, m->mpc.sndr_key) < 0) {
			fallback(t);
		} else {
			ctr(t)->mpc_synack_rx++;
		}
		return;
	}
	if (t->state == MPT_SYN_RECEIVED && !(seg->flags & WIRE_TCP_SYN) && ack_ok) {
		/* The third ACK, or the first data when it was lost (RFC 8684 3.1). */
		if (!(m->suboptions & MPTCP_OPT_MPC_ACK) ||
		    set_remote_key(t, m->mpc.sndr_key) < 0) {
			ctr(t)->mpc_fallback_ack++;
			fallback(t);
			return;
		}
		ctr(t)->mpc_ack_rx++;
		mp->fully_established = true;
	}
}

static void dss_input(struct tcb *t, const struct wire_tcp_repr *seg, const struct mptcp_opts *m)
{
	struct mptcp_conn *mp = t->mp;
	const struct mptcp_opt_dss *d = &m->dss;

	if (!seq_ready(t) || !mp->remote_key_known)
		return;
	seq_sync(t);
	if (!(m->suboptions & MPTCP_OPT_DSS)) {
		/* First data without a mapping (and not the MP_CAPABLE + data form): the
		 * peer is not doing MPTCP after all (RFC 8684 3.7). */
		if (seg->payload_len && !(m->suboptions & MPTCP_OPT_MPC_ACK) &&
		    mp->rcv_base64 == 0 && seg->seq == t->irs + 1) {
			ctr(t)->mpc_data_fallback++;
			fallback(t);
		} else if (!mp->server && !mp->fully_established && (seg->flags & WIRE_TCP_ACK) &&
			   seq_gt(seg->ack, t->iss + 1)) {
			/* The server acknowledges our data without a DATA_ACK: it never
			 * got our key (our MP_CAPABLE segments were lost and a DSS one
			 * completed its handshake, which Linux answers by falling back). */
			ctr(t)->mpc_ack_fallback++;
			fallback(t);
		}
		return;
	}
	if (!mp->server)
		mp->fully_established = true; /* the server has our key */
	if (d->flags & MPTCP_DSS_A)
		mp->snd_data_ack = (d->flags & MPTCP_DSS_a)
					   ? d->data_ack
					   : widen(dsn_of(t, t->snd_una), d->data_ack);
	if (d->flags & MPTCP_DSS_M) {
		bool fin_only = (d->flags & MPTCP_DSS_F) && d->data_len == 1 && d->subflow_seq == 0;
		uint64_t dsn = d->data_seq;

		if (!(d->flags & MPTCP_DSS_m)) /* 4-octet DSN */
			dsn = widen(data_ack_value(t), dsn);
		if (!fin_only && d->data_len &&
		    (uint32_t)(dsn - mp->remote_idsn) != d->subflow_seq) {
			/* With one subflow the map is linear; anything else is not a
			 * mapping this stream can honour. */
			ctr(t)->dss_not_matching++;
			return;
		}
		if ((d->flags & MPTCP_DSS_F) && !mp->data_fin_rcvd) {
			mp->data_fin_rcvd = true;
			mp->rcv_data_fin_seq = dsn + d->data_len - 1;
			ctr(t)->data_fin_rx++;
		}
	}
}

void mptcp_input_pre(struct tcb *t, const struct wire_tcp_repr *seg, struct mptcp_opts *m)
{
	mptcp_opts_parse(m, &seg->opt, seg->flags, seg->payload_len, ctr(t));
	if (t->mp->fallback)
		return;
	if (t->state == MPT_SYN_SENT || t->state == MPT_SYN_RECEIVED) {
		handshake_input(t, seg, m);
		if (t->state == MPT_SYN_SENT || t->mp->fallback)
			return;
	}
	if (seg->flags & WIRE_TCP_RST)
		return;
	dss_input(t, seg, m);
}

void mptcp_input_post(struct tcb *t)
{
	struct mptcp_conn *mp = t->mp;

	if (mp->fallback || !seq_ready(t) || !mp->remote_key_known)
		return;
	seq_sync(t);
	if (mp->data_fin_rcvd && !mp->data_fin_in_order &&
	    mp->remote_idsn + 1 + mp->rcv_base64 == mp->rcv_data_fin_seq) {
		mp->data_fin_in_order = true;
		t->ack_now = true; /* DATA_ACK the DATA_FIN */
		tcp_ulp_eof(t);
	}
}

void mptcp_output(struct tcb *t, struct wire_tcp_repr *seg)
{
	struct mptcp_conn *mp = t->mp;
	struct mptcp_opts w;
	size_t used = wire_tcp_opts_len(&seg->opt);
	size_t space = used < WIRE_TCP_MAX_OPT ? WIRE_TCP_MAX_OPT - used : 0;
	uint32_t want;

	if (mp->fallback || (seg->flags & WIRE_TCP_RST))
		return;
	memset(&w, 0, sizeof(w));
	w.mpc.version = MPTCP_VERSION;
	w.mpc.flags = MPTCP_MPC_H;
	if (seg->flags & WIRE_TCP_SYN) {
		if (seg->flags & WIRE_TCP_ACK) {
			want = MPTCP_OPT_MPC_SYNACK;
			w.mpc.sndr_key = mp->local_key;
		} else {
			want = MPTCP_OPT_MPC_SYN;
			ctr(t)->mpc_syn_tx++;
		}
	} else if (!mp->remote_key_known || !seq_ready(t)) {
		return;
	} else if (!mp->server && !mp->fully_established && seg->seq == t->iss + 1 &&
		   !(seg->flags & WIRE_TCP_FIN)) {
		/* The third ACK, and the first data until the server shows it has our
		 * key: both keys (RFC 8684 3.1), as Linux's mptcp_established_options_mp. */
		want = MPTCP_OPT_MPC_ACK;
		w.mpc.sndr_key = mp->local_key;
		w.mpc.rcvr_key = mp->remote_key;
		if (seg->payload_len) {
			w.mpc.has_data_len = true;
			w.mpc.data_len = (uint16_t)seg->payload_len;
		}
	} else {
		struct mptcp_opt_dss *d = &w.dss;

		seq_sync(t);
		want = MPTCP_OPT_DSS;
		d->flags = MPTCP_DSS_A | MPTCP_DSS_a;
		d->data_ack = data_ack_value(t);
		if (seg->payload_len || (seg->flags & WIRE_TCP_FIN)) {
			d->flags |= MPTCP_DSS_M | MPTCP_DSS_m;
			d->data_seq = dsn_of(t, seg->seq);
			d->subflow_seq = seg->seq - t->iss;
			d->data_len = (uint16_t)seg->payload_len;
			if (seg->flags & WIRE_TCP_FIN) {
				/* DATA_FIN rides on the subflow FIN: one more octet of
				 * mapping; alone, the RFC's "DATA_FIN only" map (subflow
				 * sequence 0, length 1), as Linux's mptcp_write_data_fin. */
				d->flags |= MPTCP_DSS_F;
				if (!seg->payload_len)
					d->subflow_seq = 0;
				d->data_len++;
				mp->data_fin_sent = true;
			}
		}
	}
	w.suboptions = want;
	if (mptcp_opts_emit(&w, seg->flags, space, &seg->opt) != want)
		stack_log(t->st, 1, "conn %u: no room for MPTCP option 0x%x", t->id, want);
}

void mptcp_info(const struct tcb *t, struct mpt_conn_info *info)
{
	const struct mptcp_conn *mp = t->mp;

	if (!mp)
		return;
	info->mptcp = !mp->fallback;
	info->mptcp_fallback = mp->fallback;
	info->token = mp->local_token;
	if (!seq_ready(t) || !mp->seq_init)
		return;
	info->data_snd_nxt = dsn_of(t, t->snd_nxt);
	if (mp->remote_key_known)
		info->data_rcv_nxt =
			data_ack_value(t) +
			(uint32_t)(t->rcv_nxt - (t->fin_rcvd ? 1 : 0) - mp->rcv_base32);
}
