/* Integrity at scale: N seeded adversarial transfers (adv_sim.h) over two paths with
 * loss, reordering, duplication, corruption, payload rewriting (DSS checksums on
 * and off), blackouts, path flaps, ADD_ADDR / REMOVE_ADDR, MP_PRIO and subflow
 * resets.  Each run must end with identical bytes or a reported error, without a
 * stall or a spin.
 *
 *   integrity [--runs N] [--first SEED] [--seed S -v] [--timeout SEC]
 *
 * Each seed runs in a child process (a crash or an assertion in the stack fails
 * that seed only; a hang is killed after --timeout seconds).  Prints TAP: one
 * "not ok" per failing seed with the reason and how to replay it, then the figures
 * and, when no seed failed, one "ok".  Exit 1 if any seed failed.
 */
#include "adv_sim.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct figures {
	uint64_t runs, complete, errors, failed, crashed;
	uint64_t bytes, pkts, drops, dups, delays, corrupts, rewrites, resets, events;
	uint64_t csum_runs, fallback_runs;
};

/* One seed in a child; the result comes back through a pipe. */
static int run_child(uint64_t seed, unsigned timeout, struct adv_result *r, char *why,
		     size_t whylen)
{
	int fd[2], st;
	pid_t pid;
	ssize_t got;

	if (pipe(fd) < 0)
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct adv_src src;
		const char *what;
		ssize_t w;

		close(fd[0]);
		alarm(timeout);
		adv_src_seed(&src, seed);
		what = adv_sim_run(&src, r, false);
		w = write(fd[1], r, sizeof(*r));
		_exit(w == (ssize_t)sizeof(*r) ? (what ? 1 : 0) : 2);
	}
	close(fd[1]);
	memset(r, 0, sizeof(*r));
	got = read(fd[0], r, sizeof(*r));
	close(fd[0]);
	waitpid(pid, &st, 0);
	if (WIFSIGNALED(st)) {
		snprintf(why, whylen, "crashed with signal %d (%s)", WTERMSIG(st),
			 WTERMSIG(st) == SIGALRM ? "hang" : strsignal(WTERMSIG(st)));
		return 2;
	}
	if (got != (ssize_t)sizeof(*r) || !WIFEXITED(st) || WEXITSTATUS(st) > 1) {
		snprintf(why, whylen, "child failed (status %d)", st);
		return 2;
	}
	if (WEXITSTATUS(st) == 1) {
		snprintf(why, whylen, "%s", r->what);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t runs = 100, first = 1, one = 0;
	unsigned timeout = 60;
	bool verbose = false;
	struct figures f = {0};

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			runs = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--first") && i + 1 < argc)
			first = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			one = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			timeout = (unsigned)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "-v"))
			verbose = true;
		else {
			fprintf(stderr,
				"usage: %s [--runs N] [--first SEED] [--seed S [-v]] "
				"[--timeout SEC]\n",
				argv[0]);
			return 2;
		}
	}
	if (one) {
		/* replay one seed in this process (for a debugger) */
		struct adv_src src;
		struct adv_result r;
		const char *what;

		adv_src_seed(&src, one);
		what = adv_sim_run(&src, &r, verbose);
		printf("seed %llu: %s; %llu of %llu bytes, eof %d, client_err %d, server_err %d, "
		       "%.3f s virtual, %llu steps, %llu pkts (drop %llu dup %llu delay %llu "
		       "corrupt %llu rewrite %llu reset %llu)\n",
		       (unsigned long long)one, what ? what : "ok", (unsigned long long)r.received,
		       (unsigned long long)r.written, r.eof, r.client_err, r.server_err,
		       (double)r.end_ns / 1e9, (unsigned long long)r.steps,
		       (unsigned long long)r.pkts, (unsigned long long)r.drops,
		       (unsigned long long)r.dups, (unsigned long long)r.delays,
		       (unsigned long long)r.corrupts, (unsigned long long)r.rewrites,
		       (unsigned long long)r.resets);
		return what ? 1 : 0;
	}
	printf("# integrity: %llu seeded transfers from seed %llu\n", (unsigned long long)runs,
	       (unsigned long long)first);
	for (uint64_t seed = first; seed < first + runs; seed++) {
		struct adv_result r;
		char why[256];
		int rv = run_child(seed, timeout, &r, why, sizeof(why));

		f.runs++;
		if (rv < 0) {
			printf("not ok - integrity seed %llu: fork failed\n",
			       (unsigned long long)seed);
			f.failed++;
			continue;
		}
		if (rv) {
			f.failed++;
			f.crashed += rv == 2;
			printf("not ok - integrity seed %llu: %s (replay: integrity --seed %llu "
			       "-v)\n",
			       (unsigned long long)seed, why, (unsigned long long)seed);
		} else if (r.error) {
			f.errors++;
		} else {
			f.complete++;
		}
		f.bytes += r.received;
		f.pkts += r.pkts;
		f.drops += r.drops;
		f.dups += r.dups;
		f.delays += r.delays;
		f.corrupts += r.corrupts;
		f.rewrites += r.rewrites;
		f.resets += r.resets;
		f.events += r.events;
		f.csum_runs += r.checksum;
		f.fallback_runs += r.fallback;
	}
	printf("# %llu runs: %llu complete and intact, %llu ended with a reported error, "
	       "%llu failed (%llu crashed or hung)\n",
	       (unsigned long long)f.runs, (unsigned long long)f.complete,
	       (unsigned long long)f.errors, (unsigned long long)f.failed,
	       (unsigned long long)f.crashed);
	printf("# %llu bytes checked, %llu packets: %llu dropped, %llu duplicated, %llu delayed, "
	       "%llu corrupted, %llu rewritten, %llu reset; %llu events; %llu runs with DSS "
	       "checksums, %llu fell back to TCP\n",
	       (unsigned long long)f.bytes, (unsigned long long)f.pkts, (unsigned long long)f.drops,
	       (unsigned long long)f.dups, (unsigned long long)f.delays,
	       (unsigned long long)f.corrupts, (unsigned long long)f.rewrites,
	       (unsigned long long)f.resets, (unsigned long long)f.events,
	       (unsigned long long)f.csum_runs, (unsigned long long)f.fallback_runs);
	/* the failing seeds were each a "not ok" already */
	printf("%s integrity: %llu seeded adversarial transfers, %llu failed\n",
	       f.failed ? "#" : "ok -", (unsigned long long)f.runs, (unsigned long long)f.failed);
	return f.failed ? 1 : 0;
}
