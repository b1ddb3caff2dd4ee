#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# shellcheck disable=SC2119,SC2317 # optional arguments; functions run through fl_recover
# tests/faults/dohstall.sh - stall the DoH upstreams (SIGSTOP unbound, then
# SIGCONT; then a black hole: their port 443 dropped, then let through)
# under load.  One stalled: a fresh allowed name still resolves
# through the other.  Both stalled: dohd stays up and answers (cached
# names, SERVFAIL or silence for fresh ones, NXDOMAIN for denied names);
# no denied name resolves or reaches an upstream.  Resumed (or the black
# hole lifted): a fresh allowed name resolves again within a bound.  Fresh names come from
# r<N>.fl.test (local-data in both unbounds, allowed as *.fl.test), so
# each probe really goes upstream instead of to dohd's cache.
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

LAB_DOH_EXTRA=$(for i in $(seq 1 400); do
	printf '\tlocal-data: "r%d.fl.test. 300 A %s"\n' "$i" "$LAB_EXIT"
done)
allow_fresh() {
	fl_conf policy "allow = *.fl.test:443"
}
fl_up allow_fresh
fl_load_start
sleep 1

BOUND=10
FRESH=0
# fresh_ok: a name dohd has never seen resolves to the exit
fresh_ok() {
	FRESH=$((FRESH + 1))
	fl_dns_ok "r$FRESH.fl.test"
}
# fresh_try N: print "rcode/ms" of a query for rN.fl.test (1 try, 4 s)
fresh_try() {
	local t out
	t=$(lab_ms)
	out=$(lab_exec w2 dig +time=4 +tries=1 "@$LAB_BR4" "r$1.fl.test" A 2>&1 |
		sed -n 's/.*status: \([A-Z]*\).*/\1/p')
	echo "${out:-no-answer}/$(($(lab_ms) - t))ms"
}
stop_doh() { kill -STOP "$(cat "$LAB_DIR/doh-$1.pid")"; }
cont_doh() { kill -CONT "$(cat "$LAB_DIR/doh-$1.pid")"; }
lab_on_exit "kill -CONT \$(cat $LAB_DIR/doh-$LAB_DOH.pid) \$(cat $LAB_DIR/doh-$LAB_DOH2.pid) 2>/dev/null"

lab_expect "a fresh allowed name resolves (the local-data works)" fresh_ok
lab_expect "smoke.test resolves (and is cached from now on)" fl_dns_ok

# --- one upstream stalled
T0=$(lab_ms)
stop_doh "$LAB_DOH"
sleep 0.5
fl_recover "doh1 stalled: a fresh allowed name resolves through doh2" "$BOUND" "$T0" fresh_ok
FRESH=$((FRESH + 1))
f1=$(fresh_try "$FRESH")
fl_note "doh1 stalled, next fresh query: $f1"
T1=$(lab_ms)
cont_doh "$LAB_DOH"
fl_note "doh1 stalled $(fl_secs $((T1 - T0))) s; load meanwhile:"
while read -r l; do fl_note "  $l"; done < <(fl_load_summary "$T0" "$T1")
sleep 1

# --- both stalled
T0=$(lab_ms)
stop_doh "$LAB_DOH"
stop_doh "$LAB_DOH2"
sleep 0.5
results=""
for i in 1 2 3; do
	FRESH=$((FRESH + 1))
	results="$results $(fresh_try "$FRESH")"
done
fl_note "both stalled: fresh allowed queries: $results"
lab_expect_fail "both stalled: fresh allowed names do not resolve" fl_dns_answers "r$((FRESH + 1)).fl.test"
FRESH=$((FRESH + 1))
lab_expect "both stalled: cached smoke.test is still answered" fl_dns_ok
for n in forbidden.test leak.test rebind.test badalias.test "x$RANDOM.t.test"; do
	lab_expect_fail "both stalled: $n does not resolve" fl_dns_answers "$n"
done
lab_expect_match "both stalled: forbidden.test gets NXDOMAIN at once" 'status: NXDOMAIN' \
	lab_exec w2 dig +time=2 +tries=1 "@$LAB_BR4" forbidden.test A
fl_alive dohd
sleep 2
T1=$(lab_ms)
cont_doh "$LAB_DOH"
cont_doh "$LAB_DOH2"
fl_recover "both resumed: a fresh allowed name resolves" "$BOUND" "$T1" fresh_ok
fl_recover "both resumed: connectd /ready" 15 "$T1" e2e_ready
fl_note "both stalled $(fl_secs $((T1 - T0))) s; load meanwhile:"
while read -r l; do fl_note "  $l"; done < <(fl_load_summary "$T0" "$T1")
fl_load_recovery "DoH resumed" "$T1" dns_ok

# --- both black-holed: packets to the DoH servers' port 443 are dropped in
# up (a dead path rather than a stopped server: no RST, nothing back)
sleep 1
T0=$(lab_ms)
lab_exec up nft -f - <<EOF
table inet flbh {
	chain in {
		type filter hook input priority -10; policy accept;
		ip daddr { $LAB_DOH, $LAB_DOH2 } tcp dport 443 drop
		ip6 daddr { $LAB_DOH6, $LAB_DOH2_6 } tcp dport 443 drop
	}
}
EOF
lab_on_exit "ip netns exec $LAB_NS_UP nft delete table inet flbh 2>/dev/null"
sleep 0.3
results=""
for i in 1 2; do
	FRESH=$((FRESH + 1))
	results="$results $(fresh_try "$FRESH")"
done
fl_note "black-holed: fresh allowed queries: $results"
lab_expect "black-holed: cached smoke.test is still answered" fl_dns_ok
lab_expect_fail "black-holed: forbidden.test does not resolve" fl_dns_answers forbidden.test
fl_alive dohd
sleep 2
T1=$(lab_ms)
lab_exec up nft delete table inet flbh
fl_recover "black hole lifted: a fresh allowed name resolves" 20 "$T1" fresh_ok
fl_note "black-holed $(fl_secs $((T1 - T0))) s; load meanwhile:"
while read -r l; do fl_note "  $l"; done < <(fl_load_summary "$T0" "$T1")
fl_note "fresh names asked in all: $FRESH"

sleep 1
fl_load_stop
fl_alive netjaild dohd connectd
fl_no_leak "stalled DoH"
fl_no_crash_logs
fl_report "faults-dohstall"
lab_finish
