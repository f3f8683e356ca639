/* The link emulator's configuration file and trace files: see emu_config.h. */
#include "emu_config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Indexed by TOPO_F_* bit. */
static const char *const flag_names[] = {"rate",       "delay",	  "jitter",  "loss",  "queue",
					 "duplicate",  "corrupt", "reorder", "trace", "dist",
					 "delay_corr", "codel",	  "rewrite"};
#define NFLAGS (sizeof(flag_names) / sizeof(flag_names[0]))

static const char *const dist_names[] = {"uniform", "normal", "pareto", "paretonormal"};
static const char *const loss_names[] = {"none", "random", "gemodel", "state4"};
static const char *const unit_names[] = {"packets", "bytes", "time"};

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -1;
}

json_t *emu_params_to_json(const struct topo_dir *d)
{
	json_t *o = json_object(), *set = json_array(), *loss = json_array();

	if (!o || !set || !loss)
		goto err;
	for (unsigned i = 0; i < NFLAGS; i++)
		if (d->set & (1u << i))
			json_array_append_new(set, json_string(flag_names[i]));
	for (int i = 0; i < 5; i++)
		json_array_append_new(loss, json_real(d->loss[i]));
	json_object_set_new(o, "set", set);
	json_object_set_new(o, "rate_bps", json_integer((json_int_t)d->rate_bps));
	json_object_set_new(o, "delay_ns", json_integer((json_int_t)d->delay_ns));
	json_object_set_new(o, "jitter_ns", json_integer((json_int_t)d->jitter_ns));
	json_object_set_new(o, "delay_corr", json_real(d->delay_corr));
	json_object_set_new(o, "dist", json_string(dist_names[(unsigned)d->dist % 4]));
	json_object_set_new(o, "loss_model", json_string(loss_names[(unsigned)d->loss_model % 4]));
	json_object_set_new(o, "loss", loss);
	json_object_set_new(o, "duplicate", json_real(d->duplicate));
	json_object_set_new(o, "duplicate_corr", json_real(d->duplicate_corr));
	json_object_set_new(o, "corrupt", json_real(d->corrupt));
	json_object_set_new(o, "corrupt_corr", json_real(d->corrupt_corr));
	json_object_set_new(o, "reorder", json_real(d->reorder));
	json_object_set_new(o, "reorder_corr", json_real(d->reorder_corr));
	json_object_set_new(o, "reorder_gap", json_integer(d->reorder_gap));
	json_object_set_new(o, "rewrite", json_integer(d->rewrite));
	json_object_set_new(o, "queue_unit", json_string(unit_names[(unsigned)d->queue_unit % 3]));
	json_object_set_new(o, "queue", json_integer((json_int_t)d->queue));
	json_object_set_new(o, "trace", json_string(d->trace));
	json_object_set_new(o, "codel", json_boolean(d->codel));
	json_object_set_new(o, "codel_target_ns", json_integer((json_int_t)d->codel_target_ns));
	json_object_set_new(o, "codel_interval_ns", json_integer((json_int_t)d->codel_interval_ns));
	return o;
err:
	json_decref(o);
	json_decref(set);
	json_decref(loss);
	return NULL;
}

static int get_u64(const json_t *o, const char *k, uint64_t *v, char *err, size_t len)
{
	const json_t *j = json_object_get(o, k);

	if (!j)
		return 0;
	if (!json_is_integer(j) || json_integer_value(j) < 0)
		return fail(err, len, "%s: expected a non-negative integer", k);
	*v = (uint64_t)json_integer_value(j);
	return 0;
}

static int get_prob(const json_t *j, const char *k, double *v, char *err, size_t len)
{
	if (!j)
		return 0;
	if (!json_is_number(j))
		return fail(err, len, "%s: expected a number", k);
	*v = json_number_value(j);
	if (!(*v >= 0.0 && *v <= 1.0))
		return fail(err, len, "%s: %g is not a fraction in [0, 1]", k, *v);
	return 0;
}

static int get_enum(const json_t *o, const char *k, const char *const *names, int n, int *v,
		    char *err, size_t len)
{
	const json_t *j = json_object_get(o, k);

	if (!j)
		return 0;
	for (int i = 0; json_is_string(j) && i < n; i++) {
		if (!strcmp(json_string_value(j), names[i])) {
			*v = i;
			return 0;
		}
	}
	return fail(err, len, "%s: unknown value", k);
}

int emu_params_from_json(const json_t *o, struct topo_dir *d, char *err, size_t len)
{
	static const char *const probs[] = {"delay_corr",  "duplicate",	   "duplicate_corr",
					    "corrupt",	   "corrupt_corr", "reorder",
					    "reorder_corr"};
	double *pv[] = {&d->delay_corr,	  &d->duplicate, &d->duplicate_corr, &d->corrupt,
			&d->corrupt_corr, &d->reorder,	 &d->reorder_corr};
	const json_t *j;
	uint64_t gap = 0, rewrite = 0;
	int e;

	memset(d, 0, sizeof(*d));
	if (!json_is_object(o))
		return fail(err, len, "expected an object");
	j = json_object_get(o, "set");
	if (j) {
		size_t i;
		const json_t *v;

		if (!json_is_array(j))
			return fail(err, len, "set: expected an array of names");
		json_array_foreach(j, i, v)
		{
			unsigned k;

			for (k = 0; k < NFLAGS; k++)
				if (json_is_string(v) &&
				    !strcmp(json_string_value(v), flag_names[k]))
					break;
			if (k == NFLAGS)
				return fail(err, len, "set: unknown field name");
			d->set |= 1u << k;
		}
	}
	if (get_u64(o, "rate_bps", &d->rate_bps, err, len) ||
	    get_u64(o, "delay_ns", &d->delay_ns, err, len) ||
	    get_u64(o, "jitter_ns", &d->jitter_ns, err, len) ||
	    get_u64(o, "queue", &d->queue, err, len) || get_u64(o, "reorder_gap", &gap, err, len) ||
	    get_u64(o, "codel_target_ns", &d->codel_target_ns, err, len) ||
	    get_u64(o, "codel_interval_ns", &d->codel_interval_ns, err, len) ||
	    get_u64(o, "rewrite", &rewrite, err, len))
		return -1;
	j = json_object_get(o, "codel");
	if (j && !json_is_boolean(j))
		return fail(err, len, "codel: expected true or false");
	d->codel = j && json_is_true(j);
	if (gap > UINT32_MAX)
		return fail(err, len, "reorder_gap: too large");
	if (rewrite > 1000000)
		return fail(err, len, "rewrite: at most 1000000");
	d->reorder_gap = (uint32_t)gap;
	d->rewrite = (uint32_t)rewrite;
	for (size_t i = 0; i < sizeof(probs) / sizeof(probs[0]); i++)
		if (get_prob(json_object_get(o, probs[i]), probs[i], pv[i], err, len))
			return -1;
	e = 0;
	if (get_enum(o, "dist", dist_names, 4, &e, err, len))
		return -1;
	d->dist = (enum topo_jitter_dist)e;
	e = 0;
	if (get_enum(o, "loss_model", loss_names, 4, &e, err, len))
		return -1;
	d->loss_model = (enum topo_loss_model)e;
	e = 0;
	if (get_enum(o, "queue_unit", unit_names, 3, &e, err, len))
		return -1;
	d->queue_unit = (enum topo_queue_unit)e;
	j = json_object_get(o, "loss");
	if (j) {
		if (!json_is_array(j) || json_array_size(j) > 5)
			return fail(err, len, "loss: expected up to 5 fractions");
		for (size_t i = 0; i < json_array_size(j); i++)
			if (get_prob(json_array_get(j, i), "loss", &d->loss[i], err, len))
				return -1;
	}
	j = json_object_get(o, "trace");
	if (j) {
		if (!json_is_string(j) || strlen(json_string_value(j)) >= sizeof(d->trace))
			return fail(err, len, "trace: expected a path");
		strcpy(d->trace, json_string_value(j));
	}
	return 0;
}

int emu_config_write(FILE *f, const char *link_name, const struct topo_dir dir[2], uint64_t seed,
		     int link_index)
{
	json_t *o = json_object(), *ifs = json_array(), *up, *down;
	int rc = 0;

	if (!o || !ifs) {
		json_decref(o);
		json_decref(ifs);
		return -ENOMEM;
	}
	up = emu_params_to_json(&dir[0]);
	down = emu_params_to_json(&dir[1]);
	if (!up || !down) {
		json_decref(up);
		json_decref(down);
		json_decref(ifs);
		json_decref(o);
		return -ENOMEM;
	}
	json_array_append_new(ifs, json_string("e0"));
	json_array_append_new(ifs, json_string("e1"));
	json_object_set_new(o, "link", json_string(link_name));
	json_object_set_new(o, "seed", json_integer((json_int_t)seed));
	json_object_set_new(o, "link_index", json_integer(link_index));
	json_object_set_new(o, "ifaces", ifs);
	json_object_set_new(o, "up", up);
	json_object_set_new(o, "down", down);
	if (json_dumpf(o, f, JSON_INDENT(2) | JSON_REAL_PRECISION(17)) || fputc('\n', f) == EOF ||
	    fflush(f))
		rc = errno ? -errno : -EIO;
	json_decref(o);
	return rc;
}

static int config_from_json(json_t *o, struct emu_config *c, char *err, size_t len)
{
	static const char *const dn[2] = {"up", "down"};
	const json_t *j;
	char sub[256];

	memset(c, 0, sizeof(*c));
	strcpy(c->ifname[0], "e0");
	strcpy(c->ifname[1], "e1");
	if (!json_is_object(o))
		return fail(err, len, "expected an object");
	j = json_object_get(o, "link");
	if (!json_is_string(j) || strlen(json_string_value(j)) >= sizeof(c->link) ||
	    !json_string_value(j)[0])
		return fail(err, len, "link: expected a name of 1..%zu characters",
			    sizeof(c->link) - 1);
	strcpy(c->link, json_string_value(j));
	if (get_u64(o, "seed", &c->seed, err, len))
		return -1;
	j = json_object_get(o, "link_index");
	if (j && !json_is_integer(j))
		return fail(err, len, "link_index: expected an integer");
	c->link_index = j ? (int)json_integer_value(j) : 0;
	j = json_object_get(o, "ifaces");
	if (j) {
		if (!json_is_array(j) || json_array_size(j) != 2)
			return fail(err, len, "ifaces: expected two interface names");
		for (int i = 0; i < 2; i++) {
			const json_t *s = json_array_get(j, (size_t)i);

			if (!json_is_string(s) || !json_string_value(s)[0] ||
			    strlen(json_string_value(s)) > TOPO_IFNAME_MAX)
				return fail(err, len, "ifaces: bad interface name");
			strcpy(c->ifname[i], json_string_value(s));
		}
	}
	for (int i = 0; i < 2; i++) {
		j = json_object_get(o, dn[i]);
		if (!j)
			continue;
		if (emu_params_from_json(j, &c->dir[i], sub, sizeof(sub)))
			return fail(err, len, "%s: %s", dn[i], sub);
	}
	return 0;
}

int emu_config_parse(const char *text, struct emu_config *out, char *err, size_t errlen)
{
	json_error_t je;
	json_t *o = json_loads(text, 0, &je);
	int rc;

	if (!o)
		return fail(err, errlen, "%d:%d: %s", je.line, je.column, je.text);
	rc = config_from_json(o, out, err, errlen);
	json_decref(o);
	return rc;
}

int emu_config_read(const char *path, struct emu_config *out, char *err, size_t errlen)
{
	json_error_t je;
	json_t *o = json_load_file(path, 0, &je);
	char sub[256];
	int rc;

	if (!o)
		return fail(err, errlen, "%s:%d:%d: %s", path, je.line, je.column, je.text);
	rc = config_from_json(o, out, sub, sizeof(sub));
	json_decref(o);
	if (rc)
		return fail(err, errlen, "%s: %s", path, sub);
	return 0;
}

int emu_trace_load(const char *path, struct emu_trace *out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[128];
	size_t cap = 0;
	int lineno = 0;

	out->ms = NULL;
	out->n = 0;
	if (!f)
		return fail(err, errlen, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char *end;
		unsigned long long v;

		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0])
			continue; /* mahimahi rejects empty lines; a trailing one is harmless */
		errno = 0;
		v = strtoull(line, &end, 10);
		if (errno || *end || end == line || v > UINT32_MAX) {
			fail(err, errlen, "%s:%d: expected milliseconds", path, lineno);
			goto bad;
		}
		if (out->n && v < out->ms[out->n - 1]) {
			fail(err, errlen, "%s:%d: timestamps must not decrease", path, lineno);
			goto bad;
		}
		if (out->n == cap) {
			uint32_t *m;

			cap = cap ? cap * 2 : 1024;
			m = realloc(out->ms, cap * sizeof(*m));
			if (!m) {
				fail(err, errlen, "%s: out of memory", path);
				goto bad;
			}
			out->ms = m;
		}
		out->ms[out->n++] = (uint32_t)v;
	}
	fclose(f);
	if (!out->n || out->ms[out->n - 1] == 0) {
		emu_trace_free(out);
		return fail(err, errlen, "%s: the trace must last a non-zero time", path);
	}
	return 0;
bad:
	fclose(f);
	emu_trace_free(out);
	return -1;
}

void emu_trace_free(struct emu_trace *t)
{
	free(t->ms);
	t->ms = NULL;
	t->n = 0;
}
