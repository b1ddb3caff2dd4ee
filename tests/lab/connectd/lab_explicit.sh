#!/bin/sh
# lab_explicit.sh - connectd as an explicit proxy in front of a real chain:
# tinyproxy (Basic auth) then squid, both reached by IP; then a chain of
# two https:// hops reached by name through (fake) dohd; refusals; a hop
# killed mid-run; reload; drain.
. "$(dirname "$0")/cdlab.sh"

net_up
certs
start_upstream
start_peers

write_config "$T/a.conf" http://cduser:cdpass@10.99.0.2:3128 http://10.99.0.2:3129
check "config passes --check" inpx "$CONNECTD" -c "$T/a.conf" --check
start_connectd "$T/a.conf" || { bad "connectd answers /live"; finish; }
ok "connectd answers /live"
check "/ready turns 200 once the chain probe passed" wait_for 15 is_ready

out=$(inpx env HTTPS_PROXY=http://127.0.0.1:3128 curl -s --max-time 10 \
    --cacert "$T/ca.pem" https://allowed.test:8443/hello)
case $out in
"exit-ok host=allowed.test:8443 path=/hello"*) ok "HTTPS_PROXY curl to an allowed name" ;;
*) bad "HTTPS_PROXY curl to an allowed name: got '$out'" ;;
esac
check "squid (hop 2) carried it by name" grep -q "CONNECT allowed.test:8443" "$T/squid/access.log"
check "access log names both hops and the rule" \
    wait_for 3 grep -q 'event=access.*host="\{0,1\}allowed.test"\{0,1\} port=8443 rule=.*decision=allow.*10.99.0.2:3128.*10.99.0.2:3129' "$T/connectd.log"

out=$(inpx env HTTPS_PROXY='http://[::1]:3128' curl -s --max-time 10 \
    --cacert "$T/ca.pem" https://allowed.test:8443/v6)
case $out in
"exit-ok host=allowed.test:8443 path=/v6"*) ok "IPv6 proxy listener" ;;
*) bad "IPv6 proxy listener: got '$out'" ;;
esac

out=$(inpx curl -s --max-time 10 -x http://127.0.0.1:3128 http://allowed.test:8080/p?q=1)
case $out in
"exit-ok host=allowed.test:8080 path=/p?q=1 proxy_auth=None conn=close"*) ok "absolute-form GET rewritten to origin form, Proxy-* removed" ;;
*) bad "absolute-form GET: got '$out'" ;;
esac

check "denied name: 403" [ "$(connect_code denied.test:8443)" = 403 ]
check "denied name: reason header" sh -c "printf 'CONNECT denied.test:8443 HTTP/1.1\r\nHost: denied.test:8443\r\n\r\n' | ip netns exec $PX socat -t 3 - TCP:127.0.0.1:3128 | grep -q '^X-Egressjail-Reason: no_rule'"
check "allowed name, other port: 403" [ "$(connect_code allowed.test:22)" = 403 ]
check "IP literal: 403" [ "$(connect_code 10.99.0.2:8443)" = 403 ]
check "169.254.169.254: 403" [ "$(connect_code 169.254.169.254:80)" = 403 ]
check "gateway / own address: 403" [ "$(connect_code 10.99.0.1:3128)" = 403 ]
check "loopback in decimal: 403" [ "$(connect_code 2130706433:443)" = 403 ]
check "malformed request: 400" sh -c "printf 'CONNECT allowed.test HTTP/1.1\r\n\r\n' | ip netns exec $PX socat -t 3 - TCP:127.0.0.1:3128 | grep -q '^HTTP/1.1 400'"
check "bare LF request: 400" sh -c "printf 'CONNECT allowed.test:8443 HTTP/1.1\n\n' | ip netns exec $PX socat -t 3 - TCP:127.0.0.1:3128 | grep -q '^HTTP/1.1 400'"
check "origin-form to the proxy: 400" sh -c "printf 'GET / HTTP/1.1\r\nHost: allowed.test\r\n\r\n' | ip netns exec $PX socat -t 3 - TCP:127.0.0.1:3128 | grep -q '^HTTP/1.1 400'"
# One counting rule for a head refused for what the client sent: deny (it
# used to be error here and deny on the transparent intake); a head that
# never came in time stays error.
check "malformed head counted deny" wait_for 3 grep -q 'event=access .*mode=explicit .*decision=deny status=400 reason="\{0,1\}bad-request' "$T/connectd.log"
check "origin-form to the proxy counted deny" wait_for 3 grep -q 'event=access .*mode=explicit .*decision=deny status=400 reason="\{0,1\}not-a-proxy-request' "$T/connectd.log"
check "slow head: 408 after head_timeout" sh -c "(printf 'CONNECT allowed.test:8443 HTTP/1.1\r\n'; sleep 4) | ip netns exec $PX socat -t 5 - TCP:127.0.0.1:3128 | grep -q '^HTTP/1.1 408'"
check "slow head counted error" wait_for 3 grep -q 'event=access .*mode=explicit .*decision=error status=408 reason="\{0,1\}head-timeout' "$T/connectd.log"

m=$(inpx curl -s http://127.0.0.1:9191/metrics)
check "/metrics counts allowed connections" sh -c "echo '$m' | grep -q '^connectd_connections_total{mode=\"explicit\",decision=\"allow\"} [1-9]'"
check "/metrics counts denials" sh -c "echo '$m' | grep -q '^connectd_connections_total{mode=\"explicit\",decision=\"deny\"} [1-9]'"
check "/metrics has the hop latency histogram" sh -c "echo '$m' | grep -q '^connectd_hop_probe_seconds_count{hop=\"2\"} [1-9]'"
check "/metrics: access-log lines counted, none dropped" sh -c "echo '$m' | grep -q '^connectd_access_log_lines_total [1-9]' && echo '$m' | grep -q '^connectd_access_log_dropped_total 0$'"
# The peers' status text as metrics (fakepeer.py's text, hostile lines
# included); every line must be plain exposition and no peer line leaks.
inpx curl -s http://127.0.0.1:9191/metrics >"$T/metrics"
check "/metrics: dohd answered (egressjail_dohd_up 1)" grep -qx 'egressjail_dohd_up 1' "$T/metrics"
check "/metrics: netjaild answered (egressjail_netjaild_up 1)" grep -qx 'egressjail_netjaild_up 1' "$T/metrics"
check "/metrics: dohd queries by decision" grep -qx 'egressjail_dohd_queries_by_decision_total{decision="allowed"} 41' "$T/metrics"
check "/metrics: dohd queries by qtype" grep -qx 'egressjail_dohd_queries_by_qtype_total{qtype="aaaa"} 12' "$T/metrics"
check "/metrics: dohd cache hit ratio" grep -qx 'egressjail_dohd_cache_hit_ratio 0.250' "$T/metrics"
check "/metrics: dohd upstream latency and errors" sh -c "grep -qx 'egressjail_dohd_upstream_latency_seconds{upstream=\"0\"} 0.0125' $T/metrics && grep -qx 'egressjail_dohd_upstream_errors_total{upstream=\"0\"} 1' $T/metrics"
check "/metrics: dohd counter typed" grep -qx '# TYPE egressjail_dohd_queries_total counter' "$T/metrics"
check "/metrics: a repeated key keeps its first value" grep -qx 'egressjail_dohd_queries_total 57' "$T/metrics"
check "/metrics: netjaild drops, sets and generation" sh -c "grep -qx 'egressjail_netjaild_drop_packets_total{rule=\"bridge_host\"} 5' $T/metrics && grep -qx 'egressjail_netjaild_set_elements{set=\"hops4\"} 2' $T/metrics && grep -qx 'egressjail_netjaild_generation 1' $T/metrics"
check "/metrics: hostile peer lines skipped" sh -c "! grep -qi 'evil\|egressjail_dohd_queries_total 666\|kkkk\|egressjail_dohd_up 0' $T/metrics"
check "/metrics: every line is HELP, TYPE or a plain sample" python3 -c '
import re, sys
pat = re.compile(r"(# (HELP|TYPE) [a-z_][a-z0-9_]* [ -~]*|[a-z_][a-z0-9_]*(\{[a-z_]+=\"[a-zA-Z0-9_.+]*\"(,[a-z_]+=\"[a-zA-Z0-9_.+]*\")*\})? [0-9][0-9.e+-]*)")
lines = open(sys.argv[1]).read().split("\n")
assert lines[-1] == "" and all(pat.fullmatch(l) for l in lines[:-1]), [l for l in lines[:-1] if not pat.fullmatch(l)]
types = [l.split()[2] for l in lines if l.startswith("# TYPE ")]
assert len(types) == len(set(types)), types
' "$T/metrics"
check "/health is JSON with hops" sh -c "ip netns exec $PX curl -s http://127.0.0.1:9191/health | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d[\"hops\"]) == 3 and all(h[\"ok\"] for h in d[\"hops\"])'"

check "control socket: STATUS_REQ answered ready" sh -c "ip netns exec $PX python3 $H/ctlcall.py $T/run/connectd.sock status | grep -q 'type=3 id=7 ready=1'"
check "control socket: EXPLAIN_REQ names the rule" sh -c "ip netns exec $PX python3 $H/ctlcall.py $T/run/connectd.sock explain allowed.test 8443 | grep -q 'allowed.test:8443 allow reason=rule rule=.*a.conf'"

# bulk relay through the chain (echo server), both directions
if [ -x "$B/tests/bench/connectd/cd_bulk" ]; then
	check "8 MiB each way through the chain" inpx "$B/tests/bench/connectd/cd_bulk" 127.0.0.1:3128 allowed.test:9000 8
fi

# netjaild's jailed interfaces on /ready and /health; its own reason when
# it is not ready (quotes and backslashes from a peer are left out)
check "/ready names the jailed interfaces netjaild set up" sh -c "ip netns exec $PX curl -s http://127.0.0.1:9191/ready | grep -qx 'jailed interfaces: docker0 br-1a2b3c'"
check "/health has them" sh -c "ip netns exec $PX curl -s http://127.0.0.1:9191/health | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"netjaild\"][\"jailed_ifaces\"] == \"docker0 br-1a2b3c\"'"
echo 0 >"$T/netjaild.ready"
check "netjaild not ready: /ready 503 with its reason" wait_for 8 sh -c "ip netns exec $PX curl -s http://127.0.0.1:9191/ready | grep -qx 'not ready: netjaild not ready: interface br-9f not set up: route_localnet: Permission denied'"
echo 1 >"$T/netjaild.ready"
check "netjaild ready again: /ready 200" wait_for 8 is_ready

# dohd not ready: /ready 503
echo 0 >"$T/dohd.ready"
check "dohd not ready: /ready 503" wait_for 8 not_ready
check "dohd not ready: answered (up 1, ready 0)" wait_for 8 sh -c "ip netns exec $PX curl -s http://127.0.0.1:9191/metrics | grep -qx 'egressjail_dohd_ready 0' && ip netns exec $PX curl -s http://127.0.0.1:9191/metrics | grep -qx 'egressjail_dohd_up 1'"
echo mute >"$T/dohd.ready"
check "dohd silent: egressjail_dohd_up 0 and its counters gone" wait_for 8 sh -c "ip netns exec $PX curl -s http://127.0.0.1:9191/metrics >$T/metrics.mute && grep -qx 'egressjail_dohd_up 0' $T/metrics.mute && ! grep -q '^egressjail_dohd_queries' $T/metrics.mute && grep -qx 'egressjail_netjaild_up 1' $T/metrics.mute"
echo 1 >"$T/dohd.ready"
check "dohd ready again: /ready 200" wait_for 8 is_ready

# Kill hop 2 mid-run.  The count at the exit starts once the hop is seen
# dead: until then the canary probe (every second) may be on its way
# through squid to the exit server.
for p in $(ip netns pids "$UP"); do
	case $(cat /proc/$p/comm 2>/dev/null) in squid) kill -9 "$p" ;; esac
done
check "hop killed: /ready 503" wait_for 10 not_ready
before=$(exit_count)
check "hop killed: /health names hop 2" sh -c "ip netns exec $PX curl -s http://127.0.0.1:9191/health | python3 -c 'import json,sys; d=json.load(sys.stdin); h=d[\"hops\"]; assert h[0][\"ok\"] and not h[1][\"ok\"], h'"
out=$(printf 'CONNECT allowed.test:8443 HTTP/1.1\r\nHost: allowed.test:8443\r\n\r\n' | inpx socat -t 5 - TCP:127.0.0.1:3128 | tr -d '\r')
case $out in
*"HTTP/1.1 502"*"X-Egressjail-Reason: chain: hop 2"*) ok "hop killed: new connection 502 naming hop 2" ;;
*) bad "hop killed: got '$out'" ;;
esac
check "hop killed: curl fails" sh -c "! ip netns exec $PX env HTTPS_PROXY=http://127.0.0.1:3128 curl -s --max-time 5 --cacert $T/ca.pem https://allowed.test:8443/"
after=$(exit_count)
check "hop killed: nothing reached the exit server ($before -> $after)" [ "$before" = "$after" ]
stop_connectd
check "SIGTERM: exit 0" [ "$CDRC" = 0 ]

# A chain that is down at start is walked again after 0.5, 1, 2, 4 ... s,
# not a whole probe_interval later.
sed -e 's/^probe_interval = 1s$/probe_interval = 60s/' -e 's/^max_hop_status_age = 5s$/max_hop_status_age = 120s/' "$T/a.conf" >"$T/a60.conf"
start_connectd "$T/a60.conf" || { bad "connectd (probe_interval 60s) starts"; tail -5 "$T/connectd.log"; }
check "hop down at start: /ready 503" not_ready
rm -f "$T/squid/squid.pid"
bg_up squid -N -f "$T/squid.conf"
wait_for 20 inup nc -z 10.99.0.2 3129
t0=$(date +%s)
check "hop back: /ready 200 long before probe_interval (60 s)" wait_for 20 is_ready
echo "# ready $(( $(date +%s) - t0 )) s after hop 2 came back"
check "hop back: the probe log shows the first full pass" grep -q 'event=probe.*ok=1 first=1' "$T/connectd.log"
stop_connectd

# The https chain: both hops by name (dohd resolves hop 1; hop 1 resolves
# hop 2), TLS to hop 1, TLS to hop 2 inside hop 1's tunnel.
write_config "$T/b.conf" https://cduser:cdpass@hop1.test:3443 https://hop2.test:3444
start_connectd "$T/b.conf" || bad "connectd (https chain) starts"
check "https chain: /ready 200" wait_for 15 is_ready
out=$(inpx env HTTPS_PROXY=http://127.0.0.1:3128 curl -s --max-time 10 \
    --cacert "$T/ca.pem" https://allowed.test:8443/tls)
case $out in
"exit-ok host=allowed.test:8443 path=/tls"*) ok "https chain: curl through TLS in TLS" ;;
*) bad "https chain: got '$out'" ;;
esac

check "https chain: hop 1's address pushed to netjaild before dialling" grep -q 'set=2 op=1 10.99.0.2:3443' "$T/netjaild.ready.log"

# A hop whose certificate does not match: refused, named.
write_config "$T/c.conf" https://cduser:cdpass@hop1.test:3444
kill -HUP "$CDPID"
sleep 1
out=$(printf 'CONNECT allowed.test:8443 HTTP/1.1\r\n\r\n' | inpx socat -t 5 - TCP:127.0.0.1:3128 | tr -d '\r')
case $out in
*"HTTP/1.1 200"*) ok "reload of an unchanged file keeps working" ;;
*) bad "reload of an unchanged file: '$out'" ;;
esac
cp "$T/c.conf" "$T/b.conf"
kill -HUP "$CDPID"
sleep 1
out=$(printf 'CONNECT allowed.test:8443 HTTP/1.1\r\n\r\n' | inpx socat -t 5 - TCP:127.0.0.1:3128 | tr -d '\r')
case $out in
*"HTTP/1.1 502"*"hop 1"*"certificate"*) ok "reload: hop with the wrong certificate refused (502, hop 1)" ;;
*) bad "wrong certificate: '$out'" ;;
esac
stop_connectd
check "SIGTERM (https chain): exit 0" [ "$CDRC" = 0 ]

# An https:// hop given by address: verified against the certificate's IP
# SAN (hop 1 has one, hop 2 has none).
write_config "$T/i.conf" https://cduser:cdpass@10.99.0.2:3443 http://10.99.0.2:3129
start_connectd "$T/i.conf" || bad "connectd (https hop by address) starts"
check "https hop by address: /ready 200" wait_for 15 is_ready
check "https hop by address: tunnel" [ "$(connect_code allowed.test:8443)" = 200 ]
stop_connectd
write_config "$T/j.conf" https://10.99.0.2:3444
start_connectd "$T/j.conf" || bad "connectd (https hop without IP SAN) starts"
out=$(printf 'CONNECT allowed.test:8443 HTTP/1.1\r\n\r\n' | inpx socat -t 5 - TCP:127.0.0.1:3128 | tr -d '\r')
case $out in
*"HTTP/1.1 502"*"hop 1"*"certificate"*) ok "https hop by address without an IP SAN: 502" ;;
*) bad "https hop without IP SAN: '$out'" ;;
esac
stop_connectd

# Report mode: a denial is logged and let through the chain.
CD_POLICY_EXTRA="mode = report" write_config "$T/r.conf" http://cduser:cdpass@10.99.0.2:3128 http://10.99.0.2:3129
start_connectd "$T/r.conf" || bad "connectd (report mode) starts"
wait_for 15 is_ready
check "report mode: denied name gets through (200)" [ "$(connect_code denied.test:8443)" = 200 ]
check "report mode: logged as report" wait_for 3 grep -q 'event=access.*denied.test.*decision=report' "$T/connectd.log"
check "report mode: own address still 403" [ "$(connect_code 10.99.0.1:3128)" = 403 ]
stop_connectd

# [jail] direct endpoints bypass the chain: dialled by connectd itself.
CD_JAIL_EXTRA="direct = 10.99.0.2:9000
direct = db.test:8080" write_config "$T/e.conf" http://cduser:cdpass@10.99.0.2:3128 http://10.99.0.2:3129
start_connectd "$T/e.conf" || bad "connectd (direct endpoints) starts"
wait_for 15 is_ready
out=$(printf 'CONNECT 10.99.0.2:9000 HTTP/1.1\r\n\r\nping\n' | inpx socat -t 2 - TCP:127.0.0.1:3128 | tr -d '\r')
case $out in
*"HTTP/1.1 200"*"ping"*) ok "direct endpoint by address: tunnel to the echo server" ;;
*) bad "direct endpoint by address: '$out'" ;;
esac
out=$(inpx curl -s --max-time 10 -x http://127.0.0.1:3128 http://db.test:8080/db)
case $out in
"exit-ok host=db.test:8080 path=/db"*) ok "direct endpoint by name (resolved through dohd)" ;;
*) bad "direct endpoint by name: got '$out'" ;;
esac
check "direct endpoints never went through the chain" sh -c "! grep -q 'db.test\|10.99.0.2:9000' $T/squid/access.log"
check "access log: direct" wait_for 3 grep -q 'host="db.test" port=8080 .*decision=allow .*hops="direct"' "$T/connectd.log"
check "direct endpoint, other port: 403" [ "$(connect_code 10.99.0.2:9001)" = 403 ]
stop_connectd

# exit = direct: connectd is the last hop; it resolves through dohd and
# checks every address (the lab's exit sits in RFC 1918, so permit it).
CD_POLICY_EXTRA="permit_cidr = 10.99.0.0/24" write_config "$T/d.conf" direct
start_connectd "$T/d.conf" || bad "connectd (exit = direct) starts"
check "exit = direct: /ready 200" wait_for 15 is_ready
out=$(inpx env HTTPS_PROXY=http://127.0.0.1:3128 curl -s --max-time 10 \
    --cacert "$T/ca.pem" https://allowed.test:8443/direct)
case $out in
"exit-ok host=allowed.test:8443 path=/direct"*) ok "exit = direct: curl by name" ;;
*) bad "exit = direct: got '$out'" ;;
esac
out=$(inpx "$B/tests/bench/connectd/cd_bulk" 127.0.0.1:3128 allowed.test:9000 16)
case $out in
*"sent=16777216 received=16777216"*) ok "exit = direct: 16 MiB echoed whole across a half-close" ;;
*) bad "exit = direct: bulk '$out'" ;;
esac
out=$(inpx "$B/tests/bench/connectd/cd_connrate" 127.0.0.1:3128 allowed.test:9000 4 2)
echo "# $out"
case $out in
*" fails=0 "*) ok "exit = direct: closed-loop tunnels without a failure" ;;
*) bad "exit = direct: connrate '$out'" ;;
esac
check "exit = direct: IP literal still 403" [ "$(connect_code 10.99.0.2:8443)" = 403 ]
# Plain tunnels that move more than a little switch to splice(2).
spliced() { inpx curl -s http://127.0.0.1:9191/metrics | sed -n 's/^connectd_relay_spliced_total //p'; }
s0=$(spliced)
out=$(inpx python3 "$H/splicecheck.py" integrity)
case $out in
ok*) ok "splice: 24 MiB random both ways, byte for byte, across a half-close ($out)" ;;
*) bad "splice: integrity: '$out'" ;;
esac
s1=$(spliced)
check "splice: that tunnel was spliced (connectd_relay_spliced_total $s0 -> $s1)" [ "${s1:-0}" -gt "${s0:-0}" ]
out=$(inpx python3 "$H/splicecheck.py" slow)
case $out in
ok*) ok "splice: a reader that stalls gets everything after (backpressure)" ;;
*) bad "splice: slow reader: '$out'" ;;
esac
check "splice: the access log counts the spliced bytes" \
    wait_for 3 grep -q 'event=access.*port=9000 .*up=25165824 down=25165824' "$T/connectd.log"
# Many busy tunnels crossing the switch-over point at once (the exact
# race that once crashed connectd is a unit test: test_relay.c).
out=$(inpx python3 "$H/splicecheck.py" race)
case $out in
ok*) ok "splice: 240 busy tunnels cross the switch-over at once ($out)" ;;
*) bad "splice: race: '$out'" ;;
esac
check "splice: connectd is still alive after the race" inpx curl -sf http://127.0.0.1:9191/live
stop_connectd

# A spliced tunnel still ends at idle_timeout.
CD_POLICY_EXTRA="permit_cidr = 10.99.0.0/24" write_config "$T/i.conf" direct
sed -i 's/^head_timeout = 2s$/head_timeout = 2s\nidle_timeout = 2s/' "$T/i.conf"
start_connectd "$T/i.conf" || bad "connectd (idle_timeout 2s) starts"
s0=$(spliced)
out=$(inpx python3 "$H/splicecheck.py" idle)
case $out in
"ok closed after "[1-4].*) ok "splice: idle tunnel closed at idle_timeout ($out)" ;;
*) bad "splice: idle timeout: '$out'" ;;
esac
s1=$(spliced)
check "splice: the idle tunnel had been spliced" [ "${s1:-0}" -gt "${s0:-0}" ]
check "splice: access log says idle timeout" wait_for 3 grep -q 'event=access.*port=9000 .*error="idle timeout"' "$T/connectd.log"
stop_connectd

# The access log never blocks the event loop: stderr is a pipe whose
# reader stops; lines beyond the buffer are dropped and counted.
mkfifo "$T/stall.fifo"
cat "$T/stall.fifo" >"$T/stall.log" &
CATPID=$!
PIDS="$PIDS $CATPID"
ip netns exec "$PX" "$CONNECTD" -c "$T/d.conf" 2>"$T/stall.fifo" >/dev/null &
CDPID=$!
PIDS="$PIDS $CDPID"
if wait_for 10 inpx curl -sf http://127.0.0.1:9191/live; then
	kill -STOP "$CATPID"
	inpx "$B/tests/bench/connectd/cd_connrate" 127.0.0.1:3128 allowed.test:9000 8 3 >/dev/null 2>&1
	check "stalled log reader: a new tunnel still gets 200" [ "$(connect_code allowed.test:9000)" = 200 ]
	check "stalled log reader: /metrics answers at once" inpx curl -sf --max-time 2 -o "$T/stall.metrics" http://127.0.0.1:9191/metrics
	check "stalled log reader: lines dropped and counted" grep -q '^connectd_access_log_dropped_total [1-9]' "$T/stall.metrics"
	kill -CONT "$CATPID"
	check "reader back: the log says how many lines it dropped" wait_for 5 grep -q 'event=access-log dropped=[1-9]' "$T/stall.log"
	check "reader back: new lines flow again" wait_for 5 sh -c "[ \"\$(ip netns exec $PX curl -s -o /dev/null -w '%{http_connect}' --max-time 5 -x http://127.0.0.1:3128 -p http://allowed.test:9000/)\" = 200 ] && sleep 0.3 && tail -n 1 $T/stall.log | grep -q 'event=access.*port=9000'"
else
	bad "connectd (stderr a pipe) starts"
fi
stop_connectd

# SIGHUP with a new allowlist: the next connection sees it.
CD_POLICY_EXTRA="permit_cidr = 10.99.0.0/24" write_config "$T/h.conf" direct
start_connectd "$T/h.conf" || bad "connectd (reload) starts"
check "before reload: denied.test 403" [ "$(connect_code denied.test:8443)" = 403 ]
CD_POLICY_EXTRA="permit_cidr = 10.99.0.0/24
allow = denied.test:8443" write_config "$T/h.conf" direct
kill -HUP "$CDPID"
check "after reload: denied.test allowed" wait_for 5 sh -c "[ \"\$(ip netns exec $PX curl -s -o /dev/null -w '%{http_connect}' --max-time 5 -x http://127.0.0.1:3128 -p http://denied.test:8443/)\" = 200 ]"
check "RELOAD_REQ with a good config answers done" sh -c "ip netns exec $PX python3 $H/ctlcall.py $T/run/connectd.sock reload | grep -q 'type=5 code=0'"
printf '[chain]\nhop = htp://broken\n' >"$T/h.conf"
kill -HUP "$CDPID"
sleep 0.5
check "a broken config on reload keeps the old generation" [ "$(connect_code denied.test:8443)" = 200 ]
check "the broken reload is logged with its error" grep -q 'event=reload result=failed error="' "$T/connectd.log"
check "RELOAD_REQ with the broken config answers the failure" sh -c "ip netns exec $PX python3 $H/ctlcall.py $T/run/connectd.sock reload | grep -q 'type=5 code=22'"
check "a reload that failed keeps the old generation" [ "$(connect_code denied.test:8443)" = 200 ]
stop_connectd

# block_start_until_hops_healthy: until a full-chain probe passed, 503.
CD_CANARY=nothere.test:8443 CD_CHAIN_EXTRA="block_start_until_hops_healthy = yes" \
    CD_POLICY_EXTRA="permit_cidr = 10.99.0.0/24" write_config "$T/k.conf" direct
start_connectd "$T/k.conf" || bad "connectd (block start) starts"
sleep 1.5
out=$(printf 'CONNECT allowed.test:8443 HTTP/1.1\r\n\r\n' | inpx socat -t 3 - TCP:127.0.0.1:3128 | tr -d '\r')
case $out in
*"HTTP/1.1 503"*"X-Egressjail-Reason: not-ready"*) ok "block_start_until_hops_healthy: 503 not-ready" ;;
*) bad "block_start_until_hops_healthy: '$out'" ;;
esac
check "canary failing: /ready 503" not_ready
stop_connectd

# The connection limit: the third connection gets 503.
CD_MAXCONN=2 write_config "$T/m.conf" direct
start_connectd "$T/m.conf" || bad "connectd (max_connections 2) starts"
(sleep 3 | inpx socat -t 3 - TCP:127.0.0.1:3128 >/dev/null 2>&1 &)
(sleep 3 | inpx socat -t 3 - TCP:127.0.0.1:3128 >/dev/null 2>&1 &)
sleep 0.5
check "max_connections: 503 beyond the limit" sh -c "printf 'CONNECT allowed.test:8443 HTTP/1.1\r\n\r\n' | ip netns exec $PX socat -t 3 - TCP:127.0.0.1:3128 | grep -q '^HTTP/1.1 503'"
stop_connectd

finish
