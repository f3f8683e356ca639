#!/usr/bin/env bash
# Exit with a clear message when not root.  Usage: ci/need-root.sh "what needs it"
if [ "$(id -u)" -ne 0 ]; then
	echo "mpnet: $1, which needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN); run it as root" >&2
	exit 1
fi
