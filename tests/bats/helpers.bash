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
