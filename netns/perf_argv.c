/* mpt-perf command lines of a run's apps (see perf_argv.h). */
#include "perf_argv.h"

#include "netaddr.h"

#include <stdarg.h>
#include <sys/socket.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

__attribute__((format(printf, 2, 3))) static int add(struct perf_argv *pa, const char *fmt, ...)
{
	size_t room = sizeof(pa->buf) - pa->used;
	va_list ap;
	int n;

	if (pa->argc >= PERF_ARGV_MAX)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(pa->buf + pa->used, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room)
		return -1;
	pa->argv[pa->argc++] = pa->buf + pa->used;
	pa->argv[pa->argc] = NULL;
	pa->used += (size_t)n + 1;
	return 0;
}

static const char *stack_arg(enum topo_stack s)
{
	return s == TOPO_STACK_TCP ? "tcp" : s == TOPO_STACK_MPT ? "mpt" : "kernel";
}

/* -C for a host with a congestion control; --scheduler / --path-manager / --endpoint /
 * --max-subflows
 * for a libmpt host (a kernel host's endpoints and limits are its namespace's, world.c). */
static int add_mptcp(struct perf_argv *pa, const struct topology *t, int h)
{
	static const struct {
		uint32_t flag;
		const char *name;
	} names[] = {{TOPO_EP_SIGNAL, "signal"},
		     {TOPO_EP_SUBFLOW, "subflow"},
		     {TOPO_EP_BACKUP, "backup"},
		     {TOPO_EP_FULLMESH, "fullmesh"}};
	int rc = 0;

	if (t->hosts[h].congestion[0] && (add(pa, "-C") || add(pa, "%s", t->hosts[h].congestion)))
		return -1;
	if (t->hosts[h].stack != TOPO_STACK_MPT)
		return 0;
	if (t->hosts[h].scheduler[0] &&
	    (add(pa, "--scheduler") || add(pa, "%s", t->hosts[h].scheduler)))
		return -1;
	if (t->hosts[h].path_manager[0] &&
	    (add(pa, "--path-manager") || add(pa, "%s", t->hosts[h].path_manager)))
		return -1;
	for (int l = 0; l < t->nlinks && !rc; l++) {
		for (int e = 0; e < 2 && !rc; e++) {
			const struct topo_iface *i = &t->links[l].end[e];
			char addr[NETADDR_STRLEN], flags[64] = "";
			size_t n = 0;

			if (i->host != h || !i->endpoint_set)
				continue;
			for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
				if (i->endpoint_flags & names[k].flag)
					n += (size_t)snprintf(flags + n, sizeof(flags) - n, ",%s",
							      names[k].name);
			rc = add(pa, "--endpoint") ||
			     add(pa, "%s,id=%d%s",
				 netaddr_fmt(&i->addr4, false, addr, sizeof(addr)), i->endpoint_id,
				 flags);
		}
	}
	return rc || add(pa, "--max-subflows") || add(pa, "%d", t->hosts[h].mptcp.subflows + 1);
}

/* --rcvbuf for an app with rcvbuf: (both ends take it). */
static int add_rcvbuf(struct perf_argv *pa, const struct topo_app *ap)
{
	if (!ap->rcvbuf)
		return 0;
	return add(pa, "--rcvbuf") || add(pa, "%llu", (unsigned long long)ap->rcvbuf);
}

static void reset(struct perf_argv *pa)
{
	pa->argc = 0;
	pa->used = 0;
	pa->argv[0] = NULL;
}

int perf_argv_server(struct perf_argv *pa, const struct topology *t, int a, const char *perf_bin)
{
	const struct topo_app *ap = &t->apps[a];

	reset(pa);
	if (add(pa, "%s", perf_bin) || add(pa, "-s") || add(pa, "-p") || add(pa, "%u", ap->port) ||
	    add(pa, "--stack") || add(pa, "%s", stack_arg(t->hosts[ap->server].stack)) ||
	    add(pa, "--once") || add(pa, "-J") || add(pa, "--ready-fd") || add(pa, "3") ||
	    add_rcvbuf(pa, ap))
		return -1;
	return add_mptcp(pa, t, ap->server);
}

int perf_argv_client(struct perf_argv *pa, const struct topology *t, int a, const char *perf_bin,
		     double interval_s)
{
	const struct topo_app *ap = &t->apps[a];
	char addr[NETADDR_STRLEN];

	reset(pa);
	if (add(pa, "%s", perf_bin) || add(pa, "-c") ||
	    add(pa, "%s", netaddr_fmt(&ap->server_addr, false, addr, sizeof(addr))) ||
	    add(pa, "-p") || add(pa, "%u", ap->port) || add(pa, "--stack") ||
	    add(pa, "%s", stack_arg(t->hosts[ap->client].stack)))
		return -1;
	if (ap->mode == TOPO_MODE_RR) {
		if (add(pa, "--rr") || add(pa, "%llu,%llu,%u", (unsigned long long)ap->request,
					   (unsigned long long)ap->response, ap->exchanges))
			return -1;
	} else if (ap->bytes) {
		if (add(pa, "-n") || add(pa, "%llu", (unsigned long long)ap->bytes))
			return -1;
	} else if (add(pa, "-t") || add(pa, "%.3f", (double)ap->time_ns / 1e9)) {
		return -1;
	}
	if (ap->mode == TOPO_MODE_STREAM &&
	    (add(pa, "--stream") || add(pa, "%llubit,%llu", (unsigned long long)ap->rate_bps,
					(unsigned long long)ap->chunk)))
		return -1;
	if (ap->direction == TOPO_DOWNLOAD && add(pa, "-R"))
		return -1;
	if (add(pa, "-J") || add(pa, "-i") || add(pa, "%g", interval_s) || add_rcvbuf(pa, ap))
		return -1;
	return add_mptcp(pa, t, ap->client);
}

int perf_argv_command(struct perf_argv *pa, const struct topology *t, int a, bool server,
		      const struct perf_cmd_env *e)
{
	const struct topo_app *ap = &t->apps[a];
	int h = server ? ap->server : ap->client;
	char addr[NETADDR_STRLEN], url[NETADDR_STRLEN + 2], cmd[sizeof(pa->buf)];
	struct topo_cmd_vars v = {addr, url, ap->name, e->run_dir, ap->port};

	reset(pa);
	netaddr_fmt(&ap->server_addr, false, addr, sizeof(addr));
	snprintf(url, sizeof(url), ap->server_addr.family == AF_INET6 ? "[%s]" : "%s", addr);
	if (topo_cmd_expand(server ? ap->server_cmd : ap->client_cmd, &v, cmd, sizeof(cmd), NULL,
			    NULL))
		return -1;
	switch (t->hosts[h].stack) {
	case TOPO_STACK_KERNEL:
		if (add(pa, "%s", e->mptcpize) || add(pa, "run"))
			return -1;
		break;
	case TOPO_STACK_MPT:
		if (add(pa, "%s", e->mpt_run) || add_mptcp(pa, t, h) || add(pa, "--log") ||
		    add(pa, "%s", e->mpt_log) || add(pa, "--"))
			return -1;
		break;
	default:
		break;
	}
	return add(pa, "/bin/sh") || add(pa, "-c") || add(pa, "%s", cmd) ? -1 : 0;
}

const char *perf_argv_str(const struct perf_argv *pa, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 0; i < pa->argc && n < len; i++) {
		int k = snprintf(buf + n, len - n, "%s%s", i ? " " : "", pa->argv[i]);

		if (k < 0)
			break;
		n += (size_t)k;
	}
	return buf;
}
