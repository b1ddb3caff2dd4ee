#!/bin/sh
# doctor_helpers.sh EGRESSCTL - the real egressctl doctor, in a mount
# namespace of its own with fake service sockets over /run and a fake
# setuid mailer over /usr/sbin, names each service that would act for a
# jailed user (the host's own /run and /usr/sbin are never touched).
set -u
ctl=$1
if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null 2>&1 ||
    ! command -v python3 >/dev/null 2>&1; then
	echo "SKIP: needs root, unshare and python3"
	exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT INT TERM
fail() { echo "FAIL: $*"; echo "--- output:"; cat "$dir/out"; exit 1; }

mkdir -m 0750 "$dir/run"
cat >"$dir/t.conf" <<CONF
[jail]
user = nobody
runtime_dir = $dir/run
[chain]
hop = http://10.20.0.2:3128
[dohd]
upstream = https://dns.example/dns-query 192.0.2.53
[policy]
allow = api.example.com
CONF

# shellcheck disable=SC2016 # expanded by the inner shell
unshare -m --propagation private sh -c '
	set -e
	mount -t tmpfs ejdoctor /run
	mkdir -p /run/dbus /run/systemd/resolve /run/nscd /run/cups
	python3 -c "import socket, sys
for p in sys.argv[1:]:
    socket.socket(socket.AF_UNIX).bind(p)" /run/dbus/system_bus_socket \
	    /run/systemd/resolve/io.systemd.Resolve /run/nscd/socket \
	    /run/docker.sock /run/cups/cups.sock
	chmod 666 /run/dbus/system_bus_socket \
	    /run/systemd/resolve/io.systemd.Resolve /run/nscd/socket \
	    /run/docker.sock
	chmod 600 /run/cups/cups.sock
	mount -t tmpfs ejdoctor /usr/sbin
	: >/usr/sbin/sendmail
	chmod 4755 /usr/sbin/sendmail
	"$1" -c "$2" --no-user-check doctor
' sh "$ctl" "$dir/t.conf" >"$dir/out" 2>&1

for h in systemd-resolved dbus nscd; do
	grep -q "^warn    helpers    $h (/run/.*): jailed user nobody can use it" \
	    "$dir/out" || fail "$h not reported"
done
grep -q '^warn    helpers    sendmail (/usr/sbin/sendmail, setuid/setgid): jailed user nobody' \
    "$dir/out" || fail "the setuid mailer not reported"
grep -q '^PROBLEM helpers    docker (/run/docker.sock): jailed user nobody can use it' \
    "$dir/out" || fail "a docker socket a jailed user can use is not a problem"
grep -q '^ok      helpers    cupsd (/run/cups/cups.sock) is present; no jailed user can use it' \
    "$dir/out" || fail "a helper no jailed user can use is not named"
grep -q 'fix: ' "$dir/out" || fail "no fix"
# the host's own /run was left alone
[ -d /run ] && ! grep -q ejdoctor /proc/self/mounts || fail "a mount leaked"
echo PASS
