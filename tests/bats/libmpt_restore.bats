#!/usr/bin/env bats
# A path back from a blackhole (issue 15): libmpt sending over wifi and lte, wifi
# blackholed from 3 s to 5 s.  The connection's goodput in the second after wifi
# returns must not fall below half of what lte alone carried in the half second
# before (libmpt probes a stale subflow instead of waiting out its RTO backoff).
# libmpt sends in both set-ups: as the client (upload) and as the server (download
# to a kernel client).  Bytes verified by mpt-perf at both ends.
load helpers

teardown() { cleanup_all; }

restore_case() { # client-stack server-stack direction
	local f=$BATS_TEST_TMPDIR/t.yaml out=$BATS_TEST_TMPDIR/run
	cat >"$f" <<-Y
	name: bt-restore
	hosts:
	  client: { stack: $1 }
	  r: { forward: true }
	  server: { stack: $2 }
	links:
	  - { name: wifi, between: [client, r], rate: 40mbit, delay: 10ms }
	  - { name: lte, between: [client, r], rate: 20mbit, delay: 20ms, endpoint: [subflow] }
	  - { name: lan, between: [r, server] }
	apps:
	  - { name: bulk, client: client, server: server, time: 8s, direction: $3 }
	events:
	  - { at: 3s, link: wifi, action: blackhole }
	  - { at: 5s, link: wifi, action: restore }
	Y
	run "$MPNET" run "$f" --out "$out" --quiet
	assert_success
	local s=$out/summary.json at
	at=$(jq '.events[1].fired_s' "$s")
	# rx_bytes per bin: lte alone in [at - 0.5, at), both paths in [at, at + 1)
	run awk -F, -v at="$at" '$3 == "rx_bytes" && $1 >= at - 0.5 && $1 < at { b += $5 }
		$3 == "rx_bytes" && $1 >= at && $1 < at + 1 { a += $5 }
		END { printf "%.1f %.1f\n", b * 8 / 0.5 / 1e6, a * 8 / 1e6 }' "$out/timeseries.csv"
	assert_success
	local before=${output% *} after=${output#* }
	echo "# $1 -> $2 $3: lte alone before the restore $before Mbit/s, the second after $after Mbit/s" >&3
	# the surviving path carried (a stalled connection is not a baseline)
	run awk -v b="$before" 'BEGIN { exit !(b > 5) }'
	assert_success
	run awk -v b="$before" -v a="$after" 'BEGIN { exit !(a >= 0.5 * b) }'
	assert_success
	run jq -r '.apps[0] | .verified' "$s"
	assert_output true
}

@test "restore after a blackhole: libmpt client uploading to Linux keeps its goodput" {
	restore_case mpt kernel upload
}

@test "restore after a blackhole: libmpt server sending to a Linux client keeps its goodput" {
	restore_case kernel mpt download
}
