#include "pattern.h"

#include <string.h>

#define PATTERN_GAMMA 0x9e3779b97f4a7c15ull

static inline uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t pattern_word(uint64_t seed, uint64_t index)
{
	return mix(seed + (index + 1) * PATTERN_GAMMA);
}

uint8_t pattern_byte(uint64_t seed, uint64_t off)
{
	return (uint8_t)(pattern_word(seed, off / 8) >> (8 * (off % 8)));
}

/* The word as it lies in memory: little-endian whatever the host. */
static inline uint64_t to_le(uint64_t w)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return __builtin_bswap64(w);
#else
	return w;
#endif
}

void pattern_fill(uint64_t seed, uint64_t off, void *buf, size_t len)
{
	uint8_t *p = buf;
	uint64_t idx, z;

	/* head: up to the next word boundary of the stream */
	while (len && (off & 7)) {
		*p++ = pattern_byte(seed, off++);
		len--;
	}
	idx = off / 8;
	z = seed + (idx + 1) * PATTERN_GAMMA;
	while (len >= 8) {
		uint64_t w = to_le(mix(z));

		memcpy(p, &w, 8);
		z += PATTERN_GAMMA;
		p += 8;
		off += 8;
		len -= 8;
	}
	while (len--)
		*p++ = pattern_byte(seed, off++);
}

ptrdiff_t pattern_verify(uint64_t seed, uint64_t off, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t i = 0;
	uint64_t z;

	while (i < len && ((off + i) & 7)) {
		if (p[i] != pattern_byte(seed, off + i))
			return (ptrdiff_t)i;
		i++;
	}
	z = seed + ((off + i) / 8 + 1) * PATTERN_GAMMA;
	while (len - i >= 8) {
		uint64_t w = to_le(mix(z)), got;

		memcpy(&got, p + i, 8);
		if (got != w)
			break; /* the byte loop below finds which one */
		z += PATTERN_GAMMA;
		i += 8;
	}
	for (; i < len; i++)
		if (p[i] != pattern_byte(seed, off + i))
			return (ptrdiff_t)i;
	return -1;
}
