/* netns/metrics.c on hand-built series; mpt-perf's sampler storage. */
#include "metrics.h"
#include "perf_sampler.h"
#include "test.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdlib.h>

#define BIN  0.01
#define NBIN 2000 /* 20 s */
#define EV   500  /* event at 5.0 s, the start of bin 500 */

#define CHECK_NEAR(a, b, tol)                                                                     \
	do {                                                                                      \
		double x_ = (a), y_ = (b);                                                        \
		if (!(fabs(x_ - y_) <= (tol)))                                                    \
			test_fail(__FILE__, __LINE__, "%s ~ %s: %g vs %g (tolerance %g)", #a, #b, \
				  x_, y_, (double)(tol));                                         \
	} while (0)

/* wifi (50 Mbit/s, 62500 B per bin) carries everything until the event; then
 * `gap` empty bins; then lte (20 Mbit/s, 25000 B per bin). */
static void build(struct mx_app *a, int gap)
{
	memset(a, 0, sizeof(*a));
	CHECK_EQ(mx_app_alloc(a, NBIN, 2), 0);
	snprintf(a->name, sizeof(a->name), "bulk");
	snprintf(a->client, sizeof(a->client), "client");
	snprintf(a->server, sizeof(a->server), "server");
	snprintf(a->direction, sizeof(a->direction), "upload");
	a->t0_s = 0;
	a->bin_s = BIN;
	a->start_s = 0;
	a->end_s = NBIN * BIN;
	a->have_samples = true;
	snprintf(a->link[0].name, MX_NAME_MAX, "wifi");
	snprintf(a->link[1].name, MX_NAME_MAX, "lte");
	a->link[0].rate_bps = 50e6;
	a->link[1].rate_bps = 20e6;
	a->link[0].used = a->link[1].used = true;
	for (int i = 0; i < NBIN; i++) {
		if (i < EV) {
			a->rx[i] = a->link[0].bytes[i] = a->link[0].sent[i] = 62500;
		} else if (i >= EV + gap) {
			a->rx[i] = a->link[1].bytes[i] = a->link[1].sent[i] = 25000;
		}
		a->app_sent[i] = a->rx[i];
	}
}

TEST(metrics_interruption_is_the_gap)
{
	static const int gaps[] = {1, 3, 5, 30, 100, 150};

	for (size_t g = 0; g < sizeof(gaps) / sizeof(gaps[0]); g++) {
		struct mx_app a;
		struct mx_handover h;

		build(&a, gaps[g]);
		mx_handover(&a, EV * BIN, "wifi", 0, NBIN * BIN, &h);
		CHECK_NEAR(h.interruption_ms, gaps[g] * 10.0, 10.0);
		mx_app_free(&a);
	}
}

TEST(metrics_interruption_event_inside_a_bin)
{
	struct mx_app a;
	struct mx_handover h;

	/* the event 4 ms into bin 500; bins 500..519 empty: 196 ms to the next byte */
	build(&a, 20);
	mx_handover(&a, EV * BIN + 0.004, "wifi", 0, NBIN * BIN, &h);
	CHECK_NEAR(h.interruption_ms, 196, 10);
	mx_app_free(&a);
}

TEST(metrics_interruption_spans_trickle_and_stall)
{
	struct mx_app a;
	struct mx_handover h;

	/* 4 empty bins, 3 bins of a trickle, a 20-bin stall (the RTO), then steady */
	build(&a, 27);
	for (int i = EV + 4; i < EV + 7; i++)
		a.rx[i] = 20000;
	mx_handover(&a, EV * BIN, "wifi", 0, NBIN * BIN, &h);
	CHECK_NEAR(h.interruption_ms, 270, 10);
	mx_app_free(&a);
	/* a short hole later (2 bins < MX_STALL_MIN_S) is burstiness, not a stall */
	build(&a, 4);
	a.rx[EV + 10] = a.rx[EV + 11] = 0;
	mx_handover(&a, EV * BIN, "wifi", 0, NBIN * BIN, &h);
	CHECK_NEAR(h.interruption_ms, 40, 10);
	mx_app_free(&a);
}

TEST(metrics_no_gap_no_interruption)
{
	struct mx_app a;
	struct mx_handover h;

	/* both paths busy all along; the event takes the idle third path away */
	build(&a, 0);
	for (int i = 0; i < NBIN; i++) {
		a.link[1].sent[i] = a.link[1].bytes[i] = 25000;
		a.rx[i] = i < EV ? 87500 : 25000;
	}
	mx_handover(&a, EV * BIN, "wifi", 0, NBIN * BIN, &h);
	CHECK_NEAR(h.interruption_ms, 0, 0.001);
	CHECK_NEAR(h.detection_ms, 0, 0.001);
	mx_app_free(&a);
}

TEST(metrics_nothing_after_the_event)
{
	struct mx_app a;
	struct mx_handover h;

	build(&a, NBIN);
	mx_handover(&a, EV * BIN, "wifi", 0, NBIN * BIN, &h);
	CHECK(isnan(h.interruption_ms));
	CHECK(isnan(h.detection_ms));
	CHECK(isnan(h.t90_ms));
	mx_app_free(&a);
}

TEST(metrics_detection_is_first_send_on_survivor)
{
	struct mx_app a;
	struct mx_handover h;

	/* lte sends from bin EV + 20, delivery resumes at EV + 30 */
	build(&a, 30);
	for (int i = EV + 20; i < EV + 30; i++)
		a.link[1].sent[i] = 1448;
	mx_handover(&a, EV * BIN, "wifi", 0, NBIN * BIN, &h);
	CHECK_NEAR(h.detection_ms, 200, 10);
	CHECK_NEAR(h.interruption_ms, 300, 10);
	mx_app_free(&a);
}

TEST(metrics_t90_deficit_retrans)
{
	struct mx_app a;
	struct mx_handover h;
	double delivered = 0;

	/* gap 30 bins; then 10 bins at half the lte rate; then the lte rate */
	build(&a, 30);
	for (int i = EV + 30; i < EV + 40; i++)
		a.rx[i] = 12500;
	a.link[0].retrans[EV + 20] = 1448;
	a.link[0].retrans[EV + 25] = 1448;
	a.link[0].retrans[EV + 300] = 9999; /* after recovery: not counted */
	mx_handover(&a, EV * BIN, "wifi", 0, NBIN * BIN, &h);
	CHECK_NEAR(h.surviving_Bps, 20e6 / 8, 1);
	CHECK_NEAR(h.pre_Bps, 50e6 / 8, 1);
	/* a 100 ms window averages >= 90 % of 25000 once it holds <= 2 half bins */
	CHECK_NEAR(h.t90_ms, 380, 10);
	for (int i = EV; i < EV + 38; i++)
		delivered += a.rx[i];
	CHECK_NEAR(h.deficit_bytes, 62500.0 * 38 - delivered, 62500);
	CHECK_NEAR(h.retransmitted_bytes, 2896, 0.5);
	/* link share: before 100 % wifi, after almost all lte */
	CHECK_EQ(h.nshare, 2);
	CHECK_STR_EQ(h.share[0].link, "wifi");
	CHECK_NEAR(h.share[0].before, 62500.0 * EV, 1);
	CHECK_NEAR(h.share[0].after, 0, 1);
	CHECK_NEAR(h.share[1].before, 0, 1);
	CHECK_NEAR(h.share[1].after, 25000.0 * (NBIN - EV - 30), 1);
	mx_app_free(&a);
}

TEST(metrics_t90_unshaped_uses_pre_share)
{
	struct mx_app a;
	struct mx_handover h;

	build(&a, 10);
	a.link[1].rate_bps = 0;
	/* lte carried 10000 B per bin before the event: its share is 1 MB/s */
	for (int i = 0; i < EV; i++)
		a.link[1].bytes[i] = 10000;
	mx_handover(&a, EV * BIN, "wifi", 0, NBIN * BIN, &h);
	CHECK_NEAR(h.surviving_Bps, 1e6, 1);
	CHECK_NEAR(h.t90_ms, 100, 10);
	/* never reached before the next event: NAN */
	a.link[1].rate_bps = 100e6;
	mx_handover(&a, EV * BIN, "wifi", 0, NBIN * BIN, &h);
	CHECK(isnan(h.t90_ms));
	mx_app_free(&a);
}

static char *capture_ts(const struct mx_app *a, int n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CHECK(f != NULL);
	CHECK_EQ(mx_write_timeseries(f, a, n), 0);
	fclose(f);
	return buf;
}

TEST(metrics_timeseries_rows_and_totals)
{
	struct mx_app a;
	char *csv, *line, *save = NULL;
	double rx = 0, total = 0, lte = 0;
	int rows = 0;

	build(&a, 30);
	for (int i = 0; i < NBIN; i++)
		total += a.rx[i];
	csv = capture_ts(&a, 1);
	CHECK(!strncmp(csv, "t_s,app,kind,key,value\n", 23));
	CHECK_CONTAINS(csv, "\n5.000000,bulk,rx_bytes,,0\n");
	CHECK_CONTAINS(csv, "\n4.990000,bulk,subflow_acked,wifi,62500\n");
	CHECK_CONTAINS(csv, "\n5.300000,bulk,subflow_sent,lte,25000\n");
	for (line = strtok_r(csv, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char kind[32], key[32];
		double t, v;

		if (rows++ == 0)
			continue;
		/* key may be empty: parse the two forms */
		if (sscanf(line, "%lf,bulk,%31[a-z_],,%lf", &t, kind, &v) == 3) {
			if (!strcmp(kind, "rx_bytes"))
				rx += v;
		} else {
			CHECK_EQ(sscanf(line, "%lf,bulk,%31[a-z_],%31[a-z],%lf", &t, kind, key, &v),
				 4);
			if (!strcmp(kind, "subflow_acked") && !strcmp(key, "lte"))
				lte += v;
		}
	}
	/* 1 header + per bin: rx_bytes, app_sent, 3 kinds x 2 links */
	CHECK_EQ(rows, 1 + NBIN * 8);
	CHECK_NEAR(rx, total, 0.5);
	CHECK_NEAR(lte, 25000.0 * (NBIN - EV - 30), 0.5);
	free(csv);
	mx_app_free(&a);
}

TEST(metrics_gnuplot_script_has_events_and_panels)
{
	struct mx_app a[2];
	struct mx_mark m[2] = {{5.0014, "down wifi"}, {12.25, "blackhole \"lte\""}};
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	build(&a[0], 30);
	build(&a[1], 10);
	snprintf(a[1].name, sizeof(a[1].name), "other");
	f = open_memstream(&buf, &len);
	CHECK_EQ(mx_write_gnuplot(f, "handover (seed 7)", a, 2, m, 2), 0);
	fclose(f);
	CHECK_CONTAINS(buf, "set terminal pngcairo size 1000,660");
	CHECK_CONTAINS(buf, "set output \"plot.png\"");
	CHECK_CONTAINS(buf, "set multiplot layout 2,1 title \"handover (seed 7)\"");
	CHECK_CONTAINS(buf, "set arrow 1 from 5.001400, graph 0 to 5.001400, graph 1 nohead");
	CHECK_CONTAINS(buf, "set label 1 \"down wifi\" at 5.001400");
	CHECK_CONTAINS(buf, "set arrow 2 from 12.250000, graph 0");
	CHECK_CONTAINS(buf, "set label 2 \"blackhole \\\"lte\\\"\" at 12.250000");
	CHECK_CONTAINS(buf, "$app0 << EOD");
	CHECK_CONTAINS(buf, "$app1 << EOD");
	CHECK_CONTAINS(buf, "set title \"app other: client -> server, upload\"");
	CHECK_CONTAINS(buf, "$app0 using 1:(0):2 with filledcurves title \"wifi\"");
	CHECK_CONTAINS(buf, "$app0 using 1:2:3 with filledcurves title \"lte\"");
	CHECK_CONTAINS(buf, "$app1 using 1:4 with lines");
	/* 100 ms plot bins: wifi alone at 50 Mbit/s before the event */
	CHECK_CONTAINS(buf, "\n0.0500 50.000 50.000 50.000\n");
	free(buf);
	mx_app_free(&a[0]);
	mx_app_free(&a[1]);
}

static void sub_at(struct perf_subflow *s, const char *local, int lport, uint64_t acked,
		   uint64_t retrans)
{
	struct sockaddr_in *l = (struct sockaddr_in *)&s->local;
	struct sockaddr_in *r = (struct sockaddr_in *)&s->remote;

	memset(s, 0, sizeof(*s));
	l->sin_family = r->sin_family = AF_INET;
	inet_pton(AF_INET, local, &l->sin_addr);
	inet_pton(AF_INET, "198.18.2.2", &r->sin_addr);
	l->sin_port = htons((uint16_t)lport);
	r->sin_port = htons(5201);
	s->ti.tcpi_bytes_acked = acked;
	s->ti.tcpi_bytes_sent = acked + retrans;
	s->ti.tcpi_bytes_retrans = retrans;
}

TEST(perf_sampler_json_samples_and_app_intervals)
{
	struct perf_sampler sp;
	struct perf_subflow s[2];
	json_t *o = json_object(), *smp, *iv;

	perf_sampler_init(&sp, -1, 10000000, NULL, NULL);
	sub_at(&s[0], "198.18.0.1", 40000, 1000, 0);
	CHECK_EQ(perf_sampler_add(&sp, 1000010000000ull, 5000, s, 1), 0);
	sub_at(&s[0], "198.18.0.1", 40000, 3000, 100);
	sub_at(&s[1], "198.18.1.1", 40001, 500, 0);
	CHECK_EQ(perf_sampler_add(&sp, 1000020000000ull, 9000, s, 2), 0);
	CHECK_EQ(sp.n_peer, 2);
	perf_sampler_json(&sp, 1000000000000ull, o);
	smp = json_object_get(o, "subflow_samples");
	iv = json_object_get(o, "app_intervals");
	CHECK_EQ(json_array_size(smp), 2);
	CHECK_NEAR(json_number_value(json_object_get(json_array_get(smp, 0), "t")), 0.01, 1e-9);
	CHECK_EQ(json_array_size(json_object_get(json_array_get(smp, 1), "subflows")), 2);
	{
		json_t *sf = json_array_get(json_object_get(json_array_get(smp, 1), "subflows"), 1);

		CHECK_STR_EQ(
			json_string_value(json_object_get(json_object_get(sf, "local"), "addr")),
			"198.18.1.1");
		CHECK_EQ(json_integer_value(json_object_get(sf, "bytes_acked")), 500);
		sf = json_array_get(json_object_get(json_array_get(smp, 1), "subflows"), 0);
		CHECK_EQ(json_integer_value(json_object_get(sf, "bytes_retrans")), 100);
	}
	CHECK_EQ(json_array_size(iv), 1);
	CHECK_EQ(json_integer_value(json_object_get(json_array_get(iv, 0), "bytes")), 4000);
	CHECK(json_is_false(json_object_get(o, "samples_truncated")));
	json_decref(o);
	perf_sampler_free(&sp);
}

TEST(metrics_restore_before_and_after)
{
	struct mx_app a;
	double b = 0, x = 0;

	build(&a, 30);
	/* wifi back at 10.0 s: both links from there */
	for (int i = 1000; i < NBIN; i++)
		a.rx[i] = 25000 + 62500;
	CHECK_EQ(mx_restore(&a, 10.0, 5.0, 20.0, &b, &x), 0);
	CHECK_NEAR(b, 25000 / BIN, 1);
	CHECK_NEAR(x, 87500 / BIN, 1);
	/* a dip in the second after it shows */
	for (int i = 1000; i < 1050; i++)
		a.rx[i] = 0;
	CHECK_EQ(mx_restore(&a, 10.0, 5.0, 20.0, &b, &x), 0);
	CHECK_NEAR(x, 87500 / BIN / 2, 1);
	/* the windows stop at the events around it */
	CHECK_EQ(mx_restore(&a, 10.0, 9.9, 10.5, &b, &x), 0);
	CHECK_NEAR(b, 25000 / BIN, 1);
	CHECK_NEAR(x, 0, 1e-9);
	/* nothing before it, or nothing after: not measurable */
	CHECK_EQ(mx_restore(&a, 10.0, 10.0, 20.0, &b, &x), -1);
	CHECK_EQ(mx_restore(&a, 10.0, 5.0, 10.0, &b, &x), -1);
	mx_app_free(&a);
}
