/* A byte ring: `len` bytes from `head`, capacity `cap`.  Offsets are relative to the
 * first byte held; writes past `len` (out-of-order data) are allowed up to `cap`. */
#ifndef MPT_RING_H
#define MPT_RING_H

#include <assert.h>
#include <stddef.h>
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

/* Append up to n bytes at the end of what is held; returns how many fit. */
static inline uint32_t ring_append(struct ring *r, const uint8_t *d, size_t n)
{
	uint32_t room = r->cap - r->len, k = n < room ? (uint32_t)n : room;

	ring_write_at(r, r->len, d, k);
	r->len += k;
	return k;
}

static inline void ring_consume(struct ring *r, uint32_t n)
{
	assert(n <= r->len);
	r->head = (r->head + n) % r->cap;
	r->len -= n;
}

#endif
