/* Link counters over a run (see link_sampler.h). */
#include "link_sampler.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

int link_sampler_open(struct link_sampler *s, const char *dir, int nlinks)
{
	char path[4096];

	memset(s, 0, sizeof(*s));
	s->nlinks = nlinks;
	s->qd_count = calloc((size_t)(nlinks ? nlinks : 1) * 2, sizeof(double));
	s->qd_sum = calloc((size_t)(nlinks ? nlinks : 1) * 2, sizeof(double));
	snprintf(path, sizeof(path), "%s/%s", dir, LINK_SAMPLES_FILE);
	if (s->qd_count && s->qd_sum)
		s->f = fopen(path, "w");
	if (!s->f) {
		int e = errno ? errno : ENOMEM;

		link_sampler_close(s);
		errno = e;
		return -1;
	}
	fprintf(s->f, "t_s,link,dir,kind,value\n");
	return 0;
}

static void row(struct link_sampler *s, double t, const char *link, const char *dir,
		const char *kind, double v)
{
	fprintf(s->f, "%.6f,%s,%s,%s,%.0f\n", t, link, dir, kind, v);
}

static void sample_dir(struct link_sampler *s, struct world *w, int l, int d, double t)
{
	static const char *const totals[] = {"tx_bytes", "tx_packets", "dropped", "backlog_bytes"};
	json_t *j = world_link_json(w, l, d), *em, *v;
	const char *link = w->t->links[l].name, *dir = d ? "down" : "up", *k;
	size_t i = (size_t)l * 2 + (size_t)d;

	if (!j)
		return;
	if (!json_object_get(j, "error"))
		for (size_t n = 0; n < sizeof(totals) / sizeof(totals[0]); n++)
			row(s, t, link, dir, totals[n],
			    json_number_value(json_object_get(j, totals[n])));
	em = json_object_get(j, "emulator");
	if (em) {
		json_t *qd = json_object_get(em, "qdelay_ns");
		double cnt = json_number_value(json_object_get(qd, "count"));
		double sum = cnt * json_number_value(json_object_get(qd, "mean"));

		json_object_foreach(json_object_get(em, "drops"), k, v)
		{
			char kind[64];

			snprintf(kind, sizeof(kind), "drops_%s", k);
			row(s, t, link, dir, kind, json_number_value(v));
		}
		/* the emulator keeps a mean over the whole run; the difference of
		 * (count, count * mean) between samples is this interval's mean */
		if (cnt > s->qd_count[i])
			row(s, t, link, dir, "qdelay_mean_ns",
			    (sum - s->qd_sum[i]) / (cnt - s->qd_count[i]));
		s->qd_count[i] = cnt;
		s->qd_sum[i] = sum;
	}
	json_decref(j);
}

void link_sampler_take(struct link_sampler *s, struct world *w, uint64_t now_ns)
{
	if (!s->f)
		return;
	for (int l = 0; l < s->nlinks; l++)
		for (int d = 0; d < 2; d++)
			sample_dir(s, w, l, d, (double)now_ns / 1e9);
}

uint64_t link_sampler_poll(struct link_sampler *s, struct world *w, uint64_t now_ns)
{
	if (!s->f)
		return UINT64_MAX;
	if (now_ns >= s->next_ns) {
		link_sampler_take(s, w, now_ns);
		/* on the 100 ms grid, skipping missed slots rather than bunching */
		s->next_ns = (now_ns / LINK_SAMPLE_NS + 1) * LINK_SAMPLE_NS;
	}
	return s->next_ns;
}

void link_sampler_close(struct link_sampler *s)
{
	if (s->f)
		fclose(s->f);
	free(s->qd_count);
	free(s->qd_sum);
	memset(s, 0, sizeof(*s));
}
