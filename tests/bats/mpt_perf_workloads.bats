#!/usr/bin/env bats
# mpt-perf's latency workloads (--rr, --stream) over two 20 Mbit/s paths with 10 ms
# each way (RTT 20 ms), for kernel TCP, kernel MPTCP and libmpt: every byte verified
# by both ends, the samples and percentiles in -J sane (p50 <= p95 <= p99 <= max, an
# rr exchange no shorter than the RTT, a chunk no faster than the one-way delay), and
# `mpnet run` with an app in mode: rr.
load helpers
load perf_helpers
bats_require_minimum_version 1.5.0

teardown() { cleanup_all; }

T=bt-wl
XFER_TIMEOUT=120
RTT_MS=20

up_two_paths() { # c's stack, s's stack, c's lte endpoint flags
	local f=$BATS_TEST_TMPDIR/t.yaml
	two_paths "$f" "$1" "$2" "$3" "delay: 10ms"
	"$MPNET" up "$f"
}

# rr_ok json N: N exchanges, both directions verified, percentiles ordered, none
# faster than the path's RTT
rr_ok() {
	run jq -e --argjson n "$2" --argjson rtt "$RTT_MS" '
		.workload == "rr" and .verified == true and .receiver == "both"
		and .rr.exchanges == $n and .rr.completed == $n
		and (.rr.completion_ms | length) == $n
		and .rr.requests.verified == true and .rr.responses.verified == true
		and .rr.requests.bytes == $n * .rr.request_bytes
		and .rr.responses.bytes == $n * .rr.response_bytes
		and .rr.min_ms >= $rtt and .rr.p50_ms >= $rtt
		and .rr.p50_ms <= .rr.p95_ms and .rr.p95_ms <= .rr.p99_ms
		and .rr.p99_ms <= .rr.max_ms and .rr.max_ms == (.rr.completion_ms | max)
		and .rr.min_ms == (.rr.completion_ms | min)' "$1"
	assert_success
	echo "# $(jq -r '"rr \(.stack): p50 \(.rr.p50_ms) p95 \(.rr.p95_ms) p99 \(.rr.p99_ms) max \(.rr.max_ms) ms"' "$1")" >&3
}

# stream_ok json chunks: that many chunks, each delayed at least the one-way delay
stream_ok() {
	run jq -e --argjson n "$2" --argjson owd "$((RTT_MS / 2))" '
		.workload == "stream" and .verified == true
		and .stream.chunks == $n and (.stream.delay_ms | length) == $n
		and .stream.min_ms >= $owd
		and .stream.p50_ms <= .stream.p95_ms and .stream.p95_ms <= .stream.p99_ms
		and .stream.p99_ms <= .stream.max_ms
		and (.stream.stall_threshold_ms - .stream.p50_ms - 2 * .stream.period_ms
			| fabs) < 0.001
		and .stream.stalls == ([.stream.delay_ms[] | select(. > $t)] | length)' \
		--argjson t "$(jq .stream.stall_threshold_ms "$1")" "$1"
	assert_success
	echo "# $(jq -r '"stream \(.stack): p50 \(.stream.p50_ms) p99 \(.stream.p99_ms) max \(.stream.max_ms) ms, \(.stream.stalls) stalls"' "$1")" >&3
}

@test "--rr and --stream, kernel TCP: both ends verify every byte, percentiles sane" {
	up_two_paths kernel kernel
	xfer s tcp c tcp 198.18.2.2 5801 --rr 100,64KiB,30
	rr_ok "$BATS_TEST_TMPDIR/c.5801.json" 30
	rr_ok "$BATS_TEST_TMPDIR/s.5801.json" 30 # the client's completion times came over
	run jq -e '.ofo == null and .mptcp == null' "$BATS_TEST_TMPDIR/c.5801.json"
	assert_success
	# 4 Mbit/s in 16 KiB chunks for 2 s: 62 chunks (one every 32.768 ms, the last at
	# 1.966 s)
	xfer s tcp c tcp 198.18.2.2 5802 --stream 4mbit,16KiB -t 2
	stream_ok "$BATS_TEST_TMPDIR/s.5802.json" 62
	stream_ok "$BATS_TEST_TMPDIR/c.5802.json" 62
	# a write more than a period behind its schedule is counted (a busy CPU can)
	run jq -e '.stream.chunks_sent == 62 and .stream.late_writes >= 0
		and .stream.late_writes < 62 and .stream.period_ms == 32.768' \
		"$BATS_TEST_TMPDIR/c.5802.json"
	assert_success
}

@test "--rr and --stream, kernel MPTCP over two subflows: verified, percentiles sane" {
	up_two_paths kernel kernel subflow
	xfer s kernel c kernel 198.18.2.2 5811 --rr 100,64KiB,30
	rr_ok "$BATS_TEST_TMPDIR/c.5811.json" 30
	run jq -e '.mptcp.fallback == false and (.subflows | length) == 2' \
		"$BATS_TEST_TMPDIR/c.5811.json"
	assert_success
	# a download stream: the server sends, the client measures
	xfer s kernel c kernel 198.18.2.2 5812 --stream 4mbit,16KiB -n 1MiB -R
	stream_ok "$BATS_TEST_TMPDIR/c.5812.json" 64
	stream_ok "$BATS_TEST_TMPDIR/s.5812.json" 64
}

@test "--rr and --stream, libmpt -> Linux over two subflows: verified, out-of-order queue reported" {
	up_two_paths mpt kernel
	xfer s kernel c mpt 198.18.2.2 5821 --rr 100,64KiB,30 --endpoint 198.18.1.1,subflow
	rr_ok "$BATS_TEST_TMPDIR/c.5821.json" 30
	mpt_clean "$BATS_TEST_TMPDIR/c.5821.json"
	# libmpt received the responses: its data-level queue is in the report
	run jq -e '.ofo.segments > 0 and .ofo.peak_bytes >= 0 and .ofo.mean_bytes >= 0
		and .ofo.mean_bytes <= .ofo.peak_bytes and (.subflows | length) == 2' \
		"$BATS_TEST_TMPDIR/c.5821.json"
	assert_success
	run jq -e '.ofo == null' "$BATS_TEST_TMPDIR/s.5821.json"
	assert_success
	xfer s kernel c mpt 198.18.2.2 5822 --stream 4mbit,16KiB -n 1MiB -R \
		--endpoint 198.18.1.1,subflow
	stream_ok "$BATS_TEST_TMPDIR/c.5822.json" 64
	run jq -e '.ofo.segments > 0' "$BATS_TEST_TMPDIR/c.5822.json"
	assert_success
}

@test "--rr and --stream, Linux -> libmpt server: verified" {
	up_two_paths kernel mpt subflow
	xfer s mpt c kernel 198.18.2.2 5831 --rr 1000,16KiB,30
	rr_ok "$BATS_TEST_TMPDIR/c.5831.json" 30
	rr_ok "$BATS_TEST_TMPDIR/s.5831.json" 30
	run jq -e '.ofo.segments > 0' "$BATS_TEST_TMPDIR/s.5831.json" # the requests
	assert_success
	xfer s mpt c kernel 198.18.2.2 5832 --stream 4mbit,16KiB -t 2
	stream_ok "$BATS_TEST_TMPDIR/s.5832.json" 62
}

@test "--stream / --rr --corrupt-at: the flipped byte is found at its offset by both ends" {
	up_two_paths kernel kernel
	start_server s tcp 5841 "$BATS_TEST_TMPDIR/s.json"
	# offset 16386 is in the second chunk's stamp (its bytes 2..)
	run --separate-stderr in_host $T c "$PERF" -c 198.18.2.2 -p 5841 --stack tcp -J \
		--stream 4mbit,16KiB -n 64KiB --corrupt-at 16386
	wait "$SERVER_PID" || true
	assert_failure 1
	echo "$output" | jq -e '.verified == false and .first_mismatch == 16386'
	jq -e '.verified == false and .stream.chunks == 1' "$BATS_TEST_TMPDIR/s.json"
	# rr: a flipped request byte, reported by both ends, the exchanges still done
	start_server s tcp 5842 "$BATS_TEST_TMPDIR/s2.json"
	run --separate-stderr in_host $T c "$PERF" -c 198.18.2.2 -p 5842 --stack tcp -J \
		--rr 100,1000,5 --corrupt-at 250
	wait "$SERVER_PID" || true
	assert_failure 1
	assert_equal "$stderr" "mpt-perf: rr: the requests failed verification at stream offset 250"
	echo "$output" | jq -e '.verified == false and .first_mismatch == 250
		and .rr.requests.verified == false and .rr.responses.verified == true
		and .rr.completed == 5'
	jq -e '.verified == false and .rr.requests.first_mismatch == 250' "$BATS_TEST_TMPDIR/s2.json"
}

# A misbehaving server on 127.0.0.1 (tests/bats/perf_fake_server.py MODE).
fake_server() { # port mode
	local ready=$BATS_TEST_TMPDIR/fake.ready
	rm -f "$ready"
	timeout 60 python3 "$BATS_TEST_DIRNAME/perf_fake_server.py" "$1" "$ready" "$2" \
		>"$BATS_TEST_TMPDIR/fake.out" 2>&1 &
	FAKE_PID=$!
	wait_until 10 grep -q ready "$ready"
}

# mpt-perf's client (--stack tcp, then ARGS) against fake_server PORT MODE: $status,
# $output and $stderr are the client's; the server has ended.
against_fake() { # port mode args...
	local port=$1
	fake_server "$1" "$2"
	shift 2
	run --separate-stderr "$PERF" -c 127.0.0.1 -p "$port" --stack tcp "$@"
	wait "$FAKE_PID"
}

@test "the workload travels in the header; a refusal, a result of another workload or a record cut short is a clean error" {
	local p=$((24000 + $$ % 1000))
	against_fake $p refuse --rr 100,1kB,3
	assert_failure 1
	assert_equal "$stderr" "mpt-perf: the server refused the request (unsupported version): run the same mpt-perf version on both ends"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/fake.out")" "2 1" # version 2, workload rr
	against_fake $((p + 1)) wrong-workload -n 1000 -J
	assert_failure 1
	assert_equal "$stderr" "mpt-perf: the peer ran workload rr for a bulk request: run the same mpt-perf on both ends"
	echo "$output" | jq -e '.verified == false and .workload == "bulk"'
	assert_equal "$(cat "$BATS_TEST_TMPDIR/fake.out")" "2 0"
	# a record cut short inside its intervals: by a close, or by a reset
	against_fake $((p + 3)) cut-intervals -n 1000 -J
	assert_failure 1
	assert_equal "$stderr" "mpt-perf: connection closed inside the peer's intervals or samples (24 of 96 bytes)"
	echo "$output" | jq -e '.verified == false and (.error | startswith("connection closed inside"))'
	against_fake $((p + 4)) reset-intervals -n 1000
	assert_failure 1
	assert_equal "$stderr" "mpt-perf: reading the peer's intervals or samples: Connection reset by peer"
	# a real server answers an old client's header with its refusal
	start_server_lo() {
		rm -f "$BATS_TEST_TMPDIR/r"
		"$PERF" -s --once --stack tcp -p $((p + 2)) -B 127.0.0.1 --ready-fd 3 \
			3>"$BATS_TEST_TMPDIR/r" 2>"$BATS_TEST_TMPDIR/srv.err" &
		SERVER_PID=$!
		wait_until 10 grep -q ready "$BATS_TEST_TMPDIR/r"
	}
	start_server_lo
	run python3 -c '
import socket, struct, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
c.sendall(b"MPPH" + struct.pack(">H", 1) + bytes(58))  # a version-1 header, 64 bytes
r = b""
while len(r) < 16:
    b = c.recv(16 - len(r))
    if not b:
        break
    r += b
print(r[:4].decode(), struct.unpack(">HH", r[4:8]))' $((p + 2))
	wait "$SERVER_PID" || true
	assert_output "MPPE (2, 3)"
	grep -q "bad header: unsupported version" "$BATS_TEST_TMPDIR/srv.err"
}

@test "mode: rr app in mpnet run: summary.json has the percentiles, apps/web-cdf.csv the CDF" {
	local f=$BATS_TEST_TMPDIR/run.yaml out=$BATS_TEST_TMPDIR/out
	cat >"$f" <<-Y
	name: $T
	hosts:
	  c: { stack: mpt }
	  r: { forward: true }
	  s: { stack: kernel }
	links:
	  - { name: wifi, between: [c, r], rate: 20mbit, delay: 10ms }
	  - { name: lte, between: [c, r], rate: 20mbit, delay: 10ms, endpoint: [subflow] }
	  - { name: lan, between: [r, s] }
	apps:
	  - { name: web, client: c, server: s, mode: rr, request: 100, response: 64KiB, exchanges: 25 }
	Y
	run "$MPNET" run "$f" --out "$out"
	echo "$output"
	assert_success
	run jq -e --argjson rtt "$RTT_MS" '.apps[0] | .mode == "rr" and .status == "ok"
		and .verified == true and .rr.completed == 25 and .rr.exchanges == 25
		and .rr.requests.bytes == 2500 and .rr.responses.bytes == 25 * 65536
		and .rr.min_ms >= $rtt and .rr.p50_ms <= .rr.p95_ms
		and .rr.p95_ms <= .rr.p99_ms and .rr.p99_ms <= .rr.max_ms
		and .stream == null and .ofo.client.segments > 0 and .ofo.server == null
		and .cdf == "apps/web-cdf.csv"' "$out/summary.json"
	assert_success
	# the CDF: a header, 25 samples ascending, the last at fraction 1, the
	# percentiles among them
	run awk -F, 'NR == 1 { ok = ($0 == "ms,fraction"); next }
		{ if ($1 + 0 < prev) ok = 0; prev = $1 + 0; n++; last = $2 }
		END { exit !(ok && n == 25 && last == 1) }' "$out/apps/web-cdf.csv"
	assert_success
	grep -q "^$(jq -r '.apps[0].rr.max_ms' "$out/summary.json" | cut -c1-6)" "$out/apps/web-cdf.csv"
	jq -e '.apps[0].mode == "rr" and .apps[0].rr.exchanges == 25' "$out/topology.resolved.json"
	if command -v gnuplot >/dev/null; then [ -s "$out/cdf.png" ]; fi
}

@test "--rr and --stream, libmpt <-> libmpt over two subflows: verified, both ends report their out-of-order queue" {
	up_two_paths mpt mpt
	xfer s mpt c mpt 198.18.2.2 5851 --rr 100,64KiB,30 --endpoint 198.18.1.1,subflow
	rr_ok "$BATS_TEST_TMPDIR/c.5851.json" 30
	rr_ok "$BATS_TEST_TMPDIR/s.5851.json" 30
	mpt_clean "$BATS_TEST_TMPDIR/c.5851.json"
	mpt_clean "$BATS_TEST_TMPDIR/s.5851.json"
	run jq -e '.ofo.segments > 0 and (.subflows | length) == 2' \
		"$BATS_TEST_TMPDIR/c.5851.json" "$BATS_TEST_TMPDIR/s.5851.json"
	assert_success
	refute_line false # jq -e's status is the last file's
	# libmpt paces the stream (its runtime runs between the chunks)
	xfer s mpt c mpt 198.18.2.2 5852 --stream 4mbit,16KiB -t 2 --endpoint 198.18.1.1,subflow
	stream_ok "$BATS_TEST_TMPDIR/s.5852.json" 62
	run jq -e '.stream.chunks_sent == 62' "$BATS_TEST_TMPDIR/c.5852.json"
	assert_success
	run jq -e '.stream.chunks_sent == null and .ofo.segments > 0' "$BATS_TEST_TMPDIR/s.5852.json"
	assert_success
}

@test "text report: every completion time / chunk delay, then the percentiles" {
	local p=$((25000 + $$ % 1000)) r=$BATS_TEST_TMPDIR/r
	"$PERF" -s --once --stack tcp -p $p -B 127.0.0.1 --ready-fd 3 3>"$r" \
		>"$BATS_TEST_TMPDIR/srv.txt" 2>&1 &
	SERVER_PID=$!
	wait_until 10 grep -q ready "$r"
	run "$PERF" -c 127.0.0.1 -p $p --stack tcp --rr 10,2kB,7
	wait "$SERVER_PID"
	assert_success
	assert_line --index 0 "[client] exchange  completion (ms)"
	assert_equal "$(grep -cE '^\[client\] [0-6] +[0-9]+\.[0-9]{3}$' <<<"$output")" 7
	assert_line --regexp '^\[client\] rr: 7 of 7 exchanges of 10 B up / 2000 B down; completion ms p50 [0-9.]+ p95 [0-9.]+ p99 [0-9.]+ max [0-9.]+$'
	assert_line --regexp '^\[client\] tcp rr 127\.0\.0\.1:[0-9]+: 14070 bytes in .*both ends verified every byte$'
	grep -q '^\[server\] rr: 7 of 7 exchanges' "$BATS_TEST_TMPDIR/srv.txt"

	"$PERF" -s --once --stack tcp -p $((p + 1)) -B 127.0.0.1 --ready-fd 3 3>"$r.2" \
		>"$BATS_TEST_TMPDIR/srv2.txt" 2>&1 &
	SERVER_PID=$!
	wait_until 10 grep -q ready "$r.2"
	run "$PERF" -c 127.0.0.1 -p $((p + 1)) --stack tcp --stream 80kbit,1000 -n 5000
	wait "$SERVER_PID"
	assert_success
	assert_equal "$(grep -cE '^\[client\] [0-4] +[0-9]+\.[0-9]{3}$' <<<"$output")" 5
	assert_line --regexp '^\[client\] stream: 5 chunks of 1000 B every 100\.000 ms; delay ms p50 [0-9.]+ p95 [0-9.]+ p99 [0-9.]+ max [0-9.]+; [0-9]+ stalls \(delay > [0-9.]+ ms\)$'
}
