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

@test "do no harm with CoDel at the bottleneck: lia takes about one TCP flow's share, libmpt's uncoupled cubic and Linux's MPTCP more" {
	# topologies/shared-bottleneck.yaml as shipped (a 100-packet drop-tail queue) gives
	# no reliable order in one 30 s run: MPTCP/TCP goodput ranged 0.63-1.86 for libmpt's
	# lia, 1.24-1.63 for its uncoupled cubic and 0.93-1.73 for Linux's MPTCP (make
	# bench-cc and CI runs; this file's drop-tail test failed a CI with cubic at 1.28
	# against lia's 1.08), as the queue drops one flow's packets in bursts.  With CoDel
	# the drops follow each flow's share of the queue: lia 0.98-1.50, libmpt cubic
	# 1.76-2.10, Linux 1.64-2.33 (30 s runs).  The drop-tail medians are make bench-cc's;
	# the order at a drop-tail queue, seeded, is the unit tests' (cc_bottleneck_*).
	local top=$BATS_TEST_DIRNAME/../../topologies/shared-bottleneck.yaml lia cub kern
	local codel='s/queue: 100 \}/queue: { limit: 100, codel: true } }/'
	ratio() { awk -v m="$(goodput mptcp)" -v t="$(goodput tcp)" 'BEGIN { printf "%.2f", m / t }'; }
	run_variant "$top" mp "{ stack: mpt, congestion: lia }" "$codel"
	grep -q "name: bneck, .*codel: true" "$BATS_TEST_TMPDIR/v.yaml"
	lia=$(ratio)
	echo "# CoDel, libmpt lia: MPTCP $(goodput mptcp) Mbit/s, TCP $(goodput tcp) Mbit/s: ratio $lia" >&3
	run_variant "$top" mp "{ stack: mpt, congestion: cubic }" "$codel"
	cub=$(ratio)
	echo "# CoDel, libmpt uncoupled cubic: MPTCP $(goodput mptcp) Mbit/s, TCP $(goodput tcp) Mbit/s: ratio $cub" >&3
	run_variant "$top" mp "{ stack: kernel, congestion: cubic }" "$codel"
	kern=$(ratio)
	echo "# CoDel, Linux MPTCP: MPTCP $(goodput mptcp) Mbit/s, TCP $(goodput tcp) Mbit/s: ratio $kern" >&3
	run awk -v l="$lia" 'BEGIN { exit !(l >= 0.7 && l <= 1.6) }'
	assert_success
	run awk -v l="$lia" -v c="$cub" 'BEGIN { exit !(c > l && c >= 1.3) }'
	assert_success
	run awk -v l="$lia" -v k="$kern" 'BEGIN { exit !(k > l && k >= 1.3) }'
	assert_success
}
