#!/usr/bin/env bash
# links.sh - jailed bridges that appear after netjaild started, by exact
# name and by pattern, with stand-ins for connectd (IP_TRANSPARENT listener
# on 127.0.0.1:15001) and dohd (UDP 127.0.0.1:15353) as in jail.sh.  Proves:
# a bridge created later under a jailed name is set up within a second
# (route_localnet, so the DNAT to the 127.0.0.1 listeners works: its
# workload's TCP reaches the connectd stand-in and its DNS the dohd
# stand-in) and named in the status; deleted and created again, it is set
# up again; one created while netjaild cannot act is shut (nothing leaks)
# until netjaild catches up; a bridge that matches nothing is left alone
# (route_localnet untouched, not in the jailed set, its traffic routed
# as before); a reload that no longer jails a bridge gives it back as found;
# a set-up that fails (read-only /proc/sys) leaves netjaild running, not
# ready and the bridge shut, and is done once it can be.
set -eu
: "${EJ_LAB_PREFIX:=njl}"
. "${EJ_SRC:-$(dirname "$0")/../../..}/tests/lab/lib.sh"
lab_require_root
lab_need socat python3 nft curl
CTL=$EJ_BUILD/egressctl/egressctl
. "$EJ_SRC/tests/lab/netjaild/common.sh"

lab_up
lab_users
lab_start_exit

cfg=$LAB_DIR/egressjail.conf
write_config() {	# interface entries...
	local i a=()
	for i in "$@"; do a+=("interface = $i"); done
	nj_config "$cfg" "${a[@]}"
}
nj_standins
start_netjaild() { nj_start "$cfg"; }

# bridge NAME N: create bridge NAME in the host namespace with 10.8N.0.1/24
# and a workload namespace wN (10.8N.0.2) on it, routed back from up
bridge() {
	local br=$1 n=$2 ns=${LAB_P}w$2
	# when it was made, against netjaild's iface_set_up (the latency)
	echo "$br $(date -u +%H:%M:%S.%3N)" >>"$LAB_DIR/made.log"
	ip -n "$LAB_NS_HOST" link add name "$br" type bridge stp_state 0 forward_delay 0
	ip -n "$LAB_NS_HOST" addr add "10.8$n.0.1/24" dev "$br"
	ip -n "$LAB_NS_HOST" link set "$br" up
	ip netns del "$ns" 2>/dev/null || true
	ip netns add "$ns"
	ip -n "$LAB_NS_HOST" link add name "${LAB_P}-w$n" type veth peer name eth0 netns "$ns"
	ip -n "$LAB_NS_HOST" link set "${LAB_P}-w$n" master "$br" up
	ip -n "$ns" -b - <<EOF
link set lo up
link set eth0 up
addr add 10.8$n.0.2/24 dev eth0
route add default via 10.8$n.0.1
EOF
	ip -n "$LAB_NS_UP" route replace "10.8$n.0.0/24" via "$LAB_HOSTUP4"
}
unbridge() {	# NAME N (the veth first: a namespace is torn down late)
	ip -n "$LAB_NS_HOST" link del "${LAB_P}-w$2"
	ip -n "$LAB_NS_HOST" link del "$1"
	ip netns del "${LAB_P}w$2" 2>/dev/null || true
}

rln() { lab_exec host cat "/proc/sys/net/ipv4/conf/$1/route_localnet"; }
# set_up_within MS BRIDGE: route_localnet turns 1 within MS ms of now
set_up_within() {
	local end=$(($(lab_ms) + $1))
	while [ "$(lab_ms)" -le "$end" ]; do
		[ "$(rln "$2" 2>/dev/null)" = 1 ] && return 0
		sleep 0.01
	done
	return 1
}
tcp_from() {	# NS ADDR:PORT -> the first line the server sends
	lab_exec "$1" timeout 5 socat -T3 - "TCP:$2,connect-timeout=3" </dev/null
}
status() { lab_exec host "$CTL" -c "$cfg" status 2>&1 || true; }
leaked() {
	local a n=0
	for a in "$LAB_EXIT" "$LAB_FORBIDDEN" "$LAB_INET4"; do
		n=$((n + $(lab_count "$a")))
	done
	echo $n
}
# jailed N BRIDGE: workload wN on BRIDGE is jailed and its jail works
jailed() {
	local n=$1 br=$2
	lab_count_reset
	lab_expect_match "$br: TCP to any address reaches the connectd stand-in" \
	    '^connectd 127\.0\.0\.1' tcp_from "w$n" "$LAB_EXIT:80"
	lab_expect_match "$br: DNS to any server reaches the dohd stand-in" '^dns' \
	    lab_udp "w$n" "$LAB_FORBIDDEN" 53
	lab_expect_fail "$br: UDP elsewhere gets nothing" lab_udp "w$n" "$LAB_FORBIDDEN" 443
	lab_expect_eq "$br: upstream saw nothing of it" 0 "$(leaked)"
}

# ---- exact names: a bridge named in the config, created after the start
lab_log "scenario: exact names"
write_config "$LAB_BR" hkdock0
lab_expect "netjaild starts with hkdock0 absent" start_netjaild
lab_expect_match "status: br-ej is up and set up" 'jailed_ifaces=br-ej$' status
bridge hkdock0 3
lab_expect "hkdock0 created after the start is set up within a second" set_up_within 1000 hkdock0
jailed 3 hkdock0
lab_expect "netjaild logged its set-up" grep -q 'event=iface_set_up iface=hkdock0' "$LAB_DIR/netjaild.log"
lab_expect_match "status names it" 'jailed_ifaces=br-ej hkdock0$' status
lab_expect_match "netjaild ready" '^netjaild: ready' status

# deleted and created again: a new link, set up again
unbridge hkdock0 3
lab_expect "deletion is seen" lab_retry 2 grep -q 'event=iface_gone iface=hkdock0' "$LAB_DIR/netjaild.log"
lab_expect_match "status no longer names it" 'jailed_ifaces=br-ej$' status
bridge hkdock0 3
lab_expect "hkdock0 re-created is set up again within a second" set_up_within 1000 hkdock0
jailed 3 hkdock0
lab_expect_eq "two set-ups logged" 2 "$(grep -c 'event=iface_set_up iface=hkdock0' "$LAB_DIR/netjaild.log")"
lab_stop netjaild
lab_exec host "$NJ" -c "$cfg" --uninstall >/dev/null 2>&1
unbridge hkdock0 3

# ---- patterns
lab_log "scenario: patterns"
write_config 'br-*' hkdock0
lab_expect "netjaild starts with br-*" start_netjaild
lab_expect_match "the table matches names by pattern" 'flags interval' \
    lab_exec host nft list set inet egressjail jailed_ifaces
lab_expect_match "status: br-ej (by the pattern) is up and set up" 'jailed_ifaces=br-ej$' status
jailed 1 "$LAB_BR"
bridge br-1a2b3c 4
lab_expect "br-1a2b3c created after the start is set up within a second" set_up_within 1000 br-1a2b3c
jailed 4 br-1a2b3c
lab_expect_match "status names it" 'jailed_ifaces=br-ej br-1a2b3c$' status

# a bridge that matches nothing is left alone: not in the set, so no rule
# of the table (DNAT, drop) can match it; UDP a jailed bridge may not send
# reaches upstream
bridge other0 5
sleep 0.5
lab_expect_eq "other0: route_localnet untouched" 0 "$(rln other0)"
lab_expect_fail "other0: not in the jailed set" lab_exec host nft get element inet egressjail jailed_ifaces '{ "other0" }'
lab_expect "... br-1a2b3c is" lab_exec host nft get element inet egressjail jailed_ifaces '{ "br-1a2b3c" }'
lab_expect_match "other0: its traffic is routed as before (the real exit answers)" \
    'exit-ok' lab_curl w5 "http://$LAB_EXIT/"
lab_count_reset
lab_udp w5 "$LAB_FORBIDDEN" 443 >/dev/null || true
lab_expect "other0: its UDP 443 is not dropped (it reaches upstream)" test "$(lab_count "$LAB_FORBIDDEN" udp 443)" -gt 0
lab_expect_fail "other0: not named in the status" sh -c "ip netns exec $LAB_NS_HOST $CTL -c $cfg status | grep -q 'jailed_ifaces=.*other0'"

# created while netjaild cannot act: shut, never open, until it catches up
kill -STOP "$(cat "$LAB_DIR/netjaild.pid")"
unbridge br-1a2b3c 4
bridge br-1a2b3c 4
lab_count_reset
lab_expect "frozen netjaild: the new bridge is not set up" test "$(rln br-1a2b3c)" = 0
lab_expect "... its TCP gets nothing" sh -c "! ip netns exec ${LAB_P}w4 timeout 4 socat -T2 - TCP:$LAB_EXIT:80,connect-timeout=2 </dev/null 2>/dev/null | grep -q ."
lab_expect_fail "... its DNS gets nothing" lab_udp w4 "$LAB_FORBIDDEN" 53
lab_expect_eq "... and nothing leaked upstream" 0 "$(leaked)"
kill -CONT "$(cat "$LAB_DIR/netjaild.pid")"
lab_expect "netjaild resumed: set up within a second" set_up_within 1000 br-1a2b3c
jailed 4 br-1a2b3c

# a reload that drops the pattern gives the bridges back as found
write_config hkdock0
kill -HUP "$(cat "$LAB_DIR/netjaild.pid")"
lab_expect "reload" lab_retry 5 grep -q "event=reload result=ok generation=2" "$LAB_DIR/netjaild.log"
lab_expect_eq "no longer jailed: br-1a2b3c's route_localnet as found" 0 "$(rln br-1a2b3c)"
lab_expect_match "status names none" 'jailed_ifaces=-$' status

lab_stop netjaild
lab_exec host "$NJ" -c "$cfg" --uninstall >/dev/null 2>&1

# ---- a set-up that fails (/proc/sys read-only, as a unit's ProcSubset=pid
# makes it): netjaild runs, says why it is not ready, keeps the bridge
# shut, and sets it up once it can
lab_log "scenario: set-up fails"
write_config "$LAB_BR"
lab_exec host sysctl -qw "net.ipv4.conf.$LAB_BR.route_localnet=0"
rm -f "$LAB_DIR/netjaild.log"
lab_spawn netjaild host unshare -m sh -c "mount -o bind,ro /proc/sys /proc/sys && exec $NJ -c $cfg"
lab_expect "netjaild starts all the same" lab_retry 10 grep -q "event=ready" "$LAB_DIR/netjaild.log"
lab_expect "the failure is logged" grep -q "event=iface_setup_failed iface=$LAB_BR" "$LAB_DIR/netjaild.log"
lab_expect_match "status: not ready, and why" "^netjaild: not ready.*interface $LAB_BR not set up: route_localnet" status
lab_expect_match "status: the bridge is named as failed" "jailed_ifaces_failed=$LAB_BR\$" status
lab_count_reset
lab_expect "its TCP gets nothing" sh -c "! ip netns exec ${LAB_P}w1 timeout 4 socat -T2 - TCP:$LAB_EXIT:80,connect-timeout=2 </dev/null 2>/dev/null | grep -q ."
lab_expect_eq "nothing leaked upstream" 0 "$(leaked)"
lab_expect_eq "said once, not every retry" 1 "$(sleep 6; grep -c 'event=iface_setup_failed' "$LAB_DIR/netjaild.log")"
nsenter -t "$(cat "$LAB_DIR/netjaild.pid")" -m mount -o remount,bind,rw /proc/sys
lab_expect "writable again: set up within the 5 s retry" set_up_within 6000 "$LAB_BR"
lab_expect_match "ready" '^netjaild: ready' status
jailed 1 "$LAB_BR"
lab_stop netjaild
lab_exec host "$NJ" -c "$cfg" --uninstall >/dev/null 2>&1
lab_finish
