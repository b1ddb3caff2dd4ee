#!/bin/sh
# learn.sh EGRESSCTL - egressctl learn turns records into an allow.d file;
# with that file applied, explain admits every recorded connection and
# still denies what was not seen.  Bad records give no allowlist at all.
set -u
ctl=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT INT TERM
fail() { echo "FAIL: $*"; echo "--- output:"; cat "$dir/out" "$dir/err" 2>/dev/null; exit 1; }

now=$(date +%s)
old=$((now - 7200))
cat >"$dir/records" <<REC
# WORKLOAD NAME PORT QTYPE COUNT FIRST LAST
default api.github.com 443 0 12 $old $now
default api.github.com 0 1 30 $old $now
default Registry.NPMJS.org. 443 0 3 $old $now
default registry.npmjs.org 8443 0 1 $old $now
default a.cdn.example.net 443 0 1 $old $now
default b.cdn.example.net 443 0 1 $old $now
default c.cdn.example.net 80 0 1 $old $now
default d.cdn.example.net 443 0 1 $old $now
default e.cdn.example.net 443 0 1 $old $now
default txt.example.org 0 16 2 $old $now
default stale.example.org 443 0 2 $old $old
ci ci-only.example 443 0 1 $old $now
REC

"$ctl" learn --records "$dir/records" >"$dir/out" 2>"$dir/err" ||
	fail "learn failed"
grep -qx 'api.github.com:443' "$dir/out" || fail "api.github.com:443"
grep -qx 'registry.npmjs.org:443,8443' "$dir/out" || fail "ports merged"
grep -qx '\*\.cdn\.example\.net:80,443' "$dir/out" || fail "*.cdn"
grep -q '^# \*\.cdn\.example\.net: 5 sibling names seen' "$dir/out" ||
	fail "wildcard comment"
grep -qx 'txt.example.org:443 qtype=TXT' "$dir/out" || fail "qtype"
grep -q 'ci-only' "$dir/out" && fail "another workload's record"

mkdir "$dir/allow.d"
cp "$dir/out" "$dir/allow.d/learned.allow"
cat >"$dir/t.conf" <<CONF
[jail]
interface = br0
runtime_dir = $dir
[chain]
hop = http://10.20.0.2:3128
[dohd]
upstream = https://dns.example/dns-query 192.0.2.53
[policy]
allow_file = allow.d/*.allow
CONF
for t in api.github.com:443 registry.npmjs.org:443 registry.npmjs.org:8443 \
    a.cdn.example.net:443 c.cdn.example.net:80 stale.example.org:443; do
	"$ctl" -c "$dir/t.conf" --no-user-check explain "$t" >"$dir/err" 2>&1 ||
		fail "replay of $t denied"
done
for t in api.github.com:80 x.y.cdn.example.net:443 ci-only.example:443; do
	"$ctl" -c "$dir/t.conf" --no-user-check explain "$t" >"$dir/err" 2>&1 &&
		fail "$t allowed, never seen"
done

# --since leaves out what was last seen before it; --workload picks one
"$ctl" learn --records "$dir/records" --since 1h >"$dir/out" 2>"$dir/err" ||
	fail "learn --since failed"
grep -q stale "$dir/out" && fail "--since kept a stale record"
"$ctl" learn --records - --workload ci <"$dir/records" >"$dir/out" \
    2>"$dir/err" || fail "learn --workload failed"
grep -qx 'ci-only.example:443' "$dir/out" || fail "--workload ci"

# --log --workload: the daemons' lines carry workload=NAME (none: default);
# each workload gets only what it was seen doing
cat >"$dir/log" <<'LOG'
ts=2026-12-07T22:43:46.786Z level=warn daemon=connectd event=report src=127.0.0.1:1 host=ci-a.example port=8443 reason=no_rule workload=ci
ts=2026-12-07T22:43:46.786Z level=warn daemon=connectd event=report src=127.0.0.1:2 workload=web host=web-a.example port=443 reason=no_rule
ts=2026-12-07T22:43:46.786Z level=info daemon=dohd event=decision src=10.0.0.2 proto=udp name="ci-b.example" qtype=TXT decision=report reason=no_rule workload=ci
ts=2026-12-07T22:43:46.786Z level=warn daemon=connectd event=learn workload=web name="web-b.example" port=443 qtype=0 count=3 first=1796683426 last=1796683426
ts=2026-12-07T22:43:46.786Z level=warn daemon=connectd event=report src=127.0.0.1:3 host=def.example port=443 reason=no_rule
LOG
"$ctl" learn --log "$dir/log" --workload ci >"$dir/out" 2>"$dir/err" ||
	fail "learn --log --workload ci failed"
grep -qx 'ci-a.example:8443' "$dir/out" || fail "--log --workload ci: connectd"
grep -q '^ci-b.example.*qtype=TXT' "$dir/out" || fail "--log --workload ci: dohd"
grep -q 'web-\|def\.' "$dir/out" && fail "--log --workload ci: another's name"
"$ctl" learn --log "$dir/log" --workload web >"$dir/out" 2>"$dir/err" ||
	fail "learn --log --workload web failed"
grep -qx 'web-a.example:443' "$dir/out" || fail "--log --workload web: report"
grep -qx 'web-b.example:443' "$dir/out" || fail "--log --workload web: learn"
grep -q 'ci-\|def\.' "$dir/out" && fail "--log --workload web: another's name"
"$ctl" learn --log "$dir/log" >"$dir/out" 2>"$dir/err" ||
	fail "learn --log (default) failed"
grep -qx 'def.example:443' "$dir/out" || fail "--log default"
grep -q 'ci-\|web-' "$dir/out" && fail "--log default: a workload's name"

# one bad line: no allowlist, the line named, exit 1
printf 'default ok.example 443 0 1 1 2\ndefault 10.0.0.1 443 0 1 1 2\n' |
    "$ctl" learn --records - >"$dir/out" 2>"$dir/err"
[ $? -eq 1 ] || fail "bad records: want exit 1"
[ -s "$dir/out" ] && fail "bad records: printed an allowlist"
grep -q -- '-:2: an IP literal is never a name' "$dir/err" ||
	fail "bad line not named"
"$ctl" learn >"$dir/out" 2>"$dir/err"
[ $? -eq 2 ] || fail "no --records: want exit 2"
"$ctl" learn --records "$dir/records" --min-siblings 1 >"$dir/out" 2>&1
[ $? -eq 2 ] || fail "--min-siblings 1: want exit 2"
echo "ok"
