# shellcheck shell=bash
# tests/lab/e2e/escape.d/20-bridge.sh - issue 18, doors 3, 4 and 5 for a
# bridge workload, and issue 14 point 4 (sourced by escape.sh; the jail is
# up, w1 and w2 sit on the jailed bridge $LAB_BR).
#
#  door 3  the host answers a jailed bridge only at the jail's listener
#          address:port pairs and at direct endpoints: a host service bound
#          to 3128 / 15001 / 15353 on another host address is not reached.
#  14.4    a direct endpoint on a host address (the bridge gateway, the
#          uplink address) is reached on exactly its port.
#  door 4  packets from the bridge with a forged outside source (raw
#          sockets: DNS queries and SYNs, IPv4 and IPv6) are dropped and
#          counted; no answer, RST or ICMP error reaches the forged address.
#  door 5  layer 2: frames a workload sends to a neighbour on the bridge
#          (untagged with bridge-nf-call-iptables 0, 802.1Q-tagged and
#          PPPoE at 0 and 1) are not switched between ports; the neighbour
#          here is w2 with a second, unjailed leg into up that forwards.
#
# Everything it changes (host services, config, neighbour links, VLANs,
# bridge-nf-call-iptables) is put back at the end.

HB_PY=$LAB_DIR/hb-bridge.py
cat >"$HB_PY" <<'PY'
# hb-bridge.py - raw packets and frames for escape.d/20-bridge.sh
#   ip SRC DST udp|tcp PORT      3 packets with a chosen (forged) source:
#                                UDP = a DNS query for hb-forged.test,
#                                TCP = a SYN; IPv4 or IPv6 (IPPROTO_RAW)
#   ether IFACE DSTMAC KIND N    N marked frames: ip (untagged IPv4 UDP to
#                                the forbidden address), vlan (the same in
#                                an 802.1Q tag, VID 5), pppoe (0x8864), 88b5
#   listen IFACE SECS            count marked frames arriving on IFACE
import random, socket, struct, sys, time

MAGIC = b"hb-l2-escape"
W1, FORBIDDEN = "10.77.0.2", "10.78.0.11"

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def dnsq(name):
    q = b"".join(bytes([len(l)]) + l.encode() for l in name.split("."))
    return struct.pack("!HHHHHH", random.getrandbits(16), 0x0100, 1, 0, 0,
                       0) + q + b"\0" + struct.pack("!HH", 1, 1)

def ip(src, dst, proto, port):
    v6 = ":" in dst
    fam = socket.AF_INET6 if v6 else socket.AF_INET
    s, d = socket.inet_pton(fam, src), socket.inet_pton(fam, dst)
    sport = random.randint(20000, 60000)
    if proto == "udp":
        pn, data = 17, dnsq("hb-forged.test")
        seg = struct.pack("!HHHH", sport, port, 8 + len(data), 0) + data
        co = 6
    else:
        pn = 6
        seg = struct.pack("!HHIIBBHHH", sport, port, random.getrandbits(32),
                          0, 5 << 4, 0x02, 64240, 0, 0)
        co = 16
    if v6:
        pseudo = s + d + struct.pack("!I3xB", len(seg), pn)
    else:
        pseudo = s + d + struct.pack("!BBH", 0, pn, len(seg))
    c = csum(pseudo + seg) or 0xffff
    seg = seg[:co] + struct.pack("!H", c) + seg[co + 2:]
    if v6:
        hdr = struct.pack("!IHBB16s16s", 6 << 28, len(seg), pn, 64, s, d)
    else:
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(seg),
                          random.getrandbits(16), 0, 64, pn, 0, s, d)
        hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    k = socket.socket(fam, socket.SOCK_RAW, socket.IPPROTO_RAW)
    if not v6:
        k.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    for _ in range(3):
        k.sendto(hdr + seg, (dst, 0))
        time.sleep(0.05)
    print("sent 3 %s %s -> %s:%d" % (proto, src, dst, port))

def ether(ifc, dst, kind, n):
    src = open("/sys/class/net/%s/address" % ifc).read().strip()
    mac = lambda m: bytes.fromhex(m.replace(":", ""))
    # an IPv4 UDP datagram w1 -> forbidden:9999 carrying the mark
    data = MAGIC + b" " + kind.encode()
    udp = struct.pack("!HHHH", 40000, 9999, 8 + len(data), 0) + data
    iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17,
                      0, socket.inet_aton(W1), socket.inet_aton(FORBIDDEN))
    iph = iph[:10] + struct.pack("!H", csum(iph)) + iph[12:]
    body = {
        "ip": struct.pack("!H", 0x0800) + iph + udp,
        # 802.1Q, VID 5, around the same datagram
        "vlan": struct.pack("!HHH", 0x8100, 5, 0x0800) + iph + udp,
        # PPPoE session (0x8864), PPP protocol IPv4
        "pppoe": struct.pack("!HBBHHH", 0x8864, 0x11, 0, 0x1234,
                             2 + len(iph + udp), 0x0021) + iph + udp,
        # an ethertype nobody registered (local experimental)
        "88b5": struct.pack("!H", 0x88b5) + data,
    }[kind]
    frame = mac(dst) + mac(src) + body
    frame += b"\0" * max(0, 60 - len(frame))
    k = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    k.bind((ifc, 0))
    for _ in range(n):
        k.send(frame)
        time.sleep(0.02)
    print("sent %d %s frames to %s" % (n, kind, dst))

def listen(ifc, secs):
    k = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    k.bind((ifc, 0))
    end, n = time.time() + secs, 0
    while time.time() < end:
        k.settimeout(max(0.01, end - time.time()))
        try:
            b, a = k.recvfrom(2048)
        except socket.timeout:
            break
        if a[2] != socket.PACKET_OUTGOING and MAGIC in b:
            n += 1
    print(n)

a = sys.argv[1:]
if a[0] == "ip":
    ip(a[1], a[2], a[3], int(a[4]))
elif a[0] == "ether":
    ether(a[1], a[2], a[3], int(a[4]))
else:
    listen(a[1], float(a[2]))
PY

HB_H4=$LAB_HOSTUP4	# another host address (the uplink's)
HB_H6=$LAB_HOSTUP6

hb_tcp() {	# NS ADDR PORT: the first line the server sends, or nothing
	local a=$2
	case $a in *:*) a=[$a] ;; esac
	lab_exec "$1" timeout 5 socat -T2 - "TCP:$a:$3,connect-timeout=3" </dev/null 2>/dev/null || true
}
hb_udp() {	# NS ADDR PORT
	local d=UDP4:$2:$3
	case $2 in *:*) d=UDP6:[$2]:$3 ;; esac
	printf 'probe\n' | lab_exec "$1" timeout 4 socat -T2 - "$d" 2>/dev/null || true
}
hb_nothing() { [ -z "$("$@")" ]; }	# CMD...: printed nothing
hb_says() {	# WORD CMD...: printed WORD
	local w=$1 out
	shift
	out=$("$@")
	echo "got: '$out'"
	[ "$out" = "$w" ]
}
# hb_counter COMMENT: packets of the jail's counted drop with that comment
# (both tables: inet and, for layer 2, bridge)
hb_counter() {
	lab_exec host nft list ruleset 2>/dev/null |
		awk -v c="comment \"$1\"" 'index($0, c) {
			for (i = 1; i <= NF; i++) if ($i == "packets") n += $(i + 1)
		} END { print n + 0 }'
}
hb_svc() {	# NAME TCP|UDP ADDR PORT: a host service that answers NAME
	local kind=$2 a=$3 f=4
	case $a in *:*) a=[$a] f=6 ;; esac
	if [ "$kind" = TCP ]; then
		lab_spawn "hb-svc-$1" host socat "TCP$f-LISTEN:$4,bind=$a,reuseaddr,fork" \
			"SYSTEM:echo $1"
		lab_wait_listen host "$3" "$4" 5
	else
		lab_spawn "hb-svc-$1" host socat "UDP$f-RECVFROM:$4,bind=$a,fork" \
			"SYSTEM:echo $1"
		lab_wait_udp host "$3" "$4" 5
	fi
}
HB_SVCS=""
hb_svc_up() { hb_svc "$@" && HB_SVCS="$HB_SVCS hb-svc-$1"; }
hb_svcs_down() {
	local s
	for s in $HB_SVCS; do lab_stop "$s"; done
	HB_SVCS=""
}
hb_reloads() { grep -c "event=reload result=ok" "$LAB_DIR/netjaild.log" || true; }
hb_reloaded() { [ "$(hb_reloads)" -gt "$1" ]; }
hb_reload() {	# SIGHUP netjaild, wait for its next reload
	local n
	n=$(hb_reloads)
	kill -HUP "$(cat "$LAB_DIR/netjaild.pid")"
	lab_retry 10 hb_reloaded "$n"
}

# ------------------------------------------------ door 3: host services
lab_log "bridge: door 3, host services on the jail's listener ports"
hb_svc_up hostsvc-3128 TCP "$HB_H4" 3128
hb_svc_up hostsvc6-3128 TCP "$HB_H6" 3128
hb_svc_up hostsvc-15001 TCP "$HB_H4" 15001
hb_svc_up hostsvc-15353t TCP "$HB_H4" 15353
hb_svc_up hostsvc-15353u UDP "$HB_H4" 15353
lab_expect "bridge: the stand-in host services answer on the host" \
	hb_says hostsvc-3128 hb_tcp host "$HB_H4" 3128
lab_expect "bridge: host service on $HB_H4:3128 (the proxy's port) not reached" \
	hb_nothing hb_tcp w1 "$HB_H4" 3128
lab_expect "bridge: host service on [$HB_H6]:3128 not reached" \
	hb_nothing hb_tcp w1 "$HB_H6" 3128
lab_expect "bridge: host service on $HB_H4:15001 (transparent port) not reached" \
	hb_nothing hb_tcp w1 "$HB_H4" 15001
lab_expect "bridge: host service on $HB_H4:15353/tcp (dohd's port) not reached" \
	hb_nothing hb_tcp w1 "$HB_H4" 15353
lab_expect "bridge: host service on $HB_H4:15353/udp not reached" \
	hb_nothing hb_udp w1 "$HB_H4" 15353
lab_expect_match "bridge: the explicit proxy at its own address still works" \
	'^exit-ok smoke\.test' k_curl w -x "$E2E_PROXY" https://smoke.test/
lab_expect_match "bridge: transparent TCP still works" '^exit-ok smoke\.test' \
	k_curl w https://smoke.test/
lab_expect_match "bridge: DNS still answered by dohd" '10\.78\.0\.10' \
	k_dig w +short smoke.test
hb_svcs_down

# ------------------------------------------------ issue 14.4: direct on the host
lab_log "bridge: issue 14 point 4, a direct endpoint on a host address"
hb_svc_up hostdb-gw TCP "$LAB_BR4" 5432
hb_svc_up hostdb-gw-other TCP "$LAB_BR4" 5433
hb_svc_up hostdb-up TCP "$HB_H4" 5432
hb_svc_up hostdb-up6 TCP "$HB_H6" 5432
cp "$E2E_CONF" "$LAB_DIR/hb-conf.orig"
sed -i "s|^direct = .*|&\ndirect = $LAB_BR4:5432\ndirect = $HB_H4:5432\ndirect = [$HB_H6]:5432|" "$E2E_CONF"
lab_expect "bridge: netjaild reloads with direct endpoints on host addresses" hb_reload
lab_expect "bridge: direct endpoint on the gateway $LAB_BR4:5432 reached" \
	hb_says hostdb-gw hb_tcp w1 "$LAB_BR4" 5432
lab_expect "bridge: direct endpoint on the host's $HB_H4:5432 reached" \
	hb_says hostdb-up hb_tcp w1 "$HB_H4" 5432
lab_expect "bridge: direct endpoint on the host's [$HB_H6]:5432 reached" \
	hb_says hostdb-up6 hb_tcp w1 "$HB_H6" 5432
lab_expect "bridge: another port of the same address ($LAB_BR4:5433) not reached" \
	hb_nothing hb_tcp w1 "$LAB_BR4" 5433
cp "$LAB_DIR/hb-conf.orig" "$E2E_CONF"
lab_expect "bridge: netjaild reloads the lab's own config" hb_reload
lab_expect "bridge: ... and then $LAB_BR4:5432 is closed again" \
	hb_nothing hb_tcp w1 "$LAB_BR4" 5432
hb_svcs_down

# ------------------------------------------------ door 4: forged sources
lab_log "bridge: door 4, forged source addresses"
hb_forged() {	# SRC DST PROTO PORT: raw packets from w1 with source SRC
	lab_exec w1 python3 "$HB_PY" ip "$@"
}
F6=$LAB_FORBIDDEN6
spoof0=$(hb_counter "bridge spoofed source")
for c in "$LAB_FORBIDDEN $LAB_INET4 udp 53" "$LAB_FORBIDDEN $LAB_BR4 tcp 3128" \
    "$LAB_FORBIDDEN $LAB_INET4 tcp 443" "$F6 $LAB_INET6 udp 53" \
    "$F6 $LAB_INET6 tcp 443" "$F6 $LAB_BR6 tcp 3128"; do
	# shellcheck disable=SC2086 # four words
	set -- $c
	lab_count_reset
	lab_expect_match "bridge: raw $3/$4 to $2 from forged $1 is sent" '^sent' hb_forged "$1" "$2" "$3" "$4"
	sleep 0.5
	e2e_nothing "bridge: ... no answer, RST or ICMP error reached $1" "$1"
done
lab_expect "bridge: forged sources are counted (bridge spoofed source)" \
	test "$(hb_counter "bridge spoofed source")" -gt "$spoof0"
lab_expect_match "bridge: DNS from w1's own address still answered" '10\.78\.0\.10' \
	k_dig w +short smoke.test

# ------------------------------------------------ door 5: layer 2
lab_log "bridge: door 5, frames between ports of the jailed bridge"
# w2, a neighbour on the same bridge, also has an unjailed leg into up (a
# container attached to a second network) and forwards; up counts what
# arrives on that leg for the forbidden address.  This kernel has no 8021q
# module (no VLAN devices): tagged frames are made by hand (AF_PACKET) and
# judged where they land, at the neighbour, like PPPoE and other ethertypes.
HB_X=${LAB_P}x
ip -n "${LAB_P}w2" link add name "$HB_X" type veth peer name "$HB_X" netns "$LAB_NS_UP"
ip -n "${LAB_P}w2" -b - <<EOF
link set $HB_X up
addr add 10.79.5.2/24 dev $HB_X
route add $LAB_FORBIDDEN/32 via 10.79.5.1
EOF
ip netns exec "${LAB_P}w2" sysctl -q -w net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0
ip -n "$LAB_NS_UP" link set "$HB_X" up
ip -n "$LAB_NS_UP" addr add 10.79.5.1/24 dev "$HB_X"
ip netns exec "$LAB_NS_UP" nft -f - <<EOF
table inet hbleg {
	chain pre {
		type filter hook prerouting priority raw; policy accept;
		iifname "$HB_X" ip daddr $LAB_FORBIDDEN counter
	}
}
EOF
w2mac=$(lab_exec w2 cat /sys/class/net/eth0/address)
lab_exec w1 ip neigh replace "$LAB_W2_4" lladdr "$w2mac" dev eth0
hb_leg() {	# packets that came out of w2's leg for the forbidden address
	ip netns exec "$LAB_NS_UP" nft list table inet hbleg | grep -o 'packets [0-9]*' | cut -d' ' -f2
}
hb_via_w2() {	# w1 routes UDP for the forbidden address through w2
	lab_exec w1 ip route replace "$LAB_FORBIDDEN/32" via "$LAB_W2_4" dev eth0
	printf 'l2-escape\n' | lab_exec w1 timeout 2 socat -T1 - "UDP4:$LAB_FORBIDDEN:9999" >/dev/null 2>&1 || true
	sleep 0.3
	lab_exec w1 ip route del "$LAB_FORBIDDEN/32" 2>/dev/null || true
}
hb_frames() {	# KIND: marked frames w2 received of 5 that w1 sent to it
	local out
	lab_exec w2 python3 "$HB_PY" listen eth0 1.5 >"$LAB_DIR/hb-listen.out" &
	sleep 0.3
	lab_exec w1 python3 "$HB_PY" ether eth0 "$w2mac" "$1" 5 >/dev/null
	wait $!
	out=$(cat "$LAB_DIR/hb-listen.out")
	echo "${out:-0}"
}
hb_nd() {	# w1 resolves the gateway's IPv6 address afresh
	lab_exec w1 ip -6 neigh flush dev eth0
	hb_tcp w1 "$LAB_EXIT6" 443 >/dev/null
	lab_exec w1 ip -6 neigh show "$LAB_BR6" dev eth0
}
lab_expect "bridge: the forwarding neighbour w2 reaches $LAB_FORBIDDEN by its own leg" \
	lab_exec w2 curl -s --max-time 3 -o /dev/null "http://$LAB_FORBIDDEN/"
brnf0=""
lab_brnf_available && brnf0=$(lab_brnf)
for v in 1 0; do
	if [ -z "$brnf0" ]; then
		[ "$v" = 1 ] || continue
		lab_log "br_netfilter is not loaded: the layer 2 cases run once"
	else
		lab_brnf "$v"
	fi
	leg0=$(hb_leg)
	hb_via_w2
	lab_expect_eq "bridge (brnf $v): UDP routed through the neighbour w2: 0 pkts out of its leg" 0 "$(($(hb_leg) - leg0))"
	lab_expect_eq "bridge (brnf $v): untagged IPv4 frames w1 -> w2: 0 arrive" 0 "$(hb_frames ip)"
	lab_expect_eq "bridge (brnf $v): 802.1Q-tagged (VID 5) IPv4 frames w1 -> w2: 0 arrive" 0 "$(hb_frames vlan)"
	lab_expect_eq "bridge (brnf $v): PPPoE session frames (0x8864) w1 -> w2: 0 arrive" 0 "$(hb_frames pppoe)"
	lab_expect_eq "bridge (brnf $v): frames of another ethertype (0x88b5) w1 -> w2: 0 arrive" 0 "$(hb_frames 88b5)"
	lab_expect_match "bridge (brnf $v): the jail itself still works (transparent TCP)" \
		'^exit-ok smoke\.test' k_curl w https://smoke.test/
	lab_expect_match "bridge (brnf $v): ... and DNS" '10\.78\.0\.10' k_dig w +short smoke.test
	lab_expect_match "bridge (brnf $v): ... and IPv6 neighbour discovery with the host" \
		'lladdr' hb_nd
done
[ -z "$brnf0" ] || lab_brnf "$brnf0"
# a port that joins while the jail runs is isolated at once (link events)
hb_isolated() {	# PORT: the bridge port has the isolated flag
	lab_exec host bridge -d link show dev "$1" | grep -q 'isolated on'
}
lab_add_workload 3
lab_expect "bridge: a workload that joins later is isolated within a second" \
	lab_retry 1 hb_isolated "${LAB_P}-w3"
lab_expect_match "bridge: netjaild's status counts the isolated ports" \
	'bridge_ports_isolated=3' lab_exec host "$E2E_CTL" -c "$E2E_CONF" status
hb_doctor() { lab_exec host "$E2E_CTL" -c "$E2E_CONF" doctor 2>&1 || true; }
lab_expect_match "bridge: doctor: the jailed bridge's ports are isolated" \
	'^ok +bridge ports +3 port\(s\) of jailed bridges isolated' hb_doctor
ip netns del "${LAB_P}w3"
rm -rf "/etc/netns/${LAB_P}w3"

# a direct endpoint inside the bridge's subnet: the operator wants
# workload-to-workload on that port, so the bridge switches between its
# ports again; IP still meets the inet rules, whatever the sysctl
hb_svc_w2() { lab_spawn hb-w2db w2 socat "TCP4-LISTEN:5432,bind=$LAB_W2_4,reuseaddr,fork" "SYSTEM:echo w2db"; }
hb_svc_w2
lab_wait_listen w2 "$LAB_W2_4" 5432 5
cp "$E2E_CONF" "$LAB_DIR/hb-conf.orig"
sed -i "s|^direct = .*|&\ndirect = $LAB_W2_4:5432|" "$E2E_CONF"
lab_expect "bridge: netjaild reloads with a direct endpoint on the bridge ($LAB_W2_4:5432)" hb_reload
lab_expect "bridge: ... its ports are released (no longer isolated)" \
	lab_retry 2 sh -c "! ip netns exec $LAB_NS_HOST bridge -d link show dev ${LAB_P}-w1 | grep -q 'isolated on'"
lab_expect_match "bridge: doctor warns that the bridge is left switching" \
	'^warn +bridge ports +2 port\(s\) left switching' hb_doctor
for v in 1 0; do
	[ -n "$brnf0" ] || [ "$v" = 1 ] || continue
	[ -z "$brnf0" ] || lab_brnf "$v"
	lab_expect "bridge (brnf $v, direct on the bridge): w1 reaches w2's $LAB_W2_4:5432" \
		hb_says w2db hb_tcp w1 "$LAB_W2_4" 5432
	leg0=$(hb_leg)
	hb_via_w2
	lab_expect_eq "bridge (brnf $v, direct on the bridge): UDP routed through w2: 0 pkts out of its leg" \
		0 "$(($(hb_leg) - leg0))"
done
[ -z "$brnf0" ] || lab_brnf "$brnf0"
lab_stop hb-w2db
cp "$LAB_DIR/hb-conf.orig" "$E2E_CONF"
lab_expect "bridge: netjaild reloads the lab's own config" hb_reload
lab_expect "bridge: ... and isolates the ports again" lab_retry 2 hb_isolated "${LAB_P}-w1"
lab_exec w1 ip neigh del "$LAB_W2_4" dev eth0 2>/dev/null || true
ip -n "${LAB_P}w2" link del "$HB_X" 2>/dev/null || true
ip netns exec "${LAB_P}w2" sysctl -q -w net.ipv4.ip_forward=0
ip netns exec "$LAB_NS_UP" nft delete table inet hbleg 2>/dev/null || true
