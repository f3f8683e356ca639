/* A client that shuts down writing before it sent a byte still sends its DATA_FIN
 * (found by the socket layer's tests: the repeated MP_CAPABLE third ACK took the
 * place of the DSS, so the DATA_FIN never left; Linux sends a DSS once
 * snd_data_fin_enable is set). */
#include "test.h"
#include "mpt_sim.h"

TEST(stack_mptcp_idle_client_shutdown_sends_data_fin)
{
	struct mpt_config c;
	struct mpt_sim sim;
	struct mpt_sockaddr la, ca;
	uint32_t lid, cid, sid;
	uint64_t t0;
	char b[4];

	mpt_config_default(&c);
	c.mptcp = true;
	CHECK_EQ(mpt_sim_init(&sim, 1, &c, &c, MPT_AF_INET, 1, NULL), 0);
	la = mpt_sim_addr(&sim, 1, 0, 5000);
	ca = mpt_sim_addr(&sim, 0, 0, 0);
	CHECK_EQ(mpt_listen(sim.ep[1], &la, 4, &lid), 0);
	CHECK_EQ(mpt_connect(sim.ep[0], &ca, &la, sim.now, &cid), 0);
	for (int i = 0; i < 200; i++)
		mpt_sim_step(&sim, sim.now + 1000000);
	CHECK_EQ(mpt_accept(sim.ep[1], lid, &sid), 0);
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
