#!/usr/bin/env bats
# Coupled congestion control against Linux in namespaces (RFC 6356's goals), on the
# shipped topologies/shared-bottleneck.yaml and topologies/congestion-balance.yaml:
# 30 s uploads, every byte verified by mpt-perf, goodput from summary.json.
load helpers

teardown() { cleanup_all; }

# Run topology $1 with host $2's line replaced by $3 (and the sed expression $4, if
# given, applied too); output dir in $out.
run_variant() { # file host line [sed]
	local f=$BATS_TEST_TMPDIR/v.yaml
	sed -E -e "s|^  $2: \{.*\}$|  $2: $3|" ${4:+-e "$4"} "$1" >"$f"
	grep -qF "  $2: $3" "$f"
	out=$BATS_TEST_TMPDIR/run-$RANDOM
	run "$MPNET" run "$f" --out "$out" --quiet
	assert_success
	run jq -r '[.apps[] | .verified] | all' "$out/summary.json"
	assert_output true
}

goodput() { # app
	jq -r --arg a "$1" '.apps[] | select(.name == $a) | .goodput_mbps' "$out/summary.json"
}

@test "do no harm: lia through a shared bottleneck takes about one TCP flow's share; uncoupled more" {
	local top=$BATS_TEST_DIRNAME/../../topologies/shared-bottleneck.yaml lia cub
	ratio() { awk -v m="$(goodput mptcp)" -v t="$(goodput tcp)" 'BEGIN { printf "%.2f", m / t }'; }
	# lia twice, the ratio over both (60 s of MPTCP against 60 s of TCP): one 30 s run
	# through this drop-tail queue ranged 0.63-1.86 (make bench-cc, CI runs)
	local m=0 t=0 i
	for i in 1 2; do
		run_variant "$top" mp "{ stack: mpt, congestion: lia }"
		echo "# libmpt lia, run $i: MPTCP $(goodput mptcp) Mbit/s, TCP $(goodput tcp) Mbit/s: ratio $(ratio)" >&3
		m=$(awk -v a="$m" -v b="$(goodput mptcp)" 'BEGIN { print a + b }')
		t=$(awk -v a="$t" -v b="$(goodput tcp)" 'BEGIN { print a + b }')
	done
	lia=$(awk -v m="$m" -v t="$t" 'BEGIN { printf "%.2f", m / t }')
	echo "# libmpt lia, both runs: ratio $lia" >&3
	run_variant "$top" mp "{ stack: mpt, congestion: cubic }"
	cub=$(ratio)
	echo "# libmpt uncoupled cubic: MPTCP $(goodput mptcp) Mbit/s, TCP $(goodput tcp) Mbit/s: ratio $cub" >&3
	# Linux's MPTCP (uncoupled cubic per subflow) in this topology: 0.93 to 1.73, not the
	# 2 its per-subflow CUBIC would suggest (its subflows' packets dropped 1.7-4x as often
	# as the TCP flow's by the 100-packet drop-tail queue); measured by make bench-cc, not
	# here (it asserted nothing and took 30 s).  With CoDel at the bottleneck it gets
	# about 2 (the CoDel test below; README.md, "Coupled congestion control against Linux").
	run awk -v r="$lia" 'BEGIN { exit !(r >= 0.6 && r <= 1.4) }'
	assert_success
	# uncoupled takes more (measured 1.59-2.36 against lia's 0.75-1.25): the direction
	# only, as the runs are 30 s on a shared machine
	run awk -v l="$lia" -v c="$cub" 'BEGIN { exit !(c > l) }'
	assert_success
}

@test "balance congestion: olia and lia leave most of the shared path to TCP and fill the free path" {
	# The order against uncoupled cubic is asserted in virtual time, where a seed fixes
	# it (tests/unit/test_cc_bottleneck.c, cc_balance_*: cubic 5.0 Mbit/s of the shared
	# path, lia 2.1, olia 1.0).  Here one 30 s run per controller through this
	# drop-tail queue is too noisy to order them: the shared path's MPTCP rate ranged
	# 1.1-3.3 Mbit/s for cubic (median 3.0, its fair third is 3.3), 0.6-1.9 for lia and
	# 0.5-2.2 for olia (make bench-cc and CI runs; a CI run failed the old assertion,
	# TCP goodput 1.1 x cubic's, with lia at 1.09 x).  So: each fills the free path, and
	# the two coupled ones together take at most 3/4 of an uncoupled flow's third.
	local top=$BATS_TEST_DIRNAME/../../topologies/congestion-balance.yaml cc ma mb sum=0
	for cc in olia lia; do
		run_variant "$top" m "{ stack: mpt, congestion: $cc }"
		# the MPTCP app's bytes over each path (links ma, mb), as Mbit/s over the run
		ma=$(awk -F, '$2 == "mptcp" && $3 == "subflow_acked" && $4 == "ma" { n += $5 } END { printf "%.2f", n * 8 / 30 / 1e6 }' \
			"$out/timeseries.csv")
		mb=$(awk -F, '$2 == "mptcp" && $3 == "subflow_acked" && $4 == "mb" { n += $5 } END { printf "%.2f", n * 8 / 30 / 1e6 }' \
			"$out/timeseries.csv")
		echo "# $cc: TCP flows $(goodput tcp1) + $(goodput tcp2) Mbit/s, MPTCP $(goodput mptcp) Mbit/s: $ma on the shared path, $mb on the free one" >&3
		run awk -v m="$mb" 'BEGIN { exit !(m >= 7) }'
		assert_success
		sum=$(awk -v a="$sum" -v b="$ma" 'BEGIN { print a + b }')
	done
	run awk -v s="$sum" 'BEGIN { exit !(s / 2 <= 2.5) }'
	assert_success
}

@test "do no harm with CoDel at the bottleneck: Linux's uncoupled MPTCP takes more than libmpt's lia" {
	# The drop-tail queue of shared-bottleneck.yaml drops the kernel's subflows' packets
	# more often than the TCP flow's (its ratio 0.93-1.73, libmpt lia's 0.67-1.86: no
	# reliable order); with CoDel the drops follow each flow's share of the queue.
	# Measured with CoDel (30 s runs): kernel 1.64, 1.83, 1.84, 1.90, 1.93, 2.04, 2.33;
	# lia 1.03, 1.04, 1.06, 1.09, 1.14, 1.20, 1.50.
	local top=$BATS_TEST_DIRNAME/../../topologies/shared-bottleneck.yaml lia kern
	local codel='s/queue: 100 \}/queue: { limit: 100, codel: true } }/'
	ratio() { awk -v m="$(goodput mptcp)" -v t="$(goodput tcp)" 'BEGIN { printf "%.2f", m / t }'; }
	run_variant "$top" mp "{ stack: mpt, congestion: lia }" "$codel"
	grep -q "name: bneck, .*codel: true" "$BATS_TEST_TMPDIR/v.yaml"
	lia=$(ratio)
	echo "# CoDel, libmpt lia: MPTCP $(goodput mptcp) Mbit/s, TCP $(goodput tcp) Mbit/s: ratio $lia" >&3
	run_variant "$top" mp "{ stack: kernel, congestion: cubic }" "$codel"
	kern=$(ratio)
	echo "# CoDel, Linux MPTCP: MPTCP $(goodput mptcp) Mbit/s, TCP $(goodput tcp) Mbit/s: ratio $kern" >&3
	run awk -v l="$lia" -v k="$kern" 'BEGIN { exit !(k > l && k >= 1.3) }'
	assert_success
}
