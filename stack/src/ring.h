/* A byte ring: `len` bytes from `head`, capacity `cap`.  Offsets are relative to the
 * first byte held; writes past `len` (out-of-order data) are allowed up to `cap`. */
#ifndef MPT_RING_H
#define MPT_RING_H

#include <assert.h>
#include <stdint.h>
#include <string.h>

struct ring {
	uint8_t *buf;
	uint32_t cap, head, len;
};

static inline void ring_write_at(struct ring *r, uint32_t off, const uint8_t *d, uint32_t n)
{
	uint32_t pos = (r->head + off) % r->cap, first = n < r->cap - pos ? n : r->cap - pos;

	memcpy(r->buf + pos, d, first);
	if (n > first)
		memcpy(r->buf, d + first, n - first);
}

static inline void ring_read_at(const struct ring *r, uint32_t off, uint8_t *d, uint32_t n)
{
	uint32_t pos = (r->head + off) % r->cap, first = n < r->cap - pos ? n : r->cap - pos;

	memcpy(d, r->buf + pos, first);
	if (n > first)
		memcpy(d + first, r->buf, n - first);
}

static inline void ring_consume(struct ring *r, uint32_t n)
{
	assert(n <= r->len);
	r->head = (r->head + n) % r->cap;
	r->len -= n;
}

#endif
