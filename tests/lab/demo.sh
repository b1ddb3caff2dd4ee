#!/usr/bin/env bash
# tests/lab/demo.sh - egressjail, shown end to end in a lab of network
# namespaces (tests/lab/README.md): real proxies as the chain (tinyproxy A,
# tinyproxy B), real DoH servers (unbound), an exit web server, a forbidden
# server that counts every packet it gets.  The three daemons run in the
# lab's host namespace, the probes from workload w1 on the bridge br-ej (and
# two as the jailed local user ejagent).  Prints a table; exits 0 only when
# every observed result is the expected one.  Root; EJ_LAB_PREFIX (default
# ej) names the namespaces.  Nothing touches the machine's own namespace.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/e2e/common.sh"

lab_require_root
lab_need curl dig socat python3 nft tinyproxy squid unbound nginx
e2e_need_built

if [ -t 1 ]; then
	B=$'\e[1m' G=$'\e[32m' R=$'\e[31m' D=$'\e[2m' N=$'\e[0m'
else
	B='' G='' R='' D='' N=''
fi
T0=$(lab_ms)
ALL_OK=1

say() { printf '%s\n' "$*"; }
step() { printf '%s==>%s %s\n' "$B" "$N" "$*"; }

step "bringing up the lab (prefix '$LAB_P'): namespaces, hops, DoH servers, exit servers"
lab_up
lab_users
lab_start_all
mkdir -p "$LAB_DIR/run"
e2e_config
e2e_write_raw

step "starting netjaild (nftables table + policy routing; drops to egressjail, CAP_NET_ADMIN only)"
e2e_start_netjaild || { e2e_show_log netjaild; lab_die "netjaild did not become ready"; }
step "starting dohd (allowlist-only DNS over DoH; drops to egress-dns)"
e2e_start_dohd || { e2e_show_log dohd; lab_die "dohd did not start"; }
step "starting connectd (explicit + transparent proxy through the chain; drops to egress-connect)"
e2e_start_connectd || { e2e_show_log connectd; lab_die "connectd did not become ready"; }
say "    jail ready after $(($(lab_ms) - T0)) ms; config: $E2E_CONF"
say ""

# ---------------------------------------------------------------- the table

W1=35 W2=26 W3=50
hr() { printf '%s\n' "$(printf '%*s' $((W1 + W2 + W3 + 13)) '' | tr ' ' -)"; }
row() {	# PROBE EXPECTED OBSERVED OK(1/0)
	local mark
	if [ "$4" = 1 ]; then
		mark="${G}ok${N}"
	else
		mark="${R}FAIL${N}"
		ALL_OK=0
	fi
	printf '| %-*s | %-*s | %-*s | %s\n' "$W1" "$1" "$W2" "$2" "$W3" "$3" "$mark"
}
step "probes from workload w1 ($LAB_W1_4 on $LAB_BR) and the jailed user ejagent"
hr
printf '| %s%-*s%s | %s%-*s%s | %s%-*s%s | %sok%s\n' "$B" "$W1" probe "$N" "$B" "$W2" expected "$N" \
	"$B" "$W3" observed "$N" "$B" "$N"
hr

dns_probe() {	# LABEL NAME WANT(answer|NXDOMAIN)
	local out status ans ok=0
	out=$(k_dig w "$2" A 2>&1) || true
	status=$(printf '%s\n' "$out" | sed -n 's/.*status: \([A-Z]*\).*/\1/p' | head -n 1)
	ans=$(printf '%s\n' "$out" | awk '$4 == "A" && $1 !~ /^;/ { print $5 }' | head -n 1)
	if [ "$3" = answer ]; then
		[ -n "$ans" ] && ok=1
		row "$1" "answer ($LAB_EXIT)" "${status:-no answer}${ans:+ $ans}" "$ok"
	else
		[ "$status" = "$3" ] && [ -z "$ans" ] && ok=1
		row "$1" "$3" "${status:-no answer}${ans:+ $ans}" "$ok"
	fi
}

https_ok() {	# LABEL KIND CURL-ARGS...: 200 and exit-ok
	local label=$1 k=$2 out code body ok=0
	shift 2
	out=$(k_curl "$k" -w ' %{http_code}' "$@" 2>/dev/null) || true
	code=${out##* }
	body=$(printf '%s' "$out" | head -n 1)
	case $code:$body in 200:exit-ok*) ok=1 ;; esac
	row "$label" "200 exit-ok smoke.test" "$code ${body:0:40}" "$ok"
}

refused() {	# LABEL KIND COUNT-ARGS -- CURL-ARGS...: refused + 0 packets
	local label=$1 k=$2 ca=() out rc=0 code n ok=0 what
	shift 2
	while [ "$1" != -- ]; do ca+=("$1"); shift; done
	shift
	lab_count_reset
	out=$(k_curl "$k" -o "$LAB_DIR/demo.body" -w '%{http_code}' "$@" 2>/dev/null) || rc=$?
	code=${out: -3}
	n=$(lab_count "${ca[@]}")
	if [ "$rc" != 0 ]; then
		what="refused (curl exit $rc)"
		case $rc in 22 | 56) what="refused (HTTP ${code/000/403})" ;; esac
	else
		what="HTTP $code"
	fi
	if ! grep -q 'reached\|exit-ok' "$LAB_DIR/demo.body" 2>/dev/null &&
	    { [ "$rc" != 0 ] || [ "${code:0:1}" = 4 ]; } && [ "$n" = 0 ]; then
		ok=1
	fi
	rm -f "$LAB_DIR/demo.body"
	row "$label" "refused, 0 pkts at target" "$what, $n pkts at ${ca[0]}${ca[2]:+:${ca[2]}}" "$ok"
}

dns_probe "DNS smoke.test" smoke.test answer
dns_probe "DNS denied name forbidden.test" forbidden.test NXDOMAIN
tun=mzxw6ytboi2dgmrqgaytsnrygazdcnzrgq3dkmzxw6ytb.smoke.test
dns_probe "DNS tunnel <base32>.smoke.test" "$tun" NXDOMAIN

https_ok "HTTPS https://smoke.test (transp.)" w https://smoke.test/
refused "HTTPS denied name forbidden.test" w "$LAB_FORBIDDEN" -- \
	--resolve "forbidden.test:443:$LAB_FORBIDDEN" https://forbidden.test/
refused "HTTPS direct IP $LAB_FORBIDDEN:443" w "$LAB_FORBIDDEN" -- -k "https://$LAB_FORBIDDEN/"
refused "HTTP plain to IP $LAB_FORBIDDEN:80" w "$LAB_FORBIDDEN" -- -f "http://$LAB_FORBIDDEN/"

# UDP / QUIC: nothing but port 53 leaves the bridge
lab_count_reset
if qa=$(k_udp w "$LAB_FORBIDDEN" 443); then qseen="answered: $qa"; else qseen="no answer"; fi
n=$(lab_count "$LAB_FORBIDDEN" udp 443)
ok=0; [ "$qseen" = "no answer" ] && [ "$n" = 0 ] && ok=1
row "UDP/QUIC 443 to $LAB_FORBIDDEN" "no answer, 0 pkts" "$qseen, $n pkts at $LAB_FORBIDDEN:443/udp" "$ok"

refused "IPv6 TCP to [$LAB_FORBIDDEN6]:80" w "$LAB_FORBIDDEN6" -- -f "http://[$LAB_FORBIDDEN6]/"

out=$(k_curl w "http://$LAB_DIRECT:$LAB_DIRECT_PORT/" 2>&1) || true
ok=0; [ "$out" = direct-ok ] && ok=1
row "direct endpoint $LAB_DIRECT:$LAB_DIRECT_PORT" "reachable (direct-ok)" "${out:0:50}" "$ok"

https_ok "explicit proxy -x $LAB_BR4:3128" w -x "$E2E_PROXY" https://smoke.test/
lab_count_reset
code=$(k_connect_code w "$LAB_FORBIDDEN:443")
n=$(lab_count "$LAB_FORBIDDEN")
ok=0; [ "$code" = 403 ] && [ "$n" = 0 ] && ok=1
row "explicit CONNECT $LAB_FORBIDDEN:443" "403, 0 pkts at target" "$code, $n pkts at $LAB_FORBIDDEN" "$ok"

https_ok "agent: HTTPS https://smoke.test" a https://smoke.test/
refused "agent: HTTPS direct IP $LAB_FORBIDDEN" a "$LAB_FORBIDDEN" -- -k "https://$LAB_FORBIDDEN/"
hr
say ""

# ---------------------------------------------------------------- status

step "egressctl status"
if lab_exec host "$E2E_CTL" -c "$E2E_CONF" status >"$LAB_DIR/status.out" 2>&1; then
	sed 's/^/    /' "$LAB_DIR/status.out"
else
	say "    ${D}(egressctl status: $(head -n 1 "$LAB_DIR/status.out"); connectd's /health instead)${N}"
	lab_exec host curl -s --max-time 3 "http://$E2E_HEALTH/health" >"$LAB_DIR/health.json" || true
	python3 -m json.tool <"$LAB_DIR/health.json" 2>/dev/null | sed 's/^/    /' ||
		sed 's/^/    /' "$LAB_DIR/health.json"
fi
say ""

for d in netjaild dohd connectd; do
	lab_alive "$d" || { ALL_OK=0; say "${R}$d is no longer running${N}"; e2e_show_log "$d"; }
done

step "tearing down the lab"
lab_down
secs=$(( ($(lab_ms) - T0) / 1000 ))
if [ "$ALL_OK" = 1 ]; then
	say "${G}${B}every probe observed what the jail promises${N} (${secs} s)"
	exit 0
fi
say "${R}${B}some probes did not match${N} (${secs} s); EJ_LAB_KEEP=1 keeps the logs"
exit 1
