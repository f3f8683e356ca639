#!/usr/bin/env bats
# Runs last: no suite may leave namespaces, veths or processes behind.
load helpers

@test "no namespace, veth or process outlives the test run" {
	run bash -c "ip netns list | awk '{print \$1}' | grep -E '^(mpnl?-|mpnt-)'"
	assert_output ""
	run ip -o link show type veth
	assert_output ""
	run live_procs "build/bin/(mpt-perf|mpnet-linkemu|mpnet) "
	assert_output ""
	[ ! -e /run/mpnet ] || [ -z "$(ls -A /run/mpnet)" ]
}
