#!/usr/bin/env bats
# The link emulator's acceptance checks, through mpnet topologies (what users
# run), measured with tools that do not belong to the emulator: ping, kernel
# TCP (mpt-perf --stack tcp), python3 for the arithmetic.
#   - Gilbert-Elliott loss is bursty (mean run of lost pings ~ 1/r), random loss
#     of the same mean is not;
#   - duplication (ping DUP!) and reordering (a UDP sequence stream) reach the
#     receiver;
#   - a trace link carries the trace's average rate;
#   - the same seed drops the same packets, another seed others;
#   - summary.json links[] has drops by cause and queueing-delay percentiles.
# Topologies are named bt-e2-*; teardown takes down everything mpnet built.
load helpers

teardown() { cleanup_all; }

# static_arp TOPO A B IDX: permanent neighbour entries on both ends of link IDX
# (198.18.IDX.1 on A, .2 on B, interface = the link's name LINK), so no ARP
# frame goes through the emulator at a timing-dependent moment.
static_arp() { # topo hostA hostB link idx
	local t=$1 a=$2 b=$3 l=$4 i=$5 ma mb
	ma=$(ip netns exec "$NSP-$t-$a" cat "/sys/class/net/$l/address")
	mb=$(ip netns exec "$NSP-$t-$b" cat "/sys/class/net/$l/address")
	ip -n "$NSP-$t-$a" neigh replace "198.18.$i.2" lladdr "$mb" dev "$l" nud permanent
	ip -n "$NSP-$t-$b" neigh replace "198.18.$i.1" lladdr "$ma" dev "$l" nud permanent
}

# lost_seqs N < ping output: the icmp_seq numbers 1..N that got no reply, one
# per line.
lost_seqs() {
	python3 -c '
import re, sys
n = int(sys.argv[1])
got = {int(m.group(1)) for m in re.finditer(r"icmp_seq=(\d+)", sys.stdin.read())}
print("\n".join(str(s) for s in range(1, n + 1) if s not in got))' "$1"
}

# bursts < seqs: "lost runs mean_run" of runs of consecutive sequence numbers
bursts() {
	python3 -c '
import sys
s = [int(x) for x in sys.stdin.read().split()]
runs, prev = [], None
for x in s:
    if prev is not None and x == prev + 1:
        runs[-1] += 1
    else:
        runs.append(1)
    prev = x
print(len(s), len(runs), "%.3f" % (len(s) / len(runs) if runs else 0))'
}

# emu_stat TOPO LINK EXPR: a value of the live emulator counters (s = stats)
emu_stat() {
	"$ROOT/build/bin/mpnet-linkemu" --ctl "/run/mpnet/$NSP-$1/$2.ctl" stats |
		python3 -c "import json,sys; s=json.load(sys.stdin); print($3)"
}

@test "emu: Gilbert-Elliott loss comes in bursts of mean 1/r; random loss of the same mean does not" {
	local f=$BATS_TEST_TMPDIR/t.yaml t=bt-e2-ge
	# GE: p 3%, r 20%, loss only in the bad state -> mean loss p/(p+r) = 13.0 %,
	# mean run of losses 1/r = 5.  Random: 13 %, mean run 1/(1-0.13) = 1.15.
	cat >"$f" <<-Y
	name: $t
	seed: 3
	ipv6: false
	hosts:
	  a: { stack: tcp }
	  b: { stack: tcp }
	links:
	  - { name: ge, between: [a, b], up: { loss: { model: gemodel, p: 3%, r: 20%, 1-h: 100%, 1-k: 0% } } }
	  - { name: rnd, between: [a, b], up: { loss: 13% } }
	Y
	"$MPNET" up "$f" >/dev/null
	static_arp $t a b ge 0
	static_arp $t a b rnd 1
	in_host $t a ping -n -c 3000 -i 0.002 -W 1 -I 198.18.0.1 198.18.0.2 >"$BATS_TEST_TMPDIR/ge.out" 2>&1 &
	local p1=$!
	in_host $t a ping -n -c 3000 -i 0.002 -W 1 -I 198.18.1.1 198.18.1.2 >"$BATS_TEST_TMPDIR/rnd.out" 2>&1 || true
	wait $p1 || true
	local ge rnd
	read -r -a ge < <(lost_seqs 3000 <"$BATS_TEST_TMPDIR/ge.out" | bursts)
	read -r -a rnd < <(lost_seqs 3000 <"$BATS_TEST_TMPDIR/rnd.out" | bursts)
	echo "# gemodel: ${ge[0]} lost in ${ge[1]} runs, mean run ${ge[2]} (1/r = 5);" \
		"random: ${rnd[0]} lost in ${rnd[1]} runs, mean run ${rnd[2]}" >&3
	# the emulator's own count agrees with what ping missed (requests only: the
	# replies' direction is lossless)
	[ "$(emu_stat $t ge 's["up"]["drops"]["loss"]')" -eq "${ge[0]}" ]
	# mean loss of each: 13 % +- 4 points (GE's variance is large: ~80 runs)
	awk -v a="${ge[0]}" -v b="${rnd[0]}" 'BEGIN { exit !(a >= 270 && a <= 510 && b >= 330 && b <= 450) }' ||
		fail "loss counts ${ge[0]} / ${rnd[0]} of 3000, expected ~390"
	# mean run length: 1/r = 5 within 35 % (about 3 standard errors at ~80 runs)
	awk -v m="${ge[2]}" 'BEGIN { exit !(m >= 3.25 && m <= 6.75) }' || fail "GE mean run ${ge[2]}, expected 5 +- 35%"
	# random loss: runs near 1/(1-p) = 1.15, clearly shorter than GE's
	awk -v m="${rnd[2]}" -v g="${ge[2]}" 'BEGIN { exit !(m <= 1.4 && m * 2.5 <= g) }' ||
		fail "random mean run ${rnd[2]} vs GE ${ge[2]}"
}

# udp_seq_stream TOPO: 600 UDP datagrams carrying their sequence number, one
# per millisecond, from a (198.18.IDX.1) to b (198.18.IDX.2:5400); prints the
# receiver's view: "received late early" where late = arrivals below the highest
# sequence seen so far, early = arrivals that skipped ahead (seq > highest + 1).
udp_seq_stream() { # topo idx
	local t=$1 i=$2 d=$BATS_TEST_TMPDIR
	cat >"$d/rx.py" <<-'PY'
	import socket, sys
	s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	s.bind((sys.argv[1], 5400))
	s.settimeout(2.0)
	open(sys.argv[2], "w").write("ready\n")
	n = late = early = 0
	top = -1
	while True:
	    try:
	        b = s.recv(64)
	    except socket.timeout:
	        break
	    q = int(b)
	    if q < 0:
	        break
	    n += 1
	    if q < top:
	        late += 1
	    elif q > top + 1:
	        early += 1
	    top = max(top, q)
	print(n, late, early)
	PY
	cat >"$d/tx.py" <<-'PY'
	import socket, sys, time
	s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	s.bind((sys.argv[1], 0))
	t0 = time.monotonic()
	for q in range(600):
	    while time.monotonic() < t0 + q * 0.001:
	        time.sleep(0.0002)
	    s.sendto(b"%d" % q, (sys.argv[2], 5400))
	time.sleep(0.05)
	for _ in range(3):
	    s.sendto(b"-1", (sys.argv[2], 5400))
	PY
	: >"$d/rx.ready"
	in_host "$t" b timeout 20 python3 "$d/rx.py" "198.18.$i.2" "$d/rx.ready" >"$d/rx.out" &
	local rp=$!
	wait_until 20 grep -q ready "$d/rx.ready"
	in_host "$t" a python3 "$d/tx.py" "198.18.$i.1" "198.18.$i.2"
	wait $rp
	cat "$d/rx.out"
}

@test "emu: duplicated pings come back as DUP!, reordered datagrams arrive out of order" {
	local f=$BATS_TEST_TMPDIR/t.yaml t=bt-e2-dr
	cat >"$f" <<-Y
	name: $t
	seed: 5
	ipv6: false
	hosts:
	  a: { stack: tcp }
	  b: { stack: tcp }
	links:
	  - { name: dup, between: [a, b], up: { duplicate: 10% } }
	  - { name: ro, between: [a, b], up: { delay: 10ms, reorder: { p: 25%, gap: 5 } } }
	Y
	"$MPNET" up "$f" >/dev/null
	static_arp $t a b dup 0
	static_arp $t a b ro 1
	in_host $t a ping -n -c 500 -i 0.002 -W 1 -I 198.18.0.1 198.18.0.2 >"$BATS_TEST_TMPDIR/dup.out" 2>&1 &
	local p1=$!
	local n late early
	read -r n late early < <(udp_seq_stream $t 1)
	wait $p1
	local dups edup ero
	dups=$(grep -c 'DUP!' "$BATS_TEST_TMPDIR/dup.out" || true)
	edup=$(emu_stat $t dup 's["up"]["duplicated"]')
	ero=$(emu_stat $t ro 's["up"]["reordered"]')
	echo "# duplicate 10%: $dups DUP! replies to 500 pings (emulator: $edup duplicated);" \
		"reorder 25% gap 5: of $n datagrams $early skipped ahead, $late arrived late" \
		"(emulator: $ero reordered)" >&3
	# 10 % of 500: 50, binomial 99 %: 33..68
	[ "$dups" -ge 33 ] && [ "$dups" -le 68 ] || fail "$dups DUP! replies"
	[ "$dups" -eq "$edup" ] || fail "ping saw $dups duplicates, the emulator made $edup"
	# netem's gap: 4 frames delayed, then each frame is taken with 25 %: one in
	# 4 + 1/0.25 = 8, ~75 of 600
	[ "$n" -eq 600 ] || fail "$n of 600 datagrams arrived"
	[ "$ero" -ge 45 ] && [ "$ero" -le 110 ] || fail "$ero reordered by the emulator"
	# with ~10 datagrams in the 10 ms delay line, every reordered one overtakes
	# some: the receiver sees each as a jump ahead, and the overtaken ones late
	[ "$early" -ge $((ero * 9 / 10)) ] && [ "$early" -le "$ero" ] ||
		fail "$early jumps ahead for $ero reordered"
	[ "$late" -ge "$ero" ] || fail "$late late datagrams for $ero reordered"
}

@test "emu: a trace link's TCP goodput matches the trace's average rate" {
	local f=$BATS_TEST_TMPDIR/t.yaml out=$BATS_TEST_TMPDIR/run
	local tr=$FIX/traces/steps-18mbit.trace
	cat >"$f" <<-Y
	name: bt-e2-trace
	hosts:
	  a: { stack: tcp }
	  b: { stack: tcp }
	links:
	  - { name: cell, between: [a, b], delay: 5ms, up: { trace: $tr, queue: 200 } }
	apps:
	  - { name: up, client: a, server: b, time: 5s }
	Y
	run "$MPNET" run "$f" --out "$out" --quiet
	assert_success
	local avg g
	# 1500 bytes x lines / period (the last timestamp, ms)
	avg=$(awk 'END { printf "%.3f", NR * 1500 * 8 / $1 / 1000 }' "$tr")
	g=$(jq '.apps[0].goodput_mbps' "$out/summary.json")
	assert_equal "$(jq '.apps[0].verified' "$out/summary.json")" true
	# an opportunity carries 1500 bytes of frame; TCP gets 1448 of every 1514
	echo "# trace average $avg Mbit/s (frames), TCP goodput $g Mbit/s;" \
		"ideal $(awk -v a="$avg" 'BEGIN { printf "%.2f", a * 1448 / 1514 }')" >&3
	awk -v a="$avg" -v g="$g" 'BEGIN { r = g / (a * 1448 / 1514); exit !(r >= 0.90 && r <= 1.02) }' ||
		fail "goodput $g vs trace average $avg"
}

# A ping run on a 10 % loss link of topology seed SEED; prints the lost seqs.
seeded_losses() { # seed
	local f=$BATS_TEST_TMPDIR/s$1.yaml t=bt-e2-seed
	cat >"$f" <<-Y
	name: $t
	seed: $1
	ipv6: false
	hosts:
	  a: { stack: tcp }
	  b: { stack: tcp }
	links:
	  - { name: l, between: [a, b], up: { loss: 10% } }
	Y
	"$MPNET" up "$f" >/dev/null
	static_arp $t a b l 0
	# nothing but the pings may have reached the emulator
	[ "$(emu_stat $t l 's["up"]["pkts_in"]')" -eq 0 ]
	"$MPNET" exec "$f" a -- ping -n -c 400 -i 0.002 -W 1 198.18.0.2 2>&1 | lost_seqs 400 | tr '\n' ' '
	"$MPNET" down "$f" >/dev/null
}

@test "emu: the same seed drops the same pings, another seed others" {
	local a b c
	a=$(seeded_losses 11)
	b=$(seeded_losses 11)
	c=$(seeded_losses 12)
	echo "# seed 11: lost $(wc -w <<<"$a") [$a]" >&3
	echo "# seed 12: lost $(wc -w <<<"$c")" >&3
	[ "$(wc -w <<<"$a")" -ge 20 ]
	assert_equal "$a" "$b"
	[ "$a" != "$c" ] || fail "seeds 11 and 12 lost the same pings"
}

@test "emu: summary.json links[] has drops by cause and queueing-delay percentiles per direction" {
	local f=$BATS_TEST_TMPDIR/t.yaml out=$BATS_TEST_TMPDIR/run
	cat >"$f" <<-Y
	name: bt-e2-sum
	hosts:
	  a: { stack: tcp }
	  b: { stack: tcp }
	links:
	  - { name: l, between: [a, b], delay: 2ms, up: { rate: 10mbit, loss: 1%, queue: 8 } }
	apps:
	  - { name: up, client: a, server: b, time: 3s }
	Y
	run "$MPNET" run "$f" --out "$out" --quiet
	assert_success
	local s=$out/summary.json
	jq -c '.links[] | {dir, e: .emulator | {drops, qdelay_ns}}' "$s"
	run jq -r '.links[] | select(.name == "l" and .dir == "up") | .emulator |
		"\(.drops.loss) \(.drops.queue) \(.qdelay_ns.p50) \(.qdelay_ns.p99) \(.qdelay_ns.count)"' "$s"
	assert_success
	local loss queue p50 p99 cnt
	read -r loss queue p50 p99 cnt <<<"$output"
	echo "# up: loss drops $loss, queue drops $queue, qdelay p50 $((p50 / 1000)) us p99 $((p99 / 1000)) us over $cnt" >&3
	[ "$loss" -gt 0 ] && [ "$queue" -gt 0 ] && [ "$p99" -gt 0 ] && [ "$p99" -ge "$p50" ]
	# 8 frames of 1514 bytes at 10 Mbit/s: the sojourn is at most ~9.7 ms
	[ "$p99" -le 11000000 ]
	# the down direction has its own counters (ACKs: no loss, no queue drops)
	run jq -r '.links[] | select(.name == "l" and .dir == "down") | .emulator |
		"\(.drops.loss) \(.drops.queue) \(.qdelay_ns.count)"' "$s"
	assert_success
	read -r loss queue cnt <<<"$output"
	[ "$loss" -eq 0 ] && [ "$queue" -eq 0 ] && [ "$cnt" -gt 100 ]
	# dropped = the sum over causes
	run jq -e '.links[] | select(.emulator) | .dropped == (.emulator.drops | add)' "$s"
	assert_success
}

# cubic_with_ping TOPO IDX SECONDS: kernel TCP (CUBIC, set on the socket: the
# system default here is bbr) from a to b over link IDX for SECONDS, with 25
# pings over the same link from second 3 on; prints "bytes seconds ping_median_ms".
cubic_with_ping() {
	local t=$1 i=$2 secs=$3 d=$BATS_TEST_TMPDIR
	: >"$d/ready"
	in_host "$t" b timeout 60 python3 "$BATS_TEST_DIRNAME/tcp_sink.py" "198.18.$i.2" "$d/ready" "$secs" >"$d/sink.out" 3>&- &
	local sink=$!
	for _ in $(seq 100); do
		grep -q listening "$d/ready" && break
		sleep 0.05
	done
	in_host "$t" a timeout 60 python3 "$BATS_TEST_DIRNAME/tcp_src.py" "198.18.$i.2" $((secs + 20)) cubic 3>&- &
	local src=$!
	sleep 3
	in_host "$t" a ping -n -c 25 -i 0.2 -W 3 -I "198.18.$i.1" "198.18.$i.2" >"$d/ping.out" 2>&1 || true
	wait "$sink"
	kill "$src" 2>/dev/null || true
	wait "$src" 2>/dev/null || true
	echo "$(cat "$d/sink.out") $(grep -o 'time=[0-9.]*' "$d/ping.out" | cut -d= -f2 | sort -n |
		awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : -1 }')"
}

# bats test_tags=slow
@test "emu: CoDel keeps the queueing delay near its target under kernel CUBIC; drop-tail lets it grow" {
	local f=$BATS_TEST_TMPDIR/t.yaml t=bt-e2-codel
	# 20 Mbit/s, 10 ms each way, a 1000-packet queue (600 ms at the rate): once
	# plain drop-tail, once with CoDel (target 5 ms, interval 100 ms) in front of it.
	cat >"$f" <<-Y
	name: $t
	ipv6: false
	hosts:
	  a: { stack: tcp }
	  b: { stack: tcp }
	links:
	  - { name: fifo, between: [a, b], delay: 10ms, up: { rate: 20mbit, queue: 1000 } }
	  - { name: codel, between: [a, b], delay: 10ms,
	      up: { rate: 20mbit, queue: { limit: 1000, codel: { target: 5ms, interval: 100ms } } } }
	Y
	"$MPNET" up "$f" >/dev/null
	static_arp $t a b fifo 0
	static_arp $t a b codel 1
	local fb fs fp cb cs cp
	read -r fb fs fp < <(cubic_with_ping $t 0 10)
	read -r cb cs cp < <(cubic_with_ping $t 1 10)
	local fifo codel
	fifo=$(emu_stat $t fifo '"%d %d %d %d" % (s["up"]["qdelay_ns"]["p50"], s["up"]["qdelay_ns"]["p90"], s["up"]["drops"]["codel"], s["up"]["drops"]["queue"])')
	codel=$(emu_stat $t codel '"%d %d %d %d" % (s["up"]["qdelay_ns"]["p50"], s["up"]["qdelay_ns"]["p90"], s["up"]["drops"]["codel"], s["up"]["drops"]["queue"])')
	local gf gc
	gf=$(python3 -c "print('%.2f' % ($fb * 8 / $fs / 1e6))")
	gc=$(python3 -c "print('%.2f' % ($cb * 8 / $cs / 1e6))")
	echo "# drop-tail: goodput $gf Mbit/s, ping RTT p50 under load $fp ms, qdelay p50/p90/codel drops/queue drops: $fifo" >&3
	echo "# CoDel:     goodput $gc Mbit/s, ping RTT p50 under load $cp ms, qdelay p50/p90/codel drops/queue drops: $codel" >&3
	local fq50 fq90 fcd fqd cq50 cq90 ccd cqd
	read -r fq50 fq90 fcd fqd <<<"$fifo"
	read -r cq50 cq90 ccd cqd <<<"$codel"
	# CoDel dropped, drop-tail's CoDel counter stayed 0
	[ "$ccd" -gt 0 ] || fail "CoDel never dropped"
	[ "$fcd" -eq 0 ]
	# the emulator's queueing delay: p50 under 3 x target with CoDel, a standing
	# queue of more than 20 target without
	[ "$cq50" -lt 15000000 ] || fail "CoDel qdelay p50 $cq50 ns"
	[ "$fq50" -gt 100000000 ] || fail "drop-tail qdelay p50 $fq50 ns"
	# measured from outside: ping RTT under load (base RTT 20 ms)
	python3 -c "import sys; sys.exit(not (0 < $cp < 20 + 3 * 5 * 2 and $fp > 4 * $cp))" ||
		fail "ping RTT p50 under load: CoDel $cp ms, drop-tail $fp ms"
	# goodput stays >= 85 % of the rate with CoDel (and drop-tail)
	python3 -c "import sys; sys.exit(not ($gc >= 17.0 and $gf >= 17.0))" ||
		fail "goodput CoDel $gc, drop-tail $gf Mbit/s"
	"$MPNET" down "$f" >/dev/null
}
