#!/bin/sh
# demo.sh - the main job, shown: build egressjail and demonstrate it.
#
# Until the full lab demo lands (tests/lab/demo.sh), this builds the tree
# and validates the shipped example configuration with `egressctl check`,
# printing what it checked.
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
