#!/usr/bin/env bats
# libmpt takes its namespace's MPTCP settings as the kernel does: without
# --endpoint / --max-subflows, `mpt-perf --stack mpt` reads `ip mptcp endpoint` and
# `ip mptcp limits` (the kernel's path manager, which mpnet fills for stack: mpt
# hosts too) and follows their changes.  And a run stopped by its timeout keeps
# what it measured ("status": "interrupted").
load helpers
load perf_helpers
bats_require_minimum_version 1.5.0

teardown() { cleanup_all; }

T=bt-nspm

# The libmpt client run by hand, as a user would: `mpnet exec FILE c -- mpt-perf`.
# $1 port, then client options; the kernel server in s; JSONs c.PORT.json / s.PORT.json.
exec_xfer() {
	local p=$1 cj=$BATS_TEST_TMPDIR/c.$1.json
	shift
	start_server s kernel "$p" "$BATS_TEST_TMPDIR/s.$p.json"
	run --separate-stderr timeout 120 "$MPNET" exec "$F" c -- "$PERF" -c 198.18.2.2 -p "$p" \
		--stack mpt -J "$@"
	echo "$output" >"$cj"
	wait
	[ "$status" -eq 0 ] || { echo "$stderr"; cat "$cj"; fail "client exit $status"; }
	assert_equal "$(jq -r .verified "$cj")" true
	assert_equal "$(jq -r .verified "$BATS_TEST_TMPDIR/s.$p.json")" true
}

up_two_paths() {
	F=$BATS_TEST_TMPDIR/t.yaml
	two_paths "$F" mpt kernel subflow
	"$MPNET" up "$F"
	# mpnet gave the libmpt host its endpoint and limits in the kernel's path manager
	run in_host $T c ip mptcp endpoint show
	assert_output --partial "198.18.1.1 id 1 subflow"
}

@test "mpnet exec mpt-perf --stack mpt, no --endpoint: the namespace's subflow endpoint opens a second subflow" {
	up_two_paths
	exec_xfer 5901 -n 8MiB
	local cj=$BATS_TEST_TMPDIR/c.5901.json
	run jq -c '[.subflows[].local.addr] | sort' "$cj"
	assert_output '["198.18.0.1","198.18.1.1"]'
	run jq -e '.counters.MpnetRtPmEndpointAdd == 1 and .subflows[1].bytes_sent > 1000000' "$cj"
	assert_success
	run jq -c '.endpoints' "$cj"
	assert_output '[{"addr":"198.18.1.1","id":1,"flags":"subflow","from":"kernel"}]'
	[ "$(kstat s MPTcpExtMPJoinAckRx)" -ge 1 ]
	mpt_clean "$cj"
}

@test "ip mptcp endpoint delete mid-transfer: libmpt closes that subflow, sends REMOVE_ADDR, the transfer verifies" {
	up_two_paths
	# mid-transfer: once the lte subflow has carried 1 MB, its endpoint goes
	# (8 s: the join may start a second late, when the runtime next reads the
	# namespace's endpoints, and lte must reach 1 MB well before the end; a CI run
	# under load with 5 s once ended before the deletion)
	(wait_until 30 if_stat_ge $T c lte tx_bytes 1000000 &&
		in_host $T c ip mptcp endpoint delete id 1 && touch "$BATS_TEST_TMPDIR/deleted") &
	exec_xfer 5902 -t 8
	local cj=$BATS_TEST_TMPDIR/c.5902.json
	[ -e "$BATS_TEST_TMPDIR/deleted" ] || fail "lte never carried 1 MB: the endpoint was not deleted mid-transfer"
	[ "$(kstat s MPTcpExtRmAddr)" -ge 1 ]
	run jq -e '.counters.MpnetRtPmEndpointDel == 1 and .counters.MPTcpExtRmAddrTx >= 1' "$cj"
	assert_success
	# what went on lte stopped at the deletion: the wifi subflow carried the rest
	run jq -e '[.subflows[] | select(.local.addr == "198.18.1.1")] | length == 0' "$cj"
	assert_success
}

@test "ip mptcp limits set subflows 0 before the run: libmpt keeps one subflow" {
	up_two_paths
	in_host $T c ip mptcp limits set subflows 0 add_addr_accepted 0
	exec_xfer 5903 -n 4MiB
	run jq -e '(.subflows | length) == 1 and (.counters.MPTcpExtMPJoinSynTx // 0) == 0' \
		"$BATS_TEST_TMPDIR/c.5903.json"
	assert_success
	assert_equal "$(kstat s MPTcpExtMPJoinSynRx)" 0
}

@test "an app killed by its timeout: both JSONs keep their bytes with status interrupted, summary.json shows them" {
	local f=$BATS_TEST_TMPDIR/t.yaml out=$BATS_TEST_TMPDIR/out
	two_paths "$f" mpt kernel subflow
	cat >>"$f" <<-Y
	apps:
	  - { name: bulk, client: c, server: s, bytes: 1GiB, timeout: 3s }
	events:
	  - { at: 1500ms, link: wifi, action: blackhole }
	Y
	run "$MPNET" run "$f" --out "$out"
	assert_failure 1
	run jq -r '.apps[0] | "\(.interrupted) \(.status)"' "$out/summary.json"
	assert_output --regexp '^true timed out after 3.0 s \(interrupted; [0-9]+ bytes measured\)$'
	run jq -e '.apps[0].bytes > 2000000 and (.apps[0].subflows | length) == 2
		and (.apps[0].handover | length) == 1 and .apps[0].handover[0].interrupted' "$out/summary.json"
	assert_success
	run jq -r '.status' "$out/apps/bulk-client.json" "$out/apps/bulk-server.json"
	assert_output $'interrupted\ninterrupted'
	# the receiver's record: its bytes and intervals, the same count summary.json took
	run jq -e --slurpfile s "$out/summary.json" \
		'.bytes == $s[0].apps[0].bytes and (.intervals | length) > 100' "$out/apps/bulk-server.json"
	assert_success
	run jq -e '.counters.MPTcpExtMPJoinSynAckRx == 1 and (.subflow_samples | length) > 100' \
		"$out/apps/bulk-client.json"
	assert_success
}
