#!/usr/bin/env bash
# tests/bench/dohd/dnsperf_dohd.sh - queries per second of dohd against
# unbound and dnsmasq on the same machine, in lab namespaces (prefix dn).
#
#   cached  - one allowed name, answered from each resolver's cache
#   denied  - a name outside the allowlist: dohd answers NXDOMAIN without
#             any lookup; the peers are given the same local NXDOMAIN
#             (unbound local-zone always_nxdomain, dnsmasq address=/name/)
#
# Usage (root): EJ_BUILD=build tests/bench/dohd/dnsperf_dohd.sh [SECONDS]
# Prints one line per case and resolver, then dohd's ratio to each peer.
set -eu
export EJ_LAB_PREFIX=${EJ_LAB_PREFIX:-dnb}
here=$(cd "$(dirname "$0")" && pwd)
export EJ_SRC=${EJ_SRC:-$(cd "$here/../../.." && pwd)}
. "$EJ_SRC/tests/lab/lib.sh"
lab_need dnsperf unbound dnsmasq
secs=${1:-10}
dohd=${EJ_DOHD:-$EJ_BUILD/dohd/dohd}
[ -x "$dohd" ] || lab_die "no dohd at $dohd"

lab_up
lab_users
lab_start_doh "$LAB_DOH"
chmod 755 "$LAB_DIR"
chmod 644 "$LAB_DIR/ca.pem"

cat >"$LAB_DIR/ej.conf" <<CONF
[jail]
interface = $LAB_BR
runtime_dir = $LAB_DIR/run
log_level = warn
[chain]
hop = http://$LAB_HOP_A:$LAB_HOP_PORT
[dohd]
listen = 127.0.0.1:15353
upstream = https://doh.test$LAB_DOH_PATH $LAB_DOH
ca_file = $LAB_DIR/ca.pem
rate_limit = 0
[policy]
permit_cidr = $LAB_UPNET4
allow = smoke.test
CONF
mkdir -p "$LAB_DIR/run"
lab_spawn dohd host "$dohd" -c "$LAB_DIR/ej.conf"

cat >"$LAB_DIR/unbound.conf" <<CONF
server:
	interface: 127.0.0.1@15354
	port: 15354
	do-daemonize: no
	username: ""
	chroot: ""
	directory: "$LAB_DIR"
	pidfile: "$LAB_DIR/unbound-bench.pid"
	use-syslog: no
	logfile: ""
	num-threads: 1
	access-control: 127.0.0.0/8 allow
	do-not-query-localhost: no
	local-zone: "forbidden.test." always_nxdomain
forward-zone:
	name: "."
	forward-addr: $LAB_DOH@53
CONF
lab_spawn unbound-bench host unbound -d -c "$LAB_DIR/unbound.conf"
lab_spawn dnsmasq-bench host dnsmasq -k -p 15355 --listen-address=127.0.0.1 \
	--bind-interfaces --no-resolv --no-hosts --server="$LAB_DOH" \
	--cache-size=10000 --address=/forbidden.test/ --pid-file="$LAB_DIR/dnsmasq.pid"
lab_wait_udp host 127.0.0.1 15353
lab_wait_udp host 127.0.0.1 15354
lab_wait_udp host 127.0.0.1 15355

printf 'smoke.test A\n' >"$LAB_DIR/cached.txt"
printf 'forbidden.test A\n' >"$LAB_DIR/denied.txt"

qps() {	# qps PORT FILE: dnsperf's queries per second
	lab_exec host kdig @127.0.0.1 -p "$1" +short smoke.test A >/dev/null || true
	lab_exec host dnsperf -s 127.0.0.1 -p "$1" -d "$2" -l "$secs" -c 8 -q 200 \
		2>&1 | awk '/Queries per second/ { print int($4) }'
}

declare -A r
for c in cached denied; do
	for p in dohd:15353 unbound:15354 dnsmasq:15355; do
		r[$c.${p%%:*}]=$(qps "${p#*:}" "$LAB_DIR/$c.txt")
		printf '%-7s %-8s %8s qps\n' "$c" "${p%%:*}" "${r[$c.${p%%:*}]}"
	done
done
for c in cached denied; do
	for peer in unbound dnsmasq; do
		awk -v a="${r[$c.dohd]:-0}" -v b="${r[$c.$peer]:-0}" -v c="$c" -v p="$peer" \
			'BEGIN { if (b > 0) printf "%s dohd/%s = %.2f\n", c, p, a / b }'
	done
done
