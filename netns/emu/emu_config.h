/* The link emulator's configuration file (JSON) and trace files.
 *
 *   {
 *     "link": "l1", "seed": 1, "link_index": 0,
 *     "ifaces": ["e0", "e1"],
 *     "up":   { "set": ["rate", "delay"], "rate_bps": 20000000, "delay_ns": 25000000, ... },
 *     "down": { ... }
 *   }
 *
 * A direction object carries every field of `struct topo_dir` under its own name
 * (rate_bps, delay_ns, jitter_ns, delay_corr, dist, loss_model, loss[5],
 * duplicate, duplicate_corr, corrupt, corrupt_corr, reorder, reorder_corr,
 * reorder_gap, queue_unit, queue, trace) plus "set", the TOPO_F_* mask as names
 * (rate delay jitter loss queue duplicate corrupt reorder trace dist).  Missing
 * fields are 0 / "".  The control socket uses the same object for "set".
 */
#ifndef MPNET_EMU_CONFIG_H
#define MPNET_EMU_CONFIG_H

#include "emu_dir.h"
#include "topology.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

struct emu_config {
	char link[TOPO_NAME_MAX];
	uint64_t seed;
	int link_index;
	char ifname[2][TOPO_IFNAME_MAX + 1]; /* default "e0", "e1" */
	struct topo_dir dir[2];		     /* [0] = up (e0 -> e1), [1] = down */
};

/* Write the configuration of one link's emulator to f (the orchestrator's one
 * call).  Interfaces are "e0" and "e1".  Returns 0 or -errno. */
int emu_config_write(FILE *f, const char *link_name, const struct topo_dir dir[2], uint64_t seed,
		     int link_index);

/* Read a configuration file written by emu_config_write (or by hand).  Returns
 * 0, or -1 with a message in err. */
int emu_config_read(const char *path, struct emu_config *out, char *err, size_t errlen);
int emu_config_parse(const char *text, struct emu_config *out, char *err, size_t errlen);

/* One direction's parameters <-> JSON (see the comment above).  to_json returns
 * a new reference or NULL; from_json returns 0 or -1 with a message. */
json_t *emu_params_to_json(const struct topo_dir *d);
int emu_params_from_json(const json_t *j, struct topo_dir *d, char *err, size_t errlen);

/* Load a mahimahi trace: one integer per line, milliseconds, non-decreasing,
 * the last > 0.  Returns 0, or -1 with a message.  Free with emu_trace_free. */
int emu_trace_load(const char *path, struct emu_trace *out, char *err, size_t errlen);
void emu_trace_free(struct emu_trace *t);

#endif
