#!/usr/bin/env bats
# libmpt hosts and their paths in `mpnet run`: the topology's endpoints reach the
# libmpt stack (mpnet passes them to mpt-perf as --endpoint, it declares them on the
# path with that address), and the runtime follows addresses deleted and restored
# at run time (addr-del / addr-add events) over rtnetlink.
load helpers
bats_require_minimum_version 1.5.0

teardown() { cleanup_all; }

T=bt-mpp

# client (libmpt) with two access links through a router to a kernel server, as the
# bench cases; $1 file, $2 app time, $3 events block (YAML lines) or empty.
write_topo() {
	cat >"$1" <<-Y
	name: $T
	ipv6: false
	hosts:
	  c: { stack: mpt, mptcp: { subflows: 2 } }
	  r: { forward: true }
	  s: { stack: kernel }
	links:
	  - { name: wifi, between: [c, r], rate: 50mbit, delay: 5ms }
	  - { name: lte, between: [c, r], rate: 20mbit, delay: 10ms, endpoint: [subflow, backup] }
	  - { name: lan, between: [r, s] }
	apps:
	  - { name: bulk, client: c, server: s, time: $2, timeout: 12s }
	Y
	[ -z "${3:-}" ] || printf 'events:\n%s\n' "$3" >>"$1"
}

@test "mpnet run gives a libmpt host its endpoints and subflow limit; mpt-perf -J lists them" {
	local f=$BATS_TEST_TMPDIR/t.yaml out=$BATS_TEST_TMPDIR/run
	write_topo "$f" 1s
	run "$MPNET" run "$f" --out "$out" --quiet
	assert_success
	assert_equal "$(jq -r '.apps[0].status' "$out/summary.json")" ok
	# the lte address (link 1, first host: 198.18.1.1), endpoint id 1, its flags
	run jq -c '.endpoints' "$out/apps/bulk-client.json"
	assert_output '[{"addr":"198.18.1.1","id":1,"flags":"subflow,backup"}]'
	# the kernel server's endpoints are the kernel's (ip mptcp endpoint), not mpt-perf's
	assert_equal "$(jq -c '.endpoints' "$out/apps/bulk-server.json")" null
}

@test "mpt-perf --endpoint with an address the namespace lacks: one-line error, exit 1" {
	local f=$BATS_TEST_TMPDIR/t.yaml
	write_topo "$f" 1s
	"$MPNET" up "$f"
	run --separate-stderr in_host $T c "$PERF" -c 198.18.2.2 -t 1 --stack mpt \
		--endpoint 198.18.99.1,subflow
	assert_failure 1
	assert_equal "$stderr" "mpt-perf: --endpoint 198.18.99.1: no interface in this namespace has that address"
	"$MPNET" down "$f"
}

@test "libmpt follows addr-del / addr-add of a spare path: transfer verified, endpoint back" {
	local f=$BATS_TEST_TMPDIR/t.yaml out=$BATS_TEST_TMPDIR/run
	write_topo "$f" 3s "  - { at: 1s, host: c, link: lte, action: addr-del }
  - { at: 2s, host: c, link: lte, action: addr-add }"
	run "$MPNET" run "$f" --out "$out" --quiet
	assert_success
	# the connection runs on wifi (the route to the server); lte went and came back
	run jq -r '.counters | "\(.MpnetRtAddrDel) \(.MpnetRtAddrAdd) \(.MpnetRtEndpointReadd)"' \
		"$out/apps/bulk-client.json"
	assert_output "1 1 1"
	assert_equal "$(jq -r '.apps[0].verified' "$out/summary.json")" true
}

@test "libmpt takes an address that appears mid-transfer as a new path" {
	local f=$BATS_TEST_TMPDIR/t.yaml cj=$BATS_TEST_TMPDIR/c.json sj=$BATS_TEST_TMPDIR/s.json
	write_topo "$f" 1s
	"$MPNET" up "$f"
	in_host $T s "$PERF" -s --once -p 5301 -J >"$sj" 2>"$sj.err" &
	wait_until 30 listening $T s 5301
	local base
	base=$(if_stat $T c wifi tx_bytes)
	in_host $T c timeout 20 "$PERF" -c 198.18.2.2 -p 5301 --stack mpt -t 2 -J >"$cj" 2>"$cj.err" &
	local client=$!
	# mid-transfer: the connection has carried 1 MB over wifi
	wait_until 30 if_stat_ge $T c wifi tx_bytes $((base + 1000000))
	in_host $T c ip addr add 198.18.1.50/24 dev lte
	wait $client || { cat "$cj.err"; fail "client failed"; }
	wait
	assert_equal "$(jq -r '.verified' "$cj")" true
	assert_equal "$(jq -r '.counters.MpnetRtAddrAdd' "$cj")" 1
	assert_equal "$(jq -r '.counters.MpnetRtAddrDel // 0' "$cj")" 0
	"$MPNET" down "$f"
}

@test "libmpt loses the address of its only subflow mid-run: the run completes, mpt-perf does not crash" {
	# The connection's one subflow is on wifi; its address goes at 1 s and comes
	# back at 2 s.  Both outcomes are correct, so both are allowed:
	# - the bytes get through: Linux keeps a TCP connection whose address was
	#   deleted (sends fail, the RTO backs off) and it recovers when the address
	#   returns within its retries; a libmpt stack whose mpt_stack_del_path only
	#   forgets the path behaves the same (what this tree's stack does today);
	# - the connection fails: mpt_stack_del_path's contract closes the path's
	#   subflows, which leaves a single-subflow connection (no MP_JOIN yet) or a
	#   plain TCP one nothing to send on, and an MPTCP connection that cannot open
	#   another subflow fails.
	# What must hold whatever the stack does: the runtime saw the deletion, mpt-perf
	# exits on its own (0 verified, or 1 with the cause in its JSON) before the app
	# timeout, never by a signal, and mpnet tears down and writes its results.
	local f=$BATS_TEST_TMPDIR/t.yaml out=$BATS_TEST_TMPDIR/run
	write_topo "$f" 3s "  - { at: 1s, host: c, link: wifi, action: addr-del }
  - { at: 2s, host: c, link: wifi, action: addr-add }"
	run "$MPNET" run "$f" --out "$out" --quiet
	[ "$status" -eq 0 ] || [ "$status" -eq 1 ] || fail "mpnet exit $status: $output"
	local cexit status_s
	cexit=$(jq -r '.apps[0].exit.client' "$out/summary.json")
	status_s=$(jq -r '.apps[0].status' "$out/summary.json")
	echo "# client exit $cexit, status: $status_s, verified $(jq -r '.apps[0].verified' "$out/summary.json")" >&3
	[ "$cexit" -eq 0 ] || [ "$cexit" -eq 1 ] || fail "client exit $cexit ($status_s)"
	[[ $status_s != "timed out"* ]] || fail "$status_s"
	jq -e . "$out/apps/bulk-client.json" >/dev/null
	assert_equal "$(jq -r '.counters.MpnetRtAddrDel' "$out/apps/bulk-client.json")" 1
	if [ "$cexit" -eq 0 ]; then
		assert_equal "$(jq -r '.apps[0].verified' "$out/summary.json")" true
	else
		[ "$(jq -r '.error' "$out/apps/bulk-client.json")" != null ] || fail "exit 1 without a cause"
	fi
	assert_equal "$(ns_of $T)" ""
}
