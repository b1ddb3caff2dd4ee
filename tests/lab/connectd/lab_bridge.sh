#!/usr/bin/env bash
# lab_bridge.sh - connectd in the shared lab topology (tests/lab/lib.sh):
# workload w1 on the bridge uses connectd as HTTPS_PROXY and is also
# intercepted transparently (a hand-made dnat to 127.0.0.1 with
# route_localnet on the bridge, as DESIGN "Kernel facts" describes); the
# chain is real tinyproxy (hop A, Basic auth) then squid (hop C).  The
# uplink counters prove what did and did not leave the host.  netjaild and
# dohd are stood in for by fakepeer.py.  Bash.
set -euo pipefail
: "${EJ_LAB_PREFIX:=cdbr}"
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"

lab_require_root
lab_need curl socat tinyproxy squid nginx python3 nft
CONNECTD=$EJ_BUILD/connectd/connectd
[ -x "$CONNECTD" ] || lab_die "$CONNECTD not built"

lab_up
lab_users
LAB_PROXY_AUTH=cduser:cdpass lab_start_tinyproxy "$LAB_HOP_A"
lab_start_squid "$LAB_HOP_C"
lab_start_exit
D=$(lab_tmp)

# The jail's forward path, minimal: nothing from the bridge is routed;
# bridge TCP to 443/80 goes to connectd's transparent listener.
lab_exec host sysctl -qw "net.ipv4.conf.$LAB_BR.route_localnet=1"
lab_exec host nft -f - <<NFT
table ip cdlab {
	chain pre {
		type nat hook prerouting priority dstnat; policy accept;
		iifname "$LAB_BR" ip daddr != $LAB_BR4 tcp dport { 80, 443 } dnat to 127.0.0.1:15001
	}
	chain forward {
		type filter hook forward priority 0; policy accept;
		iifname "$LAB_BR" counter drop
	}
}
NFT

mkdir -p "$D/run"
chmod 777 "$D/run"
echo 1 >"$D/netjaild.ready"
echo 1 >"$D/dohd.ready"
lab_spawn fake-netjaild host python3 "$here/fakepeer.py" "$D/run" netjaild "$D/netjaild.ready"
# smoke.test for connectd's resolve check (the hops resolve it again).
lab_spawn fake-dohd host python3 "$here/fakepeer.py" "$D/run" dohd "$D/dohd.ready" \
    "smoke.test=$LAB_EXIT"
lab_retry 5 test -S "$D/run/dohd.sock"
lab_retry 5 test -S "$D/run/netjaild.sock"

cat >"$D/cd.conf" <<CONF
[jail]
interface = $LAB_BR
group = egressjail
runtime_dir = $D/run

[chain]
hop = http://cduser:cdpass@$LAB_HOP_A:3128
hop = http://$LAB_HOP_C:3128
canary = smoke.test:443
ca_file = $D/ca.pem
probe_interval = 1s
max_hop_status_age = 5s
connect_timeout = 3s

[connectd]
user = egress-connect
proxy_listen = $LAB_BR4:3128
transparent_listen = 127.0.0.1:15001
health_listen = 127.0.0.1:9191

[dohd]
user = egress-dns
listen = 127.0.0.1:15353
upstream = https://doh.test/dns-query $LAB_DOH

[policy]
allow = smoke.test:443,80
; the lab's "internet" is RFC 1918 (as in tests/lab/e2e/common.sh)
permit_cidr = $LAB_UPNET4
CONF
lab_spawn connectd host "$CONNECTD" -c "$D/cd.conf"
lab_wait_tcp host 127.0.0.1 9191
ready() {
	[ "$(lab_exec host curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
	    http://127.0.0.1:9191/ready)" = "$1" ]
}
lab_expect "/ready 200 once the chain probe passed" lab_retry 15 ready 200

proxy() {
	lab_exec w1 env HTTPS_PROXY="http://$LAB_BR4:3128" \
	    http_proxy="http://$LAB_BR4:3128" \
	    curl -sS --max-time 8 --cacert "$D/ca.pem" "$@"
}
code() {
	lab_exec w1 curl -s -o /dev/null -w '%{http_connect}' --max-time 8 \
	    -x "http://$LAB_BR4:3128" -p "http://$1/" || true
}

lab_count_reset
lab_expect_match "w1: HTTPS_PROXY to an allowed name" '^exit-ok smoke\.test$' \
    proxy https://smoke.test/
lab_expect_match "w1: plain http:// through the proxy" '^exit-ok smoke\.test$' \
    proxy http://smoke.test/
lab_expect_eq "w1: denied name 403" 403 "$(code forbidden.test:443)"
lab_expect_eq "w1: IP literal 403" 403 "$(code "$LAB_EXIT:443")"
lab_expect_eq "w1: 169.254.169.254 403" 403 "$(code 169.254.169.254:80)"
lab_expect_eq "w1: the bridge gateway 403" 403 "$(code "$LAB_BR4:9191")"
lab_expect_eq "w1: loopback 403" 403 "$(code 127.0.0.1:9191)"

lab_expect_match "w1 transparent: TLS by SNI through the chain" '^exit-ok smoke\.test$' \
    lab_exec w1 curl -sS --max-time 8 --cacert "$D/ca.pem" \
    --resolve "smoke.test:443:$LAB_EXIT" https://smoke.test/
lab_expect_match "w1 transparent: HTTP by Host through the chain" '^exit-ok smoke\.test$' \
    lab_exec w1 curl -sS --max-time 8 --resolve "smoke.test:80:$LAB_EXIT" \
    http://smoke.test/
lab_expect_fail "w1 transparent: forbidden.test by SNI is closed" \
    lab_exec w1 curl -sS --max-time 5 -k \
    --resolve "forbidden.test:443:$LAB_FORBIDDEN" https://forbidden.test/
lab_expect_fail "w1 transparent: no SNI is closed" \
    lab_exec w1 curl -sS --max-time 5 -k "https://$LAB_FORBIDDEN/"
lab_expect_eq "exit and forbidden got nothing from the host directly" "0 0" \
    "$(lab_count "$LAB_EXIT") $(lab_count "$LAB_FORBIDDEN")"
n=$(lab_count "$LAB_HOP_A" tcp 3128)
lab_expect "everything went to hop A ($n packets)" test "$n" -gt 0
# connectd writes its access log every 100 ms (see connectd(8)).
sleep 0.5
lab_expect_match "access log: transparent SNI allow through both hops" \
    "mode=transparent kind=tls dst=$LAB_EXIT:443 host=\"smoke.test\" port=443 .*decision=allow.*$LAB_HOP_C" \
    cat "$D/connectd.log"

# Kill hop C mid-run.
for p in $(ip netns pids "$(lab_ns up)"); do
	if [ "$(cat "/proc/$p/comm" 2>/dev/null)" = squid ]; then
		kill -9 "$p" 2>/dev/null || true
	fi
done
lab_expect "hop C killed: /ready 503" lab_retry 10 ready 503
lab_expect_match "hop C killed: /health names hop 2" \
    "\"hop\":\"2\",\"url\":\"http://$LAB_HOP_C:3128\",\"probed\":true,\"ok\":false" \
    lab_exec host curl -s --max-time 2 http://127.0.0.1:9191/health
lab_count_reset
lab_expect_match "hop C killed: new connection 502 naming hop 2" \
    '^X-Egressjail-Reason: chain: hop 2' \
    bash -c "printf 'CONNECT smoke.test:443 HTTP/1.1\r\nHost: smoke.test:443\r\n\r\n' | ip netns exec $(lab_ns w1) socat -t 5 - TCP:$LAB_BR4:3128 | tr -d '\r'"
lab_expect_fail "hop C killed: w1 curl fails" proxy https://smoke.test/
lab_expect_fail "hop C killed: transparent fails" \
    lab_exec w1 curl -sS --max-time 5 --cacert "$D/ca.pem" \
    --resolve "smoke.test:443:$LAB_EXIT" https://smoke.test/
lab_expect_eq "hop C killed: nothing reached the exit some other way" 0 \
    "$(lab_count "$LAB_EXIT")"
lab_stop connectd
lab_expect_match "SIGTERM: clean stop" 'event=stop status=0' cat "$D/connectd.log"
lab_expect_fail "no sanitizer reports" grep -q 'Sanitizer\|runtime error:' "$D/connectd.log"
lab_finish
