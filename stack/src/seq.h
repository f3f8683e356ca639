/* 32-bit sequence-number arithmetic modulo 2^32 (RFC 9293 3.4: "all arithmetic
 * dealing with sequence numbers must be performed modulo 2**32").  a < b means a is
 * less than 2^31 behind b. */
#ifndef MPT_SEQ_H
#define MPT_SEQ_H

#include <stdbool.h>
#include <stdint.h>

static inline int32_t seq_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}
static inline bool seq_lt(uint32_t a, uint32_t b)
{
	return seq_diff(a, b) < 0;
}
static inline bool seq_le(uint32_t a, uint32_t b)
{
	return seq_diff(a, b) <= 0;
}
static inline bool seq_gt(uint32_t a, uint32_t b)
{
	return seq_diff(a, b) > 0;
}
static inline bool seq_ge(uint32_t a, uint32_t b)
{
	return seq_diff(a, b) >= 0;
}
static inline uint32_t seq_max(uint32_t a, uint32_t b)
{
	return seq_gt(a, b) ? a : b;
}
static inline uint32_t seq_min(uint32_t a, uint32_t b)
{
	return seq_lt(a, b) ? a : b;
}
/* lo <= x < hi */
static inline bool seq_in(uint32_t x, uint32_t lo, uint32_t hi)
{
	return seq_le(lo, x) && seq_lt(x, hi);
}

#endif
