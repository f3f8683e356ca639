#include "perf_rx.h"
#include "pattern.h"
#include "perf_wl.h"

#include <stdlib.h>
#include <string.h>

void perf_rx_init(struct perf_rx *rx, uint64_t seed, uint64_t interval_ns, uint64_t t0)
{
	memset(rx, 0, sizeof(*rx));
	rx->seed = seed;
	rx->interval_ns = interval_ns;
	rx->t0 = t0;
	rx->last_ns = t0;
}

static int push_ivl(struct perf_rx *rx, uint64_t start, uint64_t end, uint64_t bytes)
{
	if (rx->n_ivl >= PERF_MAX_INTERVALS) {
		rx->truncated = true;
		return 0;
	}
	if (rx->n_ivl == rx->cap_ivl) {
		size_t cap = rx->cap_ivl ? rx->cap_ivl * 2 : 64;
		struct perf_ivl *n = realloc(rx->ivl, cap * sizeof(*n));

		if (!n)
			return -1;
		rx->ivl = n;
		rx->cap_ivl = cap;
	}
	rx->ivl[rx->n_ivl++] = (struct perf_ivl){start, end, bytes};
	return 0;
}

void perf_rx_set_chunks(struct perf_rx *rx, uint64_t chunk)
{
	rx->chunk = chunk >= PERF_STAMP_LEN ? chunk : 0;
}

void perf_rx_sample(struct perf_rx *rx, uint64_t ns)
{
	if (rx->n_smp >= PERF_MAX_WL_SAMPLES) {
		rx->smp_truncated = true;
		return;
	}
	if (rx->n_smp == rx->cap_smp) {
		size_t cap = rx->cap_smp ? rx->cap_smp * 2 : 256;
		uint64_t *n = realloc(rx->smp, cap * sizeof(*n));

		if (!n) {
			rx->smp_truncated = true;
			return;
		}
		rx->smp = n;
		rx->cap_smp = cap;
	}
	rx->smp[rx->n_smp++] = ns;
}

static void mismatch_at(struct perf_rx *rx, uint64_t off)
{
	if (!rx->mismatch) {
		rx->mismatch = true;
		rx->first_mismatch = off;
	}
}

/* A stream of stamped chunks: each chunk's head goes through its stamp, the rest
 * through the pattern; a chunk's last byte gives its delay. */
static void verify_chunks(struct perf_rx *rx, const uint8_t *p, size_t len, uint64_t now)
{
	uint64_t off = rx->bytes;

	while (len && !rx->mismatch) {
		uint64_t pos = off % rx->chunk, k = off / rx->chunk;
		size_t n;

		if (pos < PERF_STAMP_LEN) {
			n = (size_t)(PERF_STAMP_LEN - pos) < len ? (size_t)(PERF_STAMP_LEN - pos)
								 : len;
			memcpy(rx->head + pos, p, n);
			if (pos + n == PERF_STAMP_LEN) {
				uint8_t pat[PERF_STAMP_LEN];
				int bad;

				pattern_fill(rx->seed, off + n - PERF_STAMP_LEN, pat, sizeof(pat));
				bad = perf_stamp_get(rx->head, pat, k, &rx->ts);
				rx->have_ts = bad < 0;
				if (bad >= 0)
					mismatch_at(rx, k * rx->chunk + (uint64_t)bad);
			}
		} else {
			ptrdiff_t bad;

			n = (size_t)(rx->chunk - pos) < len ? (size_t)(rx->chunk - pos) : len;
			bad = pattern_verify(rx->seed, off, p, n);
			if (bad >= 0)
				mismatch_at(rx, off + (uint64_t)bad);
		}
		off += n;
		p += n;
		len -= n;
		if (off % rx->chunk == 0 && rx->have_ts && !rx->mismatch) {
			perf_rx_sample(rx, now > rx->ts ? now - rx->ts : 0);
			rx->have_ts = false;
		}
	}
}

int perf_rx_data(struct perf_rx *rx, const void *buf, size_t len, uint64_t now)
{
	uint64_t rel = now > rx->t0 ? now - rx->t0 : 0;
	int rc = 0;

	if (!rx->mismatch && rx->chunk) {
		verify_chunks(rx, buf, len, now);
	} else if (!rx->mismatch) {
		ptrdiff_t bad = pattern_verify(rx->seed, rx->bytes, buf, len);

		if (bad >= 0)
			mismatch_at(rx, rx->bytes + (uint64_t)bad);
	}
	if (rx->interval_ns) {
		/* close every interval that ended before now, empty ones included */
		while (rel >= rx->cur_start + rx->interval_ns) {
			if (push_ivl(rx, rx->cur_start, rx->cur_start + rx->interval_ns,
				     rx->cur_bytes))
				rc = -1;
			rx->cur_start += rx->interval_ns;
			rx->cur_bytes = 0;
		}
		rx->cur_bytes += len;
	}
	rx->bytes += len;
	if (now > rx->last_ns)
		rx->last_ns = now;
	return rc;
}

int perf_rx_finish(struct perf_rx *rx)
{
	uint64_t end = rx->last_ns - rx->t0, bytes;

	if (!rx->interval_ns || (rx->cur_bytes == 0 && end <= rx->cur_start))
		return 0;
	if (end < rx->cur_start)
		end = rx->cur_start;
	bytes = rx->cur_bytes;
	rx->cur_bytes = 0;
	return push_ivl(rx, rx->cur_start, end, bytes);
}

void perf_rx_result(const struct perf_rx *rx, uint64_t expected, struct perf_res *res)
{
	memset(res, 0, sizeof(*res));
	res->bytes = rx->bytes;
	res->elapsed_ns = rx->last_ns - rx->t0;
	res->t0_mono_ns = rx->t0;
	res->interval_ns = rx->interval_ns;
	res->n_intervals = (uint32_t)rx->n_ivl;
	res->n_samples = (uint32_t)rx->n_smp;
	if (rx->smp_truncated)
		res->flags |= PERF_RES_F_SMP_TRUNC;
	if (rx->mismatch) {
		res->flags |= PERF_RES_F_MISMATCH;
		res->first_mismatch = rx->first_mismatch;
	} else if (!expected || rx->bytes == expected) {
		res->flags |= PERF_RES_F_VERIFIED;
	}
	if (rx->truncated)
		res->flags |= PERF_RES_F_TRUNCATED;
}

void perf_rx_free(struct perf_rx *rx)
{
	free(rx->ivl);
	rx->ivl = NULL;
	rx->n_ivl = rx->cap_ivl = 0;
	free(rx->smp);
	rx->smp = NULL;
	rx->n_smp = rx->cap_smp = 0;
}
