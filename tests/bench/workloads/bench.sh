#!/usr/bin/env bash
# tests/bench/workloads/bench.sh - issue 15's benchmark: 100 workloads of
# 1,000 rules each against one policy of 1,000 rules, in the same run.
#
# The policy engine's share (bench_wlpolicy, no root, no peer): lookups
# per second of one workload's traffic (hot: the case of the benchmark)
# and of traffic spread over every workload (the caches' worst case),
# against [policy] alone; the build time of the 100 engines; the cost of
# finding a bridge source's workload among 100 cidr: matches (connectd's
# and dohd's cross-check per connection and query).  CPU time of the
# thread, the cases alternating, the better of two rounds per run,
# medians over the rounds.
#
# Usage: EJ_BUILD=dir tests/bench/workloads/bench.sh [--quick] [--rounds N]
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

bench=${EJ_BUILD:-build}/tests/bench/workloads/bench_wlpolicy
[ -x "$bench" ] || { say "NOTE workloads bench: no $bench, nothing measured"; exit 1; }

all=''
for r in $(seq 1 "$rounds"); do
	echo "== round $r/$rounds"
	if ! o=$("$bench" 100 1000 "$nlookups"); then
		say "NOTE round=$r workloads bench_wlpolicy failed (left out of the median)"
		continue
	fi
	echo "$o"
	all="$all$o"$'\n'
done
[ -n "$all" ] || { say "NOTE workloads: every round failed"; exit 1; }

awk '
function median(s,    v, n, i, j, t) {
	n = split(s, v, " ")
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
	return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
/^case=/ {
	for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
	c = f["case"]
	cnt[c]++
	mps[c] = mps[c] " " 1000 / f["ns_per_lookup"]
	bms[c] = bms[c] " " f["build_ms"]
	if ("ns_per_source" in f) src[c] = src[c] " " f["ns_per_source"]
	delete f
}
END {
	# the workload figure is egressjail'"'"'s (impl libegress), [policy] alone
	# its reference (impl single-policy): the ratio is the report'"'"'s
	printf "RESULT bench=workloads workload=wl100-policy-hot impl=libegress metric=lookups value=%.3f unit=M/s better=higher runs=%d\n", median(mps["hot"]), cnt["hot"]
	printf "RESULT bench=workloads workload=wl100-policy-hot impl=single-policy metric=lookups value=%.3f unit=M/s better=higher runs=%d\n", median(mps["single"]), cnt["single"]
	printf "RESULT bench=workloads workload=wl100-policy-spread impl=libegress metric=lookups value=%.3f unit=M/s better=higher runs=%d\n", median(mps["spread"]), cnt["spread"]
	printf "RESULT bench=workloads workload=wl100-policy-spread impl=single-policy metric=lookups value=%.3f unit=M/s better=higher runs=%d\n", median(mps["single"]), cnt["single"]
	printf "RESULT bench=workloads workload=wl100-build impl=libegress metric=time value=%.2f unit=ms better=lower runs=%d\n", median(bms["hot"]), cnt["hot"]
	printf "RESULT bench=workloads workload=wl100-source impl=libegress metric=time value=%.0f unit=ns better=lower runs=%d\n", median(src["hot"]), cnt["hot"]
}' <<<"$all" >&3
say "NOTE workloads: bench_wlpolicy, one thread, CPU time; 100 [workload] sections of 1,000 rules (a third each exact, *. and **.) besides [policy]'s 1,000; hot: every lookup to one workload, spread: round robin over all 101 engines; single-policy: [policy] alone in the same run; half hits, half misses; wl100-source: one bridge source's workload among 100 cidr: matches; medians over $rounds round(s) of $nlookups lookups"
exit 0
