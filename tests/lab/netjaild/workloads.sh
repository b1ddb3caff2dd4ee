#!/usr/bin/env bash
# shellcheck disable=SC2317 # functions run through lab_expect
# workloads.sh - per-workload steering of jailed bridges, then of jailed
# local users (uid:, the "wlocallab" config: see its part below) (issue 15,
# docs/WORKLOADS.md), with the ruleset of the "workloads" unit-test config
# (tests/unit/netjaild/cfgs.c) installed by nj_tool in the lab's host
# namespace: netjaild itself still refuses [workload] sections, so its
# registrations are the config's fixed ones:
#   ci   iface:br-ci*          dns_udp+dns_tcp :40053, transparent :40001
#   web  cidr:172.17.0.0/24    transparent :40002, no DNS listener
#   db   iface:br-ej           nothing registered
# Stand-ins listen (with the listener mark) on 40001 "ci", 40002 "web",
# 40053 "ci-dns", and on the defaults 15001 "connectd", 15353 "dns".
# Two extra bridges in the host namespace: br-ci0 (w8, 10.79.0.2,
# fd79::2) and docker0 (w9, 172.17.0.5, 2001:db8:17::5); w1 is on br-ej.
# ci's IPv6 TCP is registered (redirected to the bridge's address), web's
# IPv6 prefix and ci's IPv6 DNS are not.
#
# Each workload's TCP lands on its own listener, ci's DNS on its own; an
# unregistered kind (db's TCP and DNS, web's DNS) reaches no listener,
# default or other, and nothing upstream: judged by what the client got,
# by the "workload unregistered" drop counter and by lab_count.
set -eu
: "${EJ_LAB_PREFIX:=nw}"
. "${EJ_SRC:-$(dirname "$0")/../../..}/tests/lab/lib.sh"
lab_require_root
lab_need socat python3 nft curl
TOOL=$EJ_BUILD/tests/unit/netjaild/nj_tool
SI=$EJ_SRC/tests/lab/netjaild/standin.py
[ -x "$TOOL" ] || lab_die "$TOOL is not built"

lab_up

# bridge NAME ADDR NS CLIENT_ADDR ADDR6 CLIENT_ADDR6: a bridge in host
# (/24, /64), one client behind it
bridge() {
	local br=$1 a=$2 ns=${LAB_P}$3 c=$4 a6=$5 c6=$6
	ip -n "$LAB_NS_HOST" link add "$br" type bridge
	ip -n "$LAB_NS_HOST" addr add "$a/24" dev "$br"
	ip -n "$LAB_NS_HOST" link set "$br" up
	ip netns add "$ns"
	ip -n "$LAB_NS_HOST" link add "${LAB_P}-$3" type veth peer name eth0 \
		netns "$ns"
	ip -n "$LAB_NS_HOST" link set "${LAB_P}-$3" master "$br" up
	ip -n "$ns" link set lo up
	ip -n "$ns" link set eth0 up
	ip -n "$ns" addr add "$c/24" dev eth0
	ip -n "$ns" route add default via "$a"
	ip -n "$LAB_NS_HOST" addr add "$a6/64" dev "$br" nodad
	ip -n "$ns" addr add "$c6/64" dev eth0 nodad
	ip -n "$ns" route add ::/0 via "$a6"
	# what netjaild does for each jailed bridge: DNAT to 127.0.0.1
	lab_exec host sysctl -qw "net.ipv4.conf.$br.route_localnet=1"
}
bridge br-ci0 10.79.0.1 w8 10.79.0.2 fd79::1 fd79::2
bridge docker0 172.17.0.1 w9 172.17.0.5 2001:db8:17::1 2001:db8:17::5
lab_exec host sysctl -qw "net.ipv4.conf.$LAB_BR.route_localnet=1"

lab_expect "the workloads ruleset installs" lab_exec host "$TOOL" install workloads

lab_spawn nw-ci host python3 "$SI" tcp 40001 ci
lab_spawn nw-web host python3 "$SI" tcp 40002 web
lab_spawn nw-cidns host python3 "$SI" udp 40053 ci-dns
lab_spawn nw-connectd host python3 "$SI" tcp 15001 connectd
lab_spawn nw-dohd host python3 "$SI" udp 15353 dns
lab_wait_listen host 127.0.0.1 40001
lab_wait_listen host 127.0.0.1 40002
lab_wait_listen host 127.0.0.1 15001
lab_wait_udp host 127.0.0.1 40053
lab_wait_udp host 127.0.0.1 15353

tcp_from() {	# NS ADDR:PORT -> what the listener sends
	lab_exec "$1" timeout 5 socat -T3 - "TCP:$2,connect-timeout=3" </dev/null 2>/dev/null
}
udp_from() {	# NS ADDR:PORT -> what the listener answers
	echo q | lab_exec "$1" timeout 4 socat -T2 - "UDP:$2" 2>/dev/null
}
nothing() {	# CMD...: no bytes come back
	local out
	out=$("$@") || true
	echo "got: '$out'"
	[ -z "$out" ]
}
unregistered() {	# packets of the pre_nat drops "workload unregistered"
	lab_exec host nft list chain inet egressjail pre_nat |
		awk 'index($0, "comment \"workload unregistered ") {
			for (i = 1; i <= NF; i++) if ($i == "packets") n += $(i + 1) }
			END { print n + 0 }'
}

lab_count_reset
u0=$(unregistered)
lab_expect_match "ci's TCP lands on ci's listener" '^ci 127\.0\.0\.1$' \
	tcp_from w8 "$LAB_EXIT:80"
lab_expect_match "web's TCP (by its address on docker0) lands on web's" \
	'^web 127\.0\.0\.1$' tcp_from w9 "$LAB_EXIT:443"
lab_expect_match "ci's DNS over UDP lands on ci's DNS listener" '^ci-dns$' \
	udp_from w8 "$LAB_EXIT:53"
lab_expect_match "ci's IPv6 TCP lands on ci's listener (redirect)" '^ci fd79::1$' \
	tcp_from w8 "[$LAB_EXIT6]:80"
lab_expect_eq "nothing was dropped as unregistered so far" "$u0" "$(unregistered)"
lab_expect "db's TCP (nothing registered) reaches no listener" \
	nothing tcp_from w1 "$LAB_EXIT:80"
lab_expect "db's DNS reaches no listener" nothing udp_from w1 "$LAB_EXIT:53"
lab_expect "web's DNS (no dns listener) reaches no listener" \
	nothing udp_from w9 "$LAB_EXIT:53"
lab_expect "web's IPv6 TCP (its 2001:db8:17::5, only IPv4 registered) \
reaches no listener" nothing tcp_from w9 "[$LAB_EXIT6]:80"
lab_expect "ci's IPv6 DNS (only IPv4 registered) reaches no listener" \
	nothing udp_from w8 "[$LAB_EXIT6]:53"
u1=$(unregistered)
lab_expect "the unregistered drops counted every one of them" \
	test "$u1" -ge $((u0 + 5))
# (lab_count_total also counts the host's own background packets)
lab_expect_eq "no packet reached the address every client aimed at" 0 \
	"$(lab_count "$LAB_EXIT")"
lab_expect_eq "nor its IPv6 address" 0 "$(lab_count "$LAB_EXIT6")"

# ---- uid: workloads (the "wlocallab" config: jailed local users only)
#   agent  uid:ejagent  transparent :41001 (v4, v6), DNS :41053 (v4),
#                       proxy :41080 (v4); its own direct fd78::/64:5432
#   ci     uid:ejwlb    transparent :41002 (v4 only), DNS :41054 (v4, v6),
#                       proxy :41081 (v4)
#   bare   uid:ejwlc    nothing registered
#   ejwld is a jailed user no workload names: [policy]'s listeners.
# The detoured TCP carries its workload's id in the ct mark and is
# TPROXYed by it; DNS and the explicit proxy (127.0.0.1:3128) are DNATed
# by uid.  Nothing reaches the exit: every listener is a stand-in.
lab__user ejwlb
lab__user ejwlc
lab__user ejwld
lab_expect "the uid workloads ruleset installs" lab_exec host "$TOOL" install wlocallab
lab_expect "the fwmark rule and local route are in" lab_exec host "$TOOL" routes
lab_spawn nw-agent host python3 "$SI" tcp 41001 agent
lab_spawn nw-ci2 host python3 "$SI" tcp 41002 ci
lab_spawn nw-agentdns host python3 "$SI" udp 41053 agent-dns
lab_spawn nw-agentdnst host python3 "$SI" tcp 41053 agent-dnstcp
lab_spawn nw-cidns2 host python3 "$SI" udp 41054 ci-dns
lab_spawn nw-agentpx host python3 "$SI" tcp 41080 agent-proxy
lab_spawn nw-cipx host python3 "$SI" tcp 41081 ci-proxy
lab_spawn nw-proxy host python3 "$SI" tcp 3128 proxy
for p in 41001 41002 41053 41080 41081 3128; do lab_wait_listen host 127.0.0.1 $p; done
lab_wait_udp host 127.0.0.1 41053
lab_wait_udp host 127.0.0.1 41054

tcp_as() {	# USER ADDR:PORT
	lab_as "$1" host timeout 5 socat -T3 - "TCP:$2,connect-timeout=3" </dev/null 2>/dev/null
}
udp_as() {	# USER ADDR:PORT
	echo q | lab_as "$1" host timeout 4 socat -T2 - "UDP:$2" 2>/dev/null
}
wl_unreg() {	# WORKLOAD: packets of its "workload unregistered" drops
	lab_exec host nft list table inet egressjail |
		awk -v c="comment \"workload unregistered $1\"" 'index($0, c) {
			for (i = 1; i <= NF; i++) if ($i == "packets") n += $(i + 1) }
			END { print n + 0 }'
}

lab_count_reset
ci0=$(wl_unreg ci)
b0=$(wl_unreg bare)
lab_expect_match "agent's TCP lands on agent's listener" '^agent 10\.78\.0\.10$' \
	tcp_as ejagent "$LAB_EXIT:80"
lab_expect_match "agent's IPv6 TCP lands on agent's listener" '^agent fd78::10$' \
	tcp_as ejagent "[$LAB_EXIT6]:80"
lab_expect_match "ci's TCP lands on ci's listener" '^ci 10\.78\.0\.10$' \
	tcp_as ejwlb "$LAB_EXIT:443"
lab_expect_match "the [policy] user's TCP lands on [policy]'s" \
	'^connectd 10\.78\.0\.10$' tcp_as ejwld "$LAB_EXIT:80"
lab_expect_match "agent's DNS over UDP lands on agent's DNS" '^agent-dns$' \
	udp_as ejagent "$LAB_EXIT:53"
lab_expect_match "agent's DNS over TCP lands on agent's DNS" '^agent-dnstcp ' \
	tcp_as ejagent "$LAB_EXIT:53"
lab_expect_match "ci's DNS over UDP lands on ci's DNS" '^ci-dns$' \
	udp_as ejwlb "$LAB_EXIT:53"
lab_expect_match "ci's IPv6 DNS lands on ci's DNS" '^ci-dns$' \
	udp_as ejwlb "[$LAB_EXIT6]:53"
lab_expect_match "the [policy] user's DNS lands on [policy]'s" '^dns$' \
	udp_as ejwld "$LAB_EXIT:53"
lab_expect_match "agent's explicit proxy is agent's" '^agent-proxy 127\.0\.0\.1$' \
	tcp_as ejagent 127.0.0.1:3128
lab_expect_match "ci's explicit proxy is ci's" '^ci-proxy 127\.0\.0\.1$' \
	tcp_as ejwlb 127.0.0.1:3128
lab_expect_match "the [policy] user's explicit proxy is [policy]'s" \
	'^proxy 127\.0\.0\.1$' tcp_as ejwld 127.0.0.1:3128
lab_expect_eq "ci: nothing dropped as unregistered so far" "$ci0" "$(wl_unreg ci)"
lab_expect "ci's IPv6 TCP (only IPv4 registered) reaches no listener" \
	nothing tcp_as ejwlb "[$LAB_EXIT6]:80"
lab_expect "... counted" test "$(wl_unreg ci)" -gt "$ci0"
lab_expect "bare's TCP reaches no listener" nothing tcp_as ejwlc "$LAB_EXIT:80"
lab_expect "bare's DNS reaches no listener" nothing udp_as ejwlc "$LAB_EXIT:53"
lab_expect "bare's explicit proxy reaches no listener" \
	nothing tcp_as ejwlc 127.0.0.1:3128
lab_expect "bare's drops were counted (TCP, DNS, proxy)" \
	test "$(wl_unreg bare)" -ge $((b0 + 3))
lab_expect "agent reaches not ci's DNS port directly" \
	nothing udp_as ejagent 127.0.0.1:41054
lab_expect "agent reaches not ci's proxy port directly" \
	nothing tcp_as ejagent 127.0.0.1:41081
lab_expect "agent reaches not [policy]'s dohd directly" \
	nothing udp_as ejagent 127.0.0.1:15353
lab_expect "the [policy] user reaches not agent's DNS port" \
	nothing udp_as ejwld 127.0.0.1:41053
# agent's own direct endpoint (fd78::/64:5432, a plain server on
# $LAB_DIRECT6) is agent's alone: ci's TCP there is detoured (IPv6 not
# registered: dropped), the [policy] user's goes to [policy]'s connectd
lab_spawn nw-direct up python3 "$SI" plain46 "$LAB_DIRECT_PORT"
lab_wait_listen up 0.0.0.0 "$LAB_DIRECT_PORT"
lab_expect_match "agent reaches its own direct endpoint" '^upstream fd78::20$' \
	tcp_as ejagent "[$LAB_DIRECT6]:$LAB_DIRECT_PORT"
lab_expect "ci does not (its detour, IPv6 not registered)" \
	nothing tcp_as ejwlb "[$LAB_DIRECT6]:$LAB_DIRECT_PORT"
lab_expect_match "the [policy] user's TCP there goes to [policy]'s connectd" \
	"^connectd $LAB_DIRECT6\$" tcp_as ejwld "[$LAB_DIRECT6]:$LAB_DIRECT_PORT"
# escape door 1: a socket bound to the uplink skips the detour's route
lab_expect "agent bound to the uplink gets nothing" nothing \
	lab_as ejagent host timeout 5 curl -sS --max-time 3 --interface "$LAB_UPLINK" \
	"http://$LAB_EXIT:80/"
lab_expect "bare bound to the uplink gets nothing" nothing \
	lab_as ejwlc host timeout 5 curl -sS --max-time 3 --interface "$LAB_UPLINK" \
	"http://$LAB_EXIT:80/"
lab_expect_eq "no packet of a uid workload reached the exit" 0 \
	"$(lab_count "$LAB_EXIT")"
lab_expect_eq "nor its IPv6 address" 0 "$(lab_count "$LAB_EXIT6")"
lab_exec host "$TOOL" unroute >/dev/null 2>&1 || true
lab_finish
