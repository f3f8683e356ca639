/* The one-word status of a report (the JSON's "status"). */
#ifndef PERF_STATUS_H
#define PERF_STATUS_H

#include <stdbool.h>

/* "interrupted": a SIGTERM / SIGINT stopped the transfer (what was measured so far
 * is reported); else "ok" when the receiver verified it, "failed" otherwise. */
const char *perf_status_name(bool interrupted, bool ok);

/* The signal a stop request came with, as "SIGTERM" / "SIGINT" ("signal" else). */
const char *perf_signal_name(int sig);

#endif
