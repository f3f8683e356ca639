/* MPTCP crypto: Linux's net/mptcp/crypto_test.c HMAC vectors, key -> token / IDSN,
 * MP_JOIN and ADD_ADDR HMAC layout, DSS checksum against a hand-computed sum. */
#include "test.h"
#include "mptcp_crypto.h"
#include "mpt_sim.h"
#include "wire.h"

static void hex(char out[65], const uint8_t h[32])
{
	int i;

	for (i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* net/mptcp/crypto_test.c reads its .key and .msg strings as raw bytes: key1 / key2
 * are the big-endian u64 of the first / last 8 ASCII characters of "0b0b0b0b0b0b0b0b",
 * nonce1 / nonce2 the big-endian u32 of the first / last 4 characters of "48692054".
 * mptcp_crypto_hmac_sha(key1, key2, msg, 8) must give the listed digest. */
TEST(mptcp_crypto_linux_hmac_vectors)
{
	static const struct {
		const char *key, *msg, *result;
	} t[] = {
		{"0b0b0b0b0b0b0b0b", "48692054",
		 "8385e24fb4235ac37556b6b886db106284a1da671699f46db1f235ec622dcafa"},
		{"aaaaaaaaaaaaaaaa", "dddddddd",
		 "2c5e219164ff1dca1c4a92318d847bb6b9d44492984e1eb71aff9022f71046e9"},
		{"0102030405060708", "cdcdcdcd",
		 "e73b9ba9969969cefb04aa0d6df18ec2fcc075b6f23b4d8c4da736a5dbbc6e7d"},
	};
	struct mpt_crypto c = mpt_crypto_openssl(NULL);
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const uint8_t *k = (const uint8_t *)t[i].key, *m = (const uint8_t *)t[i].msg;
		uint64_t key1 = ((uint64_t)wire_get32(k) << 32) | wire_get32(k + 4);
		uint64_t key2 = ((uint64_t)wire_get32(k + 8) << 32) | wire_get32(k + 12);
		uint32_t n1 = wire_get32(m), n2 = wire_get32(m + 4);
		uint8_t h[32];
		char s[65];

		/* the generic HMAC over the raw message */
		CHECK_EQ(mptcp_crypto_hmac(&c, key1, key2, m, 8, h), 0);
		hex(s, h);
		CHECK_STR_EQ(s, t[i].result);
		/* the MP_JOIN helper lays out nonce1 || nonce2 the same way */
		CHECK_EQ(mptcp_crypto_join_hmac(&c, key1, key2, n1, n2, h), 0);
		hex(s, h);
		CHECK_STR_EQ(s, t[i].result);
	}
	/* the SYN-ACK's truncated HMAC is the leftmost 64 bits of the first vector */
	{
		uint8_t h[32];

		CHECK_EQ(mptcp_crypto_join_hmac(&c, 0x3062306230623062ull, 0x3062306230623062ull,
						0x34383639, 0x32303534, h),
			 0);
		CHECK_U64_EQ(mptcp_crypto_thmac(h), 0x8385e24fb4235ac3ull);
	}
}

/* key -> token (top 32 bits of SHA-256 of the big-endian key) and IDSN (low 64 bits).
 * Expected digests: SHA-256(01 02 03 04 05 06 07 08) =
 * 66840dda...f5a101d3d29d6f72 and SHA-256(00 * 8) = af5570f5...e5b2328de0e83dfc
 * (`printf '\x01\x02\x03\x04\x05\x06\x07\x08' | sha256sum`). */
TEST(mptcp_crypto_token_idsn)
{
	struct mpt_crypto c = mpt_crypto_openssl(NULL);
	uint32_t token;
	uint64_t idsn;

	CHECK_EQ(mptcp_crypto_key_sha(&c, 0x0102030405060708ull, &token, &idsn), 0);
	CHECK_U64_EQ(token, 0x66840dda);
	CHECK_U64_EQ(idsn, 0xf5a101d3d29d6f72ull);
	CHECK_EQ(mptcp_crypto_key_sha(&c, 0, &token, &idsn), 0);
	CHECK_U64_EQ(token, 0xaf5570f5);
	CHECK_U64_EQ(idsn, 0xe5b2328de0e83dfcull);
	CHECK_EQ(mptcp_crypto_key_sha(&c, 0, NULL, NULL), 0);
}

/* ADD_ADDR HMAC: the message is id || address || port (port 0 when absent) and the
 * option carries the rightmost 64 bits; checked against a generic HMAC over the
 * hand-built message. */
TEST(mptcp_crypto_add_addr_hmac)
{
	struct mpt_crypto c = mpt_crypto_openssl(NULL);
	static const uint8_t a4[4] = {192, 0, 2, 1};
	static const uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	const uint8_t m4[] = {3, 192, 0, 2, 1, 0x1f, 0x90};
	uint8_t m6[19] = {9}, h[32];
	uint64_t v;

	CHECK_EQ(mptcp_crypto_add_addr_hmac(&c, 1, 2, 3, MPT_AF_INET, a4, 8080, &v), 0);
	CHECK_EQ(mptcp_crypto_hmac(&c, 1, 2, m4, sizeof(m4), h), 0);
	CHECK_U64_EQ(v, ((uint64_t)wire_get32(h + 24) << 32) | wire_get32(h + 28));

	memcpy(m6 + 1, a6, 16); /* port 0: the two trailing zero octets */
	CHECK_EQ(mptcp_crypto_add_addr_hmac(&c, 5, 6, 9, MPT_AF_INET6, a6, 0, &v), 0);
	CHECK_EQ(mptcp_crypto_hmac(&c, 5, 6, m6, sizeof(m6), h), 0);
	CHECK_U64_EQ(v, ((uint64_t)wire_get32(h + 24) << 32) | wire_get32(h + 28));
	/* the key order matters (sender's key first) */
	CHECK_EQ(mptcp_crypto_add_addr_hmac(&c, 6, 5, 9, MPT_AF_INET6, a6, 0, &v), 0);
	CHECK(v != (((uint64_t)wire_get32(h + 24) << 32) | wire_get32(h + 28)));
	CHECK_EQ(mptcp_crypto_add_addr_hmac(&c, 5, 6, 9, 0, a6, 0, &v), MPT_EINVAL);
}

static int failing_sha(void *ctx, const uint8_t *msg, size_t len, uint8_t out[32])
{
	return -1;
}

static int failing_hmac(void *ctx, const uint8_t *key, size_t keylen, const uint8_t *msg,
			size_t len, uint8_t out[32])
{
	return -1;
}

TEST(mptcp_crypto_failure_propagates)
{
	struct mpt_crypto c = {NULL, failing_sha, failing_hmac, NULL};
	uint8_t h[32];
	uint64_t v;

	CHECK_EQ(mptcp_crypto_key_sha(&c, 1, NULL, NULL), MPT_ECRYPTO);
	CHECK_EQ(mptcp_crypto_join_hmac(&c, 1, 2, 3, 4, h), MPT_ECRYPTO);
	CHECK_EQ(mptcp_crypto_add_addr_hmac(&c, 1, 2, 3, MPT_AF_INET, h, 0, &v), MPT_ECRYPTO);
}

/* DSS checksum by hand (RFC 8684 3.3.1): DSN 0x0102030405060708, subflow seq 1,
 * length 4, payload "abcd".  16-bit words:
 *   0102 + 0304 + 0506 + 0708 (DSN) + 0000 + 0001 (SSN) + 0004 (length) + 0000 (csum)
 *   + 6162 + 6364 ("abcd") = 0xd4df, no carry; complement = 0x2b20.
 * Length 5, "abcde": 0x1015 + 5 + 6162 + 6364 + 6500 (odd byte padded) = 0x139e0,
 * folded 0x39e1, complement 0xc61e. */
TEST(mptcp_crypto_dss_csum_by_hand)
{
	static const uint8_t p[] = "abcde";

	CHECK_EQ(mptcp_dss_csum(0x0102030405060708ull, 1, 4, p, 4), 0x2b20);
	CHECK(mptcp_dss_csum_ok(0x0102030405060708ull, 1, 4, 0x2b20, p, 4));
	CHECK(!mptcp_dss_csum_ok(0x0102030405060708ull, 1, 4, 0x2b21, p, 4));
	CHECK(!mptcp_dss_csum_ok(0x0102030405060708ull, 2, 4, 0x2b20, p, 4));
	CHECK_EQ(mptcp_dss_csum(0x0102030405060708ull, 1, 5, p, 5), 0xc61e);
	CHECK(mptcp_dss_csum_ok(0x0102030405060708ull, 1, 5, 0xc61e, p, 5));
	/* the high half of the DSN counts */
	CHECK(!mptcp_dss_csum_ok(0x0102030405060709ull, 1, 5, 0xc61e, p, 5));
}

/* The accumulator over a mapping split into pieces at every point (odd and even)
 * matches the one-shot checksum, and verifies to zero with the field filled in. */
TEST(mptcp_crypto_dss_csum_split)
{
	uint8_t data[301];
	size_t i, j, len;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 37 + 11);
	for (len = 0; len <= sizeof(data); len += (len < 8 ? 1 : 73)) {
		uint16_t want = mptcp_dss_csum(0xfedcba9876543210ull, 0x80000001u, (uint16_t)len,
					       data, len);

		for (i = 0; i <= len; i++)
			for (j = i; j <= len; j += 1 + (len > 20 ? 7 : 0)) {
				struct mptcp_csum_acc a = {0, 0};

				mptcp_csum_acc_add(&a, data, i);
				mptcp_csum_acc_add(&a, data + i, j - i);
				mptcp_csum_acc_add(&a, data + j, len - j);
				CHECK_EQ(a.bytes, len);
				CHECK_EQ(mptcp_csum_acc_finish(&a, 0xfedcba9876543210ull,
							       0x80000001u, (uint16_t)len, 0),
					 want);
				CHECK_EQ(mptcp_csum_acc_finish(&a, 0xfedcba9876543210ull,
							       0x80000001u, (uint16_t)len, want),
					 0);
			}
	}
	/* the hand-computed example through the accumulator, in three pieces */
	{
		struct mptcp_csum_acc a = {0, 0};

		mptcp_csum_acc_add(&a, (const uint8_t *)"a", 1);
		mptcp_csum_acc_add(&a, (const uint8_t *)"bcd", 3);
		mptcp_csum_acc_add(&a, (const uint8_t *)"e", 1);
		CHECK_EQ(mptcp_csum_acc_finish(&a, 0x0102030405060708ull, 1, 5, 0), 0xc61e);
	}
}
