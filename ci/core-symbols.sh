#!/usr/bin/env bash
# The core-symbol check: the objects of libmpt's core (stack/src/*.c) linked together
# need no symbol from outside themselves except those in the allowlist.
# Usage: ci/core-symbols.sh ALLOWLIST ARCHIVE.a|OBJECT.o...
# Prints one TAP line ("ok - core symbols: ..." or "not ok - ...") and exits 0 / 1;
# exit 2 on a usage error.  Every allowlist line is "SYMBOL reason..." ('#': comment).
set -uo pipefail
if [ $# -lt 2 ] || [ ! -r "$1" ]; then
	echo "usage: $0 ALLOWLIST ARCHIVE.a|OBJECT.o... (ALLOWLIST: stack/core-symbols.allow)" >&2
	exit 2
fi
allow=$1
shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
objs=()
k=0
for f in "$@"; do
	[ -r "$f" ] || { echo "$0: cannot read $f" >&2; exit 2; }
	case "$f" in
	*.a)
		k=$((k + 1))
		abs=$(realpath "$f")
		mkdir -p "$tmp/a$k" && (cd "$tmp/a$k" && ar x "$abs") || exit 2
		;;
	*) objs+=("$f") ;;
	esac
done
while IFS= read -r -d '' o; do objs+=("$o"); done < <(find "$tmp" -name '*.o' -print0)
if [ ${#objs[@]} -eq 0 ]; then
	echo "not ok - core symbols: no objects given"
	exit 1
fi
# One relocatable object: references between core files resolve, what is left is
# what the core needs from the outside.
if ! ld -r -o "$tmp/core.o" "${objs[@]}" 2>"$tmp/ld.err"; then
	cat "$tmp/ld.err" >&2
	echo "not ok - core symbols: ld -r failed"
	exit 1
fi
nm -u "$tmp/core.o" | awk '{print $NF}' | sort -u >"$tmp/need"
grep -vE '^\s*(#|$)' "$allow" | awk '{print $1}' | sort -u >"$tmp/allowed"
bad=$(comm -23 "$tmp/need" "$tmp/allowed" | tr '\n' ' ')
n=$(wc -l <"$tmp/need")
if [ -n "$bad" ]; then
	echo "# undefined symbols outside $allow: $bad"
	echo "not ok - core symbols: ${#objs[@]} objects need ${bad% } (not in $allow)"
	exit 1
fi
echo "ok - core symbols: ${#objs[@]} objects need $n symbols, all in $allow"
