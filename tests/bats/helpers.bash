# Shared by the Bats suites.  Tests run from the repository root, as root.
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
MPNET=$ROOT/build/bin/mpnet
PERF=$ROOT/build/bin/mpt-perf
FIX=$ROOT/tests/bats/fixtures

# The suite's own namespace prefix: mpnt-T-H / mpntl-T-L, so that `make test`
# (and its `mpnet down --all`) never touches a user's mpn-* topologies.  A prefix
# given in the environment is kept (MPNET_NS_PREFIX=mpf bats FILE), so that suites
# run by hand beside `make test` never tear down each other's namespaces.
export MPNET_NS_PREFIX=${MPNET_NS_PREFIX:-mpnt}
NSP=$MPNET_NS_PREFIX

# Namespaces of one topology (by name), for assertions.
ns_of() { ip netns list | awk '{print $1}' | grep -E "^${NSP}l?-$1-" || true; }

# Every mpnet namespace, whatever topology.
all_mpnet_ns() { ip netns list | awk '{print $1}' | grep -E "^${NSP}l?-" || true; }

# Run a command inside a host of an up topology.
in_host() { # topology-name host cmd...
	local t=$1 h=$2
	shift 2
	ip netns exec "$NSP-$t-$h" "$@"
}

# Bytes a host's interface sent.
tx_bytes() { # topology host ifname
	ip -n "$NSP-$1-$2" -s -j link show dev "$3" | jq '.[0].stats64.tx.bytes'
}

# Take down anything a test left, whatever happened in it.
cleanup_all() {
	"$MPNET" down --all >/dev/null 2>&1 || true
}

# Live (not zombie) processes whose command line matches a regex.  A process
# killed with its parent can linger as a zombie until init reaps it; that is not
# a leftover.
live_procs() {
	ps -eo pid=,stat=,args= | awk -v re="$1" '$2 !~ /^Z/ && $0 ~ re && !/awk -v re/'
}

# Wait for something observable instead of a fixed time: run `cmd...` every 50 ms
# until it succeeds, at most BOUND seconds; on timeout say what was awaited and fail.
wait_until() { # bound-seconds cmd...
	local bound=$1 i
	shift
	for ((i = 0; i < bound * 20; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	echo "# waited ${bound} s in vain for: $*" >&2
	return 1
}

# A packet capture that is running when this returns: dumpcap in host HOST of
# topology T on IFACE into FILE (more dumpcap options may follow), started in the
# background; returns once dumpcap says it is capturing and the file has its
# header (tshark's and dumpcap's first start on a new machine takes seconds).
# Its pid is in $CAP_PID; stop_capture ends it and waits.
start_capture() { # topology host iface file [dumpcap options...]
	local t=$1 h=$2 i=$3 f=$4
	shift 4
	rm -f "$f" "$f.err"
	# not through in_host: $! must be the process itself (ip netns exec and timeout
	# exec / relay), so that stop_capture's signal reaches dumpcap
	ip netns exec "$NSP-$t-$h" timeout 300 dumpcap -q -i "$i" -w "$f" "$@" 2>"$f.err" 3>&- &
	CAP_PID=$!
	wait_until 60 capture_running "$f" || { cat "$f.err" >&2; return 1; }
}
capture_running() { grep -q '^Capturing on' "$1.err" && [ -s "$1" ]; }
stop_capture() { # SIGTERM: a background job ignores SIGINT; dumpcap ends cleanly on TERM
	kill -TERM "$CAP_PID" 2>/dev/null || true
	wait "$CAP_PID" 2>/dev/null || true
}

# An interface counter of a host (namespace), e.g. if_stat T c wifi tx_bytes.
if_stat() { # topology host ifname counter
	ip netns exec "$NSP-$1-$2" cat "/sys/class/net/$3/statistics/$4"
}
# Succeeds once the counter has reached N.
if_stat_ge() { # topology host ifname counter N
	[ "$(if_stat "$1" "$2" "$3" "$4")" -ge "$5" ]
}
# Succeeds once a TCP port listens in a host.
listening() { # topology host port
	in_host "$1" "$2" ss -Hltn "sport = :$3" | grep -q .
}
