#!/bin/sh
# jail.sh - netjaild in a lab of network namespaces (all named nj*):
#   njhPID  the "host": bridge br-ej, netjaild, stand-ins for connectd/dohd
#   njwPID  a workload behind br-ej
#   njuPID  upstream: a web server, a hop, a direct endpoint, packet counters
# Run by meson (suite lab) with EJ_BUILD and EJ_SRC set.  Root only.
set -u
if [ "$(id -u)" -ne 0 ]; then
	echo "netjaild lab: not root, skipped (needs network namespaces)"
	exit 77
fi
B=${EJ_BUILD:?}; S=${EJ_SRC:?}
NJ=$B/netjaild/netjaild
SI=$S/tests/lab/netjaild/standin.py
for t in socat python3 nft ip setpriv; do
	command -v $t >/dev/null || { echo "netjaild lab: no $t, skipped"; exit 77; }
done
[ -x "$NJ" ] || { echo "netjaild lab: $NJ not built"; exit 1; }

H=njh$$ W=njw$$ U=nju$$
tmp=$(mktemp -d /tmp/njlab.XXXXXX)
chmod 755 "$tmp"
pids=""
njpid=""
cleanup() {
	for p in $pids $njpid; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip netns del $H 2>/dev/null; ip netns del $W 2>/dev/null
	ip netns del $U 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

hx() { ip netns exec $H "$@"; }
wx() { ip netns exec $W "$@"; }
ux() { ip netns exec $U "$@"; }

pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
# expect WHAT WANT OUTPUT: OUTPUT contains WANT
expect() {
	case "$3" in *"$2"*) ok "$1";; *) bad "$1 (wanted '$2', got '$3')";; esac
}
# refuse WHAT OUTPUT...: none of the words of OUTPUT are a server's answer
refuse() {
	case "$2" in *connectd*|*upstream*|*dns*) bad "$1 (got '$2')";; *) ok "$1";; esac
}

# ---- topology
ip netns add $H; ip netns add $W; ip netns add $U
for n in $H $W $U; do ip -n $n link set lo up; done
ip -n $H link add br-ej type bridge
ip -n $H link set br-ej up
ip -n $H addr add 10.77.0.1/24 dev br-ej
ip -n $H addr add fd77::1/64 dev br-ej nodad
ip -n $H link add vw type veth peer name eth0 netns $W
ip -n $H link set vw master br-ej up
ip -n $W addr add 10.77.0.2/24 dev eth0
ip -n $W addr add fd77::2/64 dev eth0 nodad
ip -n $W link set eth0 up
ip -n $W route add default via 10.77.0.1
ip -n $W -6 route add default via fd77::1
ip -n $H link add vu type veth peer name eth0 netns $U
ip -n $H addr add 10.79.0.1/24 dev vu
ip -n $H addr add fd79::1/64 dev vu nodad
ip -n $H link set vu up
ip -n $U addr add 10.79.0.2/24 dev eth0
ip -n $U addr add fd79::2/64 dev eth0 nodad
ip -n $U link set eth0 up
ip -n $U route add 10.77.0.0/24 via 10.79.0.1
ip -n $U -6 route add fd77::/64 via fd79::1
ip -n $H route add default via 10.79.0.2
ip -n $H -6 route add default via fd79::2
hx sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1

# upstream: web 80 (v4+v6), hop 3128, direct 5432; count what arrives from
# the workload apart from the direct endpoint
ux python3 "$SI" plain 80 >/dev/null 2>&1 & pids="$pids $!"
ux python3 "$SI" plain 3128 >/dev/null 2>&1 & pids="$pids $!"
ux python3 "$SI" plain 5432 >/dev/null 2>&1 & pids="$pids $!"
ux nft -f - <<'NFT'
table inet njcount {
	chain in { type filter hook input priority 0; policy accept;
		ip saddr 10.77.0.0/24 tcp dport 5432 counter accept
		ip saddr 10.77.0.0/24 counter
		ip6 saddr fd77::/64 counter
	}
}
NFT
upstream_count() {	# packets from the workload other than the direct endpoint
	ux nft list chain inet njcount in | awk '/saddr/ && !/5432/ { for (i = 1; i <= NF; i++) if ($i == "packets") s += $(i + 1) } END { print s + 0 }'
}

start_standins() {
	ip netns exec $H python3 "$SI" tcp 15001 >/dev/null 2>&1 & tcppid=$!
	ip netns exec $H python3 "$SI" udp 15353 >/dev/null 2>&1 & udppid=$!
	pids="$pids $tcppid $udppid"
	sleep 0.5
}

cfg=$tmp/egressjail.conf
write_config() {	# ipv6 mode
	cat >"$cfg" <<EOF2
[jail]
interface = br-ej
user = nobody
direct = 10.79.0.2:5432
ipv6 = $1
runtime_dir = $tmp/run
group = root

[chain]
hop = http://10.79.0.2:3128

[connectd]
user = proxy
proxy_listen = 10.77.0.1:3128
transparent_listen = 127.0.0.1:15001

[dohd]
user = irc
listen = 127.0.0.1:15353
upstream = https://dns.example.net/dns-query 10.79.0.4

[netjaild]
user = backup

[policy]
allow = example.com
EOF2
}

start_netjaild() {
	ip netns exec $H "$NJ" -c "$cfg" >"$tmp/nj.log" 2>&1 & njpid=$!
	i=0
	while [ $i -lt 50 ]; do
		grep -q "event=ready" "$tmp/nj.log" 2>/dev/null && return 0
		kill -0 $njpid 2>/dev/null || break
		sleep 0.1; i=$((i + 1))
	done
	echo "netjaild did not become ready:"; cat "$tmp/nj.log"
	return 1
}

counter() {	# packets of the drop rule with this comment
	hx nft list table inet egressjail | awk -v c="comment \"$1\"" 'index($0, c) { for (i = 1; i <= NF; i++) if ($i == "packets") print $(i + 1) }'
}

scenario() {	# bridge-nf-call-iptables value or "-"
	echo "# scenario: ipv6=jail bridge-nf-call-iptables=$1"
	[ "$1" != - ] && hx sysctl -qw net.bridge.bridge-nf-call-iptables=$1 \
	    net.bridge.bridge-nf-call-ip6tables=$1
	write_config jail
	start_standins
	base=$(upstream_count)
	start_netjaild || { bad "netjaild starts"; return; }
	hx nft list table inet egressjail >/dev/null 2>&1 && ok "table installed" || bad "table installed"
	hx ip rule | grep -q "fwmark 0x1 lookup 100" && ok "ip rule v4" || bad "ip rule v4"
	hx ip -6 rule | grep -q "fwmark 0x1 lookup 100" && ok "ip rule v6" || bad "ip rule v6"

	expect "bridge TCP to any address goes to connectd" "connectd" "$(tcp_w 1.2.3.4:443)"
	expect "bridge TCP to the upstream goes to connectd" "connectd" "$(tcp_w 10.79.0.2:80)"
	expect "bridge TCP over IPv6 goes to connectd" "connectd" "$(tcp_w '[fd79::2]:80')"
	expect "bridge UDP 53 to any address goes to dohd" "dns" "$(udp_w 9.9.9.9:53)"
	expect "bridge direct endpoint reachable" "upstream" "$(tcp_w 10.79.0.2:5432)"
	refuse "bridge UDP 443 dropped" "$(udp_w 10.79.0.2:443)"
	wx ping -c1 -W1 10.79.0.2 >/dev/null 2>&1 && bad "bridge ICMP dropped" || ok "bridge ICMP dropped"
	n=$(upstream_count)
	[ "$n" -eq "$base" ] && ok "upstream saw nothing but the direct endpoint" || bad "upstream saw $((n - base)) packets"
	[ "$(counter 'bridge not tcp or dns')" -gt 0 ] && ok "bridge drop counter counts" || bad "bridge drop counter"

	expect "jailed uid diverted to connectd" "connectd" "$(hx setpriv --reuid=nobody --regid=nogroup --clear-groups socat -T3 - TCP:10.79.0.2:80,connect-timeout=3 </dev/null 2>/dev/null)"
	expect "jailed uid DNS to dohd" "dns" "$(echo q | hx setpriv --reuid=nobody --regid=nogroup --clear-groups socat -T2 - UDP:9.9.9.9:53 2>/dev/null)"
	refuse "jailed uid UDP 443 dropped" "$(echo q | hx setpriv --reuid=nobody --regid=nogroup --clear-groups socat -T2 - UDP:10.79.0.2:443 2>/dev/null)"
	expect "non-jailed uid not diverted" "upstream" "$(hx setpriv --reuid=daemon --regid=daemon --clear-groups socat -T3 - TCP:10.79.0.2:80,connect-timeout=3 </dev/null 2>/dev/null)"
	expect "connectd uid reaches the hop" "upstream" "$(hx setpriv --reuid=proxy --regid=proxy --clear-groups socat -T3 - TCP:10.79.0.2:3128,connect-timeout=3 </dev/null 2>/dev/null)"
	refuse "other uid refused at the hop" "$(hx setpriv --reuid=daemon --regid=daemon --clear-groups socat -T3 - TCP:10.79.0.2:3128,connect-timeout=3 </dev/null 2>/dev/null)"

	# someone deletes the table: netjaild puts it back whole
	hx nft delete table inet egressjail
	i=0
	while ! hx nft list table inet egressjail >/dev/null 2>&1 && [ $i -lt 80 ]; do
		sleep 0.1; i=$((i + 1))
	done
	hx nft list table inet egressjail >/dev/null 2>&1 && ok "deleted table reinstalled" || bad "deleted table reinstalled"

	# the listener gone: nothing falls through to the outside
	kill $tcppid; wait $tcppid 2>/dev/null
	refuse "bridge TCP fails without connectd" "$(tcp_w 10.79.0.2:80)"
	refuse "jailed uid TCP fails without connectd" "$(hx setpriv --reuid=nobody --regid=nogroup --clear-groups socat -T3 - TCP:10.79.0.2:80,connect-timeout=3 </dev/null 2>/dev/null)"
	[ "$(counter 'local no listener')" -gt 0 ] && ok "tproxy fall-through dropped and counted" || bad "tproxy fall-through counter"

	# netjaild killed: the jail stays shut
	kill -9 $njpid; wait $njpid 2>/dev/null; njpid=""
	hx nft list table inet egressjail >/dev/null 2>&1 && ok "table stays after kill -9" || bad "table stays after kill -9"
	refuse "workload still jailed after kill -9" "$(tcp_w 10.79.0.2:80)"
	n=$(upstream_count)
	[ "$n" -eq "$base" ] && ok "upstream still saw nothing" || bad "upstream saw $((n - base)) packets"

	hx "$NJ" -c "$cfg" --uninstall >>"$tmp/nj.log" 2>&1 && ok "--uninstall exits 0" || bad "--uninstall"
	hx nft list table inet egressjail >/dev/null 2>&1 && bad "--uninstall removes the table" || ok "--uninstall removes the table"
	hx ip rule | grep -q fwmark && bad "--uninstall removes the rules" || ok "--uninstall removes the rules"
	expect "workload free again after --uninstall" "upstream" "$(tcp_w 10.79.0.2:80)"
	kill $udppid 2>/dev/null; wait $udppid 2>/dev/null
}

tcp_w() { wx timeout 5 socat -T3 - "TCP:$1,connect-timeout=3" </dev/null 2>/dev/null; }
udp_w() { echo q | wx timeout 5 socat -T2 - "UDP:$1" 2>/dev/null; }

if hx test -e /proc/sys/net/bridge/bridge-nf-call-iptables; then
	scenario 1
	scenario 0
else
	echo "# br_netfilter not loaded: one scenario only"
	scenario -
fi

echo "# scenario: ipv6=drop"
write_config drop
start_standins
base=$(upstream_count)
if start_netjaild; then
	refuse "bridge IPv6 TCP dropped" "$(tcp_w '[fd79::2]:80')"
	refuse "bridge IPv6 UDP 53 dropped" "$(udp_w '[fd79::2]:53')"
	expect "bridge IPv4 still to connectd" "connectd" "$(tcp_w 10.79.0.2:80)"
	n=$(upstream_count)
	[ "$n" -eq "$base" ] && ok "upstream saw no IPv6" || bad "upstream saw $((n - base)) packets"
	[ "$(counter 'bridge ipv6')" -gt 0 ] && ok "IPv6 drop counted" || bad "IPv6 drop counter"
	hx "$NJ" -c "$cfg" --uninstall >>"$tmp/nj.log" 2>&1
else
	bad "netjaild starts (ipv6=drop)"
fi

echo "# netjaild lab: $pass passed, $fail failed"
[ $fail -eq 0 ]
