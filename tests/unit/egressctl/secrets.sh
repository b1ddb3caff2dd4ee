#!/bin/sh
# secrets.sh BUILDDIR - no tool prints a hop's password: egressctl check
# (text and JSON, valid and broken configs), doctor, explain, and each
# daemon's --check, and netjaild --print.  A config holds two hops with
# passwords; every output is searched for them.
set -u
b=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT INT TERM
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

conf() {	# conf FILE HOP1
	cat >"$1" <<CONF
[jail]
interface = br0
runtime_dir = $dir/run
direct = 10.0.1.215:5432
[chain]
hop = $2
hop = http://bob:Hunter2Pw@10.20.0.3:3128
[connectd]
proxy_listen = 127.0.0.1:3128
[dohd]
upstream = https://dns.example/dns-query 192.0.2.53
[policy]
allow = api.example.com
CONF
}

# run NAME CMD...: output and exit status kept; the secrets must not show
run() {
	name=$1
	shift
	"$@" >"$dir/out" 2>&1
	echo "rc=$?" >>"$dir/out"
	if grep -n 'S3cr3tPw\|Hunter2Pw\|S3cr3' "$dir/out"; then
		fail "$name printed a password"
		sed 's/^/    /' "$dir/out"
	fi
	[ -s "$dir/out" ] || fail "$name printed nothing"
}

mkdir "$dir/run"
conf "$dir/good.conf" "https://alice:S3cr3tPw@proxy-b.example.net:8443"
for bad in 'htps://alice:S3cr3tPw@proxy:8443' \
    'https://alice:S3cr3tPw@proxy:99999' \
    'https://alice:S3cr3tPw/x@proxy:8443' \
    'https://alice:S3cr3tPw@proxy:8443/path' \
    'https://alice:S3cr3tPw0123456789012345678901234567890123456789012345678901234567890@proxy:8443' \
    'alice:S3cr3tPw@proxy:8443'; do
	i=$((${i:-0} + 1))
	conf "$dir/bad$i.conf" "$bad"
done
# a proxy URL pasted into the allowlist: the rule's error quotes its parts
for rule in 'alice:S3cr3tPw@x.com' 'https://alice:S3cr3tPw@x.com:443' \
    'x.com:S3cr3tPw@y' '*.x.com:443:S3cr3tPw@y'; do
	i=$((i + 1))
	conf "$dir/bad$i.conf" "https://alice:S3cr3tPw@proxy-b.example.net:8443"
	printf 'allow = %s\n' "$rule" >>"$dir/bad$i.conf"
done

ctl=$b/egressctl/egressctl
for c in "$dir"/good.conf "$dir"/bad*.conf; do
	n=$(basename "$c")
	run "egressctl check $n" "$ctl" -c "$c" --no-user-check check
	run "egressctl --json check $n" "$ctl" -c "$c" --no-user-check --json check
	run "egressctl doctor $n" "$ctl" -c "$c" doctor
	run "egressctl explain $n" "$ctl" -c "$c" --no-user-check explain api.example.com
	for d in netjaild connectd dohd; do
		[ -x "$b/$d/$d" ] || { fail "$b/$d/$d not built"; continue; }
		run "$d --check $n" "$b/$d/$d" -c "$c" --check
	done
	run "netjaild --print $n" "$b/netjaild/netjaild" -c "$c" --print
done
# the summary still names the hop, with its user
"$ctl" -c "$dir/good.conf" --no-user-check check >"$dir/out" 2>&1
grep -q 'https://alice:\*\*\*@proxy-b.example.net:8443' "$dir/out" ||
    fail "check does not show the redacted hop"
"$ctl" -c "$dir/bad1.conf" --no-user-check check >"$dir/out" 2>&1
grep -q '"htps://alice:\*\*\*@proxy:8443": scheme must be http or https' \
    "$dir/out" || fail "the error does not show the redacted value"
[ "$fails" -eq 0 ] || { echo "$fails failures"; exit 1; }
echo PASS
