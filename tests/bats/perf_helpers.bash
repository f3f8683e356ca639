# Transfers between two hosts of an up topology ($T), for the libmpt suites.
# Needs helpers.bash loaded first.

kstat() { # host counter: the kernel's absolute value in that host (0 when absent)
	local v
	v=$(in_host $T "$1" nstat -az "$2" | awk -v c="$2" '$1 == c { print $2 }')
	echo "${v:-0}"
}

# Start a server in host $1 with stack $2 on port $3; its JSON goes to $4; more
# arguments go to mpt-perf.  Waits for --ready-fd; the server's pid is $SERVER_PID.
start_server() {
	local ready=$BATS_TEST_TMPDIR/ready.$3 h=$1 s=$2 p=$3 j=$4
	shift 4
	rm -f "$ready"
	in_host $T "$h" "$PERF" -s --once --stack "$s" -p "$p" -J --ready-fd 3 "$@" \
		3>"$ready" >"$j" 2>"$j.err" &
	SERVER_PID=$!
	for _ in $(seq 100); do
		grep -q ready "$ready" 2>/dev/null && return 0
		sleep 0.05
	done
	cat "$j.err" >&2
	return 1
}

# One transfer: xfer server-host server-stack client-host client-stack addr port
# [client options...]; both ends' JSON must say verified and name the bytes.
xfer() {
	local sh=$1 ss=$2 ch=$3 cs=$4 addr=$5 port=$6
	shift 6
	local sj=$BATS_TEST_TMPDIR/s.$port.json cj=$BATS_TEST_TMPDIR/c.$port.json
	start_server "$sh" "$ss" "$port" "$sj"
	run --separate-stderr in_host $T "$ch" timeout "${XFER_TIMEOUT:-600}" "$PERF" -c "$addr" -p "$port" --stack "$cs" -J "$@"
	echo "$output" >"$cj"
	wait "$SERVER_PID" # only the server: a capture may run in the background
	[ "$status" -eq 0 ] || { echo "$stderr"; cat "$cj" "$sj.err"; fail "client exit $status"; }
	assert_equal "$(jq -r .verified "$cj")" true
	assert_equal "$(jq -r .verified "$sj")" true
	assert_equal "$(jq -r .error "$sj")" null
	echo "# $cs $ch -> $ss $sh ($*): $(jq -r '"\(.bytes) bytes, \(.goodput_mbps | floor) Mbit/s"' "$cj")" >&3
}

# Two 20 Mbit/s access paths from host c to a router r in front of host s (as the
# kernel's simult_flows.sh), topology $T.  $1 file, $2 c's stack, $3 s's stack,
# $4 c's lte endpoint flags (optional), $5 more settings for both access links
# (optional, e.g. "emulator: user").
two_paths() {
	cat >"$1" <<-Y
	name: $T
	hosts:
	  c: { stack: $2 }
	  r: { forward: true }
	  s: { stack: $3 }
	links:
	  - { name: wifi, between: [c, r], rate: 20mbit${5:+, $5} }
	  - { name: lte, between: [c, r], rate: 20mbit${5:+, $5}${4:+, endpoint: [$4]} }
	  - { name: lan, between: [r, s] }
	Y
}

kmptcp() { # host: the kernel's non-zero MPTcpExt counters, for the log
	in_host $T "$1" nstat -az | grep MPTcpExt | awk '$2 != 0' | sed 's/^/#   /' >&3
}

mpt_clean() { # json: libmpt's own view: MPTCP, no mapping refused, no bad option, no HMAC failure
	run jq -e '.mptcp.fallback == false and (.counters.MPTcpExtDSSNotMatching // 0) == 0
		and (.counters.MpnetExtMPTcpOptMalformed // 0) == 0
		and (.counters.MPTcpExtMPJoinSynAckHMacFailure // 0) == 0
		and (.counters.MPTcpExtMPJoinAckHMacFailure // 0) == 0' "$1"
	assert_success
}

kstat_ge() { # host counter N: succeeds once the kernel's counter in that host reached N
	[ "$(kstat "$1" "$2")" -ge "$3" ]
}
