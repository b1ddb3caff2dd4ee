#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# shellcheck disable=SC2119,SC2317 # optional arguments; functions run through fl_recover
# tests/faults/slowloris.sh - slowloris clients under load: 250 sockets
# from w2 trickle a request head byte by byte (150 to the explicit proxy,
# 50 plain HTTP and 50 TLS to the transparent listener) with
# head_timeout = 3s: every one is cut (408 or close) by the head timeout,
# none lasts much longer, and a legitimate client from w1 is served all
# along.
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

HEAD=3
short_head() {
	fl_conf connectd "head_timeout = ${HEAD}s"
}
fl_up short_head
fl_load_start
sleep 1

val() {	# KEY: from slowloris's output
	awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }' "$LAB_DIR/slow.log"
}
legit() {	# one legitimate HTTPS request from w1, explicit or transparent
	if [ $((legit_n % 2)) = 0 ]; then
		fl_exit_ok lab_exec w1 curl -sS --max-time 3 --cacert "$LAB_DIR/ca.pem" \
			-x "http://$LAB_BR4:3128" https://smoke.test/
	else
		fl_exit_ok lab_exec w1 curl -sS --max-time 3 --cacert "$LAB_DIR/ca.pem" \
			--resolve "smoke.test:443:$LAB_EXIT" https://smoke.test/
	fi
}

T0=$(lab_ms)
lab_spawn slow w2 python3 "$FL_TOOL" slowloris --interval 0.25 --duration $((HEAD + 6)) --n 50 \
	--targets "$LAB_BR4:3128@http,$LAB_BR4:3128@http,$LAB_BR4:3128@http,$LAB_EXIT:80@plain,$LAB_EXIT:443@tls"
legit_n=0 legit_ok=0 legit_max=0
sleep 0.5
while lab_alive slow; do
	t=$(lab_ms)
	if legit >/dev/null 2>&1; then
		legit_ok=$((legit_ok + 1))
	fi
	t=$(($(lab_ms) - t))
	[ "$t" -le "$legit_max" ] || legit_max=$t
	legit_n=$((legit_n + 1))
	sleep 0.2
done
T1=$(lab_ms)
sed 's/^/    slowloris: /' "$LAB_DIR/slow.log"
fl_note "slowloris: $(tr '\n' ' ' <"$LAB_DIR/slow.log")"
fl_note "legitimate requests meanwhile: $legit_ok of $legit_n served, slowest $legit_max ms"

opened=$(val opened)
lab_expect_eq "all 250 slow sockets were opened" 250 "$opened"
lab_expect_eq "every slow socket was cut" "$opened" "$(val cut)"
lab_expect_eq "none was still open at the end" 0 "$(val still_open)"
lab_expect_eq "the 150 explicit ones got 408 (and the plain HTTP ones 408 or close)" 0 \
	"$(($(val how.status.408) + $(val how.close) + $(val how.ConnectionResetError) - opened))"
lab_expect "the explicit ones got a 408 head-timeout" test "$(val how.status.408)" -ge 150
max=$(val cut_max_s)
lab_expect "no slow socket outlived head_timeout by more than 1.5 s (max ${max} s)" \
	awk -v m="$max" -v h="$HEAD" 'BEGIN { exit !(m <= h + 1.5) }'
lab_expect "the head timeout, not something earlier, cut them (min $(val cut_min_s) s)" \
	awk -v m="$(val cut_min_s)" -v h="$HEAD" 'BEGIN { exit !(m >= h - 0.5) }'
lab_expect "legitimate requests were made meanwhile ($legit_n)" test "$legit_n" -ge 5
lab_expect_eq "every legitimate request was served meanwhile" "$legit_n" "$legit_ok"
fl_note "slowloris phase $(fl_secs $((T1 - T0))) s; load meanwhile:"
while read -r l; do fl_note "  $l"; done < <(fl_load_summary "$T0" "$T1")
okl=$(awk -v a="$T0" -v b="$T1" '$1 >= a && $1 < b && $4 == "ok"' "$FL_LOAD_LOG" | wc -l)
faill=$(awk -v a="$T0" -v b="$T1" '$1 >= a && $1 < b && $4 == "fail"' "$FL_LOAD_LOG" | wc -l)
lab_expect_eq "the load's allowed attempts all succeeded meanwhile ($okl ok)" 0 "$faill"

fl_load_stop
fl_alive netjaild dohd connectd
fl_no_leak "slowloris"
fl_no_crash_logs
fl_report "faults-slowloris"
lab_finish
