#!/bin/sh
# rpm.sh SRCDIR - build the RPM from packaging/rpm/egressjail.spec with
# rpmbuild -bb --nodeps (build dependencies are Debian packages here), in a
# private _topdir, from a tarball of the working tree.
T=rpm
. "$(dirname "$0")/lib.sh"
set -u

src=${1:?usage: rpm.sh SRCDIR}
need_tools rpmbuild rpmspec meson ninja
spec=$src/packaging/rpm/egressjail.spec
[ -f "$spec" ] || fail "no $spec"

ver=$(sed -n 's/^Version:[[:space:]]*//p' "$spec" | head -n 1)
[ -n "$ver" ] || fail "no Version in the spec"
mver=$(sed -n "s/^[[:space:]]*version[[:space:]]*:[[:space:]]*'\([^']*\)'.*/\1/p" \
    "$src/meson.build" | head -n 1)
[ -z "$mver" ] || [ "$mver" = "$ver" ] ||
    fail "spec Version $ver differs from meson.build version $mver"

work=$(mktemp -d /tmp/egressjail-rpm.XXXXXX)
log=$work/build.log
keep=1
cleanup() { [ "$keep" -eq 1 ] || rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

top=$work/rpmbuild
mkdir -p "$top/SOURCES" "$top/SPECS" "$top/BUILD" "$top/RPMS" \
    "$top/SRPMS" "$top/BUILDROOT"
copy_tree "$src" "$work/$T-src/egressjail-$ver" || fail "cannot copy the tree"
tar -C "$work/$T-src" -czf "$top/SOURCES/egressjail-$ver.tar.gz" \
    "egressjail-$ver" || fail "cannot make the tarball"
cp "$spec" "$top/SPECS/"

rpmspec -P --define "_topdir $top" "$top/SPECS/egressjail.spec" >/dev/null \
    2>"$log" || { show_log "$log"; fail "rpmspec cannot parse the spec"; }
if ! rpmbuild -bb --nodeps --define "_topdir $top" \
    --define "_smp_mflags -j2" "$top/SPECS/egressjail.spec" >>"$log" 2>&1; then
	show_log "$log"
	fail "rpmbuild -bb failed, log in $log"
fi
rpmfile=$(find "$top/RPMS" -name "egressjail-$ver-*.rpm" | head -n 1)
[ -n "$rpmfile" ] || fail "no rpm produced, log in $log"
n=$(rpm -qlp "$rpmfile" 2>/dev/null | wc -l)
rpm -qlp "$rpmfile" 2>/dev/null | grep -qx /usr/sbin/netjaild ||
    fail "$(basename "$rpmfile") lacks /usr/sbin/netjaild"
rpm -qp --qf '[%{FILEMODES:perms} %{FILEGROUPNAME} %{FILENAMES}\n]' \
    "$rpmfile" 2>/dev/null | grep -q '^-rw-r----- egressjail /etc/egressjail/egressjail.conf$' ||
    fail "the config is not 0640 group egressjail in the rpm"
keep=${PKG_TEST_KEEP:-0}
ok "built $(basename "$rpmfile") with $n files"
