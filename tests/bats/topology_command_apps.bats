#!/usr/bin/env bats
# Command apps (docs/TOPOLOGY.md, "Command apps"): any program as a topology app,
# run by `mpnet run` under its host's stack.  An unmodified iperf3 from a libmpt
# host (mpt-run) to a kernel MPTCP host (mptcpize run) over two 20 Mbit/s paths,
# and curl on a kernel host fetching a random file from python3's http.server on a
# libmpt host over IPv6: summary.json has both, exit codes 0, goodput from the link
# counters within what the links carry; the file's SHA-256 at the client equals
# the original; iperf3's receiver counted more than one path carries; both ends
# of each app spoke MPTCP (MP_CAPABLE answered, the joins too).  A failing client command is
# the run's failure, with its exit code and its stderr kept.
load helpers
bats_require_minimum_version 1.5.0

T=bt-cmd

setup_file() {
	command -v iperf3 && command -v mptcpize && command -v curl && command -v python3 ||
		skip "needs iperf3, mptcpize, curl and python3 (ci/deps.sh test)"
}

teardown() { cleanup_all; }

sha() { sha256sum "$1" | cut -d' ' -f1; }

@test "command apps: iperf3 libmpt -> kernel MPTCP over two paths and curl from a libmpt http.server, goodput from the link counters, the file's SHA-256 equal" {
	local d=$BATS_TEST_TMPDIR f=$BATS_TEST_TMPDIR/cmd.yaml out=$BATS_TEST_TMPDIR/run
	mkdir -p "$d/www"
	head -c 6000000 /dev/urandom >"$d/www/f.bin"
	cat >"$f" <<-Y
	name: $T
	hosts:
	  c: { stack: mpt }
	  s: { stack: kernel }
	  k: { stack: kernel }
	  m: { stack: mpt }
	links:
	  - { name: wifi, between: [c, s], rate: 20mbit }
	  - { name: lte, between: [c, s], rate: 20mbit, endpoint: [subflow] }
	  - { name: wan, between: [k, m], rate: 20mbit }
	apps:
	  - name: iperf
	    client: { host: c, command: "iperf3 -c {server_addr} -p {port} -t 3 -J" }
	    server: { host: s, command: "iperf3 -s -1 -p {port}" }
	    timeout: 60s
	  - name: web
	    client: { host: k, command: "curl -sS -o {run_dir}/got.bin http://{server_addr_url}:{port}/f.bin && nstat -az MPTcpExtMPCapableSYNACKRX" }
	    server: { host: m, command: "exec python3 -m http.server {port} --bind {server_addr} --directory $d/www" }
	    ipv6: true
	    timeout: 60s
	Y
	run --separate-stderr "$MPNET" run "$f" --out "$out" --quiet
	[ "$status" -eq 0 ] || {
		echo "$stderr"
		jq -c '.apps[] | {name, status, exit}' "$out/summary.json"
		tail -n 5 "$out"/apps/*.stderr
	}
	assert_success
	run jq -r '[.apps[] | "\(.name) \(.mode) \(.exit.client) \(.status) \(.goodput_source)"] | join(",")' "$out/summary.json"
	assert_output "iperf command 0 ok link_counters,web command 0 ok link_counters"

	# iperf3: while it moved data, more than one 20 Mbit/s path, at most both (wire
	# bytes, 10 % over for HTB's burst); over the client's whole run (which may
	# include mpt-run's wait for its connections to close at exit) above 0 and at
	# most both
	local g tg
	g=$(jq '.apps[0].goodput_mbps' "$out/summary.json")
	tg=$(jq '.apps[0].transfer_goodput_mbps' "$out/summary.json")
	echo "# iperf3 libmpt -> kernel, link counters: $tg Mbit/s over $(jq '.apps[0].transfer_seconds' "$out/summary.json") s of transfer; $g Mbit/s, $(jq '.apps[0].bytes' "$out/summary.json") bytes over the client's $(jq '.apps[0].seconds' "$out/summary.json") s" >&3
	awk -v g="$tg" 'BEGIN { exit !(g > 20 && g <= 44) }' || fail "iperf3 transfer goodput $tg"
	awk -v g="$g" 'BEGIN { exit !(g > 0 && g <= 44) }' || fail "iperf3 goodput $g"
	run jq -r '.apps[0] | [.direction, ([.link_bytes[] | select(.bytes > 1000000) | .link] | sort | join("+"))] | join(" ")' "$out/summary.json"
	assert_output "upload lte+wifi"
	# iperf3's receiver counted the bytes (its report is the client's stdout)
	local got
	got=$(jq -r .end.sum_received.bytes "$out/apps/iperf-client.stdout")
	echo "# iperf3's receiver: $got bytes in 3 s" >&3
	[ "$got" -gt 9000000 ] || fail "iperf3 received only $got bytes"
	# the kernel server spoke MPTCP: it answered libmpt's MP_CAPABLE and MP_JOIN
	grep -Eq '^MPTcpExtMPCapableSYNACKRX +[1-9]' "$out/apps/iperf-client.mpt-run.log"
	grep -Eq '^MPTcpExtMPJoinSynAckRx +[1-9]' "$out/apps/iperf-client.mpt-run.log"

	# curl: the file arrived whole, over IPv6 (the URL's brackets), at most the link rate
	assert_equal "$(sha "$out/got.bin")" "$(sha "$d/www/f.bin")"
	g=$(jq '.apps[1].goodput_mbps' "$out/summary.json")
	tg=$(jq '.apps[1].transfer_goodput_mbps' "$out/summary.json")
	echo "# curl kernel <- libmpt http.server, link counters: $tg Mbit/s of transfer, $g Mbit/s over the client's run" >&3
	awk -v g="$tg" 'BEGIN { exit !(g > 2 && g <= 22) }' || fail "curl transfer goodput $tg"
	awk -v g="$g" 'BEGIN { exit !(g > 2 && g <= 22) }' || fail "curl goodput $g"
	run jq -r '.apps[1] | "\(.direction) \(.bytes >= 6000000) \(.server_address)"' "$out/summary.json"
	assert_output "download true 2001:db8:0:2::2"
	grep -q 'GET /f.bin HTTP/1.1" 200' "$out/apps/web-server.stderr"
	# curl under mptcpize spoke MPTCP: libmpt answered its MP_CAPABLE (the kernel's
	# counter, printed by the client command after curl)
	grep -Eq '^MPTcpExtMPCapableSYNACKRX +[1-9]' "$out/apps/web-client.stdout"
	grep -q 'listening on port 5202$' "$out/apps/web-server.mpt-run.log"
	# the server was stopped when curl ended; that is no error
	run jq -r '.apps[1] | "\(.server_stopped) \(.exit.server)"' "$out/summary.json"
	assert_output --regexp '^true (0|143|137)$'
	# time series from the link counters
	grep -q '^[0-9.]*,web,rx_bytes,,[1-9]' "$out/timeseries.csv"
	assert_equal "$(ns_of $T)" ""
}

@test "command apps: a failing client command fails the run with its exit code and keeps its stderr" {
	local f=$BATS_TEST_TMPDIR/fail.yaml out=$BATS_TEST_TMPDIR/run
	cat >"$f" <<-Y
	name: $T
	hosts:
	  c: { stack: mpt }
	  s: { stack: kernel }
	links:
	  - { name: wifi, between: [c, s], rate: 20mbit }
	apps:
	  - name: bad
	    client: { host: c, command: "echo 'no luck with {server_addr}' >&2; false" }
	    server: { host: s, command: "exec python3 -m http.server {port}" }
	Y
	run --separate-stderr "$MPNET" run "$f" --out "$out" --quiet
	[ "$status" -eq 1 ] || echo "$stderr"
	[ "$status" -eq 1 ]
	run jq -r '.apps[0] | "\(.exit.client) \(.error)"' "$out/summary.json"
	assert_output "1 client exited with 1 (see apps/bad-client.stderr)"
	assert_equal "$(cat "$out/apps/bad-client.stderr")" "no luck with 198.18.0.2"
	assert_equal "$(ns_of $T)" ""
	[ -z "$(live_procs 'http.server')" ] || fail "the server outlived the run"
}

@test "command apps: a server command that exits before listening fails the run with its exit code" {
	local f=$BATS_TEST_TMPDIR/srv.yaml out=$BATS_TEST_TMPDIR/run
	cat >"$f" <<-Y
	name: $T
	hosts:
	  c: { stack: kernel }
	  s: { stack: mpt }
	links:
	  - { name: wifi, between: [c, s] }
	apps:
	  - name: gone
	    client: { host: c, command: "true" }
	    server: { host: s, command: "echo cannot serve >&2; exit 3" }
	Y
	run --separate-stderr "$MPNET" run "$f" --out "$out" --quiet
	[ "$status" -eq 1 ]
	run jq -r '.apps[0] | "\(.exit.server) \(.error)"' "$out/summary.json"
	assert_output "3 server exited with 3 before listening on port 5201 (see apps/gone-server.stderr)"
	assert_equal "$(cat "$out/apps/gone-server.stderr")" "cannot serve"
	assert_equal "$(ns_of $T)" ""
}

@test "command apps: mpt-perf keys, unknown placeholders and empty commands are FILE:LINE:COL errors, exit 2, nothing created" {
	local f=$BATS_TEST_TMPDIR/bad.yaml out=$BATS_TEST_TMPDIR/run
	one() { # app-line expected
		printf 'name: %s\nhosts: { c: { stack: kernel }, s: { stack: kernel } }\nlinks: [ { name: l, between: [c, s] } ]\napps:\n%s\n' "$T" "$1" >"$f"
		run --separate-stderr "$MPNET" run "$f" --out "$out"
		[ "$status" -eq 2 ] || fail "exit $status for: $1"
		[[ "$stderr" == *"$2"* ]] || fail "got: $stderr"
		[ ! -e "$out" ] || fail "$out was created"
		assert_equal "$(ns_of $T)" ""
	}
	one '  - { name: x, client: { host: c, command: "true" }, server: { host: s, command: "cat -vE" }, bytes: 1MB }' \
		"$f:5:95: app \"x\": bytes: is for mpt-perf apps"
	one '  - { name: x, client: { host: c, command: "nc {addr} {port}" }, server: { host: s, command: "nc -l {port}" } }' \
		"$f:5:44: app \"x\": unknown placeholder \"{addr}\" in the client command"
	one '  - { name: x, client: { host: c, command: "true" }, server: { host: s, command: "" } }' \
		"$f:5:82: app \"x\": the server command is empty"
}
