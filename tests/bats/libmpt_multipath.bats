#!/usr/bin/env bats
# libmpt MPTCP with several subflows against the Linux kernel's MPTCP, through mpnet
# topologies: MP_JOIN both ways, ADD_ADDR both ways, a path lost mid-transfer.  Bytes
# verified end to end by mpt-perf; the kernel's MPTcpExt counters (nstat in its
# namespace) are the referee: joins accepted, no HMAC failure, no mapping refused,
# no fallback; interface counters show that both paths carried data.
load helpers
load perf_helpers
bats_require_minimum_version 1.5.0

teardown() { cleanup_all; }

T=bt-mpj
XFER_TIMEOUT=120

# Two direct links between c and s; s announces its second address.  $1 file,
# $2 c's stack, $3 s's stack, $4 s's l1 endpoint flags
two_links() {
	local ep=""
	[ -z "$4" ] || ep=", endpoint: { s: [$4] }"
	cat >"$1" <<-Y
	name: $T
	hosts:
	  c: { stack: $2 }
	  s: { stack: $3 }
	links:
	  - { name: l0, between: [c, s], rate: 20mbit }
	  - { name: l1, between: [c, s], rate: 20mbit$ep }
	Y
}

no_trouble() { # kernel host: nothing refused, nothing fell back
	local c
	for c in MPTcpExtMPJoinAckHMacFailure MPTcpExtMPJoinSynAckHMacFailure \
		MPTcpExtDSSNotMatching MPTcpExtMPCapableFallbackACK \
		MPTcpExtMPCapableFallbackSYNACK MPTcpExtMPCapableDataFallback \
		MPTcpExtInfiniteMapRx MPTcpExtAddAddrDrop; do
		assert_equal "$c=$(kstat "$1" $c)" "$c=0"
	done
}

both_carried() { # host if1 if2 direction(tx|rx) min-bytes
	local a b
	a=$(in_host $T "$1" cat /sys/class/net/"$2"/statistics/"$4"_bytes)
	b=$(in_host $T "$1" cat /sys/class/net/"$3"/statistics/"$4"_bytes)
	echo "# $1 $4: $2 $a bytes, $3 $b bytes" >&3
	[ "$a" -gt "$5" ] || fail "$2 carried only $a bytes"
	[ "$b" -gt "$5" ] || fail "$3 carried only $b bytes"
}

@test "libmpt client -> Linux server, two paths: MP_JOIN accepted, both paths carry data, both directions" {
	local f=$BATS_TEST_TMPDIR/t.yaml
	two_paths "$f" mpt kernel
	"$MPNET" up "$f"
	xfer s kernel c mpt 198.18.2.2 5601 -n 16MiB --endpoint 198.18.1.1,subflow
	kmptcp s
	assert_equal "$(kstat s MPTcpExtMPCapableACKRX)" 1
	assert_equal "$(kstat s MPTcpExtMPJoinSynRx)" 1
	assert_equal "$(kstat s MPTcpExtMPJoinAckRx)" 1
	no_trouble s
	mpt_clean "$BATS_TEST_TMPDIR/c.5601.json"
	run jq -e '.counters.MPTcpExtMPJoinSynAckRx == 1 and .goodput_mbps > 25' "$BATS_TEST_TMPDIR/c.5601.json"
	assert_success
	both_carried c wifi lte tx 4000000
	# download: the kernel schedules over both subflows, libmpt reassembles
	xfer s kernel c mpt 198.18.2.2 5602 -n 16MiB -R --endpoint 198.18.1.1,subflow
	assert_equal "$(kstat s MPTcpExtMPJoinAckRx)" 2
	no_trouble s
	mpt_clean "$BATS_TEST_TMPDIR/c.5602.json"
	# how the kernel splits it is its choice (9.0-9.9 MB a path in CI runs): each
	# path carried at least a quarter
	both_carried c wifi lte rx 4000000
}

@test "Linux client -> libmpt server, two paths: the kernel's join is verified and used" {
	local f=$BATS_TEST_TMPDIR/t.yaml
	two_paths "$f" kernel mpt subflow
	"$MPNET" up "$f"
	xfer s mpt c kernel 198.18.2.2 5611 -n 16MiB
	kmptcp c
	assert_equal "$(kstat c MPTcpExtMPCapableSYNACKRX)" 1
	assert_equal "$(kstat c MPTcpExtMPJoinSynAckRx)" 1
	no_trouble c
	mpt_clean "$BATS_TEST_TMPDIR/s.5611.json"
	run jq -e '.counters.MPTcpExtMPJoinSynRx == 1 and .counters.MPTcpExtMPJoinAckRx == 1' "$BATS_TEST_TMPDIR/s.5611.json"
	assert_success
	both_carried c wifi lte tx 4000000
	xfer s mpt c kernel 198.18.2.2 5612 -n 16MiB -R
	no_trouble c
	mpt_clean "$BATS_TEST_TMPDIR/s.5612.json"
	both_carried c wifi lte rx 4000000
}

@test "Linux announces a signal endpoint (ADD_ADDR): libmpt echoes it and joins" {
	local f=$BATS_TEST_TMPDIR/t.yaml
	two_links "$f" mpt kernel signal
	"$MPNET" up "$f"
	xfer s kernel c mpt 198.18.0.2 5621 -n 16MiB
	kmptcp s
	assert_equal "$(kstat s MPTcpExtAddAddrTx)" 1
	assert_equal "$(kstat s MPTcpExtEchoAdd)" 1
	assert_equal "$(kstat s MPTcpExtMPJoinAckRx)" 1
	no_trouble s
	run jq -e '.counters.MPTcpExtAddAddr == 1 and .counters.MPTcpExtEchoAddTx == 1
		and .counters.MPTcpExtMPJoinSynAckRx == 1' "$BATS_TEST_TMPDIR/c.5621.json"
	assert_success
	both_carried c l0 l1 tx 4000000
}

@test "libmpt announces an address (ADD_ADDR with HMAC): Linux echoes it and joins" {
	local f=$BATS_TEST_TMPDIR/t.yaml
	two_links "$f" kernel mpt
	"$MPNET" up "$f"
	start_server s mpt 5631 "$BATS_TEST_TMPDIR/s.5631.json" --endpoint 198.18.1.2,signal
	run --separate-stderr in_host $T c timeout 120 "$PERF" -c 198.18.0.2 -p 5631 --stack kernel -J -n 16MiB
	echo "$output" >"$BATS_TEST_TMPDIR/c.5631.json"
	wait
	assert_equal "$status" 0
	assert_equal "$(jq -r .verified "$BATS_TEST_TMPDIR/c.5631.json")" true
	kmptcp c
	# libmpt resends ADD_ADDR every 2 s until it is echoed: an echo slow behind the
	# upload's queue makes it 2; the kernel took every one libmpt sent, echoed
	# one or more, and joined once
	local tx
	tx=$(jq '.counters.MPTcpExtAddAddrTx // 0' "$BATS_TEST_TMPDIR/s.5631.json")
	[ "$tx" -ge 1 ] || fail "libmpt sent no ADD_ADDR"
	assert_equal "$(kstat c MPTcpExtAddAddr)" "$tx"
	run kstat c MPTcpExtEchoAddTx
	[ "$output" -ge 1 ] && [ "$output" -le "$tx" ] || fail "the kernel echoed $output of $tx ADD_ADDRs"
	assert_equal "$(kstat c MPTcpExtMPJoinSynAckRx)" 1
	no_trouble c
	run jq -e '.counters.MPTcpExtEchoAdd >= 1 and .counters.MPTcpExtEchoAdd <= .counters.MPTcpExtAddAddrTx
		and .counters.MPTcpExtMPJoinAckRx == 1' "$BATS_TEST_TMPDIR/s.5631.json"
	assert_success
	both_carried c l0 l1 tx 4000000
}

# mpnet run with libmpt at one end: wifi $1 at 2 s on an upload over wifi + lte.
handover_topo() { # file action client-stack server-stack lte-flags
	cat >"$1" <<-Y
	name: $T
	hosts:
	  c: { stack: $3 }
	  r: { forward: true }
	  s: { stack: $4 }
	links:
	  - { name: wifi, between: [c, r], rate: 20mbit, delay: 5ms }
	  - { name: lte, between: [c, r], rate: 10mbit, delay: 15ms, endpoint: [$5] }
	  - { name: lan, between: [r, s] }
	apps:
	  - { name: bulk, client: c, server: s, bytes: 12MiB, direction: upload }
	events:
	  - { at: 2s, link: wifi, action: $2 }
	Y
}

handover_ok() { # out-dir: verified, and lte carried the rest
	local s=$1/summary.json
	run jq -r '.apps[0] | "\(.verified) \(.status)"' "$s"
	assert_output "true ok"
	run jq -e '[.links[] | select(.name == "lte" and .dir == "up") | .tx_bytes > 4000000] | any' "$s"
	assert_success
	echo "# $(jq -c '.apps[0] | {goodput_mbps, seconds, handover: [.handover[]? | {interruption_ms, detection_ms}]}' "$s")" >&3
}

@test "libmpt client: wifi carrier lost mid-transfer, the transfer completes on lte" {
	local f=$BATS_TEST_TMPDIR/t.yaml out=$BATS_TEST_TMPDIR/run
	handover_topo "$f" down mpt kernel subflow
	run "$MPNET" run "$f" --out "$out" --quiet
	assert_success
	handover_ok "$out"
	no_trouble s
}

@test "libmpt client, lte as backup: wifi blackholed, the backup takes over" {
	local f=$BATS_TEST_TMPDIR/t.yaml out=$BATS_TEST_TMPDIR/run
	handover_topo "$f" blackhole mpt kernel "subflow, backup"
	run "$MPNET" run "$f" --out "$out" --quiet
	assert_success
	handover_ok "$out"
	no_trouble s
}

@test "libmpt server: the Linux client's wifi carrier is lost mid-transfer, lte finishes it" {
	local f=$BATS_TEST_TMPDIR/t.yaml out=$BATS_TEST_TMPDIR/run
	handover_topo "$f" down kernel mpt subflow
	run "$MPNET" run "$f" --out "$out" --quiet
	assert_success
	handover_ok "$out"
	no_trouble c
}

# An aborting sender (mpt-perf --abort-at, a test hook): $1 client stack, $2 server
# stack; sets $cj / $sj to the two JSON files.
abort_run() {
	local f=$BATS_TEST_TMPDIR/t.yaml port=$3
	sj=$BATS_TEST_TMPDIR/s.$port.json cj=$BATS_TEST_TMPDIR/c.$port.json
	if [ "$1" = mpt ]; then two_paths "$f" mpt kernel; else two_paths "$f" kernel mpt subflow; fi
	"$MPNET" up "$f"
	start_server s "$2" "$port" "$sj"
	local ep=()
	[ "$1" = mpt ] && ep=(--endpoint 198.18.1.1,subflow)
	run --separate-stderr in_host $T c timeout 60 "$PERF" -c 198.18.2.2 -p "$port" --stack "$1" -J -n 8MiB --abort-at 2MiB "${ep[@]}"
	echo "$output" >"$cj"
	wait || true
	[ "$status" -ne 0 ] || fail "the aborting client exited 0"
	run jq -r .error "$cj"
	assert_output --partial "aborted after"
	# the receiver saw a reset, not a clean end
	run jq -e '.verified != true and .error != null' "$sj"
	assert_success
}

@test "libmpt aborts: MP_FASTCLOSE on its resets, Linux closes the whole connection" {
	abort_run mpt kernel 5641
	kmptcp s
	[ "$(kstat s MPTcpExtMPFastcloseRx)" -ge 1 ] || fail "no MPFastcloseRx"
	run jq -e '.counters.MPTcpExtMPFastcloseTx >= 1' "$cj"
	assert_success
}

@test "Linux aborts (SO_LINGER 0): libmpt gets MP_FASTCLOSE and fails the connection" {
	abort_run kernel mpt 5642
	kmptcp c
	[ "$(kstat c MPTcpExtMPFastcloseTx)" -ge 1 ] || fail "no MPFastcloseTx"
	run jq -e '.counters.MPTcpExtMPFastcloseRx >= 1' "$sj"
	assert_success
}

@test "Linux flips its lte endpoint to backup (MP_PRIO): libmpt stops sending on lte" {
	local f=$BATS_TEST_TMPDIR/t.yaml sj=$BATS_TEST_TMPDIR/s.5651.json cj=$BATS_TEST_TMPDIR/c.5651.json
	local l0 l1 l2 w1 w2
	two_paths "$f" kernel mpt subflow
	"$MPNET" up "$f"
	start_server s mpt 5651 "$sj"
	# libmpt sends (download) over both subflows for 7 s
	in_host $T c timeout 60 "$PERF" -c 198.18.2.2 -p 5651 --stack kernel -J -t 7 -R >"$cj" &
	# both paths in use: lte has carried its share
	wait_until 30 if_stat_ge $T c lte rx_bytes 2500000
	l0=$(in_host $T c cat /sys/class/net/lte/statistics/rx_bytes)
	in_host $T c ip mptcp endpoint change id 1 backup
	# the MP_PRIO is out; then 1 s for what lte had in flight
	wait_until 10 kstat_ge c MPTcpExtMPPrioTx 1
	sleep 1
	l1=$(in_host $T c cat /sys/class/net/lte/statistics/rx_bytes)
	w1=$(in_host $T c cat /sys/class/net/wifi/statistics/rx_bytes)
	sleep 2
	l2=$(in_host $T c cat /sys/class/net/lte/statistics/rx_bytes)
	w2=$(in_host $T c cat /sys/class/net/wifi/statistics/rx_bytes)
	wait
	echo "# lte rx before the change $l0, 1 s after $l1, 3 s after $l2; wifi +$((w2 - w1)) in the last 2 s" >&3
	assert_equal "$(jq -r .verified "$cj")" true
	[ "$(kstat c MPTcpExtMPPrioTx)" -ge 1 ] || fail "the kernel sent no MP_PRIO"
	run jq -e '.counters.MPTcpExtMPPrioRx >= 1' "$sj"
	assert_success
	# lte carried data before; after the flip only ACK-sized traffic is left
	[ "$l0" -gt 2000000 ] || fail "lte was not in use before the change ($l0)"
	[ $((l2 - l1)) -lt 100000 ] || fail "lte still carried $((l2 - l1)) bytes in 2 s"
	[ $((w2 - w1)) -gt 2000000 ] || fail "wifi carried only $((w2 - w1)) bytes"
}

@test "IPv6: libmpt client joins over the second path to a Linux server" {
	local f=$BATS_TEST_TMPDIR/t.yaml
	two_paths "$f" mpt kernel
	"$MPNET" up "$f"
	xfer s kernel c mpt 2001:db8:0:2::2 5661 -n 16MiB --endpoint 2001:db8:0:1::1,subflow
	assert_equal "$(kstat s MPTcpExtMPJoinAckRx)" 1
	no_trouble s
	mpt_clean "$BATS_TEST_TMPDIR/c.5661.json"
	both_carried c wifi lte tx 4000000
}

@test "a capture of a libmpt <-> Linux multipath run: tshark finds no malformed MPTCP option" {
	local f=$BATS_TEST_TMPDIR/t.yaml pc=$BATS_TEST_TMPDIR/c.pcap
	two_paths "$f" mpt kernel
	"$MPNET" up "$f"
	start_capture $T r lan "$pc"
	xfer s kernel c mpt 198.18.2.2 5671 -n 8MiB --endpoint 198.18.1.1,subflow
	stop_capture
	run --separate-stderr tshark -r "$pc" -Y "mptcp" -T fields -e frame.number
	[ "${#lines[@]}" -gt 1000 ] || fail "only ${#lines[@]} MPTCP packets captured"
	run --separate-stderr tshark -r "$pc" -Y "_ws.malformed or _ws.expert.severity == error"
	assert_output ""
	# every suboption the run uses was dissected
	run --separate-stderr tshark -r "$pc" -T fields -e tcp.options.mptcp.subtype
	assert_output --partial "0"
	assert_output --partial "1"
	assert_output --partial "2"
}

@test "DSS checksums: Linux asks (sysctl) or libmpt asks (--checksum); 0 DataCsumErr, both directions" {
	local f=$BATS_TEST_TMPDIR/t.yaml
	two_paths "$f" mpt kernel
	"$MPNET" up "$f"
	in_host $T s sysctl -qw net.mptcp.checksum_enabled=1
	xfer s kernel c mpt 198.18.2.2 5681 -n 8MiB --endpoint 198.18.1.1,subflow
	xfer s kernel c mpt 198.18.2.2 5682 -n 8MiB -R --endpoint 198.18.1.1,subflow
	in_host $T s sysctl -qw net.mptcp.checksum_enabled=0
	xfer s kernel c mpt 198.18.2.2 5683 -n 8MiB --checksum --endpoint 198.18.1.1,subflow
	xfer s kernel c mpt 198.18.2.2 5684 -n 8MiB -R --checksum --endpoint 198.18.1.1,subflow
	kmptcp s
	assert_equal "$(kstat s MPTcpExtMPJoinAckRx)" 4
	assert_equal "$(kstat s MPTcpExtDataCsumErr)" 0
	no_trouble s
	for p in 5681 5682 5683 5684; do
		mpt_clean "$BATS_TEST_TMPDIR/c.$p.json"
		run jq -e '(.counters.MPTcpExtDataCsumErr // 0) == 0 and .mptcp.csum_enabled == true' "$BATS_TEST_TMPDIR/c.$p.json"
		assert_success
	done
	both_carried c wifi lte tx 4000000
}

@test "REMOVE_ADDR from Linux (endpoint deleted): libmpt closes that subflow, the transfer finishes on the other" {
	local f=$BATS_TEST_TMPDIR/t.yaml sj=$BATS_TEST_TMPDIR/s.5691.json cj=$BATS_TEST_TMPDIR/c.5691.json a b
	two_links "$f" mpt kernel signal
	"$MPNET" up "$f"
	start_server s kernel 5691 "$sj"
	in_host $T c timeout 60 "$PERF" -c 198.18.0.2 -p 5691 --stack mpt -J -t 6 >"$cj" &
	# the subflow on l1 is carrying data
	wait_until 30 if_stat_ge $T c l1 tx_bytes 1000000
	in_host $T s ip mptcp endpoint delete id 1
	# Linux sent its REMOVE_ADDR; then 0.5 s for what l1 had in flight
	wait_until 10 kstat_ge s MPTcpExtRmAddrTx 1
	sleep 0.5
	a=$(in_host $T c cat /sys/class/net/l1/statistics/tx_bytes)
	sleep 2
	b=$(in_host $T c cat /sys/class/net/l1/statistics/tx_bytes)
	wait
	echo "# l1 tx in the 2 s after the removal: $((b - a)) bytes" >&3
	assert_equal "$(jq -r .verified "$cj")" true
	# Linux both resets its subflow on the deleted address (MP_TCPRST) and sends
	# REMOVE_ADDR; whichever libmpt sees first closes the subflow (RmSubflow after
	# the REMOVE_ADDR, MPRstRx after the reset; both orders were seen)
	run jq -e '.counters.MPTcpExtRmAddr >= 1
		and ((.counters.MPTcpExtRmSubflow // 0) + (.counters.MPTcpExtMPRstRx // 0)) >= 1
		and .counters.MPTcpExtMPJoinSynAckRx == 1' "$cj"
	assert_success
	[ $((b - a)) -lt 50000 ] || fail "l1 still carried $((b - a)) bytes"
}

@test "REMOVE_ADDR from libmpt (its announced address deleted): Linux closes the subflow, the transfer finishes" {
	local f=$BATS_TEST_TMPDIR/t.yaml sj=$BATS_TEST_TMPDIR/s.5692.json cj=$BATS_TEST_TMPDIR/c.5692.json
	two_links "$f" kernel mpt
	"$MPNET" up "$f"
	start_server s mpt 5692 "$sj" --endpoint 198.18.1.2,signal
	in_host $T c timeout 60 "$PERF" -c 198.18.0.2 -p 5692 --stack kernel -J -t 6 >"$cj" &
	# the subflow to the announced address is carrying data
	wait_until 30 if_stat_ge $T c l1 tx_bytes 1000000
	in_host $T s ip addr del 198.18.1.2/24 dev l1
	wait
	kmptcp c
	assert_equal "$(jq -r .verified "$cj")" true
	assert_equal "$(kstat c MPTcpExtMPJoinSynAckRx)" 1
	[ "$(kstat c MPTcpExtRmAddr)" -ge 1 ] || fail "the kernel got no REMOVE_ADDR"
	run jq -e '.counters.MPTcpExtRmAddrTx >= 1' "$sj"
	assert_success
}

@test "libmpt <-> libmpt over two paths, both directions, then a handover" {
	local f=$BATS_TEST_TMPDIR/t.yaml out=$BATS_TEST_TMPDIR/run
	two_paths "$f" mpt mpt
	"$MPNET" up "$f"
	xfer s mpt c mpt 198.18.2.2 5701 -n 16MiB --endpoint 198.18.1.1,subflow
	mpt_clean "$BATS_TEST_TMPDIR/c.5701.json"
	mpt_clean "$BATS_TEST_TMPDIR/s.5701.json"
	run jq -e '.counters.MPTcpExtMPJoinAckRx == 1' "$BATS_TEST_TMPDIR/s.5701.json"
	assert_success
	both_carried c wifi lte tx 4000000
	xfer s mpt c mpt 198.18.2.2 5702 -n 16MiB -R --endpoint 198.18.1.1,subflow
	mpt_clean "$BATS_TEST_TMPDIR/c.5702.json"
	both_carried c wifi lte rx 4000000
	"$MPNET" down "$f"
	handover_topo "$f" down mpt mpt subflow
	run "$MPNET" run "$f" --out "$out" --quiet
	assert_success
	handover_ok "$out"
}
