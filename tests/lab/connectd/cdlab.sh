# cdlab.sh - shared set-up for connectd's lab tests (sourced).
#
# Two namespaces, both named cdl<pid><x> so concurrent runs and other
# parts' labs never collide:
#   $UP  "upstream": tinyproxy (hop, 3128), squid (hop, 3129), TLS fronts
#        for both (socat, 3443 and 3444), the exit servers (exitserver.py:
#        HTTPS 8443, HTTP 8080, echo 9000) on 10.99.0.2
#   $PX  where connectd runs, 10.99.0.1, with fake netjaild and dohd on
#        its runtime directory
# Names resolve in $UP through /etc/netns/$UP/hosts (ip netns exec binds
# it over /etc/hosts), so the last hop resolves targets by name.

set -u

if [ "$(id -u)" -ne 0 ]; then
	echo "connectd lab: needs root (network namespaces), skipped"
	exit 77
fi
for t in ip nft tinyproxy squid socat openssl python3 curl; do
	if ! command -v "$t" >/dev/null 2>&1; then
		echo "connectd lab: $t not installed, skipped"
		exit 77
	fi
done

B=${EJ_BUILD:?EJ_BUILD not set}
S=${EJ_SRC:?EJ_SRC not set}
H=$S/tests/lab/connectd
CONNECTD=$B/connectd/connectd
[ -x "$CONNECTD" ] || { echo "connectd lab: $CONNECTD not built"; exit 1; }

T=$(mktemp -d /tmp/cdlab.XXXXXX)
chmod 755 "$T"
UP=cdl$$u
PX=cdl$$p
PIDS=""
FAILS=0
CHECKS=0

cleanup() {
	trap '' PIPE HUP INT TERM	# finish tearing down whatever happens
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.2
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	ip netns pids "$UP" 2>/dev/null | xargs -r kill -9 2>/dev/null
	ip netns pids "$PX" 2>/dev/null | xargs -r kill -9 2>/dev/null
	ip netns del "$UP" 2>/dev/null
	ip netns del "$PX" 2>/dev/null
	rm -rf "/etc/netns/$UP" "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

inup() { ip netns exec "$UP" "$@"; }
inpx() { ip netns exec "$PX" "$@"; }

# ip netns exec execs the command, so $! is the daemon itself
bg_up() { ip netns exec "$UP" "$@" & PIDS="$PIDS $!"; }
bg_px() { ip netns exec "$PX" "$@" & PIDS="$PIDS $!"; }

ok() { CHECKS=$((CHECKS + 1)); echo "ok   - $*"; }
bad() { CHECKS=$((CHECKS + 1)); FAILS=$((FAILS + 1)); echo "FAIL - $*"; }
# check DESCRIPTION COMMAND...: passes when COMMAND exits 0
check() {
	d=$1; shift
	if "$@"; then ok "$d"; else bad "$d"; fi
}

# wait_for SECONDS COMMAND...
wait_for() {
	n=$(($1 * 10)); shift
	while [ "$n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

finish() {
	# A sanitizer build reports into the daemon's stderr.
	if grep -q 'AddressSanitizer\|LeakSanitizer\|runtime error:' "$T"/connectd*.log 2>/dev/null; then
		bad "no sanitizer reports in the connectd log"
		grep -A30 'Sanitizer\|runtime error:' "$T"/connectd*.log | head -60
	fi
	echo "# connectd lab: $CHECKS checks, $FAILS failed"
	if [ "$FAILS" -ne 0 ]; then
		echo "# --- connectd log"; tail -n 60 "$T/connectd.log" 2>/dev/null
		exit 1
	fi
	exit 0
}

net_up() {
	ip netns add "$UP"
	ip netns add "$PX"
	ip link add cdl$$a netns "$PX" type veth peer name cdl$$b netns "$UP"
	inpx ip addr add 10.99.0.1/24 dev cdl$$a
	inup ip addr add 10.99.0.2/24 dev cdl$$b
	inpx ip link set cdl$$a up
	inup ip link set cdl$$b up
	inpx ip link set lo up
	inup ip link set lo up
	mkdir -p "/etc/netns/$UP"
	printf '127.0.0.1 localhost\n10.99.0.2 allowed.test denied.test hop1.test hop2.test\n' \
	    >"/etc/netns/$UP/hosts"
	# What reaches the exit servers, counted where they live.
	inup nft -f - <<EOF
table inet cdlab {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport 8443 ct state new counter name exit_new
		tcp dport 8080 ct state new counter name exit_new
	}
	counter exit_new { }
}
EOF
}

exit_count() {
	inup nft list counter inet cdlab exit_new | sed -n 's/.*packets \([0-9]*\).*/\1/p'
}

certs() {
	# One CA, leaf certificates for the exit name and the TLS hops.
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=cdlab-ca \
	    -keyout "$T/ca.key" -out "$T/ca.pem" >/dev/null 2>&1
	for n in allowed.test hop1.test hop2.test; do
		openssl req -newkey rsa:2048 -nodes -subj "/CN=$n" \
		    -keyout "$T/$n.key" -out "$T/$n.csr" >/dev/null 2>&1
		if [ "$n" = hop1.test ]; then
			printf 'subjectAltName=DNS:%s,IP:10.99.0.2\n' "$n"
		else
			printf 'subjectAltName=DNS:%s\n' "$n"
		fi >"$T/$n.ext"
		openssl x509 -req -in "$T/$n.csr" -CA "$T/ca.pem" \
		    -CAkey "$T/ca.key" -CAcreateserial -days 2 \
		    -extfile "$T/$n.ext" -out "$T/$n.pem" >/dev/null 2>&1
		cat "$T/$n.pem" "$T/$n.key" >"$T/$n.both"
	done
}

start_upstream() {
	cat >"$T/tinyproxy.conf" <<EOF
Port 3128
Listen 10.99.0.2
Timeout 30
MaxClients 200
LogLevel Info
LogFile "$T/tinyproxy.log"
PidFile "$T/tinyproxy.pid"
BasicAuth cduser cdpass
EOF
	bg_up tinyproxy -d -c "$T/tinyproxy.conf"
	mkdir -p "$T/squid"
	cat >"$T/squid.conf" <<EOF
http_port 10.99.0.2:3129
http_access allow all
cache deny all
access_log stdio:$T/squid/access.log
cache_log $T/squid/cache.log
pid_filename $T/squid/squid.pid
coredump_dir $T/squid
hosts_file /etc/hosts
dns_nameservers 127.0.0.1
shutdown_lifetime 0 seconds
EOF
	chmod -R 777 "$T/squid"
	bg_up squid -N -f "$T/squid.conf"
	# TLS in front of each hop: an https:// proxy as operators build it.
	bg_up socat OPENSSL-LISTEN:3443,bind=10.99.0.2,reuseaddr,fork,verify=0,cert="$T/hop1.test.both" TCP:10.99.0.2:3128 2>>"$T/socat.log"
	bg_up socat OPENSSL-LISTEN:3444,bind=10.99.0.2,reuseaddr,fork,verify=0,cert="$T/hop2.test.both" TCP:10.99.0.2:3129 2>>"$T/socat.log"
	bg_up python3 "$H/exitserver.py" 10.99.0.2 "$T/allowed.test.pem" "$T/allowed.test.key"
	wait_for 20 inup sh -c 'exec 3<>/dev/tcp/10.99.0.2/3129' 2>/dev/null ||
	    wait_for 20 inup nc -z 10.99.0.2 3129
	wait_for 10 inup nc -z 10.99.0.2 3128
	wait_for 10 inup nc -z 10.99.0.2 8443
}

start_peers() {
	mkdir -p "$T/run"
	chmod 777 "$T/run"
	echo 1 >"$T/netjaild.ready"
	echo 1 >"$T/dohd.ready"
	bg_px python3 "$H/fakepeer.py" "$T/run" netjaild "$T/netjaild.ready"
	bg_px python3 "$H/fakepeer.py" "$T/run" dohd "$T/dohd.ready" \
	    hop1.test=10.99.0.2 hop2.test=10.99.0.2 allowed.test=10.99.0.2 \
	    denied.test=10.99.0.2 db.test=10.99.0.2 meta.test=169.254.169.254
	wait_for 5 test -S "$T/run/dohd.sock"
	wait_for 5 test -S "$T/run/netjaild.sock"
}

# write_config FILE HOP... : a config with these hops (or "direct")
write_config() {
	f=$1; shift
	{
		printf '[jail]\ninterface = cdl0\ngroup = nogroup\nruntime_dir = %s\n%s\n\n' \
		    "$T/run" "${CD_JAIL_EXTRA:-}"
		printf '[netjaild]\nuser = nobody\n\n[chain]\n'
		for h in "$@"; do
			if [ "$h" = direct ]; then
				printf 'exit = direct\n'
			else
				printf 'hop = %s\n' "$h"
			fi
		done
		cat <<EOF
canary = ${CD_CANARY:-allowed.test:8443}
${CD_CHAIN_EXTRA:-}
ca_file = $T/ca.pem
probe_interval = 1s
max_hop_status_age = 5s
connect_timeout = 3s
require_all_hops_healthy = yes

[connectd]
user = nobody
proxy_listen = 127.0.0.1:3128
proxy_listen = [::1]:3128
${CD_TRANSPARENT:+transparent_listen = $CD_TRANSPARENT}
health_listen = 127.0.0.1:9191
head_timeout = 2s
max_connections = ${CD_MAXCONN:-64}

[dohd]
user = nobody
listen = 127.0.0.1:15353
upstream = https://dns.invalid/dns-query 192.0.2.53

[policy]
allow = allowed.test:8443,8080,9000
; The lab's "internet" is 10.99.0.0/24, which the deny list holds: the
; resolve check (on by default) would refuse every target in it.
permit_cidr = 10.99.0.0/24
${CD_POLICY_EXTRA:-}
EOF
	} >"$f"
}

start_connectd() {
	[ -f "$T/connectd.log" ] && cat "$T/connectd.log" >>"$T/connectd-old.log"
	: >"$T/connectd.log"
	ip netns exec "$PX" "$CONNECTD" -c "$1" >>"$T/connectd.log" 2>&1 &
	CDPID=$!
	PIDS="$PIDS $CDPID"
	wait_for 10 inpx curl -sf http://127.0.0.1:9191/live
}

stop_connectd() {
	kill -TERM "$CDPID" 2>/dev/null
	wait "$CDPID"
	CDRC=$?
}

ready_code() {
	inpx curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9191/ready
}

is_ready() { [ "$(ready_code)" = 200 ]; }
not_ready() { [ "$(ready_code)" = 503 ]; }

# connect_code HOST:PORT: the status connectd answers a CONNECT with
connect_code() {
	inpx curl -s -o /dev/null -w '%{http_connect}' --max-time 10 \
	    -x http://127.0.0.1:3128 -p "http://$1/" 2>/dev/null
}

# raw REQUEST: send bytes to the proxy, print the answer head
raw() {
	printf "$1" | inpx socat -t 3 - TCP:127.0.0.1:3128 2>/dev/null | tr -d '\r' | sed '/^$/q'
}
