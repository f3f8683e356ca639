/* Topology files: libyaml's document API turns the text into nodes (with their
 * marks), and this file walks them by schema: top level, hosts, links, apps,
 * events.  Link parameters are in topology_params.c; addresses, endpoint ids and
 * event order in topology_check.c.  Every check reports the node it is about. */
#include "mpt.h"
#include "topology_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define TOPO_MAX_LINKS 512
#define TOPO_MAX_FILE  (16u << 20)
#define TOPO_LIST_MAX  300 /* room for "allowed: ..." lists in messages */

static const char *const top_keys[] = {"name",	"seed", "ipv6",	  "emulator", "hosts",
				       "links", "apps", "events", NULL};
static const char *const host_keys[] = {"stack",     "forward",	     "mptcp", "congestion",
					"scheduler", "path_manager", NULL};
static const char *const mptcp_keys[] = {"subflows", "add_addr_accepted", NULL};
static const char *const link_keys[] = {"name",	    "between",	 "up",	     "down",
					"endpoint", "addresses", "emulator", NULL};
static const char *const app_keys[] = {"name",	    "client", "server",	 "bytes",    "time",
				       "direction", "start",  "port",	 "timeout",  "to_link",
				       "ipv6",	    "mode",   "request", "response", "exchanges",
				       "rate",	    "chunk",  "rcvbuf",	 NULL};
static const char *const mode_names[] = {"bulk", "rr", "stream", NULL};
static const char *const app_end_keys[] = {"host", "command", NULL};
/* the keys of mpt-perf's workloads, none of which a command app takes */
static const char *const perf_only_keys[] = {"mode",	  "bytes",    "time", "direction",
					     "request",	  "response", "rate", "chunk",
					     "exchanges", "rcvbuf",   NULL};
static const char *const event_keys[] = {"at", "link", "action", "dir", "host", NULL};

static const char *const stack_names[] = {"none", "kernel", "tcp", "mpt", NULL};
static const char *const emu_names[] = {"auto", "user", "netem", NULL};
static const char *const action_names[] = {"down",    "up",	  "set",      "blackhole",
					   "restore", "addr-del", "addr-add", NULL};
static const char *const ep_names[] = {"signal", "subflow", "backup", "fullmesh", NULL};

/* --- YAML helpers ----------------------------------------------------------- */

struct topo_pos tp_pos(const yaml_node_t *n)
{
	struct topo_pos p = {0, 0};

	if (n) {
		p.line = (int)n->start_mark.line + 1;
		p.col = (int)n->start_mark.column + 1;
	}
	return p;
}

yaml_node_t *tp_node(struct tp_ctx *c, int id)
{
	return yaml_document_get_node(c->doc, id);
}

const char *tp_kind(const yaml_node_t *n)
{
	if (!n || tp_is_null(n))
		return "nothing";
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return "a scalar";
	case YAML_SEQUENCE_NODE:
		return "a sequence";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

bool tp_is_null(const yaml_node_t *n)
{
	const char *s;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	s = (const char *)n->data.scalar.value;
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
	       !strcmp(s, "NULL");
}

bool tp_in_list(const char *s, const char *const *list)
{
	for (; list && *list; list++)
		if (!strcmp(s, *list))
			return true;
	return false;
}

static int list_index(const char *s, const char *const *list)
{
	for (int i = 0; list[i]; i++)
		if (!strcmp(s, list[i]))
			return i;
	return -1;
}

static int vtp_err_at(struct tp_ctx *c, struct topo_pos pos, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static int vtp_err_at(struct tp_ctx *c, struct topo_pos pos, const char *fmt, va_list ap)
{
	char msg[TOPO_ERR_MAX];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	return topo_errorf(c->t, pos, c->err, "%s", msg);
}

int tp_err_at(struct tp_ctx *c, struct topo_pos pos, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vtp_err_at(c, pos, fmt, ap);
	va_end(ap);
	return -1;
}

int tp_err(struct tp_ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vtp_err_at(c, tp_pos(n), fmt, ap);
	va_end(ap);
	return -1;
}

int tp_want(struct tp_ctx *c, yaml_node_t *n, yaml_node_type_t type, const char *what,
	    const char *example)
{
	static const char *const kinds[] = {
		[YAML_SCALAR_NODE] = "a scalar",
		[YAML_SEQUENCE_NODE] = "a sequence",
		[YAML_MAPPING_NODE] = "a mapping",
	};

	if (n->type == type && !(type == YAML_SCALAR_NODE && tp_is_null(n)))
		return 0;
	if (type == YAML_SCALAR_NODE && tp_is_null(n))
		return tp_err(c, n, "%s needs a value (e.g. %s)", what, example);
	return tp_err(c, n, "%s must be %s (e.g. %s), got %s", what, kinds[type], example,
		      tp_kind(n));
}

int tp_scalar(struct tp_ctx *c, yaml_node_t *n, const char *what, const char *example,
	      const char **out)
{
	if (tp_want(c, n, YAML_SCALAR_NODE, what, example))
		return -1;
	if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
		return tp_err(c, n, "%s contains a NUL character", what);
	*out = (const char *)n->data.scalar.value;
	return 0;
}

static void join(char *buf, size_t len, const char *const *a, const char *const *b)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int pass = 0; pass < 2; pass++) {
		for (const char *const *p = pass ? b : a; p && *p; p++) {
			int r = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", *p);

			if (r < 0 || (size_t)r >= len - used)
				return;
			used += (size_t)r;
		}
	}
}

/* Edit distance, for "did you mean" (names are short). */
static int distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int row[33];

	if (la > 32 || lb > 32)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		int diag = row[0];

		row[0] = (int)i;
		for (size_t j = 1; j <= lb; j++) {
			int up = row[j], best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

static const char *closest(const char *s, const char *const *a, const char *const *b)
{
	const char *best = NULL;
	int bd = 3;

	for (int pass = 0; pass < 2; pass++) {
		for (const char *const *p = pass ? b : a; p && *p; p++) {
			int d = distance(s, *p);

			if (d < bd && 2 * d < (int)strlen(s)) {
				bd = d;
				best = *p;
			}
		}
	}
	return best;
}

int tp_map_check(struct tp_ctx *c, yaml_node_t *n, const char *what, const char *const *allowed,
		 const char *const *allowed2)
{
	yaml_node_pair_t *start, *top;

	if (n->type != YAML_MAPPING_NODE)
		return tp_err(c, n, "%s must be a mapping (key: value, ...), got %s", what,
			      tp_kind(n));
	start = n->data.mapping.pairs.start;
	top = n->data.mapping.pairs.top;
	for (yaml_node_pair_t *p = start; p < top; p++) {
		yaml_node_t *k = tp_node(c, p->key);
		const char *ks;

		if (k->type != YAML_SCALAR_NODE)
			return tp_err(c, k, "keys in %s must be plain names, got %s", what,
				      tp_kind(k));
		ks = (const char *)k->data.scalar.value;
		if ((allowed || allowed2) && !tp_in_list(ks, allowed) &&
		    !tp_in_list(ks, allowed2)) {
			char list[TOPO_LIST_MAX];
			const char *near = closest(ks, allowed, allowed2);

			join(list, sizeof(list), allowed, allowed2);
			if (near)
				return tp_err(c, k,
					      "unknown key \"%s\" in %s: did you mean \"%s\"? "
					      "(allowed: %s)",
					      ks, what, near, list);
			return tp_err(c, k, "unknown key \"%s\" in %s (allowed: %s)", ks, what,
				      list);
		}
		for (yaml_node_pair_t *q = start; q < p; q++) {
			yaml_node_t *k2 = tp_node(c, q->key);

			if (k2->type == YAML_SCALAR_NODE &&
			    !strcmp((const char *)k2->data.scalar.value, ks))
				return tp_err(c, k, "duplicate key \"%s\" in %s (first at line %d)",
					      ks, what, tp_pos(k2).line);
		}
	}
	return 0;
}

yaml_node_t *tp_map_get(struct tp_ctx *c, yaml_node_t *n, const char *key, yaml_node_t **keyn)
{
	if (n->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = tp_node(c, p->key);

		if (k->type == YAML_SCALAR_NODE &&
		    !strcmp((const char *)k->data.scalar.value, key)) {
			if (keyn)
				*keyn = k;
			return tp_node(c, p->value);
		}
	}
	return NULL;
}

int tp_uint(struct tp_ctx *c, yaml_node_t *n, const char *what, uint64_t min, uint64_t max,
	    uint64_t *out)
{
	const char *s, *p;
	unsigned long long v;
	char *end;

	if (tp_scalar(c, n, what, "1", &s))
		return -1;
	for (p = s; isdigit((unsigned char)*p); p++)
		;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (p == s || *p || errno || v < min || v > max)
		return tp_err(c, n, "%s must be a whole number from %llu to %llu, got \"%s\"", what,
			      (unsigned long long)min, (unsigned long long)max, s);
	*out = v;
	return 0;
}

int tp_bool(struct tp_ctx *c, yaml_node_t *n, const char *what, bool *out)
{
	const char *s;

	if (tp_scalar(c, n, what, "true", &s))
		return -1;
	if (!strcmp(s, "true")) {
		*out = true;
		return 0;
	}
	if (!strcmp(s, "false")) {
		*out = false;
		return 0;
	}
	return tp_err(c, n, "%s must be true or false, got \"%s\"", what, s);
}

/* One of a list of words (stack, emulator, action...): its index. */
static int word(struct tp_ctx *c, yaml_node_t *n, const char *what, const char *const *list,
		const char *use, int *out)
{
	const char *s;
	int i;

	if (tp_scalar(c, n, what, list[0], &s))
		return -1;
	i = list_index(s, list);
	if (i < 0)
		return tp_err(c, n, "unknown %s \"%s\" (use %s)", what, s, use);
	*out = i;
	return 0;
}

/* Names: [a-z0-9-], 1..max characters, starting with a letter. */
static int check_name(struct tp_ctx *c, yaml_node_t *n, const char *kind, size_t max,
		      const char *example, char *dst)
{
	char what[48];
	const char *s;
	size_t len;

	snprintf(what, sizeof(what), "%s name", kind);
	if (tp_scalar(c, n, what, example, &s))
		return -1;
	len = strlen(s);
	if (len > max)
		return tp_err(c, n, "%s name \"%.40s\" is %zu characters long; at most %zu%s", kind,
			      s, len, max,
			      max == TOPO_IFNAME_MAX ? " (it is the interface name)" : "");
	if (!islower((unsigned char)s[0]) || s[0] > 'z')
		return tp_err(c, n, "%s name \"%s\" must start with a letter a-z (e.g. %s)", kind,
			      s, example);
	for (const char *p = s; *p; p++) {
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= '0' && *p <= '9') && *p != '-')
			return tp_err(
				c, n,
				"%s name \"%s\" has '%c': use only a-z, 0-9 and '-' (e.g. %s)",
				kind, s, *p, example);
	}
	memcpy(dst, s, len + 1);
	return 0;
}

static void host_list(const struct topology *t, char *buf, size_t len)
{
	const char *names[65];
	int n = t->nhosts < 64 ? t->nhosts : 64;

	for (int i = 0; i < n; i++)
		names[i] = t->hosts[i].name;
	names[n] = NULL;
	join(buf, len, names, NULL);
}

static void link_list(const struct topology *t, int upto, char *buf, size_t len)
{
	const char *names[65];
	int n = upto < 64 ? upto : 64;

	for (int i = 0; i < n; i++)
		names[i] = t->links[i].name;
	names[n] = NULL;
	join(buf, len, names, NULL);
}

static int host_ref(struct tp_ctx *c, yaml_node_t *n, const char *what, int *out)
{
	char list[TOPO_LIST_MAX];
	const char *s;

	if (tp_scalar(c, n, what, "client", &s))
		return -1;
	*out = topo_host_find(c->t, s);
	if (*out >= 0)
		return 0;
	host_list(c->t, list, sizeof(list));
	return tp_err(c, n, "unknown host \"%s\" in %s (hosts: %s)", s, what, list);
}

static int link_ref(struct tp_ctx *c, yaml_node_t *n, const char *what, int *out)
{
	char list[TOPO_LIST_MAX];
	const char *s;

	if (tp_scalar(c, n, what, "wifi", &s))
		return -1;
	*out = topo_link_find(c->t, s);
	if (*out >= 0)
		return 0;
	link_list(c->t, c->t->nlinks, list, sizeof(list));
	return tp_err(c, n, "unknown link \"%s\" in %s (links: %s)", s, what, list);
}

static int seq_len(const yaml_node_t *n)
{
	return (int)(n->data.sequence.items.top - n->data.sequence.items.start);
}

static int map_len(const yaml_node_t *n)
{
	return (int)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
}

static yaml_node_t *seq_item(struct tp_ctx *c, const yaml_node_t *n, int i)
{
	return tp_node(c, n->data.sequence.items.start[i]);
}

/* --- hosts ------------------------------------------------------------------ */

static int parse_mptcp(struct tp_ctx *c, yaml_node_t *n, struct topo_host *h)
{
	yaml_node_t *v;
	uint64_t x;

	if (tp_map_check(c, n, "mptcp", mptcp_keys, NULL))
		return -1;
	h->mptcp.pos = tp_pos(n);
	if ((v = tp_map_get(c, n, "subflows", NULL))) {
		if (tp_uint(c, v, "subflows", 0, 8, &x))
			return -1;
		h->mptcp.subflows = (int)x;
	}
	if ((v = tp_map_get(c, n, "add_addr_accepted", NULL))) {
		if (tp_uint(c, v, "add_addr_accepted", 0, 8, &x))
			return -1;
		h->mptcp.add_addr_accepted = (int)x;
	}
	return 0;
}

/* congestion: NAME.  libmpt's are mpt_cc_name's (reno = newreno); for the kernel any name that
 * looks like one (whether this kernel has it is world_check's question: it is the machine's). */
static int parse_congestion(struct tp_ctx *c, yaml_node_t *x, struct topo_host *h)
{
	const char *s;

	if (tp_scalar(c, x, "congestion", "cubic", &s))
		return -1;
	if (!*s || strlen(s) >= sizeof(h->congestion) ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(s))
		return tp_err(c, x,
			      "congestion: \"%s\" is not an algorithm name (e.g. cubic, reno, bbr)",
			      s);
	if (h->stack == TOPO_STACK_NONE)
		return tp_err(
			c, x,
			"congestion: host \"%s\" has no stack (give it stack: mpt, kernel or tcp)",
			h->name);
	if (h->stack == TOPO_STACK_MPT && strcmp(s, "reno")) {
		char names[128] = "";
		size_t n = 0;
		bool known = false;

		for (unsigned i = 0; mpt_cc_name(i, NULL); i++) {
			known = known || !strcmp(mpt_cc_name(i, NULL), s);
			if (n < sizeof(names))
				n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s",
						      i ? ", " : "", mpt_cc_name(i, NULL));
		}
		if (!known)
			return tp_err(c, x,
				      "congestion: libmpt (stack: mpt) has %s (reno = newreno), "
				      "not %s",
				      names, s);
	}
	snprintf(h->congestion, sizeof(h->congestion), "%s",
		 h->stack == TOPO_STACK_MPT && !strcmp(s, "reno") ? "newreno" : s);
	h->congestion_pos = tp_pos(x);
	return 0;
}

/* scheduler: NAME, one of libmpt's (mpt_scheduler_name).  The kernel has its own
 * (net.mptcp.scheduler, "default" unless a BPF one is loaded): only "default" there. */
static int parse_scheduler(struct tp_ctx *c, yaml_node_t *x, struct topo_host *h)
{
	char names[256];
	const char *s;
	size_t n = 0;

	if (tp_scalar(c, x, "scheduler", "roundrobin", &s))
		return -1;
	names[0] = '\0';
	for (unsigned i = 0; mpt_scheduler_name(i, NULL); i++)
		if (n < sizeof(names))
			n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s", i ? ", " : "",
					      mpt_scheduler_name(i, NULL));
	if (!*s || !mpt_scheduler_valid(s) || strlen(s) >= sizeof(h->scheduler))
		return tp_err(c, x,
			      "scheduler: \"%s\" is not one of libmpt's: %s (roundrobin takes "
			      ":N, 1..64)",
			      s, names);
	if (h->stack == TOPO_STACK_MPT || !strcmp(s, "default")) {
		snprintf(h->scheduler, sizeof(h->scheduler), "%s", s);
		return 0;
	}
	if (h->stack == TOPO_STACK_KERNEL)
		return tp_err(c, x,
			      "scheduler: %s is libmpt's; host \"%s\" runs the kernel's MPTCP, "
			      "whose scheduler is the sysctl net.mptcp.scheduler: give it stack: "
			      "mpt, or drop scheduler (or say default)",
			      s, h->name);
	return tp_err(c, x, "scheduler: host \"%s\" does not run MPTCP (give it stack: mpt)",
		      h->name);
}

/* path_manager: NAME[:ARG], one of libmpt's (mpt_path_manager_name; ndiffports takes
 * :N).  The kernel's is the sysctl net.mptcp.path_manager ("kernel" by default): only
 * "kernel" there. */
static int parse_path_manager(struct tp_ctx *c, yaml_node_t *x, struct topo_host *h)
{
	char names[256];
	const char *s;
	size_t n = 0;

	if (tp_scalar(c, x, "path_manager", "ndiffports:4", &s))
		return -1;
	names[0] = '\0';
	for (unsigned i = 0; mpt_path_manager_name(i, NULL); i++)
		if (n < sizeof(names))
			n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s", i ? ", " : "",
					      mpt_path_manager_name(i, NULL));
	if (!mpt_path_manager_valid(s) || strlen(s) >= sizeof(h->path_manager))
		return tp_err(c, x,
			      "path_manager: \"%s\" is not one of libmpt's: %s (ndiffports takes "
			      ":N, 1..16)",
			      s, names);
	if (h->stack == TOPO_STACK_MPT || !strcmp(s, "kernel")) {
		snprintf(h->path_manager, sizeof(h->path_manager), "%s", s);
		return 0;
	}
	if (h->stack == TOPO_STACK_KERNEL)
		return tp_err(c, x,
			      "path_manager: %s is libmpt's; host \"%s\" runs the kernel's MPTCP, "
			      "whose path manager is the sysctl net.mptcp.path_manager: give it "
			      "stack: mpt, or drop path_manager (or say kernel)",
			      s, h->name);
	return tp_err(c, x, "path_manager: host \"%s\" does not run MPTCP (give it stack: mpt)",
		      h->name);
}

static int parse_host(struct tp_ctx *c, yaml_node_t *k, yaml_node_t *v, struct topo_host *h)
{
	char what[TOPO_NAME_MAX + 8];
	yaml_node_t *x;
	int i;

	if (check_name(c, k, "host", TOPO_NAME_MAX - 1, "client", h->name))
		return -1;
	h->pos = tp_pos(k);
	h->mptcp.subflows = 8;
	h->mptcp.add_addr_accepted = 8;
	h->mptcp.pos = h->pos;
	if (tp_is_null(v))
		return 0;
	snprintf(what, sizeof(what), "host \"%s\"", h->name);
	if (v->type != YAML_MAPPING_NODE)
		return tp_err(c, v, "%s must be a mapping (e.g. { stack: kernel }), got %s", what,
			      tp_kind(v));
	if (tp_map_check(c, v, what, host_keys, NULL))
		return -1;
	if ((x = tp_map_get(c, v, "stack", NULL))) {
		if (word(c, x, "stack", stack_names, "mpt, kernel, tcp or none", &i))
			return -1;
		h->stack = (enum topo_stack)i;
	}
	if ((x = tp_map_get(c, v, "forward", NULL)) && tp_bool(c, x, "forward", &h->forward))
		return -1;
	if ((x = tp_map_get(c, v, "mptcp", NULL)) && parse_mptcp(c, x, h))
		return -1;
	if ((x = tp_map_get(c, v, "congestion", NULL)) && parse_congestion(c, x, h))
		return -1;
	if ((x = tp_map_get(c, v, "path_manager", NULL)) && parse_path_manager(c, x, h))
		return -1;
	if ((x = tp_map_get(c, v, "scheduler", NULL)) && parse_scheduler(c, x, h))
		return -1;
	return 0;
}

static int parse_hosts(struct tp_ctx *c, yaml_node_t *root)
{
	struct topology *t = c->t;
	yaml_node_t *k, *n = tp_map_get(c, root, "hosts", &k);
	int i = 0;

	if (!n)
		return tp_err(c, root,
			      "missing \"hosts:\" (e.g. hosts: { client: { stack: kernel }, "
			      "server: { stack: kernel } })");
	if (tp_is_null(n) || (n->type == YAML_MAPPING_NODE && map_len(n) == 0))
		return tp_err(c, k, "hosts: is empty (e.g. hosts: { client: { stack: kernel } })");
	if (tp_map_check(c, n, "hosts", NULL, NULL))
		return -1;
	t->hosts = calloc((size_t)map_len(n), sizeof(*t->hosts));
	if (!t->hosts)
		return tp_err(c, n, "out of memory");
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++, i++) {
		if (parse_host(c, tp_node(c, p->key), tp_node(c, p->value), &t->hosts[i]))
			return -1;
		t->nhosts = i + 1;
	}
	return 0;
}

/* --- links ------------------------------------------------------------------ */

static int parse_flags(struct tp_ctx *c, yaml_node_t *n, struct topo_iface *ifc)
{
	uint32_t flags = 0;
	int i;

	if (n->type != YAML_SEQUENCE_NODE)
		return tp_err(c, n,
			      "endpoint flags must be a sequence (e.g. [subflow, backup]), got %s",
			      tp_kind(n));
	for (int j = 0; j < seq_len(n); j++) {
		if (word(c, seq_item(c, n, j), "endpoint flag", ep_names,
			 "signal, subflow, backup or fullmesh", &i))
			return -1;
		flags |= 1u << i;
	}
	if ((flags & TOPO_EP_SIGNAL) && (flags & TOPO_EP_FULLMESH))
		return tp_err(c, n,
			      "endpoint flags signal and fullmesh cannot be combined (the kernel "
			      "refuses it)");
	ifc->endpoint_flags = flags;
	ifc->endpoint_set = true;
	ifc->endpoint_pos = tp_pos(n);
	return 0;
}

static int parse_endpoint(struct tp_ctx *c, yaml_node_t *n, struct topo_link *l)
{
	const struct topology *t = c->t;
	char what[TOPO_NAME_MAX + 24];

	if (n->type == YAML_SEQUENCE_NODE)
		return parse_flags(c, n, &l->end[0]);
	if (n->type != YAML_MAPPING_NODE)
		return tp_err(c, n,
			      "endpoint must be a sequence of flags (e.g. [subflow]) or a mapping "
			      "{ host: [flags] }, got %s",
			      tp_kind(n));
	snprintf(what, sizeof(what), "endpoint of link \"%s\"", l->name);
	if (tp_map_check(c, n, what, NULL, NULL))
		return -1;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = tp_node(c, p->key);
		const char *name = (const char *)k->data.scalar.value;
		int e = -1;

		for (int j = 0; j < 2; j++)
			if (!strcmp(t->hosts[l->end[j].host].name, name))
				e = j;
		if (e < 0)
			return tp_err(c, k, "host \"%s\" is not on link \"%s\" (between: %s, %s)",
				      name, l->name, t->hosts[l->end[0].host].name,
				      t->hosts[l->end[1].host].name);
		if (parse_flags(c, tp_node(c, p->value), &l->end[e]))
			return -1;
	}
	return 0;
}

/* All host bits equal to `bit` (0 or 1)? */
static bool host_bits_all(const struct netaddr *a, int bit)
{
	int total = (int)netaddr_len(a) * 8;

	for (int i = a->prefixlen; i < total; i++)
		if (((a->bytes[i / 8] >> (7 - i % 8)) & 1) != bit)
			return false;
	return true;
}

static int parse_addresses(struct tp_ctx *c, yaml_node_t *n, int li)
{
	struct topology *t = c->t;
	struct topo_link *l = &t->links[li];
	static const char *const fam_name[] = {"IPv4", "IPv6"};
	struct netaddr range[2];
	yaml_node_t *items[2][2];
	int cnt[2] = {0, 0};

	netaddr_parse("198.18.0.0/15", &range[0]);
	netaddr_parse("2001:db8::/32", &range[1]);
	if (n->type != YAML_SEQUENCE_NODE || seq_len(n) == 0)
		return tp_err(
			c, n,
			"addresses must be a sequence of two addresses in between order (e.g. "
			"[198.18.9.1/24, 198.18.9.2/24]), got %s",
			tp_kind(n));
	for (int i = 0; i < seq_len(n); i++) {
		yaml_node_t *item = seq_item(c, n, i);
		struct netaddr a;
		const char *s;
		int f;

		if (tp_scalar(c, item, "address", "198.18.9.1/24", &s))
			return -1;
		if (netaddr_parse(s, &a))
			return tp_err(
				c, item,
				"bad address \"%s\" (e.g. 198.18.9.1/24 or 2001:db8:0:9::1/64)", s);
		if (!strchr(s, '/'))
			return tp_err(c, item, "address \"%s\" needs a prefix length (e.g. %s/24)",
				      s, s);
		f = a.family == AF_INET6;
		if (f && !t->ipv6)
			return tp_err(c, item,
				      "IPv6 address \"%s\" but the topology has ipv6: false", s);
		if (cnt[f] == 2)
			return tp_err(
				c, item,
				"more than two %s addresses (give one per end of the link, in "
				"between order)",
				fam_name[f]);
		if (!netaddr_in_net(&a, &range[f]) || a.prefixlen < range[f].prefixlen)
			return tp_err(c, item,
				      "address \"%s\" is outside the testbed's ranges (use "
				      "198.18.0.0/15 for IPv4 or 2001:db8::/32 for IPv6)",
				      s);
		if (a.prefixlen > (f ? 127 : 31))
			return tp_err(c, item, "prefix of \"%s\" leaves no room for two hosts", s);
		if (a.prefixlen < (f ? 127 : 31) &&
		    (host_bits_all(&a, 0) || (!f && host_bits_all(&a, 1))))
			return tp_err(c, item,
				      "address \"%s\" is the %s address of its subnet (use a host "
				      "address, e.g. .1 and .2)",
				      s, host_bits_all(&a, 0) ? "network" : "broadcast");
		items[f][cnt[f]] = item;
		if (f)
			l->end[cnt[f]].addr6 = a;
		else
			l->end[cnt[f]].addr4 = a;
		c->addr_pos[li][f][cnt[f]] = tp_pos(item);
		cnt[f]++;
	}
	for (int f = 0; f < 2; f++) {
		const struct netaddr *a, *b;
		char sa[NETADDR_STRLEN];

		if (cnt[f] == 0)
			continue;
		if (cnt[f] == 1)
			return tp_err(c, items[f][0],
				      "only one %s address: give two, one per end of the link in "
				      "between order",
				      fam_name[f]);
		a = f ? &l->end[0].addr6 : &l->end[0].addr4;
		b = f ? &l->end[1].addr6 : &l->end[1].addr4;
		netaddr_fmt(a, true, sa, sizeof(sa));
		if (a->prefixlen != b->prefixlen || !netaddr_in_net(b, a))
			return tp_err(
				c, items[f][1],
				"address is not in the same subnet as %s (both ends of a link "
				"share one subnet)",
				sa);
		if (netaddr_eq(a, b))
			return tp_err(c, items[f][1], "address %s is given twice", sa);
	}
	return 0;
}

static int parse_dirs(struct tp_ctx *c, yaml_node_t *n, struct topo_link *l)
{
	struct topo_dir base;
	struct tp_marks bm, m;

	memset(&base, 0, sizeof(base));
	memset(&bm, 0, sizeof(bm));
	if (tp_parse_params(c, n, &base, &bm))
		return -1;
	base.pos = l->pos;
	for (int k = 0; k < 2; k++) {
		const char *dname = k ? "down" : "up";
		yaml_node_t *b = tp_map_get(c, n, dname, NULL);

		l->dir[k] = base;
		m = bm;
		if (b && !tp_is_null(b)) {
			char what[TOPO_NAME_MAX + 24];

			snprintf(what, sizeof(what), "%s: of link \"%s\"", dname, l->name);
			if (tp_map_check(c, b, what, tp_param_keys, NULL) ||
			    tp_parse_params(c, b, &l->dir[k], &m))
				return -1;
			l->dir[k].pos = tp_pos(b);
		}
		if (tp_check_dir(c, &l->dir[k], &m, l->emulator))
			return -1;
	}
	return 0;
}

static int parse_link(struct tp_ctx *c, yaml_node_t *n, int li)
{
	static const char *const reserved[] = {"lo", "all", "default", NULL};
	struct topology *t = c->t;
	struct topo_link *l = &t->links[li];
	yaml_node_t *v, *nn;
	char what[TOPO_NAME_MAX + 8];
	int e;

	l->index = li;
	l->pos = tp_pos(n);
	l->end[0].host = l->end[1].host = -1;
	if (n->type != YAML_MAPPING_NODE)
		return tp_err(c, n,
			      "a link must be a mapping (e.g. { name: wifi, between: [client, "
			      "server], rate: 50mbit }), got %s",
			      tp_kind(n));
	nn = tp_map_get(c, n, "name", NULL);
	if (nn && nn->type == YAML_SCALAR_NODE)
		snprintf(what, sizeof(what), "link \"%.31s\"", (const char *)nn->data.scalar.value);
	else
		snprintf(what, sizeof(what), "link");
	if (tp_map_check(c, n, what, link_keys, tp_param_keys))
		return -1;
	if (!nn)
		return tp_err(c, n, "link needs a name: (e.g. name: wifi)");
	if (check_name(c, nn, "link", TOPO_IFNAME_MAX, "wifi", l->name))
		return -1;
	if (tp_in_list(l->name, reserved))
		return tp_err(c, nn, "link name \"%s\" is reserved (an interface or sysctl name)",
			      l->name);
	for (int j = 0; j < li; j++)
		if (!strcmp(t->links[j].name, l->name))
			return tp_err(c, nn, "duplicate link name \"%s\" (first at line %d)",
				      l->name, t->links[j].pos.line);
	memcpy(l->end[0].ifname, l->name, sizeof(l->end[0].ifname));
	memcpy(l->end[1].ifname, l->name, sizeof(l->end[1].ifname));

	v = tp_map_get(c, n, "between", NULL);
	if (!v)
		return tp_err(c, n, "link \"%s\" needs between: [host, host]", l->name);
	if (v->type != YAML_SEQUENCE_NODE)
		return tp_err(c, v,
			      "between must be a sequence of two hosts (e.g. [client, server]), "
			      "got %s",
			      tp_kind(v));
	if (seq_len(v) != 2)
		return tp_err(c, v, "between needs exactly two hosts, got %d", seq_len(v));
	for (int k = 0; k < 2; k++) {
		yaml_node_t *h = seq_item(c, v, k);

		if (host_ref(c, h, "between", &l->end[k].host))
			return -1;
		if (k == 1 && l->end[1].host == l->end[0].host)
			return tp_err(c, h, "link \"%s\" connects host \"%s\" to itself", l->name,
				      t->hosts[l->end[0].host].name);
	}
	t->hosts[l->end[0].host].nifaces++;
	t->hosts[l->end[1].host].nifaces++;

	l->emulator = t->emulator;
	if ((v = tp_map_get(c, n, "emulator", NULL))) {
		if (word(c, v, "emulator", emu_names, "auto, user or netem", &e))
			return -1;
		l->emulator = (enum topo_emulator)e;
		l->emulator_set = true;
	}
	if (parse_dirs(c, n, l))
		return -1;
	if ((v = tp_map_get(c, n, "endpoint", NULL)) && parse_endpoint(c, v, l))
		return -1;
	if ((v = tp_map_get(c, n, "addresses", NULL)) && parse_addresses(c, v, li))
		return -1;
	return 0;
}

static int parse_links(struct tp_ctx *c, yaml_node_t *root)
{
	struct topology *t = c->t;
	yaml_node_t *k, *n = tp_map_get(c, root, "links", &k);

	if (!n)
		return tp_err(c, root,
			      "missing \"links:\" (e.g. links: [{ name: wifi, between: [client, "
			      "server] }])");
	if (tp_is_null(n) || (n->type == YAML_SEQUENCE_NODE && seq_len(n) == 0))
		return tp_err(c, k,
			      "links: is empty (e.g. links: [{ name: wifi, between: [client, "
			      "server] }])");
	if (n->type != YAML_SEQUENCE_NODE)
		return tp_err(c, n, "links must be a sequence (e.g. - name: wifi), got %s",
			      tp_kind(n));
	if (seq_len(n) > TOPO_MAX_LINKS)
		return tp_err(c, seq_item(c, n, TOPO_MAX_LINKS),
			      "too many links: at most %d (the address plan has %d subnets)",
			      TOPO_MAX_LINKS, TOPO_MAX_LINKS);
	t->links = calloc((size_t)seq_len(n), sizeof(*t->links));
	c->addr_pos = calloc((size_t)seq_len(n), sizeof(*c->addr_pos));
	if (!t->links || !c->addr_pos)
		return tp_err(c, n, "out of memory");
	for (int i = 0; i < seq_len(n); i++) {
		t->nlinks = i + 1;
		if (parse_link(c, seq_item(c, n, i), i))
			return -1;
	}
	return 0;
}

/* --- apps ------------------------------------------------------------------- */

/* A command app's command: a non-empty string of at most TOPO_CMD_MAX - 1 bytes whose
 * placeholders are all known (topo_cmd_expand). */
static int app_command(struct tp_ctx *c, yaml_node_t *n, const struct topo_app *a, const char *what,
		       char *cmd)
{
	const struct topo_cmd_vars v = {"198.18.0.1", "198.18.0.1", "a", "/", 1};
	size_t bad = 0, badlen = 0;
	const char *s;

	if (tp_scalar(c, n, "command", "\"iperf3 -c {server_addr} -p {port}\"", &s))
		return -1;
	if (!s[strspn(s, " \t\r\n")])
		return tp_err(c, n, "app \"%s\": the %s command is empty", a->name, what);
	if (strlen(s) >= TOPO_CMD_MAX)
		return tp_err(c, n, "app \"%s\": the %s command is %zu bytes long; at most %d",
			      a->name, what, strlen(s), TOPO_CMD_MAX - 1);
	if (topo_cmd_expand(s, &v, NULL, 0, &bad, &badlen) == -1)
		return tp_err(c, n,
			      "app \"%s\": unknown placeholder \"%.*s\" in the %s command (use "
			      "{server_addr}, {server_addr_url}, {port}, {app}, {run_dir}; {{ for "
			      "a literal {)",
			      a->name, (int)(badlen > 40 ? 40 : badlen), s + bad, what);
	snprintf(cmd, TOPO_CMD_MAX, "%s", s);
	return 0;
}

/* client: / server: as a host name, or as { host: NAME, command: "..." } (a command
 * app's end).  *hn gets the host name's node; *cmdn the command's (NULL without). */
static int app_end(struct tp_ctx *c, yaml_node_t *v, const char *what, struct topo_app *a,
		   int *host, yaml_node_t **hn, char *cmd, yaml_node_t **cmdn)
{
	char ctx[64];

	*hn = v;
	*cmdn = NULL;
	if (v->type != YAML_MAPPING_NODE)
		return host_ref(c, v, what, host);
	snprintf(ctx, sizeof(ctx), "%s of app \"%s\"", what, a->name);
	if (tp_map_check(c, v, ctx, app_end_keys, NULL))
		return -1;
	*hn = tp_map_get(c, v, "host", NULL);
	if (!*hn)
		return tp_err(c, v,
			      "app \"%s\": %s needs host: (e.g. { host: client, command: \"curl "
			      "http://{server_addr_url}:{port}/\" })",
			      a->name, what);
	if (host_ref(c, *hn, what, host))
		return -1;
	*cmdn = tp_map_get(c, v, "command", NULL);
	if (!*cmdn)
		return tp_err(c, v,
			      "app \"%s\": %s needs command: (or give the host alone: %s: %s)",
			      a->name, what, what, c->t->hosts[*host].name);
	return app_command(c, *cmdn, a, what, cmd);
}

static int app_hosts(struct tp_ctx *c, yaml_node_t *n, struct topo_app *a)
{
	const struct topology *t = c->t;
	yaml_node_t *cv = tp_map_get(c, n, "client", NULL), *sv = tp_map_get(c, n, "server", NULL);
	yaml_node_t *cn, *sn, *ccmd, *scmd, *key;

	if (!cv)
		return tp_err(c, n, "app \"%s\" needs client: (the host that connects)", a->name);
	if (!sv)
		return tp_err(c, n, "app \"%s\" needs server: (the host that listens)", a->name);
	if (app_end(c, cv, "client", a, &a->client, &cn, a->client_cmd, &ccmd) ||
	    app_end(c, sv, "server", a, &a->server, &sn, a->server_cmd, &scmd))
		return -1;
	if (ccmd && !scmd)
		return tp_err(c, sv,
			      "app \"%s\": the client runs a command, so the server needs one "
			      "too (server: { host: %s, command: \"...\" })",
			      a->name, t->hosts[a->server].name);
	if (scmd && !ccmd)
		return tp_err(c, cv,
			      "app \"%s\": the server runs a command, so the client needs one "
			      "too (client: { host: %s, command: \"...\" })",
			      a->name, t->hosts[a->client].name);
	if (ccmd) {
		a->mode = TOPO_MODE_COMMAND;
		for (const char *const *p = perf_only_keys; *p; p++)
			if (tp_map_get(c, n, *p, &key))
				return tp_err(c, key,
					      "app \"%s\": %s: is for mpt-perf apps; a command "
					      "app runs until its client command exits (give "
					      "timeout: to bound it)",
					      a->name, *p);
	}
	a->client_pos = tp_pos(cn);
	a->server_pos = tp_pos(sn);
	if (a->client == a->server)
		return tp_err(c, sn, "app \"%s\": client and server are the same host \"%s\"",
			      a->name, t->hosts[a->client].name);
	for (int k = 0; k < 2; k++) {
		int h = k ? a->server : a->client;

		if (t->hosts[h].stack == TOPO_STACK_NONE)
			return tp_err(c, k ? sn : cn,
				      "app \"%s\": host \"%s\" has no stack (give it stack: mpt, "
				      "kernel or tcp)",
				      a->name, t->hosts[h].name);
	}
	if (!topo_reachable(t, a->client, a->server))
		return tp_err(c, sn,
			      "app \"%s\": server \"%s\" is not reachable from client \"%s\" "
			      "(paths only cross hosts with forward: true)",
			      a->name, t->hosts[a->server].name, t->hosts[a->client].name);
	return 0;
}

const char *topo_mode_name(enum topo_mode m)
{
	if (m == TOPO_MODE_COMMAND)
		return "command";
	return (unsigned)m <= TOPO_MODE_STREAM ? mode_names[m] : "?";
}

static bool is_word_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_';
}

int topo_cmd_expand(const char *tmpl, const struct topo_cmd_vars *v, char *out, size_t cap,
		    size_t *bad, size_t *badlen)
{
	size_t o = 0;
	bool room = true;

	for (size_t i = 0; tmpl[i];) {
		const char *val = NULL;
		char num[16], one[2] = {tmpl[i], '\0'};
		size_t take = 1, w = 0;

		if (tmpl[i] == '{' && tmpl[i + 1] == '{') {
			val = "{";
			take = 2;
		} else if (tmpl[i] == '{' && !(i > 0 && tmpl[i - 1] == '$')) {
			while (is_word_char(tmpl[i + 1 + w]))
				w++;
			if (w && tmpl[i + 1 + w] == '}') {
				static const char *const names[] = {
					"server_addr", "server_addr_url", "port", "app", "run_dir"};
				const char *name = tmpl + i + 1;
				int which = -1;

				for (int k = 0; k < 5; k++)
					if (strlen(names[k]) == w && !strncmp(names[k], name, w))
						which = k;
				if (which < 0) {
					if (bad)
						*bad = i;
					if (badlen)
						*badlen = w + 2;
					return -1;
				}
				snprintf(num, sizeof(num), "%u", v->port);
				val = which == 0   ? v->server_addr
				      : which == 1 ? v->server_addr_url
				      : which == 2 ? num
				      : which == 3 ? v->app
						   : v->run_dir;
				take = w + 2;
			}
		}
		if (take == 1 && !val)
			val = one;
		if (!val)
			val = "";
		for (const char *p = val; *p && out; p++) {
			if (o + 1 >= cap) {
				room = false;
				break;
			}
			out[o++] = *p;
		}
		i += take;
	}
	if (out && cap)
		out[o] = '\0';
	return out && !room ? -2 : 0;
}

/* mode: and the keys each mode takes (request/response/exchanges for rr, rate/chunk
 * for stream); a key of another mode is an error at that key. */
static int app_mode(struct tp_ctx *c, yaml_node_t *n, struct topo_app *a)
{
	static const struct {
		const char *key;
		enum topo_mode mode;
	} own[] = {{"request", TOPO_MODE_RR},
		   {"response", TOPO_MODE_RR},
		   {"exchanges", TOPO_MODE_RR},
		   {"rate", TOPO_MODE_STREAM},
		   {"chunk", TOPO_MODE_STREAM}};
	yaml_node_t *v, *k;
	uint64_t x;
	int i;

	if ((v = tp_map_get(c, n, "mode", NULL))) {
		if (word(c, v, "mode", mode_names, "bulk, rr or stream", &i))
			return -1;
		a->mode = (enum topo_mode)i;
	}
	for (size_t j = 0; j < sizeof(own) / sizeof(own[0]); j++)
		if (tp_map_get(c, n, own[j].key, &k) && own[j].mode != a->mode)
			return tp_err(
				c, k, "app \"%s\": %s: is for mode: %s (this app is mode: %s)",
				a->name, own[j].key, mode_names[own[j].mode], mode_names[a->mode]);
	if (a->mode == TOPO_MODE_RR) {
		yaml_node_t *rq = tp_map_get(c, n, "request", NULL);
		yaml_node_t *rs = tp_map_get(c, n, "response", NULL);

		if (!rq || !rs)
			return tp_err(c, n,
				      "app \"%s\": mode: rr needs request: and response: (bytes "
				      "each way per exchange, e.g. request: 100, response: 256KiB)",
				      a->name);
		if (tp_size(c, rq, "request", &a->request) ||
		    tp_size(c, rs, "response", &a->response))
			return -1;
		if (!a->request || a->request > (1ull << 30))
			return tp_err(c, rq, "request must be 1 byte to 1GiB");
		if (!a->response || a->response > (1ull << 30))
			return tp_err(c, rs, "response must be 1 byte to 1GiB");
		a->exchanges = TOPO_RR_DEFAULT_EXCHANGES;
		if ((v = tp_map_get(c, n, "exchanges", NULL))) {
			if (tp_uint(c, v, "exchanges", 1, 1000000, &x))
				return -1;
			a->exchanges = (uint32_t)x;
		}
		for (int b = 0; b < 2; b++)
			if (tp_map_get(c, n, b ? "time" : "bytes", &k))
				return tp_err(c, k,
					      "app \"%s\": mode: rr runs exchanges: (default %d), "
					      "not %s:",
					      a->name, TOPO_RR_DEFAULT_EXCHANGES,
					      b ? "time" : "bytes");
	}
	if (a->mode == TOPO_MODE_STREAM) {
		yaml_node_t *rt = tp_map_get(c, n, "rate", NULL),
			    *ch = tp_map_get(c, n, "chunk", NULL);

		if (!rt || !ch)
			return tp_err(c, n,
				      "app \"%s\": mode: stream needs rate: and chunk: (e.g. rate: "
				      "8mbit, chunk: 64KiB: a chunk every chunk/rate seconds)",
				      a->name);
		if (tp_rate(c, rt, "rate", &a->rate_bps) || tp_size(c, ch, "chunk", &a->chunk))
			return -1;
		if (a->rate_bps < 8)
			return tp_err(c, rt, "rate must be at least 8bit (1 byte/s)");
		if (a->chunk < 16 || a->chunk > (1ull << 30))
			return tp_err(c, ch, "chunk must be 16 bytes (its time stamp) to 1GiB");
	}
	return 0;
}

static int app_amount(struct tp_ctx *c, yaml_node_t *n, struct topo_app *a)
{
	yaml_node_t *bk = NULL, *tk = NULL, *v;
	yaml_node_t *bn = tp_map_get(c, n, "bytes", &bk), *tn = tp_map_get(c, n, "time", &tk);

	if (a->mode == TOPO_MODE_RR) {
		a->timeout_ns = 300000000000ull;
		if ((v = tp_map_get(c, n, "timeout", NULL))) {
			if (tp_time(c, v, "timeout", &a->timeout_ns))
				return -1;
			if (!a->timeout_ns)
				return tp_err(c, v, "timeout must be above 0 (e.g. 300s)");
		}
		return 0;
	}

	if (bn && tn) {
		struct topo_pos pb = tp_pos(bk), pt = tp_pos(tk);
		bool b_later = pb.line > pt.line || (pb.line == pt.line && pb.col > pt.col);

		return tp_err(c, b_later ? bk : tk,
			      "app \"%s\" has both bytes: and time: (give exactly one)", a->name);
	}
	if (!bn && !tn)
		return tp_err(c, n, "app \"%s\" needs bytes: (e.g. 64MiB) or time: (e.g. 10s)",
			      a->name);
	if (bn) {
		if (tp_size(c, bn, "bytes", &a->bytes))
			return -1;
		if (!a->bytes)
			return tp_err(c, bn, "bytes must be above 0 (e.g. 64MiB)");
		if (a->mode == TOPO_MODE_STREAM && a->bytes % a->chunk)
			return tp_err(c, bn,
				      "app \"%s\": bytes: must be whole chunks (a multiple of "
				      "chunk: %llu), or give time:",
				      a->name, (unsigned long long)a->chunk);
	} else {
		if (tp_time(c, tn, "time", &a->time_ns))
			return -1;
		if (!a->time_ns)
			return tp_err(c, tn, "time must be above 0 (e.g. 10s)");
	}
	a->timeout_ns = a->time_ns ? a->time_ns + 30000000000ull : 300000000000ull;
	if ((v = tp_map_get(c, n, "timeout", NULL))) {
		if (tp_time(c, v, "timeout", &a->timeout_ns))
			return -1;
		if (!a->timeout_ns)
			return tp_err(c, v, "timeout must be above 0 (e.g. 300s)");
		if (tn && a->timeout_ns <= a->time_ns)
			return tp_err(c, v, "timeout must be longer than time: (%s)",
				      (const char *)tn->data.scalar.value);
	}
	return 0;
}

static int parse_app(struct tp_ctx *c, yaml_node_t *n, int ai)
{
	struct topology *t = c->t;
	struct topo_app *a = &t->apps[ai];
	yaml_node_t *v, *nn;
	uint64_t x;
	int i;

	a->pos = tp_pos(n);
	a->server_link = -1;
	if (n->type != YAML_MAPPING_NODE)
		return tp_err(
			c, n,
			"an app must be a mapping (e.g. { name: bulk, client: client, server: "
			"server, bytes: 64MiB }), got %s",
			tp_kind(n));
	if (tp_map_check(c, n, "app", app_keys, NULL))
		return -1;
	nn = tp_map_get(c, n, "name", NULL);
	if (!nn)
		return tp_err(c, n, "app needs a name: (e.g. name: bulk)");
	if (check_name(c, nn, "app", TOPO_NAME_MAX - 1, "bulk", a->name))
		return -1;
	for (int j = 0; j < ai; j++)
		if (!strcmp(t->apps[j].name, a->name))
			return tp_err(c, nn, "duplicate app name \"%s\" (first at line %d)",
				      a->name, t->apps[j].pos.line);
	if (app_hosts(c, n, a))
		return -1;
	if (a->mode == TOPO_MODE_COMMAND) {
		a->timeout_ns = 300000000000ull;
		if ((v = tp_map_get(c, n, "timeout", NULL))) {
			if (tp_time(c, v, "timeout", &a->timeout_ns))
				return -1;
			if (!a->timeout_ns)
				return tp_err(c, v, "timeout must be above 0 (e.g. 60s)");
		}
	} else if (app_mode(c, n, a) || app_amount(c, n, a)) {
		return -1;
	}
	if ((v = tp_map_get(c, n, "direction", NULL))) {
		static const char *const dirs[] = {"upload", "download", NULL};

		if (word(c, v, "direction", dirs, "upload or download", &i))
			return -1;
		a->direction = (enum topo_direction)i;
		if (a->mode == TOPO_MODE_RR && a->direction == TOPO_DOWNLOAD)
			return tp_err(c, v,
				      "app \"%s\": mode: rr has requests up and responses down; "
				      "drop direction:",
				      a->name);
	}
	if ((v = tp_map_get(c, n, "start", NULL)) && tp_time(c, v, "start", &a->start_ns))
		return -1;
	if ((v = tp_map_get(c, n, "rcvbuf", NULL))) {
		if (tp_size(c, v, "rcvbuf", &a->rcvbuf))
			return -1;
		if (a->rcvbuf < 4096 || a->rcvbuf > (1ull << 30))
			return tp_err(
				c, v,
				"rcvbuf must be 4KiB to 1GiB (e.g. 64KiB), or drop it for the "
				"stacks' defaults");
	}
	a->port = (uint16_t)(5201 + ai);
	if ((v = tp_map_get(c, n, "port", NULL))) {
		if (tp_uint(c, v, "port", 1, 65535, &x))
			return -1;
		a->port = (uint16_t)x;
	}
	for (int j = 0; j < ai; j++)
		if (t->apps[j].server == a->server && t->apps[j].port == a->port)
			return tp_err(c, v ? v : n,
				      "port %u on host \"%s\" is already used by app \"%s\" (line "
				      "%d); give a different port:",
				      a->port, t->hosts[a->server].name, t->apps[j].name,
				      t->apps[j].pos.line);
	if ((v = tp_map_get(c, n, "ipv6", NULL))) {
		if (tp_bool(c, v, "ipv6", &a->ipv6))
			return -1;
		if (a->ipv6 && !t->ipv6)
			return tp_err(c, v, "app ipv6: true but the topology has ipv6: false");
	}
	if ((v = tp_map_get(c, n, "to_link", NULL))) {
		if (link_ref(c, v, "to_link", &a->server_link))
			return -1;
		if (topo_link_end(t, a->server_link, a->server) < 0)
			return tp_err(c, v, "server \"%s\" is not on link \"%s\"",
				      t->hosts[a->server].name, t->links[a->server_link].name);
	} else {
		for (int l = 0; l < t->nlinks && a->server_link < 0; l++)
			if (topo_link_end(t, l, a->server) >= 0)
				a->server_link = l;
	}
	return 0;
}

static int parse_apps(struct tp_ctx *c, yaml_node_t *root)
{
	struct topology *t = c->t;
	yaml_node_t *n = tp_map_get(c, root, "apps", NULL);

	if (!n || tp_is_null(n))
		return 0;
	if (n->type != YAML_SEQUENCE_NODE)
		return tp_err(c, n, "apps must be a sequence (e.g. - name: bulk), got %s",
			      tp_kind(n));
	if (seq_len(n) == 0)
		return 0;
	t->apps = calloc((size_t)seq_len(n), sizeof(*t->apps));
	if (!t->apps)
		return tp_err(c, n, "out of memory");
	for (int i = 0; i < seq_len(n); i++) {
		t->napps = i + 1;
		if (parse_app(c, seq_item(c, n, i), i))
			return -1;
	}
	return 0;
}

/* --- events ----------------------------------------------------------------- */

static yaml_node_t *first_param_key(struct tp_ctx *c, yaml_node_t *n)
{
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = tp_node(c, p->key);

		if (tp_in_list((const char *)k->data.scalar.value, tp_param_keys))
			return k;
	}
	return NULL;
}

static int parse_event(struct tp_ctx *c, yaml_node_t *n, int ei)
{
	struct topology *t = c->t;
	struct topo_event *ev = &t->events[ei];
	yaml_node_t *v, *k;
	int i;

	ev->pos = tp_pos(n);
	ev->host = -1;
	ev->link = -1;
	if (n->type != YAML_MAPPING_NODE)
		return tp_err(c, n,
			      "an event must be a mapping (e.g. { at: 5s, link: wifi, action: down "
			      "}), got %s",
			      tp_kind(n));
	if (tp_map_check(c, n, "event", event_keys, tp_param_keys))
		return -1;
	if (!(v = tp_map_get(c, n, "at", NULL)))
		return tp_err(c, n, "event needs at: (e.g. at: 5s)");
	if (tp_time(c, v, "at", &ev->at_ns))
		return -1;
	if (!(v = tp_map_get(c, n, "action", NULL)))
		return tp_err(c, n,
			      "event needs action: (down, up, set, blackhole, restore, addr-del or "
			      "addr-add)");
	if (word(c, v, "action", action_names,
		 "down, up, set, blackhole, restore, addr-del or addr-add", &i))
		return -1;
	ev->action = (enum topo_action)i;
	if (!(v = tp_map_get(c, n, "link", NULL)))
		return tp_err(c, n, "event needs link: (the link it acts on)");
	if (link_ref(c, v, "event", &ev->link))
		return -1;

	v = tp_map_get(c, n, "host", &k);
	if (ev->action == TOPO_EV_ADDR_DEL || ev->action == TOPO_EV_ADDR_ADD) {
		const struct topo_link *l = &t->links[ev->link];

		if (!v)
			return tp_err(c, n,
				      "action %s needs host: (%s or %s, the ends of link \"%s\")",
				      action_names[ev->action], t->hosts[l->end[0].host].name,
				      t->hosts[l->end[1].host].name, l->name);
		if (host_ref(c, v, "event", &ev->host))
			return -1;
		if (topo_link_end(t, ev->link, ev->host) < 0)
			return tp_err(c, v, "host \"%s\" is not on link \"%s\" (between: %s, %s)",
				      t->hosts[ev->host].name, l->name,
				      t->hosts[l->end[0].host].name, t->hosts[l->end[1].host].name);
	} else if (v) {
		return tp_err(c, k, "host: is only for actions addr-del and addr-add");
	}

	v = tp_map_get(c, n, "dir", &k);
	if (ev->action != TOPO_EV_SET) {
		yaml_node_t *pk = first_param_key(c, n);

		if (v)
			return tp_err(c, k, "dir: is only for action: set");
		if (pk)
			return tp_err(c, pk, "%s: is only for action: set",
				      (const char *)pk->data.scalar.value);
		return 0;
	}
	ev->dir_mask = 3;
	if (v) {
		static const char *const dirs[] = {"up", "down", "both", NULL};

		if (word(c, v, "dir", dirs, "up, down or both", &i))
			return -1;
		ev->dir_mask = i + 1;
	}
	ev->params.pos = ev->pos;
	if (tp_parse_params(c, n, &ev->params, &c->ev_marks[ei]))
		return -1;
	if (!ev->params.set)
		return tp_err(c, n, "action: set needs at least one parameter (e.g. loss: 2%%)");
	if ((ev->params.set & TOPO_F_TRACE) && (ev->params.set & TOPO_F_RATE))
		return tp_err_at(c, c->ev_marks[ei].key[__builtin_ctz(TOPO_F_TRACE)],
				 "a trace and a rate in one set: (the trace sets the rate: remove "
				 "one)");
	return 0;
}

static int parse_events(struct tp_ctx *c, yaml_node_t *root)
{
	struct topology *t = c->t;
	yaml_node_t *n = tp_map_get(c, root, "events", NULL);

	if (!n || tp_is_null(n))
		return 0;
	if (n->type != YAML_SEQUENCE_NODE)
		return tp_err(c, n,
			      "events must be a sequence (e.g. - { at: 5s, link: wifi, action: "
			      "down }), got %s",
			      tp_kind(n));
	if (seq_len(n) == 0)
		return 0;
	t->events = calloc((size_t)seq_len(n), sizeof(*t->events));
	c->ev_marks = calloc((size_t)seq_len(n), sizeof(*c->ev_marks));
	if (!t->events || !c->ev_marks)
		return tp_err(c, n, "out of memory");
	for (int i = 0; i < seq_len(n); i++) {
		t->nevents = i + 1;
		if (parse_event(c, seq_item(c, n, i), i))
			return -1;
	}
	return 0;
}

/* --- top level -------------------------------------------------------------- */

static int parse_doc(struct tp_ctx *c, yaml_node_t *root)
{
	struct topology *t = c->t;
	yaml_node_t *v;
	uint64_t x;
	int e;

	if (root->type != YAML_MAPPING_NODE || tp_is_null(root))
		return tp_err(c, root,
			      "a topology must be a mapping with name:, hosts: and links:, got %s",
			      tp_kind(root));
	if (tp_map_check(c, root, "the topology", top_keys, NULL))
		return -1;
	v = tp_map_get(c, root, "name", NULL);
	if (!v)
		return tp_err(c, root, "missing \"name:\" (e.g. name: two-path)");
	if (check_name(c, v, "topology", TOPO_NAME_MAX - 1, "two-path", t->name))
		return -1;
	t->seed = 1;
	if ((v = tp_map_get(c, root, "seed", NULL))) {
		if (tp_uint(c, v, "seed", 0, UINT64_MAX, &x))
			return -1;
		t->seed = x;
		t->seed_set = true;
	}
	t->ipv6 = true;
	if ((v = tp_map_get(c, root, "ipv6", NULL)) && tp_bool(c, v, "ipv6", &t->ipv6))
		return -1;
	if ((v = tp_map_get(c, root, "emulator", NULL))) {
		if (word(c, v, "emulator", emu_names, "auto, user or netem", &e))
			return -1;
		t->emulator = (enum topo_emulator)e;
	}
	if (parse_hosts(c, root) || parse_links(c, root) || parse_apps(c, root) ||
	    parse_events(c, root))
		return -1;
	return tp_resolve(c);
}

/* --- loading ---------------------------------------------------------------- */

static struct topo_pos offset_pos(const char *s, size_t len, size_t off)
{
	struct topo_pos p = {1, 1};

	for (size_t i = 0; i < off && i < len; i++) {
		if (s[i] == '\n') {
			p.line++;
			p.col = 1;
		} else {
			p.col++;
		}
	}
	return p;
}

static int syntax_error(struct tp_ctx *c, const yaml_parser_t *p, const char *yaml, size_t len)
{
	struct topo_pos pos;
	const char *hint = "";
	char ctx[96] = "";

	if (p->error == YAML_MEMORY_ERROR)
		return tp_err_at(c, (struct topo_pos){0, 0}, "out of memory");
	if (p->error == YAML_READER_ERROR) {
		pos = offset_pos(yaml, len, p->problem_offset);
		return tp_err_at(c, pos, "YAML error: %s", p->problem ? p->problem : "bad input");
	}
	pos.line = (int)p->problem_mark.line + 1;
	pos.col = (int)p->problem_mark.column + 1;
	if (p->problem_mark.index < len && yaml[p->problem_mark.index] == '\t')
		hint = " (tabs cannot indent YAML: use spaces)";
	if (p->context)
		snprintf(ctx, sizeof(ctx), " (%s at line %d)", p->context,
			 (int)p->context_mark.line + 1);
	return tp_err_at(c, pos, "YAML syntax error: %s%s%s", p->problem ? p->problem : "?", ctx,
			 hint);
}

int topo_load_string(const char *path, const char *yaml, size_t len, struct topology **out,
		     char err[TOPO_ERR_MAX])
{
	struct tp_ctx c;
	yaml_parser_t parser;
	yaml_document_t doc, doc2;
	yaml_node_t *root;
	struct topology *t;
	int r = -1;

	*out = NULL;
	err[0] = '\0';
	memset(&c, 0, sizeof(c));
	t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(err, TOPO_ERR_MAX, "%s: out of memory", path);
		return -1;
	}
	snprintf(t->path, sizeof(t->path), "%s", path);
	t->seed = 1;
	t->ipv6 = true;
	c.t = t;
	c.err = err;
	c.doc = &doc;
	if (!yaml_parser_initialize(&parser)) {
		tp_err_at(&c, (struct topo_pos){0, 0}, "out of memory");
		goto out_free;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
	if (!yaml_parser_load(&parser, &doc)) {
		syntax_error(&c, &parser, yaml, len);
		goto out_parser;
	}
	root = yaml_document_get_root_node(&doc);
	if (!root) {
		tp_err_at(&c, (struct topo_pos){1, 1},
			  "the file is empty: a topology needs name:, hosts: and links:");
		goto out_doc;
	}
	/* One topology per file: the rest of the stream must be empty (and valid). */
	if (!yaml_parser_load(&parser, &doc2)) {
		syntax_error(&c, &parser, yaml, len);
		goto out_doc;
	}
	if (yaml_document_get_root_node(&doc2)) {
		tp_err_at(&c,
			  (struct topo_pos){(int)doc2.start_mark.line + 1,
					    (int)doc2.start_mark.column + 1},
			  "a second YAML document: a file holds one topology (remove the \"---\")");
		yaml_document_delete(&doc2);
		goto out_doc;
	}
	yaml_document_delete(&doc2);
	r = parse_doc(&c, root);
out_doc:
	yaml_document_delete(&doc);
out_parser:
	yaml_parser_delete(&parser);
out_free:
	free(c.addr_pos);
	free(c.ev_marks);
	if (r) {
		topo_free(t);
		return -1;
	}
	*out = t;
	return 0;
}

int topo_load(const char *path, struct topology **out, char err[TOPO_ERR_MAX])
{
	FILE *f;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int r;

	*out = NULL;
	f = fopen(path, "rb");
	if (!f) {
		snprintf(err, TOPO_ERR_MAX, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		size_t got;

		if (len == cap) {
			char *nb;

			cap = cap ? cap * 2 : 8192;
			if (cap > TOPO_MAX_FILE) {
				snprintf(err, TOPO_ERR_MAX, "%s: file too large (more than %u MiB)",
					 path, TOPO_MAX_FILE >> 20);
				goto fail;
			}
			nb = realloc(buf, cap);
			if (!nb) {
				snprintf(err, TOPO_ERR_MAX, "%s: out of memory", path);
				goto fail;
			}
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, TOPO_ERR_MAX, "%s: read error: %s", path, strerror(errno));
		goto fail;
	}
	fclose(f);
	r = topo_load_string(path, buf ? buf : "", len, out, err);
	free(buf);
	return r;
fail:
	fclose(f);
	free(buf);
	return -1;
}
