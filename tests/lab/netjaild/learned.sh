#!/usr/bin/env bash
# learned.sh - a long-lived flow to a direct endpoint given by name outlives
# the learned set element that let it start; a new flow needs a fresh
# answer.  netjaild with stand-ins for connectd and dohd (as in jail.sh);
# dohd's push of the name's address is played by setelem.py as dohd's uid,
# with a 3 s timeout.  A bridge workload and a jailed local user each keep
# a TCP flow to an echo server talking for 7 s: both must see every echo,
# past the element's expiry and a reload that keeps the name; after it, a
# new connection to the same address is the jail's (the connectd stand-in
# answers), and no packet of it reaches the endpoint.  Flows to a direct
# endpoint by address that a reload takes out of the config are cut.
set -eu
: "${EJ_LAB_PREFIX:=njt}"
. "${EJ_SRC:-$(dirname "$0")/../../..}/tests/lab/lib.sh"
lab_require_root
lab_need socat python3 nft
. "$EJ_SRC/tests/lab/netjaild/common.sh"

lab_up
lab_users

PORT=7000
EP=$LAB_FORBIDDEN	# echo.test: nothing else in the config lets it through
TTL_MS=3000
DPORT=7001	# a direct endpoint by address, on $LAB_DIRECT, dropped by a reload
cfg=$LAB_DIR/egressjail.conf
nj_config "$cfg" "interface = $LAB_BR" "user = ejagent" "direct = echo.test:$PORT" \
    "direct = $LAB_DIRECT:$DPORT"

# the endpoints: a banner, then every line echoed
lab_spawn echo up socat "TCP-LISTEN:$PORT,bind=$EP,fork,reuseaddr" SYSTEM:'echo upstream; exec cat'
lab_spawn echo2 up socat "TCP-LISTEN:$DPORT,bind=$LAB_DIRECT,fork,reuseaddr" SYSTEM:'echo upstream; exec cat'
lab_wait_listen up "$EP" "$PORT"
lab_wait_listen up "$LAB_DIRECT" "$DPORT"
nj_standins
lab_expect "netjaild ready" nj_start "$cfg"

# longflow.py ADDR PORT SECS: one connection, a line every 0.3 s for SECS,
# each echoed; "alive N" at the end, or where it was cut
FLOWPY=$LAB_DIR/longflow.py
cat >"$FLOWPY" <<'PY'
import socket, sys, time
addr, port, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
t0 = time.time()
s = socket.create_connection((addr, port), timeout=2)
f = s.makefile("rb")
print(f.readline().decode().strip(), flush=True)
i = 0
while time.time() - t0 < secs:
    i += 1
    want = b"ping %d\n" % i
    try:
        s.sendall(want)
        got = f.readline()
    except OSError as e:
        got = repr(e).encode()
    if got != want:
        print("cut at %d after %.1f s: %r" % (i, time.time() - t0, got))
        sys.exit(1)
    time.sleep(0.3)
print("alive %d after %.1f s" % (i, time.time() - t0))
PY
chmod 0644 "$FLOWPY"

push() {	# dohd answered echo.test: ADDR with a TTL_MS timeout
	lab_as egress-dns host python3 - "$LAB_DIR/run/netjaild.sock" 1 "$EP" "$PORT" "$TTL_MS" <<<"$SETPY"
}
element() {	# the learned element, while it lives
	lab_exec host nft list set inet egressjail direct4_learned | grep -q "$EP . $PORT"
}
first_line() {	# NS|USER ... -> the first line the far end sends
	"$@" timeout 4 socat -T2 - "TCP:$EP:$PORT,connect-timeout=2" </dev/null 2>/dev/null | head -n 1
}

lab_expect_match "dohd's answer is pushed (3 s)" '^ack code=0' push
lab_expect "the element is in direct4_learned" element
lab_spawn flow-bridge w1 python3 "$FLOWPY" "$EP" "$PORT" 7
lab_spawn flow-local host setpriv --reuid=ejagent --regid="$(id -g ejagent)" \
    --init-groups --reset-env -- python3 "$FLOWPY" "$EP" "$PORT" 7
# and to the endpoint by address, which a reload will take out
lab_spawn flow-bridge2 w1 python3 "$FLOWPY" "$LAB_DIRECT" "$DPORT" 7
lab_spawn flow-local2 host setpriv --reuid=ejagent --regid="$(id -g ejagent)" \
    --init-groups --reset-env -- python3 "$FLOWPY" "$LAB_DIRECT" "$DPORT" 7
lab_expect "the flows reached the endpoints" lab_retry 3 sh -c \
    "grep -q '^upstream' $LAB_DIR/flow-bridge.log && grep -q '^upstream' $LAB_DIR/flow-local.log &&
     grep -q '^upstream' $LAB_DIR/flow-bridge2.log && grep -q '^upstream' $LAB_DIR/flow-local2.log"
lab_expect "the element expires" lab_retry 5 sh -c "! ip netns exec $LAB_NS_HOST nft list set inet egressjail direct4_learned | grep -q '$EP . $PORT'"

# a reload that takes $LAB_DIRECT:$DPORT out of the config ends its open
# flows (they began as direct to an endpoint that no longer is one); the
# name's stay
nj_config "$cfg" "interface = $LAB_BR" "user = ejagent" "direct = echo.test:$PORT"
kill -HUP "$(cat "$LAB_DIR/netjaild.pid")"
lab_expect "reload" lab_retry 5 grep -q "event=reload result=ok generation=2" "$LAB_DIR/netjaild.log"
lab_expect_match "the removed endpoint's two flows are cut" 'event=direct_flows_cut entries=2 ' \
    grep direct_flows_cut "$LAB_DIR/netjaild.log"

lab_expect "the flows ran to their end" lab_retry 8 sh -c \
    "grep -q '^alive\|^cut' $LAB_DIR/flow-bridge.log && grep -q '^alive\|^cut' $LAB_DIR/flow-local.log"
lab_expect_match "bridge: the long flow outlived the element" '^alive ' tail -n 1 "$LAB_DIR/flow-bridge.log"
lab_expect_match "local user: the long flow outlived the element" '^alive ' tail -n 1 "$LAB_DIR/flow-local.log"
lab_expect "the removed endpoint's flows ended" lab_retry 3 sh -c \
    "grep -q '^alive\|^cut' $LAB_DIR/flow-bridge2.log && grep -q '^alive\|^cut' $LAB_DIR/flow-local2.log"
lab_expect_match "bridge: the flow to the removed endpoint was cut" '^cut ' tail -n 1 "$LAB_DIR/flow-bridge2.log"
lab_expect_match "local user: the flow to the removed endpoint was cut" '^cut ' tail -n 1 "$LAB_DIR/flow-local2.log"
lab_expect_match "the flows' ct entries carry the direct bit" 'mark=2' \
    lab_exec host sh -c "conntrack -L -p tcp --dport $PORT 2>/dev/null || cat /proc/net/nf_conntrack"

# after the expiry: a new connection is the jail's, and nothing of it leaves
sleep 0.3
lab_count_reset
lab_expect_match "bridge: a new connection goes to the jail (connectd stand-in)" \
    '^connectd ' first_line lab_exec w1
lab_expect_match "local user: a new connection goes to the jail" \
    '^connectd ' first_line lab_as ejagent host
lab_expect_eq "no SYN of them reached the endpoint" 0 "$(lab_count "$EP" tcp "$PORT")"

# fresh answer: new flows pass again
lab_expect_match "pushed again" '^ack code=0' push
lab_expect_match "bridge: a new connection reaches the endpoint" '^upstream' first_line lab_exec w1
lab_expect_match "local user: a new connection reaches the endpoint" '^upstream' first_line lab_as ejagent host

lab_stop netjaild
lab_exec host "$NJ" -c "$cfg" --uninstall >/dev/null 2>&1
lab_finish
