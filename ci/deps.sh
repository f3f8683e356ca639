#!/usr/bin/env bash
# Install the Debian packages a target needs, only those missing.
# Usage: ci/deps.sh build|run|test
set -euo pipefail
what=${1:-build}

build_pkgs=(gcc make pkg-config libnl-3-dev libnl-route-3-dev libnl-genl-3-dev libmnl-dev
	libyaml-dev libjansson-dev libpcap-dev libssl-dev)
run_pkgs=(iproute2 gnuplot-nox nftables)
test_pkgs=(bats bats-assert bats-support iproute2 nftables tshark iputils-ping ethtool
	procps jq python3 clang-format
	iperf3 mptcpize curl netcat-openbsd # mpt-run's applications (libmpt_preload.bats)
	clang libclang-rt-dev) # libFuzzer (tests/fuzz): a Recommends of clang, so named

case "$what" in
build) want=("${build_pkgs[@]}") ;;
run) want=("${build_pkgs[@]}" "${run_pkgs[@]}") ;;
test) want=("${build_pkgs[@]}" "${run_pkgs[@]}" "${test_pkgs[@]}") ;;
*) echo "usage: ci/deps.sh build|run|test" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "mpnet: missing Debian packages: ${missing[*]}" >&2
	echo "mpnet: installing them needs root; run as root, or: sudo apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "mpnet: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
