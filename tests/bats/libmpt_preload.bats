#!/usr/bin/env bats
# mpt-run: unmodified programs (iperf3, curl, python3's http.server and
# socketserver, nc) with their TCP sockets on libmpt through libmpt-preload.so,
# against the same programs on Linux's MPTCP (mptcpize run), over two 20 Mbit/s
# paths (perf_helpers.bash's two_paths).  curl, nc and the forking server move files
# whose SHA-256 is compared at the other end; iperf3 runs 3 s and its receiver must
# count more than one 20 Mbit/s path can carry (iperf3 ends a test when the sender's
# writes are done, so a byte-exact file check with -F loses what the sender still
# had buffered, on any stack).  The kernel's nstat counters must show MP_CAPABLE and
# an accepted MP_JOIN, and both of the client's links must carry the data.
load helpers
load perf_helpers
bats_require_minimum_version 1.5.0

teardown() {
	[ -n "${BG_PID:-}" ] && kill "$BG_PID" 2>/dev/null
	cleanup_all
}

T=bt-pre
RUN=$ROOT/build/bin/mpt-run

setup_file() {
	command -v iperf3 && command -v mptcpize && command -v nc && command -v curl ||
		skip "needs iperf3, mptcpize, netcat-openbsd and curl (ci/deps.sh test)"
}

# A random file of N bytes: $1 path, $2 bytes.
mkfile() { head -c "$2" /dev/urandom >"$1"; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

# Run a server in host $1 in the background (not through in_host: $! is the
# program, so that teardown's kill reaches it); waits until port $2 listens: in
# the kernel's ss, or for a libmpt server (which ss does not see) in mpt-run's log
# $BATS_TEST_TMPDIR/srv.log (serve_mpt passes --log).
serve() { # host port cmd...
	local h=$1 p=$2
	shift 2
	ip netns exec "$NSP-$T-$h" "$@" &
	BG_PID=$!
	wait_until 20 listening $T "$h" "$p"
}
serve_mpt() { # host port program args...
	local h=$1 p=$2 log=$BATS_TEST_TMPDIR/srv.log
	shift 2
	rm -f "$log"
	ip netns exec "$NSP-$T-$h" timeout 120 "$RUN" --log "$log" -- "$@" &
	BG_PID=$!
	wait_until 20 grep -q "listening on port $p\$" "$log"
}

rx_bytes() { # host ifname
	ip -n "$NSP-$T-$1" -s -j link show dev "$2" | jq '.[0].stats64.rx.bytes'
}

# Both of c's links carried more than 1 MB in direction $1 (tx or rx).
both_links() {
	local a b
	if [ "$1" = tx ]; then
		a=$(tx_bytes $T c wifi)
		b=$(tx_bytes $T c lte)
	else
		a=$(rx_bytes c wifi)
		b=$(rx_bytes c lte)
	fi
	echo "# c $1: wifi $a bytes, lte $b bytes" >&3
	[ "$a" -gt 1000000 ] || fail "wifi carried only $a bytes"
	[ "$b" -gt 1000000 ] || fail "lte carried only $b bytes"
}

# The kernel host $1 took MP_CAPABLE and an MP_JOIN ($2: its counter).
kernel_mptcp() {
	kmptcp "$1"
	[ "$(kstat "$1" MPTcpExtMPCapableACKRX)" -ge 1 ] ||
		[ "$(kstat "$1" MPTcpExtMPCapableSYNACKRX)" -ge 1 ] || fail "no MP_CAPABLE in $1"
	[ "$(kstat "$1" "$2")" -ge 1 ] || fail "no $2 in $1"
}

# iperf3's receiver counted more than one path carries in 3 s (7.5 MB): $1 JSON
more_than_one_path() {
	local got
	got=$(jq -r .end.sum_received.bytes "$1")
	echo "# iperf3: $got bytes received in 3 s" >&3
	[ "$got" -gt 9000000 ] || fail "only $got bytes"
}

@test "mpt-run iperf3 -c -> mptcpize iperf3 -s (Linux MPTCP): the transfer, MP_CAPABLE + MP_JOIN, both links" {
	local f=$BATS_TEST_TMPDIR/t.yaml d=$BATS_TEST_TMPDIR
	two_paths "$f" mpt kernel subflow
	"$MPNET" up "$f"
	serve s 5801 timeout 120 mptcpize run iperf3 -s -1 -p 5801 -J >"$d/s.json"
	run --separate-stderr in_host $T c timeout 120 "$RUN" --log "$d/log" -- \
		iperf3 -c 198.18.2.2 -p 5801 -J -t 3
	echo "$output" >"$d/c.json"
	[ "$status" -eq 0 ] || { echo "$stderr"; cat "$d/c.json" "$d/log"; fail "iperf3 -c exit $status"; }
	wait "$BG_PID"
	assert_equal "$(jq -r .error "$d/c.json")" null
	more_than_one_path "$d/c.json"
	kernel_mptcp s MPTcpExtMPJoinAckRx
	both_links tx
	grep -q MPTcpExtMPCapableSYNACKRX "$d/log" || { cat "$d/log"; fail "libmpt's counters: no MP_CAPABLE"; }
}

@test "mptcpize iperf3 -c (Linux MPTCP) -> mpt-run iperf3 -s: the transfer, MP_CAPABLE + MP_JOIN, both links" {
	local f=$BATS_TEST_TMPDIR/t.yaml d=$BATS_TEST_TMPDIR
	two_paths "$f" kernel mpt subflow
	"$MPNET" up "$f"
	serve_mpt s 5802 iperf3 -s -1 -p 5802 -J >"$d/s.json"
	run --separate-stderr in_host $T c timeout 120 mptcpize run iperf3 -c 198.18.2.2 -p 5802 -J -t 3
	echo "$output" >"$d/c.json"
	[ "$status" -eq 0 ] || { echo "$stderr"; cat "$d/c.json" "$d/srv.log"; fail "iperf3 -c exit $status"; }
	wait "$BG_PID" || { cat "$d/s.json" "$d/srv.log"; fail "mpt-run iperf3 -s failed"; }
	assert_equal "$(jq -r .error "$d/s.json")" null
	more_than_one_path "$d/s.json"
	kernel_mptcp c MPTcpExtMPJoinSynAckRx
	both_links tx
	grep -q "MPTcpExtMPJoinAckRx" "$d/srv.log" || { cat "$d/srv.log"; fail "libmpt's counters: no MP_JOIN taken"; }
}

# bats test_tags=slow
@test "curl (Linux MPTCP) fetches 64 MiB from mpt-run python3 -m http.server: sha256 equal, both links" {
	local f=$BATS_TEST_TMPDIR/t.yaml d=$BATS_TEST_TMPDIR
	two_paths "$f" kernel mpt subflow
	"$MPNET" up "$f"
	mkdir "$d/www"
	mkfile "$d/www/big.bin" 67108864
	serve_mpt s 5803 python3 -m http.server 5803 --directory "$d/www" >"$d/s.out" 2>&1
	run --separate-stderr in_host $T c timeout 180 mptcpize run curl -sS -o "$d/got" http://198.18.2.2:5803/big.bin
	[ "$status" -eq 0 ] || { echo "$stderr"; cat "$d/s.out"; fail "curl exit $status"; }
	assert_equal "$(stat -c %s "$d/got")" 67108864
	assert_equal "$(sha "$d/got")" "$(sha "$d/www/big.bin")"
	kernel_mptcp c MPTcpExtMPJoinSynAckRx
	both_links rx
}

# bats test_tags=slow
@test "mpt-run curl fetches 64 MiB from mptcpize python3 -m http.server (Linux MPTCP): sha256 equal, both links" {
	local f=$BATS_TEST_TMPDIR/t.yaml d=$BATS_TEST_TMPDIR
	two_paths "$f" mpt kernel subflow
	"$MPNET" up "$f"
	mkdir "$d/www"
	mkfile "$d/www/big.bin" 67108864
	serve s 5804 mptcpize run python3 -m http.server 5804 --directory "$d/www" >"$d/s.out" 2>&1
	run --separate-stderr in_host $T c timeout 180 "$RUN" -- curl -sS -o "$d/got" http://198.18.2.2:5804/big.bin
	[ "$status" -eq 0 ] || { echo "$stderr"; cat "$d/s.out"; fail "mpt-run curl exit $status"; }
	assert_equal "$(stat -c %s "$d/got")" 67108864
	assert_equal "$(sha "$d/got")" "$(sha "$d/www/big.bin")"
	kernel_mptcp s MPTcpExtMPJoinAckRx
	both_links rx
}

@test "nc both ways, 16 MiB each: mpt-run nc -N -> mptcpize nc -l, and mptcpize nc -N -> mpt-run nc -l" {
	local f=$BATS_TEST_TMPDIR/t.yaml d=$BATS_TEST_TMPDIR
	mkfile "$d/in" 16777216
	# libmpt sends
	two_paths "$f" mpt kernel subflow
	"$MPNET" up "$f"
	serve s 5805 timeout 120 mptcpize run nc -l 198.18.2.2 5805 >"$d/out1" </dev/null
	run --separate-stderr in_host $T c timeout 120 "$RUN" -- nc -N 198.18.2.2 5805 <"$d/in"
	[ "$status" -eq 0 ] || { echo "$stderr"; fail "mpt-run nc exit $status"; }
	wait "$BG_PID"
	assert_equal "$(sha "$d/out1")" "$(sha "$d/in")"
	kernel_mptcp s MPTcpExtMPJoinAckRx
	both_links tx
	"$MPNET" down "$f"
	# libmpt receives
	two_paths "$f" kernel mpt subflow
	"$MPNET" up "$f"
	serve_mpt s 5806 nc -l 198.18.2.2 5806 >"$d/out2" </dev/null
	run --separate-stderr in_host $T c timeout 120 mptcpize run nc -N 198.18.2.2 5806 <"$d/in"
	[ "$status" -eq 0 ] || { echo "$stderr"; fail "mptcpize nc exit $status"; }
	wait "$BG_PID"
	assert_equal "$(sha "$d/out2")" "$(sha "$d/in")"
	kernel_mptcp c MPTcpExtMPJoinSynAckRx
	both_links tx
}

@test "mpt-run python3 ForkingTCPServer: two concurrent Linux MPTCP clients, each served by a child forked after accept, digests verified" {
	local f=$BATS_TEST_TMPDIR/t.yaml d=$BATS_TEST_TMPDIR
	two_paths "$f" kernel mpt subflow
	"$MPNET" up "$f"
	serve_mpt s 5807 python3 "$ROOT/tests/bats/forking_sha_server.py" 198.18.2.2 5807 2 >"$d/s.out" 2>"$d/s.err"
	in_host $T c timeout 120 python3 "$ROOT/tests/bats/mptcp_sha_client.py" 198.18.2.2 5807 8388608 >"$d/c1" &
	local c1=$!
	in_host $T c timeout 120 python3 "$ROOT/tests/bats/mptcp_sha_client.py" 198.18.2.2 5807 8388608 >"$d/c2"
	local st2=$?
	wait "$c1" || { cat "$d/c1" "$d/s.out" "$d/s.err"; fail "client 1 failed"; }
	[ "$st2" -eq 0 ] || { cat "$d/c2" "$d/s.out" "$d/s.err"; fail "client 2 failed"; }
	wait "$BG_PID" || { cat "$d/s.out" "$d/s.err"; fail "the forking server failed"; }
	echo "# server: $(tr '\n' ' ' <"$d/s.out")" >&3
	assert_equal "$(jq -r .verified "$d/c1")" true
	assert_equal "$(jq -r .verified "$d/c2")" true
	# two different children, the parent last
	assert_equal "$(jq -r 'select(.pid) | .pid' "$d/s.out" | sort -u | wc -l)" 2
	assert_equal "$(jq -r 'select(.parent) | .served' "$d/s.out")" 2
	kernel_mptcp c MPTcpExtMPJoinSynAckRx
}

@test "mpt-run: a program that writes 16 MiB and exits at once delivers it all; 80 connections one after another" {
	local f=$BATS_TEST_TMPDIR/t.yaml d=$BATS_TEST_TMPDIR
	mkfile "$d/in" 16777216
	two_paths "$f" mpt kernel subflow
	"$MPNET" up "$f"
	# the exit waits (--linger) for the connection to deliver what libmpt buffered
	serve s 5809 timeout 120 mptcpize run nc -l 198.18.2.2 5809 >"$d/out" </dev/null
	run --separate-stderr in_host $T c timeout 60 "$RUN" -- python3 -c '
import socket, sys
s = socket.create_connection(("198.18.2.2", 5809))
s.sendall(open(sys.argv[1], "rb").read())
s.close()' "$d/in"
	[ "$status" -eq 0 ] || { echo "$stderr"; fail "exit $status"; }
	wait "$BG_PID"
	assert_equal "$(sha "$d/out")" "$(sha "$d/in")"
	# ports are given back: more connections than the runtime once held ports for
	serve s 5810 timeout 120 mptcpize run python3 "$ROOT/tests/bats/echo_server.py" 198.18.2.2 5810
	run --separate-stderr in_host $T c timeout 100 "$RUN" -- python3 -c '
import socket
for i in range(80):
    s = socket.create_connection(("198.18.2.2", 5810), timeout=10)
    s.sendall(b"%d" % i)
    assert s.recv(8) == b"%d" % i
    s.close()
print("80 ok")'
	[ "$status" -eq 0 ] || { echo "$stderr"; fail "exit $status"; }
	assert_equal "$output" "80 ok"
}

@test "mpt-run's options reach libmpt: --endpoint opens the join, -P ndiffports:3 two more, --no-mptcp none" {
	local f=$BATS_TEST_TMPDIR/t.yaml d=$BATS_TEST_TMPDIR p=5830 j0 c0
	mkfile "$d/in" 4194304
	two_paths "$f" mpt kernel # no endpoint in the namespace: the options decide
	"$MPNET" up "$f"
	# one connection sending 4 MiB to Linux (nc -l), the file checked; the kernel's
	# join and MP_CAPABLE counters grow by $1 and $2
	one() { # joins capable mpt-run-options...
		local joins=$1 capable=$2
		shift 2
		j0=$(kstat s MPTcpExtMPJoinAckRx)
		c0=$(kstat s MPTcpExtMPCapableSYNRX)
		p=$((p + 1))
		serve s $p timeout 60 mptcpize run nc -l 198.18.2.2 $p >"$d/out" </dev/null
		run --separate-stderr in_host $T c timeout 60 "$RUN" "$@" -- nc -N 198.18.2.2 $p <"$d/in"
		[ "$status" -eq 0 ] || { echo "$stderr"; fail "mpt-run $* exit $status"; }
		wait "$BG_PID"
		assert_equal "$(sha "$d/out")" "$(sha "$d/in")"
		echo "# mpt-run $*: joins $(($(kstat s MPTcpExtMPJoinAckRx) - j0)), MP_CAPABLE $(($(kstat s MPTcpExtMPCapableSYNRX) - c0))" >&3
		assert_equal "$(($(kstat s MPTcpExtMPJoinAckRx) - j0))" "$joins"
		assert_equal "$(($(kstat s MPTcpExtMPCapableSYNRX) - c0))" "$capable"
	}
	one 0 1
	one 1 1 --endpoint 198.18.1.1,subflow
	one 2 1 -P ndiffports:3 -S roundrobin -C lia
	one 0 0 --no-mptcp
	run --separate-stderr in_host $T c "$RUN" --endpoint 10.9.9.9,subflow -- nc -N 198.18.2.2 1 </dev/null
	[[ "$stderr" == *"no interface here has that address; give --endpoint an address of this host"* ]] ||
		fail "unexpected: $stderr"
}

@test "mpt-run: the calls as a program sees them (non-blocking connect, O_NONBLOCK, flags, options, dup/dup2, refused, bad arguments' errno as the kernel's)" {
	local f=$BATS_TEST_TMPDIR/t.yaml d=$BATS_TEST_TMPDIR
	two_paths "$f" mpt kernel
	"$MPNET" up "$f"
	serve s 5808 timeout 120 mptcpize run python3 "$ROOT/tests/bats/echo_server.py" 198.18.2.2 5808
	run --separate-stderr in_host $T c timeout 60 "$RUN" -- python3 "$ROOT/tests/bats/preload_semantics.py" 198.18.2.2 5808 5809
	echo "# $(jq -c 'keys | length' <<<"$output") checks" >&3
	[ "$status" -eq 0 ] || { echo "$stderr"; jq 'with_entries(select(.value != "ok"))' <<<"$output"; fail "exit $status"; }
}

@test "mpt-run: loopback stays the kernel's, a failed start says how to fix it, bad options are refused" {
	local f=$BATS_TEST_TMPDIR/t.yaml d=$BATS_TEST_TMPDIR
	two_paths "$f" mpt kernel
	"$MPNET" up "$f"
	mkfile "$d/in" 1048576
	# a program talking to itself on 127.0.0.1 under mpt-run: both ends kernel sockets
	run --separate-stderr in_host $T c timeout 60 "$RUN" --log "$d/log" -- python3 -c '
import hashlib, socket, sys, threading
data = open(sys.argv[1], "rb").read()
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(1)
got = []
def srv():
    c, _ = l.accept(); b = b""
    while True:
        x = c.recv(65536)
        if not x: break
        b += x
    got.append(b)
t = threading.Thread(target=srv); t.start()
s = socket.socket(); s.connect(l.getsockname()); s.sendall(data); s.close(); t.join()
print(hashlib.sha256(got[0]).hexdigest())' "$d/in"
	[ "$status" -eq 0 ] || { echo "$stderr"; cat "$d/log"; fail "loopback under mpt-run failed"; }
	assert_equal "$output" "$(sha "$d/in")"
	grep -q "is the kernel's" "$d/log"
	# outside a namespace with addresses (only lo): one line naming the fix
	run --separate-stderr unshare -n "$RUN" -- python3 -c '
import socket, sys
try:
    socket.socket()
except OSError as e:
    sys.exit(3 if e.errno else 4)'
	assert_equal "$status" 3
	assert_equal "$(wc -l <<<"$stderr")" 1
	[[ "$stderr" == *"libmpt did not start"*"mpnet exec"* ]] || fail "unexpected: $stderr"
	run --separate-stderr "$RUN" --scheduler nosuch -- true
	assert_equal "$status" 2
	[[ "$stderr" == *"--scheduler: 'nosuch' is not a scheduler"* ]]
}
