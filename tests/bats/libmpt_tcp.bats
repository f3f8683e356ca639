#!/usr/bin/env bats
# libmpt (mpt-perf --stack mpt) against Linux TCP, through mpnet topologies: bytes
# verified both ways, both roles, and the kernel of the libmpt host never answers
# for its addresses (no kernel RST: TcpOutRsts unchanged; its TCP never even sees a
# segment: TcpInSegs unchanged).
load helpers
load perf_helpers
bats_require_minimum_version 1.5.0

teardown() { cleanup_all; }

T=bt-mpt

write_topo() { # file [extra link settings]
	cat >"$1" <<-Y
	name: $T
	hosts:
	  m: { stack: mpt }
	  k: { stack: tcp }
	links:
	  - { name: l0, between: [m, k]${2:+, $2} }
	apps:
	  - { name: up, client: m, server: k, bytes: 2MiB }
	  - { name: down, client: k, server: m, bytes: 2MiB, start: 500ms, port: 5202 }
	Y
}

@test "libmpt client <-> Linux TCP server, unshaped, both directions; the kernel never answers" {
	local f=$BATS_TEST_TMPDIR/t.yaml
	write_topo "$f"
	"$MPNET" up "$f"
	local rst0 seg0
	rst0=$(kstat m TcpOutRsts)
	seg0=$(kstat m TcpInSegs)
	xfer k tcp m mpt 198.18.0.2 5301 -n 4MiB
	xfer k tcp m mpt 198.18.0.2 5302 -n 4MiB -R
	xfer k tcp m mpt 2001:db8::2 5303 -n 1MiB
	assert_equal "$(kstat m TcpOutRsts)" "$rst0"
	assert_equal "$(kstat m TcpInSegs)" "$seg0"
	# the libmpt side counted its own segments, in nstat names: the ACKs of a 4 MiB
	# upload (one per GSO frame or two that Linux took in: 64 KiB frames make about
	# 64-130 of them; the bound is for a counter that counts at all)
	echo "# libmpt's TcpInSegs in the 4 MiB upload: $(jq .counters.TcpInSegs "$BATS_TEST_TMPDIR/c.5301.json")" >&3
	run jq -e '.counters.TcpActiveOpens == 1 and .counters.TcpInSegs > 20' "$BATS_TEST_TMPDIR/c.5301.json"
	assert_success
	# the ownership table dropped the kernel's copies
	run in_host $T m nft list chain inet libmpt pre
	assert_output --regexp "counter packets [1-9][0-9]* bytes [0-9]+ drop"
}

@test "Linux TCP client <-> libmpt server, unshaped, both directions, IPv4 and IPv6" {
	local f=$BATS_TEST_TMPDIR/t.yaml
	write_topo "$f"
	"$MPNET" up "$f"
	local rst0
	rst0=$(kstat m TcpOutRsts)
	xfer m mpt k tcp 198.18.0.1 5311 -n 4MiB
	xfer m mpt k tcp 198.18.0.1 5312 -n 4MiB -R
	xfer m mpt k tcp 2001:db8::1 5313 -n 1MiB -R
	assert_equal "$(kstat m TcpOutRsts)" "$rst0"
	run jq -e '.stack == "mpt" and .counters.TcpPassiveOpens == 1 and .tcp.bytes_received > 4000000' "$BATS_TEST_TMPDIR/s.5311.json"
	assert_success
}

@test "libmpt: a SYN to a port no libmpt process claimed draws no RST from the kernel" {
	local f=$BATS_TEST_TMPDIR/t.yaml
	write_topo "$f"
	"$MPNET" up "$f"
	# a libmpt server on 5398 takes the host's addresses (ownership starts with the
	# first libmpt process in the namespace and outlives it)
	start_server m mpt 5398 "$BATS_TEST_TMPDIR/s.5398.json"
	local rst0
	rst0=$(kstat m TcpOutRsts)
	# Linux connects to a port no libmpt process claimed: silence, not a kernel RST
	run in_host $T k timeout 3 "$PERF" -c 198.18.0.1 -p 5399 --stack tcp -n 1kB
	assert_failure
	assert_equal "$(kstat m TcpOutRsts)" "$rst0"
	assert_equal "$(kstat m TcpInSegs)" 0
	# the server still works afterwards
	run in_host $T k timeout 10 "$PERF" -c 198.18.0.1 -p 5398 --stack tcp -n 1MiB
	assert_success
	wait
}

@test "mpnet run with a stack: mpt host: apps both ways verified" {
	local f=$BATS_TEST_TMPDIR/t.yaml out=$BATS_TEST_TMPDIR/run
	write_topo "$f"
	run "$MPNET" run "$f" --out "$out" --quiet
	assert_success
	run jq -r '.apps[] | "\(.name) \(.stacks.client)->\(.stacks.server) \(.verified) \(.status)"' "$out/summary.json"
	assert_line "up mpt->tcp true ok"
	assert_line "down tcp->mpt true ok"
	run jq -r '.stack' "$out/apps/up-client.json" "$out/apps/down-server.json"
	assert_output $'mpt\nmpt'
}

# bats test_tags=slow
@test "acceptance: 25 MB each way over 40 ms RTT, 1% loss per direction; no kernel RST" {
	local f=$BATS_TEST_TMPDIR/t.yaml
	write_topo "$f" "delay: 20ms, loss: 1%"
	"$MPNET" up "$f"
	# per-packet loss for the Linux side too: without TSO/GSO its segments cross
	# the emulator one by one rather than as 64 KiB super-frames
	in_host $T k ethtool -K l0 tso off gso off >/dev/null 2>&1 || true
	local rst0
	rst0=$(kstat m TcpOutRsts)
	# 25 MB: about 18000 data segments each way, 180 losses expected at 1 %
	xfer k tcp m mpt 198.18.0.2 5321 -n 25MB -i 5
	xfer m mpt k tcp 198.18.0.1 5322 -n 25MB -i 5
	assert_equal "$(kstat m TcpOutRsts)" "$rst0"
	# the loss was real and libmpt recovered from it
	run jq -e '.counters.TcpRetransSegs > 100' "$BATS_TEST_TMPDIR/c.5321.json"
	assert_success
	run jq -e '.counters.TcpExtTCPOFOQueue > 100' "$BATS_TEST_TMPDIR/s.5322.json"
	assert_success
}
