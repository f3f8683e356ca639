#!/usr/bin/env bash
# libmpt -> Linux TCP vs Linux TCP -> Linux TCP: goodput (median of RUNS) and CPU
# seconds per GB moved (user + sys of each mpt-perf process, from its -J "cpu", and
# the whole machine's busy time over the transfer from /proc/stat),
# on an unshaped veth link and on a 40 ms RTT path with 1% random loss on the data
# direction (the userspace link emulator).  Not a test: it prints a table and
# writes results/libmpt-vs-kernel-<UTC timestamp>/.
#
#   sudo bench/libmpt-vs-kernel.sh            # RUNS=3 BYTES=512MiB LOSSY_TIME=20
#   CC=reno CASES=lossy sudo -E bench/libmpt-vs-kernel.sh
#
# CC is both senders' congestion control (mpt-perf -C; default cubic, libmpt's
# default, so the comparison is like for like; reno = libmpt's newreno).
# KERNEL_CC overrides the Linux sender's alone (e.g. KERNEL_CC=bbr, this system's
# default, which does not back off on random loss).  CASES picks "unshaped",
# "lossy" or both.
#
# In the lossy case the Linux sender's TSO/GSO are turned off, so the emulator
# loses its segments one by one, as it does libmpt's (a 64 KiB super-frame would
# otherwise count as one packet for the loss process).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
BYTES=${BYTES:-512MiB}
LOSSY_TIME=${LOSSY_TIME:-20}
CC=${CC:-cubic}
KERNEL_CC=${KERNEL_CC:-$CC}
CASES=${CASES:-unshaped lossy}
out=results/libmpt-vs-kernel-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
mpnet=$PWD/build/bin/mpnet
perf=$PWD/build/bin/mpt-perf
T=bench-lvk
NSP=${NSP:-mpn} # namespace prefix of the mpnet build in use

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

topo() { # file link-settings
	cat >"$1" <<-Y
	name: $T
	hosts:
	  m: { stack: mpt }
	  k: { stack: tcp }
	  a: { stack: tcp }
	  b: { stack: tcp }
	links:
	  - { name: l0, between: [m, k]${2:+, $2} }
	  - { name: l1, between: [a, b]${2:+, $2} }
	Y
}

# seconds of CPU the whole machine spent busy so far (user, nice, system, irq,
# softirq, steal of /proc/stat's "cpu" line): counts what the kernel does for both
# ends in softirq context, which no process's own CPU time shows
machine_busy_s() {
	awk -v hz="$(getconf CLK_TCK)" '$1 == "cpu" { print ($2 + $3 + $4 + $7 + $8 + $9) / hz; exit }' /proc/stat
}

# one transfer: case pair run client-host client-stack server-host server-addr args...
one() {
	local tag=$1 ch=$2 cs=$3 sh=$4 addr=$5
	shift 5
	local sj=$out/$tag.server.json cj=$out/$tag.client.json ready=$out/$tag.ready
	rm -f "$ready"
	ip netns exec "$NSP-$T-$sh" "$perf" -s --once --stack tcp -J --ready-fd 3 3>"$ready" >"$sj" &
	for _ in $(seq 100); do grep -q ready "$ready" 2>/dev/null && break; sleep 0.05; done
	local busy0 busy1
	busy0=$(machine_busy_s)
	ip netns exec "$NSP-$T-$ch" "$perf" -c "$addr" --stack "$cs" -J -i 0 "$@" >"$cj"
	busy1=$(machine_busy_s)
	wait
	jq -e '.verified' "$cj" >/dev/null || { echo "unverified transfer $tag" >&2; return 1; }
	# goodput; sender, receiver and whole-machine CPU seconds per GB (1e9 bytes)
	jq -r --slurpfile s "$sj" --argjson busy "$(awk -v a="$busy0" -v b="$busy1" 'BEGIN { print b - a }')" \
		'[.goodput_mbps, (.cpu.user_s + .cpu.sys_s) / (.bytes / 1e9),
		  ($s[0].cpu.user_s + $s[0].cpu.sys_s) / (.bytes / 1e9), $busy / (.bytes / 1e9)] | @tsv' "$cj"
}

run_case() { # name link-settings client-args...
	local name=$1 link=$2
	shift 2
	topo "$out/$name.yaml" "$link"
	"$mpnet" up "$out/$name.yaml" >/dev/null
	if [ -n "$link" ]; then
		ip netns exec "$NSP-$T-a" ethtool -K l1 tso off gso off >/dev/null 2>&1 || true
	fi
	for pair in libmpt kernel; do
		: >"$out/$name-$pair.tsv"
		for i in $(seq "$RUNS"); do
			if [ $pair = libmpt ]; then
				one "$name-$pair-$i" m mpt k 198.18.0.2 -C "$CC" "$@" >>"$out/$name-$pair.tsv"
			else
				one "$name-$pair-$i" a tcp b 198.18.1.2 -C "$KERNEL_CC" "$@" >>"$out/$name-$pair.tsv"
			fi
		done
		printf '%-34s %10.1f %14.2f %14.2f %16.2f\n' "$name: $pair -> kernel" \
			"$(cut -f1 "$out/$name-$pair.tsv" | median)" \
			"$(cut -f2 "$out/$name-$pair.tsv" | median)" \
			"$(cut -f3 "$out/$name-$pair.tsv" | median)" \
			"$(cut -f4 "$out/$name-$pair.tsv" | median)" | tee -a "$out/report.txt"
	done
	"$mpnet" down "$out/$name.yaml" >/dev/null
}

echo "# sender congestion control: libmpt $CC, kernel $KERNEL_CC" |
	tee "$out/report.txt"
printf '%-34s %10s %14s %14s %16s\n' "case (median of $RUNS)" "Mbit/s" "snd CPU s/GB" "rcv CPU s/GB" \
	"machine CPU s/GB" |
	tee -a "$out/report.txt"
case " $CASES " in *" unshaped "*) run_case unshaped "" -n "$BYTES" ;; esac
case " $CASES " in *" lossy "*) run_case lossy "up: { delay: 20ms, loss: 1% }, down: { delay: 20ms }" -t "$LOSSY_TIME" ;; esac
echo "# written to $out" >&2
