#!/bin/sh
# test.sh - the whole test suite, from a fresh Debian 12 host (run as root).
#
#   1. install dependencies (packaging/deps.sh, idempotent)
#   2. build with -Werror and run the unit suite
#   3. build with ASan+UBSan and run the unit suite again
#   3b. run the C unit tests under valgrind
#   4. build the libFuzzer targets (clang) and run each briefly over its corpus
#   5. run the lab and e2e suites (root only; skipped with one line otherwise)
#
# Environment: EJ_SKIP_DEPS=1 skips step 1; EJ_SUITES="unit lab" limits the
# meson suites of step 5.
set -eu
cd "$(dirname "$0")"
top=$(pwd)

if [ "$(id -u)" -eq 0 ] && [ "${EJ_SKIP_DEPS:-0}" != 1 ]; then
	./packaging/deps.sh
elif [ "$(id -u)" -ne 0 ]; then
	echo "test.sh: not root, so dependencies are not installed and lab tests are skipped"
fi

step() { printf '\n==== %s\n' "$*"; }

setup() {	# setup DIR [meson options...]
	dir=$1; shift
	if [ -d "$dir" ]; then
		meson setup --reconfigure "$dir" "$@" >/dev/null
	else
		meson setup "$dir" "$@" >/dev/null
	fi
}

step "build (-Werror) and unit tests"
setup build -Dwerror=true
ninja -C build
meson test -C build --suite unit --print-errorlogs

step "unit tests under ASan+UBSan"
setup build-asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false
ninja -C build-asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	meson test -C build-asan --suite unit --print-errorlogs

step "unit tests under valgrind (the C tests; test_priv's seccomp filters cannot run under valgrind)"
vg_tests=$(meson introspect --tests build | python3 -c '
import json, sys
for t in json.load(sys.stdin):
    if any(x.split(":")[-1] == "unit" for x in t["suite"]) and not any(c.endswith(".sh") for c in t["cmd"]) and t["name"] != "libegress-priv":
        print(t["name"])')
# shellcheck disable=SC2086
meson test -C build --print-errorlogs --timeout-multiplier 5 \
	--wrap='valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite' \
	$vg_tests

step "libFuzzer targets, a short run of each over its corpus"
CC=clang setup build-fuzz -Dfuzz=true -Dbuildtype=debug
ninja -C build-fuzz
meson test -C build-fuzz --suite fuzz --print-errorlogs

for suite in ${EJ_SUITES:-lab e2e packaging}; do
	step "suite $suite"
	if meson test -C build --list 2>/dev/null | grep -q "^egressjail:$suite / \|^$suite / \|:$suite /"; then
		meson test -C build --suite "$suite" --print-errorlogs
	else
		echo "suite $suite: no tests registered yet"
	fi
done

step "all suites passed"
