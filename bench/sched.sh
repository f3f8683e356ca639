#!/usr/bin/env bash
# make bench-sched: libmpt's schedulers side by side on heterogeneous paths.
#
#   bench/sched.sh [--runs N] [--quick] [--estimate]   as root; results/bench-sched-<UTC>/
#
# Paths (client - r over two access links, r - server unshaped), from the ranges of
# the scheduler papers' and UCLouvain's experimental designs:
#   asym-rtt   20 Mbit/s 10 ms  +  5 Mbit/s 100 ms
#   rtt-10-200 10 Mbit/s 10 ms  + 10 Mbit/s 200 ms
#   lossy      20 Mbit/s 10 ms 1 % loss  +  20 Mbit/s 30 ms
# Workloads (mpt-perf's; every byte verified), data flowing server -> client:
#   bulk    5 s download: goodput
#   rr      40 exchanges of 100 B up, 64 KiB down (a web object): completion time
#   stream  4 Mbit/s in 20 KiB chunks for 5 s (video-like): one-way chunk delay
# The server is the sender that schedules.  Rows: each libmpt scheduler on a libmpt
# server with a Linux MPTCP client ("libmpt -> kernel"), and the kernel -> kernel
# reference (Linux's one scheduler).  --full adds libmpt -> libmpt for every
# scheduler (twice the time).  Runs are interleaved (run 1 of every row, then 2, ...).
# report.md: medians with min-max per row; cdf-<paths>.png: the rr completion-time
# CDFs of run 1 per scheduler (gnuplot).  Namespaces under MPNET_NS_PREFIX=mpns.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=3
QUICK=0
FULL=0
ESTIMATE=0
while [ $# -gt 0 ]; do
	case $1 in
	--runs)
		RUNS=${2:-}
		shift
		;;
	--runs=*) RUNS=${1#--runs=} ;;
	--quick) QUICK=1 ;;
	--full) FULL=1 ;;
	--estimate) ESTIMATE=1 ;;
	*)
		echo "usage: bench/sched.sh [--runs N] [--quick] [--full] [--estimate]" >&2
		exit 2
		;;
	esac
	shift
done
case $RUNS in '' | *[!0-9]* | 0)
	echo "bench/sched.sh: --runs takes a whole number above 0, got '$RUNS'" >&2
	exit 2
	;;
esac
SCHEDS=$(build/bin/mpt-perf --scheduler list 2>/dev/null | awk '{print $1}' | grep -v '^$' || true)
[ -n "$SCHEDS" ] || { echo "bench/sched.sh: build/bin/mpt-perf --scheduler list gave nothing (make first)" >&2; exit 2; }
PATHSETS="asym-rtt rtt-10-200 lossy"
WORKLOADS="bulk rr stream"
if [ $QUICK = 1 ]; then
	PATHSETS=asym-rtt
	RUNS=1
fi
ROWS="kernel-kernel"
for s in $SCHEDS; do ROWS="$ROWS mpt-kernel:$s"; done
if [ $FULL = 1 ]; then
	for s in $SCHEDS; do ROWS="$ROWS mpt-mpt:$s"; done
fi
nrows=$(echo $ROWS | wc -w)
total=$((RUNS * nrows * $(echo $PATHSETS | wc -w) * 3))
# measured: 5.8 s a run on 2 vCPUs (162 runs in 15.7 min), transfers and set-up
est=$((total * 6))
echo "# bench-sched: $total runs ($RUNS x $nrows rows x paths [$PATHSETS] x workloads [$WORKLOADS]), about $((est / 60)) min"
[ $ESTIMATE = 0 ] || exit 0
[ "$(id -u)" -eq 0 ] || { echo "bench/sched.sh: needs root (network namespaces)" >&2; exit 2; }
export MPNET_NS_PREFIX=${MPNET_NS_PREFIX:-mpns}
OUT=${BENCH_OUT:-results/bench-sched-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"

links() { # pathset
	case $1 in
	asym-rtt) echo "rate: 20mbit, delay: 5ms|rate: 5mbit, delay: 50ms" ;;
	rtt-10-200) echo "rate: 10mbit, delay: 5ms|rate: 10mbit, delay: 100ms" ;;
	lossy) echo "rate: 20mbit, delay: 5ms, loss: 1%|rate: 20mbit, delay: 15ms" ;;
	esac
}

app() { # workload
	case $1 in
	bulk) echo "{ name: app, client: c, server: s, time: 5s, direction: download, timeout: 40s }" ;;
	rr) echo "{ name: app, client: c, server: s, mode: rr, request: 100, response: 64KiB, exchanges: 40, timeout: 60s }" ;;
	stream) echo "{ name: app, client: c, server: s, mode: stream, rate: 4mbit, chunk: 20KiB, time: 5s, direction: download, timeout: 40s }" ;;
	esac
}

topo() { # file pathset workload row
	local l a b cs ss sched=
	l=$(links "$2")
	a=${l%|*}
	b=${l#*|}
	case $4 in
	kernel-kernel) cs=kernel ss=kernel ;;
	mpt-kernel:*) cs=kernel ss=mpt sched=${4#*:} ;;
	mpt-mpt:*) cs=mpt ss=mpt sched=${4#*:} ;;
	esac
	# delays are one way: the links' round trips are 2 x delay (10/100, 10/200, 10/30 ms)
	cat >"$1" <<-EOF
	# bench/sched.sh: $2, $3, $4
	name: bsched
	hosts:
	  c: { stack: $cs, congestion: cubic }
	  r: { forward: true }
	  s: { stack: $ss, congestion: cubic${sched:+, scheduler: $sched} }
	links:
	  - { name: p1, between: [c, r], $a }
	  - { name: p2, between: [c, r], $b, endpoint: [subflow] }
	  - { name: lan, between: [r, s] }
	apps:
	  - $(app "$3")
	EOF
}

n=0
for i in $(seq 1 "$RUNS"); do
	for p in $PATHSETS; do
		for w in $WORKLOADS; do
			for row in $ROWS; do
				d=$OUT/$p/$w/${row/:/-}
				mkdir -p "$d"
				topo "$d/topology.yaml" "$p" "$w" "$row"
				n=$((n + 1))
				rc=0
				build/bin/mpnet run "$d/topology.yaml" --out "$d/run-$i" --quiet --interval 0.1 \
					>"$d/run-$i.log" 2>&1 || rc=$?
				echo "$rc" >"$d/run-$i.rc"
				echo "# [$n/$total] $p $w $row run $i: exit $rc"
			done
		done
	done
done
python3 bench/sched_report.py "$OUT"
echo "# bench-sched: $OUT/report.md"
