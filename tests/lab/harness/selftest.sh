#!/usr/bin/env bash
# Self-test of tests/lab/lib.sh: the topology, every peer, the counters,
# teardown, and clean-up of a crashed run. Bash.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/../lib.sh"

lab_require_root
lab_need curl kdig socat tinyproxy squid unbound nginx

t0=$(lab_ms)
lab_up
t1=$(lab_ms)
lab_start_all
t2=$(lab_ms)
echo "# lab_up $((t1 - t0)) ms, peers $((t2 - t1)) ms"

lab_expect_eq "starting peers sends nothing over the uplink" "0 0 0" \
	"$(lab_count "$LAB_HOP_A") $(lab_count "$LAB_EXIT") $(lab_count "$LAB_DOH")"

# ---- topology
lab_expect "w1 pings the bridge (v4)" lab_ping w1 "$LAB_BR4"
lab_expect "w2 pings the bridge (v6)" lab_ping w2 "$LAB_BR6"
lab_expect "w1 pings w2 across the bridge" lab_ping w1 "$LAB_W2_4"
lab_expect "host pings up" lab_ping host "$LAB_EXIT"
lab_expect_match "w1 resolv.conf points at the bridge" "^nameserver $LAB_BR4\$" \
	lab_exec w1 cat /etc/resolv.conf
lab_expect_eq "bridge is $LAB_BR in host" "$LAB_BR" \
	"$(lab_exec host ip -o link show type bridge | awk -F': ' '{print $2}')"

# ---- no jail: a workload reaches the outside through host forwarding
lab_count_reset
lab_expect_match "w1 reaches exit :80 unjailed" '^exit-ok smoke\.test$' \
	lab_exec w1 curl -sS --max-time 5 -H 'Host: smoke.test' "http://$LAB_EXIT/"
lab_expect_match "exit sees w1's own address (no NAT)" "^$LAB_W1_4\$" \
	lab_exec w1 curl -sS --max-time 5 "http://$LAB_EXIT/whoami"
lab_expect_match "w1 reaches exit over IPv6" '^exit-ok' \
	lab_exec w1 curl -sS --max-time 5 "http://[$LAB_EXIT6]/"
n=$(lab_count "$LAB_EXIT")
lab_expect "lab_count counts packets to exit ($n)" test "$n" -gt 0
n=$(lab_count "$LAB_EXIT" tcp 80)
lab_expect "lab_count counts exit tcp/80 ($n)" test "$n" -gt 0
n=$(lab_count "$LAB_EXIT6")
lab_expect "lab_count counts v6 packets to exit ($n)" test "$n" -gt 0
lab_expect_fail "nothing listens on the internet address" \
	lab_exec w1 curl -sS --max-time 3 "http://$LAB_INET4/"
n=$(lab_count "$LAB_INET4" tcp 80)
lab_expect "an internet leak is counted ($n)" test "$n" -gt 0
lab_expect_fail "nothing listens on the v6 internet address" \
	lab_exec w1 curl -sS --max-time 3 "http://[$LAB_INET6]/"
n=$(lab_count "$LAB_INET6" tcp 80)
lab_expect "a v6 internet leak is counted ($n)" test "$n" -gt 0
lab_expect_match "UDP echo on forbidden:9999 answers" '^leak$' \
	lab_exec w1 socat -T 2 - "UDP4:$LAB_FORBIDDEN:9999" <<<leak
lab_expect_match "lab_udp gets the v6 echo" '^hello$' lab_udp w2 "$LAB_FORBIDDEN6" 53 hello
lab_expect_fail "lab_udp fails where nothing answers" lab_udp w2 "$LAB_EXIT" 9999
n=$(lab_count "$LAB_FORBIDDEN" udp 9999)
lab_expect "a UDP leak is counted ($n)" test "$n" -gt 0
lab_expect_eq "nothing counted for an untouched port" 0 "$(lab_count "$LAB_FORBIDDEN" udp 443)"

lab_count_reset
lab_expect_eq "lab_count_reset zeroes a counter" 0 "$(lab_count "$LAB_EXIT")"
lab_expect_eq "lab_count_reset zeroes a port counter" 0 "$(lab_count "$LAB_EXIT" tcp 80)"

# ---- web peers
ca=$LAB_DIR/ca.pem
lab_expect_match "nginx serves TLS for smoke.test with the lab CA" '^exit-ok smoke\.test$' \
	lab_exec host curl -sS --max-time 5 --cacert "$ca" \
	--resolve "smoke.test:443:$LAB_EXIT" https://smoke.test/
lab_expect_fail "the lab cert does not verify without the lab CA" \
	lab_exec host curl -sS --max-time 5 --resolve "smoke.test:443:$LAB_EXIT" https://smoke.test/
lab_capture cap host "$LAB_UPLINK" tcp port 443
lab_expect_match "lab_curl trusts the lab CA" '^exit-ok exit\.test$' \
	lab_curl w1 --resolve "exit.test:443:$LAB_EXIT" https://exit.test/
lab_stop cap
lab_expect_match "lab_capture saw the TLS packets" "> $LAB_EXIT\.443:" \
	tcpdump -nr "$LAB_DIR/cap.pcap"
lab_expect_match "forbidden target answers on 8080" '^forbidden-reached' \
	lab_exec host curl -sS --max-time 5 "http://$LAB_FORBIDDEN:8080/"
lab_expect_match "forbidden target answers TLS on 443" '^forbidden-reached' \
	lab_exec host curl -sS --max-time 5 --cacert "$ca" \
	--resolve "forbidden.test:443:$LAB_FORBIDDEN" https://forbidden.test/
lab_expect_match "direct endpoint answers on $LAB_DIRECT_PORT" '^direct-ok$' \
	lab_exec w1 curl -sS --max-time 5 "http://$LAB_DIRECT:$LAB_DIRECT_PORT/"

# ---- proxies (CONNECT from the host namespace, names resolved by the hop)
for hop in "$LAB_HOP_A" "$LAB_HOP_B" "$LAB_HOP_C"; do
	# squid may take the v6 path to smoke.test: its hop address then is fd78::N
	lab_expect_match "CONNECT through $hop reaches exit, leaving from $hop" "^($hop|fd78::${hop##*.})\$" \
		lab_exec host curl -sS --max-time 5 --cacert "$ca" -p -x "http://$hop:$LAB_HOP_PORT" \
		https://smoke.test/whoami
done
lab_expect_match "squid CONNECTs to a non-443 port" '^exit-ok smoke\.test$' \
	lab_exec host curl -sS --max-time 5 -p -x "http://$LAB_HOP_C:$LAB_HOP_PORT" \
	http://smoke.test:80/
lab_expect_match "tinyproxy CONNECTs to a non-443 port" '^exit-ok smoke\.test$' \
	lab_exec host curl -sS --max-time 5 -p -x "http://$LAB_HOP_A:$LAB_HOP_PORT" \
	http://smoke.test:80/
# An https hop with Basic auth (squid), a tinyproxy with Basic auth.
LAB_SQUID_TLS_PORT=3443 LAB_PROXY_AUTH=lab:secret lab_start_squid "$LAB_HOP_C" 3129
LAB_PROXY_AUTH=lab:secret lab_start_tinyproxy "$LAB_HOP_B" 3129
lab_expect_match "squid https_port with auth reaches exit" '^exit-ok smoke\.test$' \
	lab_exec host curl -sS --max-time 5 --cacert "$ca" --proxy-cacert "$ca" \
	-U lab:secret -p -x "https://$LAB_HOP_C:3443" https://smoke.test/
lab_expect_fail "squid https_port refuses without credentials" \
	lab_exec host curl -sS --max-time 5 --cacert "$ca" --proxy-cacert "$ca" \
	-p -x "https://$LAB_HOP_C:3443" https://smoke.test/
lab_expect_match "tinyproxy with auth reaches exit" '^exit-ok smoke\.test$' \
	lab_exec host curl -sS --max-time 5 --cacert "$ca" -U lab:secret \
	-p -x "http://$LAB_HOP_B:3129" https://smoke.test/
lab_expect_fail "tinyproxy with auth refuses without credentials" \
	lab_exec host curl -sS --max-time 5 --cacert "$ca" \
	-p -x "http://$LAB_HOP_B:3129" https://smoke.test/

# Two hops: a local socat opens a CONNECT tunnel through A to B, curl then
# speaks CONNECT to B inside it; the exit sees B.
lab_spawn chain-ab host socat TCP-LISTEN:18080,bind=127.0.0.1,reuseaddr,fork \
	"PROXY:$LAB_HOP_A:$LAB_HOP_B:$LAB_HOP_PORT,proxyport=$LAB_HOP_PORT"
lab_wait_listen host 127.0.0.1 18080 5 || true
lab_expect_match "2-hop chain A->B reaches exit from B" "^$LAB_HOP_B\$" \
	lab_exec host curl -sS --max-time 5 --cacert "$ca" -p -x http://127.0.0.1:18080 \
	https://smoke.test/whoami
lab_stop chain-ab

# ---- DNS
# shellcheck disable=SC2317 # called through lab_expect_match
doh() {
	lab_doh host "$@"
}
lab_expect_match "DoH answers smoke.test" "^$LAB_EXIT\$" doh "$LAB_DOH" +short smoke.test
lab_expect_match "DoH answers smoke.test AAAA" "^$LAB_EXIT6\$" doh "$LAB_DOH" +short smoke.test AAAA
lab_expect_match "DoH says NXDOMAIN for an unknown name" 'status: NXDOMAIN' doh "$LAB_DOH" nope.test
lab_expect_match "DoH says NXDOMAIN outside the lab zone" 'status: NXDOMAIN' doh "$LAB_DOH" example.com
lab_expect_match "DoH gives the whole CNAME chain" "^$LAB_EXIT\$" doh "$LAB_DOH" +short alias.test
lab_expect_match "DoH answers a rebinding name" '^10\.0\.0\.1$' doh "$LAB_DOH" +short rebind.test
lab_expect_match "DoH answers tunnel-style wildcard names" "^$LAB_INET4\$" \
	doh "$LAB_DOH" +short abcdef0123.x.t.test
lab_expect_match "DoH answers TXT" '"smoke"' doh "$LAB_DOH" +short smoke.test TXT
lab_expect_match "second DoH server is itself" '"doh2"' \
	lab_exec host kdig "@$LAB_DOH2" +https="$LAB_DOH_PATH" +tls-ca="$ca" \
	+tls-hostname=doh2.test +timeout=3 +retry=0 +short whoami.test TXT
lab_expect_match "DoH over IPv6" "^$LAB_EXIT\$" doh "$LAB_DOH6" +short smoke.test
lab_expect_match "plain DNS on :53 answers" "^$LAB_EXIT\$" \
	lab_exec host kdig "@$LAB_DOH" +timeout=3 +retry=0 +short exit.test
lab_expect_fail "DoH does not verify against another name" \
	lab_exec host kdig "@$LAB_DOH" +https="$LAB_DOH_PATH" +tls-ca="$ca" \
	+tls-hostname=wrong.test +timeout=3 +retry=0 smoke.test
lab_expect "lab_doh_queries sees the queries ($(lab_doh_queries "$LAB_DOH" smoke.test))" \
	test "$(lab_doh_queries "$LAB_DOH" smoke.test)" -ge 3
lab_expect_eq "lab_doh_queries is 0 for a name never asked" 0 \
	"$(lab_doh_queries "$LAB_DOH" never-asked.test)"
lab_expect_match "up resolves lab names (hosts file)" "^$LAB_EXIT " \
	lab_exec up getent ahostsv4 smoke.test

# ---- br_netfilter
if lab_brnf_available; then
	lab_brnf 0
	lab_expect_eq "lab_brnf 0" 0 "$(lab_brnf)"
	lab_brnf 1
	lab_expect_eq "lab_brnf 1" 1 "$(lab_brnf)"
	lab_expect "w1 reaches exit with bridge-nf-call-iptables=1" \
		lab_exec w1 curl -sSf --max-time 5 -o /dev/null "http://$LAB_EXIT/"
else
	echo "# br_netfilter not loaded: lab_brnf not exercised"
	lab_expect_fail "lab_brnf fails without br_netfilter" lab_brnf 1
fi

# ---- users
lab_users
lab_users
for u in egressjail egress-connect egress-dns ejagent ejother; do
	lab_expect "user $u exists" getent passwd "$u"
done
lab_expect_match "egress-connect is in group egressjail" '(^| )egressjail( |$)' id -nG egress-connect
lab_expect_match "egress-dns is in group egressjail" '(^| )egressjail( |$)' id -nG egress-dns
lab_expect_match "lab_as runs as ejagent" '^ejagent$' lab_as ejagent host id -un

# ---- teardown
pids=""
for ns in host up w1 w2; do
	pids="$pids $(ip netns pids "$(lab_ns "$ns")")"
done
dir=$LAB_DIR
t3=$(lab_ms)
lab_down
echo "# lab_down $(($(lab_ms) - t3)) ms"
# left PIDS DIR [-]: what survived: processes (a zombie waiting for init is
# gone), the lab dir, and unless the third argument is "-" the namespaces
# and their /etc/netns dirs
left() {
	local ns p
	for ns in host up w1 w2; do
		[ "${3:-}" != - ] || break
		ns=$(lab_ns "$ns")
		[ ! -e "/run/netns/$ns" ] || echo "namespace $ns"
		[ ! -e "/etc/netns/$ns" ] || echo "/etc/netns/$ns"
	done
	for p in $1; do
		! lab__alive_pid "$p" || echo "process $p $(cat "/proc/$p/comm" 2>/dev/null)"
	done
	[ ! -e "$2" ] || echo "dir $2"
}
lab_expect_eq "teardown leaves nothing behind" "" "$(left "$pids" "$dir")"

# ---- a crashed run is cleaned by the next lab_up
crash=$(mktemp)
{
bash -c '
	set -eu
	. "$1/../lib.sh"
	lab_up
	lab_start_exit
	lab_start_tinyproxy "$LAB_HOP_A"
	lab_start_doh "$LAB_DOH"
	{
		echo "$LAB_DIR"
		for ns in host up w1 w2; do ip netns pids "$(lab_ns "$ns")"; done
	} >"$2"
	kill -9 $$
' crash "$here" "$crash" >/dev/null 2>&1 || true
} 2>/dev/null
cdir=$(head -n 1 "$crash")
cpids=$(tail -n +2 "$crash" | tr '\n' ' ')
rm -f "$crash"
lab_expect "the crashed run left peers behind" test -n "$cpids"
lab_expect "the crashed run left its namespaces behind" test -e "/run/netns/$LAB_NS_UP"
lab_up
lab_expect_eq "lab_up cleaned the crashed run" "" "$(left "$cpids" "$cdir" -)"
lab_expect "the fresh lab works" lab_ping w1 "$LAB_BR4"
lab_start_exit
lab_start_tinyproxy "$LAB_HOP_A"
lab_expect_match "peers start again on the same addresses" '^exit-ok smoke\.test$' \
	lab_exec host curl -sS --max-time 5 -p -x "http://$LAB_HOP_A:$LAB_HOP_PORT" http://smoke.test:80/
pids=$(ip netns pids "$LAB_NS_UP")
dir=$LAB_DIR
lab_down
lab_expect_eq "second teardown leaves nothing behind" "" "$(left "$pids" "$dir")"

# ---- INT and TERM tear down through the trap
for sig in TERM INT; do
	state=$(mktemp)
	{
		bash -c '
		set -eu
		. "$1/../lib.sh"
		lab_up
		lab_start_exit
		{
			echo "$LAB_DIR"
			for ns in host up w1 w2; do ip netns pids "$(lab_ns "$ns")"; done
		} >"$2"
		kill -"$3" $$
		sleep 5
	' sig "$here" "$state" "$sig" >/dev/null 2>&1 || true
	} 2>/dev/null
	sdir=$(head -n 1 "$state")
	spids=$(tail -n +2 "$state" | tr '\n' ' ')
	rm -f "$state"
	lab_expect "SIG$sig: the lab was up" test -n "$spids"
	lab_expect_eq "SIG$sig: teardown leaves nothing behind" "" "$(left "$spids" "$sdir")"
done

# ---- leftovers of a run killed half-way: one namespace with a process in
# it, a stray /etc/netns dir, a temp dir whose pid file names a live process
ip netns add "$LAB_NS_HOST"
ip netns exec "$LAB_NS_HOST" setsid sleep 300 </dev/null >/dev/null 2>&1 &
disown $!
mkdir -p "/etc/netns/${EJ_LAB_PREFIX}w3"
sdir=$(mktemp -d "/tmp/ejlab-$EJ_LAB_PREFIX.XXXXXX")
: >"$sdir/x.log"
setsid tail -f "$sdir/x.log" </dev/null >/dev/null 2>&1 &
echo $! >"$sdir/x.pid"
disown $!
spids="$(cat "$sdir/x.pid") $(ip netns pids "$LAB_NS_HOST")"
lab_cleanup_stale 2>/dev/null
lab_expect_eq "half-made leftovers are cleaned" "" \
	"$(left "$spids" "$sdir"; [ ! -e "/etc/netns/${EJ_LAB_PREFIX}w3" ] || echo w3)"

echo "# total $(($(lab_ms) - t0)) ms"
lab_finish
