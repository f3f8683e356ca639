#include "perf_wl.h"

#include <stdlib.h>
#include <string.h>

static uint64_t mix(uint64_t k)
{
	uint64_t z = k * 0x9e3779b97f4a7c15ull + 0x4d50505354414d50ull; /* "MPPSTAMP" */

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	return z ^ (z >> 31);
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

void perf_stamp_put(uint8_t head[PERF_STAMP_LEN], uint64_t k, uint64_t ts)
{
	uint8_t w[PERF_STAMP_LEN];

	put64(w, ts);
	put64(w + 8, ts ^ mix(k));
	for (int i = 0; i < PERF_STAMP_LEN; i++)
		head[i] ^= w[i];
}

int perf_stamp_get(const uint8_t rx[PERF_STAMP_LEN], const uint8_t pattern[PERF_STAMP_LEN],
		   uint64_t k, uint64_t *ts)
{
	uint8_t x[PERF_STAMP_LEN], want[8];
	uint64_t t;

	for (int i = 0; i < PERF_STAMP_LEN; i++)
		x[i] = rx[i] ^ pattern[i];
	t = get64(x);
	put64(want, t ^ mix(k));
	for (int i = 0; i < 8; i++)
		if (x[8 + i] != want[i])
			return i;
	*ts = t;
	return -1;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t rank(const uint64_t *s, size_t n, unsigned pct)
{
	size_t r = (n * pct + 99) / 100; /* ceil(pct / 100 * n) */

	return s[r ? r - 1 : 0];
}

int perf_wl_stats(const uint64_t *v, size_t n, uint64_t period_ns, struct perf_wl_stats *st)
{
	uint64_t *s;
	double sum = 0;

	memset(st, 0, sizeof(*st));
	st->n = n;
	if (!n)
		return 0;
	s = malloc(n * sizeof(*s));
	if (!s)
		return -1;
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_u64);
	for (size_t i = 0; i < n; i++)
		sum += (double)s[i];
	st->min = s[0];
	st->max = s[n - 1];
	st->p50 = rank(s, n, 50);
	st->p95 = rank(s, n, 95);
	st->p99 = rank(s, n, 99);
	st->mean = sum / (double)n;
	if (period_ns) {
		st->stall_threshold = st->p50 + 2 * period_ns;
		for (size_t i = 0; i < n; i++)
			st->stalls += v[i] > st->stall_threshold;
	}
	free(s);
	return 0;
}

uint64_t perf_wl_period_ns(uint64_t rate, uint64_t chunk)
{
	/* chunk / rate seconds; chunk <= 2^30, so chunk * 1e9 fits in 64 bits */
	uint64_t p = rate ? chunk * 1000000000ull / rate : 0;

	return p ? p : 1;
}
