#include "metrics.h"
#include "link_sampler.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* --- the pure half ------------------------------------------------------------- */

int mx_app_alloc(struct mx_app *a, size_t n, int nlinks)
{
	if (nlinks > MX_MAX_LINKS)
		return -1;
	a->n = n;
	a->nlinks = nlinks;
	a->rx = calloc(n ? n : 1, sizeof(double));
	a->app_sent = calloc(n ? n : 1, sizeof(double));
	if (!a->rx || !a->app_sent)
		goto fail;
	for (int l = 0; l < nlinks; l++) {
		struct mx_link *k = &a->link[l];

		k->bytes = calloc(n ? n : 1, sizeof(double));
		k->sent = calloc(n ? n : 1, sizeof(double));
		k->retrans = calloc(n ? n : 1, sizeof(double));
		if (!k->bytes || !k->sent || !k->retrans)
			goto fail;
	}
	return 0;
fail:
	mx_app_free(a);
	return -1;
}

void mx_app_free(struct mx_app *a)
{
	free(a->rx);
	free(a->app_sent);
	a->rx = a->app_sent = NULL;
	for (int l = 0; l < MX_MAX_LINKS; l++) {
		free(a->link[l].bytes);
		free(a->link[l].sent);
		free(a->link[l].retrans);
		a->link[l].bytes = a->link[l].sent = a->link[l].retrans = NULL;
	}
}

size_t mx_bin(const struct mx_app *a, double t)
{
	double x;

	if (!a->n || !(a->bin_s > 0))
		return 0;
	x = floor((t - a->t0_s) / a->bin_s + 1e-9);
	if (x < 0)
		return 0;
	if (x >= (double)a->n)
		return a->n - 1;
	return (size_t)x;
}

static double bin_start(const struct mx_app *a, size_t i)
{
	return a->t0_s + (double)i * a->bin_s;
}

static double sum(const double *v, size_t from, size_t to)
{
	double s = 0;

	for (size_t i = from; i < to; i++)
		s += v[i];
	return s;
}

static bool surviving(const struct mx_link *k, const char *lost)
{
	return strcmp(k->name, lost) != 0;
}

void mx_handover(const struct mx_app *a, double at_s, const char *lost_link, double before_s,
		 double after_s, struct mx_handover *h)
{
	size_t ib = mx_bin(a, at_s), ia = mx_bin(a, after_s), ipre, ibefore, iend, gap_end;
	size_t win = (size_t)lround(MX_T90_WINDOW_S / a->bin_s), r = SIZE_MAX, i;
	double pre_from = at_s - MX_PRE_WINDOW_S, rate = 0, share = 0, wend;
	bool all_shaped = true, any = false, gap = false;

	h->at_s = at_s;
	h->interruption_ms = h->detection_ms = h->t90_ms = NAN;
	h->deficit_bytes = h->retransmitted_bytes = 0;
	h->before_s = before_s;
	h->after_s = after_s;
	h->nshare = 0;
	h->pre_Bps = h->surviving_Bps = 0;
	if (!a->n)
		return;
	if (win < 1)
		win = 1;
	if (after_s >= bin_start(a, a->n))
		ia = a->n; /* up to the end of the series */

	/* pre-event goodput */
	if (pre_from < before_s)
		pre_from = before_s;
	ipre = mx_bin(a, pre_from);
	if (ib > ipre)
		h->pre_Bps = sum(a->rx, ipre, ib) / ((double)(ib - ipre) * a->bin_s);

	/* interruption: a chain of gaps; the first empty run right after the event, then
	 * every stall (>= MX_STALL_MIN_S of empty bins) starting soon after the last */
	for (i = ib; i < a->n && bin_start(a, i) <= at_s + MX_GAP_START_S; i++) {
		if (a->rx[i] == 0) {
			gap = true;
			break;
		}
	}
	if (gap) {
		size_t stall = (size_t)lround(MX_STALL_MIN_S / a->bin_s), end = i;

		if (stall < 1)
			stall = 1;
		while (end < a->n && a->rx[end] == 0)
			end++;
		for (size_t j = end; j < a->n; j++) {
			size_t k = j;

			if (bin_start(a, j) > bin_start(a, end) + MX_GAP_START_S)
				break;
			while (k < a->n && a->rx[k] == 0)
				k++;
			if (k - j >= stall)
				end = k; /* a stall: the interruption goes on */
			j = k;
		}
		i = end;
	}
	for (i = gap ? i : ib; i < a->n; i++) {
		if (a->rx[i] > 0) {
			r = i;
			break;
		}
	}
	if (r != SIZE_MAX) {
		double d = bin_start(a, r) - at_s;

		h->interruption_ms = (d > 0 ? d : 0) * 1e3;
	}

	/* detection: first bin from the event with data sent on a surviving link */
	for (i = ib; i < a->n && isnan(h->detection_ms); i++) {
		for (int l = 0; l < a->nlinks; l++) {
			const struct mx_link *k = &a->link[l];

			if (surviving(k, lost_link) && (k->sent[i] > 0 || k->bytes[i] > 0)) {
				double d = bin_start(a, i) - at_s;

				h->detection_ms = (d > 0 ? d : 0) * 1e3;
				break;
			}
		}
	}

	/* the surviving path's rate */
	for (int l = 0; l < a->nlinks; l++) {
		const struct mx_link *k = &a->link[l];

		if (!surviving(k, lost_link) || !k->used)
			continue;
		any = true;
		if (k->rate_bps > 0)
			rate += k->rate_bps / 8;
		else
			all_shaped = false;
		if (ib > ipre)
			share += sum(k->bytes, ipre, ib) / ((double)(ib - ipre) * a->bin_s);
	}
	if (!any || !all_shaped)
		rate = share > 0 ? share : h->pre_Bps;
	h->surviving_Bps = rate;

	/* t90: from the end of the gap (or the event), before the next event */
	gap_end = r != SIZE_MAX ? r : ib;
	for (i = gap_end; rate > 0 && i + win <= ia; i++) {
		if (sum(a->rx, i, i + win) / ((double)win * a->bin_s) >= 0.9 * rate) {
			double d = bin_start(a, i) - at_s;

			d = d > 0 ? d * 1e3 : 0;
			h->t90_ms = isnan(h->interruption_ms) || d > h->interruption_ms
					    ? d
					    : h->interruption_ms;
			break;
		}
	}

	/* recovery window: deficit and retransmissions */
	wend = isnan(h->t90_ms) ? after_s : at_s + h->t90_ms / 1e3;
	iend = isnan(h->t90_ms) ? ia : mx_bin(a, wend);
	if (iend < ib)
		iend = ib;
	h->deficit_bytes = h->pre_Bps * (double)(iend - ib) * a->bin_s - sum(a->rx, ib, iend);
	{
		size_t rend = iend > gap_end + 1 ? iend : gap_end + 1;

		if (rend > a->n)
			rend = a->n;
		for (int l = 0; l < a->nlinks; l++)
			h->retransmitted_bytes += sum(a->link[l].retrans, ib, rend);
	}

	/* link share */
	ibefore = mx_bin(a, before_s);
	for (int l = 0; l < a->nlinks && h->nshare < MX_MAX_LINKS; l++) {
		const struct mx_link *k = &a->link[l];
		struct mx_share *s = &h->share[h->nshare++];

		snprintf(s->link, sizeof(s->link), "%s", k->name);
		s->before = ib > ibefore ? sum(k->bytes, ibefore, ib) : 0;
		s->after = ia > ib ? sum(k->bytes, ib, ia) : 0;
	}
}

int mx_write_timeseries(FILE *f, const struct mx_app *apps, int napps)
{
	static const char *const kinds[] = {"subflow_acked", "subflow_sent", "subflow_retrans"};

	fprintf(f, "t_s,app,kind,key,value\n");
	for (int a = 0; a < napps; a++) {
		const struct mx_app *ap = &apps[a];

		for (size_t i = 0; i < ap->n; i++) {
			double t = bin_start(ap, i);

			fprintf(f, "%.6f,%s,rx_bytes,,%.0f\n", t, ap->name, ap->rx[i]);
			if (ap->have_samples)
				fprintf(f, "%.6f,%s,app_sent,,%.0f\n", t, ap->name,
					ap->app_sent[i]);
			for (int l = 0; ap->have_samples && l < ap->nlinks; l++) {
				const struct mx_link *k = &ap->link[l];
				const double *v[] = {k->bytes, k->sent, k->retrans};

				for (int j = 0; j < 3; j++)
					fprintf(f, "%.6f,%s,%s,%s,%.0f\n", t, ap->name, kinds[j],
						k->name, v[j][i]);
			}
		}
	}
	return ferror(f) ? -1 : 0;
}

/* gnuplot string literal: double quotes, backslash and quote escaped */
static void gp_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* Plot bins: MX_PLOT_BIN_S wide (10 ms bins are too spiky to read). */
static size_t plot_group(const struct mx_app *a)
{
	long g = lround(MX_PLOT_BIN_S / a->bin_s);

	return g < 1 ? 1 : (size_t)g;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

/* A short burst (a reordering queue flushed into one bin) would flatten the
 * panel: when the peak is above twice the 98th percentile, cut the y axis at
 * 1.3 times that percentile. */
static void plot_yrange(FILE *f, const struct mx_app *a)
{
	size_t g = plot_group(a), n = (a->n + g - 1) / g, k = 0;
	double *v = calloc(n ? n : 1, sizeof(*v)), p98;

	if (!v || !n) {
		free(v);
		fprintf(f, "set yrange [0:*]\n");
		return;
	}
	for (size_t i = 0; i < a->n; i += g, k++) {
		size_t to = i + g < a->n ? i + g : a->n;
		double top = 0;

		for (int l = 0; l < a->nlinks; l++)
			top += sum(a->link[l].bytes, i, to);
		v[k] = top > sum(a->rx, i, to) ? top : sum(a->rx, i, to);
	}
	qsort(v, n, sizeof(*v), cmp_double);
	p98 = v[(size_t)((double)(n - 1) * 0.98)];
	if (p98 > 0 && v[n - 1] > 2 * p98)
		fprintf(f, "set yrange [0:%.3f]  # peaks above are cut\n",
			1.3 * p98 * 8.0 / 1e6 / ((double)g * a->bin_s));
	else
		fprintf(f, "set yrange [0:*]\n");
	free(v);
}

int mx_write_gnuplot(FILE *f, const char *title, const struct mx_app *apps, int napps,
		     const struct mx_mark *marks, int nmarks)
{
	int panels = napps > 0 ? napps : 1;
	double xmax = 1;

	for (int a = 0; a < napps; a++)
		if (apps[a].t0_s + (double)apps[a].n * apps[a].bin_s > xmax)
			xmax = apps[a].t0_s + (double)apps[a].n * apps[a].bin_s;
	for (int m = 0; m < nmarks; m++)
		if (marks[m].at_s + 0.5 > xmax)
			xmax = marks[m].at_s + 0.5;

	fprintf(f, "# Drawn by mpnet (netns/metrics.c); redraw with `mpnet plot DIR`, or\n"
		   "# `gnuplot plot.gp` inside DIR.  Per app: goodput per link, stacked\n"
		   "# (sender's acknowledged bytes per bin), the receiver's goodput as a line,\n"
		   "# events as vertical lines.\n");
	fprintf(f, "set terminal pngcairo size %d,%d noenhanced font \",9\"\n", MX_PLOT_W,
		MX_PLOT_TITLE_H + MX_PLOT_PANEL_H * panels);
	fprintf(f, "set output \"plot.png\"\n");
	for (int a = 0; a < napps; a++) {
		const struct mx_app *ap = &apps[a];
		size_t g = plot_group(ap);
		double scale = 8.0 / 1e6 / ((double)g * ap->bin_s);

		fprintf(f, "$app%d << EOD\n# t_s", a);
		for (int l = 0; l < ap->nlinks; l++)
			fprintf(f, " %s", ap->link[l].name);
		fprintf(f, " goodput (Mbit/s over %.0f ms; link columns cumulative)\n",
			(double)g * ap->bin_s * 1e3);
		for (size_t i = 0; i < ap->n; i += g) {
			size_t to = i + g < ap->n ? i + g : ap->n;
			double acc = 0;

			fprintf(f, "%.4f", bin_start(ap, i) + (double)(to - i) * ap->bin_s / 2);
			for (int l = 0; l < ap->nlinks; l++) {
				acc += sum(ap->link[l].bytes, i, to) * scale;
				fprintf(f, " %.3f", acc);
			}
			fprintf(f, " %.3f\n", sum(ap->rx, i, to) * scale);
		}
		fprintf(f, "EOD\n");
	}
	fprintf(f, "set multiplot layout %d,1 title ", panels);
	gp_str(f, title);
	fprintf(f, "\nset grid\nset key outside right top\nset xlabel \"time since t0 (s)\"\n"
		   "set ylabel \"Mbit/s\"\nset style fill solid 0.5 noborder\n");
	fprintf(f, "set xrange [0:%.3f]\n", xmax);
	for (int m = 0; m < nmarks; m++) {
		fprintf(f,
			"set arrow %d from %.6f, graph 0 to %.6f, graph 1 nohead lc rgb "
			"\"red\" dt 2 lw 1.5 front\n",
			m + 1, marks[m].at_s, marks[m].at_s);
		fprintf(f, "set label %d ", m + 1);
		gp_str(f, marks[m].label);
		fprintf(f,
			" at %.6f, graph 0.97 rotate by 90 right offset -0.8,0 tc rgb \"red\" "
			"front\n",
			marks[m].at_s);
	}
	if (!napps)
		fprintf(f, "set title \"no apps\"\nplot 0 notitle\n");
	for (int a = 0; a < napps; a++) {
		const struct mx_app *ap = &apps[a];
		char t[160];

		snprintf(t, sizeof(t), "app %s: %s -> %s, %s%s", ap->name, ap->client, ap->server,
			 ap->direction, ap->n ? "" : " (no data)");
		fprintf(f, "set title ");
		gp_str(f, t);
		fprintf(f, "\n");
		if (!ap->n) {
			fprintf(f, "set yrange [0:1]\nplot NaN notitle\n");
			continue;
		}
		plot_yrange(f, ap);
		fprintf(f, "plot ");
		for (int l = 0; l < ap->nlinks; l++) {
			fprintf(f, "$app%d using 1:", a);
			if (l == 0)
				fprintf(f, "(0):2");
			else
				fprintf(f, "%d:%d", l + 1, l + 2);
			fprintf(f, " with filledcurves title ");
			gp_str(f, ap->link[l].name);
			fprintf(f, ", \\\n     ");
		}
		fprintf(f, "$app%d using 1:%d with lines lc rgb \"black\" lw 1 title \"goodput\"\n",
			a, ap->nlinks + 2);
	}
	fprintf(f, "unset multiplot\n");
	return ferror(f) ? -1 : 0;
}

/* --- the file half -------------------------------------------------------------- */

static json_t *load(const char *dir, const char *name)
{
	char path[4096];
	json_error_t e;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return json_load_file(path, 0, &e);
}

static double num(json_t *o, const char *key, double dflt)
{
	json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : dflt;
}

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

/* "198.18.0.1/24" matches "198.18.0.1" */
static bool addr_is(const char *with_prefix, const char *addr)
{
	size_t n = strlen(addr);

	return addr[0] && !strncmp(with_prefix, addr, n) &&
	       (with_prefix[n] == '/' || with_prefix[n] == '\0');
}

/* The link (index into topo links[]) that addr belongs to, and whose host it is. */
static int link_of(json_t *topo, const char *addr, const char **host)
{
	json_t *links = json_object_get(topo, "links"), *l;
	size_t i;

	json_array_foreach(links, i, l)
	{
		json_t *ends = json_object_get(l, "between");

		for (size_t e = 0; e < json_array_size(ends); e++) {
			json_t *end = json_array_get(ends, e);

			if (addr_is(str(end, "ipv4"), addr) || addr_is(str(end, "ipv6"), addr)) {
				*host = str(end, "host");
				return (int)i;
			}
		}
	}
	return -1;
}

static const char *sub_addr(json_t *sf, const char *key)
{
	json_t *v = json_object_get(sf, key);

	return json_string_value(json_is_object(v) ? json_object_get(v, "addr") : v);
}

/* The link of a subflow: the client's end if one of its addresses is the client's. */
static int subflow_link(json_t *topo, json_t *sf, const char *client)
{
	const char *la = sub_addr(sf, "local"), *ra = sub_addr(sf, "remote");
	const char *hl = "", *hr = "";
	int ll = la ? link_of(topo, la, &hl) : -1, lr = ra ? link_of(topo, ra, &hr) : -1;

	if (lr >= 0 && !strcmp(hr, client))
		return lr;
	if (ll >= 0)
		return ll;
	return lr;
}

/* Rate of topology link li in the direction the app's data crosses it. */
static double link_rate(json_t *topo, int li, const struct mx_app *a)
{
	json_t *l = json_array_get(json_object_get(topo, "links"), (size_t)li);
	json_t *ends = json_object_get(l, "between");
	bool upload = !strcmp(a->direction, "upload");
	int ce = -1, se = -1;
	const char *dir;

	for (size_t e = 0; e < json_array_size(ends); e++) {
		const char *h = str(json_array_get(ends, e), "host");

		if (!strcmp(h, a->client))
			ce = (int)e;
		if (!strcmp(h, a->server))
			se = (int)e;
	}
	if (ce >= 0) /* data leaves the client (upload) or arrives there */
		dir = (ce == 0) == upload ? "up" : "down";
	else if (se >= 0)
		dir = (se == 1) == upload ? "up" : "down";
	else
		dir = "up";
	return num(json_object_get(l, dir), "rate_bps", 0);
}

struct prev_ctr {
	char key[128];
	double acked, sent, retrans, received;
	int link; /* index into mx_app.link */
};

/* Add the sender's (or receiver's) subflow samples to a's link series. */
static void add_samples(struct mx_app *a, json_t *topo, json_t *perf, double t_base, bool sender,
			int *topo_link_of)
{
	json_t *samples = json_object_get(perf, "subflow_samples"), *s;
	struct prev_ctr prev[MX_MAX_LINKS * 2];
	int nprev = 0;
	size_t i;

	json_array_foreach(samples, i, s)
	{
		size_t bi = mx_bin(a, t_base + num(s, "t", 0)), k;
		json_t *sf;

		json_array_foreach(json_object_get(s, "subflows"), k, sf)
		{
			const char *la = sub_addr(sf, "local"), *ra = sub_addr(sf, "remote");
			json_t *lo = json_object_get(sf, "local"),
			       *ro = json_object_get(sf, "remote");
			struct prev_ctr *p = NULL;
			double v[4];
			char key[128];
			int tl;

			snprintf(key, sizeof(key), "%s:%g-%s:%g", la ? la : "", num(lo, "port", 0),
				 ra ? ra : "", num(ro, "port", 0));
			for (int j = 0; j < nprev; j++)
				if (!strcmp(prev[j].key, key))
					p = &prev[j];
			if (!p) {
				if (nprev == (int)(sizeof(prev) / sizeof(prev[0])))
					continue;
				p = &prev[nprev++];
				memset(p, 0, sizeof(*p));
				snprintf(p->key, sizeof(p->key), "%s", key);
				p->link = -1;
				tl = subflow_link(topo, sf, a->client);
				if (tl >= 0 && topo_link_of[tl] >= 0)
					p->link = topo_link_of[tl];
			}
			v[0] = num(sf, "bytes_acked", 0);
			v[1] = num(sf, "bytes_sent", 0);
			v[2] = num(sf, "bytes_retrans", 0);
			v[3] = num(sf, "bytes_received", 0);
			if (p->link >= 0) {
				struct mx_link *lk = &a->link[p->link];
				double d[4] = {v[0] - p->acked, v[1] - p->sent, v[2] - p->retrans,
					       v[3] - p->received};

				for (int j = 0; j < 4; j++)
					if (d[j] < 0) /* counters restarted: a new subflow */
						d[j] = v[j];
				if (sender) {
					lk->bytes[bi] += d[0];
					lk->sent[bi] += d[1];
					lk->retrans[bi] += d[2];
				} else {
					lk->bytes[bi] += d[3];
				}
				if (d[0] > 0 || d[3] > 0)
					lk->used = true;
			}
			p->acked = v[0];
			p->sent = v[1];
			p->retrans = v[2];
			p->received = v[3];
		}
	}
}

static json_t *load_rel(const char *dir, json_t *app, const char *key)
{
	const char *p = str(app, key);

	return p[0] ? load(dir, p) : NULL;
}

/* Split a CSV line of the link samples (t_s,link,dir,kind,value) in place into at
 * most five fields; returns how many. */
static int csv_fields5(char *line, char *f[5])
{
	char *save = NULL;
	int n = 0;

	line[strcspn(line, "\r\n")] = '\0';
	for (char *tok = strtok_r(line, ",", &save); tok && n < 5; tok = strtok_r(NULL, ",", &save))
		f[n++] = tok;
	return n;
}

/* The link counters mpnet run sampled during the run (link_sampler.h) as
 * timeseries.csv rows: "t_s,link,dir,kind,value" -> "t_s,,link_<kind>,link/dir,value". */
static void copy_link_samples(FILE *out, const char *dir)
{
	char path[4096], line[512];
	FILE *in;

	snprintf(path, sizeof(path), "%s/%s", dir, LINK_SAMPLES_FILE);
	in = fopen(path, "r");
	if (!in)
		return; /* a run from before link sampling, or none was possible */
	while (fgets(line, sizeof(line), in)) {
		char *f[5];
		int n = csv_fields5(line, f);
		if (n != 5 || !strcmp(f[0], "t_s"))
			continue;
		fprintf(out, "%s,,link_%s,%s/%s,%s\n", f[0], f[3], f[1], f[2], f[4]);
	}
	fclose(in);
}

/* A command app has no report of its own: its series come from the link counters
 * (link_samples.csv, one sample every LINK_SAMPLE_NS): per link at the client, the
 * bytes that left the link in the app's data direction (summary.json's
 * "direction", the larger of the two) in each sample interval, in bins of that
 * interval; rx is their sum.  Wire bytes (headers included, and anything else the
 * links carried meanwhile).  Returns 0 or -1. */
static int load_app_links(const char *dir, json_t *topo, struct mx_app *a)
{
	json_t *tlinks = json_object_get(topo, "links");
	struct {
		int link; /* index into a->link */
		char name[MX_NAME_MAX];
		const char *dir; /* "up" or "down" */
		double prev;
		bool have_prev;
	} w[MX_MAX_LINKS];
	bool upload = strcmp(a->direction, "download") != 0;
	char path[4096], line[512];
	int nw = 0;
	FILE *in;

	for (size_t i = 0; i < json_array_size(tlinks) && nw < MX_MAX_LINKS; i++) {
		json_t *l = json_array_get(tlinks, i), *ends = json_object_get(l, "between");

		for (size_t e = 0; e < json_array_size(ends) && e < 2; e++) {
			if (strcmp(str(json_array_get(ends, e), "host"), a->client))
				continue;
			memset(&w[nw], 0, sizeof(w[nw]));
			w[nw].link = nw;
			snprintf(w[nw].name, MX_NAME_MAX, "%s", str(l, "name"));
			/* up leaves the first host: an upload from the client's side */
			w[nw].dir = (e == 0) == upload ? "up" : "down";
			nw++;
			break;
		}
	}
	a->bin_s = (double)LINK_SAMPLE_NS / 1e9;
	a->t0_s = floor(a->start_s / a->bin_s) * a->bin_s;
	if (!(a->end_s > a->start_s) || !nw ||
	    mx_app_alloc(a, (size_t)ceil((a->end_s - a->t0_s) / a->bin_s) + 1, nw))
		return -1;
	for (int k = 0; k < nw; k++) {
		snprintf(a->link[k].name, MX_NAME_MAX, "%s", w[k].name);
		for (size_t i = 0; i < json_array_size(tlinks); i++)
			if (!strcmp(str(json_array_get(tlinks, i), "name"), w[k].name))
				a->link[k].rate_bps = link_rate(topo, (int)i, a);
	}
	snprintf(path, sizeof(path), "%s/%s", dir, LINK_SAMPLES_FILE);
	in = fopen(path, "r");
	if (!in)
		return -1;
	while (fgets(line, sizeof(line), in)) {
		char *f[5];
		int n = csv_fields5(line, f);
		if (n != 5 || strcmp(f[3], "tx_bytes"))
			continue;
		for (int k = 0; k < nw; k++) {
			double t = strtod(f[0], NULL), v = strtod(f[4], NULL), d;

			if (strcmp(f[1], w[k].name) || strcmp(f[2], w[k].dir))
				continue;
			d = w[k].have_prev ? v - w[k].prev : 0;
			w[k].prev = v;
			w[k].have_prev = true;
			/* the interval (t - bin, t], kept while the app ran */
			if (d <= 0 || t <= a->start_s || t - a->bin_s >= a->end_s)
				continue;
			{
				size_t b = mx_bin(a, t - a->bin_s / 2);

				a->link[k].bytes[b] += d;
				a->link[k].sent[b] += d;
				a->rx[b] += d;
				a->link[k].used = true;
			}
		}
	}
	fclose(in);
	a->have_samples = true;
	return 0;
}

/* A command app's transfer: the span of its 100 ms bins from the first to the last
 * that carried at least MX_CMD_ACTIVE_BYTES and a quarter of the busiest bin, the
 * bytes in it and their rate, into app (transfer_seconds, transfer_bytes,
 * transfer_goodput_mbps; null without such a bin).  The quarter leaves out the
 * trickle after the transfer (retransmissions into a window the peer's application
 * no longer reads: iperf3 -t stops reading at its end, and what mpt-run still held
 * went out in bursts every few seconds while it lingered).  The client's run
 * (goodput_mbps) also counts its start and its exit, which under mpt-run may wait for
 * connections to close (--linger). */
static void command_transfer(const struct mx_app *a, json_t *app)
{
	size_t first = a->n, last = 0;
	double bytes = 0, secs, peak = 0, floor_bytes;

	for (size_t i = 0; i < a->n; i++)
		peak = a->rx[i] > peak ? a->rx[i] : peak;
	floor_bytes = peak / 4 > MX_CMD_ACTIVE_BYTES ? peak / 4 : MX_CMD_ACTIVE_BYTES;
	for (size_t i = 0; i < a->n; i++)
		if (a->rx[i] >= floor_bytes) {
			first = first < a->n ? first : i;
			last = i;
		}
	if (first == a->n) {
		json_object_set_new(app, "transfer_seconds", json_null());
		json_object_set_new(app, "transfer_bytes", json_null());
		json_object_set_new(app, "transfer_goodput_mbps", json_null());
		return;
	}
	for (size_t i = first; i <= last; i++)
		bytes += a->rx[i];
	secs = (double)(last - first + 1) * a->bin_s;
	json_object_set_new(app, "transfer_seconds", json_real(secs));
	json_object_set_new(app, "transfer_bytes", json_integer((json_int_t)bytes));
	json_object_set_new(app, "transfer_goodput_mbps", json_real(bytes * 8 / secs / 1e6));
}

/* Build app ai's series from the run directory.  Returns 0, or -1 when its JSON
 * is missing or has no intervals (then a is left empty). */
static int load_app(const char *dir, json_t *summary, json_t *topo, json_t *app, struct mx_app *a)
{
	json_t *cj = load_rel(dir, app, "client_json"), *sj = load_rel(dir, app, "server_json");
	json_t *recv, *send, *ivls, *iv, *tlinks = json_object_get(topo, "links");
	double t0 = num(summary, "t0_mono_ns", 0), rx_t0, end_s = 0;
	int topo_link_of[512], nl = 0, rc = -1;
	size_t i, n;
	bool upload;

	memset(a, 0, sizeof(*a));
	snprintf(a->name, sizeof(a->name), "%s", str(app, "name"));
	snprintf(a->client, sizeof(a->client), "%s", str(app, "client"));
	snprintf(a->server, sizeof(a->server), "%s", str(app, "server"));
	snprintf(a->direction, sizeof(a->direction), "%s", str(app, "direction"));
	upload = strcmp(a->direction, "download") != 0;
	if (!strcmp(str(app, "mode"), "command")) {
		a->start_s = num(app, "started_s", 0);
		a->end_s = num(app, "ended_s", 0);
		rc = load_app_links(dir, topo, a);
		goto out;
	}
	recv = upload ? sj : cj;
	send = upload ? cj : sj;
	ivls = json_object_get(recv, "intervals");
	if (!json_array_size(ivls)) { /* the sender has a copy of the receiver's record */
		recv = send;
		ivls = json_object_get(recv, "intervals");
	}
	n = json_array_size(ivls);
	if (!n || t0 <= 0)
		goto out;
	rx_t0 = num(recv, "intervals_t0_mono_ns", 0);
	iv = json_array_get(ivls, 0);
	a->bin_s = num(iv, "end", 0) - num(iv, "start", 0);
	if (!(a->bin_s > 0))
		a->bin_s = num(recv, "interval", 0.01);
	a->t0_s = (rx_t0 - t0) / 1e9 + num(iv, "start", 0);
	a->start_s = num(app, "started_s", 0);
	/* cover the senders' samples too */
	{
		json_t *ss = json_object_get(send, "subflow_samples");
		json_t *last = json_array_get(ss, json_array_size(ss) - 1);

		if (last)
			end_s = (num(send, "start_mono_ns", t0) - t0) / 1e9 + num(last, "t", 0);
		if (end_s > a->t0_s + (double)n * a->bin_s)
			n = (size_t)ceil((end_s - a->t0_s) / a->bin_s) + 1;
	}
	a->end_s = num(app, "ended_s", a->t0_s + (double)n * a->bin_s);

	/* links: those of the topology the app's subflows used, in file order */
	for (i = 0; i < json_array_size(tlinks) && i < 512; i++)
		topo_link_of[i] = -1;
	{
		json_t *srcs[2] = {send, recv};

		for (int s = 0; s < 2; s++) {
			json_t *smp, *sf;
			size_t k, j;

			json_array_foreach(json_object_get(srcs[s], "subflow_samples"), k, smp)
				json_array_foreach(json_object_get(smp, "subflows"), j, sf)
			{
				int tl = subflow_link(topo, sf, a->client);

				if (tl >= 0 && tl < 512 && topo_link_of[tl] < 0 &&
				    nl < MX_MAX_LINKS)
					topo_link_of[tl] = nl++;
			}
		}
	}
	{ /* file order */
		int order = 0;

		for (i = 0; i < json_array_size(tlinks) && i < 512; i++)
			if (topo_link_of[i] >= 0)
				topo_link_of[i] = order++;
	}
	if (mx_app_alloc(a, n, nl))
		goto out;
	for (i = 0; i < json_array_size(tlinks) && i < 512; i++) {
		if (topo_link_of[i] < 0)
			continue;
		snprintf(a->link[topo_link_of[i]].name, MX_NAME_MAX, "%s",
			 str(json_array_get(tlinks, i), "name"));
		a->link[topo_link_of[i]].rate_bps = link_rate(topo, (int)i, a);
	}
	json_array_foreach(ivls, i, iv)
	{
		a->rx[i] = num(iv, "bytes", 0);
	}
	if (json_array_size(json_object_get(send, "subflow_samples"))) {
		double base = (num(send, "start_mono_ns", t0) - t0) / 1e9;
		json_t *ai;

		a->have_samples = true;
		add_samples(a, topo, send, base, true, topo_link_of);
		json_array_foreach(json_object_get(send, "app_intervals"), i, ai)
		{
			a->app_sent[mx_bin(a, base + num(ai, "end", 0))] += num(ai, "bytes", 0);
		}
	} else if (json_array_size(json_object_get(recv, "subflow_samples"))) {
		a->have_samples = true;
		add_samples(a, topo, recv, (num(recv, "start_mono_ns", t0) - t0) / 1e9, false,
			    topo_link_of);
	}
	rc = 0;
out:
	json_decref(cj);
	json_decref(sj);
	return rc;
}

int mx_restore(const struct mx_app *a, double at_s, double since_s, double until_s,
	       double *before_Bps, double *after_Bps)
{
	double from = at_s - MX_RESTORE_BEFORE_S, to = at_s + MX_RESTORE_AFTER_S;
	size_t i0, i1, i2;

	if (from < since_s)
		from = since_s;
	if (to > until_s)
		to = until_s;
	if (!a->n || !(a->bin_s > 0) || from >= at_s || to <= at_s)
		return -1;
	i0 = mx_bin(a, from);
	i1 = mx_bin(a, at_s);
	i2 = to >= bin_start(a, a->n) ? a->n : mx_bin(a, to);
	if (i1 <= i0 || i2 <= i1)
		return -1;
	*before_Bps = sum(a->rx, i0, i1) / ((double)(i1 - i0) * a->bin_s);
	*after_Bps = sum(a->rx, i1, i2) / ((double)(i2 - i1) * a->bin_s);
	return 0;
}

/* The action that undoes a path-taking one, on the same link. */
static const char *undoing(const char *action)
{
	if (!strcmp(action, "down"))
		return "up";
	if (!strcmp(action, "blackhole"))
		return "restore";
	if (!strcmp(action, "addr-del"))
		return "addr-add";
	return "";
}

static bool takes_path_away(const char *action)
{
	return !strcmp(action, "down") || !strcmp(action, "blackhole") ||
	       !strcmp(action, "addr-del");
}

static double event_time(json_t *ev)
{
	json_t *f = json_object_get(ev, "fired_s");

	return json_is_number(f) ? json_number_value(f) : -1;
}

static json_t *num_or_null(double v)
{
	return isnan(v) ? json_null() : json_real(round(v * 1000) / 1000);
}

static json_t *handover_json(const struct mx_handover *h, double bin_s)
{
	json_t *o = json_object(), *share = json_object();
	double tb = 0, ta = 0;

	json_object_set_new(o, "event",
			    json_pack("{s:i, s:s, s:s}", "index", h->event, "action", h->action,
				      "link", h->link));
	json_object_set_new(o, "at_s", json_real(h->at_s));
	json_object_set_new(o, "interruption_ms", num_or_null(h->interruption_ms));
	json_object_set_new(o, "detection_ms", num_or_null(h->detection_ms));
	json_object_set_new(o, "t90_ms", num_or_null(h->t90_ms));
	json_object_set_new(o, "deficit_bytes",
			    json_integer((json_int_t)llround(h->deficit_bytes)));
	json_object_set_new(o, "retransmitted_bytes",
			    json_integer((json_int_t)llround(h->retransmitted_bytes)));
	json_object_set_new(o, "pre_goodput_mbps", json_real(h->pre_Bps * 8 / 1e6));
	json_object_set_new(o, "surviving_rate_mbps", json_real(h->surviving_Bps * 8 / 1e6));
	json_object_set_new(o, "bin_ms", json_real(bin_s * 1e3));
	for (int i = 0; i < h->nshare; i++) {
		tb += h->share[i].before;
		ta += h->share[i].after;
	}
	for (int i = 0; i < h->nshare; i++) {
		const struct mx_share *s = &h->share[i];

		json_object_set_new(share, s->link,
				    json_pack("{s:I, s:I, s:f, s:f}", "before_bytes",
					      (json_int_t)llround(s->before), "after_bytes",
					      (json_int_t)llround(s->after), "before",
					      tb > 0 ? s->before / tb : 0.0, "after",
					      ta > 0 ? s->after / ta : 0.0));
	}
	json_object_set_new(o, "link_share", share);
	json_object_set_new(
		o, "window_s",
		json_pack("{s:f, s:f}", "before_from", h->before_s, "after_to", h->after_s));
	return o;
}

/* The record of the event undoing events[e] (the same link, and host for addr-add),
 * while app a runs: {event, at_s, before_mbps, after_mbps, ratio}, or null. */
static json_t *restore_json(const struct mx_app *a, json_t *events, size_t e, json_t *ev)
{
	const char *want = undoing(str(ev, "action"));
	double at = -1, since = event_time(ev), until = a->end_s, b, x;
	size_t k, found = 0;

	for (k = e + 1; k < json_array_size(events); k++) {
		json_t *u = json_array_get(events, k);
		double t = event_time(u);

		if (t < 0)
			continue;
		if (at >= 0) { /* the next event after the restore cuts its window */
			if (t > at && t < until)
				until = t;
			continue;
		}
		if (!strcmp(str(u, "action"), want) && !strcmp(str(u, "link"), str(ev, "link")) &&
		    !strcmp(str(u, "host"), str(ev, "host"))) {
			at = t;
			found = k;
		} else if (t > since) {
			since = t; /* another event between: the "before" starts there */
		}
	}
	if (at < 0 || at >= a->end_s || mx_restore(a, at, since, until, &b, &x) < 0)
		return json_null();
	return json_pack("{s:i, s:f, s:f, s:f, s:o}", "event", (int)found, "at_s", at,
			 "before_mbps", b * 8 / 1e6, "after_mbps", x * 8 / 1e6, "ratio",
			 b > 0 ? json_real(x / b) : json_null());
}

/* Run gnuplot SCRIPT in dir; 0, or -1 (message printed). */
static int run_gnuplot(const char *dir, const char *script)
{
	char log[4096];
	pid_t pid;
	int st;

	snprintf(log, sizeof(log), "%s/plot.log", dir);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "mpnet: plot: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (chdir(dir) == 0)
			execlp("gnuplot", "gnuplot", script, (char *)NULL);
		_exit(errno == ENOENT ? 127 : 126);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127) {
		fprintf(stderr,
			"mpnet: gnuplot not found; no plot (install gnuplot-nox, then "
			"mpnet plot %s)\n",
			dir);
		return -1;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "mpnet: gnuplot failed; see %s\n", log);
		return -1;
	}
	return 0;
}

/* An rr or stream app's samples (ms), sorted: from the client's report (it measured
 * rr, and a stream's receiver record reaches it either way), else the server's.
 * Returns how many (0: none, *out NULL). */
static size_t app_samples(const char *dir, json_t *app, double **out)
{
	const char *mode = str(app, "mode");
	bool rr = !strcmp(mode, "rr");
	json_t *rep[2] = {load_rel(dir, app, "client_json"), load_rel(dir, app, "server_json")};
	json_t *list = NULL, *v;
	size_t n = 0, i;

	*out = NULL;
	if (rr || !strcmp(mode, "stream"))
		for (int k = 0; k < 2 && !json_array_size(list); k++)
			list = json_object_get(json_object_get(rep[k], rr ? "rr" : "stream"),
					       rr ? "completion_ms" : "delay_ms");
	if (json_array_size(list) && (*out = malloc(json_array_size(list) * sizeof(double)))) {
		json_array_foreach(list, i, v)
		{
			(*out)[n++] = json_number_value(v);
		}
		qsort(*out, n, sizeof(double), cmp_double);
	}
	json_decref(rep[0]);
	json_decref(rep[1]);
	return n;
}

/* apps/APP-cdf.csv: "ms,fraction", one line per sample in ascending order, fraction
 * = the share of samples at or below it.  Returns 0, or -1 (no samples: bulk). */
static int write_cdf(const char *dir, json_t *app)
{
	char path[4096];
	double *v;
	size_t n = app_samples(dir, app, &v);
	FILE *f;

	if (!n)
		return -1;
	snprintf(path, sizeof(path), "%s/apps/%s-cdf.csv", dir, str(app, "name"));
	f = fopen(path, "w");
	if (f) {
		fprintf(f, "ms,fraction\n");
		for (size_t i = 0; i < n; i++)
			fprintf(f, "%.6f,%.6f\n", v[i], (double)(i + 1) / (double)n);
	}
	free(v);
	if (!f || fclose(f)) {
		fprintf(stderr, "mpnet: cannot write %s\n", path);
		return -1;
	}
	return 0;
}

/* cdf.gp: every app's CDF file on one plot (cdf.png).  Returns 1 when there was at
 * least one to draw, 0 when none, -1 when the script could not be written. */
static int write_cdf_plot(const char *dir, json_t *summary, const char *title)
{
	json_t *apps = json_object_get(summary, "apps"), *app;
	char path[4096];
	int drawn = 0;
	size_t i;
	FILE *f;

	json_array_foreach(apps, i, app) drawn += json_is_string(json_object_get(app, "cdf"));
	if (!drawn)
		return 0;
	snprintf(path, sizeof(path), "%s/cdf.gp", dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "# Drawn by mpnet (netns/metrics.c): the CDF of each rr app's completion\n"
		   "# times and each stream app's chunk delays (apps/APP-cdf.csv).\n");
	fprintf(f, "set terminal pngcairo size %d,%d noenhanced font \",9\"\n", MX_PLOT_W,
		MX_PLOT_TITLE_H + 2 * MX_PLOT_PANEL_H);
	fprintf(f, "set output \"cdf.png\"\nset datafile separator \",\"\n");
	fprintf(f, "set title ");
	gp_str(f, title);
	fprintf(f, "\nset xlabel \"ms (rr: completion time; stream: one-way delay)\"\n"
		   "set ylabel \"fraction\"\nset yrange [0:1]\nset logscale x\n"
		   "set grid\nset key bottom right\nplot ");
	drawn = 0;
	json_array_foreach(apps, i, app)
	{
		char t[128];

		if (!json_is_string(json_object_get(app, "cdf")))
			continue;
		snprintf(t, sizeof(t), "%s (%s)", str(app, "name"), str(app, "mode"));
		fprintf(f, "%s", drawn++ ? ", \\\n     " : "");
		gp_str(f, str(app, "cdf"));
		fprintf(f, " every ::1 using 1:2 with steps lw 2 title ");
		gp_str(f, t);
	}
	fprintf(f, "\n");
	return fclose(f) ? -1 : 1;
}

static void fmt_ms(char *b, size_t n, double ms)
{
	if (isnan(ms))
		snprintf(b, n, "-");
	else
		snprintf(b, n, "%.0f ms", ms);
}

int metrics_run(const char *dir, unsigned flags)
{
	json_t *summary = load(dir, "summary.json"), *topo = load(dir, "topology.resolved.json");
	json_t *apps, *events, *app, *ev;
	struct mx_app *series = NULL;
	struct mx_mark *marks = NULL;
	int napps, nmarks = 0, rc = -1;
	char path[4096];
	size_t i, e;

	if (!summary || !topo) {
		fprintf(stderr, "mpnet: %s: no summary.json or topology.resolved.json\n", dir);
		goto out;
	}
	apps = json_object_get(summary, "apps");
	events = json_object_get(summary, "events");
	napps = (int)json_array_size(apps);
	series = calloc((size_t)napps + 1, sizeof(*series));
	marks = calloc(json_array_size(events) + 1, sizeof(*marks));
	if (!series || !marks)
		goto out;
	json_array_foreach(events, e, ev)
	{
		if (event_time(ev) < 0)
			continue;
		marks[nmarks].at_s = event_time(ev);
		snprintf(marks[nmarks].label, sizeof(marks[nmarks].label), "%s %s%s%s",
			 str(ev, "action"), str(ev, "link"), json_object_get(ev, "host") ? " " : "",
			 str(ev, "host"));
		nmarks++;
	}
	json_array_foreach(apps, i, app)
	{
		json_t *hos = json_array();
		struct mx_app *a = &series[i];

		if (load_app(dir, summary, topo, app, a) == 0) {
			if (!strcmp(str(app, "mode"), "command"))
				command_transfer(a, app);
			json_array_foreach(events, e, ev)
			{
				double at = event_time(ev), before = a->start_s, after = a->end_s;
				struct mx_handover h;

				if (at < 0 || !takes_path_away(str(ev, "action")) ||
				    at <= a->start_s || at >= a->end_s)
					continue;
				for (size_t k = 0; k < json_array_size(events); k++) {
					double x = event_time(json_array_get(events, k));

					if (k < e && x >= 0 && x > before)
						before = x;
					if (k > e && x >= 0 && x < after)
						after = x;
				}
				memset(&h, 0, sizeof(h));
				mx_handover(a, at, str(ev, "link"), before, after, &h);
				h.event = (int)e;
				snprintf(h.action, sizeof(h.action), "%s", str(ev, "action"));
				snprintf(h.link, sizeof(h.link), "%s", str(ev, "link"));
				{
					json_t *hj = handover_json(&h, a->bin_s);

					/* from what a stopped app measured: the record may
					 * end before the recovery did */
					json_object_set_new(
						hj, "interrupted",
						json_boolean(json_is_true(
							json_object_get(app, "interrupted"))));
					json_object_set_new(hj, "restore",
							    restore_json(a, events, e, ev));
					json_array_append_new(hos, hj);
				}
				if ((flags & MX_PRINT) && (flags & MX_WRITE)) {
					char b1[32], b2[32], b3[32];

					fmt_ms(b1, sizeof(b1), h.interruption_ms);
					fmt_ms(b2, sizeof(b2), h.detection_ms);
					fmt_ms(b3, sizeof(b3), h.t90_ms);
					printf("  handover app %s, %s %s at %.3f s: interruption "
					       "%s, "
					       "detection %s, t90 %s, deficit %.0f kB, "
					       "retransmitted "
					       "%.0f kB\n",
					       a->name, h.action, h.link, at, b1, b2, b3,
					       h.deficit_bytes / 1e3, h.retransmitted_bytes / 1e3);
				}
			}
		}
		json_object_set_new(app, "handover", hos);
	}
	if (flags & MX_WRITE) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/timeseries.csv", dir);
		f = fopen(path, "w");
		if (!f || mx_write_timeseries(f, series, napps)) {
			fprintf(stderr, "mpnet: cannot write %s\n", path);
			if (f)
				fclose(f);
			goto out;
		}
		/* link counters over the run, then their totals (read after the last
		 * sample, so the totals close each series) */
		copy_link_samples(f, dir);
		json_array_foreach(json_object_get(summary, "links"), i, ev)
		{
			double end = 0;
			static const char *const k[] = {"tx_bytes", "tx_packets", "dropped"};

			for (int a = 0; a < napps; a++)
				end = series[a].end_s > end ? series[a].end_s : end;
			for (int j = 0; j < 3; j++)
				fprintf(f, "%.6f,,link_%s,%s/%s,%.0f\n", end, k[j], str(ev, "name"),
					str(ev, "dir"), num(ev, k[j], 0));
		}
		if (fclose(f)) {
			fprintf(stderr, "mpnet: cannot write %s\n", path);
			goto out;
		}
		json_array_foreach(apps, i, app)
		{
			json_object_set_new(app, "cdf", json_null());
			if (write_cdf(dir, app) == 0) {
				char rel[256];

				snprintf(rel, sizeof(rel), "apps/%s-cdf.csv", str(app, "name"));
				json_object_set_new(app, "cdf", json_string(rel));
			}
		}
		snprintf(path, sizeof(path), "%s/summary.json", dir);
		if (json_dump_file(summary, path, JSON_INDENT(2))) {
			fprintf(stderr, "mpnet: cannot write %s\n", path);
			goto out;
		}
	}
	rc = 0;
	if (flags & MX_PLOT) {
		char title[256];
		FILE *f;

		snprintf(title, sizeof(title), "%s (seed %.0f)", str(summary, "topology"),
			 num(summary, "seed", 0));
		snprintf(path, sizeof(path), "%s/plot.gp", dir);
		f = fopen(path, "w");
		if (!f || mx_write_gnuplot(f, title, series, napps, marks, nmarks)) {
			fprintf(stderr, "mpnet: cannot write %s\n", path);
			if (f)
				fclose(f);
			rc = -1;
			goto out;
		}
		fclose(f);
		if (run_gnuplot(dir, "plot.gp") == 0 && (flags & MX_PRINT))
			printf("  plot: %s/plot.png\n", dir);
		if (write_cdf_plot(dir, summary, title) == 1 && run_gnuplot(dir, "cdf.gp") == 0 &&
		    (flags & MX_PRINT))
			printf("  plot: %s/cdf.png\n", dir);
	}
out:
	for (int a = 0; series && a < (int)json_array_size(json_object_get(summary, "apps")); a++)
		mx_app_free(&series[a]);
	free(series);
	free(marks);
	json_decref(summary);
	json_decref(topo);
	return rc;
}
