/* MPTCP crypto.  See mptcp_crypto.h. */
#include "mptcp_crypto.h"
#include "wire.h"

#include <string.h>

static void put64(uint8_t *p, uint64_t v)
{
	wire_put32(p, (uint32_t)(v >> 32));
	wire_put32(p + 4, (uint32_t)v);
}

static uint64_t get64(const uint8_t *p)
{
	return ((uint64_t)wire_get32(p) << 32) | wire_get32(p + 4);
}

int mptcp_crypto_key_sha(const struct mpt_crypto *c, uint64_t key, uint32_t *token, uint64_t *idsn)
{
	uint8_t k[8], h[32];

	put64(k, key);
	if (c->sha256(c->ctx, k, sizeof(k), h) < 0)
		return MPT_ECRYPTO;
	if (token)
		*token = wire_get32(h);
	if (idsn)
		*idsn = get64(h + 24);
	return 0;
}

int mptcp_crypto_hmac(const struct mpt_crypto *c, uint64_t key1, uint64_t key2, const uint8_t *msg,
		      size_t len, uint8_t out[32])
{
	uint8_t k[16];

	put64(k, key1);
	put64(k + 8, key2);
	if (c->hmac_sha256(c->ctx, k, sizeof(k), msg, len, out) < 0)
		return MPT_ECRYPTO;
	return 0;
}

int mptcp_crypto_join_hmac(const struct mpt_crypto *c, uint64_t key_local, uint64_t key_remote,
			   uint32_t nonce_local, uint32_t nonce_remote, uint8_t out[32])
{
	uint8_t msg[8];

	wire_put32(msg, nonce_local);
	wire_put32(msg + 4, nonce_remote);
	return mptcp_crypto_hmac(c, key_local, key_remote, msg, sizeof(msg), out);
}

uint64_t mptcp_crypto_thmac(const uint8_t hmac[32])
{
	return get64(hmac);
}

int mptcp_crypto_add_addr_hmac(const struct mpt_crypto *c, uint64_t key_local, uint64_t key_remote,
			       uint8_t id, uint8_t family, const uint8_t *addr, uint16_t port,
			       uint64_t *out)
{
	uint8_t msg[1 + 16 + 2], h[32];
	size_t n = 0, alen;
	int rv;

	if (family == MPT_AF_INET)
		alen = 4;
	else if (family == MPT_AF_INET6)
		alen = 16;
	else
		return MPT_EINVAL;
	msg[n++] = id;
	memcpy(msg + n, addr, alen);
	n += alen;
	wire_put16(msg + n, port);
	n += 2;
	rv = mptcp_crypto_hmac(c, key_local, key_remote, msg, n, h);
	if (rv < 0)
		return rv;
	*out = get64(h + 24);
	return 0;
}

static uint32_t dss_sum(uint64_t dsn, uint32_t ssn, uint16_t data_len, uint16_t csum,
			const uint8_t *payload, size_t len)
{
	uint8_t ph[16];

	put64(ph, dsn);
	wire_put32(ph + 8, ssn);
	wire_put16(ph + 12, data_len);
	wire_put16(ph + 14, csum);
	return wire_csum_add(wire_csum_add(0, ph, sizeof(ph)), payload, len);
}

uint16_t mptcp_dss_csum(uint64_t dsn, uint32_t ssn, uint16_t data_len, const uint8_t *payload,
			size_t len)
{
	return wire_csum_fold(dss_sum(dsn, ssn, data_len, 0, payload, len));
}

bool mptcp_dss_csum_ok(uint64_t dsn, uint32_t ssn, uint16_t data_len, uint16_t csum,
		       const uint8_t *payload, size_t len)
{
	return wire_csum_fold(dss_sum(dsn, ssn, data_len, csum, payload, len)) == 0;
}

void mptcp_csum_acc_add(struct mptcp_csum_acc *a, const uint8_t *p, size_t len)
{
	if (!len)
		return;
	if (a->bytes & 1) { /* finish the half-filled word: this byte is its low half */
		a->sum = wire_csum_add(a->sum, (const uint8_t[]){0, p[0]}, 2);
		a->bytes++;
		p++;
		len--;
	}
	a->sum = wire_csum_add(a->sum, p, len); /* an odd tail goes in the high lane */
	a->bytes += len;
}

uint16_t mptcp_csum_acc_finish(const struct mptcp_csum_acc *a, uint64_t dsn, uint32_t ssn,
			       uint16_t data_len, uint16_t csum_field)
{
	uint64_t s = (uint64_t)dss_sum(dsn, ssn, data_len, csum_field, NULL, 0) + a->sum;

	/* ones'-complement sums add with an end-around carry */
	while (s >> 32)
		s = (s & 0xffffffffu) + (s >> 32);
	return wire_csum_fold((uint32_t)s);
}
