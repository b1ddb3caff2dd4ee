#!/usr/bin/env bash
# tests/bench/netjaild/bench.sh - netjaild's numbers (root), in network
# namespaces of its own (anonymous ones from unshare, and nbnj<pid>):
#
#   install-10k   one netlink transaction that installs the whole table with
#                 10,000 direct endpoints in a fresh namespace (bench_netjaild
#                 install: rules_build from a config of 10,000 directs, then
#                 install_table; the create is what netjaild does at start,
#                 the replace what it does on reload), and the read-back that
#                 netjaild does before READY=1
#   start-10k     the real netjaild started with a config of 10,000 `direct =`
#                 lines, from exec to its event=ready log line (config parse,
#                 install, read-back, routes, conntrack flush, control socket)
#   set-update    the round trip of one set update the way dohd sends it
#                 (dohd/feed.c): SET_UPDATE over the long-lived control
#                 connection, netjaild's netlink batch, the kernel's ack,
#                 netjaild's SET_ACK; also with a new connection per update
#   refresh-10k   the same round trip for one learned direct element pushed
#                 again and again (dohd re-resolving a busy direct name: a
#                 refresh, destroy + add in one batch) with the 10,000
#                 configured direct endpoints in their interval set beside it;
#                 learned directs have a hash set of their own
#                 (direct4_learned), so this must not grow with the
#                 configured set (it cost ~57 ms when they shared direct4)
#
# Every round uses a new namespace; figures are medians over the rounds.
#
# Usage (root): EJ_BUILD=dir tests/bench/netjaild/bench.sh [--quick] [--rounds N] [BUILD_DIR]
# (--directs N: another number of direct endpoints, for a look at how the
# figures grow; the workload names still say 10k.  EJ_NETJAILD=path: another
# netjaild binary for start-10k, set-update and refresh-10k, e.g. an older
# build for a before/after figure)
# stdout: RESULT and NOTE lines only (tests/bench/README.md); the rest on stderr.
set -u

rounds=5 nupd=1000 nref=200 ndirect=10000
build=${EJ_BUILD:-build}
while [ $# -gt 0 ]; do
	case $1 in
	--quick) rounds=3 nupd=300 nref=100 ;;
	--rounds) rounds=${2:?--rounds N}; shift ;;
	--rounds=*) rounds=${1#--rounds=} ;;
	--directs) ndirect=${2:?--directs N}; shift ;;
	-*) echo "usage: $0 [--quick] [--rounds N] [--directs N] [BUILD_DIR]" >&2; exit 2 ;;
	*) build=$1 ;;
	esac
	shift
done
case $rounds in '' | *[!0-9]* | 0) echo "--rounds: a positive number" >&2; exit 2 ;; esac
case $ndirect in '' | *[!0-9]* | 0) echo "--directs: 1 to 10000" >&2; exit 2 ;; esac

exec 3>&1 1>&2
say() { printf '%s\n' "$*" >&3; }

if [ "$(id -u)" -ne 0 ]; then
	say "NOTE netjaild bench: not root, nothing measured"
	exit 77
fi
build=$(cd "$build" && pwd) || exit 1
bench=$build/tests/bench/netjaild/bench_netjaild
netjaild=${EJ_NETJAILD:-$build/netjaild/netjaild}
for f in "$bench" "$netjaild"; do
	[ -x "$f" ] || { say "NOTE netjaild bench: $f missing, nothing measured"; exit 1; }
done

ns=${EJ_LAB_PREFIX:-}nbnj$$
tmp=$(mktemp -d /tmp/nbnj.XXXXXX)
chmod 755 "$tmp"
pid=
# shellcheck disable=SC2317 # called from the EXIT trap
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# median of the numbers given as arguments ("" when none)
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
		END { if (NR == 0) exit; m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		      printf "%.3f\n", m }'
}

# field KEY LINE: the value of KEY=value in a line of key=value pairs
field() {
	local kv
	for kv in $2; do
		case $kv in "$1"=*) printf '%s\n' "${kv#*=}"; return 0 ;; esac
	done
	return 1
}

# a netjaild configuration with $ndirect direct endpoints
{
	cat <<EOF
[jail]
user = nobody
runtime_dir = $tmp/run
group = root
EOF
	awk -v n="$ndirect" 'BEGIN { for (i = 0; i < n; i++)
		printf "direct = 10.%d.%d.%d:5432\n", int(i / 65536), int(i / 256) % 256, i % 256 }'
	# names on 443, so the pushed elements are a direct name's; netjaild
	# holds at most 256 live learned addresses per name (netjaild/admit.h)
	awk 'BEGIN { for (i = 0; i < 32; i++) printf "direct = bench-%d.test:443\n", i }'
	cat <<EOF
[chain]
hop = http://10.79.0.2:3128
[connectd]
user = proxy
transparent_listen = 127.0.0.1:15001
[dohd]
user = irc
listen = 127.0.0.1:15353
upstream = https://dns.example.net/dns-query 10.79.0.4
[netjaild]
user = daemon
[policy]
allow = example.com
EOF
} >"$tmp/egressjail.conf"

# milliseconds since the epoch of a log line's ts=YYYY-MM-DDTHH:MM:SS.mmmZ
log_ms() {
	local ts
	ts=$(sed -n 's/^.*ts=\([0-9T:.-]*\)Z.*$/\1/p' <<<"$1")
	[ -n "$ts" ] || return 1
	printf '%s\n' "$(($(date -u -d "${ts%.*}" +%s) * 1000 + 10#${ts##*.}))"
}

declare -a create replace readback build_ms total ready feed_med feed_p99 ref_med rt_med one_med one_p99
rules='' elems=''
for r in $(seq 1 "$rounds"); do
	echo "== round $r/$rounds"
	# install: a fresh anonymous namespace per round, so the first install creates
	if line=$(unshare -n "$bench" install "$ndirect") && [ -n "$line" ]; then
		echo "$line"
		create+=("$(field create_ms "$line")")
		replace+=("$(field replace_ms "$line")")
		readback+=("$(field readback_ms "$line")")
		build_ms+=("$(field build_ms "$line")")
		total+=("$(awk -v a="${build_ms[-1]}" -v b="${create[-1]}" -v c="${readback[-1]}" 'BEGIN { printf "%.3f", a + b + c }')")
		rules=$(field rules "$line") elems=$(field elems "$line")
	else
		say "NOTE round=$r workload=install-10k impl=netjaild failed (left out of the median)"
	fi

	# the daemon: start, time to ready, then set updates as dohd's user
	ip netns del "$ns" 2>/dev/null
	ip netns add "$ns" || { say "NOTE netjaild bench: cannot create namespace $ns"; exit 1; }
	ip -n "$ns" link set lo up
	rm -rf "$tmp/run"
	: >"$tmp/log"
	t0=$(date +%s%3N)
	ip netns exec "$ns" "$netjaild" -c "$tmp/egressjail.conf" 2>"$tmp/log" &
	pid=$!
	i=0
	while ! grep -q 'event=ready' "$tmp/log" && [ $i -lt 1000 ] && kill -0 "$pid" 2>/dev/null; do
		sleep 0.01
		i=$((i + 1))
	done
	if ! readyline=$(grep -m1 'event=ready' "$tmp/log"); then
		cat "$tmp/log"
		say "NOTE round=$r netjaild did not start with $ndirect direct endpoints (start-10k and set-update left out)"
		kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=
		continue
	fi
	if t1=$(log_ms "$readyline"); then
		ready+=("$((t1 - t0))")
		echo "start: exec to ready $((t1 - t0)) ms"
	fi
	# dohd's role: its user (irc) with the control group (root)
	as_dohd=(ip netns exec "$ns" setpriv --reuid=irc --regid=0 --clear-groups)
	sock=$tmp/run/netjaild.sock
	# new elements, then the same ones again (a refresh: dohd re-resolving)
	if line=$("${as_dohd[@]}" "$bench" feed "$sock" "$nupd" 0); then
		echo "new elements: $line"
		feed_med+=("$(field median_ms "$line")")
		feed_p99+=("$(field p99_ms "$line")")
	else
		say "NOTE round=$r workload=set-update (feed) failed (left out of the median)"
	fi
	if line=$("${as_dohd[@]}" "$bench" feed "$sock" "$nupd" 0); then
		echo "refresh: $line"
		ref_med+=("$(field median_ms "$line")")
	else
		say "NOTE round=$r workload=set-update (refresh) failed (left out of the median)"
	fi
	if line=$("${as_dohd[@]}" "$bench" setrt "$sock" "$nupd" 20000); then
		echo "new connection each: $line"
		rt_med+=("$(field median_ms "$line")")
	else
		say "NOTE round=$r workload=set-update (new connection) failed (left out of the median)"
	fi
	# one learned direct element (10.250.0.0:443), pushed once, then the
	# same element $nref times: every update is a refresh
	rbase=$((50 * 65536))
	if "${as_dohd[@]}" "$bench" feed "$sock" 1 "$rbase" >/dev/null &&
	    line=$("${as_dohd[@]}" "$bench" refresh "$sock" "$nref" "$rbase"); then
		echo "refresh of one element: $line"
		one_med+=("$(field median_ms "$line")")
		one_p99+=("$(field p99_ms "$line")")
	else
		say "NOTE round=$r workload=refresh-10k failed (left out of the median)"
	fi
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	pid=
done

# result WORKLOAD METRIC UNIT BETTER VALUES...
result() {
	local w=$1 m=$2 u=$3 b=$4 v
	shift 4
	if [ $# -eq 0 ]; then
		say "NOTE workload=$w impl=netjaild metric=$m: no successful run"
		return
	fi
	v=$(median "$@")
	say "RESULT bench=netjaild workload=$w impl=netjaild metric=$m value=$v unit=$u better=$b runs=$#"
}
result install-10k time ms lower "${create[@]}"
result install-10k replace_time ms lower "${replace[@]}"
result install-10k readback_time ms lower "${readback[@]}"
result install-10k build_time ms lower "${build_ms[@]}"
result install-10k time_total ms lower "${total[@]}"
result start-10k time_to_ready ms lower "${ready[@]}"
result set-update time ms lower "${feed_med[@]}"
result set-update time_p99 ms lower "${feed_p99[@]}"
result set-update time_refresh ms lower "${ref_med[@]}"
result set-update time_newconn ms lower "${rt_med[@]}"
result refresh-10k time ms lower "${one_med[@]}"
result refresh-10k time_p99 ms lower "${one_p99[@]}"
say "NOTE netjaild install-10k: $ndirect direct endpoints${elems:+ ($elems set elements read back)}, ${rules:-?} rules; time = the first install_table in a new namespace (one netlink transaction: table, sets with all elements, rules), replace_time = the same batch over an existing table (reload), readback_time = the check netjaild makes before READY=1, build_time = rules_build in memory, time_total = build + install + read-back; medians over $rounds namespaces"
say "NOTE netjaild start-10k: the netjaild binary with $ndirect 'direct =' lines, from exec to its event=ready log line (config parse, install, read-back, routes, conntrack flush, control socket, privilege drop), millisecond log stamps"
say "NOTE netjaild set-update: time = median of $nupd SET_UPDATE round trips per round as dohd makes them (dohd/feed.c: long-lived control connection, one element, until netjaild's SET_ACK, which follows the kernel's ack of the set-element batch), time_p99 its p99, into direct4_learned with the $ndirect configured endpoints in direct4 beside it; time_refresh = the same $nupd elements again (already in the set: destroy + add in one batch); time_newconn = new elements with a new connection per update (eg_ipc_call); medians over $rounds rounds"
say "NOTE netjaild refresh-10k: time = median of $nref SET_UPDATE round trips (as set-update) that all push the same learned direct element 10.250.0.0:443, already in the set, so each is a refresh (destroy + add in one batch), time_p99 its p99; the $ndirect configured endpoints sit in the interval set direct4, learned directs in the hash set direct4_learned; medians over $rounds rounds${EJ_NETJAILD:+ (netjaild: $EJ_NETJAILD)}"
exit 0
