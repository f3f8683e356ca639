#!/usr/bin/env bats
# Survey question 4 (fallback), libmpt against the Linux kernel: a middlebox (nft
# `reset tcp option mptcp` on the router) strips option 30 from the SYN, the
# SYN-ACK, or only from a joining subflow's SYN.  Every transfer completes with its
# bytes verified, and both ends' counters say which fallback happened.
load helpers
load perf_helpers
bats_require_minimum_version 1.5.0

teardown() { cleanup_all; }

T=bt-mpf
XFER_TIMEOUT=120

strip() { # nft match: option 30 is blanked (NOPs) on matching forwarded packets
	in_host $T r nft "add table inet strip; add chain inet strip f { type filter hook forward priority 0; }; add rule inet strip f $1 reset tcp option mptcp"
}

@test "MP_CAPABLE stripped from the SYN: libmpt client and Linux server both run plain TCP" {
	local f=$BATS_TEST_TMPDIR/t.yaml
	two_paths "$f" mpt kernel
	"$MPNET" up "$f"
	strip 'tcp flags & (syn | ack) == syn'
	xfer s kernel c mpt 198.18.2.2 5701 -n 4MiB
	assert_equal "$(kstat s MPTcpExtMPCapableSYNRX)" 0
	run jq -e '.mptcp.fallback == true and .counters.MPTcpExtMPCapableFallbackSYNACK == 1' "$BATS_TEST_TMPDIR/c.5701.json"
	assert_success
}

@test "MP_CAPABLE stripped from the SYN: Linux client falls back, libmpt server answers plain TCP" {
	local f=$BATS_TEST_TMPDIR/t.yaml
	two_paths "$f" kernel mpt
	"$MPNET" up "$f"
	strip 'tcp flags & (syn | ack) == syn'
	xfer s mpt c kernel 198.18.2.2 5702 -n 4MiB
	assert_equal "$(kstat c MPTcpExtMPCapableFallbackSYNACK)" 1
	run jq -e '(.counters.MPTcpExtMPCapableSYNRX // 0) == 0 and .mptcp == null' "$BATS_TEST_TMPDIR/s.5702.json"
	assert_success
}

@test "MP_CAPABLE stripped from the SYN-ACK: libmpt falls back, the Linux server sees a third ACK without it" {
	local f=$BATS_TEST_TMPDIR/t.yaml
	two_paths "$f" mpt kernel
	"$MPNET" up "$f"
	strip 'tcp flags & (syn | ack) == syn | ack'
	xfer s kernel c mpt 198.18.2.2 5703 -n 4MiB
	assert_equal "$(kstat s MPTcpExtMPCapableSYNRX)" 1
	assert_equal "$(kstat s MPTcpExtMPCapableFallbackACK)" 1
	run jq -e '.mptcp.fallback == true and .counters.MPTcpExtMPCapableFallbackSYNACK == 1' "$BATS_TEST_TMPDIR/c.5703.json"
	assert_success
}

@test "MP_CAPABLE stripped from the SYN-ACK: the Linux client falls back, libmpt server too" {
	local f=$BATS_TEST_TMPDIR/t.yaml
	two_paths "$f" kernel mpt
	"$MPNET" up "$f"
	strip 'tcp flags & (syn | ack) == syn | ack'
	xfer s mpt c kernel 198.18.2.2 5704 -n 4MiB
	assert_equal "$(kstat c MPTcpExtMPCapableFallbackSYNACK)" 1
	run jq -e '.mptcp.fallback == true and .counters.MPTcpExtMPCapableFallbackACK == 1' "$BATS_TEST_TMPDIR/s.5704.json"
	assert_success
}

@test "MP_JOIN stripped on the joining path only: that subflow is reset, the connection carries on" {
	local f=$BATS_TEST_TMPDIR/t.yaml
	two_paths "$f" mpt kernel
	"$MPNET" up "$f"
	strip 'iifname "lte" tcp flags & (syn | ack) == syn'
	xfer s kernel c mpt 198.18.2.2 5705 -n 4MiB --endpoint 198.18.1.1,subflow
	assert_equal "$(kstat s MPTcpExtMPCapableACKRX)" 1
	assert_equal "$(kstat s MPTcpExtMPJoinSynRx)" 0
	assert_equal "$(kstat s MPTcpExtMPCapableFallbackACK)" 0
	run jq -e '.mptcp.fallback == false and .counters.MpnetExtMPJoinSynAckMissing >= 1
		and (.counters.MPTcpExtMPJoinSynAckRx // 0) == 0' "$BATS_TEST_TMPDIR/c.5705.json"
	assert_success
}

@test "MP_JOIN stripped on the Linux client's joining path: libmpt server keeps the connection" {
	local f=$BATS_TEST_TMPDIR/t.yaml
	two_paths "$f" kernel mpt subflow
	"$MPNET" up "$f"
	strip 'iifname "lte" tcp flags & (syn | ack) == syn'
	xfer s mpt c kernel 198.18.2.2 5706 -n 4MiB
	assert_equal "$(kstat c MPTcpExtMPCapableSYNACKRX)" 1
	assert_equal "$(kstat c MPTcpExtMPJoinSynAckRx)" 0
	run jq -e '.mptcp.fallback == false and (.counters.MPTcpExtMPJoinSynRx // 0) == 0' "$BATS_TEST_TMPDIR/s.5706.json"
	assert_success
}
