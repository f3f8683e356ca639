#!/bin/bash
# Run packetdrill's MPTCP scripts against libmpt (or, with PD_TARGET=linux, against
# the kernel) and print one line per script: PASS|FAIL script reason-first-line, then
# a count line.  See docs/PACKETDRILL.md.
#
#   tests/packetdrill/run.sh PACKETDRILL_BINARY [SCRIPT...]
#
# SCRIPT defaults to every *.pkt under gtests/net/mptcp of the packetdrill tree the
# binary was built in.  Each run happens inside a network namespace of its own,
# created here and deleted on exit, so the scripts' sysctl and `ip mptcp` lines and
# the kernel run's tun device never touch the machine's own namespace.
#
# Environment: PD_TARGET=libmpt (default) or linux; PD_SO the shim library (default
# build/lib/libmpt-packetdrill.so of this tree); PD_TIMEOUT seconds per script (60).
set -u

if [ $# -lt 1 ]; then
	echo "usage: $0 PACKETDRILL_BINARY [SCRIPT...]" >&2
	exit 2
fi
pd=$(realpath "$1")
shift
here=$(cd "$(dirname "$0")/../.." && pwd)
target=${PD_TARGET:-libmpt}
so=$(realpath -m "${PD_SO:-$here/build/lib/libmpt-packetdrill.so}")
tmo=${PD_TIMEOUT:-60}
[ -x "$pd" ] || { echo "$pd: not executable" >&2; exit 2; }
if [ "$target" = libmpt ] && [ ! -f "$so" ]; then
	echo "$so: missing (make build/lib/libmpt-packetdrill.so)" >&2
	exit 2
fi

if [ $# -eq 0 ]; then
	mptcp_dir=$(dirname "$pd")/../mptcp
	mapfile -t scripts < <(find "$mptcp_dir" -name '*.pkt' | sort)
else
	scripts=("$@")
fi

ns=pd$target
ip netns add "$ns" || exit 2
trap 'ip netns del "$ns"' EXIT
ip -netns "$ns" link set lo up
if [ "$target" = libmpt ]; then
	# the scripts' common/defaults.sh puts a qdisc on packetdrill's tun0, which the
	# shim does not create: a dummy device of that name takes it
	ip -netns "$ns" tuntap add dev tun0 mode tun && ip -netns "$ns" link set tun0 up
fi

pass=0
n=0
for s in "${scripts[@]}"; do
	s=$(realpath "$s")
	name=${s#"$(realpath "$(dirname "$pd")/..")/"}
	flags=()
	if [ "$target" = libmpt ]; then
		# common/server.sh adds its second address to $OPT_LOCAL_DEV, which
		# packetdrill sets only for its own tun device
		flags=(--so_filename="$so")
		export OPT_LOCAL_DEV=tun0
	fi
	# scripts name their helpers relative to their own directory
	out=$(cd "$(dirname "$s")" &&
		timeout "$tmo" ip netns exec "$ns" "$pd" "${flags[@]}" "$(basename "$s")" 2>&1)
	rc=$?
	n=$((n + 1))
	if [ $rc -eq 0 ]; then
		pass=$((pass + 1))
		echo "PASS $name"
	else
		# packetdrill's own "script.pkt:LINE: ..." line, else the first line that is
		# not a helper's sysctl warning
		reason=$(printf '%s\n' "$out" | grep -E -m 1 '\.pkt:[0-9]+: ')
		[ -n "$reason" ] ||
			reason=$(printf '%s\n' "$out" | grep -v -e '^sysctl: ' -e '^$' | head -n 1)
		[ $rc -eq 124 ] && reason="timeout after ${tmo}s; $reason"
		echo "FAIL $name ${reason:-exit $rc}"
	fi
	# a fresh namespace state (endpoints, limits) for the next script
	ip -netns "$ns" mptcp endpoint flush 2>/dev/null
	[ "$target" = libmpt ] && tc -n "$ns" qdisc del dev tun0 root 2>/dev/null
done
echo "$target: $pass/$n passed"
[ $pass -eq $n ]
