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

# tree_hash SRC: a hash of the files copy_tree would copy (names and
# contents), so a package built from one tree is found again for it.
tree_hash() {
	(cd "$1" && find . \( -path ./.git -o -path './build*' -o -path './obj-*' \
	    -o -path ./debian \) -prune -o -type f -print0 | LC_ALL=C sort -z |
	    xargs -0 sha256sum) | sha256sum | cut -c1-16
}

# DEB_CACHE: built packages, one directory per tree hash.
DEB_CACHE=/var/cache/egressjail-test/deb

# deb_build SRC OUTDIR LOG: build the .deb from a copy of SRC (with
# packaging/debian at ./debian) in OUTDIR; the package and its .changes
# land in OUTDIR.
deb_build() {
	copy_tree "$1" "$2/egressjail" || return 1
	cp -a "$2/egressjail/packaging/debian" "$2/egressjail/debian" || return 1
	(cd "$2/egressjail" && dpkg-checkbuilddeps >"$3" 2>&1 &&
	    DEB_BUILD_OPTIONS="parallel=2 ${DEB_BUILD_OPTIONS:-}" \
	    dpkg-buildpackage -b -us -uc >>"$3" 2>&1)
}

# deb_cache_put SRC DEB: keep DEB as the package of tree SRC (the last few
# trees' packages are kept).
deb_cache_put() {
	_d=$DEB_CACHE/$(tree_hash "$1")
	mkdir -p "$_d" && cp "$2" "$_d/" || return 1
	# keep the five newest
	ls -1dt "$DEB_CACHE"/*/ 2>/dev/null | tail -n +6 | xargs -r rm -rf
}

# deb_cached_or_build SRC: prints the path of a .deb of tree SRC, built
# now when no earlier run (deb.sh) left one in DEB_CACHE.
deb_cached_or_build() {
	_d=$DEB_CACHE/$(tree_hash "$1")
	_f=$(ls "$_d"/egressjail_*.deb 2>/dev/null | head -n 1)
	if [ -n "$_f" ]; then
		echo "$_f"
		return 0
	fi
	need_tools dpkg-buildpackage dpkg-checkbuilddeps fakeroot dh
	_w=$(mktemp -d /tmp/egressjail-deb.XXXXXX)
	if ! deb_build "$1" "$_w" "$_w/build.log"; then
		show_log "$_w/build.log"
		echo "dpkg-buildpackage failed, log in $_w/build.log"
		return 1
	fi
	_f=$(ls "$_w"/egressjail_*.deb | head -n 1)
	deb_cache_put "$1" "$_f" || return 1
	rm -rf "$_w"
	ls "$_d"/egressjail_*.deb | head -n 1
}
