#!/usr/bin/env bash
# tests/lab/dohd/dohd_workloads.sh - dohd per workload (issue 15) with the
# real netjaild: two bridge workloads (cidr: sources on the jailed bridge)
# and the default one, each with its own allowlist:
#   ci       w1 10.77.0.2 fd77::2   allow smoke.test
#   web      w2 10.77.0.3 fd77::3   allow forbidden.test (then exit.test)
#   default  w3 10.77.0.4 fd77::4   allow exit.test
# dohd opens each workload's DNS listeners (UDP, TCP; IPv4, IPv6) on
# kernel-chosen ports and registers them with netjaild, which steers each
# workload's port 53 to its own.  Each resolves only its own names (the
# others NXDOMAIN) over UDP and TCP, IPv4 and IPv6, and dohd's lines name
# the workload.  netjaild restarted: dohd registers again and the
# workloads resolve again.  A reload that changes web's list changes what
# web resolves and nothing of ci (its listeners and ports stay); one that
# removes web unregisters and closes its listeners, and web's DNS is
# dropped (netjaild still has web: unregistered), ci's still served.
set -eu
export EJ_LAB_PREFIX=${EJ_LAB_PREFIX:-dwl}
. "$(dirname "$0")/../lib.sh"
lab_need dig nft
lab_up
lab_add_workload 3
lab_users
lab_start_exit
lab_start_doh "$LAB_DOH"

dohd=${EJ_DOHD:-$EJ_BUILD/dohd/dohd}
nj=$EJ_BUILD/netjaild/netjaild
[ -x "$dohd" ] || lab_skip "dohd not built at $dohd"
[ -x "$nj" ] || lab_skip "netjaild not built at $nj"

conf=$LAB_DIR/ej.conf
mkdir -p "$LAB_DIR/run"
chmod 755 "$LAB_DIR"
chmod 644 "$LAB_DIR/ca.pem"
write_conf() {	# WEB_ALLOW
	cat >"$conf.new" <<CONF
[jail]
interface = $LAB_BR
runtime_dir = $LAB_DIR/run

[chain]
hop = http://$LAB_HOP_A:$LAB_HOP_PORT

[connectd]
transparent_listen = 127.0.0.1:15001

[dohd]
listen = 127.0.0.1:15353
upstream = https://doh.test$LAB_DOH_PATH $LAB_DOH
ca_file = $LAB_DIR/ca.pem

[policy]
permit_cidr = $LAB_UPNET4
permit_cidr = $LAB_UPNET6
allow = exit.test

[workload ci]
match = cidr:10.77.0.2/32
match = cidr:fd77::2/128
permit_cidr = $LAB_UPNET4
permit_cidr = $LAB_UPNET6
allow = smoke.test

[workload web]
match = cidr:10.77.0.3/32
match = cidr:fd77::3/128
permit_cidr = $LAB_UPNET4
permit_cidr = $LAB_UPNET6
allow = $1
CONF
	mv "$conf.new" "$conf"
}
write_conf forbidden.test

# netjaild lifts its side of the EG_CONFIG_WORKLOADS gate on its own
"$nj" -c "$conf" --check >"$LAB_DIR/check.log" 2>&1 ||
	! grep -q 'per-workload policy is not enforced' "$LAB_DIR/check.log" ||
	lab_skip "netjaild still refuses [workload] sections (its gate)"
lab_spawn netjaild host "$nj" -c "$conf"
lab_retry 10 grep -q "event=ready" "$LAB_DIR/netjaild.log" ||
	lab_die "netjaild did not start: $(tail -5 "$LAB_DIR/netjaild.log")"
lab_spawn dohd host "$dohd" -c "$conf"
lab_wait_udp host 127.0.0.1 15353 10 || lab_die "dohd did not start: $(tail -5 "$LAB_DIR/dohd.log")"

registered() {	# WORKLOAD: how many of its listeners netjaild acknowledged
	grep -c "event=wl_listen_registered role=dohd workload=$1 " "$LAB_DIR/dohd.log" || true
}
at_least() {	# WORKLOAD N: registered N times or more
	test "$(registered "$1")" -ge "$2"
}
lab_retry 10 at_least ci 4 ||
	lab_die "ci's listeners not registered: $(grep wl_ "$LAB_DIR/dohd.log" | tail -5)"
lab_retry 10 at_least web 4 ||
	lab_die "web's listeners not registered: $(grep wl_ "$LAB_DIR/dohd.log" | tail -5)"
lab_expect_eq "ci: four listeners registered (udp, tcp; ipv4, ipv6)" 4 "$(registered ci)"
lab_expect_eq "web: four listeners registered" 4 "$(registered web)"

# q NS SERVER NAME TYPE [+tcp]: dig's answer line or its status
q() {
	local out
	out=$(lab_exec "$1" dig @"$2" +time=3 +tries=1 ${5:-+notcp} "$3" "$4" 2>&1) || true
	if printf '%s\n' "$out" | grep -q 'status: NOERROR'; then
		printf '%s\n' "$out" | awk '/^[^;]/ && $4 == "'"$4"'" { print $5 }' | head -1
	else
		printf '%s\n' "$out" | grep -o 'status: [A-Z]*' | head -1
	fi
}

# each workload, each transport and family: its own name, not the others'
check_all() {	# LABEL WEB_NAME WEB_DENIED
	local tag=$1 webname=$2 webdenied=$3 t fam srv qt
	for t in +notcp +tcp; do
		for fam in 4 6; do
			if [ "$fam" = 4 ]; then srv=$LAB_INET4 qt=A; else srv=$LAB_INET6 qt=AAAA; fi
			lab_expect_match "$tag ci ${t#+} ipv$fam: smoke.test resolves" \
				"^($LAB_EXIT|$LAB_EXIT6)\$" q w1 "$srv" smoke.test $qt $t
			lab_expect_match "$tag ci ${t#+} ipv$fam: exit.test (default's) NXDOMAIN" \
				'status: NXDOMAIN' q w1 "$srv" exit.test $qt $t
			lab_expect_match "$tag ci ${t#+} ipv$fam: $webname (web's) NXDOMAIN" \
				'status: NXDOMAIN' q w1 "$srv" "$webname" $qt $t
			lab_expect_match "$tag web ${t#+} ipv$fam: $webname resolves" \
				'^[0-9a-f.:]+$' q w2 "$srv" "$webname" $qt $t
			lab_expect_match "$tag web ${t#+} ipv$fam: smoke.test (ci's) NXDOMAIN" \
				'status: NXDOMAIN' q w2 "$srv" smoke.test $qt $t
			lab_expect_match "$tag web ${t#+} ipv$fam: $webdenied NXDOMAIN" \
				'status: NXDOMAIN' q w2 "$srv" "$webdenied" $qt $t
		done
		lab_expect_match "$tag default ${t#+}: exit.test resolves" \
			"^$LAB_EXIT\$" q w3 "$LAB_INET4" exit.test A $t
		lab_expect_match "$tag default ${t#+}: smoke.test (ci's) NXDOMAIN" \
			'status: NXDOMAIN' q w3 "$LAB_INET4" smoke.test A $t
	done
}
check_all start forbidden.test exit.test

lab_expect_match "dohd's decision lines name the workload (ci allowed)" \
	'event=decision src=10\.77\.0\.2 workload=ci .*name="smoke\.test" .*decision=allow' cat "$LAB_DIR/dohd.log"
lab_expect_match "... and its denials" \
	'event=decision src=10\.77\.0\.2 workload=ci .*name="exit\.test" .*decision=deny' cat "$LAB_DIR/dohd.log"
lab_expect_match "... and the default workload's" \
	'event=decision src=10\.77\.0\.4 workload=default .*name="exit\.test" .*decision=allow' cat "$LAB_DIR/dohd.log"
lab_expect_eq "no query of w1 was decided under another workload" 0 \
	"$(grep -c 'src=10\.77\.0\.2 workload=\(web\|default\)' "$LAB_DIR/dohd.log" || true)"

# netjaild restarts: its registrations went with the old connection
ports_ci=$(grep -o 'event=wl_listen_open workload=ci .*' "$LAB_DIR/dohd.log" | head -1)
lab_stop netjaild
lab_spawn netjaild host "$nj" -c "$conf"
lab_retry 15 at_least ci 8 ||
	lab_fail "ci registered again after netjaild's restart (have $(registered ci))"
lab_retry 15 at_least web 8 ||
	lab_fail "web registered again after netjaild's restart (have $(registered web))"
lab_expect_eq "ci: all four registered again on the new connection" 8 "$(registered ci)"
lab_expect_match "after the restart ci resolves its name" "^$LAB_EXIT\$" q w1 "$LAB_INET4" smoke.test A
lab_expect_match "... over TCP and IPv6 too" "^$LAB_EXIT6\$" q w1 "$LAB_INET6" smoke.test AAAA +tcp
lab_expect_match "after the restart web is still denied ci's name" 'status: NXDOMAIN' \
	q w2 "$LAB_INET4" smoke.test A

# reload with web's list changed: web follows, ci is untouched
write_conf exit.test
lab_exec host kill -HUP "$(cat "$LAB_DIR/dohd.pid")"
lab_retry 10 grep -q "event=reload result=ok" "$LAB_DIR/dohd.log" ||
	lab_fail "dohd reloaded"
check_all reload exit.test forbidden.test
lab_expect_eq "ci's listeners were kept across the reload (opened once)" 1 \
	"$(grep -c 'event=wl_listen_open workload=ci ' "$LAB_DIR/dohd.log")"
lab_expect_eq "... on the same ports" "$ports_ci" \
	"$(grep -o 'event=wl_listen_open workload=ci .*' "$LAB_DIR/dohd.log" | tail -1)"
lab_expect_eq "nothing was unregistered" 0 \
	"$(grep -c 'event=wl_listen_closed' "$LAB_DIR/dohd.log" || true)"

# a reload without web: unregistered, then closed; web's DNS is dropped by
# netjaild (unregistered), never answered by another workload's listener
sed -i '/^\[workload web\]/,$d' "$conf"
lab_exec host kill -HUP "$(cat "$LAB_DIR/dohd.pid")"
lab_retry 10 grep -q "event=wl_listen_closed workload=web" "$LAB_DIR/dohd.log" ||
	lab_fail "dohd closed web's listeners"
lab_expect_eq "netjaild unregistered web's four listeners" 4 \
	"$(grep -c 'event=wl_listen_unregistered role=dohd workload=web ' "$LAB_DIR/netjaild.log" || true)"
lab_expect_eq "web's query gets no answer at all" "" "$(q w2 "$LAB_INET4" exit.test A)"
lab_expect_eq "... over TCP neither" "" "$(q w2 "$LAB_INET4" exit.test A +tcp)"
lab_expect_match "ci still resolves its name" "^$LAB_EXIT\$" q w1 "$LAB_INET4" smoke.test A
lab_finish
