#!/usr/bin/env bash
# tests/lab/dohd/dohd_feed.sh - dohd and netjaild together: a workload's
# port-53 query is redirected to dohd by the jail, and an answer for a
# [jail] direct name is released only after netjaild has put its addresses
# into the kernel's direct set.  Before the lookup the direct endpoint is
# shut; after it, it is reachable, on its port only, for the answer's TTL.
set -eu
export EJ_LAB_PREFIX=${EJ_LAB_PREFIX:-dnf}
. "$(dirname "$0")/../lib.sh"
lab_need dig curl nft
lab_up
lab_users
lab_start_exit
lab_start_doh "$LAB_DOH"

dohd=${EJ_DOHD:-$EJ_BUILD/dohd/dohd}
nj=$EJ_BUILD/netjaild/netjaild
[ -x "$dohd" ] || lab_skip "dohd not built at $dohd"
[ -x "$nj" ] || lab_skip "netjaild not built at $nj"

conf=$LAB_DIR/ej.conf
mkdir -p "$LAB_DIR/run"
chmod 755 "$LAB_DIR"
chmod 644 "$LAB_DIR/ca.pem"
cat >"$conf" <<CONF
[jail]
interface = $LAB_BR
direct = direct.test:$LAB_DIRECT_PORT
runtime_dir = $LAB_DIR/run

[chain]
hop = http://$LAB_HOP_A:$LAB_HOP_PORT

[connectd]
proxy_listen = $LAB_BR4:3128
transparent_listen = 127.0.0.1:15001

[dohd]
listen = 127.0.0.1:15353
upstream = https://doh.test$LAB_DOH_PATH $LAB_DOH
ca_file = $LAB_DIR/ca.pem

[policy]
permit_cidr = $LAB_UPNET4
allow = smoke.test
CONF

lab_spawn netjaild host "$nj" -c "$conf"
lab_retry 10 grep -q "event=ready" "$LAB_DIR/netjaild.log" ||
	lab_die "netjaild did not start: $(tail -5 "$LAB_DIR/netjaild.log")"
lab_spawn dohd host "$dohd" -c "$conf"
lab_wait_udp host 127.0.0.1 15353 10 || lab_die "dohd did not start: $(tail -5 "$LAB_DIR/dohd.log")"

direct_url=http://$LAB_DIRECT:$LAB_DIRECT_PORT/
lab_expect_fail "before any lookup the direct endpoint is shut" \
	lab_exec w1 curl -sS --max-time 3 "$direct_url"
lab_expect_match "the jail sends a workload's DNS to dohd: allowed name" '^10\.78\.0\.10$' \
	lab_exec w1 dig @"$LAB_INET4" +short +time=3 +tries=1 smoke.test A
lab_expect_match "denied name through the jail: NXDOMAIN" 'status: NXDOMAIN' \
	lab_exec w1 dig @"$LAB_INET4" +time=3 +tries=1 forbidden.test A
lab_expect_match "direct name answered (after netjaild's ack)" '^10\.78\.0\.20$' \
	lab_exec w1 dig @"$LAB_BR4" +short +time=3 +tries=1 direct.test A
lab_expect_match "dohd logged the acknowledged feed" 'name="direct\.test" .*rcode=NOERROR.*direct=yes' \
	cat "$LAB_DIR/dohd.log"
lab_expect_match "the kernel's direct set holds the address with a timeout" \
	"$LAB_DIRECT.*$LAB_DIRECT_PORT.*(timeout|expires)" lab_exec host nft list table inet egressjail
lab_expect_match "now the direct endpoint is reachable" 'direct-ok' \
	lab_exec w1 curl -sS --max-time 5 "$direct_url"
lab_expect_fail "... on its port only" \
	lab_exec w1 curl -sS --max-time 3 "http://$LAB_DIRECT:80/"
lab_stop netjaild
lab_expect_match "netjaild gone: the direct answer is withheld (SERVFAIL), never released unguarded" \
	'status: SERVFAIL' lab_exec w1 dig @"$LAB_BR4" +time=3 +tries=1 direct.test AAAA
lab_finish
