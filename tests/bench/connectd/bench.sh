#!/usr/bin/env bash
# tests/bench/connectd/bench.sh - connectd against squid and tinyproxy,
# every peer in the same run, alternating within each round; medians over
# the rounds.  Root only; everything runs in one network namespace made
# here (cb<pid>), on its loopback.
#
#   EJ_BUILD=build-dir tests/bench/connectd/bench.sh [--quick] [--rounds N]
#
# EJ_CD_WORKLOADS="connrate-c64 ..." runs only those workloads.
# EJ_CD_IMPLS="connectd floor ..." measures only those impls.
# EJ_CONNECTD_BASE=path adds a second connectd binary (impls connectd-base
# and connectd-base-log, in relay-1hop, connrate-* and idle-9000), the way
# to measure a change before and after in the same run.
# EJ_CONNECTD=path measures another connectd binary (the tools still come
# from EJ_BUILD); EJ_KEEP=1 keeps the run directory (configs, logs, raw
# per-round figures in results/).  A full run (5 rounds) takes about 9
# minutes, --quick (one short round, only to see that it works) about 1.
#
# Workloads (issue #8):
#   relay-1hop    one bulk stream (cd_bulk -m down: the sink writes, the
#                 client reads, the way egress traffic mostly flows) to
#                 cd_sink through: nothing (direct), connectd (exit =
#                 direct), squid, tinyproxy.  MiB/s after a warm-up.
#   relay-2hop    the same through two proxies: connectd -> connectd
#                 (exit = direct), squid -> squid (cache_peer parent,
#                 never_direct), tinyproxy -> tinyproxy (Upstream http),
#                 and, for information, connectd -> squid.
#   connrate-c32  short CONNECT tunnels per second, closed loop, 32 and
#   connrate-c64  64 clients (cd_connrate, epoll), to cd_sink's hello port
#                 (writes 32 bytes and closes); time to first byte p50 and
#                 p99 from connect start to the first payload byte.  Impls:
#                 direct (the rig's and the load generator's ceiling),
#                 connectd (access log off), connectd-log (access log on,
#                 to a file), tinyproxy, squid, and floor (cd_floor: a
#                 trivial CONNECT relay, no policy, no log: the kernel's
#                 share of a proxied tunnel).  Each proxy's CPU per
#                 counted tunnel too: user + system time of every process
#                 on its path (connectd and its dohd stand-in, squid and
#                 its log helper, tinyproxy and its threads) over the
#                 counted window, read by cd_connrate from /proc.
#   idle-9000     9,000 idle tunnels held open (cd_idle) through a fresh
#                 instance of connectd, tinyproxy and squid; the proxy's
#                 RSS before and after, per tunnel.
#
# The target is reached by name everywhere: sink.bench is 127.0.0.2 in
# /etc/netns/<ns>/hosts (ip netns exec binds it over /etc/hosts), so
# squid (hosts_file) and tinyproxy (getaddrinfo) read it there and
# cd_bulk/cd_connrate resolve it there for the direct path; connectd
# asks dohd, stood in for by the lab's fakepeer.py with the same answer
# (connectd caches it for its 60 s TTL).  connectd refuses loopback
# targets unless permitted: its config says permit_cidr = 127.0.0.2/32
# (127.0.0.2 is not an interface address, so host_addr does not apply).
#
# Peers, configured the way they are usually run (written out below):
#   connectd   [chain] exit = direct (or one hop), default probe settings,
#              allow = sink.bench:9000-9002, access_log = no, except
#              connectd-log (access_log = yes, stderr to a file in the run
#              directory); max_connections = 20000 for idle-9000.
#   squid      one process (-N: the master is the worker), cache deny all
#              and no cache_dir (CONNECT is never cached anyway), access
#              log on as Debian ships it (daemon: logger helper, squid
#              format), pinger off, max_filedescriptors 20000.
#   tinyproxy  Debian's shipped config but for the port: LogLevel Info to
#              a file (tinyproxy fsyncs every log line), MaxClients 100,
#              Timeout 600, Allow 127.0.0.1, User/Group tinyproxy;
#              MaxClients 10000 for idle-9000.
# Logs go to the run directory under /tmp (a real disk here, so fsync
# costs what it costs).  Every process gets ulimit -n 20000.
#
# stdout: RESULT and NOTE lines, and a table whose lines start with "# ";
# everything else goes to stderr.
#   RESULT bench=connectd workload=W impl=I metric=M value=V unit=U
#          better=higher|lower runs=N
set -u

rounds=5 quick=0
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1 rounds=1 ;;
	--rounds) rounds=${2:?--rounds N}; shift ;;
	--rounds=*) rounds=${1#--rounds=} ;;
	*) echo "usage: $0 [--quick] [--rounds N]" >&2; exit 2 ;;
	esac
	shift
done
case $rounds in '' | *[!0-9]* | 0) echo "--rounds: a positive number" >&2; exit 2 ;; esac
if [ "$quick" -eq 1 ]; then
	bulk_secs=1 bulk_warm=0.2 rate_secs=1 rate_warm=0.3
else
	bulk_secs=3 bulk_warm=0.5 rate_secs=3 rate_warm=1
fi
IDLE_N=9000

# stdout is for RESULT/NOTE/"# " lines only.
exec 3>&1 1>&2
say() { printf '%s\n' "$*" >&3; }
note() { say "NOTE $*"; }

if [ "$(id -u)" -ne 0 ]; then
	note "connectd bench: needs root (network namespaces), nothing measured"
	exit 77
fi
here=$(cd "$(dirname "$0")" && pwd)
SRC=${EJ_SRC:-$(cd "$here/../../.." && pwd)}
B=${EJ_BUILD:-build}
case $B in /*) ;; *) B=$SRC/$B ;; esac
CONNECTD=${EJ_CONNECTD:-$B/connectd/connectd}
CONNECTD_BASE=${EJ_CONNECTD_BASE:-}
[ -z "$CONNECTD_BASE" ] || [ -x "$CONNECTD_BASE" ] || { note "connectd bench: EJ_CONNECTD_BASE=$CONNECTD_BASE is not an executable"; exit 1; }
TOOLS=$B/tests/bench/connectd
FAKEPEER=$SRC/tests/lab/connectd/fakepeer.py
for f in "$CONNECTD" "$TOOLS/cd_sink" "$TOOLS/cd_bulk" "$TOOLS/cd_connrate" "$TOOLS/cd_idle" "$TOOLS/cd_floor"; do
	[ -x "$f" ] || { note "connectd bench: $f not built, nothing measured"; exit 1; }
done
[ -f "$FAKEPEER" ] || { note "connectd bench: $FAKEPEER missing"; exit 1; }
for t in ip squid tinyproxy python3 timeout; do
	command -v "$t" >/dev/null 2>&1 || { note "connectd bench: $t not installed, nothing measured"; exit 77; }
done
if ! ulimit -n 20000 2>/dev/null; then
	note "connectd bench: cannot set ulimit -n 20000 (hard limit $(ulimit -Hn)); idle-9000 may fail"
	ulimit -n "$(ulimit -Hn)"
fi

# Unique even if another run somewhere has the same pid; deleted at the
# end only if this run made it.
NS=${EJ_LAB_PREFIX:-}cb$$r$RANDOM
NS_MADE=0
T=$(mktemp -d /tmp/cbbench.XXXXXX)
chmod 755 "$T"
R=$T/results
mkdir -p "$R"
declare -A PID=()
ALLPIDS=""

# shellcheck disable=SC2317 # run by the trap
cleanup() {
	trap '' PIPE HUP INT TERM
	local p
	{
		for p in $ALLPIDS; do kill "$p"; done
		sleep 0.3
		for p in $ALLPIDS; do kill -9 "$p"; done
		if [ "$NS_MADE" -eq 1 ]; then
			ip netns pids "$NS" | xargs -r kill -9
		fi
		wait
		if [ "$NS_MADE" -eq 1 ]; then
			ip netns del "$NS"
			rm -rf "/etc/netns/$NS"
		fi
	} 2>/dev/null
	if [ -n "${EJ_KEEP:-}" ]; then echo "kept $T" >&2; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

nsx() { ip netns exec "$NS" "$@"; }
# bgrun NAME LOG COMMAND...: start in the namespace (ip netns exec execs
# the command, so $! is the daemon itself)
bgrun() {
	local name=$1 log=$2
	shift 2
	ip netns exec "$NS" "$@" >"$log" 2>&1 &
	PID[$name]=$!
	ALLPIDS="$ALLPIDS $!"
}
stop() {
	local p=${PID[$1]:-} i
	[ -n "$p" ] || return 0
	kill "$p" 2>/dev/null
	for i in $(seq 30); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	unset "PID[$1]"
}
# wait_port PORT SECONDS: something accepts on 127.0.0.1:PORT
wait_port() {
	local i
	for i in $(seq $(($2 * 10))); do
		nsx bash -c "exec 5<>/dev/tcp/127.0.0.1/$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# wait_file FILE PATTERN SECONDS [PID]: PATTERN shows up in FILE
wait_file() {
	local i
	for i in $(seq $(($3 * 10))); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		if [ -n "${4:-}" ] && ! kill -0 "$4" 2>/dev/null; then
			grep -q "$2" "$1" 2>/dev/null
			return
		fi
		sleep 0.1
	done
	return 1
}
# field NAME LINE: the value of NAME=value in LINE
field() { printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n1; }

# ---- the namespace
ip netns add "$NS" || { note "connectd bench: ip netns add $NS failed"; exit 1; }
NS_MADE=1
ip -n "$NS" link set lo up
# Ephemeral ports above every listener here (3128-3162, 9000-9003): a
# client's port must never take a port a proxy is about to listen on.
nsx sysctl -qw net.ipv4.ip_local_port_range="10000 65535" net.core.somaxconn=8192 \
    net.ipv4.tcp_max_syn_backlog=8192 net.ipv4.tcp_tw_reuse=1
mkdir -p "/etc/netns/$NS"
printf '127.0.0.1 localhost\n127.0.0.2 sink.bench\n' >"/etc/netns/$NS/hosts"
TARGET=sink.bench

# ---- the target servers
bgrun sink "$T/sink.log" "$TOOLS/cd_sink" -t 2 -p 32 127.0.0.2 9000
wait_file "$T/sink.log" "sink ready" 5 || { note "connectd bench: cd_sink did not start: $(cat "$T/sink.log")"; exit 1; }

# sink_stat: "bulk=N hold=M", what cd_sink has open
sink_stat() { nsx bash -c 'exec 5<>/dev/tcp/127.0.0.2/9003 && cat <&5' 2>/dev/null; }
# quiesce WHAT: wait (10 s at most) until the sink has no bulk stream open:
# a proxy may keep pumping a finished stream's upstream side for a while,
# and the next path must not share the machine with it.
quiesce() {
	local i st=""
	for i in $(seq 100); do
		st=$(sink_stat)
		case $st in bulk=0\ *) [ "$i" -le 11 ] || note "$1: the sink's side of the stream stayed open $(((i - 1) / 10)) s after the client left"; return 0 ;; esac
		sleep 0.1
	done
	note "$1: the sink's side of the stream is still open 10 s after the client left ($st); the next run shares the machine with it"
}

# ---- connectd: NAME PORT ACCESSLOG(yes|no) MAXCONN HOP|direct [CHAIN-LINE]
start_connectd() {
	local name=$1 port=$2 log=$3 maxconn=$4 hop=$5 extra=${6:-} d=$T/$1
	mkdir -p "$d/run"
	chmod 777 "$d/run"
	echo 1 >"$d/ready"
	bgrun "$name-nj" "$d/netjaild.log" python3 "$FAKEPEER" "$d/run" netjaild "$d/ready"
	bgrun "$name-dohd" "$d/dohd.log" python3 "$FAKEPEER" "$d/run" dohd "$d/ready" "$TARGET=127.0.0.2"
	local i
	for i in $(seq 50); do
		[ -S "$d/run/dohd.sock" ] && [ -S "$d/run/netjaild.sock" ] && break
		sleep 0.1
	done
	{
		printf '[jail]\ninterface = cb0\ngroup = nogroup\nruntime_dir = %s\n\n' "$d/run"
		printf '[netjaild]\nuser = nobody\n\n[chain]\n'
		if [ "$hop" = direct ]; then
			printf 'exit = direct\n'
		else
			printf 'hop = %s\n' "$hop"
		fi
		cat <<EOF
canary = $TARGET:9002
connect_timeout = 5s
$extra

[connectd]
user = nobody
proxy_listen = 127.0.0.1:$port
max_connections = $maxconn
drain_timeout = 1s
access_log = $log

[dohd]
user = nobody
upstream = https://dns.invalid/dns-query 192.0.2.53

[policy]
allow = $TARGET:9000-9002
permit_cidr = 127.0.0.2/32
EOF
	} >"$d/egressjail.conf"
	bgrun "$name" "$d/connectd.log" "${CD_BIN:-$CONNECTD}" -c "$d/egressjail.conf"
	wait_port "$port" 10
}
stop_connectd() { stop "$1"; stop "$1-nj"; stop "$1-dohd"; }

# ---- squid: NAME PORT PARENTPORT|- 
start_squid() {
	local name=$1 port=$2 parent=$3 d=$T/$1
	mkdir -p "$d"
	chmod 777 "$d"
	{
		cat <<EOF
# $name: squid 5 as Debian runs it, minus caching (CONNECT is never
# cached anyway): access log as shipped (daemon: helper, squid format).
http_port 127.0.0.1:$port
visible_hostname $name
http_access allow all
cache deny all
access_log daemon:$d/access.log squid
cache_log $d/cache.log
pid_filename $d/squid.pid
coredump_dir $d
hosts_file /etc/hosts
dns_nameservers 127.0.0.1
pinger_enable off
max_filedescriptors 20000
shutdown_lifetime 0 seconds
EOF
		if [ "$parent" != - ]; then
			printf 'cache_peer 127.0.0.1 parent %s 0 no-query no-digest no-netdb-exchange default\n' "$parent"
			printf 'never_direct allow all\n'
		fi
	} >"$d/squid.conf"
	bgrun "$name" "$d/stderr.log" squid -N -f "$d/squid.conf"
	wait_port "$port" 20
}

# ---- tinyproxy: NAME PORT UPSTREAMPORT|- MAXCLIENTS [LOGLEVEL]
start_tinyproxy() {
	local name=$1 port=$2 up=$3 max=$4 level=${5:-Info} d=$T/$1
	mkdir -p "$d"
	chmod 777 "$d"
	{
		cat <<EOF
# $name: Debian's shipped tinyproxy.conf but for Port, the paths and
# MaxClients; LogLevel Info to a file (an fsync per line).
User tinyproxy
Group tinyproxy
Port $port
Listen 127.0.0.1
Timeout 600
LogFile "$d/tinyproxy.log"
LogLevel $level
PidFile "$d/tinyproxy.pid"
MaxClients $max
Allow 127.0.0.1
Allow ::1
ViaProxyName "tinyproxy"
EOF
		[ "$up" = - ] || printf 'Upstream http 127.0.0.1:%s\n' "$up"
	} >"$d/tinyproxy.conf"
	bgrun "$name" "$d/stderr.log" tinyproxy -d -c "$d/tinyproxy.conf"
	wait_port "$port" 10
}

# ---- the proxies for relay and connrate (idle-9000 starts its own)
declare -A ADDR=([direct]=direct)
declare -A BROKEN=()
up() {	# KEY PORT START-FUNCTION ARGS...
	local key=$1 port=$2
	shift 2
	if "$@"; then
		ADDR[$key]=127.0.0.1:$port
	else
		BROKEN[$key]="did not start"
		note "connectd bench: $key ($*) did not start"
	fi
}
up cd1 3128 start_connectd cd1 3128 no 4096 direct
up cdlog 3130 start_connectd cdlog 3130 yes 4096 direct
up cd2 3129 start_connectd cd2 3129 no 4096 http://127.0.0.1:3128
# The front connectd of cd2 without the resolve check (dohd asked for the
# target's A and AAAA before the hop is dialled): its cost, measured.
up cd2n 3132 start_connectd cd2n 3132 no 4096 http://127.0.0.1:3128 "resolve_check = no"
up sq1 3140 start_squid sq1 3140 -
up sq2 3141 start_squid sq2 3141 3140
up cdsq 3131 start_connectd cdsq 3131 no 4096 http://127.0.0.1:3140
if [ -n "$CONNECTD_BASE" ]; then
	CD_BIN=$CONNECTD_BASE up cdb 3134 start_connectd cdb 3134 no 4096 direct
	CD_BIN=$CONNECTD_BASE up cdblog 3135 start_connectd cdblog 3135 yes 4096 direct
fi
up tp1 3150 start_tinyproxy tp1 3150 - 100
up tp2 3151 start_tinyproxy tp2 3151 3150 100
# tinyproxy-quiet, a RESULT beside tinyproxy as shipped: tinyproxy
# without its per-connection log lines
up tpw 3152 start_tinyproxy tpw 3152 - 100 Warning
# The floor: what a CONNECT relay that does nothing else costs per tunnel.
start_floor() {
	bgrun fl "$T/floor.log" "$TOOLS/cd_floor" 127.0.0.1:3133 127.0.0.2:9001
	wait_file "$T/floor.log" "floor ready" 5 "${PID[fl]}"
}
up fl 3133 start_floor

# A few tunnels through each before anything is measured.
for key in cd1 cdlog cd2 cd2n cdsq sq1 sq2 tp1 tp2 tpw fl ${CONNECTD_BASE:+cdb cdblog}; do
	[ -z "${BROKEN[$key]:-}" ] || continue
	out=$(timeout 20 ip netns exec "$NS" "$TOOLS/cd_connrate" -m hello -T 1 -w 0 \
	    "${ADDR[$key]}" "$TARGET:9001" 2 0.3 2>&1)
	if [ "$(field tunnels "$out")" = 0 ] || [ -z "$(field tunnels "$out")" ]; then
		BROKEN[$key]="smoke test: $out"
		note "connectd bench: $key fails its smoke test: $out"
	fi
done

# workload -> "impl:key ..." (the order is the order within round 1;
# later rounds rotate it)
declare -A PATHS=(
	[relay-1hop]="direct:direct connectd:cd1 squid:sq1 tinyproxy:tp1"
	[relay-2hop]="connectd:cd2 squid:sq2 tinyproxy:tp2 connectd-squid:cdsq"
	[connrate-c32]="direct:direct connectd:cd1 connectd-log:cdlog tinyproxy:tp1 squid:sq1 tinyproxy-quiet:tpw floor:fl connectd-2hop:cd2 connectd-2hop-norc:cd2n"
	[connrate-c64]="direct:direct connectd:cd1 connectd-log:cdlog tinyproxy:tp1 squid:sq1 tinyproxy-quiet:tpw floor:fl"
	[idle-9000]="connectd:idle-cd tinyproxy:idle-tp squid:idle-sq"
)
if [ -n "$CONNECTD_BASE" ]; then
	PATHS[relay-1hop]="${PATHS[relay-1hop]} connectd-base:cdb"
	PATHS[connrate-c32]="${PATHS[connrate-c32]} connectd-base:cdb connectd-base-log:cdblog"
	PATHS[connrate-c64]="${PATHS[connrate-c64]} connectd-base:cdb connectd-base-log:cdblog"
	PATHS[idle-9000]="${PATHS[idle-9000]} connectd-base:idle-cdb"
fi
if [ -n "${EJ_CD_IMPLS:-}" ]; then
	for w in "${!PATHS[@]}"; do
		keep=""
		for p in ${PATHS[$w]}; do
			case " $EJ_CD_IMPLS " in *" ${p%%:*} "*) keep="$keep $p" ;; esac
		done
		PATHS[$w]=${keep# }
	done
fi
WORKLOADS=${EJ_CD_WORKLOADS:-"relay-1hop relay-2hop connrate-c32 connrate-c64 idle-9000"}

# rotate ROUND WORDS...: the words starting at ROUND mod their number
rotate() {
	local r=$1
	shift
	local -a words=("$@")
	local n=${#words[@]} i
	for ((i = 0; i < n; i++)); do printf '%s ' "${words[$(((i + r) % n))]}"; done
}
record() { printf '%s\n' "$4" >>"$R/$1.$2.$3"; }	# WORKLOAD IMPL METRIC VALUE

bench_relay() {	# WORKLOAD IMPL KEY ROUND
	local out
	out=$(timeout $((${bulk_secs%.*} + 30)) ip netns exec "$NS" "$TOOLS/cd_bulk" -m down \
	    -t "$bulk_secs" -w "$bulk_warm" "${ADDR[$3]}" "$TARGET:9000" 2>&1)
	echo "# round $4 $1 $2: $out"
	case $out in
	"bulk mode=down "*MiBps=*) record "$1" "$2" throughput "$(field MiBps "$out")" ;;
	*) note "$1 $2 round $4 failed: $(printf '%s' "$out" | tr '\n' ' ')" ;;
	esac
	quiesce "$1 $2 round $4"
}

# path_pids KEY: the pids of every process on KEY's path, comma-separated
# (empty for direct): connectd and its dohd stand-in (a 2-hop path: both
# connectds), squid and tinyproxy with their children.
path_pids() {
	local k p all=""
	case $1 in
	direct) return ;;
	cd2 | cd2n) set -- "$1" cd1 ;;
	esac
	for k in "$@"; do
		case $k in
		cd*) all="$all ${PID[$k]:-} ${PID[$k-dohd]:-}" ;;
		*) [ -n "${PID[$k]:-}" ] && all="$all $(pid_tree "${PID[$k]}")" ;;
		esac
	done
	for p in $all; do printf '%s\n' "$p"; done | paste -sd, -
}

bench_rate() {	# WORKLOAD IMPL KEY ROUND CLIENTS
	local out tun fails pids cpu
	pids=$(path_pids "$3")
	out=$(timeout $((${rate_secs%.*} + 40)) ip netns exec "$NS" "$TOOLS/cd_connrate" -m hello \
	    -w "$rate_warm" ${pids:+-P "$pids"} "${ADDR[$3]}" "$TARGET:9001" "$5" "$rate_secs" 2>&1)
	echo "# round $4 $1 $2: $out"
	tun=$(field tunnels "$out")
	fails=$(field fails "$out")
	tun=${tun:-0} fails=${fails:-0}
	case $out in
	"connrate "*per_s=*) ;;
	*) note "$1 $2 round $4 failed: $(printf '%s' "$out" | tr '\n' ' ')"; return ;;
	esac
	if [ "$tun" -eq 0 ] || [ $((fails * 100)) -gt $((tun + fails)) ]; then
		note "$1 $2 round $4: $fails failed connections against $tun completed (over 1%): left out; $out"
		return
	fi
	[ "$fails" -eq 0 ] || note "$1 $2 round $4: $fails of $((tun + fails)) connections failed (kept: under 1%): $out"
	record "$1" "$2" rate "$(field per_s "$out")"
	record "$1" "$2" ttfb_p50 "$(field ttfb_p50_ms "$out")"
	record "$1" "$2" ttfb_p99 "$(field ttfb_p99_ms "$out")"
	cpu=$(field cpu_us_per_tunnel "$out")
	if [ -n "$cpu" ]; then
		record "$1" "$2" cpu_per_tunnel "$cpu"
		record "$1" "$2" cpu_round "$4 $cpu"
		record "$1" "$2" cpu_pct "$(field cpu_pct "$out")"
	elif [ -n "$pids" ]; then
		note "$1 $2 round $4: no CPU figure (a process on the path ended during the run: $pids)"
	fi
}

# rss_tree PID: RSS = the sum of VmRSS (KiB) over PID and its
# descendants, RSS_WHO = their names.
pid_tree() {
	local c
	echo "$1"
	for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do pid_tree "$c"; done
}
rss_tree() {
	local p r sum=0 who=""
	for p in $(pid_tree "$1"); do
		r=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
		[ -n "$r" ] || continue
		sum=$((sum + r))
		who="$who $(cat "/proc/$p/comm" 2>/dev/null)"
	done
	RSS=$sum RSS_WHO=${who# }
}

bench_idle() {	# WORKLOAD IMPL KEY ROUND
	local w=$1 impl=$2 key=$3 r=$4 port pid before after out ok open ipid i held
	case $key in
	idle-cd) port=3160; start_connectd idle-cd 3160 no 20000 direct ;;
	idle-cdb) port=3163; CD_BIN=$CONNECTD_BASE start_connectd idle-cdb 3163 no 20000 direct ;;
	idle-tp) port=3162; start_tinyproxy idle-tp 3162 - 10000 Warning ;;
	idle-sq) port=3161; start_squid idle-sq 3161 - ;;
	esac || {
		note "$w $impl round $r: the proxy did not start: $(tail -n 3 "$T/$key/"*.log 2>/dev/null | tr '\n' ' ')"
		stop_connectd "$key"
		return
	}
	pid=${PID[$key]}
	# Warm: a few tunnels, so lazy start-up allocations are behind us.
	ip netns exec "$NS" "$TOOLS/cd_idle" -T 10 "127.0.0.1:$port" "$TARGET:9002" 20 >"$T/idle-warm.out" 2>&1 &
	ipid=$!
	wait_file "$T/idle-warm.out" "idle ready" 15 "$ipid"
	kill "$ipid" 2>/dev/null
	wait "$ipid" 2>/dev/null
	sleep 1
	rss_tree "$pid"
	before=$RSS
	ip netns exec "$NS" "$TOOLS/cd_idle" -c 200 -T 60 "127.0.0.1:$port" "$TARGET:9002" "$IDLE_N" >"$T/idle.out" 2>&1 &
	ipid=$!
	ALLPIDS="$ALLPIDS $ipid"
	if ! wait_file "$T/idle.out" "idle ready" 90 "$ipid"; then
		note "$w $impl round $r: cd_idle did not finish opening: $(tr '\n' ' ' <"$T/idle.out")"
		kill "$ipid" 2>/dev/null
		wait "$ipid" 2>/dev/null
		stop_connectd "$key"
		return
	fi
	sleep 1
	rss_tree "$pid"
	after=$RSS
	held=$(sink_stat)
	kill -0 "$pid" 2>/dev/null || after=""
	kill -TERM "$ipid" 2>/dev/null
	for i in $(seq 50); do kill -0 "$ipid" 2>/dev/null || break; sleep 0.1; done
	wait "$ipid" 2>/dev/null
	out=$(tr '\n' ' ' <"$T/idle.out")
	echo "# round $r $w $impl: rss_before=${before}KiB rss_after=${after:-dead}KiB ($RSS_WHO) sink: $held; $out"
	ok=$(field ok "$out")
	open=$(sed -n 's/.*idle check open=\([0-9]*\).*/\1/p' "$T/idle.out" | tail -n1)
	case $impl in squid) SQUID_WHO=$RSS_WHO ;; esac
	if [ -z "$after" ]; then
		note "$w $impl round $r: the proxy died while holding tunnels: $out; $(tail -n 3 "$T/$key/"*.log 2>/dev/null | tr '\n' ' ')"
	elif [ "${ok:-0}" -ne "$IDLE_N" ] || [ "${open:-0}" -ne "$IDLE_N" ]; then
		note "$w $impl round $r: held only ${open:-?} of $IDLE_N tunnels (${ok:-0} answered 2xx; left out): $out rss_per_tunnel_at_that=$(awk -v a="$after" -v b="$before" -v n="${ok:-0}" 'BEGIN { if (n > 0) printf "%.1f", (a - b) / n; else print "-" }')KiB"
	else
		record "$w" "$impl" rss_per_tunnel "$(awk -v a="$after" -v b="$before" -v n="$IDLE_N" 'BEGIN { printf "%.2f", (a - b) / n }')"
		record "$w" "$impl" rss_before "$before"
	fi
	stop_connectd "$key"
	sleep 0.5
}

note "connectd bench: $(nproc) cores shared with other work (load average $(cut -d' ' -f1-3 /proc/loadavg) at start); $rounds round(s), each workload's impls alternating within a round, order rotated per round; medians over rounds"
note "connectd under test: $CONNECTD (built $(date -u -r "$CONNECTD" +%Y-%m-%dT%H:%MZ); EJ_CONNECTD overrides it)"
[ -z "$CONNECTD_BASE" ] || note "connectd-base, the binary before a change, measured in the same rounds: $CONNECTD_BASE (built $(date -u -r "$CONNECTD_BASE" +%Y-%m-%dT%H:%MZ))"
note "rig: one network namespace ($NS), everything on its loopback; the target sink.bench = 127.0.0.2 by name for every path (cd_sink, 2 epoll threads); logs on $(stat -f -c %T "$T") under /tmp"
note "connectd config: [chain] exit = direct (relay-2hop: hop = the first connectd's listener; connectd-squid: hop = squid), allow = $TARGET:9000-9002, permit_cidr = 127.0.0.2/32, access_log = no (connectd-log: yes, to a file), max_connections 4096 (idle-9000: 20000), probes at their defaults; dohd and netjaild stood in for by tests/lab/connectd/fakepeer.py"
note "squid $(squid -v | sed -n 's/.*Version //p' | head -n1) config: -N (one process, the worker), cache deny all, no cache_dir, access log on as shipped (daemon:, squid format), pinger off, max_filedescriptors 20000; two-hop: cache_peer parent + never_direct"
note "tinyproxy $(tinyproxy -v 2>&1 | awk '{ print $2 }') config: Debian's shipped file: LogLevel Info to a file (fsync per line), MaxClients 100 (tinyproxy-quiet, connrate only, for reference: LogLevel Warning; idle-9000: MaxClients 10000 and LogLevel Warning: at Info it fsyncs every line and opening 9,000 tunnels takes minutes; a log line holds no per-tunnel memory), Timeout 600, Allow 127.0.0.1; two-hop: Upstream http"
note "relay: cd_bulk -m down, ${bulk_warm}s warm-up then ${bulk_secs}s counted; connrate: cd_connrate -m hello (32-byte payload), 2 epoll threads, ${rate_warm}s warm-up then ${rate_secs}s counted; idle: cd_idle, ${IDLE_N} tunnels, 200 handshakes in flight, RSS 1 s after the last 200"

t_start=$(date +%s)
for ((round = 1; round <= rounds; round++)); do
	echo "# ---- round $round/$rounds ($(($(date +%s) - t_start)) s)"
	for w in $WORKLOADS; do
		# shellcheck disable=SC2086 # word lists
		for p in $(rotate "$round" ${PATHS[$w]}); do
			impl=${p%%:*} key=${p#*:}
			if [ ! -e "/run/netns/$NS" ]; then
				note "connectd bench: the namespace $NS vanished in round $round (deleted from outside the bench); no more runs, medians over what was measured"
				break 3
			fi
			if [ -n "${BROKEN[$key]:-}" ]; then
				note "$w $impl round $round: skipped: ${BROKEN[$key]}"
				continue
			fi
			case $w in
			relay-*) bench_relay "$w" "$impl" "$key" "$round" ;;
			connrate-c*) bench_rate "$w" "$impl" "$key" "$round" "${w#connrate-c}" ;;
			idle-*) bench_idle "$w" "$impl" "$key" "$round" ;;
			esac
		done
	done
done
echo "# all rounds took $(($(date +%s) - t_start)) s"


# ---- medians
median() { sort -g "$1" | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.10g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
declare -A MED=() RUNS=() SPAN=()
for w in $WORKLOADS; do
	for p in ${PATHS[$w]}; do
		impl=${p%%:*}
		case $w in
		relay-*) metrics="throughput" ;;
		connrate-*) metrics="rate ttfb_p50 ttfb_p99 cpu_per_tunnel" ;;
		idle-*) metrics="rss_per_tunnel" ;;
		esac
		for m in $metrics; do
			# direct has no proxy, so no CPU figure
			[ "$impl.$m" = direct.cpu_per_tunnel ] && continue
			f=$R/$w.$impl.$m
			[ -s "$f" ] || { note "$w $impl $m: no successful run, no figure"; continue; }
			case $m in
			throughput) unit=MiB/s better=higher fmt=%.1f ;;
			rate) unit=conn/s better=higher fmt=%.0f ;;
			cpu_per_tunnel) unit=us better=lower fmt=%.1f ;;
			ttfb_*) unit=ms better=lower fmt=%.3f ;;
			rss_per_tunnel) unit=KiB better=lower fmt=%.2f ;;
			esac
			# shellcheck disable=SC2059 # the format is ours
			v=$(printf "$fmt" "$(median "$f")")
			n=$(wc -l <"$f")
			MED[$w.$impl.$m]=$v RUNS[$w.$impl.$m]=$n
			SPAN[$w.$impl.$m]="$(sort -g "$f" | head -n1)..$(sort -g "$f" | tail -n1)"
			[ "$impl" = tinyproxy-quiet ] && [ "$m" = ttfb_p99 ] &&
				note "$w: tinyproxy-quiet is tinyproxy at LogLevel Warning (no per-connection log line, so no fsync): not how it ships, but the fairest peer for the rate"
			say "RESULT bench=connectd workload=$w impl=$impl metric=$m value=$v unit=$unit better=$better runs=$n"
		done
	done
done

[ -n "${MED[relay-1hop.direct.throughput]:-}" ] &&
    note "relay: the direct path (cd_bulk straight to cd_sink, no relay) moves ${MED[relay-1hop.direct.throughput]} MiB/s: the rig's ceiling for one stream"
[ -n "${MED[connrate-c32.direct.rate]:-}" ] &&
    note "connrate: the load generator's direct ceiling (cd_connrate straight to cd_sink) is ${MED[connrate-c32.direct.rate]} conn/s with 32 clients, ${MED[connrate-c64.direct.rate]:-?} conn/s with 64"
for w in connrate-c32 connrate-c64; do
	line=""
	for p in ${PATHS[$w]}; do
		impl=${p%%:*}
		f=$R/$w.$impl.cpu_pct
		[ -s "$f" ] && line="$line $impl=$(printf '%.0f' "$(median "$f")")%"
	done
	[ -n "$line" ] && note "$w: proxy CPU over the counted window (median, % of one core, every process on the path):$line"
done
# cpu_above_floor: per round, an impl's CPU per tunnel less the floor's in
# that round (the same minute's kernel share); the median over rounds.
for w in connrate-c32 connrate-c64; do
	fl=$R/$w.floor.cpu_round
	[ -s "$fl" ] || continue
	for p in ${PATHS[$w]}; do
		impl=${p%%:*}
		f=$R/$w.$impl.cpu_round
		case $impl in direct | floor) continue ;; esac
		[ -s "$f" ] || continue
		awk 'NR == FNR { fl[$1] = $2; next } ($1 in fl) { printf "%.2f\n", $2 - fl[$1] }' "$fl" "$f" >"$R/$w.$impl.cpu_above_floor"
		[ -s "$R/$w.$impl.cpu_above_floor" ] || continue
		v=$(printf '%.1f' "$(median "$R/$w.$impl.cpu_above_floor")")
		f=$R/$w.$impl.cpu_above_floor
		MED[$w.$impl.cpu_above_floor]=$v RUNS[$w.$impl.cpu_above_floor]=$(wc -l <"$f")
		SPAN[$w.$impl.cpu_above_floor]="$(sort -g "$f" | head -n1)..$(sort -g "$f" | tail -n1)"
		say "RESULT bench=connectd workload=$w impl=$impl metric=cpu_above_floor value=$v unit=us better=lower runs=$(wc -l <"$R/$w.$impl.cpu_above_floor")"
	done
done
note "connrate: cpu_above_floor = per round, the impl's cpu_per_tunnel less floor's in the same round (the kernel's share of two TCP connections), median over rounds: the proxy's own work per tunnel"
note "connrate: cpu_per_tunnel = user + system CPU of every process on the proxy's path (connectd: connectd and its dohd stand-in, both connectds for connectd-2hop; squid and its log helper; tinyproxy with all its threads) over the counted window / tunnels counted. Loopback's softirq work lands on whichever process sends, so part of the client's and sink's kernel work is counted too, the same way for every proxy: floor (cd_floor, a trivial CONNECT relay) is that share. Compare ratios, not absolute figures"
for impl in connectd connectd-base tinyproxy squid; do
	f=$R/idle-9000.$impl.rss_before
	[ -s "$f" ] && note "idle-9000: $impl RSS before the tunnels (after start-up and 20 warm-up tunnels): median $(median "$f") KiB"
done
[ -n "${SQUID_WHO:-}" ] &&
    note "idle-9000: squid's RSS is the sum over its processes: $SQUID_WHO (squid -N is the worker; the log helper does not grow); connectd and tinyproxy are one process each"

# ---- the human table
ratio() {	# A B: A/B to 2 places, or "-"
	awk -v a="${1:-}" -v b="${2:-}" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'
}
say "#"
say "# connectd bench, medians of $rounds round(s) on a shared $(nproc)-core machine (numbers move 10-20% between runs)"
say "# tinyproxy-quiet is tinyproxy at LogLevel Warning (no per-connection log line)"
say "# this/dir: the figure over the direct path's (relay: one-hop direct); connectd/this: connectd's figure over this one (same workload)"
say "$(printf '# %-13s %-15s %-15s %10s %-7s %7s %5s  %-21s %9s %s' workload impl metric median unit Gbit/s runs 'min..max' this/dir connectd/this)"
for w in $WORKLOADS; do
	for p in ${PATHS[$w]}; do
		impl=${p%%:*}
		for m in throughput rate ttfb_p50 ttfb_p99 cpu_per_tunnel cpu_above_floor rss_per_tunnel; do
			k=$w.$impl.$m
			[ -n "${MED[$k]:-}" ] || continue
			case $m in throughput) unit=MiB/s ;; rate) unit=conn/s ;; ttfb_*) unit=ms ;; cpu_*) unit=us ;; *) unit=KiB ;; esac
			g=-
			[ "$m" = throughput ] && g=$(awk -v v="${MED[$k]}" 'BEGIN { printf "%.2f", v * 8 * 1048576 / 1e9 }')
			r=-
			[ "$impl" = connectd ] || r=$(ratio "${MED[$w.connectd.$m]:-}" "${MED[$k]}")
			d=-
			case $w.$m in
			relay-*.throughput) d=$(ratio "${MED[$k]}" "${MED[relay-1hop.direct.throughput]:-}") ;;
			connrate-*.rate) d=$(ratio "${MED[$k]}" "${MED[$w.direct.rate]:-}") ;;
			esac
			say "$(printf '# %-13s %-15s %-15s %10s %-7s %7s %5s  %-21s %9s %s' "$w" "$impl" "$m" "${MED[$k]}" "$unit" "$g" "${RUNS[$k]}" "${SPAN[$k]}" "$d" "$r")"
		done
	done
done

# ---- the targets of issue #8
target() {	# DESCRIPTION OK(1/0/"") DETAIL
	local v=unknown
	case $2 in 1) v=met ;; 0) v="NOT met" ;; esac
	say "$(printf '# target: %-56s %-8s %s' "$1" "$v" "$3")"
}
ge() { awk -v a="${1:-}" -v b="${2:-}" -v k="$3" 'BEGIN { if (a == "" || b == "") print ""; else print (a + 0 >= k * b) ? 1 : 0 }'; }
le() { awk -v a="${1:-}" -v b="${2:-}" 'BEGIN { if (a == "" || b == "") print ""; else print (a + 0 <= b + 0) ? 1 : 0 }'; }
say "#"
c1=${MED[relay-1hop.connectd.throughput]:-}
target "relay 1 hop: connectd >= 60% of direct" "$(ge "$c1" "${MED[relay-1hop.direct.throughput]:-}" 0.6)" "connectd/direct $(ratio "$c1" "${MED[relay-1hop.direct.throughput]:-}")"
target "relay 1 hop: connectd >= 1.25x squid" "$(ge "$c1" "${MED[relay-1hop.squid.throughput]:-}" 1.25)" "connectd/squid $(ratio "$c1" "${MED[relay-1hop.squid.throughput]:-}")"
c2=${MED[relay-2hop.connectd.throughput]:-}
target "relay 2 hops: connectd chain ahead of squid -> squid" "$(ge "$c2" "${MED[relay-2hop.squid.throughput]:-}" 1)" "ratio $(ratio "$c2" "${MED[relay-2hop.squid.throughput]:-}")"
for c in 32 64; do
	w=connrate-c$c
	cr=${MED[$w.connectd.rate]:-}
	target "connrate c$c: connectd >= 2x tinyproxy" "$(ge "$cr" "${MED[$w.tinyproxy.rate]:-}" 2)" "connectd/tinyproxy $(ratio "$cr" "${MED[$w.tinyproxy.rate]:-}")"
	target "connrate c$c: connectd >= 2x tinyproxy-quiet (no log)" "$(ge "$cr" "${MED[$w.tinyproxy-quiet.rate]:-}" 2)" "connectd/tinyproxy-quiet $(ratio "$cr" "${MED[$w.tinyproxy-quiet.rate]:-}")"
	p99=${MED[$w.connectd.ttfb_p99]:-}
	a=$(le "$p99" "${MED[$w.tinyproxy.ttfb_p99]:-}")
	b=$(le "$p99" "${MED[$w.squid.ttfb_p99]:-}")
	ok=""
	[ -n "$a" ] && [ -n "$b" ] && ok=$((a * b))
	target "connrate c$c: connectd p99 below every peer's" "$ok" "connectd ${p99:-?} ms, tinyproxy ${MED[$w.tinyproxy.ttfb_p99]:-?}, squid ${MED[$w.squid.ttfb_p99]:-?} (tinyproxy-quiet ${MED[$w.tinyproxy-quiet.ttfb_p99]:-?})"
	target "connrate c$c: access log on >= 90% of off" "$(ge "${MED[$w.connectd-log.rate]:-}" "$cr" 0.9)" "log/nolog $(ratio "${MED[$w.connectd-log.rate]:-}" "$cr")"
	tq=${MED[$w.tinyproxy-quiet.cpu_per_tunnel]:-}
	cl=${MED[$w.connectd-log.cpu_per_tunnel]:-}
	half=$(awk -v t="$tq" 'BEGIN { if (t != "") print t * 0.5 }')
	target "connrate c$c: connectd-log CPU/tunnel <= 0.5x tinyproxy-quiet" "$(le "$cl" "$half")" "connectd-log ${cl:-?} us, tinyproxy-quiet ${tq:-?}, floor ${MED[$w.floor.cpu_per_tunnel]:-?}; ratio $(ratio "$cl" "$tq"); above the floor: connectd-log ${MED[$w.connectd-log.cpu_above_floor]:-?} us, tinyproxy-quiet ${MED[$w.tinyproxy-quiet.cpu_above_floor]:-?}"
done
ci=${MED[idle-9000.connectd.rss_per_tunnel]:-}
target "idle: connectd <= 16 KiB per tunnel" "$(le "$ci" 16)" "connectd ${ci:-?} KiB, tinyproxy ${MED[idle-9000.tinyproxy.rss_per_tunnel]:-?}, squid ${MED[idle-9000.squid.rss_per_tunnel]:-?}"
exit 0
