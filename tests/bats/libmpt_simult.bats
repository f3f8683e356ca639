#!/usr/bin/env bats
# The Linux selftest simult_flows.sh, reproduced with libmpt at one end: two paths
# to a router in front of the server, 16 MiB each way, the kernel's MPTCP at the
# other end.  The selftest's bound is the time the summed rate needs plus 10 % plus
# 450 ms.  On mpnet's shaping (HTB or the link emulator at the bottleneck, not the
# selftest's tbf + netem on both ends) neither stack meets it in every case: when
# this was written libmpt took 7.6-8.8 s against a 7.83 s bound, and kernel <->
# kernel 7.9 s on 15/5 Mbit/s (upload) in the same topology.  So each case first
# runs kernel <-> kernel on the same topology as the reference and asserts libmpt's
# time against max(selftest bound, kernel's time) x SF_SLACK (1.25); every time is
# printed against the selftest's own bound.  Bytes
# verified, no fallback, both paths used.
load helpers
load perf_helpers
bats_require_minimum_version 1.5.0

teardown() { cleanup_all; }

T=bt-sf
XFER_TIMEOUT=60

sf_topo() { # file client-stack rate1 rate2 delay1 delay2
	local d1="" d2=""
	[ "$5" = 0 ] || d1=", delay: $5ms"
	[ "$6" = 0 ] || d2=", delay: $6ms"
	cat >"$1" <<-Y
	name: $T
	hosts:
	  c: { stack: $2 }
	  r: { forward: true }
	  s: { stack: kernel }
	links:
	  - { name: p1, between: [c, r], rate: $3mbit$d1 }
	  - { name: p2, between: [c, r], rate: $4mbit$d2, endpoint: [subflow] }
	  - { name: lan, between: [r, s] }
	Y
}

sf_case() { # rate1 rate2 delay1 delay2 (Mbit/s, ms one way)
	local f=$BATS_TEST_TMPDIR/t.yaml port=5900 dir bound limit secs ref sf_n=0
	local -a kt=()
	bound=$(python3 -c "print(16 * 1048576 * 8 / (($1 + $2) * 1e6) * 1.1 + 0.45)")
	# the kernel on the same topology, same run: the reference
	sf_topo "$f" kernel "$@"
	"$MPNET" up "$f"
	for dir in "" -R; do
		port=$((port + 1))
		xfer s kernel c kernel 198.18.2.2 $port -n 16MiB $dir
		kt+=("$(jq .seconds "$BATS_TEST_TMPDIR/c.$port.json")")
	done
	"$MPNET" down "$f"
	sf_topo "$f" mpt "$@"
	"$MPNET" up "$f"
	for dir in "" -R; do
		port=$((port + 1))
		ref=${kt[$sf_n]} # (bats' run clobbers a caller's `i`)
		sf_n=$((sf_n + 1))
		limit=$(python3 -c "print(max($bound, $ref) * ${SF_SLACK:-1.25})")
		xfer s kernel c mpt 198.18.2.2 $port -n 16MiB $dir --endpoint 198.18.1.1,subflow
		secs=$(jq .seconds "$BATS_TEST_TMPDIR/c.$port.json")
		echo "# $1/$2 Mbit/s, $3/$4 ms, ${dir:-upload}: libmpt $secs s, kernel $ref s, selftest bound $bound s (asserted $limit s)" >&3
		run jq -e ".mptcp.fallback == false and .seconds <= $limit
			and ([.subflows[]? | select(.bytes_sent + .bytes_received > 1000000)] | length) == 2" \
			"$BATS_TEST_TMPDIR/c.$port.json"
		assert_success
	done
	assert_equal "$(kstat s MPTcpExtMPJoinAckRx)" 2
	assert_equal "$(kstat s MPTcpExtDSSNotMatching)" 0
}

# bats test_tags=slow
@test "simult_flows: balanced bandwidth (10/10 Mbit/s, 0/0 ms)" { sf_case 10 10 0 0; }
# bats test_tags=slow
@test "simult_flows: balanced bandwidth, unbalanced delay (10/10, 1/25 ms)" { sf_case 10 10 1 25; }
# bats test_tags=slow
@test "simult_flows: unbalanced bandwidth (15/5, 0/0 ms)" { sf_case 15 5 0 0; }
# bats test_tags=slow
@test "simult_flows: unbalanced bandwidth and delay (15/5, 1/25 ms)" { sf_case 15 5 1 25; }
# bats test_tags=slow
@test "simult_flows: unbalanced bandwidth, opposed delay (15/5, 25/1 ms)" { sf_case 15 5 25 1; }
