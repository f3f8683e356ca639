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
	switch (h->workload) {
	case PERF_WL_BULK:
		return h->p1 == 0 && h->p2 == 0;
	case PERF_WL_RR:
		return h->dir == PERF_UPLOAD && !h->time_mode && h->amount <= PERF_WL_MAX_N &&
		       h->p1 >= 1 && h->p1 <= PERF_WL_MAX_MSG && h->p2 >= 1 &&
		       h->p2 <= PERF_WL_MAX_MSG;
	case PERF_WL_STREAM:
		return h->p1 >= 1 && h->p2 >= PERF_STAMP_LEN && h->p2 <= PERF_WL_MAX_MSG &&
		       (h->time_mode || h->amount % h->p2 == 0);
	}
	return false;
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
	buf[40] = (uint8_t)h->workload;
	buf[41] = buf[42] = buf[43] = 0;
	put32(buf + 44, 0);
	put64(buf + 48, h->p1);
	put64(buf + 56, h->p2);
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
	if (buf[6] > PERF_DOWNLOAD || (buf[7] & ~PERF_HDR_F_ALL) || buf[40] > PERF_WL_MAX ||
	    buf[41] || buf[42] || buf[43] || get32(buf + 44) != 0)
		return PERF_EFIELD;
	t.dir = buf[6];
	t.time_mode = buf[7] & PERF_HDR_F_TIME;
	t.corrupt = buf[7] & PERF_HDR_F_CORRUPT;
	t.amount = get64(buf + 8);
	t.seed = get64(buf + 16);
	t.interval_ns = get64(buf + 24);
	t.corrupt_at = get64(buf + 32);
	t.workload = buf[40];
	t.p1 = get64(buf + 48);
	t.p2 = get64(buf + 56);
	if (!hdr_valid(&t))
		return PERF_EFIELD;
	*h = t;
	return PERF_HDR_LEN;
}

ptrdiff_t perf_res_encode(const struct perf_res *r, uint8_t *buf, size_t len)
{
	if (len < PERF_RES_LEN)
		return PERF_ESHORT;
	if ((r->flags & ~PERF_RES_F_ALL) || r->n_intervals > PERF_MAX_INTERVALS ||
	    r->n_samples > PERF_MAX_WL_SAMPLES || (unsigned)r->workload > PERF_WL_MAX)
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
	put32(buf + 52, r->n_samples);
	buf[56] = (uint8_t)r->workload;
	for (int i = 57; i < 64; i++)
		buf[i] = 0;
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
	t.n_samples = get32(buf + 52);
	t.workload = buf[56];
	if (t.flags & ~PERF_RES_F_ALL)
		return PERF_EFIELD;
	for (int i = 57; i < 64; i++)
		if (buf[i])
			return PERF_EFIELD;
	if (t.n_intervals > PERF_MAX_INTERVALS || t.n_samples > PERF_MAX_WL_SAMPLES ||
	    buf[56] > PERF_WL_MAX)
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

ptrdiff_t perf_smp_encode(uint64_t ns, uint8_t *buf, size_t len)
{
	if (len < PERF_SMP_LEN)
		return PERF_ESHORT;
	put64(buf, ns);
	return PERF_SMP_LEN;
}

ptrdiff_t perf_smp_decode(uint64_t *ns, const uint8_t *buf, size_t len)
{
	if (len < PERF_SMP_LEN)
		return PERF_ESHORT;
	*ns = get64(buf);
	return PERF_SMP_LEN;
}

ptrdiff_t perf_rej_encode(ptrdiff_t err, uint8_t *buf, size_t len)
{
	if (len < PERF_REJ_LEN)
		return PERF_ESHORT;
	if (err > PERF_ESHORT || err < PERF_EFIELD)
		return PERF_EFIELD;
	put32(buf, PERF_MAGIC_REJ);
	put16(buf + 4, PERF_VERSION);
	put16(buf + 6, (uint16_t)-err);
	put64(buf + 8, 0);
	return PERF_REJ_LEN;
}

ptrdiff_t perf_rej_decode(ptrdiff_t *reason, const uint8_t *buf, size_t len)
{
	uint16_t r;

	if (len < PERF_REJ_LEN)
		return PERF_ESHORT;
	if (get32(buf) != PERF_MAGIC_REJ)
		return PERF_EMAGIC;
	/* any version: a refusal names what the server could not take */
	r = get16(buf + 6);
	if (r < 1 || r > 4 || get64(buf + 8) != 0)
		return PERF_EFIELD;
	*reason = -(ptrdiff_t)r;
	return PERF_REJ_LEN;
}

const char *perf_workload_name(enum perf_workload w)
{
	switch (w) {
	case PERF_WL_BULK:
		return "bulk";
	case PERF_WL_RR:
		return "rr";
	case PERF_WL_STREAM:
		return "stream";
	}
	return "?";
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
