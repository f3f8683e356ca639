#!/usr/bin/env bats
# libmpt's congestion controllers (mpt-perf -C, stack/src/cc*.c): the coupled ones (lia,
# olia, balia) sending to the Linux kernel's MPTCP over two 20 Mbit/s paths, every
# byte verified, the report naming the algorithm, both subflows carrying data; the
# topology's congestion: reaching a libmpt host.  Their fairness at a shared
# bottleneck is measured in virtual time (tests/unit/test_cc_bottleneck.c,
# make cc-bottleneck).
load helpers
load perf_helpers
bats_require_minimum_version 1.5.0

teardown() { cleanup_all; }

T=bt-cc
XFER_TIMEOUT=180

@test "mpt-perf -C list names every libmpt congestion control with a line each" {
	run "$PERF" -C list
	assert_success
	assert_line --regexp '^newreno +'
	assert_line --regexp '^cubic +'
	assert_line --regexp '^lia +RFC 6356'
	assert_line --regexp '^olia +'
	assert_line --regexp '^balia +'
	run "$PERF" -s --stack mpt -C wvegas
	assert_failure 2
	assert_output --partial "libmpt has newreno, cubic, lia, olia, balia"
}

@test "coupled lia, olia, balia: libmpt -> Linux, two paths, verified, reported in -J" {
	local f=$BATS_TEST_TMPDIR/t.yaml name port=5301 j
	two_paths "$f" mpt kernel
	"$MPNET" up "$f"
	for name in lia olia balia; do
		xfer s kernel c mpt 198.18.2.2 "$port" -n 8MiB --endpoint 198.18.1.1,subflow \
			-C "$name" --counters
		j=$BATS_TEST_TMPDIR/c.$port.json
		assert_equal "$(jq -r .congestion "$j")" "$name"
		mpt_clean "$j"
		run jq -e '[.subflows[] | select(.bytes_sent > 500000)] | length == 2' "$j"
		assert_success
		port=$((port + 1))
	done
}

@test "topology congestion: mpnet run gives a libmpt host its coupled controller" {
	local f=$BATS_TEST_TMPDIR/t.yaml out=$BATS_TEST_TMPDIR/run
	cat >"$f" <<-Y
	name: $T
	hosts:
	  c: { stack: mpt, congestion: olia }
	  r: { forward: true }
	  s: { stack: kernel }
	links:
	  - { name: wifi, between: [c, r], rate: 20mbit }
	  - { name: lte, between: [c, r], rate: 20mbit, endpoint: [subflow] }
	  - { name: lan, between: [r, s] }
	apps:
	  - { name: up, client: c, server: s, bytes: 4MiB, direction: upload }
	Y
	run "$MPNET" run "$f" --out "$out" --quiet
	assert_success
	run jq -r '.apps[0] | "\(.verified) \(.status)"' "$out/summary.json"
	assert_output "true ok"
	assert_equal "$(jq -r .congestion "$out/apps/up-client.json")" olia
}
