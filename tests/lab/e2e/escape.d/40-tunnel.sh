# tests/lab/e2e/escape.d/40-tunnel.sh - fronting inside an allowed tunnel
# (issue 18, defence in depth), sourced by escape.sh.
#
# The policy allows smoke.test (10.78.0.10, nginx, which also answers any
# other name as its default server).  A workload opens CONNECT
# smoke.test:443 through connectd, gets 200, and then speaks TLS with the
# SNI forbidden.test, or, in CONNECT smoke.test:80 and on a transparent
# connection to port 80, sends a first request for smoke.test and then one
# for forbidden.test on the same connection.  With hops, the exit hop
# reaches the allowed address whatever the bytes say, so "reaching the
# forbidden upstream" is the exit server handling a request for the other
# name: judged by what the workload got back ("exit-ok forbidden.test") and
# by nginx's access log (a unique path per case), and connectd must log the
# cut with its reason.  Both jails: the bridge workload w1 and the local
# user ejagent, each through the explicit proxy; w1 also transparently.

T40_LOG=$LAB_DIR/nginx.d/access.log
cat >"$LAB_DIR/front.py" <<'PY'
import socket, ssl, sys
# front.py tls PROXYHOST PROXYPORT TARGET SNI PATH
# front.py http PROXYHOST PROXYPORT TARGET PATH   (PROXYPORT 0: no CONNECT)
mode, ph, pp, target = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
host, port = target.rsplit(':', 1)
s = socket.create_connection((ph if pp else host, pp or int(port)), timeout=5)
if pp:
    s.sendall(b'CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n' % (target.encode(), target.encode()))
    h = b''
    while not h.endswith(b'\r\n\r\n'):
        d = s.recv(1)
        if not d:
            sys.exit('no answer to CONNECT')
        h += d
    if b' 200 ' not in h.split(b'\r\n')[0]:
        sys.exit('CONNECT: ' + h.split(b'\r\n')[0].decode())
out = b''
try:
    if mode == 'tls':
        sni, path = sys.argv[5], sys.argv[6]
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        s = ctx.wrap_socket(s, server_hostname=sni)
        s.sendall(b'GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' % (path.encode(), sni.encode()))
    else:
        path = sys.argv[5]
        s.sendall(b'GET /first HTTP/1.1\r\nHost: smoke.test\r\n\r\n'
                  b'GET %s HTTP/1.1\r\nHost: forbidden.test\r\nConnection: close\r\n\r\n' % path.encode())
    while True:
        d = s.recv(65536)
        if not d:
            break
        out += d
except (OSError, ssl.SSLError) as e:
    print('error:', e)
print(out.decode(errors='replace'))
PY
chmod 644 "$LAB_DIR/front.py"

# t40_front KIND ARGS...: front.py as w1 or ejagent
t40_front() {
	local k=$1
	shift
	k_run "$k" timeout 10 python3 "$LAB_DIR/front.py" "$@" || true
}

# t40_reached PATH: how many requests for PATH nginx served
t40_reached() {
	grep -c " $1 HTTP/1.1\"" "$T40_LOG" 2>/dev/null || true
}

for k in w a; do
	kn=$(e2e_kind_name "$k")
	px=${E2E_PROXY#http://}
	# Control: the allowed name inside its own tunnel still works.
	lab_expect_match "$kn: CONNECT smoke.test:443, TLS for smoke.test: served" \
	    '^exit-ok smoke\.test' t40_front "$k" tls "${px%:*}" "${px##*:}" \
	    smoke.test:443 smoke.test "/t40-ok-$k"
	out=$(t40_front "$k" tls "${px%:*}" "${px##*:}" smoke.test:443 forbidden.test "/t40-tls-$k")
	lab_expect_eq "$kn: CONNECT smoke.test:443, SNI forbidden.test: nothing came back" \
	    "" "$(printf '%s\n' "$out" | grep 'exit-ok forbidden' || true)"
	lab_expect_eq "$kn: ... and the exit server never served it" 0 "$(t40_reached "/t40-tls-$k")"
	out=$(t40_front "$k" http "${px%:*}" "${px##*:}" smoke.test:80 "/t40-http-$k")
	lab_expect_eq "$kn: CONNECT smoke.test:80, second request for forbidden.test: not answered" \
	    "" "$(printf '%s\n' "$out" | grep 'exit-ok forbidden' || true)"
	lab_expect_eq "$kn: ... and the exit server never served it" 0 "$(t40_reached "/t40-http-$k")"
done
lab_expect "connectd logged the cuts with their reasons" sh -c \
    "grep -q 'event=tunnel-cut.*reason=sni-mismatch seen=\"\\{0,1\\}forbidden.test' '$LAB_DIR/connectd.log' &&
     grep -q 'event=tunnel-cut.*reason=host-mismatch seen=\"\\{0,1\\}forbidden.test' '$LAB_DIR/connectd.log'"
lab_expect_match "/metrics counts them" '^connectd_tunnel_cuts_total [1-9]' \
    lab_exec host curl -s "http://$E2E_HEALTH/metrics"

# Transparent: w1 to smoke.test's address on port 80, two requests on one
# connection, the second for forbidden.test.
out=$(t40_front w http 0 0 "$LAB_EXIT:80" "/t40-transparent")
lab_expect_eq "bridge: transparent keep-alive, Host changes to forbidden.test: not answered" \
    "" "$(printf '%s\n' "$out" | grep 'exit-ok forbidden' || true)"
lab_expect_eq "bridge: ... and the exit server never served it" 0 "$(t40_reached /t40-transparent)"
