#!/usr/bin/env bats
# mpnet run: apps, events, results, teardown.
load helpers
bats_require_minimum_version 1.5.0

teardown() { cleanup_all; }

@test "HTB holds the rate: kernel TCP goodput within 10% of 20 Mbit/s" {
	local out=$BATS_TEST_TMPDIR/run
	run "$MPNET" run "$FIX/rate.yaml" --out "$out" --quiet
	assert_success
	local g v
	g=$(jq '.apps[0].goodput_mbps' "$out/summary.json")
	v=$(jq '.apps[0].verified' "$out/summary.json")
	echo "# goodput $g Mbit/s through a 20mbit link" >&3
	assert_equal "$v" true
	awk -v g="$g" 'BEGIN { exit !(g >= 18 && g <= 22) }' || fail "goodput $g not within 10% of 20"
	# the link counted what it carried
	run jq -e '.links[] | select(.dir == "up") | .tx_bytes > 2000000' "$out/summary.json"
	assert_success
	assert_equal "$(ns_of bt-rate)" ""
}

@test "kernel-to-kernel MPTCP over two paths verifies its bytes and uses both links" {
	local out=$BATS_TEST_TMPDIR/run
	run "$MPNET" run "$ROOT/topologies/two-path.yaml" --out "$out" --quiet
	# a failure shows what each end said (a rare kernel <-> kernel failure was seen once)
	[ "$status" -eq 0 ] || {
		jq -c '.apps[0] | {status, verified, exit}' "$out/summary.json"
		tail -n 3 "$out"/apps/*.log
		jq -c '{error, verified, bytes, remote}' "$out"/apps/*.json
	}
	assert_success
	run jq -r '.apps[0] | "\(.verified) \(.status) \(.bytes)"' "$out/summary.json"
	assert_output --regexp "^true ok [0-9]+$"
	# both subflows carried a real share of the data
	run jq -r '.apps[0].subflows | map(select(.bytes > 1000000)) | map(.link) | sort | join(",")' "$out/summary.json"
	assert_output "lte,wifi"
	# and both access links' up directions carried bytes on the wire
	run jq -r '[.links[] | select(.dir == "up" and .tx_bytes > 1000000 and .name != "lan") | .name] | sort | join(",")' "$out/summary.json"
	assert_output "lte,wifi"
	# the contract of summary.json
	run jq -e '.topology and .seed and (.apps[0] | .name and .client and .server and .stacks and .seconds and .goodput_mbps) and (.links[0] | .name and .dir and (.tx_packets >= 0) and (.dropped >= 0))' "$out/summary.json"
	assert_success
	[ -s "$out/apps/bulk-client.json" ]
	[ -s "$out/apps/bulk-server.json" ]
	[ -s "$out/topology.resolved.json" ]
	echo "# two-path kernel<->kernel: $(jq '.apps[0].goodput_mbps' "$out/summary.json") Mbit/s" >&3
}

@test "hosts' congestion: every app socket of the host runs it (kernel and libmpt); an unknown one fails before anything exists" {
	local f=$BATS_TEST_TMPDIR/cc.yaml out=$BATS_TEST_TMPDIR/run
	# not this system's default (bbr here); cubic is not in this kernel's
	# tcp_allowed_congestion_control, so a namespace cannot make it its default:
	# the apps still get it, per socket
	cat >"$f" <<-'Y'
	name: bt-cc
	hosts:
	  m: { stack: mpt, congestion: reno }
	  k: { stack: kernel, congestion: cubic }
	links:
	  - { name: l0, between: [m, k], rate: 50mbit }
	apps:
	  - { name: up, client: m, server: k, bytes: 2MB }
	  - { name: down, client: m, server: k, bytes: 2MB, direction: download }
	Y
	run "$MPNET" run "$f" --out "$out" --quiet
	assert_success
	# each end's report says what its sends ran
	run jq -r '.congestion' "$out/apps/up-client.json" "$out/apps/up-server.json" \
		"$out/apps/down-client.json" "$out/apps/down-server.json"
	assert_output "$(printf 'newreno\ncubic\nnewreno\ncubic')"
	run jq -r '[.apps[].verified] | all' "$out/summary.json"
	assert_output true
	sed -i 's/k: { stack: kernel, congestion: cubic }/k: { stack: kernel, congestion: nosuchcc }/' "$f"
	run --separate-stderr "$MPNET" up "$f"
	assert_failure 2
	[[ "$stderr" == "$f:4:35: host k: congestion nosuchcc: this kernel has "*" (modprobe tcp_nosuchcc to add it)" ]]
	assert_equal "$(ns_of bt-cc)" ""
}

# Measured about 1 ms late on CI machines; the bound allows a scheduling hiccup on a
# loaded one (fired_s is stamped after the action returns).
@test "events fire within 50 ms of their time and act on the links" {
	local out=$BATS_TEST_TMPDIR/run
	run "$MPNET" run "$FIX/events.yaml" --out "$out" --quiet
	assert_success
	assert_equal "$(jq '.events | length' "$out/summary.json")" 7
	echo "# latest event: $(jq '[.events[] | .fired_s - .at_s] | max * 1000' "$out/summary.json") ms after its time" >&3
	run jq -r '.events[] | select(.fired_s == null or (.fired_s - .at_s) > 0.050 or (.fired_s < .at_s) or .error) | .action' "$out/summary.json"
	assert_output ""
	run cat "$out/events.csv"
	assert_line --index 0 "at_s,fired_s,action,link,host,dir,result"
	assert_line --partial "addr-del,lte,a,,ok"
}

@test "link down removes the carrier, up restores it, addresses stay" {
	"$MPNET" up "$FIX/events.yaml"
	# Apply the same operations through a short run is covered above; here check
	# the carrier semantics directly on the interfaces mpnet built.
	ip -n ${NSP}l-bt-events-wifi link set e0 down
	ip -n ${NSP}l-bt-events-wifi link set e1 down
	run ip -n ${NSP}-bt-events-a -br link show dev wifi
	assert_output --regexp "<NO-CARRIER,.*,UP"
	run ip -n ${NSP}-bt-events-a -br addr show dev wifi
	assert_output --partial "198.18.0.1/24"
}

@test "an app that fails verification makes mpnet run exit 1" {
	local f=$BATS_TEST_TMPDIR/bad.yaml out=$BATS_TEST_TMPDIR/run
	cat >"$f" <<-'Y'
	name: bt-badport
	hosts:
	  a: { stack: tcp }
	  b: { stack: tcp }
	links:
	  - { name: l, between: [a, b] }
	apps:
	  - { name: x, client: a, server: b, bytes: 1MiB }
	Y
	# A fake traffic tool whose client reports a failed verification.
	local fake=$BATS_TEST_TMPDIR/fake-perf
	cat >"$fake" <<-'S'
	#!/bin/sh
	case " $* " in
	*" -s "*) echo ready >&3; echo '{"verified": false}'; exit 1 ;;
	*) echo '{"bytes": 5, "seconds": 1, "goodput_mbps": 0, "verified": false}'; exit 1 ;;
	esac
	S
	chmod +x "$fake"
	MPNET_PERF=$fake run "$MPNET" run "$f" --out "$out" --quiet
	assert_equal "$status" 1
	run jq -r '.apps[0].status' "$out/summary.json"
	refute_output "ok"
	assert_equal "$(ns_of bt-badport)" ""
}

app_running() { # port: a client and a server mpt-perf on that port are live
	[ "$(live_procs "$ROOT/build/bin/mpt-perf.*-p $1" | wc -l)" -ge 2 ]
}

@test "SIGTERM during a run tears everything down" {
	local out=$BATS_TEST_TMPDIR/run
	"$MPNET" run "$FIX/long.yaml" --out "$out" --quiet &
	local pid=$!
	# the run is under way: both ends of its app are running
	wait_until 60 app_running 5201
	kill -TERM "$pid"
	wait "$pid" || true
	assert_equal "$(ns_of bt-long)" ""
	run jq '.interrupted' "$out/summary.json"
	assert_output true
	run live_procs "$ROOT/build/bin/mpt-perf.*-p 5201"
	assert_output ""
}

@test "mpnet down --all cleans up after kill -9 of mpnet run" {
	local out=$BATS_TEST_TMPDIR/run
	"$MPNET" run "$FIX/long.yaml" --out "$out" --quiet &
	local pid=$!
	# the run is under way: both ends of its app are running
	wait_until 60 app_running 5201
	kill -9 "$pid"
	wait "$pid" || true
	[ -n "$(ns_of bt-long)" ] || fail "nothing was up to clean"
	[ -n "$(live_procs "$ROOT/build/bin/mpt-perf")" ] || fail "no orphaned traffic tool to clean"
	run "$MPNET" down --all
	assert_success
	assert_equal "$(all_mpnet_ns)" ""
	run live_procs "$ROOT/build/bin/mpt-perf"
	assert_output ""
	[ -z "$(ls -d /run/mpnet/${NSP}-* 2>/dev/null)" ]
}
