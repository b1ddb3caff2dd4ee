#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# shellcheck disable=SC2317 # functions run through lab_expect
# tests/lab/e2e/podman.sh - a real container in the jail: podman (runtime
# runc) runs a busybox image made from the machine's busybox-static on a
# podman bridge network that netjaild jails, and busybox's own wget and
# nslookup inside the container go through the jail or are refused: an
# allowlisted name (DNS via dohd, HTTP and HTTPS transparently, HTTP via
# the explicit proxy), a denied name (NXDOMAIN, proxy 403), the forbidden
# IP straight (TCP 80/443/8080, ICMP, DNS aimed at it), with lab_count at
# the forbidden target showing that nothing arrived.
#
# Network: podman's own bridge network, not --network host.  podman runs
# with `nsenter --net` in the lab's host namespace (${P}host; `ip netns
# exec` would hide the cgroup mounts podman needs), so netavark makes the
# network's bridge and the container's veth there, and the container gets
# a netns of its own behind that bridge, like any podman container on a
# host.  The jail's config has `interface = <that bridge>` besides br-ej.
# The container is started before the jail (netjaild sets route_localnet
# on each jailed interface when it installs the table, so the bridge must
# exist by then); nothing in it talks before the jail is in place.
#
# podman state is the test's own: --root/--runroot/--tmpdir under
# $LAB_DIR/podman, storage driver vfs, CONTAINERS_CONF pointing at a file
# written here (runc, cgroupfs, file events, netavark with its network
# configs in $LAB_DIR/podman/net), the image imported from a tar of
# /bin/busybox and its applet links: nothing is pulled.  The teardown
# removes the container (podman rm -f) before the namespaces go.  Only
# podman's IPAM database (/run/containers/networks/ipam.db, an address of
# the test's network, released by rm) and the image blob-info cache under
# /var/lib/containers/cache are shared with the machine's podman.
#
# Skipped with one line (exit 77): not root; podman, runc, nsenter or
# busybox-static missing; podman cannot run a container here (checked with
# --network none, then on the bridge, both before the jail exists).
set -eu
: "${EJ_LAB_PREFIX:=e2p}"
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
. "$here/../lib.sh"
# shellcheck source=common.sh
. "$here/common.sh"
lab_require_root
lab_need curl socat nft tinyproxy unbound nginx nsenter podman runc
e2e_need_built

PM_NET=ejpm                     # the podman network (its bridge: $PM_BR)
PM_BR=${LAB_P}-pm
PM_SUBNET=10.79.0.0/24
PM_GW=10.79.0.1
PM_IMG=localhost/ejbusybox:lab
PM_CT=ejpm
F=$LAB_FORBIDDEN

# pm_at DIR ARGS...: podman in the lab's host namespace with the state in
# DIR (this run's, or a crashed run's at clean-up).
pm_at() {
	local d=$1
	shift
	CONTAINERS_CONF=$d/containers.conf nsenter --net="/run/netns/$LAB_NS_HOST" \
		podman --root "$d/root" --runroot "$d/run" --tmpdir "$d/tmp" \
		--storage-driver vfs --runtime runc --log-level error "$@"
}

pm() {
	pm_at "$PM_DIR" "$@"
}

# pm_clean DIR [keep]: remove every container of that state, its mounts
# and (unless keep) DIR.
pm_clean() {
	local d=$1 m
	if [ -e "/run/netns/$LAB_NS_HOST" ] && [ -f "$d/containers.conf" ]; then
		pm_at "$d" rm -a -f -t 0 >/dev/null 2>&1 || true
		# and its IPAM record (podman keeps those in /run/containers)
		pm_at "$d" network rm -f "$PM_NET" >/dev/null 2>&1 || true
	fi
	# vfs mounts nothing but a container's /dev/shm, which rm unmounts;
	# whatever is left (a crashed rm) must not stop the rm -rf
	while read -r _ m _; do
		case $m in "$d"/*) umount -l "$m" 2>/dev/null || true ;; esac
	done </proc/mounts
	[ "${2:-}" = keep ] || rm -rf "$d"
}

# podman's cgroupfs manager leaves libpod_parent/conmon behind, empty:
# removed at teardown when this test made it (rmdir fails on a busy one).
PM_CG_MADE=1
for d in /sys/fs/cgroup/libpod_parent /sys/fs/cgroup/*/libpod_parent; do
	[ ! -d "$d" ] || PM_CG_MADE=0
done
pm_cgroups_clean() {
	local d
	[ "$PM_CG_MADE" = 1 ] || return 0
	for d in /sys/fs/cgroup/libpod_parent/conmon /sys/fs/cgroup/*/libpod_parent/conmon \
		/sys/fs/cgroup/libpod_parent /sys/fs/cgroup/*/libpod_parent; do
		[ ! -d "$d" ] || rmdir "$d" 2>/dev/null || true
	done
}

# A crashed earlier run may have left its container running: remove it
# while that run's host namespace still exists (lab_up then removes it).
for d in /tmp/ejlab-"$LAB_P".*/podman; do
	[ -d "$d" ] || continue
	if [ -e "${d%/podman}/.keep" ]; then
		pm_clean "$d" keep
	else
		pm_clean "$d"
	fi
done

# ---------------------------------------------------------------- podman

lab_up
PM_DIR=$LAB_DIR/podman
# shellcheck disable=SC2016 # expanded at teardown
lab_on_exit 'pm_clean "$PM_DIR"; pm_cgroups_clean'
mkdir -p "$PM_DIR/net" "$PM_DIR/tmp"

# podman's default ulimits (nofile and nproc raised) fail where the hard
# limits are lower (e2e_ulimit)
cat >"$PM_DIR/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$(e2e_ulimit -n):$(e2e_ulimit -n)", "nproc=$(e2e_ulimit -u):$(e2e_ulimit -u)"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$PM_DIR/events.log"
[network]
network_backend = "netavark"
network_config_dir = "$PM_DIR/net"
EOF

# the image: /bin/busybox (static) and a link per applet
e2e_busybox_tar "$PM_DIR" podman
pm_log=$LAB_DIR/podman.log
pm_why() {	# the first error line podman wrote
	grep -m 1 -iE 'error|denied|fail' "$pm_log" | cut -c 1-200 || head -n 1 "$pm_log"
}
if ! pm import "$PM_DIR/busybox.tar" "$PM_IMG" >"$pm_log" 2>&1; then
	lab_skip "podman cannot import an image here ($(pm_why)), so the podman e2e test is skipped"
fi
if ! out=$(pm run --rm --network none "$PM_IMG" echo pm-runs 2>"$pm_log") || [ "$out" != pm-runs ]; then
	lab_skip "podman (runc) cannot run a container here ($(pm_why)), so the podman e2e test is skipped"
fi
# podman 4.3 has no --interface-name: name the bridge in the network's file
if ! pm network create --disable-dns --subnet "$PM_SUBNET" --gateway "$PM_GW" "$PM_NET" >"$pm_log" 2>&1; then
	lab_skip "podman cannot create a bridge network here ($(pm_why)), so the podman e2e test is skipped"
fi
sed -i "s|\"network_interface\": \"[^\"]*\"|\"network_interface\": \"$PM_BR\"|" "$PM_DIR/net/$PM_NET.json"
if ! pm run -d --name "$PM_CT" --network "$PM_NET" --dns "$PM_GW" "$PM_IMG" sleep 300 >"$pm_log" 2>&1; then
	lab_skip "podman cannot run a container on a bridge network here ($(pm_why)), so the podman e2e test is skipped"
fi

# ---------------------------------------------------------------- jail

# e2e_up's steps after lab_up, with the podman bridge in the config
lab_users
lab_start_all
mkdir -p "$LAB_DIR/run"
e2e_config
sed -i "s|^interface = $LAB_BR .*|&\ninterface = $PM_BR                 ; podman's bridge network|" "$E2E_CONF"
grep -q "^interface = $PM_BR " "$E2E_CONF" || lab_die "could not add $PM_BR to $E2E_CONF"
e2e_start_netjaild || { e2e_show_log netjaild; lab_die "netjaild did not become ready"; }
e2e_start_dohd || { e2e_show_log dohd; lab_die "dohd did not start"; }
e2e_start_connectd || { e2e_show_log connectd; lab_die "connectd did not become ready"; }
lab_expect_match "the container's eth0 is on podman's bridge $PM_BR ($PM_SUBNET)" \
	'inet 10\.79\.0\.[0-9]+/24' pm exec "$PM_CT" ip -4 addr show eth0
lab_expect_match "$PM_BR is a jailed interface" "\"$PM_BR\"" \
	lab_exec host nft list set inet egressjail jailed_ifaces

# ct CMD...: CMD inside the container (busybox), 8 s at most
ct() {
	pm exec "$PM_CT" timeout 8 "$@"
}
ct_proxy() {
	pm exec -e "http_proxy=$E2E_PROXY" -e "https_proxy=$E2E_PROXY" "$PM_CT" timeout 8 "$@"
}


# allowed: smoke.test:443,80 through the jail
lab_expect_match "container: nslookup smoke.test (dohd) gives 10.78.0.10" \
	"^Address:[[:space:]]*${LAB_EXIT//./\\.}\$" ct nslookup smoke.test
lab_expect_match "container: wget http://smoke.test/ (transparent) works" \
	'^exit-ok smoke\.test' ct wget -q -O - http://smoke.test/
lab_expect_match "container: ... and reached the exit through the chain (it saw hop B, $LAB_HOP_B)" \
	"^${LAB_HOP_B//./\\.}\$" ct wget -q -O - http://smoke.test/whoami
# busybox's TLS 1.2 sends no signature_algorithms, so an OpenSSL 3 server
# at security level 2 (the lab's nginx, ECDSA cert) must assume SHA-1 and
# refuses the handshake (alert 40).  The alert is the exit's own answer:
# the ClientHello went through connectd and the chain to smoke.test:443.
ct_tls() {	# wget's output, whatever its exit status
	ct wget -q --no-check-certificate -O - https://smoke.test/ 2>&1 || true
}
lab_expect_match "container: wget https://smoke.test/ (transparent, SNI) gets to smoke.test's server" \
	'^exit-ok smoke\.test|TLS error from peer \(alert code 40\)' ct_tls
lab_expect_match "container: wget http://smoke.test/ via the explicit proxy $E2E_PROXY works" \
	'^exit-ok smoke\.test' ct_proxy wget -q -O - http://smoke.test/

# connectd's access log: the container's own address, each path allowed
ct_access() {	# MODE KIND: connectd logged an allowed smoke.test from the container
	# (written when the connection closes: give it a moment)
	lab_retry 3 grep -qE "event=access src=${PM_IP//./\\.}:[0-9]+ mode=$1 kind=$2 .*host=\"smoke\.test\" .*decision=allow" \
		"$LAB_DIR/connectd.log"
}
PM_IP=$(pm inspect -f "{{.NetworkSettings.Networks.$PM_NET.IPAddress}}" "$PM_CT" 2>/dev/null) || PM_IP=unknown
lab_expect "connectd allowed the container ($PM_IP): transparent HTTP" ct_access transparent http-t
lab_expect "connectd allowed the container ($PM_IP): transparent TLS (SNI smoke.test)" ct_access transparent tls
lab_expect "connectd allowed the container ($PM_IP): explicit proxy" ct_access explicit http

# denied name, forbidden IP: refused, and nothing reaches $F
lab_count_reset
lab_expect "container: nslookup forbidden.test: NXDOMAIN, no address" e2e_ct_nxdomain forbidden.test
lab_expect_eq "container: the DoH servers never saw forbidden.test" 0 \
	"$(($(lab_doh_queries "$LAB_DOH" forbidden.test) + $(lab_doh_queries "$LAB_DOH2" forbidden.test)))"
lab_expect "container: wget http://forbidden.test/ via the proxy refused (403)" \
	e2e_ct_refused ct_proxy wget -q -O - http://forbidden.test/
lab_expect "container: wget http://$F/ (TCP 80 to the forbidden IP) refused" \
	e2e_ct_refused ct wget -q -O - "http://$F/"
lab_expect "container: wget http://$F:8080/ refused" \
	e2e_ct_refused ct wget -q -O - "http://$F:8080/"
lab_expect "container: wget https://$F/ (TLS without SNI) refused" \
	e2e_ct_refused ct wget -q --no-check-certificate -O - "https://$F/"
lab_expect "container: raw TCP to $F:8080 (nc): only connectd's refusal comes back" \
	e2e_ct_tcp_silent "$F" 8080
lab_expect_fail "container: ping $F (ICMP) gets no answer" ct ping -c 1 -W 2 "$F"
lab_expect_match "container: DNS aimed at $F:53 is answered by dohd, not by $F" \
	"^Address:[[:space:]]*${LAB_EXIT//./\\.}\$" ct nslookup smoke.test "$F"
e2e_nothing "container: nothing reached $F" "$F"

for d in netjaild dohd connectd; do
	lab_expect "$d still running" lab_alive "$d"
done
lab_finish
