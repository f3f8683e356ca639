#!/usr/bin/env bash
# make bench-sched: libmpt's schedulers side by side on heterogeneous paths.
#
#   bench/sched.sh [--runs N] [--quick] [--full] [--estimate] [--self-test]
#                                          as root; results/bench-sched-<UTC>/
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
#
# Receive buffers (BUFS="large small", both ends get the app's rcvbuf:):
#   large  the stacks' defaults: the kernel's receive autotuning (up to
#          net.ipv4.tcp_rmem's maximum, 32 MiB on the bench machine), libmpt's
#          4 MiB: far above every path set's needs
#   small  rcvbuf: 64KiB (SMALL_RCVBUF).  MPTCP needs about 2 x (sum of the paths'
#          rates) x (the largest RTT) at the receiver not to stall on the slow path
#          (RFC 6182 3.3.1; Raiciu et al., NSDI 2012): asym-rtt 2 x 25 Mbit/s x
#          100 ms = 625 KB, rtt-10-200 2 x 20 Mbit/s x 200 ms = 1 MB, lossy 2 x
#          40 Mbit/s x 30 ms = 300 KB; even the plain sums of the BDPs are 88 KB,
#          263 KB and 100 KB.  64 KiB is below all of these, yet above the fast
#          path's own BDP (25 KB at 20 Mbit/s x 10 ms), so the fast path alone could
#          fill it: what goodput is lost, and the rr tail that grows, is head-of-line
#          blocking at the receiver (data sent on the slow path holding the window),
#          which the schedulers handle differently (BLEST / ECF are made for it).
#          Linux doubles SO_RCVBUF and advertises a share of it (payload over
#          buffer truesize, about half to two thirds), so the kernel client's
#          window is 64-85 KiB (summary.json apps[].rcvbuf shows the effective,
#          doubled value).
# Time (< 20 min): the small level runs bulk and rr only (the 4 Mbit/s stream
# needs little window; bulk shows the goodput lost, rr the tail latency), and the
# default is 2 runs of each (3 before the buffer level): 2 x 6 rows x 3 path sets x
# (3 + 2) workloads = 180 runs: estimated 18 min at 6 s a run, measured 14 min
# (2 vCPUs, 4.7 s a run).  --runs 3 gives 270 runs (21-27 min).
# report.md: per buffer level, medians with min-max per row, and a small-vs-large
# table; cdf-<buf>-<paths>.png: the rr completion-time CDFs of run 1 per scheduler
# (gnuplot).  Results: OUT/<buf>/<paths>/<workload>/<row>/run-<i>/.  Namespaces
# under MPNET_NS_PREFIX=mpns.  --self-test renders the canned tree
# bench/testdata/sched-mini and checks its tables (no root, no namespaces).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=2
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
	--self-test) exec bench/sched_selftest.sh ;;
	*)
		echo "usage: bench/sched.sh [--runs N] [--quick] [--full] [--estimate] [--self-test]" >&2
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
BUFS=${BUFS:-large small}
SMALL_RCVBUF=${SMALL_RCVBUF:-64KiB}
for b in $BUFS; do
	case $b in large | small) ;; *)
		echo "bench/sched.sh: BUFS takes large and/or small, got '$b'" >&2
		exit 2
		;;
	esac
done
workloads() { # buf
	case $1 in
	large) echo "bulk rr stream" ;;
	small) echo "bulk rr" ;;
	esac
}
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
nwl=0
for b in $BUFS; do nwl=$((nwl + $(workloads $b | wc -w))); done
total=$((RUNS * nrows * $(echo $PATHSETS | wc -w) * nwl))
# measured: 5.8 s a run on 2 vCPUs (162 runs in 15.7 min), transfers and set-up
est=$((total * 6))
echo "# bench-sched: $total runs ($RUNS x $nrows rows x paths [$PATHSETS] x buffer/workload [$(for b in $BUFS; do printf '%s:%s ' $b "$(workloads $b | tr ' ' ,)"; done | sed 's/ $//')]), about $((est / 60)) min"
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

topo() { # file pathset workload row buf
	local l a b cs ss sched= rb=
	l=$(links "$2")
	a=${l%|*}
	b=${l#*|}
	case $4 in
	kernel-kernel) cs=kernel ss=kernel ;;
	mpt-kernel:*) cs=kernel ss=mpt sched=${4#*:} ;;
	mpt-mpt:*) cs=mpt ss=mpt sched=${4#*:} ;;
	esac
	[ "$5" = small ] && rb=", rcvbuf: $SMALL_RCVBUF"
	# delays are one way: the links' round trips are 2 x delay (10/100, 10/200, 10/30 ms)
	cat >"$1" <<-EOF
	# bench/sched.sh: $2, $3, $4, $5 receive buffers
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
	  - $(app "$3" | sed "s/ }\$/$rb }/")
	EOF
}

for b in $BUFS; do
	mkdir -p "$OUT/$b"
	case $b in
	large) echo "the stacks' defaults: kernel receive autotuning (net.ipv4.tcp_rmem), libmpt 4 MiB" ;;
	small) echo "rcvbuf: $SMALL_RCVBUF on both ends (kernel: SO_RCVBUF, autotuning off; libmpt: its receive buffer)" ;;
	esac >"$OUT/$b/buffer.txt"
done
n=0
for i in $(seq 1 "$RUNS"); do
	for b in $BUFS; do
		for p in $PATHSETS; do
			for w in $(workloads $b); do
				for row in $ROWS; do
					d=$OUT/$b/$p/$w/${row/:/-}
					mkdir -p "$d"
					topo "$d/topology.yaml" "$p" "$w" "$row" "$b"
					n=$((n + 1))
					rc=0
					build/bin/mpnet run "$d/topology.yaml" --out "$d/run-$i" --quiet --interval 0.1 \
						>"$d/run-$i.log" 2>&1 || rc=$?
					echo "$rc" >"$d/run-$i.rc"
					echo "# [$n/$total] $b $p $w $row run $i: exit $rc"
				done
			done
		done
	done
done
python3 bench/sched_report.py "$OUT"
echo "# bench-sched: $OUT/report.md"
