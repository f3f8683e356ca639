#!/usr/bin/env bats
# --rcvbuf takes effect on a real run: one 20 Mbit/s path of 50 ms RTT (a BDP of
# 125 kB), a 2 MiB download through mpnet run with the topology's rcvbuf:, which
# mpnet passes to both ends' mpt-perf.  A 16 KiB receive buffer bounds the goodput
# to about a window per RTT (16 KiB / 50 ms = 2.6 Mbit/s; Linux advertises a share,
# a half to two thirds, of its doubled SO_RCVBUF), far below the defaults' (kernel autotuning,
# libmpt 4 MiB: near the 20 Mbit/s).  Every byte verified; -J reports the
# requested and the effective values.  Needs root, jq.
load helpers
bats_require_minimum_version 1.5.0

teardown() { cleanup_all; }

# rcvbuf_run NAME CLIENT-STACK SERVER-STACK [RCVBUF]: mpnet run of a 2 MiB download
# into $BATS_TEST_TMPDIR/NAME; fails (showing the ends' words) unless verified
rcvbuf_run() {
	local f=$BATS_TEST_TMPDIR/$1.yaml out=$BATS_TEST_TMPDIR/$1 rb=
	[ -n "${4:-}" ] && rb=", rcvbuf: $4"
	cat >"$f" <<-Y
	name: bt-rcvbuf
	hosts:
	  c: { stack: $2 }
	  s: { stack: $3 }
	links:
	  - { name: l, between: [c, s], rate: 20mbit, delay: 25ms }
	apps:
	  - { name: down, client: c, server: s, bytes: 2MiB, direction: download, timeout: 60s$rb }
	Y
	run "$MPNET" run "$f" --out "$out" --quiet
	[ "$status" -eq 0 ] || {
		jq -c '.apps[0] | {status, verified, exit}' "$out/summary.json"
		tail -n 3 "$out"/apps/*.log
		fail "$1: mpnet run exited $status"
	}
	run jq -r '.apps[0] | "\(.verified) \(.status) \(.bytes)"' "$out/summary.json"
	assert_output "true ok 2097152"
}

goodput() { jq '.apps[0].goodput_mbps' "$BATS_TEST_TMPDIR/$1/summary.json"; }

@test "--rcvbuf 16KiB: a kernel client's download from libmpt is window-bound, far below the default; -J shows it" {
	rcvbuf_run dflt kernel mpt
	rcvbuf_run small kernel mpt 16KiB
	local gd gs
	gd=$(goodput dflt)
	gs=$(goodput small)
	echo "# kernel receiver: default $gd Mbit/s, rcvbuf 16KiB $gs Mbit/s" >&3
	# the window bound is 2.6 Mbit/s; the default reaches most of 20 Mbit/s
	awk -v d="$gd" -v s="$gs" 'BEGIN { exit !(s < 6 && s * 2.5 < d) }' ||
		fail "rcvbuf 16KiB: $gs Mbit/s vs default $gd Mbit/s"
	# -J: the kernel client asked 16384 and got Linux's doubled value; libmpt's is exact
	run jq -c '.apps[0].rcvbuf.client' "$BATS_TEST_TMPDIR/small/summary.json"
	assert_output '{"requested":16384,"effective":32768,"autotuning":false}'
	run jq -c '.apps[0].rcvbuf.server' "$BATS_TEST_TMPDIR/small/summary.json"
	assert_output '{"requested":16384,"effective":16384,"autotuning":false}'
	# without it: autotuning on the kernel end, libmpt's 4 MiB
	run jq -c '.apps[0].rcvbuf | [.client.requested, .client.autotuning, .server.effective]' \
		"$BATS_TEST_TMPDIR/dflt/summary.json"
	assert_output '[null,true,4194304]'
	assert_equal "$(ns_of bt-rcvbuf)" ""
}

@test "--rcvbuf 16KiB on a libmpt client: its receive window bounds the download too" {
	rcvbuf_run mdflt mpt kernel
	rcvbuf_run msmall mpt kernel 16KiB
	local gd gs
	gd=$(goodput mdflt)
	gs=$(goodput msmall)
	echo "# libmpt receiver: default $gd Mbit/s, rcvbuf 16KiB $gs Mbit/s" >&3
	awk -v d="$gd" -v s="$gs" 'BEGIN { exit !(s < 6 && s * 2.5 < d) }' ||
		fail "rcvbuf 16KiB: $gs Mbit/s vs default $gd Mbit/s"
	run jq -c '.apps[0].rcvbuf.client' "$BATS_TEST_TMPDIR/msmall/summary.json"
	assert_output '{"requested":16384,"effective":16384,"autotuning":false}'
}
