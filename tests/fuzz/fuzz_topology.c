/* Fuzz target: the topology parser (YAML -> struct topology, checks, resolution).
 * Any input either loads or fails with exactly one line "fuzz.yaml:LINE:COL: message"
 * (LINE, COL >= 1). */
#include "fuzz.h"

#include "topology.h"

#include <string.h>

static void check_error(const char *err)
{
	const char *p = err;
	unsigned long line, col;
	char *end;

	FUZZ_ASSERT(!strchr(err, '\n'), "error spans lines: \"%s\"", err);
	FUZZ_ASSERT(!strncmp(p, "fuzz.yaml:", 10), "error without the file name: \"%s\"", err);
	p += 10;
	line = strtoul(p, &end, 10);
	FUZZ_ASSERT(end != p && *end == ':' && line >= 1, "error without LINE: \"%s\"", err);
	p = end + 1;
	col = strtoul(p, &end, 10);
	FUZZ_ASSERT(end != p && *end == ':' && col >= 1, "error without COL: \"%s\"", err);
	FUZZ_ASSERT(end[1] == ' ' && end[2] != '\0', "error without a message: \"%s\"", err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct topology *t = NULL;
	char err[TOPO_ERR_MAX];
	int rv;

	if (size > 1 << 16)
		return 0;
	memset(err, 0, sizeof(err));
	rv = topo_load_string("fuzz.yaml", (const char *)data, size, &t, err);
	if (rv < 0) {
		FUZZ_ASSERT(t == NULL, "failure left a topology");
		check_error(err);
		return 0;
	}
	FUZZ_ASSERT(rv == 0 && t, "rv %d", rv);
	topo_free(t);
	return 0;
}
