/* MPT_RUN_*: the environment mpt-run hands the preload shim (pl.h). */
#include "pl.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -1;
}

static const struct {
	const char *name;
	uint32_t flag;
} ep_flags[] = {
	{"signal", MPT_EP_SIGNAL},
	{"subflow", MPT_EP_SUBFLOW},
	{"backup", MPT_EP_BACKUP},
	{"fullmesh", MPT_EP_FULLMESH},
};

/* a decimal number lo..hi, nothing else */
static int parse_num(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int pl_endpoint_parse(const char *s, struct mpt_socket_endpoint *ep, char *err, size_t errlen)
{
	char copy[128], *tok, *save = NULL;
	bool first = true;

	memset(ep, 0, sizeof(*ep));
	if (!s || strlen(s) >= sizeof(copy))
		return fail(err, errlen, "endpoint '%.32s': too long", s ? s : "");
	memcpy(copy, s, strlen(s) + 1);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned long v;
		size_t i;

		if (first) {
			if (inet_pton(AF_INET, tok, ep->addr.ip) == 1) {
				ep->addr.family = MPT_AF_INET;
			} else if (inet_pton(AF_INET6, tok, ep->addr.ip) == 1) {
				ep->addr.family = MPT_AF_INET6;
			} else {
				return fail(err, errlen,
					    "endpoint %s: '%s' is not an IPv4 or IPv6 address", s,
					    tok);
			}
			first = false;
			continue;
		}
		if (!strncmp(tok, "id=", 3)) {
			if (parse_num(tok + 3, 1, 255, &v))
				return fail(err, errlen, "endpoint %s: id wants 1..255", s);
			ep->id = (uint8_t)v;
			continue;
		}
		for (i = 0; i < sizeof(ep_flags) / sizeof(ep_flags[0]); i++)
			if (!strcmp(tok, ep_flags[i].name))
				break;
		if (i == sizeof(ep_flags) / sizeof(ep_flags[0]))
			return fail(err, errlen,
				    "endpoint %s: unknown flag '%s' (use id=N, signal, subflow, "
				    "backup, fullmesh)",
				    s, tok);
		ep->flags |= ep_flags[i].flag;
	}
	if (first)
		return fail(err, errlen, "endpoint wants ADDR[,id=N][,FLAG...]");
	if ((ep->flags & MPT_EP_SIGNAL) && (ep->flags & MPT_EP_FULLMESH))
		return fail(err, errlen, "endpoint %s: signal and fullmesh exclude each other", s);
	return 0;
}

static bool known(const char *(*name)(unsigned, const char **), const char *want)
{
	for (unsigned i = 0; name(i, NULL); i++)
		if (!strcmp(name(i, NULL), want))
			return true;
	return false;
}

/* copy a variable into a fixed field, or fail naming it */
static int take(const char *var, const char *v, char *dst, size_t cap, char *err, size_t errlen)
{
	if (strlen(v) >= cap)
		return fail(err, errlen, "%s: '%.32s' is too long", var, v);
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int parse_endpoints(struct pl_env *e, const char *v, char *err, size_t errlen)
{
	const char *p = v;

	while (*p) {
		char one[128];
		size_t n;

		while (*p == ' ')
			p++;
		n = strcspn(p, " ");
		if (!n)
			break;
		if (n >= sizeof(one))
			return fail(err, errlen, "MPT_RUN_ENDPOINTS: '%.32s...' is too long", p);
		if (e->nendpoints == PL_MAX_ENDPOINTS)
			return fail(err, errlen, "MPT_RUN_ENDPOINTS: at most %d endpoints",
				    PL_MAX_ENDPOINTS);
		memcpy(one, p, n);
		one[n] = '\0';
		struct mpt_socket_endpoint *ep = &e->endpoints[e->nendpoints];

		if (pl_endpoint_parse(one, ep, err, errlen))
			return -1;
		if (!ep->id)
			ep->id = (uint8_t)(e->nendpoints + 1);
		for (int i = 0; i < e->nendpoints; i++)
			if (e->endpoints[i].id == ep->id)
				return fail(err, errlen,
					    "MPT_RUN_ENDPOINTS: id %u is given twice (give each "
					    "endpoint its own id=N)",
					    ep->id);
		e->nendpoints++;
		p += n;
	}
	return 0;
}

int pl_env_parse(struct pl_env *e, const char *(*get)(const char *name), char *err, size_t errlen)
{
	const char *v;
	unsigned long n;

	memset(e, 0, sizeof(*e));
	e->linger_ns = 10000000000ull;
	v = get("MPT_RUN_SCHEDULER");
	if (v && *v) {
		if (!known(mpt_scheduler_name, v))
			return fail(err, errlen, "MPT_RUN_SCHEDULER: '%.32s' is not a scheduler",
				    v);
		if (take("MPT_RUN_SCHEDULER", v, e->scheduler, sizeof(e->scheduler), err, errlen))
			return -1;
	}
	v = get("MPT_RUN_PATH_MANAGER");
	if (v && *v) {
		if (!mpt_path_manager_valid(v))
			return fail(err, errlen,
				    "MPT_RUN_PATH_MANAGER: '%.32s' is not a path manager", v);
		if (take("MPT_RUN_PATH_MANAGER", v, e->path_manager, sizeof(e->path_manager), err,
			 errlen))
			return -1;
	}
	v = get("MPT_RUN_CC");
	if (v && *v) {
		if (!known(mpt_cc_name, v))
			return fail(err, errlen, "MPT_RUN_CC: '%.32s' is not a congestion control",
				    v);
		if (take("MPT_RUN_CC", v, e->cc, sizeof(e->cc), err, errlen))
			return -1;
	}
	v = get("MPT_RUN_ENDPOINTS");
	if (v && *v && parse_endpoints(e, v, err, errlen))
		return -1;
	v = get("MPT_RUN_MAX_SUBFLOWS");
	if (v && *v) {
		if (parse_num(v, 1, 255, &n))
			return fail(err, errlen, "MPT_RUN_MAX_SUBFLOWS: '%.32s' is not 1..255", v);
		e->max_subflows = (uint8_t)n;
	}
	v = get("MPT_RUN_NO_MPTCP");
	if (v && *v) {
		if (strcmp(v, "0") && strcmp(v, "1"))
			return fail(err, errlen, "MPT_RUN_NO_MPTCP: '%.32s' is not 0 or 1", v);
		e->no_mptcp = !strcmp(v, "1");
	}
	v = get("MPT_RUN_LOG");
	if (v && *v && take("MPT_RUN_LOG", v, e->log, sizeof(e->log), err, errlen))
		return -1;
	v = get("MPT_RUN_LINGER");
	if (v && *v) {
		if (parse_num(v, 0, 3600, &n))
			return fail(err, errlen, "MPT_RUN_LINGER: '%.32s' is not 0..3600 seconds",
				    v);
		e->linger_ns = n ? n * 1000000000ull : 1; /* 0: no wait (1 ns) */
	}
	if (e->no_mptcp &&
	    (e->nendpoints || e->max_subflows || e->scheduler[0] || e->path_manager[0]))
		return fail(err, errlen,
			    "MPT_RUN_NO_MPTCP=1 leaves no MPTCP for the endpoints, limits, "
			    "scheduler or path manager given");
	return 0;
}

void pl_env_config(const struct pl_env *e, struct mpt_config *cfg)
{
	mpt_config_default(cfg);
	cfg->mptcp = !e->no_mptcp;
	cfg->sndbuf = cfg->rcvbuf = 4u << 20;
	cfg->cc = e->cc[0] ? e->cc : "cubic";
	if (e->scheduler[0])
		cfg->scheduler = e->scheduler;
	if (e->path_manager[0])
		cfg->path_manager = e->path_manager;
	if (e->max_subflows)
		cfg->max_subflows = e->max_subflows;
}
