#!/usr/bin/env bash
# tests/lab/dohd/dohd_iodine.sh - a real DNS tunnel (iodine) does not come
# up through dohd.  iodined is authoritative for tun.example behind the lab's
# DoH resolver (unbound delegates to it); the iodine client in a workload
# first reaches it through plain DNS (control: the tunnel works in this
# lab), then through dohd with an exact rule for tun.example, where every
# <data>.tun.example query is refused before any lookup.
set -eu
export EJ_LAB_PREFIX=${EJ_LAB_PREFIX:-dni}
. "$(dirname "$0")/../lib.sh"
lab_need iodine iodined kdig
[ -c /dev/net/tun ] || lab_skip "no /dev/net/tun"
lab_up
lab_users
tund=10.78.0.30
lab_exec up ip addr add "$tund/32" dev lo
LAB_DOH_EXTRA="	local-zone: \"tun.example.\" transparent
	do-not-query-localhost: no
stub-zone:
	name: \"tun.example.\"
	stub-addr: $tund@53"
lab_start_doh "$LAB_DOH"

dohd=${EJ_DOHD:-$EJ_BUILD/dohd/dohd}
[ -x "$dohd" ] || lab_skip "dohd not built at $dohd"

lab_spawn iodined up iodined -f -l "$tund" -p 53 -P labsecret 192.168.199.1/27 tun.example
lab_wait_udp up "$tund" 53 10 || lab_die "iodined did not start: $(tail -5 "$LAB_DIR/iodined.log")"

conf=$LAB_DIR/ej.conf
mkdir -p "$LAB_DIR/run"
chmod 755 "$LAB_DIR"
chmod 644 "$LAB_DIR/ca.pem"
cat >"$conf" <<CONF
[jail]
interface = $LAB_BR
runtime_dir = $LAB_DIR/run
[chain]
hop = http://$LAB_HOP_A:$LAB_HOP_PORT
[dohd]
listen = $LAB_BR4:53
upstream = https://doh.test$LAB_DOH_PATH $LAB_DOH
ca_file = $LAB_DIR/ca.pem
[policy]
permit_cidr = $LAB_UPNET4
allow = tun.example
allow = smoke.test
CONF
lab_spawn dohd host "$dohd" -c "$conf"
lab_wait_udp host "$LAB_BR4" 53 10 || lab_die "dohd did not start: $(tail -5 "$LAB_DIR/dohd.log")"

# iodine -r: DNS only, never its raw-UDP shortcut to iodined.
tunnel() {	# tunnel NAMESERVER: succeeds when the tunnel comes up
	local out=$LAB_DIR/iodine-$1.log
	lab_exec w1 timeout 25 iodine -f -r -P labsecret "$1" tun.example >"$out" 2>&1 || true
	grep -q "Connection setup complete" "$out"
}

lab_expect "control: iodine tunnel comes up over plain DNS to the resolver" tunnel "$LAB_DOH"
# only this lab's iodine: pkill would reach every PID namespace peer,
# another lab test's included
for pid in $(ip netns pids "$LAB_NS_W1"); do
	[ "$(cat "/proc/$pid/comm" 2>/dev/null)" != iodine ] || kill "$pid" 2>/dev/null || true
done
lab_exec w1 ip link del dns0 2>/dev/null || true
lab_expect_fail "iodine tunnel does not come up through dohd" tunnel "$LAB_BR4"
lab_expect_match "dohd refused the tunnel's queries" 'name="[^"]+\.tun\.example" .*decision=deny' \
	cat "$LAB_DIR/dohd.log"
lab_expect_match "dohd still answers allowed names meanwhile" '^10\.78\.0\.10$' \
	lab_exec w1 kdig @"$LAB_BR4" +short +timeout=3 +retry=0 smoke.test A
lab_finish
