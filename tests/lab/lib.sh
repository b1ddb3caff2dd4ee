# shellcheck shell=bash
# shellcheck disable=SC2034 # LAB_* variables are for the tests that source this
# tests/lab/lib.sh - the lab harness: network namespaces, real peers, counters
# and test reporting for egressjail's lab and e2e suites. Bash, sourced:
#
#   #!/usr/bin/env bash
#   set -eu
#   . "${EJ_SRC:-$(dirname "$0")/../../..}/tests/lab/lib.sh"
#   lab_up                       # namespaces, links, addresses, counters, certs
#   lab_start_all                # or single lab_start_* peers
#   lab_expect "w1 reaches exit" lab_exec w1 curl -sf http://10.78.0.10/
#   lab_finish                   # "N passed, N failed"; exit 1 on failure
#
# Teardown runs from an EXIT/INT/TERM trap that lab_up installs; an earlier
# crashed run with the same EJ_LAB_PREFIX is cleaned at the start of lab_up.
# Nothing here touches the machine's own network namespace: every link is
# created directly inside a lab namespace. tests/lab/README.md has the map.

if [ -z "${BASH_VERSION:-}" ]; then
	echo "lab: lib.sh needs bash" >&2
	exit 1
fi

# ---------------------------------------------------------------- settings

: "${EJ_LAB_PREFIX:=ej}"
: "${EJ_LAB_KEEP:=0}"
: "${EJ_LAB_VERBOSE:=0}"
if [ -z "${EJ_SRC:-}" ]; then
	EJ_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
fi
if [ -z "${EJ_BUILD:-}" ]; then
	EJ_BUILD=$EJ_SRC/build
fi
export EJ_SRC EJ_BUILD EJ_LAB_PREFIX

case $EJ_LAB_PREFIX in
*[!a-z0-9]* | '')
	echo "lab: EJ_LAB_PREFIX must be [a-z0-9]+, not '$EJ_LAB_PREFIX'" >&2
	exit 1
	;;
esac
if [ "${#EJ_LAB_PREFIX}" -gt 10 ]; then
	echo "lab: EJ_LAB_PREFIX '$EJ_LAB_PREFIX' is longer than 10 (interface names)" >&2
	exit 1
fi

LAB_P=$EJ_LAB_PREFIX
LAB_NS_HOST=${LAB_P}host
LAB_NS_UP=${LAB_P}up
LAB_NS_W1=${LAB_P}w1
LAB_NS_W2=${LAB_P}w2
LAB_WORKLOAD_MAX=9

# Bridge side (inside $LAB_NS_HOST).
LAB_BR=br-ej
LAB_BR4=10.77.0.1
LAB_BR6=fd77::1
LAB_NET4=10.77.0.0/24
LAB_NET6=fd77::/64
LAB_W1_4=10.77.0.2
LAB_W1_6=fd77::2
LAB_W2_4=10.77.0.3
LAB_W2_6=fd77::3

# Uplink between $LAB_NS_HOST and $LAB_NS_UP.
LAB_UPLINK=${LAB_P}-up          # host-side name; the up side is eth0
LAB_HOSTUP4=10.78.0.1
LAB_HOSTUP6=fd78::1
LAB_UPNET4=10.78.0.0/24
LAB_UPNET6=fd78::/64
LAB_ROUTER4=10.78.0.254         # host's default gateway (an address of up)
LAB_ROUTER6=fd78::fe

# Services in $LAB_NS_UP.
LAB_HOP_PORT=3128
LAB_HOP_A=10.78.0.2             # tinyproxy
LAB_HOP_A6=fd78::2
LAB_HOP_B=10.78.0.3             # tinyproxy
LAB_HOP_B6=fd78::3
LAB_HOP_C=10.78.0.6             # squid
LAB_HOP_C6=fd78::6
LAB_DOH=10.78.0.4               # unbound, DoH on 443 (doh.test), plain DNS on 53
LAB_DOH6=fd78::4
LAB_DOH2=10.78.0.5              # second unbound (doh2.test)
LAB_DOH2_6=fd78::5
LAB_DOH_PATH=/dns-query
LAB_EXIT=10.78.0.10             # nginx: smoke.test / exit.test, 80 and 443
LAB_EXIT6=fd78::10
LAB_FORBIDDEN=10.78.0.11        # nginx 80/443/8080, UDP echo 53/443/9999
LAB_FORBIDDEN6=fd78::11
LAB_DIRECT=10.78.0.20           # nginx on 5432: the direct endpoint
LAB_DIRECT6=fd78::20
LAB_DIRECT_PORT=5432
# "Internet": these whole ranges are local to up, so a leak to them gets an
# answer (RST or reply) and shows in lab_count.
LAB_INET4=203.0.113.5
LAB_INET4_B=198.51.100.7
LAB_INET6=2001:db8::5

LAB_DIR=${LAB_DIR:-}
LAB_PASSED=0
LAB_FAILED=0
LAB_NTEST=0

# ---------------------------------------------------------------- basics

lab_log() {
	printf 'lab: %s\n' "$*" >&2
}

lab_debug() {
	if [ "$EJ_LAB_VERBOSE" = 1 ]; then
		printf 'lab: %s\n' "$*" >&2
	fi
}

lab_die() {
	printf 'lab: ERROR: %s\n' "$*" >&2
	exit 1
}

# lab_skip MSG: one line, exit 77 (meson's "skipped").
lab_skip() {
	printf 'lab: %s\n' "$*"
	exit 77
}

lab_require_root() {
	if [ "$(id -u)" != 0 ]; then
		lab_skip "not root, so lab tests are skipped"
	fi
}

# lab_need CMD...: skip the test when a tool is missing.
lab_need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || lab_skip "'$c' is not installed, so this lab test is skipped"
	done
}

# lab_ms: milliseconds since the epoch.
lab_ms() {
	local t
	t=$(date +%s%N)
	echo $((t / 1000000))
}

# lab_ns NAME: full namespace name for host|up|wN (or a full name as is).
lab_ns() {
	case $1 in
	host | up | w[1-9]) echo "${LAB_P}$1" ;;
	*) echo "$1" ;;
	esac
}

# lab_exec NS CMD...: run CMD in lab namespace NS (host, up, w1, ... or full).
lab_exec() {
	local ns
	ns=$(lab_ns "$1")
	shift
	ip netns exec "$ns" "$@"
}

# lab_as USER NS CMD...: run CMD in NS as USER (uid, gid, its groups).
lab_as() {
	local user=$1 ns
	ns=$(lab_ns "$2")
	shift 2
	ip netns exec "$ns" setpriv --reuid="$user" --regid="$(id -g "$user")" \
		--init-groups --reset-env -- "$@"
}

# lab_retry SECS CMD...: run CMD until it succeeds or SECS pass (0.05 s steps).
lab_retry() {
	local secs=$1 end
	shift
	end=$(($(lab_ms) + secs * 1000))
	while :; do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		[ "$(lab_ms)" -lt "$end" ] || return 1
		sleep 0.05
	done
}

lab__tcp_probe() {
	# connect, then close: succeeds only when something accepted
	# shellcheck disable=SC2016 # expanded by the inner bash
	ip netns exec "$1" timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$2" "$3" 2>/dev/null
}

# lab_wait_tcp NS ADDR PORT [SECS]: wait until a TCP connect from NS to
# ADDR:PORT is accepted (default 10 s).
lab_wait_tcp() {
	local ns
	ns=$(lab_ns "$1")
	lab_retry "${4:-10}" lab__tcp_probe "$ns" "$2" "$3"
}

lab__ss_bound() {
	# lab__ss_bound -u|-t NS ADDR PORT
	local a=$3
	case $a in *:*) a=[$a] ;; esac
	[ -n "$(ip netns exec "$2" ss -Hnl "$1" "src" "$a" "sport" "= :$4" 2>/dev/null)" ]
}

lab__udp_bound() {
	lab__ss_bound -u "$@"
}

lab__tcp_listening() {
	lab__ss_bound -t "$@"
}

# lab_wait_udp NS ADDR PORT [SECS]: wait until a UDP socket is bound to
# ADDR:PORT inside NS (the listener's namespace: UDP has no handshake).
lab_wait_udp() {
	local ns
	ns=$(lab_ns "$1")
	lab_retry "${4:-10}" lab__udp_bound "$ns" "$2" "$3"
}

# lab_wait_listen NS ADDR PORT [SECS]: same for a listening TCP socket.
lab_wait_listen() {
	local ns
	ns=$(lab_ns "$1")
	lab_retry "${4:-10}" lab__tcp_listening "$ns" "$2" "$3"
}

# lab_ping NS ADDR [COUNT]: ICMP echo, v4 or v6 (iputils ping, else busybox).
lab_ping() {
	local ns fam=-4
	ns=$(lab_ns "$1")
	case $2 in *:*) fam=-6 ;; esac
	if command -v ping >/dev/null 2>&1; then
		ip netns exec "$ns" ping "$fam" -n -q -c "${3:-1}" -i 0.2 -W 1 "$2"
	else
		ip netns exec "$ns" busybox ping "$fam" -q -c "${3:-1}" -W 1 "$2"
	fi
}

# ---------------------------------------------------------------- clients

# lab_curl NS CURL-ARGS...: curl in NS, 5 s at most, trusting the lab CA.
lab_curl() {
	local ns=$1
	shift
	lab_exec "$ns" curl -sS --max-time 5 --cacert "$LAB_DIR/ca.pem" "$@"
}

# lab_doh NS SERVER KDIG-ARGS...: a DoH query from NS to SERVER (doh.test's
# certificate, the lab CA), 3 s at most, no retry.
lab_doh() {
	local ns=$1 server=$2
	shift 2
	lab_exec "$ns" kdig "@$server" +https="$LAB_DOH_PATH" +tls-ca="$LAB_DIR/ca.pem" \
		+tls-hostname=doh.test +timeout=3 +retry=0 "$@"
}

# lab_udp NS ADDR PORT [PAYLOAD]: send one datagram from NS, print the
# answer; fails when none comes within 2 s.
lab_udp() {
	local ns=$1 dst=UDP4:$2:$3 out
	case $2 in *:*) dst=UDP6:[$2]:$3 ;; esac
	out=$(printf '%s\n' "${4:-ping}" | lab_exec "$ns" socat -T 2 - "$dst" 2>/dev/null) || true
	[ -n "$out" ] || return 1
	printf '%s\n' "$out"
}

# lab_capture NAME NS IFACE [FILTER...]: tcpdump in NS to $LAB_DIR/NAME.pcap
# (stop it with lab_stop NAME; read it with tcpdump -nr).
lab_capture() {
	local name=$1 ns=$2 ifc=$3
	shift 3
	lab_spawn "$name" "$ns" tcpdump -n -U --immediate-mode -i "$ifc" -w "$LAB_DIR/$name.pcap" "$@"
	lab_retry 5 test -s "$LAB_DIR/$name.pcap" || lab__peer_failed "$name" "no capture file"
}

# ---------------------------------------------------------------- sanitizers

# test.sh runs the lab and e2e suites against the ASan+UBSan build
# (build-asan).  A sanitizer report from a daemon lands in its log
# ($LAB_DIR/NAME.log, through lab_spawn's stderr) and the daemon aborts
# (ASAN_OPTIONS abort_on_error=1, UBSAN_OPTIONS halt_on_error=1); a test
# that only checks "refused" would not notice, so the harness looks for
# reports itself: in every lab_expect* output, in a log lab_spawn is about
# to reuse, and in everything under $LAB_DIR at teardown, after the
# daemons have been stopped (LeakSanitizer reports at exit).  Any report
# turns the test red.  (log_path is not used: the daemons' Landlock view
# allows no writes, and their stderr is already a file.)
LAB_SANITIZER_RE='ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer)|SUMMARY: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer)|[A-Za-z]+Sanitizer:DEADLYSIGNAL|LeakSanitizer has encountered a fatal error|Sanitizer CHECK failed|:[0-9]+:[0-9]+: runtime error: '
LAB__SANITIZER_HITS=""

# lab__sanitizer_file FILE: true (and remembered, with the lines shown)
# when FILE holds a sanitizer report.
lab__sanitizer_file() {
	local f=$1
	[ -f "$f" ] || return 1
	grep -aqE -- "$LAB_SANITIZER_RE" "$f" 2>/dev/null || return 1
	case " $LAB__SANITIZER_HITS " in
	*" ${f##*/} "*) ;;
	*) LAB__SANITIZER_HITS="$LAB__SANITIZER_HITS ${f##*/}" ;;
	esac
	lab_log "SANITIZER REPORT in $f:"
	grep -aE -A 12 -- "$LAB_SANITIZER_RE" "$f" | head -n 60 | sed 's/^/    ! /' >&2
	return 0
}

# lab__sanitizer_scan: every file under $LAB_DIR (packet captures aside).
lab__sanitizer_scan() {
	local f
	[ -n "$LAB_DIR" ] && [ -d "$LAB_DIR" ] || return 0
	while IFS= read -r f; do
		lab__sanitizer_file "$f" || true
	done < <(grep -rlaE --exclude='*.pcap' -- "$LAB_SANITIZER_RE" "$LAB_DIR" 2>/dev/null)
}

# ---------------------------------------------------------------- reporting

lab__report() {
	LAB_NTEST=$((LAB_NTEST + 1))
	if [ "$1" = ok ]; then
		LAB_PASSED=$((LAB_PASSED + 1))
		printf 'ok %d - %s\n' "$LAB_NTEST" "$2"
	else
		LAB_FAILED=$((LAB_FAILED + 1))
		printf 'FAIL %d - %s%s\n' "$LAB_NTEST" "$2" "${3:+: $3}"
	fi
}

# lab_pass NAME / lab_fail NAME [WHY]
lab_pass() {
	lab__report ok "$1"
}

lab_fail() {
	lab__report fail "$1" "${2:-}"
}

lab__outfile() {
	if [ -n "$LAB_DIR" ] && [ -d "$LAB_DIR" ]; then
		echo "$LAB_DIR/last-expect.out"
	else
		echo /dev/null
	fi
}

lab__show_out() {
	if [ -s "$1" ]; then
		tail -n 15 "$1" | sed 's/^/    | /'
	fi
}

# lab_expect NAME CMD...: pass when CMD exits 0 (its output is shown on failure).
lab_expect() {
	local name=$1 out rc=0
	shift
	out=$(lab__outfile)
	"$@" >"$out" 2>&1 || rc=$?
	if lab__sanitizer_file "$out"; then
		lab_fail "$name" "sanitizer report: $*"
	elif [ "$rc" = 0 ]; then
		lab_pass "$name"
	else
		lab_fail "$name" "exit $rc: $*"
		lab__show_out "$out"
	fi
}

# lab_expect_fail NAME CMD...: pass when CMD exits non-zero (a blocked path).
lab_expect_fail() {
	local name=$1 out rc=0
	shift
	out=$(lab__outfile)
	"$@" >"$out" 2>&1 || rc=$?
	if lab__sanitizer_file "$out"; then
		lab_fail "$name" "sanitizer report: $*"
	elif [ "$rc" != 0 ]; then
		lab_pass "$name"
	else
		lab_fail "$name" "succeeded, but should have failed: $*"
		lab__show_out "$out"
	fi
}

# lab_expect_eq NAME WANT GOT
lab_expect_eq() {
	if [ "$2" = "$3" ]; then
		lab_pass "$1"
	else
		lab_fail "$1" "want '$2', got '$3'"
	fi
}

# lab_expect_match NAME ERE CMD...: pass when CMD exits 0 and its output
# (stdout and stderr) matches the extended regex ERE.
lab_expect_match() {
	local name=$1 re=$2 out rc=0
	shift 2
	out=$(lab__outfile)
	"$@" >"$out" 2>&1 || rc=$?
	if lab__sanitizer_file "$out"; then
		lab_fail "$name" "sanitizer report: $*"
	elif [ "$rc" = 0 ] && grep -Eq -- "$re" "$out"; then
		lab_pass "$name"
	else
		lab_fail "$name" "exit $rc, want /$re/: $*"
		lab__show_out "$out"
	fi
}

# lab_finish: "N passed, N failed" alone on a line; exit 1 when any failed.
lab_finish() {
	echo "$LAB_PASSED passed, $LAB_FAILED failed"
	if [ "$LAB_FAILED" -gt 0 ]; then
		exit 1
	fi
	exit 0
}

# ---------------------------------------------------------------- teardown

LAB__ON_EXIT=()

# lab_on_exit CMD...: run CMD (as one string, eval'ed) at teardown, before the
# namespaces go; last registered runs first.
lab_on_exit() {
	LAB__ON_EXIT+=("$*")
}

lab__all_ns() {
	local i
	echo "$LAB_NS_HOST"
	echo "$LAB_NS_UP"
	for i in $(seq 1 "$LAB_WORKLOAD_MAX"); do
		echo "${LAB_P}w$i"
	done
}

lab__ns_exists() {
	[ -e "/run/netns/$1" ]
}

lab__ns_pids() {
	local ns p
	for ns in $(lab__all_ns); do
		lab__ns_exists "$ns" || continue
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			[ "$p" = "$$" ] || [ "$p" = "${BASHPID:-}" ] || echo "$p"
		done
	done
}

# A zombie is dead for our purpose: it may wait long for a busy init to
# reap it, and it holds no socket.
lab__alive_pid() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	st=${st%% *}
	[ -n "$st" ] && [ "$st" != Z ]
}

lab__sig_for() {
	# squid and its helpers linger a second or two whatever
	# shutdown_lifetime says, and have nothing to save here
	case $(readlink "/proc/$1/exe" 2>/dev/null) in
	*/squid | /usr/lib/squid/*) echo KILL ;;
	*) echo "$2" ;;
	esac
}

# lab__kill_ns_procs [SIG]: kill every process living in our namespaces:
# SIG (TERM) and up to 3 s, then KILL until none is left (a dying daemon
# may still fork).
lab__kill_ns_procs() {
	local sig=${1:-TERM} pids p round alive i
	for round in 1 2 3 4 5; do
		pids=$(lab__ns_pids | tr '\n' ' ')
		[ -n "${pids// /}" ] || return 0
		lab_debug "stopping (round $round): $pids"
		[ "$round" = 1 ] || sig=KILL
		for p in $pids; do
			kill -"$(lab__sig_for "$p" "$sig")" "$p" 2>/dev/null || true
		done
		for i in $(seq 1 60); do
			alive=""
			for p in $pids; do
				if lab__alive_pid "$p"; then
					alive="$alive $p"
				fi
			done
			pids=$alive
			[ -n "$pids" ] || break
			sleep 0.05
		done
		[ -z "$pids" ] || lab_log "killing what ignored TERM:$pids"
	done
	lab_log "processes survive in the lab namespaces: $(lab__ns_pids | tr '\n' ' ')"
	return 1
}

# Pid files of an earlier run: kill only processes whose command line still
# names that run's directory (so a reused pid is never hit).
lab__kill_dir_procs() {
	local d=$1 f p c
	for f in "$d"/*.pid "$d"/*/*.pid; do
		[ -f "$f" ] || continue
		p=$(head -n 1 "$f" 2>/dev/null | tr -dc 0-9)
		[ -n "$p" ] || continue
		c=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null) || continue
		case $c in
		*"$d"*) kill -KILL "$p" 2>/dev/null || true ;;
		esac
	done
}

# lab__remove_ns [SIG]
lab__remove_ns() {
	local ns
	lab__kill_ns_procs "${1:-TERM}" || true
	for ns in $(lab__all_ns); do
		if lab__ns_exists "$ns"; then
			ip netns del "$ns" 2>/dev/null || lab_log "could not delete namespace $ns"
		fi
		rm -rf "/etc/netns/$ns"
	done
}

# Leftovers of a crashed run with this prefix: processes, namespaces,
# /etc/netns dirs, temp dirs (except those kept with EJ_LAB_KEEP=1).
lab_cleanup_stale() {
	local d found=0
	for d in $(lab__all_ns); do
		if lab__ns_exists "$d" || [ -e "/etc/netns/$d" ]; then
			found=1
		fi
	done
	for d in /tmp/ejlab-"$LAB_P".*; do
		[ -d "$d" ] || continue
		[ "$d" != "$LAB_DIR" ] || continue
		[ ! -e "$d/.keep" ] || continue
		found=1
		lab__kill_dir_procs "$d"
		rm -rf "$d"
	done
	if [ "$found" = 1 ]; then
		lab_log "cleaning leftovers of an earlier run with prefix '$LAB_P'"
		lab__remove_ns KILL
	fi
}

# lab_down: stop everything, remove namespaces and (unless EJ_LAB_KEEP=1)
# the lab directory. Safe to call twice.
lab_down() {
	local i
	for ((i = ${#LAB__ON_EXIT[@]} - 1; i >= 0; i--)); do
		eval "${LAB__ON_EXIT[$i]}" || true
	done
	LAB__ON_EXIT=()
	lab__remove_ns
	lab__sanitizer_scan
	if [ -n "$LAB_DIR" ] && [ -d "$LAB_DIR" ]; then
		if [ "$EJ_LAB_KEEP" = 1 ]; then
			touch "$LAB_DIR/.keep"
			lab_log "kept $LAB_DIR"
		else
			rm -rf "$LAB_DIR"
		fi
	fi
	LAB_DIR=
}

lab__on_exit() {
	local rc=$?
	trap - EXIT INT TERM
	set +e
	lab_down
	if [ -n "$LAB__SANITIZER_HITS" ]; then
		echo "FAIL - sanitizer reports in:$LAB__SANITIZER_HITS (see above)"
		[ "$rc" != 0 ] && [ "$rc" != 77 ] || rc=1
	fi
	exit "$rc"
}

lab__trap() {
	trap lab__on_exit EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# ---------------------------------------------------------------- topology

lab_tmp() {
	if [ -z "$LAB_DIR" ] || [ ! -d "$LAB_DIR" ]; then
		LAB_DIR=$(mktemp -d "/tmp/ejlab-$LAB_P.XXXXXX")
		chmod 0755 "$LAB_DIR"
		export LAB_DIR
	fi
	echo "$LAB_DIR"
}

# Sysctls inside NS, one exec: lab__sysctl NS key=value...
lab__sysctl() {
	local ns=$1
	shift
	ip netns exec "$ns" sysctl -q -w "$@" >/dev/null
}

lab__netns_files() {
	local ns=$1 resolv=$2 hosts=$3
	mkdir -p "/etc/netns/$ns"
	printf '%s' "$resolv" >"/etc/netns/$ns/resolv.conf"
	printf '%s' "$hosts" >"/etc/netns/$ns/hosts"
}

LAB__HOSTS_BASE='127.0.0.1	localhost
::1	localhost ip6-localhost ip6-loopback
'

# lab_add_workload N: namespace ${P}wN on the bridge, 10.77.0.(N+1),
# fd77::(N+1), default routes via the bridge, resolv.conf -> 10.77.0.1.
lab_add_workload() {
	local n=$1 ns a4 a6
	case $n in [1-9]) ;; *) lab_die "lab_add_workload: N must be 1-9" ;; esac
	ns=${LAB_P}w$n
	a4=10.77.0.$((n + 1))
	a6=fd77::$((n + 1))
	ip netns add "$ns"
	lab__sysctl "$ns" net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	ip -n "$LAB_NS_HOST" link add name "${LAB_P}-w$n" type veth peer name eth0 netns "$ns"
	ip -n "$LAB_NS_HOST" link set "${LAB_P}-w$n" master "$LAB_BR" up
	ip -n "$ns" -b - <<EOF
link set lo up
link set eth0 up
addr add $a4/24 dev eth0
addr add $a6/64 dev eth0 nodad
route add default via $LAB_BR4
route add ::/0 via $LAB_BR6
EOF
	lab__netns_files "$ns" "nameserver $LAB_BR4
options timeout:1 attempts:1
" "$LAB__HOSTS_BASE"
}

# The "upstream" side needs names for its proxies (tinyproxy, squid resolve
# through /etc/hosts first, then unbound's plain port 53).
LAB__UP_HOSTS="smoke.test exit.test:$LAB_EXIT:$LAB_EXIT6
forbidden.test:$LAB_FORBIDDEN:$LAB_FORBIDDEN6
direct.test db.test:$LAB_DIRECT:$LAB_DIRECT6
hop-a.test:$LAB_HOP_A:$LAB_HOP_A6
hop-b.test:$LAB_HOP_B:$LAB_HOP_B6
hop-c.test:$LAB_HOP_C:$LAB_HOP_C6
doh.test:$LAB_DOH:$LAB_DOH6
doh2.test:$LAB_DOH2:$LAB_DOH2_6
leak.test:$LAB_INET4:$LAB_INET6"

lab__up_hosts() {
	local line names a4 a6
	printf '%s' "$LAB__HOSTS_BASE"
	while IFS= read -r line; do
		names=${line%%:*}
		a4=${line#*:}
		a4=${a4%%:*}
		a6=${line#*:*:}
		printf '%s\t%s\n%s\t%s\n' "$a4" "$names" "$a6" "$names"
	done <<EOF
$LAB__UP_HOSTS
EOF
}

# Packet counters in up (inet lab): per destination address, and per
# (address, protocol, port) for TCP/UDP, of everything arriving from host.
lab__counters() {
	ip netns exec "$LAB_NS_UP" nft -f - <<'EOF'
table inet lab {
	set a4 { type ipv4_addr; flags dynamic; counter; size 65535; }
	set a6 { type ipv6_addr; flags dynamic; counter; size 65535; }
	set p4 { type ipv4_addr . inet_proto . inet_service; flags dynamic; counter; size 65535; }
	set p6 { type ipv6_addr . inet_proto . inet_service; flags dynamic; counter; size 65535; }
	chain pre {
		type filter hook prerouting priority raw; policy accept;
		iifname "eth0" counter comment "all from host"
		iifname "eth0" update @a4 { ip daddr }
		iifname "eth0" update @a6 { ip6 daddr }
		iifname "eth0" meta l4proto { tcp, udp } update @p4 { ip daddr . meta l4proto . th dport }
		iifname "eth0" meta l4proto { tcp, udp } update @p6 { ip6 daddr . meta l4proto . th dport }
	}
}
EOF
}

# lab_up: the whole topology (no peers). Cleans a crashed earlier run first,
# installs the teardown trap, creates $LAB_DIR with the lab CA and certs.
lab_up() {
	local t0
	lab_require_root
	lab_need ip nft openssl
	t0=$(lab_ms)
	lab_cleanup_stale
	lab__trap
	lab_tmp >/dev/null
	lab_debug "lab dir $LAB_DIR"

	ip netns add "$LAB_NS_HOST"
	ip netns add "$LAB_NS_UP"
	lab__sysctl "$LAB_NS_HOST" net.ipv4.ip_forward=1 \
		net.ipv6.conf.all.forwarding=1 net.ipv6.conf.default.forwarding=1 \
		net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	lab__sysctl "$LAB_NS_UP" \
		net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0

	ip -n "$LAB_NS_HOST" link add name "$LAB_UPLINK" type veth peer name eth0 netns "$LAB_NS_UP"
	ip -n "$LAB_NS_HOST" -b - <<EOF
link set lo up
link add name $LAB_BR type bridge stp_state 0 forward_delay 0
addr add $LAB_BR4/24 dev $LAB_BR
addr add $LAB_BR6/64 dev $LAB_BR nodad
link set $LAB_BR up
addr add $LAB_HOSTUP4/24 dev $LAB_UPLINK
addr add $LAB_HOSTUP6/64 dev $LAB_UPLINK nodad
link set $LAB_UPLINK up
route add default via $LAB_ROUTER4
route add ::/0 via $LAB_ROUTER6
EOF
	local a up_addrs="" up6_addrs=""
	for a in 2 3 4 5 6 10 11 20 254; do
		up_addrs="${up_addrs}addr add 10.78.0.$a/24 dev eth0
"
	done
	for a in 2 3 4 5 6 10 11 20 fe; do
		up6_addrs="${up6_addrs}addr add fd78::$a/64 dev eth0 nodad
"
	done
	ip -n "$LAB_NS_UP" -b - <<EOF
link set lo up
link set eth0 up
$up_addrs$up6_addrs
route add $LAB_NET4 via $LAB_HOSTUP4
route add $LAB_NET6 via $LAB_HOSTUP6
route add local 203.0.113.0/24 dev lo
route add local 198.51.100.0/24 dev lo
route add local 2001:db8::/32 dev lo
EOF
	lab_add_workload 1
	lab_add_workload 2
	lab__counters

	lab__netns_files "$LAB_NS_HOST" "nameserver 127.0.0.1
options timeout:1 attempts:1
" "$LAB__HOSTS_BASE"
	lab__netns_files "$LAB_NS_UP" "nameserver $LAB_DOH
options timeout:1 attempts:1
" "$(lab__up_hosts)"
	lab_certs
	lab_debug "lab_up took $(($(lab_ms) - t0)) ms"
}

# ---------------------------------------------------------------- br_netfilter

# lab_brnf_available: true when bridge-nf-call-iptables exists in host ns.
lab_brnf_available() {
	ip netns exec "$LAB_NS_HOST" test -e /proc/sys/net/bridge/bridge-nf-call-iptables
}

# lab_brnf 0|1: set bridge-nf-call-ip{,6}tables in the host namespace
# (fails when br_netfilter is not loaded); lab_brnf alone prints the value.
lab_brnf() {
	if [ $# = 0 ]; then
		ip netns exec "$LAB_NS_HOST" cat /proc/sys/net/bridge/bridge-nf-call-iptables
		return
	fi
	lab_brnf_available || {
		lab_log "br_netfilter is not loaded: cannot set bridge-nf-call-iptables"
		return 1
	}
	lab__sysctl "$LAB_NS_HOST" "net.bridge.bridge-nf-call-iptables=$1" \
		"net.bridge.bridge-nf-call-ip6tables=$1"
}

# ---------------------------------------------------------------- counters

lab__count_get() {
	# lab__count_get SET ELEMENT -> packets (0 when absent)
	local out
	out=$(ip netns exec "$LAB_NS_UP" nft get element inet lab "$1" "{ $2 }" 2>/dev/null) || {
		echo 0
		return 0
	}
	printf '%s\n' "$out" | grep -o 'packets [0-9]*' | head -n 1 | cut -d' ' -f2
}

# lab_count ADDR [PROTO PORT]: packets that reached ADDR (all protocols), or
# ADDR's PROTO (tcp|udp) PORT, from the host side since the last reset.
lab_count() {
	local set=a4 el=$1
	case $1 in *:*) set=a6 ;; esac
	if [ $# -ge 3 ]; then
		set=p${set#a}
		el="$1 . $2 . $3"
	fi
	lab__count_get "$set" "$el"
}

# lab_count_total: every packet that arrived in up from the host side.
lab_count_total() {
	ip netns exec "$LAB_NS_UP" nft list chain inet lab pre |
		grep 'all from host' | grep -o 'packets [0-9]*' | cut -d' ' -f2
}

lab_count_reset() {
	ip netns exec "$LAB_NS_UP" nft -f - <<'EOF'
flush set inet lab a4
flush set inet lab a6
flush set inet lab p4
flush set inet lab p6
reset counters table inet lab
EOF
}

# lab_count_dump: everything counted so far (for failure messages).
lab_count_dump() {
	ip netns exec "$LAB_NS_UP" nft list table inet lab | grep -E 'elements|counter packets' || true
}

# ---------------------------------------------------------------- users

lab__group() {
	getent group "$1" >/dev/null || groupadd --system "$1" 2>/dev/null ||
		getent group "$1" >/dev/null || lab_die "cannot create group $1"
}

lab__user() {
	# lab__user NAME [SUPPLEMENTARY-GROUP]
	if ! getent passwd "$1" >/dev/null; then
		useradd --system --no-create-home --shell /usr/sbin/nologin \
			--user-group "$1" 2>/dev/null ||
			getent passwd "$1" >/dev/null || lab_die "cannot create user $1"
	fi
	if [ -n "${2:-}" ]; then
		case " $(id -nG "$1") " in
		*" $2 "*) ;;
		*) usermod -a -G "$2" "$1" ;;
		esac
	fi
}

# lab_users: system users the daemons and tests need (idempotent).
# egressjail (netjaild; group egressjail owns the control sockets, 0660),
# egress-connect and egress-dns (members of group egressjail), ejagent (a
# jailed local user), ejother (never jailed).
lab_users() {
	# lab tests run two at a time (meson's is_parallel): useradd and
	# usermod lock /etc/passwd and /etc/group and fail, not wait, when
	# another holds the lock, so one test creates users at a time
	exec {LAB__USERS_LOCK}>/run/lock/egressjail-lab-users.lock
	flock "$LAB__USERS_LOCK"
	lab__users_locked
	flock -u "$LAB__USERS_LOCK"
	exec {LAB__USERS_LOCK}>&-
}

lab__users_locked() {
	lab__group egressjail
	if ! getent passwd egressjail >/dev/null; then
		useradd --system --no-create-home --shell /usr/sbin/nologin \
			-g egressjail egressjail 2>/dev/null ||
			getent passwd egressjail >/dev/null || lab_die "cannot create user egressjail"
	fi
	lab__user egress-connect egressjail
	lab__user egress-dns egressjail
	lab__user ejagent
	lab__user ejother
}

# ---------------------------------------------------------------- certificates

lab__cert() {
	# lab__cert NAME SAN: key + cert signed by the lab CA
	local d=$LAB_DIR/certs
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$d/$1.key" -out "$d/$1.pem" -subj "/CN=${2%%,*}" \
		-addext "subjectAltName=$2" -addext "basicConstraints=critical,CA:FALSE" \
		-addext "extendedKeyUsage=serverAuth" \
		-CA "$d/ca.pem" -CAkey "$d/ca.key" -days 30 2>/dev/null ||
		lab_die "openssl: cannot make certificate $1"
	chmod 0644 "$d/$1.key"
}

# lab_certs: the lab CA ($LAB_DIR/ca.pem) and server certificates in
# $LAB_DIR/certs/{doh,exit,forbidden,hop}.{pem,key}. Keys are world-readable
# on purpose: peers drop privileges and these are throwaway test keys.
lab_certs() {
	local d=$LAB_DIR/certs
	[ ! -f "$LAB_DIR/ca.pem" ] || return 0
	mkdir -p "$d"
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$d/ca.key" -out "$d/ca.pem" -subj "/CN=egressjail lab CA" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" -days 30 2>/dev/null ||
		lab_die "openssl: cannot make the lab CA"
	lab__cert doh "DNS:doh.test,DNS:doh2.test,IP:$LAB_DOH,IP:$LAB_DOH2,IP:$LAB_DOH6,IP:$LAB_DOH2_6"
	lab__cert exit "DNS:smoke.test,DNS:exit.test,IP:$LAB_EXIT,IP:$LAB_EXIT6"
	lab__cert forbidden "DNS:forbidden.test,IP:$LAB_FORBIDDEN,IP:$LAB_FORBIDDEN6"
	lab__cert hop "DNS:hop-a.test,DNS:hop-b.test,DNS:hop-c.test,IP:$LAB_HOP_A,IP:$LAB_HOP_B,IP:$LAB_HOP_C"
	cp "$d/ca.pem" "$LAB_DIR/ca.pem"
}

# ---------------------------------------------------------------- peers

# lab_spawn NAME NS CMD...: start CMD in the background inside NS (own
# session), output to $LAB_DIR/NAME.log, pid to $LAB_DIR/NAME.pid (and in
# LAB_PID). Whatever runs in a lab namespace is stopped at teardown.
lab_spawn() {
	local name=$1 ns
	ns=$(lab_ns "$2")
	shift 2
	if [ -z "$LAB_DIR" ] || [ ! -d "$LAB_DIR" ]; then
		lab_die "lab_spawn $name: no lab (call lab_up first)"
	fi
	# a restarted daemon's report must not be overwritten unseen
	if lab__sanitizer_file "$LAB_DIR/$name.log"; then
		mv "$LAB_DIR/$name.log" "$LAB_DIR/$name.log.$(lab_ms)"
	fi
	if [ "${LAB__SPAWN_NET:-0}" = 1 ]; then
		nsenter --net="/run/netns/$ns" setsid "$@" >"$LAB_DIR/$name.log" 2>&1 </dev/null &
	else
		ip netns exec "$ns" setsid "$@" >"$LAB_DIR/$name.log" 2>&1 </dev/null &
	fi
	LAB_PID=$!
	# teardown kills by namespace; spare the caller bash's "Killed" notes
	disown "$LAB_PID"
	echo "$LAB_PID" >"$LAB_DIR/$name.pid"
}

# lab_spawn_net NAME NS CMD...: lab_spawn, entering only NS's network
# namespace (nsenter --net): `ip netns exec` remounts /sys, which hides the
# cgroup mounts container runtimes (containerd, dockerd, podman) need.
lab_spawn_net() {
	LAB__SPAWN_NET=1 lab_spawn "$@"
}

# lab_stop NAME: TERM the process lab_spawn started as NAME, wait up to 3 s.
lab_stop() {
	local f=$LAB_DIR/$1.pid p i
	[ -f "$f" ] || return 0
	p=$(cat "$f")
	kill -TERM "$p" 2>/dev/null || return 0
	for i in $(seq 1 60); do
		lab__alive_pid "$p" || break
		sleep 0.05
	done
	kill -KILL "$p" 2>/dev/null || true
	rm -f "$f"
}

lab__peer_failed() {
	# lab__peer_failed NAME WHAT
	local f
	lab_log "$1 did not come up ($2); its log:"
	for f in "$LAB_DIR/$1.log" "$LAB_DIR/$1.socat" "$LAB_DIR/$1.d"/*.log; do
		[ -s "$f" ] || continue
		tail -n 20 "$f" | sed 's/^/    | /' >&2
	done
	lab_die "peer $1 failed"
}

# lab_alive NAME: true while the process lab_spawn started as NAME runs.
lab_alive() {
	local p
	p=$(cat "$LAB_DIR/$1.pid" 2>/dev/null) || return 1
	lab__alive_pid "$p"
}

# lab__peer_wait NAME SECS PROBE...: until PROBE succeeds; dies showing the
# log as soon as the peer has exited or SECS have passed.
lab__peer_wait() {
	local name=$1 secs=$2 end
	shift 2
	end=$(($(lab_ms) + secs * 1000))
	while ! "$@" >/dev/null 2>&1; do
		lab_alive "$name" || lab__peer_failed "$name" "it exited"
		[ "$(lab_ms)" -lt "$end" ] || lab__peer_failed "$name" "no answer in $secs s: $*"
		sleep 0.05
	done
	lab_alive "$name" || lab__peer_failed "$name" "it exited (is another on its address?)"
}

# lab_start_tinyproxy ADDR [PORT]: tinyproxy in up, CONNECT to any port,
# clients from the lab nets; outgoing connections leave from ADDR.
# Optional env LAB_PROXY_AUTH=user:password adds Basic auth.
lab_start_tinyproxy() {
	local addr=$1 port=${2:-$LAB_HOP_PORT} name d
	name=tinyproxy-$addr-$port
	d=$LAB_DIR/$name.d
	mkdir -p "$d"
	{
		echo "User nobody"
		echo "Group nogroup"
		echo "Port $port"
		echo "Listen $addr"
		echo "Bind $addr"
		echo "Timeout 60"
		echo "MaxClients 200"
		echo "LogLevel Connect"
		echo "Allow 127.0.0.0/8"
		echo "Allow $LAB_NET4"
		echo "Allow $LAB_UPNET4"
		echo "Allow $LAB_NET6"
		echo "Allow $LAB_UPNET6"
		echo "DisableViaHeader Yes"
		if [ -n "${LAB_PROXY_AUTH:-}" ]; then
			echo "BasicAuth ${LAB_PROXY_AUTH%%:*} ${LAB_PROXY_AUTH#*:}"
		fi
		# no ConnectPort line: CONNECT is allowed to every port
	} >"$d/tinyproxy.conf"
	lab_spawn "$name" up tinyproxy -d -c "$d/tinyproxy.conf"
	lab__peer_wait "$name" 10 lab_wait_tcp up "$addr" "$port" 0
}

# lab_start_squid ADDR [PORT]: squid in up, no cache, CONNECT to any port
# from the lab nets, outgoing from ADDR. Env LAB_PROXY_AUTH=user:password
# requires Basic auth; LAB_SQUID_TLS_PORT=N adds an https_port (lab CA cert).
lab_start_squid() {
	local addr=$1 port=${2:-$LAB_HOP_PORT} name d
	name=squid-$addr-$port
	d=$LAB_DIR/$name.d
	mkdir -p "$d"
	chown proxy:proxy "$d" 2>/dev/null || chmod 0777 "$d"
	{
		echo "http_port $addr:$port"
		if [ -n "${LAB_SQUID_TLS_PORT:-}" ]; then
			echo "https_port $addr:$LAB_SQUID_TLS_PORT tls-cert=$LAB_DIR/certs/hop.pem tls-key=$LAB_DIR/certs/hop.key"
		fi
		echo "pid_filename $d/squid.pid"
		echo "cache_log $d/cache.log"
		echo "access_log stdio:$d/access.log"
		echo "cache_store_log none"
		echo "cache deny all"
		echo "cache_mem 8 MB"
		echo "workers 1"
		echo "shutdown_lifetime 0 seconds"
		echo "visible_hostname $name"
		echo "tcp_outgoing_address $addr"
		case $addr in 10.78.0.*) echo "tcp_outgoing_address fd78::${addr##*.}" ;; esac
		echo "dns_nameservers $LAB_DOH"
		echo "dns_timeout 5 seconds"
		echo "connect_timeout 10 seconds"
		echo "coredump_dir $d"
		echo "pinger_enable off"
		echo "acl lab src 127.0.0.0/8 $LAB_NET4 $LAB_UPNET4 $LAB_NET6 $LAB_UPNET6"
		if [ -n "${LAB_PROXY_AUTH:-}" ]; then
			printf '%s:%s\n' "${LAB_PROXY_AUTH%%:*}" \
				"$(openssl passwd -apr1 "${LAB_PROXY_AUTH#*:}")" >"$d/passwd"
			chmod 0644 "$d/passwd"
			echo "auth_param basic program /usr/lib/squid/basic_ncsa_auth $d/passwd"
			echo "auth_param basic realm lab"
			echo "acl authed proxy_auth REQUIRED"
			echo "http_access deny !authed"
		fi
		echo "http_access allow lab"
		echo "http_access deny all"
	} >"$d/squid.conf"
	lab_spawn "$name" up squid -N -f "$d/squid.conf"
	lab__peer_wait "$name" 20 lab_wait_tcp up "$addr" "$port" 0
}

# The zone "test." both DoH servers serve (authoritative, so in-zone CNAME
# chains come whole and wildcards work); $1 names the server in whoami.test.
lab__zone() {
	cat <<EOF
\$ORIGIN test.
\$TTL 300
@		SOA	ns.test. hostmaster.test. 1 3600 600 86400 60
@		NS	ns.test.
ns		A	$LAB_DOH
smoke		A	$LAB_EXIT
smoke		AAAA	$LAB_EXIT6
smoke		TXT	"smoke"
exit		A	$LAB_EXIT
exit		AAAA	$LAB_EXIT6
forbidden	A	$LAB_FORBIDDEN
forbidden	AAAA	$LAB_FORBIDDEN6
direct		A	$LAB_DIRECT
direct		AAAA	$LAB_DIRECT6
db		A	$LAB_DIRECT
short	2	A	$LAB_DIRECT
hop-a		A	$LAB_HOP_A
hop-b		A	$LAB_HOP_B
hop-c		A	$LAB_HOP_C
doh		A	$LAB_DOH
doh2		A	$LAB_DOH2
leak		A	$LAB_INET4
leak		AAAA	$LAB_INET6
v6only		AAAA	$LAB_EXIT6
rebind		A	10.0.0.1
rebind6		AAAA	fd00::1
loopback	A	127.0.0.1
metadata	A	169.254.169.254
hostself	A	$LAB_HOSTUP4
mixed		A	$LAB_EXIT
mixed		A	10.0.0.1
alias		CNAME	alias2
alias2		CNAME	smoke
badalias	CNAME	forbidden
whoami		TXT	"$1"
*.t	60	A	$LAB_INET4
*.t	60	TXT	"tunnel"
EOF
}

# lab_start_doh ADDR: unbound in up serving DoH on ADDR:443 (path
# /dns-query, cert for doh.test/doh2.test/ADDR from the lab CA) and plain
# DNS on ADDR:53, for the local zone "test." only (see README); every query
# is logged (lab_doh_queries). Env LAB_DOH_EXTRA: more server: lines.
lab_start_doh() {
	local addr=$1 name d which addr6=""
	name=doh-$addr
	d=$LAB_DIR/$name.d
	mkdir -p "$d"
	case $addr in
	"$LAB_DOH") which=doh1 addr6=$LAB_DOH6 ;;
	"$LAB_DOH2") which=doh2 addr6=$LAB_DOH2_6 ;;
	*) which=$addr ;;
	esac
	{
		echo "server:"
		echo "	verbosity: 1"
		echo "	use-syslog: no"
		echo "	log-queries: yes"
		echo "	logfile: \"\""
		echo "	username: \"\""
		echo "	chroot: \"\""
		echo "	directory: \"$d\""
		echo "	pidfile: \"$d/unbound.pid\""
		echo "	do-daemonize: no"
		echo "	num-threads: 1"
		echo "	so-reuseport: no"
		echo "	module-config: \"iterator\""
		echo "	interface: $addr@53"
		echo "	interface: $addr@443"
		if [ -n "$addr6" ]; then
			echo "	interface: $addr6@53"
			echo "	interface: $addr6@443"
		fi
		echo "	https-port: 443"
		echo "	http-endpoint: \"$LAB_DOH_PATH\""
		echo "	tls-service-key: \"$LAB_DIR/certs/doh.key\""
		echo "	tls-service-pem: \"$LAB_DIR/certs/doh.pem\""
		echo "	access-control: 0.0.0.0/0 allow"
		echo "	access-control: ::/0 allow"
		echo "	local-zone: \".\" static"
		echo "	local-zone: \"test.\" transparent"
		if [ -n "${LAB_DOH_EXTRA:-}" ]; then
			printf '%s\n' "$LAB_DOH_EXTRA"
		fi
		echo "auth-zone:"
		echo "	name: \"test.\""
		echo "	zonefile: \"$d/test.zone\""
		echo "	for-downstream: yes"
		echo "	for-upstream: yes"
		echo "	fallback-enabled: no"
	} >"$d/unbound.conf"
	lab__zone "$which" >"$d/test.zone"
	unbound-checkconf "$d/unbound.conf" >"$LAB_DIR/$name.log" 2>&1 ||
		lab__peer_failed "$name" "unbound-checkconf"
	lab_spawn "$name" up unbound -d -c "$d/unbound.conf"
	lab__peer_wait "$name" 10 lab_wait_tcp up "$addr" 443 0
	lab__peer_wait "$name" 5 lab_wait_udp up "$addr" 53 0
}

# lab_doh_queries ADDR NAME: how many queries for NAME (any type) the DoH
# server on ADDR has logged.
lab_doh_queries() {
	local n
	n=$(grep -ciF " $2. " "$LAB_DIR/doh-$1.log" 2>/dev/null) || true
	echo "${n:-0}"
}

# lab_start_udp_echo ADDR PORT: a socat UDP echo in up.
lab_start_udp_echo() {
	local addr=$1 port=$2 name fam=UDP4 bind=$1
	case $addr in *:*) fam=UDP6 bind=[$addr] ;; esac
	name=udpecho-$addr-$port
	lab_spawn "$name" up socat -lf "$LAB_DIR/$name.socat" \
		"$fam-RECVFROM:$port,bind=$bind,fork" PIPE
	lab__peer_wait "$name" 5 lab_wait_udp up "$addr" "$port" 0
}

# lab_start_exit: nginx in up: the exit web server smoke.test/exit.test on
# 10.78.0.10:80/443 ("exit-ok HOST"; /whoami answers the client address),
# the forbidden target 10.78.0.11:80/443/8080 ("forbidden-reached HOST"),
# the direct endpoint 10.78.0.20:5432 ("direct-ok"), v6 alike; and UDP
# echoes on 10.78.0.11 and fd78::11 ports 53/443/9999 so UDP leaks show.
lab_start_exit() {
	local name=nginx d
	d=$LAB_DIR/$name.d
	mkdir -p "$d/tmp" "$d/www"
	head -c 1048576 /dev/urandom >"$d/www/big"
	cat >"$d/nginx.conf" <<EOF
worker_processes 1;
daemon off;
user nobody nogroup;
pid $d/nginx.pid;
error_log $d/error.log;
events { worker_connections 512; }
http {
	access_log $d/access.log;
	client_body_temp_path $d/tmp/body;
	proxy_temp_path $d/tmp/proxy;
	fastcgi_temp_path $d/tmp/fastcgi;
	uwsgi_temp_path $d/tmp/uwsgi;
	scgi_temp_path $d/tmp/scgi;
	default_type text/plain;
	ssl_certificate $LAB_DIR/certs/exit.pem;
	ssl_certificate_key $LAB_DIR/certs/exit.key;
	server {
		listen $LAB_EXIT:80;
		listen [$LAB_EXIT6]:80;
		listen $LAB_EXIT:443 ssl;
		listen [$LAB_EXIT6]:443 ssl;
		server_name smoke.test exit.test;
		add_header X-Lab-Peer \$remote_addr always;
		location = /whoami { return 200 "\$remote_addr\n"; }
		location = /big { root $d/www; }
		location / { return 200 "exit-ok \$host\n"; }
	}
	server {
		listen $LAB_FORBIDDEN:80;
		listen [$LAB_FORBIDDEN6]:80;
		listen $LAB_FORBIDDEN:8080;
		listen [$LAB_FORBIDDEN6]:8080;
		listen $LAB_FORBIDDEN:443 ssl;
		listen [$LAB_FORBIDDEN6]:443 ssl;
		ssl_certificate $LAB_DIR/certs/forbidden.pem;
		ssl_certificate_key $LAB_DIR/certs/forbidden.key;
		location / { return 200 "forbidden-reached \$host\n"; }
	}
	server {
		listen $LAB_DIRECT:$LAB_DIRECT_PORT;
		listen [$LAB_DIRECT6]:$LAB_DIRECT_PORT;
		location / { return 200 "direct-ok\n"; }
	}
}
EOF
	lab_spawn "$name" up nginx -c "$d/nginx.conf" -e "$d/error.log"
	lab__peer_wait "$name" 10 lab_wait_tcp up "$LAB_EXIT" 443 0
	lab__peer_wait "$name" 5 lab_wait_tcp up "$LAB_DIRECT" "$LAB_DIRECT_PORT" 0
	local p
	for p in 53 443 9999; do
		lab_start_udp_echo "$LAB_FORBIDDEN" "$p"
		lab_start_udp_echo "$LAB_FORBIDDEN6" "$p"
	done
}

# lab_start_all: tinyproxy on hops A and B, squid on hop C (all :3128),
# unbound DoH on both DoH addresses, nginx and the UDP echoes.
lab_start_all() {
	local t0
	t0=$(lab_ms)
	lab_start_exit
	lab_start_doh "$LAB_DOH"
	lab_start_doh "$LAB_DOH2"
	lab_start_tinyproxy "$LAB_HOP_A" "$LAB_HOP_PORT"
	lab_start_tinyproxy "$LAB_HOP_B" "$LAB_HOP_PORT"
	lab_start_squid "$LAB_HOP_C" "$LAB_HOP_PORT"
	lab_debug "peers took $(($(lab_ms) - t0)) ms"
}
