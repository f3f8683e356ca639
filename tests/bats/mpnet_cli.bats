#!/usr/bin/env bats
# mpnet's command line: help, usage errors, topology errors with FILE:LINE:COL and
# nothing created.
load helpers

teardown() { cleanup_all; }

@test "mpnet --help documents every command and exits 0" {
	run "$MPNET" --help
	assert_success
	for c in check up down show exec run; do assert_output --partial "  $c "; done
}

@test "mpnet with an unknown command exits 2 with a hint" {
	run "$MPNET" frobnicate
	assert_equal "$status" 2
	assert_output --partial "unknown command 'frobnicate'"
}

@test "mpnet run with a bad seed exits 2" {
	run "$MPNET" run "$ROOT/topologies/two-path.yaml" --seed -4
	assert_equal "$status" 2
	assert_output --partial "--seed"
}

@test "every file in topologies/ checks clean" {
	for f in "$ROOT"/topologies/*.yaml; do
		run "$MPNET" check "$f"
		assert_success
	done
}

@test "a missing file is a one-line error and exit 2" {
	run "$MPNET" up /nonexistent/topology.yaml
	assert_equal "$status" 2
	assert_output --partial "/nonexistent/topology.yaml"
}

@test "malformed topologies: FILE:LINE:COL: message, exit 2, nothing created" {
	local n=0 f want
	for f in "$FIX"/bad/*.yaml; do
		want=$(sed -n '1s/^# expect: //p' "$f")
		[ -n "$want" ] || fail "$f has no '# expect:' line"
		run "$MPNET" up "$f"
		[ "$status" -eq 2 ] || fail "$f: exit $status, want 2: $output"
		[[ "$output" == "$f:${want}"* ]] || fail "$f: got '$output', want '$f:$want...'"
		[ "$(echo "$output" | wc -l)" -eq 1 ] || fail "$f: more than one line: $output"
		n=$((n + 1))
	done
	[ "$n" -ge 10 ] || fail "only $n malformed fixtures"
	assert_equal "$(all_mpnet_ns)" ""
}

@test "a topology asking for delay fails loudly until an emulator can apply it" {
	local f=$BATS_TEST_TMPDIR/delay.yaml
	cat >"$f" <<-'Y'
	name: bt-delay
	hosts:
	  a: { stack: kernel }
	  b: { stack: kernel }
	links:
	  - { name: l, between: [a, b], rate: 10mbit, delay: 10ms }
	Y
	run "$MPNET" up "$f"
	if [ -x "$ROOT/build/bin/mpnet-linkemu" ]; then
		skip "this build has the link emulator"
	fi
	assert_equal "$status" 2
	assert_output --regexp "^$f:6:[0-9]+: link l asks for delay"
	assert_equal "$(all_mpnet_ns)" ""
}
