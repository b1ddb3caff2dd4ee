# shellcheck shell=bash
# escape.d/30-squat.sh - door 6, listener squatting (issue 18): the listener
# ports are unprivileged, so while connectd or dohd is down (a crash before
# the restart) any local user can bind 127.0.0.1:15001, the proxy port or
# dohd's port and would receive the bridge's and the jailed user's traffic,
# original destinations included, and forward it anywhere.  The jail
# delivers to a listener port only a socket carrying [jail] listener_mark,
# which only root (CAP_NET_ADMIN/NET_RAW) can set: the squatter, the
# unprivileged user ejother, must log nothing.  Then the real daemons come
# back and traffic flows again.
#
# Judged by the squatter's log (a line per connection or datagram it
# received) and by what the workload saw.  Sourced by escape.sh.

SQ_LOG=$LAB_DIR/squat.log
SQ_PY=$LAB_DIR/squat.py

# sq_write: the squatter.  squat.py LOG SPEC...: SPEC is tcp:ADDR:PORT or
# udp:ADDR:PORT (ADDR may be an IPv6 literal); every connection accepted and
# every datagram received is a line in LOG, with the connection's original
# destination when there is one.  It prints "bound" once all are bound.
sq_write() {
	cat >"$SQ_PY" <<'PY'
import os, select, socket, struct, sys
log = open(sys.argv[1], "a", buffering=1)
socks = {}
for spec in sys.argv[2:]:
    proto, rest = spec.split(":", 1)
    addr, port = rest.rsplit(":", 1)
    addr = addr.strip("[]")
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    if proto == "tcp":
        # As an attacker would: a TIME_WAIT the daemon left on its
        # own port must not keep the squatter out.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, int(port)))
    if proto == "tcp":
        s.listen(16)
    socks[s.fileno()] = (s, spec)
print("bound", os.getpid(), flush=True)
while True:
    r, _, _ = select.select(list(socks), [], [])
    for fd in r:
        s, spec = socks[fd]
        if s.type == socket.SOCK_STREAM:
            c, peer = s.accept()
            try:
                od = c.getsockopt(socket.SOL_IP, 80, 16)  # SO_ORIGINAL_DST
                dst = "%s:%d" % (socket.inet_ntoa(od[4:8]), struct.unpack("!H", od[2:4])[0])
            except OSError:
                dst = "?"
            log.write("%s: connection from %s, original destination %s\n" % (spec, peer[0], dst))
            c.close()
        else:
            data, peer = s.recvfrom(2048)
            log.write("%s: datagram from %s (%d bytes)\n" % (spec, peer[0], len(data)))
PY
	chmod 0644 "$SQ_PY"
	: >"$SQ_LOG"
	chmod 0666 "$SQ_LOG"
}

# sq_start SPEC...: the squatter as ejother, until every SPEC is bound.
sq_start() {
	lab_as ejother host /usr/bin/python3 "$SQ_PY" "$SQ_LOG" "$@" \
		>"$LAB_DIR/squat.out" 2>&1 &
	SQ_SH=$!
	if lab_retry 5 grep -q '^bound' "$LAB_DIR/squat.out"; then
		SQ_PID=$(awk '/^bound/ { print $2 }' "$LAB_DIR/squat.out")
	else
		cat "$LAB_DIR/squat.out" >&2
		lab_fail "squat: the squatter could not bind $*"
	fi
}

# sq_stop: python's own pid (the & above is a subshell running lab_as).
sq_stop() {
	[ -n "${SQ_PID:-}" ] && kill -KILL "$SQ_PID" 2>/dev/null
	wait "$SQ_SH" 2>/dev/null || true
	SQ_PID=
}

# sq_nothing NAME: pass when the squatter logged nothing (else show it).
sq_nothing() {
	if [ -s "$SQ_LOG" ]; then
		lab_fail "$1" "the squatter received: $(head -n 3 "$SQ_LOG" | tr '\n' ';')"
	else
		lab_pass "$1"
	fi
	: >"$SQ_LOG"
}

# sq_cobind: can ejother bind dohd's UDP address beside the running dohd
# (both with SO_REUSEADDR)?  Prints "bound" or the error.
sq_cobind() {
	lab_as ejother host /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", 15353)); print("bound")
except OSError as e:
    print("refused:", e.strerror)'
}

# sq_unmarked BIN USER: the daemon started by hand as its unprivileged user
# cannot mark its listeners: it must refuse to run and say why.  Succeeds
# when it exited non-zero; prints what it logged.
sq_unmarked() {
	local rc=0
	lab_as "$2" host timeout 10 "$1" -c "$E2E_CONF" 2>&1 || rc=$?
	echo "exit $rc"
	[ "$rc" != 0 ] && [ "$rc" != 124 ]
}

sq_write

# ---- connectd down: transparent listener (v4 and v6) and proxy port
e2e_kill9 connectd
lab_retry 5 sh -c "! ip netns exec $LAB_NS_HOST ss -Hltn 'sport = :15001' | grep -q ."
sq_start tcp:127.0.0.1:15001 "tcp:[::]:15001" "tcp:$LAB_BR4:3128"

k_curl w -o /dev/null "http://$LAB_FORBIDDEN/" >/dev/null 2>&1 || true
sq_nothing "squat: bridge TCP (DNAT to 127.0.0.1:15001) does not reach a squatter"
k_curl w -o /dev/null "http://[$LAB_FORBIDDEN6]/" >/dev/null 2>&1 || true
sq_nothing "squat: bridge IPv6 TCP (redirect to :15001) does not reach a squatter"
k_curl w -o /dev/null -x "$E2E_PROXY" "http://smoke.test/" >/dev/null 2>&1 || true
sq_nothing "squat: bridge explicit proxy ($LAB_BR4:3128) does not reach a squatter"
k_curl a -o /dev/null "http://$LAB_FORBIDDEN/" >/dev/null 2>&1 || true
sq_nothing "squat: jailed user's TCP (TPROXY) does not reach a squatter"
k_curl a -o /dev/null -x "$E2E_PROXY" "http://smoke.test/" >/dev/null 2>&1 || true
sq_nothing "squat: jailed user's explicit proxy does not reach a squatter"
sq_stop

# ---- dohd up: no squatter can bind beside it (SO_REUSEADDR on UDP)
lab_expect_match "squat: ejother cannot bind dohd's UDP port beside it" \
	'^refused' sq_cobind

# ---- dohd down: DNS, UDP and TCP
e2e_kill9 dohd
lab_retry 5 sh -c "! ip netns exec $LAB_NS_HOST ss -Hlun 'sport = :15353' | grep -q ."
sq_start udp:127.0.0.1:15353 tcp:127.0.0.1:15353
for k in w a; do
	K=$(e2e_kind_name $k)
	k_dig "$k" "@$LAB_DOH" smoke.test A >/dev/null 2>&1 || true
	sq_nothing "squat: $K DNS over UDP does not reach a squatter"
	k_dig "$k" +tcp "@$LAB_DOH" smoke.test A >/dev/null 2>&1 || true
	sq_nothing "squat: $K DNS over TCP does not reach a squatter"
done
sq_stop

# ---- a daemon that cannot mark its listeners does not run
lab_expect_match "squat: connectd started unprivileged refuses (cannot mark its listeners)" \
	'SO_MARK 0x1000: Operation not permitted.*Mark=4096' \
	sq_unmarked "$E2E_CD" egress-connect
lab_expect_match "squat: dohd started unprivileged refuses (cannot mark its listeners)" \
	'SO_MARK 0x1000: Operation not permitted.*Mark=4096' \
	sq_unmarked "$E2E_DOHD" egress-dns

# ---- the real daemons again: traffic flows
e2e_start_dohd || { e2e_show_log dohd; lab_fail "squat: dohd restarts"; }
e2e_start_connectd || { e2e_show_log connectd; lab_fail "squat: connectd restarts"; }
for k in w a; do
	K=$(e2e_kind_name $k)
	lab_expect_match "squat: $K DNS answered again after the restart" \
		'^10\.78\.0\.10$' k_dig "$k" +short "@$LAB_DOH" smoke.test A
	lab_expect_match "squat: $K transparent TCP flows again" \
		'^exit-ok smoke\.test' k_curl "$k" https://smoke.test/
	lab_expect_match "squat: $K explicit proxy flows again" \
		'^exit-ok smoke\.test' k_curl "$k" -x "$E2E_PROXY" https://smoke.test/
done
# A TIME_WAIT socket connectd left on a four-tuple must not block the next
# connection on it (the first version checked the SYN's socket in input,
# where nft finds the TIME_WAIT socket, which has no mark, before the
# listener: busy clients that reuse ports got refused).  connectd answers a
# plain HTTP request to an IP literal with 403 and closes first.
# The client reads to the end before it closes, so connectd closes first and
# the TIME_WAIT is on connectd's side only (curl could close first, racing
# connectd's FIN, and keep its own TIME_WAIT on the port: bind failed).
sq_get() {	# one request from w1's port 45123; prints the status code
	lab_exec w1 python3 - "$LAB_INET4" <<'PY' 2>&1
import socket, sys, time
for _ in range(20):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("0.0.0.0", 45123))
        s.settimeout(4)
        s.connect((sys.argv[1], 9999))
        break
    except OSError as e:
        err = e
        s.close()
        time.sleep(0.1)
else:
    print("connect: %s" % err)
    sys.exit(1)
s.sendall(b"GET / HTTP/1.1\r\nHost: %s:9999\r\n\r\n" % sys.argv[1].encode())
data = b""
while True:
    b = s.recv(4096)
    if not b:
        break
    data += b
s.close()
print(data.split(b" ")[1].decode() if data.startswith(b"HTTP/") else "none")
PY
}
sq_reuse() {	# prints the two HTTP codes and the TIME_WAIT seen between
	local a b tw
	a=$(sq_get) || true
	tw=$(lab_exec host ss -Htan state time-wait "( sport = :15001 and dport = :45123 )" | wc -l)
	b=$(sq_get) || true
	echo "first $a, time-wait $tw, second $b"
	[ "$a" = 403 ] && [ "$tw" -ge 1 ] && [ "$b" = 403 ]
}
lab_expect_match "squat: a four-tuple in connectd's TIME_WAIT is reused" \
	'second 403' sq_reuse
lab_expect_match "squat: the jail counted the squatter's dropped SYN-ACKs" \
	'packets [1-9][0-9]* .*"listener synack unmarked"' \
	lab_exec host nft list chain inet egressjail listener_synack
lab_expect_match "squat: the jail counted the refused DNS datagrams" \
	'packets [1-9][0-9]* .*"listener unmarked"' \
	lab_exec host nft list chain inet egressjail in_listener
