#!/bin/sh
# deps.sh SRCDIR [SCRIPT] - packaging/deps.sh (or SCRIPT) in the four states
# a host can be in: packages missing or present, /usr/sbin/policy-rc.d
# there or not; plus a failing apt-get.  Nothing on this machine is
# touched: apt-get, dpkg-query and id are stubs first in PATH, and the
# policy file's path is EJ_DEPS_POLICY_RC (deps.sh's variable for tests).
# Checks: exit status 0 when all is installed (the first run on a host whose
# policy file was already there exited 1 before dbaaa22), the policy file in
# place (exit 101) while apt-get installs, removed afterwards only when
# deps.sh created it, never changed when it was there.
T=deps
. "$(dirname "$0")/lib.sh"
set -u

src=${1:?usage: deps.sh SRCDIR [SCRIPT]}
script=${2:-$src/packaging/deps.sh}
[ -f "$script" ] || fail "no $script"
# the real policy file must never be the one used
grep -q 'EJ_DEPS_POLICY_RC' "$script" ||
    fail "$script has no EJ_DEPS_POLICY_RC: it would touch /usr/sbin/policy-rc.d"

work=$(mktemp -d /tmp/egressjail-deps.XXXXXX)
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM HUP
mkdir "$work/bin"
# dpkg-query: every package installed, except those in $work/missing
cat >"$work/bin/dpkg-query" <<STUB
#!/bin/sh
for p; do :; done
if grep -qx "\$p" "$work/missing" 2>/dev/null; then
	exit 1
fi
printf 'install ok installed'
STUB
# apt-get: logs its words and whether the policy file was there (and what
# it said) at the time; fails when $work/apt-fails exists
cat >"$work/bin/apt-get" <<STUB
#!/bin/sh
if [ -e "\$EJ_DEPS_POLICY_RC" ]; then
	pol="policy=\$(tr '\n' ' ' <"\$EJ_DEPS_POLICY_RC")"
else
	pol="policy=none"
fi
echo "apt-get \$* \$pol" >>"$work/apt.log"
case \$1 in install) [ ! -e "$work/apt-fails" ] ;; esac
STUB
printf '#!/bin/sh\necho 0\n' >"$work/bin/id"
chmod 0755 "$work/bin/"*

policy=$work/policy-rc.d
problems=""
note() { problems="$problems; $*"; echo "deps: $*" >&2; }

# run_case NAME MISSING POLICY [APT-FAILS]: MISSING is a package list (or
# ""); POLICY "there" puts an administrator's own file in place first.
run_case() {
	name=$1
	rm -f "$policy" "$work/apt.log" "$work/apt-fails" "$work/missing"
	for p in $2; do echo "$p" >>"$work/missing"; done
	if [ "$3" = there ]; then
		printf '#!/bin/sh\n# the administrator'"'"'s own\nexit 0\n' >"$policy"
		before=$(cat "$policy")
	fi
	[ -z "${4:-}" ] || : >"$work/apt-fails"
	PATH=$work/bin:$PATH EJ_DEPS_POLICY_RC=$policy sh "$script" \
	    >"$work/out" 2>&1
	rc=$?
	sed "s/^/    $name | /" "$work/out" >&2
	if [ -z "${4:-}" ] && [ "$rc" -ne 0 ]; then
		note "$name: exit $rc, want 0"
	elif [ -n "${4:-}" ] && [ "$rc" -eq 0 ]; then
		note "$name: exit 0 although apt-get failed"
	fi
	if [ -z "$2" ]; then
		[ ! -s "$work/apt.log" ] || note "$name: apt-get ran with nothing missing"
	else
		grep -q "^apt-get install .*$2" "$work/apt.log" 2>/dev/null ||
		    note "$name: apt-get install $2 not run"
		if [ "$3" = there ]; then
			grep -q "^apt-get install .*the administrator's own" \
			    "$work/apt.log" || note "$name: the administrator's policy file was not in force"
		else
			grep -q "^apt-get install .*policy=#!/bin/sh exit 101" \
			    "$work/apt.log" || note "$name: no 'exit 101' policy while installing"
		fi
	fi
	if [ "$3" = there ]; then
		[ -f "$policy" ] && [ "$(cat "$policy")" = "$before" ] ||
		    note "$name: the administrator's policy file was removed or changed"
	else
		[ ! -e "$policy" ] || note "$name: the policy file deps.sh made is left behind"
	fi
}

run_case "present, no policy file" "" absent
run_case "present, policy file there" "" there
run_case "missing, no policy file" "tinyproxy" absent
run_case "missing, policy file there" "tinyproxy" there
run_case "missing, no policy file, apt-get fails" "tinyproxy" absent fails
run_case "missing, policy file there, apt-get fails" "tinyproxy" there fails

[ -z "$problems" ] || fail "${problems#; }"
ok "6 states: exit 0 when installed, policy file made and removed only by deps.sh"
