# shellcheck shell=bash
# tests/faults/faults.sh - shared by the faults suite (sourced after
# tests/lab/lib.sh and tests/lab/e2e/common.sh): the whole jail under a
# background load (ejfault.py load in w1), leak counters that cover every
# way out, recovery timing and the end-of-test report.
#
# "Past the jail" is judged three ways, and each must stay at 0 for the
# whole test:
#   - lab_count: packets from the host side to the forbidden target, the
#     "internet" and the exit itself (the exit is only ever reached through
#     the hops, by name, never straight from the host);
#   - table inet faults in up: packets from anywhere in up (the hops
#     included) to the forbidden target or the "internet" (a chain that let
#     a forbidden name through would show here, not in lab_count);
#   - the load's own view: a forbidden attempt that got an answer, and the
#     DoH servers' query logs for the denied names.

FL_TOOL=${FL_TOOL:-$EJ_SRC/tests/faults/ejfault.py}
FL_REPORT=()
FL_LOADREC=()
FL_T_START=0

fl_need() {
	lab_require_root
	lab_need curl dig kdig socat python3 nft tinyproxy unbound nginx
	e2e_need_built
	[ -r "$FL_TOOL" ] || lab_skip "$FL_TOOL is missing, so this faults test is skipped"
}

# fl_conf SECTION LINE: add LINE to [SECTION] of the config (before start).
fl_conf() {
	sed -i "/^\[$1\]\$/a $2" "$E2E_CONF"
}

# fl_up [CONFIG-HOOK]: e2e_up, with CONFIG-HOOK run after the config is
# written (it calls fl_conf), then the faults counters.
fl_up() {
	FL_T_START=$(lab_ms)
	lab_up
	lab_users
	lab_start_all
	mkdir -p "$LAB_DIR/run"
	e2e_config
	if [ $# -gt 0 ]; then
		"$@"
	fi
	fl_counters
	e2e_start_netjaild || { e2e_show_log netjaild; lab_die "netjaild did not become ready"; }
	e2e_start_dohd || { e2e_show_log dohd; lab_die "dohd did not start"; }
	e2e_start_connectd || { e2e_show_log connectd; lab_die "connectd did not become ready"; }
	lab_count_reset
	fl_note "jail up in $(fl_secs $(($(lab_ms) - FL_T_START))) s"
}

fl_counters() {
	ip netns exec "$LAB_NS_UP" nft -f - <<EOF
table inet faults {
	chain out {
		type filter hook output priority 0; policy accept;
		ip daddr $LAB_FORBIDDEN counter comment "up-forbidden"
		ip6 daddr $LAB_FORBIDDEN6 counter comment "up-forbidden"
		ip daddr { 203.0.113.0/24, 198.51.100.0/24 } counter comment "up-inet"
		ip6 daddr 2001:db8::/32 counter comment "up-inet"
	}
	chain pre {
		type filter hook prerouting priority -300; policy accept;
		iifname "eth0" ip daddr { $LAB_FORBIDDEN, $LAB_EXIT } counter comment "host-forbidden-exit"
		iifname "eth0" ip6 daddr { $LAB_FORBIDDEN6, $LAB_EXIT6 } counter comment "host-forbidden-exit"
		iifname "eth0" ip daddr { 203.0.113.0/24, 198.51.100.0/24 } counter comment "host-inet"
		iifname "eth0" ip6 daddr 2001:db8::/32 counter comment "host-inet"
	}
}
EOF
}

# fl_counter COMMENT: the packets of the faults rules with that comment.
fl_counter() {
	ip netns exec "$LAB_NS_UP" nft list table inet faults |
		grep "comment \"$1\"" | grep -o 'packets [0-9]*' |
		awk '{ n += $2 } END { print n + 0 }'
}

# fl_leaked: every packet that went where nothing may go (see above).
fl_leaked() {
	echo $(($(fl_counter up-forbidden) + $(fl_counter up-inet) + \
		$(fl_counter host-forbidden-exit) + $(fl_counter host-inet)))
}

# fl_denied_upstream: queries for denied names the DoH servers saw.
fl_denied_upstream() {
	local n=0 a name
	for a in "$LAB_DOH" "$LAB_DOH2"; do
		for name in forbidden.test leak.test badalias.test rebind.test metadata.test loopback.test; do
			n=$((n + $(lab_doh_queries "$a" "$name")))
		done
		n=$((n + $(grep -c '\.t\.test\. ' "$LAB_DIR/doh-$a.log" 2>/dev/null || true)))
	done
	echo "$n"
}

fl_secs() {	# MS -> seconds with 3 decimals
	printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000))
}

fl_note() {	# a line for the report (and now)
	FL_REPORT+=("$*")
	printf '# %s\n' "$*"
}

# ---------------------------------------------------------------- load

# fl_load_start [ARGS...]: the background load from w1 (ejfault.py load).
fl_load_start() {
	FL_LOAD_LOG=$LAB_DIR/load.events
	: >"$FL_LOAD_LOG"
	lab_spawn load w1 python3 "$FL_TOOL" load --log "$FL_LOAD_LOG" \
		--ca "$LAB_DIR/ca.pem" --proxy "$LAB_BR4:3128" --dns "$LAB_BR4" \
		--exit "$LAB_EXIT" --forbidden "$LAB_FORBIDDEN" \
		--forbidden6 "$LAB_FORBIDDEN6" --inet "$LAB_INET4" "$@"
	# the load is flowing once an allowed request of each path succeeded
	lab_retry 20 fl_load_has_ok xhttps thttps dns_ok ||
		lab_log "the load has not succeeded at everything yet"
}

fl_load_has_ok() {	# KIND...: each has at least one ok
	local k
	for k in "$@"; do
		grep -q " $k ok " "$FL_LOAD_LOG" || return 1
	done
}

fl_load_stop() {
	lab_stop load
}

# fl_load_summary [FROM_MS [TO_MS]]: "kind ok=N fail=N refused=N leak=N"
# for attempts that started in the window.
fl_load_summary() {
	awk -v a="${1:-0}" -v b="${2:-99999999999999}" '
	$1 >= a && $1 < b { n[$3 " " $4]++; k[$3] = 1 }
	END {
		for (x in k)
			printf "%-12s ok=%d fail=%d refused=%d leak=%d\n", x,
			    n[x " ok"], n[x " fail"], n[x " refused"], n[x " leak"]
	}' "$FL_LOAD_LOG" | sort
}

fl_load_leaks() {	# [FROM_MS]: leak lines of the load
	awk -v a="${1:-0}" '$1 >= a && $4 == "leak"' "$FL_LOAD_LOG"
}

# fl_load_first_ok FROM_MS KIND...: seconds from FROM_MS to the end of the
# first ok attempt of any KIND that started at or after FROM_MS, or "none".
fl_load_first_ok() {
	local from=$1
	shift
	awk -v a="$from" -v ks=" $* " '
	$1 >= a && $4 == "ok" && index(ks, " " $3 " ") {
		if (best == "" || $2 < best) best = $2
	}
	END {
		if (best == "") print "none"
		else printf "%d.%03d\n", (best - a) / 1000, (best - a) % 1000
	}' "$FL_LOAD_LOG"
}

# fl_load_recovery NAME FROM_MS KIND...: at report time, how long after
# FROM_MS the load's first allowed attempt of a KIND succeeded.
fl_load_recovery() {
	local name=$1 from=$2
	shift 2
	FL_LOADREC+=("$name|$from|$*")
}

# ---------------------------------------------------------------- judging

# fl_recover NAME BOUND FROM_MS CMD...: retry CMD (every 0.1 s) until it
# succeeds; pass when it did within BOUND seconds of FROM_MS.  Prints and
# reports the time.
fl_recover() {
	local name=$1 bound=$2 from=$3 t ok=0 tries=0 out
	shift 3
	out=$LAB_DIR/recover.out
	: >"$out"
	while :; do
		tries=$((tries + 1))
		echo "try $tries at +$(($(lab_ms) - from)) ms" >>"$out"
		if "$@" >>"$out" 2>&1; then
			ok=1
			break
		fi
		[ $(($(lab_ms) - from)) -lt $((bound * 1000)) ] || break
		sleep 0.1
	done
	t=$(fl_secs $(($(lab_ms) - from)))
	if [ "$ok" = 1 ] && [ $(($(lab_ms) - from)) -le $((bound * 1000)) ]; then
		fl_note "${FL_WHAT:-recovery} $name: $t s ($tries tries)"
		lab_pass "$name: recovered in $t s (bound $bound s)"
	else
		fl_note "${FL_WHAT:-recovery} $name: NONE after $t s ($tries tries)"
		lab_fail "$name: no recovery within $bound s"
		tail -n 8 "$out" | sed 's/^/    | /'
	fi
}

# fl_alive NAME...: each daemon still runs (no crash).
fl_alive() {
	local n
	for n in "$@"; do
		if lab_alive "$n"; then
			lab_pass "$n is still running"
		else
			lab_fail "$n is still running" "it exited"
			e2e_show_log "$n"
		fi
	done
}

# fl_no_leak WHEN: nothing went past the jail so far.
fl_no_leak() {
	local n
	n=$(fl_leaked)
	lab_expect_eq "$1: nothing past the jail (faults counters)" 0 "$n"
	if [ "$n" != 0 ]; then
		ip netns exec "$LAB_NS_UP" nft list table inet faults | grep packets | sed 's/^/    | /'
	fi
	lab_expect_eq "$1: nothing reached the forbidden target (lab_count $LAB_FORBIDDEN)" \
		0 "$(($(lab_count "$LAB_FORBIDDEN") + $(lab_count "$LAB_FORBIDDEN6")))"
	n=$(fl_load_leaks 0 | wc -l)
	lab_expect_eq "$1: the load saw no forbidden attempt succeed" 0 "$n"
	[ "$n" = 0 ] || fl_load_leaks 0 | head -n 5 | sed 's/^/    | /'
	lab_expect_eq "$1: no denied name reached a DoH server" 0 "$(fl_denied_upstream)"
}

# fl_no_crash_logs: no sanitizer report or fatal signal in any daemon log.
fl_no_crash_logs() {
	local f bad=""
	for f in "$LAB_DIR"/netjaild.log "$LAB_DIR"/dohd.log "$LAB_DIR"/connectd.log; do
		[ -f "$f" ] || continue
		if grep -Eq 'AddressSanitizer|UndefinedBehaviorSanitizer|runtime error:|SIGSEGV|Segmentation|double free|stack smashing' "$f"; then
			bad="$bad ${f##*/}"
		fi
	done
	lab_expect_eq "no sanitizer report or fatal signal in the daemon logs" "" "$bad"
}

# fl_report TITLE: the end-of-test report (counts, recovery, counters).
fl_report() {
	local l
	echo "---- report: $1 ----"
	for l in "${FL_REPORT[@]}"; do
		echo "  $l"
	done
	local name from kinds
	for l in "${FL_LOADREC[@]}"; do
		IFS='|' read -r name from kinds <<<"$l"
		# shellcheck disable=SC2086 # the kinds are words
		echo "  load recovery $name: first allowed attempt after $(fl_load_first_ok "$from" $kinds) s"
	done
	if [ -n "${FL_LOAD_LOG:-}" ] && [ -s "$FL_LOAD_LOG" ]; then
		echo "  load, whole test ($(wc -l <"$FL_LOAD_LOG") attempts):"
		fl_load_summary 0 | sed 's/^/    /'
	fi
	echo "  counters: lab_count forbidden=$(($(lab_count "$LAB_FORBIDDEN") + $(lab_count "$LAB_FORBIDDEN6")))" \
		"internet=$(($(lab_count "$LAB_INET4") + $(lab_count "$LAB_INET4_B") + $(lab_count "$LAB_INET6")))" \
		"exit-from-host=$(($(lab_count "$LAB_EXIT") + $(lab_count "$LAB_EXIT6")))" \
		"faults: up-forbidden=$(fl_counter up-forbidden) up-inet=$(fl_counter up-inet)" \
		"host-forbidden-exit=$(fl_counter host-forbidden-exit) host-inet=$(fl_counter host-inet)" \
		"denied-names-upstream=$(fl_denied_upstream)"
	echo "  runtime $(fl_secs $(($(lab_ms) - FL_T_START))) s"
	echo "---- end of report ----"
}

# ---------------------------------------------------------------- probes

# fl_exit_ok CMD...: CMD's output (shown) holds the exit's answer
fl_exit_ok() {
	local out
	out=$("$@" 2>&1) || true
	printf '%s\n' "$out"
	case $out in *"exit-ok smoke.test"*) return 0 ;; esac
	return 1
}

fl_https_x() {	# the explicit proxy carries HTTPS for smoke.test (w2)
	fl_exit_ok lab_exec w2 curl -sS --max-time 3 --cacert "$LAB_DIR/ca.pem" \
		-x "http://$LAB_BR4:3128" https://smoke.test/
}

fl_https_t() {	# transparent HTTPS from the bridge (w2)
	fl_exit_ok lab_exec w2 curl -sS --max-time 3 --cacert "$LAB_DIR/ca.pem" \
		--resolve "smoke.test:443:$LAB_EXIT" https://smoke.test/
}

fl_dns_ok() {	# dohd answers the allowed name (w2)
	[ "$(lab_exec w2 dig +time=1 +tries=1 +short "@$LAB_BR4" "${1:-smoke.test}" A 2>/dev/null)" = "$LAB_EXIT" ]
}

fl_dns_answers() {	# NAME: any A at all (a denied name must never get one)
	lab_exec w2 dig +time=2 +tries=1 +short "@$LAB_BR4" "$1" A 2>/dev/null | grep -q '^[0-9]'
}
