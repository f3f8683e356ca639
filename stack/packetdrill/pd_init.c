/* The shim's entry point: packetdrill_interface_init builds one libmpt stack (MPTCP
 * on) under a socket table whose clock is the shim's virtual one, and fills
 * packetdrill's table of calls.
 *
 * --so_flags (comma-separated, all optional):
 *   cc=NAME    congestion control (mpt_cc_name; default: the stack's default)
 *   tcp        plain TCP (MPTCP off)
 *   seed=N     the stack's random seed (ISNs, keys), default 1
 */
#include "mpt_sim.h"
#include "pd.h"
#include "pd_iface.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PD_FIRST_PORT 40000
#define PD_RCVBUF     (15u << 20)
#define PD_SNDBUF     (4u << 20)

static uint64_t h_now(void *ctx)
{
	return ((struct pd *)ctx)->now;
}

/* A blocking call waits for the other packetdrill thread, in real time: the main
 * thread injects packets and moves the clock. */
static int h_wait(void *ctx, int fd, short events)
{
	const struct timespec tick = {0, 1000000};
	struct pollfd pfd = {.fd = fd, .events = events};

	(void)ctx;
	if (poll(&pfd, 1, 0) == 0)
		nanosleep(&tick, NULL);
	return 0;
}

/* A connect without bind leaves from packetdrill's local address (OPT_LOCAL_IP,
 * which packetdrill exports), else from the first path. */
static int h_source(void *ctx, const struct mpt_sockaddr *dst, struct mpt_sockaddr *src)
{
	struct pd *p = ctx;
	const char *env = getenv("OPT_LOCAL_IP");
	struct mpt_sockaddr a = {0};

	if (env && dst->family == MPT_AF_INET && inet_pton(AF_INET, env, a.ip) == 1)
		a.family = MPT_AF_INET;
	else if (env && dst->family == MPT_AF_INET6 && inet_pton(AF_INET6, env, a.ip) == 1)
		a.family = MPT_AF_INET6;
	if (a.family) {
		if (pd_path_of(p, &a) < 0)
			return MPT_ENOMEM;
		*src = a;
		return 0;
	}
	for (int i = 0; i < p->npaths; i++)
		if (p->paths[i].family == dst->family) {
			*src = p->paths[i];
			return 0;
		}
	return MPT_ENOENT;
}

static int h_port(void *ctx, uint16_t *port)
{
	struct pd *p = ctx;

	*port = p->next_port++;
	return 0;
}

static int h_claim(void *ctx, uint16_t port)
{
	(void)ctx;
	(void)port;
	return 0;
}

static void pd_free(void *ud)
{
	struct pd *p = ud;

	if (!p)
		return;
	if (p->drops)
		fprintf(stderr, "libmpt-packetdrill: %u datagrams dropped (queue full)\n",
			p->drops);
	mpt_sk_table_free(p->t);
	mpt_stack_free(p->st);
	free(p->q);
	free(p);
}

/* Apply one --so_flags word; -1 if unknown. */
static int flag(struct pd *p, const char *w, size_t n)
{
	static char cc[32];

	if (n == 3 && !memcmp(w, "tcp", 3)) {
		p->cfg.mptcp = false;
		return 0;
	}
	if (n > 3 && n - 3 < sizeof(cc) && !memcmp(w, "cc=", 3)) {
		memcpy(cc, w + 3, n - 3);
		cc[n - 3] = 0;
		p->cfg.cc = cc;
		return 0;
	}
	if (n > 5 && !memcmp(w, "seed=", 5)) {
		p->rng = strtoull(w + 5, NULL, 10);
		return 0;
	}
	return -1;
}

static int parse_flags(struct pd *p, const char *flags)
{
	while (flags && *flags) {
		size_t n = strcspn(flags, ",");

		if (n && flag(p, flags, n)) {
			fprintf(stderr, "libmpt-packetdrill: unknown --so_flags word '%.*s'\n",
				(int)n, flags);
			return -1;
		}
		flags += n + (flags[n] == ',');
	}
	return 0;
}

void packetdrill_interface_init(const char *flags, struct packetdrill_interface *ifc)
{
	struct mpt_sk_hooks h;
	struct mpt_env env;
	struct pd *p;
	int rv;

	memset(ifc, 0, sizeof(*ifc));
	ifc->free = pd_free;
	p = calloc(1, sizeof(*p));
	if (!p || !(p->q = calloc(PD_QUEUE, sizeof(*p->q)))) {
		fprintf(stderr, "libmpt-packetdrill: out of memory\n");
		goto fail;
	}
	mpt_config_default(&p->cfg);
	p->cfg.mptcp = true;
	/* the maxima of tcp_rmem / tcp_wmem in the scripts' common/defaults.sh: Linux
	 * derives its window scale (8) from the first */
	p->cfg.rcvbuf = PD_RCVBUF;
	p->cfg.sndbuf = PD_SNDBUF;
	/* the scripts expect Linux's 4-octet DATA_ACKs (mpt.h) */
	p->cfg.mptcp_ack32 = true;
	/* and take their segments without timestamps, as Linux does */
	p->cfg.ts_accept_missing = true;
	p->rng = 1;
	p->now = PD_EPOCH_NS;
	p->next_port = PD_FIRST_PORT;
	if (parse_flags(p, flags))
		goto fail;
	memset(&env, 0, sizeof(env));
	env.crypto = mpt_crypto_openssl(&p->rng);
	env.pick_port = h_port;
	env.port_ctx = p;
	rv = mpt_stack_new(&p->st, &env, &p->cfg);
	if (rv) {
		fprintf(stderr, "libmpt-packetdrill: stack: %s\n", mpt_strerror(rv));
		goto fail;
	}
	h = (struct mpt_sk_hooks){.ctx = p,
				  .now = h_now,
				  .wait = h_wait,
				  .pick_source = h_source,
				  .pick_port = h_port,
				  .claim_port = h_claim};
	rv = mpt_sk_table_new(&p->t, p->st, &p->cfg, &h);
	if (rv) {
		fprintf(stderr, "libmpt-packetdrill: socket table: %s\n", mpt_strerror(rv));
		goto fail;
	}
	ifc->userdata = p;
	ifc->netdev_send = pd_netdev_send;
	ifc->netdev_receive = pd_netdev_receive;
	ifc->usleep = pd_usleep;
	ifc->gettimeofday = pd_gettimeofday;
	pd_sock_fill(ifc);
	return;
fail:
	pd_free(p);
	ifc->userdata = NULL;
}
