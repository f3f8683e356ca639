#!/usr/bin/env bash
# make bench / make bench-quick: the side-by-side benchmark suite.
#
#   bench/suite.sh [--quick] [--runs N]     as root; results/bench-<UTC timestamp>/
#   bench/suite.sh [--quick] [--runs N] --estimate   the plan and its duration; runs nothing
#   bench/suite.sh --self-test              render bench/testdata/mini, check the tables
#
# Every case of bench/cases/*.yaml (a template: two access links client -> r and
# r -> server, as topologies/two-path.yaml) runs with five pairings of stacks,
# client -> server: libmpt -> kernel, kernel -> libmpt, kernel -> kernel,
# libmpt -> libmpt, and plain TCP on the best single path (the lines of the
# template tagged "# alt" dropped).  Runs are interleaved (run 1 of every pairing,
# then run 2, ...).  Each run is one `mpnet run` (build/bin/mpnet, namespaces under
# MPNET_NS_PREFIX=mpnb) into DIR/cases/<case>/<pairing>/run-<i>/; bench/report.py
# turns the tree into report.md and report.json.  The orchestrator measurements of
# the former bench/run.sh (`mpnet up`/`down` of a 64-host chain, kernel MPTCP on
# topologies/two-path.yaml) come first.
#
# Budget (make bench < 20 min, make bench-quick < 3 min, 2 vCPUs): a case's header
# may say `# time: 1.5s` (its transfer, instead of its kind's) and `# runs: N` (its
# repeats in the full suite when --runs is not given; no case uses it now: the
# shaped cases ran twice until one of case 05's two runs took 7.0 Mbit/s and the
# other 11.1, and a median of two is a mean); an app is killed at its time + 5 s (a run still going then is a
# failed run); in time mode mpt-perf senders keep at most 128 KiB unsent (libmpt and
# the kernel alike), so what drains after the time is what is in flight.  --estimate adds up the plan with
# the per-run overhead measured on 2 vCPUs (RUN_OVERHEAD_S: namespaces, emulators,
# server start, the sender's drain, teardown).
#
# Environment: BENCH_TRACES (default: ../shared/traces beside the checkout),
# BENCH_TRACE (default TMobile-LTE-short), BENCH_OUT (results directory).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

if [ "${1:-}" = --self-test ]; then
	exec bench/selftest.sh
fi

QUICK=0
RUNS=
ESTIMATE=0
RUN_OVERHEAD_S=1.2 # measured: (wall - transfer times) / runs, 0.9 s on a quiet 2-vCPU machine (927 s for 240 runs), 1.5-2.1 s shared with other test runs
HANG_PAIRINGS=1    # kernel -> libmpt with a kernel subflow endpoint stalls (libmpt has no MP_JOIN yet): one pairing's runs last time + grace
ORCH_S=20	   # per --runs round: two 64-host up/down, 3 s pause, two-path 64 MiB
APP_GRACE_S=5	   # an app's timeout is its time + this
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--runs)
		RUNS=$2
		shift
		;;
	--runs=*) RUNS=${1#--runs=} ;;
	--estimate) ESTIMATE=1 ;;
	*)
		echo "usage: bench/suite.sh [--quick] [--runs N] [--estimate] | --self-test" >&2
		exit 2
		;;
	esac
	shift
done
# RUNS_GIVEN: --runs overrides every case's own `# runs:`
RUNS_GIVEN=${RUNS:+1}
if [ $QUICK = 1 ]; then
	RUNS=${RUNS:-1}
	RUNS_GIVEN=1
else
	RUNS=${RUNS:-3}
fi
# handover: 1.5 s before the event (the metrics' 1 s pre-event window after slow
# start), the path back after 1 s, 1 s after that; trace: wifi down 2 s -> 4 s
T_STEADY=2s T_HO=3.5s HO_AT=1.5s HO_BACK=2.5s T_TRACE=6s FLAP_AT=2s FLAP_BACK=4s
case $RUNS in '' | *[!0-9]* | 0)
	echo "bench/suite.sh: --runs wants a positive integer" >&2
	exit 2
	;;
esac
PAIRINGS="mpt-kernel kernel-mpt kernel-kernel mpt-mpt tcp-best"
TRACES=${BENCH_TRACES:-$ROOT/../shared/traces}
TRACE=${BENCH_TRACE:-TMobile-LTE-short}

# case_plan TEMPLATE: "<transfer time> <runs>" for this suite's mode
case_plan() {
	local kind t r
	kind=$(sed -n 's/^# kind: //p' "$1")
	t=$(sed -n 's/^# time: //p' "$1")
	r=$(sed -n 's/^# runs: //p' "$1")
	if [ -z "$t" ]; then
		case $kind in
		handover) t=$T_HO ;;
		trace) t=$T_TRACE ;;
		*) t=$T_STEADY ;;
		esac
	fi
	[ -n "$RUNS_GIVEN" ] || [ -z "$r" ] && r=$RUNS
	echo "$t $r"
}

if [ $ESTIMATE = 1 ]; then
	tot=0
	nruns=0
	for tpl in bench/cases/*.yaml; do
		[ $QUICK = 1 ] && [ "$(sed -n 's/^# quick: //p' "$tpl")" != yes ] && continue
		read -r t r <<<"$(case_plan "$tpl")"
		s=$(awk -v t="${t%s}" -v r="$r" -v o="$RUN_OVERHEAD_S" 'BEGIN { print r * 5 * (t + o) }')
		printf '%-28s %5s x %d runs x 5 pairings  %6.0f s\n' "$(basename "$tpl" .yaml)" "$t" "$r" "$s"
		tot=$(awk -v a="$tot" -v b="$s" 'BEGIN { print a + b }')
		nruns=$((nruns + r * 5))
	done
	o=$((RUNS * ORCH_S))
	printf '%-28s %d round(s)  %6d s\n' orchestrator "$RUNS" "$o"
	awk -v t="$tot" -v o="$o" -v n="$nruns" 'BEGIN { printf "estimate: %d transfers, %.0f s (%.1f min)\n", n, t + o, (t + o) / 60 }'
	awk -v t="$tot" -v o="$o" -v n="$nruns" -v h="$HANG_PAIRINGS" -v g="$APP_GRACE_S" -v ov="$RUN_OVERHEAD_S" \
		'BEGIN { x = n / 5 * h * (g - ov); printf "with %d pairing(s) running into the timeout: +%.0f s, %.0f s (%.1f min)\n", h, x, t + o + x, (t + o + x) / 60 }'
	exit 0
fi
[ "$(id -u)" = 0 ] || {
	echo "bench/suite.sh: must run as root (it creates network namespaces)" >&2
	exit 2
}

export MPNET_NS_PREFIX=mpnb
mpnet=$ROOT/build/bin/mpnet
out=${BENCH_OUT:-results/bench-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out/cases"
out=$(cd "$out" && pwd)
t_start=$(date +%s.%N)
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
# whatever an interrupted earlier suite left behind (only this prefix's namespaces)
"$mpnet" down --all >/dev/null 2>&1 || true
trap '"$mpnet" down --all >/dev/null 2>&1 || true' EXIT

median() { sort -n | awk '{a[NR]=$1} END {if (NR) print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
log() { printf '[%5.0f s] %s\n' "$(awk -v s="$t_start" -v e="$(date +%s.%N)" 'BEGIN{print e-s}')" "$*" >&2; }

# --- 1. orchestrator: `mpnet up`/`down` of a 64-host chain; kernel MPTCP, two-path.yaml
orch=$out/orchestrator
mkdir -p "$orch"
chain=$orch/chain64.yaml
bench/gen-chain.sh bench-c64 64 >"$chain"
: >"$orch/up64.txt"
: >"$orch/up64-after-down.txt"
: >"$orch/down64.txt"
: >"$orch/two-path.txt"
log "orchestrator: mpnet up/down of a 64-host chain, $RUNS run(s)"
for _ in $(seq "$RUNS"); do
	# cold: the kernel has finished destroying earlier namespaces (that work runs
	# asynchronously after a down and competes for the rtnl lock)
	sleep 3
	"$mpnet" up "$chain" | sed -n 's/.* in \([0-9.]*\) s$/\1/p' >>"$orch/up64.txt"
	s=$(date +%s.%N)
	"$mpnet" down "$chain" >/dev/null
	e=$(date +%s.%N)
	awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f\n", e - s }' >>"$orch/down64.txt"
	"$mpnet" up "$chain" | sed -n 's/.* in \([0-9.]*\) s$/\1/p' >>"$orch/up64-after-down.txt"
	"$mpnet" down "$chain" >/dev/null
done
log "orchestrator: kernel MPTCP on topologies/two-path.yaml (64 MiB), $RUNS run(s)"
for i in $(seq "$RUNS"); do
	"$mpnet" run topologies/two-path.yaml --out "$orch/two-path-$i" --quiet >/dev/null 2>&1 || true
	jq '.apps[0].goodput_mbps // empty' "$orch/two-path-$i/summary.json" >>"$orch/two-path.txt" 2>/dev/null || true
done
jq -n --arg runs "$RUNS" \
	--rawfile up "$orch/up64.txt" --rawfile upb "$orch/up64-after-down.txt" \
	--rawfile down "$orch/down64.txt" --rawfile tp "$orch/two-path.txt" '
	def nums: split("\n") | map(select(length > 0) | tonumber);
	{ runs: ($runs | tonumber), up64_cold_s: ($up | nums), up64_after_down_s: ($upb | nums),
	  down64_s: ($down | nums), two_path_kernel_mbps: ($tp | nums) }' >"$orch/orchestrator.json"

# --- 2. the cases
cases=()
declare -A case_runs
skipped_json='[]'
for tpl in bench/cases/*.yaml; do
	id=$(basename "$tpl" .yaml)
	kind=$(sed -n 's/^# kind: //p' "$tpl")
	quick=$(sed -n 's/^# quick: //p' "$tpl")
	title=$(sed -n 's/^# bench case: //p' "$tpl" | sed "s/@TRACE@/$TRACE/g")
	[ $QUICK = 1 ] && [ "$quick" != yes ] && continue
	if [ "$kind" = trace ] && ! { [ -r "$TRACES/$TRACE.up" ] && [ -r "$TRACES/$TRACE.down" ]; }; then
		skipped_json=$(jq -c --arg id "$id" --arg t "$title" \
			--arg why "no trace $TRACES/$TRACE.up|down (set BENCH_TRACES)" \
			'. + [{id: $id, title: $t, reason: $why}]' <<<"$skipped_json")
		log "skip $id: no trace $TRACES/$TRACE.up|down"
		continue
	fi
	cases+=("$id")
	cdir=$out/cases/$id
	mkdir -p "$cdir"
	read -r time runs <<<"$(case_plan "$tpl")"
	case_runs[$id]=$runs
	jq -n --arg id "$id" --arg title "$title" --arg kind "$kind" --arg time "$time" \
		--arg at "$HO_AT" --arg back "$HO_BACK" --arg runs "$runs" \
		'{id: $id, title: $title, kind: $kind, time: $time, runs: ($runs | tonumber)} +
		 (if $kind == "handover" then {event_at: $at, restore_at: $back} else {} end)' >"$cdir/case.json"
	for p in $PAIRINGS; do
		cs=${p%-*} ss=${p#*-} filt=cat
		if [ "$p" = tcp-best ]; then
			cs=tcp ss=tcp filt="sed /#[[:space:]]*alt\$/d"
		fi
		# one topology name for every case: only one is up at a time
		$filt "$tpl" | sed -e "s/@NAME@/bench-$p/" -e "s/@CS@/$cs/" -e "s/@SS@/$ss/" \
			-e "s/@TIME@/$time/" -e "s/@TIMEOUT@/$(awk -v t="${time%s}" -v g="$APP_GRACE_S" 'BEGIN { print t + g }')s/" \
			-e "s/@AT@/$HO_AT/" -e "s/@BACK@/$HO_BACK/" -e "s/@FLAP_AT@/$FLAP_AT/" -e "s/@FLAP_BACK@/$FLAP_BACK/" \
			-e "s|@TRACES@|$TRACES|g" -e "s/@TRACE@/$TRACE/g" >"$cdir/$p.yaml"
		"$mpnet" check "$cdir/$p.yaml" >"$cdir/$p.check" 2>&1 || {
			echo "bench/suite.sh: $cdir/$p.yaml does not load:" >&2
			cat "$cdir/$p.check" >&2
			exit 1
		}
	done
done

total_runs=0
for id in "${cases[@]}"; do total_runs=$((total_runs + ${case_runs[$id]} * 5)); done
n=0
for i in $(seq "$RUNS"); do
	for id in "${cases[@]}"; do
		[ "$i" -le "${case_runs[$id]}" ] || continue
		for p in $PAIRINGS; do
			n=$((n + 1))
			d=$out/cases/$id/$p/run-$i
			mkdir -p "$(dirname "$d")"
			rc=0
			"$mpnet" run "$out/cases/$id/$p.yaml" --out "$d" --quiet >"$d.log" 2>&1 || rc=$?
			echo "$rc" >"$d.rc"
			g=$(jq -r '.apps[0] | "\(.goodput_mbps // "-" | if type == "number" then (. * 10 | round / 10) else . end) Mbit/s verified \(.verified)"' \
				"$d/summary.json" 2>/dev/null || echo "no summary")
			log "$n/$total_runs $id $p run $i: rc $rc, $g"
			# a failed run may leave its namespaces behind
			[ "$rc" = 0 ] || "$mpnet" down --all >/dev/null 2>&1 || true
		done
	done
done

t_end=$(date +%s.%N)
jq -n --arg started "$started" --arg quick "$QUICK" --arg runs "$RUNS" \
	--arg total "$(awk -v s="$t_start" -v e="$t_end" 'BEGIN { printf "%.1f", e - s }')" \
	--arg cores "$(nproc)" --arg kernel "$(uname -r)" --arg pairings "$PAIRINGS" \
	--arg commit "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
	--arg traces "$TRACES" --argjson skipped "$skipped_json" \
	--arg t_steady "$T_STEADY" --arg t_ho "$T_HO" \
	'{ started: $started, quick: ($quick == "1"), runs: ($runs | tonumber),
	   total_s: ($total | tonumber), cores: ($cores | tonumber), kernel: $kernel,
	   commit: $commit, pairings: ($pairings | split(" ")), traces: $traces,
	   skipped: $skipped, durations: { steady: $t_steady, handover: $t_ho } }' >"$out/meta.json"
python3 bench/report.py "$out"
cat "$out/report.md"
echo "report: $out/report.md"
