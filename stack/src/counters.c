/* Counters in nstat's text form. */
#include "mpt.h"

#include <stdio.h>
#include <string.h>

struct counter_desc {
	const char *name;
	size_t off;
};

static const struct counter_desc counter_descs[] = {
#define MPT_COUNTER_DESC(f, n) {n, offsetof(struct mpt_counters, f)},
	MPT_COUNTERS(MPT_COUNTER_DESC)
#undef MPT_COUNTER_DESC
};

#define NCOUNTERS (sizeof(counter_descs) / sizeof(counter_descs[0]))

static uint64_t counter_at(const struct mpt_counters *c, size_t i)
{
	uint64_t v;

	memcpy(&v, (const char *)c + counter_descs[i].off, sizeof(v));
	return v;
}

ptrdiff_t mpt_counters_format(const struct mpt_counters *c, bool zeros, char *buf, size_t cap)
{
	size_t off = 0, i;
	int n;

	n = snprintf(buf, cap, "#kernel\n");
	if (n < 0 || (size_t)n >= cap)
		return MPT_ENOBUFS;
	off = (size_t)n;
	for (i = 0; i < NCOUNTERS; i++) {
		uint64_t v = counter_at(c, i);

		if (!v && !zeros)
			continue;
		/* nstat: "%-32s%-16llu%6.1f\n" (name, value, rate) */
		n = snprintf(buf + off, cap - off, "%-32s%-16llu%6.1f\n", counter_descs[i].name,
			     (unsigned long long)v, 0.0);
		if (n < 0 || (size_t)n >= cap - off)
			return MPT_ENOBUFS;
		off += (size_t)n;
	}
	return (ptrdiff_t)off;
}

uint64_t mpt_counters_get(const struct mpt_counters *c, const char *name)
{
	size_t i;

	for (i = 0; i < NCOUNTERS; i++) {
		const char *n = counter_descs[i].name;

		if (!strcmp(n, name))
			return counter_at(c, i);
		if (!strncmp(n, "TcpExt", 6) && !strcmp(n + 6, name))
			return counter_at(c, i);
	}
	return UINT64_MAX;
}
