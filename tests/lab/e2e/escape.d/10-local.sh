# shellcheck shell=bash
# escape.d/10-local.sh - issue 18, doors 1 and 2: the local-user jail
# (ejagent) against a workload that binds its socket to the uplink or
# finds policy routing that no longer sends its marked TCP through lo.
#
#   door 1: curl --interface UPLINK (SO_BINDTODEVICE), an IPv6 link-local
#           peer (bound implicitly), and the socket options a process may
#           set without a capability: IP_FREEBIND, IP_PKTINFO (output
#           device and source of one datagram), the host's own addresses
#   door 2: an ip rule in front of netjaild's fwmark rule, netjaild's rule
#           deleted, its route in table 100 deleted.  netjaild is stopped
#           (SIGSTOP) while the door is open, so the verdict is judged
#           without its repair; then it is let go and must put routing
#           back within seconds, log it and show it in egressctl status.
#
# Every case is judged by what reached the forbidden upstream (lab_count)
# and by what the workload saw; allowed traffic is checked after each, and
# routing is put back as it was whatever netjaild did.
# Sourced by tests/lab/e2e/escape.sh (lab up, ejagent jailed).

L_F=$LAB_FORBIDDEN
L_F6=$LAB_FORBIDDEN6
L_UP=$LAB_UPLINK
L_LL=fe80::11			# the up peer's link-local, on its eth0
L_MARK=0x1			# [jail] fwmark and route_table: the defaults
L_TABLE=100
L_REPAIR_S=3			# netjaild repairs routing within this

l_ip() { lab_exec host ip "$@"; }

# l_rule_first FAMILY: netjaild's fwmark rule is the first rule after the
# local table's, and its route is in its table.
l_rule_first() {
	local first
	first=$(l_ip "$1" rule show | awk -F'\t' '$2 != "from all lookup local" { print $2; exit }')
	echo "first rule after local (ip $1): $first"
	case $first in
	*"fwmark $L_MARK lookup $L_TABLE"*) ;;
	*) return 1 ;;
	esac
	l_ip "$1" route show table "$L_TABLE" | grep -q '^local default dev lo'
}

l_routing_whole() { l_rule_first -4 && l_rule_first -6; }

# l_restore: take out what a case added and put netjaild's rule and route
# back when netjaild did not (the code before issue 18 never did).
l_restore() {
	local f
	for f in -4 -6; do
		while l_ip "$f" rule del pref 10 2>/dev/null; do :; done
		l_ip "$f" rule show | grep -q "fwmark $L_MARK lookup $L_TABLE" ||
			l_ip "$f" rule add fwmark "$L_MARK" lookup "$L_TABLE"
		l_ip "$f" route replace local default dev lo table "$L_TABLE"
	done
}

l_nj_pid() {
	local p
	p=$(cat "$LAB_DIR/netjaild.pid")
	# only the netjaild this lab started
	[ "$(cat "/proc/$p/comm" 2>/dev/null)" = netjaild ] || return 1
	echo "$p"
}
l_freeze() { kill -STOP "$(l_nj_pid)"; }
l_thaw() { kill -CONT "$(l_nj_pid)"; }

# the text only: status exits 1 while any daemon is not ready
l_status() { lab_exec host "$E2E_CTL" -c "$E2E_CONF" status || true; }
l_status_has() { l_status | grep -q -- "$1"; }
l_doctor() { lab_exec host "$E2E_CTL" -c "$E2E_CONF" doctor || true; }

# l_allowed WHAT: what the jail allows still works.
l_allowed() {
	lab_expect_match "agent, $1: an allowed name still goes through the jail" \
		'^exit-ok smoke\.test' k_curl a http://smoke.test/
	lab_expect_match "agent, $1: the direct endpoint is still reached" \
		'^direct-ok' k_curl a "http://$LAB_DIRECT:$LAB_DIRECT_PORT/"
}

# l_tcp_denied WHAT: TCP 80 to the forbidden address, v4 and v6, refused
# and nothing arrived there.
l_tcp_denied() {
	lab_count_reset
	lab_expect "agent, $1: TCP 80 to $L_F refused" k_denied a "http://$L_F/"
	e2e_nothing "agent, $1: nothing reached $L_F" "$L_F"
	lab_count_reset
	lab_expect "agent, $1: TCP 80 to $L_F6 refused" k_denied a -g "http://[$L_F6]/"
	e2e_nothing "agent, $1: nothing reached $L_F6" "$L_F6"
}

# ---------------------------------------------------------------- door 1

# the uplink bound by name, to 80 and 8080, v4 and v6
for port in 80 8080; do
	lab_count_reset
	lab_expect "agent: curl --interface $L_UP to $L_F:$port refused" \
		k_denied a --interface "$L_UP" "http://$L_F:$port/"
	e2e_nothing "agent: --interface $L_UP: nothing reached $L_F:$port" "$L_F" tcp "$port"
	lab_count_reset
	lab_expect "agent: curl --interface $L_UP to [$L_F6]:$port refused" \
		k_denied a --interface "$L_UP" -g "http://[$L_F6]:$port/"
	e2e_nothing "agent: --interface $L_UP: nothing reached [$L_F6]:$port" "$L_F6" tcp "$port"
done
l_allowed "after --interface"
lab_expect_match "agent: the direct endpoint by --interface $L_UP is reached" \
	'^direct-ok' k_curl a --interface "$L_UP" "http://$LAB_DIRECT:$LAB_DIRECT_PORT/"

# an IPv6 link-local peer: the scope binds the socket to the uplink
cat >"$LAB_DIR/hl-ll.sh" <<'EOF'
#!/bin/sh
read -r _request
printf 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nforbidden-reached link-local\n'
EOF
chmod 0755 "$LAB_DIR/hl-ll.sh"
lab_exec up ip addr add "$L_LL/64" dev eth0 nodad
lab_spawn hl-ll up socat "TCP6-LISTEN:80,bind=[$L_LL%eth0],reuseaddr,fork" "EXEC:$LAB_DIR/hl-ll.sh"
# root on the host is not jailed: the peer is there and answers
l_ll_root() {
	lab_exec host curl -sS --max-time 2 -g "http://[$L_LL%25$L_UP]/" |
		grep 'forbidden-reached link-local'
}
lab_expect "root reaches the link-local peer [$L_LL%$L_UP] (the case can fail)" \
	lab_retry 5 l_ll_root
lab_count_reset
lab_expect "agent: TCP to the link-local peer [$L_LL%$L_UP] refused" \
	k_denied a -g "http://[$L_LL%25$L_UP]/"
e2e_nothing "agent: nothing reached $L_LL" "$L_LL"
lab_stop hl-ll
lab_exec up ip addr del "$L_LL/64" dev eth0

# socket options without a capability; tricks.py exits 1 when the
# forbidden peer answered
cat >"$LAB_DIR/hl-tricks.py" <<'PY'
# hl-tricks.py KIND ARGS: a socket option a jailed uid may set without a
# capability, aimed at a forbidden peer.  Exit 0 when nothing came back.
import socket, struct, sys

IP_FREEBIND, IP_PKTINFO = 15, 8

def udp_pktinfo(dst, port, ifname, src):
    """sendmsg with IP_PKTINFO: the output device and source of one datagram"""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    idx = socket.if_nametoindex(ifname) if ifname != "-" else 0
    spec = socket.inet_aton(src if src != "-" else "0.0.0.0")
    pi = struct.pack("=I4s4s", idx, spec, socket.inet_aton("0.0.0.0"))
    try:
        s.sendmsg([b"tricks-probe\n"], [(socket.IPPROTO_IP, IP_PKTINFO, pi)],
                  0, (dst, port))
        data = s.recv(512)
    except OSError as e:
        print("nothing back: %s" % e)
        return 0
    print("answer: %r" % data)
    # the forbidden peer echoes; dohd answers port 53 with a DNS error
    return 1 if data.startswith(b"tricks-probe") else 0

def tcp_freebind(dst, port, src, ifname):
    """IP_FREEBIND to any source address, SO_BINDTODEVICE when ifname"""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(3)
    s.setsockopt(socket.IPPROTO_IP, IP_FREEBIND, 1)
    if ifname != "-":
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())
    s.bind((src, 0))
    try:
        s.connect((dst, port))
        s.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
        data = s.recv(512)
    except OSError as e:
        print("nothing back: %s" % e)
        return 0
    print("answer: %r" % data)
    return 1 if b"reached" in data else 0

kind, a = sys.argv[1], sys.argv[2:]
if kind == "udp-pktinfo":
    sys.exit(udp_pktinfo(a[0], int(a[1]), a[2], a[3]))
if kind == "tcp-freebind":
    sys.exit(tcp_freebind(a[0], int(a[1]), a[2], a[3]))
sys.exit(2)
PY
chmod 0644 "$LAB_DIR/hl-tricks.py"
l_trick() {	# WHAT KIND ARGS...
	local what=$1
	shift
	lab_count_reset
	lab_expect "agent: $what: nothing came back" k_run a python3 "$LAB_DIR/hl-tricks.py" "$@"
	e2e_nothing "agent: $what: nothing reached $L_F" "$L_F"
}
l_trick "IP_FREEBIND host source + SO_BINDTODEVICE $L_UP, TCP 80" \
	tcp-freebind "$L_F" 80 "$LAB_HOSTUP4" "$L_UP"
l_trick "IP_FREEBIND foreign source 10.78.0.99, TCP 80" \
	tcp-freebind "$L_F" 80 10.78.0.99 -
l_trick "IP_PKTINFO output device $L_UP, UDP 9999" \
	udp-pktinfo "$L_F" 9999 "$L_UP" -
l_trick "IP_PKTINFO source $LAB_BR4 (another host address), UDP 9999" \
	udp-pktinfo "$L_F" 9999 - "$LAB_BR4"
l_trick "IP_PKTINFO output device $L_UP, UDP 53 (DNS goes to dohd, not out)" \
	udp-pktinfo "$L_F" 53 "$L_UP" -

# the host's own addresses that are not on lo: a service of root's there
cat >"$LAB_DIR/hl-host.sh" <<'EOF'
#!/bin/sh
echo host-service-reached
EOF
chmod 0755 "$LAB_DIR/hl-host.sh"
lab_spawn hl-host host socat TCP-LISTEN:18081,reuseaddr,fork "EXEC:$LAB_DIR/hl-host.sh"
lab_wait_listen host 0.0.0.0 18081 5 || true
l_host_svc() {	# KIND ADDR [SOCAT-OPTS]: 0 when the host's service did not answer
	local out
	out=$(k_run "$1" timeout 5 socat -T 2 - "TCP:$2:18081,connect-timeout=2${3:+,$3}" </dev/null 2>&1) || true
	echo "got: '$out'"
	case $out in *host-service-reached*) return 1 ;; esac
}
lab_expect_match "root reaches its own service on $LAB_HOSTUP4:18081 (the case can fail)" \
	host-service-reached lab_exec host timeout 5 socat -T 2 - "TCP:$LAB_HOSTUP4:18081,connect-timeout=2"
lab_expect "agent: the host's service on $LAB_HOSTUP4 refused" l_host_svc a "$LAB_HOSTUP4"
lab_expect "agent: the host's service on $LAB_BR4 refused" l_host_svc a "$LAB_BR4"
lab_expect "agent: the host's service on $LAB_HOSTUP4 by SO_BINDTODEVICE $L_UP refused" \
	l_host_svc a "$LAB_HOSTUP4" "so-bindtodevice=$L_UP"
lab_stop hl-host

# ---------------------------------------------------------------- door 2

# l_door2 WHAT CMD...: open the door with netjaild stopped, judge, let
# netjaild go, require routing whole again within L_REPAIR_S.
l_door2() {
	local what=$1 t0
	shift
	lab_expect "routing whole before: $what" l_routing_whole
	l_freeze
	"$@"
	l_tcp_denied "$what"
	t0=$(lab_ms)
	l_thaw
	lab_expect "netjaild repairs routing within ${L_REPAIR_S}s: $what" \
		lab_retry "$L_REPAIR_S" l_routing_whole
	lab_log "$what: routing whole again after $(($(lab_ms) - t0)) ms"
	lab_expect_match "egressctl status: routing repaired after $what" \
		'routing=repaired' l_status
	l_allowed "$what (repaired)"
	l_restore
	l_allowed "$what (restored)"
}

l_front() {
	l_ip -4 rule add pref 10 lookup main
	l_ip -6 rule add pref 10 lookup main
}
l_del_rule() {
	l_ip -4 rule del fwmark "$L_MARK" lookup "$L_TABLE"
	l_ip -6 rule del fwmark "$L_MARK" lookup "$L_TABLE"
}
l_del_route() {
	l_ip -4 route flush table "$L_TABLE"
	l_ip -6 route flush table "$L_TABLE"
}
l_door2 "ip rule pref 10 lookup main in front" l_front
l_door2 "netjaild's fwmark rule deleted" l_del_rule
l_door2 "netjaild's route in table $L_TABLE deleted" l_del_route
lab_expect_match "netjaild logged the repairs" 'event=routing_repaired' \
	grep 'routing_repaired' "$LAB_DIR/netjaild.log"

# with netjaild running, a deleted rule is back on rtnetlink's word, well
# before the 5 s watchdog tick
l_t0=$(lab_ms)
l_del_rule
lab_expect "netjaild running: its deleted rule is back within 1 s" \
	lab_retry 1 l_routing_whole
lab_log "rule deleted under a running netjaild: whole again after $(($(lab_ms) - l_t0)) ms"
l_restore

# a rule in front that netjaild cannot get ahead of (pref 0, after the
# local table's rule): the jail stays shut, status and doctor say so
l_freeze
l_ip -4 rule add pref 0 lookup main
l_thaw
lab_expect "egressctl status: routing displaced" lab_retry 5 l_status_has 'routing=displaced'
lab_expect_match "egressctl status names the rule in front" 'routing_displaced_by=pref 0' l_status
lab_expect_match "egressctl doctor names the rule in front" 'displaced.*pref 0' l_doctor
l_tcp_denied "rule in front at pref 0"
l_ip -4 rule del pref 0 lookup main
lab_expect "routing whole after the pref 0 rule went" lab_retry "$L_REPAIR_S" l_routing_whole
l_restore
l_allowed "after pref 0"
