#!/bin/sh
# doctor.sh EGRESSCTL - doctor runs without crashing (as an unprivileged
# user too, when the test runs as root and setpriv exists) and reports the
# users a config names that do not exist, each with a fix.
set -u
ctl=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT INT TERM
fail() { echo "FAIL: $*"; echo "--- output:"; cat "$dir/out"; exit 1; }

mkdir -m 0750 "$dir/run"
chmod 0755 "$dir"
cat >"$dir/t.conf" <<CONF
[jail]
interface = br0
runtime_dir = $dir/run
group = egctl-nogroup-4711
[netjaild]
user = egctl-nouser-4711
[connectd]
user = egctl-nouser-4712
proxy_listen = 127.0.0.1:1
[chain]
hop = http://10.20.0.2:3128
ca_file = $dir/missing-ca.pem
[dohd]
user = egctl-nouser-4713
upstream = https://dns.example/dns-query 192.0.2.53
[policy]
allow = api.example.com
CONF
chmod 0644 "$dir/t.conf"

check_out() {
	rc=$1
	[ "$rc" -eq 1 ] || fail "exit status $rc, want 1"
	for u in egctl-nouser-4711 egctl-nouser-4712 egctl-nouser-4713; do
		grep -q "PROBLEM users .*\"$u\" does not exist" "$dir/out" ||
		    fail "missing user $u not reported"
	done
	grep -q 'control group "egctl-nogroup-4711" does not exist' "$dir/out" ||
	    fail "missing group not reported"
	grep -q 'fix: create it' "$dir/out" || fail "no fix hint"
	grep -q 'PROBLEM daemons .*connectd down' "$dir/out" || fail "daemon down"
	grep -q 'missing-ca.pem' "$dir/out" || fail "ca_file not checked"
	grep -q '^[0-9]* problems*, ' "$dir/out" || fail "no summary"
}

"$ctl" -c "$dir/t.conf" doctor >"$dir/out" 2>&1
check_out $?
"$ctl" -c "$dir/t.conf" --json doctor >"$dir/out" 2>&1
[ $? -eq 1 ] || fail "json: want exit 1"
if command -v python3 >/dev/null 2>&1; then
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["problems"] > 0' "$dir/out" ||
	    fail "json does not parse"
fi
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1; then
	if setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$ctl"; then
		setpriv --reuid=65534 --regid=65534 --clear-groups \
		    "$ctl" -c "$dir/t.conf" doctor >"$dir/out" 2>&1
		check_out $?
	else
		echo "note: $ctl not executable by nobody; unprivileged run skipped"
	fi
fi
# rundir: the packaged 1770 root:GROUP (tmpfiles.d) is right, by the rule
# the daemons apply at start; group-writable without the sticky bit, or
# writable by others, is a problem.
grp=$(id -gn)
sed "s/^group = .*/group = $grp/" "$dir/t.conf" >"$dir/g.conf"
chgrp "$grp" "$dir/run" || fail "chgrp $grp"
for m in 1770:ok 0750:ok 0770:PROBLEM 1777:PROBLEM; do
	chmod "${m%%:*}" "$dir/run"
	"$ctl" -c "$dir/g.conf" doctor >"$dir/out" 2>&1
	grep -q "^${m#*:} *rundir" "$dir/out" ||
	    fail "rundir mode ${m%%:*}: want ${m#*:}"
done
echo PASS
