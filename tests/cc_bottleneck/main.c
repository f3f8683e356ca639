/* `make cc-bottleneck`: RFC 6356's "do no harm" acceptance case in virtual time
 * (stack/sim/mpt_sim_bneck.h): for lia, olia, balia and uncoupled cubic, a two-subflow
 * MPTCP connection and one TCP NewReno flow through one 10 Mbit/s drop-tail bottleneck
 * for 120 s; the MPTCP/TCP goodput ratio over the last 60 s must be 0.7..1.3 for the
 * coupled ones and >= 1.5 for cubic, every transfer run to its end and verified.
 * Prints one line per run (--json: one JSON object per line instead, for
 * bench/cc.sh); exits 0 when all pass, 1 otherwise.
 *
 * --balance runs RFC 6356's third goal instead ("balance congestion"): the MPTCP
 * connection's second path has a 10 Mbit/s bottleneck of its own, the TCP flow shares
 * only the first.  Over the measured window a coupled controller must send at most
 * BALANCE_SHARED_MAX Mbit/s on the shared path (uncoupled cubic takes its half, about
 * 5, and must take at least that much), and every one must fill the free path
 * (>= BALANCE_FREE_MIN Mbit/s).
 *
 *   cc-bottleneck [--seconds N] [--seed N] [--tcp newreno|cubic] [--queue PKTS]
 *                 [--cc lia|olia|balia|cubic]... [--balance] [--json] */
#include "mpt_sim_bneck.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STR_(x) #x
#define STR(x)	STR_(x)

static const struct {
	const char *cc;
	double lo, hi;
} cases[] = {{"lia", 0.7, 1.3}, {"olia", 0.7, 1.3}, {"balia", 0.7, 1.3}, {"cubic", 1.5, 1e9}};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* --balance: 80 % of a fair half of the shared 10 Mbit/s; 80 % of the free path */
#define BALANCE_SHARED_MAX 4.0
#define BALANCE_FREE_MIN   8.0

static int usage(void)
{
	fprintf(stderr, "usage: cc-bottleneck [--seconds N] [--seed N] [--tcp newreno|cubic] "
			"[--queue PKTS] [--cc lia|olia|balia|cubic]... [--balance] [--json]\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct bneck_params p = {.tcp_cc = "newreno", .seconds = 120, .seed = 1};
	bool want[NCASES] = {false}, some = false, json = false;
	int fails = 0;

	for (int i = 1; i < argc; i++) {
		if (i + 1 < argc && !strcmp(argv[i], "--seconds"))
			p.seconds = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (i + 1 < argc && !strcmp(argv[i], "--seed"))
			p.seed = strtoull(argv[++i], NULL, 10);
		else if (i + 1 < argc && !strcmp(argv[i], "--tcp"))
			p.tcp_cc = argv[++i];
		else if (i + 1 < argc && !strcmp(argv[i], "--queue"))
			p.queue_pkts = (uint32_t)strtoul(argv[++i], NULL, 10);
		else if (i + 1 < argc && !strcmp(argv[i], "--cc")) {
			size_t k;

			i++;
			for (k = 0; k < NCASES && strcmp(argv[i], cases[k].cc); k++)
				;
			if (k == NCASES) {
				fprintf(stderr,
					"cc-bottleneck: --cc takes lia, olia, balia or "
					"cubic, got '%s'\n",
					argv[i]);
				return 2;
			}
			want[k] = some = true;
		} else if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--balance"))
			p.balance = true;
		else
			return usage();
	}
	if (p.seconds < 2) {
		fprintf(stderr, "cc-bottleneck: --seconds must be at least 2\n");
		return 2;
	}
	for (size_t k = 0; k < NCASES; k++) {
		struct bneck_result r;
		struct timespec t0, t1;
		bool ok, verified;
		double wall, free_mbps;
		const char *want_text;
		int rv;

		/* bneck_run zeroes r first: a run that could not be set up reports zeros */
		if (some && !want[k])
			continue;
		p.mp_cc = cases[k].cc;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		rv = bneck_run(&p, &r);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		wall = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
		verified = !rv && r.tcp_ok && r.mp_ok && !r.tcp_rv && !r.mp_rv;
		free_mbps = r.mp_sf_window[1] * 8.0 / (p.seconds - p.seconds / 2) / 1e6;
		if (!p.balance)
			want_text = cases[k].hi < 1e8 ? "ratio 0.7..1.3" : "ratio >= 1.5";
		else if (cases[k].hi < 1e8)
			want_text = "shared <= " STR(BALANCE_SHARED_MAX) ", free >= " STR(
				BALANCE_FREE_MIN);
		else
			want_text = "shared >= " STR(BALANCE_SHARED_MAX) ", free >= " STR(
				BALANCE_FREE_MIN);
		if (!p.balance)
			ok = r.ratio >= cases[k].lo && r.ratio <= cases[k].hi;
		else
			ok = free_mbps >= BALANCE_FREE_MIN &&
			     (cases[k].hi < 1e8 ? r.mp_shared_mbps <= BALANCE_SHARED_MAX
						: r.mp_shared_mbps >= BALANCE_SHARED_MAX);
		ok = ok && verified && r.mp_subflows == 2;
		if (json)
			printf("{\"cc\": \"%s\", \"tcp_cc\": \"%s\", \"seed\": %llu, \"seconds\": "
			       "%u, "
			       "\"window_s\": %u, \"mp_mbps\": %.4f, \"tcp_mbps\": %.4f, "
			       "\"ratio\": %.4f, \"verified\": %s, \"subflows\": %u, "
			       "\"sf_bytes\": [%llu, %llu], \"balance\": %s, \"path0_mbps\": %.4f, "
			       "\"path1_mbps\": %.4f, \"queue_drops\": %llu, \"pass\": %s, "
			       "\"wall_s\": %.2f}\n",
			       cases[k].cc, p.tcp_cc, (unsigned long long)p.seed, p.seconds,
			       p.seconds - p.seconds / 2, r.mp_mbps, r.tcp_mbps, r.ratio,
			       verified ? "true" : "false", r.mp_subflows,
			       (unsigned long long)r.mp_sf_bytes[0],
			       (unsigned long long)r.mp_sf_bytes[1], p.balance ? "true" : "false",
			       r.mp_shared_mbps, free_mbps, (unsigned long long)r.queue_drops,
			       ok ? "true" : "false", wall);
		else
			printf("%-4s %-6s vs TCP %s: MPTCP %.2f Mbit/s, TCP %.2f Mbit/s over the "
			       "last %u s (path 0 %.2f, path 1 %.2f): ratio %.2f (want %s); "
			       "verified %s; %llu queue drops; %.1f s wall\n",
			       ok ? "ok" : "FAIL", cases[k].cc, p.tcp_cc, r.mp_mbps, r.tcp_mbps,
			       p.seconds - p.seconds / 2, r.mp_shared_mbps, free_mbps, r.ratio,
			       want_text, verified ? "both" : "NO",
			       (unsigned long long)r.queue_drops, wall);
		fflush(stdout);
		fails += !ok;
	}
	return fails ? 1 : 0;
}
