#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# shellcheck disable=SC2119,SC2317 # optional arguments; functions run through fl_recover
# tests/faults/kill9.sh - kill -9 each daemon in turn under load and restart
# it as systemd would: connectd (jailed TCP is refused, never passed),
# dohd (DNS fails closed), netjaild (its table stays while it is dead; the
# restart replaces it in one batch, never leaving a moment without it).
# Each: no other daemon dies, nothing passes the jail, and the service is
# back within a bound (the time from the restart to the first allowed
# request or query is printed).
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
fl_up
fl_load_start
sleep 1

F=$LAB_FORBIDDEN
BOUND=10

# curl's exit status for a transparent HTTPS attempt from w2 (7: refused)
t_rc() {
	local rc=0
	lab_exec w2 curl -sS -o /dev/null --max-time 3 --cacert "$LAB_DIR/ca.pem" \
		--resolve "smoke.test:443:$LAB_EXIT" https://smoke.test/ 2>/dev/null || rc=$?
	echo "$rc"
}

# --- connectd
T0=$(lab_ms)
e2e_kill9 connectd
lab_expect_eq "connectd down: transparent TCP is refused at once (curl exit 7)" 7 "$(t_rc)"
lab_expect "connectd down: the explicit proxy refuses" k_denied w -x "$E2E_PROXY" https://smoke.test/
lab_expect "connectd down: the forbidden IP is refused" k_denied w -k "https://$F/"
lab_expect "connectd down: plain HTTP to the forbidden IP is refused" k_denied w "http://$F:8080/"
sleep 1
T1=$(lab_ms)
lab_spawn connectd host "$E2E_CD" -c "$E2E_CONF"
fl_recover "connectd kill -9, explicit HTTPS" "$BOUND" "$T1" fl_https_x
fl_recover "connectd kill -9, transparent HTTPS" "$BOUND" "$T1" fl_https_t
fl_recover "connectd kill -9, /ready" "$BOUND" "$T1" e2e_ready
fl_note "connectd down $(fl_secs $((T1 - T0))) s; load while down:"
while read -r l; do fl_note "  $l"; done < <(fl_load_summary "$T0" "$T1")
fl_load_recovery "connectd kill -9" "$T1" xhttps xhttp thttps thttp
fl_alive netjaild dohd

# --- dohd
T0=$(lab_ms)
e2e_kill9 dohd
lab_count_reset
lab_expect_fail "dohd down: the allowed name does not resolve" fl_dns_answers smoke.test
lab_expect_fail "dohd down: a denied name does not resolve" fl_dns_answers forbidden.test
lab_expect_fail "dohd down: DNS to $F:53 gets no answer" k_dig w "@$F" +short smoke.test A
lab_expect_fail "dohd down: nor does raw UDP to $F:53" k_udp w "$F" 53
lab_expect_eq "dohd down: the resolver at $F saw nothing" 0 "$(lab_count "$F" udp 53)"
sleep 1
T1=$(lab_ms)
lab_spawn dohd host "$E2E_DOHD" -c "$E2E_CONF"
fl_recover "dohd kill -9, DNS for the allowed name" "$BOUND" "$T1" fl_dns_ok
fl_recover "dohd kill -9, connectd /ready" 15 "$T1" e2e_ready
fl_note "dohd down $(fl_secs $((T1 - T0))) s; load while down:"
while read -r l; do fl_note "  $l"; done < <(fl_load_summary "$T0" "$T1")
fl_load_recovery "dohd kill -9" "$T1" dns_ok
fl_alive netjaild connectd

# --- netjaild
ruleset() {	# the table without counters and handles
	lab_exec host nft list table inet egressjail 2>/dev/null |
		sed -e 's/counter packets [0-9]* bytes [0-9]*/counter/' \
			-e 's/ # handle [0-9]*//' -e '/expires /s/expires [0-9hms.]*//'
}
# table_watch SECS: poll the table's presence every 20 ms, print misses
table_watch() {
	local end=$(($(lab_ms) + $1 * 1000)) n=0 miss=0
	while [ "$(lab_ms)" -lt "$end" ]; do
		n=$((n + 1))
		lab_exec host nft list table inet egressjail >/dev/null 2>&1 || miss=$((miss + 1))
		sleep 0.02
	done
	echo "$n $miss"
}
before=$(ruleset)
# two established connections through the jail, used before and after
lab_spawn tunnels w2 python3 "$FL_TOOL" tunnels --ca "$LAB_DIR/ca.pem" \
	--proxy "$LAB_BR4:3128" --exit "$LAB_EXIT" --go "$LAB_DIR/tunnels.go"
lab_retry 10 grep -q '^before' "$LAB_DIR/tunnels.log" || true
lab_expect_match "netjaild up: a held explicit tunnel and transparent TLS connection work" \
	'^before explicit=ok transparent=ok' cat "$LAB_DIR/tunnels.log"
T0=$(lab_ms)
e2e_kill9 netjaild
lab_expect "netjaild down: the table stays" e2e_table
lab_expect_eq "netjaild down: the table is unchanged" "$before" "$(ruleset)"
lab_expect "netjaild down: the forbidden IP is still refused" k_denied w -k "https://$F/"
lab_expect_fail "netjaild down: UDP is still dropped" k_udp w "$F" 9999
lab_expect "netjaild down: the allowed name still works" fl_https_x
sleep 1
table_watch 4 >"$LAB_DIR/table_watch" &
watch_pid=$!
sleep 0.3
T1=$(lab_ms)
: >"$LAB_DIR/netjaild.log"
lab_spawn netjaild host "$E2E_NJ" -c "$E2E_CONF"
fl_recover "netjaild kill -9, ruleset re-installed (event=ready)" "$BOUND" "$T1" \
	grep -q event=ready "$LAB_DIR/netjaild.log"
fl_recover "netjaild kill -9, explicit HTTPS" "$BOUND" "$T1" fl_https_x
fl_recover "netjaild kill -9, connectd /ready" 15 "$T1" e2e_ready
wait "$watch_pid" || true
read -r polls misses <"$LAB_DIR/table_watch"
fl_note "netjaild restart: table polled $polls times in 4 s around the re-install, missing $misses times"
lab_expect_eq "netjaild restart: the table never went missing" 0 "$misses"
lab_expect_eq "netjaild restart: the same ruleset is back" "$before" "$(ruleset)"
touch "$LAB_DIR/tunnels.go"
lab_retry 10 grep -q '^after' "$LAB_DIR/tunnels.log" || true
fl_note "held connections across the netjaild restart: $(grep '^after' "$LAB_DIR/tunnels.log")"
lab_expect_match "netjaild restart: established connections through the jail survive it" \
	'^after explicit=ok transparent=ok' cat "$LAB_DIR/tunnels.log"
fl_load_recovery "netjaild kill -9" "$T1" xhttps xhttp thttps thttp
fl_note "netjaild down $(fl_secs $((T1 - T0))) s; load while down:"
while read -r l; do fl_note "  $l"; done < <(fl_load_summary "$T0" "$T1")
fl_alive dohd connectd

sleep 1
fl_load_stop
fl_alive netjaild dohd connectd
fl_no_leak "kill -9"
fl_no_crash_logs
fl_report "faults-kill9"
lab_finish
