#!/usr/bin/env bash
# Print a topology: a chain of N hosts (N >= 2), h0 - h1 - ... - h(N-1), the ends on
# kernel MPTCP, every host between them a router.  Usage: bench/gen-chain.sh NAME N
set -euo pipefail
name=$1 n=$2
echo "name: $name"
echo "hosts:"
echo "  h0: { stack: kernel }"
for i in $(seq 1 $((n - 2))); do echo "  h$i: { forward: true }"; done
echo "  h$((n - 1)): { stack: kernel }"
echo "links:"
for i in $(seq 0 $((n - 2))); do echo "  - { name: l$i, between: [h$i, h$((i + 1))] }"; done
