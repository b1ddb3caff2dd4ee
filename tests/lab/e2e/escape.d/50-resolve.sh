# tests/lab/e2e/escape.d/50-resolve.sh - an allowed name that points inside
# (issue 18, defence in depth), sourced by escape.sh.
#
# The policy is widened to two names the lab's DoH upstream answers with
# addresses a workload must never reach through them: metadata.test
# (169.254.169.254) and hostself.test (10.78.0.1, the host's own uplink
# address, which the lab's permit_cidr for 10.78.0.0/24 would otherwise
# admit).  Through dohd neither name gets its address: the first is on the
# deny list, the second is one of the host's addresses (every address of
# every interface, not only dohd's listeners).  Through the chain the exit
# hop would resolve the name itself and dial it; connectd's resolve_check
# resolves it through dohd first and refuses, so the exit hop (tinyproxy
# B, which logs every CONNECT) never hears of it.  Both jails.

T50_HOPLOG=$LAB_DIR/tinyproxy-$LAB_HOP_B-$LAB_HOP_PORT.log
cp "$E2E_CONF" "$LAB_DIR/egressjail.conf.t50"
printf 'allow = metadata.test:80\nallow = hostself.test:80\n' >>"$E2E_CONF"

# t50_reloaded NAME N: NAME's log has more than N ok reloads
t50_reloads() { grep -c 'event=reload result=ok' "$LAB_DIR/$1.log" || true; }
t50_reloaded() { [ "$(t50_reloads "$1")" -gt "$2" ]; }
t50_reload() {	# SIGHUP dohd and connectd, wait for both
	local d n
	for d in dohd connectd; do
		n=$(t50_reloads "$d")
		kill -HUP "$(cat "$LAB_DIR/$d.pid")"
		lab_retry 10 t50_reloaded "$d" "$n" || return 1
	done
}
t50_hop_heard() { grep -c "$1" "$T50_HOPLOG" || true; }
# t50_no_addr KIND NAME ADDR: dohd's answer for NAME holds no ADDR
t50_no_addr() {
	local out
	out=$(k_dig "$1" "$2" A +short 2>&1) || true
	echo "answer: ${out:-none}"
	case $out in *"$3"*) return 1 ;; esac
}

lab_expect "resolve: dohd and connectd reload with metadata.test and hostself.test allowed" t50_reload
for k in w a; do
	K=$(e2e_kind_name "$k")
	lab_expect "$K: metadata.test through dohd: no 169.254.169.254" t50_no_addr "$k" metadata.test 169.254.169.254
	lab_expect "$K: hostself.test through dohd: no host address ($LAB_HOSTUP4)" t50_no_addr "$k" hostself.test "$LAB_HOSTUP4"
	lab_expect_match "$K: ... while smoke.test still resolves" "^$LAB_EXIT\$" k_dig "$k" +short smoke.test A
	for n in metadata.test hostself.test; do
		before=$(t50_hop_heard "$n")
		# 403 when dohd hands back the internal address, 502 when it
		# stripped it (no address left): refused before any hop either way
		lab_expect_match "$K: CONNECT $n:80 refused by connectd (resolve check)" '^(403|502)$' k_connect_code "$k" "$n:80"
		lab_expect_eq "$K: ... and the exit hop never heard of $n" "$before" "$(t50_hop_heard "$n")"
	done
	lab_expect_eq "$K: CONNECT smoke.test:80 still passes: 200" 200 "$(k_connect_code "$k" smoke.test:80)"
done

cp "$LAB_DIR/egressjail.conf.t50" "$E2E_CONF"
lab_expect "resolve: dohd and connectd reload the lab's own config" t50_reload
