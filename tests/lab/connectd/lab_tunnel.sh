#!/bin/sh
# lab_tunnel.sh - what happens inside a tunnel once it is open, and when
# connectd tells systemd it is ready:
#   - READY=1 waits for the first full-chain probe when
#     block_start_until_hops_healthy = yes; probe_timeout bounds a probe
#   - half-closed clients (request, then shutdown(SHUT_WR)) get their
#     answer through hops that end a tunnel at the first EOF (tinyproxy,
#     squid), in explicit and transparent intake, buffered and spliced
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
