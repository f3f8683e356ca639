/* Scripted segments against one stack (smoltcp's send!/recv! style): the test plays
 * the peer, feeds crafted segments at chosen times and checks what comes out. */
#include "test.h"
#include "mpt_sim.h"
#include "tcp.h"

#define MS	 1000000ull
#define PEER_ISS 1000u
#define SYN	 WIRE_TCP_SYN
#define ACK	 WIRE_TCP_ACK
#define FIN	 WIRE_TCP_FIN
#define RST	 WIRE_TCP_RST

static struct wire_tcp_repr mk(uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win)
{
	struct wire_tcp_repr t;

	memset(&t, 0, sizeof(t));
	t.flags = flags;
	t.seq = seq;
	t.ack = ack;
	t.window = win;
	return t;
}

static uint8_t data_buf[65536];

static struct wire_tcp_repr mkdata(uint32_t seq, uint32_t ack, size_t len)
{
	struct wire_tcp_repr t = mk(ACK, seq, ack, 65535);

	for (size_t i = 0; i < len; i++)
		data_buf[i] = (uint8_t)(seq + i);
	t.payload = data_buf;
	t.payload_len = len;
	return t;
}

#define INJECT(s, seg)                            \
	do {                                      \
		struct wire_tcp_repr in_ = (seg); \
		mpt_script_inject((s), &in_);     \
	} while (0)
#define EXPECT(s, out) CHECK_EQ(mpt_script_pull((s), (out)), 1)
#define EXPECT_NONE(s)                                  \
	do {                                            \
		struct wire_tcp_repr z_;                \
		CHECK_EQ(mpt_script_pull((s), &z_), 0); \
	} while (0)

static int state_of(struct mpt_script *s, uint32_t id)
{
	struct mpt_conn_info i;

	if (mpt_conn_info(s->st, id, &i) < 0)
		return -1;
	return (int)i.state;
}

static int next_event(struct mpt_script *s, struct mpt_event *ev)
{
	return mpt_stack_poll_event(s->st, ev);
}

/* What the scripted peer offers in its SYN / SYN-ACK. */
#define P_MSS  1
#define P_WS   2
#define P_SACK 4
#define P_TS   8

static void peer_opts(struct wire_tcp_repr *t, unsigned o, uint32_t tsecr)
{
	if (o & P_MSS) {
		t->opt.present |= WIRE_HAS_MSS;
		t->opt.mss = 1460;
	}
	if (o & P_WS) {
		t->opt.present |= WIRE_HAS_WS;
		t->opt.wscale = 7;
	}
	if (o & P_SACK)
		t->opt.present |= WIRE_HAS_SACK_PERM;
	if (o & P_TS) {
		t->opt.present |= WIRE_HAS_TS;
		t->opt.tsval = 100;
		t->opt.tsecr = tsecr;
	}
}

struct est {
	struct mpt_script s;
	uint32_t id;
	uint32_t iss; /* the stack's ISS */
	struct wire_tcp_repr syn;
};

/* The stack connects from 10.0.0.1:40000 to the script at 10.0.0.2:80. */
static void establish_active(struct est *e, const struct mpt_config *cfg, unsigned opts,
			     uint16_t win)
{
	struct wire_tcp_repr t, sa;

	CHECK_EQ(mpt_script_init(&e->s, cfg, MPT_AF_INET, 40000, 80), 0);
	CHECK_EQ(mpt_connect(e->s.st, &e->s.local, &e->s.remote, e->s.now, &e->id), 0);
	EXPECT(&e->s, &e->syn);
	CHECK_EQ(e->syn.flags, SYN);
	e->iss = e->syn.seq;
	sa = mk(SYN | ACK, PEER_ISS, e->iss + 1, win);
	peer_opts(&sa, opts, e->syn.opt.tsval);
	INJECT(&e->s, sa);
	EXPECT(&e->s, &t);
	CHECK_EQ(t.flags, ACK);
	CHECK_U64_EQ(t.seq, e->iss + 1);
	CHECK_U64_EQ(t.ack, PEER_ISS + 1);
	CHECK_EQ(state_of(&e->s, e->id), MPT_ESTABLISHED);
}

/* The script connects to the stack listening on 10.0.0.1:80. */
static void establish_passive(struct est *e, const struct mpt_config *cfg, unsigned opts)
{
	struct wire_tcp_repr t, syn = mk(SYN, PEER_ISS, 0, 65535);
	struct mpt_event ev;
	uint32_t lid;

	CHECK_EQ(mpt_script_init(&e->s, cfg, MPT_AF_INET, 80, 1234), 0);
	CHECK_EQ(mpt_listen(e->s.st, &e->s.local, 4, &lid), 0);
	peer_opts(&syn, opts, 0);
	INJECT(&e->s, syn);
	EXPECT(&e->s, &e->syn);
	CHECK_EQ(e->syn.flags, SYN | ACK);
	CHECK_U64_EQ(e->syn.ack, PEER_ISS + 1);
	e->iss = e->syn.seq;
	t = mk(ACK, PEER_ISS + 1, e->iss + 1, 65535);
	if (opts & P_TS) {
		t.opt.present |= WIRE_HAS_TS;
		t.opt.tsval = 101;
		t.opt.tsecr = e->syn.opt.tsval;
	}
	INJECT(&e->s, t);
	EXPECT_NONE(&e->s);
	CHECK_EQ(next_event(&e->s, &ev), 1);
	CHECK_EQ(ev.type, MPT_EV_ACCEPTABLE);
	CHECK_EQ(ev.id, lid);
	CHECK_EQ(mpt_accept(e->s.st, lid, &e->id), 0);
	CHECK_EQ(state_of(&e->s, e->id), MPT_ESTABLISHED);
}

static struct mpt_config quiet_cfg(void)
{
	struct mpt_config c;

	mpt_config_default(&c);
	c.no_tlp = true;
	return c;
}

/* ---- handshakes and option negotiation ---- */

TEST(stack_tcp_handshake_active)
{
	struct est e;
	struct mpt_conn_info i;
	struct mpt_event ev;
	const struct mpt_counters *c;

	establish_active(&e, NULL, P_MSS | P_WS | P_SACK, 512);
	c = mpt_stack_counters(e.s.st);
	/* our SYN offered everything: MSS 1460, WS 3 (256 KiB buffer), SACK, TS */
	CHECK_EQ(e.syn.opt.present, WIRE_HAS_MSS | WIRE_HAS_WS | WIRE_HAS_SACK_PERM | WIRE_HAS_TS);
	CHECK_EQ(e.syn.opt.mss, 1460);
	CHECK_EQ(e.syn.opt.wscale, 3);
	CHECK_U64_EQ(e.syn.opt.tsecr, 0);
	CHECK_EQ(mpt_conn_info(e.s.st, e.id, &i), 0);
	CHECK(i.sack_ok);
	CHECK(!i.ts_ok); /* the peer did not echo TS */
	CHECK_EQ(i.snd_wscale, 7);
	CHECK_EQ(i.rcv_wscale, 3);
	CHECK_EQ(i.snd_mss, 1460);
	CHECK_EQ(i.snd_wnd, 512); /* the SYN-ACK window is never scaled */
	CHECK_EQ(next_event(&e.s, &ev), 1);
	CHECK_EQ(ev.type, MPT_EV_CONNECTED);
	CHECK_U64_EQ(c->tcp_active_opens, 1);
	CHECK_U64_EQ(c->tcp_curr_estab, 1);
	CHECK_U64_EQ(mpt_stack_transitions(e.s.st, MPT_CLOSED, MPT_SYN_SENT), 1);
	CHECK_U64_EQ(mpt_stack_transitions(e.s.st, MPT_SYN_SENT, MPT_ESTABLISHED), 1);
	CHECK(mpt_poll(e.s.st, e.id) & MPT_POLLOUT);
	mpt_script_free(&e.s);
}

TEST(stack_tcp_handshake_passive_mirrors_options)
{
	struct est e;
	struct mpt_conn_info i;

	establish_passive(&e, NULL, P_MSS | P_WS | P_SACK);
	/* SYN-ACK carries WS and SACK-permitted because the SYN did, and no TS */
	CHECK_EQ(e.syn.opt.present, WIRE_HAS_MSS | WIRE_HAS_WS | WIRE_HAS_SACK_PERM);
	CHECK_EQ(mpt_conn_info(e.s.st, e.id, &i), 0);
	CHECK(i.sack_ok && !i.ts_ok);
	CHECK_EQ(i.snd_wscale, 7);
	CHECK_U64_EQ(mpt_stack_counters(e.s.st)->tcp_passive_opens, 1);
	CHECK_U64_EQ(mpt_stack_transitions(e.s.st, MPT_LISTEN, MPT_SYN_RECEIVED), 1);
	CHECK_U64_EQ(mpt_stack_transitions(e.s.st, MPT_SYN_RECEIVED, MPT_ESTABLISHED), 1);
	mpt_script_free(&e.s);
}

TEST(stack_tcp_no_options_defaults)
{
	struct est e;
	struct mpt_conn_info i;
	struct wire_tcp_repr t;
	struct mpt_config cfg = quiet_cfg();
	uint8_t d[1000] = {0};

	cfg.nodelay = true;
	establish_passive(&e, &cfg, 0);
	CHECK_EQ(e.syn.opt.present, WIRE_HAS_MSS); /* only MSS, always sent */
	CHECK_EQ(mpt_conn_info(e.s.st, e.id, &i), 0);
	CHECK_EQ(i.snd_mss, 536); /* RFC 9293 3.7.1 default */
	CHECK_EQ(i.snd_wscale, 0xff);
	CHECK(!i.sack_ok && !i.ts_ok);
	CHECK_EQ(mpt_send(e.s.st, e.id, d, sizeof(d), e.s.now), 1000);
	EXPECT(&e.s, &t);
	CHECK_EQ(t.payload_len, 536);
	CHECK_EQ(t.opt.present, 0);
	EXPECT(&e.s, &t);
	CHECK_EQ(t.payload_len, 464);
	mpt_script_free(&e.s);
}

TEST(stack_tcp_timestamps_and_paws)
{
	struct est e;
	struct wire_tcp_repr t, d;
	struct mpt_conn_info i;
	struct mpt_config cfg = quiet_cfg();

	CHECK_EQ(mpt_script_init(&e.s, &cfg, MPT_AF_INET, 40000, 80), 0);
	CHECK_EQ(mpt_connect(e.s.st, &e.s.local, &e.s.remote, e.s.now, &e.id), 0);
	EXPECT(&e.s, &e.syn);
	e.iss = e.syn.seq;
	t = mk(SYN | ACK, PEER_ISS, e.iss + 1, 65535);
	peer_opts(&t, P_MSS | P_TS, e.syn.opt.tsval);
	INJECT(&e.s, t);
	EXPECT(&e.s, &t);
	CHECK(t.opt.present & WIRE_HAS_TS);
	CHECK_U64_EQ(t.opt.tsecr, 100); /* echoes the peer's TSval */
	CHECK_EQ(mpt_conn_info(e.s.st, e.id, &i), 0);
	CHECK(i.ts_ok);
	CHECK_EQ(i.snd_mss, 1460 - 12); /* TS takes 12 bytes of every segment */
	/* newer TSval accepted */
	d = mkdata(PEER_ISS + 1, e.iss + 1, 100);
	d.opt.present = WIRE_HAS_TS, d.opt.tsval = 200, d.opt.tsecr = t.opt.tsval;
	INJECT(&e.s, d);
	/* older TSval: PAWS drops it and ACKs */
	d = mkdata(PEER_ISS + 101, e.iss + 1, 100);
	d.opt.present = WIRE_HAS_TS, d.opt.tsval = 150;
	INJECT(&e.s, d);
	EXPECT(&e.s, &t);
	CHECK_U64_EQ(t.ack, PEER_ISS + 101);
	CHECK_U64_EQ(t.opt.tsecr, 200);
	CHECK_U64_EQ(mpt_stack_counters(e.s.st)->paws_estab, 1);
	/* no TS at all: silently dropped (RFC 7323 3.2) */
	d = mkdata(PEER_ISS + 101, e.iss + 1, 100);
	INJECT(&e.s, d);
	CHECK_U64_EQ(mpt_stack_counters(e.s.st)->no_ts_drop, 1);
	CHECK_EQ(mpt_conn_info(e.s.st, e.id, &i), 0);
	CHECK_U64_EQ(i.bytes_received, 100);
	mpt_script_free(&e.s);
}

/* cfg.ts_accept_missing (Linux): a segment without TSopt on a connection with
 * timestamps is taken, and TS.Recent stays. */
TEST(stack_tcp_timestamps_missing_accepted_when_asked)
{
	struct est e;
	struct wire_tcp_repr t, d;
	struct mpt_conn_info i;
	struct mpt_config cfg = quiet_cfg();

	cfg.ts_accept_missing = true;
	CHECK_EQ(mpt_script_init(&e.s, &cfg, MPT_AF_INET, 40000, 80), 0);
	CHECK_EQ(mpt_connect(e.s.st, &e.s.local, &e.s.remote, e.s.now, &e.id), 0);
	EXPECT(&e.s, &e.syn);
	e.iss = e.syn.seq;
	t = mk(SYN | ACK, PEER_ISS, e.iss + 1, 65535);
	peer_opts(&t, P_MSS | P_TS, e.syn.opt.tsval);
	INJECT(&e.s, t);
	EXPECT(&e.s, &t);
	d = mkdata(PEER_ISS + 1, e.iss + 1, 100);
	INJECT(&e.s, d);
	CHECK_U64_EQ(mpt_stack_counters(e.s.st)->no_ts_drop, 0);
	CHECK_EQ(mpt_conn_info(e.s.st, e.id, &i), 0);
	CHECK_U64_EQ(i.bytes_received, 100);
	mpt_script_advance(&e.s, 200000000ull);
	EXPECT(&e.s, &t);
	CHECK_U64_EQ(t.ack, PEER_ISS + 101);
	CHECK_U64_EQ(t.opt.tsecr, 100); /* still the SYN-ACK's TSval */
	mpt_script_free(&e.s);
}

TEST(stack_tcp_simultaneous_open)
{
	struct mpt_script s;
	struct wire_tcp_repr syn, t;
	uint32_t id;

	CHECK_EQ(mpt_script_init(&s, NULL, MPT_AF_INET, 40000, 80), 0);
	CHECK_EQ(mpt_connect(s.st, &s.local, &s.remote, s.now, &id), 0);
	EXPECT(&s, &syn);
	/* the peer's own SYN crosses ours */
	t = mk(SYN, PEER_ISS, 0, 65535);
	peer_opts(&t, P_MSS | P_WS | P_SACK, 0);
	INJECT(&s, t);
	CHECK_EQ(state_of(&s, id), MPT_SYN_RECEIVED);
	EXPECT(&s, &t);
	CHECK_EQ(t.flags, SYN | ACK);
	CHECK_U64_EQ(t.seq, syn.seq); /* same ISS */
	CHECK_U64_EQ(t.ack, PEER_ISS + 1);
	/* the peer's SYN-ACK: its SYN is old news, so it only draws an ACK */
	t = mk(SYN | ACK, PEER_ISS, syn.seq + 1, 65535);
	INJECT(&s, t);
	EXPECT(&s, &t);
	CHECK_EQ(t.flags, ACK);
	/* the peer's ACK completes it */
	INJECT(&s, mk(ACK, PEER_ISS + 1, syn.seq + 1, 65535));
	CHECK_EQ(state_of(&s, id), MPT_ESTABLISHED);
	CHECK_U64_EQ(mpt_stack_transitions(s.st, MPT_SYN_SENT, MPT_SYN_RECEIVED), 1);
	CHECK_U64_EQ(mpt_stack_transitions(s.st, MPT_SYN_RECEIVED, MPT_ESTABLISHED), 1);
	mpt_script_free(&s);
}

/* ---- closing ---- */

TEST(stack_tcp_simultaneous_close)
{
	struct est e;
	struct wire_tcp_repr fin, t;

	establish_active(&e, NULL, P_MSS | P_WS | P_SACK, 1000);
	CHECK_EQ(mpt_shutdown(e.s.st, e.id, MPT_SHUT_WR, e.s.now), 0);
	CHECK_EQ(state_of(&e.s, e.id), MPT_FIN_WAIT_1);
	EXPECT(&e.s, &fin);
	CHECK_EQ(fin.flags, FIN | ACK);
	CHECK_U64_EQ(fin.seq, e.iss + 1);
	/* the peer's FIN, not acknowledging ours */
	INJECT(&e.s, mk(FIN | ACK, PEER_ISS + 1, e.iss + 1, 1000));
	CHECK_EQ(state_of(&e.s, e.id), MPT_CLOSING);
	EXPECT(&e.s, &t);
	CHECK_U64_EQ(t.ack, PEER_ISS + 2);
	INJECT(&e.s, mk(ACK, PEER_ISS + 2, e.iss + 2, 1000));
	CHECK_EQ(state_of(&e.s, e.id), MPT_TIME_WAIT);
	CHECK_U64_EQ(mpt_stack_transitions(e.s.st, MPT_FIN_WAIT_1, MPT_CLOSING), 1);
	CHECK_U64_EQ(mpt_stack_transitions(e.s.st, MPT_CLOSING, MPT_TIME_WAIT), 1);
	mpt_script_free(&e.s);
}

TEST(stack_tcp_time_wait)
{
	struct est e;
	struct wire_tcp_repr fin, t;
	struct mpt_event ev;
	bool closed = false;

	establish_passive(&e, NULL, P_MSS | P_WS | P_SACK);
	CHECK_EQ(mpt_shutdown(e.s.st, e.id, MPT_SHUT_WR, e.s.now), 0);
	EXPECT(&e.s, &fin);
	CHECK(fin.flags & FIN);
	INJECT(&e.s, mk(ACK, PEER_ISS + 1, fin.seq + 1, 1000));
	CHECK_EQ(state_of(&e.s, e.id), MPT_FIN_WAIT_2);
	INJECT(&e.s, mk(FIN | ACK, PEER_ISS + 1, fin.seq + 1, 1000));
	CHECK_EQ(state_of(&e.s, e.id), MPT_TIME_WAIT);
	EXPECT(&e.s, &t);
	CHECK_U64_EQ(t.ack, PEER_ISS + 2);
	while (next_event(&e.s, &ev))
		closed |= ev.type == MPT_EV_CLOSED;
	CHECK(closed);
	CHECK_EQ(mpt_recv(e.s.st, e.id, data_buf, 10, e.s.now), 0); /* EOF */
	/* a retransmitted FIN is re-acknowledged and restarts 2 MSL */
	mpt_script_advance(&e.s, 30000 * MS);
	INJECT(&e.s, mk(FIN | ACK, PEER_ISS + 1, fin.seq + 1, 1000));
	EXPECT(&e.s, &t);
	CHECK_U64_EQ(t.ack, PEER_ISS + 2);
	mpt_script_advance(&e.s, 59000 * MS);
	CHECK_EQ(state_of(&e.s, e.id), MPT_TIME_WAIT);
	mpt_script_advance(&e.s, 1001 * MS);
	CHECK_EQ(state_of(&e.s, e.id), MPT_CLOSED);
	CHECK_U64_EQ(mpt_stack_counters(e.s.st)->time_waited, 1);
	CHECK_EQ(mpt_close(e.s.st, e.id, e.s.now), 0);
	CHECK_EQ(mpt_poll(e.s.st, e.id), MPT_ENOENT);
	mpt_script_free(&e.s);
}

TEST(stack_tcp_passive_close_last_ack)
{
	struct est e;
	struct wire_tcp_repr t;

	establish_passive(&e, NULL, P_MSS);
	INJECT(&e.s, mk(FIN | ACK, PEER_ISS + 1, e.iss + 1, 1000));
	CHECK_EQ(state_of(&e.s, e.id), MPT_CLOSE_WAIT);
	EXPECT(&e.s, &t);
	CHECK_U64_EQ(t.ack, PEER_ISS + 2);
	CHECK(mpt_poll(e.s.st, e.id) & MPT_POLLHUP);
	CHECK_EQ(mpt_recv(e.s.st, e.id, data_buf, 10, e.s.now), 0);
	CHECK_EQ(mpt_shutdown(e.s.st, e.id, MPT_SHUT_WR, e.s.now), 0);
	CHECK_EQ(state_of(&e.s, e.id), MPT_LAST_ACK);
	EXPECT(&e.s, &t);
	CHECK(t.flags & FIN);
	INJECT(&e.s, mk(ACK, PEER_ISS + 2, t.seq + 1, 1000));
	CHECK_EQ(state_of(&e.s, e.id), MPT_CLOSED);
	CHECK_U64_EQ(mpt_stack_counters(e.s.st)->tcp_curr_estab, 0);
	mpt_script_free(&e.s);
}

/* ---- RST handling (RFC 9293 3.10.7 + RFC 5961) ---- */

TEST(stack_tcp_rst_syn_sent)
{
	struct mpt_script s;
	struct wire_tcp_repr syn, t;
	struct mpt_event ev;
	uint32_t id;

	CHECK_EQ(mpt_script_init(&s, NULL, MPT_AF_INET, 40000, 80), 0);
	CHECK_EQ(mpt_connect(s.st, &s.local, &s.remote, s.now, &id), 0);
	EXPECT(&s, &syn);
	/* RST without ACK: not acceptable in SYN-SENT */
	INJECT(&s, mk(RST, 0, 0, 0));
	CHECK_EQ(state_of(&s, id), MPT_SYN_SENT);
	/* RST with an ACK that does not cover our SYN: dropped, no reply */
	INJECT(&s, mk(RST | ACK, 0, syn.seq + 5, 0));
	CHECK_EQ(state_of(&s, id), MPT_SYN_SENT);
	EXPECT_NONE(&s);
	/* a bad ACK without RST draws a RST <SEQ=SEG.ACK> */
	INJECT(&s, mk(ACK, 7, syn.seq + 5, 0));
	EXPECT(&s, &t);
	CHECK_EQ(t.flags, RST);
	CHECK_U64_EQ(t.seq, syn.seq + 5);
	/* the real refusal */
	INJECT(&s, mk(RST | ACK, 0, syn.seq + 1, 0));
	CHECK_EQ(state_of(&s, id), MPT_CLOSED);
	CHECK_EQ(next_event(&s, &ev), 1);
	CHECK_EQ(ev.type, MPT_EV_ERROR);
	CHECK_EQ(ev.err, MPT_ECONNREFUSED);
	CHECK_EQ(mpt_recv(s.st, id, data_buf, 1, s.now), MPT_ECONNREFUSED);
	CHECK_U64_EQ(mpt_stack_counters(s.st)->tcp_attempt_fails, 1);
	mpt_script_free(&s);
}

TEST(stack_tcp_rst_established_rfc5961)
{
	struct est e;
	struct wire_tcp_repr t;
	struct mpt_event ev;
	const struct mpt_counters *c;

	establish_active(&e, NULL, P_MSS | P_WS | P_SACK, 1000);
	c = mpt_stack_counters(e.s.st);
	next_event(&e.s, &ev);
	/* in the window but not RCV.NXT: challenge ACK */
	INJECT(&e.s, mk(RST, PEER_ISS + 1 + 100, 0, 0));
	CHECK_EQ(state_of(&e.s, e.id), MPT_ESTABLISHED);
	EXPECT(&e.s, &t);
	CHECK_EQ(t.flags, ACK);
	CHECK_U64_EQ(t.seq, e.iss + 1);
	CHECK_U64_EQ(t.ack, PEER_ISS + 1);
	CHECK_U64_EQ(c->challenge_ack, 1);
	/* outside the window: ignored, no reply */
	INJECT(&e.s, mk(RST, PEER_ISS + 1 + 1000000, 0, 0));
	EXPECT_NONE(&e.s);
	CHECK_U64_EQ(c->rst_ignored, 1);
	/* a SYN in a synchronized state: challenge ACK */
	INJECT(&e.s, mk(SYN, 5555, 0, 1000));
	EXPECT(&e.s, &t);
	CHECK_EQ(t.flags, ACK);
	CHECK_U64_EQ(c->syn_challenge, 1);
	CHECK_EQ(state_of(&e.s, e.id), MPT_ESTABLISHED);
	/* an ACK for data never sent: ACK back, drop */
	INJECT(&e.s, mk(ACK, PEER_ISS + 1, e.iss + 1 + 5000, 1000));
	EXPECT(&e.s, &t);
	CHECK_U64_EQ(c->ack_too_new, 1);
	/* exactly RCV.NXT: reset */
	INJECT(&e.s, mk(RST, PEER_ISS + 1, 0, 0));
	CHECK_EQ(state_of(&e.s, e.id), MPT_CLOSED);
	CHECK_EQ(next_event(&e.s, &ev), 1);
	CHECK_EQ(ev.type, MPT_EV_ERROR);
	CHECK_EQ(ev.err, MPT_ECONNRESET);
	CHECK_U64_EQ(c->tcp_estab_resets, 1);
	CHECK_EQ(mpt_send(e.s.st, e.id, "x", 1, e.s.now), MPT_ECONNRESET);
	CHECK(mpt_poll(e.s.st, e.id) & MPT_POLLERR);
	mpt_script_free(&e.s);
}

TEST(stack_tcp_rst_other_states)
{
	struct est e;
	struct wire_tcp_repr t;
	struct mpt_script s;
	uint32_t lid;

	/* SYN-RECEIVED (passive): the embryonic connection goes away */
	CHECK_EQ(mpt_script_init(&s, NULL, MPT_AF_INET, 80, 1234), 0);
	CHECK_EQ(mpt_listen(s.st, &s.local, 4, &lid), 0);
	INJECT(&s, mk(SYN, PEER_ISS, 0, 1000));
	EXPECT(&s, &t);
	INJECT(&s, mk(RST, PEER_ISS + 1, 0, 0));
	CHECK_U64_EQ(mpt_stack_transitions(s.st, MPT_SYN_RECEIVED, MPT_CLOSED), 1);
	CHECK_U64_EQ(mpt_stack_counters(s.st)->tcp_attempt_fails, 1);
	/* its ACK now meets the listener: RST <SEQ=SEG.ACK> */
	INJECT(&s, mk(ACK, PEER_ISS + 1, t.seq + 1, 1000));
	EXPECT(&s, &t);
	CHECK_EQ(t.flags, RST);
	CHECK_EQ(mpt_accept(s.st, lid, &lid), MPT_EAGAIN);
	mpt_script_free(&s);

	/* CLOSE-WAIT */
	establish_passive(&e, NULL, P_MSS);
	INJECT(&e.s, mk(FIN | ACK, PEER_ISS + 1, e.iss + 1, 1000));
	EXPECT(&e.s, &t);
	INJECT(&e.s, mk(RST, PEER_ISS + 2, 0, 0));
	CHECK_EQ(state_of(&e.s, e.id), MPT_CLOSED);
	mpt_script_free(&e.s);

	/* FIN-WAIT-2 */
	establish_passive(&e, NULL, P_MSS);
	mpt_shutdown(e.s.st, e.id, MPT_SHUT_WR, e.s.now);
	EXPECT(&e.s, &t);
	INJECT(&e.s, mk(ACK, PEER_ISS + 1, t.seq + 1, 1000));
	CHECK_EQ(state_of(&e.s, e.id), MPT_FIN_WAIT_2);
	INJECT(&e.s, mk(RST, PEER_ISS + 5, 0, 0)); /* in window: challenge */
	EXPECT(&e.s, &t);
	CHECK_EQ(state_of(&e.s, e.id), MPT_FIN_WAIT_2);
	INJECT(&e.s, mk(RST, PEER_ISS + 1, 0, 0));
	CHECK_EQ(state_of(&e.s, e.id), MPT_CLOSED);
	mpt_script_free(&e.s);

	/* TIME-WAIT */
	establish_passive(&e, NULL, P_MSS);
	mpt_shutdown(e.s.st, e.id, MPT_SHUT_WR, e.s.now);
	EXPECT(&e.s, &t);
	INJECT(&e.s, mk(FIN | ACK, PEER_ISS + 1, t.seq + 1, 1000));
	CHECK_EQ(state_of(&e.s, e.id), MPT_TIME_WAIT);
	INJECT(&e.s, mk(RST, PEER_ISS + 2, 0, 0));
	CHECK_EQ(state_of(&e.s, e.id), MPT_CLOSED);
	CHECK_U64_EQ(mpt_stack_transitions(e.s.st, MPT_TIME_WAIT, MPT_CLOSED), 1);
	mpt_script_free(&e.s);
}

TEST(stack_tcp_challenge_ack_rate_limit)
{
	struct est e;
	struct mpt_config cfg = quiet_cfg();
	int i, acks = 0;

	cfg.challenge_ack_limit = 2;
	establish_active(&e, &cfg, P_MSS, 1000);
	for (i = 0; i < 5; i++) {
		struct wire_tcp_repr t;

		INJECT(&e.s, mk(RST, PEER_ISS + 10 + (uint32_t)i, 0, 0));
		acks += mpt_script_pull(&e.s, &t);
	}
	CHECK_EQ(acks, 2);
	CHECK_U64_EQ(mpt_stack_counters(e.s.st)->ack_skipped_challenge, 3);
	mpt_script_advance(&e.s, 1001 * MS); /* a new second */
	INJECT(&e.s, mk(RST, PEER_ISS + 10, 0, 0));
	{
		struct wire_tcp_repr t;

		EXPECT(&e.s, &t); /* a new one-second budget */
	}
	mpt_script_free(&e.s);
}

TEST(stack_tcp_listener_answers_ack_with_rst)
{
	struct mpt_script s;
	struct wire_tcp_repr t;
	uint32_t lid;

	CHECK_EQ(mpt_script_init(&s, NULL, MPT_AF_INET, 80, 1234), 0);
	CHECK_EQ(mpt_listen(s.st, &s.local, 4, &lid), 0);
	INJECT(&s, mk(ACK, 5, 777, 1000));
	EXPECT(&s, &t);
	CHECK_EQ(t.flags, RST);
	CHECK_U64_EQ(t.seq, 777);
	INJECT(&s, mk(RST, 5, 0, 0)); /* never answered */
	EXPECT_NONE(&s);
	CHECK_U64_EQ(mpt_stack_counters(s.st)->tcp_out_rsts, 1);
	mpt_script_free(&s);
}

TEST(stack_tcp_close_with_unread_data_resets)
{
	struct est e;
	struct wire_tcp_repr t;

	establish_passive(&e, NULL, P_MSS);
	INJECT(&e.s, mkdata(PEER_ISS + 1, e.iss + 1, 100));
	CHECK_EQ(mpt_close(e.s.st, e.id, e.s.now), 0);
	EXPECT(&e.s, &t);
	CHECK(t.flags & RST);
	CHECK_U64_EQ(t.seq, e.iss + 1);
	CHECK_U64_EQ(mpt_stack_counters(e.s.st)->abort_on_close, 1);
	CHECK_U64_EQ(mpt_stack_counters(e.s.st)->tcp_out_rsts, 1);
	mpt_script_free(&e.s);
}

TEST(stack_tcp_data_after_close_resets)
{
	struct est e;
	struct wire_tcp_repr t;

	establish_passive(&e, NULL, P_MSS);
	CHECK_EQ(mpt_close(e.s.st, e.id, e.s.now), 0);
	EXPECT(&e.s, &t);
	CHECK(t.flags & FIN);
	INJECT(&e.s, mkdata(PEER_ISS + 1, t.seq + 1, 100));
	EXPECT(&e.s, &t);
	CHECK(t.flags & RST);
	CHECK_U64_EQ(mpt_stack_counters(e.s.st)->abort_on_data, 1);
	mpt_script_free(&e.s);
}

/* ---- windows, ACK policy ---- */

TEST(stack_tcp_zero_window_probes)
{
	struct est e;
	struct wire_tcp_repr t;
	struct mpt_config cfg = quiet_cfg();
	uint8_t d[1000] = {0};
	uint64_t t0, gap1, gap2;

	establish_active(&e, &cfg, P_MSS | P_WS | P_SACK, 0);
	CHECK_EQ(mpt_send(e.s.st, e.id, d, sizeof(d), e.s.now), 1000);
	EXPECT_NONE(&e.s); /* window closed */
	t0 = e.s.now;
	gap1 = mpt_stack_next_timeout(e.s.st) - t0;
	CHECK_U64_EQ(gap1, 200 * MS);
	mpt_script_advance(&e.s, gap1);
	EXPECT(&e.s, &t);
	CHECK_EQ(t.flags, ACK);
	CHECK_EQ(t.payload_len, 0);
	CHECK_U64_EQ(t.seq, e.iss); /* SND.UNA - 1 */
	gap2 = mpt_stack_next_timeout(e.s.st) - e.s.now;
	CHECK_U64_EQ(gap2, 2 * gap1); /* probes back off */
	mpt_script_advance(&e.s, gap2);
	EXPECT(&e.s, &t);
	CHECK_U64_EQ(mpt_stack_counters(e.s.st)->win_probe, 2);
	/* the window opens (100 << 7 bytes) */
	INJECT(&e.s, mk(ACK, PEER_ISS + 1, e.iss + 1, 100));
	EXPECT(&e.s, &t);
	CHECK_EQ(t.payload_len, 1000);
	CHECK_U64_EQ(t.seq, e.iss + 1);
	mpt_script_free(&e.s);
}

TEST(stack_tcp_receiver_zero_window)
{
	struct est e;
	struct wire_tcp_repr t;
	struct mpt_config cfg = quiet_cfg();
	uint8_t buf[8192];

	cfg.rcvbuf = 4096;
	establish_passive(&e, &cfg, P_MSS);
	CHECK_EQ(e.syn.window, 4096);
	INJECT(&e.s, mkdata(PEER_ISS + 1, e.iss + 1, 1460));
	INJECT(&e.s, mkdata(PEER_ISS + 1 + 1460, e.iss + 1, 1460));
	EXPECT(&e.s, &t); /* every second full segment is ACKed at once */
	CHECK_U64_EQ(t.ack, PEER_ISS + 1 + 2920);
	CHECK_EQ(t.window, 4096 - 2920);
	INJECT(&e.s, mkdata(PEER_ISS + 1 + 2920, e.iss + 1, 1176));
	EXPECT_NONE(&e.s);
	mpt_script_advance(&e.s, 40 * MS);
	EXPECT(&e.s, &t);
	CHECK_EQ(t.window, 0);
	CHECK_U64_EQ(mpt_stack_counters(e.s.st)->to_zero_window_adv, 1);
	CHECK_U64_EQ(mpt_stack_counters(e.s.st)->delayed_acks, 1);
	/* more data into a zero window: dropped, ACKed */
	INJECT(&e.s, mkdata(PEER_ISS + 1 + 4096, e.iss + 1, 100));
	EXPECT(&e.s, &t);
	CHECK_U64_EQ(t.ack, PEER_ISS + 1 + 4096);
	CHECK_EQ(t.window, 0);
	CHECK_U64_EQ(mpt_stack_counters(e.s.st)->zero_window_drop, 1);
	/* a probe (old sequence number) is answered with the window */
	INJECT(&e.s, mk(ACK, PEER_ISS + 4096, e.iss + 1, 1000));
	EXPECT(&e.s, &t);
	CHECK_EQ(t.window, 0);
	/* the app reads: window update */
	CHECK_EQ(mpt_recv(e.s.st, e.id, buf, sizeof(buf), e.s.now), 4096);
	EXPECT(&e.s, &t);
	CHECK_EQ(t.window, 4096);
	CHECK_U64_EQ(mpt_stack_counters(e.s.st)->from_zero_window_adv, 1);
	mpt_script_free(&e.s);
}

TEST(stack_tcp_delayed_ack)
{
	struct est e;
	struct wire_tcp_repr t;

	establish_passive(&e, NULL, P_MSS);
	INJECT(&e.s, mkdata(PEER_ISS + 1, e.iss + 1, 1460));
	EXPECT_NONE(&e.s);
	CHECK_U64_EQ(mpt_stack_next_timeout(e.s.st), e.s.now + 40 * MS);
	mpt_script_advance(&e.s, 40 * MS);
	EXPECT(&e.s, &t);
	CHECK_U64_EQ(t.ack, PEER_ISS + 1461);
	INJECT(&e.s, mkdata(PEER_ISS + 1461, e.iss + 1, 1460));
	EXPECT_NONE(&e.s);
	INJECT(&e.s, mkdata(PEER_ISS + 1461 + 1460, e.iss + 1, 1460));
	EXPECT(&e.s, &t);
	CHECK_U64_EQ(t.ack, PEER_ISS + 1 + 3 * 1460);
	mpt_script_free(&e.s);
}

TEST(stack_tcp_out_of_order_sack_blocks)
{
	struct est e;
	struct wire_tcp_repr t;
	uint8_t buf[8192];
	uint32_t b = PEER_ISS + 1;
	size_t i;

	establish_passive(&e, NULL, P_MSS | P_SACK);
	INJECT(&e.s, mkdata(b + 1000, e.iss + 1, 500)); /* [1000,1500) */
	EXPECT(&e.s, &t);				/* immediate duplicate ACK */
	CHECK_U64_EQ(t.ack, b);
	CHECK_EQ(t.opt.nsack, 1);
	CHECK_U64_EQ(t.opt.sack[0].left, b + 1000);
	CHECK_U64_EQ(t.opt.sack[0].right, b + 1500);
	INJECT(&e.s, mkdata(b + 2000, e.iss + 1, 500)); /* [2000,2500) */
	EXPECT(&e.s, &t);
	CHECK_EQ(t.opt.nsack, 2);
	CHECK_U64_EQ(t.opt.sack[0].left, b + 2000); /* most recent first */
	CHECK_U64_EQ(t.opt.sack[1].left, b + 1000);
	INJECT(&e.s, mkdata(b + 1500, e.iss + 1, 500)); /* joins both */
	EXPECT(&e.s, &t);
	CHECK_EQ(t.opt.nsack, 1);
	CHECK_U64_EQ(t.opt.sack[0].left, b + 1000);
	CHECK_U64_EQ(t.opt.sack[0].right, b + 2500);
	INJECT(&e.s, mkdata(b, e.iss + 1, 1000)); /* fills the hole */
	EXPECT(&e.s, &t);
	CHECK_U64_EQ(t.ack, b + 2500);
	CHECK_EQ(t.opt.nsack, 0);
	CHECK_EQ(mpt_recv(e.s.st, e.id, buf, sizeof(buf), e.s.now), 2500);
	for (i = 0; i < 2500; i++)
		CHECK_EQ(buf[i], (uint8_t)(b + i));
	CHECK_U64_EQ(mpt_stack_counters(e.s.st)->ofo_queue, 3);
	mpt_script_free(&e.s);
}

/* ---- retransmission ---- */

TEST(stack_tcp_rto_backoff_and_karn)
{
	struct est e;
	struct wire_tcp_repr t, d;
	struct mpt_conn_info i;
	struct mpt_config cfg = quiet_cfg();
	const struct mpt_counters *c;
	uint64_t samples;

	cfg.no_timestamps = true;
	establish_active(&e, &cfg, P_MSS | P_WS | P_SACK, 1000);
	c = mpt_stack_counters(e.s.st);
	samples = c->rtt_samples;
	CHECK_EQ(mpt_send(e.s.st, e.id, "hello", 5, e.s.now), 5);
	EXPECT(&e.s, &d);
	CHECK_EQ(d.payload_len, 5);
	CHECK_U64_EQ(mpt_stack_next_timeout(e.s.st) - e.s.now, 200 * MS);
	mpt_script_advance(&e.s, 200 * MS);
	EXPECT(&e.s, &t);
	CHECK_U64_EQ(t.seq, d.seq); /* the same segment again */
	CHECK_EQ(t.payload_len, 5);
	CHECK_U64_EQ(mpt_stack_next_timeout(e.s.st) - e.s.now, 400 * MS); /* doubled */
	mpt_script_advance(&e.s, 400 * MS);
	EXPECT(&e.s, &t);
	CHECK_U64_EQ(mpt_stack_next_timeout(e.s.st) - e.s.now, 800 * MS);
	CHECK_EQ(mpt_conn_info(e.s.st, e.id, &i), 0);
	CHECK_EQ(i.rto_backoff, 2);
	CHECK_U64_EQ(c->timeouts, 2);
	CHECK_U64_EQ(c->tcp_retrans_segs, 2);
	/* the ACK of a retransmitted segment gives no RTT sample (Karn), and the
	 * backed-off RTO stays */
	mpt_script_advance(&e.s, 50 * MS);
	INJECT(&e.s, mk(ACK, PEER_ISS + 1, d.seq + 5, 1000));
	CHECK_U64_EQ(c->rtt_samples, samples);
	CHECK_U64_EQ(c->karn_skipped, 1);
	CHECK_EQ(mpt_conn_info(e.s.st, e.id, &i), 0);
	CHECK_U64_EQ(i.rto_ns, 800 * MS);
	/* a fresh segment acknowledged after 30 ms is a valid sample: RTO recomputed */
	CHECK_EQ(mpt_send(e.s.st, e.id, "again", 5, e.s.now), 5);
	EXPECT(&e.s, &d);
	mpt_script_advance(&e.s, 30 * MS);
	INJECT(&e.s, mk(ACK, PEER_ISS + 1, d.seq + 5, 1000));
	CHECK_U64_EQ(c->rtt_samples, samples + 1);
	CHECK_EQ(mpt_conn_info(e.s.st, e.id, &i), 0);
	CHECK_EQ(i.rto_backoff, 0);
	CHECK_U64_EQ(i.rto_ns, 200 * MS); /* clamped to min_rto */
	CHECK(i.srtt_ns > 0 && i.srtt_ns < 30 * MS);
	mpt_script_free(&e.s);
}

TEST(stack_tcp_syn_retries_then_timeout)
{
	struct mpt_script s;
	struct mpt_config cfg = quiet_cfg();
	struct wire_tcp_repr t;
	struct mpt_event ev;
	uint32_t id;

	cfg.max_syn_retries = 2;
	CHECK_EQ(mpt_script_init(&s, &cfg, MPT_AF_INET, 40000, 80), 0);
	CHECK_EQ(mpt_connect(s.st, &s.local, &s.remote, s.now, &id), 0);
	EXPECT(&s, &t);
	mpt_script_advance(&s, 1000 * MS);
	EXPECT(&s, &t);
	CHECK_EQ(t.flags, SYN);
	mpt_script_advance(&s, 2000 * MS);
	EXPECT(&s, &t);
	CHECK_EQ(t.flags, SYN);
	mpt_script_advance(&s, 4000 * MS);
	EXPECT_NONE(&s);
	CHECK_EQ(state_of(&s, id), MPT_CLOSED);
	CHECK_EQ(next_event(&s, &ev), 1);
	CHECK_EQ(ev.err, MPT_ETIMEDOUT);
	mpt_script_free(&s);
}

/* Ten segments in flight, the second lost: after three SACKed segments above it,
 * SACK recovery retransmits exactly that one. */
TEST(stack_tcp_sack_recovery_retransmits_only_holes)
{
	struct est e;
	struct wire_tcp_repr seg[10], t, a;
	struct mpt_config cfg = quiet_cfg();
	const struct mpt_counters *c;
	uint8_t d[10 * 1460] = {0};
	uint32_t i, base;

	cfg.no_timestamps = true;
	establish_active(&e, &cfg, P_MSS | P_WS | P_SACK, 65535);
	c = mpt_stack_counters(e.s.st);
	CHECK_EQ(mpt_send(e.s.st, e.id, d, sizeof(d), e.s.now), (ptrdiff_t)sizeof(d));
	for (i = 0; i < 10; i++) {
		EXPECT(&e.s, &seg[i]);
		CHECK_EQ(seg[i].payload_len, 1460);
	}
	EXPECT_NONE(&e.s); /* initial window: 10 segments */
	base = seg[0].seq;
	mpt_script_advance(&e.s, 20 * MS);
	INJECT(&e.s, mk(ACK, PEER_ISS + 1, base + 1460, 1000)); /* seg 0 arrives */
	EXPECT_NONE(&e.s);					/* nothing new to send */
	for (i = 3; i <= 5; i++) { /* segs 2.. are SACKed, seg 1 is missing */
		a = mk(ACK, PEER_ISS + 1, base + 1460, 1000);
		a.opt.present = WIRE_HAS_SACK;
		a.opt.nsack = 1;
		a.opt.sack[0].left = base + 2 * 1460;
		a.opt.sack[0].right = base + i * 1460;
		INJECT(&e.s, a);
		if (i < 5)
			CHECK_U64_EQ(c->sack_recovery, 0);
	}
	CHECK_U64_EQ(c->sack_recovery, 1);
	/* NewReno (the default): ssthresh = FlightSize / 2 (RFC 5681 (4), RFC 6675 5
	 * (4.2)); FlightSize is the 9 segments sent and not cumulatively acknowledged,
	 * not the pipe (9 less 3 SACKed less 1 lost) */
	{
		struct mpt_conn_info ci;

		CHECK_EQ(mpt_conn_info(e.s.st, e.id, &ci), 0);
		CHECK_EQ(ci.ssthresh, 9 * 1460 / 2);
	}
	EXPECT(&e.s, &t);
	CHECK_U64_EQ(t.seq, base + 1460); /* the hole, and only the hole */
	CHECK_EQ(t.payload_len, 1460);
	EXPECT_NONE(&e.s);
	/* the rest arrives; then the retransmission fills the hole */
	a.opt.sack[0].right = base + 10 * 1460;
	INJECT(&e.s, a);
	EXPECT_NONE(&e.s);
	INJECT(&e.s, mk(ACK, PEER_ISS + 1, base + 10 * 1460, 1000));
	CHECK_U64_EQ(c->tcp_retrans_segs, 1);
	CHECK_U64_EQ(c->fast_retrans, 1);
	CHECK_U64_EQ(c->timeouts, 0);
	mpt_script_free(&e.s);
}

TEST(stack_tcp_sack_recovery_two_holes)
{
	struct est e;
	struct wire_tcp_repr seg, t, a;
	struct mpt_config cfg = quiet_cfg();
	uint8_t d[10 * 1460] = {0};
	uint32_t i, base = 0;

	cfg.no_timestamps = true;
	establish_active(&e, &cfg, P_MSS | P_WS | P_SACK, 65535);
	CHECK_EQ(mpt_send(e.s.st, e.id, d, sizeof(d), e.s.now), (ptrdiff_t)sizeof(d));
	for (i = 0; i < 10; i++) {
		EXPECT(&e.s, &seg);
		if (!i)
			base = seg.seq;
	}
	mpt_script_advance(&e.s, 20 * MS);
	/* segs 1 and 5 lost: ACK 1, SACK [2,5) and [6,10) */
	a = mk(ACK, PEER_ISS + 1, base + 1460, 1000);
	a.opt.present = WIRE_HAS_SACK;
	a.opt.nsack = 2;
	a.opt.sack[0].left = base + 6 * 1460, a.opt.sack[0].right = base + 10 * 1460;
	a.opt.sack[1].left = base + 2 * 1460, a.opt.sack[1].right = base + 5 * 1460;
	INJECT(&e.s, a);
	EXPECT(&e.s, &t);
	CHECK_U64_EQ(t.seq, base + 1460);
	EXPECT(&e.s, &t);
	CHECK_U64_EQ(t.seq, base + 5 * 1460);
	EXPECT_NONE(&e.s);
	CHECK_U64_EQ(mpt_stack_counters(e.s.st)->tcp_retrans_segs, 2);
	mpt_script_free(&e.s);
}

/* Without SACK, three duplicate ACKs trigger NewReno fast retransmit. */
TEST(stack_tcp_newreno_fast_retransmit)
{
	struct est e;
	struct wire_tcp_repr seg, t;
	struct mpt_config cfg = quiet_cfg();
	uint8_t d[6 * 1460] = {0};
	uint32_t i, base = 0;

	cfg.no_timestamps = true;
	establish_active(&e, &cfg, P_MSS | P_WS, 65535);
	CHECK_EQ(mpt_send(e.s.st, e.id, d, sizeof(d), e.s.now), (ptrdiff_t)sizeof(d));
	for (i = 0; i < 6; i++) {
		EXPECT(&e.s, &seg);
		if (!i)
			base = seg.seq;
	}
	/* The first carries a window update (65535 -> 1000 << 7), so by RFC 5681's
	 * definition it is not a duplicate ACK; three more are. */
	for (i = 0; i < 3; i++)
		INJECT(&e.s, mk(ACK, PEER_ISS + 1, base, 1000));
	EXPECT_NONE(&e.s);
	INJECT(&e.s, mk(ACK, PEER_ISS + 1, base, 1000));
	EXPECT(&e.s, &t);
	CHECK_U64_EQ(t.seq, base);
	CHECK_U64_EQ(mpt_stack_counters(e.s.st)->reno_recovery, 1);
	/* partial ACK: the next hole goes at once (RFC 6582) */
	INJECT(&e.s, mk(ACK, PEER_ISS + 1, base + 2 * 1460, 1000));
	EXPECT(&e.s, &t);
	CHECK_U64_EQ(t.seq, base + 2 * 1460);
	mpt_script_free(&e.s);
}

/* ---- the state table ---- */

TEST(stack_tcp_state_table)
{
	struct mpt_script s;
	struct tcb *t;

	CHECK(tcp_transition_ok(MPT_CLOSED, MPT_SYN_SENT));
	CHECK(tcp_transition_ok(MPT_SYN_SENT, MPT_SYN_RECEIVED));
	CHECK(tcp_transition_ok(MPT_FIN_WAIT_1, MPT_CLOSING));
	CHECK(tcp_transition_ok(MPT_TIME_WAIT, MPT_CLOSED));
	CHECK(!tcp_transition_ok(MPT_CLOSED, MPT_ESTABLISHED));
	CHECK(!tcp_transition_ok(MPT_TIME_WAIT, MPT_ESTABLISHED));
	CHECK(!tcp_transition_ok(MPT_LAST_ACK, MPT_FIN_WAIT_1));
	CHECK(!tcp_transition_ok(MPT_ESTABLISHED, MPT_SYN_SENT));
	CHECK(!tcp_transition_ok(MPT_NSTATES, MPT_CLOSED));
	CHECK_EQ(mpt_script_init(&s, NULL, MPT_AF_INET, 1, 2), 0);
	t = tcp_new(s.st);
	CHECK(t != NULL);
	CHECK_EQ(tcp_set_state(t, MPT_ESTABLISHED), MPT_ESTATE);
	CHECK_EQ(t->state, MPT_CLOSED);
	CHECK_U64_EQ(mpt_stack_counters(s.st)->state_bad_transitions, 1);
	CHECK_EQ(tcp_set_state(t, MPT_LISTEN), 0);
	CHECK_U64_EQ(mpt_stack_transitions(s.st, MPT_CLOSED, MPT_LISTEN), 1);
	tcp_free(t);
	CHECK_STR_EQ(mpt_state_name(MPT_TIME_WAIT), "TIME_WAIT");
	mpt_script_free(&s);
}

TEST(stack_tcp_ipv6_handshake)
{
	struct mpt_script s;
	struct wire_tcp_repr t;
	uint32_t id;

	CHECK_EQ(mpt_script_init(&s, NULL, MPT_AF_INET6, 40000, 80), 0);
	CHECK_EQ(mpt_connect(s.st, &s.local, &s.remote, s.now, &id), 0);
	EXPECT(&s, &t);
	CHECK_EQ(t.opt.mss, 1440); /* 1500 - 40 - 20 */
	t = mk(SYN | ACK, PEER_ISS, t.seq + 1, 1000);
	INJECT(&s, t);
	CHECK_EQ(state_of(&s, id), MPT_ESTABLISHED);
	mpt_script_free(&s);
}

/* RFC 6528: ISNs differ per 4-tuple and advance with the 4 us clock. */
TEST(stack_tcp_isn_rfc6528)
{
	struct mpt_script s;
	struct mpt_sockaddr r2;
	uint32_t a, b, c;

	CHECK_EQ(mpt_script_init(&s, NULL, MPT_AF_INET, 40000, 80), 0);
	CHECK_EQ(tcp_isn(s.st, &s.local, &s.remote, 0, &a), 0);
	CHECK_EQ(tcp_isn(s.st, &s.local, &s.remote, 4000000, &b), 0);
	CHECK_U64_EQ(b - a, 1000);
	r2 = s.remote;
	r2.port = 81;
	CHECK_EQ(tcp_isn(s.st, &s.local, &r2, 0, &c), 0);
	CHECK(c != a);
	mpt_script_free(&s);
}

/* Random segments (flags, sequence and ack numbers near the real ones, options,
 * payload) thrown at an established connection: no crash, no sanitizer report, and
 * the counters stay consistent.  A tiny in-tree fuzzer. */
TEST(stack_tcp_random_segments_robust)
{
	struct est e;
	uint64_t rng = 99;
	int i;
	uint8_t d[3000] = {0};

	establish_passive(&e, NULL, P_MSS | P_WS | P_SACK);
	mpt_send(e.s.st, e.id, d, sizeof(d), e.s.now);
	for (i = 0; i < 20000; i++) {
		struct wire_tcp_repr t, out;
		uint64_t r = mpt_sim_rand(&rng);

		t = mkdata(PEER_ISS + 1 + (uint32_t)(r % 9000) - 3000,
			   e.iss + 1 + (uint32_t)((r >> 16) % 9000) - 3000, (r >> 32) % 1400);
		t.flags = (uint8_t)(mpt_sim_rand(&rng) & 0x1f);
		if (r & (1ull << 60)) {
			t.opt.present = WIRE_HAS_SACK;
			t.opt.nsack = 1 + (r >> 48) % 3;
			for (uint8_t k = 0; k < t.opt.nsack; k++) {
				t.opt.sack[k].left = e.iss + (uint32_t)(mpt_sim_rand(&rng) % 4000);
				t.opt.sack[k].right =
					t.opt.sack[k].left + (uint32_t)(mpt_sim_rand(&rng) % 3000);
			}
		}
		INJECT(&e.s, t);
		while (mpt_script_pull(&e.s, &out) == 1)
			;
		if (i % 100 == 0)
			mpt_script_advance(&e.s, (mpt_sim_rand(&rng) % 500) * MS);
		if (state_of(&e.s, e.id) == MPT_CLOSED) {
			mpt_script_free(&e.s);
			establish_passive(&e, NULL, P_MSS | P_WS | P_SACK);
			mpt_send(e.s.st, e.id, d, sizeof(d), e.s.now);
		}
	}
	mpt_script_free(&e.s);
}

/* ---- D-SACK (RFC 2883) ---- */

/* A segment that arrives again is reported as the first SACK block of the ACK it
 * draws, wholly or (partly new) its old part only; the usual blocks follow. */
TEST(stack_tcp_dsack_reports_duplicates)
{
	struct est e;
	struct wire_tcp_repr t;
	uint32_t b = PEER_ISS + 1;

	establish_passive(&e, NULL, P_MSS | P_SACK);
	INJECT(&e.s, mkdata(b, e.iss + 1, 1000));
	mpt_script_advance(&e.s, 40 * MS);
	EXPECT(&e.s, &t);
	CHECK_U64_EQ(t.ack, b + 1000);
	CHECK_EQ(t.opt.nsack, 0);
	INJECT(&e.s, mkdata(b, e.iss + 1, 1000)); /* all old */
	EXPECT(&e.s, &t);
	CHECK_U64_EQ(t.ack, b + 1000);
	CHECK_EQ(t.opt.nsack, 1);
	CHECK_U64_EQ(t.opt.sack[0].left, b);
	CHECK_U64_EQ(t.opt.sack[0].right, b + 1000);
	/* an out-of-order block, then a half-old segment: D-SACK first, then the block */
	INJECT(&e.s, mkdata(b + 3000, e.iss + 1, 500));
	EXPECT(&e.s, &t);
	CHECK_EQ(t.opt.nsack, 1);
	CHECK_U64_EQ(t.opt.sack[0].left, b + 3000);
	INJECT(&e.s, mkdata(b + 500, e.iss + 1, 1000)); /* [500,1000) old, [1000,1500) new */
	EXPECT(&e.s, &t);
	CHECK_EQ(t.opt.nsack, 2);
	CHECK_U64_EQ(t.opt.sack[0].left, b + 500);
	CHECK_U64_EQ(t.opt.sack[0].right, b + 1000);
	CHECK_U64_EQ(t.opt.sack[1].left, b + 3000);
	CHECK_U64_EQ(mpt_stack_counters(e.s.st)->dsack_old_sent, 2);
	/* reported once */
	INJECT(&e.s, mkdata(b + 1500, e.iss + 1, 500));
	EXPECT(&e.s, &t);
	CHECK_U64_EQ(t.ack, b + 2000);
	CHECK_EQ(t.opt.nsack, 1);
	CHECK_U64_EQ(t.opt.sack[0].left, b + 3000);
	mpt_script_free(&e.s);
}

/* SACK recovery retransmits the hole; the receiver then D-SACKs it (the original was
 * only late): every retransmission of the episode was needless, so cwnd and ssthresh
 * come back and recovery ends (RFC 3708 with D-SACK). */
TEST(stack_tcp_dsack_undoes_spurious_recovery)
{
	struct est e;
	struct wire_tcp_repr seg[10], t, a;
	struct mpt_config cfg = quiet_cfg();
	const struct mpt_counters *c;
	struct mpt_conn_info before, during, after;
	uint8_t d[10 * 1460] = {0};
	uint32_t i, base;

	cfg.no_timestamps = true;
	establish_active(&e, &cfg, P_MSS | P_WS | P_SACK, 65535);
	c = mpt_stack_counters(e.s.st);
	CHECK_EQ(mpt_send(e.s.st, e.id, d, sizeof(d), e.s.now), (ptrdiff_t)sizeof(d));
	for (i = 0; i < 10; i++)
		EXPECT(&e.s, &seg[i]);
	base = seg[0].seq;
	mpt_script_advance(&e.s, 20 * MS);
	INJECT(&e.s, mk(ACK, PEER_ISS + 1, base + 1460, 1000));
	CHECK_EQ(mpt_conn_info(e.s.st, e.id, &before), 0);
	for (i = 3; i <= 5; i++) {
		a = mk(ACK, PEER_ISS + 1, base + 1460, 1000);
		a.opt.present = WIRE_HAS_SACK;
		a.opt.nsack = 1;
		a.opt.sack[0].left = base + 2 * 1460;
		a.opt.sack[0].right = base + i * 1460;
		INJECT(&e.s, a);
	}
	EXPECT(&e.s, &t);
	CHECK_U64_EQ(t.seq, base + 1460);
	CHECK_EQ(mpt_conn_info(e.s.st, e.id, &during), 0);
	CHECK(during.in_recovery);
	CHECK(during.cwnd < before.cwnd);
	/* the late original fills the hole; the retransmission is a duplicate */
	a = mk(ACK, PEER_ISS + 1, base + 10 * 1460, 1000);
	INJECT(&e.s, a);
	CHECK_U64_EQ(c->dsack_undo, 0);
	a.opt.present = WIRE_HAS_SACK;
	a.opt.nsack = 1;
	a.opt.sack[0].left = base + 1460;
	a.opt.sack[0].right = base + 2 * 1460;
	INJECT(&e.s, a);
	CHECK_U64_EQ(c->dsack_recv, 1);
	CHECK_U64_EQ(c->dsack_undo, 1);
	CHECK_U64_EQ(c->sack_discard, 0);
	CHECK_EQ(mpt_conn_info(e.s.st, e.id, &after), 0);
	CHECK(!after.in_recovery);
	CHECK(after.cwnd >= before.cwnd);
	CHECK(after.ssthresh >= before.ssthresh);
	/* a D-SACK for data never retransmitted undoes nothing */
	INJECT(&e.s, a);
	CHECK_U64_EQ(c->dsack_recv, 2);
	CHECK_U64_EQ(c->dsack_undo, 1);
	mpt_script_free(&e.s);
}

/* ---- restart after idle (RFC 5681 4.1) ---- */

/* Grow cwnd with `rounds` round trips of full windows, each acknowledged 20 ms later;
 * returns the segments the stack sends after `idle_ns` of silence when 64 KB more
 * is written (before any ACK), and the cwnd before and after in *before / *after. */
static uint32_t burst_after_idle(const struct mpt_config *cfg, uint64_t idle_ns, uint32_t *before,
				 uint32_t *after, uint64_t *restarts)
{
	static uint8_t d[64 * 1024];
	struct est e;
	struct wire_tcp_repr t;
	struct mpt_conn_info ci;
	uint32_t n = 0, end = 0;

	establish_active(&e, cfg, P_MSS | P_WS | P_SACK, 65535);
	for (int r = 0; r < 4; r++) {
		bool sent = true;

		CHECK(mpt_send(e.s.st, e.id, d, sizeof(d), e.s.now) > 0);
		while (sent) { /* a window, its ACK 20 ms later, and again until all is sent */
			sent = false;
			while (mpt_script_pull(&e.s, &t) == 1) {
				end = t.seq + (uint32_t)t.payload_len;
				sent = true;
			}
			mpt_script_advance(&e.s, 20 * MS);
			if (sent)
				INJECT(&e.s, mk(ACK, PEER_ISS + 1, end, 65535));
		}
	}
	CHECK_EQ(mpt_conn_info(e.s.st, e.id, &ci), 0);
	*before = ci.cwnd;
	mpt_script_advance(&e.s, idle_ns);
	CHECK(mpt_send(e.s.st, e.id, d, sizeof(d), e.s.now) > 0);
	while (mpt_script_pull(&e.s, &t) == 1)
		n++;
	CHECK_EQ(mpt_conn_info(e.s.st, e.id, &ci), 0);
	*after = ci.cwnd;
	*restarts = mpt_stack_counters(e.s.st)->cwnd_restart;
	mpt_script_free(&e.s);
	return n;
}

TEST(stack_tcp_idle_longer_than_rto_restarts_from_the_initial_window)
{
	struct mpt_config cfg = quiet_cfg();
	uint32_t before, after, n;
	uint64_t restarts;

	cfg.no_timestamps = true;
	cfg.cc = "cubic";
	/* RTO here is 200 ms (20 ms RTT, min_rto): 3 s of idleness halves cwnd far below
	 * the initial window, so the restart window (10 segments) it is */
	n = burst_after_idle(&cfg, 3000 * MS, &before, &after, &restarts);
	printf("# idle 3 s: cwnd %u -> %u, %u segments sent at once\n", before, after, n);
	CHECK(before >= 20 * 1460);
	CHECK_EQ(after, 10 * 1460);
	CHECK_EQ(n, 10);
	CHECK_U64_EQ(restarts, 1);
	/* idle for less than the RTO: nothing changes */
	n = burst_after_idle(&cfg, 100 * MS, &before, &after, &restarts);
	CHECK_EQ(after, before);
	CHECK(n > 10);
	CHECK_U64_EQ(restarts, 0);
	/* net.ipv4.tcp_slow_start_after_idle = 0 */
	cfg.no_slow_start_after_idle = true;
	n = burst_after_idle(&cfg, 3000 * MS, &before, &after, &restarts);
	CHECK_EQ(after, before);
	CHECK(n > 10);
	CHECK_U64_EQ(restarts, 0);
}
