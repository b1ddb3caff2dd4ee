#!/bin/sh
# man-lint.sh SRCDIR - every manual page lints clean with
# "mandoc -T lint -W warning", and each one the design names exists.
T=man-lint
. "$(dirname "$0")/lib.sh"
set -u

src=${1:?usage: man-lint.sh SRCDIR}
need_tools mandoc
pages="netjaild.8 connectd.8 dohd.8 egressctl.8 egressjail.conf.5"
missing=""
for p in $pages; do
	[ -f "$src/man/$p" ] || missing="$missing $p"
done
[ -z "$missing" ] || fail "missing pages:$missing"

out=$(cd "$src/man" && mandoc -T lint -W warning $pages 2>&1)
rc=$?
if [ "$rc" -ne 0 ] || [ -n "$out" ]; then
	echo "$out" >&2
	fail "$(echo "$out" | grep -c .) mandoc message(s) at warning level or above"
fi

# Every key the config file knows is documented in egressjail.conf(5).
keys=$(sed -n 's/^[[:space:]]*{ S_[A-Z]*, "\([a-z_0-9]*\)",.*/\1/p' \
    "$src/libegress/config_keys.c" 2>/dev/null | sort -u)
undoc=""
for k in $keys; do
	grep -q "^\.It Ic $k Ns" "$src/man/egressjail.conf.5" || undoc="$undoc $k"
done
[ -z "$undoc" ] || fail "keys not in egressjail.conf.5:$undoc"

ok "$(echo $pages | wc -w) pages, 0 mandoc warnings, $(echo $keys | wc -w) config keys documented"
