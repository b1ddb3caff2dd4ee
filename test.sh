#!/bin/sh
# test.sh - the whole test suite, from a fresh Debian 12 host (run as root).
#
#   1. install dependencies (packaging/deps.sh, idempotent)
#   2. build with -Werror and run the unit suite
#   3. build with ASan+UBSan (build-asan) and run the unit suite again
#   3b. run the C unit tests under valgrind
#   4. build the libFuzzer targets (clang) and run each briefly over its corpus
#   5. run the meson suites lab, e2e, soak, faults, packaging (root only;
#      each test skips itself with one line otherwise)
#
# Sanitizers in the lab: lab and e2e run against build-asan, not build, so
# the daemons (netjaild, connectd, dohd) face real peers with ASan+UBSan on.
# ASAN_OPTIONS has abort_on_error=1 and UBSAN_OPTIONS halt_on_error=1: the
# first report kills the daemon.  A report goes to the daemon's stderr, its
# log in the lab dir, and tests/lab/lib.sh fails the test when any file of
# the lab (or any lab_expect output) holds one, checked after the daemons
# are stopped, so a report at exit counts too.  (No log_path: the daemons'
# Landlock view allows no writes.)  Leaks are checked in the daemons too
# (detect_leaks=1): in an ASan build only, libegress/sandbox.c adds to the
# daemons' seccomp allow-lists the syscalls the sanitizer runtime makes
# (LeakSanitizer's ptrace stop-the-world at exit, /proc reads; never
# execve) and to their Landlock view /proc/self and the binary, read-only.
# A release build never has those additions.  soak, faults and packaging
# use the plain build: the soak measures RSS, which ASan's quarantine and
# shadow memory would swamp, and faults judge timings under load.
#
# Each stage's wall time is printed at the end.
#
# Environment: EJ_SKIP_DEPS=1 skips step 1; EJ_SUITES="unit lab" limits the
# meson suites of step 5; EJ_ASAN_SUITES (default "lab e2e") names those
# that run against build-asan.
set -eu
cd "$(dirname "$0")"

if [ "$(id -u)" -eq 0 ] && [ "${EJ_SKIP_DEPS:-0}" != 1 ]; then
	./packaging/deps.sh
elif [ "$(id -u)" -ne 0 ]; then
	echo "test.sh: not root, so dependencies are not installed and lab tests are skipped"
fi

# step NAME: start a stage; each stage's wall time is printed at the end,
# also when one fails (the failed one is marked).
times=""
stage=""
t_stage=$(date +%s)
t_start=$t_stage
stage_done() {	# [MARK]
	now=$(date +%s)
	if [ -n "$stage" ]; then
		times="$times$(printf '%6ss  %s%s' "$((now - t_stage))" "$stage" "${1:-}")
"
	fi
	t_stage=$now
}
step() {
	stage_done
	stage=$*
	printf '\n==== %s\n' "$*"
}
times_at_exit() {
	rc=$?
	if [ "$rc" != 0 ]; then
		stage_done "  (FAILED)"
	fi
	printf '\n==== time per stage\n%s%6ss  in all\n' "$times" "$(($(date +%s) - t_start))"
	exit "$rc"
}
trap times_at_exit EXIT

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
# ask_preview: connectd takes mode = ask in this build only, so the lab
# runs connectd-lab-ask (docs/ASK.md); release builds refuse the mode.
setup build-asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false -Dask_preview=true
ninja -C build-asan
asan_env="ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1 UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1"
# shellcheck disable=SC2086 # two words, on purpose
env $asan_env meson test -C build-asan --suite unit --print-errorlogs

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

asan_suites=${EJ_ASAN_SUITES:-lab e2e}
for suite in ${EJ_SUITES:-lab e2e soak faults packaging}; do
	dir=build wrap=""
	case " $asan_suites " in
	*" $suite "*) dir=build-asan wrap=$asan_env ;;
	esac
	step "suite $suite ($dir)"
	if meson test -C "$dir" --list 2>/dev/null | grep -q "^egressjail:$suite / \|^$suite / \|:$suite /"; then
		# shellcheck disable=SC2086 # $wrap: words for env, or none
		env $wrap meson test -C "$dir" --suite "$suite" --print-errorlogs \
			${wrap:+--timeout-multiplier 2}
	else
		echo "suite $suite: no tests registered yet"
	fi
done

stage_done
stage=""
printf '\n==== all suites passed\n'
