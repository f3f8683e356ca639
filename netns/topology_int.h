/* Internal to the topology parser (topology.c, topology_params.c,
 * topology_check.c): the parse context and the YAML helpers they share.  Nothing
 * outside netns/topology*.c includes this; the contract is topology.h.
 *
 * Internal functions carry the prefix tp_ (they are not part of the API).
 */
#ifndef MPNET_TOPOLOGY_INT_H
#define MPNET_TOPOLOGY_INT_H

#include "topology.h"

#include <yaml.h>

#define TP_NFLAGS 13 /* bits of TOPO_F_* */
_Static_assert((TOPO_F_REWRITE | TOPO_F_AQM | TOPO_F_DELAY_CORR) < (1u << TP_NFLAGS),
	       "TP_NFLAGS: a TOPO_F_* bit beyond it");

/* Where each TOPO_F_* field of a topo_dir was given (the key's position). */
struct tp_marks {
	struct topo_pos key[TP_NFLAGS];
};

struct tp_ctx {
	struct topology *t;
	yaml_document_t *doc;
	char *err;
	/* Position of each overridden address (addresses:), [link][0 = IPv4, 1 = IPv6][end];
	 * line 0 = assigned automatically. */
	struct topo_pos (*addr_pos)[2][2];
	/* Where each event's set parameters were given, by event index (file order). */
	struct tp_marks *ev_marks;
};

/* Parameter keys shared by links, up:/down: blocks and `set` events. */
extern const char *const tp_param_keys[];

struct topo_pos tp_pos(const yaml_node_t *n);
yaml_node_t *tp_node(struct tp_ctx *c, int id);
const char *tp_kind(const yaml_node_t *n);
bool tp_is_null(const yaml_node_t *n);
bool tp_in_list(const char *s, const char *const *list);

/* Write "FILE:LINE:COL: message" for node n (NULL: the file itself) and return -1. */
int tp_err(struct tp_ctx *c, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int tp_err_at(struct tp_ctx *c, struct topo_pos pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The node as a string, or an error naming `what` and an example of a valid value. */
int tp_scalar(struct tp_ctx *c, yaml_node_t *n, const char *what, const char *example,
	      const char **out);
int tp_want(struct tp_ctx *c, yaml_node_t *n, yaml_node_type_t type, const char *what,
	    const char *example);

/* Check that n is a mapping whose keys are scalars, unique, and each in `allowed`
 * or `allowed2` (either may be NULL; both NULL = any key).  `what` names the
 * mapping in messages ("link \"wifi\""). */
int tp_map_check(struct tp_ctx *c, yaml_node_t *n, const char *what, const char *const *allowed,
		 const char *const *allowed2);

/* The value of key in mapping n (checked with tp_map_check), or NULL; *keyn (if
 * not NULL) receives the key node. */
yaml_node_t *tp_map_get(struct tp_ctx *c, yaml_node_t *n, const char *key, yaml_node_t **keyn);

/* A whole decimal number in [min, max]. */
int tp_uint(struct tp_ctx *c, yaml_node_t *n, const char *what, uint64_t min, uint64_t max,
	    uint64_t *out);
int tp_bool(struct tp_ctx *c, yaml_node_t *n, const char *what, bool *out);

/* Quantities with units: the value of node n for key `what`.  Errors say which
 * units exist and give an example. */
int tp_rate(struct tp_ctx *c, yaml_node_t *n, const char *what, uint64_t *out);
int tp_time(struct tp_ctx *c, yaml_node_t *n, const char *what, uint64_t *out);
int tp_size(struct tp_ctx *c, yaml_node_t *n, const char *what, uint64_t *out);
int tp_percent(struct tp_ctx *c, yaml_node_t *n, const char *what, double *out);

/* Parse the parameter keys (tp_param_keys) present in mapping `map` into d: sets
 * d->set bits, the marks and d->emu_pos; other keys are left to the caller. */
int tp_parse_params(struct tp_ctx *c, yaml_node_t *map, struct topo_dir *d, struct tp_marks *m);

/* Checks on a complete direction (after link + up/down merging, or link + event):
 * trace with rate, reorder without delay, distribution without jitter, trace under
 * emulator: netem.  `m` says where each field was given. */
int tp_check_dir(struct tp_ctx *c, const struct topo_dir *d, const struct tp_marks *m,
		 enum topo_emulator emu);

/* After parsing: assign addresses, check them across links, endpoint ids, app
 * server addresses, sort the events. */
int tp_resolve(struct tp_ctx *c);

#endif
