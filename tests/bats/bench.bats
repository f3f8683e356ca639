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
					-e "s/@AT@/1s/" -e "s/@BACK@/2s/" -e "s|@TRACES@|$BATS_TEST_TMPDIR|g" \
					-e "s/@TRACE@/tr/g" >"$t"
			printf '1\n2\n' >"$BATS_TEST_TMPDIR/tr.up"
			printf '1\n2\n' >"$BATS_TEST_TMPDIR/tr.down"
			run "$MPNET" check "$t"
			[ "$status" -eq 0 ] || fail "$(basename "$f") $p: $output"
		done
	done
}
