/* One direction of an emulated link: see emu_dir.h.  No clock, no syscalls. */
#include "emu_dir.h"
#include "emu_codel.h"
#include "emu_rewrite.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct fifo {
	struct emu_pkt *head, *tail;
};

/* netem's correlated random numbers: next = (1 - rho) * fresh + rho * last. */
struct crnd {
	double last, rho;
};

enum { GE_GOOD = 0, GE_BAD };
enum { S4_TX_GAP = 1, S4_TX_BURST, S4_LOST_BURST, S4_LOST_GAP };

struct emu_dir {
	struct topo_dir p;
	struct emu_rng rng;
	struct crnd dup_c, loss_c, corrupt_c, reorder_c, delay_c;
	int ge_state, s4_state;
	uint32_t reorder_counter;
	bool blackhole;

	/* bottleneck */
	struct fifo bq;
	uint64_t limit_pkts, limit_bytes; /* 0 = none */
	uint64_t busy_until;		  /* rate: end of the previous service */
	uint64_t rate_rem;		  /* rate: carried remainder of bytes * 8e9 / rate */
	struct emu_trace trace;
	uint64_t trace_base; /* time of this period's opportunity 0 */
	size_t trace_idx;
	int64_t head_left; /* trace: bytes of the head frame still to deliver; -1 = not begun */
	struct emu_codel codel; /* when p.codel */
	bool head_judged;	/* CoDel let the head frame start its service */

	/* delay line (in order) and the reordered frames (leave at end of service) */
	struct fifo dq, rq;
	uint64_t last_depart;
	uint64_t held_bytes;

	struct emu_dir_stats st;
};

/* ---- PRNG: splitmix64 to seed xoshiro256** ---------------------------------- */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void emu_rng_seed(struct emu_rng *r, uint64_t seed, int link_index, int dir)
{
	uint64_t x = seed;

	/* Mix the three inputs through splitmix so nearby seeds give unrelated streams. */
	x = splitmix64(&x) ^ ((uint64_t)(uint32_t)link_index << 32 | (uint32_t)dir);
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t emu_rng_next(struct emu_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double emu_rng_double(struct emu_rng *r)
{
	return (double)(emu_rng_next(r) >> 11) * 0x1.0p-53;
}

static void crnd_init(struct emu_dir *d, struct crnd *c, double rho)
{
	c->rho = rho;
	c->last = emu_rng_double(&d->rng);
}

static double crnd_next(struct emu_dir *d, struct crnd *c)
{
	double v = emu_rng_double(&d->rng);

	if (c->rho <= 0.0)
		return v;
	c->last = v * (1.0 - c->rho) + c->last * c->rho;
	return c->last;
}

/* ---- FIFOs --------------------------------------------------------------------- */

static void fifo_push(struct fifo *f, struct emu_pkt *p)
{
	p->next = NULL;
	if (f->tail)
		f->tail->next = p;
	else
		f->head = p;
	f->tail = p;
}

static struct emu_pkt *fifo_pop(struct fifo *f)
{
	struct emu_pkt *p = f->head;

	if (p) {
		f->head = p->next;
		if (!f->head)
			f->tail = NULL;
		p->next = NULL;
	}
	return p;
}

/* ---- histogram: log-linear, EMU_HIST_SUB buckets per power of two of ns ------- */

/* ns < 32 exactly; above, 32 buckets per power of two (the 5 bits after the
 * leading one), so a bucket is at most ~3 % wide. */
static unsigned hist_index(uint64_t ns)
{
	unsigned e, idx;

	if (ns < EMU_HIST_SUB)
		return (unsigned)ns;
	e = 63u - (unsigned)__builtin_clzll(ns); /* >= 5 */
	idx = EMU_HIST_SUB + (e - 5) * EMU_HIST_SUB +
	      (unsigned)((ns >> (e - 5)) & (EMU_HIST_SUB - 1));
	return idx < EMU_HIST_BUCKETS ? idx : EMU_HIST_BUCKETS - 1;
}

static uint64_t hist_upper(unsigned idx)
{
	unsigned e, sub;

	if (idx < EMU_HIST_SUB)
		return idx;
	e = (idx - EMU_HIST_SUB) / EMU_HIST_SUB + 5;
	sub = (idx - EMU_HIST_SUB) % EMU_HIST_SUB;
	if (idx == EMU_HIST_BUCKETS - 1)
		return UINT64_MAX;
	return ((uint64_t)(EMU_HIST_SUB + sub + 1) << (e - 5)) - 1;
}

void emu_hist_add(struct emu_hist *h, uint64_t ns)
{
	h->bucket[hist_index(ns)]++;
	h->count++;
	h->sum_ns += ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
}

uint64_t emu_hist_percentile(const struct emu_hist *h, double q)
{
	uint64_t want, seen = 0;

	if (!h->count)
		return 0;
	want = (uint64_t)ceil(q * (double)h->count);
	if (want < 1)
		want = 1;
	for (unsigned i = 0; i < EMU_HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= want) {
			uint64_t up = hist_upper(i);
			return up < h->max_ns ? up : h->max_ns;
		}
	}
	return h->max_ns;
}

const char *emu_drop_cause_name(enum emu_drop_cause c)
{
	static const char *const names[EMU_DROP_NCAUSES] = {"queue", "loss", "blackhole", "carrier",
							    "codel"};
	return (unsigned)c < EMU_DROP_NCAUSES ? names[c] : "?";
}

/* ---- parameters -------------------------------------------------------------- */

static bool prob_ok(double p)
{
	return p >= 0.0 && p <= 1.0; /* false for NaN too */
}

static int check_params(const struct topo_dir *p)
{
	if (!prob_ok(p->delay_corr) || !prob_ok(p->duplicate) || !prob_ok(p->duplicate_corr) ||
	    !prob_ok(p->corrupt) || !prob_ok(p->corrupt_corr) || !prob_ok(p->reorder) ||
	    !prob_ok(p->reorder_corr))
		return -EINVAL;
	for (int i = 0; i < 5; i++)
		if (!prob_ok(p->loss[i]))
			return -EINVAL;
	if ((unsigned)p->dist > TOPO_DIST_PARETONORMAL ||
	    (unsigned)p->loss_model > TOPO_LOSS_STATE4 || (unsigned)p->queue_unit > TOPO_QUEUE_TIME)
		return -EINVAL;
	return 0;
}

static uint64_t trace_period_ns(const struct emu_dir *d)
{
	return (uint64_t)d->trace.ms[d->trace.n - 1] * 1000000ull;
}

/* Derive the bottleneck limits from queue/queue_unit and the rate (or the
 * trace's average rate for a time limit). */
static void derive_limits(struct emu_dir *d)
{
	const struct topo_dir *p = &d->p;
	uint64_t rate = p->rate_bps;

	d->limit_pkts = 0;
	d->limit_bytes = 0;
	if (d->trace.n)
		rate = (uint64_t)((double)d->trace.n * EMU_TRACE_MTU * 8.0 * 1e9 /
				  (double)trace_period_ns(d));
	switch (p->queue_unit) {
	case TOPO_QUEUE_PACKETS:
		d->limit_pkts = p->queue ? p->queue : EMU_DEFAULT_LIMIT;
		break;
	case TOPO_QUEUE_BYTES:
		d->limit_bytes = p->queue ? p->queue : EMU_DEFAULT_LIMIT * 1514ull;
		break;
	case TOPO_QUEUE_TIME:
		if (!p->queue) {
			d->limit_pkts = EMU_DEFAULT_LIMIT;
		} else if (rate) {
			double b = (double)rate / 8.0 * (double)p->queue / 1e9;
			d->limit_bytes = b < 1514.0 ? 1514 : (uint64_t)b;
		}
		/* time without any rate: nothing waits in the bottleneck, no limit */
		break;
	}
}

static int trace_copy(struct emu_trace *dst, const struct emu_trace *src)
{
	dst->ms = NULL;
	dst->n = 0;
	if (!src || !src->n)
		return 0;
	if (src->ms[src->n - 1] == 0)
		return -EINVAL;
	for (size_t i = 1; i < src->n; i++)
		if (src->ms[i] < src->ms[i - 1])
			return -EINVAL;
	dst->ms = malloc(src->n * sizeof(*dst->ms));
	if (!dst->ms)
		return -ENOMEM;
	memcpy(dst->ms, src->ms, src->n * sizeof(*dst->ms));
	dst->n = src->n;
	return 0;
}

static void apply_correlations(struct emu_dir *d, uint32_t mask)
{
	const struct topo_dir *p = &d->p;

	if (mask & (TOPO_F_JITTER | TOPO_F_DELAY))
		crnd_init(d, &d->delay_c, p->delay_corr);
	if (mask & TOPO_F_DUPLICATE)
		crnd_init(d, &d->dup_c, p->duplicate_corr);
	if (mask & TOPO_F_CORRUPT)
		crnd_init(d, &d->corrupt_c, p->corrupt_corr);
	if (mask & TOPO_F_REORDER)
		crnd_init(d, &d->reorder_c, p->reorder_corr);
	if (mask & TOPO_F_LOSS) {
		crnd_init(d, &d->loss_c, p->loss_model == TOPO_LOSS_RANDOM ? p->loss[1] : 0.0);
		d->ge_state = GE_GOOD;
		d->s4_state = S4_TX_GAP;
	}
}

struct emu_dir *emu_dir_new(const struct topo_dir *p, const struct emu_trace *trace, uint64_t seed,
			    int link_index, int dir, uint64_t now)
{
	struct emu_dir *d;

	if (check_params(p))
		return NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->p = *p;
	if (p->trace[0] && (!trace || !trace->n)) {
		free(d);
		return NULL;
	}
	if (p->trace[0] && trace_copy(&d->trace, trace)) {
		free(d);
		return NULL;
	}
	d->trace_base = now;
	d->head_left = -1;
	emu_rng_seed(&d->rng, seed, link_index, dir);
	apply_correlations(d, ~0u);
	derive_limits(d);
	emu_codel_init(&d->codel, p->codel_target_ns, p->codel_interval_ns, EMU_CODEL_MTU);
	return d;
}

static void free_fifo(struct fifo *f)
{
	struct emu_pkt *p;

	while ((p = fifo_pop(f)))
		free(p);
}

void emu_dir_free(struct emu_dir *d)
{
	if (!d)
		return;
	free_fifo(&d->bq);
	free_fifo(&d->dq);
	free_fifo(&d->rq);
	free(d->trace.ms);
	free(d);
}

static void advance(struct emu_dir *d, uint64_t now);

int emu_dir_set(struct emu_dir *d, const struct topo_dir *p, const struct emu_trace *trace,
		uint64_t now)
{
	struct topo_dir n = d->p;
	struct emu_trace nt = {0};
	uint32_t m = p->set;

	/* Bring the bottleneck up to date under the old parameters first. */
	advance(d, now);
	if (m & TOPO_F_RATE)
		n.rate_bps = p->rate_bps;
	if (m & TOPO_F_DELAY)
		n.delay_ns = p->delay_ns;
	if (m & TOPO_F_JITTER) {
		n.jitter_ns = p->jitter_ns;
		n.delay_corr = p->delay_corr;
	}
	if (m & TOPO_F_DIST)
		n.dist = p->dist;
	if (m & TOPO_F_LOSS) {
		n.loss_model = p->loss_model;
		memcpy(n.loss, p->loss, sizeof(n.loss));
	}
	if (m & TOPO_F_QUEUE) {
		n.queue_unit = p->queue_unit;
		n.queue = p->queue;
	}
	if (m & TOPO_F_DUPLICATE) {
		n.duplicate = p->duplicate;
		n.duplicate_corr = p->duplicate_corr;
	}
	if (m & TOPO_F_CORRUPT) {
		n.corrupt = p->corrupt;
		n.corrupt_corr = p->corrupt_corr;
	}
	if (m & TOPO_F_REWRITE)
		n.rewrite = p->rewrite; /* the count starts again */
	if (m & TOPO_F_REORDER) {
		n.reorder = p->reorder;
		n.reorder_corr = p->reorder_corr;
		n.reorder_gap = p->reorder_gap;
	}
	if (m & TOPO_F_TRACE) {
		memcpy(n.trace, p->trace, sizeof(n.trace));
		if (n.trace[0] && (!trace || !trace->n))
			return -EINVAL;
	}
	if (m & TOPO_F_AQM) {
		n.codel = p->codel;
		n.codel_target_ns = p->codel_target_ns;
		n.codel_interval_ns = p->codel_interval_ns;
	}
	n.set = d->p.set | m;
	if (check_params(&n))
		return -EINVAL;
	if ((m & TOPO_F_TRACE) && n.trace[0]) {
		int err = trace_copy(&nt, trace);

		if (err)
			return err;
	}
	if (m & TOPO_F_TRACE) {
		free(d->trace.ms);
		d->trace = nt;
		d->trace_base = now;
		d->trace_idx = 0;
		d->head_left = -1;
		d->busy_until = now;
	}
	if ((m & TOPO_F_RATE) && d->p.rate_bps != n.rate_bps) {
		d->rate_rem = 0;
		/* the frame in service restarts its serialization at the new rate */
		if (d->busy_until < now)
			d->busy_until = now;
	}
	if (m & TOPO_F_AQM) {
		if (n.codel && !d->p.codel) /* switched on: a fresh state */
			emu_codel_init(&d->codel, n.codel_target_ns, n.codel_interval_ns,
				       EMU_CODEL_MTU);
		else /* new target/interval: the state (dropping, count) is kept */
			emu_codel_set(&d->codel, n.codel_target_ns, n.codel_interval_ns);
	}
	d->p = n;
	apply_correlations(d, m);
	derive_limits(d);
	return 0;
}

const struct topo_dir *emu_dir_params(const struct emu_dir *d)
{
	return &d->p;
}

void emu_dir_set_blackhole(struct emu_dir *d, bool on)
{
	d->blackhole = on;
}

/* ---- the models ------------------------------------------------------------ */

static bool loss_event(struct emu_dir *d)
{
	const double *l = d->p.loss;
	double u;

	switch (d->p.loss_model) {
	case TOPO_LOSS_NONE:
		return false;
	case TOPO_LOSS_RANDOM:
		/* netem: loss && loss >= crandom (exclusive 0, inclusive 1) */
		return l[0] > 0.0 && l[0] >= crnd_next(d, &d->loss_c);
	case TOPO_LOSS_GEMODEL:
		/* netem's order: maybe change state, then lose with the old state's
		 * loss probability (good: 1-k = l[3]; bad: 1-h = l[2]). */
		if (d->ge_state == GE_GOOD) {
			if (emu_rng_double(&d->rng) < l[0])
				d->ge_state = GE_BAD;
			return emu_rng_double(&d->rng) < l[3];
		}
		if (emu_rng_double(&d->rng) < l[1])
			d->ge_state = GE_GOOD;
		return emu_rng_double(&d->rng) < l[2];
	case TOPO_LOSS_STATE4: {
		/* netem's loss_4state: a1 = p13, a2 = p31, a3 = p32, a4 = p14, a5 = p23 */
		double p13 = l[0], p31 = l[1], p32 = l[2], p23 = l[3], p14 = l[4];

		u = emu_rng_double(&d->rng);
		switch (d->s4_state) {
		case S4_TX_GAP:
			if (u < p14) {
				d->s4_state = S4_LOST_GAP;
				return true;
			}
			if (u < p14 + p13) {
				d->s4_state = S4_LOST_BURST;
				return true;
			}
			return false;
		case S4_TX_BURST:
			if (u < p23) {
				d->s4_state = S4_LOST_BURST;
				return true;
			}
			return false;
		case S4_LOST_BURST:
			if (u < p32) {
				d->s4_state = S4_TX_BURST;
				return false;
			}
			if (u < p32 + p31) {
				d->s4_state = S4_TX_GAP;
				return false;
			}
			return true;
		default: /* S4_LOST_GAP */
			d->s4_state = S4_TX_GAP;
			return false;
		}
	}
	}
	return false;
}

/* Inverse of the standard normal CDF (Acklam's rational approximation, relative
 * error < 1.2e-9), the math behind netem's normal.dist table. */
static double norm_quantile(double p)
{
	static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
				   -2.759285104469687e+02, 1.383577518672690e+02,
				   -3.066479806614716e+01, 2.506628277459239e+00};
	static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
				   -1.556989798598866e+02, 6.680131188771972e+01,
				   -1.328068155288572e+01};
	static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
				   -2.400758277161838e+00, -2.549671010173968e+00,
				   4.374664141464968e+00,  2.938163982698783e+00};
	static const double e[] = {7.784695709041462e-03, 3.224671290700398e-01,
				   2.445134137142996e+00, 3.754408661907416e+00};
	double q, r;

	if (p <= 0.0)
		return -INFINITY;
	if (p >= 1.0)
		return INFINITY;
	if (p < 0.02425) {
		q = sqrt(-2 * log(p));
		return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
		       ((((e[0] * q + e[1]) * q + e[2]) * q + e[3]) * q + 1);
	}
	if (p > 1 - 0.02425) {
		q = sqrt(-2 * log(1 - p));
		return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
		       ((((e[0] * q + e[1]) * q + e[2]) * q + e[3]) * q + 1);
	}
	q = p - 0.5;
	r = q * q;
	return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
	       (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

#define DIST_MAX (32767.0 / 8192.0) /* netem tables are int16 scaled by 8192 */

/* iproute2's pareto table: alpha 3, shifted to mean 0 and scaled by 4/3. */
static double pareto_quantile(double u)
{
	double v = (pow(1.0 - u, -1.0 / 3.0) - 1.5) * (4.0 / 3.0);

	return v > DIST_MAX ? DIST_MAX : v;
}

static double clampd(double v)
{
	return v > DIST_MAX ? DIST_MAX : (v < -DIST_MAX ? -DIST_MAX : v);
}

double emu_dist_quantile(enum topo_jitter_dist dist, double u)
{
	switch (dist) {
	case TOPO_DIST_NORMAL:
		return clampd(norm_quantile(u));
	case TOPO_DIST_PARETO:
		return pareto_quantile(u);
	case TOPO_DIST_PARETONORMAL:
		/* iproute2's paretonormal table: (normal(u) + 3 * pareto(u)) / 4 */
		return clampd((clampd(norm_quantile(u)) + 3.0 * pareto_quantile(u)) / 4.0);
	default: /* uniform in [-1, 1) */
		return 2.0 * u - 1.0;
	}
}

/* netem's tabledist(): mu + sigma * table[u] with a correlated u. */
static uint64_t sample_delay(struct emu_dir *d)
{
	const struct topo_dir *p = &d->p;
	double v;

	if (!p->jitter_ns)
		return p->delay_ns;
	v = (double)p->delay_ns +
	    (double)p->jitter_ns * emu_dist_quantile(p->dist, crnd_next(d, &d->delay_c));
	return v <= 0.0 ? 0 : (uint64_t)llround(v);
}

/* ---- frames ------------------------------------------------------------------ */

size_t emu_frame_payload_off(const uint8_t *f, size_t len, bool *is_l4)
{
	size_t off = 14, l3;
	uint16_t type;
	uint8_t proto;

	*is_l4 = false;
	if (len < 14)
		return 0;
	type = (uint16_t)(f[12] << 8 | f[13]);
	while ((type == 0x8100 || type == 0x88a8) && off + 4 <= len) {
		type = (uint16_t)(f[off + 2] << 8 | f[off + 3]);
		off += 4;
	}
	l3 = off;
	if (type == 0x0800) {
		if (off + 20 > len || (f[off] >> 4) != 4)
			return l3;
		proto = f[off + 9];
		/* a non-first fragment has no L4 header */
		if ((f[off + 6] & 0x1f) || f[off + 7])
			return off + (size_t)(f[off] & 0xf) * 4;
		off += (size_t)(f[off] & 0xf) * 4;
	} else if (type == 0x86dd) {
		if (off + 40 > len)
			return l3;
		proto = f[off + 6];
		off += 40;
	} else {
		return l3;
	}
	if (proto == 6 && off + 20 <= len) {
		size_t th = (size_t)(f[off + 12] >> 4) * 4;

		if (th >= 20 && off + th <= len) {
			*is_l4 = true;
			return off + th;
		}
	} else if (proto == 17 && off + 8 <= len) {
		*is_l4 = true;
		return off + 8;
	}
	return off <= len ? off : l3;
}

/* Flip one random bit: in the payload after the L4 header when there is one,
 * else anywhere after the Ethernet header. */
static void corrupt_frame(struct emu_dir *d, uint8_t *f, size_t len)
{
	bool l4;
	size_t off = emu_frame_payload_off(f, len, &l4), pos;

	if (off >= len)
		off = len > 14 ? 14 : 0;
	if (off >= len)
		return;
	pos = off + (size_t)(emu_rng_next(&d->rng) % (len - off));
	f[pos] ^= (uint8_t)(1u << (emu_rng_next(&d->rng) % 8));
}

static void count_drop(struct emu_dir *d, enum emu_drop_cause c)
{
	d->st.drops[c]++;
}

void emu_dir_count_drop(struct emu_dir *d, enum emu_drop_cause cause)
{
	count_drop(d, cause);
}

static bool bottleneck_full(const struct emu_dir *d, uint32_t wire)
{
	if (d->limit_pkts && d->st.queued_pkts + 1 > d->limit_pkts)
		return true;
	if (d->limit_bytes && d->st.queued_bytes + wire > d->limit_bytes)
		return true;
	return d->held_bytes + wire > EMU_MAX_BUFFERED;
}

static int queue_copy(struct emu_dir *d, const void *buf, size_t len, size_t l2_off, uint32_t wire,
		      uint64_t now, uint32_t flags)
{
	struct emu_pkt *p;

	if (bottleneck_full(d, wire)) {
		count_drop(d, EMU_DROP_QUEUE);
		return EMU_V_DROPPED;
	}
	p = malloc(sizeof(*p) + len);
	if (!p) {
		count_drop(d, EMU_DROP_QUEUE);
		return -ENOMEM;
	}
	memcpy(p->data, buf, len);
	p->len = (uint32_t)len;
	p->l2_off = (uint32_t)l2_off;
	p->wire_len = wire;
	p->arrive_ns = now;
	p->served_ns = p->depart_ns = 0;
	p->flags = flags;
	if (flags & EMU_PKT_CORRUPTED)
		corrupt_frame(d, p->data + l2_off, len - l2_off);
	if ((flags & EMU_PKT_REWRITE) && d->p.rewrite &&
	    emu_rewrite_tcp(p->data + l2_off, len - l2_off)) {
		d->p.rewrite--;
		d->st.rewritten++;
	}
	fifo_push(&d->bq, p);
	d->st.queued_pkts++;
	d->st.queued_bytes += wire;
	d->st.held_pkts++;
	d->held_bytes += wire;
	return EMU_V_QUEUED;
}

int emu_dir_enqueue(struct emu_dir *d, const void *buf, size_t len, size_t l2_off,
		    uint32_t wire_len, uint64_t now)
{
	int count = 1, v = 0, r;
	bool corrupt = false;

	if (l2_off > len)
		return -EINVAL;
	if (!wire_len)
		wire_len = (uint32_t)(len - l2_off);
	advance(d, now);
	d->st.pkts_in++;
	d->st.bytes_in += len - l2_off;
	if (d->blackhole) {
		count_drop(d, EMU_DROP_BLACKHOLE);
		return EMU_V_DROPPED;
	}
	/* netem: duplicate, then loss takes one copy away */
	if (d->p.duplicate > 0.0 && d->p.duplicate >= crnd_next(d, &d->dup_c))
		count++;
	if (loss_event(d))
		count--;
	if (count == 0) {
		count_drop(d, EMU_DROP_LOSS);
		return EMU_V_DROPPED;
	}
	if (count == 2) {
		d->st.duplicated++;
		v |= EMU_V_DUPLICATED;
	}
	if (d->p.corrupt > 0.0 && d->p.corrupt >= crnd_next(d, &d->corrupt_c)) {
		corrupt = true;
		d->st.corrupted++;
		v |= EMU_V_CORRUPTED;
	}
	r = queue_copy(d, buf, len, l2_off, wire_len, now,
		       (corrupt ? EMU_PKT_CORRUPTED : 0) | (d->p.rewrite ? EMU_PKT_REWRITE : 0));
	if (r < 0)
		return r;
	v |= r;
	if (count == 2) {
		/* the copy is never corrupted (netem corrupts the original only) */
		r = queue_copy(d, buf, len, l2_off, wire_len, now, EMU_PKT_DUPLICATE);
		if (r < 0)
			return v ? v : r;
		v |= r;
	}
	return v;
}

/* ---- time ---------------------------------------------------------------------- */

/* A frame leaves the bottleneck at t: into the delay line, or (reorder) straight out. */
static void served(struct emu_dir *d, struct emu_pkt *p, uint64_t t)
{
	const struct topo_dir *q = &d->p;
	uint32_t gap = q->reorder_gap;

	d->st.queued_pkts--;
	d->st.queued_bytes -= p->wire_len;
	p->served_ns = t;
	emu_hist_add(&d->st.qdelay, t - p->arrive_ns);

	if (q->reorder > 0.0 && gap == 0)
		gap = 1; /* tc: reorder without gap means gap 1 */
	/* netem_enqueue(): the normal path unless every gap-th frame wins the draw */
	if (gap == 0 || d->reorder_counter < gap - 1 || q->reorder < crnd_next(d, &d->reorder_c)) {
		uint64_t dep = t + sample_delay(d);

		if (dep < d->last_depart)
			dep = d->last_depart; /* never before its predecessor */
		d->last_depart = dep;
		p->depart_ns = dep;
		d->reorder_counter++;
		fifo_push(&d->dq, p);
	} else {
		d->reorder_counter = 0;
		p->depart_ns = t;
		p->flags |= EMU_PKT_REORDERED;
		d->st.reordered++;
		fifo_push(&d->rq, p);
	}
}

/* CoDel runs where a queue can build: behind a rate or a trace. */
static bool codel_on(const struct emu_dir *d)
{
	return d->p.codel && (d->p.rate_bps || d->trace.n);
}

/* RFC 8289's dequeue of the head frame at t (when its service would start):
 * true when CoDel dropped it (the caller then looks at the new head, same t). */
static bool codel_drop_head(struct emu_dir *d, uint64_t t)
{
	struct emu_pkt *h = d->bq.head, *q;
	uint64_t behind = 0;

	/* bytes queued behind the head that had arrived by t: only "more than one
	 * MTU or not" matters, so the walk stops early */
	for (q = h->next; q && q->arrive_ns <= t && behind <= d->codel.mtu; q = q->next)
		behind += q->wire_len;
	if (!emu_codel_judge(&d->codel, t, t - h->arrive_ns, behind)) {
		d->head_judged = true;
		return false;
	}
	fifo_pop(&d->bq);
	d->st.queued_pkts--;
	d->st.queued_bytes -= h->wire_len;
	d->st.held_pkts--;
	d->held_bytes -= h->wire_len;
	count_drop(d, EMU_DROP_CODEL);
	free(h);
	d->head_left = -1;
	if (!d->bq.head || d->bq.head->arrive_ns > t)
		emu_codel_empty(&d->codel, t);
	return true;
}

/* The link finished a frame at t: the next dequeue finds an empty queue unless
 * a frame had arrived by then. */
static void codel_after_service(struct emu_dir *d, uint64_t t)
{
	d->head_judged = false;
	if (codel_on(d) && (!d->bq.head || d->bq.head->arrive_ns > t))
		emu_codel_empty(&d->codel, t);
}

static uint64_t trace_opp(const struct emu_dir *d)
{
	return d->trace_base + (uint64_t)d->trace.ms[d->trace_idx] * 1000000ull;
}

static void trace_next(struct emu_dir *d)
{
	if (++d->trace_idx == d->trace.n) {
		d->trace_idx = 0;
		d->trace_base += trace_period_ns(d);
	}
}

/* Skip the opportunities at or before now (nothing to send in them). */
static void trace_skip(struct emu_dir *d, uint64_t now)
{
	uint64_t period = trace_period_ns(d);
	size_t lo, hi;

	if (trace_opp(d) > now)
		return;
	if (now >= d->trace_base + period) {
		d->trace_base += (now - d->trace_base) / period * period;
		d->trace_idx = 0;
	}
	lo = d->trace_idx;
	hi = d->trace.n;
	while (lo < hi) { /* first index with base + ms > now */
		size_t mid = lo + (hi - lo) / 2;

		if (d->trace_base + (uint64_t)d->trace.ms[mid] * 1000000ull > now)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (lo == d->trace.n) {
		d->trace_idx = 0;
		d->trace_base += period;
	} else {
		d->trace_idx = lo;
	}
}

static uint64_t tx_time(const struct emu_dir *d, uint32_t wire, uint64_t *rem)
{
	uint64_t num = (uint64_t)wire * 8000000000ull + d->rate_rem;

	if (rem)
		*rem = num % d->p.rate_bps;
	return num / d->p.rate_bps;
}

/* When the bottleneck's head frame finishes, or UINT64_MAX when empty. */
static uint64_t bottleneck_next(const struct emu_dir *d)
{
	const struct emu_pkt *h = d->bq.head;
	uint64_t start;

	if (!h)
		return UINT64_MAX;
	if (d->trace.n)
		return trace_opp(d);
	if (!d->p.rate_bps)
		return h->arrive_ns;
	start = h->arrive_ns > d->busy_until ? h->arrive_ns : d->busy_until;
	if (codel_on(d) && !d->head_judged)
		return start; /* CoDel decides then, and a drop changes what follows */
	return start + tx_time(d, h->wire_len, NULL);
}

/* Run the bottleneck up to now: serve every frame that finishes by then. */
static void advance(struct emu_dir *d, uint64_t now)
{
	if (d->trace.n) {
		if (!d->bq.head) {
			trace_skip(d, now);
			return;
		}
		while (d->bq.head && trace_opp(d) <= now) {
			uint64_t t = trace_opp(d);
			int64_t budget = EMU_TRACE_MTU;

			trace_next(d);
			while (budget > 0 && d->bq.head) {
				struct emu_pkt *h = d->bq.head;
				int64_t take;

				if (d->head_left < 0) {
					if (codel_on(d) && !d->head_judged && codel_drop_head(d, t))
						continue;
					d->head_left = h->wire_len;
				}
				take = budget < d->head_left ? budget : d->head_left;
				d->head_left -= take;
				budget -= take;
				if (d->head_left == 0) {
					d->head_left = -1;
					served(d, fifo_pop(&d->bq), t);
					codel_after_service(d, t);
				}
			}
		}
		if (!d->bq.head)
			trace_skip(d, now);
		return;
	}
	while (d->bq.head) {
		struct emu_pkt *h = d->bq.head;
		uint64_t start, end, rem = 0;

		if (!d->p.rate_bps) {
			served(d, fifo_pop(&d->bq), h->arrive_ns);
			continue;
		}
		start = h->arrive_ns > d->busy_until ? h->arrive_ns : d->busy_until;
		if (start > now)
			break;
		if (start > d->busy_until) {
			d->rate_rem = 0; /* the link was idle */
			d->busy_until = start;
		}
		if (codel_on(d) && !d->head_judged && codel_drop_head(d, start))
			continue;
		end = start + tx_time(d, h->wire_len, &rem);
		if (end > now)
			break;
		d->rate_rem = rem;
		d->busy_until = end;
		served(d, fifo_pop(&d->bq), end);
		codel_after_service(d, end);
	}
}

uint64_t emu_dir_next_event(struct emu_dir *d, uint64_t now)
{
	uint64_t t = UINT64_MAX, b;

	advance(d, now);
	if (d->dq.head)
		t = d->dq.head->depart_ns;
	if (d->rq.head && d->rq.head->depart_ns < t)
		t = d->rq.head->depart_ns;
	b = bottleneck_next(d);
	return b < t ? b : t;
}

struct emu_pkt *emu_dir_dequeue(struct emu_dir *d, uint64_t now)
{
	struct fifo *f = NULL;
	struct emu_pkt *p;

	advance(d, now);
	if (d->dq.head && d->dq.head->depart_ns <= now)
		f = &d->dq;
	if (d->rq.head && d->rq.head->depart_ns <= now &&
	    (!f || d->rq.head->depart_ns < d->dq.head->depart_ns))
		f = &d->rq;
	if (!f)
		return NULL;
	p = fifo_pop(f);
	d->st.held_pkts--;
	d->held_bytes -= p->wire_len;
	d->st.pkts_out++;
	d->st.bytes_out += p->len - p->l2_off;
	return p;
}

void emu_pkt_free(struct emu_pkt *p)
{
	free(p);
}

void emu_dir_flush(struct emu_dir *d, enum emu_drop_cause cause)
{
	struct fifo *fs[3] = {&d->bq, &d->dq, &d->rq};
	struct emu_pkt *p;

	for (int i = 0; i < 3; i++) {
		while ((p = fifo_pop(fs[i]))) {
			count_drop(d, cause);
			free(p);
		}
	}
	d->st.queued_pkts = d->st.queued_bytes = d->st.held_pkts = 0;
	d->held_bytes = 0;
	d->head_left = -1;
	d->head_judged = false;
	if (d->p.codel)
		emu_codel_empty(&d->codel, 0);
}

const struct emu_dir_stats *emu_dir_stats(const struct emu_dir *d)
{
	return &d->st;
}
