/* Fuzz target: a listening stack fed arbitrary segments.
 *
 * A stack (plain TCP or MPTCP, chosen by the first byte) listens on 10.0.0.1:80.
 * The rest is a list of records [ctl][time step][len][len bytes of TCP segment];
 * each segment gets an IPv4 header from 10.0.0.2, its destination port set to 80
 * (unless ctl says otherwise) and a correct TCP checksum, so it reaches the
 * engine.  ctl can also fill the acknowledgment / sequence number from what the
 * stack last sent (to get past the handshake).  After each segment the stack's
 * output is drained, its events polled, connections accepted, read and written to,
 * and time advanced with its timers run. */
#include "fuzz.h"

#include "mpt_sim.h"
#include "wire.h"

#include <string.h>

static struct mpt_script sc;

static void drain_out(uint32_t *last_seq, uint32_t *last_ack)
{
	struct wire_tcp_repr seg;
	int n = 0;

	while (mpt_script_pull(&sc, &seg) == 1 && n++ < 1000) {
		*last_seq = seg.seq + (uint32_t)seg.payload_len +
			    ((seg.flags & (WIRE_TCP_SYN | WIRE_TCP_FIN)) ? 1 : 0);
		*last_ack = seg.ack;
	}
}

static void app(uint32_t lid)
{
	struct mpt_event ev;
	uint8_t buf[4096];
	uint32_t id;

	while (mpt_stack_poll_event(sc.st, &ev) == 1) {
		if (ev.type == MPT_EV_ACCEPTABLE)
			while (mpt_accept(sc.st, lid, &id) == 0) {
				mpt_send(sc.st, id, "hello", 5, sc.now);
				mpt_recv(sc.st, id, buf, sizeof(buf), sc.now);
			}
		if (ev.type == MPT_EV_READABLE) {
			ptrdiff_t r = mpt_recv(sc.st, ev.id, buf, sizeof(buf), sc.now);

			if (r == 0)
				mpt_close(sc.st, ev.id, sc.now);
			else if (r > 0)
				mpt_send(sc.st, ev.id, buf, (size_t)r, sc.now);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size, 0};
	struct mpt_config cfg;
	struct mpt_sockaddr any;
	uint8_t mode = fuzz_u8(&in), pkt[2048];
	uint32_t lid, last_seq = 0, last_ack = 0;
	int rounds = 0;

	mpt_config_default(&cfg);
	cfg.mptcp = mode & 1;
	cfg.mptcp_checksum = (mode >> 1) & 1;
	cfg.no_sack = (mode >> 2) & 1;
	cfg.no_timestamps = (mode >> 3) & 1;
	cfg.no_wscale = (mode >> 4) & 1;
	if (mpt_script_init(&sc, &cfg, MPT_AF_INET, 80, 40000) < 0)
		abort();
	any = sc.local;
	if (mpt_listen(sc.st, &any, 4, &lid) < 0)
		abort();
	while (fuzz_left(&in) >= 3 && rounds++ < 64) {
		uint8_t ctl = fuzz_u8(&in), step = fuzz_u8(&in), len = fuzz_u8(&in);
		struct wire_ip_repr ip;
		uint8_t *tcp = pkt + WIRE_IPV4_HDR_LEN;
		size_t seglen = len < fuzz_left(&in) ? len : fuzz_left(&in);
		ptrdiff_t hl;

		if (seglen < WIRE_TCP_HDR_LEN) {
			/* a short record is a time step */
			in.i += seglen;
			mpt_script_advance(&sc, (uint64_t)step * 10000000ull);
			drain_out(&last_seq, &last_ack);
			app(lid);
			continue;
		}
		memcpy(tcp, in.p + in.i, seglen);
		in.i += seglen;
		if (!(ctl & 0x01))
			wire_put16(tcp + 2, 80);
		if (!(ctl & 0x02))
			wire_put16(tcp, (uint16_t)(40000 + ((ctl >> 4) & 3)));
		if (ctl & 0x04)
			wire_put32(tcp + 8, last_seq); /* ack what the stack sent */
		if (ctl & 0x08)
			wire_put32(tcp + 4, last_ack); /* the sequence number it expects */
		memset(&ip, 0, sizeof(ip));
		ip.family = MPT_AF_INET;
		ip.proto = WIRE_PROTO_TCP;
		ip.ttl = 64;
		memcpy(ip.src, sc.remote.ip, 16);
		memcpy(ip.dst, sc.local.ip, 16);
		ip.payload_len = (uint32_t)seglen;
		hl = wire_ip_emit(&ip, pkt, sizeof(pkt));
		if (hl != WIRE_IPV4_HDR_LEN)
			abort();
		tcp[16] = tcp[17] = 0;
		wire_put16(tcp + 16,
			   wire_csum_fold(wire_csum_add(wire_ip_pseudo_sum(&ip, (uint32_t)seglen),
							tcp, seglen)));
		mpt_stack_recv(sc.st, pkt, WIRE_IPV4_HDR_LEN + seglen, 0, sc.now);
		drain_out(&last_seq, &last_ack);
		app(lid);
		mpt_script_advance(&sc, (uint64_t)step * 1000000ull);
		drain_out(&last_seq, &last_ack);
	}
	mpt_script_free(&sc);
	return 0;
}
