#!/usr/bin/env bats
# Runs last: no suite may leave namespaces, veths or processes behind.
load helpers

@test "no namespace, veth or process outlives the test run" {
	run bash -c "ip netns list | awk '{print \$1}' | grep -E '^$NSP'"
	assert_output ""
	run ip -o link show type veth
	assert_output ""
	run live_procs "$ROOT/build/bin/(mpt-perf|mpnet-linkemu|mpnet) "
	assert_output ""
	[ -z "$(ls -d /run/mpnet/${NSP}-* 2>/dev/null)" ]
}
