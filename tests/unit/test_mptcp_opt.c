/* MPTCP option codec: byte vectors written by hand from RFC 8684's figures, round
 * trips of every form, every truncation rejected, segment-level parsing (forms vs TCP
 * flags, conflicts, counters), the engine's raw kind-30 bytes, and the emitter. */
#include "test.h"
#include "mptcp_opt.h"

#include <stdlib.h>

#define K_A 0x0102030405060708ull
#define K_B 0x1112131415161718ull

struct vec {
	const char *name;
	uint32_t bit;
	uint8_t tcp_flags; /* a segment this form belongs on */
	size_t payload_len;
	struct mptcp_opts o;
	uint8_t len;
	uint8_t bytes[40];
};

/* Each entry: the suboption as a struct and the bytes RFC 8684's figure gives for it. */
static const struct vec vecs[] = {
	/* Figure 4, MP_CAPABLE on a SYN: subtype 0 | version 1, flags A..H = H only
	 * (HMAC-SHA256), no key (v1). */
	{"mpc_syn",
	 MPTCP_OPT_MPC_SYN,
	 WIRE_TCP_SYN,
	 0,
	 {.mpc = {.version = 1, .flags = MPTCP_MPC_H}},
	 4,
	 {0x1e, 0x04, 0x01, 0x01}},
	/* Figure 4 on the SYN: A (checksum required) and C set too. */
	{"mpc_syn_ac",
	 MPTCP_OPT_MPC_SYN,
	 WIRE_TCP_SYN,
	 0,
	 {.mpc = {.version = 1, .flags = MPTCP_MPC_A | MPTCP_MPC_C | MPTCP_MPC_H}},
	 4,
	 {0x1e, 0x04, 0x01, 0xa1}},
	/* Figure 4, SYN-ACK: the sender's (B's) key. */
	{"mpc_synack",
	 MPTCP_OPT_MPC_SYNACK,
	 WIRE_TCP_SYN | WIRE_TCP_ACK,
	 0,
	 {.mpc = {.version = 1, .flags = MPTCP_MPC_H, .sndr_key = K_B}},
	 12,
	 {0x1e, 0x0c, 0x01, 0x01, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18}},
	/* Figure 4, third ACK: sender's key (A), receiver's key (B). */
	{"mpc_ack",
	 MPTCP_OPT_MPC_ACK,
	 WIRE_TCP_ACK,
	 0,
	 {.mpc = {.version = 1, .flags = MPTCP_MPC_H, .sndr_key = K_A, .rcvr_key = K_B}},
	 20,
	 {0x1e, 0x14, 0x01, 0x01, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
	  0x07, 0x08, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18}},
	/* Figure 4, ACK + data: both keys, data-level length 0x0064. */
	{"mpc_ack_data",
	 MPTCP_OPT_MPC_ACK,
	 WIRE_TCP_ACK | WIRE_TCP_PSH,
	 100,
	 {.mpc = {.version = 1,
		  .flags = MPTCP_MPC_H,
		  .sndr_key = K_A,
		  .rcvr_key = K_B,
		  .has_data_len = true,
		  .data_len = 100}},
	 22,
	 {0x1e, 0x16, 0x01, 0x01, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	  0x08, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x00, 0x64}},
	/* ... and with the checksum 0xabcd (A set). */
	{"mpc_ack_data_csum",
	 MPTCP_OPT_MPC_ACK,
	 WIRE_TCP_ACK,
	 100,
	 {.mpc = {.version = 1,
		  .flags = MPTCP_MPC_A | MPTCP_MPC_H,
		  .sndr_key = K_A,
		  .rcvr_key = K_B,
		  .has_data_len = true,
		  .data_len = 100,
		  .has_csum = true,
		  .csum = 0xabcd}},
	 24,
	 {0x1e, 0x18, 0x01, 0x81, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
	  0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x00, 0x64, 0xab, 0xcd}},
	/* Figure 5, MP_JOIN SYN: subtype 1 | B, address id 5, token, nonce. */
	{"mpj_syn",
	 MPTCP_OPT_MPJ_SYN,
	 WIRE_TCP_SYN,
	 0,
	 {.mpj = {.backup = true, .addr_id = 5, .token = 0xdeadbeef, .nonce = 0x01020304}},
	 12,
	 {0x1e, 0x0c, 0x11, 0x05, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04}},
	/* Figure 6, SYN-ACK: truncated HMAC (64), nonce. */
	{"mpj_synack",
	 MPTCP_OPT_MPJ_SYNACK,
	 WIRE_TCP_SYN | WIRE_TCP_ACK,
	 0,
	 {.mpj = {.addr_id = 0, .thmac = 0x0102030405060708ull, .nonce = 0xa0b0c0d0}},
	 16,
	 {0x1e, 0x10, 0x10, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0xa0, 0xb0, 0xc0,
	  0xd0}},
	/* Figure 7, third ACK: 12 reserved bits, HMAC (160). */
	{"mpj_ack",
	 MPTCP_OPT_MPJ_ACK,
	 WIRE_TCP_ACK,
	 0,
	 {.mpj = {.hmac = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}}},
	 24,
	 {0x1e, 0x18, 0x10, 0x00, 1,  2,  3,  4,  5,  6,  7,  8,
	  9,	10,   11,   12,	  13, 14, 15, 16, 17, 18, 19, 20}},
	/* Figure 9, DSS with a 32-bit DATA_ACK only (flags A). */
	{"dss_ack32",
	 MPTCP_OPT_DSS,
	 WIRE_TCP_ACK,
	 0,
	 {.dss = {.flags = MPTCP_DSS_A, .data_ack = 0x11223344}},
	 8,
	 {0x1e, 0x08, 0x20, 0x01, 0x11, 0x22, 0x33, 0x44}},
	/* Figure 9, everything: A a M m, 64-bit DATA_ACK and DSN, subflow seq 1, length
	 * 0x05dc, checksum 0x1234: 4 + 8 + 8 + 4 + 2 + 2 = 28. */
	{"dss_full",
	 MPTCP_OPT_DSS,
	 WIRE_TCP_ACK,
	 1500,
	 {.dss = {.flags = MPTCP_DSS_A | MPTCP_DSS_a | MPTCP_DSS_M | MPTCP_DSS_m,
		  .data_ack = 0x0102030405060708ull,
		  .data_seq = 0x1112131415161718ull,
		  .subflow_seq = 1,
		  .data_len = 1500,
		  .has_csum = true,
		  .csum = 0x1234}},
	 28,
	 {0x1e, 0x1c, 0x20, 0x0f, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x11, 0x12,
	  0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x00, 0x00, 0x00, 0x01, 0x05, 0xdc, 0x12, 0x34}},
	/* Figure 9, 32-bit ACK + 32-bit mapping + DATA_FIN, no checksum: 4 + 4 + 10. */
	{"dss_map32_fin",
	 MPTCP_OPT_DSS,
	 WIRE_TCP_ACK | WIRE_TCP_FIN,
	 0,
	 {.dss = {.flags = MPTCP_DSS_A | MPTCP_DSS_M | MPTCP_DSS_F,
		  .data_ack = 7,
		  .data_seq = 0x99,
		  .subflow_seq = 0,
		  .data_len = 1}},
	 18,
	 {0x1e, 0x12, 0x20, 0x15, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x99, 0x00, 0x00, 0x00,
	  0x00, 0x00, 0x01}},
	/* Figure 9, 64-bit mapping only (M m), with checksum: 4 + 14 + 2. */
	{"dss_map64_csum",
	 MPTCP_OPT_DSS,
	 WIRE_TCP_ACK,
	 10,
	 {.dss = {.flags = MPTCP_DSS_M | MPTCP_DSS_m,
		  .data_seq = 0xff00000000000001ull,
		  .subflow_seq = 0x10,
		  .data_len = 10,
		  .has_csum = true,
		  .csum = 0xffff}},
	 20,
	 {0x1e, 0x14, 0x20, 0x0c, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00,
	  0x00, 0x01, 0x00, 0x00, 0x00, 0x10, 0x00, 0x0a, 0xff, 0xff}},
	/* Figure 15, ADD_ADDR IPv4 192.0.2.1 port 8080, E = 0 so a truncated HMAC. */
	{"add_addr4_port",
	 MPTCP_OPT_ADD_ADDR,
	 WIRE_TCP_ACK,
	 0,
	 {.add_addr = {.id = 3,
		       .family = MPT_AF_INET,
		       .addr = {192, 0, 2, 1},
		       .has_port = true,
		       .port = 8080,
		       .hmac = 0x0102030405060708ull}},
	 18,
	 {0x1e, 0x12, 0x30, 0x03, 0xc0, 0x00, 0x02, 0x01, 0x1f, 0x90, 0x01, 0x02, 0x03, 0x04, 0x05,
	  0x06, 0x07, 0x08}},
	/* Figure 15, IPv4 without port: 16. */
	{"add_addr4",
	 MPTCP_OPT_ADD_ADDR,
	 WIRE_TCP_ACK,
	 0,
	 {.add_addr = {.id = 1, .family = MPT_AF_INET, .addr = {10, 0, 0, 2}, .hmac = 1}},
	 16,
	 {0x1e, 0x10, 0x30, 0x01, 0x0a, 0x00, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 1}},
	/* Figure 15, IPv4 echo (E = 1): no HMAC, 8. */
	{"add_addr4_echo",
	 MPTCP_OPT_ADD_ADDR,
	 WIRE_TCP_ACK,
	 0,
	 {.add_addr = {.echo = true, .id = 1, .family = MPT_AF_INET, .addr = {10, 0, 0, 2}}},
	 8,
	 {0x1e, 0x08, 0x31, 0x01, 0x0a, 0x00, 0x00, 0x02}},
	/* Figure 15, IPv4 echo with port: 10. */
	{"add_addr4_echo_port",
	 MPTCP_OPT_ADD_ADDR,
	 WIRE_TCP_ACK,
	 0,
	 {.add_addr = {.echo = true,
		       .id = 1,
		       .family = MPT_AF_INET,
		       .addr = {10, 0, 0, 2},
		       .has_port = true,
		       .port = 443}},
	 10,
	 {0x1e, 0x0a, 0x31, 0x01, 0x0a, 0x00, 0x00, 0x02, 0x01, 0xbb}},
	/* Figure 15, IPv6 2001:db8::1 with port and HMAC: 4 + 16 + 2 + 8 = 30. */
	{"add_addr6_port",
	 MPTCP_OPT_ADD_ADDR,
	 WIRE_TCP_ACK,
	 0,
	 {.add_addr = {.id = 9,
		       .family = MPT_AF_INET6,
		       .addr = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
		       .has_port = true,
		       .port = 1,
		       .hmac = 0xa1a2a3a4a5a6a7a8ull}},
	 30,
	 {0x1e, 0x1e, 0x30, 0x09, 0x20, 0x01, 0x0d, 0xb8, 0,	0,    0,    0,	  0,	0,   0, 0,
	  0,	0,    0,    1,	  0x00, 0x01, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8}},
	/* Figure 15, IPv6 echo without port: 20. */
	{"add_addr6_echo",
	 MPTCP_OPT_ADD_ADDR,
	 WIRE_TCP_ACK,
	 0,
	 {.add_addr = {.echo = true,
		       .id = 9,
		       .family = MPT_AF_INET6,
		       .addr = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}}},
	 20,
	 {0x1e, 0x14, 0x31, 0x09, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}},
	/* IPv6 with HMAC, no port (28) and echo with port (22). */
	{"add_addr6",
	 MPTCP_OPT_ADD_ADDR,
	 WIRE_TCP_ACK,
	 0,
	 {.add_addr = {.id = 2, .family = MPT_AF_INET6, .addr = {0xfd}, .hmac = 5}},
	 28,
	 {0x1e, 0x1c, 0x30, 0x02, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	  0,	0,    0,    0,	  0,	0, 0, 0, 0, 0, 0, 0, 0, 5}},
	{"add_addr6_echo_port",
	 MPTCP_OPT_ADD_ADDR,
	 WIRE_TCP_ACK,
	 0,
	 {.add_addr = {.echo = true,
		       .id = 2,
		       .family = MPT_AF_INET6,
		       .addr = {0xfd},
		       .has_port = true,
		       .port = 0x1234}},
	 22,
	 {0x1e, 0x16, 0x31, 0x02, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34}},
	/* Figure 16, REMOVE_ADDR of ids 3 and 7. */
	{"rm_addr2",
	 MPTCP_OPT_RM_ADDR,
	 WIRE_TCP_ACK,
	 0,
	 {.rm_addr = {.nids = 2, .ids = {3, 7}}},
	 5,
	 {0x1e, 0x05, 0x40, 0x03, 0x07}},
	{"rm_addr8",
	 MPTCP_OPT_RM_ADDR,
	 WIRE_TCP_ACK,
	 0,
	 {.rm_addr = {.nids = 8, .ids = {1, 2, 3, 4, 5, 6, 7, 8}}},
	 11,
	 {0x1e, 0x0b, 0x40, 1, 2, 3, 4, 5, 6, 7, 8}},
	/* Figure 11 (RFC 8684: no address id), MP_PRIO with B set. */
	{"prio_backup",
	 MPTCP_OPT_PRIO,
	 WIRE_TCP_ACK,
	 0,
	 {.prio = {.backup = true}},
	 3,
	 {0x1e, 0x03, 0x51}},
	{"prio",
	 MPTCP_OPT_PRIO,
	 WIRE_TCP_ACK,
	 0,
	 {.prio = {.backup = false}},
	 3,
	 {0x1e, 0x03, 0x50}},
	/* Figure 16 (MP_FAIL): 12 reserved bits then the DSN. */
	{"fail",
	 MPTCP_OPT_FAIL,
	 WIRE_TCP_ACK,
	 0,
	 {.fail = {.dsn = 0x0102030405060708ull}},
	 12,
	 {0x1e, 0x0c, 0x60, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08}},
	/* Figure 14, MP_FASTCLOSE: the option receiver's key. */
	{"fastclose",
	 MPTCP_OPT_FASTCLOSE,
	 WIRE_TCP_RST,
	 0,
	 {.fastclose = {.rcvr_key = K_B}},
	 12,
	 {0x1e, 0x0c, 0x70, 0x00, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18}},
	/* Figure 15 (MP_TCPRST): T set, reason 4 "too much outstanding data". */
	{"tcprst",
	 MPTCP_OPT_RST,
	 WIRE_TCP_RST,
	 0,
	 {.rst = {.flags = MPTCP_RST_T, .reason = 4}},
	 4,
	 {0x1e, 0x04, 0x81, 0x04}},
	{"tcprst_uvw",
	 MPTCP_OPT_RST,
	 WIRE_TCP_RST,
	 0,
	 {.rst = {.flags = MPTCP_RST_U | MPTCP_RST_V | MPTCP_RST_W, .reason = 0}},
	 4,
	 {0x1e, 0x04, 0x8e, 0x00}},
};

#define NVECS (sizeof(vecs) / sizeof(vecs[0]))

/* Encode the decoded struct again; used as the round-trip comparison (structs hold
 * padding, bytes do not). */
static ptrdiff_t reencode(const struct mptcp_opts *m, uint32_t bit, uint8_t *out, size_t cap)
{
	return mptcp_subopt_encode(out, cap, m, bit);
}

TEST(mptcp_opt_vectors_encode)
{
	size_t i;

	for (i = 0; i < NVECS; i++) {
		const struct vec *v = &vecs[i];
		uint8_t b[40];
		ptrdiff_t n;

		memset(b, 0xee, sizeof(b));
		CHECK_EQ(mptcp_subopt_len(&v->o, v->bit), v->len);
		n = mptcp_subopt_encode(b, sizeof(b), &v->o, v->bit);
		if (n != v->len || memcmp(b, v->bytes, v->len) != 0)
			test_fail(__FILE__, __LINE__, "%s: encode differs from the figure",
				  v->name);
		CHECK_EQ(b[v->len], 0xee); /* nothing written past len */
		/* exact-size buffer works, one byte less does not */
		CHECK_EQ(mptcp_subopt_encode(b, v->len, &v->o, v->bit), v->len);
		CHECK_EQ(mptcp_subopt_encode(b, (size_t)v->len - 1, &v->o, v->bit), MPT_ENOBUFS);
	}
}

TEST(mptcp_opt_vectors_decode_roundtrip)
{
	size_t i;

	for (i = 0; i < NVECS; i++) {
		const struct vec *v = &vecs[i];
		struct mptcp_opts m;
		uint32_t bit = 0;
		uint8_t b[40];

		memset(&m, 0, sizeof(m));
		if (mptcp_subopt_decode(&m, &bit, v->bytes, v->len) != v->len)
			test_fail(__FILE__, __LINE__, "%s: decode failed", v->name);
		CHECK_EQ(bit, v->bit);
		CHECK_EQ(reencode(&m, bit, b, sizeof(b)), v->len);
		if (memcmp(b, v->bytes, v->len) != 0)
			test_fail(__FILE__, __LINE__, "%s: round trip differs", v->name);
		/* extra bytes after the option in the buffer are not consumed */
		memcpy(b, v->bytes, v->len);
		memset(b + v->len, 1, sizeof(b) - v->len);
		CHECK_EQ(mptcp_subopt_decode(&m, &bit, b, sizeof(b)), v->len);
	}
	/* spot-check decoded fields */
	{
		struct mptcp_opts m;
		uint32_t bit;

		CHECK_EQ(mptcp_subopt_decode(&m, &bit, vecs[5].bytes, vecs[5].len), 24);
		CHECK_U64_EQ(m.mpc.sndr_key, K_A);
		CHECK_U64_EQ(m.mpc.rcvr_key, K_B);
		CHECK_EQ(m.mpc.data_len, 100);
		CHECK(m.mpc.has_csum);
		CHECK_EQ(m.mpc.csum, 0xabcd);
		CHECK_EQ(m.mpc.flags & MPTCP_MPC_A, MPTCP_MPC_A);
	}
}

/* ngtcp2's loop: every shorter buffer fails (copied into an exact-size heap block so
 * ASan sees any over-read), and every shorter length byte either fails or is another
 * legitimate form whose bytes are exactly that prefix. */
TEST(mptcp_opt_every_truncation_rejected)
{
	size_t i, k;

	for (i = 0; i < NVECS; i++) {
		const struct vec *v = &vecs[i];

		for (k = 0; k < v->len; k++) {
			uint8_t *b = malloc(k ? k : 1);
			struct mptcp_opts m;
			uint32_t bit = 0;
			ptrdiff_t rv;

			memcpy(b, v->bytes, k);
			if (mptcp_subopt_decode(&m, &bit, b, k) >= 0)
				test_fail(__FILE__, __LINE__, "%s: buffer of %zu accepted", v->name,
					  k);
			if (k >= 2) {
				uint8_t re[40];

				b[1] = (uint8_t)k;
				rv = mptcp_subopt_decode(&m, &bit, b, k);
				if (rv >= 0) {
					CHECK_EQ(rv, (ptrdiff_t)k);
					CHECK_EQ(reencode(&m, bit, re, sizeof(re)), (ptrdiff_t)k);
					CHECK(!memcmp(re, b, k));
					/* only variable-length suboptions have a shorter
					 * legitimate form of the same kind (MP_CAPABLE ACK
					 * without data, DSS without checksum, ADD_ADDR without
					 * port or HMAC, fewer ids); fixed-size ones never do */
					CHECK(bit != v->bit || bit == MPTCP_OPT_MPC_ACK ||
					      bit == MPTCP_OPT_DSS || bit == MPTCP_OPT_ADD_ADDR ||
					      bit == MPTCP_OPT_RM_ADDR);
					CHECK(bit != MPTCP_OPT_DSS || k + 2 == v->len);
				}
			}
			free(b);
		}
	}
}

/* A form that the length allows but the TCP flags do not is dropped at segment level:
 * e.g. a 24-octet MP_CAPABLE cut to 22 or 20 on a segment with the original's flags. */
static void one_raw(struct wire_tcp_opts *o, const uint8_t *bytes, uint8_t len)
{
	memset(o, 0, sizeof(*o));
	o->present = WIRE_HAS_MPTCP;
	o->nmptcp = 1;
	o->mptcp[0].len = len;
	memcpy(o->mptcp[0].data, bytes, len);
}

TEST(mptcp_opt_parse_forms_vs_flags)
{
	struct mpt_counters c;
	struct wire_tcp_opts o;
	struct mptcp_opts m;
	size_t i;

	memset(&c, 0, sizeof(c));
	for (i = 0; i < NVECS; i++) {
		const struct vec *v = &vecs[i];

		one_raw(&o, v->bytes, v->len);
		if (mptcp_opts_parse(&m, &o, v->tcp_flags, v->payload_len, &c) != 1)
			test_fail(__FILE__, __LINE__, "%s: not accepted on its segment", v->name);
		CHECK_EQ(m.suboptions, v->bit);
	}
	CHECK_U64_EQ(c.mptcp_opt_malformed + c.mptcp_opt_unknown + c.mptcp_opt_conflict, 0);

	/* MP_CAPABLE: SYN form on a SYN-ACK, SYN-ACK form on a SYN, third-ACK form on a
	 * segment with data, ACK+data form on a pure ACK: all dropped and counted */
	one_raw(&o, vecs[0].bytes, vecs[0].len);
	CHECK_EQ(mptcp_opts_parse(&m, &o, WIRE_TCP_SYN | WIRE_TCP_ACK, 0, &c), 0);
	one_raw(&o, vecs[2].bytes, vecs[2].len);
	CHECK_EQ(mptcp_opts_parse(&m, &o, WIRE_TCP_SYN, 0, &c), 0);
	one_raw(&o, vecs[3].bytes, vecs[3].len);
	CHECK_EQ(mptcp_opts_parse(&m, &o, WIRE_TCP_ACK, 10, &c), 0);
	one_raw(&o, vecs[4].bytes, vecs[4].len);
	CHECK_EQ(mptcp_opts_parse(&m, &o, WIRE_TCP_ACK, 0, &c), 0);
	/* MP_JOIN ACK on a SYN, SYN on an ACK */
	one_raw(&o, vecs[8].bytes, vecs[8].len);
	CHECK_EQ(mptcp_opts_parse(&m, &o, WIRE_TCP_SYN, 0, &c), 0);
	one_raw(&o, vecs[6].bytes, vecs[6].len);
	CHECK_EQ(mptcp_opts_parse(&m, &o, WIRE_TCP_ACK, 0, &c), 0);
	/* MP_TCPRST without the RST flag */
	one_raw(&o, vecs[27].bytes, vecs[27].len);
	CHECK_EQ(mptcp_opts_parse(&m, &o, WIRE_TCP_ACK, 0, &c), 0);
	CHECK_U64_EQ(c.mptcp_opt_malformed, 7);
	CHECK_EQ(m.suboptions, 0);
}

TEST(mptcp_opt_malformed_unknown_counted)
{
	/* MP_PRIO of RFC 6824 (length 4, with an address id): Linux ignores it */
	static const uint8_t prio4[] = {0x1e, 0x04, 0x51, 0x02};
	/* MP_CAPABLE version 0 (RFC 6824) on a SYN-ACK; version 2 on a SYN is fine */
	static const uint8_t mpc_v0[] = {0x1e, 0x0c, 0x00, 0x01, 1, 2, 3, 4, 5, 6, 7, 8};
	static const uint8_t mpc_v2_syn[] = {0x1e, 0x04, 0x02, 0x01};
	/* MP_CAPABLE without H, and with B */
	static const uint8_t mpc_noh[] = {0x1e, 0x04, 0x01, 0x80};
	static const uint8_t mpc_b[] = {0x1e, 0x04, 0x01, 0x41};
	/* a reserved flag among D..G set next to H (Linux: not SHA-256, ignored) */
	static const uint8_t mpc_d[] = {0x1e, 0x04, 0x01, 0x11};
	static const uint8_t mpc_g[] = {0x1e, 0x04, 0x01, 0x03};
	/* DSS with A but 6 octets; REMOVE_ADDR with no id; with 9 ids */
	static const uint8_t dss6[] = {0x1e, 0x06, 0x20, 0x01, 0, 0};
	static const uint8_t rm0[] = {0x1e, 0x03, 0x40};
	static const uint8_t rm9[] = {0x1e, 0x0c, 0x40, 1, 2, 3, 4, 5, 6, 7, 8, 9};
	/* ADD_ADDR of 12 octets (no such form); MP_TCPRST of 3 */
	static const uint8_t add12[] = {0x1e, 0x0c, 0x30, 1, 10, 0, 0, 1, 0, 0, 0, 0};
	static const uint8_t rst3[] = {0x1e, 0x03, 0x80};
	/* unknown subtypes 0x9 and 0xf (MP_EXPERIMENTAL) */
	static const uint8_t sub9[] = {0x1e, 0x04, 0x90, 0x00};
	static const uint8_t subf[] = {0x1e, 0x03, 0xf0};
	struct mpt_counters c;
	struct wire_tcp_opts o;
	struct mptcp_opts m;
	uint32_t bit;

	memset(&c, 0, sizeof(c));
	CHECK_EQ(mptcp_subopt_decode(&m, &bit, prio4, sizeof(prio4)), MPT_EMALFORMED);
	CHECK_EQ(mptcp_subopt_decode(&m, &bit, mpc_v0, sizeof(mpc_v0)), MPT_EUNSUPP);
	CHECK_EQ(mptcp_subopt_decode(&m, &bit, mpc_v2_syn, sizeof(mpc_v2_syn)), 4);
	CHECK_EQ(m.mpc.version, 2);
	CHECK_EQ(mptcp_subopt_decode(&m, &bit, mpc_noh, sizeof(mpc_noh)), MPT_EUNSUPP);
	CHECK_EQ(mptcp_subopt_decode(&m, &bit, mpc_b, sizeof(mpc_b)), MPT_EUNSUPP);
	CHECK_EQ(mptcp_subopt_decode(&m, &bit, mpc_d, sizeof(mpc_d)), MPT_EUNSUPP);
	CHECK_EQ(mptcp_subopt_decode(&m, &bit, mpc_g, sizeof(mpc_g)), MPT_EUNSUPP);
	CHECK_EQ(mptcp_subopt_decode(&m, &bit, dss6, sizeof(dss6)), MPT_EMALFORMED);
	CHECK_EQ(mptcp_subopt_decode(&m, &bit, rm0, sizeof(rm0)), MPT_EMALFORMED);
	CHECK_EQ(mptcp_subopt_decode(&m, &bit, rm9, sizeof(rm9)), MPT_EMALFORMED);
	CHECK_EQ(mptcp_subopt_decode(&m, &bit, add12, sizeof(add12)), MPT_EMALFORMED);
	CHECK_EQ(mptcp_subopt_decode(&m, &bit, rst3, sizeof(rst3)), MPT_EMALFORMED);
	CHECK_EQ(mptcp_subopt_decode(&m, &bit, sub9, sizeof(sub9)), MPT_EUNSUPP);
	CHECK_EQ(mptcp_subopt_decode(&m, &bit, subf, sizeof(subf)), MPT_EUNSUPP);
	/* not kind 30 */
	CHECK_EQ(mptcp_subopt_decode(&m, &bit, (const uint8_t[]){2, 4, 5, 0xb4}, 4),
		 MPT_EMALFORMED);

	/* at segment level: dropped and counted, the good neighbour kept */
	memset(&o, 0, sizeof(o));
	o.present = WIRE_HAS_MPTCP;
	o.nmptcp = 3;
	o.mptcp[0].len = sizeof(prio4);
	memcpy(o.mptcp[0].data, prio4, sizeof(prio4));
	o.mptcp[1].len = sizeof(sub9);
	memcpy(o.mptcp[1].data, sub9, sizeof(sub9));
	o.mptcp[2].len = vecs[9].len; /* dss_ack32 */
	memcpy(o.mptcp[2].data, vecs[9].bytes, vecs[9].len);
	CHECK_EQ(mptcp_opts_parse(&m, &o, WIRE_TCP_ACK, 0, &c), 1);
	CHECK_EQ(m.suboptions, MPTCP_OPT_DSS);
	CHECK_U64_EQ(m.dss.data_ack, 0x11223344);
	CHECK_U64_EQ(c.mptcp_opt_malformed, 1);
	CHECK_U64_EQ(c.mptcp_opt_unknown, 1);
	CHECK_U64_EQ(mpt_counters_get(&c, "MpnetExtMPTcpOptMalformed"), 1);
	/* NULL counters are fine */
	CHECK_EQ(mptcp_opts_parse(&m, &o, WIRE_TCP_ACK, 0, NULL), 1);
}

/* The receive-side matrix: conflicting and duplicate suboptions are ignored, the
 * first one wins; "P" pairs (DSS + ADD_ADDR, ADD_ADDR + RM_ADDR, DSS + FASTCLOSE) are
 * accepted from a peer. */
TEST(mptcp_opt_parse_conflicts)
{
	struct mpt_counters c;
	struct wire_tcp_opts o;
	struct mptcp_opts m;

	memset(&c, 0, sizeof(c));
	memset(&o, 0, sizeof(o));
	o.present = WIRE_HAS_MPTCP;
	o.nmptcp = 4;
	o.mptcp[0].len = vecs[3].len; /* mpc_ack */
	memcpy(o.mptcp[0].data, vecs[3].bytes, vecs[3].len);
	o.mptcp[1].len = vecs[9].len; /* dss: X with MPC */
	memcpy(o.mptcp[1].data, vecs[9].bytes, vecs[9].len);
	o.mptcp[2].len = vecs[22].len; /* rm_addr8: C with MPC */
	memcpy(o.mptcp[2].data, vecs[22].bytes, vecs[22].len);
	o.mptcp[3].len = vecs[24].len; /* prio: X with MPC */
	memcpy(o.mptcp[3].data, vecs[24].bytes, vecs[24].len);
	CHECK_EQ(mptcp_opts_parse(&m, &o, WIRE_TCP_ACK, 0, &c), 2);
	CHECK_EQ(m.suboptions, MPTCP_OPT_MPC_ACK | MPTCP_OPT_RM_ADDR);
	CHECK_U64_EQ(c.mptcp_opt_conflict, 2);

	/* DSS + ADD_ADDR + RM_ADDR + duplicate DSS */
	o.mptcp[0].len = vecs[9].len;
	memcpy(o.mptcp[0].data, vecs[9].bytes, vecs[9].len);
	o.mptcp[1].len = vecs[14].len; /* add_addr4 */
	memcpy(o.mptcp[1].data, vecs[14].bytes, vecs[14].len);
	o.mptcp[3].len = vecs[10].len; /* dss_full: duplicate */
	memcpy(o.mptcp[3].data, vecs[10].bytes, vecs[10].len);
	CHECK_EQ(mptcp_opts_parse(&m, &o, WIRE_TCP_ACK, 0, &c), 3);
	CHECK_EQ(m.suboptions, MPTCP_OPT_DSS | MPTCP_OPT_ADD_ADDR | MPTCP_OPT_RM_ADDR);
	CHECK_U64_EQ(m.dss.data_ack, 0x11223344); /* the first DSS */
	CHECK_U64_EQ(c.mptcp_opt_conflict, 3);

	/* the matrix is symmetric; output never allows what input forbids */
	{
		uint32_t a, b;

		for (a = 1; a <= MPTCP_OPT_FAIL; a <<= 1)
			for (b = 1; b <= MPTCP_OPT_FAIL; b <<= 1) {
				CHECK_EQ(mptcp_opts_compatible(a, b, true),
					 mptcp_opts_compatible(b, a, true));
				CHECK_EQ(mptcp_opts_compatible(a, b, false),
					 mptcp_opts_compatible(b, a, false));
				if (mptcp_opts_compatible(a, b, false))
					CHECK(mptcp_opts_compatible(a, b, true));
			}
		CHECK(mptcp_opts_compatible(MPTCP_OPT_RST, MPTCP_OPT_FASTCLOSE, false));
		CHECK(mptcp_opts_compatible(MPTCP_OPT_DSS, MPTCP_OPT_FAIL, false));
		CHECK(!mptcp_opts_compatible(MPTCP_OPT_RST, MPTCP_OPT_DSS, true));
		CHECK(!mptcp_opts_compatible(MPTCP_OPT_ADD_ADDR, MPTCP_OPT_RM_ADDR, false));
		CHECK(mptcp_opts_compatible(MPTCP_OPT_ADD_ADDR, MPTCP_OPT_RM_ADDR, true));
		CHECK(!mptcp_opts_compatible(MPTCP_OPT_DSS, MPTCP_OPT_FASTCLOSE, false));
		CHECK(mptcp_opts_compatible(MPTCP_OPT_DSS, MPTCP_OPT_FASTCLOSE, true));
	}
}

/* The engine carries kind-30 options opaquely (wire_tcp_opts.mptcp); a whole
 * datagram built and parsed by the engine's wire layer decodes with this codec. */
TEST(mptcp_opt_engine_raw_bytes)
{
	static const uint8_t payload[100] = {1};
	struct wire_ip_repr ip, pip;
	struct wire_tcp_repr t, p;
	struct mptcp_opts want, got;
	struct mpt_counters c;
	uint8_t buf[1500];
	ptrdiff_t n;
	uint32_t sent;

	memset(&ip, 0, sizeof(ip));
	ip.family = MPT_AF_INET;
	ip.ttl = 64;
	ip.proto = WIRE_PROTO_TCP;
	ip.src[0] = 10, ip.src[3] = 1;
	ip.dst[0] = 10, ip.dst[3] = 2;
	memset(&t, 0, sizeof(t));
	t.sport = 40000, t.dport = 5001;
	t.seq = 1, t.ack = 2;
	t.flags = WIRE_TCP_ACK | WIRE_TCP_PSH;
	t.window = 500;
	t.opt.present = WIRE_HAS_TS;
	t.opt.tsval = 7, t.opt.tsecr = 8;
	t.payload = payload;
	t.payload_len = sizeof(payload);

	memset(&want, 0, sizeof(want));
	want.suboptions = MPTCP_OPT_DSS | MPTCP_OPT_PRIO;
	want.dss = vecs[11].o.dss; /* 32-bit ACK + mapping + DATA_FIN: 18 -> 20 */
	want.prio.backup = true;
	sent = mptcp_opts_emit(&want, t.flags, WIRE_TCP_MAX_OPT - wire_tcp_opts_len(&t.opt),
			       &t.opt);
	CHECK_EQ(sent, MPTCP_OPT_DSS | MPTCP_OPT_PRIO);
	CHECK_EQ(wire_tcp_opts_len(&t.opt), 12 + 20 + 4);
	n = wire_packet_emit(&ip, &t, buf, sizeof(buf));
	CHECK(n > 0);
	CHECK_EQ(wire_packet_parse(&pip, &p, buf, (size_t)n), (ptrdiff_t)sizeof(payload));
	CHECK_EQ(p.opt.nmptcp, 2);
	memset(&c, 0, sizeof(c));
	CHECK_EQ(mptcp_opts_parse(&got, &p.opt, p.flags, p.payload_len, &c), 2);
	CHECK_EQ(got.suboptions, MPTCP_OPT_DSS | MPTCP_OPT_PRIO);
	CHECK_EQ(got.dss.flags, want.dss.flags);
	CHECK_U64_EQ(got.dss.data_seq, 0x99);
	CHECK_EQ(got.dss.data_len, 1);
	CHECK(got.prio.backup);
}

/* Emitter: option space and the matrix. */
TEST(mptcp_opt_emit_space_and_matrix)
{
	struct mptcp_opts want;
	struct wire_tcp_opts o;
	uint32_t sent;

	memset(&want, 0, sizeof(want));
	want.suboptions = MPTCP_OPT_DSS | MPTCP_OPT_ADD_ADDR | MPTCP_OPT_PRIO;
	want.dss = vecs[10].o.dss;	     /* 28 */
	want.add_addr = vecs[14].o.add_addr; /* 16 */
	/* 40: DSS (28) + PRIO (4); ADD_ADDR does not fit */
	memset(&o, 0, sizeof(o));
	sent = mptcp_opts_emit(&want, WIRE_TCP_ACK, 40, &o);
	CHECK_EQ(sent, MPTCP_OPT_DSS | MPTCP_OPT_PRIO);
	CHECK_EQ(wire_tcp_opts_len(&o), 32);
	/* 28 with timestamps taking 12: DSS only */
	memset(&o, 0, sizeof(o));
	CHECK_EQ(mptcp_opts_emit(&want, WIRE_TCP_ACK, 28, &o), MPTCP_OPT_DSS);
	/* 27: DSS does not fit, ADD_ADDR + PRIO do (20) */
	memset(&o, 0, sizeof(o));
	CHECK_EQ(mptcp_opts_emit(&want, WIRE_TCP_ACK, 27, &o), MPTCP_OPT_ADD_ADDR | MPTCP_OPT_PRIO);
	/* 0: nothing */
	memset(&o, 0, sizeof(o));
	CHECK_EQ(mptcp_opts_emit(&want, WIRE_TCP_ACK, 0, &o), 0);
	CHECK_EQ(o.nmptcp, 0);

	/* MP_CAPABLE excludes DSS, ADD_ADDR, PRIO; RM_ADDR may ride along */
	want.suboptions = MPTCP_OPT_MPC_ACK | MPTCP_OPT_DSS | MPTCP_OPT_ADD_ADDR |
			  MPTCP_OPT_RM_ADDR | MPTCP_OPT_PRIO;
	want.mpc = vecs[3].o.mpc;
	want.rm_addr = vecs[22].o.rm_addr;
	memset(&o, 0, sizeof(o));
	CHECK_EQ(mptcp_opts_emit(&want, WIRE_TCP_ACK, 40, &o),
		 MPTCP_OPT_MPC_ACK | MPTCP_OPT_RM_ADDR);
	CHECK_EQ(wire_tcp_opts_len(&o), 20 + 12);
	want.suboptions &= ~(uint32_t)MPTCP_OPT_RM_ADDR;
	memset(&o, 0, sizeof(o));
	CHECK_EQ(mptcp_opts_emit(&want, WIRE_TCP_ACK, 40, &o), MPTCP_OPT_MPC_ACK);

	/* ADD_ADDR wins over RM_ADDR */
	want.suboptions = MPTCP_OPT_ADD_ADDR | MPTCP_OPT_RM_ADDR;
	memset(&o, 0, sizeof(o));
	CHECK_EQ(mptcp_opts_emit(&want, WIRE_TCP_ACK, 40, &o), MPTCP_OPT_ADD_ADDR);

	/* DSS + MP_FAIL and nothing else */
	want.suboptions = MPTCP_OPT_DSS | MPTCP_OPT_FAIL | MPTCP_OPT_RM_ADDR | MPTCP_OPT_PRIO;
	want.dss = vecs[9].o.dss; /* 8 */
	memset(&o, 0, sizeof(o));
	CHECK_EQ(mptcp_opts_emit(&want, WIRE_TCP_ACK, 40, &o), MPTCP_OPT_DSS | MPTCP_OPT_FAIL);

	/* on a RST: FASTCLOSE then TCPRST; FAIL only without FASTCLOSE; nothing else */
	want.suboptions = MPTCP_OPT_DSS | MPTCP_OPT_FAIL | MPTCP_OPT_FASTCLOSE | MPTCP_OPT_RST;
	memset(&o, 0, sizeof(o));
	CHECK_EQ(mptcp_opts_emit(&want, WIRE_TCP_RST, 40, &o), MPTCP_OPT_FASTCLOSE | MPTCP_OPT_RST);
	want.suboptions &= ~(uint32_t)MPTCP_OPT_FASTCLOSE;
	memset(&o, 0, sizeof(o));
	CHECK_EQ(mptcp_opts_emit(&want, WIRE_TCP_RST | WIRE_TCP_ACK, 40, &o),
		 MPTCP_OPT_FAIL | MPTCP_OPT_RST);
	memset(&o, 0, sizeof(o));
	CHECK_EQ(mptcp_opts_emit(&want, WIRE_TCP_RST, 15, &o), MPTCP_OPT_FAIL);
	/* TCPRST is never sent without a RST */
	want.suboptions = MPTCP_OPT_RST | MPTCP_OPT_DSS;
	memset(&o, 0, sizeof(o));
	CHECK_EQ(mptcp_opts_emit(&want, WIRE_TCP_ACK, 40, &o), MPTCP_OPT_DSS);
}

/* Every subset of the established-connection suboptions, every space, with and
 * without RST: what is emitted fits, is pairwise allowed, is a subset of what was
 * wanted, and parses back to exactly that set. */
TEST(mptcp_opt_emit_exhaustive)
{
	static const uint32_t bits[] = {MPTCP_OPT_DSS,	MPTCP_OPT_ADD_ADDR, MPTCP_OPT_RM_ADDR,
					MPTCP_OPT_PRIO, MPTCP_OPT_FAIL,	    MPTCP_OPT_FASTCLOSE,
					MPTCP_OPT_RST,	MPTCP_OPT_MPJ_ACK,  MPTCP_OPT_MPC_ACK};
	const size_t nbits = sizeof(bits) / sizeof(bits[0]);
	struct mptcp_opts want, got;
	uint32_t mask, f;
	size_t space, i;

	memset(&want, 0, sizeof(want));
	want.dss = vecs[10].o.dss;
	want.add_addr = vecs[14].o.add_addr;
	want.rm_addr = vecs[21].o.rm_addr;
	want.prio = vecs[23].o.prio;
	want.fail = vecs[25].o.fail;
	want.fastclose = vecs[26].o.fastclose;
	want.rst = vecs[27].o.rst;
	want.mpj = vecs[8].o.mpj;
	want.mpc = vecs[3].o.mpc;
	for (mask = 0; mask < (1u << nbits); mask++)
		for (f = 0; f < 2; f++)
			for (space = 0; space <= 40; space++) {
				uint8_t flags = f ? WIRE_TCP_RST | WIRE_TCP_ACK : WIRE_TCP_ACK;
				struct wire_tcp_opts o;
				uint32_t sent, a, b;

				want.suboptions = 0;
				for (i = 0; i < nbits; i++)
					if (mask & (1u << i))
						want.suboptions |= bits[i];
				memset(&o, 0, sizeof(o));
				sent = mptcp_opts_emit(&want, flags, space, &o);
				CHECK_EQ(sent & ~want.suboptions, 0);
				CHECK(wire_tcp_opts_len(&o) <= space);
				for (a = 1; a <= MPTCP_OPT_FAIL; a <<= 1)
					for (b = a << 1; b <= MPTCP_OPT_FAIL; b <<= 1)
						if ((sent & a) && (sent & b))
							CHECK(mptcp_opts_compatible(a, b, false));
				if (!f)
					CHECK_EQ(sent & MPTCP_OPT_RST, 0);
				else
					CHECK_EQ(sent & ~(uint32_t)(MPTCP_OPT_RST | MPTCP_OPT_FAIL |
								    MPTCP_OPT_FASTCLOSE),
						 0);
				/* something wanted and 4+ octets free: never an empty segment when
				 * a lone small suboption would have fitted */
				if (!f && want.suboptions == MPTCP_OPT_PRIO && space >= 4)
					CHECK_EQ(sent, MPTCP_OPT_PRIO);
				CHECK_EQ(mptcp_opts_parse(&got, &o, flags, 0, NULL),
					 __builtin_popcount(sent));
				CHECK_EQ(got.suboptions, sent);
			}
}

/* The tests above name vectors by index; keep the table in that order. */
TEST(mptcp_opt_vector_indices)
{
	CHECK_STR_EQ(vecs[3].name, "mpc_ack");
	CHECK_STR_EQ(vecs[8].name, "mpj_ack");
	CHECK_STR_EQ(vecs[9].name, "dss_ack32");
	CHECK_STR_EQ(vecs[10].name, "dss_full");
	CHECK_STR_EQ(vecs[11].name, "dss_map32_fin");
	CHECK_STR_EQ(vecs[14].name, "add_addr4");
	CHECK_STR_EQ(vecs[21].name, "rm_addr2");
	CHECK_STR_EQ(vecs[22].name, "rm_addr8");
	CHECK_STR_EQ(vecs[23].name, "prio_backup");
	CHECK_STR_EQ(vecs[24].name, "prio");
	CHECK_STR_EQ(vecs[25].name, "fail");
	CHECK_STR_EQ(vecs[26].name, "fastclose");
	CHECK_STR_EQ(vecs[27].name, "tcprst");
}

/* Robustness: random kind-30 options (random length byte, random body, every
 * subtype) never crash or over-read (run under ASan by make test-asan), and whatever
 * decodes re-encodes to exactly the same bytes. */
TEST(mptcp_opt_random_bytes)
{
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	struct mpt_counters c;
	int iter;

	memset(&c, 0, sizeof(c));
	for (iter = 0; iter < 200000; iter++) {
		struct wire_tcp_opts o;
		struct mptcp_opts m;
		uint8_t len, *b, re[40];
		uint32_t bit = 0;
		ptrdiff_t rv;
		size_t i;

		rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
		len = (uint8_t)(3 + rng % 38); /* 3..40 */
		b = malloc(len);
		b[0] = WIRE_OPT_MPTCP;
		b[1] = (uint8_t)((rng >> 8) % 2 ? len : (rng >> 16) % 48);
		for (i = 2; i < len; i++) {
			rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
			b[i] = (uint8_t)rng;
		}
		if (iter % 3 == 0)
			b[2] = (uint8_t)((b[2] & 0xf0) | 0x01); /* version 1 / flags */
		if (iter % 3 == 1 && len > 3)
			b[3] = MPTCP_MPC_H;
		rv = mptcp_subopt_decode(&m, &bit, b, len);
		if (rv >= 0) {
			CHECK(rv <= len);
			CHECK_EQ(mptcp_subopt_encode(re, sizeof(re), &m, bit), rv);
			/* reserved bits are not kept: compare all but the low nibble of
			 * octet 2 and octet 3 for the suboptions that reserve them */
			CHECK(!memcmp(re, b, 2));
			CHECK_EQ(re[2] >> 4, b[2] >> 4);
			if (rv > 4)
				CHECK(!memcmp(re + 4, b + 4, (size_t)rv - 4));
		}
		if (len <= WIRE_OPT_MPTCP_MAX_LEN && b[1] >= 3 && b[1] <= len) {
			memset(&o, 0, sizeof(o));
			o.present = WIRE_HAS_MPTCP;
			o.nmptcp = 1;
			o.mptcp[0].len = b[1];
			memcpy(o.mptcp[0].data, b, b[1]);
			mptcp_opts_parse(&m, &o, (uint8_t)(rng >> 32), (rng >> 40) % 2 ? 10 : 0,
					 &c);
		}
		free(b);
	}
	CHECK(c.mptcp_opt_malformed > 0);
	CHECK(c.mptcp_opt_unknown > 0);
}
