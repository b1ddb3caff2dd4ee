#!/bin/sh
# demo.sh - the main job, shown: build egressjail and demonstrate it.
#
# As root: builds, then tests/lab/demo.sh brings up a lab of network
# namespaces (a bridge with workloads, an "outside" with real proxies, a DoH
# server and web servers), runs the three daemons, prints what each probe
# from a workload expected and observed, shows `egressctl status`, and tears
# everything down.  It exits 0 only when every probe matched.
# Not root: builds and validates the shipped example with `egressctl check`.
set -eu
cd "$(dirname "$0")"

if [ "$(id -u)" -eq 0 ] && [ "${EJ_SKIP_DEPS:-0}" != 1 ]; then
	./packaging/deps.sh
fi
if [ -d build ]; then
	meson setup --reconfigure build >/dev/null
else
	meson setup build >/dev/null
fi
ninja -C build

if [ -x tests/lab/demo.sh ] && [ "$(id -u)" -eq 0 ]; then
	exec tests/lab/demo.sh
fi

echo
echo "== egressctl check packaging/egressjail.conf.example"
flags=""
for u in egressjail egress-connect egress-dns; do
	getent passwd "$u" >/dev/null || flags="--no-user-check"
done
[ -n "$flags" ] && echo "(system users not created yet: user lookups skipped)"
# shellcheck disable=SC2086
exec ./build/egressctl/egressctl check $flags -c packaging/egressjail.conf.example
