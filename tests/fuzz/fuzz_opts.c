/* Fuzz target: the TCP option list codec and the MPTCP suboption codecs.
 *
 * Input: [tcp flags][payload length][option bytes...].
 * - wire_tcp_opts_decode; when it succeeds, encode, decode again: the two decoded
 *   lists must agree field by field and their encodings must be identical.
 * - mptcp_subopt_decode of the bytes as one kind-30 option; when it succeeds,
 *   encode (len() bytes, the length decode reported), decode, encode again: the
 *   same suboption bit and identical bytes.
 * - mptcp_opts_parse of the decoded list, mptcp_opts_emit of what it accepted,
 *   parse again: exactly the emitted suboptions come back.
 */
#include "fuzz.h"

#include "mptcp_opt.h"
#include "wire.h"

#include <string.h>

static void check_same_opts(const struct wire_tcp_opts *a, const struct wire_tcp_opts *b)
{
	FUZZ_ASSERT(a->present == b->present, "present %#x != %#x", a->present, b->present);
	if (a->present & WIRE_HAS_MSS)
		FUZZ_ASSERT(a->mss == b->mss, "mss %u != %u", a->mss, b->mss);
	if (a->present & WIRE_HAS_WS)
		FUZZ_ASSERT(a->wscale == b->wscale, "wscale %u != %u", a->wscale, b->wscale);
	if (a->present & WIRE_HAS_TS)
		FUZZ_ASSERT(a->tsval == b->tsval && a->tsecr == b->tsecr, "timestamps differ");
	if (a->present & WIRE_HAS_SACK) {
		FUZZ_ASSERT(a->nsack == b->nsack, "nsack %u != %u", a->nsack, b->nsack);
		FUZZ_ASSERT(!memcmp(a->sack, b->sack, a->nsack * sizeof(a->sack[0])),
			    "SACK blocks differ");
	}
	FUZZ_ASSERT(a->nmptcp == b->nmptcp, "nmptcp %u != %u", a->nmptcp, b->nmptcp);
	for (int i = 0; i < a->nmptcp; i++) {
		FUZZ_ASSERT(a->mptcp[i].len == b->mptcp[i].len, "mptcp[%d] len %u != %u", i,
			    a->mptcp[i].len, b->mptcp[i].len);
		FUZZ_ASSERT(!memcmp(a->mptcp[i].data, b->mptcp[i].data, a->mptcp[i].len),
			    "mptcp[%d] bytes differ", i);
	}
}

static void tcp_opts_round_trip(const uint8_t *p, size_t len)
{
	struct wire_tcp_opts o, o2;
	uint8_t buf[64], buf2[64];
	ptrdiff_t n, n2;

	memset(&o, 0, sizeof(o));
	if (wire_tcp_opts_decode(&o, p, len) < 0)
		return;
	n = wire_tcp_opts_encode(buf, sizeof(buf), &o);
	if (n < 0)
		return; /* over 40 bytes once laid out canonically */
	FUZZ_ASSERT((size_t)n == wire_tcp_opts_len(&o), "encode %td != len %zu", n,
		    wire_tcp_opts_len(&o));
	memset(&o2, 0, sizeof(o2));
	FUZZ_ASSERT(wire_tcp_opts_decode(&o2, buf, (size_t)n) == 0,
		    "our own encoding does not decode");
	check_same_opts(&o, &o2);
	n2 = wire_tcp_opts_encode(buf2, sizeof(buf2), &o2);
	FUZZ_ASSERT(n2 == n && !memcmp(buf, buf2, (size_t)n), "re-encoding differs");
}

static void subopt_round_trip(const uint8_t *p, size_t len)
{
	struct mptcp_opts m, m2;
	uint32_t bit = 0, bit2 = 0;
	uint8_t buf[64], buf2[64];
	ptrdiff_t got, n, n2;
	size_t want;

	memset(&m, 0, sizeof(m));
	got = mptcp_subopt_decode(&m, &bit, p, len);
	if (got < 0)
		return;
	FUZZ_ASSERT(got >= 2 && (size_t)got <= len, "decode returned %td of %zu", got, len);
	want = mptcp_subopt_len(&m, bit);
	FUZZ_ASSERT(want > 0, "decoded suboption %#x has no length", bit);
	n = mptcp_subopt_encode(buf, sizeof(buf), &m, bit);
	FUZZ_ASSERT(n == (ptrdiff_t)want, "encode %td != len %zu (bit %#x)", n, want, bit);
	FUZZ_ASSERT(n == got, "encoding is %td bytes, the decoded option %td (bit %#x)", n, got,
		    bit);
	memset(&m2, 0, sizeof(m2));
	FUZZ_ASSERT(mptcp_subopt_decode(&m2, &bit2, buf, (size_t)n) == n,
		    "our own encoding does not decode (bit %#x)", bit);
	FUZZ_ASSERT(bit2 == bit, "bit %#x became %#x", bit, bit2);
	n2 = mptcp_subopt_encode(buf2, sizeof(buf2), &m2, bit2);
	FUZZ_ASSERT(n2 == n && !memcmp(buf, buf2, (size_t)n), "re-encoding differs (bit %#x)", bit);
}

static void parse_emit_parse(const uint8_t *p, size_t len, uint8_t flags, size_t plen)
{
	struct wire_tcp_opts o, out;
	struct mptcp_opts m, m2;
	uint32_t sent;

	memset(&o, 0, sizeof(o));
	if (wire_tcp_opts_decode(&o, p, len) < 0)
		return;
	memset(&m, 0, sizeof(m));
	mptcp_opts_parse(&m, &o, flags, plen, NULL);
	memset(&out, 0, sizeof(out));
	sent = mptcp_opts_emit(&m, flags, WIRE_TCP_MAX_OPT, &out);
	FUZZ_ASSERT((sent & ~m.suboptions) == 0, "emitted %#x, asked %#x", sent, m.suboptions);
	FUZZ_ASSERT(wire_tcp_opts_len(&out) <= WIRE_TCP_MAX_OPT, "emitted %zu option bytes",
		    wire_tcp_opts_len(&out));
	memset(&m2, 0, sizeof(m2));
	mptcp_opts_parse(&m2, &out, flags, plen, NULL);
	FUZZ_ASSERT(m2.suboptions == sent, "emitted %#x, parsed back %#x (flags %#x plen %zu)",
		    sent, m2.suboptions, flags, plen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t flags;
	size_t plen;

	if (size < 2)
		return 0;
	flags = data[0];
	plen = data[1] & 0x80 ? data[1] & 0x7f : 0;
	data += 2;
	size -= 2;
	if (size > WIRE_TCP_MAX_OPT + 8)
		size = WIRE_TCP_MAX_OPT + 8;
	tcp_opts_round_trip(data, size < WIRE_TCP_MAX_OPT ? size : WIRE_TCP_MAX_OPT);
	subopt_round_trip(data, size);
	parse_emit_parse(data, size < WIRE_TCP_MAX_OPT ? size : WIRE_TCP_MAX_OPT, flags, plen);
	return 0;
}
