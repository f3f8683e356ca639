#!/usr/bin/env bash
# make bench-cc: coupled congestion control (RFC 6356's goals) side by side, medians.
#
#   bench/cc.sh [--runs N] [--quick] [--estimate]   as root; results/bench-cc-<UTC>/
#
# Three experiments, each run N times (3), interleaved (run 1 of every row, then 2):
#   vt       virtual time (build/tests/cc-bottleneck --json --seed i, i = 1..N): a
#            two-subflow MPTCP connection and one NewReno flow through one 10 Mbit/s
#            drop-tail bottleneck, 120 s; MPTCP/TCP goodput over the last 60 s, for
#            lia, olia, balia and uncoupled cubic; then the same with --balance (the
#            MPTCP connection's second path through a bottleneck of its own: RFC 6356's
#            "balance congestion"), each controller's rate on the shared path.
#   harm     "do no harm", namespaces: topologies/shared-bottleneck.yaml (client mp
#            with two access links into r, one 10 Mbit/s 10 ms bottleneck r - server
#            with a 100-packet drop-tail queue, shared with one Linux TCP cubic flow),
#            uploads of T s to a Linux MPTCP server; rows: libmpt lia, olia, balia,
#            cubic (uncoupled) and the kernel's MPTCP (cubic on each subflow: Linux has
#            no coupled controller).
#   harm-codel  the same with CoDel (RFC 8289, 5 ms / 100 ms) on the bottleneck's
#            queue; rows lia, cubic, kernel.  With drop-tail the kernel's two subflows
#            take more of the losses than the TCP flow and get 0.9-1.7 times its
#            goodput, not the two of uncoupled CUBIC; with CoDel about two (README.md,
#            "Coupled congestion control against Linux").
#   balance  "balance congestion", namespaces: topologies/congestion-balance.yaml
#            (client m over two disjoint 10 Mbit/s bottlenecks, path a shared with two
#            Linux TCP flows, path b free); the five rows.
# Namespace rows: goodput over [W, T] s of each transfer (the receiver's verified
# bytes, timeseries.csv), so slow start is left out; T = 20, W = 5 (--quick: one run,
# T = 12, W = 4, 60 s of virtual time).  A run whose apps do not all verify their bytes
# is listed as failed, never averaged.  bench/cc_report.py writes report.md,
# report.json and plots (gnuplot).  Namespaces under MPNET_NS_PREFIX=mpcc.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=3
QUICK=0
ESTIMATE=0
while [ $# -gt 0 ]; do
	case $1 in
	--runs)
		RUNS=${2:-}
		shift
		;;
	--runs=*) RUNS=${1#--runs=} ;;
	--quick) QUICK=1 ;;
	--estimate) ESTIMATE=1 ;;
	*)
		echo "usage: bench/cc.sh [--runs N] [--quick] [--estimate]" >&2
		exit 2
		;;
	esac
	shift
done
case $RUNS in '' | *[!0-9]* | 0)
	echo "bench/cc.sh: --runs takes a whole number above 0, got '$RUNS'" >&2
	exit 2
	;;
esac
T=20
W=5
VT_SECONDS=120
if [ $QUICK = 1 ]; then
	RUNS=1
	T=12
	W=4
	VT_SECONDS=60
fi
EXPERIMENTS="harm harm-codel balance"
rows() { # experiment
	case $1 in
	harm-codel) echo "mpt-lia mpt-cubic kernel" ;;
	*) echo "mpt-lia mpt-olia mpt-balia mpt-cubic kernel" ;;
	esac
}
nrows=0
for e in $EXPERIMENTS; do nrows=$((nrows + $(rows "$e" | wc -w))); done
total=$((RUNS * nrows))
# measured on 2 vCPUs: a 120 s cc-bottleneck run of the four controllers takes
# about 25 s (70 s under load 9), with --balance about 42 s; a namespace run T + 5.5 s
# (set-up, servers, plots, teardown); the whole of it 19 min 17 s under load 9 (other
# jobs on the machine, before --balance)
est=$((RUNS * VT_SECONDS * 67 / 120 + total * (T * 2 + 11) / 2))
echo "# bench-cc: $RUNS x 8 virtual-time runs, then $total namespace runs ($RUNS x $nrows rows of [$EXPERIMENTS], $T s each): about $(((est + 59) / 60)) min"
[ $ESTIMATE = 0 ] || exit 0
[ -x build/tests/cc-bottleneck ] && [ -x build/bin/mpnet ] ||
	{ echo "bench/cc.sh: build/tests/cc-bottleneck and build/bin/mpnet missing (make bench-cc builds them)" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "bench/cc.sh: needs root (network namespaces)" >&2; exit 2; }
export MPNET_NS_PREFIX=${MPNET_NS_PREFIX:-mpcc}
OUT=${BENCH_OUT:-results/bench-cc-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT/vt"
start=$(date +%s)
cat >"$OUT/meta.json" <<-EOF
{"runs": $RUNS, "quick": $QUICK, "transfer_s": $T, "window_from_s": $W, "vt_seconds": $VT_SECONDS,
 "kernel": "$(uname -r)", "commit": "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"}
EOF

# 1. virtual time: one process per seed, the four controllers in it; exit 1 only
# says a ratio left cc-bottleneck's band, which the report shows; 2 is a usage error
for i in $(seq 1 "$RUNS"); do
	rc=0
	build/tests/cc-bottleneck --json --seed "$i" --seconds "$VT_SECONDS" \
		>"$OUT/vt/seed-$i.jsonl" 2>"$OUT/vt/seed-$i.log" || rc=$?
	echo "$rc" >"$OUT/vt/seed-$i.rc"
	echo "# vt seed $i: exit $rc, $(jq -r '"\(.cc) \(.ratio * 100 | round / 100)"' "$OUT/vt/seed-$i.jsonl" | paste -sd' ')"
	[ "$rc" -le 1 ] || { cat "$OUT/vt/seed-$i.log" >&2; exit 1; }
done

# 1b. the same in balance mode (cc-bottleneck --balance): path 1 has a bottleneck of
# its own; the report sets each controller's rate on the shared path against cubic's
mkdir -p "$OUT/vt-balance"
for i in $(seq 1 "$RUNS"); do
	rc=0
	build/tests/cc-bottleneck --balance --json --seed "$i" --seconds "$VT_SECONDS" \
		>"$OUT/vt-balance/seed-$i.jsonl" 2>"$OUT/vt-balance/seed-$i.log" || rc=$?
	echo "$rc" >"$OUT/vt-balance/seed-$i.rc"
	echo "# vt balance seed $i: exit $rc, shared path $(jq -r '"\(.cc) \(.path0_mbps * 100 | round / 100)"' "$OUT/vt-balance/seed-$i.jsonl" | paste -sd' ')"
	[ "$rc" -le 1 ] || { cat "$OUT/vt-balance/seed-$i.log" >&2; exit 1; }
done

host_line() { # row
	case $1 in
	mpt-*) echo "{ stack: mpt, congestion: ${1#mpt-} }" ;;
	kernel) echo "{ stack: kernel, congestion: cubic }" ;;
	esac
}

# The shipped topology with the MPTCP client's line replaced, the transfers T s and
# the topology named for the bench (namespace names stay short).
topo() { # out experiment row
	local src host queue=
	case $2 in
	harm) src=topologies/shared-bottleneck.yaml host=mp ;;
	harm-codel) src=topologies/shared-bottleneck.yaml host=mp queue="{ limit: 100, codel: true }" ;;
	balance) src=topologies/congestion-balance.yaml host=m ;;
	esac
	sed -E -e "s|^  $host: \{.*\}$|  $host: $(host_line "$3")|" -e "s|time: 30s|time: ${T}s|" \
		-e "s|^name: .*|name: bcc-${2%-codel}|" ${queue:+-e "s|queue: 100 \}|queue: $queue }|"} "$src" >"$1"
	grep -qF "  $host: $(host_line "$3")" "$1" && grep -q "time: ${T}s" "$1" &&
		{ [ -z "$queue" ] || grep -qF "name: bneck, between: [r, server], rate: 10mbit, delay: 10ms, queue: $queue" "$1"; } ||
		{ echo "bench/cc.sh: $src no longer has the lines this script rewrites" >&2; exit 1; }
}

n=0
for i in $(seq 1 "$RUNS"); do
	for e in $EXPERIMENTS; do
		for row in $(rows "$e"); do
			d=$OUT/$e/$row
			mkdir -p "$d"
			topo "$d/topology.yaml" "$e" "$row"
			n=$((n + 1))
			rc=0
			build/bin/mpnet run "$d/topology.yaml" --out "$d/run-$i" --quiet \
				>"$d/run-$i.log" 2>&1 || rc=$?
			echo "$rc" >"$d/run-$i.rc"
			echo "# [$n/$total] $e $row run $i: exit $rc"
		done
	done
done
echo "$(($(date +%s) - start))" >"$OUT/elapsed_s"
python3 bench/cc_report.py "$OUT"
echo "# bench-cc: $OUT/report.md ($(($(date +%s) - start)) s)"
