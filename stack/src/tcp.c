/* The TCP engine (RFC 9293), one control block per connection.
 *
 * Input follows RFC 9293 3.10.7 "SEGMENT ARRIVES" step by step; output is pulled by
 * the stack through tcp_output, which picks, in order: RST, SYN / SYN-ACK, a lost
 * segment (RFC 6675 NextSeg rule 1), new data within min(send window, cwnd - pipe),
 * FIN, a zero-window probe, a tail loss probe, a pure ACK.
 */
#include "tcp.h"

#include <assert.h>
#include <string.h>

#define NS_PER_MS	   1000000ull
#define TCP_DEFAULT_MSS_V4 536	/* RFC 9293 3.7.1 */
#define TCP_DEFAULT_MSS_V6 1220 /* RFC 8200 5: 1280 - 60 */
#define TCP_WCDELACK_NS	   (200 * NS_PER_MS)

/* ---- small helpers ---- */
static uint32_t min32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}
static uint32_t max32(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}
static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}
static uint64_t max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}
static uint64_t earliest(uint64_t a, uint64_t b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	return a < b ? a : b;
}

static struct tcp_txseg *rtx_at(const struct tcb *t, uint32_t i)
{
	return &t->rtx[(t->rtx_head + i) % t->rtx_cap];
}

static int rtx_push(struct tcb *t, const struct tcp_txseg *s)
{
	if (t->rtx_len == t->rtx_cap) {
		uint32_t ncap = t->rtx_cap ? t->rtx_cap * 2 : 64, i;
		struct tcp_txseg *n = stack_calloc(t->st, ncap, sizeof(*n));

		if (!n)
			return MPT_ENOMEM;
		for (i = 0; i < t->rtx_len; i++)
			n[i] = *rtx_at(t, i);
		stack_free(t->st, t->rtx);
		t->rtx = n;
		t->rtx_cap = ncap;
		t->rtx_head = 0;
	}
	t->rtx[(t->rtx_head + t->rtx_len) % t->rtx_cap] = *s;
	t->rtx_len++;
	t->rtx_bytes += s->len;
	return 0;
}

static uint32_t tsval_now(const struct tcb *t, uint64_t now)
{
	return (uint32_t)(now / NS_PER_MS) + t->ts_offset;
}

/* ---- state machine ---- */

#define B(s) (1u << (s))
/* RFC 9293 Figure 5, plus CLOSED reachable from every state (reset / abort / timeout). */
static const uint32_t tcp_transitions[MPT_NSTATES] = {
	[MPT_CLOSED] = B(MPT_SYN_SENT) | B(MPT_LISTEN),
	[MPT_LISTEN] = B(MPT_SYN_RECEIVED) | B(MPT_SYN_SENT) | B(MPT_CLOSED),
	[MPT_SYN_SENT] = B(MPT_SYN_RECEIVED) | B(MPT_ESTABLISHED) | B(MPT_CLOSED),
	[MPT_SYN_RECEIVED] = B(MPT_ESTABLISHED) | B(MPT_FIN_WAIT_1) | B(MPT_CLOSE_WAIT) |
			     B(MPT_LISTEN) | B(MPT_CLOSED),
	[MPT_ESTABLISHED] = B(MPT_FIN_WAIT_1) | B(MPT_CLOSE_WAIT) | B(MPT_CLOSED),
	[MPT_FIN_WAIT_1] = B(MPT_FIN_WAIT_2) | B(MPT_CLOSING) | B(MPT_TIME_WAIT) | B(MPT_CLOSED),
	[MPT_FIN_WAIT_2] = B(MPT_TIME_WAIT) | B(MPT_CLOSED),
	[MPT_CLOSE_WAIT] = B(MPT_LAST_ACK) | B(MPT_CLOSED),
	[MPT_CLOSING] = B(MPT_TIME_WAIT) | B(MPT_CLOSED),
	[MPT_LAST_ACK] = B(MPT_CLOSED),
	[MPT_TIME_WAIT] = B(MPT_CLOSED),
};

bool tcp_transition_ok(enum mpt_state from, enum mpt_state to)
{
	if ((unsigned)from >= MPT_NSTATES || (unsigned)to >= MPT_NSTATES)
		return false;
	return (tcp_transitions[from] & B(to)) != 0;
}

static bool is_estab_like(enum mpt_state s)
{
	return s == MPT_ESTABLISHED || s == MPT_CLOSE_WAIT;
}

int tcp_set_state(struct tcb *t, enum mpt_state to)
{
	struct mpt_stack *st = t->st;
	enum mpt_state from = t->state;

	if (!tcp_transition_ok(from, to)) {
		st->ctr.state_bad_transitions++;
		stack_log(st, 0, "conn %u: refused transition %s -> %s", t->id,
			  mpt_state_name((int)from), mpt_state_name((int)to));
		return MPT_ESTATE;
	}
	st->transitions[from][to]++;
	st->ctr.state_transitions++;
	stack_log(st, 3, "conn %u: %s -> %s", t->id, mpt_state_name((int)from),
		  mpt_state_name((int)to));
	if (from == MPT_CLOSED && to == MPT_SYN_SENT)
		st->ctr.tcp_active_opens++;
	if (from == MPT_LISTEN && to == MPT_SYN_RECEIVED)
		st->ctr.tcp_passive_opens++;
	/* RFC 4022 tcpAttemptFails / tcpEstabResets semantics, as Linux counts them. */
	if ((from == MPT_SYN_SENT || from == MPT_SYN_RECEIVED) &&
	    (to == MPT_CLOSED || to == MPT_LISTEN))
		st->ctr.tcp_attempt_fails++;
	if (is_estab_like(from) && to == MPT_CLOSED)
		st->ctr.tcp_estab_resets++;
	if (!is_estab_like(from) && is_estab_like(to))
		st->ctr.tcp_curr_estab++;
	if (is_estab_like(from) && !is_estab_like(to))
		st->ctr.tcp_curr_estab--;
	if (to == MPT_TIME_WAIT)
		t->tw_at = 0; /* armed by the caller, which knows `now` */
	t->state = to;
	if (to == MPT_CLOSED) {
		st->reap_hint = true;
		t->rto_at = t->tlp_at = t->delack_at = t->persist_at = t->tw_at = 0;
		t->rtx_len = 0;
		t->rtx_bytes = 0;
		t->ack_now = false;
		t->syn_pending = false;
		t->probe_pending = t->tlp_pending = t->head_probe_pending = false;
		t->keepalive_pending = false;
		if (t->parent)
			stack_listener_unlink(st, t);
	}
	return 0;
}

/* An application event of this connection: to the upper layer when there is one
 * (it decides what the application of an MPTCP connection sees), else to the
 * application if it holds the connection. */
static void app_event(struct tcb *t, enum mpt_event_type type, int err)
{
	if (t->ulp)
		t->ulp->event(t, type, err);
	else if (t->app_visible && !t->app_closed)
		stack_event(t->st, type, t->id, err);
}

static void tcp_fail(struct tcb *t, int err)
{
	t->error = err;
	tcp_set_state(t, MPT_CLOSED);
	app_event(t, MPT_EV_ERROR, err);
}

/* ---- creation ---- */

struct tcb *tcp_new(struct mpt_stack *st)
{
	struct tcb *t = stack_calloc(st, 1, sizeof(*t));

	if (!t)
		return NULL;
	t->st = st;
	t->state = MPT_CLOSED;
	t->sndbuf.cap = st->cfg.sndbuf;
	t->rcvbuf.cap = st->cfg.rcvbuf;
	t->sndbuf.buf = stack_calloc(st, 1, t->sndbuf.cap);
	t->rcvbuf.buf = stack_calloc(st, 1, t->rcvbuf.cap);
	if (!t->sndbuf.buf || !t->rcvbuf.buf) {
		tcp_free(t);
		return NULL;
	}
	t->rto = st->cfg.init_rto_ns;
	t->snd_wscale = t->rcv_wscale = 0;
	t->ccops = st->cc_default;
	return t;
}

void tcp_free(struct tcb *t)
{
	if (!t)
		return;
	stack_demux_forget(t->st, t);
	stack_free(t->st, t->sndbuf.buf);
	stack_free(t->st, t->rcvbuf.buf);
	stack_free(t->st, t->rtx);
	if (t->ulp)
		t->ulp->release(t);
	stack_free(t->st, t);
}

int tcp_isn(struct mpt_stack *st, const struct mpt_sockaddr *l, const struct mpt_sockaddr *r,
	    uint64_t now, uint32_t *isn)
{
	uint8_t msg[2 * 18 + sizeof(st->isn_secret)], h[32];
	size_t n = 0;

	memcpy(msg + n, l->ip, 16);
	n += 16;
	wire_put16(msg + n, l->port);
	n += 2;
	memcpy(msg + n, r->ip, 16);
	n += 16;
	wire_put16(msg + n, r->port);
	n += 2;
	memcpy(msg + n, st->isn_secret, sizeof(st->isn_secret));
	n += sizeof(st->isn_secret);
	/* RFC 6528 3: "ISN = M + F(localip, localport, remoteip, remoteport, secretkey)
	 * where M is the 4 microsecond timer, and F() is a pseudorandom function (PRF)
	 * of the connection-id."  F here is SHA-256 through the injected crypto. */
	if (st->env.crypto.sha256(st->env.crypto.ctx, msg, n, h) < 0)
		return MPT_ECRYPTO;
	*isn = (uint32_t)(now / 4000) + wire_get32(h);
	return 0;
}

static uint32_t our_mss(const struct tcb *t)
{
	uint32_t ip = t->local.family == MPT_AF_INET6 ? WIRE_IPV6_HDR_LEN : WIRE_IPV4_HDR_LEN;

	return t->st->cfg.mtu - ip - WIRE_TCP_HDR_LEN;
}

static uint8_t our_wscale(const struct tcb *t)
{
	uint8_t s = 0;

	while (s < WIRE_WS_MAX && (t->rcvbuf.cap >> s) > 0xffff)
		s++;
	return s;
}

/* Payload bytes per data segment: the peer's MSS, our MTU, minus the options every
 * segment carries (TS) and what the upper layer reserves.  RFC 9293 3.7.1 (MUST-16):
 * "the sending TCP ... MUST reduce the effective send MSS by the length of any IP or
 * TCP options". */
static void update_snd_mss(struct tcb *t)
{
	uint32_t m = min32(t->peer_mss, our_mss(t));
	uint32_t opt = (t->ts_ok ? 12 : 0) + t->ulp_opt_reserve;

	t->snd_mss = m > opt + 64 ? m - opt : 64;
	t->cc.mss = t->snd_mss;
}

void tcp_set_ulp_reserve(struct tcb *t, uint32_t bytes)
{
	t->ulp_opt_reserve = bytes;
	t->ulp_ack_reserve = bytes;
	if (t->peer_mss)
		update_snd_mss(t);
}

void tcp_cc_sf(const struct tcb *t, struct mpt_cc_sf *o)
{
	memset(o, 0, sizeof(*o));
	o->cwnd = t->cc.cwnd;
	o->ssthresh = t->cc.ssthresh;
	o->mss = t->snd_mss;
	o->in_flight = t->snd_nxt - t->snd_una;
	o->srtt_ns = t->srtt;
	o->min_rtt_ns = t->min_rtt;
	o->state = t->state;
	o->usable = t->state == MPT_ESTABLISHED || t->state == MPT_CLOSE_WAIT;
	o->in_recovery = t->in_recovery || t->in_loss;
	o->ops = t->ccops;
	o->priv = t->cc.priv;
}

/* The controller's view of the connection, current at each call (subflows join, go
 * stale, become backups and close between calls): the upper layer fills it for an
 * MPTCP subflow, else a connection of one.  cc.conn points at it for the call only. */
static void cc_view(struct tcb *t, struct mpt_cc_conn *v)
{
	v->nsf = 0;
	v->self = 0;
	if (t->ulp && t->ulp->cc_view)
		t->ulp->cc_view(t, v);
	if (!v->nsf || v->self >= v->nsf) {
		v->nsf = 1;
		v->self = 0;
		tcp_cc_sf(t, &v->sf[0]);
	}
	t->cc.conn = v;
}

#define CC_CALL(t, fn, ...)                            \
	do {                                           \
		struct mpt_cc_conn cc_view_;           \
		cc_view((t), &cc_view_);               \
		(t)->ccops->fn(&(t)->cc, __VA_ARGS__); \
		(t)->cc.conn = NULL;                   \
	} while (0)

static void cc_start(struct tcb *t, uint64_t now)
{
	t->cc.mss = t->snd_mss;
	t->cc.cwnd = t->st->cfg.init_cwnd_segs * t->snd_mss;
	t->cc.ssthresh = UINT32_MAX / 2;
	CC_CALL(t, init, now);
	hystart_init(&t->hs, t->st->cfg.hystart_css_rounds);
	if (t->st->cfg.no_hystart)
		hystart_end(&t->hs);
}

/* Slow start's growth for this ACK through HyStart++ (RFC 9406): the bytes to hand
 * the controller (a quarter in Conservative Slow Start), and ssthresh = cwnd when
 * CSS is over. */
static uint32_t hystart_ack(struct tcb *t, uint32_t acked)
{
	enum hystart_event ev;

	if (t->cc.cwnd >= t->cc.ssthresh || t->hs.phase == HYSTART_DONE)
		return acked;
	ev = hystart_on_ack(&t->hs, t->ack_rtt, t->snd_una, t->snd_nxt);
	if (ev == HYSTART_EV_ENTER_CSS || ev == HYSTART_EV_DELAY_EXIT) {
		t->st->ctr.hystart_delay_detect++;
		t->st->ctr.hystart_delay_cwnd += t->cc.cwnd / (t->snd_mss ? t->snd_mss : 1);
	}
	if (ev == HYSTART_EV_EXIT || ev == HYSTART_EV_DELAY_EXIT) {
		t->cc.ssthresh = t->cc.cwnd;
		return acked;
	}
	return acked / hystart_growth_divisor(&t->hs);
}

int tcp_open_active(struct tcb *t, uint64_t now)
{
	uint8_t rnd[4];
	int rv = tcp_isn(t->st, &t->local, &t->remote, now, &t->iss);

	if (rv < 0)
		return rv;
	if (t->st->env.crypto.random_bytes(t->st->env.crypto.ctx, rnd, sizeof(rnd)) < 0)
		return MPT_ECRYPTO;
	t->ts_offset = wire_get32(rnd);
	t->snd_una = t->iss;
	t->snd_nxt = t->iss + 1;
	t->sndbuf_seq = t->iss + 1;
	t->rcv_mss = our_mss(t);
	t->rcv_wscale = t->st->cfg.no_wscale ? 0 : our_wscale(t);
	t->syn_pending = true;
	t->app_visible = true;
	return tcp_set_state(t, MPT_SYN_SENT);
}

/* Apply the options of a received SYN (either direction). */
static void take_syn_options(struct tcb *t, const struct wire_tcp_repr *syn, bool we_offered)
{
	const struct mpt_config *cfg = &t->st->cfg;
	const struct wire_tcp_opts *o = &syn->opt;

	t->peer_mss = (o->present & WIRE_HAS_MSS)
			      ? max32(o->mss, 88)
			      : (t->local.family == MPT_AF_INET6 ? TCP_DEFAULT_MSS_V6
								 : TCP_DEFAULT_MSS_V4);
	/* RFC 7323 2.2: window scaling is in effect only if both sides sent WS. */
	t->ws_ok = !cfg->no_wscale && (o->present & WIRE_HAS_WS) && we_offered;
	if (t->ws_ok) {
		t->snd_wscale = min32(o->wscale, WIRE_WS_MAX);
	} else {
		t->snd_wscale = 0;
		t->rcv_wscale = 0;
	}
	t->sack_ok = !cfg->no_sack && (o->present & WIRE_HAS_SACK_PERM) && we_offered;
	t->ts_ok = !cfg->no_timestamps && (o->present & WIRE_HAS_TS) && we_offered;
	if (t->ts_ok) {
		t->ts_recent = o->tsval;
		t->ts_recent_age = 0;
	}
	update_snd_mss(t);
}

int tcp_open_passive(struct tcb *t, const struct wire_tcp_repr *syn, uint64_t now)
{
	uint8_t rnd[4];
	int rv;

	t->state = MPT_LISTEN; /* born from the listener */
	rv = tcp_isn(t->st, &t->local, &t->remote, now, &t->iss);
	if (rv < 0)
		return rv;
	if (t->st->env.crypto.random_bytes(t->st->env.crypto.ctx, rnd, sizeof(rnd)) < 0)
		return MPT_ECRYPTO;
	t->ts_offset = wire_get32(rnd);
	t->rcv_mss = our_mss(t);
	t->rcv_wscale = t->st->cfg.no_wscale ? 0 : our_wscale(t);
	take_syn_options(t, syn, true);
	/* RFC 9293 3.10.7.2: "Set RCV.NXT to SEG.SEQ+1, IRS is set to SEG.SEQ" */
	t->irs = syn->seq;
	t->rcv_nxt = syn->seq + 1;
	t->rcv_adv = t->rcv_nxt + min32(t->rcvbuf.cap, 0xffff);
	t->snd_una = t->iss;
	t->snd_nxt = t->iss + 1;
	t->sndbuf_seq = t->iss + 1;
	t->snd_wnd = syn->window; /* RFC 7323 2.2: SYN windows are never scaled */
	t->max_snd_wnd = t->snd_wnd;
	t->snd_wl1 = syn->seq;
	t->snd_wl2 = t->iss;
	t->syn_pending = true;
	cc_start(t, now);
	return tcp_set_state(t, MPT_SYN_RECEIVED);
}

/* ---- RTT / RTO (RFC 6298) ---- */

static void rto_recompute(struct tcb *t)
{
	const struct mpt_config *cfg = &t->st->cfg;
	/* (2.3) RTO <- SRTT + max (G, K*RTTVAR), K = 4; G = 1 ms (the TS clock). */
	uint64_t r = t->srtt + max64(NS_PER_MS, 4 * t->rttvar);

	/* (2.4) "Whenever RTO is computed, if it is less than 1 second, then the RTO
	 * SHOULD be rounded up to 1 second" -- we use the configurable min_rto (Linux's
	 * 200 ms by default).  (2.5) "A maximum value MAY be placed on RTO provided it is
	 * at least 60 seconds." */
	t->rto = min64(max64(r, cfg->min_rto_ns), cfg->max_rto_ns);
}

static void rtt_sample(struct tcb *t, uint64_t r)
{
	if (!r)
		r = 1;
	t->st->ctr.rtt_samples++;
	if (!t->rtt_valid) {
		/* (2.2) SRTT <- R, RTTVAR <- R/2 */
		t->srtt = r;
		t->rttvar = r / 2;
		t->rtt_valid = true;
		t->min_rtt = r;
	} else {
		/* (2.3) RTTVAR <- 3/4 RTTVAR + 1/4 |SRTT - R'|; SRTT <- 7/8 SRTT + 1/8 R' */
		uint64_t d = t->srtt > r ? t->srtt - r : r - t->srtt;

		t->rttvar = (3 * t->rttvar + d) / 4;
		t->srtt = (7 * t->srtt + r) / 8;
		t->min_rtt = min64(t->min_rtt, r);
	}
	t->cc.srtt_ns = t->srtt;
	t->cc.min_rtt_ns = t->min_rtt;
	t->ack_rtt = r;
	t->backoff = 0;
	rto_recompute(t);
}

static uint64_t rto_backed_off(const struct tcb *t)
{
	uint64_t r = t->rto;
	uint32_t i;

	/* (5.5) "The host MUST set RTO <- RTO * 2 ("back off the timer")." */
	for (i = 0; i < t->backoff && r < t->st->cfg.max_rto_ns; i++)
		r *= 2;
	return min64(r, t->st->cfg.max_rto_ns);
}

static void rto_arm(struct tcb *t, uint64_t now)
{
	t->rto_at = now + rto_backed_off(t);
}

/* RFC 5681 4.1: "TCP SHOULD set cwnd to no more than RW before beginning
 * transmission if the TCP has not sent data in an interval exceeding the
 * retransmission timeout", RW = min(IW, cwnd).  As Linux's tcp_cwnd_restart (on by
 * default, net.ipv4.tcp_slow_start_after_idle; MPTCP subflows included): ssthresh
 * keeps 3/4 of the old window, and cwnd halves once per RTO of idleness down to RW,
 * so slow start climbs back to about where it was.  A backup subflow that carried
 * data once and then waited seconds would otherwise send its whole old window into
 * a queue at once when the active path fails (bench case 16: 142 KB in one burst
 * onto a 20 Mbit/s path with 100 packets of queue, then losses and stalls). */
void tcp_idle_restart(struct tcb *t, uint64_t now)
{
	uint64_t rto = rto_backed_off(t), idle;
	uint32_t rw = t->st->cfg.init_cwnd_segs * t->snd_mss, cwnd = t->cc.cwnd;

	if (t->st->cfg.no_slow_start_after_idle || t->snd_nxt != t->snd_una ||
	    !t->last_data_tx_at || t->idle_restarted_from == t->last_data_tx_at ||
	    now <= t->last_data_tx_at + rto)
		return;
	t->idle_restarted_from = t->last_data_tx_at;
	if (rw > cwnd)
		rw = cwnd;
	if (!t->in_recovery && !t->in_loss)
		t->cc.ssthresh = max32(t->cc.ssthresh, (cwnd >> 1) + (cwnd >> 2));
	for (idle = now - t->last_data_tx_at; idle > rto && cwnd > rw; idle -= rto)
		cwnd >>= 1;
	t->cc.cwnd = max32(cwnd, rw);
	t->st->ctr.cwnd_restart++;
	/* The path may be another one by now (a backup taking over from a dead
	 * subflow): this slow start climbs to 3/4 of a window learnt long ago, so it
	 * watches the RTT as the initial one does (hystart.h). */
	if (!t->st->cfg.no_hystart && t->cc.cwnd < t->cc.ssthresh)
		hystart_init(&t->hs, t->st->cfg.hystart_css_rounds);
}

/* ---- receive window ---- */

static uint32_t rcv_space(const struct tcb *t)
{
	return t->rcvbuf.cap - t->rcvbuf.len;
}

/* Receiver-side SWS avoidance (RFC 9293 3.8.6.2.2): move the right edge only when it
 * can advance by min(RCV.BUFF / 2, MSS).  The edge never moves left (SHLD-14: "A TCP
 * receiver SHOULD NOT shrink the window"). */
static void rcv_window_update(struct tcb *t)
{
	uint32_t right = t->rcv_nxt + rcv_space(t);

	if (seq_lt(t->rcv_adv, t->rcv_nxt))
		t->rcv_adv = t->rcv_nxt;
	if (seq_gt(right, t->rcv_adv) &&
	    (uint32_t)(right - t->rcv_adv) >= min32(t->rcvbuf.cap / 2, t->rcv_mss))
		t->rcv_adv = right;
}

static uint16_t window_field(struct tcb *t, bool syn)
{
	uint32_t w;

	rcv_window_update(t);
	w = t->rcv_adv - t->rcv_nxt;
	if (syn)
		return (uint16_t)min32(w, 0xffff);
	w >>= t->rcv_wscale;
	return (uint16_t)min32(w, 0xffff);
}

/* ---- SACK generation (RFC 2018 4) ---- */

static void ofo_insert(struct tcb *t, uint32_t l, uint32_t r)
{
	uint32_t i = 0, j;

	/* find first range whose right >= l */
	while (i < t->n_ofo && seq_lt(t->ofo[i].right, l))
		i++;
	if (i < t->n_ofo && seq_le(t->ofo[i].left, r)) {
		/* overlaps / touches range i: merge forward */
		t->ofo[i].left = seq_min(t->ofo[i].left, l);
		t->ofo[i].right = seq_max(t->ofo[i].right, r);
		t->ofo[i].stamp = ++t->ofo_stamp;
		while (i + 1 < t->n_ofo && seq_le(t->ofo[i + 1].left, t->ofo[i].right)) {
			t->ofo[i].right = seq_max(t->ofo[i].right, t->ofo[i + 1].right);
			for (j = i + 1; j + 1 < t->n_ofo; j++)
				t->ofo[j] = t->ofo[j + 1];
			t->n_ofo--;
			t->st->ctr.ofo_merge++;
		}
		return;
	}
	for (j = t->n_ofo; j > i; j--)
		t->ofo[j] = t->ofo[j - 1];
	t->ofo[i].left = l;
	t->ofo[i].right = r;
	t->ofo[i].stamp = ++t->ofo_stamp;
	t->n_ofo++;
}

static uint8_t sack_fill(const struct tcb *t, struct wire_sack_block *b, uint8_t max)
{
	bool used[TCP_MAX_OFO] = {false};
	uint8_t n = 0;

	/* "The first SACK block ... MUST specify the contiguous block of data containing
	 * the segment which triggered this ACK"; then the most recently reported. */
	while (n < max) {
		uint32_t best = UINT32_MAX, i;

		for (i = 0; i < t->n_ofo; i++)
			if (!used[i] &&
			    (best == UINT32_MAX || t->ofo[i].stamp > t->ofo[best].stamp))
				best = i;
		if (best == UINT32_MAX)
			break;
		used[best] = true;
		b[n].left = t->ofo[best].left;
		b[n].right = t->ofo[best].right;
		n++;
	}
	return n;
}

/* ---- output ---- */

static void fill_common(struct tcb *t, uint64_t now, struct wire_tcp_repr *seg, uint8_t flags,
			size_t payload_len)
{
	bool syn = flags & WIRE_TCP_SYN;
	size_t room;

	if (payload_len)
		t->last_data_tx_at = now;
	seg->sport = t->local.port;
	seg->dport = t->remote.port;
	seg->flags = flags;
	if (flags & WIRE_TCP_ACK) {
		seg->ack = t->rcv_nxt;
		seg->window = window_field(t, syn);
		if (seg->window == 0 && !t->zero_wnd_adv && !syn)
			t->st->ctr.to_zero_window_adv++;
		t->zero_wnd_adv = seg->window == 0;
		t->last_ack_sent = t->rcv_nxt;
		t->ack_now = false;
		t->delack_at = 0;
		t->segs_unacked = 0;
	} else {
		seg->window = window_field(t, syn);
	}
	if (t->ts_ok) {
		seg->opt.present |= WIRE_HAS_TS;
		seg->opt.tsval = tsval_now(t, now);
		seg->opt.tsecr = (flags & WIRE_TCP_ACK) ? t->ts_recent : 0;
	}
	/* Option space: whatever the data leaves in the MTU, capped by 40 bytes, less
	 * what the upper layer reserved. */
	if (t->sack_ok && (t->n_ofo || t->dsack_pending) && !syn && (flags & WIRE_TCP_ACK)) {
		uint32_t ip = t->local.family == MPT_AF_INET6 ? 40 : 20;
		/* a pure ACK needs less of the upper layer's room (MPTCP: a DATA_ACK,
		 * not a mapping), so SACK blocks still fit beside it */
		uint32_t reserve = payload_len ? t->ulp_opt_reserve
					       : min32(t->ulp_opt_reserve, t->ulp_ack_reserve);
		size_t used = wire_tcp_opts_len(&seg->opt) + reserve;
		size_t by_mtu = t->st->cfg.mtu - ip - WIRE_TCP_HDR_LEN - payload_len;
		uint8_t max;

		room = min64(WIRE_TCP_MAX_OPT, by_mtu);
		room = room > used ? room - used : 0;
		max = room >= 4 + 8 ? (uint8_t)((room - 4) / 8) : 0;
		if (max > WIRE_OPT_SACK_MAX_BLOCKS)
			max = WIRE_OPT_SACK_MAX_BLOCKS;
		if (max && t->dsack_pending) {
			/* RFC 2883 4 (1): "A D-SACK block is only used to report a duplicate
			 * contiguous sequence of data received by the receiver in the most
			 * recent packet"; it goes first, the usual blocks follow. */
			seg->opt.sack[0].left = t->dsack_left;
			seg->opt.sack[0].right = t->dsack_right;
			seg->opt.nsack = (uint8_t)(1 + sack_fill(t, seg->opt.sack + 1, max - 1));
			t->dsack_pending = false;
			t->st->ctr.dsack_old_sent++;
		} else if (max) {
			seg->opt.nsack = sack_fill(t, seg->opt.sack, max);
		}
		if (seg->opt.nsack)
			seg->opt.present |= WIRE_HAS_SACK;
	}
	t->segs_out++;
}

static void emit_syn(struct tcb *t, uint64_t now, struct wire_tcp_repr *seg)
{
	const struct mpt_config *cfg = &t->st->cfg;
	bool synack = t->state == MPT_SYN_RECEIVED;
	uint8_t flags = WIRE_TCP_SYN | (synack ? WIRE_TCP_ACK : 0);

	seg->seq = t->iss;
	seg->opt.present |= WIRE_HAS_MSS;
	seg->opt.mss = (uint16_t)t->rcv_mss;
	/* RFC 7323 2.2 / 3.2 and RFC 2018 2: offer WS, TS and SACK-permitted on a SYN;
	 * on a SYN-ACK only if the SYN carried them. */
	if (synack ? t->ws_ok : !cfg->no_wscale) {
		seg->opt.present |= WIRE_HAS_WS;
		seg->opt.wscale = t->rcv_wscale;
	}
	if (synack ? t->sack_ok : !cfg->no_sack)
		seg->opt.present |= WIRE_HAS_SACK_PERM;
	if (!synack && !cfg->no_timestamps) {
		seg->opt.present |= WIRE_HAS_TS;
		seg->opt.tsval = tsval_now(t, now);
		seg->opt.tsecr = 0;
	}
	fill_common(t, now, seg, flags, 0);
	t->syn_pending = false;
	if (!t->rto_at)
		rto_arm(t, now);
}

/* RFC 6675 SetPipe(): for every octet not SACKed, count it once if it is not lost
 * and once more if it has been retransmitted. */
static uint32_t pipe_scan(const struct tcb *t)
{
	uint32_t i, pipe = 0;

	for (i = 0; i < t->rtx_len; i++) {
		const struct tcp_txseg *s = rtx_at(t, i);

		if (s->sacked)
			continue;
		if (!s->lost)
			pipe += s->len;
		if (s->retrans)
			pipe += s->len;
	}
	return pipe;
}

/* True if some rtx entry is SACKed, lost or retransmitted (stops at the first). */
static bool sb_marked(const struct tcb *t)
{
	for (uint32_t i = 0; i < t->rtx_len; i++) {
		const struct tcp_txseg *s = rtx_at(t, i);

		if (s->sacked || s->lost || s->retrans)
			return true;
	}
	return false;
}

uint32_t tcp_pipe(const struct tcb *t)
{
	uint32_t pipe;

#ifdef MPT_TCP_PARANOID
	assert(t->sb_dirty || !sb_marked(t));
	assert(t->sb_dirty || pipe_scan(t) == t->rtx_bytes);
#endif
	pipe = t->sb_dirty ? pipe_scan(t) : t->rtx_bytes;
	if (!t->sack_ok && t->in_recovery) {
		/* Without SACK each duplicate ACK means a segment left the network
		 * (RFC 6582 / RFC 5681 cwnd inflation, expressed as a pipe deflation). */
		uint32_t out = t->dupacks * t->snd_mss;

		pipe = pipe > out ? pipe - out : 0;
	}
	return pipe;
}

/* The payload [seq, seq+n) of a segment: a pointer into the send buffer when the
 * bytes are contiguous there (valid until the buffer changes), else copied into
 * scratch. */
static const uint8_t *payload_at(struct tcb *t, uint32_t seq, uint32_t n, uint8_t *scratch)
{
	uint32_t off = seq - t->sndbuf_seq, pos;

	assert(off + n <= t->sndbuf.len);
	pos = (t->sndbuf.head + off) % t->sndbuf.cap;
	if (pos + n <= t->sndbuf.cap)
		return t->sndbuf.buf + pos;
	ring_read_at(&t->sndbuf, off, scratch, n);
	return scratch;
}

static int emit_retrans(struct tcb *t, struct tcp_txseg *s, uint64_t now, uint8_t *scratch,
			struct wire_tcp_repr *seg)
{
	uint32_t dlen = s->len - s->fin;

	seg->seq = s->seq;
	seg->payload = payload_at(t, s->seq, dlen, scratch);
	seg->payload_len = dlen;
	fill_common(t, now, seg,
		    WIRE_TCP_ACK | (s->fin ? WIRE_TCP_FIN : 0) | (dlen ? WIRE_TCP_PSH : 0), dlen);
	s->retrans = 1;
	s->ever_retrans = 1;
	t->sb_dirty = true;
	if (t->undo_valid)
		t->undo_retrans++;
	s->sent_ns = now;
	t->retrans_segs++;
	t->bytes_retrans += dlen;
	t->st->ctr.tcp_retrans_segs++;
	if (t->in_loss)
		t->st->ctr.slow_start_retrans++;
	else if (t->in_recovery)
		t->st->ctr.fast_retrans++;
	if (!t->rto_at)
		rto_arm(t, now);
	return 1;
}

static bool can_send_data(const struct tcb *t)
{
	switch (t->state) {
	case MPT_ESTABLISHED:
	case MPT_CLOSE_WAIT:
	case MPT_FIN_WAIT_1:
	case MPT_CLOSING:
	case MPT_LAST_ACK:
		return true;
	default:
		return false;
	}
}

static uint32_t unsent_bytes(const struct tcb *t)
{
	uint32_t off = t->snd_nxt - t->sndbuf_seq;

	if (t->fin_sent)
		return 0;
	return off < t->sndbuf.len ? t->sndbuf.len - off : 0;
}

/* New data (and FIN) within the send window and cwnd.  `probe` = TLP: ignore cwnd. */
static int emit_new(struct tcb *t, uint64_t now, uint8_t *scratch, struct wire_tcp_repr *seg,
		    bool probe)
{
	uint32_t unsent = unsent_bytes(t), pipe = tcp_pipe(t), len;
	int32_t usable = seq_diff(t->snd_una + t->snd_wnd, t->snd_nxt);
	uint32_t cwnd_room = t->cc.cwnd > pipe ? t->cc.cwnd - pipe : 0;
	bool want_fin = t->wr_shut && !t->fin_sent, at_boundary = false;
	struct tcp_txseg s;
	uint8_t flags = WIRE_TCP_ACK;

	if (!unsent && !want_fin)
		return 0;
	if (unsent && t->snd_nxt == t->snd_una) {
		tcp_idle_restart(t, now);
		cwnd_room = t->cc.cwnd > pipe ? t->cc.cwnd - pipe : 0;
	}
	if (probe)
		cwnd_room = t->snd_mss;
	len = min32(unsent, t->snd_mss);
	if (t->ulp && len) {
		/* A segment never crosses a DSS mapping boundary: a short one there is
		 * not a Nagle case (more data follows at once). */
		uint32_t lim = t->ulp->seg_limit(t, t->snd_nxt, len);

		if (lim < len) {
			len = lim;
			at_boundary = true;
		}
	}
	len = min32(len, usable > 0 ? (uint32_t)usable : 0);
	len = min32(len, cwnd_room);
	if (unsent && !len) {
		/* Peer window closed with nothing in flight: the persist timer probes it
		 * (RFC 9293 3.8.6.1). */
		if (usable <= 0 && t->rtx_len == 0 && !t->persist_at) {
			t->persist_backoff = 0;
			t->persist_at = now + max64(t->rto, t->st->cfg.min_rto_ns);
		}
		return 0;
	}
	/* Sender SWS avoidance / Nagle (RFC 9293 3.8.6.2.1, SHLD-7): send a segment if
	 * it is full-sized, or it is all we have and nothing is in flight (or Nagle is
	 * off, or a FIN follows), or it is at least half the largest window the peer
	 * offered. */
	if (len && len < t->snd_mss && !probe && !at_boundary) {
		bool all = len == unsent;

		if (!(all && (t->st->cfg.nodelay || t->rtx_len == 0 || want_fin)) &&
		    !(len >= t->max_snd_wnd / 2 && t->max_snd_wnd > 0)) {
			/* Held back with nothing in flight: no ACK will come to open the
			 * window (the update may have been lost).  RFC 9293 3.8.6.2.1:
			 * the sender uses an override timeout; as Linux's
			 * tcp_check_probe_timer, the persist timer then sends what the
			 * window takes (tcp_write_wakeup). */
			if (t->rtx_len == 0 && !t->persist_at) {
				t->persist_backoff = 0;
				t->persist_at = now + max64(t->rto, t->st->cfg.min_rto_ns);
			}
			return 0;
		}
	}
	/* A FIN rides on the segment that carries the last byte, or goes alone; it
	 * needs neither window nor cwnd. */
	if (want_fin && len == unsent)
		flags |= WIRE_TCP_FIN;
	if (len == 0 && !(flags & WIRE_TCP_FIN))
		return 0;
	seg->seq = t->snd_nxt;
	seg->payload = payload_at(t, t->snd_nxt, len, scratch);
	seg->payload_len = len;
	if (len)
		flags |= WIRE_TCP_PSH;
	fill_common(t, now, seg, flags, len);
	memset(&s, 0, sizeof(s));
	s.seq = t->snd_nxt;
	s.len = len + ((flags & WIRE_TCP_FIN) ? 1 : 0);
	s.fin = (flags & WIRE_TCP_FIN) ? 1 : 0;
	s.sent_ns = now;
	if (rtx_push(t, &s) < 0)
		return 0; /* out of memory: nothing sent, try again later */
	if (s.fin) {
		t->fin_sent = true;
		t->fin_seq = t->snd_nxt + len;
	}
	t->snd_nxt += s.len;
	t->bytes_sent += len;
	if (!t->rto_at)
		rto_arm(t, now);
	return 1;
}

static void tlp_arm(struct tcb *t, uint64_t now)
{
	uint64_t pto;

	t->tlp_at = 0;
	if (t->st->cfg.no_tlp || !t->sack_ok || !t->rtt_valid || t->in_recovery || t->in_loss ||
	    t->tlp_out || !t->rtx_len)
		return;
	/* RFC 8985 7.2: PTO = 2 * SRTT, plus WCDelAckT when one segment is in flight,
	 * and never later than the RTO. */
	pto = 2 * t->srtt;
	if (t->rtx_len == 1)
		pto += TCP_WCDELACK_NS;
	pto = max64(pto, 10 * NS_PER_MS);
	if (t->rto_at && now + pto >= t->rto_at)
		return;
	t->tlp_at = now + pto;
}

/* <SEQ=SND.UNA-1><CTL=ACK>, no data: an old sequence number the receiver must answer
 * with its current ACK and window (Linux's tcp_xmit_probe_skb), for the zero-window
 * probe and the keep-alive alike. */
static void emit_old_seq_ack(struct tcb *t, uint64_t now, struct wire_tcp_repr *seg)
{
	seg->seq = t->snd_una - 1;
	fill_common(t, now, seg, WIRE_TCP_ACK, 0);
}

int tcp_output(struct tcb *t, uint64_t now, uint8_t *scratch, struct wire_tcp_repr *seg)
{
	uint32_t i;

	memset(seg, 0, sizeof(*seg));
	if (t->rst_pending) {
		/* Abort: RFC 9293 3.10.5 "<SEQ=SND.NXT><CTL=RST>" */
		t->rst_pending = false;
		seg->seq = t->snd_nxt;
		fill_common(t, now, seg, WIRE_TCP_RST | WIRE_TCP_ACK, 0);
		seg->window = 0;
		t->st->ctr.tcp_out_rsts++;
		return 1;
	}
	if (t->state == MPT_SYN_SENT || t->state == MPT_SYN_RECEIVED) {
		if (t->syn_pending) {
			emit_syn(t, now, seg);
			return 1;
		}
		if (t->state == MPT_SYN_SENT)
			return 0;
	}
	if (can_send_data(t)) {
		if (t->head_probe_pending) {
			/* tcp_probe_head: the earliest unacknowledged segment once more,
			 * outside cwnd, timer and backoff untouched */
			t->head_probe_pending = false;
			if (t->rtx_len && !rtx_at(t, 0)->sacked)
				return emit_retrans(t, rtx_at(t, 0), now, scratch, seg);
		}
		/* RFC 6675 NextSeg (1): the first lost, not yet retransmitted segment. */
		uint32_t pipe = tcp_pipe(t);

		for (i = 0; t->sb_dirty && i < t->rtx_len; i++) {
			struct tcp_txseg *s = rtx_at(t, i);

			if (s->sacked || !s->lost || s->retrans)
				continue;
			if (pipe && pipe + s->len > t->cc.cwnd && !t->force_rtx)
				break;
			t->force_rtx = false;
			return emit_retrans(t, s, now, scratch, seg);
		}
		if (emit_new(t, now, scratch, seg, false)) {
			if (!t->tlp_out)
				tlp_arm(t, now);
			return 1;
		}
		if (t->tlp_pending) {
			t->tlp_pending = false;
			t->tlp_out = true;
			t->st->ctr.loss_probes++;
			if (emit_new(t, now, scratch, seg, true))
				return 1;
			if (t->rtx_len) {
				struct tcp_txseg *last = rtx_at(t, t->rtx_len - 1);

				if (!last->sacked)
					return emit_retrans(t, last, now, scratch, seg);
			}
		}
		if (t->probe_pending) {
			t->probe_pending = false;
			/* A window too small for the SWS rule: one segment of what it
			 * takes (Linux's tcp_write_wakeup), which the receiver ACKs
			 * with its current window. */
			if (seq_diff(t->snd_una + t->snd_wnd, t->snd_nxt) > 0 &&
			    emit_new(t, now, scratch, seg, true)) {
				t->st->ctr.win_probe++;
				return 1;
			}
			/* Zero-window probe, as Linux's tcp_xmit_probe_skb: an old sequence
			 * number (SND.UNA - 1) with no data, which the receiver must ACK
			 * with its current window. */
			emit_old_seq_ack(t, now, seg);
			t->st->ctr.win_probe++;
			return 1;
		}
	}
	if (t->keepalive_pending) {
		t->keepalive_pending = false;
		if (is_estab_like(t->state)) {
			emit_old_seq_ack(t, now, seg);
			t->st->ctr.keepalive_probes++;
			return 1;
		}
	}
	if (t->ack_now && t->state != MPT_CLOSED && t->state != MPT_LISTEN &&
	    t->state != MPT_SYN_SENT) {
		seg->seq = t->snd_nxt;
		fill_common(t, now, seg, WIRE_TCP_ACK, 0);
		return 1;
	}
	return 0;
}

/* ---- input helpers ---- */

static void send_ack_now(struct tcb *t)
{
	t->ack_now = true;
}

/* RFC 5961 3.2 / 4.2 / 5.2: a challenge ACK, rate-limited per stack (section 7). */
static void challenge_ack(struct tcb *t, uint64_t now)
{
	if (stack_challenge_ok(t->st, now)) {
		t->st->ctr.challenge_ack++;
		send_ack_now(t);
	} else {
		t->st->ctr.ack_skipped_challenge++;
	}
}

/* `full_segs`: full-sized segments the data just placed amounts to (a segment the
 * I/O layer did not cut back from a GSO super-frame counts as several). */
static void delack_schedule(struct tcb *t, uint64_t now, uint32_t full_segs)
{
	t->segs_unacked += full_segs;
	/* RFC 9293 3.8.6.3 (SHLD-19): "an ACK SHOULD be generated for at least every
	 * second full-sized segment", and (MUST-40) the delay "MUST be less than 0.5
	 * seconds". */
	if (t->segs_unacked >= 2) {
		send_ack_now(t);
		return;
	}
	if (!t->delack_at)
		t->delack_at = now + t->st->cfg.delack_ns;
}

static void notify_readable(struct tcb *t)
{
	if (t->ulp)
		t->ulp->event(t, MPT_EV_READABLE, 0);
	else if (t->app_visible && !t->app_closed && !t->readable_ev) {
		t->readable_ev = true;
		stack_event(t->st, MPT_EV_READABLE, t->id, 0);
	}
}

/* Entering ESTABLISHED; a shutdown(WR) made during the handshake takes effect now. */
static void tcp_established(struct tcb *t)
{
	tcp_set_state(t, MPT_ESTABLISHED);
	if (t->wr_shut)
		tcp_set_state(t, MPT_FIN_WAIT_1);
}

static void enter_time_wait(struct tcb *t, uint64_t now)
{
	tcp_set_state(t, MPT_TIME_WAIT);
	t->tw_at = now + t->st->cfg.time_wait_ns;
	t->rto_at = t->tlp_at = t->persist_at = 0;
	app_event(t, MPT_EV_CLOSED, 0);
}

/* Our FIN has been acknowledged: RFC 9293 3.10.7.4 fifth check, per state. */
static void on_fin_acked(struct tcb *t, uint64_t now)
{
	switch (t->state) {
	case MPT_FIN_WAIT_1:
		tcp_set_state(t, MPT_FIN_WAIT_2);
		if (t->app_closed) /* Linux tcp_fin_timeout for orphans */
			t->tw_at = now + t->st->cfg.time_wait_ns;
		break;
	case MPT_CLOSING:
		enter_time_wait(t, now);
		break;
	case MPT_LAST_ACK:
		tcp_set_state(t, MPT_CLOSED);
		app_event(t, MPT_EV_CLOSED, 0);
		break;
	default:
		break;
	}
}

static void process_fin(struct tcb *t, uint64_t now)
{
	t->rcv_nxt++;
	t->fin_rcvd = true;
	t->rcv_fin_pending = false;
	send_ack_now(t);
	switch (t->state) {
	case MPT_SYN_RECEIVED:
	case MPT_ESTABLISHED:
		tcp_set_state(t, MPT_CLOSE_WAIT);
		break;
	case MPT_FIN_WAIT_1:
		/* FIN acked already (handled in the ACK step) would have moved us on. */
		tcp_set_state(t, MPT_CLOSING);
		break;
	case MPT_FIN_WAIT_2:
		enter_time_wait(t, now);
		break;
	case MPT_TIME_WAIT:
		t->tw_at = now + t->st->cfg.time_wait_ns;
		break;
	default:
		break;
	}
	if (!t->ulp_eof) /* DATA_FIN told it already */
		app_event(t, MPT_EV_PEER_CLOSED, 0);
	notify_readable(t);
}

void tcp_ulp_eof(struct tcb *t)
{
	if (t->ulp_eof || t->fin_rcvd)
		return;
	t->ulp_eof = true;
	app_event(t, MPT_EV_PEER_CLOSED, 0);
	notify_readable(t);
}

/* Place payload [seq, seq+n) (already trimmed to the window) in the receive buffer. */
static void place_data(struct tcb *t, uint32_t seq, const uint8_t *d, uint32_t n, uint64_t now)
{
	if (seq == t->rcv_nxt) {
		uint32_t i, before = t->rcv_nxt;
		bool had_ofo = t->n_ofo > 0;

		if (t->rcvbuf.len)
			t->st->ctr.rcv_coalesce++;
		if (t->rd_shut) {
			/* shutdown(RD): acknowledged and discarded */
		} else {
			ring_write_at(&t->rcvbuf, t->rcvbuf.len, d, n);
			t->rcvbuf.len += n;
		}
		t->rcv_nxt += n;
		/* pull in out-of-order ranges that are now contiguous */
		while (t->n_ofo && seq_le(t->ofo[0].left, t->rcv_nxt)) {
			if (seq_gt(t->ofo[0].right, t->rcv_nxt)) {
				uint32_t add = t->ofo[0].right - t->rcv_nxt;

				if (!t->rd_shut)
					t->rcvbuf.len += add;
				t->rcv_nxt += add;
			}
			for (i = 0; i + 1 < t->n_ofo; i++)
				t->ofo[i] = t->ofo[i + 1];
			t->n_ofo--;
		}
		t->bytes_received += t->rcv_nxt - before; /* with the ranges a hole joined */
		if (had_ofo)
			send_ack_now(t); /* RFC 5681 4.2: ACK at once when a hole fills */
		else
			delack_schedule(t, now, n / (t->rcv_mss - 64));
		notify_readable(t);
		return;
	}
	/* Out of order: store behind the in-order data, remember the range, and send a
	 * duplicate ACK at once (RFC 5681 4.2: "A TCP receiver SHOULD send an immediate
	 * duplicate ACK when an out-of-order segment arrives"). */
	if (t->n_ofo >= TCP_MAX_OFO - 1 || t->rd_shut) {
		t->st->ctr.ofo_drop++;
		send_ack_now(t);
		return;
	}
	ring_write_at(&t->rcvbuf, t->rcvbuf.len + (seq - t->rcv_nxt), d, n);
	ofo_insert(t, seq, seq + n);
	t->st->ctr.ofo_queue++;
	send_ack_now(t);
}

/* ---- sender side of ACK processing ---- */

static void mark_losses(struct tcb *t)
{
	uint32_t i, sacked_bytes = 0, sacked_cnt = 0;

	if (!t->sack_ok)
		return;
	/* RFC 6675 IsLost(SeqNum): "DupThresh discontiguous SACKed sequences have
	 * arrived above 'SeqNum' or more than (DupThresh - 1) * SMSS bytes with sequence
	 * numbers greater than 'SeqNum' have been SACKed". */
	for (i = t->rtx_len; i-- > 0;) {
		struct tcp_txseg *s = rtx_at(t, i);

		if (s->sacked) {
			sacked_bytes += s->len;
			sacked_cnt++;
			continue;
		}
		if (!s->lost && (sacked_cnt >= TCP_DUPTHRESH ||
				 sacked_bytes > (TCP_DUPTHRESH - 1) * t->snd_mss)) {
			s->lost = 1;
			s->retrans = 0;
			t->sb_dirty = true;
		}
	}
}

/* Every retransmission of the episode was needless (RFC 3708 2.2, D-SACK based): put
 * cwnd and ssthresh back, leave recovery, forget the loss marks (Linux's
 * tcp_try_undo_dsack / tcp_undo_cwnd_reduction). */
static void undo_reduction(struct tcb *t)
{
	t->st->ctr.dsack_undo++;
	t->cc.cwnd = max32(t->cc.cwnd, t->undo_cwnd);
	t->cc.ssthresh = max32(t->cc.ssthresh, t->undo_ssthresh);
	t->in_recovery = t->in_loss = t->rto_slow_start = false;
	t->force_rtx = false;
	t->dupacks = 0;
	for (uint32_t i = 0; i < t->rtx_len; i++) {
		struct tcp_txseg *s = rtx_at(t, i);

		if (!s->sacked)
			s->lost = s->retrans = 0;
	}
	t->undo_valid = false;
}

/* RFC 2883 4.1: the first block is a D-SACK if it lies below the cumulative ACK or
 * inside the second block.  Returns true if it was one (and accounts for it). */
static bool take_dsack(struct tcb *t, const struct wire_tcp_opts *o)
{
	uint32_t l = o->sack[0].left, r = o->sack[0].right;

	if (!o->nsack || !seq_lt(l, r))
		return false;
	if (!seq_le(r, t->snd_una) &&
	    !(o->nsack > 1 && seq_ge(l, o->sack[1].left) && seq_le(r, o->sack[1].right)))
		return false;
	t->st->ctr.dsack_recv++;
	/* a duplicate of something this episode retransmitted: that retransmission was
	 * not needed */
	if (t->undo_valid && t->undo_retrans && seq_ge(l, t->undo_marker) &&
	    seq_le(r, t->snd_nxt)) {
		t->undo_dsacks++;
		if (--t->undo_retrans == 0)
			undo_reduction(t);
	}
	return true;
}

static void process_sack(struct tcb *t, const struct wire_tcp_opts *o)
{
	uint8_t b;
	uint32_t i;

	for (b = take_dsack(t, o) ? 1 : 0; b < o->nsack; b++) {
		uint32_t l = o->sack[b].left, r = o->sack[b].right;

		/* RFC 2018 / RFC 6675: blocks must lie within (SND.UNA, SND.NXT]. */
		if (!seq_lt(l, r) || seq_gt(r, t->snd_nxt) || seq_le(r, t->snd_una)) {
			t->st->ctr.sack_discard++;
			continue;
		}
		for (i = 0; i < t->rtx_len; i++) {
			struct tcp_txseg *s = rtx_at(t, i);

			if (seq_ge(s->seq, l) && seq_le(s->seq + s->len, r)) {
				s->sacked = 1;
				t->sb_dirty = true;
			}
		}
	}
}

/* Recovery is over: D-SACKs may still come for one more flight. */
static void undo_close(struct tcb *t)
{
	if (t->undo_valid && !t->undo_closing) {
		t->undo_closing = true;
		t->undo_end = t->snd_nxt;
	}
}

/* A cwnd reduction starts (or continues) an undoable episode. */
static void undo_start(struct tcb *t)
{
	if (t->undo_valid && !t->undo_closing)
		return;
	t->undo_valid = true;
	t->undo_closing = false;
	t->undo_cwnd = t->cc.cwnd;
	t->undo_ssthresh = t->cc.ssthresh;
	t->undo_marker = t->snd_una;
	t->undo_retrans = 0;
	t->undo_dsacks = 0;
}

/* RFC 5681 2: "FLIGHT SIZE: The amount of data that has been sent but not yet
 * cumulatively acknowledged" -- what ssthresh halves on a loss (RFC 5681 (4), RFC
 * 6675 5 (4.2)).  Not the RFC 6675 pipe, which leaves out what SACK says arrived and
 * what is deemed lost, and would halve a window already short of its losses. */
static uint32_t flight_size(const struct tcb *t)
{
	return t->snd_nxt - t->snd_una;
}

static void enter_recovery(struct tcb *t, uint64_t now)
{
	undo_start(t);
	t->in_recovery = true;
	/* RFC 6675 5 (3): "RecoveryPoint = HighData" */
	t->recovery_point = t->snd_nxt;
	t->cc.flight = flight_size(t);
	hystart_end(&t->hs);
	if (t->ccops->on_congestion)
		CC_CALL(t, on_congestion, now);
	/* RFC 6675 5 (4.2): "Retransmit the first data segment presumed dropped" --
	 * at once, whatever pipe says. */
	t->force_rtx = true;
	if (t->sack_ok)
		t->st->ctr.sack_recovery++;
	else
		t->st->ctr.reno_recovery++;
	t->tlp_at = 0;
}

/* Cumulative ACK advanced to `ack`: drop acknowledged segments and data. */
static void ack_advance(struct tcb *t, uint32_t ack, const struct wire_tcp_repr *seg, uint64_t now)
{
	uint32_t acked = ack - t->snd_una, data_acked;
	uint64_t newest_sent = 0;
	bool karn = false, have = false, fin_acked = false;

	while (t->rtx_len) {
		struct tcp_txseg *s = rtx_at(t, 0);

		if (seq_le(s->seq + s->len, ack)) {
			have = true;
			newest_sent = s->sent_ns;
			karn = s->ever_retrans;
			if (s->fin)
				fin_acked = true;
			t->rtx_head = (t->rtx_head + 1) % t->rtx_cap;
			t->rtx_len--;
			t->rtx_bytes -= s->len;
			continue;
		}
		if (seq_lt(s->seq, ack)) { /* partially acknowledged */
			t->rtx_bytes -= ack - s->seq;
			s->len -= ack - s->seq;
			s->seq = ack;
		}
		break;
	}
	if (t->sb_dirty && !sb_marked(t))
		t->sb_dirty = false;
	if (t->fin_sent && seq_gt(ack, t->fin_seq))
		fin_acked = true;
	/* data bytes: [sndbuf_seq, sndbuf_seq + len) */
	data_acked = seq_gt(ack, t->sndbuf_seq) ? min32(ack - t->sndbuf_seq, t->sndbuf.len) : 0;
	if (data_acked) {
		ring_consume(&t->sndbuf, data_acked);
		t->sndbuf_seq += data_acked;
		t->bytes_acked += data_acked;
	}
	t->snd_una = ack;

	/* RTT: RFC 6298 (Karn): "RTT samples MUST NOT be made using segments that were
	 * retransmitted (and thus for which it is ambiguous whether the reply was for the
	 * first instance of the packet or a later instance)" -- unless the timestamp echo
	 * resolves the ambiguity (RFC 7323 4.1). */
	t->ack_rtt = 0;
	if (have && !karn) {
		rtt_sample(t, now - newest_sent);
	} else if (t->ts_ok && (seg->opt.present & WIRE_HAS_TS) && seg->opt.tsecr) {
		uint32_t ms = tsval_now(t, now) - seg->opt.tsecr;

		if (ms < 60000)
			rtt_sample(t, (uint64_t)ms * NS_PER_MS + NS_PER_MS / 2);
	} else if (have) {
		t->st->ctr.karn_skipped++;
	}

	t->dupacks = 0;
	t->tlp_out = false;
	/* the D-SACKs of an episode arrive within an RTT of its end */
	if (t->undo_valid && t->undo_closing && seq_ge(ack, t->undo_end))
		t->undo_valid = false;
	if (t->in_recovery) {
		if (seq_ge(ack, t->recovery_point)) {
			t->in_recovery = false;
			undo_close(t);
			if (t->ccops->on_recovery_end)
				CC_CALL(t, on_recovery_end, now);
		} else if (!t->sack_ok && t->rtx_len) {
			/* RFC 6582 3.2 (5): partial ACK: retransmit the first unacknowledged
			 * segment. */
			struct tcp_txseg *h = rtx_at(t, 0);

			if (!h->retrans) {
				h->lost = 1;
				t->sb_dirty = true;
				t->force_rtx = true;
			}
		}
	} else {
		if (t->in_loss && seq_ge(ack, t->recovery_point)) {
			t->in_loss = false;
			undo_close(t);
		}
		t->cc.flight = tcp_pipe(t);
		acked = hystart_ack(t, acked);
		if (t->ccops->on_ack && acked)
			CC_CALL(t, on_ack, acked, t->ack_rtt, now);
		if (t->rto_slow_start && !t->in_loss && t->cc.cwnd >= t->cc.ssthresh)
			t->rto_slow_start = false;
	}

	/* (5.2) "When all outstanding data has been acknowledged, turn off the
	 * retransmission timer."  (5.3) "When an ACK is received that acknowledges new
	 * data, restart the retransmission timer". */
	t->rto_at = 0;
	if (t->rtx_len)
		rto_arm(t, now);
	tlp_arm(t, now);
	if (t->ulp) {
		t->ulp->event(t, MPT_EV_WRITABLE, 0);
	} else if (t->want_writable && t->sndbuf.len < t->sndbuf.cap && t->app_visible &&
		   !t->app_closed) {
		t->want_writable = false;
		stack_event(t->st, MPT_EV_WRITABLE, t->id, 0);
	}
	if (fin_acked)
		on_fin_acked(t, now);
}

static void update_window(struct tcb *t, const struct wire_tcp_repr *seg)
{
	/* RFC 9293 3.10.7.4: "If SND.UNA =< SEG.ACK =< SND.NXT, the send window should
	 * be updated.  If (SND.WL1 < SEG.SEQ or (SND.WL1 = SEG.SEQ and SND.WL2 =<
	 * SEG.ACK)), set SND.WND <- SEG.WND, set SND.WL1 <- SEG.SEQ, and set SND.WL2 <-
	 * SEG.ACK." */
	if (seq_lt(t->snd_wl1, seg->seq) ||
	    (t->snd_wl1 == seg->seq && seq_le(t->snd_wl2, seg->ack))) {
		uint32_t w = (uint32_t)seg->window << t->snd_wscale;

		t->snd_wnd = w;
		t->snd_wl1 = seg->seq;
		t->snd_wl2 = seg->ack;
		t->max_snd_wnd = max32(t->max_snd_wnd, w);
		if (w) {
			t->persist_at = 0;
			t->persist_backoff = 0;
		}
	}
}

/* The ACK step (RFC 9293 3.10.7.4 fifth) for synchronized states.  Returns false if
 * the segment must be dropped. */
static bool process_ack(struct tcb *t, const struct wire_tcp_repr *seg, uint64_t now)
{
	uint32_t ack = seg->ack;

	/* RFC 5961 5.2: "the ACK value is considered acceptable only if it is in the
	 * range of ((SND.UNA - MAX.SND.WND) =< SEG.ACK =< SND.NXT).  All incoming
	 * segments whose ACK value doesn't satisfy the above condition MUST be discarded
	 * and an ACK sent back." */
	if (seq_gt(ack, t->snd_nxt)) {
		t->st->ctr.ack_too_new++;
		challenge_ack(t, now);
		return false;
	}
	if (seq_lt(ack, t->snd_una - t->max_snd_wnd)) {
		t->st->ctr.ack_too_old++;
		challenge_ack(t, now);
		return false;
	}
	if (seq_gt(ack, t->snd_una)) {
		update_window(t, seg);
		ack_advance(t, ack, seg, now);
	} else {
		uint32_t old_wnd = t->snd_wnd;

		update_window(t, seg);
		/* RFC 5681 2: a duplicate ACK carries no data, no SYN/FIN, acks SND.UNA
		 * with outstanding data, and (without SACK) leaves the window unchanged. */
		if (ack == t->snd_una && t->rtx_len && !seg->payload_len &&
		    !(seg->flags & (WIRE_TCP_SYN | WIRE_TCP_FIN)) &&
		    (t->sack_ok || t->snd_wnd == old_wnd))
			t->dupacks++;
	}
	if (t->sack_ok && (seg->opt.present & WIRE_HAS_SACK)) {
		process_sack(t, &seg->opt);
		mark_losses(t);
	}
	if (t->rtx_len && t->dupacks >= TCP_DUPTHRESH && !t->in_recovery) {
		struct tcp_txseg *h = rtx_at(t, 0);

		if (!h->sacked && !h->retrans) {
			h->lost = 1;
			t->sb_dirty = true;
		}
	}
	if (!t->in_recovery && !t->in_loss && t->rtx_len && t->sb_dirty) {
		uint32_t i;

		for (i = 0; i < t->rtx_len; i++)
			if (rtx_at(t, i)->lost && !rtx_at(t, i)->retrans) {
				enter_recovery(t, now);
				break;
			}
	}
	return true;
}

/* ---- SYN-SENT (RFC 9293 3.10.7.3) ---- */

static void input_syn_sent(struct tcb *t, const struct wire_ip_repr *ip,
			   const struct wire_tcp_repr *seg, uint64_t now)
{
	bool has_ack = seg->flags & WIRE_TCP_ACK;

	if (has_ack) {
		/* "If SEG.ACK =< ISS or SEG.ACK > SND.NXT, send a reset (unless the RST bit
		 * is set, if so drop the segment and return)" */
		if (seq_le(seg->ack, t->iss) || seq_gt(seg->ack, t->snd_nxt)) {
			if (!(seg->flags & WIRE_TCP_RST))
				stack_reply_rst(t->st, t->path, ip, seg);
			return;
		}
	}
	if (seg->flags & WIRE_TCP_RST) {
		/* RFC 5961 3.2 / RFC 9293: "In the SYN-SENT state (a RST received in
		 * response to an initial SYN), the RST is acceptable if the ACK field
		 * acknowledges the SYN." */
		if (has_ack) {
			t->st->ctr.rst_accepted++;
			tcp_fail(t, MPT_ECONNREFUSED);
		} else {
			t->st->ctr.rst_ignored++;
		}
		return;
	}
	if (!(seg->flags & WIRE_TCP_SYN))
		return;
	take_syn_options(t, seg, true);
	t->irs = seg->seq;
	t->rcv_nxt = seg->seq + 1;
	t->rcv_adv = t->rcv_nxt;
	t->snd_wnd = seg->window;
	t->max_snd_wnd = t->snd_wnd;
	t->snd_wl1 = seg->seq;
	t->snd_wl2 = seg->ack;
	cc_start(t, now);
	if (has_ack) {
		/* "If SND.UNA > ISS (our SYN has been ACKed), change the connection state
		 * to ESTABLISHED, form an ACK segment and send it." */
		uint64_t sent_at = t->rto_at ? t->rto_at - rto_backed_off(t) : now;

		t->snd_una = seg->ack;
		t->rto_at = 0;
		if (t->syn_retries == 0)
			rtt_sample(t, now - sent_at);
		else
			t->st->ctr.karn_skipped++;
		t->syn_retries = 0;
		t->backoff = 0;
		tcp_established(t);
		send_ack_now(t);
		app_event(t, MPT_EV_CONNECTED, 0);
		if (seg->payload_len)
			send_ack_now(t); /* data on SYN-ACK is not queued; the peer resends */
		return;
	}
	/* "Otherwise, enter SYN-RECEIVED, form a SYN,ACK segment and send it" --
	 * simultaneous open. */
	tcp_set_state(t, MPT_SYN_RECEIVED);
	t->syn_pending = true;
	t->rto_at = 0;
	t->backoff = 0;
}

/* ---- the main input path ---- */

/* Linux's tcp_disordered_ack(): a pure duplicate ACK (no data, exactly RCV.NXT,
 * acknowledging SND.UNA) that was merely reordered behind a newer segment carries
 * SACK information and cannot be an old duplicate from a previous wrap; PAWS lets it
 * through.  TS.Recent is not updated from it. */
static bool disordered_ack(const struct tcb *t, const struct wire_tcp_repr *seg)
{
	return seg->flags == WIRE_TCP_ACK && !seg->payload_len && seg->seq == t->rcv_nxt &&
	       seg->ack == t->snd_una && seq_diff(t->ts_recent, seg->opt.tsval) < 1000;
}

/* Data [seq, seq+n) arrived again, partly or wholly below RCV.NXT: report the part
 * below as a D-SACK (RFC 2883 4) in the next ACK. */
static void note_dsack(struct tcb *t, uint32_t seq, uint32_t n)
{
	uint32_t right = seq + n;

	if (!t->sack_ok || !n)
		return;
	if (seq_gt(right, t->rcv_nxt))
		right = t->rcv_nxt;
	t->dsack_left = seq;
	t->dsack_right = right;
	t->dsack_pending = true;
}

void tcp_input(struct tcb *t, const struct wire_ip_repr *ip, const struct wire_tcp_repr *seg,
	       uint64_t now)
{
	uint32_t seq = seg->seq, seglen, wnd, dlen;
	const uint8_t *data = seg->payload;
	bool fin = seg->flags & WIRE_TCP_FIN, acceptable;

	t->segs_in++;
	t->last_rcv_at = now;
	if (t->state == MPT_CLOSED)
		return;
	if (t->state == MPT_SYN_SENT) {
		input_syn_sent(t, ip, seg, now);
		return;
	}

	/* RFC 7323 3.2: "If a non-<RST> segment is received without a TSopt, a TCP
	 * SHOULD silently drop the segment." */
	if (t->ts_ok && !(seg->opt.present & WIRE_HAS_TS) && !(seg->flags & WIRE_TCP_RST) &&
	    !t->st->cfg.ts_accept_missing) {
		t->st->ctr.no_ts_drop++;
		return;
	}
	/* RFC 7323 5.3 R1 (PAWS): "If there is a Timestamps option in the arriving
	 * segment, SEG.TSval < TS.Recent, TS.Recent is valid ..., and if the RST bit is
	 * off, then treat the arriving segment as not acceptable: Send an
	 * acknowledgment in reply as specified in Section 3.10.7.4 of RFC 9293 and drop
	 * the segment." */
	if (t->ts_ok && (seg->opt.present & WIRE_HAS_TS) && !(seg->flags & WIRE_TCP_RST) &&
	    seq_lt(seg->opt.tsval, t->ts_recent) && !disordered_ack(t, seg)) {
		t->st->ctr.paws_estab++;
		send_ack_now(t);
		return;
	}

	/* First: check the sequence number (RFC 9293 3.10.7.4 table). */
	seglen = (uint32_t)seg->payload_len + ((seg->flags & WIRE_TCP_SYN) ? 1 : 0) + (fin ? 1 : 0);
	rcv_window_update(t);
	wnd = t->rcv_adv - t->rcv_nxt;
	if (seglen == 0)
		/* RFC 9293's table: "RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND".  We follow
		 * Linux instead (tcp_sequence: SEG.SEQ up to the right edge inclusive):
		 * a peer's pure ACK sent after it filled our window sits exactly at
		 * RCV.NXT+RCV.WND while a segment of it is missing; rejected, its ACK
		 * field is never read and it is answered with an ACK, and two stacks
		 * both in that state exchange ACKs forever while SND.UNA stays (issue
		 * 11).  With a zero window this is RFC 9293's SEG.SEQ = RCV.NXT. */
		acceptable = seq_ge(seq, t->rcv_nxt) && seq_le(seq, t->rcv_nxt + wnd);
	else
		acceptable = wnd != 0 && (seq_in(seq, t->rcv_nxt, t->rcv_nxt + wnd) ||
					  seq_in(seq + seglen - 1, t->rcv_nxt, t->rcv_nxt + wnd));
	if (!acceptable && wnd == 0 && seq == t->rcv_nxt && (seg->flags & WIRE_TCP_ACK) &&
	    !(seg->flags & (WIRE_TCP_RST | WIRE_TCP_SYN))) {
		/* "If the RCV.WND is zero, no segments will be acceptable, but special
		 * allowance should be made to accept valid ACKs, URGs, and RSTs." */
		t->st->ctr.zero_window_drop++;
		if (process_ack(t, seg, now))
			send_ack_now(t);
		return;
	}
	if (!acceptable) {
		/* "If an incoming segment is not acceptable, an acknowledgment should be
		 * sent in reply (unless the RST bit is set, if so drop the segment and
		 * return)" */
		if (seg->flags & WIRE_TCP_RST) {
			t->st->ctr.rst_ignored++;
		} else if (seglen == 0 && t->last_oow_ack_at &&
			   now - t->last_oow_ack_at < TCP_OOW_ACK_INTERVAL_NS) {
			/* A reply to an out-of-window pure ACK at most every 500 ms, as
			 * Linux's tcp_oow_rate_limited (net.ipv4.tcp_invalid_ratelimit):
			 * an ACK answering an ACK is how two stacks loop. */
			t->st->ctr.seq_out_of_window++;
			t->st->ctr.ack_skipped_seq++;
		} else {
			t->st->ctr.seq_out_of_window++;
			if (seg->payload_len && seq_lt(seq, t->rcv_nxt))
				note_dsack(t, seq, (uint32_t)seg->payload_len);
			if (seglen == 0)
				t->last_oow_ack_at = now ? now : 1;
			send_ack_now(t);
			/* TIME-WAIT: a retransmitted FIN restarts the 2 MSL timeout. */
			if (t->state == MPT_TIME_WAIT && fin)
				t->tw_at = now + t->st->cfg.time_wait_ns;
		}
		return;
	}

	/* Second: the RST bit (RFC 5961 3.2): "If the RST bit is set and the sequence
	 * number exactly matches the next expected sequence number (RCV.NXT), then TCP
	 * MUST reset the connection ... If the RST bit is set and the sequence number
	 * does not exactly match the next expected sequence value, yet is within the
	 * current receive window, TCP MUST send an acknowledgment (challenge ACK)". */
	if (seg->flags & WIRE_TCP_RST) {
		if (seq != t->rcv_nxt) {
			challenge_ack(t, now);
			return;
		}
		t->st->ctr.rst_accepted++;
		switch (t->state) {
		case MPT_SYN_RECEIVED:
			tcp_fail(t, t->parent ? MPT_ECONNRESET : MPT_ECONNREFUSED);
			break;
		case MPT_CLOSING:
		case MPT_LAST_ACK:
		case MPT_TIME_WAIT:
			tcp_set_state(t, MPT_CLOSED);
			break;
		default:
			tcp_fail(t, MPT_ECONNRESET);
			break;
		}
		return;
	}

	/* Fourth: the SYN bit (RFC 5961 4.2): "If the SYN bit is set, irrespective of
	 * the sequence number, TCP MUST send an ACK (also referred to as challenge ACK)
	 * to the remote peer". */
	if (seg->flags & WIRE_TCP_SYN) {
		t->st->ctr.syn_challenge++;
		challenge_ack(t, now);
		return;
	}

	/* Fifth: "if the ACK bit is off, drop the segment and return" */
	if (!(seg->flags & WIRE_TCP_ACK))
		return;

	/* RFC 7323 4.3 (2): "If SEG.TSval >= TS.Recent and SEG.SEQ =< Last.ACK.sent then
	 * SEG.TSval is copied to TS.Recent; otherwise, it is ignored." */
	if (t->ts_ok && (seg->opt.present & WIRE_HAS_TS) && seq_ge(seg->opt.tsval, t->ts_recent) &&
	    seq_le(seq, t->last_ack_sent)) {
		t->ts_recent = seg->opt.tsval;
		t->ts_recent_age = now;
	}

	if (t->state == MPT_SYN_RECEIVED) {
		/* "If SND.UNA < SEG.ACK =< SND.NXT, then enter ESTABLISHED state and
		 * continue processing ... If the segment acknowledgment is not acceptable,
		 * form a reset segment <SEQ=SEG.ACK><CTL=RST> and send it." */
		if (!(seq_lt(t->snd_una, seg->ack) && seq_le(seg->ack, t->snd_nxt))) {
			stack_reply_rst(t->st, t->path, ip, seg);
			return;
		}
		t->snd_wnd = (uint32_t)seg->window << t->snd_wscale;
		t->max_snd_wnd = max32(t->max_snd_wnd, t->snd_wnd);
		t->snd_wl1 = seq;
		t->snd_wl2 = seg->ack;
		if (t->syn_retries == 0 && t->rto_at)
			rtt_sample(t, now - (t->rto_at - rto_backed_off(t)));
		t->snd_una = seg->ack;
		t->rto_at = 0;
		t->backoff = 0;
		t->syn_retries = 0;
		tcp_established(t);
		if (t->parent)
			stack_listener_established(t->st, t);
		else if (t->ulp || t->app_visible)
			app_event(t, MPT_EV_CONNECTED, 0);
	} else if (t->state == MPT_TIME_WAIT) {
		/* "The only thing that can arrive in this state is a retransmission of the
		 * remote FIN.  Acknowledge it, and restart the 2 MSL timeout." */
		if (fin) {
			send_ack_now(t);
			t->tw_at = now + t->st->cfg.time_wait_ns;
		}
		return;
	} else if (!process_ack(t, seg, now)) {
		return;
	}
	if (t->state == MPT_CLOSED)
		return;

	/* Seventh: the segment text. */
	dlen = (uint32_t)seg->payload_len;
	if (dlen && seq_lt(seq, t->rcv_nxt)) { /* trim what we already have */
		uint32_t cut = min32(t->rcv_nxt - seq, dlen);

		note_dsack(t, seq, cut);
		data += cut;
		dlen -= cut;
		seq += cut;
	}
	if (dlen && seq_gt(seq + dlen, t->rcv_adv)) { /* trim beyond the window */
		uint32_t cut = seq + dlen - t->rcv_adv;

		cut = min32(cut, dlen);
		dlen -= cut;
		fin = false;
	}
	if (seg->payload_len) {
		switch (t->state) {
		case MPT_ESTABLISHED:
		case MPT_FIN_WAIT_1:
		case MPT_FIN_WAIT_2:
			if (t->app_closed) {
				/* RFC 9293 3.10.7.4 / RFC 2525: data for a closed socket
				 * cannot be delivered: reset (Linux: TCPAbortOnData). */
				t->st->ctr.abort_on_data++;
				t->rst_pending = true;
				tcp_set_state(t, MPT_CLOSED);
				return;
			}
			if (dlen)
				place_data(t, seq, data, dlen, now);
			else
				send_ack_now(t); /* duplicate: tell the sender where we are */
			break;
		default:
			/* CLOSE-WAIT, CLOSING, LAST-ACK: "This should not occur since a FIN
			 * has been received from the remote side.  Ignore the segment
			 * text." */
			break;
		}
	}

	/* Eighth: the FIN bit. */
	if (fin && !t->fin_rcvd) {
		uint32_t fseq = seq + dlen;

		if (fseq == t->rcv_nxt)
			process_fin(t, now);
		else if (seq_gt(fseq, t->rcv_nxt)) {
			t->rcv_fin_pending = true;
			t->rcv_fin_seq = fseq;
		}
	} else if (fin && t->fin_rcvd) {
		send_ack_now(t); /* retransmitted FIN: re-ACK */
	}
	if (t->rcv_fin_pending && !t->fin_rcvd && t->rcv_fin_seq == t->rcv_nxt)
		process_fin(t, now);
}

/* ---- timers ---- */

uint64_t tcp_next_timeout(const struct tcb *t)
{
	uint64_t n = 0;

	n = earliest(n, t->rto_at);
	n = earliest(n, t->tlp_at);
	n = earliest(n, t->delack_at);
	n = earliest(n, t->persist_at);
	n = earliest(n, t->tw_at);
	return n ? n : UINT64_MAX;
}

static void on_rto(struct tcb *t, uint64_t now)
{
	const struct mpt_config *cfg = &t->st->cfg;
	uint32_t i;

	t->rto_at = 0;
	if (t->state == MPT_SYN_SENT || t->state == MPT_SYN_RECEIVED) {
		if (++t->syn_retries > cfg->max_syn_retries) {
			tcp_fail(t, MPT_ETIMEDOUT);
			return;
		}
		t->st->ctr.timeouts++;
		t->backoff++;
		t->syn_pending = true;
		t->st->ctr.tcp_retrans_segs++;
		t->retrans_segs++;
		rto_arm(t, now);
		/* RFC 6298 5.7: if the SYN timed out, use 3 s once established -- we keep
		 * the backed-off value until a valid sample (Karn). */
		return;
	}
	if (!t->rtx_len)
		return;
	if (t->backoff >= cfg->max_retries) {
		t->st->ctr.abort_on_timeout++;
		tcp_fail(t, MPT_ETIMEDOUT);
		return;
	}
	t->st->ctr.timeouts++;
	/* RFC 6298 (5.4) retransmit the earliest unacknowledged segment, (5.5) back off,
	 * (5.6) restart the timer.  RFC 5681: ssthresh = max(FlightSize/2, 2*SMSS),
	 * cwnd = 1 SMSS.  Every un-SACKed segment is marked lost (as Linux does), which
	 * also covers lost retransmissions. */
	if (rtx_at(t, 0)->sacked) {
		/* The receiver reneged on a SACK (RFC 2018 8): forget the scoreboard. */
		t->st->ctr.sack_reneging++;
		for (i = 0; i < t->rtx_len; i++)
			rtx_at(t, i)->sacked = 0;
	}
	t->cc.flight = flight_size(t);
	hystart_end(&t->hs);
	undo_start(t);
	if (t->ccops->on_rto) {
		uint32_t ssthresh = t->cc.ssthresh;

		CC_CALL(t, on_rto, now);
		/* RFC 5681 3.1: "when a TCP sender detects segment loss using the
		 * retransmission timer and the given segment has already been
		 * retransmitted by way of the retransmission timer at least once, the
		 * value of ssthresh is held constant."  (Halved again from a flight of
		 * one segment, it would fall to 2 SMSS: a path back from a long outage
		 * would then climb in congestion avoidance from two segments.) */
		if (t->backoff > 0) {
			t->cc.ssthresh = ssthresh;
			t->st->ctr.rto_ssthresh_held++;
		}
	}
	for (i = 0; i < t->rtx_len; i++) {
		struct tcp_txseg *s = rtx_at(t, i);

		if (!s->sacked) {
			s->lost = 1;
			s->retrans = 0;
			t->sb_dirty = true;
		}
	}
	t->in_recovery = false;
	t->in_loss = true;
	t->recovery_point = t->snd_nxt;
	t->rto_slow_start = true;
	t->dupacks = 0;
	t->tlp_at = 0;
	t->tlp_out = false;
	t->backoff++;
}

void tcp_keepalive(struct tcb *t)
{
	if (is_estab_like(t->state))
		t->keepalive_pending = true;
}

void tcp_probe_head(struct tcb *t)
{
	if (t->rtx_len)
		t->head_probe_pending = true;
}

void tcp_on_timer(struct tcb *t, uint64_t now)
{
	if (t->tw_at && now >= t->tw_at) {
		t->tw_at = 0;
		if (t->state == MPT_TIME_WAIT) {
			t->st->ctr.time_waited++;
			tcp_set_state(t, MPT_CLOSED);
			return;
		}
		if (t->state == MPT_FIN_WAIT_2 && t->app_closed) {
			tcp_set_state(t, MPT_CLOSED);
			return;
		}
	}
	if (t->delack_at && now >= t->delack_at) {
		t->delack_at = 0;
		if (t->last_ack_sent != t->rcv_nxt || t->segs_unacked) {
			t->st->ctr.delayed_acks++;
			send_ack_now(t);
		}
	}
	if (t->tlp_at && now >= t->tlp_at) {
		t->tlp_at = 0;
		if (t->rtx_len && !t->in_recovery && !t->in_loss)
			t->tlp_pending = true;
	}
	if (t->rto_at && now >= t->rto_at)
		on_rto(t, now);
	if (t->persist_at && now >= t->persist_at) {
		t->persist_at = 0;
		/* a closed window, or one too small to send into with nothing in
		 * flight (emit_new's SWS rule) */
		if (unsent_bytes(t) && can_send_data(t) && (t->snd_wnd == 0 || t->rtx_len == 0)) {
			uint64_t d = max64(t->rto, t->st->cfg.min_rto_ns);
			uint32_t i;

			t->probe_pending = true;
			t->persist_backoff++;
			for (i = 0; i < t->persist_backoff && d < t->st->cfg.max_rto_ns; i++)
				d *= 2;
			t->persist_at = now + min64(d, t->st->cfg.max_rto_ns);
		}
	}
}

/* ---- application side ---- */

ptrdiff_t tcp_app_send(struct tcb *t, const uint8_t *buf, size_t len, uint64_t now)
{
	uint32_t n;

	if (t->error)
		return t->error;
	if (t->wr_shut || t->app_closed)
		return MPT_EPIPE;
	switch (t->state) {
	case MPT_SYN_SENT:
	case MPT_SYN_RECEIVED:
	case MPT_ESTABLISHED:
	case MPT_CLOSE_WAIT:
		break;
	default:
		return MPT_ENOTCONN;
	}
	n = ring_append(&t->sndbuf, buf, len);
	if (!n && len) {
		t->want_writable = true;
		return MPT_EAGAIN;
	}
	return n;
}

ptrdiff_t tcp_app_recv(struct tcb *t, uint8_t *buf, size_t len, uint64_t now)
{
	uint32_t n, before;

	if (!t->rcvbuf.len) {
		if (t->fin_rcvd || t->ulp_eof)
			return 0;
		t->readable_ev = false;
		if (t->error)
			return t->error;
		if (t->state == MPT_CLOSED)
			return MPT_ENOTCONN;
		return MPT_EAGAIN;
	}
	n = (uint32_t)(len < t->rcvbuf.len ? len : t->rcvbuf.len);
	before = t->rcv_adv - t->rcv_nxt;
	ring_read_at(&t->rcvbuf, 0, buf, n);
	ring_consume(&t->rcvbuf, n);
	if (!t->rcvbuf.len)
		t->readable_ev = false;
	/* Window update: when the window reopens from (near) zero, or grows by two
	 * segments / half the buffer, tell the sender now (RFC 9293 3.8.6.2.2). */
	rcv_window_update(t);
	if (t->state != MPT_CLOSED && t->state != MPT_TIME_WAIT) {
		uint32_t after = t->rcv_adv - t->rcv_nxt;

		if (after > before && (before < t->rcv_mss || after - before >= 2 * t->rcv_mss)) {
			if (before == 0)
				t->st->ctr.from_zero_window_adv++;
			send_ack_now(t);
		}
	}
	return n;
}

uint32_t tcp_ulp_push(struct tcb *t, const uint8_t *buf, uint32_t len)
{
	if (t->wr_shut)
		return 0; /* RFC 9293 3.10.4: no SEND after a CLOSE ("connection closing") */
	return ring_append(&t->sndbuf, buf, len);
}

uint32_t tcp_sndbuf_room(const struct tcb *t)
{
	return t->sndbuf.cap - t->sndbuf.len;
}

uint32_t tcp_unsent(const struct tcb *t)
{
	return unsent_bytes(t);
}

static void queue_fin(struct tcb *t)
{
	t->wr_shut = true;
	switch (t->state) {
	case MPT_SYN_SENT:
	case MPT_SYN_RECEIVED:
		/* RFC 9293 3.10.4 (SYN-RECEIVED): "queue for processing after entering
		 * ESTABLISHED state" -- tcp_established() moves on to FIN-WAIT-1. */
		break;
	case MPT_ESTABLISHED:
		tcp_set_state(t, MPT_FIN_WAIT_1);
		break;
	case MPT_CLOSE_WAIT:
		tcp_set_state(t, MPT_LAST_ACK);
		break;
	default:
		break;
	}
}

int tcp_app_shutdown(struct tcb *t, int how, uint64_t now)
{
	if (how < MPT_SHUT_RD || how > MPT_SHUT_RDWR)
		return MPT_EINVAL;
	if (t->state == MPT_CLOSED || t->state == MPT_LISTEN)
		return MPT_ENOTCONN;
	if (how & MPT_SHUT_RD) {
		t->rd_shut = true;
		t->rcvbuf.len = 0;
	}
	if ((how & MPT_SHUT_WR) && !t->wr_shut)
		queue_fin(t);
	return 0;
}

void tcp_app_abort(struct tcb *t, uint64_t now)
{
	t->app_closed = true;
	switch (t->state) {
	case MPT_SYN_RECEIVED:
	case MPT_ESTABLISHED:
	case MPT_FIN_WAIT_1:
	case MPT_FIN_WAIT_2:
	case MPT_CLOSE_WAIT:
		t->rst_pending = true;
		break;
	default:
		break;
	}
	if (t->state != MPT_CLOSED)
		tcp_set_state(t, MPT_CLOSED);
}

void tcp_app_close(struct tcb *t, uint64_t now)
{
	if (t->rcvbuf.len && t->state != MPT_CLOSED) {
		/* RFC 9293 3.6 / RFC 2525 2.17: closing with unread data resets. */
		t->st->ctr.abort_on_close++;
		tcp_app_abort(t, now);
		return;
	}
	t->app_closed = true;
	switch (t->state) {
	case MPT_SYN_SENT:
	case MPT_LISTEN:
		tcp_set_state(t, MPT_CLOSED);
		break;
	case MPT_SYN_RECEIVED:
	case MPT_ESTABLISHED:
	case MPT_CLOSE_WAIT:
		if (!t->wr_shut)
			queue_fin(t);
		break;
	case MPT_FIN_WAIT_2:
		t->tw_at = now + t->st->cfg.time_wait_ns;
		break;
	default:
		break;
	}
}

int tcp_poll(const struct tcb *t)
{
	int m = 0;

	if (t->rcvbuf.len || t->fin_rcvd || t->ulp_eof || t->error)
		m |= MPT_POLLIN;
	if (!t->wr_shut && t->sndbuf.len < t->sndbuf.cap &&
	    (t->state == MPT_ESTABLISHED || t->state == MPT_CLOSE_WAIT))
		m |= MPT_POLLOUT;
	if (t->fin_rcvd || t->ulp_eof || t->state == MPT_CLOSED)
		m |= MPT_POLLHUP;
	if (t->error)
		m |= MPT_POLLERR;
	return m;
}

void tcp_info(const struct tcb *t, struct mpt_conn_info *i)
{
	memset(i, 0, sizeof(*i));
	i->state = t->state;
	i->error = t->error;
	i->local = t->local;
	i->remote = t->remote;
	i->path = t->path;
	i->snd_mss = t->snd_mss;
	i->rcv_mss = t->rcv_mss;
	i->snd_wscale = t->ws_ok ? t->snd_wscale : 0xff;
	i->rcv_wscale = t->ws_ok ? t->rcv_wscale : 0xff;
	i->sack_ok = t->sack_ok;
	i->ts_ok = t->ts_ok;
	i->cwnd = t->cc.cwnd;
	i->ssthresh = t->cc.ssthresh;
	i->srtt_ns = t->srtt;
	i->rttvar_ns = t->rttvar;
	i->rto_ns = rto_backed_off(t);
	i->min_rtt_ns = t->min_rtt;
	i->snd_wnd = t->snd_wnd;
	i->rcv_wnd = t->rcv_adv - t->rcv_nxt;
	i->in_flight = tcp_pipe(t);
	i->notsent = unsent_bytes(t);
	i->bytes_sent = t->bytes_sent;
	i->bytes_acked = t->bytes_acked;
	i->bytes_received = t->bytes_received;
	i->bytes_retrans = t->bytes_retrans;
	i->segs_out = t->segs_out;
	i->segs_in = t->segs_in;
	i->retrans_segs = t->retrans_segs;
	i->rto_backoff = t->backoff;
	i->in_recovery = t->in_recovery;
	snprintf(i->cc, sizeof(i->cc), "%s", t->ccops->name);
}
