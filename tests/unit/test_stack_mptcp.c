/* MPTCP over one subflow: engine pairs in virtual time, and scripted segments for
 * the MP_CAPABLE handshake forms and DSS mappings. */
#include "test.h"
#include "mpt_sim.h"
#include "mptcp.h"
#include "mptcp_crypto.h"

#define MS 1000000ull

static struct mpt_config mp_cfg(bool mptcp)
{
	struct mpt_config c;

	mpt_config_default(&c);
	c.mptcp = mptcp;
	return c;
}

static void dump(const char *who, const struct mpt_stack *st)
{
	char buf[8192];

	if (mpt_counters_format(mpt_stack_counters(st), false, buf, sizeof(buf)) > 0)
		printf("# %s\n%s", who, buf);
}

/* ---- engine pairs ---- */

TEST(stack_mptcp_sim_transfer)
{
	struct mpt_config c = mp_cfg(true);
	struct mpt_sim sim;
	struct mpt_sim_xfer x = {.bytes = 2000000, .deadline_ns = 60000000000ull};
	const struct mpt_counters *cc, *sc;

	CHECK_EQ(mpt_sim_init(&sim, 11, &c, &c, MPT_AF_INET, 1, NULL), 0);
	CHECK_EQ(mpt_sim_transfer(&sim, &x), 0);
	CHECK(x.data_ok);
	CHECK(x.eof);
	CHECK_U64_EQ(x.received, x.bytes);
	CHECK(x.client_info.mptcp);
	CHECK(!x.client_info.mptcp_fallback);
	/* every data byte mapped: the client's data level advanced by bytes + DATA_FIN */
	cc = mpt_stack_counters(sim.ep[0]);
	sc = mpt_stack_counters(sim.ep[1]);
	dump("client", sim.ep[0]);
	dump("server", sim.ep[1]);
	CHECK_U64_EQ(cc->mpc_syn_tx, 1);
	CHECK_U64_EQ(cc->mpc_synack_rx, 1);
	CHECK_U64_EQ(sc->mpc_syn_rx, 1);
	CHECK_U64_EQ(sc->mpc_ack_rx, 1);
	CHECK_U64_EQ(cc->mpc_fallback_synack + sc->mpc_fallback_ack + sc->mpc_data_fallback, 0);
	CHECK_U64_EQ(cc->dss_not_matching + sc->dss_not_matching, 0);
	CHECK_U64_EQ(sc->data_fin_rx, 1);
	CHECK_U64_EQ(cc->mptcp_opt_malformed + sc->mptcp_opt_malformed, 0);
	CHECK_EQ(x.client_info.snd_mss, 1460 - 12 - MPTCP_OPT_RESERVE);
	mpt_sim_free(&sim);
}

TEST(stack_mptcp_sim_lossy)
{
	struct mpt_config c = mp_cfg(true);
	struct mpt_sim_link_cfg link = {.rate_bps = 50000000, .delay_ns = 10 * MS, .loss = 0.02};
	struct mpt_sim sim;
	struct mpt_sim_xfer x = {.bytes = 1000000, .deadline_ns = 120000000000ull};
	const struct mpt_counters *sc;

	CHECK_EQ(mpt_sim_init(&sim, 12, &c, &c, MPT_AF_INET, 1, &link), 0);
	CHECK_EQ(mpt_sim_transfer(&sim, &x), 0);
	CHECK(x.data_ok);
	sc = mpt_stack_counters(sim.ep[1]);
	CHECK(x.client_info.mptcp);
	CHECK_U64_EQ(sc->dss_not_matching, 0);
	CHECK_U64_EQ(sc->mpc_fallback_ack + sc->mpc_data_fallback, 0);
	mpt_sim_free(&sim);
}

/* Losing the first data segment (it carries MP_CAPABLE: the client had data ready
 * with the third ACK): the server completes its handshake on a DSS segment and falls
 * back, as Linux does ("even OoO DSS packets coming legitly after dropped or
 * reordered MPC will cause fallback"); the client sees its data acknowledged without
 * a DATA_ACK and falls back too.  The stream survives. */
TEST(stack_mptcp_sim_first_data_lost)
{
	struct mpt_config c = mp_cfg(true);
	struct mpt_sim sim;
	struct mpt_sim_xfer x = {.bytes = 100000, .deadline_ns = 60000000000ull};
	const struct mpt_counters *sc, *cc;

	CHECK_EQ(mpt_sim_init(&sim, 13, &c, &c, MPT_AF_INET, 1, NULL), 0);
	sim.link[0][0].cfg.loss_mask = 2; /* the client's second packet */
	CHECK_EQ(mpt_sim_transfer(&sim, &x), 0);
	CHECK(x.data_ok);
	sc = mpt_stack_counters(sim.ep[1]);
	cc = mpt_stack_counters(sim.ep[0]);
	CHECK_U64_EQ(sim.link[0][0].dropped_mask, 1);
	CHECK_U64_EQ(sc->mpc_ack_rx, 0);
	CHECK_U64_EQ(sc->mpc_fallback_ack, 1);
	CHECK_U64_EQ(cc->mpc_ack_fallback, 1);
	CHECK(!x.client_info.mptcp);
	mpt_sim_free(&sim);
}

TEST(stack_mptcp_sim_fallback_plain_server)
{
	struct mpt_config c = mp_cfg(true), s = mp_cfg(false);
	struct mpt_sim sim;
	struct mpt_sim_xfer x = {.bytes = 300000, .deadline_ns = 60000000000ull};

	CHECK_EQ(mpt_sim_init(&sim, 14, &c, &s, MPT_AF_INET, 1, NULL), 0);
	CHECK_EQ(mpt_sim_transfer(&sim, &x), 0);
	CHECK(x.data_ok);
	CHECK(!x.client_info.mptcp);
	CHECK(x.client_info.mptcp_fallback);
	CHECK_EQ(x.client_info.snd_mss, 1460 - 12);
	CHECK_U64_EQ(mpt_stack_counters(sim.ep[0])->mpc_fallback_synack, 1);
	CHECK_U64_EQ(mpt_stack_counters(sim.ep[1])->mpc_syn_rx, 0);
	mpt_sim_free(&sim);
}

TEST(stack_mptcp_sim_plain_client)
{
	struct mpt_config c = mp_cfg(false), s = mp_cfg(true);
	struct mpt_sim sim;
	struct mpt_sim_xfer x = {.bytes = 300000, .deadline_ns = 60000000000ull};

	CHECK_EQ(mpt_sim_init(&sim, 15, &c, &s, MPT_AF_INET, 1, NULL), 0);
	CHECK_EQ(mpt_sim_transfer(&sim, &x), 0);
	CHECK(x.data_ok);
	CHECK(!x.client_info.mptcp);
	CHECK_U64_EQ(mpt_stack_counters(sim.ep[1])->mpc_syn_rx, 0);
	CHECK_U64_EQ(mpt_stack_counters(sim.ep[1])->mptcp_opt_malformed, 0);
	mpt_sim_free(&sim);
}

/* ---- scripted segments: the handshake forms and mappings ---- */

#define PEER_ISS 5000u
#define PEER_KEY 0x0123456789abcdefull

static struct wire_tcp_repr seg_mk(uint8_t flags, uint32_t seq, uint32_t ack)
{
	struct wire_tcp_repr t;

	memset(&t, 0, sizeof(t));
	t.flags = flags;
	t.seq = seq;
	t.ack = ack;
	t.window = 65535;
	return t;
}

static uint8_t pay[2048];

static void with_payload(struct wire_tcp_repr *t, size_t len)
{
	for (size_t i = 0; i < len; i++)
		pay[i] = (uint8_t)(i * 7 + 1);
	t->payload = pay;
	t->payload_len = len;
}

/* Put the MPTCP suboptions of w on t (as a peer would). */
static void put_mp(struct wire_tcp_repr *t, struct mptcp_opts *w)
{
	size_t used = wire_tcp_opts_len(&t->opt);

	CHECK_EQ(mptcp_opts_emit(w, t->flags, WIRE_TCP_MAX_OPT - used, &t->opt), w->suboptions);
}

static void get_mp(const struct wire_tcp_repr *t, struct mptcp_opts *m)
{
	mptcp_opts_parse(m, &t->opt, t->flags, t->payload_len, NULL);
}

static int inject(struct mpt_script *s, struct wire_tcp_repr t)
{
	return mpt_script_inject(s, &t);
}

struct mp_peer {
	struct mpt_script s;
	uint32_t lid, id, iss;
	uint64_t key;		  /* the stack's key (from its SYN-ACK / third ACK) */
	uint64_t idsn, peer_idsn; /* the stack's and the peer's IDSN */
};

static uint64_t idsn_of(struct mpt_script *s, uint64_t key)
{
	uint64_t idsn;

	CHECK_EQ(mptcp_crypto_key_sha(&s->st->env.crypto, key, NULL, &idsn), 0);
	return idsn;
}

/* The script sends an MP_CAPABLE SYN (flags given) to the stack listening on :80;
 * returns the SYN-ACK. */
static void passive_syn(struct mp_peer *p, uint8_t mpc_flags, struct wire_tcp_repr *sa)
{
	struct mpt_config c = mp_cfg(true);
	struct wire_tcp_repr syn = seg_mk(WIRE_TCP_SYN, PEER_ISS, 0);
	struct mptcp_opts w = {.suboptions = MPTCP_OPT_MPC_SYN};

	CHECK_EQ(mpt_script_init(&p->s, &c, MPT_AF_INET, 80, 1234), 0);
	CHECK_EQ(mpt_listen(p->s.st, &p->s.local, 4, &p->lid), 0);
	w.mpc.version = 1;
	w.mpc.flags = mpc_flags;
	syn.opt.present |= WIRE_HAS_MSS;
	syn.opt.mss = 1460;
	put_mp(&syn, &w);
	inject(&p->s, syn);
	CHECK_EQ(mpt_script_pull(&p->s, sa), 1);
	CHECK_EQ(sa->flags, WIRE_TCP_SYN | WIRE_TCP_ACK);
	p->iss = sa->seq;
	p->peer_idsn = idsn_of(&p->s, PEER_KEY);
}

static void accept_one(struct mp_peer *p)
{
	CHECK_EQ(mpt_accept(p->s.st, p->lid, &p->id), 0);
}

TEST(stack_mptcp_script_passive)
{
	struct mp_peer p;
	struct wire_tcp_repr sa, t, out;
	struct mptcp_opts m, w;
	struct mpt_conn_info i;
	struct mpt_event ev;
	uint8_t buf[256];
	const struct mpt_counters *c;

	passive_syn(&p, MPTCP_MPC_H, &sa);
	c = mpt_stack_counters(p.s.st);
	get_mp(&sa, &m);
	CHECK_EQ(m.suboptions, MPTCP_OPT_MPC_SYNACK);
	CHECK_EQ(m.mpc.version, 1);
	CHECK_EQ(m.mpc.flags, MPTCP_MPC_H); /* no checksum asked */
	p.key = m.mpc.sndr_key;
	p.idsn = idsn_of(&p.s, p.key);
	CHECK_U64_EQ(c->mpc_syn_rx, 1);

	/* third ACK with both keys */
	t = seg_mk(WIRE_TCP_ACK, PEER_ISS + 1, p.iss + 1);
	memset(&w, 0, sizeof(w));
	w.suboptions = MPTCP_OPT_MPC_ACK;
	w.mpc.version = 1;
	w.mpc.flags = MPTCP_MPC_H;
	w.mpc.sndr_key = PEER_KEY;
	w.mpc.rcvr_key = p.key;
	put_mp(&t, &w);
	inject(&p.s, t);
	CHECK_U64_EQ(c->mpc_ack_rx, 1);
	accept_one(&p);
	CHECK_EQ(mpt_conn_info(p.s.st, p.id, &i), 0);
	CHECK(i.mptcp);
	CHECK_EQ(i.snd_mss, 1460 - MPTCP_OPT_RESERVE);

	/* data mapped at IDSN + 1, subflow sequence 1 */
	t = seg_mk(WIRE_TCP_ACK, PEER_ISS + 1, p.iss + 1);
	with_payload(&t, 100);
	memset(&w, 0, sizeof(w));
	w.suboptions = MPTCP_OPT_DSS;
	w.dss.flags = MPTCP_DSS_A | MPTCP_DSS_a | MPTCP_DSS_M | MPTCP_DSS_m;
	w.dss.data_ack = p.idsn + 1;
	w.dss.data_seq = p.peer_idsn + 1;
	w.dss.subflow_seq = 1;
	w.dss.data_len = 100;
	put_mp(&t, &w);
	inject(&p.s, t);
	CHECK_EQ(mpt_recv(p.s.st, p.id, buf, sizeof(buf), p.s.now), 100);
	CHECK(!memcmp(buf, pay, 100));

	/* our data: DSS with an 8-octet DSN and DATA_ACK */
	CHECK_EQ(mpt_send(p.s.st, p.id, "hello", 5, p.s.now), 5);
	CHECK_EQ(mpt_script_pull(&p.s, &out), 1);
	CHECK_EQ(out.payload_len, 5);
	get_mp(&out, &m);
	CHECK_EQ(m.suboptions, MPTCP_OPT_DSS);
	CHECK_EQ(m.dss.flags,
		 MPTCP_DSS_A | MPTCP_DSS_a | MPTCP_DSS_M | MPTCP_DSS_m); /* no checksum */
	CHECK(!m.dss.has_csum);
	CHECK_U64_EQ(m.dss.data_ack, p.peer_idsn + 101);
	CHECK_U64_EQ(m.dss.data_seq, p.idsn + 1);
	CHECK_U64_EQ(m.dss.subflow_seq, 1);
	CHECK_EQ(m.dss.data_len, 5);

	/* ten more bytes, mapped right after the first hundred */
	t = seg_mk(WIRE_TCP_ACK, PEER_ISS + 101, p.iss + 6);
	with_payload(&t, 10);
	w.dss.data_ack = p.idsn + 6;
	w.dss.data_seq = p.peer_idsn + 101;
	w.dss.subflow_seq = 101;
	w.dss.data_len = 10;
	put_mp(&t, &w);
	inject(&p.s, t);
	CHECK_U64_EQ(c->dss_not_matching, 0);
	CHECK_EQ(mpt_recv(p.s.st, p.id, buf, sizeof(buf), p.s.now), 10);
	/* out-of-order subflow bytes with their map, then the same bytes again under
	 * other data sequence numbers: a mapping that contradicts the known one is
	 * counted and not trusted (RFC 8684 3.3.1); nothing new to read */
	t = seg_mk(WIRE_TCP_ACK, PEER_ISS + 121, p.iss + 6);
	with_payload(&t, 10);
	w.dss.data_seq = p.peer_idsn + 121;
	w.dss.subflow_seq = 121;
	put_mp(&t, &w);
	inject(&p.s, t);
	CHECK_U64_EQ(c->dss_not_matching, 0);
	t = seg_mk(WIRE_TCP_ACK, PEER_ISS + 121, p.iss + 6);
	with_payload(&t, 10);
	w.dss.data_seq = p.peer_idsn + 5000;
	put_mp(&t, &w);
	inject(&p.s, t);
	CHECK_U64_EQ(c->dss_not_matching, 1);
	CHECK_EQ(mpt_recv(p.s.st, p.id, buf, sizeof(buf), p.s.now), MPT_EAGAIN);

	/* DATA_FIN on a pure ACK (Linux's form: subflow seq 0, length 1): EOF for the
	 * application, DATA_ACK covers it, the subflow stays open */
	while (mpt_stack_poll_event(p.s.st, &ev) == 1)
		;
	t = seg_mk(WIRE_TCP_ACK, PEER_ISS + 111, p.iss + 6);
	memset(&w, 0, sizeof(w));
	w.suboptions = MPTCP_OPT_DSS;
	w.dss.flags = MPTCP_DSS_A | MPTCP_DSS_a | MPTCP_DSS_M | MPTCP_DSS_m | MPTCP_DSS_F;
	w.dss.data_ack = p.idsn + 6;
	w.dss.data_seq = p.peer_idsn + 111;
	w.dss.subflow_seq = 0;
	w.dss.data_len = 1;
	put_mp(&t, &w);
	inject(&p.s, t);
	CHECK_EQ(mpt_recv(p.s.st, p.id, buf, sizeof(buf), p.s.now), 0);
	CHECK_EQ(mpt_stack_poll_event(p.s.st, &ev), 1);
	CHECK_EQ(ev.type, MPT_EV_PEER_CLOSED);
	CHECK_EQ(mpt_script_pull(&p.s, &out), 1);
	get_mp(&out, &m);
	CHECK_U64_EQ(m.dss.data_ack, p.peer_idsn + 112);
	CHECK_EQ(out.ack, PEER_ISS + 111); /* no subflow FIN was consumed */
	CHECK_EQ(mpt_conn_info(p.s.st, p.id, &i), 0);
	CHECK_EQ(i.state, MPT_ESTABLISHED);

	/* our close: a DATA_FIN alone first (the subflow stays open: it could still
	 * carry reinjected data), the subflow FIN once both DATA_FINs are acknowledged
	 * (RFC 8684 3.3.3) */
	CHECK_EQ(mpt_close(p.s.st, p.id, p.s.now), 0);
	CHECK_EQ(mpt_script_pull(&p.s, &out), 1);
	CHECK(!(out.flags & WIRE_TCP_FIN));
	get_mp(&out, &m);
	CHECK(m.dss.flags & MPTCP_DSS_F);
	CHECK_U64_EQ(m.dss.data_seq, p.idsn + 6);
	CHECK_EQ(m.dss.subflow_seq, 0);
	CHECK_EQ(m.dss.data_len, 1);
	t = seg_mk(WIRE_TCP_ACK, PEER_ISS + 111, p.iss + 6);
	memset(&w, 0, sizeof(w));
	w.suboptions = MPTCP_OPT_DSS;
	w.dss.flags = MPTCP_DSS_A | MPTCP_DSS_a;
	w.dss.data_ack = p.idsn + 7;
	put_mp(&t, &w);
	inject(&p.s, t);
	CHECK_EQ(mpt_script_pull(&p.s, &out), 1);
	CHECK(out.flags & WIRE_TCP_FIN);
	mpt_script_free(&p.s);
}

/* The third ACK was lost: the first data carries MP_CAPABLE with both keys and a
 * data-level length (RFC 8684 3.1); it completes the handshake. */
TEST(stack_mptcp_script_passive_third_ack_lost)
{
	struct mp_peer p;
	struct wire_tcp_repr sa, t, out;
	struct mptcp_opts m, w;
	uint8_t buf[256];

	passive_syn(&p, MPTCP_MPC_H, &sa);
	get_mp(&sa, &m);
	p.key = m.mpc.sndr_key;
	t = seg_mk(WIRE_TCP_ACK, PEER_ISS + 1, p.iss + 1);
	with_payload(&t, 200);
	memset(&w, 0, sizeof(w));
	w.suboptions = MPTCP_OPT_MPC_ACK;
	w.mpc.version = 1;
	w.mpc.flags = MPTCP_MPC_H;
	w.mpc.sndr_key = PEER_KEY;
	w.mpc.rcvr_key = p.key;
	w.mpc.has_data_len = true;
	w.mpc.data_len = 200;
	put_mp(&t, &w);
	inject(&p.s, t);
	CHECK_U64_EQ(mpt_stack_counters(p.s.st)->mpc_ack_rx, 1);
	CHECK_U64_EQ(mpt_stack_counters(p.s.st)->mpc_fallback_ack, 0);
	accept_one(&p);
	CHECK_EQ(mpt_recv(p.s.st, p.id, buf, sizeof(buf), p.s.now), 200);
	mpt_script_advance(&p.s, 50 * MS); /* delayed ACK */
	CHECK_EQ(mpt_script_pull(&p.s, &out), 1);
	get_mp(&out, &m);
	CHECK_EQ(m.suboptions, MPTCP_OPT_DSS);
	CHECK_U64_EQ(m.dss.data_ack, p.peer_idsn + 201);
	mpt_script_free(&p.s);
}

TEST(stack_mptcp_script_passive_fallback_ack)
{
	struct mp_peer p;
	struct wire_tcp_repr sa, out;
	struct mpt_conn_info i;

	passive_syn(&p, MPTCP_MPC_H, &sa);
	inject(&p.s, seg_mk(WIRE_TCP_ACK, PEER_ISS + 1, p.iss + 1)); /* no MP_CAPABLE */
	CHECK_U64_EQ(mpt_stack_counters(p.s.st)->mpc_fallback_ack, 1);
	accept_one(&p);
	CHECK_EQ(mpt_conn_info(p.s.st, p.id, &i), 0);
	CHECK(!i.mptcp && i.mptcp_fallback);
	CHECK_EQ(i.snd_mss, 1460);
	CHECK_EQ(mpt_send(p.s.st, p.id, "x", 1, p.s.now), 1);
	CHECK_EQ(mpt_script_pull(&p.s, &out), 1);
	CHECK_EQ(out.opt.nmptcp, 0);
	mpt_script_free(&p.s);
}

/* A SYN asking for DSS checksums (flag A): "if either host requires the use of
 * checksums, checksums MUST be used" (RFC 8684 3.1): the SYN-ACK says A too. */
TEST(stack_mptcp_script_passive_csum_accepted)
{
	struct mp_peer p;
	struct wire_tcp_repr sa;
	struct mptcp_opts m;

	passive_syn(&p, MPTCP_MPC_A | MPTCP_MPC_H, &sa);
	get_mp(&sa, &m);
	CHECK_EQ(m.suboptions, MPTCP_OPT_MPC_SYNACK);
	CHECK(m.mpc.flags & MPTCP_MPC_A);
	CHECK(m.mpc.flags & MPTCP_MPC_H);
	mpt_script_free(&p.s);
}

static void active_syn(struct mp_peer *p, struct wire_tcp_repr *syn)
{
	struct mpt_config c = mp_cfg(true);
	struct mptcp_opts m;

	CHECK_EQ(mpt_script_init(&p->s, &c, MPT_AF_INET, 40000, 80), 0);
	CHECK_EQ(mpt_connect(p->s.st, &p->s.local, &p->s.remote, p->s.now, &p->id), 0);
	CHECK_EQ(mpt_script_pull(&p->s, syn), 1);
	get_mp(syn, &m);
	CHECK_EQ(m.suboptions, MPTCP_OPT_MPC_SYN);
	CHECK_EQ(m.mpc.version, 1);
	CHECK_EQ(m.mpc.flags, MPTCP_MPC_H);
	p->iss = syn->seq;
	p->peer_idsn = idsn_of(&p->s, PEER_KEY);
}

TEST(stack_mptcp_script_active)
{
	struct mp_peer p;
	struct wire_tcp_repr syn, t, out;
	struct mptcp_opts m, w;
	uint32_t token;

	active_syn(&p, &syn);
	t = seg_mk(WIRE_TCP_SYN | WIRE_TCP_ACK, PEER_ISS, p.iss + 1);
	memset(&w, 0, sizeof(w));
	w.suboptions = MPTCP_OPT_MPC_SYNACK;
	w.mpc.version = 1;
	w.mpc.flags = MPTCP_MPC_H;
	w.mpc.sndr_key = PEER_KEY;
	put_mp(&t, &w);
	inject(&p.s, t);
	CHECK_U64_EQ(mpt_stack_counters(p.s.st)->mpc_synack_rx, 1);
	/* third ACK: both keys */
	CHECK_EQ(mpt_script_pull(&p.s, &out), 1);
	CHECK_EQ(out.flags, WIRE_TCP_ACK);
	get_mp(&out, &m);
	CHECK_EQ(m.suboptions, MPTCP_OPT_MPC_ACK);
	CHECK(!m.mpc.has_data_len);
	CHECK_U64_EQ(m.mpc.rcvr_key, PEER_KEY);
	p.key = m.mpc.sndr_key;
	p.idsn = idsn_of(&p.s, p.key);
	CHECK_EQ(mptcp_crypto_key_sha(&p.s.st->env.crypto, p.key, &token, NULL), 0);
	{
		struct mpt_conn_info i;

		CHECK_EQ(mpt_conn_info(p.s.st, p.id, &i), 0);
		CHECK_EQ(i.token, token);
	}
	/* first data, no word from the server yet: MP_CAPABLE + data-level length */
	CHECK_EQ(mpt_send(p.s.st, p.id, "abcdefgh", 8, p.s.now), 8);
	CHECK_EQ(mpt_script_pull(&p.s, &out), 1);
	get_mp(&out, &m);
	CHECK_EQ(m.suboptions, MPTCP_OPT_MPC_ACK);
	CHECK(m.mpc.has_data_len);
	CHECK_EQ(m.mpc.data_len, 8);
	CHECK_U64_EQ(m.mpc.sndr_key, p.key);
	/* the server's DATA_ACK: fully established, DSS from now on */
	t = seg_mk(WIRE_TCP_ACK, PEER_ISS + 1, p.iss + 9);
	memset(&w, 0, sizeof(w));
	w.suboptions = MPTCP_OPT_DSS;
	w.dss.flags = MPTCP_DSS_A | MPTCP_DSS_a;
	w.dss.data_ack = p.idsn + 9;
	put_mp(&t, &w);
	inject(&p.s, t);
	CHECK_EQ(mpt_send(p.s.st, p.id, "ij", 2, p.s.now), 2);
	CHECK_EQ(mpt_script_pull(&p.s, &out), 1);
	get_mp(&out, &m);
	CHECK_EQ(m.suboptions, MPTCP_OPT_DSS);
	CHECK_U64_EQ(m.dss.data_seq, p.idsn + 9);
	CHECK_EQ(m.dss.subflow_seq, 9);
	CHECK_EQ(m.dss.data_len, 2);
	CHECK_U64_EQ(m.dss.data_ack, p.peer_idsn + 1);
	mpt_script_free(&p.s);
}

TEST(stack_mptcp_script_active_fallback_synack)
{
	struct mp_peer p;
	struct wire_tcp_repr syn, out;
	struct mpt_conn_info i;

	active_syn(&p, &syn);
	inject(&p.s, seg_mk(WIRE_TCP_SYN | WIRE_TCP_ACK, PEER_ISS, p.iss + 1));
	CHECK_U64_EQ(mpt_stack_counters(p.s.st)->mpc_fallback_synack, 1);
	CHECK_EQ(mpt_script_pull(&p.s, &out), 1);
	CHECK_EQ(out.flags, WIRE_TCP_ACK);
	CHECK_EQ(out.opt.nmptcp, 0);
	CHECK_EQ(mpt_conn_info(p.s.st, p.id, &i), 0);
	CHECK(!i.mptcp && i.mptcp_fallback);
	mpt_script_free(&p.s);
}

/* The receiver's side of RFC 8684 3.7 against a Linux-like sender: a mapping whose
 * payload was rewritten fails its checksum on the only subflow; MP_FAIL with that
 * mapping's DSN goes on a pure ACK (no RST), the bytes are delivered as they came,
 * and the next bytes without any mapping (the sender fell back) mean fallback. */
TEST(stack_mptcp_script_csum_failure_single_subflow_mp_fail_on_ack)
{
	struct mp_peer p;
	struct wire_tcp_repr sa, t, out;
	struct mptcp_opts m, w;
	struct mpt_conn_info i;
	uint8_t buf[256];
	const struct mpt_counters *c;

	passive_syn(&p, MPTCP_MPC_A | MPTCP_MPC_H, &sa);
	c = mpt_stack_counters(p.s.st);
	get_mp(&sa, &m);
	p.key = m.mpc.sndr_key;
	p.idsn = idsn_of(&p.s, p.key);
	t = seg_mk(WIRE_TCP_ACK, PEER_ISS + 1, p.iss + 1);
	memset(&w, 0, sizeof(w));
	w.suboptions = MPTCP_OPT_MPC_ACK;
	w.mpc.version = 1;
	w.mpc.flags = MPTCP_MPC_A | MPTCP_MPC_H;
	w.mpc.sndr_key = PEER_KEY;
	w.mpc.rcvr_key = p.key;
	put_mp(&t, &w);
	inject(&p.s, t);
	accept_one(&p);
	for (int k = 0; k < 2; k++) {
		uint32_t ssn = 1 + 100 * (uint32_t)k;

		t = seg_mk(WIRE_TCP_ACK, PEER_ISS + ssn, p.iss + 1);
		with_payload(&t, 100);
		memset(&w, 0, sizeof(w));
		w.suboptions = MPTCP_OPT_DSS;
		w.dss.flags = MPTCP_DSS_A | MPTCP_DSS_a | MPTCP_DSS_M | MPTCP_DSS_m;
		w.dss.data_ack = p.idsn + 1;
		w.dss.data_seq = p.peer_idsn + ssn;
		w.dss.subflow_seq = ssn;
		w.dss.data_len = 100;
		w.dss.has_csum = true;
		w.dss.csum = mptcp_dss_csum(w.dss.data_seq, ssn, 100, pay, 100);
		put_mp(&t, &w);
		if (k == 1)
			pay[50] ^= 0xff; /* the middlebox, after the checksum was made */
		inject(&p.s, t);
		CHECK_EQ(mpt_recv(p.s.st, p.id, buf, sizeof(buf), p.s.now), 100);
		CHECK_EQ(buf[50], pay[50]); /* delivered as it came */
	}
	CHECK_U64_EQ(c->data_csum_err, 1);
	CHECK_EQ(mpt_script_pull(&p.s, &out), 1);
	CHECK_EQ(out.flags, WIRE_TCP_ACK); /* not a RST */
	CHECK_EQ(out.payload_len, 0);
	get_mp(&out, &m);
	CHECK_EQ(m.suboptions, MPTCP_OPT_DSS | MPTCP_OPT_FAIL);
	CHECK_U64_EQ(m.fail.dsn, p.peer_idsn + 101);
	CHECK_U64_EQ(c->mp_fail_tx, 1);
	CHECK_U64_EQ(c->mprst_tx, 0);
	/* the sender's answer, then bytes without a mapping: it fell back */
	t = seg_mk(WIRE_TCP_ACK, PEER_ISS + 201, p.iss + 1);
	memset(&w, 0, sizeof(w));
	w.suboptions = MPTCP_OPT_DSS | MPTCP_OPT_FAIL;
	w.dss.flags = MPTCP_DSS_A | MPTCP_DSS_a;
	w.dss.data_ack = p.idsn + 1;
	w.fail.dsn = p.peer_idsn + 101;
	put_mp(&t, &w);
	inject(&p.s, t);
	CHECK_U64_EQ(c->mp_fail_rx, 1);
	t = seg_mk(WIRE_TCP_ACK, PEER_ISS + 201, p.iss + 1);
	with_payload(&t, 50);
	inject(&p.s, t);
	CHECK_EQ(mpt_recv(p.s.st, p.id, buf, sizeof(buf), p.s.now), 50);
	CHECK_U64_EQ(c->dss_fallback, 1);
	CHECK_EQ(mpt_conn_info(p.s.st, p.id, &i), 0);
	CHECK(!i.mptcp && i.mptcp_fallback);
	while (mpt_script_pull(&p.s, &out) == 1)
		CHECK_EQ(out.opt.nmptcp, 0);
	mpt_script_free(&p.s);
}

/* The sender's side of RFC 8684 3.7, segment by segment: the peer's MP_FAIL on an
 * ACK is answered with MP_FAIL on a pure ACK (DSS + MP_FAIL, as Linux's), the next
 * data segment carries the infinite mapping (data-level length 0, the DSN MP_FAIL
 * named and the subflow sequence number it had), and then no MPTCP option at all. */
TEST(stack_mptcp_script_mp_fail_answered_with_the_infinite_mapping)
{
	struct mp_peer p;
	struct wire_tcp_repr syn, t, out;
	struct mptcp_opts m, w;
	struct mpt_conn_info i;

	active_syn(&p, &syn);
	t = seg_mk(WIRE_TCP_SYN | WIRE_TCP_ACK, PEER_ISS, p.iss + 1);
	memset(&w, 0, sizeof(w));
	w.suboptions = MPTCP_OPT_MPC_SYNACK;
	w.mpc.version = 1;
	w.mpc.flags = MPTCP_MPC_H;
	w.mpc.sndr_key = PEER_KEY;
	put_mp(&t, &w);
	inject(&p.s, t);
	CHECK_EQ(mpt_script_pull(&p.s, &out), 1); /* third ACK */
	get_mp(&out, &m);
	p.key = m.mpc.sndr_key;
	p.idsn = idsn_of(&p.s, p.key);
	CHECK_EQ(mpt_send(p.s.st, p.id, "abcdefgh", 8, p.s.now), 8);
	CHECK_EQ(mpt_script_pull(&p.s, &out), 1);
	t = seg_mk(WIRE_TCP_ACK, PEER_ISS + 1, p.iss + 9);
	memset(&w, 0, sizeof(w));
	w.suboptions = MPTCP_OPT_DSS;
	w.dss.flags = MPTCP_DSS_A | MPTCP_DSS_a;
	w.dss.data_ack = p.idsn + 9;
	put_mp(&t, &w);
	inject(&p.s, t);
	CHECK_EQ(mpt_send(p.s.st, p.id, "ij", 2, p.s.now), 2);
	CHECK_EQ(mpt_script_pull(&p.s, &out), 1);
	/* the peer's checksum failed on "ij": MP_FAIL with its DSN, on an ACK */
	t = seg_mk(WIRE_TCP_ACK, PEER_ISS + 1, p.iss + 11);
	memset(&w, 0, sizeof(w));
	w.suboptions = MPTCP_OPT_DSS | MPTCP_OPT_FAIL;
	w.dss.flags = MPTCP_DSS_A | MPTCP_DSS_a;
	w.dss.data_ack = p.idsn + 9;
	w.fail.dsn = p.idsn + 9;
	put_mp(&t, &w);
	inject(&p.s, t);
	CHECK_U64_EQ(mpt_stack_counters(p.s.st)->mp_fail_rx, 1);
	CHECK_EQ(mpt_send(p.s.st, p.id, "klm", 3, p.s.now), 3);
	CHECK_EQ(mpt_script_pull(&p.s, &out), 1); /* the answer first, on a pure ACK */
	CHECK_EQ(out.payload_len, 0);
	get_mp(&out, &m);
	CHECK_EQ(m.suboptions, MPTCP_OPT_DSS | MPTCP_OPT_FAIL);
	CHECK_U64_EQ(m.fail.dsn, p.idsn + 9);
	CHECK_EQ(mpt_script_pull(&p.s, &out), 1); /* then the infinite mapping */
	CHECK_EQ(out.payload_len, 3);
	CHECK_EQ(out.seq, p.iss + 11);
	get_mp(&out, &m);
	CHECK_EQ(m.suboptions, MPTCP_OPT_DSS);
	CHECK(m.dss.flags & MPTCP_DSS_M);
	CHECK_EQ(m.dss.data_len, 0);
	CHECK_U64_EQ(m.dss.data_seq, p.idsn + 9);
	CHECK_EQ(m.dss.subflow_seq, 9);
	CHECK_U64_EQ(mpt_stack_counters(p.s.st)->infinite_map_tx, 1);
	CHECK_U64_EQ(mpt_stack_counters(p.s.st)->mp_fail_tx, 1);
	/* plain TCP from now on */
	inject(&p.s, seg_mk(WIRE_TCP_ACK, PEER_ISS + 1, p.iss + 14));
	CHECK_EQ(mpt_send(p.s.st, p.id, "no", 2, p.s.now), 2);
	CHECK_EQ(mpt_script_pull(&p.s, &out), 1);
	CHECK_EQ(out.payload_len, 2);
	CHECK_EQ(out.opt.nmptcp, 0);
	CHECK_EQ(mpt_conn_info(p.s.st, p.id, &i), 0);
	CHECK(!i.mptcp && i.mptcp_fallback);
	mpt_script_free(&p.s);
}

/* SYN with MP_CAPABLE dropped: the first SYN and two retransmissions carry it, the
 * third retransmission does not (Linux's syn_retrans_before_tcp_fallback = 2), and
 * the connection goes on as plain TCP (MPCapableSYNTXDrop). */
TEST(stack_mptcp_script_syn_dropped_twice_retries_without_mp_capable)
{
	struct mp_peer p;
	struct wire_tcp_repr syn, out;
	struct mptcp_opts m;
	struct mpt_conn_info i;
	uint64_t rto = 1000 * MS;

	active_syn(&p, &syn);
	for (int k = 1; k <= 3; k++) {
		mpt_script_advance(&p.s, rto);
		rto *= 2;
		CHECK_EQ(mpt_script_pull(&p.s, &out), 1);
		CHECK_EQ(out.flags, WIRE_TCP_SYN);
		CHECK_EQ(out.seq, p.iss);
		get_mp(&out, &m);
		if (k < 3) {
			CHECK_EQ(m.suboptions, MPTCP_OPT_MPC_SYN);
			CHECK_U64_EQ(mpt_stack_counters(p.s.st)->mpc_syn_tx_drop, 0);
		} else {
			CHECK_EQ(out.opt.nmptcp, 0);
			CHECK_U64_EQ(mpt_stack_counters(p.s.st)->mpc_syn_tx_drop, 1);
		}
	}
	CHECK_U64_EQ(mpt_stack_counters(p.s.st)->mpc_syn_tx, 3);
	/* a plain SYN-ACK: plain TCP, no MPTCP option on the ACK or the data */
	inject(&p.s, seg_mk(WIRE_TCP_SYN | WIRE_TCP_ACK, PEER_ISS, p.iss + 1));
	CHECK_EQ(mpt_script_pull(&p.s, &out), 1);
	CHECK_EQ(out.flags, WIRE_TCP_ACK);
	CHECK_EQ(out.opt.nmptcp, 0);
	CHECK_EQ(mpt_send(p.s.st, p.id, "abc", 3, p.s.now), 3);
	CHECK_EQ(mpt_script_pull(&p.s, &out), 1);
	CHECK_EQ(out.payload_len, 3);
	CHECK_EQ(out.opt.nmptcp, 0);
	CHECK_EQ(mpt_conn_info(p.s.st, p.id, &i), 0);
	CHECK(!i.mptcp && i.mptcp_fallback);
	CHECK_U64_EQ(mpt_stack_counters(p.s.st)->mpc_fallback_synack, 0);
	mpt_script_free(&p.s);
}

/* The same end to end: the first three packets on the client's link (its SYNs) are
 * lost; the fourth SYN, without MP_CAPABLE, connects and the bytes arrive intact. */
TEST(stack_mptcp_sim_syn_dropped_twice_falls_back)
{
	struct mpt_config c = mp_cfg(true);
	struct mpt_sim sim;
	struct mpt_sim_xfer x = {.bytes = 300000, .deadline_ns = 60000000000ull};
	const struct mpt_counters *cc, *sc;

	CHECK_EQ(mpt_sim_init(&sim, 17, &c, &c, MPT_AF_INET, 1, NULL), 0);
	sim.link[0][0].cfg.loss_mask = 0x7;
	CHECK_EQ(mpt_sim_transfer(&sim, &x), 0);
	CHECK(x.data_ok);
	CHECK_U64_EQ(sim.link[0][0].dropped_mask, 3);
	CHECK(!x.client_info.mptcp && x.client_info.mptcp_fallback);
	cc = mpt_stack_counters(sim.ep[0]);
	sc = mpt_stack_counters(sim.ep[1]);
	CHECK_U64_EQ(cc->mpc_syn_tx, 3);
	CHECK_U64_EQ(cc->mpc_syn_tx_drop, 1);
	CHECK_U64_EQ(sc->mpc_syn_rx, 0);
	/* 1 + 2 + 4 s of SYN timeouts before the plain SYN left */
	CHECK(x.done_ns > 7000 * MS);
	mpt_sim_free(&sim);
}

/* A middlebox rewrites one payload byte (TCP checksum fixed) on the only subflow,
 * DSS checksums on.  RFC 8684 3.7: the receiver sends MP_FAIL on an ACK (no reset),
 * the sender answers it and sends the infinite mapping, both fall back to TCP and
 * the transfer runs to its end.  The rewritten byte reaches the application: the
 * infinite mapping covers the failing mapping too (the fallback is there so that a
 * payload-rewriting middlebox can work); every other byte is intact. */
TEST(stack_mptcp_sim_csum_failure_single_subflow_infinite_mapping)
{
	struct mpt_config c = mp_cfg(true);
	struct mpt_sim sim;
	struct mpt_sim_xfer x = {.bytes = 2000000, .deadline_ns = 60000000000ull};
	const struct mpt_counters *cc, *sc;

	c.mptcp_checksum = true;
	CHECK_EQ(mpt_sim_init(&sim, 31, &c, &c, MPT_AF_INET, 1, NULL), 0);
	sim.link[0][0].cfg.corrupt_from = 300;
	sim.link[0][0].cfg.corrupt_count = 1;
	CHECK_EQ(mpt_sim_transfer(&sim, &x), MPT_ETIMEDOUT); /* one byte differs */
	CHECK_U64_EQ(sim.link[0][0].corrupted, 1);
	CHECK(x.eof);
	CHECK_U64_EQ(x.received, x.bytes);
	CHECK(!x.data_ok && x.first_bad > 0);
	CHECK(!x.client_err && !x.server_err);
	cc = mpt_stack_counters(sim.ep[0]);
	sc = mpt_stack_counters(sim.ep[1]);
	dump("client", sim.ep[0]);
	dump("server", sim.ep[1]);
	CHECK_U64_EQ(sc->data_csum_err, 1);
	CHECK_U64_EQ(sc->mp_fail_tx, 1);
	CHECK_U64_EQ(cc->mp_fail_rx, 1);
	CHECK_U64_EQ(cc->mp_fail_tx, 1); /* the answer, as Linux's */
	CHECK_U64_EQ(sc->mp_fail_rx, 1);
	CHECK_U64_EQ(cc->infinite_map_tx, 1);
	CHECK_U64_EQ(sc->infinite_map_rx, 1);
	CHECK_U64_EQ(sc->dss_fallback, 1);
	CHECK_U64_EQ(cc->mprst_tx + sc->mprst_tx, 0);
	CHECK(x.client_info.mptcp_fallback);
	mpt_sim_free(&sim);
}

/* Token uniqueness: rewinding the stack's random source makes the second
 * connection draw the first one's key; it must draw again. */
TEST(stack_mptcp_tokens_unique)
{
	struct mpt_config c = mp_cfg(true);
	struct mpt_sim sim;
	struct mpt_sockaddr srv, l;
	struct mpt_conn_info a, b;
	uint32_t id1, id2;
	uint64_t rng;

	CHECK_EQ(mpt_sim_init(&sim, 21, &c, &c, MPT_AF_INET, 1, NULL), 0);
	srv = mpt_sim_addr(&sim, 1, 0, 80);
	l = mpt_sim_addr(&sim, 0, 0, 0);
	rng = sim.ep_rng[0];
	CHECK_EQ(mpt_connect(sim.ep[0], &l, &srv, sim.now, &id1), 0);
	sim.ep_rng[0] = rng;
	CHECK_EQ(mpt_connect(sim.ep[0], &l, &srv, sim.now, &id2), 0);
	CHECK_EQ(mpt_conn_info(sim.ep[0], id1, &a), 0);
	CHECK_EQ(mpt_conn_info(sim.ep[0], id2, &b), 0);
	CHECK(a.token != b.token);
	CHECK_U64_EQ(mpt_stack_counters(sim.ep[0])->mptcp_token_retry, 1);
	mpt_sim_free(&sim);
}

/* An MPTCP connection the stack accepted (third ACK with both keys), for joins. */
static void passive_established(struct mp_peer *p)
{
	struct wire_tcp_repr sa, t;
	struct mptcp_opts m, w;

	passive_syn(p, MPTCP_MPC_H, &sa);
	get_mp(&sa, &m);
	p->key = m.mpc.sndr_key;
	p->iss = sa.seq;
	t = seg_mk(WIRE_TCP_ACK, PEER_ISS + 1, p->iss + 1);
	memset(&w, 0, sizeof(w));
	w.suboptions = MPTCP_OPT_MPC_ACK;
	w.mpc.version = 1;
	w.mpc.flags = MPTCP_MPC_H;
	w.mpc.sndr_key = PEER_KEY;
	w.mpc.rcvr_key = p->key;
	put_mp(&t, &w);
	inject(&p->s, t);
	accept_one(p);
}

/* A join from the peer's port 1235 (MP_JOIN SYN with the stack's token); returns the
 * stack's SYN-ACK. */
static void join_syn(struct mp_peer *p, uint32_t nonce, struct wire_tcp_repr *sa)
{
	struct wire_tcp_repr t = seg_mk(WIRE_TCP_SYN, PEER_ISS + 7000, 0);
	struct mptcp_opts w;
	uint32_t token;

	CHECK_EQ(mptcp_crypto_key_sha(&p->s.st->env.crypto, p->key, &token, NULL), 0);
	t.sport = 1235;
	memset(&w, 0, sizeof(w));
	w.suboptions = MPTCP_OPT_MPJ_SYN;
	w.mpj.token = token;
	w.mpj.nonce = nonce;
	w.mpj.addr_id = 2;
	put_mp(&t, &w);
	inject(&p->s, t);
	CHECK_U64_EQ(mpt_stack_counters(p->s.st)->join_syn_rx, 1);
	CHECK_EQ(mpt_script_pull(&p->s, sa), 1);
	CHECK_EQ(sa->flags, WIRE_TCP_SYN | WIRE_TCP_ACK);
	CHECK_EQ(sa->dport, 1235);
}

static void join_third_ack(struct mp_peer *p, const struct wire_tcp_repr *sa,
			   const uint8_t hmac[20])
{
	struct wire_tcp_repr t = seg_mk(WIRE_TCP_ACK, PEER_ISS + 7001, sa->seq + 1);
	struct mptcp_opts w;

	t.sport = 1235;
	memset(&w, 0, sizeof(w));
	w.suboptions = MPTCP_OPT_MPJ_ACK;
	memcpy(w.mpj.hmac, hmac, 20);
	put_mp(&t, &w);
	inject(&p->s, t);
}

/* RFC 8684 3.2: the SYN-ACK carries the responder's truncated HMAC over both nonces
 * with both keys; a third ACK with the initiator's full HMAC makes the subflow and
 * gets an immediate fourth ACK. */
TEST(stack_mptcp_script_join_passive)
{
	struct mp_peer p;
	struct wire_tcp_repr sa, out;
	struct mptcp_opts m;
	uint8_t h[32];

	passive_established(&p);
	join_syn(&p, 0x11223344, &sa);
	get_mp(&sa, &m);
	CHECK_EQ(m.suboptions, MPTCP_OPT_MPJ_SYNACK);
	CHECK_EQ(mptcp_crypto_join_hmac(&p.s.st->env.crypto, p.key, PEER_KEY, m.mpj.nonce,
					0x11223344, h),
		 0);
	CHECK_U64_EQ(m.mpj.thmac, mptcp_crypto_thmac(h));
	CHECK_EQ(mptcp_crypto_join_hmac(&p.s.st->env.crypto, PEER_KEY, p.key, 0x11223344,
					m.mpj.nonce, h),
		 0);
	join_third_ack(&p, &sa, h);
	CHECK_U64_EQ(mpt_stack_counters(p.s.st)->join_ack_rx, 1);
	CHECK_U64_EQ(mpt_stack_counters(p.s.st)->join_ack_hmac_fail, 0);
	CHECK_EQ(mpt_script_pull(&p.s, &out), 1);
	CHECK_EQ(out.flags, WIRE_TCP_ACK);
	CHECK_EQ(out.dport, 1235);
	mpt_script_free(&p.s);
}

/* A third ACK with a wrong HMAC: "the receiver MUST close the subflow with a RST"
 * (RFC 8684 3.2), with MP_TCPRST; the connection itself is unharmed. */
TEST(stack_mptcp_script_join_wrong_hmac_resets_the_subflow)
{
	struct mp_peer p;
	struct wire_tcp_repr sa, out;
	struct mptcp_opts m;
	struct mpt_conn_info i;
	uint8_t bad[20];

	passive_established(&p);
	join_syn(&p, 0x55667788, &sa);
	memset(bad, 0xa5, sizeof(bad));
	join_third_ack(&p, &sa, bad);
	CHECK_U64_EQ(mpt_stack_counters(p.s.st)->join_ack_hmac_fail, 1);
	CHECK_U64_EQ(mpt_stack_counters(p.s.st)->join_ack_rx, 0);
	CHECK_EQ(mpt_script_pull(&p.s, &out), 1);
	CHECK(out.flags & WIRE_TCP_RST);
	CHECK_EQ(out.dport, 1235);
	get_mp(&out, &m);
	CHECK(m.suboptions & MPTCP_OPT_RST);
	CHECK_EQ(mpt_conn_info(p.s.st, p.id, &i), 0);
	CHECK_EQ(i.state, MPT_ESTABLISHED);
	CHECK(i.mptcp);
	mpt_script_free(&p.s);
}

/* An MP_JOIN for a token nobody has: RST (RFC 8684 3.2), counted. */
TEST(stack_mptcp_script_join_unknown_token)
{
	struct mp_peer p;
	struct wire_tcp_repr t, out;
	struct mptcp_opts w;

	passive_established(&p);
	t = seg_mk(WIRE_TCP_SYN, PEER_ISS + 9000, 0);
	t.sport = 1236;
	memset(&w, 0, sizeof(w));
	w.suboptions = MPTCP_OPT_MPJ_SYN;
	w.mpj.token = 0xdeadbeef;
	w.mpj.nonce = 1;
	put_mp(&t, &w);
	inject(&p.s, t);
	CHECK_U64_EQ(mpt_stack_counters(p.s.st)->join_no_token, 1);
	CHECK_EQ(mpt_script_pull(&p.s, &out), 1);
	CHECK(out.flags & WIRE_TCP_RST);
	/* with MP_TCPRST "unspecified MPTCP error" (RFC 8684 3.6), as Linux
	 * (MPTCP_RST_EMPTCP; packetdrill's mp_join_server_bad_token.pkt) */
	get_mp(&out, &w);
	CHECK(w.suboptions & MPTCP_OPT_RST);
	CHECK_EQ(w.rst.reason, 1);
	mpt_script_free(&p.s);
}

/* One data segment of `len` bytes from the peer at data-level offset off (and
 * subflow offset off), mapped with a 4- or 8-octet DSN; returns the stack's ACK. */
static void ack32_data(struct mp_peer *p, uint32_t off, bool dsn64, struct wire_tcp_repr *ack)
{
	struct wire_tcp_repr t = seg_mk(WIRE_TCP_ACK, PEER_ISS + 1 + off, p->iss + 1);
	struct mptcp_opts w;
	uint8_t buf[64];

	with_payload(&t, 10);
	memset(&w, 0, sizeof(w));
	w.suboptions = MPTCP_OPT_DSS;
	w.dss.flags = MPTCP_DSS_A | MPTCP_DSS_M | (dsn64 ? MPTCP_DSS_m : 0);
	w.dss.data_ack = (uint32_t)(p->idsn + 1);
	w.dss.data_seq = dsn64 ? p->peer_idsn + 1 + off : (uint32_t)(p->peer_idsn + 1 + off);
	w.dss.subflow_seq = 1 + off;
	w.dss.data_len = 10;
	put_mp(&t, &w);
	inject(&p->s, t);
	CHECK_EQ(mpt_recv(p->s.st, p->id, buf, sizeof(buf), p->s.now), 10);
	for (int i = 0; i < 10 && mpt_script_pull(&p->s, ack) != 1; i++)
		mpt_script_advance(&p->s, 50 * MS);
	CHECK(ack->flags & WIRE_TCP_ACK);
}

/* cfg.mptcp_ack32 (Linux's use_64bit_ack): DATA_ACK on 4 octets until the peer maps
 * with an 8-octet DSN, then on 8; back to 4 with its next 4-octet one. */
TEST(stack_mptcp_script_data_ack_width_follows_peer_dsn)
{
	struct mp_peer p;
	struct wire_tcp_repr ack;
	struct mptcp_opts m;

	passive_established(&p);
	p.s.st->cfg.mptcp_ack32 = true;
	ack32_data(&p, 0, false, &ack);
	get_mp(&ack, &m);
	CHECK(m.suboptions & MPTCP_OPT_DSS);
	CHECK_EQ(m.dss.flags & (MPTCP_DSS_A | MPTCP_DSS_a), MPTCP_DSS_A);
	CHECK_U64_EQ(m.dss.data_ack, (uint32_t)(p.peer_idsn + 11));
	ack32_data(&p, 10, true, &ack);
	get_mp(&ack, &m);
	CHECK_EQ(m.dss.flags & (MPTCP_DSS_A | MPTCP_DSS_a), MPTCP_DSS_A | MPTCP_DSS_a);
	CHECK_U64_EQ(m.dss.data_ack, p.peer_idsn + 21);
	ack32_data(&p, 20, false, &ack);
	get_mp(&ack, &m);
	CHECK_EQ(m.dss.flags & (MPTCP_DSS_A | MPTCP_DSS_a), MPTCP_DSS_A);
	mpt_script_free(&p.s);
}

/* A pure ACK whose DSS carries a mapping of data-level length 0 (packetdrill's
 * dss_ssn_specified_server.pkt acknowledges with "dsn8=1 ssn=1 dll=0") is not the
 * infinite mapping: that one covers data (RFC 8684 3.7), and Linux looks at mappings
 * only on segments with payload.  The connection stays MPTCP and keeps mapping. */
TEST(stack_mptcp_script_zero_length_map_on_pure_ack_is_no_fallback)
{
	struct mp_peer p;
	struct wire_tcp_repr t, out;
	struct mptcp_opts w, m;
	struct mpt_conn_info i;

	passive_established(&p);
	p.idsn = idsn_of(&p.s, p.key);
	CHECK_EQ(mpt_send(p.s.st, p.id, "hello", 5, p.s.now), 5);
	CHECK_EQ(mpt_script_pull(&p.s, &out), 1);
	t = seg_mk(WIRE_TCP_ACK, PEER_ISS + 1, p.iss + 6);
	memset(&w, 0, sizeof(w));
	w.suboptions = MPTCP_OPT_DSS;
	w.dss.flags = MPTCP_DSS_A | MPTCP_DSS_a | MPTCP_DSS_M | MPTCP_DSS_m;
	w.dss.data_ack = p.idsn + 6;
	w.dss.data_seq = p.peer_idsn + 1;
	w.dss.subflow_seq = 1;
	w.dss.data_len = 0;
	put_mp(&t, &w);
	inject(&p.s, t);
	CHECK_U64_EQ(mpt_stack_counters(p.s.st)->infinite_map_rx, 0);
	CHECK_EQ(mpt_conn_info(p.s.st, p.id, &i), 0);
	CHECK(i.mptcp);
	CHECK_EQ(mpt_send(p.s.st, p.id, "world", 5, p.s.now), 5);
	CHECK_EQ(mpt_script_pull(&p.s, &out), 1);
	get_mp(&out, &m);
	CHECK(m.suboptions & MPTCP_OPT_DSS);
	CHECK(m.dss.flags & MPTCP_DSS_M);
	CHECK_U64_EQ(m.dss.data_seq, p.idsn + 6);
	mpt_script_free(&p.s);
}

/* MP_FASTCLOSE on an ACK (RFC 8684 3.5: "Upon receipt of an ACK with MP_FASTCLOSE
 * ... host B answers on the same subflow with a TCP RST"): the subflow it came on is
 * reset too, not only the others (packetdrill's receive_fastclose_with_ack.pkt:
 * "> R. ... <mp_reset 0>"); a wrong key changes nothing. */
TEST(stack_mptcp_script_fastclose_on_ack_answered_with_rst)
{
	struct mp_peer p;
	struct wire_tcp_repr t, out;
	struct mptcp_opts w, m;

	passive_established(&p);
	t = seg_mk(WIRE_TCP_ACK, PEER_ISS + 1, p.iss + 1);
	memset(&w, 0, sizeof(w));
	w.suboptions = MPTCP_OPT_FASTCLOSE;
	w.fastclose.rcvr_key = p.key + 1;
	put_mp(&t, &w);
	inject(&p.s, t);
	CHECK_EQ(mpt_script_pull(&p.s, &out), 0);
	t = seg_mk(WIRE_TCP_ACK, PEER_ISS + 1, p.iss + 1);
	w.fastclose.rcvr_key = p.key;
	put_mp(&t, &w);
	inject(&p.s, t);
	CHECK_U64_EQ(mpt_stack_counters(p.s.st)->fastclose_rx, 1);
	CHECK_EQ(mpt_script_pull(&p.s, &out), 1);
	CHECK(out.flags & WIRE_TCP_RST);
	get_mp(&out, &m);
	CHECK(m.suboptions & MPTCP_OPT_RST);
	CHECK_EQ(m.rst.reason, 0);
	mpt_script_free(&p.s);
}

/* mpt_listen_tcp: a plain-TCP listener on an MPTCP stack answers an MP_CAPABLE SYN
 * without MP_CAPABLE (Linux's IPPROTO_TCP listener; packetdrill's
 * mp_reset_single_tcp.pkt), and the connection is plain TCP. */
TEST(stack_mptcp_script_tcp_listener_ignores_mp_capable)
{
	struct mpt_config c = mp_cfg(true);
	struct mpt_script s;
	struct wire_tcp_repr syn = seg_mk(WIRE_TCP_SYN, PEER_ISS, 0), sa;
	struct mptcp_opts w = {.suboptions = MPTCP_OPT_MPC_SYN}, m;
	uint32_t lid;

	CHECK_EQ(mpt_script_init(&s, &c, MPT_AF_INET, 80, 1234), 0);
	CHECK_EQ(mpt_listen_tcp(s.st, &s.local, 4, &lid), 0);
	w.mpc.version = 1;
	w.mpc.flags = MPTCP_MPC_H;
	put_mp(&syn, &w);
	inject(&s, syn);
	CHECK_EQ(mpt_script_pull(&s, &sa), 1);
	CHECK_EQ(sa.flags, WIRE_TCP_SYN | WIRE_TCP_ACK);
	get_mp(&sa, &m);
	CHECK_EQ(m.suboptions, 0);
	mpt_script_free(&s);
}
