/* mpt-perf's report status word (the JSON's "status"). */
#include "perf_status.h"
#include "test.h"

#include <signal.h>

TEST(perf_status_interrupted_wins)
{
	CHECK_STR_EQ(perf_status_name(true, false), "interrupted");
	CHECK_STR_EQ(perf_status_name(true, true), "interrupted");
	CHECK_STR_EQ(perf_status_name(false, true), "ok");
	CHECK_STR_EQ(perf_status_name(false, false), "failed");
	CHECK_STR_EQ(perf_signal_name(SIGTERM), "SIGTERM");
	CHECK_STR_EQ(perf_signal_name(SIGINT), "SIGINT");
	CHECK_STR_EQ(perf_signal_name(SIGHUP), "signal");
}
