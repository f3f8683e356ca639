#!/usr/bin/env bash
# Former `make bench` (the orchestrator measurements); they are now the first
# section of bench/suite.sh's report.  Kept so existing habits still work.
exec "$(dirname "$0")/suite.sh" "$@"
