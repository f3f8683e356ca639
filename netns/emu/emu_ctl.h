/* Control of a running mpnet-linkemu over its unix socket (--control PATH).
 *
 * Protocol: SOCK_SEQPACKET, one JSON request, one JSON reply per message.
 *   {"cmd": "set", "dirs": 1|2|3, "params": {<direction object, emu_config.h>}}
 *   {"cmd": "blackhole", "on": true|false}
 *   {"cmd": "stats"}
 * Reply: {"ok": true[, "stats": {...}]} or {"ok": false, "errno": N, "error": "..."}.
 * A set changes only the fields in params.set, for the directions in dirs
 * (1 = up, e0 -> e1; 2 = down), and is applied as soon as it is read (the
 * forwarding loop polls the socket with the packet sockets); frames already in
 * the emulator are kept.
 */
#ifndef MPNET_EMU_CTL_H
#define MPNET_EMU_CTL_H

#include "topology.h"

#include <stdbool.h>

#define EMU_CTL_MSG_MAX	   (256 * 1024)
#define EMU_CTL_TIMEOUT_MS 3000

/* Change the fields in params->set of the directions in dir_mask (1 up, 2 down).
 * Returns 0 or -errno (-EINVAL: a bad value or mask; -ECONNREFUSED/-ENOENT: no
 * emulator at path; -ETIMEDOUT). */
int emu_ctl_set(const char *path, int dir_mask, const struct topo_dir *params);

/* Blackhole on (drop every frame, both directions, counted as "blackhole"; the
 * carrier stays up) or off.  Returns 0 or -errno. */
int emu_ctl_blackhole(const char *path, bool on);

/* The emulator's counters as JSON text (the "stats" object), malloc'ed into
 * *json_out for the caller to free.  Returns 0 or -errno. */
int emu_ctl_stats(const char *path, char **json_out);

/* One raw request: send `req`, return the reply text (malloc'ed).  0 or -errno. */
int emu_ctl_request(const char *path, const char *req, char **reply);

#endif
