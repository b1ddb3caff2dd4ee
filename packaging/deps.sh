#!/bin/sh
# Install every build, test, lab and packaging dependency of egressjail on
# Debian 12.  Idempotent: packages already present are not fetched again.
# Exit status 0 when everything is installed, whether or not
# /usr/sbin/policy-rc.d was there before (it is removed again only when this
# script created it).
#
# Lab peers (squid, tinyproxy, unbound, nginx, dnsmasq, iodine, ...) are only
# tools for the test suite: they are installed with service start-up
# suppressed, so installing them never opens a port on the host.
set -eu

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: must run as root (apt-get)" >&2
	exit 1
fi

BUILD="build-essential meson ninja-build pkg-config clang llvm
	libuv1-dev libnftnl-dev libmnl-dev libldns-dev libssl-dev
	libnghttp2-dev libcmocka-dev libsystemd-dev libseccomp-dev
	libcap-ng-dev libclang-rt-14-dev"
LAB="iproute2 nftables conntrack procps psmisc kmod openssl ca-certificates
	tinyproxy squid unbound curl knot-dnsutils bind9-dnsutils dnsperf
	iperf3 redsocks dnsmasq-base iodine socat nginx-light netcat-openbsd
	tcpdump busybox-static iputils-ping shellcheck python3 bc
	podman runc netavark iptables docker.io containerd
	systemd-container mmdebstrap"
PACKAGING="debhelper devscripts lintian rpm mandoc groff-base systemd
	fakeroot dpkg-dev gnuplot-nox valgrind"

missing=""
for p in $BUILD $LAB $PACKAGING; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "deps.sh: all dependencies present"
	exit 0
fi

echo "deps.sh: installing:$missing"

# Keep apt from starting the peers' services while they are installed.
# EJ_DEPS_POLICY_RC is for tests only (tests/packaging/deps.sh): another
# path for that file, so the test never touches the real one.
policy=${EJ_DEPS_POLICY_RC:-/usr/sbin/policy-rc.d}
made_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod 0755 "$policy"
	made_policy=1
fi
# An if, not "[ ... ] && rm": the trap's last status would become the
# script's exit status, 1 whenever the policy file was already there.
cleanup() {
	if [ "$made_policy" -eq 1 ]; then
		rm -f "$policy"
	fi
}
trap cleanup EXIT INT TERM

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
echo "deps.sh: done"
