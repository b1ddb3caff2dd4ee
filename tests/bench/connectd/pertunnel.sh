#!/usr/bin/env bash
# tests/bench/connectd/pertunnel.sh - what one short tunnel costs the
# kernel, proxy by proxy: TCP segments on the wire (by sender, and how
# many are pure ACKs) and the proxy's syscalls, per tunnel.  The CPU
# figures of bench.sh say how much; this says why.  Root only; one
# network namespace of its own, everything on its loopback.
#
#   EJ_BUILD=build-dir tests/bench/connectd/pertunnel.sh [SECONDS]
#
# EJ_PT_IMPLS="connectd-log floor tinyproxy-quiet" picks the proxies
# (also: connectd, connectd-base, connectd-base-log with EJ_CONNECTD_BASE).
# EJ_PT_CLIENTS (default 32) clients, cd_connrate -m hello as in bench.sh.
# For each proxy: one run under tcpdump (segments), one under strace -c
# -f (syscalls; strace slows the proxy, the counts per tunnel stand).
# Output: one "PT impl=... key=value ..." line per proxy on stdout.
set -u
secs=${1:-2}
clients=${EJ_PT_CLIENTS:-32}
[ "$(id -u)" -eq 0 ] || { echo "pertunnel: needs root" >&2; exit 77; }
here=$(cd "$(dirname "$0")" && pwd)
SRC=${EJ_SRC:-$(cd "$here/../../.." && pwd)}
B=${EJ_BUILD:-build}
case $B in /*) ;; *) B=$SRC/$B ;; esac
CONNECTD=${EJ_CONNECTD:-$B/connectd/connectd}
TOOLS=$B/tests/bench/connectd
FAKEPEER=$SRC/tests/lab/connectd/fakepeer.py
IMPLS=${EJ_PT_IMPLS:-"connectd-log floor tinyproxy-quiet"}
NS=${EJ_LAB_PREFIX:-}pt$$
T=$(mktemp -d /tmp/cdpt.XXXXXX)
chmod 755 "$T"
PIDS=""
cleanup() {
	local p
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.3
	ip netns pids "$NS" 2>/dev/null | xargs -r kill -9 2>/dev/null
	wait 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "/etc/netns/$NS"
	[ -n "${EJ_KEEP:-}" ] && echo "kept $T" >&2 || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
nsx() { ip netns exec "$NS" "$@"; }
# ip netns exec execs the command: $! is the daemon itself
bg() { local log=$1; shift; ip netns exec "$NS" "$@" >"$log" 2>&1 & LASTPID=$!; PIDS="$PIDS $!"; }
wait_port() {
	local i
	for i in $(seq 100); do
		nsx bash -c "exec 5<>/dev/tcp/127.0.0.1/$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

ip netns add "$NS" || exit 1
ip -n "$NS" link set lo up
nsx sysctl -qw net.ipv4.ip_local_port_range="10000 65535" net.core.somaxconn=8192 \
    net.ipv4.tcp_max_syn_backlog=8192 net.ipv4.tcp_tw_reuse=1
mkdir -p "/etc/netns/$NS"
printf '127.0.0.1 localhost\n127.0.0.2 sink.bench\n' >"/etc/netns/$NS/hosts"
bg "$T/sink.log" "$TOOLS/cd_sink" -t 2 -p 32 127.0.0.2 9000
sleep 0.5

declare -A PORT PID
start_connectd() {	# NAME PORT LOG BIN
	local d=$T/$1
	mkdir -p "$d/run"
	chmod 777 "$d/run"
	echo 1 >"$d/ready"
	bg "$d/nj.log" python3 "$FAKEPEER" "$d/run" netjaild "$d/ready"
	bg "$d/dohd.log" python3 "$FAKEPEER" "$d/run" dohd "$d/ready" "sink.bench=127.0.0.2"
	DOHD=$LASTPID
	for _ in $(seq 50); do [ -S "$d/run/dohd.sock" ] && [ -S "$d/run/netjaild.sock" ] && break; sleep 0.1; done
	cat >"$d/egressjail.conf" <<EOF
[jail]
interface = cb0
group = nogroup
runtime_dir = $d/run

[netjaild]
user = nobody

[chain]
exit = direct
canary = sink.bench:9002
connect_timeout = 5s

[connectd]
user = nobody
proxy_listen = 127.0.0.1:$2
max_connections = 4096
drain_timeout = 1s
access_log = $3

[dohd]
user = nobody
upstream = https://dns.invalid/dns-query 192.0.2.53

[policy]
allow = sink.bench:9000-9002
permit_cidr = 127.0.0.2/32
EOF
	bg "$d/connectd.log" "$4" -c "$d/egressjail.conf"
	PID[$1]=$LASTPID PORT[$1]=$2
	wait_port "$2"
}
for impl in $IMPLS; do
	case $impl in
	connectd) start_connectd "$impl" 3128 no "$CONNECTD" ;;
	connectd-log) start_connectd "$impl" 3130 yes "$CONNECTD" ;;
	connectd-base) start_connectd "$impl" 3134 no "${EJ_CONNECTD_BASE:?}" ;;
	connectd-base-log) start_connectd "$impl" 3135 yes "${EJ_CONNECTD_BASE:?}" ;;
	floor)
		bg "$T/floor.log" "$TOOLS/cd_floor" 127.0.0.1:3133 127.0.0.2:9001
		PID[$impl]=$LASTPID PORT[$impl]=3133
		wait_port 3133 ;;
	tinyproxy-quiet)
		mkdir -p "$T/tp"; chmod 777 "$T/tp"
		cat >"$T/tp/tp.conf" <<EOF
User tinyproxy
Group tinyproxy
Port 3152
Listen 127.0.0.1
Timeout 600
LogFile "$T/tp/tinyproxy.log"
LogLevel Warning
PidFile "$T/tp/tinyproxy.pid"
MaxClients 100
Allow 127.0.0.1
EOF
		bg "$T/tp/stderr.log" tinyproxy -d -c "$T/tp/tp.conf"
		PID[$impl]=$LASTPID PORT[$impl]=3152
		wait_port 3152 ;;
	*) echo "pertunnel: unknown impl $impl" >&2; exit 2 ;;
	esac
done

rate() {	# PORT [WARMUP]: run the clients, print cd_connrate's line
	nsx "$TOOLS/cd_connrate" -m hello -w "${2:-0.3}" "127.0.0.1:$1" sink.bench:9001 "$clients" "$secs" 2>&1
}
field() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n1; }

for impl in $IMPLS; do
	port=${PORT[$impl]}
	rate "$port" >/dev/null	# warm
	# User and system CPU per tunnel, nothing attached (every thread of
	# the process: /proc/PID/stat).
	ut0=$(awk '{ print $14, $15 }' "/proc/${PID[$impl]}/stat")
	out0=$(rate "$port" 0)
	ut1=$(awk '{ print $14, $15 }' "/proc/${PID[$impl]}/stat")
	cpu=$(awk -v a="$ut0" -v b="$ut1" -v t="$(field tunnels "$out0")" -v hz="$(getconf CLK_TCK)" 'BEGIN {
		split(a, x, " "); split(b, y, " ")
		if (t > 0) printf "user_us=%.1f sys_us=%.1f", (y[1] - x[1]) * 1e6 / hz / t, (y[2] - x[2]) * 1e6 / hz / t }')
	# Segments: every TCP segment on lo over a whole run, by sender.
	nsx tcpdump -i lo -nn -s 96 -B 65536 -w "$T/$impl.pcap" tcp 2>"$T/$impl.tcpdump" &
	tpid=$!
	sleep 1
	out=$(rate "$port")
	sleep 0.5
	kill "$tpid"; wait "$tpid" 2>/dev/null
	# tunnels started in the capture: SYNs to the proxy port
	seg=$(tcpdump -nn -r "$T/$impl.pcap" 2>/dev/null | awk -v P="$port" '
	{
		split($3, s, "."); split($5, d, "."); sp = s[5]; dp = d[5]; sub(":", "", dp)
		flags = $7; len = $NF + 0
		if (dp == P) who = "client"; else if (sp == P || dp == 9001) who = "proxy"; else if (sp == 9001) who = "sink"; else next
		if (dp == P && flags == "[S],") tun++
		n[who]++
		if (len == 0 && flags == "[.],") ack[who]++
		if (flags ~ /F/) fin[who]++
		tot++
	}
	END {
		printf "tunnels_seen=%d segs=%.2f proxy=%.2f proxy_acks=%.2f client=%.2f client_acks=%.2f sink=%.2f sink_acks=%.2f", tun, tot/tun, n["proxy"]/tun, ack["proxy"]/tun, n["client"]/tun, ack["client"]/tun, n["sink"]/tun, ack["sink"]/tun
	}')
	drop=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$T/$impl.tcpdump")
	# Syscalls of every thread of the proxy over one run.
	pids=${PID[$impl]}
	args=""
	for p in ${pids//,/ }; do args="$args -p $p"; done
	# shellcheck disable=SC2086
	strace -c -f -o "$T/$impl.strace" $args 2>/dev/null &
	spid=$!
	sleep 1
	out2=$(rate "$port" 0)
	kill -INT "$spid"; wait "$spid" 2>/dev/null
	tun2=$(field tunnels "$out2")
	calls=$(awk '
	$NF ~ /^[a-z_0-9]+$/ && $NF != "total" && $1 ~ /^[0-9.]+$/ {
		# % time, seconds, usecs/call, calls, [errors], syscall
		c = (NF == 6) ? $4 : $4; tot += c; per[$NF] = c
	}
	END {
		t = per["connect"]	# one per tunnel: accept4 counts its EAGAINs too
		if (t == 0) { print "syscalls=-"; exit }
		printf "syscalls=%.1f", tot / t
		for (s in per) if (per[s] / t >= 0.05) printf " %s=%.2f", s, per[s] / t
	}' "$T/$impl.strace")
	echo "PT impl=$impl clients=$clients rate=$(field per_s "$out0") $cpu $seg pcap_dropped=${drop:-?} strace_tunnels=${tun2:-0} $calls"
done
