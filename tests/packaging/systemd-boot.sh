#!/usr/bin/env bash
# systemd-boot.sh SRCDIR - the packaged units under a real systemd.
#
# Boots systemd (Debian 12's, as PID 1) in a systemd-nspawn container whose
# network namespace is the lab's host namespace (tests/lab/lib.sh: a bridge
# with workloads, an uplink to real hops, DoH upstreams and an exit), and
# there does what README.md and docs/OPERATIONS.md tell an operator to do:
# install the .deb with apt, write the configuration, "egressctl check",
# "systemctl enable --now netjaild dohd connectd".  Then checks:
#   - each daemon active, as its own uid, with exactly its capabilities
#     (CapEff), seccomp on and no_new_privs set;
#   - the table, the policy routing and route_localnet on the bridge;
#   - a jailed local user's and a bridge workload's traffic reach the
#     daemons (an allowed name through the whole chain; a forbidden address
#     reached by nothing);
#   - systemctl reload applies a changed allowlist;
#   - kill -9 of each main process: all three are active again and serve;
#   - egressctl doctor finds no problem;
#   - journald has each daemon's lines under its unit, with priorities;
#   - systemctl stop keeps the table (the jail stays shut).
#
# The Debian 12 root file system is made once by mmdebstrap and cached under
# /var/cache/egressjail-test/ (keyed by its package list); the .deb is the
# one tests/packaging/deb.sh built for the same tree (cached by a hash of
# the tree), or is built here.  Environment: EJ_DEB=FILE uses that .deb;
# EJ_LAB_PREFIX (default "sb") names the lab namespaces; EJ_LAB_KEEP=1 keeps
# the lab directory.  Nothing touches the machine's own network namespace:
# the container shares the lab's.
#
# One line on standard output; the checks and logs go to standard error.
T=systemd-boot
. "$(dirname "$0")/lib.sh"
set -u
exec 3>&1 1>&2

src=${1:?usage: systemd-boot.sh SRCDIR}
need_root "systemd-nspawn, network namespaces"
need_tools systemd-nspawn mmdebstrap nsenter ip nft curl tinyproxy unbound \
    nginx openssl
: "${EJ_LAB_PREFIX:=sb}"
export EJ_SRC=$src
. "$src/tests/lab/lib.sh"

# The single line on the real standard output.
say_ok() { echo "$T: ok: $*" >&3; exit 0; }
say_fail() { echo "$T: FAIL: $*" >&3; exit 1; }
say_skip() { echo "$T: SKIP: $*" >&3; exit 77; }

# ---------------------------------------------------------------- inputs

CACHE=/var/cache/egressjail-test
SUITE=bookworm
MIRROR="deb http://deb.debian.org/debian $SUITE main"
# systemd as PID 1 (dbus for systemctl's bus calls), what the .deb depends
# on (libraries, adduser, ca-certificates; nftables is recommended), and
# the operator's tools: ip, curl, drill.
PKGS="systemd dbus iproute2 nftables curl ldnsutils ca-certificates adduser
libuv1 libnftnl11 libmnl0 libldns3 libssl3 libnghttp2-14 libsystemd0
libseccomp2 libcap-ng0"

# rootfs_tarball: path of the cached Debian 12 root file system, made on
# first use.  A lock keeps two runs from building it at once.
rootfs_tarball() {
	local key tar tmp
	key=$(printf '%s\n' "$SUITE" minbase "$MIRROR" $PKGS | sha256sum |
	    cut -c1-16)
	tar=$CACHE/rootfs-$SUITE-$key.tar
	mkdir -p "$CACHE"
	(
		flock 9
		[ -s "$tar" ] && exit 0
		tmp=$tar.tmp.$$
		echo "systemd-boot: making the Debian root file system (once): $tar"
		if ! mmdebstrap --mode=root --variant=minbase \
		    --include="$(echo $PKGS | tr ' ' ',')" "$SUITE" "$tmp" \
		    "$MIRROR" >"$CACHE/mmdebstrap.log" 2>&1; then
			rm -f "$tmp"
			tail -n 20 "$CACHE/mmdebstrap.log"
			exit 1
		fi
		mv "$tmp" "$tar"
	) 9>"$CACHE/rootfs.lock" || return 1
	echo "$tar"
}

# No root file system (no Debian mirror here): this host cannot run the test.
rootfs=$(rootfs_tarball) || say_skip "no Debian root file system (mmdebstrap failed, log in $CACHE/mmdebstrap.log)"
rootfs=$(echo "$rootfs" | tail -n 1)

if [ -n "${EJ_DEB:-}" ]; then
	deb=$EJ_DEB
else
	deb=$(deb_cached_or_build "$src") || say_fail "no .deb: $deb"
fi
[ -f "$deb" ] || say_fail "no .deb at '$deb'"

# ---------------------------------------------------------------- container

lab_up
# peers: the exit (smoke.test, exit.test), one DoH upstream, two hops
lab_start_exit
lab_start_doh "$LAB_DOH"
lab_start_tinyproxy "$LAB_HOP_A" "$LAB_HOP_PORT"
lab_start_tinyproxy "$LAB_HOP_B" "$LAB_HOP_PORT"

ROOT=$LAB_DIR/root
mkdir -p "$ROOT"
tar -C "$ROOT" -xf "$rootfs" || say_fail "cannot unpack $rootfs"
# the lab CA in the system trust store: the example's ca_file is that store
cp "$LAB_DIR/ca.pem" "$ROOT/usr/local/share/ca-certificates/egressjail-lab.crt"
chroot "$ROOT" update-ca-certificates >/dev/null 2>&1 ||
    say_fail "update-ca-certificates in the root file system"
# a jailed local user, and the operator's resolver (the DoH peer's plain
# DNS; a jailed uid's port 53 goes to dohd whatever the address)
chroot "$ROOT" useradd --system --no-create-home --shell /usr/sbin/nologin \
    --user-group ejagent || say_fail "useradd ejagent"
printf 'nameserver %s\noptions timeout:1 attempts:1\n' "$LAB_DOH" \
    >"$ROOT/etc/resolv.conf"
echo egressjail-ct >"$ROOT/etc/hostname"
cp "$deb" "$ROOT/root/"
DEBNAME=$(basename "$deb")

CT_PID=""
NSPAWN_PID=""
ct_stop() {
	local i
	[ -n "$NSPAWN_PID" ] || return 0
	# SIGTERM to nspawn: an orderly poweroff of the container
	kill -TERM "$NSPAWN_PID" 2>/dev/null || return 0
	for i in $(seq 1 100); do
		kill -0 "$NSPAWN_PID" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$NSPAWN_PID" 2>/dev/null || true
}
lab_on_exit ct_stop

# ct CMD...: run CMD as root inside the container (all its namespaces, its
# root, a clean environment).
ct() {
	nsenter --target "$CT_PID" --all --root --wd -- \
	    /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
	    SYSTEMD_PAGER= SYSTEMD_COLORS=0 "$@"
}
# ct_as USER CMD...: as USER, with its groups.
ct_as() {
	local u=$1
	shift
	ct setpriv --reuid="$u" --regid="$u" --init-groups -- "$@"
}

# ct_boot: start the container, wait for the end of its boot; CT_STATE is
# then its state (running, degraded), or why it failed.  The unified cgroup hierarchy
# even on a hybrid host: egressctl doctor wants cgroup v2, as a modern host
# has it.
ct_boot() {
	local i
	SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 systemd-nspawn --quiet \
	    --directory="$ROOT" --boot --register=no --keep-unit \
	    --network-namespace-path="/run/netns/$LAB_NS_HOST" \
	    --system-call-filter="landlock_create_ruleset landlock_add_rule landlock_restrict_self" \
	    --capability=CAP_NET_ADMIN --resolv-conf=off --timezone=off \
	    --link-journal=no --console=read-only --machine=egressjail-ct \
	    >>"$LAB_DIR/nspawn.log" 2>&1 </dev/null &
	NSPAWN_PID=$!
	CT_PID=""
	# its PID 1: the child of nspawn that runs systemd (not the short-lived
	# helper children nspawn forks first)
	for i in $(seq 1 150); do
		CT_PID=$(ps -o pid=,comm= --ppid "$NSPAWN_PID" 2>/dev/null |
		    awk '$2 == "systemd" { print $1; exit }')
		[ -n "$CT_PID" ] && break
		kill -0 "$NSPAWN_PID" 2>/dev/null || break
		sleep 0.1
	done
	if [ -z "$CT_PID" ]; then
		CT_STATE="systemd-nspawn cannot run here: $(grep -m1 -v '^$' "$LAB_DIR/nspawn.log")"
		return 1
	fi
	# the manager's private socket first, then the end of the boot
	for i in $(seq 1 300); do
		ct test -S /run/systemd/private 2>/dev/null && break
		kill -0 "$NSPAWN_PID" 2>/dev/null || break
		sleep 0.1
	done
	CT_STATE=$(timeout 60 nsenter --target "$CT_PID" --all --root --wd -- \
	    systemctl is-system-running --wait 2>&1)
	case $CT_STATE in
	running | degraded) ;;
	*)
		CT_STATE="systemd does not boot in systemd-nspawn here: '$CT_STATE'"
		return 1
		;;
	esac
}

# Up to here nothing of egressjail is involved: a container that does not
# start or a systemd that does not boot is this host's limit, a skip.
if ! ct_boot; then
	show_log "$LAB_DIR/nspawn.log"
	say_skip "$CT_STATE"
fi
lab_log "systemd $(ct systemctl --version | head -n 1 | cut -d' ' -f2) is up ($CT_STATE) as PID 1 of container $CT_PID"
if [ "$CT_STATE" = degraded ]; then
	ct systemctl --failed --no-legend >&2 || true
fi
if [ "${EJ_SB_HOLD:-0}" = 1 ]; then
	lab_log "holding: CT_PID=$CT_PID LAB_DIR=$LAB_DIR; touch $LAB_DIR/go to go on"
	while [ ! -e "$LAB_DIR/go" ]; do sleep 1; done
fi

# ---------------------------------------------------------------- the README

CONF=/etc/egressjail/egressjail.conf
# write_conf [EXTRA-ALLOW]: the operator's configuration ($EDITOR step).
write_conf() {
	ct sh -c "cat >$CONF" <<EOF
; written by tests/packaging/systemd-boot.sh over the packaged example
[jail]
interface = $LAB_BR
user = ejagent
direct = $LAB_DIRECT:$LAB_DIRECT_PORT
ipv6 = jail

[netjaild]
user = egressjail

[chain]
hop = http://$LAB_HOP_A:$LAB_HOP_PORT
hop = http://$LAB_HOP_B:$LAB_HOP_PORT
canary = smoke.test:443
probe_interval = 1s
max_hop_status_age = 10s
connect_timeout = 3s

[connectd]
user = egress-connect
proxy_listen = 127.0.0.1:3128         ; as connectd.socket has it
transparent_listen = 127.0.0.1:15001
health_listen = 127.0.0.1:9191

[dohd]
user = egress-dns
listen = 127.0.0.1:15353
upstream = https://doh.test$LAB_DOH_PATH $LAB_DOH
query_timeout = 1500ms

[policy]
mode = enforce
allow = smoke.test:443,80
${1:+allow = $1}
; the lab's "internet" is private address space
permit_cidr = $LAB_UPNET4
permit_cidr = $LAB_UPNET6
EOF
}

# the README's quick start, word for word where it names a command
readme_cmd=$(sed -n 's/^\(systemctl enable --now [^#]*\).*/\1/p' "$src/README.md" | head -n 1)
readme_cmd=${readme_cmd%"${readme_cmd##*[! ]}"}
[ -n "$readme_cmd" ] || say_fail "README.md has no 'systemctl enable --now' line"
lab_expect "apt install ./$DEBNAME" ct sh -c \
    "cd /root && DEBIAN_FRONTEND=noninteractive apt install -y ./$DEBNAME"
write_conf
lab_expect "egressctl check && netjaild --print" ct sh -c \
    'egressctl check && netjaild --print >/dev/null'
# shellcheck disable=SC2086 # the README's words
lab_expect "$readme_cmd" ct $readme_cmd
# "all ready" once connectd's first probe through the chain has answered
# (it sends READY=1 before that; issue 14, point 10)
lab_expect "egressctl status: all ready within 10 s" \
    lab_retry 10 ct egressctl status

# ---------------------------------------------------------------- checks

# main_pid UNIT / unit_up UNIT: its main process; active with one.
main_pid() { ct systemctl show -P MainPID "$1"; }
unit_up() {
	[ "$(ct systemctl is-active "$1")" = active ] &&
	    [ "$(main_pid "$1")" != 0 ]
}
# all_up: the three services active, and the socket units they require.
SOCKETS="connectd-transparent.socket connectd.socket dohd.socket dohd-tcp.socket"
all_up() {
	local u
	for u in netjaild dohd connectd $SOCKETS; do
		[ "$(ct systemctl is-active "$u")" = active ] || return 1
	done
}
# status_of UNIT: "uid=U caps=C seccomp=S nnp=N" of its main process.
status_of() {
	local p
	p=$(main_pid "$1")
	ct awk '/^Uid:/ { u = $2 } /^CapEff:/ { c = $2 } /^Seccomp:/ { s = $2 }
	    /^NoNewPrivs:/ { n = $2 }
	    END { printf "uid=%s caps=%s seccomp=%s nnp=%s\n", u, c, s, n }' \
	    "/proc/$p/status"
}
want_status() {	# USER CAPEFF
	echo "uid=$(ct id -u "$1") caps=$2 seccomp=2 nnp=1"
}
show_journal() {
	ct journalctl -u netjaild -u dohd -u connectd -u connectd-transparent.socket \
	    --no-pager -o cat -n 40 >&2 || true
}

for u in $SOCKETS; do
	lab_expect_eq "enabled with its service: $u" enabled \
	    "$(ct systemctl is-enabled "$u")"
done
lab_expect "all three services and their sockets are active" \
    lab_retry 20 all_up || show_journal
# CAP_NET_ADMIN is bit 12
lab_expect_eq "netjaild: its own uid, CAP_NET_ADMIN only, seccomp, no_new_privs" \
    "$(want_status egressjail 0000000000001000)" "$(status_of netjaild)"
lab_expect_eq "connectd: its own uid, no capability, seccomp, no_new_privs" \
    "$(want_status egress-connect 0000000000000000)" "$(status_of connectd)"
lab_expect_eq "dohd: its own uid, no capability, seccomp, no_new_privs" \
    "$(want_status egress-dns 0000000000000000)" "$(status_of dohd)"
lab_expect "the table is installed" ct nft list table inet egressjail
lab_expect_match "the fwmark rule sends marked packets to table 100" \
    'fwmark 0x1 lookup 100' ct ip rule
lab_expect_match "table 100 delivers them locally" 'local default dev lo' \
    ct ip route show table 100
lab_expect_eq "route_localnet is on for the jailed bridge" 1 \
    "$(ct cat "/proc/sys/net/ipv4/conf/$LAB_BR/route_localnet")"

# traffic: the jailed user (TPROXY to the transparent socket, DNS to dohd)
# and a workload on the bridge (redirects), each through the whole chain
agent_curl() { ct_as ejagent curl -sS --max-time 5 "$@"; }
w1_curl() {
	lab_exec w1 curl -sS --max-time 5 --cacert "$LAB_DIR/ca.pem" "$@"
}
traffic() {	# TAG: allowed through, forbidden refused and not reached
	lab_count_reset
	lab_expect_match "$1: the jailed user reaches smoke.test through the chain" \
	    '^exit-ok smoke\.test$' agent_curl https://smoke.test/
	lab_expect_match "$1: the bridge workload reaches smoke.test through the chain" \
	    '^exit-ok smoke\.test$' w1_curl https://smoke.test/
	lab_expect_fail "$1: the jailed user cannot reach the forbidden address" \
	    agent_curl -f "http://$LAB_FORBIDDEN:8080/"
	lab_expect_fail "$1: the bridge workload cannot reach the forbidden address" \
	    w1_curl -f --connect-timeout 3 "http://$LAB_FORBIDDEN:8080/"
	lab_expect_eq "$1: nothing reached the forbidden address" 0 \
	    "$(lab_count "$LAB_FORBIDDEN")"
}
lab_retry 15 agent_curl https://smoke.test/ || true
traffic "started"

# reload: a changed allowlist is applied by the documented command
lab_expect_fail "before the reload exit.test is refused" w1_curl -f https://exit.test/
write_conf exit.test:443
pids_before="$(main_pid netjaild) $(main_pid connectd) $(main_pid dohd)"
lab_expect "egressctl check && systemctl reload netjaild connectd dohd" \
    ct sh -c 'egressctl check && systemctl reload netjaild connectd dohd'
lab_retry 5 w1_curl -f https://exit.test/ || true
lab_expect_match "after the reload the bridge workload reaches exit.test" \
    '^exit-ok exit\.test$' w1_curl -f https://exit.test/
lab_expect_match "and so does the jailed user" '^exit-ok exit\.test$' \
    agent_curl https://exit.test/
lab_expect_eq "a reload restarts nothing" "$pids_before" \
    "$(main_pid netjaild) $(main_pid connectd) $(main_pid dohd)"
# a broken file: refused by ExecReload's --check, and a daemon that gets it
# on SIGHUP all the same keeps its configuration (and says so at err level)
ct sh -c "cp $CONF $CONF.good && echo 'bogus_key = 1' >>$CONF"
lab_expect_fail "systemctl reload refuses a broken file" \
    ct systemctl reload connectd
ct systemctl kill -s HUP --kill-who=main netjaild
lab_expect "netjaild keeps running on a broken file" \
    lab_retry 5 ct sh -c 'journalctl -u netjaild -o cat | grep -q "event=reload result=failed"'
# back as the operator would: into the same file, which keeps the package's
# 0640 root:egressjail (a copy moved in place would be root's alone, and
# the daemons could not read it)
ct sh -c "cat $CONF.good >$CONF && rm $CONF.good"
lab_expect "all three are active after the broken reload" all_up

# a transparent socket that disagrees with [connectd] transparent_listen
# (the rules deliver to the configured port, so nothing would reach
# connectd): it refuses to start, exit 2 (no restart loop), and says which
# unit to edit
TDROP=/etc/systemd/system/connectd-transparent.socket.d
ct mkdir -p "$TDROP"
printf '[Socket]\nListenStream=\nListenStream=127.0.0.1:15009\n' |
    ct sh -c "cat >$TDROP/port.conf"
ct systemctl daemon-reload
ct sh -c 'systemctl stop connectd-transparent.socket; systemctl start connectd' \
    >/dev/null 2>&1
lab_expect_eq "a transparent socket on another port: connectd refuses (exit 2)" \
    "failed 2" "$(ct systemctl show -P ActiveState connectd) $(ct systemctl show -P ExecMainStatus connectd)"
lab_expect "and its log names the unit to edit" ct sh -c \
    'journalctl -u connectd -o cat | grep -q "systemctl edit connectd-transparent.socket"'
ct rm -r "$TDROP"
ct systemctl daemon-reload
ct systemctl reset-failed connectd
ct sh -c 'systemctl stop connectd-transparent.socket; systemctl start connectd'
lab_expect "with the socket as configured again, connectd is active" \
    lab_retry 10 all_up

# kill -9 of each main process: each comes back, the others stay up
recovered() {	# UNIT OLD-PID
	local p
	unit_up "$1" && p=$(main_pid "$1") && [ "$p" != "$2" ]
}
for u in netjaild connectd dohd; do
	old=$(main_pid "$u")
	case $old in
	'' | 0 | *[!0-9]*)	# not running: "kill -9 0" would hit this script
		lab_fail "kill -9 $u" "it is not running"
		continue
		;;
	esac
	t0=$(lab_ms)
	ct sh -c "kill -9 $old"	# the shell's kill: the root has no procps
	if lab_retry 20 recovered "$u" "$old"; then
		lab_pass "kill -9 $u: a new $u is active after $(($(lab_ms) - t0)) ms"
	else
		lab_fail "kill -9 $u: not restarted" "$(ct systemctl is-active "$u")"
		show_journal
	fi
	lab_expect "kill -9 $u: all three are active" lab_retry 10 all_up
done
lab_retry 15 agent_curl https://smoke.test/ || true
traffic "after kill -9 of each"

# doctor: nothing it calls a problem
doctor_clean() {
	local out
	out=$(ct egressctl doctor 2>&1)
	echo "$out"
	! echo "$out" | grep -q '^PROBLEM'
}
# connectd's link to the dohd that kill -9 replaced comes back by its own
# retry (0.5, 1, 2, 4 s ...): wait for it, then judge doctor's output
lab_retry 15 doctor_clean || true
lab_expect "egressctl doctor finds no problem" doctor_clean

# journald: each daemon's lines under its unit and identifier, with the
# priority of their level
jfield() {	# UNIT GREP FIELD: FIELD of the last entry of UNIT matching GREP
	ct journalctl -u "$1" -o export --no-pager |
	    awk -v pat="$2" -v f="$3=" '
		/^$/ { if (hit) last = val; hit = 0; val = ""; next }
		index($0, "MESSAGE=") == 1 && index($0, pat) { hit = 1 }
		index($0, f) == 1 { val = $0 }
		END { if (hit) last = val; print last }'
}
for u in netjaild connectd dohd; do
	lab_expect_eq "journald: $u's lines are in its unit" \
	    "_SYSTEMD_UNIT=$u.service" "$(jfield $u "daemon=$u event=" _SYSTEMD_UNIT)"
	lab_expect_eq "journald: $u's lines are tagged $u" \
	    "SYSLOG_IDENTIFIER=$u" "$(jfield $u "daemon=$u event=" SYSLOG_IDENTIFIER)"
done
lab_expect_eq "journald: an info line has priority 6" "PRIORITY=6" \
    "$(jfield netjaild 'level=info daemon=netjaild event=ready' PRIORITY)"
lab_expect_eq "journald: an error line has priority 3" "PRIORITY=3" \
    "$(jfield netjaild 'level=err daemon=netjaild event=reload result=failed' PRIORITY)"

# stop: the table stays, the jail stays shut
lab_expect "systemctl stop connectd dohd netjaild" \
    ct systemctl stop connectd dohd netjaild
lab_expect "the table stays after the stop" ct nft list table inet egressjail
lab_count_reset
lab_expect_fail "stopped: the jailed user gets nowhere" \
    agent_curl -f --connect-timeout 3 "http://$LAB_FORBIDDEN:8080/"
lab_expect_fail "stopped: the bridge workload gets nowhere" \
    w1_curl -f --connect-timeout 3 "http://$LAB_FORBIDDEN:8080/"
lab_expect_eq "stopped: nothing reached the forbidden address" 0 \
    "$(lab_count "$LAB_FORBIDDEN")"

# a reboot: the enabled units come up by themselves, in their order
ct_stop
if ct_boot; then
	lab_pass "the container boots again ($CT_STATE)"
	lab_expect "after a reboot all three and their sockets are active" \
	    lab_retry 20 all_up || show_journal
	lab_retry 15 agent_curl https://smoke.test/ || true
	traffic "after a reboot"
	lab_expect_match "after a reboot netjaild came up before network-pre.target" \
	    '^ok$' ct sh -c 'a=$(systemctl show -P ActiveEnterTimestampMonotonic netjaild);
	    b=$(systemctl show -P ActiveEnterTimestampMonotonic network-pre.target);
	    [ "$a" -gt 0 ] && [ "$a" -le "$b" ] && echo ok'
else
	lab_fail "the container boots again" "$CT_STATE"
fi

if [ "$LAB_FAILED" -gt 0 ]; then
	say_fail "$LAB_FAILED of $LAB_NTEST checks failed (see above)"
fi
say_ok "$LAB_NTEST checks passed under systemd $(ct systemctl --version | head -n 1 | cut -d' ' -f2) as PID 1 (nspawn)"
