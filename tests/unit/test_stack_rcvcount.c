/* bytes_received (tcpi_bytes_received) counts every byte RCV.NXT moved over, also
 * the out-of-order ranges a filled hole joins (they were missed: a lossy transfer
 * read short by the segments that had arrived out of order). */
#include "test.h"
#include "mpt_sim.h"

TEST(stack_bytes_received_counts_joined_ofo_ranges)
{
	static uint8_t buf[65536];
	struct mpt_sim_link_cfg link = {.rate_bps = 50000000, .delay_ns = 5000000, .loss = 0.03};
	struct mpt_sim sim;
	struct mpt_sockaddr la, ca;
	struct mpt_conn_info ci;
	uint32_t lid, cid, sid = 0;
	uint64_t total = 2000000, sent = 0, got = 0;

	CHECK_EQ(mpt_sim_init(&sim, 3, NULL, NULL, MPT_AF_INET, 1, &link), 0);
	la = mpt_sim_addr(&sim, 1, 0, 5000);
	ca = mpt_sim_addr(&sim, 0, 0, 0);
	CHECK_EQ(mpt_listen(sim.ep[1], &la, 4, &lid), 0);
	CHECK_EQ(mpt_connect(sim.ep[0], &ca, &la, sim.now, &cid), 0);
	for (int i = 0; i < 600000 && got < total; i++) {
		ptrdiff_t n;

		while (sent < total) {
			size_t k =
				total - sent < sizeof(buf) ? (size_t)(total - sent) : sizeof(buf);

			for (size_t j = 0; j < k; j++)
				buf[j] = mpt_sim_pattern(sent + j);
			n = mpt_send(sim.ep[0], cid, buf, k, sim.now);
			if (n <= 0)
				break;
			sent += (uint64_t)n;
		}
		if (!sid)
			mpt_accept(sim.ep[1], lid, &sid);
		while (sid && (n = mpt_recv(sim.ep[1], sid, buf, sizeof(buf), sim.now)) > 0) {
			for (ptrdiff_t j = 0; j < n; j++)
				CHECK_EQ(buf[j], mpt_sim_pattern(got + (uint64_t)j));
			got += (uint64_t)n;
		}
		mpt_sim_step(&sim, sim.now + 1000000);
	}
	CHECK_U64_EQ(got, total);
	CHECK(mpt_stack_counters(sim.ep[1])->ofo_queue > 0); /* the case at hand */
	CHECK_EQ(mpt_conn_info(sim.ep[1], sid, &ci), 0);
	CHECK_U64_EQ(ci.bytes_received, total);
	mpt_sim_free(&sim);
}
