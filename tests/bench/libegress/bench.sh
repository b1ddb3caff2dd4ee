#!/usr/bin/env bash
# tests/bench/libegress/bench.sh - the policy engine alone (bench_policy):
# lookups per second with 100, 1,000, 10,000 and 100,000 rules (a third
# each exact, "*." and "**."; half the names hit, half miss) and the time to
# build the 100,000-rule policy.  No peer: informational.  Medians over the
# rounds.  Needs no root.
#
# Usage: EJ_BUILD=dir tests/bench/libegress/bench.sh [--quick] [--rounds N]
# stdout: RESULT and NOTE lines only (tests/bench/README.md).
set -u

rounds=3 nlookups=1000000
while [ $# -gt 0 ]; do
	case $1 in
	--quick) rounds=1 nlookups=300000 ;;
	--rounds) rounds=${2:?--rounds N}; shift ;;
	--rounds=*) rounds=${1#--rounds=} ;;
	*) echo "usage: $0 [--quick] [--rounds N]" >&2; exit 2 ;;
	esac
	shift
done
case $rounds in '' | *[!0-9]* | 0) echo "--rounds: a positive number" >&2; exit 2 ;; esac

exec 3>&1 1>&2
say() { printf '%s\n' "$*" >&3; }

bench=${EJ_BUILD:-build}/tests/bench/libegress/bench_policy
[ -x "$bench" ] || { say "NOTE libegress bench: no $bench, nothing measured"; exit 1; }

all=''
for r in $(seq 1 "$rounds"); do
	echo "== round $r/$rounds"
	if ! o=$("$bench" 100000 "$nlookups"); then
		say "NOTE round=$r libegress bench_policy failed (left out of the median)"
		continue
	fi
	echo "$o"
	all="$all$o"$'\n'
done

# one RESULT per rule count: lookups in M/s from ns per lookup, build in ms
awk -v rounds="$rounds" '
function median(s,    v, n, i, j, t) {
	n = split(s, v, " ")
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
	return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
function label(n) { return n >= 1000 && n % 1000 == 0 ? (n / 1000) "k" : n }
/^rules=/ {
	for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
	n = f["rules"] + 0
	if (!(n in cnt)) order[++norder] = n
	cnt[n]++
	mps[n] = mps[n] " " 1000 / f["ns_per_lookup"]
	bms[n] = bms[n] " " f["build_ms"]
	if ("insn_per_lookup" in f) insn[n] = insn[n] " " f["insn_per_lookup"]
	delete f
}
END {
	for (k = 2; k <= norder; k++)
		for (j = k; j > 1 && order[j - 1] > order[j]; j--) { t = order[j]; order[j] = order[j - 1]; order[j - 1] = t }
	for (k = 1; k <= norder; k++) {
		n = order[k]
		printf "RESULT bench=libegress workload=policy-lookup-%s impl=libegress metric=lookups value=%.3f unit=M/s better=higher runs=%d\n", label(n), median(mps[n]), cnt[n]
		if (n == 100000)
			printf "RESULT bench=libegress workload=policy-build-%s impl=libegress metric=time value=%.2f unit=ms better=lower runs=%d\n", label(n), median(bms[n]), cnt[n]
		if (n in insn)
			printf "NOTE libegress policy-lookup-%s: %.0f user-space instructions per lookup (perf counter)\n", label(n), median(insn[n])
	}
}' <<<"$all" >&3
say "NOTE libegress: bench_policy, one thread, lookups of host names at port 443 against N generated rules (a third each exact, *. and **.), half hits and half misses, names of one shape at every N; policy-build-100k: eg_policy_new over 100,000 rules; medians over $rounds round(s) of $nlookups lookups"
exit 0
