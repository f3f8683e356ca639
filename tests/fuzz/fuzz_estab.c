/* Fuzz target: an established MPTCP connection fed arbitrary segments.
 *
 * Two stacks in virtual time (mpt_sim, two paths, the client joins the second)
 * set up a connection and move some data.  A tap keeps the last segment each side
 * sent.  The input is a list of records; each takes one of those segments as a
 * template (so ports, addresses and sequence numbers are close to live ones),
 * shifts its sequence and acknowledgment numbers, may replace its flags, options
 * (raw bytes, a DSS derived from the template's with shifted numbers, or an extra
 * MPTCP option) and payload, and delivers it with a correct checksum.  Between
 * records the simulation runs on (both applications keep reading and writing).
 * Nothing may crash, assert or hit undefined behaviour. */
#include "fuzz.h"

#include "mpt_sim.h"
#include "mptcp_opt.h"
#include "wire.h"

#include <string.h>

#define MS 1000000ull

struct tmpl {
	uint8_t pkt[2][2048];
	size_t len[2];
};

static void keep(void *ctx, int from, uint32_t path, const uint8_t *pkt, size_t len, uint64_t now)
{
	struct tmpl *t = ctx;

	(void)path, (void)now;
	if (len <= sizeof(t->pkt[0])) {
		memcpy(t->pkt[from], pkt, len);
		t->len[from] = len;
	}
}

struct app {
	uint32_t lid, cid, sid;
	bool have_server;
	uint64_t sent, received;
};

static void run_app(struct mpt_sim *sim, struct app *a)
{
	struct mpt_event ev;
	uint8_t buf[8192];
	int i;

	while (mpt_stack_poll_event(sim->ep[0], &ev) == 1)
		;
	while (mpt_stack_poll_event(sim->ep[1], &ev) == 1)
		if (ev.type == MPT_EV_ACCEPTABLE && !a->have_server &&
		    mpt_accept(sim->ep[1], a->lid, &a->sid) == 0)
			a->have_server = true;
	if (a->sent < 65536) {
		for (i = 0; i < (int)sizeof(buf); i++)
			buf[i] = mpt_sim_pattern(a->sent + (uint64_t)i);
		ptrdiff_t w = mpt_send(sim->ep[0], a->cid, buf, sizeof(buf), sim->now);

		if (w > 0)
			a->sent += (uint64_t)w;
	}
	if (a->have_server) {
		ptrdiff_t r;

		while ((r = mpt_recv(sim->ep[1], a->sid, buf, sizeof(buf), sim->now)) > 0)
			a->received += (uint64_t)r;
		mpt_send(sim->ep[1], a->sid, buf, 100, sim->now);
	}
}

static void run_for(struct mpt_sim *sim, struct app *a, uint64_t ns)
{
	uint64_t until = sim->now + ns;
	int steps = 0;

	run_app(sim, a);
	while (steps++ < 5000 && mpt_sim_step(sim, until))
		run_app(sim, a);
}

/* Options for the forged segment. */
static void forge_opts(struct wire_tcp_repr *tcp, struct fuzz_in *in, uint8_t flags)
{
	uint8_t mode = fuzz_u8(in), raw[WIRE_TCP_MAX_OPT];
	size_t n;

	switch (mode >> 6) {
	case 0: /* raw option bytes */
		n = mode & 63;
		if (n > WIRE_TCP_MAX_OPT)
			n = WIRE_TCP_MAX_OPT;
		for (size_t i = 0; i < n; i++)
			raw[i] = fuzz_u8(in);
		memset(&tcp->opt, 0, sizeof(tcp->opt));
		if (wire_tcp_opts_decode(&tcp->opt, raw, n) < 0)
			memset(&tcp->opt, 0, sizeof(tcp->opt));
		break;
	case 1: /* the template's own */
		break;
	case 2: { /* a DSS from the template's, numbers shifted */
		struct mptcp_opts m;
		struct wire_mptcp_raw r;
		ptrdiff_t len;

		memset(&m, 0, sizeof(m));
		mptcp_opts_parse(&m, &tcp->opt, flags, tcp->payload_len, NULL);
		m.dss.flags = (uint8_t)(fuzz_u8(in) & 0x1f);
		m.dss.data_ack += (uint64_t)(int64_t)(int16_t)fuzz_u16(in);
		m.dss.data_seq += (uint64_t)(int64_t)(int16_t)fuzz_u16(in);
		m.dss.subflow_seq += (uint32_t)(int32_t)(int16_t)fuzz_u16(in);
		m.dss.data_len = fuzz_u16(in);
		m.dss.has_csum = mode & 1;
		m.dss.csum = fuzz_u16(in);
		len = mptcp_dss_encode(r.data, sizeof(r.data), &m.dss);
		tcp->opt.nmptcp = 0;
		if (len > 0) {
			r.len = (uint8_t)len;
			tcp->opt.mptcp[0] = r;
			tcp->opt.nmptcp = 1;
			tcp->opt.present |= WIRE_HAS_MPTCP;
		}
		break;
	}
	default: { /* one more kind-30 option from the input */
		struct wire_mptcp_raw r;

		n = 2 + (mode & 31);
		raw[0] = WIRE_OPT_MPTCP;
		raw[1] = (uint8_t)n;
		for (size_t i = 2; i < n; i++)
			raw[i] = fuzz_u8(in);
		if (wire_opt_mptcp_decode(&r, raw, n) > 0 && tcp->opt.nmptcp < WIRE_OPT_MPTCP_MAX) {
			tcp->opt.mptcp[tcp->opt.nmptcp++] = r;
			tcp->opt.present |= WIRE_HAS_MPTCP;
		}
	}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tmpl t;
	struct fuzz_in in = {data, size, 0};
	struct mpt_config cfg;
	struct mpt_sim sim;
	struct app a = {0};
	struct mpt_sockaddr cl, sv;
	uint8_t mode = fuzz_u8(&in), payload[1500], out[4096];
	int rounds = 0;

	memset(&t, 0, sizeof(t));
	mpt_config_default(&cfg);
	cfg.mptcp = true;
	cfg.mptcp_checksum = mode & 1;
	cfg.no_sack = (mode >> 1) & 1;
	cfg.no_timestamps = (mode >> 2) & 1;
	if (mpt_sim_init(&sim, 1, &cfg, &cfg, MPT_AF_INET, 2, NULL) < 0)
		abort();
	if (!((mode >> 3) & 1))
		mpt_stack_add_endpoint(sim.ep[0], 1, 1, MPT_EP_SUBFLOW);
	sim.tap = keep;
	sim.tap_ctx = &t;
	cl = mpt_sim_addr(&sim, 0, 0, 0);
	sv = mpt_sim_addr(&sim, 1, 0, 5001);
	if (mpt_listen(sim.ep[1], &sv, 4, &a.lid) < 0 ||
	    mpt_connect(sim.ep[0], &cl, &sv, sim.now, &a.cid) < 0)
		abort();
	run_for(&sim, &a, 150 * MS);
	while (fuzz_left(&in) >= 6 && rounds++ < 48) {
		uint8_t ctl = fuzz_u8(&in);
		int dir = ctl & 1;
		struct wire_ip_repr ip;
		struct wire_tcp_repr tcp;
		ptrdiff_t n;
		uint8_t plen;

		if (!t.len[dir] || wire_packet_parse(&ip, &tcp, t.pkt[dir], t.len[dir]) < 0)
			break;
		tcp.seq += (uint32_t)(int32_t)(int16_t)fuzz_u16(&in);
		tcp.ack += (uint32_t)(int32_t)(int16_t)fuzz_u16(&in);
		if (ctl & 2)
			tcp.flags = fuzz_u8(&in);
		if (ctl & 4)
			tcp.window = fuzz_u16(&in);
		forge_opts(&tcp, &in, tcp.flags);
		if (ctl & 8) {
			plen = fuzz_u8(&in);
			for (size_t i = 0; i < plen; i++)
				payload[i] = fuzz_u8(&in);
			tcp.payload = payload;
			tcp.payload_len = plen;
		}
		n = wire_packet_emit(&ip, &tcp, out, sizeof(out));
		if (n > 0)
			mpt_stack_recv(sim.ep[1 - dir], out, (size_t)n,
				       ip.dst[2] < 2 ? ip.dst[2] : 0, sim.now);
		run_for(&sim, &a, (uint64_t)(ctl >> 4) * 5 * MS);
	}
	run_for(&sim, &a, 1000 * MS);
	mpt_sim_free(&sim);
	return 0;
}
