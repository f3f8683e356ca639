#!/usr/bin/env bash
# Transfers against Linux's MPTCP with packets dropped early in the connection (make
# stress-faults; root; not in CI).  Each run: a libmpt client (mpt-perf --stack mpt)
# and a Linux server (mpt-perf --stack kernel) joined by two 20 Mbit/s links, the
# server announcing the second address (so libmpt joins while its first window is in
# flight); a 1 s transfer, an upload or a download; nftables in the server's namespace
# injects one fault, drawn from FAULT_SEED:
#   window    K (1-4) consecutive packets of one subflow, from its A-th (2-31) on,
#             toward the server or from it, on either path
#   mpc       the client's MP_CAPABLE third ACK and first data segment (Linux builds
#             the connection from a later DSS segment and falls back to TCP)
#   blackout  no packet from the server on the first path for B ms (300-1500) from
#             the start (the data-level retransmission timer fires)
# Every run must verify its bytes (mpt-perf's pattern, checked by the receiver) and
# finish; a failed run's directory is kept in STRESS_KEEP (default /tmp).
# Usage: [FAULT_RUNS=N (100)] [FAULT_SEED=S (1)] tests/stress_faults.sh
# (FAULT_PERF_ARGS: more mpt-perf client options, e.g. --corrupt-at 5000 to see it fail)
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${FAULT_RUNS:-100}
seed=${FAULT_SEED:-1}
for v in "$runs" "$seed"; do
	case $v in '' | *[!0-9]*) echo "stress-faults: FAULT_RUNS and FAULT_SEED must be whole numbers, got '$v'" >&2 && exit 2 ;; esac
done
[ "$(id -u)" -eq 0 ] || { echo "stress-faults: needs root (network namespaces)" >&2; exit 2; }
command -v nft >/dev/null || { echo "stress-faults: needs nft (apt-get install nftables)" >&2; exit 2; }
export MPNET_NS_PREFIX=${MPNET_NS_PREFIX:-mfault}
MPNET=${MPNET:-build/bin/mpnet}
PERF=${PERF:-build/bin/mpt-perf}
T=sf
S="ip netns exec $MPNET_NS_PREFIX-$T-s"
C="ip netns exec $MPNET_NS_PREFIX-$T-c"
work=$(mktemp -d /tmp/stress-faults.XXXXXX)
trap '"$MPNET" down --all >/dev/null 2>&1; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

cat >"$work/t.yaml" <<EOF
name: $T
hosts:
  c: { stack: mpt }
  s: { stack: kernel }
links:
  - { name: l0, between: [c, s], rate: 20mbit }
  - { name: l1, between: [c, s], rate: 20mbit, endpoint: { s: [signal] } }
EOF

# The nftables chain of one fault into $rules, its description into $what (no
# subshell: bash reseeds RANDOM in one, and a seed must replay the same faults).
fault_rules() { # kind blackout-ms
	local p a k port=5690
	case $1 in
	window)
		p=$((RANDOM % 2)) a=$((2 + RANDOM % 30)) k=$((1 + RANDOM % 4))
		if [ $((RANDOM % 2)) = 0 ]; then
			what="window: packets $a-$((a + k - 1)) toward the server on l$p"
			rules="chain pre { type filter hook prerouting priority -150;
ip daddr 198.18.$p.2 tcp dport $port ct original packets >= $a ct original packets < $((a + k)) counter drop
}"
		else
			what="window: packets $a-$((a + k - 1)) from the server on l$p"
			rules="chain out { type filter hook output priority -150;
ip saddr 198.18.$p.2 tcp sport $port ct reply packets >= $a ct reply packets < $((a + k)) counter drop
}"
		fi
		;;
	mpc)
		what="mpc: the third ACK and the first data segment lost"
		rules="chain pre { type filter hook prerouting priority -150;
tcp dport $port tcp flags & (syn|ack) == ack tcp option mptcp subtype 0 ct original packets < 4 counter drop
}"
		;;
	blackout)
		what="blackout: nothing from the server on l0 for $2 ms"
		rules="chain out { type filter hook output priority -150;
ip saddr 198.18.0.2 tcp sport $port tcp flags & (syn|ack) == ack counter drop
}"
		;;
	esac
}

# Run `cmd...` every 50 ms until it succeeds, at most BOUND seconds; 1 on timeout.
wait_for() { # bound cmd...
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.05
	done
}
server_ready() { grep -q ready "$1" 2>/dev/null; }
gone() { ! kill -0 "$1" 2>/dev/null; }

RANDOM=$seed
fails=0 dropped=0 start=$SECONDS
for i in $(seq 1 "$runs"); do
	kinds=(window window window mpc blackout)
	kind=${kinds[RANDOM % 5]} bl=$((300 + RANDOM % 1201)) dir=up
	[ $((RANDOM % 2)) = 0 ] || dir=down
	fault_rules "$kind" "$bl"
	d=$work/run$i
	mkdir -p "$d"
	"$MPNET" down --all >/dev/null 2>&1
	if ! "$MPNET" up "$work/t.yaml" >"$d/up.log" 2>&1; then
		cat "$d/up.log" >&2
		exit 2
	fi
	# conntrack counts the packets that the window faults select by number
	$S sysctl -qw net.netfilter.nf_conntrack_acct=1
	printf 'table inet fault {\n%s\n}\n' "$rules" | $S nft -f - || exit 2
	$S "$PERF" -s --once --stack kernel -p 5690 -J --ready-fd 3 3>"$d/ready" >"$d/s.json" 2>"$d/s.err" &
	spid=$!
	if ! wait_for 10 server_ready "$d/ready"; then
		echo "stress-faults: the Linux server did not listen within 10 s: $(head -c 300 "$d/s.err")" >&2
		exit 2
	fi
	bpid=""
	if [ "$kind" = blackout ]; then
		(sleep "$(printf '%d.%03d' $((bl / 1000)) $((bl % 1000)))"
			$S nft list chain inet fault out >"$d/blackout.nft"
			$S nft flush chain inet fault out) &
		bpid=$!
	fi
	r=()
	[ $dir = up ] || r=(-R)
	$C timeout 60 "$PERF" -c 198.18.0.2 -p 5690 --stack mpt -J -t 1 "${r[@]}" ${FAULT_PERF_ARGS:-} >"$d/c.json" 2>"$d/c.err"
	rc=$?
	[ -z "$bpid" ] || wait "$bpid"
	# the server ends with its transfer; one whose client died (a libmpt client sends
	# no FIN or RST when it is killed) would wait on its own: 10 s, then it is killed
	wait_for 10 gone "$spid" || kill "$spid" 2>/dev/null
	wait "$spid"
	[ "$kind" = blackout ] && nft_out=$(cat "$d/blackout.nft") || nft_out=$($S nft list table inet fault 2>/dev/null)
	n=$(echo "$nft_out" | sed -n 's/.*counter packets \([0-9]*\).*/\1/p' | head -1)
	[ "${n:-0}" -gt 0 ] && dropped=$((dropped + 1))
	v=$(jq -r '.verified' "$d/c.json" 2>/dev/null)
	line="run $i: $dir, $what (dropped ${n:-?})"
	if [ "$rc" = 0 ] && [ "$v" = true ]; then
		echo "# $line: verified"
	else
		fails=$((fails + 1))
		echo "# $line: FAILED (exit $rc, verified ${v:-?}): $(head -c 300 "$d/c.err" | tr '\n' ' ')"
		keep=${STRESS_KEEP:-/tmp}/stress-faults-seed$seed-run$i
		rm -rf "$keep" && cp -r "$d" "$keep" && echo "#   kept in $keep"
	fi
	rm -rf "$d"
done
echo "# stress-faults: $runs runs (seed $seed), $dropped with a counted drop, $fails failed, $((SECONDS - start)) s"
if [ "$fails" -eq 0 ]; then
	echo "ok - stress-faults: $runs runs, every transfer verified"
else
	echo "not ok - stress-faults: $fails of $runs runs failed"
fi
[ "$fails" -eq 0 ]
