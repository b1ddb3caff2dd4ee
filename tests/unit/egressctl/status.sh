#!/bin/sh
# status.sh EGRESSCTL FAKE_DAEMON - status and reload against fake daemon
# sockets: all ready exits 0; one down or not ready exits 1 and says why;
# --json escapes what the daemons say.
set -u
ctl=$1 fake=$2
dir=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*"; echo "--- output:"; cat "$dir/out"; exit 1; }
stop() { kill "$pid" 2>/dev/null; pid=; rm -f "$dir"/run/*.sock; }

mkdir "$dir/run"
cat >"$dir/t.conf" <<CONF
[jail]
interface = br0
runtime_dir = $dir/run
[chain]
hop = http://10.20.0.2:3128
[dohd]
upstream = https://dns.example/dns-query 192.0.2.53
[policy]
allow = api.example.com
CONF
run() { "$ctl" -c "$dir/t.conf" --no-user-check "$@" >"$dir/out" 2>&1; }

# nothing running: every daemon down, exit 1
run status
[ $? -eq 1 ] || fail "no sockets: want exit 1"
for d in netjaild connectd dohd; do
	grep -q "^$d: down" "$dir/out" || fail "no sockets: $d not down"
done
grep -q 'NOT READY' "$dir/out" || fail "no sockets: not NOT READY"

# all three ready
pid=$("$fake" "$dir/run" netjaild:ready connectd:ready dohd:ready) ||
    fail "fake daemon did not start"
run status
[ $? -eq 0 ] || fail "all ready: want exit 0"
grep -q '^connectd: ready (generation 7)' "$dir/out" || fail "all ready: line"
grep -q '^    drop_other_packets=42' "$dir/out" || fail "all ready: text"
grep -q '^jail: ready' "$dir/out" || fail "all ready: summary"
run --json status
[ $? -eq 0 ] || fail "json: want exit 0"
grep -q '"note":"say \\"hi\\" \\\\ <dohd>"' "$dir/out" || fail "json: escaping"
if command -v python3 >/dev/null 2>&1; then
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["ready"] and d["daemons"][2]["status"]["note"] == "say \"hi\" \\ <dohd>"' "$dir/out" ||
	    fail "json does not parse back"
fi
run reload
[ $? -eq 0 ] || fail "reload: want exit 0"
grep -q '^netjaild: reloaded' "$dir/out" || fail "reload: line"
stop

# one not ready, one down, one refusing
pid=$("$fake" "$dir/run" netjaild:ready connectd:notready dohd:refuse) ||
    fail "fake daemon did not start"
run status
[ $? -eq 1 ] || fail "mixed: want exit 1"
grep -q '^connectd: not ready (generation 7): hop 1 "proxy-a" failed' "$dir/out" ||
    fail "mixed: not-ready reason"
grep -q '^dohd: error: refused' "$dir/out" || fail "mixed: refusal"
run --json status
[ $? -eq 1 ] || fail "mixed json: want exit 1"
grep -q '"ready":false' "$dir/out" || fail "mixed json: ready"
run reload
[ $? -eq 1 ] || fail "reload mixed: want exit 1"
grep -q '^connectd: failed: Invalid argument' "$dir/out" || fail "reload: failure"
stop
rm -f "$dir"/run/*.sock
pid=$("$fake" "$dir/run" netjaild:ready dohd:ready) || fail "fake"
run status
[ $? -eq 1 ] || fail "connectd missing: want exit 1"
grep -q '^connectd: down' "$dir/out" || fail "connectd missing: not down"

# a broken config reloads nothing and exits 2
printf '[jail]\nbogus = 1\n' >"$dir/bad.conf"
"$ctl" -c "$dir/bad.conf" --no-user-check reload >"$dir/out" 2>&1
[ $? -eq 2 ] || fail "bad config reload: want exit 2"
grep -q 'nothing reloaded' "$dir/out" || fail "bad config: message"
echo PASS
