#!/bin/sh
# explain_workload.sh EGRESSCTL - explain decides for one workload:
# --workload NAME, --from SOURCE (address, iface:, uid:, cgroup:), or
# [policy] ("default"); the workload is named in text and JSON, a source
# two workloads match is reported as a conflict and refused (exit 1).
set -u
ctl=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT INT TERM
fail() { echo "FAIL: $*"; echo "--- output:"; cat "$dir/out"; exit 1; }

cat >"$dir/t.conf" <<CONF
[jail]
interface = br-*
user = nobody
runtime_dir = $dir
direct = 10.0.1.215:5432
[chain]
hop = http://10.20.0.2:3128
[dohd]
upstream = https://dns.example/dns-query 192.0.2.53
[policy]
allow = default.example
[workload ci]
match = uid:nobody
match = cidr:172.18.0.5/32
allow = ci.example
direct = db.internal:5432
[workload web]
match = iface:br-web
mode = report
allow = web.example
CONF

# want RC PATTERN... -- ARGS
want() {
	rc=$1
	shift
	pats=
	while [ "$1" != "--" ]; do
		pats="$pats
$1"
		shift
	done
	shift
	"$ctl" -c "$dir/t.conf" --no-user-check explain "$@" >"$dir/out" 2>&1
	got=$?
	[ "$got" -eq "$rc" ] || fail "$*: exit status $got, want $rc"
	echo "$pats" | while IFS= read -r p; do
		[ -z "$p" ] && continue
		grep -q -- "$p" "$dir/out" || { echo "$*: missing: $p"; exit 1; }
	done || fail "$*"
}

# by default [policy]
want 0 'workload  default (\[policy\])' 'default.example:443: allow' -- default.example
want 1 'workload  default' 'ci.example:443: deny: no rule' -- ci.example
# --workload
want 0 'workload  ci$' 'ci.example:443: allow' 'rule "ci.example:443" at .*t.conf:15' \
    -- --workload ci ci.example
want 1 'workload  ci$' 'default.example:443: deny' -- --workload ci default.example
want 0 'workload  web$' 'ci.example:443: allow (report mode): no rule' -- --workload web ci.example
want 1 'workload  default' 'web.example:443: deny' -- --workload default web.example
# a workload's own direct, not another's
want 0 'direct at .*t.conf:16' 'direct endpoint: yes' -- --workload ci db.internal:5432
want 0 'direct endpoint: no' 'report mode' -- --workload web db.internal:5432
want 0 'direct at .*t.conf:5' -- --workload web 10.0.1.215:5432
# mode per workload
want 0 'allow (report mode)' 'mode: report' -- --workload web evil.example
want 1 'evil.example:443: deny' -- --workload ci evil.example
# --from
want 0 'workload  ci (match "uid:nobody" at .*t.conf:13)' 'ci.example:443: allow' \
    -- --from uid:nobody ci.example
want 0 'workload  ci (match "uid:nobody"' -- --from "uid:$(id -u nobody)" ci.example
want 1 'workload  default (\[policy\]: no workload matches' -- --from uid:root ci.example
want 0 'workload  ci (match "cidr:172.18.0.5/32" at .*t.conf:14)' -- --from 172.18.0.5 ci.example
want 0 'workload  web (match "iface:br-web" at .*t.conf:18)' -- --from iface:br-web web.example
want 0 'workload  default' -- --from 172.18.0.6 --from iface:br-other default.example
want 1 'workload  conflict: \[workload ci\] match "cidr:172.18.0.5/32" at .*t.conf:14 and \[workload web\] match "iface:br-web" at .*t.conf:18' \
    'refused: the source matches two workloads' \
    -- --from 172.18.0.5 --from iface:br-web ci.example
want 0 'workload  default' -- --from cgroup:/system.slice/x.service default.example

# JSON names the workload; a conflict has none and is not allowed
"$ctl" -c "$dir/t.conf" --no-user-check --json explain --workload ci ci.example >"$dir/out" 2>&1
[ $? -eq 0 ] || fail "json: want exit 0"
grep -q '"workload":"ci"' "$dir/out" || fail "json: workload"
grep -q '"workload_by":"named"' "$dir/out" || fail "json: workload_by"
"$ctl" -c "$dir/t.conf" --no-user-check --json explain --from 172.18.0.5 \
    --from iface:br-web ci.example >"$dir/out" 2>&1
[ $? -eq 1 ] || fail "json conflict: want exit 1"
grep -q '"workload":null' "$dir/out" || fail "json conflict: workload"
grep -q '"conflict":\["ci","web"\]' "$dir/out" || fail "json conflict: both"
grep -q '"allowed":false' "$dir/out" || fail "json conflict: allowed"
"$ctl" -c "$dir/t.conf" --no-user-check --json explain ci.example >"$dir/out" 2>&1
grep -q '"workload":"default"' "$dir/out" || fail "json: default"
if command -v python3 >/dev/null 2>&1; then
	python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$dir/out" ||
	    fail "json does not parse"
fi

# bad usage: exit 2, never a decision
bad() {
	"$ctl" -c "$dir/t.conf" --no-user-check explain "$@" >"$dir/out" 2>&1
	[ $? -eq 2 ] || fail "$*: want exit 2"
	grep -q "$want_msg" "$dir/out" || fail "$*: message"
}
want_msg='no such workload'; bad --workload nope ci.example
want_msg='no such workload'; bad --workload CI ci.example
want_msg='not both'; bad --workload ci --from uid:nobody ci.example
want_msg='not both'; bad --from uid:nobody --from 172.18.0.5 ci.example
want_msg='want ADDRESS'; bad --from bogus ci.example
want_msg='want ADDRESS'; bad --from 172.18.0.0/24 ci.example
want_msg='iface: wants'; bad --from 'iface:br-*' ci.example
want_msg='cgroup: wants'; bad --from cgroup:rel ci.example
want_msg='at most twice'; bad --from uid:a --from uid:b --from uid:c ci.example
want_msg='usage'; bad --workload ci
want_msg='usage'; bad --workload ci --workload web ci.example
echo PASS
