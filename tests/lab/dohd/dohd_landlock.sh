#!/usr/bin/env bash
# tests/lab/dohd/dohd_landlock.sh - dohd and connectd under Landlock, each
# started from one minimal config in the lab's host namespace: both log
# event=landlock, answer, reload on SIGHUP (the config replaced by rename,
# an allow file in allow.d/ edited), keep answering; and a reload naming an
# allow_file outside the start-time list (readable by the daemon's user
# otherwise) fails while the old generation keeps serving.
set -eu
export EJ_LAB_PREFIX=${EJ_LAB_PREFIX:-ll}
. "$(dirname "$0")/../lib.sh"
lab_need kdig curl socat
lab_up
lab_users
lab_start_doh "$LAB_DOH"

dohd=${EJ_DOHD:-$EJ_BUILD/dohd/dohd}
connectd=${EJ_CONNECTD:-$EJ_BUILD/connectd/connectd}
[ -x "$dohd" ] || lab_skip "dohd not built at $dohd"
[ -x "$connectd" ] || lab_skip "connectd not built at $connectd"

conf=$LAB_DIR/ej.conf
mkdir -p "$LAB_DIR/run" "$LAB_DIR/allow.d"
chmod 755 "$LAB_DIR" "$LAB_DIR/allow.d"
echo "smoke.test" >"$LAB_DIR/allow.d/a.allow"
cat >"$conf" <<CONF
[jail]
interface = $LAB_BR
runtime_dir = $LAB_DIR/run

[chain]
hop = http://$LAB_HOP_A:$LAB_HOP_PORT

[connectd]
proxy_listen = 127.0.0.1:3128
health_listen = 127.0.0.1:9191

[dohd]
listen = 127.0.0.1:15353
upstream = https://doh.test$LAB_DOH_PATH $LAB_DOH
ca_file = $LAB_DIR/ca.pem
query_timeout = 1500ms

[policy]
permit_cidr = $LAB_UPNET4
permit_cidr = $LAB_UPNET6
allow_file = allow.d/*.allow
CONF
chmod 644 "$conf" "$LAB_DIR/ca.pem" "$LAB_DIR/allow.d/a.allow"

# Outside every list: world-readable, so only Landlock can refuse it.
outside=$(mktemp -d /var/tmp/ejll.XXXXXX)
chmod 755 "$outside"
echo "whoami.test" >"$outside/b.allow"
chmod 644 "$outside/b.allow"
lab__ll_exit() {	# lab__on_exit, plus the directory outside the lab
	trap - EXIT INT TERM
	set +e
	rm -rf "$outside"
	lab_down
	exit "$1"
}
trap 'lab__ll_exit $?' EXIT

lab_spawn dohd host "$dohd" -c "$conf"
lab_wait_udp host 127.0.0.1 15353 10 || lab_die "dohd did not start: $(tail -5 "$LAB_DIR/dohd.log")"
lab_spawn connectd host "$connectd" -c "$conf"
lab_wait_tcp host 127.0.0.1 9191 10 || lab_die "connectd did not start: $(tail -5 "$LAB_DIR/connectd.log")"

enforced=1
if grep -q 'event=landlock enforced=0' "$LAB_DIR/dohd.log"; then
	enforced=0
	lab_log "kernel without Landlock: only start-up and reload are checked"
fi
for d in dohd connectd; do
	if [ "$enforced" = 1 ]; then
		lab_expect_match "$d logs Landlock enforced with its path count" \
			'event=landlock enforced=1 paths=[1-9]' cat "$LAB_DIR/$d.log"
	fi
	lab_expect_match "$d is still under seccomp" '^Seccomp:[[:space:]]+2$' \
		grep '^Seccomp:' "/proc/$(cat "$LAB_DIR/$d.pid")/status"
done

short() { lab_exec host kdig @127.0.0.1 -p 15353 +timeout=3 +retry=0 +short "$@"; }
q() { lab_exec host kdig @127.0.0.1 -p 15353 +timeout=3 +retry=0 "$@"; }
code() {	# code HOST:PORT: connectd's status for a CONNECT
	printf 'CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n' "$1" "$1" |
	    lab_exec host socat -t 3 - TCP:127.0.0.1:3128 | head -1 | cut -d' ' -f2
}
live() { lab_exec host curl -s -o /dev/null -w '%{http_code}' --max-time 3 http://127.0.0.1:9191/live; }

lab_expect_match "dohd answers an allowed name (from allow.d)" '^10\.78\.0\.10$' short smoke.test A
lab_expect_match "dohd denies another" 'status: NXDOMAIN' q exit.test A
lab_expect_eq "connectd answers /live" 200 "$(live)"
lab_expect_eq "connectd refuses a denied name" 403 "$(code exit.test:443)"

# Reload 1: the config replaced by rename (sed -i), the allow file edited.
sed -i 's/^query_timeout = 1500ms$/query_timeout = 2s/' "$conf"
echo "exit.test" >>"$LAB_DIR/allow.d/a.allow"
kill -HUP "$(cat "$LAB_DIR/dohd.pid")" "$(cat "$LAB_DIR/connectd.pid")"
lab_expect "dohd reloads after SIGHUP" lab_retry 3 grep -q 'event=reload result=ok' "$LAB_DIR/dohd.log"
lab_expect "connectd reloads after SIGHUP" lab_retry 3 grep -q 'event=reload result=ok' "$LAB_DIR/connectd.log"
lab_expect_match "dohd: the newly allowed name resolves" '^10\.78\.0\.10$' short exit.test A
lab_expect_eq "connectd: the newly allowed name is no longer refused by policy" 1 \
	"$(c=$(code exit.test:443); [ "$c" != 403 ] && echo 1 || echo "$c")"
lab_expect_eq "connectd still answers /live" 200 "$(live)"

# Reload 2: an allow_file outside the start-time list.
echo "allow_file = $outside/*.allow" >>"$conf"
kill -HUP "$(cat "$LAB_DIR/dohd.pid")" "$(cat "$LAB_DIR/connectd.pid")"
if [ "$enforced" = 1 ]; then
	lab_expect "dohd: reload reading outside its list fails" \
		lab_retry 3 grep -q 'event=reload result=failed' "$LAB_DIR/dohd.log"
	lab_expect "connectd: reload reading outside its list fails" \
		lab_retry 3 grep -q 'event=reload result=failed' "$LAB_DIR/connectd.log"
	lab_expect_match "dohd: the outside file's rule never applied" 'status: NXDOMAIN' q whoami.test TXT
	lab_expect_match "dohd keeps serving the old generation" '^10\.78\.0\.10$' short smoke.test A
	lab_expect_eq "connectd keeps serving" 200 "$(live)"
fi
lab_expect "dohd still running" lab_alive dohd
lab_expect "connectd still running" lab_alive connectd
lab_finish
