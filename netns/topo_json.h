/* The resolved topology as JSON (jansson): what `mpnet show --json` prints and
 * what `mpnet run` stores as topology.resolved.json. */
#ifndef MPNET_TOPO_JSON_H
#define MPNET_TOPO_JSON_H

#include "topology.h"

#include <jansson.h>

/* One direction's parameters, only the fields that were set. New reference. */
json_t *topo_json_dir(const struct topo_dir *d);

/* The whole topology, every address and default filled in. New reference. */
json_t *topo_json(const struct topology *t);

/* Endpoint flags as a JSON array of names ("signal", "subflow", ...). */
json_t *topo_json_endpoint_flags(uint32_t flags);

/* Flags as text "subflow,backup" into buf. */
const char *topo_endpoint_flags_str(uint32_t flags, char *buf, size_t len);

#endif
