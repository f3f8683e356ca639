/* Link parameters: the keys shared by a link, its up:/down: blocks and `set`
 * events (rate, delay, loss models, queue, trace...), and the quantity parsers
 * with the error messages users see. */
#include "topology_int.h"
#include "units.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_DELAY_NS (60ull * 1000000000ull) /* delay, jitter and queue time: at most 60 s */

const char *const tp_param_keys[] = {
	"rate",	   "delay",   "jitter", "distribution", "delay_correlation", "loss", "duplicate",
	"corrupt", "reorder", "queue",	"trace",	"rewrite",	     NULL,
};

struct qty {
	const char *name;    /* "rate" */
	const char *example; /* "50mbit" */
	const char *units;   /* for "unknown unit" messages */
	int (*parse)(const char *s, uint64_t *out);
};

static const struct qty q_rate = {"rate", "50mbit",
				  "bit, kbit, mbit, gbit, or bps, kbps, mbps, gbps as tc does",
				  units_parse_rate};
static const struct qty q_time = {"time", "10ms", "ns, us, ms or s", units_parse_time};
static const struct qty q_size = {"size", "64MiB", "B, kB, MB, GB, KiB, MiB or GiB",
				  units_parse_size};

/* Parse with q, and when that fails say why: sign, no number, no unit, unknown
 * unit, or out of range. */
static int qty_parse(struct tp_ctx *c, yaml_node_t *n, const char *what, const struct qty *q,
		     uint64_t *out)
{
	const char *s, *p;
	char *end;
	char one[64];
	uint64_t dummy;

	if (tp_scalar(c, n, what, q->example, &s))
		return -1;
	if (q->parse(s, out) == 0)
		return 0;
	p = s;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '-')
		return tp_err(c, n, "negative %s \"%s\" (e.g. %s)", what, s, q->example);
	if (!isdigit((unsigned char)*p) && *p != '.')
		return tp_err(c, n, "%s: expected a %s such as %s, got \"%s\"", what, q->name,
			      q->example, s);
	errno = 0;
	(void)strtod(p, &end);
	if (end == p)
		return tp_err(c, n, "%s: expected a %s such as %s, got \"%s\"", what, q->name,
			      q->example, s);
	while (isspace((unsigned char)*end))
		end++;
	if (!*end)
		return tp_err(c, n, "%s \"%s\" needs a unit, e.g. %s (use %s)", what, s, q->example,
			      q->units);
	if (snprintf(one, sizeof(one), "1%s", end) >= (int)sizeof(one) ||
	    q->parse(one, &dummy) != 0)
		return tp_err(c, n, "unknown %s unit \"%s\" (use %s)", q->name, end, q->units);
	return tp_err(c, n, "%s \"%s\" is out of range", what, s);
}

int tp_rate(struct tp_ctx *c, yaml_node_t *n, const char *what, uint64_t *out)
{
	return qty_parse(c, n, what, &q_rate, out);
}

int tp_time(struct tp_ctx *c, yaml_node_t *n, const char *what, uint64_t *out)
{
	return qty_parse(c, n, what, &q_time, out);
}

int tp_size(struct tp_ctx *c, yaml_node_t *n, const char *what, uint64_t *out)
{
	return qty_parse(c, n, what, &q_size, out);
}

int tp_percent(struct tp_ctx *c, yaml_node_t *n, const char *what, double *out)
{
	const char *s, *p;
	char *end;
	double v;

	if (tp_scalar(c, n, what, "0.5%", &s))
		return -1;
	if (units_parse_percent(s, out) == 0)
		return 0;
	p = s;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '-')
		return tp_err(c, n, "negative percentage \"%s\" for %s (e.g. 0.5%%)", s, what);
	v = strtod(p, &end);
	if (end == p || (!isdigit((unsigned char)*p) && *p != '.'))
		return tp_err(c, n, "%s: expected a percentage such as 0.5%%, got \"%s\"", what, s);
	while (isspace((unsigned char)*end))
		end++;
	if (!*end)
		return tp_err(c, n, "%s \"%s\" needs a %% sign, e.g. 0.5%%", what, s);
	if (strcmp(end, "%") != 0)
		return tp_err(c, n, "%s: expected a percentage such as 0.5%%, got \"%s\"", what, s);
	if (v > 100.0)
		return tp_err(c, n, "%s \"%s\" is above 100%%", what, s);
	return tp_err(c, n, "%s \"%s\" is out of range", what, s);
}

/* "25%" or { p: 25%, correlation: 50% } (duplicate, corrupt). */
static int parse_pc(struct tp_ctx *c, yaml_node_t *v, const char *what, double *p, double *corr)
{
	static const char *const keys[] = {"p", "correlation", NULL};
	yaml_node_t *pn, *cn;

	*p = 0;
	*corr = 0;
	if (v->type != YAML_MAPPING_NODE)
		return tp_percent(c, v, what, p);
	if (tp_map_check(c, v, what, keys, NULL))
		return -1;
	pn = tp_map_get(c, v, "p", NULL);
	cn = tp_map_get(c, v, "correlation", NULL);
	if (!pn)
		return tp_err(c, v, "%s needs p: (e.g. { p: 1%%, correlation: 25%% })", what);
	if (tp_percent(c, pn, what, p))
		return -1;
	return cn ? tp_percent(c, cn, "correlation", corr) : 0;
}

/* An optional percentage: *out keeps its default when the key is absent. */
static int opt_percent(struct tp_ctx *c, yaml_node_t *map, const char *key, double *out)
{
	yaml_node_t *n = tp_map_get(c, map, key, NULL);

	return n ? tp_percent(c, n, key, out) : 0;
}

/* loss: "1%" | { model: random, p, correlation } | { model: gemodel, p, r, 1-h, 1-k }
 *     | { model: state4, p13, p31, p32, p23, p14 }.  Defaults as iproute2's tc. */
static int parse_loss(struct tp_ctx *c, yaml_node_t *v, struct topo_dir *d)
{
	static const char *const random_keys[] = {"model", "p", "correlation", NULL};
	static const char *const ge_keys[] = {"model", "p", "r", "1-h", "1-k", NULL};
	static const char *const s4_keys[] = {"model", "p13", "p31", "p32", "p23", "p14", NULL};
	yaml_node_t *mn, *pn;
	const char *model = "random";

	memset(d->loss, 0, sizeof(d->loss));
	d->loss_model = TOPO_LOSS_RANDOM;
	if (v->type == YAML_SCALAR_NODE && !tp_is_null(v))
		return tp_percent(c, v, "loss", &d->loss[0]);
	if (v->type != YAML_MAPPING_NODE)
		return tp_err(c, v,
			      "loss must be a percentage (e.g. loss: 0.5%%) or a mapping (e.g. "
			      "{ model: gemodel, p: 1%%, r: 30%% }), got %s",
			      tp_kind(v));
	if (tp_map_check(c, v, "loss", NULL, NULL))
		return -1;
	mn = tp_map_get(c, v, "model", NULL);
	if (mn && tp_scalar(c, mn, "model", "gemodel", &model))
		return -1;
	if (!strcmp(model, "random")) {
		if (tp_map_check(c, v, "loss (model random)", random_keys, NULL))
			return -1;
		pn = tp_map_get(c, v, "p", NULL);
		if (!pn)
			return tp_err(c, v, "loss model random needs p: (e.g. p: 1%%)");
		if (tp_percent(c, pn, "p", &d->loss[0]))
			return -1;
		return opt_percent(c, v, "correlation", &d->loss[1]);
	}
	if (!strcmp(model, "gemodel")) {
		d->loss_model = TOPO_LOSS_GEMODEL;
		if (tp_map_check(c, v, "loss (model gemodel)", ge_keys, NULL))
			return -1;
		pn = tp_map_get(c, v, "p", NULL);
		if (!pn)
			return tp_err(c, v, "loss model gemodel needs p: (e.g. p: 1%%)");
		if (tp_percent(c, pn, "p", &d->loss[0]))
			return -1;
		/* tc's defaults: r = 1 - p, 1-h = 100%, 1-k = 0% */
		d->loss[1] = 1.0 - d->loss[0];
		d->loss[2] = 1.0;
		d->loss[3] = 0.0;
		if (opt_percent(c, v, "r", &d->loss[1]) || opt_percent(c, v, "1-h", &d->loss[2]) ||
		    opt_percent(c, v, "1-k", &d->loss[3]))
			return -1;
		return 0;
	}
	if (!strcmp(model, "state4")) {
		d->loss_model = TOPO_LOSS_STATE4;
		if (tp_map_check(c, v, "loss (model state4)", s4_keys, NULL))
			return -1;
		pn = tp_map_get(c, v, "p13", NULL);
		if (!pn)
			return tp_err(c, v, "loss model state4 needs p13: (e.g. p13: 1%%)");
		if (tp_percent(c, pn, "p13", &d->loss[0]))
			return -1;
		/* tc's defaults: p31 = 1 - p13, p32 = 0, p23 = 100%, p14 = 0 */
		d->loss[1] = 1.0 - d->loss[0];
		d->loss[2] = 0.0;
		d->loss[3] = 1.0;
		d->loss[4] = 0.0;
		if (opt_percent(c, v, "p31", &d->loss[1]) ||
		    opt_percent(c, v, "p32", &d->loss[2]) ||
		    opt_percent(c, v, "p23", &d->loss[3]) || opt_percent(c, v, "p14", &d->loss[4]))
			return -1;
		return 0;
	}
	return tp_err(c, mn, "unknown loss model \"%s\" (use random, gemodel or state4)", model);
}

/* reorder: "25%" | { p: 25%, correlation: 50%, gap: 5 } */
static int parse_reorder(struct tp_ctx *c, yaml_node_t *v, struct topo_dir *d)
{
	static const char *const keys[] = {"p", "correlation", "gap", NULL};
	yaml_node_t *pn, *gn;
	uint64_t gap;

	d->reorder = d->reorder_corr = 0;
	d->reorder_gap = 0;
	if (v->type != YAML_MAPPING_NODE)
		return tp_percent(c, v, "reorder", &d->reorder);
	if (tp_map_check(c, v, "reorder", keys, NULL))
		return -1;
	pn = tp_map_get(c, v, "p", NULL);
	if (!pn)
		return tp_err(c, v, "reorder needs p: (e.g. { p: 25%%, correlation: 50%% })");
	if (tp_percent(c, pn, "p", &d->reorder) ||
	    opt_percent(c, v, "correlation", &d->reorder_corr))
		return -1;
	gn = tp_map_get(c, v, "gap", NULL);
	if (gn) {
		if (tp_uint(c, gn, "gap", 1, UINT32_MAX, &gap))
			return -1;
		d->reorder_gap = (uint32_t)gap;
	}
	return 0;
}

/* A queue limit: packets ("100"), a size ("150kB") or a time ("50ms"). */
static int parse_queue_limit(struct tp_ctx *c, yaml_node_t *v, struct topo_dir *d)
{
	const char *s, *p;
	uint64_t x;

	if (tp_scalar(c, v, "queue", "100", &s))
		return -1;
	for (p = s; isdigit((unsigned char)*p); p++)
		;
	if (p != s && !*p) {
		if (tp_uint(c, v, "queue", 1, UINT32_MAX, &x))
			return -1;
		d->queue_unit = TOPO_QUEUE_PACKETS;
		d->queue = x;
		return 0;
	}
	if (s[0] == '-')
		return tp_err(c, v, "negative queue \"%s\" (e.g. 100, 150kB or 50ms)", s);
	if (units_parse_time(s, &x) == 0) {
		if (x == 0 || x > MAX_DELAY_NS)
			return tp_err(c, v, "queue \"%s\" must be above 0 and at most 60s", s);
		d->queue_unit = TOPO_QUEUE_TIME;
		d->queue = x;
		return 0;
	}
	if (units_parse_size(s, &x) == 0) {
		if (x == 0 || x > UINT32_MAX)
			return tp_err(c, v, "queue \"%s\" must be above 0 and at most 4GB", s);
		d->queue_unit = TOPO_QUEUE_BYTES;
		d->queue = x;
		return 0;
	}
	return tp_err(c, v,
		      "bad queue \"%s\" (use a packet count like 100, a size like 150kB or a time "
		      "like 50ms)",
		      s);
}

/* codel: true | false | { target: 5ms, interval: 100ms } (RFC 8289's defaults). */
static int parse_codel(struct tp_ctx *c, yaml_node_t *v, struct topo_dir *d)
{
	static const char *const keys[] = {"target", "interval", NULL};
	yaml_node_t *tn, *in;

	d->codel_target_ns = 5000000ull;
	d->codel_interval_ns = 100000000ull;
	if (v->type == YAML_SCALAR_NODE && !tp_is_null(v))
		return tp_bool(c, v, "codel", &d->codel);
	if (v->type != YAML_MAPPING_NODE)
		return tp_err(c, v,
			      "codel must be true, false or a mapping (e.g. { target: 5ms, "
			      "interval: 100ms }), got %s",
			      tp_kind(v));
	if (tp_map_check(c, v, "codel", keys, NULL))
		return -1;
	d->codel = true;
	tn = tp_map_get(c, v, "target", NULL);
	in = tp_map_get(c, v, "interval", NULL);
	if (tn) {
		if (tp_time(c, tn, "target", &d->codel_target_ns))
			return -1;
		if (d->codel_target_ns == 0 || d->codel_target_ns > MAX_DELAY_NS)
			return tp_err(c, tn, "codel target \"%s\" must be above 0 and at most 60s",
				      (const char *)tn->data.scalar.value);
	}
	if (in) {
		if (tp_time(c, in, "interval", &d->codel_interval_ns))
			return -1;
		if (d->codel_interval_ns == 0 || d->codel_interval_ns > MAX_DELAY_NS)
			return tp_err(c, in,
				      "codel interval \"%s\" must be above 0 and at most 60s",
				      (const char *)in->data.scalar.value);
	}
	if (d->codel_target_ns >= d->codel_interval_ns)
		return tp_err(c, tn ? tn : v,
			      "codel target (%llu us) must be below its interval (%llu us); RFC "
			      "8289 suggests target 5-10%% of interval",
			      (unsigned long long)(d->codel_target_ns / 1000),
			      (unsigned long long)(d->codel_interval_ns / 1000));
	return 0;
}

/* queue: a limit ("100", "150kB", "50ms") or { limit: ..., codel: ... }.  Sets
 * *bits to TOPO_F_QUEUE (a limit) and/or TOPO_F_AQM (codel). */
static int parse_queue(struct tp_ctx *c, yaml_node_t *v, struct topo_dir *d, uint32_t *bits)
{
	static const char *const keys[] = {"limit", "codel", NULL};
	yaml_node_t *ln, *cn;

	*bits = 0;
	if (v->type != YAML_MAPPING_NODE) {
		*bits = TOPO_F_QUEUE;
		return parse_queue_limit(c, v, d);
	}
	if (tp_map_check(c, v, "queue", keys, NULL))
		return -1;
	ln = tp_map_get(c, v, "limit", NULL);
	cn = tp_map_get(c, v, "codel", NULL);
	if (!ln && !cn)
		return tp_err(c, v,
			      "queue needs limit: or codel: (e.g. { limit: 1000, codel: { target: "
			      "5ms, interval: 100ms } })");
	if (ln) {
		*bits |= TOPO_F_QUEUE;
		if (parse_queue_limit(c, ln, d))
			return -1;
	}
	if (cn) {
		*bits |= TOPO_F_AQM;
		if (parse_codel(c, cn, d))
			return -1;
	}
	return 0;
}

/* A mahimahi trace: one delivery opportunity (an MTU-sized packet) per line, as a
 * millisecond timestamp, non-decreasing, lasting more than 0 ms. */
static int check_trace_file(struct tp_ctx *c, yaml_node_t *v, const char *shown, FILE *f)
{
	char line[128];
	unsigned long long prev = 0, last = 0;
	long lineno = 0, n = 0;

	while (fgets(line, sizeof(line), f)) {
		char *end;
		unsigned long long ms;

		lineno++;
		if (line[0] == '\n' || line[0] == '\r' || line[0] == '\0')
			continue;
		errno = 0;
		ms = strtoull(line, &end, 10);
		while (*end == '\n' || *end == '\r' || *end == ' ' || *end == '\t')
			end++;
		if (!isdigit((unsigned char)line[0]) || *end || errno)
			return tp_err(c, v,
				      "trace \"%s\" line %ld is not a millisecond timestamp (a "
				      "mahimahi trace has one integer per line)",
				      shown, lineno);
		if (ms < prev)
			return tp_err(c, v, "trace \"%s\" line %ld goes back in time (%llu < %llu)",
				      shown, lineno, ms, prev);
		prev = last = ms;
		n++;
	}
	if (n == 0 || last == 0)
		return tp_err(c, v,
			      "trace \"%s\" is empty or lasts 0 ms (a mahimahi trace lists "
			      "delivery times in ms, e.g. 1, 2, 3...)",
			      shown);
	return 0;
}

static int parse_trace(struct tp_ctx *c, yaml_node_t *v, struct topo_dir *d)
{
	char joined[TOPO_PATH_MAX * 2], real[PATH_MAX];
	const char *s, *slash;
	struct stat st;
	FILE *f;
	int r;

	if (tp_scalar(c, v, "trace", "traces/lte.down", &s))
		return -1;
	if (!*s)
		return tp_err(c, v, "trace needs a file name (e.g. trace: traces/lte.down)");
	slash = strrchr(c->t->path, '/');
	if (s[0] == '/' || !slash)
		snprintf(joined, sizeof(joined), "%s", s);
	else
		snprintf(joined, sizeof(joined), "%.*s/%s", (int)(slash - c->t->path), c->t->path,
			 s);
	f = fopen(joined, "r");
	if (!f && strcmp(joined, s) != 0)
		return tp_err(c, v, "cannot read trace \"%s\" (%s): %s", s, joined,
			      strerror(errno));
	if (!f)
		return tp_err(c, v, "cannot read trace \"%s\": %s", s, strerror(errno));
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
		fclose(f);
		return tp_err(c, v, "trace \"%s\" (%s) is not a regular file", s, joined);
	}
	r = check_trace_file(c, v, s, f);
	fclose(f);
	if (r)
		return -1;
	if (!realpath(joined, real) || strlen(real) >= sizeof(d->trace))
		return tp_err(c, v, "trace \"%s\": path too long", s);
	memcpy(d->trace, real, strlen(real) + 1);
	return 0;
}

static bool pos_before(struct topo_pos a, struct topo_pos b)
{
	return a.line < b.line || (a.line == b.line && a.col < b.col);
}

static int parse_param(struct tp_ctx *c, const char *key, yaml_node_t *v, struct topo_dir *d,
		       uint32_t *bit)
{
	static const char *const dists[] = {"uniform", "normal", "pareto", "paretonormal", NULL};
	const char *s;

	if (!strcmp(key, "rate")) {
		*bit = TOPO_F_RATE;
		if (tp_rate(c, v, "rate", &d->rate_bps))
			return -1;
		if (d->rate_bps == 0)
			return tp_err(c, v, "rate must be above 0 (leave rate: out for no limit)");
		return 0;
	}
	if (!strcmp(key, "delay") || !strcmp(key, "jitter")) {
		bool delay = key[0] == 'd';
		uint64_t *ns = delay ? &d->delay_ns : &d->jitter_ns;

		*bit = delay ? TOPO_F_DELAY : TOPO_F_JITTER;
		if (tp_time(c, v, key, ns))
			return -1;
		if (*ns > MAX_DELAY_NS)
			return tp_err(c, v, "%s \"%s\" is above 60s", key,
				      (const char *)v->data.scalar.value);
		return 0;
	}
	if (!strcmp(key, "distribution")) {
		*bit = TOPO_F_DIST;
		if (tp_scalar(c, v, "distribution", "normal", &s))
			return -1;
		for (int i = 0; dists[i]; i++) {
			if (!strcmp(s, dists[i])) {
				d->dist = (enum topo_jitter_dist)i;
				return 0;
			}
		}
		return tp_err(c, v,
			      "unknown distribution \"%s\" (use uniform, normal, pareto or "
			      "paretonormal)",
			      s);
	}
	if (!strcmp(key, "delay_correlation")) {
		*bit = TOPO_F_DELAY_CORR;
		return tp_percent(c, v, key, &d->delay_corr);
	}
	if (!strcmp(key, "loss")) {
		*bit = TOPO_F_LOSS;
		return parse_loss(c, v, d);
	}
	if (!strcmp(key, "duplicate")) {
		*bit = TOPO_F_DUPLICATE;
		return parse_pc(c, v, key, &d->duplicate, &d->duplicate_corr);
	}
	if (!strcmp(key, "corrupt")) {
		*bit = TOPO_F_CORRUPT;
		return parse_pc(c, v, key, &d->corrupt, &d->corrupt_corr);
	}
	if (!strcmp(key, "reorder")) {
		*bit = TOPO_F_REORDER;
		return parse_reorder(c, v, d);
	}
	if (!strcmp(key, "queue"))
		return parse_queue(c, v, d, bit);
	if (!strcmp(key, "trace")) {
		*bit = TOPO_F_TRACE;
		return parse_trace(c, v, d);
	}
	if (!strcmp(key, "rewrite")) {
		uint64_t n;

		*bit = TOPO_F_REWRITE;
		if (tp_uint(c, v, "rewrite", 0, 1000000, &n))
			return -1;
		d->rewrite = (uint32_t)n;
		return 0;
	}
	*bit = 0;
	return 0;
}

int tp_parse_params(struct tp_ctx *c, yaml_node_t *map, struct topo_dir *d, struct tp_marks *m)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = tp_node(c, p->key), *v = tp_node(c, p->value);
		uint32_t bit;

		if (parse_param(c, (const char *)k->data.scalar.value, v, d, &bit))
			return -1;
		if (!bit)
			continue;
		d->set |= bit;
		for (uint32_t b = bit; b; b &= b - 1) /* queue: may give a limit and codel */
			m->key[__builtin_ctz(b)] = tp_pos(k);
		if ((bit & TOPO_F_NEEDS_EMULATOR) &&
		    (d->emu_pos.line == 0 || pos_before(tp_pos(k), d->emu_pos)))
			d->emu_pos = tp_pos(k);
	}
	return 0;
}

int tp_check_dir(struct tp_ctx *c, const struct topo_dir *d, const struct tp_marks *m,
		 enum topo_emulator emu)
{
	const struct topo_pos *k = m->key;

	if ((d->set & TOPO_F_TRACE) && (d->set & TOPO_F_RATE))
		return tp_err_at(c, k[__builtin_ctz(TOPO_F_TRACE)],
				 "a trace and a rate on the same direction (the trace sets the "
				 "rate: remove one, or put them in different up:/down: blocks)");
	if ((d->set & TOPO_F_TRACE) && emu == TOPO_EMU_NETEM)
		return tp_err_at(c, k[__builtin_ctz(TOPO_F_TRACE)],
				 "netem cannot play a trace (use emulator: user or auto)");
	if ((d->set & TOPO_F_REORDER) && d->reorder > 0 && d->delay_ns == 0)
		return tp_err_at(c, k[__builtin_ctz(TOPO_F_REORDER)],
				 "reorder needs a delay on the same direction (reordered packets "
				 "skip the delay), e.g. delay: 10ms");
	if ((d->set & TOPO_F_DIST) && d->jitter_ns == 0)
		return tp_err_at(c, k[__builtin_ctz(TOPO_F_DIST)],
				 "distribution needs jitter on the same direction, e.g. jitter: "
				 "2ms");
	return 0;
}
