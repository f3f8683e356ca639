#!/usr/bin/env bats
# mpnet up / down / show / exec: namespaces, links, addresses, routes, endpoints.
load helpers

teardown() { cleanup_all; }

@test "up then down leaves nothing behind" {
	run "$MPNET" up "$FIX/chain.yaml"
	assert_success
	assert_equal "$(ns_of bt-chain | wc -l)" 7   # 4 hosts + 3 links
	[ -e /run/netns/${NSP}-bt-chain-client ]
	run "$MPNET" up "$FIX/chain.yaml"
	assert_equal "$status" 2
	assert_output --partial "already up"
	run "$MPNET" down "$FIX/chain.yaml"
	assert_success
	assert_equal "$(ns_of bt-chain)" ""
	assert_equal "$(ip -o link show type veth)" ""
	[ ! -e /run/mpnet/${NSP}-bt-chain ]
}

@test "ping over every link and end to end through two routers" {
	"$MPNET" up "$FIX/chain.yaml"
	in_host bt-chain client ping -c1 -W2 198.18.0.2
	in_host bt-chain r1 ping -c1 -W2 198.18.1.2
	in_host bt-chain r2 ping -c1 -W2 198.18.2.2
	# through r1 and r2, both ways, IPv4 and IPv6
	in_host bt-chain client ping -c2 -i0.2 -W2 198.18.2.2
	in_host bt-chain server ping -c2 -i0.2 -W2 198.18.0.1
	in_host bt-chain client ping -6 -c2 -i0.2 -W2 2001:db8:0:2::2
	run in_host bt-chain client ip route get 198.18.2.2
	assert_output --partial "via 198.18.0.2 dev c-r1"
}

@test "interfaces carry the link's name and the auto addresses" {
	"$MPNET" up "$FIX/chain.yaml"
	run ip -n ${NSP}-bt-chain-r1 -br addr show dev r1-r2
	assert_output --partial "198.18.1.1/24"
	assert_output --partial "2001:db8:0:1::1/64"
	run ip -n ${NSP}-bt-chain-r1 -br link show dev r1-r2
	assert_output --partial "UP"
	# the hidden link namespace holds e0 and e1, each one's ingress redirected to the
	# other (no bridge)
	run ip -n ${NSP}l-bt-chain-r1-r2 -br link show
	assert_output --partial "e0@"
	assert_output --partial "e1@"
	refute_output --partial "br0"
	run tc -n ${NSP}l-bt-chain-r1-r2 filter show dev e0 ingress
	assert_output --partial "mirred (Egress Redirect to device e1)"
	run tc -n ${NSP}l-bt-chain-r1-r2 filter show dev e1 ingress
	assert_output --partial "mirred (Egress Redirect to device e0)"
}

@test "per-address source routing: traffic from each address leaves on its own link" {
	"$MPNET" up "$FIX/multihomed.yaml"
	run ip -n ${NSP}-bt-mh-client rule show
	assert_output --partial "from 198.18.0.1 lookup 1000"
	assert_output --partial "from 198.18.1.1 lookup 1001"
	# 200 pings from the lte address to the server's wifi address: without
	# source routing they would leave on wifi (the connected route).
	local w0 l0 w1 l1
	w0=$(tx_bytes bt-mh client wifi)
	l0=$(tx_bytes bt-mh client lte)
	in_host bt-mh client ping -q -c200 -i0.002 -s1000 -I 198.18.1.1 198.18.0.2 >/dev/null
	w1=$(tx_bytes bt-mh client wifi)
	l1=$(tx_bytes bt-mh client lte)
	[ $((l1 - l0)) -ge 200000 ] || fail "lte sent only $((l1 - l0)) bytes"
	[ $((w1 - w0)) -lt 20000 ] || fail "wifi sent $((w1 - w0)) bytes"
	# and from the wifi address to the server's lte address: wifi carries it
	w0=$(tx_bytes bt-mh client wifi)
	l0=$(tx_bytes bt-mh client lte)
	in_host bt-mh client ping -q -c200 -i0.002 -s1000 -I 198.18.0.1 198.18.1.2 >/dev/null
	w1=$(tx_bytes bt-mh client wifi)
	l1=$(tx_bytes bt-mh client lte)
	[ $((w1 - w0)) -ge 200000 ] || fail "wifi sent only $((w1 - w0)) bytes"
	[ $((l1 - l0)) -lt 20000 ] || fail "lte sent $((l1 - l0)) bytes"
}

@test "kernel MPTCP endpoints and limits read back as configured" {
	"$MPNET" up "$FIX/multihomed.yaml"
	run ip -n ${NSP}-bt-mh-client mptcp limits show
	assert_output --partial "add_addr_accepted 2"
	assert_output --partial "subflows 4"
	run ip -n ${NSP}-bt-mh-server mptcp limits show
	assert_output --partial "add_addr_accepted 5"
	assert_output --partial "subflows 3"
	run ip -n ${NSP}-bt-mh-client mptcp endpoint show
	assert_line --regexp "^198\.18\.0\.1 id 1 subflow +dev wifi"
	assert_line --regexp "^198\.18\.1\.1 id 2 subflow backup +dev lte"
	assert_line --regexp "^198\.18\.2\.1 id 3 subflow fullmesh +dev eth"
	run ip -n ${NSP}-bt-mh-server mptcp endpoint show
	assert_line --regexp "^198\.18\.1\.2 id 1 signal +dev lte"
	assert_equal "$(echo "$output" | wc -l)" 1
}

@test "show prints hosts, addresses and live link state; --json parses" {
	"$MPNET" up "$FIX/multihomed.yaml"
	run "$MPNET" show "$FIX/multihomed.yaml"
	assert_success
	assert_output --partial "${NSP}-bt-mh-client"
	assert_output --partial "198.18.2.1/24"
	assert_output --partial "carrier on"
	run bash -c "'$MPNET' show --json '$FIX/multihomed.yaml' | jq -r '.up, .links[1].between[0].ipv4, .links[0].state.up.carrier'"
	assert_success
	assert_output "true
198.18.1.1/24
true"
}

@test "exec runs a command in a host and returns its status" {
	"$MPNET" up "$FIX/chain.yaml"
	run "$MPNET" exec "$FIX/chain.yaml" r1 -- ip -br addr show dev c-r1
	assert_success
	assert_output --partial "198.18.0.2/24"
	run "$MPNET" exec "$FIX/chain.yaml" r1 -- sh -c 'exit 7'
	assert_equal "$status" 7
	run "$MPNET" exec "$FIX/chain.yaml" nosuch -- true
	assert_equal "$status" 2
}

@test "up of a 64-host chain takes under the goal, and down removes it" {
	local f=$BATS_TEST_TMPDIR/chain64.yaml
	"$ROOT/bench/gen-chain.sh" bt-c64 64 >"$f"
	run "$MPNET" up "$f"
	assert_success
	echo "# $output" >&3
	local secs
	secs=$(echo "$output" | sed -n 's/.* in \([0-9.]*\) s$/\1/p')
	# the goal is < 2 s (see the benchmark); a generous sanity bound here
	awk -v s="$secs" 'BEGIN { exit !(s < 10) }' || fail "up took $secs s"
	ip netns exec ${NSP}-bt-c64-h0 ping -c1 -W3 198.18.62.2
	"$MPNET" down "$f"
	assert_equal "$(ns_of bt-c64)" ""
}
