#!/usr/bin/env bash
# tests/lab/e2e/escape.sh - the escape suite: the jail tried the way an
# attacker would try it, one case file per door or defence in
# tests/lab/e2e/escape.d/ (docs/MATRIX.md, "Escape suite").  One lab
# bring-up (tests/lab/e2e/common.sh: the whole jail, a bridge workload w1
# and the jailed local user ejagent); each case file is sourced in name
# order, judges every case by what reached the forbidden upstream
# (lab_count in up) as well as by what the workload saw, and leaves the
# lab as it found it (rules, routes, daemons, sysctls).
#
# EJ_ESCAPE_ONLY="local bridge" runs only the case files whose names
# (without .sh and the leading NN-) are listed.
set -eu
: "${EJ_LAB_PREFIX:=esc}"
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
. "$here/common.sh"
lab_require_root
lab_need curl dig kdig socat python3 nft ping setpriv
e2e_need_built
e2e_up
e2e_write_raw

for f in "$here"/escape.d/*.sh; do
	[ -e "$f" ] || continue
	name=$(basename "$f" .sh)
	name=${name#[0-9][0-9]-}
	if [ -n "${EJ_ESCAPE_ONLY:-}" ]; then
		case " $EJ_ESCAPE_ONLY " in
		*" $name "*) ;;
		*) continue ;;
		esac
	fi
	lab_log "escape: $name"
	# shellcheck source=/dev/null
	. "$f"
done
lab_finish
