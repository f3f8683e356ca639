#!/usr/bin/env bats
# The socket layer (stack/include/mpt_socket.h) on a real network: mpt-sockcheck, a
# client written against it (socket, connect, write, shutdown, read on the
# descriptor), sends to a Linux MPTCP server over two paths; the server answers the
# SHA-256 of what it received, and both digests must match.  The client's JSON holds
# MPTCP_INFO, MPTCP_SUBFLOW_ADDRS, MPTCP_FULL_INFO and the RFC 6897 options as read
# from its libmpt socket, checked against the kernel's view of the same connection.
load helpers
load perf_helpers
bats_require_minimum_version 1.5.0

teardown() { cleanup_all; }

T=bt-sock
CHECK=$ROOT/build/bin/mpt-sockcheck
SRV=$ROOT/tests/bats/mptcp_sha_server.py

# run_check port json [mpt-sockcheck options]: server in s (at $SADDR, default
# 198.18.2.2), client in c
run_check() {
	local port=$1 j=$2 ready=$BATS_TEST_TMPDIR/ready.$1 a=${SADDR:-198.18.2.2}
	shift 2
	in_host $T s python3 "$SRV" "$a" "$port" "$ready" >"$j.srv" 2>"$j.srv.err" &
	local spid=$!
	wait_until 10 grep -q ready "$ready"
	run --separate-stderr in_host $T c timeout 120 "$CHECK" -c "$a" -p "$port" -n 16MiB "$@"
	echo "$output" >"$j"
	wait "$spid" || { cat "$j.srv.err"; fail "server failed"; }
	[ "$status" -eq 0 ] || { echo "$stderr"; cat "$j"; fail "mpt-sockcheck exit $status"; }
	echo "# $(jq -c '{bytes, verified, subflows: .mptcp_info.subflows}' "$j") server $(cat "$j.srv")" >&3
	assert_equal "$(jq -r .verified "$j")" true
	assert_equal "$(jq -r .bytes "$j.srv")" 16777216
	assert_equal "$(jq -r .sha256 "$j.srv")" "$(jq -r .sha256 "$j")"
}

# what both views must say of a connection with two subflows, wifi and lte
two_subflows() { # json
	local j=$1
	assert_equal "$(jq -r .mptcp_info.subflows "$j")" 1 # joins, as Linux counts them
	assert_equal "$(jq -r .mptcp_info.subflows "$j")" "$(jq -r .kernel_subflows "$j.srv")"
	assert_equal "$(jq -r .mptcp_info.bytes_acked "$j")" 16777216
	assert_equal "$(jq -r '.mptcp_info.flags % 2' "$j")" 0 # no fallback
	assert_equal "$(jq -r .subflow_addrs.num_subflows "$j")" 2
	assert_equal "$(jq -r .subflow_addrs.size_kernel "$j")" 256
	assert_equal "$(jq -r '[.subflow_addrs.addrs[].local.addr] | sort | join(",")' "$j")" \
		"198.18.0.1,198.18.1.1"
	assert_equal "$(jq -r '[.subflow_addrs.addrs[].remote.addr] | unique | join(",")' "$j")" \
		"198.18.2.2"
	assert_equal "$(jq -r .full_info.num_subflows "$j")" 2
	assert_equal "$(jq -r '[.full_info.subflows[].id] | join(",")' "$j")" "1,2"
	assert_equal "$(jq -c '[.full_info.subflows[].addrs[0]]' "$j")" \
		"$(jq -c '.subflow_addrs.addrs' "$j")"
	assert_equal "$(jq -c .rfc6897_subflows "$j")" "$(jq -c .subflow_addrs.addrs "$j")"
	assert_equal "$(jq -r .rfc6897_connid "$j")" "$(jq -r .mptcp_info.token "$j")"
	assert_equal "$(kstat s MPTcpExtMPCapableACKRX)" 1
	assert_equal "$(kstat s MPTcpExtMPJoinAckRx)" 1
	local a b
	a=$(tx_bytes $T c wifi)
	b=$(tx_bytes $T c lte)
	echo "# c sent: wifi $a bytes, lte $b bytes" >&3
	[ "$a" -gt 1000000 ] || fail "wifi carried only $a bytes"
	[ "$b" -gt 1000000 ] || fail "lte carried only $b bytes"
}

@test "socket layer client -> Linux MPTCP server, two paths: bytes verified, MPTCP_INFO / SUBFLOW_ADDRS / FULL_INFO agree with the kernel" {
	local f=$BATS_TEST_TMPDIR/t.yaml j=$BATS_TEST_TMPDIR/c.json
	two_paths "$f" mpt kernel subflow
	"$MPNET" up "$f"
	run_check 5701 "$j"
	two_subflows "$j"
}

@test "socket layer, RFC 6897: TCP_MULTIPATH_ADD opens a subflow from the lte address mid-transfer" {
	local f=$BATS_TEST_TMPDIR/t.yaml j=$BATS_TEST_TMPDIR/c.json
	two_paths "$f" mpt kernel
	"$MPNET" up "$f"
	run_check 5702 "$j" --add 198.18.1.1
	two_subflows "$j"
}

@test "Linux MPTCP client -> socket layer server, two paths: accept, bytes verified, the server's options see the join" {
	local f=$BATS_TEST_TMPDIR/t.yaml j=$BATS_TEST_TMPDIR/s.json ready=$BATS_TEST_TMPDIR/ready
	two_paths "$f" kernel mpt subflow
	"$MPNET" up "$f"
	in_host $T s "$CHECK" -s -p 5703 --ready-fd 3 3>"$ready" >"$j" 2>"$j.err" &
	local spid=$!
	wait_until 10 grep -q ready "$ready"
	run --separate-stderr in_host $T c timeout 120 python3 "$ROOT/tests/bats/mptcp_sha_client.py" 198.18.2.2 5703 16777216
	echo "# client $output" >&3
	wait "$spid" || { cat "$j.err"; fail "mpt-sockcheck -s failed"; }
	[ "$status" -eq 0 ] || { echo "$stderr"; cat "$j" "$j.err"; fail "client exit $status"; }
	echo "# server $(jq -c '{bytes, subflows: .mptcp_info.subflows, addrs: [.subflow_addrs.addrs[].remote.addr]}' "$j")" >&3
	assert_equal "$(jq -r .verified <<<"$output")" true
	assert_equal "$(jq -r .bytes "$j")" 16777216
	assert_equal "$(jq -r .sha256 "$j")" "$(jq -r .sha256 <<<"$output")"
	assert_equal "$(jq -r .mptcp_info.subflows "$j")" 1
	assert_equal "$(jq -r .kernel_subflows <<<"$output")" 1
	assert_equal "$(jq -r .mptcp_info.bytes_received "$j")" 16777216
	assert_equal "$(jq -r .subflow_addrs.num_subflows "$j")" 2
	assert_equal "$(jq -r '[.subflow_addrs.addrs[].remote.addr] | sort | join(",")' "$j")" \
		"198.18.0.1,198.18.1.1"
	assert_equal "$(jq -r .full_info.num_subflows "$j")" 2
	assert_equal "$(kstat c MPTcpExtMPJoinSynAckRx)" 1
}

@test "socket layer over IPv6, RFC 6897: TCP_MULTIPATH_ADD of the lte IPv6 address, both paths carry data" {
	local f=$BATS_TEST_TMPDIR/t.yaml j=$BATS_TEST_TMPDIR/c.json
	two_paths "$f" mpt kernel
	"$MPNET" up "$f"
	SADDR=2001:db8:0:2::2 run_check 5704 "$j" --add 2001:db8:0:1::1
	assert_equal "$(jq -r .mptcp_info.subflows "$j")" 1
	assert_equal "$(jq -r .kernel_subflows "$j.srv")" 1
	assert_equal "$(jq -r '[.subflow_addrs.addrs[].local.addr] | sort | join(",")' "$j")" \
		"2001:db8:0:1::1,2001:db8::1"
	assert_equal "$(kstat s MPTcpExtMPJoinAckRx)" 1
	local a b
	a=$(tx_bytes $T c wifi)
	b=$(tx_bytes $T c lte)
	echo "# c sent: wifi $a bytes, lte $b bytes" >&3
	[ "$b" -gt 1000000 ] || fail "lte carried only $b bytes"
}
