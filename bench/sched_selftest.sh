#!/usr/bin/env bash
# bench/sched.sh --self-test: render the canned results tree bench/testdata/sched-mini
# (asym-rtt; kernel -> kernel and two libmpt schedulers; two runs each; receive
# buffers large (bulk, rr, stream) and small (bulk, rr), one small run failed) with
# bench/sched_report.py into a temporary copy and check its tables; then the same
# tree's large level alone, laid out as before the buffer level (DIR/<paths>/...).
# No root, no namespaces; a second or so.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r bench/testdata/sched-mini "$tmp/"
python3 bench/sched_report.py "$tmp/sched-mini" >/dev/null
md=$tmp/sched-mini/report.md
fails=0
want() { # a line (fixed string) the report must contain
	if ! grep -qxF -- "$1" "$md"; then
		echo "sched self-test: missing line: $1" >&2
		fails=$((fails + 1))
	fi
}
want "## large receive buffers: the stacks' defaults: kernel receive autotuning (net.ipv4.tcp_rmem), libmpt 4 MiB"
want "## small receive buffers: rcvbuf: 64KiB on both ends (kernel: SO_RCVBUF, autotuning off; libmpt: its receive buffer)"
want '### large buffers, asym-rtt: 20 Mbit/s 10 ms RTT + 5 Mbit/s 100 ms RTT'
want '| row | runs ok (bulk, rr, stream) | client rcvbuf KiB | bulk Mbit/s | rr p50 ms | rr p95 ms | rr p99 ms | stream p50 ms | stream p95 ms | stream p99 ms | stream stalls |'
want '| kernel -> kernel (Linux'"'"'s scheduler) | 6/6 | 128–6144 | 25.5 (25.0–26.0) | 75 (70–80) | 150 (140–160) | 225 (210–240) | 32 (31–32) | 52 (51–52) | 72 (71–72) | 0 (0–1) |'
want '| libmpt default -> kernel | 6/6 | 128–6144 | 23.5 (23.0–24.0) | 95 (90–100) | 190 (180–200) | 285 (270–300) | 42 (41–42) | 92 (91–92) | 122 (121–122) | 2 (1–2) |'
# the small level ran no stream: no stream columns; its failed run is counted, not averaged
want '| row | runs ok (bulk, rr) | client rcvbuf KiB | bulk Mbit/s | rr p50 ms | rr p95 ms | rr p99 ms |'
want '| libmpt blest -> kernel | 3/4 | 128 | 12.5 | 155 (150–160) | 310 (300–320) | 465 (450–480) |'
want '| kernel -> kernel (Linux'"'"'s scheduler) | 4/4 | 128 | 13.5 (13.0–14.0) | 135 (130–140) | 270 (260–280) | 405 (390–420) |'
want '| paths | row | bulk Mbit/s large | bulk Mbit/s small | rr p95 ms large | rr p95 ms small |'
want '| asym-rtt | libmpt default -> kernel | 23.5 | 12.5 (0.53x) | 190 | 350 (1.84x) |'
grep -qF 'Failed runs: small asym-rtt bulk libmpt blest -> kernel run-2: not verified' "$md" ||
	{ echo "sched self-test: the failed run is not listed" >&2; fails=$((fails + 1)); }
python3 - "$tmp/sched-mini/report.json" <<'PY' || fails=$((fails + 1))
import json, sys
r = json.load(open(sys.argv[1]))
assert set(r["buffers"]) == {"large", "small"}, r["buffers"].keys()
assert r["buffers"]["small"]["asym-rtt"]["mpt-kernel-blest"]["goodput_mbps"]["runs"] == [12.5]
assert "stream_p50_ms" not in r["buffers"]["small"]["asym-rtt"]["kernel-kernel"]
assert len(r["failed"]) == 1
PY
if command -v gnuplot >/dev/null; then
	for p in cdf-large-asym-rtt.png cdf-small-asym-rtt.png; do
		[ -s "$tmp/sched-mini/$p" ] || { echo "sched self-test: no $p" >&2; fails=$((fails + 1)); }
	done
fi
# a tree from before the buffer level: read as one level, large; no comparison
mkdir "$tmp/old"
cp -r "$tmp/sched-mini/large/asym-rtt" "$tmp/old/"
python3 bench/sched_report.py "$tmp/old" >/dev/null
md=$tmp/old/report.md
want '| libmpt default -> kernel | 6/6 | 128–6144 | 23.5 (23.0–24.0) | 95 (90–100) | 190 (180–200) | 285 (270–300) | 42 (41–42) | 92 (91–92) | 122 (121–122) | 2 (1–2) |'
if grep -q 'small vs large' "$md"; then
	echo "sched self-test: a one-level tree got a comparison" >&2
	fails=$((fails + 1))
fi
if [ $fails -gt 0 ]; then
	echo "sched self-test: $fails checks failed" >&2
	exit 1
fi
echo "bench-sched self-test: ok"
