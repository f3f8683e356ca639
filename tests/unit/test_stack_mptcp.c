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
