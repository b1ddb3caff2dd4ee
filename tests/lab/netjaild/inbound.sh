#!/usr/bin/env bash
# shellcheck disable=SC2317 # functions run through lab_expect
# inbound.sh - [jail] inbound, published ports without Docker: netjaild in
# the shared lab (namespaces ni*), a server in w2 (10.77.0.3:80, fd77::3)
# "published" the way `docker run -p 8080:80` does it, by a DNAT in the
# host namespace of its uplink port 8080 (v4 and v6).  A second DNAT, 8081
# to the forbidden address, stands for a published path that leads out.
# Both DNATs run before netjaild's own (priority dstnat - 10), so a jailed
# source meets them first: the worst order Docker's rules can take.
#
# inbound = published (the default): a client in up reaches w2 through the
# uplink's 8080 (v4 and v6); routed inbound to w2's own address is dropped;
# w1 reaching 8080 (to w2) or 8081 (to the forbidden address) is dropped.
# inbound = drop: the client gets nothing either; the rest as before.
# Judged by what the client saw and by lab_count at the forbidden address.
set -eu
: "${EJ_LAB_PREFIX:=ni}"
. "${EJ_SRC:-$(dirname "$0")/../../..}/tests/lab/lib.sh"
lab_require_root
lab_need socat python3 nft
NJ=$EJ_BUILD/netjaild/netjaild
SI=$EJ_SRC/tests/lab/netjaild/standin.py
[ -x "$NJ" ] || lab_die "$NJ is not built"
F=$LAB_FORBIDDEN

lab_up
lab_start_exit

cfg=$LAB_DIR/egressjail.conf
write_config() {	# inbound mode, or - for the default
	local inbound="; inbound: the default (published)"
	[ "$1" = - ] || inbound="inbound = $1"
	cat >"$cfg" <<EOF
[jail]
interface = $LAB_BR
$inbound
runtime_dir = $LAB_DIR/run

[chain]
hop = http://$LAB_HOP_A:$LAB_HOP_PORT

[connectd]
transparent_listen = 127.0.0.1:15001

[dohd]
listen = 127.0.0.1:15353
upstream = https://doh.test$LAB_DOH_PATH $LAB_DOH

[policy]
allow = smoke.test
EOF
}

# connectd's and dohd's stand-ins, and the published server in w2
lab_spawn ni-connectd host python3 "$SI" tcp 15001
lab_spawn ni-dohd host python3 "$SI" udp 15353
lab_spawn ni-published w2 python3 "$SI" plain46 80
lab_wait_listen host 127.0.0.1 15001
lab_wait_listen w2 0.0.0.0 80

# the host's port forwards, as Docker's DOCKER chain writes them (any
# source, to a local address)
lab_exec host nft -f - <<EOF
table ip ejpublish {
	chain pre {
		type nat hook prerouting priority dstnat - 10; policy accept;
		fib daddr type local tcp dport 8080 dnat to $LAB_W2_4:80
		fib daddr type local tcp dport 8081 dnat to $F:80
	}
}
table ip6 ejpublish {
	chain pre {
		type nat hook prerouting priority dstnat - 10; policy accept;
		fib daddr type local tcp dport 8080 dnat to [$LAB_W2_6]:80
		fib daddr type local tcp dport 8081 dnat to [$LAB_FORBIDDEN6]:80
	}
}
EOF

tcp_from() {	# NS ADDR:PORT -> what the server sends
	lab_exec "$1" timeout 5 socat -T3 - "TCP:$2,connect-timeout=3" </dev/null 2>/dev/null
}
nothing_from() {	# NS ADDR:PORT: no bytes come back
	local out
	out=$(tcp_from "$@") || true
	echo "got: '$out'"
	[ -z "$out" ]
}
counter() {	# COMMENT: packets of the forward drop with that comment
	lab_exec host nft list chain inet egressjail forward |
		awk -v c="comment \"$1\"" 'index($0, c) { for (i = 1; i <= NF; i++) if ($i == "packets") print $(i + 1) }'
}

start_netjaild() {
	rm -f "$LAB_DIR/netjaild.log"
	lab_spawn netjaild host "$NJ" -c "$cfg"
	lab_retry 10 grep -q "event=ready" "$LAB_DIR/netjaild.log" || {
		sed 's/^/    | /' "$LAB_DIR/netjaild.log" >&2
		return 1
	}
}

# the checks every mode shares: nothing a jailed source opens gets through
# the published paths, and routed inbound without a DNAT stays out
jailed_paths() {	# MODE
	lab_count_reset
	lab_expect "$1: w1 -> host:8080 (published, to w2) gets nothing" \
		nothing_from w1 "$LAB_BR4:8080"
	lab_expect "$1: w1 -> uplink:8080 (published, to w2) gets nothing" \
		nothing_from w1 "$LAB_HOSTUP4:8080"
	lab_expect "$1: w1 -> uplink:8081 (published, to $F) gets nothing" \
		nothing_from w1 "$LAB_HOSTUP4:8081"
	lab_expect "$1: w1 -> [uplink6]:8081 (published, to $LAB_FORBIDDEN6) gets nothing" \
		nothing_from w1 "[$LAB_HOSTUP6]:8081"
	lab_expect_eq "$1: nothing reached $F" 0 "$(lab_count "$F")"
	lab_expect_eq "$1: nothing reached $LAB_FORBIDDEN6" 0 "$(lab_count "$LAB_FORBIDDEN6")"
	lab_expect "$1: up -> $LAB_W2_4:80 (routed, no DNAT) gets nothing" \
		nothing_from up "$LAB_W2_4:80"
	lab_expect "$1: up -> [$LAB_W2_6]:80 (routed, no DNAT) gets nothing" \
		nothing_from up "[$LAB_W2_6]:80"
}

lab_expect_match "w2's server answers on its own namespace" '^upstream' tcp_from w2 "127.0.0.1:80"
lab_expect_match "before the jail, up reaches w2 through the uplink's 8080" '^upstream' \
	tcp_from up "$LAB_HOSTUP4:8080"

# ---------------------------------------------------------------- published
write_config -
lab_expect "netjaild starts (inbound unset: published)" start_netjaild
lab_expect_match "the forward chain accepts DNATed inbound" \
	'oifname @jailed_ifaces ct status dnat accept' lab_exec host nft list chain inet egressjail forward
lab_expect_match "published: up -> uplink:8080 reaches w2" '^upstream' tcp_from up "$LAB_HOSTUP4:8080"
lab_expect_match "published: up -> [uplink6]:8080 reaches w2" '^upstream' tcp_from up "[$LAB_HOSTUP6]:8080"
fwd0=$(counter "bridge forward")
jailed_paths published
lab_expect "published: the bridge forward drop counted w1's tries" \
	test "$(counter "bridge forward")" -gt "$fwd0"

# ---------------------------------------------------------------- drop
write_config drop
kill -HUP "$(cat "$LAB_DIR/netjaild.pid")"
lab_expect "SIGHUP reloads with inbound = drop" \
	lab_retry 5 grep -q "event=reload result=ok generation=2" "$LAB_DIR/netjaild.log"
lab_expect_fail "drop: no DNATed inbound accept" \
	lab_exec host sh -c 'nft list chain inet egressjail forward | grep -q "ct status dnat"'
in0=$(counter "bridge inbound")
lab_expect "drop: up -> uplink:8080 gets nothing" nothing_from up "$LAB_HOSTUP4:8080"
lab_expect "drop: up -> [uplink6]:8080 gets nothing" nothing_from up "[$LAB_HOSTUP6]:8080"
lab_expect "drop: the bridge inbound drop counted it" \
	test "$(counter "bridge inbound")" -gt "$in0"
jailed_paths drop

lab_expect "netjaild still running" lab_alive netjaild
lab_finish
