#!/bin/sh
# check_example.sh EGRESSCTL EXAMPLE - the shipped example config passes
# `egressctl check` (users not looked up: the system users need not exist
# on a build host) and the summary shows what it holds.
set -u
ctl=$1 example=$2
out=$(mktemp)
trap 'rm -f "$out"' EXIT INT TERM
fail() { echo "FAIL: $*"; echo "--- output:"; cat "$out"; exit 1; }

"$ctl" --no-user-check -c "$example" check >"$out" 2>&1
rc=$?
[ "$rc" -eq 0 ] || fail "exit status $rc, want 0"
for want in 'allow rules: *8 ' 'chain hops: *1' 'hop 1: http://10.20.0.2:3128' \
    'DoH upstreams: *1' 'jailed interfaces: 1 (docker0)' \
    'direct endpoints: 1' 'https://cloudflare-dns.com:443/dns-query via 1.1.1.1 1.0.0.1'; do
	grep -q "$want" "$out" || fail "summary lacks: $want"
done

"$ctl" check --no-user-check -c "$example" >"$out" 2>&1
rc=$?
[ "$rc" -eq 0 ] || fail "check --no-user-check -c: exit status $rc, want 0"

# with the lookups, the example passes once its users exist here
if getent passwd egressjail >/dev/null && getent passwd egress-connect >/dev/null &&
    getent passwd egress-dns >/dev/null && getent group egressjail >/dev/null; then
	"$ctl" -c "$example" check >"$out" 2>&1 || fail "with user lookups"
else
	"$ctl" -c "$example" check >"$out" 2>&1
	rc=$?
	[ "$rc" -eq 2 ] || fail "missing users: exit status $rc, want 2"
	grep -q 'no such user' "$out" || fail "missing users not reported"
fi
echo "PASS"
