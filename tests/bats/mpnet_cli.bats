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

@test "a link asking for delay never comes up without it: no emulator, loud error" {
	local f=$BATS_TEST_TMPDIR/delay.yaml
	cat >"$f" <<-'Y'
	name: bt-delay
	hosts:
	  a: { stack: kernel }
	  b: { stack: kernel }
	links:
	  - { name: l, between: [a, b], rate: 10mbit, delay: 10ms }
	Y
	MPNET_LINKEMU=/nonexistent/mpnet-linkemu run "$MPNET" up "$f"
	assert_equal "$status" 2
	assert_output --regexp "^$f:6:[0-9]+: link l needs the link emulator, but /nonexistent/mpnet-linkemu is missing"
	assert_equal "$(all_mpnet_ns)" ""
}

@test "emulator: netem is refused on a kernel without sch_netem: one line, exit 2, nothing created" {
	if unshare --net sh -c 'tc qdisc add dev lo root netem delay 1ms' 2>/dev/null; then
		skip "this kernel has sch_netem: emu_netem.bats runs the netem backend instead"
	fi
	local f=$BATS_TEST_TMPDIR/netem.yaml
	# a link netem can express (delay, rate, random loss): only the kernel is missing
	cat >"$f" <<-'Y'
	name: bt-netem
	hosts:
	  a: { stack: kernel }
	  b: { stack: kernel }
	links:
	  - { name: l, between: [a, b], delay: 10ms, rate: 10mbit, loss: 1%, emulator: netem }
	Y
	run "$MPNET" up "$f"
	assert_equal "$status" 2
	assert_output "$f:6:5: link l asks for emulator: netem, but this kernel has no sch_netem (use emulator: auto or user)"
	assert_equal "$(all_mpnet_ns)" ""
	[ ! -e "/run/mpnet/$NSP-bt-netem" ]
}
