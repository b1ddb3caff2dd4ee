#!/usr/bin/env bash
# tests/bench/dohd/dnsperf_dohd.sh - dohd against unbound and dnsmasq with
# dnsperf, in lab namespaces (prefix dp), every peer in the same run,
# alternating within each round; medians over the rounds.
#
#   dns-cached  100 allowed names, each answered from the resolver's memory:
#               dohd's cache (warmed first), unbound local-data (one
#               thread), dnsmasq address=/hit.bench/
#   dns-denied  100 names outside the allowlist: dohd NXDOMAIN with no
#               lookup, unbound local-zone always_nxdomain, dnsmasq
#               address=/deny.bench/ (NXDOMAIN)
#   dns-miss    dohd only: every query a distinct allowed name (*.miss.bench,
#               400,000 of them, more than the cache holds), resolved over
#               DoH on one HTTP/2 connection to a local unbound (https-port,
#               lab CA certificate, one thread, http-max-streams raised)
#               against unbound-fwd: unbound (one thread) forwarding the
#               same kind of names over DoT to that same upstream (its
#               tls-port), the usual encrypted forwarder (unbound cannot
#               forward over DoH); its names are distinct from dohd's
#               (new ones for each run), so both always miss.  Besides q/s and
#               lat_avg, lat_p50 and lat_p99 of the misses at a fixed 1000
#               q/s (dnsperf -v: every query's own latency), and the
#               upstream connections each one held.
#
# QPS: dnsperf closed loop, 8 sockets, 200 queries outstanding (500 for
# misses).  lat_avg: a separate run at a fixed offered load (-Q), so it is
# the time a query takes, not queueing behind the closed loop.  dnsperf is
# also run against dns_null (a trivial batched responder): its figure is
# the client's own ceiling on this machine.  Because the machine is
# shared, QPS follows the CPU share each process gets; the server's CPU
# time per answered query (from /proc, kernel time included) is printed
# as NOTE lines too, and is the steadier measure of efficiency.
#
# Also measured, reported as NOTE lines: the DoH upstream's own CPU during
# the misses, and a second dohd with log_level=info (one decision line per
# query, to a file) on the cached names.
#
# Usage (root): EJ_BUILD=dir tests/bench/dohd/dnsperf_dohd.sh [--quick] [--rounds N]
# Env: EJ_DOHD (the dohd binary), EJ_DOHD_BASE (an older dohd measured in
# the same rounds on cached and denied names, reported as NOTE lines: a
# before/after comparison that shares the machine's noise),
# EJ_BENCH_H2_STREAMS (the upstream's http-max-streams, default 1000;
# unbound's own default is 100).
# stdout: RESULT and NOTE lines only (tests/bench/README.md, run.sh);
# everything else goes to stderr.
set -eu
export EJ_LAB_PREFIX=${EJ_LAB_PREFIX:-dp}
here=$(cd "$(dirname "$0")" && pwd)
export EJ_SRC=${EJ_SRC:-$(cd "$here/../../.." && pwd)}

rounds=5 secs=4 lsecs=2 quick=0
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1 rounds=1 secs=3 lsecs=1 ;;
	--rounds) rounds=${2:?--rounds N}; shift ;;
	--rounds=*) rounds=${1#--rounds=} ;;
	*) echo "usage: $0 [--quick] [--rounds N]" >&2; exit 2 ;;
	esac
	shift
done
case $rounds in '' | *[!0-9]* | 0) echo "--rounds: a positive number" >&2; exit 2 ;; esac

# lib.sh reports on stdout in places; keep stdout for RESULT/NOTE lines.
exec 3>&1 1>&2
say() { printf '%s\n' "$*" >&3; }

. "$EJ_SRC/tests/lab/lib.sh"
lab_need dnsperf unbound dnsmasq
dohd=${EJ_DOHD:-$EJ_BUILD/dohd/dohd}
null=$EJ_BUILD/tests/bench/dohd/dns_null
ctl=$EJ_BUILD/egressctl/egressctl
[ -x "$dohd" ] || { say "NOTE dohd bench: no dohd at $dohd, nothing measured"; exit 1; }

lab_up
lab_users
chmod 755 "$LAB_DIR"
chmod 644 "$LAB_DIR/ca.pem"
D=$LAB_DIR
NHIT=100
NMISS=400000
HITADDR=$LAB_EXIT
h2streams=${EJ_BENCH_H2_STREAMS:-1000}

# ---- query files
for i in $(seq 0 $((NHIT - 1))); do printf 'h%03d.hit.bench A\n' "$i"; done >"$D/cached.txt"
for i in $(seq 0 $((NHIT - 1))); do printf 'd%03d.deny.bench A\n' "$i"; done >"$D/denied.txt"
awk -v n=$NMISS 'BEGIN { for (i = 0; i < n; i++) printf "m%06d.miss.bench A\n", i }' >"$D/miss.txt"
# names NAME PREFIX N: a query file of N names nobody asked for before
# (unbound's cache would hold every earlier one; dnsperf starts each run
# at the top of its file).
names() {
	awk -v n="$3" -v p="$2" 'BEGIN { for (i = 0; i < n; i++) printf "%s%06d.miss.bench A\n", p, i }' >"$D/$1.txt"
}

# ---- the DoH upstream: unbound in up, no query log, many streams
mkdir -p "$D/doh"
cat >"$D/doh/unbound.conf" <<CONF
server:
	verbosity: 0
	use-syslog: no
	logfile: ""
	username: ""
	chroot: ""
	directory: "$D/doh"
	pidfile: "$D/doh/unbound.pid"
	do-daemonize: no
	num-threads: 1
	so-reuseport: no
	module-config: "iterator"
	interface: $LAB_DOH@443
	https-port: 443
	interface: $LAB_DOH@853
	tls-port: 853
	http-endpoint: "$LAB_DOH_PATH"
	http-max-streams: $h2streams
	http-query-buffer-size: 64m
	http-response-buffer-size: 64m
	tcp-idle-timeout: 120000
	incoming-num-tcp: 64
	tls-service-key: "$D/certs/doh.key"
	tls-service-pem: "$D/certs/doh.pem"
	access-control: 0.0.0.0/0 allow
	local-zone: "." static
	local-zone: "hit.bench." redirect
	local-data: "hit.bench. 3600 IN A $HITADDR"
	local-zone: "miss.bench." redirect
	local-data: "miss.bench. 3600 IN A $HITADDR"
CONF
unbound-checkconf "$D/doh/unbound.conf" >&2 || lab_die "DoH unbound config"
lab_spawn doh up unbound -d -c "$D/doh/unbound.conf"
lab__peer_wait doh 10 lab_wait_tcp up "$LAB_DOH" 443 0

# ---- dohd
mkdir -p "$D/run"
cat >"$D/ej.conf" <<CONF
[jail]
interface = $LAB_BR
runtime_dir = $D/run
log_level = warn
[chain]
hop = http://$LAB_HOP_A:$LAB_HOP_PORT
[dohd]
listen = 127.0.0.1:15353
upstream = https://doh.test$LAB_DOH_PATH $LAB_DOH
ca_file = $D/ca.pem
rate_limit = 0
cache_size = 10000
max_connection_age = 1h
[policy]
permit_cidr = $LAB_UPNET4
allow = *.hit.bench
allow = *.miss.bench
CONF
chmod 644 "$D/ej.conf"
lab_spawn dohd host "$dohd" -c "$D/ej.conf"
# The same with a decision line per query (the shipped default level).
mkdir -p "$D/run-info"
sed -e 's/^log_level = warn$/log_level = info/' -e "s|^runtime_dir = .*|runtime_dir = $D/run-info|" \
	-e 's/^listen = 127.0.0.1:15353$/listen = 127.0.0.1:15357/' "$D/ej.conf" >"$D/ej-info.conf"
chmod 644 "$D/ej-info.conf"
lab_spawn dohdinfo host "$dohd" -c "$D/ej-info.conf"
base=${EJ_DOHD_BASE:-}
if [ -n "$base" ]; then
	mkdir -p "$D/run-base"
	sed -e "s|^runtime_dir = .*|runtime_dir = $D/run-base|" \
		-e 's/^listen = 127.0.0.1:15353$/listen = 127.0.0.1:15358/' "$D/ej.conf" >"$D/ej-base.conf"
	chmod 644 "$D/ej-base.conf"
	lab_spawn dohdbase host "$base" -c "$D/ej-base.conf"
	lab_wait_udp host 127.0.0.1 15358 10 || lab_die "base dohd did not start"
fi

# ---- unbound as a resolver: one thread, the names as local data
{
	cat <<CONF
server:
	interface: 127.0.0.1@15354
	port: 15354
	do-daemonize: no
	username: ""
	chroot: ""
	directory: "$D"
	pidfile: "$D/unbound-peer.pid"
	use-syslog: no
	logfile: ""
	verbosity: 0
	num-threads: 1
	so-reuseport: no
	access-control: 127.0.0.0/8 allow
	local-zone: "deny.bench." always_nxdomain
	local-zone: "hit.bench." static
CONF
	for i in $(seq 0 $((NHIT - 1))); do
		printf '\tlocal-data: "h%03d.hit.bench. 3600 IN A %s"\n' "$i" "$HITADDR"
	done
} >"$D/unbound-peer.conf"
unbound-checkconf "$D/unbound-peer.conf" >&2 || lab_die "unbound peer config"
lab_spawn unbound host unbound -d -c "$D/unbound-peer.conf"
# ---- unbound as an encrypted forwarder: the misses over DoT to the same
# upstream unbound (its tls-port), one thread, the lab CA
cat >"$D/unbound-fwd.conf" <<CONF
server:
	interface: 127.0.0.1@15359
	port: 15359
	do-daemonize: no
	username: ""
	chroot: ""
	directory: "$D"
	pidfile: "$D/unbound-fwd.pid"
	use-syslog: no
	logfile: ""
	verbosity: 0
	num-threads: 1
	so-reuseport: no
	module-config: "iterator"
	do-not-query-localhost: no
	access-control: 127.0.0.0/8 allow
	tls-cert-bundle: "$D/ca.pem"
forward-zone:
	name: "miss.bench."
	forward-addr: $LAB_DOH@853#doh.test
	forward-tls-upstream: yes
CONF
unbound-checkconf "$D/unbound-fwd.conf" >&2 || lab_die "unbound forwarder config"
lab_spawn unboundfwd host unbound -d -c "$D/unbound-fwd.conf"
lab_spawn dnsmasq host dnsmasq -k -p 15355 --listen-address=127.0.0.1 \
	--bind-interfaces --no-resolv --no-hosts --cache-size=10000 \
	--address=/hit.bench/"$HITADDR" --address=/deny.bench/ \
	--pid-file="$D/dnsmasq-peer.pid"
if [ -x "$null" ]; then lab_spawn null host "$null" 127.0.0.1 15356; fi
lab_wait_udp host 127.0.0.1 15353 10 || lab_die "dohd did not start: $(tail -5 "$D/dohd.log")"
lab_wait_udp host 127.0.0.1 15354 10 || lab_die "unbound did not start"
lab_wait_udp host 127.0.0.1 15355 10 || lab_die "dnsmasq did not start"
lab_wait_udp host 127.0.0.1 15357 10 || lab_die "dohd (info) did not start"
lab_wait_udp host 127.0.0.1 15359 10 || lab_die "unbound forwarder did not start"

declare -A port=([dohd]=15353 [unbound]=15354 [dnsmasq]=15355 [null]=15356 [dohdinfo]=15357 [dohdbase]=15358 [unboundfwd]=15359)

# cpu_ticks PID: utime+stime of a process, in clock ticks.
cpu_ticks() {
	awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0
}
hz=$(getconf CLK_TCK)

# run_dnsperf IMPL FILE SECS OUTSTANDING ARGS...: one dnsperf run; sets qps, lat_ms, lost,
# ccpu (client CPU %), scpu (server CPU %), ucpu (the DoH upstream's CPU %),
# cpq (server CPU microseconds per completed query), ok (1 or 0).
run_dnsperf() {
	local impl=$1 file=$2 s=$3 inflight=$4 out pid upid t0 t1 s0 s1 u0 u1 el completed sent
	shift 4
	pid=$(cat "$D/$impl.pid" 2>/dev/null || echo 0)
	upid=$(cat "$D/doh.pid" 2>/dev/null || echo 0)
	s0=$(cpu_ticks "$pid")
	u0=$(cpu_ticks "$upid")
	t0=$(lab_ms)
	out=$( { TIMEFORMAT='CPU %U %S'; time lab_exec host dnsperf -s 127.0.0.1 \
		-p "${port[$impl]}" -d "$file" -l "$s" -c 8 -q "$inflight" "$@" 2>&1; } 2>&1) || true
	t1=$(lab_ms)
	s1=$(cpu_ticks "$pid")
	u1=$(cpu_ticks "$upid")
	el=$((t1 - t0))
	qps=$(awk '/Queries per second/ { print $4 }' <<<"$out")
	lat_ms=$(awk '/Average Latency/ { printf "%.3f", $4 * 1000 }' <<<"$out")
	sent=$(awk '/Queries sent:/ { print $3 }' <<<"$out")
	completed=$(awk '/Queries completed:/ { print $3 }' <<<"$out")
	lost=$(awk '/Queries lost:/ { print $3 }' <<<"$out")
	ccpu=$(awk -v el="$el" '/^CPU / { printf "%.0f", ($2 + $3) * 100000 / el }' <<<"$out")
	scpu=$(awk -v a="$s0" -v b="$s1" -v hz="$hz" -v el="$el" \
		'BEGIN { printf "%.0f", (b - a) * 100000 / hz / el }')
	ucpu=$(awk -v a="$u0" -v b="$u1" -v hz="$hz" -v el="$el" \
		'BEGIN { printf "%.0f", (b - a) * 100000 / hz / el }')
	cpq=$(awk -v a="$s0" -v b="$s1" -v hz="$hz" -v n="${completed:-0}" \
		'BEGIN { if (n > 0) printf "%.2f", (b - a) * 1000000 / hz / n }')
	# Queries still in flight when dnsperf stops count as lost: up to
	# the outstanding limit is the client's doing, more is a failure.
	ok=1
	if [ -z "$qps" ] || [ -z "$sent" ] || [ "${sent:-0}" = 0 ] ||
		[ $(((sent - ${completed:-0}) * 100)) -gt $((sent + inflight * 100)) ]; then
		ok=0
		printf '%s\n' "$out" | tail -n 12 | sed 's/^/# dnsperf: /' >&2
	fi
	printf '# %s %s: qps=%s lat_ms=%s sent=%s completed=%s lost=%s client_cpu=%s%% server_cpu=%s%% doh_upstream_cpu=%s%% us_per_q=%s\n' \
		"$impl" "$(basename "$file" .txt)" "${qps:--}" "${lat_ms:--}" "${sent:--}" \
		"${completed:--}" "${lost:--}" "${ccpu:--}" "${scpu:--}" "${ucpu:--}" "${cpq:--}" >&2
}

# lat_pct IMPL FILE SECS QPS: a fixed-rate run with dnsperf -v (one line
# per query, its latency last); sets p50 and p99 (ms) and pn (answers).
lat_pct() {
	local out
	out=$(lab_exec host dnsperf -v -s 127.0.0.1 -p "${port[$1]}" -d "$2" -l "$3" \
		-c 8 -q 100 -Q "$4" 2>&1) || true
	read -r pn p50 p99 < <(awk '$1 == ">" && $2 == "NOERROR" { print $NF * 1000 }' <<<"$out" |
		sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print 0; exit }
			printf "%d %.3f %.3f\n", NR, v[int(NR * 0.5) + 1], v[int(NR * 0.99) + 1] }')
	echo "# $1 $(basename "$2" .txt) at $4 q/s: answered=$pn p50_ms=${p50:--} p99_ms=${p99:--}" >&2
}

declare -A samples
add() { samples[$1]="${samples[$1]:-} $2"; }
median() {
	tr ' ' '\n' <<<"$1" | awk 'NF' | sort -g | awk '{ v[NR] = $1 }
		END { if (NR == 0) exit; if (NR % 2) print v[(NR + 1) / 2];
		else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
nsamples() { tr ' ' '\n' <<<"${1:-}" | awk 'NF' | wc -l; }

status() {	# dohd's counters (egressctl exits non-zero: no netjaild)
	[ -x "$ctl" ] || return 0
	lab_exec host "$ctl" -c "$D/ej.conf" status 2>/dev/null || true
}
counter() { awk -F= -v k="$1" '$1 ~ "(^|[ \t])" k "$" { print $2; exit }' <<<"$2"; }

impls=(dohd unbound dnsmasq)
rot=(dohd unbound dnsmasq)
[ -z "$base" ] || rot+=(dohdbase)
declare -A wfile=([dns-cached]=$D/cached.txt [dns-denied]=$D/denied.txt)
missq=500
max_ccpu=0
for r in $(seq 1 "$rounds"); do
	echo "# round $r of $rounds" >&2
	# Warm every resolver's view of the cached names (dohd fills its cache).
	for i in "${rot[@]}"; do
		lab_exec host dnsperf -s 127.0.0.1 -p "${port[$i]}" -d "$D/cached.txt" \
			-n 3 -c 1 -q 10 >/dev/null 2>&1 || true
	done
	if [ -x "$null" ]; then
		run_dnsperf null "$D/cached.txt" "$secs" 200
		[ "$ok" = 1 ] && add null.qps "$qps" && add null.ccpu "$ccpu"
	fi
	for w in dns-cached dns-denied; do
		# rotate the order each round
		for k in "${!rot[@]}"; do
			i=${rot[$(((k + r) % ${#rot[@]}))]}
			run_dnsperf "$i" "${wfile[$w]}" "$secs" 200
			if [ "$ok" = 1 ]; then
				add "$w.$i.qps" "$qps"
				add "$w.$i.cpq" "$cpq"
				[ "${ccpu:-0}" -gt "$max_ccpu" ] && max_ccpu=$ccpu
			else
				say "NOTE round=$r workload=$w impl=$i failed: dnsperf completed too few queries (left out of the median)"
			fi
			run_dnsperf "$i" "${wfile[$w]}" "$lsecs" 50 -Q 10000
			if [ "$ok" = 1 ]; then
				add "$w.$i.lat" "$lat_ms"
			else
				say "NOTE round=$r workload=$w impl=$i latency run failed (left out of the median)"
			fi
		done
	done
	# dohd at log_level=info, cached names (NOTE only)
	lab_exec host dnsperf -s 127.0.0.1 -p "${port[dohdinfo]}" -d "$D/cached.txt" \
		-n 3 -c 1 -q 10 >/dev/null 2>&1 || true
	run_dnsperf dohdinfo "$D/cached.txt" "$secs" 200
	[ "$ok" = 1 ] && add info.qps "$qps"
	: >"$D/dohdinfo.log"	# some 100 MB a run; dohd keeps writing (sparse)
	# Misses over DoH: the names move on through miss.txt across rounds.
	run_dnsperf dohd "$D/miss.txt" "$secs" "$missq"
	if [ "$ok" = 1 ]; then
		add dns-miss.dohd.qps "$qps"
		add miss.ucpu "$ucpu"
		add miss.scpu "$scpu"
		add dns-miss.dohd.cpq "$cpq"
	else
		say "NOTE round=$r workload=dns-miss impl=dohd failed: dnsperf completed too few queries (left out of the median)"
	fi
	run_dnsperf dohd "$D/miss.txt" "$lsecs" 50 -Q 2000
	if [ "$ok" = 1 ]; then add dns-miss.dohd.lat "$lat_ms"; else
		say "NOTE round=$r workload=dns-miss impl=dohd latency run failed (left out of the median)"
	fi
	# The same misses through unbound forwarding over DoT.
	names fwdmiss "r${r}f" 200000
	run_dnsperf unboundfwd "$D/fwdmiss.txt" "$secs" "$missq"
	if [ "$ok" = 1 ]; then
		add dns-miss.unbound-fwd.qps "$qps"
		add dns-miss.unbound-fwd.cpq "$cpq"
		add fwd.ucpu "$ucpu"
		add fwd.scpu "$scpu"
	else
		say "NOTE round=$r workload=dns-miss impl=unbound-fwd failed: dnsperf completed too few queries (left out of the median)"
	fi
	fwdconns=$(lab_exec host ss -Htn state established "( dport = :853 )" | wc -l)
	add fwd.conns "$fwdconns"
	names fwdlat "l${r}f" $((lsecs * 2000 + 1000))
	run_dnsperf unboundfwd "$D/fwdlat.txt" "$lsecs" 50 -Q 2000
	if [ "$ok" = 1 ]; then add dns-miss.unbound-fwd.lat "$lat_ms"; else
		say "NOTE round=$r workload=dns-miss impl=unbound-fwd latency run failed (left out of the median)"
	fi
	# Percentiles at a fixed 1000 q/s, alternating who goes first.
	for i in $( ((r % 2)) && echo "dohd unboundfwd" || echo "unboundfwd dohd"); do
		name=dohd
		[ "$i" = unboundfwd ] && name=unbound-fwd
		names pct "p${r}${name%%-*}" $((lsecs * 1000 + 500))
		lat_pct "$i" "$D/pct.txt" "$lsecs" 1000
		if [ "${pn:-0}" -gt 0 ]; then
			add "dns-miss.$name.p50" "$p50"
			add "dns-miss.$name.p99" "$p99"
		else
			say "NOTE round=$r workload=dns-miss impl=$name percentile run answered nothing (left out)"
		fi
	done
done

result() {	# result WORKLOAD IMPL METRIC KEY UNIT BETTER
	local m n
	n=$(nsamples "${samples[$4]:-}")
	m=$(median "${samples[$4]:-}")
	if [ -z "$m" ]; then
		say "NOTE workload=$1 impl=$2 metric=$3: no successful run"
		return
	fi
	say "RESULT bench=dohd workload=$1 impl=$2 metric=$3 value=$m unit=$5 better=$6 runs=$n"
}
for w in dns-cached dns-denied; do
	for i in "${impls[@]}"; do
		result "$w" "$i" qps "$w.$i.qps" q/s higher
		result "$w" "$i" lat_avg "$w.$i.lat" ms lower
	done
done
for i in dohd unbound-fwd; do
	result dns-miss "$i" qps "dns-miss.$i.qps" q/s higher
	result dns-miss "$i" lat_avg "dns-miss.$i.lat" ms lower
	result dns-miss "$i" lat_p50 "dns-miss.$i.p50" ms lower
	result dns-miss "$i" lat_p99 "dns-miss.$i.p99" ms lower
done

# ---- what a reader must know
st=$(status)
conns=$(counter 'upstream\.0\.connections' "$st")
say "NOTE dohd: log_level=warn (no per-query decision lines), rate_limit=0, cache_size=10000, max_connection_age=1h; one DoH upstream: unbound $(unbound -V 2>/dev/null | awk '/^Version/ { print $2 }') https-port, one thread, http-max-streams $h2streams (unbound's default is 100), query log off, lab CA certificate"
say "NOTE peers: unbound one thread, names as local-data (local-zone static) and local-zone always_nxdomain; dnsmasq address=/hit.bench/ and address=/deny.bench/; no query logging anywhere"
say "NOTE dnsperf: UDP, 8 sockets, 200 outstanding (misses $missq), ${secs}s per run, $rounds round(s); lat_avg from separate ${lsecs}s runs at a fixed 10000 q/s (misses 2000 q/s)"
say "NOTE dns-miss: dohd used ${conns:-?} upstream connection(s) in the whole run; cache_hits=$(counter cache_hits "$st") cache_misses=$(counter cache_misses "$st") upstream_ok=$(counter upstream_ok "$st") upstream_fail=$(counter upstream_fail "$st") servfail=$(counter servfail "$st")"
for w in dns-cached dns-denied; do
	line=""
	for i in "${rot[@]}"; do
		m=$(median "${samples[$w.$i.cpq]:-}")
		[ -z "$m" ] || line="$line $i=$m"
	done
	[ -z "$line" ] || say "NOTE $w server CPU per answered query, microseconds (median, kernel time included, lower is better):$line"
done
m=$(median "${samples[dns-miss.dohd.cpq]:-}")
[ -z "$m" ] || say "NOTE dns-miss dohd CPU per answered query: $m microseconds (median; HTTP/2, TLS, filtering, cache insert)"
m=$(median "${samples[dns-miss.unbound-fwd.cpq]:-}")
[ -z "$m" ] || say "NOTE dns-miss unbound-fwd CPU per answered query: $m microseconds (median; DoT to the same upstream); CPU (median) unbound-fwd $(median "${samples[fwd.scpu]:-}")% of a core, the upstream $(median "${samples[fwd.ucpu]:-}")%"
say "NOTE dns-miss: unbound-fwd held $(median "${samples[fwd.conns]:-}") DoT connection(s) to the upstream after each closed-loop run (median; ss, established to port 853; outgoing-num-tcp default 10); lat_p50/lat_p99 from dnsperf -v runs of ${lsecs}s at a fixed 1000 q/s, each query's own latency, median over rounds"
if [ -n "$base" ]; then
	for w in dns-cached dns-denied; do
		a=$(median "${samples[$w.dohd.qps]:-}")
		b=$(median "${samples[$w.dohdbase.qps]:-}")
		[ -n "$a" ] && [ -n "$b" ] &&
			say "NOTE $w before/after in the same rounds: $base $b q/s (lat $(median "${samples[$w.dohdbase.lat]:-}") ms), this dohd $a q/s (lat $(median "${samples[$w.dohd.lat]:-}") ms), ratio $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }')"
	done
fi
m=$(median "${samples[info.qps]:-}")
[ -z "$m" ] || say "NOTE dohd with log_level=info (the shipped default: one decision line per query, written to a file here): dns-cached $m q/s (median of $(nsamples "${samples[info.qps]}"))"
m=$(median "${samples[miss.ucpu]:-}")
[ -z "$m" ] || say "NOTE dns-miss CPU (median): dohd $(median "${samples[miss.scpu]}")% of a core, the DoH upstream unbound ${m}% of a core"
nq=$(median "${samples[null.qps]:-}")
if [ -n "$nq" ]; then
	say "NOTE dnsperf ceiling: against a trivial responder (dns_null) dnsperf reaches $nq q/s (median), client CPU $(median "${samples[null.ccpu]:-}")% of a core"
	for w in dns-cached dns-denied; do
		for i in "${impls[@]}"; do
			m=$(median "${samples[$w.$i.qps]:-}")
			[ -n "$m" ] || continue
			awk -v a="$m" -v b="$nq" 'BEGIN { exit !(a >= 0.85 * b) }' &&
				say "NOTE $w $i: $m q/s is within 15% of dnsperf's own ceiling ($nq q/s): dnsperf, not $i, is the limit"
		done
	done
fi
if [ "$max_ccpu" -ge 90 ]; then
	say "NOTE dnsperf used up to ${max_ccpu}% of a core in the QPS runs: the client is close to saturated"
fi
say "NOTE machine: $(nproc) cores shared with other jobs (load average $(cut -d' ' -f1-3 /proc/loadavg)); figures move 10-20% between runs"
exit 0
