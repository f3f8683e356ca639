#!/usr/bin/env bats
# The netem backend (emulator: netem).  What netem cannot express fails before
# anything is created, on any kernel.  The real netem run needs sch_netem: on a
# kernel without it (this project's machines: no CONFIG_NET_SCH_NETEM) that case
# SKIPS, naming the missing module; mpnet_cli.bats checks the one-line refusal.
load helpers

teardown() { cleanup_all; }

# Does this kernel have sch_netem?  The same probe as emu_netem_available(): a
# netem qdisc on lo in a scratch network namespace.
have_netem() {
	unshare --net sh -c 'tc qdisc add dev lo root netem delay 1ms' 2>/dev/null
}

# cannot_express FILE LINE WHAT: `mpnet up FILE` fails with exactly
# FILE:LINE:COL: link l asks for emulator: netem, but netem cannot express WHAT (use emulator: auto or user)
cannot_express() {
	local f=$1 line=$2 what=$3
	shift 3
	run "$MPNET" up "$f" "$@"
	assert_equal "$status" 2
	[ "$(echo "$output" | wc -l)" -eq 1 ] || fail "more than one line: $output"
	[[ "$output" =~ ^$f:$line:[0-9]+:\ link\ l\ asks\ for\ emulator:\ netem,\ but\ netem\ cannot\ express\ (.*)\ \(use\ emulator:\ auto\ or\ user\)$ ]] ||
		fail "got: $output"
	[[ "${BASH_REMATCH[1]}" == "$what"* ]] || fail "cannot express '${BASH_REMATCH[1]}', want '$what...'"
	assert_equal "$(all_mpnet_ns)" ""
	[ ! -e "/run/mpnet/$NSP-bt-nx" ] || fail "state directory created"
}

@test "emulator: netem with what netem cannot express: FILE:LINE:COL, exit 2, nothing created (any kernel)" {
	local f=$BATS_TEST_TMPDIR/nx.yaml
	# Gilbert-Elliott: libnl cannot send TCA_NETEM_LOSS
	cat >"$f" <<-'Y'
	name: bt-nx
	hosts: { a: { stack: tcp }, b: { stack: tcp } }
	links:
	  - name: l
	    between: [a, b]
	    emulator: netem
	    up: { loss: { model: gemodel, p: 1%, r: 30% } }
	Y
	cannot_express "$f" 4 "the gemodel loss model"
	# a queue limit in bytes, on the down direction only
	cat >"$f" <<-'Y'
	name: bt-nx
	emulator: netem
	hosts: { a: { stack: tcp }, b: { stack: tcp } }
	links:
	  - { name: l, between: [a, b], delay: 5ms, down: { rate: 10mbit, queue: 30kB } }
	Y
	cannot_express "$f" 5 "a queue limit in bytes"
	# CoDel
	cat >"$f" <<-'Y'
	name: bt-nx
	hosts: { a: { stack: tcp }, b: { stack: tcp } }
	links:
	  - { name: l, between: [a, b], emulator: netem, rate: 10mbit, queue: { codel: true } }
	Y
	cannot_express "$f" 4 "a CoDel queue"
	# an event that would make the link inexpressible: the event's position
	cat >"$f" <<-'Y'
	name: bt-nx
	hosts: { a: { stack: tcp }, b: { stack: tcp } }
	links:
	  - { name: l, between: [a, b], emulator: netem, delay: 5ms }
	events:
	  - { at: 1s, link: l, action: set, dir: up, loss: { model: state4, p13: 1% } }
	Y
	cannot_express "$f" 6 "the state4 loss model"
	# --pcap: the captures are the userspace emulator's
	cat >"$f" <<-'Y'
	name: bt-nx
	hosts: { a: { stack: tcp }, b: { stack: tcp } }
	links:
	  - { name: l, between: [a, b], emulator: netem, delay: 5ms }
	apps:
	  - { name: x, client: a, server: b, time: 1s }
	Y
	run "$MPNET" run "$f" --pcap --out "$BATS_TEST_TMPDIR/out"
	assert_equal "$status" 2
	assert_output --regexp "^$f:4:[0-9]+: link l asks for emulator: netem, but netem cannot express packet captures \(--pcap"
	assert_equal "$(all_mpnet_ns)" ""
}

@test "emulator: netem runs a topology on netem: HTB + netem trees, RTT, a set event, summary.json backend netem" {
	if ! have_netem; then
		skip "this kernel has no sch_netem (module sch_netem, CONFIG_NET_SCH_NETEM): the netem backend cannot run here"
	fi
	local f=$BATS_TEST_TMPDIR/t.yaml out=$BATS_TEST_TMPDIR/run
	cat >"$f" <<-'Y'
	name: bt-netem
	ipv6: false
	hosts: { a: { stack: tcp }, b: { stack: tcp } }
	links:
	  - { name: l, between: [a, b], emulator: netem, delay: 20ms, up: { rate: 10mbit, queue: 200 } }
	Y
	"$MPNET" up "$f" >/dev/null
	# up leaves on e1: HTB root 1:, class 1:1 at 10 Mbit/s, netem 10: under it;
	# down leaves on e0: netem as the root
	run tc -n "${NSP}l-bt-netem-l" qdisc show dev e1
	assert_output --regexp "qdisc htb 1: root"
	assert_output --regexp "qdisc netem 10: parent 1:1 limit 200 .*delay 20(\.0)?ms"
	run tc -n "${NSP}l-bt-netem-l" class show dev e1
	assert_output --regexp "class htb 1:1 .*rate 10Mbit"
	run tc -n "${NSP}l-bt-netem-l" qdisc show dev e0
	assert_output --regexp "qdisc netem 10: root .*delay 20(\.0)?ms"
	# and no userspace emulator for it
	[ -z "$(live_procs "mpnet-linkemu.*$NSP-bt-netem")" ]
	run in_host bt-netem a ping -n -c 10 -i 0.1 198.18.0.2
	assert_success
	local med
	med=$(echo "$output" | sed -n 's/.*time=\([0-9.]*\) ms/\1/p' | tail -n +2 | sort -n |
		awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
	echo "# netem: median RTT $med ms (2 x 20 ms)" >&3
	awk -v m="$med" 'BEGIN { exit !(m >= 39.5 && m <= 42) }' || fail "median RTT $med"
	"$MPNET" down "$f" >/dev/null
	# a run: a set event changes netem's delay in place; summary.json says netem
	cat >>"$f" <<-'Y'
	apps:
	  - { name: bulk, client: a, server: b, time: 3s }
	events:
	  - { at: 1s, link: l, action: set, dir: up, delay: 50ms, loss: 1% }
	Y
	run "$MPNET" run "$f" --out "$out"
	assert_success
	assert_output --regexp "link l +up +netem"
	run jq -r '[.links[] | .backend] | unique | join(",")' "$out/summary.json"
	assert_output "netem"
	run jq -r '.links[] | select(.dir == "up") | "\(.tx_packets) \(.netem.packets) \(.dropped)"' "$out/summary.json"
	local tx np dr
	read -r tx np dr <<<"$output"
	[ "$tx" -gt 100 ] && [ "$np" -gt 100 ] && [ "$dr" -ge 0 ]
}
