# shellcheck shell=bash
# tests/lab/e2e/common.sh - shared by the e2e bypass matrix and the demo
# (sourced, after tests/lab/lib.sh): the whole jail (netjaild, dohd,
# connectd) in the lab's host namespace, one egressjail.conf, and probes
# that run as either kind of workload:
#   w = the bridge workload ${P}w1 (root in its own namespace, so it also
#       has CAP_NET_RAW there)
#   a = the jailed local user ejagent, in ${P}host
# Every "refused" case is judged twice: what the workload saw, and what
# reached the forbidden target (lab_count in up).

E2E_PROXY=http://$LAB_BR4:3128
E2E_HEALTH=127.0.0.1:9191
E2E_NJ=$EJ_BUILD/netjaild/netjaild
E2E_CD=$EJ_BUILD/connectd/connectd
E2E_DOHD=$EJ_BUILD/dohd/dohd
E2E_CTL=$EJ_BUILD/egressctl/egressctl

e2e_need_built() {
	local b
	for b in "$E2E_NJ" "$E2E_CD" "$E2E_DOHD"; do
		[ -x "$b" ] || lab_skip "$b is not built, so this e2e test is skipped"
	done
}

# e2e_config: the one egressjail.conf all three daemons read.
e2e_config() {
	E2E_CONF=$LAB_DIR/egressjail.conf
	cat >"$E2E_CONF" <<EOF
; egressjail.conf for the lab (tests/lab/e2e/common.sh)
[jail]
interface = $LAB_BR                 ; every container on the bridge is jailed
user = ejagent                      ; and so is this local user
direct = $LAB_DIRECT:$LAB_DIRECT_PORT           ; a "database": bypasses the chain
ipv6 = jail
runtime_dir = $LAB_DIR/run

[netjaild]
user = egressjail

[chain]
hop = http://$LAB_HOP_A:$LAB_HOP_PORT       ; tinyproxy A
hop = http://$LAB_HOP_B:$LAB_HOP_PORT       ; tinyproxy B, then the target by name
canary = smoke.test:443
ca_file = $LAB_DIR/ca.pem
probe_interval = 1s
max_hop_status_age = 10s
connect_timeout = 3s

[connectd]
user = egress-connect
proxy_listen = $LAB_BR4:3128
transparent_listen = 127.0.0.1:15001
health_listen = $E2E_HEALTH

[dohd]
user = egress-dns
listen = 127.0.0.1:15353
upstream = https://doh.test$LAB_DOH_PATH $LAB_DOH
upstream = https://doh2.test$LAB_DOH_PATH $LAB_DOH2
ca_file = $LAB_DIR/ca.pem
query_timeout = 1500ms

[policy]
mode = enforce
allow = smoke.test:443,80
; The lab's "internet" is 10.78.0.0/24 (and fd78::/64): RFC 1918 and ULA,
; which the policy denies by default, so dohd would strip smoke.test's
; answer (10.78.0.10) as if it were DNS rebinding.  permit_cidr carves the
; lab's upstream net out of that deny list; on a real host it is not needed.
; IP literals stay denied all the same (only names are ever allowed).
permit_cidr = $LAB_UPNET4
permit_cidr = $LAB_UPNET6
EOF
	chmod 0644 "$E2E_CONF"
}

# ---------------------------------------------------------------- daemons

e2e_start_netjaild() {
	: >"$LAB_DIR/netjaild.log"
	lab_spawn netjaild host "$E2E_NJ" -c "$E2E_CONF"
	lab_retry 15 grep -q "event=ready" "$LAB_DIR/netjaild.log"
}

e2e_start_dohd() {
	lab_spawn dohd host "$E2E_DOHD" -c "$E2E_CONF"
	lab_wait_udp host 127.0.0.1 15353 10
}

e2e_http_code() {	# URL -> HTTP status from the host namespace (root)
	lab_exec host curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1" 2>/dev/null || true
}

e2e_ready() {
	[ "$(e2e_http_code "http://$E2E_HEALTH/ready")" = 200 ]
}

e2e_start_connectd() {
	lab_spawn connectd host "$E2E_CD" -c "$E2E_CONF"
	lab_wait_tcp host 127.0.0.1 9191 10 && lab_retry 20 e2e_ready
}

e2e_show_log() {	# NAME: the last lines of a daemon's log, on stderr
	if [ -s "$LAB_DIR/$1.log" ]; then
		lab_log "last lines of $1.log:"
		tail -n 15 "$LAB_DIR/$1.log" | sed 's/^/    | /' >&2
	fi
}

# e2e_up: lab, peers, users, config, the three daemons, readiness.
# Dies (showing logs) when a daemon does not come up.
e2e_up() {
	lab_up
	lab_users
	lab_start_all
	mkdir -p "$LAB_DIR/run"
	e2e_config
	e2e_start_netjaild || { e2e_show_log netjaild; lab_die "netjaild did not become ready"; }
	e2e_start_dohd || { e2e_show_log dohd; lab_die "dohd did not start"; }
	e2e_start_connectd || { e2e_show_log connectd; lab_die "connectd did not become ready"; }
}

e2e_kill9() {	# NAME: kill -9 a daemon started by lab_spawn, wait for it to go
	local p
	p=$(cat "$LAB_DIR/$1.pid" 2>/dev/null) || return 0
	kill -KILL "$p" 2>/dev/null || true
	lab_retry 3 sh -c "! kill -0 $p 2>/dev/null" || true
	rm -f "$LAB_DIR/$1.pid"
}

# ---------------------------------------------------------------- probes

e2e_kind_name() {
	case $1 in
	w) echo bridge ;;
	a) echo agent ;;
	esac
}

# k_run KIND CMD...: run CMD as that kind of workload.
k_run() {
	local k=$1
	shift
	case $k in
	w) lab_exec w1 "$@" ;;
	a) lab_as ejagent host "$@" ;;
	*) lab_die "k_run: kind w or a, not '$k'" ;;
	esac
}

# k_curl KIND ARGS...: curl as KIND, 4 s at most, trusting the lab CA.
k_curl() {
	local k=$1
	shift
	k_run "$k" curl -sS --max-time 4 --connect-timeout 3 --cacert "$LAB_DIR/ca.pem" "$@"
}

# k_denied KIND CURL-ARGS...: "was refused": curl failed or got no 2xx,
# and no forbidden body came back.  Prints what curl saw.  The body goes
# to curl's stdout: the jailed user cannot write to $LAB_DIR, and a file
# there made every agent's curl fail (exit 23) after the body had come.
k_denied() {
	local k=$1 out code rc=0
	shift
	out=$(k_curl "$k" -o - -w '\n%{http_code}' "$@" 2>&1) || rc=$?
	code=${out##*[!0-9]}
	echo "curl exit $rc, http $code: $out"
	case $out in
	*forbidden-reached* | *exit-ok* | *direct-ok*) return 1 ;;
	esac
	[ "$rc" != 0 ] || case $code in 2*) return 1 ;; *) return 0 ;; esac
}

# k_connect_code KIND TARGET:PORT: the status connectd answers a CONNECT.
k_connect_code() {
	local k=$1 out
	out=$(k_curl "$k" -o /dev/null -w '%{http_connect}' -x "$E2E_PROXY" \
		-p "http://$2/" 2>/dev/null) || true
	echo "${out:-000}"
}

# k_udp KIND ADDR PORT: one datagram; prints the answer, fails without one.
k_udp() {
	local k=$1 dst=UDP4:$2:$3 out
	case $2 in *:*) dst=UDP6:[$2]:$3 ;; esac
	out=$(printf 'e2e-probe\n' | k_run "$k" socat -T 2 - "$dst" 2>/dev/null) || true
	[ -n "$out" ] || return 1
	printf '%s\n' "$out"
}

# k_dig KIND ARGS...: dig as KIND, one try, 2 s.
k_dig() {
	local k=$1
	shift
	k_run "$k" dig +time=2 +tries=1 "$@"
}

# k_ping KIND ADDR: one ICMP echo.
k_ping() {
	local k=$1 fam=-4
	case $2 in *:*) fam=-6 ;; esac
	k_run "$k" ping "$fam" -n -q -c 1 -W 1 "$2"
}

# k_raw KIND ADDR PROTO PORT: a hand-made IPv4 packet (udp or tcp SYN) from a
# raw socket (IP_HDRINCL) with CAP_NET_RAW: w1 is root in its namespace;
# ejagent gets CAP_NET_RAW as an ambient capability.
k_raw() {
	local k=$1
	shift
	case $k in
	w) lab_exec w1 python3 "$LAB_DIR/raw.py" "$@" ;;
	a) ip netns exec "$LAB_NS_HOST" setpriv --reuid=ejagent --regid="$(id -g ejagent)" \
		--init-groups --inh-caps=+net_raw --ambient-caps=+net_raw -- \
		/usr/bin/python3 "$LAB_DIR/raw.py" "$@" ;;
	esac
}

e2e_write_raw() {
	cat >"$LAB_DIR/raw.py" <<'PY'
# raw.py DST PROTO PORT: send one raw IPv4 packet (IP_HDRINCL), src = the
# address the kernel would pick; exit 0 when sent.
import socket, struct, sys, random

dst, proto, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
probe.connect((dst, port))
src = probe.getsockname()[0]
probe.close()

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

sport = random.randint(20000, 60000)
s4, d4 = socket.inet_aton(src), socket.inet_aton(dst)
if proto == "udp":
    data = b"raw-e2e\n"
    l4 = struct.pack("!HHHH", sport, port, 8 + len(data), 0) + data
    pn = socket.IPPROTO_UDP
else:
    hdr = struct.pack("!HHIIBBHHH", sport, port, random.getrandbits(32), 0,
                      5 << 4, 0x02, 64240, 0, 0)
    pseudo = s4 + d4 + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(hdr))
    c = csum(pseudo + hdr)
    l4 = hdr[:16] + struct.pack("!H", c) + hdr[18:]
    pn = socket.IPPROTO_TCP
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), random.getrandbits(16),
                 0, 64, pn, 0, s4, d4)
ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
try:
    for _ in range(3):
        s.sendto(ip + l4, (dst, 0))
except PermissionError:
    print("refused by the host (EPERM): raw %s %s -> %s:%d" % (proto, src, dst, port))
    sys.exit(0)
print("sent 3 raw %s packets %s -> %s:%d" % (proto, src, dst, port))
PY
	chmod 0644 "$LAB_DIR/raw.py"
}

# e2e_nothing NAME ADDR [PROTO PORT]: pass when lab_count says 0.
e2e_nothing() {
	local name=$1
	shift
	lab_expect_eq "$name" 0 "$(lab_count "$@")"
}

# e2e_table_whole: the jail's table is there.
e2e_table() {
	lab_exec host nft list table inet egressjail >/dev/null
}

# ---------------------------------------------------------------- containers
# Shared by the container runtime tests (podman.sh, docker.sh): an image
# made from the machine's busybox-static, and probes run through `ct CMD...`,
# which the test defines (CMD inside its container).

# e2e_busybox_tar DIR RUNTIME: DIR/busybox.tar, a root of /bin/busybox and
# a link per applet, /www/index.html ("published-ok") for busybox httpd,
# /etc and /tmp.  Skips (one line) without a static busybox.
e2e_busybox_tar() {
	local d=$1 bb a
	bb=$(command -v busybox 2>/dev/null || true)
	[ -n "$bb" ] || lab_skip "busybox-static is not installed, so the $2 e2e test is skipped"
	if ldd "$bb" >/dev/null 2>&1; then
		lab_skip "$bb is not static (busybox-static is not installed), so the $2 e2e test is skipped"
	fi
	mkdir -p "$d/img/bin" "$d/img/etc" "$d/img/tmp" "$d/img/www"
	cp "$bb" "$d/img/bin/busybox"
	for a in $("$bb" --list); do
		[ "$a" = busybox ] || ln -s busybox "$d/img/bin/$a"
	done
	echo published-ok >"$d/img/www/index.html"
	tar -C "$d/img" --owner=0 --group=0 -cf "$d/busybox.tar" .
}

# e2e_ulimit -n|-u: the smaller of 4096 and the caller's hard limit.  runc
# sets a container's rlimits, and raising a hard limit needs
# CAP_SYS_RESOURCE, which a CI sandbox may lack ("error setting rlimit").
e2e_ulimit() {
	local h
	h=$(ulimit -H "$1")
	if [ "$h" = unlimited ] || [ "$h" -gt 4096 ]; then
		h=4096
	fi
	echo "$h"
}

# e2e_ct_refused CMD...: CMD failed or came back without any peer's body
e2e_ct_refused() {
	local out rc=0
	out=$("$@" 2>&1) || rc=$?
	printf 'exit %s: %s\n' "$rc" "$out"
	if printf '%s\n' "$out" | grep -q 'forbidden-reached\|exit-ok\|direct-ok'; then
		return 1
	fi
	[ "$rc" != 0 ]
}

# e2e_ct_tcp_silent ADDR PORT: a bare TCP request from the container gets
# nothing back but connectd's own refusal
e2e_ct_tcp_silent() {
	local out
	out=$(ct sh -c "printf 'hello\r\n\r\n' | nc -w 3 $1 $2" 2>&1) || true
	echo "got: '$out'"
	[ -z "$out" ] || printf '%s\n' "$out" | grep -q '^X-Egressjail-Reason:'
}

# e2e_ct_nxdomain NAME [SERVER]: nslookup in the container gets no address
e2e_ct_nxdomain() {
	local out rc=0
	out=$(ct nslookup "$@" 2>&1) || rc=$?
	printf 'exit %s: %s\n' "$rc" "$out"
	if printf '%s\n' "$out" | sed '1,/^$/d' | grep -q '^Address'; then
		return 1
	fi
	printf '%s\n' "$out" | grep -qE 'NXDOMAIN|REFUSED|SERVFAIL|can.t find'
}
