#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# shellcheck disable=SC2119,SC2317 # optional arguments; functions run through fl_recover
# tests/faults/dnsflood.sh - 10,000 malformed DNS packets over UDP (random
# bytes, truncated and mutated queries, bad label lengths, compression
# loops, huge counts, bad flags and EDNS, odd types and classes, name
# tricks, oversize) plus 300 DNS-over-TCP streams with lying length
# prefixes, from the bridge workload w2 to port 53 (redirected to dohd),
# under load.  dohd stays up, every answer holds only the allowed name's
# address, no denied name reaches an upstream, and a valid query is
# answered right after.  Replies are counted by rcode.  rate_limit = 0
# here, so that every packet reaches the parser rather than the limiter.
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

no_limit() {
	fl_conf dohd "rate_limit = 0"
}
fl_up no_limit
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

before=$(proc dohd)
T0=$(lab_ms)
lab_exec w2 python3 "$FL_TOOL" dnsflood --server "$LAB_BR4" --count 10000 \
	--rate 2500 --wait 4 --tcp 300 --seed 9 >"$LAB_DIR/flood.log" 2>&1 || true
T1=$(lab_ms)
fl_recover "after the DNS flood: a valid query is answered" 10 "$T1" fl_dns_ok
after=$(proc dohd)

sent=$(val sent)
fl_note "dnsflood: sent $sent UDP in $(val send_seconds) s; replies $(val replied), no reply $(val noreply);" \
	"$(grep '^rcode\.' "$LAB_DIR/flood.log" | tr '\n' ' ')"
fl_note "dnsflood: unmatched $(val unmatched), unparsable $(val unparsable), leaks $(val leaks); TCP: $(grep '^tcp' "$LAB_DIR/flood.log" | tr '\n' ' ')"
while read -r l; do fl_note "  $l"; done < <(grep '^cat ' "$LAB_DIR/flood.log")
fl_note "dohd rss_kb/fds before $before, after $after"
lab_expect_eq "10,000 malformed packets were sent" 10000 "$sent"
lab_expect "dohd answered many of them (replied $(val replied))" test "$(val replied)" -ge 1000
lab_expect_eq "no answer held a forbidden address or a denied name's records" 0 "$(val leaks)"
lab_expect_eq "no TCP answer did either" 0 "$(val tcp_leaks)"
lab_expect_eq "no unparsable reply" 0 "$(val unparsable)"
lab_expect_eq "every DNS-over-TCP stream ended (no timeout)" 0 "$(val tcp.timeout)"
for n in forbidden.test leak.test rebind.test badalias.test; do
	lab_expect_fail "after the flood: $n does not resolve" fl_dns_answers "$n"
done
fl_note "flood phase $(fl_secs $((T1 - T0))) s; load meanwhile:"
while read -r l; do fl_note "  $l"; done < <(fl_load_summary "$T0" "$T1")

fl_load_stop
fl_alive netjaild dohd connectd
fl_no_leak "DNS flood"
fl_no_crash_logs
fl_report "faults-dnsflood"
lab_finish
