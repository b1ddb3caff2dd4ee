#!/bin/sh
# nl_compare.sh OLD_NJ_TOOL NEW_NJ_TOOL [GOLDEN_DIR] - root only, throwaway
# namespaces.  Before/after check for a change to netjaild/rules*.c that
# must not change behaviour: for every test config (one per golden file),
# the two builds of nj_tool must print the same text, build the same
# netlink messages byte for byte (nj_tool nldump), and leave the same
# `nft list ruleset` once installed.  Build OLD_NJ_TOOL from main first:
#   git worktree add /tmp/old main && meson setup /tmp/old/build /tmp/old &&
#   ninja -C /tmp/old/build tests/unit/netjaild/nj_tool
old=$1; new=$2; golden=${3:-$(dirname "$0")/golden}
[ -x "$old" ] && [ -x "$new" ] || { echo "usage: $0 OLD_NJ_TOOL NEW_NJ_TOOL [GOLDEN_DIR]"; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "nl_compare: not root, skipped"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
for f in "$golden"/*.nft; do
	name=$(basename "$f" .nft)
	for v in old new; do
		eval t=\$$v
		"$t" print "$name" >"$tmp/$v.nft" 2>&1
		"$t" nldump "$name" >"$tmp/$v.nl" 2>&1
		unshare -n sh -c "'$t' install $name && nft list ruleset" >"$tmp/$v.list" 2>&1
	done
	ok=1
	for k in nft nl list; do
		if ! cmp -s "$tmp/old.$k" "$tmp/new.$k"; then
			echo "FAIL $name: $k differs"; diff -u "$tmp/old.$k" "$tmp/new.$k" | head -20
			ok=0 fail=1
		fi
	done
	[ -s "$tmp/new.list" ] && [ -s "$tmp/new.nl" ] || { echo "FAIL $name: empty output"; ok=0 fail=1; }
	[ $ok = 1 ] && echo "ok $name: text, $(wc -l <"$tmp/new.nl") netlink messages, $(wc -l <"$tmp/new.list") listed lines identical"
done
exit $fail
