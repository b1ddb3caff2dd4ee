#!/usr/bin/env bash
# jail.sh - netjaild in the shared lab (tests/lab/lib.sh), namespaces nj*:
# netjaild runs in the lab's host namespace with stand-ins for connectd
# (IP_TRANSPARENT listener on 127.0.0.1:15001 and [::]:15001) and dohd
# (UDP 127.0.0.1:15353 and [::]:15353).  Proves, at bridge-nf-call-iptables
# 1 and 0: bridge TCP to any address reaches connectd and nothing else,
# port 53 reaches dohd, the direct endpoint is reachable, UDP/ICMP get
# nothing upstream; a direct address pushed as dohd's uid lands in
# direct4_learned (not the configured interval set), passes, is refreshed
# by a repeated push, survives a reload and expires; a jailed uid is
# diverted by TPROXY and another is not; only connectd's uid reaches a hop;
# without a listener nothing falls through; a deleted table comes back;
# kill -9 leaves the jail shut; --uninstall removes everything; ipv6 = drop
# drops all IPv6.
set -eu
: "${EJ_LAB_PREFIX:=nj}"
. "${EJ_SRC:-$(dirname "$0")/../../..}/tests/lab/lib.sh"
lab_require_root
lab_need socat python3 nft curl
NJ=$EJ_BUILD/netjaild/netjaild
SI=$EJ_SRC/tests/lab/netjaild/standin.py
[ -x "$NJ" ] || lab_die "$NJ is not built"

lab_up
lab_users
lab_start_exit
lab_start_tinyproxy "$LAB_HOP_A"

cfg=$LAB_DIR/egressjail.conf
write_config() {	# ipv6 mode
	cat >"$cfg" <<EOF2
[jail]
interface = $LAB_BR
user = ejagent
direct = $LAB_DIRECT:$LAB_DIRECT_PORT
direct = smoke.test:443
ipv6 = $1
runtime_dir = $LAB_DIR/run

[chain]
hop = http://$LAB_HOP_A:$LAB_HOP_PORT

[connectd]
proxy_listen = $LAB_BR4:3128
transparent_listen = 127.0.0.1:15001

[dohd]
listen = 127.0.0.1:15353
upstream = https://doh.test$LAB_DOH_PATH $LAB_DOH

[policy]
allow = smoke.test
EOF2
}

standins() {
	lab_spawn nj-connectd host python3 "$SI" tcp 15001
	lab_spawn nj-dohd host python3 "$SI" udp 15353
	lab_wait_listen host 127.0.0.1 15001
	lab_wait_udp host 127.0.0.1 15353
}

start_netjaild() {
	# the spawned shell truncates the log only after we returned: an old
	# "ready" must not be read as the new one
	rm -f "$LAB_DIR/netjaild.log"
	lab_spawn netjaild host "$NJ" -c "$cfg"
	lab_retry 10 grep -q "event=ready" "$LAB_DIR/netjaild.log" || {
		sed 's/^/    | /' "$LAB_DIR/netjaild.log" >&2
		return 1
	}
}

# counter COMMENT: packets of the drop rule with that comment
counter() {
	lab_exec host nft list table inet egressjail |
		awk -v c="comment \"$1\"" 'index($0, c) { for (i = 1; i <= NF; i++) if ($i == "packets") print $(i + 1) }'
}

tcp_from() {	# NS ADDR:PORT -> the first line the server sends
	lab_exec "$1" timeout 5 socat -T3 - "TCP:$2,connect-timeout=3" </dev/null
}
tcp_as() {	# USER ADDR:PORT, from the host namespace
	lab_as "$1" host timeout 5 socat -T3 - "TCP:$2,connect-timeout=3" </dev/null
}
curl_as() {	# USER CURL-ARGS..., from the host namespace (the lab CA)
	local u=$1
	shift
	lab_as "$u" host curl -sS --max-time 5 --cacert "$LAB_DIR/ca.pem" "$@"
}
udp_as() {	# USER ADDR:PORT
	echo q | lab_as "$1" host timeout 4 socat -T2 - "UDP:$2"
}
# leaked: packets that reached a jailed-from address upstream (the host's
# own neighbour discovery on the uplink is not the workload's)
leaked() {
	local a n=0
	for a in "$LAB_EXIT" "$LAB_EXIT6" "$LAB_FORBIDDEN" "$LAB_FORBIDDEN6" \
	    "$LAB_INET4" "$LAB_INET6"; do
		n=$((n + $(lab_count "$a")))
	done
	echo $n
}
nothing() { ! "$@" >/dev/null 2>&1 || [ -z "$("$@" 2>/dev/null)" ]; }

scenario() {	# bridge-nf-call-iptables value, or - when br_netfilter is absent
	lab_log "scenario: ipv6=jail bridge-nf-call-iptables=$1"
	[ "$1" = - ] || lab_brnf "$1"
	write_config jail
	standins
	lab_expect "netjaild starts and is ready ($1)" start_netjaild
	lab_expect "table is installed" lab_exec host nft list table inet egressjail
	lab_expect_match "ip rule v4" "fwmark 0x1 lookup 100" lab_exec host ip -4 rule
	lab_expect_match "ip rule v6" "fwmark 0x1 lookup 100" lab_exec host ip -6 rule

	lab_count_reset
	lab_expect_match "bridge TCP to any address goes to connectd" '^connectd 127\.0\.0\.1' tcp_from w1 "$LAB_INET4:443"
	lab_expect_match "bridge TCP to the exit goes to connectd" '^connectd ' tcp_from w1 "$LAB_EXIT:80"
	lab_expect_match "bridge TCP over IPv6 goes to connectd" '^connectd fd77::1' tcp_from w1 "[$LAB_EXIT6]:80"
	lab_expect_match "bridge UDP 53 to any address goes to dohd" '^dns' lab_udp w1 "$LAB_INET4" 53
	lab_expect_match "bridge UDP 53 to a real DNS server goes to dohd" '^dns' lab_udp w1 "$LAB_FORBIDDEN" 53
	lab_expect_match "direct endpoint reachable" 'direct-ok' lab_curl w1 "http://$LAB_DIRECT:$LAB_DIRECT_PORT/"
	lab_expect_fail "bridge UDP 443 gets no answer" lab_udp w1 "$LAB_FORBIDDEN" 443
	lab_expect_fail "bridge UDP 9999 over IPv6 gets no answer" lab_udp w1 "$LAB_FORBIDDEN6" 9999
	lab_expect_fail "bridge ICMP gets no answer" lab_ping w1 "$LAB_EXIT"
	lab_expect_eq "upstream saw nothing of it but the direct endpoint" 0 "$(leaked)"
	lab_expect "bridge drop counter counts" test "$(counter 'bridge not tcp or dns')" -gt 0

	lab_expect_match "jailed uid diverted to connectd" '^connectd 10\.78\.0\.10' tcp_as ejagent "$LAB_EXIT:80"
	lab_expect_match "jailed uid DNS goes to dohd" '^dns' udp_as ejagent "$LAB_FORBIDDEN:53"
	lab_count_reset
	lab_expect "jailed uid UDP 443 gets nothing" nothing udp_as ejagent "$LAB_FORBIDDEN:443"
	lab_expect_eq "upstream saw nothing of it" 0 "$(lab_count "$LAB_FORBIDDEN" udp 443)"
	# socket-less packets of a jailed uid's flows (ACK/RST of a closed,
	# orphaned socket; the kernel's RST to a SYN-ACK for a raw SYN) take
	# the flow's detour by its ct mark: nothing reaches the target
	lab_count_reset
	for i in 1 2 3; do
		lab_as ejagent host python3 "$CLOSEPY" close "$LAB_FORBIDDEN" 443 || true
		lab_as ejagent host python3 "$CLOSEPY" fin "$LAB_FORBIDDEN" 443 || true
		lab_as ejagent host python3 "$CLOSEPY" late "$LAB_FORBIDDEN" 443 || true
	done
	lab_expect_match "jailed uid raw TCP SYN is sent" '^sent' raw_as ejagent "$LAB_FORBIDDEN" 443
	sleep 1
	lab_expect_eq "closed jailed connections put 0 packets at the target" 0 "$(lab_count "$LAB_FORBIDDEN")"
	lab_expect_match "non-jailed uid not diverted" 'exit-ok' lab_as ejother host curl -sS --max-time 5 "http://$LAB_EXIT/"
	lab_expect_match "non-jailed uid's closed connections still reach it" 'exit-ok' lab_as ejother host curl -sS --max-time 5 "http://$LAB_EXIT/"
	lab_expect_match "connectd uid reaches the hop" 'exit-ok' lab_as egress-connect host curl -sS --max-time 5 -x "http://$LAB_HOP_A:$LAB_HOP_PORT" "http://$LAB_EXIT/"
	lab_expect_fail "another uid is refused at the hop" lab_as ejother host curl -sS --max-time 5 -x "http://$LAB_HOP_A:$LAB_HOP_PORT" "http://$LAB_EXIT/"
	lab_expect_fail "root is refused at the hop" lab_exec host curl -sS --max-time 5 -x "http://$LAB_HOP_A:$LAB_HOP_PORT" "http://$LAB_EXIT/"
	lab_expect "owner gate counts" test "$(counter 'owner hops')" -gt 0

	lab_expect_match "status over the control socket" 'verdict=whole' status
	lab_expect_match "status has drop counters from the kernel" 'drop_bridge_not_tcp_or_dns_packets=[1-9]' status

	# dohd opens a direct endpoint learned by name; acked after the kernel took it
	lab_expect_match "dohd's uid may add a direct element" '^ack code=0' \
	    lab_as egress-dns host python3 - "$LAB_DIR/run/netjaild.sock" 1 "$LAB_EXIT" 443 <<<"$SETPY"
	lab_expect_match "the learned direct endpoint is reachable" 'exit-ok' lab_curl w1 "https://smoke.test/" --resolve "smoke.test:443:$LAB_EXIT"
	lab_expect_match "... by a jailed uid too, not diverted" 'exit-ok' curl_as ejagent "https://smoke.test/" --resolve "smoke.test:443:$LAB_EXIT"
	# learned directs have a hash set of their own: the configured interval
	# set direct4 is not touched (a refresh there made the kernel rebuild it)
	lab_expect_match "the learned element is in direct4_learned" "^[[:space:]]*elements = \\{ $LAB_EXIT \\. 443 timeout" \
	    lab_exec host nft list set inet egressjail direct4_learned
	lab_expect_eq "... and not in the configured set direct4" 0 \
	    "$(lab_exec host nft list set inet egressjail direct4 | grep -c "$LAB_EXIT \. 443")"
	lab_expect_match "status counts it (set_direct4_learned)" '^set_direct4_learned=1$' status
	lab_expect_match "status: the configured set keeps its one element" '^set_direct4=1$' status
	# dohd resolving the name again: the same element, a new timeout
	lab_expect_match "a repeated push is acked (refresh)" '^ack code=0' \
	    lab_as egress-dns host python3 - "$LAB_DIR/run/netjaild.sock" 1 "$LAB_EXIT" 443 30000 <<<"$SETPY"
	lab_expect_match "the refresh renewed the element's timeout (30s)" "$LAB_EXIT \\. 443 timeout 30s" \
	    lab_exec host nft list set inet egressjail direct4_learned
	lab_expect_match "still one learned element after the refresh" '^set_direct4_learned=1$' status
	lab_expect_match "reachable after the refresh" 'exit-ok' lab_curl w1 "https://smoke.test/" --resolve "smoke.test:443:$LAB_EXIT"
	lab_expect_match "connectd's uid may not add a direct element" '^ack code=1 ' \
	    lab_as egress-connect host python3 - "$LAB_DIR/run/netjaild.sock" 1 "$LAB_FORBIDDEN" 80 <<<"$SETPY"
	lab_expect_match "a timeout above dohd's cap is refused" '^ack code=34 ' \
	    lab_as egress-dns host python3 - "$LAB_DIR/run/netjaild.sock" 1 "$LAB_EXIT" 443 99999999 <<<"$SETPY"
	# only the ports of direct names: no other port, no DoH address
	lab_expect_match "dohd may not open a port no direct name has" '^ack code=1 ' \
	    lab_as egress-dns host python3 - "$LAB_DIR/run/netjaild.sock" 1 "$LAB_FORBIDDEN" 80 <<<"$SETPY"
	lab_expect_match "dohd may not add a DoH address" '^ack code=1 ' \
	    lab_as egress-dns host python3 - "$LAB_DIR/run/netjaild.sock" 3 "$LAB_FORBIDDEN" 443 <<<"$SETPY"
	lab_expect "the refusal is logged" grep -q "event=set_refused role=dohd .*port 80 is no configured direct name" "$LAB_DIR/netjaild.log"
	lab_expect_eq "nothing learned for the forbidden address" 0 \
	    "$(lab_exec host nft list table inet egressjail | grep -c "$LAB_FORBIDDEN \. ")"
	lab_expect_match "another uid cannot even talk to netjaild" '^refused' \
	    lab_as ejother host python3 - "$LAB_DIR/run/netjaild.sock" 1 "$LAB_FORBIDDEN" 80 <<<"$SETPY"
	kill -HUP "$(cat "$LAB_DIR/netjaild.pid")"
	lab_expect "SIGHUP reloads (generation 2)" lab_retry 5 grep -q "event=reload result=ok generation=2" "$LAB_DIR/netjaild.log"
	lab_expect_match "the learned element survives the reload" 'exit-ok' lab_curl w1 "https://smoke.test/" --resolve "smoke.test:443:$LAB_EXIT"
	lab_expect_match "still whole after the reload" 'verdict=whole' status
	lab_expect_match "dohd's uid may delete it" '^ack code=0' \
	    lab_as egress-dns host python3 - "$LAB_DIR/run/netjaild.sock" 1 "$LAB_EXIT" 443 del <<<"$SETPY"
	lab_expect_fail "and then it is closed again" lab_curl w1 "https://smoke.test/" --resolve "smoke.test:443:$LAB_EXIT"
	# a learned element nobody refreshes expires by itself
	lab_expect_match "a learned element with a 4 s timeout is acked" '^ack code=0' \
	    lab_as egress-dns host python3 - "$LAB_DIR/run/netjaild.sock" 1 "$LAB_EXIT" 443 4000 <<<"$SETPY"
	lab_expect_match "... reachable while it lives" 'exit-ok' lab_curl w1 "https://smoke.test/" --resolve "smoke.test:443:$LAB_EXIT"
	sleep 4.5
	lab_expect_fail "... closed again once it expired" lab_curl w1 "https://smoke.test/" --resolve "smoke.test:443:$LAB_EXIT"
	lab_expect_fail "... for a jailed uid too" curl_as ejagent "https://smoke.test/" --resolve "smoke.test:443:$LAB_EXIT"
	# a reload that takes the direct name away closes its addresses at once
	lab_expect_match "a learned element once more" '^ack code=0' \
	    lab_as egress-dns host python3 - "$LAB_DIR/run/netjaild.sock" 1 "$LAB_EXIT" 443 <<<"$SETPY"
	sed -i '/^direct = smoke.test:443$/d' "$cfg"
	kill -HUP "$(cat "$LAB_DIR/netjaild.pid")"
	lab_expect "SIGHUP reloads (generation 3)" lab_retry 5 grep -q "event=reload result=ok generation=3" "$LAB_DIR/netjaild.log"
	lab_expect_eq "the reload without the name dropped its learned address" 0 \
	    "$(lab_exec host nft list set inet egressjail direct4_learned | grep -c "$LAB_EXIT \. 443")"
	lab_expect_fail "... and it is closed" lab_curl w1 "https://smoke.test/" --resolve "smoke.test:443:$LAB_EXIT"
	write_config jail

	# someone deletes the table: netjaild puts it back whole
	lab_exec host nft delete table inet egressjail
	lab_expect "a deleted table is reinstalled" lab_retry 8 lab_exec host nft list table inet egressjail

	# no listener: nothing falls through to the outside
	lab_stop nj-connectd
	lab_count_reset
	lab_expect "bridge TCP fails without connectd" nothing tcp_from w1 "$LAB_EXIT:80"
	lab_expect "jailed uid TCP fails without connectd" nothing tcp_as ejagent "$LAB_EXIT:80"
	lab_expect "the tproxy fall-through is dropped and counted" test "$(counter 'local no listener')" -gt 0
	lab_expect_eq "upstream saw nothing" 0 "$(leaked)"

	# netjaild stopped (SIGTERM): a clean exit inside its seccomp filter
	# (it unlinks its control socket), and the jail stays shut
	lab_stop netjaild
	lab_expect "SIGTERM: netjaild stops cleanly (logs stopped)" grep -q "event=stopped" "$LAB_DIR/netjaild.log"
	lab_expect_fail "SIGTERM: the control socket is gone" test -e "$LAB_DIR/run/netjaild.sock"
	lab_expect "SIGTERM: the table stays" lab_exec host nft list table inet egressjail
	cp "$LAB_DIR/netjaild.log" "$LAB_DIR/netjaild.log.stopped"
	start_netjaild

	# netjaild killed: the jail stays shut
	kill -9 "$(cat "$LAB_DIR/netjaild.pid")"
	lab_expect "table stays after kill -9" lab_exec host nft list table inet egressjail
	lab_count_reset
	lab_expect "workload still jailed after kill -9" nothing tcp_from w1 "$LAB_EXIT:80"
	lab_expect_eq "upstream still saw nothing" 0 "$(leaked)"

	lab_expect "--uninstall" lab_exec host "$NJ" -c "$cfg" --uninstall
	lab_expect_fail "--uninstall removed the table" lab_exec host nft list table inet egressjail
	lab_expect_fail "--uninstall removed the rules" sh -c "ip netns exec $LAB_NS_HOST ip rule | grep -q fwmark"
	lab_expect_match "workload free again after --uninstall" 'exit-ok' lab_curl w1 "http://$LAB_EXIT/"
	lab_stop nj-dohd
}

# close.py MODE ADDR PORT, as a jailed uid: a connection whose last packets
# leave from a closed socket.  close: shut at once, the server's banner then
# meets a closed socket (RST); fin: read the banner, close after the
# server's FIN; late: send, close unread, linger in FIN_WAIT.
CLOSEPY=$LAB_DIR/close.py
cat >"$CLOSEPY" <<'PY'
import socket, sys, time
mode, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.create_connection((addr, port), timeout=3)
if mode == "fin":
    try:
        s.recv(100)
        time.sleep(0.2)
    except OSError:
        pass
elif mode == "late":
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    time.sleep(0.05)
s.close()
time.sleep(0.3)
PY
# raw_as USER ADDR PORT: one hand-made TCP SYN (IP_HDRINCL) with CAP_NET_RAW;
# connectd answers the SYN-ACK, the host's RST to it has no socket owner
RAWPY=$LAB_DIR/rawsyn.py
cat >"$RAWPY" <<'PY'
import random, socket, struct, sys
dst, port = sys.argv[1], int(sys.argv[2])
p = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
p.connect((dst, port))
src = p.getsockname()[0]
p.close()
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
s4, d4 = socket.inet_aton(src), socket.inet_aton(dst)
tcp = struct.pack("!HHIIBBHHH", random.randint(20000, 60000), port,
                  random.getrandbits(32), 0, 5 << 4, 0x02, 64240, 0, 0)
c = csum(s4 + d4 + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)
tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0, 64, 6, 0,
                 s4, d4)
r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
try:
    r.sendto(ip + tcp, (dst, 0))
    print("sent")
except OSError as e:
    print("refused", e)
PY
raw_as() {
	ip netns exec "$LAB_NS_HOST" setpriv --reuid="$1" --regid="$(id -g "$1")" \
		--init-groups --inh-caps=+net_raw --ambient-caps=+net_raw -- \
		/usr/bin/python3 "$RAWPY" "$2" "$3"
}

status() {	# egressctl-like STATUS over the control socket, as root
	lab_exec host python3 - "$LAB_DIR/run/netjaild.sock" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.settimeout(3)
s.connect(sys.argv[1])
s.send(struct.pack("=HHII", 2, 0, 0, 7))       # EG_MSG_STATUS_REQ, id 7
m = s.recv(20000)
t, f, n, i = struct.unpack("=HHII", m[:12])
ready, gen, tl = struct.unpack("=B3xII", m[12:24])
print("type=%d ready=%d generation=%d" % (t, ready, gen))
print(m[24:24 + tl].decode())
PY
}

# SETPY SOCK SET ADDR PORT [TIMEOUT_MS]: one SET_UPDATE (add), prints the ack
SETPY=$(cat "$EJ_SRC/tests/lab/netjaild/setelem.py")

if lab_brnf_available; then
	scenario 1
	scenario 0
else
	lab_log "br_netfilter not loaded: one scenario"
	scenario -
fi

lab_log "scenario: ipv6=drop"
write_config drop
standins
lab_expect "netjaild starts (ipv6=drop)" start_netjaild
lab_count_reset
lab_expect "bridge IPv6 TCP dropped" nothing tcp_from w1 "[$LAB_EXIT6]:80"
lab_expect_fail "bridge IPv6 UDP 53 dropped" lab_udp w1 "$LAB_FORBIDDEN6" 53
lab_expect_fail "jailed uid IPv6 UDP 53 dropped" sh -c "echo q | ip netns exec $LAB_NS_HOST setpriv --reuid=ejagent --regid=ejagent --clear-groups timeout 4 socat -T2 - UDP6:[$LAB_FORBIDDEN6]:53 | grep -q ."
lab_expect_match "bridge IPv4 still goes to connectd" '^connectd ' tcp_from w1 "$LAB_EXIT:80"
lab_expect_eq "upstream saw no IPv6" 0 "$(lab_count "$LAB_FORBIDDEN6")"
lab_expect "the IPv6 drop counts" test "$(counter 'bridge ipv6')" -gt 0
lab_expect "--uninstall (ipv6=drop)" lab_exec host "$NJ" -c "$cfg" --uninstall

lab_finish
