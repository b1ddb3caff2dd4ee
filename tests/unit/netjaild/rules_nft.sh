#!/bin/sh
# rules_nft.sh NJ_TOOL GOLDEN_DIR - root only, in throwaway namespaces:
#   1. nft -c -f accepts every golden ruleset;
#   2. the batch netjaild sends and the printed text list the same in nft,
#      so --print can never drift from what is installed;
#   3. the read-back finds the installed table whole.
tool=$1; golden=$2; netjaild=${3:-}; example=${4:-}
if [ "$(id -u)" -ne 0 ]; then
	echo "rules_nft: not root, skipped (needs network namespaces)"; exit 77
fi
command -v nft >/dev/null || { echo "rules_nft: no nft, skipped"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
for f in "$golden"/*.nft; do
	name=$(basename "$f" .nft)
	if ! unshare -n nft -c -f "$f" 2>"$tmp/err"; then
		echo "FAIL $name: nft -c -f rejects the text:"; cat "$tmp/err"; fail=1; continue
	fi
	unshare -n sh -c "nft -f '$f' && nft list table inet egressjail" >"$tmp/text" 2>&1
	unshare -n sh -c "'$tool' install $name && '$tool' readback $name >&2 && nft list table inet egressjail" >"$tmp/batch" 2>"$tmp/rb"
	if ! grep -q '^whole' "$tmp/rb"; then
		echo "FAIL $name: install/read-back:"; cat "$tmp/rb"; fail=1; continue
	fi
	if ! diff -u "$tmp/text" "$tmp/batch"; then
		echo "FAIL $name: batch and text differ"; fail=1; continue
	fi
	echo "ok $name"
done

# set updates: a learned direct lands in direct4_learned (the hash set), not
# in the configured interval set direct4; refresh, configured elements left
# alone, delete, cap
out=$(unshare -n sh -c "
	t='$tool'
	\$t install directs || exit 1
	\$t set directs add 10.9.9.9 80 60000 && \$t set directs add 10.9.9.9 80 30000 || exit 1
	echo add=\$(nft list set inet egressjail direct4_learned | grep -o '10.9.9.9 . 80 timeout 30s' | wc -l)
	echo notconf=\$(nft list set inet egressjail direct4 | grep -c '10.9.9.9')
	\$t set directs add 2001:db9::9 443 60000 || exit 1
	echo add6=\$(nft list set inet egressjail direct6_learned | grep -c '2001:db9::9 . 443 timeout')
	\$t set directs add 10.0.1.5 5432 1000 || exit 1
	echo inside=\$(nft list table inet egressjail | grep -c '10.0.1.5 ')
	\$t set directs del 10.9.9.9 80 0 && \$t set directs del 10.9.9.9 80 0 || exit 1
	echo del=\$(nft list table inet egressjail | grep -c '10.9.9.9')
	\$t set directs add 10.9.9.8 80 4000000 2>/dev/null; echo cap=\$?
	# no set to take it (table gone): the add fails, it is never acked
	\$t remove && { \$t set directs add 10.9.9.7 80 1000 2>/dev/null; echo noset=\$?; }
	ip link set lo up
	\$t routes >/dev/null && \$t routes >/dev/null && echo rules=\$(ip rule | grep -c fwmark)
	\$t unroute && echo unroute=\$(ip -6 rule | grep -c fwmark)
" 2>&1)
want="add=1 notconf=0 add6=1 inside=0 del=0 cap=1 noset=1 rules=1 unroute=0"
out2=$(unshare -n sh -c "
	t='$tool'
	\$t install local && \$t overlap bridge && \$t readback local" 2>&1)
out3=$(unshare -n sh -c "
	t='$tool'
	\$t install bridge && \$t extra bridge && \$t readback bridge >/dev/null &&
	echo \$(nft list set inet egressjail direct4_learned | grep -c '10.9.9.9 . 80 timeout') \
	    \$(nft list table inet egressjail | grep -c '10.78.0.20 . 5432')" 2>&1)
if [ "$out3" = "1 1" ]; then
	echo "ok learned elements survive a reload, configured ones are not doubled"
else
	echo "FAIL reload with learned elements: $out3"; fail=1
fi
case "$out2" in
*"refused: add "*"elements to set jailed_uids"*whole*) echo "ok failed batch changes nothing ($(echo "$out2" | head -1))";;
*) echo "FAIL failed batch: $out2"; fail=1;;
esac
if [ "$(echo $out)" = "$want" ]; then
	echo "ok sets and routes"
else
	echo "FAIL sets and routes: got '$(echo $out)', wanted '$want'"; fail=1
fi

# another inet table beside ours (firewalld's, say), with chains, rules and
# sets named like ours: the read-back must look at our table only
out4=$(unshare -n sh -c "
	t='$tool'
	nft 'add table inet other; add chain inet other out_filter { type filter hook output priority 10; }; add rule inet other out_filter counter; add set inet other hops4 { type ipv4_addr; }' &&
	\$t install both && \$t readback both && echo readback-ok" 2>&1)
case "$out4" in
*"not whole"*|*broken*) echo "FAIL read-back with another inet table: $out4"; fail=1;;
*readback-ok) echo "ok read-back ignores other inet tables";;
*) echo "FAIL read-back with another inet table: $out4"; fail=1;;
esac

# the packaged example, through the real option parser and config loader
if [ -n "$netjaild" ] && [ -f "$example" ]; then
	if ! "$netjaild" --print -c "$example" >"$tmp/example.nft" 2>"$tmp/err"; then
		echo "skip packaged example: $(head -1 "$tmp/err")"
	elif unshare -n nft -c -f "$tmp/example.nft" 2>"$tmp/err"; then
		echo "ok netjaild --print of the packaged example loads"
	else
		echo "FAIL packaged example:"; cat "$tmp/err"; fail=1
	fi
fi
exit $fail
