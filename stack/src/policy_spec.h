/* "NAME" or "NAME:N", the way a scheduler or path manager is chosen by name
 * (mpt_config.scheduler, .path_manager; `--scheduler roundrobin:4`,
 * `--path-manager ndiffports:4`).  Shared by the two registries. */
#ifndef MPT_POLICY_SPEC_H
#define MPT_POLICY_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define POLICY_ARG_MAX 1000 /* larger N: refused (every policy's limit is far below) */

/* Split `spec`: the name's length in *name_len, N in *arg (0 without ":N").  False
 * for a malformed spec: ":" with nothing, a non-digit, 0, or N above POLICY_ARG_MAX.
 * NULL or "" is an empty name (the registry's default). */
static inline bool policy_spec_split(const char *spec, size_t *name_len, uint32_t *arg)
{
	const char *colon = spec ? strchr(spec, ':') : NULL;
	uint32_t a = 0;

	*arg = 0;
	*name_len = !spec ? 0 : colon ? (size_t)(colon - spec) : strlen(spec);
	if (!colon)
		return true;
	if (!colon[1])
		return false;
	for (const char *d = colon + 1; *d; d++) {
		if (*d < '0' || *d > '9')
			return false;
		a = a * 10 + (uint32_t)(*d - '0');
		if (a > POLICY_ARG_MAX)
			return false;
	}
	*arg = a;
	return a != 0;
}

#endif
