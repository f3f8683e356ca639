#include "perf_status.h"

#include <signal.h>

const char *perf_status_name(bool interrupted, bool ok)
{
	if (interrupted)
		return "interrupted";
	return ok ? "ok" : "failed";
}

const char *perf_signal_name(int sig)
{
	switch (sig) {
	case SIGTERM:
		return "SIGTERM";
	case SIGINT:
		return "SIGINT";
	default:
		return "signal";
	}
}
