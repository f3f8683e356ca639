#include "units.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct unit {
	const char *name;
	double mult;
};

/* Split "12.5mbit" into 12.5 and "mbit".  Rejects signs, empty numbers, spaces
 * inside, NaN/inf and hex. */
static int split_number(const char *s, double *val, const char **unit)
{
	const char *p = s;
	char *end;

	while (isspace((unsigned char)*p))
		p++;
	if (!isdigit((unsigned char)*p) && !(*p == '.' && isdigit((unsigned char)p[1])))
		return -1;
	for (const char *q = p; *q && (isdigit((unsigned char)*q) || *q == '.'); q++)
		if (*q == 'x' || *q == 'X')
			return -1;
	errno = 0;
	*val = strtod(p, &end);
	if (errno || end == p || !isfinite(*val) || *val < 0)
		return -1;
	/* strtod accepts exponents ("1e3"); allow them, but not hex ("0x10"). */
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		return -1;
	while (isspace((unsigned char)*end))
		end++;
	*unit = end;
	return 0;
}

static int scale(const char *s, const struct unit *units, size_t n, int case_sensitive,
		 const char *bare_ok, double *out)
{
	double v;
	const char *u;
	size_t ulen;

	if (split_number(s, &v, &u))
		return -1;
	ulen = strlen(u);
	while (ulen && isspace((unsigned char)u[ulen - 1]))
		ulen--;
	if (ulen == 0) {
		if (!bare_ok)
			return -1;
		*out = v;
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (strlen(units[i].name) != ulen)
			continue;
		if (case_sensitive ? strncmp(u, units[i].name, ulen) == 0
				   : strncasecmp(u, units[i].name, ulen) == 0) {
			*out = v * units[i].mult;
			return 0;
		}
	}
	return -1;
}

static int to_u64(double v, uint64_t *out)
{
	v = nearbyint(v);
	if (v < 0 || v >= 18446744073709551616.0)
		return -1;
	*out = (uint64_t)v;
	return 0;
}

int units_parse_rate(const char *s, uint64_t *bps)
{
	static const struct unit u[] = {
		{"bit", 1},	{"kbit", 1e3},	   {"mbit", 1e6},	 {"gbit", 1e9},
		{"tbit", 1e12}, {"kibit", 1024.0}, {"mibit", 1048576.0}, {"gibit", 1073741824.0},
		{"bps", 8},	{"kbps", 8e3},	   {"mbps", 8e6},	 {"gbps", 8e9},
		{"tbps", 8e12},
	};
	double v;

	if (scale(s, u, sizeof(u) / sizeof(u[0]), 0, NULL, &v))
		return -1;
	return to_u64(v, bps);
}

int units_parse_time(const char *s, uint64_t *ns)
{
	static const struct unit u[] = {
		{"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"sec", 1e9}, {"min", 60e9},
	};
	double v;

	if (scale(s, u, sizeof(u) / sizeof(u[0]), 1, NULL, &v))
		return -1;
	return to_u64(v, ns);
}

int units_parse_size(const char *s, uint64_t *bytes)
{
	static const struct unit u[] = {
		{"B", 1},
		{"kB", 1e3},
		{"KB", 1e3},
		{"MB", 1e6},
		{"GB", 1e9},
		{"TB", 1e12},
		{"KiB", 1024.0},
		{"MiB", 1048576.0},
		{"GiB", 1073741824.0},
		{"TiB", 1099511627776.0},
		{"k", 1e3},
		{"K", 1e3},
		{"M", 1e6},
		{"G", 1e9},
	};
	double v;

	if (scale(s, u, sizeof(u) / sizeof(u[0]), 1, "", &v))
		return -1;
	return to_u64(v, bytes);
}

int units_parse_percent(const char *s, double *fraction)
{
	static const struct unit u[] = {{"%", 0.01}};
	double v;

	if (scale(s, u, 1, 1, NULL, &v) || v > 1.0)
		return -1;
	*fraction = v;
	return 0;
}

static const char *fmt_scaled(uint64_t v, const struct unit *units, size_t n, char *buf, size_t len)
{
	/* Largest unit that divides exactly, else the largest that keeps v >= 1 with
	 * three decimals. */
	for (size_t i = n; i-- > 0;) {
		uint64_t m = (uint64_t)units[i].mult;
		if (m && v >= m && v % m == 0) {
			snprintf(buf, len, "%llu%s", (unsigned long long)(v / m), units[i].name);
			return buf;
		}
	}
	for (size_t i = n; i-- > 0;) {
		if ((double)v >= units[i].mult) {
			snprintf(buf, len, "%.3f%s", (double)v / units[i].mult, units[i].name);
			return buf;
		}
	}
	snprintf(buf, len, "%llu%s", (unsigned long long)v, units[0].name);
	return buf;
}

const char *units_fmt_rate(uint64_t bps, char *buf, size_t len)
{
	static const struct unit u[] = {{"bit", 1}, {"kbit", 1e3}, {"mbit", 1e6}, {"gbit", 1e9}};
	return fmt_scaled(bps, u, 4, buf, len);
}

const char *units_fmt_time(uint64_t ns, char *buf, size_t len)
{
	static const struct unit u[] = {{"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}};
	return fmt_scaled(ns, u, 4, buf, len);
}

const char *units_fmt_size(uint64_t bytes, char *buf, size_t len)
{
	static const struct unit u[] = {
		{"B", 1}, {"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0}};
	return fmt_scaled(bytes, u, 4, buf, len);
}
