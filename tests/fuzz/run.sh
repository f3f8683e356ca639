#!/usr/bin/env bash
# Run the libFuzzer targets built by `make fuzz-build` (build/fuzz/bin/fuzz_*).
#   run.sh smoke TARGET...  replay each committed corpus (tests/fuzz/corpus/TARGET),
#                           then fuzz FUZZ_TIME seconds; one TAP line per target
#   run.sh found TARGET...  replay tests/fuzz/crashes-found/TARGET-* (a fix makes them pass)
#   run.sh fuzz TARGET...   fuzz each FUZZ_TIME seconds (default 60), going on after
#                           crashes; the corpus grows in build/fuzz/corpus/TARGET,
#                           reproducers land in build/fuzz/crashes/TARGET/
# Single process per target, under nice (the machine is shared).
set -uo pipefail
cd "$(dirname "$0")/../.."
mode=$1
shift
BUILD=${BUILD:-build}
FUZZ_TIME=${FUZZ_TIME:-60}
status=0

# fuzz-smoke's runs per target: about 8 s on these 2-core machines.  A count, not a
# time: with a fixed seed the smoke runs the same inputs on every machine, however
# fast, so CI's verdict is the one a developer gets (FUZZ_TIME caps a slow machine;
# stopping early can only run fewer inputs, never other ones).
smoke_runs() {
	case $1 in
	fuzz_sim) echo 700 ;;
	fuzz_estab) echo 800 ;;
	fuzz_emu | fuzz_listen) echo 40000 ;;
	fuzz_topology) echo 150000 ;;
	fuzz_opts) echo 2000000 ;;
	*) echo 1000 ;;
	esac
}

max_len() {
	case $1 in
	fuzz_opts) echo 64 ;;
	fuzz_sim) echo 1024 ;;
	fuzz_topology | fuzz_emu) echo 4096 ;;
	*) echo 2048 ;;
	esac
}

for t in "$@"; do
	bin=$BUILD/fuzz/bin/$t
	seeds=tests/fuzz/corpus/$t
	crashes=$BUILD/fuzz/crashes/$t
	log=$BUILD/fuzz/$t.log
	mkdir -p "$crashes" "$seeds"
	opts=(-max_len="$(max_len "$t")" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1
		-artifact_prefix="$crashes/")
	export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	case $mode in
	smoke)
		work=$(mktemp -d)
		nseeds=$(find "$seeds" -type f | wc -l)
		# 1. every committed input must pass as it is
		if ! nice "$bin" "${opts[@]}" -runs=0 "$seeds" >"$log" 2>&1; then
			echo "not ok - $t: a committed corpus input fails (see $log)"
			grep -E 'ERROR|FUZZ_ASSERT|runtime error' "$log" | head -3 | sed 's/^/# /'
			status=1
			rm -rf "$work"
			continue
		fi
		# 2. a short run from it
		# a fixed seed and a fixed number of runs: the same inputs in the same order
		# on every machine (a CI run is repeatable; `make fuzz` explores at random).
		# -use_cmp=0: the comparison traces made two runs of fuzz_sim with one seed
		# keep different corpora; without them the stack targets repeat exactly.
		runs=${FUZZ_RUNS:-$(smoke_runs "$t")}
		if nice "$bin" "${opts[@]}" -seed="${FUZZ_SEED:-1}" -runs="$runs" -use_cmp=0 \
			-max_total_time="$FUZZ_TIME" "$work" "$seeds" >>"$log" 2>&1; then
			execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')
			echo "ok - $t: $nseeds corpus inputs replayed, ${execs:-?} of $runs runs fuzzing (seed ${FUZZ_SEED:-1})"
		else
			echo "not ok - $t: fuzzing (seed ${FUZZ_SEED:-1}, $runs runs) found a failure; reproducer in $crashes/ (log $log)"
			grep -E 'ERROR|FUZZ_ASSERT|runtime error|adv_sim' "$log" | head -3 | sed 's/^/# /'
			status=1
		fi
		rm -rf "$work"
		;;
	fuzz)
		corpus=$BUILD/fuzz/corpus/$t
		mkdir -p "$corpus"
		echo "# $t: fuzzing ${FUZZ_TIME}s (corpus $corpus, crashes $crashes/, log $log)"
		nice "$bin" "${opts[@]}" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
			-max_total_time="$FUZZ_TIME" "$corpus" "$seeds" >"$log" 2>&1
		n=$(find "$crashes" -type f | wc -l)
		echo "# $t: $(find "$corpus" -type f | wc -l) corpus inputs, $n reproducers in $crashes/"
		[ "$n" -eq 0 ] || status=1
		;;
	found)
		# replay the reproducers kept in tests/fuzz/crashes-found/TARGET-*
		for f in tests/fuzz/crashes-found/"$t"-*; do
			[ -f "$f" ] || continue
			if nice "$bin" "$f" >"$log" 2>&1; then
				echo "ok - $t: $(basename "$f") passes now"
			else
				echo "not ok - $t: $(basename "$f") still fails"
				grep -E 'FUZZ_ASSERT|ERROR: Addr|runtime error|mpt_sim:' "$log" | head -2 |
					cut -c1-200 | sed 's/^/# /'
				status=1
			fi
		done
		;;
	*)
		echo "usage: $0 smoke|fuzz|found TARGET..." >&2
		exit 2
		;;
	esac
done
exit $status
