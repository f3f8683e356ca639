#!/usr/bin/env bats
# libmpt's MPTCP schedulers (mpt-perf --scheduler, stack/src/sched_*.c) sending to the
# Linux kernel's MPTCP over two 20 Mbit/s paths: every byte verified by mpt-perf, the
# kernel's MPTcpExt counters clean (no mapping refused, no fallback), and the share of
# each path the scheduler promises, from the interfaces' counters.
load helpers
load perf_helpers
bats_require_minimum_version 1.5.0

teardown() { cleanup_all; }

T=bt-sch
XFER_TIMEOUT=180

no_trouble() { # kernel host: nothing refused, nothing fell back
	local c
	for c in MPTcpExtMPJoinAckHMacFailure MPTcpExtMPJoinSynAckHMacFailure \
		MPTcpExtDSSNotMatching MPTcpExtMPCapableFallbackACK \
		MPTcpExtMPCapableFallbackSYNACK MPTcpExtMPCapableDataFallback \
		MPTcpExtInfiniteMapRx MPTcpExtDSSNoMatchTCP MPTcpExtMPFailRx; do
		assert_equal "$c=$(kstat "$1" $c)" "$c=0"
	done
}

tx() { # interface of c: bytes sent
	in_host $T c cat /sys/class/net/"$1"/statistics/tx_bytes
}

# Upload N bytes from libmpt (c, scheduler $1) to the kernel (s) over wifi + lte;
# sets W and L to the bytes each interface sent.
sched_upload() {
	local name=$1 port=$2 bytes=$3 f=$BATS_TEST_TMPDIR/t.yaml w0 l0
	two_paths "$f" mpt kernel
	"$MPNET" up "$f"
	w0=$(tx wifi)
	l0=$(tx lte)
	xfer s kernel c mpt 198.18.2.2 "$port" -n "$bytes" --endpoint 198.18.1.1,subflow \
		--scheduler "$name" --counters
	W=$(($(tx wifi) - w0))
	L=$(($(tx lte) - l0))
	echo "# $name: wifi $W bytes, lte $L bytes" >&3
	kmptcp s
	assert_equal "$(jq -r .scheduler "$BATS_TEST_TMPDIR/c.$port.json")" "$name"
	assert_equal "$(kstat s MPTcpExtMPJoinAckRx)" 1
	no_trouble s
	mpt_clean "$BATS_TEST_TMPDIR/c.$port.json"
	run jq -e '(.counters.MpnetExtSchedBadPick // 0) == 0 and .counters.MpnetExtSchedPick > 0' \
		"$BATS_TEST_TMPDIR/c.$port.json"
	assert_success
}

@test "mpt-perf --scheduler list names every scheduler with a line each" {
	run "$PERF" --scheduler list
	assert_success
	assert_line --regexp '^default +lowest RTT'
	assert_line --regexp '^roundrobin +'
	assert_line --regexp '^redundant +'
	assert_line --regexp '^blest +'
	assert_line --regexp '^ecf +'
	run "$PERF" -s --stack mpt --scheduler fastest
	assert_failure 2
	assert_output --partial "default, roundrobin, redundant"
}

@test "scheduler default: libmpt -> Linux, two paths, verified, both paths used" {
	sched_upload default 5701 16MiB
	[ "$W" -gt 2000000 ] && [ "$L" -gt 2000000 ]
}

@test "scheduler roundrobin: libmpt -> Linux, two paths, each carries 40..60 %" {
	sched_upload roundrobin 5711 16MiB
	local share=$((100 * W / (W + L)))
	echo "# roundrobin: wifi share $share %" >&3
	[ "$share" -ge 40 ] && [ "$share" -le 60 ] || fail "wifi share $share %"
}

# bats test_tags=slow
@test "scheduler redundant: libmpt -> Linux, both paths carry >= 90 % of the bytes, the kernel drops the copies" {
	local n=$((16 * 1024 * 1024))
	sched_upload redundant 5721 16MiB
	local dup
	dup=$(kstat s MPTcpExtDuplicateData)
	echo "# redundant: MPTcpExtDuplicateData $dup" >&3
	[ "$dup" -gt 0 ] || fail "no DuplicateData on the kernel"
	[ "$W" -ge $((n * 9 / 10)) ] || fail "wifi carried $W of $n"
	[ "$L" -ge $((n * 9 / 10)) ] || fail "lte carried $L of $n"
}

@test "scheduler blest: libmpt -> Linux, two paths, verified, counters clean" {
	sched_upload blest 5731 16MiB
	[ "$W" -gt 2000000 ] && [ "$L" -gt 2000000 ]
}

@test "scheduler ecf: libmpt -> Linux, two paths, verified, counters clean" {
	sched_upload ecf 5741 16MiB
	[ "$W" -gt 2000000 ] && [ "$L" -gt 2000000 ]
}

# Unequal paths (20 Mbit/s 5 ms beside 5 Mbit/s 50 ms): BLEST and ECF hold data back
# from the slow one (MpnetExtSchedHoldBack), bytes still verified.
# bats test_tags=slow
@test "schedulers blest and ecf over a slow path (libmpt -> Linux): verified, ECF holds data back" {
	local f=$BATS_TEST_TMPDIR/t.yaml name port=5750
	cat >"$f" <<-Y
	name: $T
	hosts:
	  c: { stack: mpt }
	  r: { forward: true }
	  s: { stack: kernel }
	links:
	  - { name: wifi, between: [c, r], rate: 20mbit, delay: 5ms }
	  - { name: lte, between: [c, r], rate: 5mbit, delay: 50ms }
	  - { name: lan, between: [r, s] }
	Y
	"$MPNET" up "$f"
	for name in default blest ecf; do
		port=$((port + 1))
		xfer s kernel c mpt 198.18.2.2 $port -n 8MiB --endpoint 198.18.1.1,subflow \
			--scheduler $name
		echo "# $name: $(jq -c '{seconds, goodput_mbps, hold: .counters.MpnetExtSchedHoldBack}' \
			"$BATS_TEST_TMPDIR/c.$port.json")" >&3
		# against Linux's autotuned receive buffer BLEST's hold-backs vary from 0 (a
		# CI run) to ~130 per run, ECF's are in the thousands: asserted for ECF
		# here; BLEST's are asserted in virtual time (test_sched_sim.c)
		[ $name != ecf ] || jq -e '.counters.MpnetExtSchedHoldBack > 0' \
			"$BATS_TEST_TMPDIR/c.$port.json" >/dev/null || fail "$name held nothing back"
	done
	no_trouble s
}

# The wifi carrier goes down mid-upload (libmpt_multipath.bats's handover): with
# redundant, lte already carries every byte, so the receiver waits for lte's lag
# (measured 57..91 ms here, 95..108 ms in clean-clone CI runs) instead of the
# default's RTO and reinjection (248..274 ms); the bound sits between the two.
# bats test_tags=slow
@test "scheduler redundant: the wifi carrier lost mid-transfer interrupts the upload < 200 ms" {
	local f=$BATS_TEST_TMPDIR/t.yaml out=$BATS_TEST_TMPDIR/run
	cat >"$f" <<-Y
	name: $T
	hosts:
	  c: { stack: mpt, scheduler: redundant }
	  r: { forward: true }
	  s: { stack: kernel }
	links:
	  - { name: wifi, between: [c, r], rate: 20mbit, delay: 5ms }
	  - { name: lte, between: [c, r], rate: 10mbit, delay: 15ms, endpoint: [subflow] }
	  - { name: lan, between: [r, s] }
	apps:
	  - { name: bulk, client: c, server: s, bytes: 12MiB, direction: upload }
	events:
	  - { at: 2s, link: wifi, action: down }
	Y
	run "$MPNET" run "$f" --out "$out" --quiet
	assert_success
	run jq -r '.apps[0] | "\(.verified) \(.status)"' "$out/summary.json"
	assert_output "true ok"
	echo "# $(jq -c '.apps[0] | {goodput_mbps, seconds, handover: [.handover[]? | {interruption_ms, detection_ms}]}' "$out/summary.json")" >&3
	run jq -e '.apps[0].handover[0].interruption_ms < 200' "$out/summary.json"
	assert_success
	no_trouble s
}

@test "topology scheduler: mpnet run gives a libmpt host its scheduler" {
	local f=$BATS_TEST_TMPDIR/t.yaml out=$BATS_TEST_TMPDIR/run
	cat >"$f" <<-Y
	name: $T
	hosts:
	  c: { stack: mpt, scheduler: redundant }
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
	# the libmpt client ran redundant; the kernel server reports its sysctl's
	assert_equal "$(jq -r .scheduler "$out/apps/up-client.json")" redundant
	assert_equal "$(jq -r .scheduler "$out/apps/up-server.json")" default
	run jq -e '[.links[] | select(.dir == "up" and (.name == "wifi" or .name == "lte")) | .tx_bytes > 3500000] | all' "$out/summary.json"
	assert_success
}

@test "topology scheduler: on a kernel host is a check-time error naming the fix" {
	local f=$BATS_TEST_TMPDIR/t.yaml
	cat >"$f" <<-Y
	name: $T
	hosts:
	  c: { stack: kernel, scheduler: redundant }
	  s: { stack: kernel }
	links:
	  - { between: [c, s] }
	Y
	run "$MPNET" check "$f"
	assert_failure 2
	assert_output --partial "t.yaml:3:34: "
	assert_output --partial "give it stack: mpt"
}

# A time-limited libmpt sender (mpt-perf -t, the bench's bulk download) waits while
# more than 128 KiB are written but not yet sent.  It used to count as unsent what a
# fast subflow had sent and had acknowledged at the TCP level while the head of the
# data waited on the slow subflow, so it stopped writing with the fast path idle:
# 12 Mbit/s against Linux's 22 on these paths (bench-sched asym-rtt), 0.55x.
@test "asymmetric paths (20 Mbit/s 10 ms + 5 Mbit/s 100 ms): a libmpt server's 5 s download keeps pace with Linux's" {
	local ss g k m
	for ss in kernel mpt; do
		cat >"$BATS_TEST_TMPDIR/$ss.yaml" <<-Y
		name: $T
		hosts:
		  c: { stack: kernel, congestion: cubic }
		  r: { forward: true }
		  s: { stack: $ss, congestion: cubic }
		links:
		  - { name: p1, between: [c, r], rate: 20mbit, delay: 5ms }
		  - { name: p2, between: [c, r], rate: 5mbit, delay: 50ms, endpoint: [subflow] }
		  - { name: lan, between: [r, s] }
		apps:
		  - { name: app, client: c, server: s, time: 5s, direction: download, timeout: 40s }
		Y
		run "$MPNET" run "$BATS_TEST_TMPDIR/$ss.yaml" --out "$BATS_TEST_TMPDIR/$ss" --quiet
		assert_success
		run jq -e '.apps[0].status == "ok" and .apps[0].verified == true' \
			"$BATS_TEST_TMPDIR/$ss/summary.json"
		assert_success
		g=$(jq -r '.apps[0].goodput_mbps' "$BATS_TEST_TMPDIR/$ss/summary.json")
		[ "$ss" = kernel ] && k=$g || m=$g
	done
	echo "# kernel -> kernel $k Mbit/s, libmpt -> kernel $m Mbit/s" >&3
	# more than one path's worth, and at least 0.8 of Linux (0.55 before)
	run awk -v k="$k" -v m="$m" 'BEGIN { exit !(m > 20 * 0.8 && m >= 0.8 * k) }'
	assert_success
}
