/* Fuzz target: the two-stack, two-path simulator with adversarial links and the
 * end-to-end integrity check (tests/integrity/adv_sim.h).  The input decides the
 * configuration, the event schedule (writes, blackouts, join timing, ADD_ADDR /
 * REMOVE_ADDR, path flaps, MP_PRIO) and each packet's fate; a run that ends with
 * wrong or missing bytes and no reported error, a stall, a spin, an output
 * livelock or no end by the virtual-time bound aborts.  ADV_IGNORE=spin,livelock,stall
 * in the environment looks past those classes (to find others behind a known
 * defect). */
#include "fuzz.h"

#include "adv_sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct adv_src src;
	struct adv_result r;
	const char *what;

	adv_src_bytes(&src, data, size);
	src.ignore = adv_ignore_parse(getenv("ADV_IGNORE"));
	what = adv_sim_run(&src, &r, getenv("ADV_VERBOSE") != NULL);
	FUZZ_ASSERT(!what,
		    "%s (%llu of %llu bytes read, eof %d, errors %d/%d, %llu steps, %llu packets)",
		    what, (unsigned long long)r.received, (unsigned long long)r.written, r.eof,
		    r.client_err, r.server_err, (unsigned long long)r.steps,
		    (unsigned long long)r.pkts);
	return 0;
}
