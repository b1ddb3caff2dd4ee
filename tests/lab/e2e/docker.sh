#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# shellcheck disable=SC2317 # functions run through lab_expect
# tests/lab/e2e/docker.sh - Docker for real (issue 14, points 2 and 3):
# dockerd from Debian's docker.io runs in the lab's host namespace, started
# AFTER the jail as on a booted host (netjaild's unit comes first), and
# creates docker0 and a user-defined network (br-<id>) that netjaild must
# find and jail as they appear (`interface = docker0`, `interface = br-*`).
# Containers run a busybox image imported from busybox-static; on both
# networks (Docker's embedded DNS, 127.0.0.11, in front on the user-defined
# one) they resolve smoke.test through dohd and reach it over HTTP, get
# NXDOMAIN for forbidden.test and refusals for the forbidden address, and
# lab_count shows nothing reached it.  Docker's own rules stay in place
# (iptables-nft shows its DOCKER chains, published ports work).  Published
# ports (`-p 8080:80`, `-p 8081:80`) answer a client in up through the
# host's uplink address with `inbound = published` and not with `inbound =
# drop`; a container connecting to a published port gets nothing.
#
# dockerd's state is the test's own: --data-root/--exec-root under
# $LAB_DIR/docker (only /etc/docker/key.json, the trust key that
# dockerd 20.10 creates once and has no flag for, and the shims' sockets
# in /run/containerd/s are the machine's), its
# own containerd (socket and state there too, its own
# namespaces), storage driver vfs, cgroup parent /${LAB_P}docker (cgroupfs),
# an empty daemon.json, --dns at the forbidden address (so whatever a
# container's resolver aims at is judged by lab_count).  Both daemons run
# with `nsenter --net` (lab_spawn_net): `ip netns exec` would hide the
# cgroup mounts.  busybox wget crashes in a bare image (static glibc), so
# the probes use busybox nslookup and nc with hand-written requests.
#
# Skipped with one line (exit 77): not root; docker, dockerd, containerd,
# runc, nsenter or busybox-static missing; dockerd cannot start or run a
# container here.
set -eu
: "${EJ_LAB_PREFIX:=e2d}"
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
. "$here/../lib.sh"
# shellcheck source=common.sh
. "$here/common.sh"
lab_require_root
lab_need curl socat nft tinyproxy unbound nginx nsenter docker dockerd containerd runc iptables-nft
e2e_need_built

DK_CG=/${LAB_P}docker           # the containers' cgroup parent
DK_BIP=10.80.0.1/24             # docker0
DK_SUBNET=10.81.0.0/24          # the user-defined network
DK_NET=ejdnet
DK_IMG=ejbusybox:lab
F=$LAB_FORBIDDEN

# dk_at DIR ARGS...: the docker client against that run's daemon
dk_at() {
	local d=$1
	shift
	DOCKER_CONFIG=$d/client timeout 60 docker -H "unix://$d/docker.sock" "$@"
}

dk() {
	dk_at "$DK_DIR" "$@"
}

# dk_clean DIR: the containers of that run (docker rm, else by their
# cgroups), its daemons, its mounts; then the cgroups.
dk_clean() {
	local d=$1 f p m
	if [ -S "$d/docker.sock" ]; then
		# shellcheck disable=SC2046 # one id per word
		dk_at "$d" rm -f $(dk_at "$d" ps -aq 2>/dev/null) >/dev/null 2>&1 || true
	fi
	for f in "$d/docker.pid" "$d/../containerd.pid"; do
		p=$(cat "$f" 2>/dev/null) || continue
		kill -TERM "$p" 2>/dev/null || continue
		lab_retry 5 sh -c "! kill -0 $p 2>/dev/null" || kill -KILL "$p" 2>/dev/null || true
	done
	for f in /sys/fs/cgroup/*"$DK_CG"/*/cgroup.procs /sys/fs/cgroup/*"$DK_CG"/cgroup.procs; do
		[ -f "$f" ] || continue
		while read -r p; do kill -KILL "$p" 2>/dev/null || true; done <"$f"
	done
	while read -r _ m _; do
		case $m in "$d"/*) umount -l "$m" 2>/dev/null || true ;; esac
	done </proc/mounts
	for f in /sys/fs/cgroup/*"$DK_CG"/* /sys/fs/cgroup/*"$DK_CG"; do
		[ ! -d "$f" ] || rmdir "$f" 2>/dev/null || true
	done
}

# a crashed earlier run's containers and mounts (lab_up then removes the rest)
for d in /tmp/ejlab-"$LAB_P".*/docker; do
	[ ! -d "$d" ] || dk_clean "$d"
done

lab_up
DK_DIR=$LAB_DIR/docker
# shellcheck disable=SC2016 # expanded at teardown
lab_on_exit 'dk_clean "$DK_DIR"'
mkdir -p "$DK_DIR/client" "$LAB_DIR/run"
e2e_busybox_tar "$DK_DIR" docker

# ---------------------------------------------------------------- the jail first

lab_users
lab_start_all
e2e_config
# br-ej is the lab's own bridge: br-* covers it and Docker's networks
sed -i "s|^interface = $LAB_BR .*|interface = docker0               ; Docker's default bridge\ninterface = br-*                  ; Docker's user-defined networks (and br-ej)|" "$E2E_CONF"
sed -i "s|^\[jail\]|&\ninbound = published\ndirect = $DK_SUBNET:80|" "$E2E_CONF"
e2e_start_netjaild || { e2e_show_log netjaild; lab_die "netjaild did not become ready"; }
e2e_start_dohd || { e2e_show_log dohd; lab_die "dohd did not start"; }
e2e_start_connectd || { e2e_show_log connectd; lab_die "connectd did not become ready"; }

# ---------------------------------------------------------------- then Docker

cat >"$DK_DIR/containerd.toml" <<EOF
version = 2
root = "$DK_DIR/containerd/root"
state = "$DK_DIR/containerd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "$DK_DIR/containerd.sock"
[ttrpc]
  address = "$DK_DIR/containerd.sock.ttrpc"
EOF
echo '{}' >"$DK_DIR/daemon.json"
dk_why() {	# the first error line a daemon wrote, else its last line
	{ grep -m 1 -iE 'level=(error|fatal)|failed|denied|unknown' "$LAB_DIR/$1.log" ||
		tail -n 1 "$LAB_DIR/$1.log"; } | cut -c 1-200
}
lab_spawn_net containerd host containerd --config "$DK_DIR/containerd.toml"
lab_retry 10 test -S "$DK_DIR/containerd.sock" ||
	lab_skip "containerd does not start here ($(dk_why containerd)), so the docker e2e test is skipped"
lab_spawn_net dockerd host dockerd --config-file "$DK_DIR/daemon.json" \
	--data-root "$DK_DIR/data" --exec-root "$DK_DIR/exec" \
	-H "unix://$DK_DIR/docker.sock" --pidfile "$DK_DIR/docker.pid" \
	--containerd "$DK_DIR/containerd.sock" \
	--containerd-namespace "${LAB_P}docker" --containerd-plugins-namespace "${LAB_P}plugins" \
	--storage-driver vfs --iptables=true --bip "$DK_BIP" --dns "$F" \
	--cgroup-parent "$DK_CG" --exec-opt native.cgroupdriver=cgroupfs \
	--default-ulimit "nofile=$(e2e_ulimit -n):$(e2e_ulimit -n)" \
	--default-ulimit "nproc=$(e2e_ulimit -u):$(e2e_ulimit -u)"
lab_retry 30 dk version >/dev/null 2>&1 ||
	lab_skip "dockerd does not start here ($(dk_why dockerd)), so the docker e2e test is skipped"
if ! dk import "$DK_DIR/busybox.tar" "$DK_IMG" >"$LAB_DIR/dk.out" 2>&1; then
	lab_skip "docker cannot import an image here ($(head -c 200 "$LAB_DIR/dk.out")), so the docker e2e test is skipped"
fi
if ! out=$(dk run --rm --network none "$DK_IMG" echo dk-runs 2>"$LAB_DIR/dk.out") || [ "$out" != dk-runs ]; then
	lab_skip "docker (runc) cannot run a container here ($(head -c 200 "$LAB_DIR/dk.out")), so the docker e2e test is skipped"
fi

DK_NET_ID=$(dk network create --subnet "$DK_SUBNET" "$DK_NET")
DK_BR=br-${DK_NET_ID:0:12}
# on each network a server (busybox httpd, published) and a client
dk_run() {	# NAME NETWORK ARGS...
	local n=$1 net=$2
	shift 2
	dk run -d --name "$n" --network "$net" "$@" >"$LAB_DIR/dk.out" 2>&1 ||
		lab_die "docker run $n: $(cat "$LAB_DIR/dk.out")"
}
dk_run ej0srv bridge -p 8080:80 "$DK_IMG" httpd -f -p 80 -h /www
dk_run ej0 bridge "$DK_IMG" sleep 600
dk_run ejnsrv "$DK_NET" -p 8081:80 "$DK_IMG" httpd -f -p 80 -h /www
dk_run ejn "$DK_NET" "$DK_IMG" sleep 600
dk_ip() {	# CONTAINER -> its address
	dk inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$1"
}

# ---------------------------------------------------------------- checks

jailed() {	# IFACE: set up (route_localnet), named up and set up by egressctl status
	[ "$(lab_exec host cat "/proc/sys/net/ipv4/conf/$1/route_localnet")" = 1 ] &&
		lab_exec host "$E2E_CTL" -c "$E2E_CONF" status 2>&1 | grep -qE "jailed_ifaces=(.* )?$1( |\$)"
}
lab_expect "docker0, made after netjaild started, is jailed and set up" lab_retry 3 jailed docker0
lab_expect "$DK_BR (docker network create) is jailed and set up" lab_retry 3 jailed "$DK_BR"
jail_set() {	# jailed_ifaces holds docker0 and the pattern br-*
	local set
	set=$(lab_exec host nft list set inet egressjail jailed_ifaces)
	echo "$set"
	[[ $set == *'"docker0"'* && $set == *'"br-*"'* ]]
}
lab_expect "the ruleset's jailed_ifaces holds docker0 and br-*" jail_set
lab_expect_match "Docker's filter rules are in place (iptables-nft -S)" '^-N DOCKER-ISOLATION-STAGE-1$' \
	lab_exec host iptables-nft -S
lab_expect_match "Docker's DNAT for -p 8080:80 is in place" '^-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT' \
	lab_exec host iptables-nft -t nat -S
lab_expect_match "the jail's table sits beside them" '^table inet egressjail' \
	lab_exec host nft list tables

# ct CMD...: CMD in the client container $CT, 10 s at most
ct() {
	dk exec "$CT" timeout 10 "$@"
}
# ct_http ADDR HOST [PORT]: a hand-written HTTP/1.0 request with nc (stdin
# kept open while the answer comes: busybox nc shuts its write side at EOF)
ct_http() {
	ct sh -c "(printf 'GET / HTTP/1.0\r\nHost: $2\r\n\r\n'; sleep 3) | nc -w 5 $1 ${3:-80}"
}
# ct_http_refused ADDR HOST: no peer's page; nothing (but nc's own
# complaint) or connectd's refusal
ct_http_refused() {
	local out
	out=$(ct_http "$@" 2>&1 | grep -v '^nc: ') || true
	printf 'got: %s\n' "$out"
	! printf '%s\n' "$out" | grep -q 'forbidden-reached\|exit-ok\|direct-ok\|published-ok' &&
		{ [ -z "$out" ] || printf '%s\n' "$out" | grep -q '^X-Egressjail-Reason:'; }
}
ct_addr() {	# NAME -> the first address nslookup gives
	ct nslookup "$1" 2>/dev/null | sed '1,/^$/d' | sed -n 's/^Address:[[:space:]]*\([0-9.]*\)$/\1/p' | head -n 1
}

for CT in ej0 ejn; do
	case $CT in
	ej0) net="docker0"; dns=$F ;;
	*) net="$DK_BR"; dns=127.0.0.11 ;;
	esac
	lab_expect_match "$CT ($net): resolv.conf names $dns" "^nameserver ${dns//./\\.}\$" ct cat /etc/resolv.conf
	lab_count_reset
	lab_expect_match "$CT ($net): nslookup smoke.test (dohd) gives $LAB_EXIT" \
		"^Address:[[:space:]]*${LAB_EXIT//./\\.}\$" ct nslookup smoke.test
	ip=$(ct_addr smoke.test)
	lab_expect_match "$CT ($net): HTTP to smoke.test ($ip:80, nc) works" \
		'^exit-ok smoke\.test' ct_http "${ip:-$LAB_EXIT}" smoke.test
	lab_expect "$CT ($net): nslookup forbidden.test: NXDOMAIN, no address" e2e_ct_nxdomain forbidden.test
	lab_expect "$CT ($net): HTTP to $F with Host: forbidden.test refused" \
		ct_http_refused "$F" forbidden.test
	lab_expect "$CT ($net): HTTP to $LAB_EXIT with Host: forbidden.test refused" \
		ct_http_refused "$LAB_EXIT" forbidden.test
	lab_expect "$CT ($net): raw TCP to $F:8080: only connectd's refusal comes back" \
		e2e_ct_tcp_silent "$F" 8080
	lab_expect_fail "$CT ($net): ping $F (ICMP) gets no answer" ct ping -c 1 -W 2 "$F"
	e2e_nothing "$CT ($net): nothing reached $F (DNS aimed at it included)" "$F"
	lab_expect_eq "$CT ($net): the DoH servers never saw forbidden.test" 0 \
		"$(($(lab_doh_queries "$LAB_DOH" forbidden.test) + $(lab_doh_queries "$LAB_DOH2" forbidden.test)))"
done

# connectd saw each container by its own address
ct_access() {	# ADDR: connectd logged an allowed smoke.test from ADDR
	lab_retry 3 grep -qE "event=access src=${1//./\\.}:[0-9]+ .*host=\"smoke\.test\" .*decision=allow" \
		"$LAB_DIR/connectd.log"
}
lab_expect "connectd allowed ej0 ($(dk_ip ej0)) by its address" ct_access "$(dk_ip ej0)"
lab_expect "connectd allowed ejn ($(dk_ip ejn)) by its address" ct_access "$(dk_ip ejn)"

# container to container on the same network (Docker's --icc): with
# br_netfilter on (Docker turns it on) bridged packets pass the inet hooks,
# so it is jailed like the rest; `direct = <subnet>:<port>` opens one port
# (the user-defined network's 80 here), and Docker's own rules still apply
CT=ejn
lab_expect_match "ejn: Docker's embedded DNS names ejnsrv" "^Address:[[:space:]]*$(dk_ip ejnsrv | sed 's/\./\\./g')\$" \
	ct nslookup ejnsrv
lab_expect_match "ejn -> ejnsrv:80 on $DK_BR (direct = $DK_SUBNET:80) works" '^published-ok' \
	ct_http "$(dk_ip ejnsrv)" ejnsrv
CT=ej0
lab_expect "ej0 -> ej0srv:80 on docker0 (no direct) is jailed: connectd refuses" \
	ct_http_refused "$(dk_ip ej0srv)" ej0srv
lab_expect "ej0 -> ejnsrv:80 (the other network's direct) gets nothing: Docker's isolation" \
	ct_http_refused "$(dk_ip ejnsrv)" ejnsrv

# ---------------------------------------------------------------- published ports

up_get() {	# PORT: what a client in up gets from the host's uplink address
	lab_exec up curl -s --max-time 4 "http://$LAB_HOSTUP4:$1/" 2>/dev/null
}
up_nothing() {	# PORT
	local out
	out=$(up_get "$1") || true
	echo "got: '$out'"
	[ -z "$out" ]
}
lab_expect_match "published: up -> $LAB_HOSTUP4:8080 (-p 8080:80, docker0) answers" '^published-ok' up_get 8080
lab_expect_match "published: up -> $LAB_HOSTUP4:8081 (-p 8081:80, $DK_BR) answers" '^published-ok' up_get 8081
ct_no_published() {	# ADDR PORT: the container gets no published server's page
	local out
	out=$(ct_http "$1" "$1" "$2" 2>&1) || true
	echo "got: '$out'"
	! printf '%s\n' "$out" | grep -q published-ok
}
for CT in ej0 ejn; do
	for p in 8080 8081; do
		lab_expect "$CT: HTTP to the host's published $LAB_HOSTUP4:$p gets no server's page" \
			ct_no_published "$LAB_HOSTUP4" "$p"
	done
done

sed -i 's|^inbound = published|inbound = drop|' "$E2E_CONF"
kill -HUP "$(cat "$LAB_DIR/netjaild.pid")"
lab_expect "netjaild reloads with inbound = drop" \
	lab_retry 5 grep -q "event=reload result=ok generation=2" "$LAB_DIR/netjaild.log"
lab_expect "drop: up -> $LAB_HOSTUP4:8080 gets nothing" up_nothing 8080
lab_expect "drop: up -> $LAB_HOSTUP4:8081 gets nothing" up_nothing 8081
CT=ejn
lab_expect_match "drop: ejn still reaches smoke.test" '^exit-ok smoke\.test' ct_http "$LAB_EXIT" smoke.test

for d in netjaild dohd connectd dockerd; do
	lab_expect "$d still running" lab_alive "$d"
done
lab_finish
