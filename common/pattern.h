/* The deterministic byte stream mpt-perf sends and checks (libmpt reuses it).
 *
 * Byte o of the stream with seed s is a pure function of (s, o): it is byte o % 8,
 * little-endian, of word(s, o / 8), where word(s, i) is the i-th output of
 * splitmix64 started at state s:
 *
 *	z = s + (i + 1) * 0x9e3779b97f4a7c15
 *	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
 *	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
 *	word = z ^ (z >> 31)
 *
 * So any window of the stream can be produced or checked on its own, at any offset,
 * without state: a receiver needs only the seed and how many bytes came before.
 */
#ifndef MPNET_PATTERN_H
#define MPNET_PATTERN_H

#include <stddef.h>
#include <stdint.h>

/* Word i of the stream with this seed (see above). */
uint64_t pattern_word(uint64_t seed, uint64_t index);

/* Byte at stream offset off: the reference definition, one byte at a time. */
uint8_t pattern_byte(uint64_t seed, uint64_t off);

/* Write the len stream bytes starting at offset off into buf.  Any alignment of
 * buf, off and len; several GB/s. */
void pattern_fill(uint64_t seed, uint64_t off, void *buf, size_t len);

/* Compare buf (len bytes) with the stream starting at offset off.  Returns the
 * index into buf of the first byte that differs, or -1 when all match. */
ptrdiff_t pattern_verify(uint64_t seed, uint64_t off, const void *buf, size_t len);

#endif
