#!/bin/sh
# deb.sh SRCDIR - build the Debian package from a copy of the tree
# (packaging/debian placed at ./debian), lint it, install it on this
# machine, check what it set up, and purge it again, even on failure.
#
# Installing touches the real host (users, /etc/egressjail, units), which is
# why this runs only in the packaging suite, as root, and never when an
# egressjail package or a live /run/egressjail is already there.
T=deb
. "$(dirname "$0")/lib.sh"
set -u

src=${1:?usage: deb.sh SRCDIR}
need_root "dpkg -i"
need_tools dpkg-buildpackage dpkg-checkbuilddeps lintian fakeroot dh \
    dh_installsystemd
[ -d "$src/packaging/debian" ] || fail "no packaging/debian in $src"

if dpkg-query -W -f='${Status}' egressjail 2>/dev/null | grep -q installed; then
	skip "an egressjail package is already installed here"
fi
if [ -d /run/egressjail ] && [ -n "$(ls -A /run/egressjail 2>/dev/null)" ]; then
	skip "/run/egressjail is in use on this host"
fi

work=$(mktemp -d /tmp/egressjail-deb.XXXXXX)
tree=$work/egressjail
log=$work/build.log
installed=0
users_before=""
for u in egressjail egress-connect egress-dns; do
	getent passwd "$u" >/dev/null && users_before="$users_before $u"
done
group_before=0
getent group egressjail >/dev/null && group_before=1

cleanup() {
	if [ "$installed" -eq 1 ]; then
		dpkg --purge egressjail >>"$log" 2>&1 ||
		    echo "deb: cleanup: dpkg --purge failed, see $log" >&2
	fi
	# The package keeps its users on purge (Debian practice); the test
	# removes the ones it brought onto this machine.
	for u in egress-dns egress-connect egressjail; do
		case " $users_before " in *" $u "*) continue ;; esac
		getent passwd "$u" >/dev/null && userdel "$u" >/dev/null 2>&1
		getent group "$u" >/dev/null && [ "$u" != egressjail ] &&
		    groupdel "$u" >/dev/null 2>&1
	done
	if [ "$group_before" -eq 0 ] && getent group egressjail >/dev/null; then
		groupdel egressjail >/dev/null 2>&1
	fi
	if [ "${keep:-0}" -eq 0 ]; then
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
keep=1

if ! deb_build "$src" "$work" "$log"; then
	show_log "$log"
	grep -q 'Unmet build dependencies' "$log" &&
	    fail "build dependencies missing (packaging/deps.sh), log in $log"
	fail "dpkg-buildpackage failed, log in $log"
fi
cd "$tree" || fail "cd $tree"
deb=$(ls "$work"/egressjail_*.deb 2>/dev/null | head -n 1)
changes=$(ls "$work"/egressjail_*.changes 2>/dev/null | head -n 1)
[ -n "$deb" ] || fail "no .deb produced, log in $log"
# for systemd-boot.sh, which installs this same package in a container
deb_cache_put "$src" "$deb" || echo "deb: could not cache $deb" >&2

# lintian: no errors (warnings are reported in the summary line)
lint=$work/lintian.txt
lintian --fail-on error --tag-display-limit 0 "${changes:-$deb}" >"$lint" 2>&1
lrc=$?
nerr=$(grep -c '^E: ' "$lint")
nwarn=$(grep -c '^W: ' "$lint")
if [ "$lrc" -ne 0 ] || [ "$nerr" -ne 0 ]; then
	cat "$lint" >&2
	fail "lintian: $nerr error(s), log in $lint"
fi

# The contents a working install needs.
contents=$work/contents.txt
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$contents"
missing=""
# units: /lib/systemd/system up to bookworm, /usr/lib/systemd/system after
for u in netjaild.service connectd.service dohd.service connectd.socket \
    connectd-transparent.socket dohd.socket dohd-tcp.socket; do
	grep -Eqx "(/usr)?/lib/systemd/system/$u" "$contents" ||
	    missing="$missing $u"
done
for f in /usr/sbin/netjaild /usr/sbin/connectd /usr/sbin/dohd \
    /usr/lib/sysusers.d/egressjail.conf /usr/lib/tmpfiles.d/egressjail.conf \
    /etc/egressjail/egressjail.conf \
    /usr/share/man/man8/netjaild.8.gz /usr/share/man/man8/connectd.8.gz \
    /usr/share/man/man8/dohd.8.gz /usr/share/man/man8/egressctl.8.gz \
    /usr/share/man/man5/egressjail.conf.5.gz; do
	grep -qx "$f" "$contents" || missing="$missing $f"
done
grep -Eqx '/usr/s?bin/egressctl' "$contents" || missing="$missing egressctl"
[ -z "$missing" ] || fail "package lacks:$missing"
dpkg-deb --ctrl-tarfile "$deb" | tar -xOf - ./conffiles 2>/dev/null |
    grep -qx /etc/egressjail/egressjail.conf ||
    fail "/etc/egressjail/egressjail.conf is not a conffile"

# Install on this machine (no systemd runs here: nothing may start).
installed=1
if ! dpkg -i "$deb" >>"$log" 2>&1; then
	show_log "$log"
	fail "dpkg -i failed, log in $log"
fi
problems=""
for u in egressjail egress-connect egress-dns; do
	getent passwd "$u" >/dev/null || problems="$problems no-user-$u"
done
for u in egress-connect egress-dns; do
	id -nG "$u" 2>/dev/null | tr ' ' '\n' | grep -qx egressjail ||
	    problems="$problems $u-not-in-egressjail"
done
st=$(stat -c '%a %U %G' /etc/egressjail/egressjail.conf 2>/dev/null)
[ "$st" = "640 root egressjail" ] || problems="$problems conf-mode($st)"
if command -v systemd-tmpfiles >/dev/null 2>&1; then
	st=$(stat -c '%a %U %G' /run/egressjail 2>/dev/null)
	[ "$st" = "1770 root egressjail" ] || problems="$problems rundir($st)"
fi
for un in netjaild connectd dohd; do
	ls /etc/systemd/system/*.wants/$un.service >/dev/null 2>&1 &&
	    problems="$problems $un-enabled"
done
/usr/sbin/netjaild --version >/dev/null 2>&1 ||
    problems="$problems netjaild--version"
[ -z "$problems" ] || fail "after install:$problems"

# Purge: the package and its state go.
installed=0
if ! dpkg --purge egressjail >>"$log" 2>&1; then
	show_log "$log"
	fail "dpkg --purge failed, log in $log"
fi
left=""
for p in /etc/egressjail /run/egressjail /usr/sbin/netjaild \
    /lib/systemd/system/netjaild.service /usr/lib/systemd/system/netjaild.service \
    /usr/lib/sysusers.d/egressjail.conf; do
	[ -e "$p" ] && left="$left $p"
done
dpkg-statoverride --list /etc/egressjail/egressjail.conf >/dev/null 2>&1 &&
    left="$left statoverride"
[ -z "$left" ] || fail "left after purge:$left"

keep=${PKG_TEST_KEEP:-0}
ok "built $(basename "$deb"), lintian 0 errors $nwarn warnings, installed (users, 0640 conffile, units disabled), purged clean"
