#!/bin/sh
# systemd-security.sh SRCDIR - "systemd-analyze security --offline=yes"
# exposure of each service against its limit: connectd and dohd at most
# 2.0, netjaild (CAP_NET_ADMIN) at most 3.0.  Also runs
# "systemd-analyze verify" on every unit and fails on anything but the
# executables not being installed on this machine.
T=systemd-security
. "$(dirname "$0")/lib.sh"
set -u

src=${1:?usage: systemd-security.sh SRCDIR}
need_tools systemd-analyze
dir=$src/packaging/systemd
[ -d "$dir" ] || fail "no $dir"

probe=$(cd "$dir" && systemd-analyze security --offline=yes connectd.service 2>&1)
echo "$probe" | grep -q "Overall exposure level" ||
    skip "systemd-analyze security --offline=yes does not work here"

summary=""
bad=""
for pair in netjaild:3.0 connectd:2.0 dohd:2.0; do
	unit=${pair%%:*}.service
	limit=${pair#*:}
	out=$(cd "$dir" && systemd-analyze security --offline=yes "$unit" 2>&1)
	score=$(echo "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9.]*\).*/\1/p')
	if [ -z "$score" ]; then
		echo "$out" >&2
		fail "no exposure level for $unit"
	fi
	summary="$summary ${pair%%:*}=$score"
	if awk -v s="$score" -v l="$limit" 'BEGIN { exit !(s > l) }'; then
		echo "$out" | grep '✗' >&2
		bad="$bad $unit=$score>$limit"
	fi
done
[ -z "$bad" ] || fail "over the limit:$bad"

# verify: unit syntax and references (binaries need not be installed)
vout=$(cd "$dir" && systemd-analyze verify --man=no *.service *.socket 2>&1 |
    grep -v 'is not executable: No such file or directory' |
    grep -v '^$')
if [ -n "$vout" ]; then
	echo "$vout" >&2
	fail "systemd-analyze verify:$(echo "$vout" | head -n 1)"
fi

ok "exposure$summary (limits 3.0/2.0/2.0), verify clean"
