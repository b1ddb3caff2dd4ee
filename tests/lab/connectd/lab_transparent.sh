#!/bin/sh
# lab_transparent.sh - connectd's transparent listener behind a NAT
# redirect made by hand in the connectd namespace (as netjaild does for a
# bridge): SNI and Host decide, the original destination port is kept,
# everything without a name is dropped.
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
# ip_forward is 0 in a new namespace: nothing is routed past connectd.
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
write_config "$T/t.conf" http://cduser:cdpass@10.99.0.2:3128 http://10.99.0.2:3129
start_connectd "$T/t.conf" || { bad "connectd starts"; finish; }
check "/ready 200" wait_for 15 is_ready

out=$(incl curl -s --max-time 10 --cacert "$T/ca.pem" \
    --resolve allowed.test:8443:10.99.0.2 https://allowed.test:8443/t)
case $out in
"exit-ok host=allowed.test:8443 path=/t"*) ok "TLS by SNI through the chain" ;;
*) bad "TLS by SNI: got '$out'" ;;
esac
check "SNI connection logged as transparent allow" \
    wait_for 3 grep -q 'mode=transparent kind=tls dst=10.99.0.2:8443 host="\{0,1\}allowed.test"\{0,1\} port=8443.*decision=allow' "$T/connectd.log"
check "TLS to a denied name: closed" sh -c "! ip netns exec $CL curl -s --max-time 5 -k --resolve denied.test:8443:10.99.0.2 https://denied.test:8443/"
check "denied SNI logged" wait_for 3 grep -q 'mode=transparent kind=tls.*denied.test.*decision=deny' "$T/connectd.log"
check "TLS without SNI (IP literal URL): closed" sh -c "! ip netns exec $CL curl -s --max-time 5 -k https://10.99.0.2:8443/"
check "no-SNI logged" wait_for 3 grep -q 'decision=deny.*ClientHello without SNI' "$T/connectd.log"

out=$(incl curl -s --max-time 10 --resolve allowed.test:8080:10.99.0.2 http://allowed.test:8080/h)
case $out in
"exit-ok host=allowed.test:8080 path=/h"*) ok "plain HTTP by Host through the chain" ;;
*) bad "plain HTTP by Host: got '$out'" ;;
esac
code=$(incl curl -s -o /dev/null -w '%{http_code}' --max-time 5 --resolve denied.test:8080:10.99.0.2 http://denied.test:8080/)
check "plain HTTP to a denied Host: 403 ($code)" [ "$code" = 403 ]
code=$(incl curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://10.99.0.2:8080/)
check "plain HTTP with an IP literal Host: 403 ($code)" [ "$code" = 403 ]
check "malformed plain head: 400" sh -c "printf 'GET / HTTP/1.1\r\nHost: allowed.test\r\nHost: other.test\r\n\r\n' | ip netns exec $CL socat -t 3 - TCP:10.99.0.2:8080 | grep -q '^HTTP/1.1 400'"
check "malformed plain head counted deny" wait_for 3 grep -q 'event=access .*mode=transparent kind=http-t .*decision=deny status=400 reason="\{0,1\}bad-request' "$T/connectd.log"
check "silent client: closed after head_timeout" sh -c "sleep 4 | ip netns exec $CL socat -t 1 - TCP:10.99.0.2:8443 >/dev/null 2>&1; grep -q 'no complete request head' $T/connectd.log"
check "direct to the transparent port: no destination, closed" sh -c "! ip netns exec $PX curl -s --max-time 3 http://10.98.0.1:15001/"

# A ClientHello fragmented over TLS records and dribbled in 3-byte writes:
# the name is still found (curl's hello from the fuzz corpus: host.test).
incl python3 - "$S/tests/fuzz/corpus/clienthello/curl-frag7" <<'PY'
import socket, sys, time
data = open(sys.argv[1], 'rb').read()
s = socket.create_connection(('10.99.0.2', 8443), timeout=5)
for i in range(0, len(data), 3):
    s.send(data[i:i + 3])
    time.sleep(0.002)
try:
    s.recv(100)
except OSError:
    pass
PY
sleep 0.3
check "dribbled, fragmented hello: SNI found and decided" \
    wait_for 3 grep -q 'kind=tls dst=10.99.0.2:8443 host="host.test" port=8443 .*decision=deny .*reason="no_rule"' "$T/connectd.log"

# TPROXY for a local user (uid 65000, no passwd entry needed): its TCP to
# 8443 is marked, routed to lo and handed to the same listener, which
# connectd opened with IP_TRANSPARENT while root; the original destination
# is then the accepted socket's local address.
inpx ip rule add fwmark 0x2a lookup 142
inpx ip route add local 0.0.0.0/0 dev lo table 142
inpx nft -f - <<NFT
table ip cdtp {
	chain out {
		type route hook output priority mangle; policy accept;
		meta skuid 65000 tcp dport 8443 meta mark set 0x2a
	}
	chain pre {
		type filter hook prerouting priority mangle; policy accept;
		meta mark 0x2a tcp dport 8443 tproxy to 10.98.0.1:15001 accept
		meta mark 0x2a drop
	}
}
NFT
nb=$(grep -c 'mode=transparent kind=tls dst=10.99.0.2:8443 .*decision=allow' "$T/connectd.log")
out=$(inpx setpriv --reuid=65000 --regid=65000 --clear-groups curl -s --max-time 10 \
    --cacert "$T/ca.pem" --resolve allowed.test:8443:10.99.0.2 https://allowed.test:8443/tp)
case $out in
"exit-ok host=allowed.test:8443 path=/tp"*) ok "TPROXY (local user): TLS by SNI through the chain" ;;
*) bad "TPROXY (local user): got '$out'" ;;
esac
sleep 0.3
na=$(grep -c 'mode=transparent kind=tls dst=10.99.0.2:8443 .*decision=allow' "$T/connectd.log")
check "TPROXY: original destination from the socket's local address ($nb -> $na)" [ "$na" -gt "$nb" ]
check "TPROXY (local user): denied name closed" sh -c "! ip netns exec $PX setpriv --reuid=65000 --regid=65000 --clear-groups curl -s --max-time 5 -k --resolve denied.test:8443:10.99.0.2 https://denied.test:8443/"

stop_connectd
check "SIGTERM: exit 0" [ "$CDRC" = 0 ]
finish
