#include "perf_proto.h"

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static bool hdr_valid(const struct perf_hdr *h)
{
	if (h->dir != PERF_UPLOAD && h->dir != PERF_DOWNLOAD)
		return false;
	if (h->amount == 0)
		return false;
	if (!h->corrupt && h->corrupt_at != 0)
		return false;
	return true;
}

ptrdiff_t perf_hdr_encode(const struct perf_hdr *h, uint8_t *buf, size_t len)
{
	if (len < PERF_HDR_LEN)
		return PERF_ESHORT;
	if (!hdr_valid(h))
		return PERF_EFIELD;
	put32(buf, PERF_MAGIC_HDR);
	put16(buf + 4, PERF_VERSION);
	buf[6] = (uint8_t)h->dir;
	buf[7] = (h->time_mode ? PERF_HDR_F_TIME : 0) | (h->corrupt ? PERF_HDR_F_CORRUPT : 0);
	put64(buf + 8, h->amount);
	put64(buf + 16, h->seed);
	put64(buf + 24, h->interval_ns);
	put64(buf + 32, h->corrupt_at);
	put64(buf + 40, 0);
	return PERF_HDR_LEN;
}

ptrdiff_t perf_hdr_decode(struct perf_hdr *h, const uint8_t *buf, size_t len)
{
	struct perf_hdr t;

	if (len < PERF_HDR_LEN)
		return PERF_ESHORT;
	if (get32(buf) != PERF_MAGIC_HDR)
		return PERF_EMAGIC;
	if (get16(buf + 4) != PERF_VERSION)
		return PERF_EVERSION;
	if (buf[6] > PERF_DOWNLOAD || (buf[7] & ~PERF_HDR_F_ALL) || get64(buf + 40) != 0)
		return PERF_EFIELD;
	t.dir = buf[6];
	t.time_mode = buf[7] & PERF_HDR_F_TIME;
	t.corrupt = buf[7] & PERF_HDR_F_CORRUPT;
	t.amount = get64(buf + 8);
	t.seed = get64(buf + 16);
	t.interval_ns = get64(buf + 24);
	t.corrupt_at = get64(buf + 32);
	if (!hdr_valid(&t))
		return PERF_EFIELD;
	*h = t;
	return PERF_HDR_LEN;
}

ptrdiff_t perf_res_encode(const struct perf_res *r, uint8_t *buf, size_t len)
{
	if (len < PERF_RES_LEN)
		return PERF_ESHORT;
	if ((r->flags & ~PERF_RES_F_ALL) || r->n_intervals > PERF_MAX_INTERVALS)
		return PERF_EFIELD;
	put32(buf, PERF_MAGIC_RES);
	put16(buf + 4, PERF_VERSION);
	put16(buf + 6, r->flags);
	put64(buf + 8, r->bytes);
	put64(buf + 16, r->elapsed_ns);
	put64(buf + 24, r->first_mismatch);
	put64(buf + 32, r->t0_mono_ns);
	put64(buf + 40, r->interval_ns);
	put32(buf + 48, r->n_intervals);
	put32(buf + 52, 0);
	return PERF_RES_LEN;
}

ptrdiff_t perf_res_decode(struct perf_res *r, const uint8_t *buf, size_t len)
{
	struct perf_res t;

	if (len < PERF_RES_LEN)
		return PERF_ESHORT;
	if (get32(buf) != PERF_MAGIC_RES)
		return PERF_EMAGIC;
	if (get16(buf + 4) != PERF_VERSION)
		return PERF_EVERSION;
	t.flags = get16(buf + 6);
	t.bytes = get64(buf + 8);
	t.elapsed_ns = get64(buf + 16);
	t.first_mismatch = get64(buf + 24);
	t.t0_mono_ns = get64(buf + 32);
	t.interval_ns = get64(buf + 40);
	t.n_intervals = get32(buf + 48);
	if ((t.flags & ~PERF_RES_F_ALL) || get32(buf + 52) != 0)
		return PERF_EFIELD;
	if (t.n_intervals > PERF_MAX_INTERVALS)
		return PERF_EFIELD;
	/* a verified stream has no mismatch; a mismatch lies inside what arrived */
	if ((t.flags & PERF_RES_F_VERIFIED) && (t.flags & PERF_RES_F_MISMATCH))
		return PERF_EFIELD;
	if ((t.flags & PERF_RES_F_MISMATCH) ? t.first_mismatch >= t.bytes : t.first_mismatch != 0)
		return PERF_EFIELD;
	if (t.n_intervals && !t.interval_ns)
		return PERF_EFIELD;
	*r = t;
	return PERF_RES_LEN;
}

ptrdiff_t perf_ivl_encode(const struct perf_ivl *iv, uint8_t *buf, size_t len)
{
	if (len < PERF_IVL_LEN)
		return PERF_ESHORT;
	if (iv->end_ns < iv->start_ns)
		return PERF_EFIELD;
	put64(buf, iv->start_ns);
	put64(buf + 8, iv->end_ns);
	put64(buf + 16, iv->bytes);
	return PERF_IVL_LEN;
}

ptrdiff_t perf_ivl_decode(struct perf_ivl *iv, const uint8_t *buf, size_t len)
{
	struct perf_ivl t;

	if (len < PERF_IVL_LEN)
		return PERF_ESHORT;
	t.start_ns = get64(buf);
	t.end_ns = get64(buf + 8);
	t.bytes = get64(buf + 16);
	if (t.end_ns < t.start_ns)
		return PERF_EFIELD;
	*iv = t;
	return PERF_IVL_LEN;
}

const char *perf_proto_strerror(ptrdiff_t err)
{
	switch (err) {
	case PERF_ESHORT:
		return "truncated record";
	case PERF_EMAGIC:
		return "bad magic";
	case PERF_EVERSION:
		return "unsupported version";
	case PERF_EFIELD:
		return "invalid field";
	default:
		return err >= 0 ? "ok" : "unknown error";
	}
}
