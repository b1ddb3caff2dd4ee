#!/bin/sh
# check_workload.sh EGRESSCTL EXAMPLE - egressctl check validates
# [workload NAME] sections with file:line errors, and refuses a file that
# has one while the daemons do not enforce them.
set -u
ctl=$1 example=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT INT TERM
fail() { echo "FAIL: $*"; echo "--- output:"; cat "$dir/out"; exit 1; }

# the example's commented-out workload, switched on
sed -e 's/^;\[workload ci\]/[workload ci]/' -e 's/^;match = /match = /' \
    -e 's/^;allow = registry/allow = registry/' -e 's/^;mode = enforce/mode = enforce/' \
    -e 's/^\(interface = docker0\)$/\1\ninterface = br-*/' \
    -e 's/^\[jail\]$/[jail]\nuser = agent/' \
    "$example" >"$dir/t.conf"
grep -q '^\[workload ci\]' "$dir/t.conf" || fail "example has no workload"
line=$(grep -n '^\[workload ci\]' "$dir/t.conf" | cut -d: -f1)
"$ctl" --no-user-check -c "$dir/t.conf" check >"$dir/out" 2>&1
rc=$?
[ "$rc" -eq 2 ] || fail "exit status $rc, want 2"
grep -q "t.conf:$line: \[workload ci\]: per-workload policy is not enforced" \
    "$dir/out" || fail "the gate at line $line"
[ "$(grep -c 'workload' "$dir/out")" -eq 1 ] ||
	fail "the switched-on example has errors besides the gate"

# errors name file:line, section and key; overlaps name both lines
cat >"$dir/u.conf" <<CONF
[jail]
interface = br-*
user = agent
[chain]
hop = http://10.20.0.2:3128
[dohd]
upstream = https://dns.example/dns-query 192.0.2.53
[workload a]
match = iface:br-*
match = uid:agent
[workload b]
match = iface:br-ci
match = uid:nobody
mode = maybe
CONF
"$ctl" --no-user-check -c "$dir/u.conf" check >"$dir/out" 2>&1
[ $? -eq 2 ] || fail "u.conf: want exit 2"
for want in \
    'u.conf:14: \[workload b\] mode: "maybe":' \
    'u.conf:13: \[workload b\] match: "uid:nobody": not a jailed user' \
    'u.conf:12: \[workload b\] match: "iface:br-ci": overlaps \[workload a\] match "iface:br-\*" (.*u.conf:9)' \
    'u.conf:8: \[workload a\]: per-workload policy is not enforced'; do
	grep -q "$want" "$dir/out" || fail "lacks: $want"
done
echo ok
