#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# shellcheck disable=SC2119,SC2317 # optional arguments; functions run through fl_recover
# tests/faults/connlimit.sh - fill connectd's connection limit
# (max_connections = 12 here) under load: w2 holds tunnels until connectd
# refuses, then extra clients (explicit CONNECT, transparent HTTP and TLS)
# must get a clean refusal (503 or a close, never a hang); the held tunnels
# keep working; released, new clients are served again within a bound and
# no slot stays taken.
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

MAX=12
small_limit() {
	fl_conf connectd "max_connections = $MAX"
}
fl_up small_limit
fl_load_start
sleep 1

metric() {	# NAME: one of connectd's own metrics
	lab_exec host curl -s --max-time 2 "http://$E2E_HEALTH/metrics" |
		awk -v m="$1" '$1 == m { print $2 }'
}
val() {	# KEY: from hold's output
	awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }' "$LAB_DIR/hold.log"
}
sum_prefix() {	# PREFIX: sum of hold's KEY values whose key starts with PREFIX
	awk -v p="$1" 'index($1, p) == 1 { n += $2 } END { print n + 0 }' "$LAB_DIR/hold.log"
}

busy0=$(metric connectd_refused_busy_total)
T0=$(lab_ms)
lab_spawn hold w2 python3 "$FL_TOOL" hold --max "$MAX" --extra 24 --after 10 \
	--recover 10 --ca "$LAB_DIR/ca.pem" --proxy "$LAB_BR4:3128" --exit "$LAB_EXIT" \
	--pause-file "$LAB_DIR/hold.full" --pause 3
lab_retry 40 test -e "$LAB_DIR/hold.full" || lab_fail "the holder filled the limit" "no pause file"
active_full=$(metric connectd_active_connections)
fl_note "limit reached after $(fl_secs $(($(lab_ms) - T0))) s; connectd_active_connections=$active_full (max_connections=$MAX)"
lab_expect "full: /live still answers" lab_exec host curl -sf --max-time 2 "http://$E2E_HEALTH/live"
lab_expect "full: DNS still answers (dohd is not connectd)" fl_dns_ok
lab_expect "full: the forbidden IP is still refused" k_denied w -k "https://$LAB_FORBIDDEN/"
lab_retry 30 sh -c "! kill -0 $(cat "$LAB_DIR/hold.pid") 2>/dev/null" || lab_log "hold did not finish in 30 s"
T1=$(lab_ms)
sed 's/^/    hold: /' "$LAB_DIR/hold.log"
fl_note "holder: $(tr '\n' ' ' <"$LAB_DIR/hold.log")"

held=$(val held)
lab_expect "the holder got tunnels (held $held)" test "$held" -ge 1
lab_expect "the limit was reached (a 503 while filling)" test "$(val fill.status.503)" -ge 1
refused=$(($(sum_prefix extra.explicit.status.503) + $(sum_prefix extra.explicit.close) +
	$(sum_prefix extra.transparent-http.status.503) + $(sum_prefix extra.transparent-http.close) +
	$(sum_prefix extra.transparent-tls.close) + $(sum_prefix extra.transparent-tls.tls-error) +
	$(sum_prefix extra.explicit.ConnectionResetError) + $(sum_prefix extra.transparent-tls.ConnectionResetError) +
	$(sum_prefix extra.transparent-http.ConnectionResetError)))
granted=$(($(sum_prefix extra.explicit.status.200) + $(sum_prefix extra.transparent-http.served) +
	$(sum_prefix extra.transparent-tls.served)))
hung=$(awk '$1 ~ /^extra\..*\.timeout$/ { n += $2 } END { print n + 0 }' "$LAB_DIR/hold.log")
other=$((24 - refused - granted))
fl_note "extra clients while full: 24 tried, $refused refused cleanly (503/close), $granted served (a load slot came free), $other other"
lab_expect_eq "full: no extra client hung" 0 "$hung"
lab_expect_eq "full: every extra client was refused cleanly or served" 0 "$other"
lab_expect "full: most extra clients were refused" test "$refused" -ge 12
lab_expect_eq "full: the held tunnels keep working" "$(val held_total)" "$(val held_working)"
rec=$(val recovery_s)
fl_note "released: first new client served after $rec s"
lab_expect_match "released: a new client is served within 10 s" '^[0-9]' echo "$rec"
lab_expect_eq "released: 10 new clients after that are all served" 10 "$(val after.served)"
busy1=$(metric connectd_refused_busy_total)
fl_note "connectd_refused_busy_total: $busy0 -> $busy1"
lab_expect "connectd counted the refusals (connectd_refused_busy_total grew)" test "$busy1" -gt "$busy0"
fl_note "limit phase $(fl_secs $((T1 - T0))) s; load meanwhile:"
while read -r l; do fl_note "  $l"; done < <(fl_load_summary "$T0" "$T1")

fl_load_stop
fl_recover "no slot stays taken (connectd_active_connections back to 0)" 10 "$T1" \
	test "$(metric connectd_active_connections)" = 0
fl_alive netjaild dohd connectd
fl_no_leak "connection limit"
fl_no_crash_logs
fl_report "faults-connlimit"
lab_finish
