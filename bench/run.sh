#!/usr/bin/env bash
# make bench: the benchmarks that exist so far, medians of several runs, into
# results/bench-<UTC timestamp>/report.md.  (The side-by-side libmpt/kernel suite
# grows here; see the issues.)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
out=results/bench-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
mpnet=build/bin/mpnet

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# 1. Time of `mpnet up` for a 64-host chain (goal < 2 s).
chain=$out/chain64.yaml
bench/gen-chain.sh bench-c64 64 >"$chain"
: >"$out/up64.txt"
: >"$out/up64-after-down.txt"
: >"$out/down64.txt"
for _ in $(seq "$RUNS"); do
	# cold: the kernel has finished destroying earlier namespaces (that work runs
	# asynchronously after a down and competes for the rtnl lock)
	sleep 3
	$mpnet up "$chain" | sed -n 's/.* in \([0-9.]*\) s$/\1/p' >>"$out/up64.txt"
	s=$(date +%s.%N)
	$mpnet down "$chain" >/dev/null
	e=$(date +%s.%N)
	awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f\n", e - s }' >>"$out/down64.txt"
	# right after a down
	$mpnet up "$chain" | sed -n 's/.* in \([0-9.]*\) s$/\1/p' >>"$out/up64-after-down.txt"
	$mpnet down "$chain" >/dev/null
done
up64=$(median <"$out/up64.txt")
up64b=$(median <"$out/up64-after-down.txt")
down64=$(median <"$out/down64.txt")

# 2. Kernel <-> kernel MPTCP goodput on two-path.yaml.
: >"$out/two-path.txt"
for i in $(seq "$RUNS"); do
	$mpnet run topologies/two-path.yaml --out "$out/two-path-$i" --quiet || true
	jq '.apps[0].goodput_mbps' "$out/two-path-$i/summary.json" >>"$out/two-path.txt"
done
tp=$(median <"$out/two-path.txt")

cat >"$out/report.md" <<R
# mpnet benchmarks, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, kernel $(uname -r)

| what | median of $RUNS | runs |
|---|---|---|
| \`mpnet up\`, 64-host chain (63 links), cold | ${up64} s | $(paste -sd' ' "$out/up64.txt") |
| \`mpnet up\`, same, right after a \`down\` | ${up64b} s | $(paste -sd' ' "$out/up64-after-down.txt") |
| \`mpnet down\`, same | ${down64} s | $(paste -sd' ' "$out/down64.txt") |
| kernel <-> kernel MPTCP, two-path.yaml (50 + 20 Mbit/s) | ${tp} Mbit/s | $(paste -sd' ' "$out/two-path.txt") |
R
cat "$out/report.md"
echo "report: $out/report.md"
