#!/usr/bin/env bash
# Run the test suites and end with one line: "N passed, N failed[, N skipped]".
# Usage: ci/run-tests.sh all|quick|unit|asan|core|integrity|fuzz|bats [bats files...]
# Every suite speaks TAP; this script only counts, it never hides a failure.
set -uo pipefail
cd "$(dirname "$0")/.."
mode=${1:-all}
shift || true
BUILD=${BUILD:-build}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0

run_suite() { # name, command...
	local name=$1
	shift
	echo "# --- $name" | tee -a "$log"
	"$@" 2>&1 | tee -a "$log"
	local rc=${PIPESTATUS[0]}
	if [ "$rc" -ne 0 ]; then
		status=1
		# A suite that crashed before printing its failures still counts as one.
		if ! grep -q '^not ok' <(sed -n "/^# --- $name\$/,\$p" "$log"); then
			echo "not ok - $name exited with status $rc" | tee -a "$log"
		fi
	fi
}

run_format() {
	echo "# --- format"
	local out
	if out=$(clang-format --dry-run --Werror $(git ls-files '*.c' '*.h') 2>&1); then
		echo "ok - clang-format: every C file matches .clang-format" | tee -a "$log"
	else
		echo "$out" | head -20
		echo "not ok - clang-format: run make format" | tee -a "$log"
		status=1
	fi
}

run_bats() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "not ok - bats suites need root (network namespaces); run make test as root" | tee -a "$log"
		status=1
		return
	fi
	local files=("$@")
	[ ${#files[@]} -gt 0 ] || files=(tests/bats/*.bats)
	local filter=()
	[ "$mode" = quick ] && filter=(--filter-tags '!slow')
	echo "# --- bats"
	bats --tap --timing "${filter[@]}" "${files[@]}" 2>&1 | tee -a "$log"
	[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
}

# libmpt's core needs nothing outside stack/core-symbols.allow (no clock, socket,
# random, stdio), and the check itself still fails on an object that reads the clock.
run_core_symbols() {
	echo "# --- core symbols"
	ci/core-symbols.sh stack/core-symbols.allow "$BUILD/lib/libmpt-core.a" 2>&1 | tee -a "$log"
	[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
	local d out
	d=$(mktemp -d)
	printf '#include <string.h>\n#include <time.h>\nlong f(void *a, struct timespec *t);\n%s\n' \
		'long f(void *a, struct timespec *t) { memset(a, 0, 4); return clock_gettime(CLOCK_MONOTONIC, t); }' \
		>"$d/clk.c"
	if ${CC:-cc} -c -o "$d/clk.o" "$d/clk.c" &&
		! out=$(ci/core-symbols.sh stack/core-symbols.allow "$d/clk.o") &&
		grep -q '^not ok - core symbols: .*clock_gettime' <<<"$out" && ! grep -q memset <<<"$out"; then
		echo "ok - core symbols: the check rejects an object calling clock_gettime" | tee -a "$log"
	else
		echo "$out"
		echo "not ok - core symbols: the check passed an object calling clock_gettime" | tee -a "$log"
		status=1
	fi
	rm -rf "$d"
}

# 100 seeded adversarial two-path transfers in virtual time (tests/integrity).
run_integrity() {
	run_suite integrity "$BUILD/tests/integrity" --runs "${INTEGRITY_RUNS:-100}"
}

# Each fuzz target replays its committed corpus and fuzzes briefly (~60 s in all).
run_fuzz_smoke() {
	local targets=()
	for b in "$BUILD"/fuzz/bin/fuzz_*; do
		[ -x "$b" ] && targets+=("$(basename "$b")")
	done
	if [ ${#targets[@]} -eq 0 ]; then
		echo "not ok - fuzz: no targets built (make fuzz-build)" | tee -a "$log"
		status=1
		return
	fi
	run_suite fuzz env BUILD="$BUILD" FUZZ_TIME="${FUZZ_SMOKE:-30}" tests/fuzz/run.sh smoke \
		"${targets[@]}"
}

case "$mode" in
unit) run_suite unit "$BUILD/tests/unit-tests" ;;
asan) run_suite asan env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 "$BUILD/asan/tests/unit-tests" ;;
bats) run_bats "$@" ;;
integrity) run_integrity ;;
core) run_core_symbols ;;
fuzz) run_fuzz_smoke ;;
all | quick)
	# all: the unit tests run once, under ASan+UBSan (the same tests with the checks;
	# the plain build's run added 50 s and nothing the sanitized run misses); quick
	# runs both
	[ "$mode" = quick ] && run_suite unit "$BUILD/tests/unit-tests"
	run_suite asan env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 "$BUILD/asan/tests/unit-tests"
	if [ "$mode" = all ]; then
		run_integrity
		run_fuzz_smoke
	fi
	run_core_symbols
	run_format
	run_bats
	;;
*) echo "usage: $0 all|quick|unit|asan|core|integrity|fuzz|bats" >&2; exit 2 ;;
esac

passed=$(grep -E '^ok ' "$log" | grep -vEc '# (skip|SKIP)')
skipped=$(grep -E '^ok ' "$log" | grep -Ec '# (skip|SKIP)')
failed=$(grep -Ec '^not ok' "$log")
[ "$failed" -eq 0 ] || status=1
line="$passed passed, $failed failed"
[ "$skipped" -eq 0 ] || line="$line, $skipped skipped"
echo "$line"
exit $status
