#!/bin/sh
# lab_tunnel.sh - what happens inside a tunnel once it is open, and when
# connectd tells systemd it is ready:
#   - READY=1 waits for the first full-chain probe when
#     block_start_until_hops_healthy = yes; probe_timeout bounds a probe
#   - half-closed clients (request, then shutdown(SHUT_WR)) get their
#     answer through hops that end a tunnel at the first EOF (tinyproxy,
#     squid), in explicit and transparent intake, buffered and spliced
#   - the resolve check: an allowed name that resolves (through dohd) to
#     a metadata address is refused before it goes to the hops
#   - the tunnel check: after CONNECT's 200, a ClientHello for another
#     name is cut before it leaves; server-first protocols are not held
. "$(dirname "$0")/cdlab.sh"

CL=cdl$$c
cleanup_cl() { ip netns pids "$CL" 2>/dev/null | xargs -r kill -9 2>/dev/null; ip netns del "$CL" 2>/dev/null; cleanup; }
trap cleanup_cl EXIT
trap 'exit 1' INT TERM HUP PIPE
incl() { ip netns exec "$CL" "$@"; }

net_up
ip netns add "$CL"
ip link add cdl$$c netns "$PX" type veth peer name cdl$$d netns "$CL"
inpx ip addr add 10.98.0.1/24 dev cdl$$c
incl ip addr add 10.98.0.2/24 dev cdl$$d
inpx ip link set cdl$$c up
incl ip link set cdl$$d up
incl ip link set lo up
incl ip route add default via 10.98.0.1
inpx nft -f - <<NFT
table ip cdlabt {
	chain pre {
		type nat hook prerouting priority dstnat; policy accept;
		iifname "cdl$$c" tcp dport { 8080, 8443 } redirect to :15001
	}
}
NFT
certs
start_upstream
start_peers
CD_TRANSPARENT=10.98.0.1:15001

# hcclient ADDR PORT PAYLOAD [CONNECT-TARGET]: send, shut the write side,
# print all that comes back (python, so the half-close is certain).
cat >"$T/hcclient.py" <<'PY'
import socket, sys
addr, port = sys.argv[1], int(sys.argv[2])
payload = sys.argv[3].encode().decode('unicode_escape').encode('latin1')
s = socket.create_connection((addr, port), timeout=10)
if len(sys.argv) > 4:
    t = sys.argv[4].encode()
    s.sendall(b'CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n' % (t, t))
    h = b''
    while not h.endswith(b'\r\n\r\n'):
        d = s.recv(1)
        if not d:
            sys.exit('no CONNECT answer')
        h += d
s.sendall(payload)
s.shutdown(socket.SHUT_WR)
out = b''
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        out += d
except OSError as e:
    sys.stderr.write('hcclient: %s\n' % e)
sys.stdout.write(out.decode(errors='replace'))
PY

# ---- READY=1 and probe_timeout (issue 14, point 10)
cat >"$T/notify.py" <<'PY'
import os, socket, sys, time
path, log = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o666)
while True:
    d = s.recv(4096)
    with open(log, 'a') as f:
        f.write('%.3f %s\n' % (time.time(), d.decode(errors='replace').replace('\n', ' ')))
PY
bg_px python3 "$T/notify.py" "$T/notify.sock" "$T/notify.log"
wait_for 5 test -S "$T/notify.sock"
: >"$T/notify.log"
# Hop 1 forwards to squid, but only once we start it.
CD_CHAIN_EXTRA='block_start_until_hops_healthy = yes' \
    write_config "$T/r.conf" http://10.99.0.2:3131
NOTIFY_SOCKET=$T/notify.sock start_connectd "$T/r.conf" || { bad "connectd starts"; finish; }
sleep 2
check "block_start_until_hops_healthy: no READY=1 while no probe passed" \
    sh -c "! grep -q READY=1 $T/notify.log"
check "and connections are refused meanwhile" [ "$(connect_code allowed.test:8443)" = 503 ]
bg_up socat TCP-LISTEN:3131,bind=10.99.0.2,reuseaddr,fork TCP:10.99.0.2:3129
check "READY=1 once the first full-chain probe passed" wait_for 15 grep -q READY=1 "$T/notify.log"
check "READY=1 sent once" [ "$(grep -c READY=1 "$T/notify.log")" = 1 ]
stop_connectd

# A silent hop: accepts, never answers CONNECT.  probe_timeout (1s) ends
# the probe's stage, not connect_timeout (3s, which connections keep).
bg_up socat TCP-LISTEN:3132,bind=10.99.0.2,reuseaddr,fork SYSTEM:'sleep 60'
CD_CHAIN_EXTRA='probe_timeout = 1s' write_config "$T/p.conf" http://10.99.0.2:3132
start_connectd "$T/p.conf" || { bad "connectd starts"; finish; }
# The stage that hangs is the canary's: CONNECT through hop 1.
canary() {
	inpx curl -s http://127.0.0.1:9191/health | python3 -c '
import json, sys
h = json.load(sys.stdin)["hops"][1]
assert h["probed"] and not h["ok"], h
print(h["latency_ms"], h["error"])'
}
wait_for 10 canary
out=$(canary)
case $out in
[0-9]*" hop 1 ("*"to target: timed out"*) ms=${out%% *}
	check "probe_timeout bounds a probe stage (${ms}ms, probe_timeout 1s, connect_timeout 3s)" \
	    sh -c "[ $ms -ge 900 ] && [ $ms -lt 2000 ]" ;;
*) bad "silent hop: /health canary stage: '$out'" ;;
esac
stop_connectd

# ---- half-closed clients (issue 14, point 6)
REQ='GET /hc HTTP/1.0\r\nHost: allowed.test:8080\r\n\r\n'
write_config "$T/h.conf" http://cduser:cdpass@10.99.0.2:3128 http://10.99.0.2:3129
start_connectd "$T/h.conf" || { bad "connectd starts"; finish; }
check "/ready" wait_for 15 is_ready
out=$(incl python3 "$T/hcclient.py" 10.99.0.2 8080 "$REQ" | tail -1)
case $out in
"exit-ok host=allowed.test:8080 path=/hc"*) ok "half-closed client, transparent, through tinyproxy and squid" ;;
*) bad "half-closed client, transparent: got '$out'" ;;
esac
out=$(inpx python3 "$T/hcclient.py" 127.0.0.1 3128 "$REQ" allowed.test:8080 | tail -1)
case $out in
"exit-ok host=allowed.test:8080 path=/hc"*) ok "half-closed client, explicit CONNECT, through tinyproxy and squid" ;;
*) bad "half-closed client, explicit CONNECT: got '$out'" ;;
esac
out=$(inpx python3 "$T/hcclient.py" 127.0.0.1 3128 'GET http://allowed.test:8080/hp HTTP/1.0\r\n\r\n' | tail -1)
case $out in
"exit-ok host=allowed.test:8080 path=/hp"*) ok "half-closed client, explicit plain request" ;;
*) bad "half-closed client, explicit plain request: got '$out'" ;;
esac
# A server that answers only after the client's EOF (the echo server
# echoes, then ends at EOF): the EOF still arrives, once the upstream has
# been quiet for the grace time, and the tunnel ends.
out=$(inpx timeout 8 python3 "$T/hcclient.py" 127.0.0.1 3128 'echo me' allowed.test:9000)
check "half-close still reaches a server that waits for EOF ('$out')" [ "$out" = "echo me" ]
stop_connectd

# ---- the resolve check (issue 18): meta.test is allowed, and resolves
# to 169.254.169.254; the hops never see the CONNECT.
CD_POLICY_EXTRA='allow = meta.test:8443' write_config "$T/m.conf" http://10.99.0.2:3129
start_connectd "$T/m.conf" || { bad "connectd starts"; finish; }
check "/ready (resolve check)" wait_for 15 is_ready
nsq=$(grep -c 'meta.test' "$T/squid/access.log" 2>/dev/null)
code=$(connect_code meta.test:8443)
check "resolve check: allowed name on a metadata address refused ($code)" [ "$code" = 403 ]
check "resolve check: logged with the address" \
    wait_for 3 grep -q 'host="\{0,1\}meta.test"\{0,1\} .*decision=deny.*resolves to 169.254.169.254' "$T/connectd.log"
check "resolve check: the hop never saw it" [ "$(grep -c 'meta.test' "$T/squid/access.log" 2>/dev/null)" = "$nsq" ]
check "resolve check: allowed.test still passes" [ "$(connect_code allowed.test:8443)" = 200 ]
stop_connectd
CD_CHAIN_EXTRA='resolve_check = no' CD_POLICY_EXTRA='allow = meta.test:8443' \
    write_config "$T/m2.conf" http://10.99.0.2:3129
start_connectd "$T/m2.conf" || { bad "connectd starts"; finish; }
wait_for 15 is_ready
code=$(connect_code meta.test:8443)
check "resolve_check = no: the CONNECT goes to the hop ($code)" [ "$code" != 403 ]
stop_connectd

# ---- the tunnel check (issue 18): CONNECT allowed.test:8443, then TLS for
# another name; the exit server at the allowed address would serve it.
CD_POLICY_EXTRA='allow = allowed.test:2222' write_config "$T/f.conf" http://10.99.0.2:3129
start_connectd "$T/f.conf" || { bad "connectd starts"; finish; }
check "/ready (tunnel check)" wait_for 15 is_ready
out=$(inpx curl -s --max-time 10 -k -x http://127.0.0.1:3128 \
    --connect-to other.test:8443:allowed.test:8443 https://other.test:8443/front 2>&1)
case $out in
*"exit-ok host=other.test"*) bad "fronting: CONNECT allowed.test, SNI other.test was served: '$out'" ;;
*) ok "fronting: CONNECT allowed.test, SNI other.test: nothing served" ;;
esac
check "fronting: cut logged with the name seen" \
    wait_for 3 grep -q 'event=tunnel-cut .*host="\{0,1\}allowed.test"\{0,1\} port=8443 reason=sni-mismatch seen="\{0,1\}other.test' "$T/connectd.log"
out=$(inpx curl -s --max-time 10 --cacert "$T/ca.pem" -x http://127.0.0.1:3128 https://allowed.test:8443/same)
case $out in
"exit-ok host=allowed.test:8443 path=/same"*) ok "tunnel check: the allowed name's own TLS passes" ;;
*) bad "tunnel check: allowed TLS: '$out'" ;;
esac
# Server first: an SSH-like server speaks at once; the client's first
# line is no HTTP.  Nothing waits for the client.
bg_up socat TCP-LISTEN:2222,bind=10.99.0.2,reuseaddr,fork SYSTEM:'echo SSH-2.0-lab; cat'
wait_for 5 inup nc -z 10.99.0.2 2222
out=$(inpx python3 - <<'PY'
import socket, time
s = socket.create_connection(('127.0.0.1', 3128), timeout=5)
s.sendall(b'CONNECT allowed.test:2222 HTTP/1.1\r\nHost: allowed.test:2222\r\n\r\n')
h = b''
while not h.endswith(b'\r\n\r\n'):
    h += s.recv(1)
t0 = time.time()
g = b''
while not g.endswith(b'\n'):
    g += s.recv(100)
waited = time.time() - t0
s.sendall(b'SSH-2.0-client\r\nping\n')
e = b''
while b'ping' not in e:
    d = s.recv(100)
    if not d:
        break
    e += d
print(h.split(b'\r\n')[0].decode(), g.strip().decode(), '%.2f' % waited, e.decode().split())
PY
)
case $out in
"HTTP/1.1 200 Connection established SSH-2.0-lab 0."*"['SSH-2.0-client', 'ping']") ok "server first: the greeting comes at once, the client's line passes ($out)" ;;
*) bad "server first: '$out'" ;;
esac
stop_connectd

# The same straight to the exit (exit = direct): the EOF passes at once.
CD_POLICY_EXTRA='permit_cidr = 10.99.0.0/24' write_config "$T/d.conf" direct
start_connectd "$T/d.conf" || { bad "connectd starts"; finish; }
check "/ready (direct)" wait_for 15 is_ready
out=$(incl python3 "$T/hcclient.py" 10.99.0.2 8080 "$REQ" | tail -1)
case $out in
"exit-ok host=allowed.test:8080 path=/hc"*) ok "half-closed client, transparent, exit = direct" ;;
*) bad "half-closed client, transparent, direct: got '$out'" ;;
esac
stop_connectd

finish
