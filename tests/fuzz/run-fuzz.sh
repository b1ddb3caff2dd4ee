#!/bin/sh
# run-fuzz.sh TARGET CORPUS SECONDS - a short, bounded libFuzzer run over the
# seed corpus.  New inputs go to a scratch directory, never into the tree.
# A crash, leak or timeout exits 1: libFuzzer's own default (77) is what
# meson reads as "skipped", which hid a leak found in CI as a skip.
set -eu
target=$1 corpus=$2 secs=$3
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$corpus"
exec "$target" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	-error_exitcode=1 -timeout_exitcode=1 \
	-print_final_stats=1 "$scratch" "$corpus"
