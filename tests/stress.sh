#!/usr/bin/env bash
# Run Bats files again and again and count their failures (make stress; root; not in
# CI).  Meant for the files whose cases use a Linux MPTCP peer (tests/bats/libmpt_*),
# where a rare verification failure only shows over many runs.
# Usage: STRESS_RUNS=20 tests/stress.sh FILE.bats...
# STRESS_FILTER: only the cases whose name matches (bats --filter); a failing run's
# TAP output is kept in STRESS_KEEP (default /tmp).
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${STRESS_RUNS:-20}
[ $# -gt 0 ] || set -- tests/bats/libmpt_*.bats
log=$(mktemp)
trap 'rm -f "$log"' EXIT
total_fail=0
for f in "$@"; do
	fails=0 cases=0 start=$SECONDS
	for i in $(seq 1 "$runs"); do
		t=$SECONDS
		bats --tap ${STRESS_FILTER:+--filter "$STRESS_FILTER"} "$f" >"$log" 2>&1
		n=$(grep -c '^not ok' "$log")
		c=$(grep -Ec '^(not )?ok' "$log")
		cases=$((cases + c))
		echo "# $f run $i: $((c - n)) of $c cases ok, $((SECONDS - t)) s"
		if [ "$n" -gt 0 ]; then
			fails=$((fails + n))
			grep '^not ok' "$log" | sed 's/^/#   /'
			cp "$log" "${STRESS_KEEP:-/tmp}/stress-$(basename "$f" .bats)-run$i.tap"
		fi
	done
	echo "# $f: $fails failures in $cases cases over $runs runs, $((SECONDS - start)) s"
	if [ "$fails" -eq 0 ]; then
		echo "ok - stress $f: $runs runs, no failure"
	else
		echo "not ok - stress $f: $fails failures in $runs runs"
	fi
	total_fail=$((total_fail + fails))
done
echo "# stress: $total_fail failures in all"
[ "$total_fail" -eq 0 ]
