/* Shared bits of the libFuzzer targets in tests/fuzz (see tests/fuzz/README.md). */
#ifndef MPNET_FUZZ_H
#define MPNET_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property the target checks failed: say which and crash (libFuzzer saves the
 * input). */
#define FUZZ_ASSERT(cond, ...)                                                                \
	do {                                                                                  \
		if (!(cond)) {                                                                \
			fprintf(stderr, "FUZZ_ASSERT(%s) failed at %s:%d: ", #cond, __FILE__, \
				__LINE__);                                                    \
			fprintf(stderr, __VA_ARGS__);                                         \
			fputc('\n', stderr);                                                  \
			abort();                                                              \
		}                                                                             \
	} while (0)

/* A cursor over the input: bytes past the end read as 0. */
struct fuzz_in {
	const uint8_t *p;
	size_t n, i;
};

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
	return in->i < in->n ? in->p[in->i++] : 0;
}

static inline uint16_t fuzz_u16(struct fuzz_in *in)
{
	uint16_t hi = fuzz_u8(in);

	return (uint16_t)(hi << 8 | fuzz_u8(in));
}

static inline size_t fuzz_left(const struct fuzz_in *in)
{
	return in->i < in->n ? in->n - in->i : 0;
}

#endif
