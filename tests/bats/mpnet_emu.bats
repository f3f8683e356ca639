#!/usr/bin/env bats
# mpnet with the userspace link emulator: delay applied, events reach it at run
# time, --pcap captures readable by tshark with MPTCP dissected.
load helpers

teardown() { cleanup_all; }

write_delay_topo() { # file
	cat >"$1" <<-'Y'
	name: bt-emu
	hosts:
	  a: { stack: kernel }
	  r: { forward: true }
	  b: { stack: kernel }
	links:
	  - { name: wifi, between: [a, r], rate: 20mbit, delay: 5ms }
	  - { name: lte, between: [a, r], rate: 10mbit, delay: 15ms, endpoint: [subflow] }
	  - { name: lan, between: [r, b] }
	apps:
	  - { name: bulk, client: a, server: b, time: 4s }
	events:
	  - { at: 1500ms, link: wifi, action: set, dir: both, delay: 50ms }
	Y
}

@test "mpnet up with delay: ping RTT is the configured 2 x delay" {
	local f=$BATS_TEST_TMPDIR/t.yaml
	write_delay_topo "$f"
	"$MPNET" up "$f"
	run "$MPNET" show --json "$f"
	run in_host bt-emu a ping -c 20 -i 0.05 -I 198.18.0.1 198.18.2.2
	assert_success
	# per-packet RTTs, first one (ARP) excluded; median within 1 ms of 10 ms
	local med
	med=$(echo "$output" | sed -n 's/.*time=\([0-9.]*\) ms/\1/p' | tail -n +2 | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
	echo "# median RTT $med ms over wifi (2 x 5 ms)" >&3
	awk -v m="$med" 'BEGIN { exit !(m >= 10 && m <= 11) }' || fail "median RTT $med"
}

@test "mpnet run: events change the emulator at run time; --pcap writes captures tshark dissects" {
	local f=$BATS_TEST_TMPDIR/t.yaml out=$BATS_TEST_TMPDIR/run
	write_delay_topo "$f"
	run "$MPNET" run "$f" --out "$out" --pcap --quiet
	assert_success
	run jq -r '[.links[] | .backend] | unique | join(",")' "$out/summary.json"
	assert_output "user"
	run jq -r '.events[0] | select(.fired_s - .at_s < 0.050) | .action' "$out/summary.json"
	assert_output "set"
	# after the event, the wifi subflow's RTT reflects 2 x 50 ms
	run jq -r '.subflows[] | select(.local.addr == "198.18.0.1") | .rtt_ms' "$out/apps/bulk-client.json"
	awk -v r="$output" 'BEGIN { exit !(r >= 95) }' || fail "wifi subflow rtt $output ms after the delay change"
	for p in wifi-up wifi-down lte-up lte-down lan-up lan-down; do
		[ -s "$out/pcap/$p.pcap" ] || fail "no $p.pcap"
	done
	# the capture parses and its MPTCP options are dissected
	run tshark -r "$out/pcap/lte-up.pcap" -Y "tcp.options.mptcp.subtype == 1" -T fields -e tcp.options.mptcp.subtype
	assert_success
	[ "$(echo "$output" | grep -c 1)" -ge 1 ] || fail "no MP_JOIN on lte: $output"
	run tshark -r "$out/pcap/wifi-up.pcap" -Y "tcp.options.mptcp.subtype == 0" -T fields -e tcp.options.mptcp.subtype
	assert_success
	assert_line "0"
}
