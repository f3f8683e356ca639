#!/usr/bin/env bash
# bench/suite.sh --self-test: render the canned results tree bench/testdata/mini
# (two cases, five pairings, two runs each; failed runs; a handover record with a
# null t90, one with a restore; a skipped trace case) with bench/report.py into a temporary copy and
# check the tables.  No root, no namespaces; a second or so.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r bench/testdata/mini "$tmp/"
python3 bench/report.py "$tmp/mini"
md=$tmp/mini/report.md
fails=0
want() { # a line (fixed string) the report must contain
	if ! grep -qxF -- "$1" "$md"; then
		echo "self-test: missing line: $1" >&2
		fails=$((fails + 1))
	fi
}
want_re() { # a regular expression some line must match
	if ! grep -qE -- "$1" "$md"; then
		echo "self-test: no line matches: $1" >&2
		fails=$((fails + 1))
	fi
}
want '| `mpnet up`, 64-host chain (63 links), cold | 1.300 s | 1.200 1.400 |'
want '| kernel <-> kernel MPTCP, two-path.yaml (50 + 20 Mbit/s, 64 MiB) | 62.0 Mbit/s | 60.0 64.0 |'
want '| case | libmpt -> kernel | kernel -> libmpt | kernel -> kernel | libmpt -> libmpt | TCP, best single path |'
want '| [01-steady](#01-steady) | 42.0 (0.47x) | 30.0 (0.33x) | 90.0 | FAILED | 45.0 (0.50x) [1 failed] |'
want '| [02-ho](#02-ho) | 21.0 (0.42x) | 21.0 (0.42x) | 50.0 | 19.0 (0.38x) | 18.0 (0.36x) |'
want '| libmpt -> kernel | 2/2 | 42.0 (40.0–44.0) | 0.47 | 2.0 | 1.00 | 2.00 | 2.0/1.0 | – |'
want '| libmpt -> libmpt | 0/2 | **FAILED** | – | – | – | – | 2.0/4.0 | – |'
want '| TCP, best single path | 1/2 | 45.0 | 0.50 | 2.0 | 1.00 | 2.00 | 1.0/1.0 | – |'
want '| kernel -> kernel | 2/2 | 50.0 | 1.00 | 2.0 | 1.00 | 2.00 | 1.0/1.0 | blackhole wifi | 315 (310–320) | 200 | 900 | 500 | 1.50 (1.00–2.00) | – |'
want '| libmpt -> libmpt | 2/2 | 19.0 | 0.38 | 2.0 | 1.00 | 2.00 | 2.0/4.0 | blackhole wifi | 315 (310–320) | 200 | – [2 null] | 500 | – | – |'
want_re '^Failed runs: libmpt -> libmpt run-1: failed, mpnet exit 1, not verified, client exit 1; .*TCP, best single path run-2: '
want_re '^- \*\*Skipped\*\* `99-trace` .*no trace /nonexistent/X\.up\|down'
want_re '^- \*\*libmpt is multipath MPTCP\*\*'
want_re 'measured total time 12 s'
# report.json: the same numbers, machine-readable
jq -e '.cases | length == 2' "$tmp/mini/report.json" >/dev/null || { echo "self-test: report.json cases" >&2; fails=$((fails + 1)); }
jq -e '.cases[0].pairings["mpt-mpt"] | .ok == 0 and (.failed | length) == 2' "$tmp/mini/report.json" >/dev/null ||
	{ echo "self-test: report.json failed runs" >&2; fails=$((fails + 1)); }
jq -e '.cases[0].pairings["kernel-kernel"].goodput_mbps | .median == 90 and .min == 80 and .max == 100' "$tmp/mini/report.json" >/dev/null ||
	{ echo "self-test: report.json goodput" >&2; fails=$((fails + 1)); }
if [ $fails -gt 0 ]; then
	echo "--- report.md:" >&2
	cat "$md" >&2
	echo "self-test: $fails check(s) failed" >&2
	exit 1
fi
echo "bench self-test: ok"
