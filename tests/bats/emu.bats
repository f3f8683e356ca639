#!/usr/bin/env bats
# mpnet-linkemu between two host namespaces, as the orchestrator runs it: hosts
# A and B, a link namespace L holding e0 (peer of A's eth0) and e1 (peer of B's).
# Every test builds its own namespaces (mpnt-emu-<pid>-<n>-*) and tears them down.

load helpers

ADDR_A=10.199.0.1
ADDR_B=10.199.0.2

setup() {
	[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces)"
	ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	EMU=${MPNET_LINKEMU:-$ROOT/build/bin/mpnet-linkemu} # another binary for A/B runs
	[ -x "$EMU" ] || skip "build first: make all"
	P=${MPNET_NS_PREFIX:-mpnt}-emu-$$-$BATS_TEST_NUMBER
	A=$P-a
	B=$P-b
	L=$P-l
	T=$BATS_TEST_TMPDIR
	EMU_PID=
	for n in $A $B $L; do
		ip netns add "$n"
		ip -n "$n" link set lo up
	done
	ip -n "$A" link add eth0 type veth peer name e0 netns "$L"
	ip -n "$B" link add eth0 type veth peer name e1 netns "$L"
	ip -n "$A" addr add $ADDR_A/24 dev eth0
	ip -n "$B" addr add $ADDR_B/24 dev eth0
	for n in $A $B; do ip -n "$n" link set eth0 up; done
	ip -n "$L" link set e0 up
	ip -n "$L" link set e1 up
}

ping_replies_ge() { [ "$(grep -c 'time=' "$1")" -ge "$2" ]; }
carrier_up() { ip -n "$1" link show eth0 | grep -q LOWER_UP; }

teardown() {
	if [ -n "${EMU_PID:-}" ]; then
		kill -TERM "$EMU_PID" 2>/dev/null || true
		wait "$EMU_PID" 2>/dev/null || true
	fi
	for n in ${A:-} ${B:-} ${L:-}; do
		ip netns del "$n" 2>/dev/null || true
	done
}

# start_emu UP-JSON DOWN-JSON: run the emulator in L and wait until it is ready.
start_emu() {
	printf '{"link":"t%s","seed":1,"link_index":0,"up":%s,"down":%s}\n' \
		"$BATS_TEST_NUMBER" "$1" "$2" >"$T/emu.json"
	: >"$T/ready"
	ip netns exec "$L" "$EMU" --config "$T/emu.json" --control "$T/ctl.sock" \
		--stats "$T/stats.json" --pcap-dir "$T" --ready-fd 3 3>"$T/ready" 2>"$T/emu.err" &
	EMU_PID=$!
	for _ in $(seq 100); do
		grep -q ready "$T/ready" && return 0
		kill -0 "$EMU_PID" 2>/dev/null || break
		sleep 0.05
	done
	cat "$T/emu.err" >&2
	return 1
}

ctl() { "$EMU" --ctl "$T/ctl.sock" "$@"; }

# stat PYTHON-EXPR: a value from the live stats JSON (s = the stats object)
stat() {
	ctl stats | python3 -c "import json,sys; s=json.load(sys.stdin); print($1)"
}

# RTTs in ms of ping output lines, one per line
rtts() { sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p'; }

median() { sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

# tcp_bulk BYTES: send BYTES from A to B over TCP; prints "bytes seconds" as
# measured by the receiver (first byte to end of stream).
tcp_bulk() {
	cat >"$T/sink.py" <<'PY'
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 5001))
s.listen(1)
open(sys.argv[2], "w").write("listening\n")
c, _ = s.accept()
n, t0 = 0, None
while True:
    b = c.recv(1 << 20)
    if not b:
        break
    if t0 is None:
        t0 = time.monotonic()
    n += len(b)
print(n, time.monotonic() - t0)
PY
	: >"$T/sink.ready"
	ip netns exec "$B" timeout 60 /usr/bin/python3 "$T/sink.py" $ADDR_B "$T/sink.ready" >"$T/sink.out" 3>&- &
	local sink=$!
	wait_until 20 grep -q listening "$T/sink.ready"
	ip netns exec "$A" timeout 60 bash -c "head -c $1 /dev/zero >/dev/tcp/$ADDR_B/5001"
	wait "$sink"
	cat "$T/sink.out"
}

# tcp_timed SECONDS [CC]: kernel TCP from A to B for SECONDS (the receiver stops
# reading then), congestion control CC (default cubic: the system default may be
# bbr, which does not slow down for random loss); prints "bytes seconds" as
# measured by the receiver.
tcp_timed() {
	: >"$T/tsink.ready"
	ip netns exec "$B" timeout 60 /usr/bin/python3 "$BATS_TEST_DIRNAME/tcp_sink.py" $ADDR_B "$T/tsink.ready" "$1" >"$T/tsink.out" 3>&- &
	local sink=$!
	wait_until 20 grep -q listening "$T/tsink.ready"
	ip netns exec "$A" timeout 60 /usr/bin/python3 "$BATS_TEST_DIRNAME/tcp_src.py" $ADDR_B $(($1 + 20)) "${2:-cubic}" 3>&- &
	local src=$!
	wait "$sink"
	kill "$src" 2>/dev/null || true
	wait "$src" 2>/dev/null || true
	cat "$T/tsink.out"
}

@test "emu: ping RTT over 2 x 25 ms has a median within 1 ms of 50 ms" {
	start_emu '{"set":["delay"],"delay_ns":25000000}' '{"set":["delay"],"delay_ns":25000000}'
	ip netns exec "$A" ping -c 1 -W 2 $ADDR_B >/dev/null # ARP
	run ip netns exec "$A" ping -c 40 -i 0.05 $ADDR_B
	[ "$status" -eq 0 ]
	m=$(echo "$output" | rtts | median)
	echo "median RTT $m ms"
	awk -v m="$m" 'BEGIN { exit !(m >= 49.0 && m <= 51.0) }'
	# and the emulator really delayed them (not a bypass)
	awk -v m="$m" 'BEGIN { exit !(m > 49.0) }'
}

@test "emu: 10% random loss over 2000 pings lands in the 99% binomial interval" {
	start_emu '{"set":["loss"],"loss_model":"random","loss":[0.1,0]}' '{}'
	run timeout 60 ip netns exec "$A" ping -i 0.002 -c 2000 -q -W 1 $ADDR_B
	rx=$(echo "$output" | sed -n 's/.* \([0-9]*\) received.*/\1/p')
	lost=$((2000 - rx))
	echo "lost $lost of 2000 (99%: 166..234)"
	[ "$lost" -ge 166 ] && [ "$lost" -le 234 ]
	# the emulator counted them as loss (ARP frames may add a few)
	n=$(stat 's["up"]["drops"]["loss"]')
	[ "$n" -ge "$lost" ] && [ "$n" -le $((lost + 3)) ]
}

@test "emu: a 20 Mbit/s link gives TCP goodput of 90..102% of the rate" {
	d='{"set":["rate","delay","queue"],"rate_bps":20000000,"delay_ns":5000000,"queue_unit":"time","queue":100000000}'
	start_emu "$d" "$d"
	read -r bytes secs < <(tcp_bulk 15000000)
	[ "$bytes" -eq 15000000 ]
	ratio=$(awk -v b="$bytes" -v s="$secs" 'BEGIN { printf "%.4f", b * 8 / s / 20e6 }')
	echo "goodput ratio $ratio"
	awk -v r="$ratio" 'BEGIN { exit !(r >= 0.90 && r <= 1.02) }'
}

@test "emu: control set changes the delay mid-run without losing packets" {
	start_emu '{"set":["delay"],"delay_ns":10000000}' '{"set":["delay"],"delay_ns":10000000}'
	ip netns exec "$A" ping -c 1 -W 2 $ADDR_B >/dev/null
	ip netns exec "$A" ping -c 60 -i 0.05 $ADDR_B >"$T/ping.out" 3>&- &
	pid=$!
	# 20 replies in (the first 15 are "early"), then the change
	wait_until 30 ping_replies_ge "$T/ping.out" 20
	ctl set both '{"set":["delay"],"delay_ns":40000000}'
	wait "$pid"
	grep -q ' 0% packet loss' "$T/ping.out"
	early=$(rtts <"$T/ping.out" | head -15 | median)
	late=$(rtts <"$T/ping.out" | tail -15 | median)
	echo "early $early ms, late $late ms"
	awk -v e="$early" -v l="$late" 'BEGIN { exit !(e > 19 && e < 21.5 && l > 79 && l < 81.5) }'
	[ "$(stat 's["up"]["drops"]["queue"] + s["up"]["drops"]["loss"]')" -eq 0 ]
	# a bad value is refused and changes nothing
	run ctl set up '{"set":["delay","loss"],"delay_ns":1,"loss_model":"random","loss":[0.5,2]}'
	[ "$status" -ne 0 ]
}

@test "emu: 1500-byte frames pass (ping -s 1472 -M do)" {
	start_emu '{}' '{}'
	run ip netns exec "$A" ping -c 5 -i 0.1 -s 1472 -M do -W 2 $ADDR_B
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q ' 0% packet loss' <<<"$output"
}

@test "emu: GSO super-frames from hosts with offloads on are forwarded" {
	for n in $A $B; do ip netns exec "$n" ethtool -K eth0 tso on gso on gro on >/dev/null 2>&1 || true; done
	d='{"set":["rate"],"rate_bps":100000000}'
	start_emu "$d" "$d"
	read -r bytes secs < <(tcp_bulk 30000000)
	[ "$bytes" -eq 30000000 ]
	gso=$(stat 's["gso_frames"]')
	ratio=$(awk -v b="$bytes" -v s="$secs" 'BEGIN { printf "%.4f", b * 8 / s / 100e6 }')
	echo "gso frames $gso, goodput ratio $ratio"
	[ "$gso" -gt 0 ]
	# the rate counts the segments' bytes: no more than the link rate
	awk -v r="$ratio" 'BEGIN { exit !(r >= 0.80 && r <= 1.02) }'
}

# pkts_in of the up direction has passed $1
up_pkts_in_gt() { [ "$(stat 's["up"]["pkts_in"]')" -gt "$1" ]; }

@test "emu: blackhole drops everything; carrier down/up is survived" {
	local pin
	# 1 s of delay up: frames are still inside the delay line when the carrier goes,
	# however late the test sees them enter it
	start_emu '{"set":["delay"],"delay_ns":1000000000}' '{}'
	ip netns exec "$A" ping -c 2 -i 0.2 -W 3 $ADDR_B >/dev/null
	ctl blackhole on
	run ip netns exec "$A" ping -c 3 -i 0.2 -W 2 $ADDR_B
	[ "$status" -ne 0 ]
	[ "$(stat 's["up"]["drops"]["blackhole"]')" -ge 3 ]
	[ "$(stat 's["blackhole"]')" = True ]
	ctl blackhole off
	ip netns exec "$A" ping -c 2 -i 0.2 -W 3 $ADDR_B >/dev/null
	# frames inside the delay line when the carrier goes: dropped as carrier
	pin=$(stat 's["up"]["pkts_in"]')
	ip netns exec "$A" ping -c 5 -i 0.01 -W 1 $ADDR_B >/dev/null 2>&1 3>&- &
	pp=$!
	wait_until 10 up_pkts_in_gt "$pin"
	ip -n "$L" link set e0 down
	ip -n "$L" link set e1 down
	wait "$pp" || true
	sleep 0.3
	kill -0 "$EMU_PID"
	ip -n "$L" link set e0 up
	ip -n "$L" link set e1 up
	wait_until 10 carrier_up "$A"
	run ip netns exec "$A" ping -c 3 -i 0.2 -W 3 $ADDR_B
	[ "$status" -eq 0 ]
	c=$(stat 's["up"]["drops"]["carrier"] + s["down"]["drops"]["carrier"]')
	echo "carrier drops $c"
	[ "$c" -ge 1 ]
}

@test "emu: SIGTERM writes the final stats and a pcap per direction" {
	start_emu '{}' '{}'
	ip netns exec "$A" ping -c 3 -i 0.1 $ADDR_B >/dev/null
	kill -TERM "$EMU_PID"
	wait "$EMU_PID"
	EMU_PID=
	python3 -c "import json; s=json.load(open('$T/stats.json')); assert s['up']['pkts_out'] >= 3 and s['down']['pkts_out'] >= 3, s"
	[ -s "$T/t$BATS_TEST_NUMBER-up.pcap" ]
	[ -s "$T/t$BATS_TEST_NUMBER-down.pcap" ]
	[ ! -e "$T/ctl.sock" ]
}

# bats test_tags=slow
@test "emu: 1% loss hits wire packets: kernel CUBIC (offloads on) is within 0.2..5x the Mathis bound" {
	# Hosts keep TSO/GSO on: the emulator segments super-frames itself, so the
	# loss model and the counters see every wire packet (before: 1% of the
	# super-frames were lost, and pkts_in counted super-frames).
	for n in $A $B; do ip netns exec "$n" ethtool -K eth0 tso on gso on gro on >/dev/null 2>&1 || true; done
	start_emu '{"set":["delay","loss"],"delay_ns":20000000,"loss_model":"random","loss":[0.01,0]}' \
		'{"set":["delay"],"delay_ns":20000000}'
	read -r bytes secs < <(tcp_timed 10)
	# Mathis: MSS * 8 * 1.22 / (RTT * sqrt(p)), MSS 1448 (timestamps on)
	bound=$(awk 'BEGIN { printf "%.0f", 1448 * 8 * 1.22 / (0.040 * sqrt(0.01)) }')
	gp=$(awk -v b="$bytes" -v s="$secs" 'BEGIN { printf "%.0f", b * 8 / s }')
	read -r pin lost gso segs < <(stat '"%d %d %d %d" % (s["up"]["pkts_in"], s["up"]["drops"]["loss"], s["gso_frames"], s.get("gso_segments", 0))')
	echo "goodput $gp bit/s over $secs s = $(awk -v g="$gp" -v m="$bound" 'BEGIN { printf "%.2f", g / m }') x Mathis ($bound); up: $pin in, $lost lost; gso $gso frames -> $segs segments"
	[ "$bytes" -gt 0 ]
	awk -v g="$gp" -v m="$bound" 'BEGIN { exit !(g < 5 * m && g > 0.2 * m) }'
	# the counters are in wire packets: at least one per MSS of data carried
	awk -v p="$pin" -v b="$bytes" 'BEGIN { exit !(p >= b / 1448) }'
	# and 1% of them were lost: 99% binomial interval
	python3 -c "
import math, sys
n, k = $pin, $lost
m, sd = n * 0.01, math.sqrt(n * 0.01 * 0.99)
lo, hi = m - 2.576 * sd, m + 2.576 * sd
print('lost %d of %d, 99%% interval %.1f..%.1f' % (k, n, lo, hi))
sys.exit(0 if lo <= k <= hi else 1)"
}

@test "emu: unshaped kernel TCP (offloads on, no delay) stays fast through the emulator" {
	for n in $A $B; do ip netns exec "$n" ethtool -K eth0 tso on gso on gro on >/dev/null 2>&1 || true; done
	start_emu '{}' '{}'
	read -r bytes secs < <(tcp_timed 4 cubic)
	mbit=$(awk -v b="$bytes" -v s="$secs" 'BEGIN { printf "%.0f", b * 8 / s / 1e6 }')
	echo "unshaped goodput $mbit Mbit/s; gso $(stat 's["gso_frames"]') frames -> $(stat 's.get("gso_segments", 0)') segments"
	# segmenting costs CPU: ~0.6-1.7 Gbit/s here (2 loaded vCPUs) against 0.9-2.2
	# forwarding super-frames whole; this only catches a collapse
	[ "$mbit" -ge 200 ]
}
