/* MPTCP crypto (RFC 8684 3.1, 3.2, 3.3.1, 3.4.1) over the injected struct mpt_crypto.
 *
 * Keys, tokens and nonces are host-order integers; on the wire and into the hash they
 * go big-endian, as Linux's net/mptcp/crypto.c.  Functions that hash return 0 or
 * MPT_ECRYPTO when the injected function fails; none of them allocates.
 */
#ifndef MPT_MPTCP_CRYPTO_H
#define MPT_MPTCP_CRYPTO_H

#include "mpt.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* SHA-256 of the 64-bit key (big-endian): *token gets the most significant 32 bits,
 * *idsn the least significant 64 bits (RFC 8684 3.1).  Either pointer may be NULL. */
int mptcp_crypto_key_sha(const struct mpt_crypto *c, uint64_t key, uint32_t *token, uint64_t *idsn);

/* HMAC-SHA256 with key = key1 || key2 (each big-endian) over msg[0..len). */
int mptcp_crypto_hmac(const struct mpt_crypto *c, uint64_t key1, uint64_t key2, const uint8_t *msg,
		      size_t len, uint8_t out[32]);

/* MP_JOIN HMAC (RFC 8684 3.2): key = key_local || key_remote, message =
 * nonce_local || nonce_remote.  The SYN-ACK carries the leftmost 64 bits
 * (mptcp_crypto_thmac), the third ACK the leftmost 160 bits (out[0..20)).  For the
 * SYN-ACK the responder is "local"; for the third ACK the initiator is. */
int mptcp_crypto_join_hmac(const struct mpt_crypto *c, uint64_t key_local, uint64_t key_remote,
			   uint32_t nonce_local, uint32_t nonce_remote, uint8_t out[32]);

/* The leftmost 64 bits of an HMAC, as an integer (the MP_JOIN SYN-ACK's field). */
uint64_t mptcp_crypto_thmac(const uint8_t hmac[32]);

/* ADD_ADDR HMAC (RFC 8684 3.4.1): key = key_local || key_remote (the sender's key
 * first), message = address id || address (4 or 16 octets, by family) || port (2
 * octets, 0 when none), truncated to the rightmost 64 bits.  Returns 0,
 * MPT_EINVAL (family) or MPT_ECRYPTO. */
int mptcp_crypto_add_addr_hmac(const struct mpt_crypto *c, uint64_t key_local, uint64_t key_remote,
			       uint8_t id, uint8_t family, const uint8_t *addr, uint16_t port,
			       uint64_t *out);

/* DSS checksum (RFC 8684 3.3.1): the ones'-complement sum of the pseudo-header
 * (DSN 64, subflow sequence number 32 (relative), data-level length 16, checksum
 * field 16 = 0) and the payload, folded and complemented: the value to put in the
 * field. */
uint16_t mptcp_dss_csum(uint64_t dsn, uint32_t ssn, uint16_t data_len, const uint8_t *payload,
			size_t len);

/* Check a received checksum: the same sum with the field filled in folds to zero. */
bool mptcp_dss_csum_ok(uint64_t dsn, uint32_t ssn, uint16_t data_len, uint16_t csum,
		       const uint8_t *payload, size_t len);

/* The same checksum accumulated over a mapping that spans several segments (the
 * RFC 8684 checksum covers the whole mapping's data): start with a zeroed struct,
 * add the payload pieces in order (any lengths; an odd piece shifts the next one's
 * byte lanes), then finish with the pseudo-header fields.  csum_field is 0 to compute
 * the value to send, or the received value (then the result is 0 when it is right). */
struct mptcp_csum_acc {
	uint32_t sum;
	uint64_t bytes;
};

void mptcp_csum_acc_add(struct mptcp_csum_acc *a, const uint8_t *p, size_t len);
uint16_t mptcp_csum_acc_finish(const struct mptcp_csum_acc *a, uint64_t dsn, uint32_t ssn,
			       uint16_t data_len, uint16_t csum_field);

#endif
