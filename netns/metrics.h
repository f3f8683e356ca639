/* Measurements of a finished run: per-bin series, handover metrics, a plot.
 *
 * Two halves.  The pure half works on series already on the run's time base (an
 * mx_app: bytes per bin at the receiver, and per link the sender's per-subflow
 * counters per bin) and computes handover records, writes timeseries.csv rows and
 * the gnuplot script; unit tests feed it hand-built series.  The file half
 * (metrics_run, metrics_plot) reads a run directory (summary.json,
 * topology.resolved.json, apps/APP-{client,server}.json), builds the series, and writes
 * timeseries.csv, apps[].handover in summary.json, plot.gp and plot.png.
 *
 * Definitions (all times in seconds since the run's t0, bins of the receiver's
 * interval, 10 ms by default; "bin(t)" is the bin containing t, "start(i)" its
 * start).  For an event at time `at` that takes a path away:
 *   interruption: delivery stops when the path goes, may trickle (data that
 *	was already past the loss, or first bytes on the new path) and stall
 *	again (the kernel waits for an RTO before reinjecting what the lost path
 *	had in flight); it counts until delivery resumes after the last stall:
 *	the first empty bin g in [bin(at), bin(at + MX_GAP_START_S)] opens a gap
 *	that lasts while bins are empty; after it, every run of at least
 *	MX_STALL_MIN_S of empty bins that starts within MX_GAP_START_S of the
 *	current gap's end extends it to the run's end (shorter runs are the normal
 *	burstiness of in-order delivery at 10 ms bins).  interruption = start(r) -
 *	at, r the first non-empty bin after the gap: the first new in-order byte
 *	reached the application during bin r, so the true value is in
 *	[interruption, interruption + bin).  With no empty bin there,
 *	interruption = the time to the next byte, max(0, start(r) - at) for the
 *	first non-empty r >= bin(at).  NAN when no byte arrives after the event.
 *   detection: the first bin i >= bin(at) in which a surviving link (any but the
 *	event's) sent data (sender's bytes_sent, else delivered bytes); detection =
 *	max(0, start(i) - at).  A sample's bytes land in the bin of the sample's
 *	time, so this is exact to one bin either way.
 *   surviving rate: the sum of the rates (app's data direction) of the surviving
 *	links the app used, when all of them are shaped; else the surviving links'
 *	pre-event goodput share, or the whole pre-event goodput if that share is 0.
 *   t90: the first bin i >= r (>= bin(at) without a gap), before the next event,
 *	from which the mean goodput over the next MX_T90_WINDOW_S reaches 90 % of
 *	the surviving rate; t90 = max(start(i) - at, interruption).  NAN: never.
 *   pre-event goodput: mean receiver goodput over [at - MX_PRE_WINDOW_S, at)
 *	(not before the previous event or the app's first bin).
 *   recovery window: [bin(at), bin(at + t90)), or up to the next event / the
 *	app's end when t90 is NAN.  deficit = pre-event goodput * window -
 *	bytes delivered in it (negative: more than before);
 *	retransmitted = all links' bytes_retrans in the window (and the gap).
 *   link share: each link's delivered bytes (sender's bytes_acked) from the
 *	previous event (or the app's start) to `at`, and from `at` to the next
 *	event (or the app's end), with the fractions of the totals.
 */
#ifndef MPNET_METRICS_H
#define MPNET_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define MX_NAME_MAX	    32
#define MX_MAX_LINKS	    16
#define MX_GAP_START_S	    0.5	 /* a gap must begin this soon after the event */
#define MX_STALL_MIN_S	    0.05 /* a later gap this long extends the interruption */
#define MX_T90_WINDOW_S	    0.1
#define MX_PRE_WINDOW_S	    1.0
#define MX_RESTORE_BEFORE_S 0.5	 /* restore: the surviving paths' goodput before it */
#define MX_RESTORE_AFTER_S  1.0	 /* restore: the goodput in the second after */
#define MX_PLOT_W	    1000 /* plot.png: width, and per app panel height + title */
#define MX_PLOT_PANEL_H	    300
#define MX_PLOT_TITLE_H	    60
#define MX_PLOT_BIN_S	    0.1	  /* plot.png averages the bins over this */
#define MX_CMD_ACTIVE_BYTES 10000 /* a command app's 100 ms bin with this much carried data */

struct mx_link {
	char name[MX_NAME_MAX];
	double rate_bps; /* in the app's data direction; 0 when not shaped */
	double *bytes;	 /* n bins: delivered (sender's bytes_acked, else receiver's bytes_received)
			  */
	double *sent;	 /* n bins: sender's bytes_sent */
	double *retrans; /* n bins: sender's bytes_retrans */
	bool used;	 /* carried any of the app's bytes */
};

/* One app's series.  Bin i covers [t0_s + i * bin_s, t0_s + (i + 1) * bin_s). */
struct mx_app {
	char name[MX_NAME_MAX];
	char client[MX_NAME_MAX], server[MX_NAME_MAX], direction[16];
	double t0_s, bin_s;
	size_t n;
	double *rx;	       /* bytes delivered to the receiving application */
	double *app_sent;      /* bytes the sending application wrote */
	double start_s, end_s; /* the app ran in [start_s, end_s] */
	bool have_samples;     /* per-subflow samples were there */
	int nlinks;
	struct mx_link link[MX_MAX_LINKS];
};

struct mx_share {
	char link[MX_NAME_MAX];
	double before, after; /* bytes */
};

struct mx_handover {
	int event; /* index in summary.json events[] */
	char action[16], link[MX_NAME_MAX];
	double at_s;
	double interruption_ms, detection_ms, t90_ms; /* NAN: not measurable */
	double deficit_bytes, retransmitted_bytes;
	double pre_Bps, surviving_Bps; /* bytes per second */
	double before_s, after_s;      /* link share windows: [before_s, at), [at, after_s) */
	int nshare;
	struct mx_share share[MX_MAX_LINKS];
};

/* An event line on the plot. */
struct mx_mark {
	double at_s;
	char label[64];
};

/* Allocate a's arrays for n bins and nlinks links, zeroed (name, rates and times
 * are the caller's).  Returns 0 or -1 (out of memory; a is then freed). */
int mx_app_alloc(struct mx_app *a, size_t n, int nlinks);
void mx_app_free(struct mx_app *a);

/* The bin holding time t (clamped to [0, n - 1]). */
size_t mx_bin(const struct mx_app *a, double t);

/* Handover metrics of app a for an event at at_s that took lost_link away;
 * before_s / after_s bound the windows (previous and next event, or the app's
 * start and end).  Fills h (event, action are the caller's). */
void mx_handover(const struct mx_app *a, double at_s, const char *lost_link, double before_s,
		 double after_s, struct mx_handover *h);

/* The path of a handover comes back at at_s (the event undoing it: up, restore,
 * addr-add on the same link): the receiver's goodput over [at - 0.5 s, at), what
 * the surviving paths carried, and over [at, at + 1 s) (cut at until_s, the next
 * event or the app's end), in bytes per second.  Returns 0, or -1 when a window
 * is empty (the restore too close to the start, the end or another event). */
int mx_restore(const struct mx_app *a, double at_s, double since_s, double until_s,
	       double *before_Bps, double *after_Bps);

/* timeseries.csv: the header line, then for every app and bin rows
 * "t_s,app,kind,key,value" (kinds rx_bytes, app_sent, subflow_acked,
 * subflow_sent, subflow_retrans; see results/README.md).  Returns 0 or -1. */
int mx_write_timeseries(FILE *f, const struct mx_app *apps, int napps);

/* The gnuplot script drawing plot.png (relative to the script's directory): one
 * panel per app, per-link goodput stacked (filled), the receiver's goodput as a
 * line, the marks as labelled vertical lines; the data inline.  Returns 0 or -1. */
int mx_write_gnuplot(FILE *f, const char *title, const struct mx_app *apps, int napps,
		     const struct mx_mark *marks, int nmarks);

enum {
	MX_PRINT = 1 << 0, /* a few lines on stdout */
	MX_PLOT = 1 << 1,  /* plot.gp and plot.png */
	MX_WRITE = 1 << 2, /* timeseries.csv and apps[].handover in summary.json */
};

/* Read run directory dir and do what flags say.  Messages to stderr (one line if
 * gnuplot is missing: only the plot is skipped).  Returns 0, or -1 when the
 * directory cannot be read or written. */
int metrics_run(const char *dir, unsigned flags);

#endif
