#!/usr/bin/env bats
# mpt-perf end to end: loopback transfers with both kernel stacks, verification,
# usage errors, and a two-path kernel MPTCP upload between two namespaces.
# Needs root (namespaces), jq, and a built build/bin/mpt-perf.

bats_require_minimum_version 1.5.0

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

setup_file() {
	ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	export PERF="$ROOT/${BUILD:-build}/bin/mpt-perf"
	[ -x "$PERF" ] || {
		echo "build $PERF first (make all)" >&2
		return 1
	}
	# a port block per run, a port per test: no clash with TIME_WAIT or a parallel
	# run, and below the ephemeral range (32768-60999): a port up there can be the
	# local port of a connection still closing from the test before ("Address already
	# in use" at listen, seen once in CI on 38570)
	export PORT_BASE=$((10000 + ($$ % 1000) * 16))
}

setup() {
	T=$BATS_TEST_TMPDIR
	PORT=$((PORT_BASE + BATS_TEST_NUMBER))
	SRV_PID=
	NS_A="${MPNET_NS_PREFIX:-mpnt}-perf-$$-a"
	NS_B="${MPNET_NS_PREFIX:-mpnt}-perf-$$-b"
}

teardown() {
	# a failed test shows the server's side too
	if [ -z "${BATS_TEST_COMPLETED:-}" ] && [ -e "$T/srv.err" ]; then
		echo "server stderr: $(cat "$T/srv.err")"
		echo "server stdout: $(head -c 4000 "$T/srv.out" 2>/dev/null)"
	fi
	if [ -n "$SRV_PID" ]; then
		kill "$SRV_PID" 2>/dev/null || true
		wait "$SRV_PID" 2>/dev/null || true
	fi
	ip netns del "$NS_A" 2>/dev/null || true
	ip netns del "$NS_B" 2>/dev/null || true
}

# start_server [NS] -- ARGS...: a --once server; returns when it is listening.
start_server() {
	local exec=()
	if [ "$1" != -- ]; then
		exec=(ip netns exec "$1")
		shift
	fi
	shift
	rm -f "$T/ready"
	mkfifo "$T/ready"
	timeout 60 "${exec[@]}" "$PERF" -s --once -p "$PORT" --ready-fd 3 "$@" \
		>"$T/srv.out" 2>"$T/srv.err" 3>"$T/ready" &
	SRV_PID=$!
	local line=
	read -r -t 10 line <"$T/ready" || true
	[ "$line" = ready ] || {
		cat "$T/srv.err" >&2
		return 1
	}
}

# wait_server: the server's exit status in SRV_STATUS
wait_server() {
	SRV_STATUS=0
	wait "$SRV_PID" || SRV_STATUS=$?
	SRV_PID=
}

client() {
	run --separate-stderr timeout 60 "$PERF" -c 127.0.0.1 -p "$PORT" "$@"
}

# check_json FILE: the fields every -J report has, and a verified transfer of BYTES
check_verified() {
	local f=$1 bytes=$2
	jq -e --argjson n "$bytes" '
		.verified == true and .bytes == $n and .seconds > 0 and .goodput_mbps > 0
		and .first_mismatch == null and (.intervals | type) == "array"
		and (.intervals | map(.bytes) | add) == $n
		and (.intervals[0] | has("start") and has("end") and has("goodput_mbps"))
		and .start_mono_ns > 0 and .error == null' "$f"
}

transfer() { # stack, extra client args...
	local stack=$1
	shift
	start_server -- -J --stack "$stack"
	client --stack "$stack" -n 20MiB -J "$@"
	echo "$output" >"$T/cli.json"
	echo "client: $stderr"
	assert_success
	wait_server
	cat "$T/srv.err"
	[ "$SRV_STATUS" -eq 0 ]
	check_verified "$T/cli.json" 20971520
	check_verified "$T/srv.out" 20971520
}

@test "tcp upload 20MiB verifies on both ends" {
	transfer tcp
	jq -e '.direction == "upload" and .receiver == "remote" and .remote.verified == true
		and .sent.bytes == 20971520 and .mptcp == null and .tcp.bytes_acked > 0' "$T/cli.json"
	jq -e '.role == "server" and .receiver == "local" and .tcp.bytes_received >= 20971520' \
		"$T/srv.out"
}

@test "tcp download 20MiB verifies on both ends" {
	transfer tcp -R
	jq -e '.direction == "download" and .receiver == "local"' "$T/cli.json"
	jq -e '.receiver == "remote" and .remote.verified == true' "$T/srv.out"
}

@test "kernel MPTCP upload 20MiB reports its subflow" {
	transfer kernel
	jq -e '.mptcp.fallback == false and .mptcp.subflows_count == 1
		and (.subflows | length) == 1 and .subflows[0].bytes_sent >= 20971520
		and .subflows[0].remote.port > 0 and .subflows[0].local.addr == "127.0.0.1"
		and (.subflows[0] | has("rtt_ms") and has("retrans") and has("bytes_received"))' \
		"$T/cli.json"
	jq -e '.subflows[0].bytes_received >= 20971520' "$T/srv.out"
}

@test "kernel MPTCP download 20MiB verifies on both ends" {
	transfer kernel -R
	jq -e '.mptcp.fallback == false and .remote == null' "$T/cli.json"
	jq -e '.remote.verified == true and .subflows[0].bytes_sent >= 20971520' "$T/srv.out"
}

@test "kernel MPTCP client against a plain TCP server reports fallback" {
	start_server -- -J --stack tcp
	client --stack kernel -n 1MiB -J
	assert_success
	echo "$output" | jq -e '.verified == true and .mptcp.fallback == true
		and (has("subflows") | not) and (.tcp | has("bytes_acked"))'
	wait_server
	[ "$SRV_STATUS" -eq 0 ]
}

@test "time mode -t 1 with 0.2 s intervals" {
	start_server -- -J
	client -t 1 -i 0.2 -J
	assert_success
	echo "$output" >"$T/cli.json"
	jq -e '.mode == "time" and .bytes_expected == null and .verified == true
		and .sent.seconds >= 1 and .sent.seconds < 3
		and (.intervals | length) >= 5 and .intervals[1].start == 0.2
		and (.intervals | map(.bytes) | add) == .bytes' "$T/cli.json"
	wait_server
	[ "$SRV_STATUS" -eq 0 ]
}

@test "text summary without -J" {
	start_server -- --stack tcp
	client --stack tcp -n 1MiB -i 0
	assert_success
	assert_output --partial "1048576 bytes in"
	assert_output --partial "receiver verified every byte"
	wait_server
	[ "$SRV_STATUS" -eq 0 ]
	grep -q "tcp upload 127.0.0.1" "$T/srv.out"
}

@test "-C/--congestion: each end runs and reports the algorithm asked for" {
	# reno differs from this system's default (bbr here; cubic on most systems)
	start_server -- -J -C reno
	client -n 2MiB -J -C cubic
	assert_success
	echo "$output" >"$T/cli.json"
	wait_server
	[ "$SRV_STATUS" -eq 0 ]
	jq -e '.congestion == "cubic" and .verified' "$T/cli.json"
	jq -e '.congestion == "reno" and .verified' "$T/srv.out"
	# a name the kernel lacks: plain TCP refuses it at once; an MPTCP socket takes
	# any name and keeps the default, which mpt-perf catches after the connect
	run --separate-stderr "$PERF" -c 127.0.0.1 -p 1 --stack tcp -n 1MiB -C nosuchcc
	assert_failure 1
	[[ "$stderr" == "mpt-perf: --congestion nosuchcc: the kernel refused it (No such file or directory); see /proc/sys/net/ipv4/tcp_available_congestion_control"* ]]
	start_server -- -J
	client -n 1MiB -C nosuchcc
	assert_failure 1
	[[ "$stderr" == "mpt-perf: --congestion nosuchcc: the kernel runs "*" on this connection (it has no nosuchcc;"* ]]
	run --separate-stderr "$PERF" -c 127.0.0.1 --stack mpt -n 1MiB -C bbr
	assert_failure 2
	assert_equal "$stderr" "mpt-perf: --congestion bbr: libmpt has newreno, cubic, lia, olia, balia (reno = newreno; -C list describes them)"
	run --separate-stderr "$PERF" -c 127.0.0.1 -C 'a b'
	assert_failure 2
	assert_equal "$stderr" "mpt-perf: --congestion a b: not an algorithm name (e.g. cubic, reno, bbr)"
}

@test "--corrupt-at in an upload: both ends say verified false, exit 1" {
	start_server -- -J
	client -n 4MiB --corrupt-at 1000003 -J
	assert_failure 1
	echo "$output" | jq -e '.verified == false and .first_mismatch == 1000003
		and .remote.verified == false and .remote.bytes == 4194304'
	wait_server
	[ "$SRV_STATUS" -eq 1 ]
	jq -e '.verified == false and .first_mismatch == 1000003' "$T/srv.out"
}

@test "--corrupt-at in a download: both ends say verified false, exit 1" {
	start_server -- -J --stack tcp
	client --stack tcp -R -n 4MiB --corrupt-at 7 -J
	assert_failure 1
	echo "$output" | jq -e '.verified == false and .first_mismatch == 7'
	wait_server
	[ "$SRV_STATUS" -eq 1 ]
	jq -e '.verified == false and .remote.verified == false and .remote.first_mismatch == 7' \
		"$T/srv.out"
}

@test "server rejects a garbled header, logs it and exits 1 with --once" {
	start_server -- -J
	# the server may close (and reset) before the rest is written: not a failure here
	# (longer than the 64-byte header)
	printf 'GET / HTTP/1.0\r\nHost: x\r\nUser-Agent: not-mpt-perf/1.0\r\nAccept: */*\r\n\r\n' \
		2>/dev/null >"/dev/tcp/127.0.0.1/$PORT" || true
	wait_server
	[ "$SRV_STATUS" -eq 1 ]
	grep -q "bad header: bad magic" "$T/srv.err"
}

@test "connection refused: exit 1 with one line" {
	client -n 1MiB
	assert_failure 1
	[ "$(echo "$stderr" | wc -l)" -eq 1 ]
	[[ "$stderr" == *"connect to 127.0.0.1 port $PORT"* ]]
}

@test "usage errors exit 2 with a one-line message" {
	run --separate-stderr "$PERF"
	assert_failure 2
	[[ "$stderr" == *"give -s (server) or -c ADDR"* ]]
	run --separate-stderr "$PERF" -s --stack bogus
	assert_failure 2
	[[ "$stderr" == *"--stack bogus: unknown stack"* ]]
	run --separate-stderr "$PERF" -c 127.0.0.1
	assert_failure 2
	[[ "$stderr" == *"-n BYTES or -t SECONDS"* ]]
	run --separate-stderr "$PERF" -c 127.0.0.1 -n 1MiB --once
	assert_failure 2
	run --separate-stderr "$PERF" -s -p 0
	assert_failure 2
	run --separate-stderr "$PERF" -c 127.0.0.1 -t soon
	assert_failure 2
	[ "$(echo "$stderr" | wc -l)" -eq 1 ]
	run --separate-stderr "$PERF" -s --ready-fd 99
	assert_failure 2
	run --separate-stderr "$PERF" -s --rcvbuf 1KiB
	assert_failure 2
	assert_equal "$stderr" "mpt-perf: --rcvbuf 1KiB: give 4KiB..1GiB (e.g. 64KiB)"
	run "$PERF" --help
	assert_success
	assert_output --partial "--ready-fd N"
	assert_output --partial "--endpoint ADDR[,id=N][,signal][,subflow][,backup][,fullmesh]"
	assert_output --partial "--max-subflows N"
	assert_output --partial "--checksum"
}

@test "--rcvbuf: each kernel end sets SO_RCVBUF and -J reports it doubled; autotuning without it" {
	start_server -- --stack tcp -J --rcvbuf 256KiB
	client --stack tcp -n 4MiB -R -J --rcvbuf 192KiB
	assert_success
	wait_server
	[ "$SRV_STATUS" -eq 0 ]
	jq -e '.verified and .rcvbuf == {"requested": 196608, "effective": 393216, "autotuning": false}' <<<"$output" ||
		fail "client rcvbuf: $(jq -c .rcvbuf <<<"$output")"
	# the server's accepted socket inherited the listener's
	jq -e '.rcvbuf == {"requested": 262144, "effective": 524288, "autotuning": false}' "$T/srv.out" ||
		fail "server rcvbuf: $(jq -c .rcvbuf "$T/srv.out")"
	start_server -- --stack kernel -J
	client --stack kernel -n 1MiB -J
	assert_success
	wait_server
	jq -e '.rcvbuf.requested == null and .rcvbuf.autotuning and .rcvbuf.effective > 0' <<<"$output" ||
		fail "default rcvbuf: $(jq -c .rcvbuf <<<"$output")"
}

@test "--endpoint / --max-subflows: libmpt only, each mistake one line, exit 2" {
	run --separate-stderr "$PERF" -s --endpoint 198.18.1.1,subflow
	assert_failure 2
	assert_equal "$stderr" "mpt-perf: --endpoint is for --stack mpt (the kernel's endpoints, limits and checksums are the system's: ip mptcp endpoint / limits, net.mptcp.checksum_enabled)"
	run --separate-stderr "$PERF" -s --stack mpt --endpoint 198.18.1.1,subflow,bakcup
	assert_failure 2
	assert_equal "$stderr" "mpt-perf: --endpoint 198.18.1.1,subflow,bakcup: unknown flag 'bakcup' (use id=N, signal, subflow, backup, fullmesh)"
	run --separate-stderr "$PERF" -c 198.18.2.2 -t 1 --stack mpt --max-subflows 300
	assert_failure 2
	[[ "$stderr" == *"--max-subflows 300: give 1..255"* ]]
	run --separate-stderr "$PERF" -c 198.18.2.2 -t 1 --stack kernel --checksum
	assert_failure 2
	[[ "$stderr" == "mpt-perf: --checksum is for --stack mpt"* ]]
	run --separate-stderr "$PERF" -c 198.18.2.2 -t 1 --stack mpt --no-mptcp --checksum
	assert_failure 2
	assert_equal "$stderr" "mpt-perf: --checksum needs MPTCP; drop --no-mptcp"
}

@test "kernel MPTCP upload over two paths between namespaces uses both subflows" {
	ip netns add "$NS_A"
	ip netns add "$NS_B"
	ip link add pa0 netns "$NS_A" type veth peer name pb0 netns "$NS_B"
	ip link add pa1 netns "$NS_A" type veth peer name pb1 netns "$NS_B"
	ip -n "$NS_A" addr add 198.18.200.1/24 dev pa0
	ip -n "$NS_B" addr add 198.18.200.2/24 dev pb0
	ip -n "$NS_A" addr add 198.18.201.1/24 dev pa1
	ip -n "$NS_B" addr add 198.18.201.2/24 dev pb1
	for l in lo pa0 pa1; do ip -n "$NS_A" link set "$l" up; done
	for l in lo pb0 pb1; do ip -n "$NS_B" link set "$l" up; done
	ip -n "$NS_A" mptcp limits set subflow 2 add_addr_accepted 2
	ip -n "$NS_B" mptcp limits set subflow 2 add_addr_accepted 2
	ip -n "$NS_A" mptcp endpoint add 198.18.201.1 dev pa1 subflow

	start_server "$NS_B" -- -J -B 198.18.200.2
	# 2 s, not a byte count: 64 MiB over unshaped veths took 0.1-0.3 s, a window a
	# loaded machine's path-manager worker could miss before it joins
	run --separate-stderr timeout 60 ip netns exec "$NS_A" "$PERF" -c 198.18.200.2 \
		-p "$PORT" -t 2 -i 0.05 -J
	echo "$output" >"$T/cli.json"
	echo "client: $stderr"
	assert_success
	wait_server
	[ "$SRV_STATUS" -eq 0 ]
	# the client's count is the server's: what a timed run sent was received
	jq -e '.bytes > 0' "$T/srv.out"
	check_verified "$T/cli.json" "$(jq .bytes "$T/srv.out")"
	jq -e '.mptcp.fallback == false and .mptcp.subflows_count == 2
		and (.subflows | length) == 2 and all(.subflows[]; .bytes_sent > 0)
		and ([.subflows[].local.addr] | sort) == ["198.18.200.1", "198.18.201.1"]' \
		"$T/cli.json"
	jq -e '.verified == true and (.subflows | length) == 2
		and all(.subflows[]; .bytes_received > 0)' "$T/srv.out"
}
