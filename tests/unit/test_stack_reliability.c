/* Issue 11: defects a fuzzer found with two stacks over simulated paths, each
 * reproduced here (virtual time or scripted segments), and the classes behind them.
 * Every transfer checks its bytes end to end. */
#include "test.h"
#include "mpt_sim.h"
#include "mptcp.h"
#include "mptcp_crypto.h"
#include "tcp.h"

#define MS  1000000ull
#define SEC 1000000000ull

static struct mpt_config rel_cfg(bool mptcp, bool csum)
{
	struct mpt_config c;

	mpt_config_default(&c);
	c.mptcp = mptcp;
	c.mptcp_checksum = csum;
	return c;
}

static void dump(const char *who, const struct mpt_stack *st)
{
	char buf[8192];

	if (mpt_counters_format(mpt_stack_counters(st), false, buf, sizeof(buf)) > 0)
		printf("# %s\n%s", who, buf);
}

/* ---- a transfer with the knobs the defects need ---- */

struct blackout {
	struct mpt_sim *sim;
	uint64_t from, to; /* both directions of path 0 drop everything in [from, to) */
};

static void blackout_tap(void *ctx, int from, uint32_t path, const uint8_t *pkt, size_t len,
			 uint64_t now)
{
	struct blackout *b = ctx;
	double loss = now >= b->from && now < b->to ? 1.0 : 0.0;

	(void)from, (void)pkt, (void)len;
	if (path == 0) {
		b->sim->link[0][0].cfg.loss = loss;
		b->sim->link[1][0].cfg.loss = loss;
	}
}

struct xfer {
	uint64_t c2s, s2c;    /* bytes each way */
	bool client_close;    /* the client calls mpt_close (not shutdown) once written */
	bool server_shut_now; /* the server shuts its side down as soon as it accepts */
	uint64_t deadline;
	/* results */
	uint64_t c_sent, s_sent, s_got, c_got;
	bool s_ok, c_ok, s_eof, c_eof;
	int c_err, s_err;
	uint32_t cid, sid;
};

static bool verify(uint8_t *buf, ptrdiff_t r, uint64_t *got, uint64_t total)
{
	bool ok = true;

	for (ptrdiff_t i = 0; i < r; i++)
		if (*got + (uint64_t)i >= total || buf[i] != mpt_sim_pattern(*got + (uint64_t)i))
			ok = false;
	*got += (uint64_t)r;
	return ok;
}

static void pump(struct mpt_stack *st, uint32_t id, uint64_t total, uint64_t *sent, uint64_t now)
{
	uint8_t buf[16384];

	while (*sent < total) {
		size_t n = sizeof(buf);
		ptrdiff_t w;

		if (n > total - *sent)
			n = (size_t)(total - *sent);
		for (size_t i = 0; i < n; i++)
			buf[i] = mpt_sim_pattern(*sent + i);
		w = mpt_send(st, id, buf, n, now);
		if (w <= 0)
			break;
		*sent += (uint64_t)w;
	}
}

/* Client connects on path 0, both sides write their bytes (the pattern), each reads
 * and checks what the other wrote.  Returns 0 when both saw every byte and the EOF. */
static int run(struct mpt_sim *sim, struct xfer *x)
{
	struct mpt_sockaddr cl = mpt_sim_addr(sim, 0, 0, 0), sv = mpt_sim_addr(sim, 1, 0, 5001);
	uint8_t buf[16384];
	uint32_t lid;
	bool have = false, c_done = false, s_done = false;

	x->s_ok = x->c_ok = true;
	CHECK_EQ(mpt_listen(sim->ep[1], &sv, 4, &lid), 0);
	CHECK_EQ(mpt_connect(sim->ep[0], &cl, &sv, sim->now, &x->cid), 0);
	while (sim->now < x->deadline) {
		struct mpt_event ev;
		ptrdiff_t r;

		while (mpt_stack_poll_event(sim->ep[0], &ev) == 1)
			if (ev.type == MPT_EV_ERROR)
				x->c_err = ev.err;
		while (mpt_stack_poll_event(sim->ep[1], &ev) == 1) {
			if (ev.type == MPT_EV_ACCEPTABLE && !have &&
			    mpt_accept(sim->ep[1], lid, &x->sid) == 0) {
				have = true;
				if (x->server_shut_now) {
					pump(sim->ep[1], x->sid, x->s2c, &x->s_sent, sim->now);
					mpt_shutdown(sim->ep[1], x->sid, MPT_SHUT_WR, sim->now);
				}
			}
			if (ev.type == MPT_EV_ERROR && have && ev.id == x->sid)
				x->s_err = ev.err;
		}
		if (x->c_err || x->s_err)
			break;
		if (!c_done) {
			pump(sim->ep[0], x->cid, x->c2s, &x->c_sent, sim->now);
			if (x->c_sent == x->c2s) {
				if (x->client_close && x->s2c == 0)
					mpt_close(sim->ep[0], x->cid, sim->now);
				else
					mpt_shutdown(sim->ep[0], x->cid, MPT_SHUT_WR, sim->now);
				c_done = true;
			}
		}
		if (have && !x->server_shut_now && !s_done) {
			pump(sim->ep[1], x->sid, x->s2c, &x->s_sent, sim->now);
			if (x->s_sent == x->s2c) {
				mpt_shutdown(sim->ep[1], x->sid, MPT_SHUT_WR, sim->now);
				s_done = true;
			}
		}
		while (have && !x->s_eof &&
		       (r = mpt_recv(sim->ep[1], x->sid, buf, sizeof(buf), sim->now)) >= 0) {
			if (r == 0) {
				x->s_eof = true;
				break;
			}
			x->s_ok &= verify(buf, r, &x->s_got, x->c2s);
		}
		while (!x->c_eof && !(x->client_close && x->s2c == 0) &&
		       (r = mpt_recv(sim->ep[0], x->cid, buf, sizeof(buf), sim->now)) >= 0) {
			if (r == 0) {
				x->c_eof = true;
				break;
			}
			x->c_ok &= verify(buf, r, &x->c_got, x->s2c);
		}
		if (x->s_eof && (x->c_eof || (x->client_close && x->s2c == 0)))
			break;
		if (!mpt_sim_step(sim, x->deadline))
			break;
	}
	if (x->c_err || x->s_err)
		return x->c_err ? x->c_err : x->s_err;
	if (!x->s_eof || !x->s_ok || x->s_got != x->c2s)
		return MPT_ETIMEDOUT;
	if (!(x->client_close && x->s2c == 0) && (!x->c_eof || !x->c_ok || x->c_got != x->s2c))
		return MPT_ETIMEDOUT;
	return 0;
}

/* ---- 1: bytes twice after a handshake-time fallback ---- */

/* A blackout of a few hundred ms on the only path during the handshake: the data
 * level's retransmission timer fires before anything is DATA_ACKed and must not put
 * the same bytes on the same subflow a second time; after the fallback that byte
 * stream is the data stream.  Seen: 105 bytes written, 210 read. */
TEST(reliability_blackout_in_handshake_no_bytes_twice)
{
	int bad = 0, runs = 0;

	for (int csum = 0; csum < 2; csum++)
		for (uint64_t from = 0; from <= 40 * MS; from += 10 * MS)
			for (uint64_t len = 100 * MS; len <= 900 * MS; len += 200 * MS) {
				struct mpt_config c = rel_cfg(true, csum);
				struct mpt_sim sim;
				struct blackout b = {&sim, from, from + len};
				struct xfer x = {.c2s = 105, .s2c = 0, .deadline = 120 * SEC};
				int rv;

				CHECK_EQ(
					mpt_sim_init(&sim, 31 + runs, &c, &c, MPT_AF_INET, 1, NULL),
					0);
				sim.tap = blackout_tap;
				sim.tap_ctx = &b;
				rv = run(&sim, &x);
				runs++;
				if (rv || !x.s_ok || x.s_got != 105) {
					bad++;
					struct mpt_conn_info ci = {0}, si = {0};

					mpt_conn_info(sim.ep[0], x.cid, &ci);
					mpt_conn_info(sim.ep[1], x.sid, &si);
					printf("# csum %d blackout %llu+%llu ms: rv %d got %llu ok "
					       "%d "
					       "eof %d/%d state %d/%d\n",
					       csum, (unsigned long long)(from / MS),
					       (unsigned long long)(len / MS), rv,
					       (unsigned long long)x.s_got, x.s_ok, x.c_eof,
					       x.s_eof, ci.state, si.state);
					printf("# recv %d fallback c %llu/%llu s %llu/%llu\n",
					       (int)mpt_recv(sim.ep[0], x.cid, (uint8_t[64]){0}, 64,
							     sim.now),
					       (unsigned long long)mpt_stack_counters(sim.ep[0])
						       ->mpc_ack_fallback,
					       (unsigned long long)mpt_stack_counters(sim.ep[0])
						       ->mpc_fallback_synack,
					       (unsigned long long)mpt_stack_counters(sim.ep[1])
						       ->mpc_fallback_ack,
					       (unsigned long long)mpt_stack_counters(sim.ep[1])
						       ->mpc_data_fallback);
					if (bad == 1) {
						dump("client", sim.ep[0]);
						dump("server", sim.ep[1]);
					}
				}
				mpt_sim_free(&sim);
			}
	printf("# %d of %d runs bad\n", bad, runs);
	CHECK_EQ(bad, 0);
}

/* ---- 2: close truncates ---- */

/* The server is plain TCP: the client falls back at the SYN-ACK, writes and closes
 * (not shutdown) as soon as everything is written.  mpt.h: "a FIN follows the
 * buffered data". */
TEST(reliability_close_after_fallback_delivers_everything)
{
	/* small buffers: the subflow sends all it holds (its window is larger) while
	 * the data level still holds bytes at the close */
	for (uint32_t sndbuf = 8192; sndbuf <= 65536; sndbuf *= 2) {
		struct mpt_config c = rel_cfg(true, false), s = rel_cfg(false, false);
		struct mpt_sim sim;
		struct xfer x = {
			.c2s = 1000000 + sndbuf / 3, .client_close = true, .deadline = 60 * SEC};
		int rv;

		c.sndbuf = sndbuf;
		CHECK_EQ(mpt_sim_init(&sim, 41, &c, &s, MPT_AF_INET, 1, NULL), 0);
		rv = run(&sim, &x);
		printf("# sndbuf %u: rv %d got %llu of %llu\n", sndbuf, rv,
		       (unsigned long long)x.s_got, (unsigned long long)x.c2s);
		CHECK_EQ(rv, 0);
		CHECK(x.s_ok);
		CHECK_U64_EQ(x.s_got, x.c2s);
		CHECK(mpt_stack_counters(sim.ep[0])->mpc_fallback_synack == 1);
		mpt_sim_free(&sim);
	}
}

/* The client writes and closes before the SYN-ACK arrives (the keys are not yet
 * exchanged). */
TEST(reliability_close_before_the_keys_delivers_everything)
{
	for (int mptcp_server = 0; mptcp_server < 2; mptcp_server++) {
		struct mpt_config c = rel_cfg(true, false), s = rel_cfg(mptcp_server, false);
		struct mpt_sim sim;
		struct xfer x = {.c2s = 5000, .client_close = true, .deadline = 60 * SEC};

		CHECK_EQ(mpt_sim_init(&sim, 42, &c, &s, MPT_AF_INET, 1, NULL), 0);
		CHECK_EQ(run(&sim, &x), 0);
		CHECK(x.s_ok);
		CHECK_U64_EQ(x.s_got, x.c2s);
		mpt_sim_free(&sim);
	}
}

/* ---- 3: the DATA_ACK must fit beside SACK blocks ---- */

struct lossy_after {
	struct mpt_sim *sim;
	uint64_t at; /* random loss on path 0 both ways from then on (the handshake is clean) */
	double loss;
};

static void lossy_after_tap(void *ctx, int from, uint32_t path, const uint8_t *pkt, size_t len,
			    uint64_t now)
{
	struct lossy_after *k = ctx;

	(void)from, (void)path, (void)pkt, (void)len;
	if (now >= k->at) {
		k->sim->link[0][0].cfg.loss = k->loss;
		k->sim->link[1][0].cfg.loss = k->loss;
	}
}

/* The server shuts down at once (its DATA_FIN is due on every ACK) while the client
 * uploads over a lossy path (the server's ACKs carry SACK blocks): each ACK must
 * still carry the DATA_ACK, or the client takes it for a middlebox and falls back
 * while the server does not. */
TEST(reliability_server_shut_early_upload_with_sack_no_one_sided_fallback)
{
	int bad = 0;

	for (uint64_t seed = 1; seed <= 6; seed++) {
		struct mpt_config c = rel_cfg(true, false);
		struct mpt_sim_link_cfg l = {.rate_bps = 50000000, .delay_ns = 10 * MS};
		struct mpt_sim sim;
		struct lossy_after la = {&sim, 200 * MS, 0.03};
		struct xfer x = {
			.c2s = 400000, .s2c = 100, .server_shut_now = true, .deadline = 120 * SEC};
		int rv;

		CHECK_EQ(mpt_sim_init(&sim, 50 + seed, &c, &c, MPT_AF_INET, 1, &l), 0);
		sim.tap = lossy_after_tap;
		sim.tap_ctx = &la;
		rv = run(&sim, &x);
		if (rv) {
			bad++;
			printf("# seed %llu rv %d got %llu/%llu\n", (unsigned long long)seed, rv,
			       (unsigned long long)x.s_got, (unsigned long long)x.c2s);
			dump("client", sim.ep[0]);
			dump("server", sim.ep[1]);
		} else {
			struct mpt_conn_info ci, si;

			CHECK_EQ(mpt_conn_info(sim.ep[0], x.cid, &ci), 0);
			CHECK_EQ(mpt_conn_info(sim.ep[1], x.sid, &si), 0);
			if (!ci.mptcp || !si.mptcp) {
				dump("client", sim.ep[0]);
				dump("server", sim.ep[1]);
			}
			CHECK(ci.mptcp && si.mptcp);
		}
		mpt_sim_free(&sim);
	}
	CHECK_EQ(bad, 0);
}

/* ---- scripted segments ---- */

#define PEER_ISS 7000u
#define PEER_KEY 0x1122334455667788ull

struct peer {
	struct mpt_script s;
	bool ts;
	uint32_t lid, id, iss; /* the stack's ISS */
	uint32_t tsval;
	uint64_t key, idsn, peer_idsn;
};

static uint8_t pay[4096];

static struct wire_tcp_repr mk(struct peer *p, uint8_t flags, uint32_t seq, uint32_t ack,
			       size_t len)
{
	struct wire_tcp_repr t;

	memset(&t, 0, sizeof(t));
	t.flags = flags;
	t.seq = seq;
	t.ack = ack;
	t.window = 65535;
	if (p->ts) {
		t.opt.present |= WIRE_HAS_TS;
		t.opt.tsval = ++p->tsval;
		t.opt.tsecr = 1;
	}
	/* the byte at subflow offset k (from PEER_ISS + 1) is mpt_sim_pattern(k) */
	for (size_t i = 0; i < len; i++)
		pay[i] = mpt_sim_pattern((uint32_t)(seq - PEER_ISS - 1) + i);
	t.payload = pay;
	t.payload_len = len;
	return t;
}

/* Read what the stack delivered: exactly `len` bytes, the script's stream from its
 * first byte. */
static void recv_check(struct peer *p, size_t len)
{
	static uint8_t buf[65536];
	ptrdiff_t r = mpt_recv(p->s.st, p->id, buf, sizeof(buf), p->s.now);

	CHECK_EQ(r, (ptrdiff_t)len);
	for (size_t i = 0; i < len; i++)
		CHECK_EQ(buf[i], mpt_sim_pattern(i));
}

static void put(struct wire_tcp_repr *t, struct mptcp_opts *w)
{
	size_t used = wire_tcp_opts_len(&t->opt);

	CHECK_EQ(mptcp_opts_emit(w, t->flags, WIRE_TCP_MAX_OPT - used, &t->opt), w->suboptions);
}

static void get(const struct wire_tcp_repr *t, struct mptcp_opts *m)
{
	mptcp_opts_parse(m, &t->opt, t->flags, t->payload_len, NULL);
}

static uint64_t idsn_of(struct mpt_script *s, uint64_t key)
{
	uint64_t idsn;

	CHECK_EQ(mptcp_crypto_key_sha(&s->st->env.crypto, key, NULL, &idsn), 0);
	return idsn;
}

/* The stack listens on :80 and accepts an MPTCP connection from the script (SACK
 * permitted; timestamps if p->ts).  The script's data starts at PEER_ISS + 1. */
static void passive_open(struct peer *p)
{
	struct mpt_config c = rel_cfg(true, false);
	struct wire_tcp_repr t, sa;
	struct mptcp_opts w, m;

	c.no_timestamps = !p->ts;
	CHECK_EQ(mpt_script_init(&p->s, &c, MPT_AF_INET, 80, 1234), 0);
	CHECK_EQ(mpt_listen(p->s.st, &p->s.local, 4, &p->lid), 0);
	t = mk(p, WIRE_TCP_SYN, PEER_ISS, 0, 0);
	t.opt.present |= WIRE_HAS_MSS | WIRE_HAS_SACK_PERM;
	t.opt.mss = 1460;
	memset(&w, 0, sizeof(w));
	w.suboptions = MPTCP_OPT_MPC_SYN;
	w.mpc.version = 1;
	w.mpc.flags = MPTCP_MPC_H;
	put(&t, &w);
	CHECK(mpt_script_inject(&p->s, &t) >= 0);
	CHECK_EQ(mpt_script_pull(&p->s, &sa), 1);
	get(&sa, &m);
	CHECK(m.suboptions & MPTCP_OPT_MPC_SYNACK);
	p->iss = sa.seq;
	p->key = m.mpc.sndr_key;
	p->idsn = idsn_of(&p->s, p->key);
	p->peer_idsn = idsn_of(&p->s, PEER_KEY);
	t = mk(p, WIRE_TCP_ACK, PEER_ISS + 1, p->iss + 1, 0);
	memset(&w, 0, sizeof(w));
	w.suboptions = MPTCP_OPT_MPC_ACK;
	w.mpc.version = 1;
	w.mpc.flags = MPTCP_MPC_H;
	w.mpc.sndr_key = PEER_KEY;
	w.mpc.rcvr_key = p->key;
	put(&t, &w);
	CHECK(mpt_script_inject(&p->s, &t) >= 0);
	CHECK_EQ(mpt_accept(p->s.st, p->lid, &p->id), 0);
}

/* Script data at subflow offset off (from 1), mapped 1:1 to the data level. */
static void data_at(struct peer *p, uint32_t off, size_t len)
{
	struct wire_tcp_repr t = mk(p, WIRE_TCP_ACK, PEER_ISS + off, p->iss + 1, len);
	struct mptcp_opts w;

	memset(&w, 0, sizeof(w));
	w.suboptions = MPTCP_OPT_DSS;
	w.dss.flags = MPTCP_DSS_A | MPTCP_DSS_a | MPTCP_DSS_M | MPTCP_DSS_m;
	w.dss.data_ack = p->idsn + 1;
	w.dss.data_seq = p->peer_idsn + off;
	w.dss.subflow_seq = off;
	w.dss.data_len = (uint16_t)len;
	put(&t, &w);
	CHECK(mpt_script_inject(&p->s, &t) >= 0);
}

/* Defect 3, the sender's half: the stack's side is shut (its DATA_FIN is due on
 * every ACK: a 28-byte DSS) and the peer's data arrives with three holes (three
 * SACK blocks).  Every ACK must still carry the DSS with the DATA_ACK: the SACK
 * blocks make room, as Linux sizes SACK from what MPTCP leaves. */
TEST(reliability_script_data_ack_fits_beside_sack_blocks)
{
	for (int ts = 0; ts < 2; ts++) {
		struct peer p = {.ts = ts};
		struct wire_tcp_repr out;
		struct mptcp_opts m;
		int acks = 0;

		passive_open(&p);
		CHECK_EQ(mpt_shutdown(p.s.st, p.id, MPT_SHUT_WR, p.s.now), 0);
		while (mpt_script_pull(&p.s, &out) == 1)
			;
		/* holes at 1, 101, 201, 301: out-of-order ranges 51.., 151.., 251.. */
		for (uint32_t off = 51; off < 300; off += 100) {
			data_at(&p, off, 50);
			while (mpt_script_pull(&p.s, &out) == 1) {
				get(&out, &m);
				acks++;
				/* with timestamps (12) and this DSS (28) no block fits */
				CHECK(ts || (out.opt.present & WIRE_HAS_SACK));
				CHECK(ts || out.opt.nsack >= 1);
				CHECK(m.suboptions & MPTCP_OPT_DSS);
				CHECK(m.dss.flags & MPTCP_DSS_A);
				CHECK(m.dss.flags & MPTCP_DSS_F);
				CHECK_U64_EQ(m.dss.data_ack, p.peer_idsn + 1);
				CHECK(wire_tcp_opts_len(&out.opt) <= WIRE_TCP_MAX_OPT);
			}
		}
		printf("# ts %d: %d ACKs\n", ts, acks);
		CHECK(acks >= 3);
		/* the holes fill; everything is delivered */
		data_at(&p, 1, 50);
		data_at(&p, 101, 50);
		data_at(&p, 201, 50);
		recv_check(&p, 300);
		mpt_script_free(&p.s);
	}
}

/* Defect 3, the receiver's half: an ACK of our data carrying an MPTCP option but no
 * DSS (an ADD_ADDR that took the room) is no reason to fall back (RFC 8684 3.7). */
TEST(reliability_script_ack_without_dss_but_with_mptcp_option_no_fallback)
{
	struct peer p = {.ts = true};
	struct mpt_config c = rel_cfg(true, false);
	struct wire_tcp_repr t, out;
	struct mptcp_opts w, m;
	struct mpt_conn_info i;

	CHECK_EQ(mpt_script_init(&p.s, &c, MPT_AF_INET, 40000, 80), 0);
	CHECK_EQ(mpt_connect(p.s.st, &p.s.local, &p.s.remote, p.s.now, &p.id), 0);
	CHECK_EQ(mpt_script_pull(&p.s, &out), 1);
	p.iss = out.seq;
	p.peer_idsn = idsn_of(&p.s, PEER_KEY);
	t = mk(&p, WIRE_TCP_SYN | WIRE_TCP_ACK, PEER_ISS, p.iss + 1, 0);
	t.opt.present |= WIRE_HAS_MSS | WIRE_HAS_SACK_PERM;
	t.opt.mss = 1460;
	t.opt.tsecr = out.opt.tsval;
	memset(&w, 0, sizeof(w));
	w.suboptions = MPTCP_OPT_MPC_SYNACK;
	w.mpc.version = 1;
	w.mpc.flags = MPTCP_MPC_H;
	w.mpc.sndr_key = PEER_KEY;
	put(&t, &w);
	CHECK(mpt_script_inject(&p.s, &t) >= 0);
	CHECK_EQ(mpt_send(p.s.st, p.id, "abcdefgh", 8, p.s.now), 8);
	while (mpt_script_pull(&p.s, &out) == 1) {
		get(&out, &m);
		if (out.payload_len)
			p.key = m.mpc.sndr_key;
	}
	/* the peer acknowledges the 8 bytes with an ADD_ADDR and no DSS */
	t = mk(&p, WIRE_TCP_ACK, PEER_ISS + 1, p.iss + 9, 0);
	memset(&w, 0, sizeof(w));
	w.suboptions = MPTCP_OPT_ADD_ADDR;
	w.add_addr.id = 3;
	w.add_addr.family = MPT_AF_INET;
	w.add_addr.addr[0] = 10, w.add_addr.addr[3] = 9;
	CHECK_EQ(mptcp_crypto_add_addr_hmac(&p.s.st->env.crypto, PEER_KEY, p.key, 3, MPT_AF_INET,
					    w.add_addr.addr, 0, &w.add_addr.hmac),
		 0);
	put(&t, &w);
	CHECK(mpt_script_inject(&p.s, &t) >= 0);
	CHECK_EQ(mpt_conn_info(p.s.st, p.id, &i), 0);
	CHECK(i.mptcp);
	CHECK(!i.mptcp_fallback);
	CHECK_U64_EQ(mpt_stack_counters(p.s.st)->mpc_ack_fallback, 0);
	/* a plain ACK with no MPTCP option at all still is (the middlebox case) */
	t = mk(&p, WIRE_TCP_ACK, PEER_ISS + 1, p.iss + 9, 0);
	CHECK(mpt_script_inject(&p.s, &t) >= 0);
	CHECK_U64_EQ(mpt_stack_counters(p.s.st)->mpc_ack_fallback, 1);
	mpt_script_free(&p.s);
}

/* ---- 4: output livelock ---- */

/* Our side is shut (the DATA_FIN DSS, 28 bytes, on every ACK), timestamps on
 * (12 bytes): an ADD_ADDR echo (8 bytes) never fits beside them.  The stack must
 * still stop emitting: the echo goes on an ACK of its own (the DATA_FIN mapping waits
 * for the next), and the DATA_FIN follows. */
TEST(reliability_script_echo_beside_data_fin_no_livelock)
{
	struct peer p = {.ts = true};
	struct wire_tcp_repr t, out;
	struct mptcp_opts w, m;
	int n = 0, echo = 0, fin = 0;

	passive_open(&p);
	/* the peer's data: the stack becomes fully established, the DATA_ACK known */
	data_at(&p, 1, 10);
	recv_check(&p, 10);
	CHECK_EQ(mpt_shutdown(p.s.st, p.id, MPT_SHUT_WR, p.s.now), 0);
	while (mpt_script_pull(&p.s, &out) == 1)
		;
	/* an ADD_ADDR from the peer: the echo is due */
	t = mk(&p, WIRE_TCP_ACK, PEER_ISS + 11, p.iss + 1, 0);
	memset(&w, 0, sizeof(w));
	w.suboptions = MPTCP_OPT_ADD_ADDR;
	w.add_addr.id = 5;
	w.add_addr.family = MPT_AF_INET;
	w.add_addr.addr[0] = 10, w.add_addr.addr[3] = 7;
	CHECK_EQ(mptcp_crypto_add_addr_hmac(&p.s.st->env.crypto, PEER_KEY, p.key, 5, MPT_AF_INET,
					    w.add_addr.addr, 0, &w.add_addr.hmac),
		 0);
	put(&t, &w);
	CHECK(mpt_script_inject(&p.s, &t) >= 0);
	while (n < 50 && mpt_script_pull(&p.s, &out) == 1) {
		n++;
		get(&out, &m);
		if ((m.suboptions & MPTCP_OPT_ADD_ADDR) && m.add_addr.echo)
			echo++;
		if ((m.suboptions & MPTCP_OPT_DSS) && (m.dss.flags & MPTCP_DSS_F))
			fin++;
	}
	printf("# %d segments, %d echoes, %d DATA_FINs\n", n, echo, fin);
	CHECK(n < 50);
	CHECK_EQ(echo, 1);
	CHECK_U64_EQ(mpt_stack_counters(p.s.st)->echo_add_tx, 1);
	/* the DATA_FIN follows on its timer */
	for (int k = 0; k < 20 && !fin; k++) {
		mpt_script_advance(&p.s, 300 * MS);
		while (mpt_script_pull(&p.s, &out) == 1) {
			get(&out, &m);
			if ((m.suboptions & MPTCP_OPT_DSS) && (m.dss.flags & MPTCP_DSS_F))
				fin++;
		}
	}
	CHECK(fin >= 1);
	mpt_script_free(&p.s);
}

/* ---- 5: timers reported but never consumed ---- */

/* mpt_script_advance (like every simulator step) aborts when the stack still reports
 * a time <= now after its expiry handler ran. */
static void advance_for(struct peer *p, uint64_t total, uint64_t step)
{
	struct wire_tcp_repr out;

	for (uint64_t t = 0; t < total; t += step) {
		mpt_script_advance(&p->s, step);
		while (mpt_script_pull(&p->s, &out) == 1)
			;
	}
}

/* (a) The DATA_FIN's retransmission time stays reported while no subflow can carry
 * it (the only one was reset by the peer): it must be re-armed or dropped. */
TEST(reliability_script_data_fin_timer_without_a_usable_subflow)
{
	struct peer p = {.ts = false};
	struct wire_tcp_repr out, t;

	passive_open(&p);
	data_at(&p, 1, 10);
	recv_check(&p, 10);
	CHECK_EQ(mpt_shutdown(p.s.st, p.id, MPT_SHUT_WR, p.s.now), 0);
	while (mpt_script_pull(&p.s, &out) == 1)
		;
	t = mk(&p, WIRE_TCP_RST | WIRE_TCP_ACK, PEER_ISS + 11, p.iss + 1, 0);
	CHECK(mpt_script_inject(&p.s, &t) >= 0);
	advance_for(&p, 5 * SEC, 100 * MS);
	CHECK(mpt_stack_next_timeout(p.s.st) > p.s.now);
	mpt_script_free(&p.s);
}

/* (b) An ADD_ADDR retransmission time stays reported while the path manager no
 * longer acts (the application closed; the peer never echoed). */
TEST(reliability_script_add_addr_timer_after_close)
{
	struct peer p = {.ts = false};
	struct wire_tcp_repr out;
	struct mpt_sockaddr a;
	struct mptcp_opts m;
	int announced = 0;

	passive_open(&p);
	a = p.s.local;
	a.ip[3] = 77; /* a second local address */
	CHECK_EQ(mpt_stack_add_path(p.s.st, 1, &a), 0);
	CHECK_EQ(mpt_stack_add_endpoint(p.s.st, 1, 1, MPT_EP_SIGNAL), 0);
	data_at(&p, 1, 10);
	recv_check(&p, 10);
	while (mpt_script_pull(&p.s, &out) == 1) {
		get(&out, &m);
		announced += !!(m.suboptions & MPTCP_OPT_ADD_ADDR);
	}
	for (int k = 0; k < 5 && !announced; k++) {
		mpt_script_advance(&p.s, 10 * MS);
		while (mpt_script_pull(&p.s, &out) == 1) {
			get(&out, &m);
			announced += !!(m.suboptions & MPTCP_OPT_ADD_ADDR);
		}
	}
	CHECK(announced >= 1);
	mpt_close(p.s.st, p.id, p.s.now);
	advance_for(&p, 10 * SEC, 100 * MS);
	CHECK(mpt_stack_next_timeout(p.s.st) > p.s.now);
	mpt_script_free(&p.s);
}

/* ---- 6: the ACK war ---- */

/* The peer filled our receive window (one segment of it still missing), then sends a
 * pure ACK at SEG.SEQ == RCV.NXT + RCV.WND acknowledging our data.  Its ACK field
 * must be processed (Linux's tcp_sequence accepts the right edge), not answered
 * with an ACK of ours while snd_una stays: between two stacks both in that state,
 * the ACKs go back and forth forever. */
TEST(reliability_script_pure_ack_at_the_window_edge_is_processed)
{
	struct peer p = {.ts = false};
	struct mpt_config c = rel_cfg(false, false);
	struct wire_tcp_repr t, sa, out;
	struct mpt_conn_info i;
	uint32_t edge, rcv_nxt = PEER_ISS + 1;
	uint64_t oow;
	int acks = 0;

	c.rcvbuf = 8192;
	CHECK_EQ(mpt_script_init(&p.s, &c, MPT_AF_INET, 80, 1234), 0);
	CHECK_EQ(mpt_listen(p.s.st, &p.s.local, 4, &p.lid), 0);
	t = mk(&p, WIRE_TCP_SYN, PEER_ISS, 0, 0);
	t.opt.present |= WIRE_HAS_MSS | WIRE_HAS_SACK_PERM;
	t.opt.mss = 1000;
	CHECK(mpt_script_inject(&p.s, &t) >= 0);
	CHECK_EQ(mpt_script_pull(&p.s, &sa), 1);
	p.iss = sa.seq;
	t = mk(&p, WIRE_TCP_ACK, rcv_nxt, p.iss + 1, 0);
	CHECK(mpt_script_inject(&p.s, &t) >= 0);
	CHECK_EQ(mpt_accept(p.s.st, p.lid, &p.id), 0);
	/* our data, not yet acknowledged */
	CHECK_EQ(mpt_send(p.s.st, p.id, "0123456789", 10, p.s.now), 10);
	CHECK_EQ(mpt_script_pull(&p.s, &out), 1);
	CHECK_EQ(out.payload_len, 10);
	edge = out.ack + out.window; /* RCV.NXT + RCV.WND as the stack advertised it */
	/* the peer fills the window but for its first 100 bytes */
	for (uint32_t seq = rcv_nxt + 100; seq != edge;) {
		uint32_t n = edge - seq < 1000 ? edge - seq : 1000;

		t = mk(&p, WIRE_TCP_ACK, seq, p.iss + 1, n);
		CHECK(mpt_script_inject(&p.s, &t) >= 0);
		seq += n;
	}
	while (mpt_script_pull(&p.s, &out) == 1)
		;
	oow = mpt_stack_counters(p.s.st)->seq_out_of_window;
	/* its pure ACK for our 10 bytes, at SEG.SEQ == the right edge */
	t = mk(&p, WIRE_TCP_ACK, edge, p.iss + 11, 0);
	CHECK(mpt_script_inject(&p.s, &t) >= 0);
	while (mpt_script_pull(&p.s, &out) == 1)
		acks++;
	CHECK_EQ(mpt_conn_info(p.s.st, p.id, &i), 0);
	CHECK_U64_EQ(i.bytes_acked, 10);
	CHECK_U64_EQ(mpt_stack_counters(p.s.st)->seq_out_of_window, oow);
	CHECK_EQ(acks, 0);
	/* the hole fills: every byte is delivered */
	t = mk(&p, WIRE_TCP_ACK, rcv_nxt, p.iss + 11, 100);
	CHECK(mpt_script_inject(&p.s, &t) >= 0);
	recv_check(&p, edge - rcv_nxt);
	mpt_script_free(&p.s);
}

/* Out-of-window pure ACKs are answered at most once per 500 ms (Linux's
 * tcp_invalid_ratelimit, TCPACKSkippedSeq): two stacks that disagree cannot
 * exchange ACKs at full speed. */
TEST(reliability_script_out_of_window_pure_acks_rate_limited)
{
	struct peer p = {.ts = false};
	struct mpt_config c = rel_cfg(false, false);
	struct wire_tcp_repr t, sa, out;
	int acks = 0;

	CHECK_EQ(mpt_script_init(&p.s, &c, MPT_AF_INET, 80, 1234), 0);
	CHECK_EQ(mpt_listen(p.s.st, &p.s.local, 4, &p.lid), 0);
	t = mk(&p, WIRE_TCP_SYN, PEER_ISS, 0, 0);
	t.opt.present |= WIRE_HAS_MSS;
	t.opt.mss = 1000;
	CHECK(mpt_script_inject(&p.s, &t) >= 0);
	CHECK_EQ(mpt_script_pull(&p.s, &sa), 1);
	p.iss = sa.seq;
	t = mk(&p, WIRE_TCP_ACK, PEER_ISS + 1, p.iss + 1, 0);
	CHECK(mpt_script_inject(&p.s, &t) >= 0);
	for (int k = 0; k < 20; k++) {
		t = mk(&p, WIRE_TCP_ACK, PEER_ISS + 1 + 10000000, p.iss + 1, 0);
		CHECK(mpt_script_inject(&p.s, &t) >= 0);
		while (mpt_script_pull(&p.s, &out) == 1)
			acks++;
		p.s.now += 10 * MS;
	}
	CHECK_EQ(acks, 1);
	CHECK_U64_EQ(mpt_stack_counters(p.s.st)->ack_skipped_seq, 19);
	mpt_script_free(&p.s);
}

/* ---- the option decoder: a malformed SACK after a valid one ---- */

/* Linux's tcp_parse_options keeps a valid SACK option when a malformed one follows;
 * ours kept the flag and dropped the blocks (SACK present, zero blocks). */
TEST(reliability_sack_then_malformed_sack_keeps_the_valid_one)
{
	const uint8_t opts[] = {1, 1, 5, 10, 0, 0, 0, 100, 0, 0, 0, 200, /* SACK 100-200 */
				5, 7, 0, 0,  0, 1, 0,			 /* length 7: malformed */
				0};
	struct wire_tcp_opts o;

	CHECK_EQ(wire_tcp_opts_decode(&o, opts, sizeof(opts)), 0);
	CHECK(o.present & WIRE_HAS_SACK);
	CHECK_EQ(o.nsack, 1);
	CHECK_EQ(o.sack[0].left, 100);
	CHECK_EQ(o.sack[0].right, 200);
	CHECK_EQ(o.n_malformed, 1);
	/* a malformed one alone: no SACK */
	CHECK_EQ(wire_tcp_opts_decode(&o, opts + 12, sizeof(opts) - 12), 0);
	CHECK(!(o.present & WIRE_HAS_SACK));
	CHECK_EQ(o.nsack, 0);
}

/* ---- the class: every option that must reach the peer fits ---- */

enum sig {
	SIG_NONE,
	SIG_ADD4,
	SIG_ADD4_PORT,
	SIG_ADD6,
	SIG_ADD6_PORT,
	SIG_ECHO4,
	SIG_ECHO4_PORT,
	SIG_ECHO6,
	SIG_ECHO6_PORT,
	SIG_RM1,
	SIG_RM8,
	SIG_PRIO,
	SIG_FAIL,
	SIG_FASTCLOSE,
	SIG_N
};

enum dssv { DSS_ACK, DSS_ACK_FIN, DSS_ACK_FIN_CSUM, DSS_MAP, DSS_MAP_CSUM, DSS_N };

static void build(struct mptcp_opts *w, enum sig sg, enum dssv dv)
{
	memset(w, 0, sizeof(*w));
	if (sg != SIG_FASTCLOSE) {
		w->suboptions |= MPTCP_OPT_DSS;
		w->dss.flags = MPTCP_DSS_A | MPTCP_DSS_a;
		w->dss.data_ack = 0x1122334455667788ull;
		if (dv != DSS_ACK) {
			w->dss.flags |= MPTCP_DSS_M | MPTCP_DSS_m;
			w->dss.data_seq = 0x99;
			w->dss.subflow_seq = dv >= DSS_MAP ? 1 : 0;
			w->dss.data_len = dv >= DSS_MAP ? 1000 : 1;
			w->dss.has_csum = dv == DSS_ACK_FIN_CSUM || dv == DSS_MAP_CSUM;
		}
		if (dv == DSS_ACK_FIN || dv == DSS_ACK_FIN_CSUM)
			w->dss.flags |= MPTCP_DSS_F;
	}
	switch (sg) {
	case SIG_ADD4:
	case SIG_ADD4_PORT:
	case SIG_ADD6:
	case SIG_ADD6_PORT:
	case SIG_ECHO4:
	case SIG_ECHO4_PORT:
	case SIG_ECHO6:
	case SIG_ECHO6_PORT:
		w->suboptions |= MPTCP_OPT_ADD_ADDR;
		w->add_addr.id = 4;
		w->add_addr.echo = sg >= SIG_ECHO4;
		w->add_addr.family = (sg == SIG_ADD6 || sg == SIG_ADD6_PORT || sg == SIG_ECHO6 ||
				      sg == SIG_ECHO6_PORT)
					     ? MPT_AF_INET6
					     : MPT_AF_INET;
		w->add_addr.addr[0] = 10;
		w->add_addr.has_port = sg == SIG_ADD4_PORT || sg == SIG_ADD6_PORT ||
				       sg == SIG_ECHO4_PORT || sg == SIG_ECHO6_PORT;
		w->add_addr.port = 5000;
		w->add_addr.hmac = 0xabcdef;
		break;
	case SIG_RM1:
	case SIG_RM8:
		w->suboptions |= MPTCP_OPT_RM_ADDR;
		w->rm_addr.nids = sg == SIG_RM1 ? 1 : 8;
		for (int i = 0; i < 8; i++)
			w->rm_addr.ids[i] = (uint8_t)(i + 1);
		break;
	case SIG_PRIO:
		w->suboptions |= MPTCP_OPT_PRIO;
		w->prio.backup = true;
		break;
	case SIG_FAIL:
		w->suboptions |= MPTCP_OPT_FAIL;
		w->fail.dsn = 77;
		break;
	case SIG_FASTCLOSE:
		w->suboptions |= MPTCP_OPT_FASTCLOSE;
		w->fastclose.rcvr_key = 42;
		break;
	default:
		break;
	}
}

/* Every must-deliver suboption (ADD_ADDR and its echo v4/v6 with and without a port,
 * REMOVE_ADDR, MP_PRIO, MP_FAIL, MP_FASTCLOSE, and the DSS with its DATA_ACK, mapping,
 * DATA_FIN and checksum) x SACK blocks 0..4 x timestamps on/off x pure ACK or data,
 * through mptcp_opts_fit + mptcp_opts_emit as mptcp_output uses them: the DSS's
 * mapping on a data segment always goes; on a pure ACK the signal goes, or, if it
 * cannot fit even alone, the rest goes (and the stack drops it, counted); what waits
 * (the DATA_FIN mapping, a DSS) waits only for a signal that went.  The one
 * combination that fits nowhere is an ADD_ADDR for IPv6 with a port and its HMAC
 * (32 octets) beside timestamps (12): libmpt announces no ports. */
TEST(reliability_options_must_deliver_fit_every_combination)
{
	int combos = 0, impossible = 0;

	for (int sg = 0; sg < SIG_N; sg++)
		for (int dv = 0; dv < DSS_N; dv++)
			for (int ts = 0; ts < 2; ts++)
				for (int nblk = 0; nblk <= 4; nblk++)
					for (int data = 0; data < 2; data++) {
						int nsack = nblk;
						struct mptcp_opts w, m;
						struct wire_tcp_opts o;
						uint32_t gave_up, sent, want, sigbit;
						size_t space;
						bool mapped = dv >= DSS_MAP;
						uint8_t flags = WIRE_TCP_ACK;

						/* signals ride on pure ACKs only; a mapping
						 * with data on data segments only */
						if (data != mapped || (data && sg != SIG_NONE))
							continue;
						build(&w, (enum sig)sg, (enum dssv)dv);
						memset(&o, 0, sizeof(o));
						if (ts) {
							o.present |= WIRE_HAS_TS;
							o.tsval = 1;
						}
						if (12 * ts + 4 + 8 * nsack > 40)
							continue; /* the engine never builds it */
						for (int i = 0; i < nsack; i++) {
							o.sack[i].left = 1000u * (uint32_t)i;
							o.sack[i].right = 1000u * (uint32_t)i + 500;
						}
						o.nsack = (uint8_t)nsack;
						if (nsack)
							o.present |= WIRE_HAS_SACK;
						combos++;
						want = w.suboptions;
						sigbit = want &
							 (MPTCP_OPT_ADD_ADDR | MPTCP_OPT_RM_ADDR |
							  MPTCP_OPT_PRIO | MPTCP_OPT_FAIL |
							  MPTCP_OPT_FASTCLOSE);
						space = mptcp_opts_fit(&w, flags, data ? 1000 : 0,
								       &o, &gave_up);
						sent = mptcp_opts_emit(&w, flags, space, &o);
						CHECK(wire_tcp_opts_len(&o) <= WIRE_TCP_MAX_OPT);
						/* the wire form parses back to what was sent */
						mptcp_opts_parse(&m, &o, flags, data ? 1000 : 0,
								 NULL);
						CHECK_EQ(m.suboptions, sent);
						if (sigbit && !(sent & sigbit)) {
							/* fits nowhere: v6 + port + HMAC
							 * beside timestamps, nothing else */
							if (!(sg == SIG_ADD6_PORT && ts))
								printf("# sig %d dss %d ts %d sack "
								       "%d: sent 0x%x\n",
								       sg, dv, ts, nsack, sent);
							CHECK(sg == SIG_ADD6_PORT && ts);
							impossible++;
							/* the rest still goes */
							CHECK(sent & MPTCP_OPT_DSS);
							CHECK_EQ(w.dss.flags & MPTCP_DSS_F,
								 (dv == DSS_ACK_FIN ||
								  dv == DSS_ACK_FIN_CSUM)
									 ? MPTCP_DSS_F
									 : 0);
							continue;
						}
						if (sg == SIG_FASTCLOSE) {
							CHECK_EQ(sent, MPTCP_OPT_FASTCLOSE);
							continue;
						}
						/* the mapping of a data segment always */
						if (mapped) {
							CHECK(sent & MPTCP_OPT_DSS);
							CHECK(m.dss.flags & MPTCP_DSS_M);
							CHECK_EQ(m.dss.has_csum,
								 dv == DSS_MAP_CSUM);
						}
						/* the DATA_ACK, unless it waits for a signal
						 * that went */
						if (!(sent & MPTCP_OPT_DSS)) {
							CHECK(gave_up & MPTCP_FIT_DSS);
							CHECK(sent & sigbit);
						} else {
							CHECK(m.dss.flags & MPTCP_DSS_A);
						}
						/* the DATA_FIN, unless it waits for a signal */
						if ((dv == DSS_ACK_FIN || dv == DSS_ACK_FIN_CSUM) &&
						    !((sent & MPTCP_OPT_DSS) &&
						      (m.dss.flags & MPTCP_DSS_F))) {
							CHECK(gave_up &
							      (MPTCP_FIT_DATA_FIN | MPTCP_FIT_DSS));
							CHECK(sent & sigbit);
						}
						if (sg == SIG_FAIL)
							CHECK_EQ(sent,
								 MPTCP_OPT_DSS | MPTCP_OPT_FAIL);
						else if (sigbit)
							CHECK(sent & sigbit);
					}
	printf("# %d combinations, %d that fit nowhere\n", combos, impossible);
	CHECK(combos > 100);
}

/* ---- the class: a fallback stops every data-level mechanism ---- */

struct fb_watch {
	struct mpt_sim *sim;
	struct blackout *b; /* optional */
	uint64_t rtx_at_fallback[2], reinj_at_fallback[2];
	bool seen[2];
	int bad;
};

/* After every packet: each fallen-back connection has no reinjection queued, no
 * data-level, DATA_FIN or ADD_ADDR retransmission armed, no signal pending, reports
 * no data-level time; and its stack's data-level retransmission counters do not move
 * from then on. */
static void fb_tap(void *ctx, int from, uint32_t path, const uint8_t *pkt, size_t len, uint64_t now)
{
	struct fb_watch *w = ctx;

	if (w->b)
		blackout_tap(w->b, from, path, pkt, len, now);
	for (int e = 0; e < 2; e++) {
		const struct mpt_counters *c = mpt_stack_counters(w->sim->ep[e]);

		for (const struct tcb *t = w->sim->ep[e]->conns; t; t = t->next) {
			const struct mptcp_conn *mp = t->mp;

			if (!mp || !mp->fallback)
				continue;
			if (!w->seen[e]) {
				w->seen[e] = true;
				w->rtx_at_fallback[e] = c->data_rtx;
				w->reinj_at_fallback[e] = c->mptcp_retrans;
			}
			if (mp->reinj.n || mp->data_rtx_at || mp->data_fin_rtx_at || mp->echo_due ||
			    mp->nrm || mptcp_next_timeout(mp) != UINT64_MAX)
				w->bad++;
			for (int id = 0; id < 256; id++)
				if (mp->announce[id].due || mp->announce[id].rtx_at)
					w->bad++;
		}
		if (w->seen[e] && (c->data_rtx != w->rtx_at_fallback[e] ||
				   c->mptcp_retrans != w->reinj_at_fallback[e]))
			w->bad++;
	}
}

TEST(reliability_every_fallback_stops_the_data_level)
{
	enum { PLAIN_SERVER, FIRST_DATA_LOST, SYN_DROPPED, CSUM_INFINITE, BLACKOUT, NCASE };

	for (int k = 0; k < NCASE; k++) {
		struct mpt_config c = rel_cfg(true, k == CSUM_INFINITE), s = c;
		struct mpt_sim sim;
		struct blackout b = {&sim, 20 * MS, 320 * MS};
		struct fb_watch w = {.sim = &sim, .b = k == BLACKOUT ? &b : NULL};
		struct xfer x = {.c2s = k == BLACKOUT ? 105 : 200000,
				 .s2c = k == BLACKOUT ? 0 : 50000,
				 .deadline = 120 * SEC};
		int rv;

		if (k == PLAIN_SERVER)
			s.mptcp = false;
		CHECK_EQ(mpt_sim_init(&sim, 60 + (uint64_t)k, &c, &s, MPT_AF_INET, 1, NULL), 0);
		if (k == FIRST_DATA_LOST)
			sim.link[0][0].cfg.loss_mask = 2;
		if (k == SYN_DROPPED)
			sim.link[0][0].cfg.loss_mask = 0x7;
		if (k == CSUM_INFINITE) {
			sim.link[0][0].cfg.corrupt_from = 30;
			sim.link[0][0].cfg.corrupt_count = 1;
		}
		sim.tap = fb_tap;
		sim.tap_ctx = &w;
		rv = run(&sim, &x);
		printf("# case %d: rv %d fallback seen %d/%d, violations %d\n", k, rv, w.seen[0],
		       w.seen[1], w.bad);
		CHECK(w.seen[0] || w.seen[1]);
		CHECK_EQ(w.bad, 0);
		if (k == CSUM_INFINITE) {
			/* the byte the middlebox rewrote arrives as rewritten (RFC 8684
			 * 3.7); every count and the EOF are right */
			CHECK(x.s_eof && x.c_eof);
			CHECK_U64_EQ(x.s_got, x.c2s);
			CHECK_U64_EQ(x.c_got, x.s2c);
		} else {
			CHECK_EQ(rv, 0);
		}
		mpt_sim_free(&sim);
	}
}

/* A subflow closed with its RST still to send (here an abort: MP_FASTCLOSE on the
 * RST) absorbs what the peer sends meanwhile.  Before, such a segment found no
 * socket and was answered with a plain RST that left first; the peer accepted it
 * and dropped ours, options and all, as meant for no socket (seen against Linux:
 * its MPFailRx stayed 0 after libmpt's MP_FAIL + MP_TCPRST). */
TEST(reliability_script_pending_rst_leaves_before_any_plain_rst)
{
	struct peer p = {.ts = false};
	struct wire_tcp_repr out;
	struct mptcp_opts m;
	int n = 0;

	passive_open(&p);
	data_at(&p, 1, 10);
	recv_check(&p, 10);
	while (mpt_script_pull(&p.s, &out) == 1)
		;
	mpt_abort(p.s.st, p.id, p.s.now);
	data_at(&p, 11, 10); /* in flight when the stack aborted */
	while (mpt_script_pull(&p.s, &out) == 1) {
		n++;
		CHECK(out.flags & WIRE_TCP_RST);
		get(&out, &m);
		/* every RST the peer sees carries the reason */
		CHECK(m.suboptions & MPTCP_OPT_FASTCLOSE);
	}
	CHECK_EQ(n, 1);
	CHECK_EQ(p.s.st->ctr.rst_pending_drop, 1);
	mpt_script_free(&p.s);
}
/* ---- rel2: more fuzz_sim findings ---- */

/* The plain TCP passive open of the scripted peer (MSS 1000, SACK permitted, no
 * window scaling): its SYN offers a 65535-byte window, its ACK `win`. */
static void passive_open_tcp(struct peer *p, uint16_t win)
{
	struct mpt_config c = rel_cfg(false, false);
	struct wire_tcp_repr t, sa;

	c.no_timestamps = true;
	CHECK_EQ(mpt_script_init(&p->s, &c, MPT_AF_INET, 80, 1234), 0);
	CHECK_EQ(mpt_listen(p->s.st, &p->s.local, 4, &p->lid), 0);
	t = mk(p, WIRE_TCP_SYN, PEER_ISS, 0, 0);
	t.opt.present |= WIRE_HAS_MSS | WIRE_HAS_SACK_PERM;
	t.opt.mss = 1000;
	CHECK(mpt_script_inject(&p->s, &t) >= 0);
	CHECK_EQ(mpt_script_pull(&p->s, &sa), 1);
	p->iss = sa.seq;
	t = mk(p, WIRE_TCP_ACK, PEER_ISS + 1, p->iss + 1, 0);
	t.window = win;
	CHECK(mpt_script_inject(&p->s, &t) >= 0);
	CHECK_EQ(mpt_accept(p->s.st, p->lid, &p->id), 0);
}

/* Check a segment of ours: its bytes are the stream's at their offset. */
static void our_bytes_ok(const struct peer *p, const struct wire_tcp_repr *out)
{
	uint32_t off = out->seq - (p->iss + 1);

	for (size_t i = 0; i < out->payload_len; i++)
		CHECK_EQ(out->payload[i], mpt_sim_pattern(off + i));
}

/* fuzz_sim-data-level-gap-at-window-edge: everything we sent is acknowledged, the
 * peer's window is smaller than a segment and than half the largest it offered (the
 * window update that followed was lost), more data waits.  Sender SWS avoidance
 * holds the data back, nothing is in flight, so no ACK will come: RFC 9293
 * 3.8.6.2.1's override timeout must send what the window takes (Linux: the probe
 * timer, tcp_write_wakeup), which the peer answers with its open window.  Before
 * the fix no timer was armed and the connection sat there for good. */
TEST(reliability_script_small_window_nothing_in_flight_is_probed)
{
	struct peer p = {.ts = false};
	struct wire_tcp_repr t, out;
	static uint8_t data[8000];
	uint32_t got = 0; /* bytes of ours the script has, in order */
	uint64_t probes;

	passive_open_tcp(&p, 2000);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = mpt_sim_pattern(i);
	CHECK_EQ(mpt_send(p.s.st, p.id, data, sizeof(data), p.s.now), (ptrdiff_t)sizeof(data));
	while (mpt_script_pull(&p.s, &out) == 1) {
		our_bytes_ok(&p, &out);
		CHECK_EQ(out.seq, p.iss + 1 + got);
		got += (uint32_t)out.payload_len;
	}
	CHECK_EQ(got, 2000);
	/* all acknowledged; the window shrinks to 500 (the reader is slow) */
	t = mk(&p, WIRE_TCP_ACK, PEER_ISS + 1, p.iss + 1 + got, 0);
	t.window = 500;
	CHECK(mpt_script_inject(&p.s, &t) >= 0);
	CHECK_EQ(mpt_script_pull(&p.s, &out), 0); /* SWS avoidance: not yet */
	probes = mpt_stack_counters(p.s.st)->win_probe;
	/* the update to a wide window is lost; the override timeout sends 500 bytes */
	CHECK(mpt_stack_next_timeout(p.s.st) != UINT64_MAX);
	for (int k = 0; k < 50 && got == 2000; k++) {
		mpt_script_advance(&p.s, 100 * MS);
		while (mpt_script_pull(&p.s, &out) == 1) {
			our_bytes_ok(&p, &out);
			CHECK_EQ(out.seq, p.iss + 1 + got);
			CHECK(out.payload_len <= 500);
			got += (uint32_t)out.payload_len;
		}
	}
	CHECK_EQ(got, 2500);
	CHECK_U64_EQ(mpt_stack_counters(p.s.st)->win_probe, probes + 1);
	/* the peer answers with its open window: the rest flows */
	for (int k = 0; k < 20 && got < sizeof(data); k++) {
		t = mk(&p, WIRE_TCP_ACK, PEER_ISS + 1, p.iss + 1 + got, 0);
		CHECK(mpt_script_inject(&p.s, &t) >= 0);
		while (mpt_script_pull(&p.s, &out) == 1) {
			if (out.seq != p.iss + 1 + got)
				continue;
			our_bytes_ok(&p, &out);
			got += (uint32_t)out.payload_len;
		}
		mpt_script_advance(&p.s, 10 * MS);
	}
	CHECK_EQ(got, sizeof(data));
	mpt_script_free(&p.s);
}

struct lost_fourth {
	uint64_t path0_dead_from; /* path 0 drops everything from then on */
	int fourth_dropped;	  /* the server's first ACK on path 1 after its SYN-ACK */
};

static uint32_t lost_fourth_fault(void *ctx, int from, uint32_t path, const uint8_t *pkt,
				  size_t len, uint64_t now, uint64_t *delay_ns)
{
	struct lost_fourth *f = ctx;
	struct wire_ip_repr ip;
	struct wire_tcp_repr t;
	ptrdiff_t h;

	(void)delay_ns;
	if (path == 0 && now >= f->path0_dead_from)
		return MPT_SIM_FAULT_DROP;
	if (path != 1 || from != 1 || f->fourth_dropped)
		return 0;
	h = wire_ip_parse(&ip, pkt, len);
	if (h < 0 || wire_tcp_parse(&t, pkt + h, len - (size_t)h, NULL) < 0)
		return 0;
	if (t.flags & (WIRE_TCP_SYN | WIRE_TCP_RST))
		return 0;
	f->fourth_dropped++;
	return MPT_SIM_FAULT_DROP;
}

/* fuzz_sim-no-reinjection-after-subflow-reset: the server's answer to the third ACK
 * of an MP_JOIN (the fourth ACK) is lost.  The client repeats its third ACK and sends
 * nothing on the subflow until it is answered; the server took a repeat as a pure
 * duplicate ACK and never answered.  Then the first subflow's path died: the joined
 * subflow stayed ESTABLISHED, unusable, carrying 0 bytes, and the transfer hung with
 * no error.  Now the server answers each repeated third ACK (as Linux's
 * check_fully_established): everything arrives over path 1. */
TEST(reliability_lost_fourth_ack_of_a_join_is_answered_again)
{
	struct mpt_config c = rel_cfg(true, false);
	struct mpt_sim sim;
	struct lost_fourth f = {.path0_dead_from = 100 * MS};
	/* the server sends nothing: a server with data in flight on the dying path
	 * would send its head again on the joined subflow (mptcp_head_reinject), and
	 * that segment answers the third ACK as well as the lost fourth ACK would */
	struct xfer x = {.c2s = 2000000, .s2c = 0, .deadline = 60 * SEC};
	int rv;

	CHECK_EQ(mpt_sim_init(&sim, 77, &c, &c, MPT_AF_INET, 2, NULL), 0);
	CHECK_EQ(mpt_stack_add_endpoint(sim.ep[0], 1, 1, MPT_EP_SUBFLOW), 0);
	sim.fault = lost_fourth_fault;
	sim.fault_ctx = &f;
	rv = run(&sim, &x);
	if (rv) {
		dump("client", sim.ep[0]);
		dump("server", sim.ep[1]);
	}
	CHECK_EQ(f.fourth_dropped, 1);
	CHECK_EQ(rv, 0);
	CHECK(x.s_ok && x.c_ok);
	CHECK_U64_EQ(x.s_got, x.c2s);
	CHECK_U64_EQ(x.c_got, x.s2c);
	CHECK(mpt_stack_counters(sim.ep[1])->join_ack_rtx_rx >= 1);
	/* most of it went over path 1, after path 0 died */
	printf("# path 1 carried %llu bytes\n", (unsigned long long)sim.link[0][1].bytes_delivered);
	CHECK(sim.link[0][1].bytes_delivered > x.c2s / 2);
	mpt_sim_free(&sim);
}

/* A segment of the stack's on a subflow whose byte stream is the data stream: its
 * bytes are the stream's at their subflow offset, an infinite mapping says so too. */
static void stream_seg(struct peer *p, const struct wire_tcp_repr *out, uint32_t *sent, int *infmap)
{
	struct mptcp_opts m;
	uint32_t off = out->seq - (p->iss + 1);

	our_bytes_ok(p, out);
	get(out, &m);
	if ((m.suboptions & MPTCP_OPT_DSS) && (m.dss.flags & MPTCP_DSS_M) && m.dss.data_len == 0) {
		(*infmap)++;
		CHECK_U64_EQ(m.dss.data_seq - (p->idsn + 1), m.dss.subflow_seq - 1);
	}
	if (out->payload_len && off + out->payload_len > *sent)
		*sent = off + (uint32_t)out->payload_len;
}

/* Seen by the integrity runner (seed 7074, "byte 262656 is wrong"): MP_FAIL on the
 * only subflow while the receiver does not read.  The stack has sent all it has; the
 * peer acknowledges it at the TCP level but DATA_ACKs none, with MP_FAIL for the
 * first byte.  The stack owes an infinite mapping on its next data segment, and has
 * none to send.  Its data-level retransmission timer must not put those bytes on the
 * subflow again meanwhile: the subflow's byte stream becomes the data stream (RFC
 * 8684 3.7), so every byte at subflow offset k must be stream byte k.  Before the
 * fix the timer queued them again on that subflow, the infinite mapping rode on the
 * reinjected segment, and after the fallback the peer appended them a second time. */
TEST(reliability_script_no_reinjection_after_mp_fail)
{
	struct peer p = {.ts = false};
	struct wire_tcp_repr t, out;
	struct mptcp_opts w;
	static uint8_t data[30000];
	uint32_t sent = 0;
	int infmap = 0;

	passive_open(&p);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = mpt_sim_pattern(i);
	CHECK_EQ(mpt_send(p.s.st, p.id, data, 4000, p.s.now), 4000);
	while (mpt_script_pull(&p.s, &out) == 1) {
		our_bytes_ok(&p, &out);
		sent += (uint32_t)out.payload_len;
	}
	/* TCP-level ACKs only (the reader is paused: no DATA_ACK) until all is out */
	for (int k = 0; k < 5 && sent < 4000; k++) {
		p.s.now += 20 * MS;
		t = mk(&p, WIRE_TCP_ACK, PEER_ISS + 1, p.iss + 1 + sent, 0);
		memset(&w, 0, sizeof(w));
		w.suboptions = MPTCP_OPT_DSS;
		w.dss.flags = MPTCP_DSS_A | MPTCP_DSS_a;
		w.dss.data_ack = p.idsn + 1;
		put(&t, &w);
		CHECK(mpt_script_inject(&p.s, &t) >= 0);
		while (mpt_script_pull(&p.s, &out) == 1) {
			our_bytes_ok(&p, &out);
			sent += (uint32_t)out.payload_len;
		}
	}
	CHECK_EQ(sent, 4000);
	/* all TCP-acked, nothing DATA_ACKed, MP_FAIL at the first byte */
	p.s.now += 20 * MS;
	t = mk(&p, WIRE_TCP_ACK, PEER_ISS + 1, p.iss + 1 + sent, 0);
	memset(&w, 0, sizeof(w));
	w.suboptions = MPTCP_OPT_DSS | MPTCP_OPT_FAIL;
	w.dss.flags = MPTCP_DSS_A | MPTCP_DSS_a;
	w.dss.data_ack = p.idsn + 1;
	w.fail.dsn = p.idsn + 1;
	put(&t, &w);
	CHECK(mpt_script_inject(&p.s, &t) >= 0);
	CHECK_U64_EQ(mpt_stack_counters(p.s.st)->mp_fail_rx, 1);
	CHECK(mpt_stack_counters(p.s.st)->subflow_dead == 0);
	/* ten seconds of paused reader, nothing new to send: whatever goes out is the
	 * stream in order */
	for (int k = 0; k < 100; k++) {
		mpt_script_advance(&p.s, 100 * MS);
		while (mpt_script_pull(&p.s, &out) == 1)
			stream_seg(&p, &out, &sent, &infmap);
	}
	/* more data: the infinite mapping maps subflow offset k to stream byte k, and
	 * the rest follows in order */
	CHECK_EQ(mpt_send(p.s.st, p.id, data + 4000, 16000, p.s.now), 16000);
	for (int k = 0; k < 20 && sent < 20000; k++) {
		t = mk(&p, WIRE_TCP_ACK, PEER_ISS + 1, p.iss + 1 + sent, 0);
		memset(&w, 0, sizeof(w));
		w.suboptions = MPTCP_OPT_DSS;
		w.dss.flags = MPTCP_DSS_A | MPTCP_DSS_a;
		w.dss.data_ack = p.idsn + 1 + sent;
		put(&t, &w);
		CHECK(mpt_script_inject(&p.s, &t) >= 0);
		mpt_script_advance(&p.s, 10 * MS);
		while (mpt_script_pull(&p.s, &out) == 1)
			stream_seg(&p, &out, &sent, &infmap);
	}
	if (infmap < 1)
		dump("stack", p.s.st);
	CHECK_EQ(sent, 20000);
	CHECK(infmap >= 1);
	mpt_script_free(&p.s);
}

/* One upload with a subflow that joins in the first window (the client's endpoint on
 * path 1 exists before connect; sometimes the server announces its path-1 address
 * too), lossy reordering paths of different delays, a small server receive buffer
 * and a reader that reads in bursts `gap` apart.  Returns false on a wrong byte, or
 * on no EOF / a short read without a reported error. */
static bool early_join_upload(uint64_t seed)
{
	uint64_t r = seed * 0x9e3779b97f4a7c15ull + 7;
	struct mpt_config c = rel_cfg(true, false), s;
	struct mpt_sim_link_cfg l;
	struct mpt_sim sim;
	struct mpt_sockaddr cl, sv;
	static uint8_t buf[16384];
	uint64_t total, sent = 0, got = 0, gap, next_read = 0;
	uint32_t lid, cid, sid = 0;
	bool have = false, shut = false, eof = false, ok = true;
	int err = 0;

	c.mptcp_checksum = mpt_sim_rand(&r) % 3 == 0;
	s = c;
	c.sndbuf = 65536u << (mpt_sim_rand(&r) % 3);
	s.rcvbuf = 16384u << (mpt_sim_rand(&r) % 4);
	memset(&l, 0, sizeof(l));
	l.rate_bps = (1 + mpt_sim_rand(&r) % 10) * 10000000ull;
	l.delay_ns = (1 + mpt_sim_rand(&r) % 20) * MS;
	l.loss = (double)(mpt_sim_rand(&r) % 4) / 100.0;
	l.reorder = (double)(mpt_sim_rand(&r) % 4) / 100.0;
	l.reorder_ns = (1 + mpt_sim_rand(&r) % 10) * MS;
	l.queue_bytes = 16000u << (mpt_sim_rand(&r) % 4);
	gap = (mpt_sim_rand(&r) % 60) * MS;
	total = (1 + mpt_sim_rand(&r) % 8) * 250000ull;
	CHECK_EQ(mpt_sim_init(&sim, seed, &c, &s, MPT_AF_INET, 2, &l), 0);
	sim.link[0][1].cfg.delay_ns = sim.link[1][1].cfg.delay_ns =
		(1 + mpt_sim_rand(&r) % 30) * MS;
	if (mpt_sim_rand(&r) % 2)
		CHECK_EQ(mpt_stack_add_endpoint(sim.ep[1], 7, 1, MPT_EP_SIGNAL), 0);
	CHECK_EQ(mpt_stack_add_endpoint(sim.ep[0], 1, 1, MPT_EP_SUBFLOW), 0);
	cl = mpt_sim_addr(&sim, 0, 0, 0);
	sv = mpt_sim_addr(&sim, 1, 0, 5001);
	CHECK_EQ(mpt_listen(sim.ep[1], &sv, 4, &lid), 0);
	CHECK_EQ(mpt_connect(sim.ep[0], &cl, &sv, sim.now, &cid), 0);
	while (sim.now < 300 * SEC && !eof) {
		struct mpt_event ev;
		ptrdiff_t k;

		while (mpt_stack_poll_event(sim.ep[0], &ev) == 1)
			if (ev.type == MPT_EV_ERROR)
				err = ev.err ? ev.err : -1;
		while (mpt_stack_poll_event(sim.ep[1], &ev) == 1) {
			if (ev.type == MPT_EV_ACCEPTABLE && !have &&
			    mpt_accept(sim.ep[1], lid, &sid) == 0)
				have = true;
			if (ev.type == MPT_EV_ERROR && have && ev.id == sid)
				err = ev.err ? ev.err : -1;
		}
		if (err)
			break;
		pump(sim.ep[0], cid, total, &sent, sim.now);
		if (sent == total && !shut) {
			mpt_shutdown(sim.ep[0], cid, MPT_SHUT_WR, sim.now);
			shut = true;
		}
		if (have && sim.now >= next_read) {
			while ((k = mpt_recv(sim.ep[1], sid, buf, sizeof(buf), sim.now)) >= 0) {
				if (k == 0) {
					eof = true;
					break;
				}
				ok &= verify(buf, k, &got, total);
			}
			next_read = sim.now + gap;
		}
		if (!mpt_sim_step(&sim, have && next_read > sim.now ? next_read : 300 * SEC) &&
		    sim.now >= 300 * SEC)
			break;
	}
	if (!ok || (!err && (!eof || got != total))) {
		printf("# seed %llu csum %d rcvbuf %u gap %llu ms: %llu of %llu bytes, ok %d eof "
		       "%d err %d at %.3f s\n",
		       (unsigned long long)seed, c.mptcp_checksum, s.rcvbuf,
		       (unsigned long long)(gap / MS), (unsigned long long)got,
		       (unsigned long long)total, ok, eof, err, sim.now / 1e9);
		ok = false;
	}
	mpt_sim_free(&sim);
	return ok;
}

/* Seen against Linux (libmpt_multipath.bats, an upload with the server announcing its
 * second address): once a stall about 1 s in with all sent data acknowledged on its
 * subflow, once wrong bytes 17 KB in.  A first guess was data mapped on a subflow
 * that joins while the first window is in flight.  Not reproduced here (nor by
 * 20000 integrity seeds or fuzz_sim); this keeps that class covered: every byte of
 * every run is checked. */
TEST(reliability_join_in_the_first_window_lossy_slow_reader)
{
	int bad = 0;

	for (uint64_t seed = 1; seed <= 40; seed++)
		bad += !early_join_upload(seed);
	CHECK_EQ(bad, 0);
}
