/* A client that shuts down writing before it sent a byte still sends its DATA_FIN
 * (found by the socket layer's tests: the repeated MP_CAPABLE third ACK took the
 * place of the DSS, so the DATA_FIN never left; Linux sends a DSS once
 * snd_data_fin_enable is set). */
#include "test.h"
#include "mpt_sim.h"

#include <string.h>

/* Client (ep 0) connects to a listener on ep 1 port 5000; 200 ms later the server
 * has accepted: the two ends' connection ids. */
static void connect_pair(struct mpt_sim *sim, uint32_t *cid, uint32_t *sid)
{
	struct mpt_sockaddr la = mpt_sim_addr(sim, 1, 0, 5000), ca = mpt_sim_addr(sim, 0, 0, 0);
	uint32_t lid;

	CHECK_EQ(mpt_listen(sim->ep[1], &la, 4, &lid), 0);
	CHECK_EQ(mpt_connect(sim->ep[0], &ca, &la, sim->now, cid), 0);
	for (int i = 0; i < 200; i++)
		mpt_sim_step(sim, sim->now + 1000000);
	CHECK_EQ(mpt_accept(sim->ep[1], lid, sid), 0);
}

TEST(stack_mptcp_idle_client_shutdown_sends_data_fin)
{
	struct mpt_config c;
	struct mpt_sim sim;
	uint32_t cid, sid;
	uint64_t t0;
	char b[4];

	mpt_config_default(&c);
	c.mptcp = true;
	CHECK_EQ(mpt_sim_init(&sim, 1, &c, &c, MPT_AF_INET, 1, NULL), 0);
	connect_pair(&sim, &cid, &sid);
	CHECK_EQ(mpt_recv(sim.ep[1], sid, b, sizeof(b), sim.now), MPT_EAGAIN);
	CHECK_EQ(mpt_shutdown(sim.ep[0], cid, MPT_SHUT_WR, sim.now), 0);
	t0 = sim.now;
	for (int i = 0; i < 200 && !mpt_stack_counters(sim.ep[1])->data_fin_rx; i++)
		mpt_sim_step(&sim, sim.now + 1000000);
	CHECK_U64_EQ(mpt_stack_counters(sim.ep[0])->data_fin_tx, 1);
	CHECK_U64_EQ(mpt_stack_counters(sim.ep[1])->data_fin_rx, 1);
	CHECK(sim.now - t0 < 50000000); /* one way is 10 ms */
	CHECK_EQ(mpt_recv(sim.ep[1], sid, b, sizeof(b), sim.now), 0);
	/* and the other way still works */
	CHECK_EQ(mpt_send(sim.ep[1], sid, "ok", 2, sim.now), 2);
	for (int i = 0; i < 100; i++)
		mpt_sim_step(&sim, sim.now + 1000000);
	CHECK_EQ(mpt_recv(sim.ep[0], cid, b, sizeof(b), sim.now), 2);
	mpt_sim_free(&sim);
}

/* The shape of mpt-perf's end of test: the client has shut down writing (its
 * DATA_FIN acknowledged), then the server writes its report, larger than the initial
 * window, and shuts down at once.  Every byte and the EOF must reach the client; with
 * `paths` 2 the second path is the faster, so the report leaves on the join subflow.
 * (bench case 19, libmpt -> libmpt, stalled at this point after a carrier loss: the
 * first subflow's reset read as the connection's error, pm_sim's
 * first_subflow_reset test; these cases without it passed before that fix too.) */
static void reply_after_peer_eof(uint32_t paths)
{
	static uint8_t rep[14896], got[20000];
	struct mpt_config c;
	struct mpt_sim sim;
	uint32_t cid, sid;
	size_t n = 0;
	bool eof = false;
	char b[4];

	for (size_t i = 0; i < sizeof(rep); i++)
		rep[i] = (uint8_t)(i * 7 + 3);
	mpt_config_default(&c);
	c.mptcp = true;
	CHECK_EQ(mpt_sim_init(&sim, 1, &c, &c, MPT_AF_INET, paths, NULL), 0);
	if (paths > 1) {
		sim.link[0][0].cfg.delay_ns = sim.link[1][0].cfg.delay_ns = 50000000;
		CHECK_EQ(mpt_stack_add_endpoint(sim.ep[0], 1, 1, MPT_EP_SUBFLOW), 0);
	}
	connect_pair(&sim, &cid, &sid);
	CHECK_EQ(mpt_send(sim.ep[0], cid, "data", 4, sim.now), 4);
	CHECK_EQ(mpt_shutdown(sim.ep[0], cid, MPT_SHUT_WR, sim.now), 0);
	for (int i = 0; i < 200; i++)
		mpt_sim_step(&sim, sim.now + 1000000);
	CHECK_EQ(mpt_recv(sim.ep[1], sid, b, sizeof(b), sim.now), 4);
	CHECK_EQ(mpt_recv(sim.ep[1], sid, b, sizeof(b), sim.now), 0); /* EOF */
	CHECK_EQ(mpt_send(sim.ep[1], sid, rep, sizeof(rep), sim.now), (ptrdiff_t)sizeof(rep));
	CHECK_EQ(mpt_shutdown(sim.ep[1], sid, MPT_SHUT_WR, sim.now), 0);
	for (int i = 0; i < 3000 && !eof; i++) {
		ptrdiff_t r;

		mpt_sim_step(&sim, sim.now + 1000000);
		while ((r = mpt_recv(sim.ep[0], cid, got + n, sizeof(got) - n, sim.now)) > 0)
			n += (size_t)r;
		eof = r == 0;
	}
	printf("# %u path(s): %zu of %zu bytes, eof %d, at %.3f s\n", paths, n, sizeof(rep), eof,
	       sim.now / 1e9);
	CHECK_U64_EQ(n, sizeof(rep));
	CHECK(eof);
	CHECK(!memcmp(got, rep, sizeof(rep)));
	mpt_sim_free(&sim);
}

TEST(stack_mptcp_reply_after_peer_eof_larger_than_the_initial_window_then_shutdown)
{
	reply_after_peer_eof(1);
}

TEST(stack_mptcp_reply_after_peer_eof_on_the_join_subflow)
{
	reply_after_peer_eof(2);
}
