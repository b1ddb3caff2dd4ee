#!/usr/bin/env bash
# tests/bench/run.sh - the whole benchmark in one command (root):
#
#   tests/bench/run.sh [--quick] [--rounds N] [--only PART,...] [--no-doc]
#   tests/bench/run.sh --report-only bench-results/<stamp>
#
# 1. packaging/deps.sh (skip with EJ_SKIP_DEPS=1);
# 2. a release build: meson setup $EJ_BUILD -Dbuildtype=release; ninja
#    (EJ_BUILD defaults to build-bench);
# 3. each part with EJ_BUILD set, --quick/--rounds passed through:
#      rig        one iperf3 stream over loopback in a namespace (nbrig<pid>):
#                 the rig's own ceiling
#      netjaild   tests/bench/netjaild/bench.sh
#      libegress  tests/bench/libegress/bench.sh
#      connectd   tests/bench/connectd/bench.sh
#      dohd       tests/bench/dohd/dnsperf_dohd.sh (lab prefix EJ_LAB_PREFIX,
#                 default nbdp here)
#      workloads  tests/bench/workloads/bench.sh (issue 15: 100 workloads of
#                 1,000 rules against one policy)
#    A part that is missing or fails leaves a NOTE and the run goes on;
# 4. every stdout line of a part that starts with "RESULT " or "NOTE " goes
#    to bench-results/<UTC stamp>/results.txt, with the part's whole output
#    in <part>.log next to it;
# 5. tests/bench/report.py writes the tables, the targets and the plots into
#    docs/BENCHMARKS.md and docs/bench/*.png (--no-doc: only into the
#    results directory).
#
# The RESULT line format and the tools: tests/bench/README.md.
set -u

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
quick=0 rounds='' only='' nodoc=0 report_only=''
usage() {
	echo "usage: $0 [--quick] [--rounds N] [--only connectd,dohd,netjaild,libegress,workloads,rig] [--no-doc]" >&2
	echo "       $0 --report-only RESULTS_DIR [--no-doc]" >&2
	exit 2
}
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1 ;;
	--rounds) [ $# -ge 2 ] || usage; rounds=$2; shift ;;
	--rounds=*) rounds=${1#--rounds=} ;;
	--only) [ $# -ge 2 ] || usage; only=$2; shift ;;
	--only=*) only=${1#--only=} ;;
	--no-doc) nodoc=1 ;;
	--report-only) [ $# -ge 2 ] || usage; report_only=$2; shift ;;
	-h | --help) sed -n '2,/^set -u$/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) usage ;;
	esac
	shift
done
case $rounds in '' | [1-9] | [1-9][0-9]) ;; *) echo "--rounds: 1 to 99" >&2; exit 2 ;; esac
all_parts="rig netjaild libegress connectd dohd workloads"
parts=$all_parts
if [ -n "$only" ]; then
	parts=''
	for p in ${only//,/ }; do
		case " $all_parts " in
		*" $p "*) parts="$parts $p" ;;
		*) echo "--only: unknown part '$p' (parts: $all_parts)" >&2; exit 2 ;;
		esac
	done
fi

report() {
	local args=("$1/results.txt")
	[ "$nodoc" -eq 1 ] && args+=(--no-doc --plots "$1/plots")
	python3 "$here/report.py" "${args[@]}"
}

if [ -n "$report_only" ]; then
	[ -f "$report_only/results.txt" ] || { echo "$report_only/results.txt: no such file" >&2; exit 1; }
	report "$report_only"
	exit $?
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "run.sh: the benchmarks need root (namespaces, nftables, peers' users)" >&2
	exit 1
fi
cd "$src" || exit 1

if [ "${EJ_SKIP_DEPS:-0}" != 1 ]; then
	packaging/deps.sh || { echo "run.sh: deps.sh failed" >&2; exit 1; }
fi

build=${EJ_BUILD:-build-bench}
case $build in /*) ;; *) build=$src/$build ;; esac
echo "== release build in $build"
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" -Dbuildtype=release || exit 1
elif [ "$(meson introspect --buildoptions "$build" | python3 -c '
import json, sys
print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "buildtype"))')" != release ]; then
	meson configure "$build" -Dbuildtype=release || exit 1
fi
ninja -C "$build" || { echo "run.sh: build failed" >&2; exit 1; }
export EJ_BUILD=$build EJ_SRC=$src

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=$src/bench-results/$stamp
mkdir -p "$out"
res=$out/results.txt
pass=()
[ "$quick" -eq 1 ] && pass+=(--quick)
[ -n "$rounds" ] && pass+=(--rounds "$rounds")
mode=full
[ "$quick" -eq 1 ] && mode=quick
[ -n "$rounds" ] && mode="$mode, $rounds round(s)"
[ -n "$only" ] && mode="$mode, only $only"

commit=$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$src" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
	commit="$commit (with uncommitted changes in the tree)"
fi
{
	echo "# egressjail benchmark results, tests/bench/run.sh"
	echo "# date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "# mode: $mode"
	echo "# nproc: $(nproc)"
	echo "# kernel: $(uname -r)"
	echo "# cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
	echo "# load: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "# commit: $commit"
	echo "# build: $(basename "$build"), meson buildtype=release"
} >"$res"

# part_rig: one iperf3 stream over loopback in a namespace of its own
# shellcheck disable=SC2317 # called by name from run_part
part_rig() {
	local ns=${EJ_LAB_PREFIX:-}nbrig$$ secs=5 n=3 r v vals=() srv
	[ "$quick" -eq 1 ] && secs=3 n=1
	[ -n "$rounds" ] && n=$rounds
	command -v iperf3 >/dev/null || { echo "NOTE rig: iperf3 not installed, not measured"; return 1; }
	ip netns add "$ns" || return 1
	ip -n "$ns" link set lo up
	ip netns exec "$ns" iperf3 -s -1 -B 127.0.0.1 -p 5201 >&2 &
	srv=$!
	for r in $(seq 1 "$n"); do
		sleep 0.5
		if v=$(ip netns exec "$ns" iperf3 -c 127.0.0.1 -p 5201 -t "$secs" -J |
			python3 -c 'import json, sys; print("%.1f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 8 / 1048576))'); then
			echo "rig round $r: $v MiB/s" >&2
			vals+=("$v")
		fi
		wait "$srv" 2>/dev/null
		[ "$r" -lt "$n" ] && { ip netns exec "$ns" iperf3 -s -1 -B 127.0.0.1 -p 5201 >&2 & srv=$!; }
	done
	kill "$srv" 2>/dev/null
	wait "$srv" 2>/dev/null
	ip netns del "$ns"
	[ ${#vals[@]} -gt 0 ] || { echo "NOTE rig: iperf3 failed, no figure"; return 1; }
	v=$(printf '%s\n' "${vals[@]}" | sort -g | awk '{ v[NR] = $1 } END { printf "%.1f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
	echo "RESULT bench=rig workload=rig impl=iperf3 metric=throughput value=$v unit=MiB/s better=higher runs=${#vals[@]}"
	echo "NOTE rig: one iperf3 TCP stream over loopback inside a namespace, ${secs}s per run, median of ${#vals[@]}: $(awk -v v="$v" 'BEGIN { printf "%.1f", v * 8 * 1048576 / 1e9 }') Gbit/s; the ceiling of any relay on this machine"
}

# run_part NAME COMMAND...: run, log everything, keep RESULT/NOTE lines
run_part() {
	local name=$1 log=$out/$1.log t0 rc
	shift
	echo "== $name: $*"
	echo "# part: $name" >>"$res"
	t0=$(date +%s)
	# stdout to the log and to $name.out; stderr to the log only
	# shellcheck disable=SC2094 # both only append to the log
	"$@" > >(tee -a "$log" >"$out/$name.out") 2>>"$log"
	rc=$?
	wait $! 2>/dev/null
	grep -E '^(RESULT|NOTE) ' "$out/$name.out" | tee -a "$res"
	rm -f "$out/$name.out"
	case $rc in
	0) ;;
	77) echo "NOTE part $name: skipped (exit 77), see $name.log" | tee -a "$res" ;;
	*) echo "NOTE part $name: exited with status $rc after $(($(date +%s) - t0)) s, see bench-results/$stamp/$name.log" | tee -a "$res" ;;
	esac
	echo "-- $name: $(($(date +%s) - t0)) s, exit $rc"
}

script_for() {
	case $1 in
	netjaild) echo "$here/netjaild/bench.sh" ;;
	libegress) echo "$here/libegress/bench.sh" ;;
	connectd) echo "$here/connectd/bench.sh" ;;
	dohd) echo "$here/dohd/dnsperf_dohd.sh" ;;
	workloads) echo "$here/workloads/bench.sh" ;;
	esac
}

for p in $parts; do
	if [ "$p" = rig ]; then
		run_part rig part_rig
		continue
	fi
	s=$(script_for "$p")
	if [ ! -f "$s" ]; then
		echo "# part: $p" >>"$res"
		echo "NOTE part $p: ${s#"$src"/} not found, not measured" | tee -a "$res"
		continue
	fi
	if [ "$p" = dohd ]; then
		# the lab harness clears every namespace of its prefix at start:
		# one of our own, so that another lab run on the machine is left alone
		EJ_LAB_PREFIX=${EJ_LAB_PREFIX:-nbdp} run_part "$p" bash "$s" "${pass[@]}"
	else
		run_part "$p" bash "$s" "${pass[@]}"
	fi
done

echo "== results: $res"
report "$out"
