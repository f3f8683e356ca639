#!/usr/bin/env bats
# tests/stress_faults.sh (make stress-faults) in small: its seeded faults replay, a
# verified run passes, a corrupted stream fails its run and keeps its files, bad
# settings are refused.  Its long runs are not in CI (README, make stress).
load helpers
bats_require_minimum_version 1.5.0

teardown() { cleanup_all; }

SF=$ROOT/tests/stress_faults.sh

# the faults of a run's lines, without what varies (the drop counts, the verdict)
faults() { sed -n 's/^# \(run [0-9]*: [a-z]*, [^(]*\)(.*/\1/p'; }

@test "stress-faults refuses settings that are not whole numbers" {
	FAULT_RUNS=two run "$SF"
	assert_failure 2
	assert_output --partial "FAULT_RUNS and FAULT_SEED must be whole numbers, got 'two'"
	FAULT_SEED=-1 run "$SF"
	assert_failure 2
}

@test "stress-faults: seeded faults against Linux verify, and the same seed replays them" {
	local a b
	FAULT_RUNS=3 FAULT_SEED=3 run "$SF"
	assert_success
	echo "$output" | sed 's/^/# /' >&3
	assert_line "ok - stress-faults: 3 runs, every transfer verified"
	# seed 3 draws an MP_CAPABLE loss and a window of drops; each dropped something
	# (the MP_CAPABLE one drops 1 only if the SYN was sent twice)
	assert_line --regexp "mpc: the third ACK and the first data segment lost \(dropped [12]\): verified"
	assert_line --regexp "window: packets [0-9]+-[0-9]+ .* \(dropped [1-9][0-9]*\): verified"
	assert_line --partial "3 with a counted drop, 0 failed"
	a=$(echo "$output" | faults)
	FAULT_RUNS=3 FAULT_SEED=3 run "$SF"
	assert_success
	b=$(echo "$output" | faults)
	[ "$(echo "$a" | wc -l)" -eq 3 ] || fail "expected 3 fault lines, got: $a"
	assert_equal "$b" "$a"
	[ -z "$(ip netns list | grep -E "^$NSP-sf-")" ] || fail "namespaces left: $(ip netns list)"
}

@test "stress-faults: a corrupted stream fails the run and keeps its files" {
	FAULT_RUNS=1 FAULT_SEED=3 FAULT_PERF_ARGS="--corrupt-at 5000" STRESS_KEEP=$BATS_TEST_TMPDIR run "$SF"
	assert_failure 1
	assert_line --partial "FAILED (exit 1, verified false): mpt-perf: verification failed: first mismatch at stream offset 5000"
	assert_line "not ok - stress-faults: 1 of 1 runs failed"
	run jq -r .verified "$BATS_TEST_TMPDIR/stress-faults-seed3-run1/c.json"
	assert_output false
}
