#include "scenario.h"

#include "link_sampler.h"
#include "metrics.h"
#include "netaddr.h"
#include "perf_argv.h"
#include "topo_json.h"
#include "units.h"
#include "world.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SERVER_READY_TIMEOUT_MS 5000
#define SERVER_GRACE_NS		(5ull * 1000000000ull)
/* SIGTERM first (mpt-perf then writes what it measured), SIGKILL this much later */
#define KILL_GRACE_NS		(3ull * 1000000000ull)
#define PROGRESS_EVERY_NS	(500ull * 1000000ull)
#define NO_APPS_TAIL_NS		(1ull * 1000000000ull)
/* a command app's server: how long it may take to listen on its port */
#define CMD_READY_TIMEOUT_NS	(20ull * 1000000000ull)
#define CMD_READY_POLL_NS	(20ull * 1000000ull)

struct app_run {
	pid_t server_pid, client_pid;
	int server_status, client_status;
	bool server_done, client_done, client_started, timed_out;
	uint64_t client_start, client_end; /* ns since t0 */
	uint64_t term_at;		   /* SIGTERM sent (ns since t0 + 1); 0: not yet */
	/* mpt-perf apps: the -J report (json) and stderr (log); command apps: the
	 * command's stdout (json) and stderr (log), and mpt-run's --log (mptlog) */
	char client_json[4096], server_json[4096];
	char client_log[4096], server_log[4096];
	char client_mptlog[4096], server_mptlog[4096];
	bool cmd;	     /* a command app: signals go to the process group */
	bool server_stopped; /* we signalled the server (its exit is then no error) */
	/* command apps: each link direction's tx_bytes (link l, dir d at 2 * l + d) when
	 * the client started and when it ended */
	double *ctr0, *ctr1;
	bool ctr0_set, ctr1_set;
	char start_error[256]; /* why a command app's server did not become ready */
};

struct event_run {
	bool fired;
	uint64_t fired_ns; /* since t0 */
	int result;	   /* 0, or -1 when applying failed */
	char error[TOPO_ERR_MAX];
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void free_runs(struct app_run *runs, int n)
{
	for (int a = 0; a < n; a++) {
		free(runs[a].ctr0);
		free(runs[a].ctr1);
	}
	free(runs);
}

static int mkdir_p(const char *path)
{
	char buf[4096];
	size_t n = strlen(path);

	if (n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

int scenario_check(const struct topology *t, char err[TOPO_ERR_MAX])
{
	for (int a = 0; a < t->napps; a++) {
		const struct topo_app *ap = &t->apps[a];
		const struct {
			int host;
			struct topo_pos pos;
		} ends[2] = {{ap->client, ap->client_pos}, {ap->server, ap->server_pos}};

		for (int e = 0; e < 2; e++) {
			const struct topo_host *h = &t->hosts[ends[e].host];
			if (h->stack == TOPO_STACK_NONE)
				return topo_errorf(
					t, ends[e].pos, err,
					"app %s runs on host %s, which has no stack (give "
					"the host stack: kernel, tcp or mpt)",
					ap->name, h->name);
		}
	}
	return 0;
}

static int exit_code(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return -1;
}

/* fork + enter host's namespace + exec argv, stdout to out, stderr to errlog.
 * ready_fd >= 0 becomes fd 3 in the child. */
static pid_t spawn(const struct topology *t, int host, char *const argv[], const char *out,
		   const char *errlog, int ready_fd)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	{
		sigset_t none;
		int fd;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		setpgid(0, 0);
		if (world_enter_host(t, host)) {
			fprintf(stderr, "mpnet: entering host %s failed\n", t->hosts[host].name);
			_exit(127);
		}
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd >= 0)
			dup2(fd, 1);
		fd = open(errlog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd >= 0)
			dup2(fd, 2);
		if (ready_fd >= 0 && ready_fd != 3) {
			dup2(ready_fd, 3);
			close(ready_fd);
		}
		execv(argv[0], argv);
		fprintf(stderr, "mpnet: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
}

/* The mpt-run and mptcpize a command app needs, found before anything is created. */
struct cmd_tools {
	char mpt_run[4096], mptcpize[4096];
};

/* PATH lookup of name into out; 0 or -1. */
static int find_in_path(const char *name, char *out, size_t len)
{
	const char *path = getenv("PATH");
	char buf[8192], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path && *path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
	for (char *d = strtok_r(buf, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		snprintf(out, len, "%s/%s", d, name);
		if (!access(out, X_OK))
			return 0;
	}
	return -1;
}

/* Every command app's tools exist: mpt-run for a libmpt end, mptcpize for a kernel
 * end.  Returns 0 or -1 with a FILE:LINE:COL message in err. */
static int command_tools(const struct topology *t, const struct scenario_opts *o,
			 struct cmd_tools *ct, char err[TOPO_ERR_MAX])
{
	const char *slash = strrchr(o->perf_bin, '/');

	if (o->mpt_run_bin)
		snprintf(ct->mpt_run, sizeof(ct->mpt_run), "%s", o->mpt_run_bin);
	else
		snprintf(ct->mpt_run, sizeof(ct->mpt_run), "%.*s%smpt-run",
			 slash ? (int)(slash - o->perf_bin) : 0, o->perf_bin, slash ? "/" : "");
	if (find_in_path("mptcpize", ct->mptcpize, sizeof(ct->mptcpize)))
		ct->mptcpize[0] = '\0';
	for (int a = 0; a < t->napps; a++) {
		const struct topo_app *ap = &t->apps[a];

		if (ap->mode != TOPO_MODE_COMMAND)
			continue;
		for (int e = 0; e < 2; e++) {
			int h = e ? ap->server : ap->client;
			struct topo_pos pos = e ? ap->server_pos : ap->client_pos;

			if (t->hosts[h].stack == TOPO_STACK_KERNEL && !ct->mptcpize[0])
				return topo_errorf(
					t, pos, err,
					"app %s: host %s is stack: kernel, and its command "
					"runs under mptcpize run, which is not installed "
					"(apt-get install mptcpize)",
					ap->name, t->hosts[h].name);
			if (t->hosts[h].stack == TOPO_STACK_MPT && access(ct->mpt_run, X_OK))
				return topo_errorf(t, pos, err,
						   "app %s: host %s is stack: mpt, and its command "
						   "runs under %s, which is missing (run make)",
						   ap->name, t->hosts[h].name, ct->mpt_run);
		}
	}
	return 0;
}

/* A listening TCP socket on port in the namespace of pid: /proc/PID/net/tcp{,6}
 * (an MPTCP listener has its TCP listener there too). */
static bool proc_listening(pid_t pid, unsigned port)
{
	for (int v6 = 0; v6 < 2; v6++) {
		char path[64], line[512];
		FILE *f;
		bool found = false;

		snprintf(path, sizeof(path), "/proc/%d/net/tcp%s", (int)pid, v6 ? "6" : "");
		f = fopen(path, "r");
		if (!f)
			continue;
		while (!found && fgets(line, sizeof(line), f)) {
			char local[128];
			unsigned st;
			char *colon;

			if (sscanf(line, " %*d: %127s %*s %x", local, &st) != 2)
				continue;
			colon = strrchr(local, ':');
			found = st == 0x0A && colon && strtoul(colon + 1, NULL, 16) == port;
		}
		fclose(f);
		if (found)
			return true;
	}
	return false;
}

/* mpt-run's log says "listening on port N" (libmpt's listeners are not in
 * /proc/net/tcp). */
static bool log_listening(const char *log, unsigned port)
{
	char line[512], want[48];
	FILE *f = fopen(log, "r");
	bool found = false;

	if (!f)
		return false;
	snprintf(want, sizeof(want), "listening on port %u", port);
	while (!found && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		size_t n = strlen(line), w = strlen(want);

		found = n >= w && !strcmp(line + n - w, want);
	}
	fclose(f);
	return found;
}

/* A command app's server: start it, then watch until it listens on the app's port
 * (kernel and tcp hosts: a listener in /proc/PID/net/tcp{,6}; libmpt hosts: mpt-run's
 * log), at most CMD_READY_TIMEOUT_NS; fails at once when it exits first. */
static int start_command_server(const struct topology *t, const struct scenario_opts *o,
				const struct cmd_tools *ct, const char *dir, int a,
				struct app_run *r)
{
	const struct topo_app *ap = &t->apps[a];
	const struct perf_cmd_env env = {ct->mpt_run, ct->mptcpize, dir, r->server_mptlog};
	bool mpt = t->hosts[ap->server].stack == TOPO_STACK_MPT;
	uint64_t until = mono_ns() + CMD_READY_TIMEOUT_NS;
	struct perf_argv pa;

	(void)o;
	if (perf_argv_command(&pa, t, a, true, &env)) {
		fprintf(stderr, "mpnet: app %s: server command line too long\n", ap->name);
		return -1;
	}
	r->server_pid = spawn(t, ap->server, pa.argv, r->server_json, r->server_log, -1);
	if (r->server_pid < 0)
		return -1;
	while (!(mpt ? log_listening(r->server_mptlog, ap->port)
		     : proc_listening(r->server_pid, ap->port))) {
		struct timespec ts = {0, (long)CMD_READY_POLL_NS};

		if (waitpid(r->server_pid, &r->server_status, WNOHANG) == r->server_pid) {
			r->server_done = true;
			snprintf(r->start_error, sizeof(r->start_error),
				 "server exited with %d before listening on port %u (see "
				 "apps/%.40s-server.stderr)",
				 exit_code(r->server_status), ap->port, ap->name);
			fprintf(stderr,
				"mpnet: app %s: the server command on %s exited with %d before "
				"listening on port %u (see %s)\n",
				ap->name, t->hosts[ap->server].name, exit_code(r->server_status),
				ap->port, r->server_log);
			return -1;
		}
		if (mono_ns() >= until) {
			snprintf(r->start_error, sizeof(r->start_error),
				 "server did not listen on port %u within %llu s (see "
				 "apps/%.40s-server.stderr)",
				 ap->port,
				 (unsigned long long)(CMD_READY_TIMEOUT_NS / 1000000000ull),
				 ap->name);
			fprintf(stderr,
				"mpnet: app %s: the server command on %s did not listen on port %u "
				"within %llu s (see %s)\n",
				ap->name, t->hosts[ap->server].name, ap->port,
				(unsigned long long)(CMD_READY_TIMEOUT_NS / 1000000000ull),
				r->server_log);
			return -1;
		}
		nanosleep(&ts, NULL);
	}
	return 0;
}

static int start_server(const struct topology *t, const struct scenario_opts *o, int a,
			struct app_run *r)
{
	const struct topo_app *ap = &t->apps[a];
	struct perf_argv pa;
	int p[2];
	char buf[16];
	struct pollfd pfd;
	ssize_t got;

	if (perf_argv_server(&pa, t, a, o->perf_bin)) {
		fprintf(stderr, "mpnet: app %s: server command line too long\n", ap->name);
		return -1;
	}
	if (pipe(p))
		return -1;
	r->server_pid = spawn(t, ap->server, pa.argv, r->server_json, r->server_log, p[1]);
	close(p[1]);
	if (r->server_pid < 0) {
		close(p[0]);
		return -1;
	}
	pfd = (struct pollfd){.fd = p[0], .events = POLLIN};
	got = poll(&pfd, 1, SERVER_READY_TIMEOUT_MS) == 1 ? read(p[0], buf, sizeof(buf)) : -1;
	close(p[0]);
	if (got <= 0) {
		fprintf(stderr, "mpnet: app %s: the server on %s did not become ready (see %s)\n",
			ap->name, t->hosts[ap->server].name, r->server_log);
		return -1;
	}
	return 0;
}

static int start_client(const struct topology *t, const struct scenario_opts *o,
			const struct cmd_tools *ct, const char *dir, int a, struct app_run *r)
{
	const struct perf_cmd_env env = {ct->mpt_run, ct->mptcpize, dir, r->client_mptlog};
	struct perf_argv pa;
	int rc = t->apps[a].mode == TOPO_MODE_COMMAND
			 ? perf_argv_command(&pa, t, a, false, &env)
			 : perf_argv_client(&pa, t, a, o->perf_bin, o->interval_s);

	if (rc) {
		fprintf(stderr, "mpnet: app %s: client command line too long\n", t->apps[a].name);
		return -1;
	}
	r->client_pid = spawn(t, t->apps[a].client, pa.argv, r->client_json, r->client_log, -1);
	r->client_started = true;
	return r->client_pid < 0 ? -1 : 0;
}

static void reap(struct app_run *runs, int napps, uint64_t now)
{
	int st;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (int a = 0; a < napps; a++) {
			if (pid == runs[a].client_pid && !runs[a].client_done) {
				runs[a].client_done = true;
				runs[a].client_status = st;
				runs[a].client_end = now;
			} else if (pid == runs[a].server_pid && !runs[a].server_done) {
				runs[a].server_done = true;
				runs[a].server_status = st;
			}
		}
	}
}

/* The signal that stops an app now: SIGTERM the first time, SIGKILL once
 * KILL_GRACE_NS has passed since, else 0 (wait). */
static int stop_signal(struct app_run *r, uint64_t now)
{
	if (!r->term_at) {
		r->term_at = now + 1;
		return SIGTERM;
	}
	return now + 1 >= r->term_at + KILL_GRACE_NS ? SIGKILL : 0;
}

/* Ask the app's processes still running to stop (SIGTERM: mpt-perf reports what it
 * measured so far); once KILL_GRACE_NS has passed since, SIGKILL them. */
static void stop_app(struct app_run *r, uint64_t now)
{
	int sig = stop_signal(r, now);

	if (!sig)
		return;
	if (r->client_pid > 0 && !r->client_done)
		kill(r->cmd ? -r->client_pid : r->client_pid, sig);
	if (r->server_pid > 0 && !r->server_done) {
		kill(r->cmd ? -r->server_pid : r->server_pid, sig);
		r->server_stopped = true;
	}
}

/* A command app's server is stopped as soon as its client ends (SIGTERM to its
 * process group, SIGKILL KILL_GRACE_NS later). */
static void stop_server(struct app_run *r, uint64_t now)
{
	int sig = stop_signal(r, now);

	if (!sig)
		return;
	if (r->server_pid > 0 && !r->server_done) {
		kill(-r->server_pid, sig);
		r->server_stopped = true;
	}
}

/* Every link direction's tx_bytes now, into v (2 * nlinks). */
static void link_counters(struct world *w, int nlinks, double *v)
{
	for (int l = 0; l < nlinks; l++)
		for (int d = 0; d < 2; d++) {
			json_t *j = world_link_json(w, l, d);

			v[2 * l + d] = json_number_value(json_object_get(j, "tx_bytes"));
			json_decref(j);
		}
}

/* SIGKILL what is left; a command app's whole process groups (what its shell
 * started may outlive the shell). */
static void kill_app(struct app_run *r)
{
	if (r->client_pid > 0 && (r->cmd || !r->client_done))
		kill(r->cmd ? -r->client_pid : r->client_pid, SIGKILL);
	if (r->server_pid > 0 && (r->cmd || !r->server_done))
		kill(r->cmd ? -r->server_pid : r->server_pid, SIGKILL);
}

/* --- results ------------------------------------------------------------------- */

static const char *link_of_addr(const struct topology *t, const char *addr)
{
	struct netaddr a;

	if (!addr || netaddr_parse(addr, &a))
		return NULL;
	for (int l = 0; l < t->nlinks; l++)
		for (int e = 0; e < 2; e++)
			if (netaddr_eq(&a, &t->links[l].end[e].addr4) ||
			    netaddr_eq(&a, &t->links[l].end[e].addr6))
				return t->links[l].name;
	return NULL;
}

/* The subflows as the sending side saw them, each with the link it used. */
static json_t *app_subflows(const struct topology *t, json_t *sender, json_t *receiver)
{
	json_t *out = json_array(), *subs, *sf;
	size_t i;
	bool from_sender = true;

	subs = json_object_get(sender, "subflows");
	if (!json_is_array(subs) || !json_array_size(subs)) {
		subs = json_object_get(receiver, "subflows");
		from_sender = false;
	}
	json_array_foreach(subs, i, sf)
	{
		json_t *loc = json_object_get(sf, "local"), *rem = json_object_get(sf, "remote");
		const char *la =
			json_string_value(json_is_object(loc) ? json_object_get(loc, "addr") : loc);
		const char *ra =
			json_string_value(json_is_object(rem) ? json_object_get(rem, "addr") : rem);
		const char *ln = link_of_addr(t, la);
		json_t *bytes = json_object_get(sf, from_sender ? "bytes_sent" : "bytes_received");

		if (!ln)
			ln = link_of_addr(t, ra);
		json_array_append_new(out, json_pack("{s:s?, s:s?, s:s?, s:o}", "link", ln, "local",
						     la, "remote", ra, "bytes",
						     bytes ? json_incref(bytes) : json_integer(0)));
	}
	return out;
}

static json_t *load_json(const char *path)
{
	json_error_t e;

	return json_load_file(path, 0, &e);
}

static const char *rel(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 && path[n] == '/' ? path + n + 1 : path;
}

/* o[key] (a new reference), or dflt when o or the key is missing. */
static json_t *get_or(json_t *o, const char *key, json_t *dflt)
{
	json_t *v = o ? json_object_get(o, key) : NULL;

	if (!v)
		return dflt;
	json_decref(dflt);
	return json_incref(v);
}

/* mpt-perf's report says a signal stopped it ("status": "interrupted"). */
static bool is_interrupted(json_t *j)
{
	const char *st = json_string_value(json_object_get(j, "status"));

	return st && !strcmp(st, "interrupted");
}

/* A copy of report[key] without its per-sample list (the CDF file has them). */
static json_t *without_list(json_t *report, const char *key, const char *list)
{
	json_t *v = json_object_get(report, key), *c;

	if (!json_is_object(v))
		return json_null();
	c = json_deep_copy(v);
	json_object_del(c, list);
	return c;
}

/* mode, the rr / stream statistics (the client's: it measured rr, and has the
 * receiver's delays either way), and each libmpt end's out-of-order queue. */
static void app_workload(const struct topo_app *ap, json_t *cj, json_t *sj, json_t *o)
{
	json_t *m = cj && json_is_object(
				  json_object_get(cj, ap->mode == TOPO_MODE_RR ? "rr" : "stream"))
			    ? cj
			    : sj;

	json_object_set_new(o, "mode", json_string(topo_mode_name(ap->mode)));
	json_object_set_new(o, "rr",
			    ap->mode == TOPO_MODE_RR ? without_list(m, "rr", "completion_ms")
						     : json_null());
	json_object_set_new(o, "stream",
			    ap->mode == TOPO_MODE_STREAM ? without_list(m, "stream", "delay_ms")
							 : json_null());
	json_object_set_new(o, "ofo",
			    json_pack("{s:O?, s:O?}", "client", json_object_get(cj, "ofo"),
				      "server", json_object_get(sj, "ofo")));
}

/* An app's name, its two hosts and their stacks, into its summary object. */
static void app_identity(json_t *o, const struct topology *t, const struct topo_app *ap)
{
	json_object_set_new(o, "name", json_string(ap->name));
	json_object_set_new(o, "client", json_string(t->hosts[ap->client].name));
	json_object_set_new(o, "server", json_string(t->hosts[ap->server].name));
	json_object_set_new(o, "stacks",
			    json_pack("{s:s, s:s}", "client",
				      topo_stack_name(t->hosts[ap->client].stack), "server",
				      topo_stack_name(t->hosts[ap->server].stack)));
}

/* A command app's result: exit codes, output files, and its bytes from the link
 * counters: over the links at the client, between the client's start and end, the
 * bytes that left the client (upload) or reached it (download), whichever is more;
 * wire bytes (headers included, and any other traffic those links carried then). */
static json_t *command_result(const struct topology *t, int a, struct app_run *r, const char *dir,
			      bool *ok)
{
	const struct topo_app *ap = &t->apps[a];
	json_t *o = json_object(), *lb = json_array();
	int cexit = r->client_done ? exit_code(r->client_status) : -1;
	int sexit = r->server_done ? exit_code(r->server_status) : -1;
	double out = 0, in = 0, secs = 0, bytes;
	bool have = r->ctr0_set && r->ctr1_set;
	char why[256] = "", b[NETADDR_STRLEN];

	for (int l = 0; have && l < t->nlinks; l++) {
		int e = topo_link_end(t, l, ap->client);

		if (e < 0)
			continue;
		for (int d = 0; d < 2; d++) {
			double v = r->ctr1[2 * l + d] - r->ctr0[2 * l + d];

			v = v > 0 ? v : 0;
			/* dir 0 (up) leaves the link's first host */
			if ((d == 0) == (e == 0))
				out += v;
			else
				in += v;
			json_array_append_new(lb,
					      json_pack("{s:s, s:s, s:f}", "link", t->links[l].name,
							"dir", d ? "down" : "up", "bytes", v));
		}
	}
	bytes = out >= in ? out : in;
	if (r->client_done && r->client_end > r->client_start)
		secs = (double)(r->client_end - r->client_start) / 1e9;
	app_identity(o, t, ap);
	json_object_set_new(o, "mode", json_string("command"));
	json_object_set_new(
		o, "command",
		json_pack("{s:s, s:s}", "client", ap->client_cmd, "server", ap->server_cmd));
	json_object_set_new(o, "direction", json_string(out >= in ? "upload" : "download"));
	json_object_set_new(o, "server_address",
			    json_string(netaddr_fmt(&ap->server_addr, false, b, sizeof(b))));
	json_object_set_new(o, "port", json_integer(ap->port));
	json_object_set_new(o, "bytes", json_integer(have ? (json_int_t)bytes : 0));
	json_object_set_new(o, "seconds", json_real(secs));
	json_object_set_new(o, "goodput_mbps",
			    json_real(have && secs > 0 ? bytes * 8 / secs / 1e6 : 0));
	json_object_set_new(o, "goodput_source", json_string(have ? "link_counters" : "none"));
	json_object_set_new(o, "link_bytes", lb);
	json_object_set_new(o, "interrupted", json_boolean(r->timed_out));
	json_object_set_new(o, "started_s", json_real((double)r->client_start / 1e9));
	if (r->client_done)
		json_object_set_new(o, "ended_s", json_real((double)r->client_end / 1e9));
	json_object_set_new(o, "exit", json_pack("{s:i, s:i}", "client", cexit, "server", sexit));
	json_object_set_new(o, "server_stopped", json_boolean(r->server_stopped));
	json_object_set_new(o, "subflows", json_array());
	json_object_set_new(o, "client_stdout", json_string(rel(r->client_json, dir)));
	json_object_set_new(o, "client_stderr", json_string(rel(r->client_log, dir)));
	json_object_set_new(o, "server_stdout", json_string(rel(r->server_json, dir)));
	json_object_set_new(o, "server_stderr", json_string(rel(r->server_log, dir)));
	if (t->hosts[ap->client].stack == TOPO_STACK_MPT)
		json_object_set_new(o, "client_mpt_log", json_string(rel(r->client_mptlog, dir)));
	if (t->hosts[ap->server].stack == TOPO_STACK_MPT)
		json_object_set_new(o, "server_mpt_log", json_string(rel(r->server_mptlog, dir)));

	if (!r->client_started)
		snprintf(why, sizeof(why), "%s",
			 r->start_error[0] ? r->start_error : "not started");
	else if (r->timed_out)
		snprintf(why, sizeof(why), "timed out after %.1f s", (double)ap->timeout_ns / 1e9);
	else if (cexit != 0)
		snprintf(why, sizeof(why), "client exited with %d (see %.200s)", cexit,
			 rel(r->client_log, dir));
	else if (r->server_done && !r->server_stopped && sexit != 0)
		/* a server we stopped may die of our signal; one that failed alone is an
		 * error */
		snprintf(why, sizeof(why), "server exited with %d (see %.200s)", sexit,
			 rel(r->server_log, dir));
	*ok = why[0] == '\0';
	json_object_set_new(o, "status", json_string(*ok ? "ok" : why));
	if (!*ok)
		json_object_set_new(o, "error", json_string(why));
	return o;
}

static json_t *app_result(const struct topology *t, int a, struct app_run *r, const char *dir,
			  bool *ok)
{
	const struct topo_app *ap = &t->apps[a];
	json_t *cj = load_json(r->client_json), *sj = load_json(r->server_json);
	json_t *o = json_object(), *sender, *receiver, *measured;
	bool interrupted;
	int cexit = r->client_done ? exit_code(r->client_status) : -1;
	int sexit = r->server_done ? exit_code(r->server_status) : -1;
	bool verified = cj && json_is_true(json_object_get(cj, "verified"));
	char why[256] = "";

	sender = ap->direction == TOPO_UPLOAD ? cj : sj;
	receiver = ap->direction == TOPO_UPLOAD ? sj : cj;
	app_identity(o, t, ap);
	json_object_set_new(o, "direction",
			    json_string(ap->direction == TOPO_UPLOAD ? "upload" : "download"));
	{
		char b[NETADDR_STRLEN];
		json_object_set_new(
			o, "server_address",
			json_string(netaddr_fmt(&ap->server_addr, false, b, sizeof(b))));
	}
	/* stopped by a signal (a timeout): the receiver's count is what arrived */
	interrupted = is_interrupted(cj) || is_interrupted(sj);
	measured = interrupted && json_object_get(receiver, "bytes") ? receiver : cj;
	json_object_set_new(o, "bytes", get_or(measured, "bytes", json_integer(0)));
	json_object_set_new(o, "seconds", get_or(measured, "seconds", json_real(0)));
	json_object_set_new(o, "goodput_mbps", get_or(measured, "goodput_mbps", json_real(0)));
	json_object_set_new(o, "goodput_source", json_string("mpt-perf"));
	json_object_set_new(o, "interrupted", json_boolean(interrupted));
	json_object_set_new(o, "verified", json_boolean(verified));
	json_object_set_new(o, "started_s", json_real((double)r->client_start / 1e9));
	if (r->client_done)
		json_object_set_new(o, "ended_s", json_real((double)r->client_end / 1e9));
	json_object_set_new(o, "exit", json_pack("{s:i, s:i}", "client", cexit, "server", sexit));
	json_object_set_new(o, "subflows", app_subflows(t, sender, receiver));
	/* each end's mpt-perf "rcvbuf" {requested, effective, autotuning} (null if absent) */
	json_object_set_new(o, "rcvbuf",
			    json_pack("{s:O?, s:O?}", "client", json_object_get(cj, "rcvbuf"),
				      "server", json_object_get(sj, "rcvbuf")));
	app_workload(ap, cj, sj, o);
	json_object_set_new(o, "client_json", json_string(rel(r->client_json, dir)));
	json_object_set_new(o, "server_json", json_string(rel(r->server_json, dir)));

	if (!r->client_started)
		snprintf(why, sizeof(why), "not started");
	else if (r->timed_out && interrupted)
		snprintf(why, sizeof(why),
			 "timed out after %.1f s (interrupted; %" PRId64 " bytes measured)",
			 (double)ap->timeout_ns / 1e9,
			 (int64_t)json_integer_value(json_object_get(o, "bytes")));
	else if (r->timed_out)
		snprintf(why, sizeof(why), "timed out after %.1f s", (double)ap->timeout_ns / 1e9);
	else if (cexit != 0)
		snprintf(why, sizeof(why), "client exited with %d (see %.200s)", cexit,
			 rel(r->client_log, dir));
	else if (sexit != 0)
		snprintf(why, sizeof(why), "server exited with %d (see %.200s)", sexit,
			 rel(r->server_log, dir));
	else if (!verified)
		snprintf(why, sizeof(why), "bytes not verified");
	*ok = why[0] == '\0';
	json_object_set_new(o, "status", json_string(*ok ? "ok" : why));
	json_decref(cj);
	json_decref(sj);
	return o;
}

static const char *dir_name(int mask)
{
	return mask == 3 ? "both" : mask == 1 ? "up" : "down";
}

static int write_events_csv(const struct topology *t, const struct event_run *ev, const char *dir)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/events.csv", dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "at_s,fired_s,action,link,host,dir,result\n");
	for (int i = 0; i < t->nevents; i++) {
		const struct topo_event *e = &t->events[i];
		fprintf(f, "%.6f,", (double)e->at_ns / 1e9);
		if (ev[i].fired)
			fprintf(f, "%.6f", (double)ev[i].fired_ns / 1e9);
		fprintf(f, ",%s,%s,%s,%s,%s\n", topo_action_name(e->action), t->links[e->link].name,
			e->host >= 0 ? t->hosts[e->host].name : "",
			e->action == TOPO_EV_SET ? dir_name(e->dir_mask) : "",
			!ev[i].fired   ? "not-fired"
			: ev[i].result ? "failed"
				       : "ok");
	}
	return fclose(f);
}

/* --- the run ------------------------------------------------------------------- */

static void default_out_dir(const struct topology *t, char *buf, size_t len)
{
	time_t now = time(NULL);
	struct tm tm;
	char ts[32];

	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(buf, len, "results/%s-%s", t->name, ts);
}

static void progress(const struct topology *t, uint64_t now, const struct app_run *runs, int fired)
{
	int running = 0, done = 0;

	for (int a = 0; a < t->napps; a++) {
		if (runs[a].client_done)
			done++;
		else if (runs[a].client_started)
			running++;
	}
	fprintf(stderr, "\r  t=%6.1fs  apps: %d running, %d done of %d  events: %d of %d fired ",
		(double)now / 1e9, running, done, t->napps, fired, t->nevents);
}

int scenario_run(const struct topology *t, const struct scenario_opts *o)
{
	struct world w = {0};
	struct app_run *runs = calloc((size_t)(t->napps ? t->napps : 1), sizeof(*runs));
	struct event_run *evr = calloc((size_t)(t->nevents ? t->nevents : 1), sizeof(*evr));
	char dir[2048], path[8192], err[TOPO_ERR_MAX];
	sigset_t set, old;
	uint64_t t0 = 0, last_progress = 0, end_ns = 0;
	bool interrupted = false, all_ok = true, tty = isatty(2) && !o->quiet;
	int next_ev = 0, rc = MPNET_EXIT_OK, err_no;
	json_t *summary = NULL, *apps, *links, *events;
	struct link_sampler ls = {0};
	struct cmd_tools ct;
	char absdir[PATH_MAX];

	if (!runs || !evr) {
		fprintf(stderr, "mpnet: out of memory\n");
		return MPNET_EXIT_SYSTEM;
	}
	if (scenario_check(t, err)) {
		fprintf(stderr, "%s\n", err);
		free(runs);
		free(evr);
		return MPNET_EXIT_USAGE;
	}
	if (o->out_dir)
		snprintf(dir, sizeof(dir), "%s", o->out_dir);
	else
		default_out_dir(t, dir, sizeof(dir));
	if (o->pcap)
		snprintf(w.pcap_dir, sizeof(w.pcap_dir), "%s/pcap", dir);
	if (world_check(&w, t)) {
		fprintf(stderr, "%s\n", w.err);
		free(runs);
		free(evr);
		return MPNET_EXIT_USAGE;
	}
	if (command_tools(t, o, &ct, err)) {
		fprintf(stderr, "%s\n", err);
		free(runs);
		free(evr);
		return MPNET_EXIT_USAGE;
	}
	/* {run_dir} is absolute (commands run in their host with the caller's cwd), and
	 * goes into shell command lines as it is: checked before anything exists */
	{
		char cwd[1024];

		if (dir[0] == '/' || !getcwd(cwd, sizeof(cwd)))
			snprintf(absdir, sizeof(absdir), "%s", dir);
		else
			snprintf(absdir, sizeof(absdir), "%s/%s", cwd, dir);
	}
	if (absdir[strspn(absdir, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				  "0123456789/._+,:@=-")]) {
		for (int a = 0; a < t->napps; a++)
			if (strstr(t->apps[a].client_cmd, "{run_dir}") ||
			    strstr(t->apps[a].server_cmd, "{run_dir}")) {
				fprintf(stderr,
					"mpnet: app %s uses {run_dir}, but the run directory %s "
					"has "
					"characters the shell would interpret (give --out DIR)\n",
					t->apps[a].name, absdir);
				free(runs);
				free(evr);
				return MPNET_EXIT_USAGE;
			}
	}
	snprintf(path, sizeof(path), "%s/apps", dir);
	if ((err_no = mkdir_p(path)) || (w.pcap_dir[0] && (err_no = mkdir_p(w.pcap_dir)))) {
		fprintf(stderr, "mpnet: cannot create %s: %s (give --out DIR)\n", path,
			strerror(-err_no));
		free(runs);
		free(evr);
		return MPNET_EXIT_USAGE;
	}
	{
		json_t *res = topo_json(t);
		snprintf(path, sizeof(path), "%s/topology.resolved.json", dir);
		json_dump_file(res, path, JSON_INDENT(2));
		json_decref(res);
	}
	for (int a = 0; a < t->napps; a++) {
		bool cmd = t->apps[a].mode == TOPO_MODE_COMMAND;
		const char *out = cmd ? "stdout" : "json", *log = cmd ? "stderr" : "log";

		runs[a].cmd = cmd;
		snprintf(runs[a].client_json, sizeof(runs[a].client_json), "%s/apps/%s-client.%s",
			 dir, t->apps[a].name, out);
		snprintf(runs[a].server_json, sizeof(runs[a].server_json), "%s/apps/%s-server.%s",
			 dir, t->apps[a].name, out);
		snprintf(runs[a].client_log, sizeof(runs[a].client_log), "%s/apps/%s-client.%s",
			 dir, t->apps[a].name, log);
		snprintf(runs[a].server_log, sizeof(runs[a].server_log), "%s/apps/%s-server.%s",
			 dir, t->apps[a].name, log);
		snprintf(runs[a].client_mptlog, sizeof(runs[a].client_mptlog),
			 "%.3900s/apps/%s-client.mpt-run.log", absdir, t->apps[a].name);
		snprintf(runs[a].server_mptlog, sizeof(runs[a].server_mptlog),
			 "%.3900s/apps/%s-server.mpt-run.log", absdir, t->apps[a].name);
		if (cmd) {
			runs[a].ctr0 = calloc((size_t)t->nlinks * 2, sizeof(double));
			runs[a].ctr1 = calloc((size_t)t->nlinks * 2, sizeof(double));
			if (!runs[a].ctr0 || !runs[a].ctr1) {
				fprintf(stderr, "mpnet: out of memory\n");
				free_runs(runs, t->napps);
				free(evr);
				return MPNET_EXIT_SYSTEM;
			}
		}
	}

	/* From here on, SIGINT/SIGTERM/SIGCHLD arrive only through sigtimedwait(), so
	 * teardown always runs. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &old);

	if (!o->quiet)
		fprintf(stderr, "mpnet: %s: building %d hosts, %d links\n", t->name, t->nhosts,
			t->nlinks);
	if (world_up(&w, t)) {
		fprintf(stderr, "mpnet: %s\n", w.err);
		sigprocmask(SIG_SETMASK, &old, NULL);
		free(runs);
		free(evr);
		return MPNET_EXIT_SYSTEM;
	}
	for (int a = 0; a < t->napps; a++) {
		if (runs[a].cmd ? start_command_server(t, o, &ct, absdir, a, &runs[a])
				: start_server(t, o, a, &runs[a])) {
			all_ok = false;
			rc = MPNET_EXIT_APP_FAILED;
			goto collect;
		}
	}
	for (int a = 0; a < t->napps; a++) {
		uint64_t e = t->apps[a].start_ns + t->apps[a].timeout_ns;
		end_ns = e > end_ns ? e : end_ns;
	}
	if (!t->napps && t->nevents)
		end_ns = t->events[t->nevents - 1].at_ns + NO_APPS_TAIL_NS;

	if (link_sampler_open(&ls, dir, t->nlinks))
		fprintf(stderr, "mpnet: %s/%s: %s (no link counters over time)\n", dir,
			LINK_SAMPLES_FILE, strerror(errno));
	t0 = mono_ns();
	for (;;) {
		uint64_t now = mono_ns() - t0, next = UINT64_MAX;
		bool apps_done = true;
		struct timespec ts;
		siginfo_t si;
		int sig;

		for (int a = 0; a < t->napps; a++) {
			struct app_run *r = &runs[a];
			const struct topo_app *ap = &t->apps[a];

			if (!r->client_started && now >= ap->start_ns) {
				if (r->cmd) {
					link_counters(&w, t->nlinks, r->ctr0);
					r->ctr0_set = true;
					now = mono_ns() - t0;
				}
				r->client_start = now;
				if (start_client(t, o, &ct, absdir, a, r)) {
					r->client_done = true;
					r->client_status = 127 << 8;
				}
			}
			if (r->cmd && r->client_done && r->client_started && !r->ctr1_set) {
				link_counters(&w, t->nlinks, r->ctr1);
				r->ctr1_set = true;
			}
			if (r->cmd && r->client_done && !r->server_done)
				stop_server(r, now);
			if (!r->client_started)
				next = ap->start_ns < next ? ap->start_ns : next;
			if (r->client_started && !r->client_done &&
			    now >= r->client_start + ap->timeout_ns) {
				r->timed_out = true;
				stop_app(r, now);
			}
			if (r->client_done && !r->server_done &&
			    now >= r->client_end + SERVER_GRACE_NS)
				stop_app(r, now);
			if (!r->client_done || !r->server_done)
				apps_done = false;
		}
		while (next_ev < t->nevents && now >= t->events[next_ev].at_ns) {
			struct event_run *er = &evr[next_ev];

			er->result = world_apply_event(&w, &t->events[next_ev]);
			er->fired_ns = mono_ns() - t0;
			er->fired = true;
			if (er->result) {
				snprintf(er->error, sizeof(er->error), "%s", w.err);
				fprintf(stderr, "%smpnet: event %d (%s at %.3fs) failed: %s\n",
					tty ? "\n" : "", next_ev + 1,
					topo_action_name(t->events[next_ev].action),
					(double)t->events[next_ev].at_ns / 1e9, w.err);
			}
			next_ev++;
			now = mono_ns() - t0;
		}
		if (next_ev < t->nevents)
			next = t->events[next_ev].at_ns < next ? t->events[next_ev].at_ns : next;
		if (t->napps ? apps_done : now >= end_ns)
			break;
		{
			uint64_t due = link_sampler_poll(&ls, &w, now);

			next = due < next ? due : next;
			now = mono_ns() - t0;
		}
		if (tty && now - last_progress >= PROGRESS_EVERY_NS) {
			progress(t, now, runs, next_ev);
			last_progress = now;
		}
		if (tty)
			next = last_progress + PROGRESS_EVERY_NS < next
				       ? last_progress + PROGRESS_EVERY_NS
				       : next;
		/* Wake for timeouts at least every 100 ms. */
		if (next > now + 100000000ull)
			next = now + 100000000ull;
		if (next < now) /* a sample took us past something due */
			next = now;
		ts.tv_sec = (time_t)((next - now) / 1000000000ull);
		ts.tv_nsec = (long)((next - now) % 1000000000ull);
		sig = sigtimedwait(&set, &si, &ts);
		if (sig == SIGCHLD)
			reap(runs, t->napps, mono_ns() - t0);
		else if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
			fprintf(stderr, "%smpnet: interrupted (signal %d); tearing down\n",
				tty ? "\n" : "", sig);
			interrupted = true;
			break;
		}
		reap(runs, t->napps, mono_ns() - t0);
	}
	if (tty)
		fprintf(stderr, "\n");

collect:
	if (t0)
		link_sampler_take(&ls, &w, mono_ns() - t0);
	link_sampler_close(&ls);
	links = json_array();
	for (int l = 0; l < t->nlinks; l++) {
		for (int d = 0; d < 2; d++)
			json_array_append_new(links, world_link_json(&w, l, d));
	}
	/* what is left: SIGTERM, a few seconds to write its report, then SIGKILL */
	if (t0) {
		uint64_t now = mono_ns() - t0, give_up = now + KILL_GRACE_NS;
		bool left = false;

		for (int a = 0; a < t->napps; a++) {
			if ((runs[a].client_pid > 0 && !runs[a].client_done) ||
			    (runs[a].server_pid > 0 && !runs[a].server_done)) {
				if (!runs[a].term_at)
					stop_app(&runs[a], now);
				left = true;
			}
		}
		while (left && now < give_up) {
			struct timespec ts = {0, 50000000};

			nanosleep(&ts, NULL);
			now = mono_ns() - t0;
			reap(runs, t->napps, now);
			left = false;
			for (int a = 0; a < t->napps; a++)
				if ((runs[a].client_pid > 0 && !runs[a].client_done) ||
				    (runs[a].server_pid > 0 && !runs[a].server_done))
					left = true;
		}
	}
	for (int a = 0; a < t->napps; a++)
		kill_app(&runs[a]);
	for (int a = 0; a < t->napps; a++) {
		if (runs[a].client_pid > 0 && !runs[a].client_done &&
		    waitpid(runs[a].client_pid, &runs[a].client_status, 0) > 0)
			runs[a].client_done = true;
		if (runs[a].server_pid > 0 && !runs[a].server_done &&
		    waitpid(runs[a].server_pid, &runs[a].server_status, 0) > 0)
			runs[a].server_done = true;
	}
	world_release(&w);
	world_down_topology(t);
	sigprocmask(SIG_SETMASK, &old, NULL);

	summary = json_object();
	apps = json_array();
	events = json_array();
	json_object_set_new(summary, "topology", json_string(t->name));
	json_object_set_new(summary, "file", json_string(t->path));
	json_object_set_new(summary, "seed", json_integer((json_int_t)t->seed));
	json_object_set_new(summary, "interrupted", json_boolean(interrupted));
	/* the run's t0 on CLOCK_MONOTONIC: mpt-perf's *_mono_ns line up with fired_s */
	json_object_set_new(summary, "t0_mono_ns", json_integer((json_int_t)t0));
	for (int a = 0; a < t->napps; a++) {
		bool ok;
		json_array_append_new(apps, runs[a].cmd ? command_result(t, a, &runs[a], dir, &ok)
							: app_result(t, a, &runs[a], dir, &ok));
		all_ok &= ok;
	}
	for (int i = 0; i < t->nevents; i++) {
		const struct topo_event *e = &t->events[i];
		json_t *j = json_pack("{s:f, s:s, s:s}", "at_s", (double)e->at_ns / 1e9, "action",
				      topo_action_name(e->action), "link", t->links[e->link].name);
		json_object_set_new(j, "fired_s",
				    evr[i].fired ? json_real((double)evr[i].fired_ns / 1e9)
						 : json_null());
		if (e->host >= 0)
			json_object_set_new(j, "host", json_string(t->hosts[e->host].name));
		if (e->action == TOPO_EV_SET) {
			json_object_set_new(j, "dir", json_string(dir_name(e->dir_mask)));
			json_object_set_new(j, "params", topo_json_dir(&e->params));
		}
		if (evr[i].fired && evr[i].result)
			json_object_set_new(j, "error", json_string(evr[i].error));
		json_array_append_new(events, j);
	}
	json_object_set_new(summary, "apps", apps);
	json_object_set_new(summary, "links", links);
	json_object_set_new(summary, "events", events);
	snprintf(path, sizeof(path), "%s/summary.json", dir);
	json_dump_file(summary, path, JSON_INDENT(2));
	write_events_csv(t, evr, dir);

	if (!o->quiet) {
		size_t i;
		json_t *ap;

		printf("%s: %d hosts, %d links, seed %llu%s\n", t->name, t->nhosts, t->nlinks,
		       (unsigned long long)t->seed, interrupted ? " (interrupted)" : "");
		json_array_foreach(apps, i, ap)
		{
			json_t *sf;
			size_t k;
			printf("  app %-12s %s -> %s  %.2f Mbit/s  %lld bytes in %.2f s  %s\n",
			       json_string_value(json_object_get(ap, "name")),
			       json_string_value(json_object_get(ap, "client")),
			       json_string_value(json_object_get(ap, "server")),
			       json_number_value(json_object_get(ap, "goodput_mbps")),
			       (long long)json_integer_value(json_object_get(ap, "bytes")),
			       json_number_value(json_object_get(ap, "seconds")),
			       json_string_value(json_object_get(ap, "status")));
			for (int wl = 0; wl < 2; wl++) {
				json_t *st = json_object_get(ap, wl ? "stream" : "rr");

				if (!json_is_object(st) ||
				    !json_is_number(json_object_get(st, "p50_ms")))
					continue;
				printf("      %s ms: p50 %.1f  p95 %.1f  p99 %.1f  max %.1f",
				       wl ? "delay" : "completion",
				       json_number_value(json_object_get(st, "p50_ms")),
				       json_number_value(json_object_get(st, "p95_ms")),
				       json_number_value(json_object_get(st, "p99_ms")),
				       json_number_value(json_object_get(st, "max_ms")));
				if (wl)
					printf("  %lld stalls",
					       (long long)json_integer_value(
						       json_object_get(st, "stalls")));
				printf("\n");
			}
			json_array_foreach(json_object_get(ap, "subflows"), k, sf)
				printf("      subflow %-15s %s -> %s  %lld bytes\n",
				       json_string_value(json_object_get(sf, "link"))
					       ? json_string_value(json_object_get(sf, "link"))
					       : "?",
				       json_string_value(json_object_get(sf, "local")),
				       json_string_value(json_object_get(sf, "remote")),
				       (long long)json_integer_value(json_object_get(sf, "bytes")));
		}
		json_array_foreach(links, i, ap)
		{
			json_t *em = json_object_get(ap, "emulator");
			printf("  link %-10s %-4s %-4s %lld bytes, %lld packets, %lld dropped",
			       json_string_value(json_object_get(ap, "name")),
			       json_string_value(json_object_get(ap, "dir")),
			       json_string_value(json_object_get(ap, "backend")),
			       (long long)json_integer_value(json_object_get(ap, "tx_bytes")),
			       (long long)json_integer_value(json_object_get(ap, "tx_packets")),
			       (long long)json_integer_value(json_object_get(ap, "dropped")));
			if (em)
				printf(", queueing p50 %.2f ms p99 %.2f ms",
				       (double)json_integer_value(json_object_get(
					       json_object_get(em, "qdelay_ns"), "p50")) /
					       1e6,
				       (double)json_integer_value(json_object_get(
					       json_object_get(em, "qdelay_ns"), "p99")) /
					       1e6);
			printf("\n");
		}
		for (int e = 0; e < t->nevents; e++)
			if (evr[e].fired)
				printf("  event %-9s %-10s at %.3f s, fired %.3f s\n",
				       topo_action_name(t->events[e].action),
				       t->links[t->events[e].link].name,
				       (double)t->events[e].at_ns / 1e9,
				       (double)evr[e].fired_ns / 1e9);
		printf("  results: %s/summary.json\n", dir);
	}
	/* timeseries.csv, apps[].handover, plot.png (netns/metrics.h) */
	metrics_run(dir, MX_WRITE | MX_PLOT | (o->quiet ? 0 : MX_PRINT));
	json_decref(summary);
	free_runs(runs, t->napps);
	free(evr);
	if (rc == MPNET_EXIT_OK && (!all_ok || interrupted))
		rc = MPNET_EXIT_APP_FAILED;
	return rc;
}
