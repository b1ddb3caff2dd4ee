#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# shellcheck disable=SC2119,SC2317 # optional arguments; functions run through fl_recover
# tests/faults/httpflood.sh - 10,000 malformed request heads from the
# bridge workload w2, under load: to the explicit proxy (bad methods,
# overlong lines, missing CRLF, header floods, NULs, bad ports, IP
# literals in every spelling, userinfo tricks, absolute URIs to forbidden
# hosts, smuggling, odd versions, mutated and random heads, incomplete
# heads) and to the transparent listener (odd Host headers, broken
# ClientHellos, forbidden SNI).  connectd stays up, each gets a 4xx or a
# close (counted by status), none that had to be refused got a 2xx,
# nothing reaches the forbidden target, and a legitimate request works
# right after, and again after a kill -9 and restart of connectd over the
# flood's TIME_WAIT sockets.  Then 2,000 more as the jailed local user
# ejagent (the TPROXY path), judged the same way.
# head_timeout = 2s bounds the incomplete ones.
set -eu
: "${EJ_LAB_PREFIX:=fl}"
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lab/lib.sh
. "$here/../lab/lib.sh"
# shellcheck source=../lab/e2e/common.sh
. "$here/../lab/e2e/common.sh"
# shellcheck source=faults.sh
. "$here/faults.sh"
fl_need

short_head() {
	fl_conf connectd "head_timeout = 2s"
	fl_conf connectd "access_log = no"
}
fl_up short_head
fl_load_start
sleep 1

val() {	# KEY: from the flood's output
	awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }' "$LAB_DIR/flood.log"
}
proc() {	# NAME: "rss_kb fds" of a daemon
	local p
	p=$(cat "$LAB_DIR/$1.pid")
	echo "$(awk '/^VmRSS/ { print $2 }' "/proc/$p/status") $(find "/proc/$p/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)"
}

before=$(proc connectd)
T0=$(lab_ms)
lab_exec w2 python3 "$FL_TOOL" httpflood --count 10000 --conc 48 --timeout 8 \
	--proxy "$LAB_BR4:3128" --exit "$LAB_EXIT" --forbidden "$LAB_FORBIDDEN" \
	--seed 9 >"$LAB_DIR/flood.log" 2>&1 || true
T1=$(lab_ms)
# the host namespace's own view of the burst: dropped SYNs show here
fl_note "host TCP counters: $(lab_exec host nstat -az TcpExtListenOverflows TcpExtListenDrops \
	TcpExtTCPReqQFullDrop TcpExtSyncookiesSent TcpExtTCPBacklogDrop 2>/dev/null |
	awk '/^Tcp/ { printf "%s=%s ", $1, $2 }')"
fl_recover "after the head flood: explicit HTTPS works" 10 "$T1" fl_https_x
fl_recover "after the head flood: transparent HTTPS works" 10 "$T1" fl_https_t
after=$(proc connectd)

sent=$(val sent)
fl_note "httpflood: sent $sent in $(val seconds) s: $(grep '^outcome\.' "$LAB_DIR/flood.log" | sed 's/^outcome\.//' | tr '\n' ' ')"
fl_note "httpflood: leaks $(val leaks), 2xx where a refusal was due $(val violations)"
while read -r l; do fl_note "  $l"; done < <(grep -E '^(example|served2xx|connect_errors_at|loop_lag_max_s) ' "$LAB_DIR/flood.log")
while read -r l; do fl_note "  $l"; done < <(grep '^cat ' "$LAB_DIR/flood.log")
fl_note "connectd rss_kb/fds before $before, after $after"
lab_expect_eq "10,000 malformed heads were sent" 10000 "$sent"
lab_expect_eq "no answer carried the forbidden target's body" 0 "$(val leaks)"
lab_expect_eq "no head that had to be refused got a 2xx" 0 "$(val violations)"
lab_expect_eq "no client was left hanging (timeout)" 0 "$(val outcome.timeout)"
lab_expect_eq "every connection was accepted" 0 \
	"$(grep '^outcome\.connect-' "$LAB_DIR/flood.log" | awk '{ n += $2 } END { print n + 0 }')"
# 501 (method) and 505 (version) are refusals; 502/504 are the chain's
# answers to a mutated head that still named smoke.test
lab_expect_eq "no 500 (an internal error) and no 503 (the limit was not reached)" 0 \
	"$(($(val outcome.status.500) + $(val outcome.status.503)))"
fl_note "flood phase $(fl_secs $((T1 - T0))) s; load meanwhile:"
while read -r l; do fl_note "  $l"; done < <(fl_load_summary "$T0" "$T1")

# the jailed local user's path (TPROXY through lo, getsockname): 2,000 more
cp "$FL_TOOL" "$LAB_DIR/ejfault.py"
chmod 0644 "$LAB_DIR/ejfault.py"
T2=$(lab_ms)
lab_as ejagent host python3 "$LAB_DIR/ejfault.py" httpflood --count 2000 --conc 32 \
	--timeout 8 --proxy "$LAB_BR4:3128" --exit "$LAB_EXIT" --forbidden "$LAB_FORBIDDEN" \
	--seed 10 >"$LAB_DIR/flood-agent.log" 2>&1 || true
fl_recover "after the local user's flood: HTTPS as ejagent works" 10 "$(lab_ms)" \
	fl_exit_ok k_curl a https://smoke.test/
av() {
	awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }' "$LAB_DIR/flood-agent.log"
}
fl_note "httpflood as ejagent: sent $(av sent) in $(av seconds) s: $(grep '^outcome\.' "$LAB_DIR/flood-agent.log" | sed 's/^outcome\.//' | tr '\n' ' ')"
fl_note "httpflood as ejagent: leaks $(av leaks), 2xx where a refusal was due $(av violations)"
lab_expect_eq "ejagent: 2,000 malformed heads were sent" 2000 "$(av sent)"
lab_expect_eq "ejagent: no answer carried the forbidden target's body" 0 "$(av leaks)"
lab_expect_eq "ejagent: no head that had to be refused got a 2xx" 0 "$(av violations)"
lab_expect_eq "ejagent: no client was left hanging (timeout)" 0 "$(av outcome.timeout)"
lab_expect_eq "ejagent: no 500 and no 503" 0 "$(($(av outcome.status.500) + $(av outcome.status.503)))"
fl_note "flood as ejagent $(fl_secs $(($(lab_ms) - T2))) s"

# a restart right after the flood must bind again over the TIME_WAIT
# sockets the refusals left behind
tw=$(lab_exec host ss -Htan state time-wait '( sport = :3128 or sport = :15001 )' | wc -l)
fl_note "sockets in TIME_WAIT on connectd's ports after the flood: $tw"
e2e_kill9 connectd
T2=$(lab_ms)
lab_spawn connectd host "$E2E_CD" -c "$E2E_CONF"
fl_recover "connectd kill -9 and restart over the flood's TIME_WAIT sockets: explicit HTTPS" 10 "$T2" fl_https_x
fl_load_stop
fl_recover "no connection stays open (connectd_active_connections back to 0)" 10 "$(lab_ms)" \
	test "$(lab_exec host curl -s --max-time 2 "http://$E2E_HEALTH/metrics" |
		awk '$1 == "connectd_active_connections" { print $2 }')" = 0
fl_alive netjaild dohd connectd
fl_no_leak "head flood"
fl_no_crash_logs
fl_report "faults-httpflood"
lab_finish
