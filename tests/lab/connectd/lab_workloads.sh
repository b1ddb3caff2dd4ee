#!/usr/bin/env bash
# shellcheck disable=SC2317 # functions run through lab_expect
# lab_workloads.sh - connectd's per-workload listeners (issue 15,
# docs/WORKLOADS.md) with the real netjaild steering two bridge workloads:
#   wla  iface:brwla        w8 on its own jailed bridge (10.79.0.2)
#   wlb  cidr:10.77.0.3/32  w2 on the lab bridge
#   default ([policy])      w1 (10.77.0.2), w3 (10.77.0.4)
# Each reaches only its own name, transparently and through its workload's
# explicit proxy listener; a refusal is judged at the upstream (no packet
# at the first hop, the only way out, nor at the exit).  Then netjaild is
# restarted (connectd registers again on the new control connection), and
# a reload removes wlb and adds wlc (w3) while wla's open tunnel carries
# on.  dohd resolves connectd's targets by the workload's rules (its own
# listeners are its test's).
set -eu
: "${EJ_LAB_PREFIX:=h6n}"
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
. "$here/../e2e/common.sh"
lab_require_root
lab_need curl socat python3 nft
e2e_need_built

BR2=brwla
BR2_4=10.79.0.1
W8_4=10.79.0.2
W2_4=10.77.0.3
W3_4=10.77.0.4
HEALTH=$E2E_HEALTH

LAB_DOH_EXTRA=$(for n in wla wlb wlc; do
	printf '\tlocal-data: "%s.test. 300 IN A %s"\n' "$n" "$LAB_EXIT"
done)
export LAB_DOH_EXTRA

# conf WORKLOADS...: the e2e config with brwla jailed and the sections
# named (wla wlb wlc), for the three daemons.
conf() {
	local w
	e2e_config
	sed -i -e "/^\[jail\]/a interface = $BR2" \
		-e 's/^probe_interval = .*/probe_interval = 300s/' \
		-e 's/^max_hop_status_age = .*/max_hop_status_age = 600s/' "$E2E_CONF"
	for w in "$@"; do
		case $w in
		wla) m="iface:$BR2" ;;
		wlb) m="cidr:$W2_4/32" ;;
		wlc) m="cidr:$W3_4/32" ;;
		esac
		printf '\n[workload %s]\nmatch = %s\nallow = %s.test:80,443\npermit_cidr = %s\n' \
			"$w" "$m" "$w" "$LAB_UPNET4" >>"$E2E_CONF"
	done
	chmod 0644 "$E2E_CONF"
}

topology() {
	lab_add_workload 3
	lab_add_workload 8
	ip -n "$LAB_NS_HOST" link add "$BR2" type bridge
	ip -n "$LAB_NS_HOST" addr add "$BR2_4/24" dev "$BR2"
	ip -n "$LAB_NS_HOST" link set "$BR2" up
	ip -n "$LAB_NS_HOST" link set "${LAB_P}-w8" nomaster
	ip -n "$LAB_NS_HOST" link set "${LAB_P}-w8" master "$BR2" up
	ip -n "${LAB_P}w8" -b - <<EOF
route del default
addr flush dev eth0
addr add $W8_4/24 dev eth0
route add default via $BR2_4
EOF
}

upstream() {	# packets at the first hop and straight at the exit
	echo $(($(lab_count "$LAB_HOP_A") + $(lab_count "$LAB_EXIT")))
}

# lport WORKLOAD KIND: the port of a workload's IPv4 listener (/health)
lport() {
	lab_exec host curl -s --max-time 2 "http://$HEALTH/health" |
		python3 -c 'import json, sys
w, k = sys.argv[1], sys.argv[2]
for x in json.load(sys.stdin)["workloads"]:
    if x["name"] == w:
        for l in x["listeners"]:
            if l["kind"] == k and l["family"] == "ipv4":
                print(l["port"])' "$1" "$2"
}

# get SRC HOW NAME: SRC asks for http://NAME/ (HOW t: transparent from a
# jailed workload; p:WL: through workload WL's explicit proxy listener,
# from the host)
get() {
	local s=$1 how=$2 name=$3
	case $how in
	t) lab_exec "$s" curl -sS --max-time 4 --resolve "$name:80:$LAB_EXIT" "http://$name/${4:-}" ;;
	p:*) lab_exec host curl -sS --max-time 4 -x "http://127.0.0.1:$(lport "${how#p:}" proxy)" \
		"http://$name/${4:-}" ;;
	esac
}

served() {
	get "$1" "$2" "$3" 2>&1 | grep -q "^exit-ok $3\$"
}

seen() {	# PATH: how often the exit's nginx served it
	local n
	n=$(grep -c " /$1 HTTP" "$LAB_DIR/nginx.d/access.log" 2>/dev/null) || true
	echo "${n:-0}"
}

# refused SRC HOW NAME: not served, and nothing of it went upstream (the
# chain's probes are far apart: probe_interval 300s)
refused() {
	local out path=probe-$RANDOM
	lab_count_reset
	out=$(get "$1" "$2" "$3" "$path" 2>&1) || true
	echo "got: $out"
	case $out in *exit-ok*) return 1 ;; esac
	sleep 0.2
	[ "$(seen "$path")" = 0 ] || { echo "the exit served $path"; return 1; }
	[ "$(upstream)" = 0 ] || { echo "packets upstream: $(upstream)"; return 1; }
}

registered() {	# N: connectd logged N successful registrations
	[ "$(grep -c 'event=wl_listen op=register result=ok' "$LAB_DIR/connectd.log")" -ge "$1" ]
}

hup() {
	kill -HUP "$(cat "$LAB_DIR/$1.pid")"
}

# ---------------------------------------------------------------- up

lab_up
lab_users
lab_start_all
topology
mkdir -p "$LAB_DIR/run"
conf wla wlb
if "$E2E_NJ" -c "$E2E_CONF" --check 2>&1 | grep -q 'per-workload policy is not enforced'; then
	lab_skip "netjaild still refuses [workload] sections (the gate), so this test is skipped"
fi
e2e_start_netjaild || { e2e_show_log netjaild; lab_die "netjaild did not become ready"; }
e2e_start_dohd || { e2e_show_log dohd; lab_die "dohd did not start"; }
# /ready waits for every workload listener's registration
e2e_start_connectd || { e2e_show_log connectd; lab_die "connectd did not become ready"; }

lab_expect "8 listeners registered (2 workloads x transparent, proxy x IPv4, IPv6)" \
	lab_retry 5 registered 8
lab_expect_match "/ready names the workloads' listeners" \
	'^workload wla: transparent/ipv4/[0-9]+/registered' \
	lab_exec host curl -s --max-time 2 "http://$HEALTH/ready"
lab_expect_match "STATUS names them" \
	'^workload=wlb listeners=transparent/ipv4/[0-9]+/registered,' \
	lab_exec host python3 "$here/ctlcall.py" "$LAB_DIR/run/connectd.sock" status
lab_expect "the listeners carry the listener mark" sh -c \
	"ip netns exec $(lab_ns host) ss -tlnH -O -e sport = :$(lport wla transparent) | grep -q 'fwmark:'"

# ---------------------------------------------------------------- own names
declare -A OWN=([w1]=smoke.test [w8]=wla.test [w2]=wlb.test)
for s in w1 w8 w2; do
	lab_expect "$s reaches its own ${OWN[$s]} (transparent)" served "$s" t "${OWN[$s]}"
	for o in w1 w8 w2; do
		[ "$o" != "$s" ] || continue
		lab_expect "$s: ${OWN[$o]} ($o's) refused (transparent)" refused "$s" t "${OWN[$o]}"
	done
done
for w in wla wlb; do
	lab_expect "$w's proxy listener serves $w.test" served host "p:$w" "$w.test"
	lab_expect "$w's proxy listener refuses smoke.test" refused host "p:$w" smoke.test
done
lab_expect "wla's proxy listener refuses wlb.test" refused host p:wla wlb.test
# netjaild takes a workload's TCP before [policy]'s proxy: aimed at it, it
# lands on the workload's own listener, never on [policy]'s
proxied() {	# SRC NAME: through [policy]'s proxy address
	lab_exec "$1" curl -sS --max-time 4 -x "$E2E_PROXY" "http://$2/" 2>&1 |
		grep -q "^exit-ok $2\$"
}
lab_count_reset
lab_expect_fail "w2 through [policy]'s proxy address: no smoke.test" proxied w2 smoke.test
lab_expect_eq "and nothing went upstream" 0 "$(upstream)"
sleep 0.3
lab_expect "the access log names workload wla" \
	grep -q 'host="\{0,1\}wla.test"\{0,1\} .*workload=wla decision=allow' "$LAB_DIR/connectd.log"
lab_expect "the access log names workload wlb's denial" \
	grep -q 'host="\{0,1\}wla.test"\{0,1\} .*workload=wlb decision=deny' "$LAB_DIR/connectd.log"
lab_expect_match "metrics count per workload" \
	'^connectd_workload_connections_total\{workload="wla",decision="allow"\} [1-9]' \
	lab_exec host curl -s --max-time 2 "http://$HEALTH/metrics"

# ---------------------------------------------------------------- netjaild restart
n0=$(grep -c 'event=wl_listen op=register result=ok' "$LAB_DIR/connectd.log")
e2e_kill9 netjaild
lab_expect "netjaild restarts" e2e_start_netjaild
lab_expect "connectd registers its 8 listeners again" lab_retry 15 registered $((n0 + 8))
lab_expect "w8 reaches wla.test after the restart" lab_retry 10 served w8 t wla.test
lab_expect "w2 still refused wla.test" refused w2 t wla.test

# ---------------------------------------------------------------- reload
cat >"$LAB_DIR/tunnel.py" <<'PY'
# tunnel.py ADDR NAME FLAG: TLS to ADDR:443 with SNI NAME (the jail takes
# it to connectd's transparent listener), GET once, again once FLAG
# exists; one line per answer.
import os, socket, ssl, sys, time
addr, name, flag = sys.argv[1:4]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection((addr, 443), timeout=30),
    server_hostname=name)
def get():
    s.sendall(("GET / HTTP/1.1\r\nHost: %s\r\n\r\n" % name).encode())
    data = b""
    while b"exit-ok" not in data:
        b = s.recv(4096)
        if not b:
            break
        data += b
    print("exit-ok " + name if b"exit-ok" in data else "no answer", flush=True)
get()
for _ in range(300):
    if os.path.exists(flag):
        break
    time.sleep(0.1)
get()
PY
rm -f "$LAB_DIR/flag"
lab_spawn tunnel w8 python3 "$LAB_DIR/tunnel.py" "$LAB_EXIT" wla.test "$LAB_DIR/flag"
lab_expect "wla's connection is open and answered once" \
	lab_retry 10 grep -q '^exit-ok wla.test' "$LAB_DIR/tunnel.log"
wlaport=$(lport wla transparent)
conf wla wlc
hup netjaild
hup connectd
hup dohd
lab_expect "connectd unregisters wlb" lab_retry 10 grep -q \
	'event=wl_listen op=unregister result=ok workload=wlb' "$LAB_DIR/connectd.log"
lab_expect "connectd registers wlc" lab_retry 15 grep -q \
	'event=wl_listen op=register result=ok workload=wlc kind=transparent family=ipv4' "$LAB_DIR/connectd.log"
touch "$LAB_DIR/flag"
lab_expect "wla's open connection answers again after the reload" \
	lab_retry 10 sh -c "[ \$(grep -c '^exit-ok wla.test' '$LAB_DIR/tunnel.log') -ge 2 ]"
lab_expect_eq "wla kept its listener" "$wlaport" "$(lport wla transparent)"
lab_expect "w3 (now wlc) reaches wlc.test" lab_retry 10 served w3 t wlc.test
lab_expect "w3 no longer gets [policy]'s smoke.test" refused w3 t smoke.test
lab_expect "w2 (wlb gone: default) reaches smoke.test" lab_retry 10 served w2 t smoke.test
lab_expect "w2 no longer gets wlb.test" refused w2 t wlb.test
lab_expect_fail "/health no longer lists wlb" sh -c \
	"lab_exec host curl -s --max-time 2 http://$HEALTH/health | grep -q '\"name\":\"wlb\"'"
lab_stop connectd
lab_expect_fail "no sanitizer reports" grep -q 'Sanitizer\|runtime error:' "$LAB_DIR/connectd.log"
lab_finish
