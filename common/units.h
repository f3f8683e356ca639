/* Quantities with units, as the topology file and the tools write them.
 *   rates: bit kbit mbit gbit tbit (and kibit mibit gibit) = bits/s, tc's meaning;
 *          bps kbps mbps gbps = BYTES/s (tc's meaning: "mbps" is megabytes/s).
 *   times: ns us ms s (a bare number is an error).
 *   sizes: B kB MB GB (powers of 1000) KiB MiB GiB (powers of 1024); bare = bytes.
 *   percentages: "0.5%" -> 0.005; a bare number 0..1 is not accepted (ambiguous).
 * All return 0 on success, -1 on a syntax or range error (negative values, no unit
 * where one is required, unknown unit, overflow). */
#ifndef MPNET_UNITS_H
#define MPNET_UNITS_H

#include <stddef.h>
#include <stdint.h>

int units_parse_rate(const char *s, uint64_t *bps);
int units_parse_time(const char *s, uint64_t *ns);
int units_parse_size(const char *s, uint64_t *bytes);
int units_parse_percent(const char *s, double *fraction);

/* Human-readable forms ("50mbit", "10ms", "64MiB"), exact where possible. */
const char *units_fmt_rate(uint64_t bps, char *buf, size_t len);
const char *units_fmt_time(uint64_t ns, char *buf, size_t len);
const char *units_fmt_size(uint64_t bytes, char *buf, size_t len);

#endif
