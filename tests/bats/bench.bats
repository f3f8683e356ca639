#!/usr/bin/env bats
# make bench's report renderer, on a canned results tree (bench/testdata/mini):
# no namespaces, no root needed, about a second.  The suite itself (make bench,
# make bench-quick) is too long for the test suite.
load helpers

@test "bench/suite.sh --self-test renders the canned results tree and its tables check" {
	run "$ROOT/bench/suite.sh" --self-test
	assert_success
	assert_output --partial "bench self-test: ok"
}

@test "bench/suite.sh: usage error on an unknown option, a bad --runs" {
	run "$ROOT/bench/suite.sh" --bogus
	assert_failure 2
	assert_output --partial "usage: bench/suite.sh"
	run "$ROOT/bench/suite.sh" --runs 0
	assert_failure 2
	assert_output --partial "--runs wants a positive integer"
}

@test "bench/cases: every template loads for every pairing" {
	local f p cs ss t filt
	for f in "$ROOT"/bench/cases/*.yaml; do
		for p in mpt-kernel kernel-mpt kernel-kernel mpt-mpt tcp-best; do
			cs=${p%-*} ss=${p#*-} filt=cat
			[ $p = tcp-best ] && cs=tcp ss=tcp filt="sed /#[[:space:]]*alt\$/d"
			t=$BATS_TEST_TMPDIR/$(basename "$f" .yaml)-$p.yaml
			$filt "$f" |
				sed -e "s/@NAME@/bt-bench/" -e "s/@CS@/$cs/" -e "s/@SS@/$ss/" -e "s/@TIME@/2s/" -e "s/@TIMEOUT@/17s/" \
					-e "s/@AT@/1s/" -e "s/@BACK@/2s/" -e "s/@FLAP_AT@/1s/" -e "s/@FLAP_BACK@/2s/" \
					-e "s|@TRACES@|$BATS_TEST_TMPDIR|g" \
					-e "s/@TRACE@/tr/g" >"$t"
			printf '1\n2\n' >"$BATS_TEST_TMPDIR/tr.up"
			printf '1\n2\n' >"$BATS_TEST_TMPDIR/tr.down"
			run "$MPNET" check "$t"
			[ "$status" -eq 0 ] || fail "$(basename "$f") $p: $output"
		done
	done
}

@test "bench/suite.sh --estimate: every case and the total, inside the budgets, nothing run" {
	run "$ROOT/bench/suite.sh" --estimate
	assert_success
	local n
	n=$(ls "$ROOT"/bench/cases/*.yaml | wc -l)
	[ "$(grep -c 'pairings' <<<"$output")" -eq "$n" ] || fail "not every case planned: $output"
	# no case sets `# runs:` now: every case runs 3 times in the full suite
	[ "$(grep -c ' x 3 runs x 5 pairings' <<<"$output")" -eq "$n" ] || fail "not every case 3 runs: $output"
	assert_output --regexp '02-sf-balanced +1.5s x 3 runs'
	assert_output --regexp '10-lossy-3pct-60ms +2s x 3 runs'
	local s
	s=$(sed -n 's/^estimate: .* transfers, \([0-9]*\) s.*/\1/p' <<<"$output")
	[ "$s" -lt 1200 ] || fail "full suite estimated at $s s (budget 1200)"
	run "$ROOT/bench/suite.sh" --quick --estimate
	assert_success
	s=$(sed -n 's/^estimate: .* transfers, \([0-9]*\) s.*/\1/p' <<<"$output")
	[ "$s" -lt 180 ] || fail "quick suite estimated at $s s (budget 180)"
	run "$ROOT/bench/suite.sh" --runs 1 --estimate
	assert_output --regexp '02-sf-balanced +1.5s x 1 runs'
}

@test "bench/sched.sh --self-test renders the canned tree with its two receive-buffer levels" {
	run "$ROOT/bench/sched.sh" --self-test
	assert_success
	assert_output --partial "bench-sched self-test: ok"
}

@test "bench/sched.sh --estimate: both buffer levels inside 20 min, nothing run; BUFS checked" {
	run "$ROOT/bench/sched.sh" --estimate
	assert_success
	assert_output --partial "buffer/workload [large:bulk,rr,stream small:bulk,rr]"
	local runs
	runs=$(sed -n 's/^# bench-sched: \([0-9]*\) runs .*/\1/p' <<<"$output")
	[ -n "$runs" ] || fail "no run count: $output"
	# 6 s a run, measured
	[ $((runs * 6)) -lt 1200 ] || fail "$runs runs: about $((runs * 6)) s (budget 1200)"
	run "$ROOT/bench/sched.sh" --quick --estimate
	assert_success
	runs=$(sed -n 's/^# bench-sched: \([0-9]*\) runs .*/\1/p' <<<"$output")
	[ $((runs * 6)) -lt 240 ] || fail "quick: $runs runs"
	BUFS=huge run "$ROOT/bench/sched.sh" --estimate
	assert_failure 2
	assert_output --partial "BUFS takes large and/or small, got 'huge'"
}
