#!/bin/sh
# check_errors.sh EGRESSCTL - five mistakes on five lines: `egressctl check`
# reports every one of them, by line, and exits 2.
set -u
ctl=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT INT TERM
fail() { echo "FAIL: $*"; echo "--- output:"; cat "$dir/out"; exit 1; }

mkdir "$dir/allow.d"
printf 'ok.example\n' >"$dir/allow.d/a.allow"
# root stands in for every user and group, so the lookups run and pass
cat >"$dir/bad.conf" <<'CONF'
[jail]
interface = br0
group = root
colour = blue
[netjaild]
user = root
[chain]
hop = http://10.20.0.2:3128
probe_interval = 10 seconds
hop = htp://proxy.example:3128
[connectd]
user = root
[dohd]
user = root
upstream = https://dns.example/dns-query 192.0.2.53
[policy]
allow_file = allow.d/*.allow
permit_cidr = 10.20.30.1/24
allow = **.
CONF

"$ctl" -c "$dir/bad.conf" check >"$dir/out" 2>&1
rc=$?
[ "$rc" -eq 2 ] || fail "exit status $rc, want 2"
for want in \
    'bad.conf:4: \[jail\] colour: "blue": unknown key' \
    'bad.conf:9: \[chain\] probe_interval: "10 seconds":' \
    'bad.conf:10: \[chain\] hop: "htp://proxy.example:3128": scheme must be http or https' \
    'bad.conf:18: \[policy\] permit_cidr: "10.20.30.1/24": host bits set' \
    'bad.conf:19: \[policy\] allow: "\*\*\.":'; do
	grep -q "$want" "$dir/out" || fail "missing: $want"
done
n=$(grep -c '^[^ ]*bad.conf:[0-9]*: ' "$dir/out")
[ "$n" -eq 5 ] || fail "$n errors reported, want exactly 5"
grep -q '5 errors in' "$dir/out" || fail "no error count"

# the same with the option after the subcommand
"$ctl" check -c "$dir/bad.conf" >"$dir/out" 2>&1
rc=$?
[ "$rc" -eq 2 ] || fail "check -c: exit status $rc, want 2"

# a file that does not exist is a config error too
"$ctl" -c "$dir/none.conf" check >"$dir/out" 2>&1
rc=$?
[ "$rc" -eq 2 ] || fail "missing file: exit status $rc, want 2"
grep -q 'none.conf: cannot open' "$dir/out" || fail "missing file not named"

# bad usage exits 2 (egressctl(8)): never taken for "daemon not ready"
"$ctl" frobnicate >"$dir/out" 2>&1
rc=$?
[ "$rc" -eq 2 ] || fail "unknown subcommand: exit status $rc, want 2"
grep -q 'unknown subcommand "frobnicate"' "$dir/out" || fail "no usage error"
"$ctl" check extra >"$dir/out" 2>&1
[ $? -eq 2 ] || fail "stray operand accepted"
echo "PASS"
