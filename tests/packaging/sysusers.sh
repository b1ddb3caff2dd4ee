#!/bin/sh
# sysusers.sh SRCDIR - sysusers.d and tmpfiles.d files apply cleanly to an
# empty root: three users, connectd's and dohd's in group egressjail, and
# /run/egressjail 1770 root:egressjail.
T=sysusers
. "$(dirname "$0")/lib.sh"
set -u

src=${1:?usage: sysusers.sh SRCDIR}
need_tools systemd-sysusers systemd-tmpfiles
need_root "systemd-tmpfiles --root chowns"
root=$(mktemp -d /tmp/egressjail-sysusers.XXXXXX)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/etc" "$root/run"

systemd-sysusers --root="$root" - <"$src/packaging/sysusers.d/egressjail.conf" \
    >/dev/null 2>"$root/err" || { cat "$root/err" >&2; fail "systemd-sysusers"; }
for u in egressjail egress-connect egress-dns; do
	grep -q "^$u:" "$root/etc/passwd" || fail "no user $u"
	grep "^$u:" "$root/etc/passwd" | grep -q ':/usr/sbin/nologin$\|:/sbin/nologin$' ||
	    fail "$u has a login shell"
done
members=$(sed -n 's/^egressjail:x:[0-9]*://p' "$root/etc/group")
for u in egress-connect egress-dns; do
	echo ",$members," | grep -q ",$u," || fail "$u not in group egressjail"
done

systemd-tmpfiles --root="$root" --create - \
    <"$src/packaging/tmpfiles.d/egressjail.conf" 2>"$root/err" ||
    { cat "$root/err" >&2; fail "systemd-tmpfiles"; }
gid=$(sed -n 's/^egressjail:x:\([0-9]*\):.*/\1/p' "$root/etc/group")
st=$(stat -c '%a %u %g' "$root/run/egressjail" 2>/dev/null)
[ "$st" = "1770 0 $gid" ] || fail "/run/egressjail is \"$st\", want \"1770 0 $gid\""
ok "3 users, group egressjail ($members), /run/egressjail 1770 root:egressjail"
