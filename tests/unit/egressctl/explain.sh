#!/bin/sh
# explain.sh EGRESSCTL - explain names the rule (file:line) that allows or
# denies, for connectd's and dohd's view; exit 0 allowed, 1 denied.
set -u
ctl=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT INT TERM
fail() { echo "FAIL: $*"; echo "--- output:"; cat "$dir/out"; exit 1; }

cat >"$dir/t.conf" <<CONF
[jail]
interface = br0
runtime_dir = $dir
direct = 10.0.1.215:5432
direct = cache.internal:6379
[chain]
hop = http://10.20.0.2:3128
[dohd]
upstream = https://dns.example/dns-query 192.0.2.53
[policy]
allow = api.example.com
allow = *.githubusercontent.com:443,80
allow = **.deep.example
CONF

# want RC TARGET PATTERN...
want() {
	rc=$1 target=$2
	shift 2
	"$ctl" -c "$dir/t.conf" --no-user-check explain "$target" >"$dir/out" 2>&1
	got=$?
	[ "$got" -eq "$rc" ] || fail "$target: exit status $got, want $rc"
	for p in "$@"; do
		grep -q -- "$p" "$dir/out" || fail "$target: missing: $p"
	done
}

want 0 api.example.com 'connectd  api.example.com:443: allow' \
    'rule "api.example.com:443" at .*t.conf:11' 'dohd      api.example.com A: allow' \
    'direct endpoint: no'
want 1 api.example.com:80 'api.example.com:80: deny: a rule names the host, but not this port (port)' \
    'rule "api.example.com:443" at .*t.conf:11'
want 0 x.githubusercontent.com:80 'rule "\*.githubusercontent.com:80,443" at .*t.conf:12'
want 1 a.b.githubusercontent.com 'deny: no rule names this host (no_rule)'
want 0 a.b.c.deep.example 'rule "\*\*.deep.example:443" at .*t.conf:13'
want 1 evil.example 'evil.example:443: deny: no rule names this host' \
    'evil.example A: deny'
want 1 127.0.0.1:80 'deny_cidr' 'deny list 127.0.0.0/8' 'no DNS view'
want 1 2130706433 'deny_cidr'
want 1 93.184.216.34 'ip_literal'
want 1 '[::1]:443' '\[::1\]:443: deny' '::1/128'
want 0 10.0.1.215:5432 'allow: a \[jail\] direct endpoint' 'direct at .*t.conf:4' \
    'direct endpoint: yes'
want 1 10.0.1.215:5433 'deny'
want 0 cache.internal:6379 'direct at .*t.conf:5' 'cache.internal A: allow' \
    'direct endpoint: yes'

# JSON: one document, the same verdict
"$ctl" -c "$dir/t.conf" --no-user-check --json explain api.example.com:80 >"$dir/out" 2>&1
[ $? -eq 1 ] || fail "json: want exit 1"
grep -q '"allowed":false' "$dir/out" || fail "json: allowed"
grep -q '"reason":"port"' "$dir/out" || fail "json: reason"
grep -q '"at":"[^"]*t.conf:11"' "$dir/out" || fail "json: at"
if command -v python3 >/dev/null 2>&1; then
	python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$dir/out" ||
	    fail "json does not parse"
fi

# bad usage exits 2, an empty allowlist denies
"$ctl" -c "$dir/t.conf" --no-user-check explain '[::1' >"$dir/out" 2>&1
[ $? -eq 2 ] || fail "bad target: want exit 2"
"$ctl" -c "$dir/t.conf" --no-user-check explain host:0 >"$dir/out" 2>&1
[ $? -eq 2 ] || fail "port 0: want exit 2"
"$ctl" -c "$dir/t.conf" --no-user-check explain >"$dir/out" 2>&1
[ $? -eq 2 ] || fail "no target: want exit 2"
sed '/^allow/d' "$dir/t.conf" >"$dir/empty.conf"
"$ctl" -c "$dir/empty.conf" --no-user-check explain api.example.com >"$dir/out" 2>&1
[ $? -eq 1 ] || fail "empty allowlist: want exit 1"
grep -q '(empty)' "$dir/out" || fail "empty allowlist: reason"
echo PASS
