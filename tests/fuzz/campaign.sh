#!/bin/sh
# tests/fuzz/campaign.sh - a long libFuzzer campaign over every target.
#
#   tests/fuzz/campaign.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Not part of CI (the test command runs each target for a few seconds).
# Builds the targets with clang into build-fuzz/ (ASan+UBSan+libFuzzer),
# then runs each target for SECONDS_PER_TARGET (default 600) over a scratch
# copy of its corpus.  Afterwards the new inputs are merged, minimised, into
# tests/fuzz/corpus/<target>/ (-merge=1 keeps only inputs that add coverage),
# and any crash, leak, timeout or out-of-memory input is kept in
# fuzz-artifacts/<target>/ and named in the summary.  Every such input must
# become a unit test before it is fixed.
#
# Environment: EJ_FUZZ_JOBS=N runs N targets at once (default 1);
# EJ_FUZZ_BUILD=DIR builds elsewhere; EJ_SKIP_BUILD=1 uses the build as is.
set -eu
cd "$(dirname "$0")/../.."
top=$(pwd)
secs=${1:-600}
[ $# -gt 0 ] && shift
build=${EJ_FUZZ_BUILD:-build-fuzz}
jobs=${EJ_FUZZ_JOBS:-1}
art=$top/fuzz-artifacts
log=$art/campaign.log

if [ "${EJ_SKIP_BUILD:-0}" != 1 ]; then
	if [ -d "$build" ]; then
		CC=clang meson setup --reconfigure "$build" -Dfuzz=true -Dbuildtype=debug >/dev/null
	else
		CC=clang meson setup "$build" -Dfuzz=true -Dbuildtype=debug >/dev/null
	fi
	ninja -C "$build" >/dev/null
fi

if [ $# -gt 0 ]; then
	targets="$*"
else
	targets=$(find "$build/tests/fuzz" -type f -name 'fuzz_*' -perm -u+x |
		sed 's,.*/fuzz_,,' | sort)
fi
[ -n "$targets" ] || { echo "campaign: no fuzz targets in $build" >&2; exit 1; }
mkdir -p "$art"
: >"$log"

run_one() {	# run_one TARGET
	t=$1
	exe=$(find "$build/tests/fuzz" -type f -name "fuzz_$t" | head -n 1)
	corpus=$top/tests/fuzz/corpus/$t
	work=$art/$t/work
	mkdir -p "$corpus" "$work" "$art/$t"
	before=$(find "$corpus" -type f | wc -l)
	# -fork keeps the campaign going past a crash so one bug does not end
	# the whole run; each crashing input is written to artifact_prefix.
	"$exe" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
		-artifact_prefix="$art/$t/" -print_final_stats=1 \
		"$work" "$corpus" >"$art/$t/run.log" 2>&1 || true
	"$exe" -merge=1 "$corpus" "$work" >"$art/$t/merge.log" 2>&1 || true
	after=$(find "$corpus" -type f | wc -l)
	# fork mode prints "#EXECS: cov: N ..." lines; the last one is the total
	execs=$(grep -o '^#[0-9]*: cov' "$art/$t/run.log" | tail -n 1 | tr -dc 0-9)
	cov=$(grep -o 'cov: [0-9]*' "$art/$t/run.log" | tail -n 1 | awk '{print $2 + 0}')
	bad=$(find "$art/$t" -maxdepth 1 -type f \
		\( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
	printf '%-16s %6ss  execs %-10s cov %-6s corpus %s -> %s  findings %s\n' \
		"$t" "$secs" "${execs:-0}" "${cov:-0}" "$before" "$after" "$bad" >>"$log"
}

echo "campaign: $(echo "$targets" | wc -w) targets, ${secs}s each, $jobs at a time; logs in $art"
running=0
for t in $targets; do
	run_one "$t" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait
		running=0
	fi
done
wait

echo
sort "$log"
total=$(awk '{s += $NF} END {print s + 0}' "$log")
if [ "$total" -gt 0 ]; then
	echo "campaign: $total finding(s); inputs are in $art/<target>/ (crash-*, leak-*, timeout-*, oom-*)"
	exit 1
fi
echo "campaign: no findings"
