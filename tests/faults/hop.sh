#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# shellcheck disable=SC2119,SC2317 # optional arguments; functions run through fl_recover
# tests/faults/hop.sh - kill -9 a hop (tinyproxy A, the first; then B, the
# second) under load: connectd's probes name the dead hop, /ready turns
# 503, new connections get 502 naming it, no allowed request succeeds
# another way while it is dead (the host never talks to hop B or the exit
# itself); the hop restarted, the chain is back within a bound.  Then hop A
# stalled (SIGSTOP: TCP accepted, no answer): 504 within connect_timeout,
# no hang, nothing around it; SIGCONT: recovery.
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

BOUND=15

# health_hops: "N ok|FAILED url error" per hop, from /health
health_hops() {
	lab_exec host curl -s --max-time 2 "http://$E2E_HEALTH/health" |
		python3 -c '
import json, sys
for h in json.load(sys.stdin)["hops"]:
    print(h["hop"], "ok" if h["ok"] else "FAILED", h["url"] or "-",
          (h["error"] or "-").replace(" ", "_"))'
}

not_ready() {
	[ "$(e2e_http_code "http://$E2E_HEALTH/ready")" = 503 ]
}

# x_connect: "STATUS REASON" of an explicit CONNECT from w2
x_connect() {
	lab_exec w2 curl -s -o /dev/null -D - --max-time 8 -x "$E2E_PROXY" -p \
		"http://smoke.test:443/" 2>/dev/null | tr -d '\r' |
		awk '/^HTTP\// && !s { s = $2 } tolower($1) == "x-egressjail-reason:" { $1 = ""; r = $0 }
		END { print (s ? s : "000") r }'
}

for which in A B; do
	if [ "$which" = A ]; then
		addr=$LAB_HOP_A n=1
	else
		addr=$LAB_HOP_B n=2
	fi
	name=tinyproxy-$addr-$LAB_HOP_PORT
	lab_count_reset
	T0=$(lab_ms)
	kill -KILL "$(cat "$LAB_DIR/$name.pid")"
	FL_WHAT=detection fl_recover "hop $which dead: /ready turns 503" 10 "$T0" not_ready
	lab_expect_match "hop $which dead: /health names hop $n as failed" \
		"^$n FAILED http://$addr:$LAB_HOP_PORT " health_hops
	if [ "$n" = 2 ]; then
		lab_expect_match "hop $which dead: hop 1 still passes its probe" '^1 ok ' health_hops
	fi
	fl_note "hop $which dead, /health: $(health_hops | tr '\n' ';')"
	code=$(x_connect)
	fl_note "hop $which dead: CONNECT smoke.test:443 answered: $code"
	lab_expect_match "hop $which dead: a new CONNECT gets 502 naming hop $n" \
		"^502 .*hop $n" echo "$code"
	lab_expect "hop $which dead: transparent HTTPS fails" k_denied w https://smoke.test/
	lab_expect "hop $which dead: explicit plain HTTP fails" k_denied w -x "$E2E_PROXY" http://smoke.test/
	sleep 2
	T1=$(lab_ms)
	lab_expect_eq "hop $which dead: the host never talked to hop B (lab_count)" 0 \
		"$(lab_count "$LAB_HOP_B" tcp "$LAB_HOP_PORT")"
	lab_expect_eq "hop $which dead: the host never talked to the exit (lab_count)" 0 \
		"$(($(lab_count "$LAB_EXIT") + $(lab_count "$LAB_EXIT6")))"
	# allowed attempts that started once the hop was surely dead
	okn=$(awk -v a=$((T0 + 300)) -v b="$T1" '$1 >= a && $1 < b && $4 == "ok" &&
		$3 ~ /^(xhttps|xhttp|thttps|thttp)$/' "$FL_LOAD_LOG" | wc -l)
	lab_expect_eq "hop $which dead: no allowed TCP request of the load succeeded" 0 "$okn"
	fl_note "hop $which dead $(fl_secs $((T1 - T0))) s; load while dead:"
	while read -r l; do fl_note "  $l"; done < <(fl_load_summary "$T0" "$T1")
	lab_start_tinyproxy "$addr" "$LAB_HOP_PORT"
	fl_recover "hop $which restarted: explicit HTTPS" "$BOUND" "$T1" fl_https_x
	fl_recover "hop $which restarted: transparent HTTPS" "$BOUND" "$T1" fl_https_t
	fl_recover "hop $which restarted: /ready 200" "$BOUND" "$T1" e2e_ready
	fl_load_recovery "hop $which restarted" "$T1" xhttps xhttp thttps thttp
	fl_alive netjaild dohd connectd
done

# --- a stalled hop: tinyproxy A stopped (SIGSTOP): the kernel still
# accepts its TCP, nothing answers the CONNECT.  connectd must time the
# stage out (connect_timeout = 3s here), never hang, never go around it.
name=tinyproxy-$LAB_HOP_A-$LAB_HOP_PORT
lab_on_exit "kill -CONT \$(cat $LAB_DIR/$name.pid) 2>/dev/null"
lab_count_reset
T0=$(lab_ms)
kill -STOP "$(cat "$LAB_DIR/$name.pid")"
FL_WHAT=detection fl_recover "hop A stalled: /ready turns 503" 15 "$T0" not_ready
fl_note "hop A stalled, /health: $(health_hops | tr '\n' ';')"
t=$(lab_ms)
code=$(x_connect)
t=$(($(lab_ms) - t))
fl_note "hop A stalled: CONNECT smoke.test:443 answered in $t ms: $code"
# connectd sees hop 1 accept TCP and then stay silent on "CONNECT hop 2",
# which is also what a hop 2 that hop 1 cannot reach looks like: the
# reason names the stage and the hop that gave no answer (hop 1).
lab_expect_match "hop A stalled: a new CONNECT gets 504 naming hop 1 as the silent one" \
	"^504 chain: hop 2 .*no answer from hop 1 " echo "$code"
lab_expect "hop A stalled: the answer came within connect_timeout + 2 s ($t ms)" test "$t" -le 5000
lab_expect "hop A stalled: transparent HTTPS fails" k_denied w https://smoke.test/
T1=$(lab_ms)
lab_expect_eq "hop A stalled: the host never talked to hop B or the exit (lab_count)" 0 \
	"$(($(lab_count "$LAB_HOP_B") + $(lab_count "$LAB_EXIT") + $(lab_count "$LAB_EXIT6")))"
okn=$(awk -v a=$((T0 + 300)) -v b="$T1" '$1 >= a && $1 < b && $4 == "ok" &&
	$3 ~ /^(xhttps|xhttp|thttps|thttp)$/' "$FL_LOAD_LOG" | wc -l)
lab_expect_eq "hop A stalled: no allowed TCP request of the load succeeded" 0 "$okn"
fl_note "hop A stalled $(fl_secs $((T1 - T0))) s; load meanwhile:"
while read -r l; do fl_note "  $l"; done < <(fl_load_summary "$T0" "$T1")
kill -CONT "$(cat "$LAB_DIR/$name.pid")"
fl_recover "hop A resumed: explicit HTTPS" "$BOUND" "$T1" fl_https_x
fl_recover "hop A resumed: /ready 200" "$BOUND" "$T1" e2e_ready
fl_load_recovery "hop A resumed" "$T1" xhttps xhttp thttps thttp
fl_alive netjaild dohd connectd

sleep 1
fl_load_stop
fl_no_leak "dead hop"
lab_expect_eq "the host never talked to hop B or the exit in the whole test" 0 \
	"$(($(lab_count "$LAB_HOP_B") + $(lab_count "$LAB_EXIT")))"
fl_no_crash_logs
fl_report "faults-hop"
lab_finish
