# lib.sh - shared by the packaging tests.  Each test prints exactly one
# line on standard output ("NAME: ok ...", "NAME: FAIL ...", "NAME: SKIP
# ...") and exits 0, 1 or 77; details of a failure go to standard error.

# name of the test, set by the sourcing script
: "${T:=packaging}"

ok() { echo "$T: ok: $*"; exit 0; }
fail() { echo "$T: FAIL: $*"; exit 1; }
skip() { echo "$T: SKIP: $*"; exit 77; }

need_tools() {
	for _t in "$@"; do
		command -v "$_t" >/dev/null 2>&1 || skip "$_t not installed"
	done
}

need_root() {
	[ "$(id -u)" -eq 0 ] || skip "needs root ($*)"
}

# copy_tree SRC DST: the source tree as it is in the working copy, without
# VCS data or build directories, so a build there starts clean.
copy_tree() {
	mkdir -p "$2" &&
	tar -C "$1" --exclude=./.git --exclude='./build*' --exclude='./obj-*' \
	    --exclude='./debian' -cf - . | tar -C "$2" -xf -
}

# show_log FILE: the end of a log on standard error.
show_log() {
	echo "---- last lines of $1 ----" >&2
	tail -n 40 "$1" >&2
}
