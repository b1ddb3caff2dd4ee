#!/usr/bin/env bash
# tests/lab/dohd/alone.sh - each daemon on its own, with only the sections
# it uses: connectd as an explicit-proxy sidecar ("exit = direct", no
# [jail], no [dohd]: names resolve with the host's resolver, here unbound's
# plain port 53) and dohd as an allowlist DNS server (no [jail], no
# [chain]).  Each answers allowed names and refuses the rest, and
# `egressctl check` still refuses both files (the whole jail needs all).
set -eu
export EJ_LAB_PREFIX=${EJ_LAB_PREFIX:-da}
. "$(dirname "$0")/../lib.sh"
lab_need kdig curl
lab_up
lab_users
# names that resolve to the host's own addresses: the uplink address (not
# a listener) and one added while dohd runs
LAB_DOH_EXTRA="	local-data: \"hostup.test. 300 IN A $LAB_HOSTUP4\"
	local-data: \"hostnew.test. 300 IN A 10.78.0.77\"
	local-data: \"hostnew.test. 300 IN A $LAB_EXIT\""
export LAB_DOH_EXTRA
lab_start_doh "$LAB_DOH"
lab_start_exit
# a hop that wants the password the config holds
LAB_PROXY_AUTH=alice:S3cretPw lab_start_tinyproxy "$LAB_HOP_A"

connectd=$EJ_BUILD/connectd/connectd
dohd=$EJ_BUILD/dohd/dohd
ctl=$EJ_BUILD/egressctl/egressctl
for b in "$connectd" "$dohd" "$ctl"; do
	[ -x "$b" ] || lab_skip "$b not built"
done
mkdir -p "$LAB_DIR/run-c" "$LAB_DIR/run-d"
chmod 755 "$LAB_DIR"

# ---- connectd alone: an explicit proxy whose exit is itself
cat >"$LAB_DIR/sidecar.conf" <<CONF
[jail]
; where the control socket goes; nothing is jailed
runtime_dir = $LAB_DIR/run-c

[chain]
exit = direct

[connectd]
proxy_listen = 127.0.0.1:13128
health_listen = 127.0.0.1:19191

[policy]
; the lab's "internet" lives in 10.78.0.0/24
permit_cidr = $LAB_UPNET4
allow = smoke.test:80,443
allow = rebind.test:80
CONF
chmod 644 "$LAB_DIR/sidecar.conf" "$LAB_DIR/ca.pem"
lab_expect "connectd --check takes the sidecar file" \
    "$connectd" -c "$LAB_DIR/sidecar.conf" --check
lab_expect_match "egressctl check still wants the whole jail" 'nothing is jailed' \
    sh -c "'$ctl' -c '$LAB_DIR/sidecar.conf' check 2>&1; true"
# the host's resolver: unbound's plain DNS in up
printf 'nameserver %s\noptions timeout:1 attempts:1\n' "$LAB_DOH" \
    >"/etc/netns/$LAB_NS_HOST/resolv.conf"
lab_spawn connectd host "$connectd" -c "$LAB_DIR/sidecar.conf"
lab_wait_tcp host 127.0.0.1 13128 10 ||
    lab_die "connectd did not start: $(tail -5 "$LAB_DIR/connectd.log")"
lab_expect "connectd says it resolves with the host's resolver" \
    grep -q 'event=resolver source=host nameservers=1' "$LAB_DIR/connectd.log"
lab_count_reset
lab_expect_match "plain HTTP to an allowed name through the sidecar" '^exit-ok smoke.test' \
    lab_exec host curl -sS --max-time 5 -x http://127.0.0.1:13128 http://smoke.test/
lab_expect_match "HTTPS (CONNECT) to an allowed name" '^exit-ok smoke.test' \
    lab_exec host curl -sS --max-time 5 --cacert "$LAB_DIR/ca.pem" \
    -x http://127.0.0.1:13128 https://smoke.test/
lab_expect_match "a name not allowed: 403" '^403$' \
    lab_exec host curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
    -x http://127.0.0.1:13128 http://forbidden.test/
lab_expect_match "an allowed name resolving inside: refused" '^403$' \
    lab_exec host curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
    -x http://127.0.0.1:13128 http://rebind.test/
lab_expect_eq "the forbidden server saw nothing" 0 "$(lab_count "$LAB_FORBIDDEN")"
lab_expect_match "/ready without netjaild or dohd" '^200$' \
    lab_exec host curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:19191/ready
lab_stop connectd

# ---- connectd alone with a hop given by name: the host's resolver finds
# it, and with no jail there is no netjaild to push its address to
cat >"$LAB_DIR/sidecar-hop.conf" <<CONF
[jail]
runtime_dir = $LAB_DIR/run-c
[chain]
hop = http://alice:S3cretPw@hop-a.test:$LAB_HOP_PORT
[connectd]
proxy_listen = 127.0.0.1:13128
[policy]
; the lab's "internet" is RFC 1918: connectd's resolve check would refuse it
permit_cidr = $LAB_UPNET4
allow = smoke.test:80,443
CONF
chmod 644 "$LAB_DIR/sidecar-hop.conf"
lab_spawn connectd host "$connectd" -c "$LAB_DIR/sidecar-hop.conf"
lab_wait_tcp host 127.0.0.1 13128 10 ||
    lab_die "connectd did not start: $(tail -5 "$LAB_DIR/connectd.log")"
lab_expect_match "through a hop named by name, resolved by the host's resolver" '^exit-ok smoke.test' \
    lab_exec host curl -sS --max-time 5 -x http://127.0.0.1:13128 http://smoke.test/
lab_stop connectd

# ---- a hop's password is never printed: not by connectd's log, /health,
# /metrics, egressctl status, check, explain or doctor, nor in a probe
# failure once the hop is gone
cat >"$LAB_DIR/secret.conf" <<CONF
[jail]
interface = $LAB_BR
runtime_dir = $LAB_DIR/run-c
[chain]
hop = http://alice:S3cretPw@$LAB_HOP_A:$LAB_HOP_PORT
probe_interval = 1s
max_hop_status_age = 3s
; no dohd runs here to resolve the target first
resolve_check = no
[connectd]
proxy_listen = 127.0.0.1:13128
health_listen = 127.0.0.1:19191
[dohd]
upstream = https://doh.test$LAB_DOH_PATH $LAB_DOH
[policy]
permit_cidr = $LAB_UPNET4
allow = smoke.test:80,443
CONF
chmod 644 "$LAB_DIR/secret.conf"
lab_spawn connectd host "$connectd" -c "$LAB_DIR/secret.conf"
lab_wait_tcp host 127.0.0.1 13128 10 ||
    lab_die "connectd did not start: $(tail -5 "$LAB_DIR/connectd.log")"
lab_expect_match "through the hop, with its password" '^exit-ok smoke.test' \
    lab_exec host curl -sS --max-time 5 -x http://127.0.0.1:13128 http://smoke.test/
lab_exec host curl -s --max-time 5 http://127.0.0.1:19191/health >"$LAB_DIR/secret.out" 2>&1
lab_expect "/health names the hop, redacted" grep -q "alice:\*\*\*@$LAB_HOP_A" "$LAB_DIR/secret.out"
lab_exec host curl -s --max-time 5 http://127.0.0.1:19191/metrics >>"$LAB_DIR/secret.out" 2>&1
for sub in status check "explain smoke.test" doctor; do
	# shellcheck disable=SC2086 # the subcommand and its argument
	lab_exec host "$ctl" -c "$LAB_DIR/secret.conf" $sub >>"$LAB_DIR/secret.out" 2>&1 || true
done
lab_expect "egressctl check shows the hop, redacted" grep -q "alice:\*\*\*@$LAB_HOP_A" "$LAB_DIR/secret.out"
lab_stop "tinyproxy-$LAB_HOP_A-$LAB_HOP_PORT"
sleep 3
lab_exec host "$ctl" -c "$LAB_DIR/secret.conf" status >>"$LAB_DIR/secret.out" 2>&1 || true
lab_expect "the hop's failure is logged" grep -q 'event=probe ok=0' "$LAB_DIR/connectd.log"
lab_expect_eq "no output and no log line carries the password" 0 \
    "$(cat "$LAB_DIR/secret.out" "$LAB_DIR/connectd.log" | grep -c 'S3cretPw')"
lab_stop connectd

# ---- dohd alone: an allowlist DNS server
cat >"$LAB_DIR/dns.conf" <<CONF
[jail]
runtime_dir = $LAB_DIR/run-d

[dohd]
listen = 127.0.0.1:15354
upstream = https://doh.test$LAB_DOH_PATH $LAB_DOH
ca_file = $LAB_DIR/ca.pem

[policy]
permit_cidr = $LAB_UPNET4
permit_cidr = $LAB_UPNET6
allow = smoke.test
allow = hostup.test
allow = hostnew.test
CONF
chmod 644 "$LAB_DIR/dns.conf"
lab_expect "dohd --check takes the DNS-only file" "$dohd" -c "$LAB_DIR/dns.conf" --check
lab_expect_match "egressctl check still wants the whole jail" 'empty chain' \
    sh -c "'$ctl' -c '$LAB_DIR/dns.conf' check 2>&1; true"
lab_spawn dohd host "$dohd" -c "$LAB_DIR/dns.conf"
lab_wait_udp host 127.0.0.1 15354 10 ||
    lab_die "dohd did not start: $(tail -5 "$LAB_DIR/dohd.log")"
lab_retry 10 sh -c "ip netns exec $LAB_NS_HOST kdig @127.0.0.1 -p 15354 +short smoke.test A | grep -q ." || true
lab_expect_match "an allowed name answers" "^$LAB_EXIT\$" \
    lab_exec host kdig @127.0.0.1 -p 15354 +short smoke.test A
lab_expect_match "a name not allowed: NXDOMAIN" 'status: NXDOMAIN' \
    lab_exec host kdig @127.0.0.1 -p 15354 forbidden.test A
# the host's own addresses are never an answer, not only its listeners
lab_expect_eq "the upstream does give the host's uplink address" "$LAB_HOSTUP4" \
    "$(lab_exec host kdig @"$LAB_DOH" +short hostup.test A)"
lab_expect_eq "dohd strips the host's uplink address (no listener there)" "" \
    "$(lab_exec host kdig @127.0.0.1 -p 15354 +short hostup.test A)"
lab_expect_eq "before it is the host's: 10.78.0.77 is answered" \
    "$LAB_EXIT 10.78.0.77" \
    "$(lab_exec host kdig @127.0.0.1 -p 15354 +short hostnew.test A | sort | tr '\n' ' ' | sed 's/ $//')"
lab_exec host ip addr add 10.78.0.77/32 dev lo
sleep 6
lab_expect_eq "an address the host gains later is stripped within seconds" "$LAB_EXIT" \
    "$(lab_exec host kdig @127.0.0.1 -p 15354 +short hostnew.test A)"
lab_expect "dohd logged the new set" grep -q 'event=host_addrs count=' "$LAB_DIR/dohd.log"
lab_exec host ip addr del 10.78.0.77/32 dev lo
lab_stop dohd

lab_finish
