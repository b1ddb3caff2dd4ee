#!/usr/bin/env bash
# tests/lab/e2e/bypass_other.sh - the non-TCP half of the bypass matrix, for
# a bridge workload (w1) and a jailed local user (ejagent): UDP 53 to an
# outside resolver (answered by dohd, never by the target), DoT 853, QUIC
# 443/udp, random UDP, ICMP, IPv6 TCP and UDP, and a raw socket with
# CAP_NET_RAW sending hand-made UDP and TCP packets.  Each case checks what
# the workload saw and that nothing reached the target (lab_count in up).
set -eu
: "${EJ_LAB_PREFIX:=e2o}"
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
. "$here/common.sh"
lab_require_root
lab_need curl dig kdig socat python3 nft ping setpriv
e2e_need_built
e2e_up
e2e_write_raw

F=$LAB_FORBIDDEN F6=$LAB_FORBIDDEN6
for k in w a; do
	K=$(e2e_kind_name "$k")
	# UDP 53 to an outside resolver: dohd answers, the target never sees it
	lab_count_reset
	lab_expect_match "$K: UDP 53 to $F is answered (by dohd)" "^$LAB_EXIT\$" k_dig "$k" "@$F" +short smoke.test A
	lab_expect_match "$K: ... and a denied name there gets NXDOMAIN" 'status: NXDOMAIN' k_dig "$k" "@$F" forbidden.test A
	lab_expect_match "$K: TCP 53 to $F is answered (by dohd)" "^$LAB_EXIT\$" k_dig "$k" "@$F" +tcp +short smoke.test A
	e2e_nothing "$K: the resolver at $F saw no UDP 53" "$F" udp 53
	e2e_nothing "$K: ... and no TCP 53" "$F" tcp 53
	# DoT
	lab_count_reset
	lab_expect_fail "$K: DoT (853) to $F fails" k_run "$k" kdig "@$F" -p 853 +tls +timeout=2 +retry=0 smoke.test
	e2e_nothing "$K: nothing reached $F:853" "$F"
	# QUIC and random UDP
	lab_count_reset
	lab_expect_fail "$K: QUIC 443/udp to $F: no answer" k_udp "$k" "$F" 443
	e2e_nothing "$K: nothing reached $F:443/udp" "$F" udp 443
	lab_count_reset
	lab_expect_fail "$K: UDP 9999 to $F: no answer" k_udp "$k" "$F" 9999
	lab_expect_fail "$K: UDP 9999 to the internet ($LAB_INET4): no answer" k_udp "$k" "$LAB_INET4" 9999
	e2e_nothing "$K: nothing reached $F (UDP 9999)" "$F"
	e2e_nothing "$K: nothing reached $LAB_INET4 (UDP)" "$LAB_INET4"
	# ICMP
	lab_count_reset
	lab_expect_fail "$K: ping $F: no answer" k_ping "$k" "$F"
	lab_expect_fail "$K: ping $F6: no answer" k_ping "$k" "$F6"
	e2e_nothing "$K: no ICMP reached $F" "$F"
	e2e_nothing "$K: no ICMPv6 reached $F6" "$F6"
	# IPv6 TCP and UDP
	lab_count_reset
	lab_expect "$K: IPv6 TCP 443 to [$F6] refused" k_denied "$k" -k "https://[$F6]/"
	lab_expect "$K: IPv6 TCP 80 to [$F6] refused" k_denied "$k" "http://[$F6]/"
	lab_expect_fail "$K: IPv6 UDP 9999 to [$F6]: no answer" k_udp "$k" "$F6" 9999
	lab_expect_fail "$K: IPv6 UDP 443 to [$F6]: no answer" k_udp "$k" "$F6" 443
	e2e_nothing "$K: nothing reached $F6" "$F6"
	lab_count_reset
	k_dig "$k" "@$F6" +short smoke.test A >/dev/null 2>&1 || true
	e2e_nothing "$K: ... the resolver at $F6 saw no UDP 53" "$F6" udp 53
	# raw sockets with CAP_NET_RAW
	lab_count_reset
	lab_expect_match "$K: raw socket sends UDP to $F:9999" '^(sent|refused)' k_raw "$k" "$F" udp 9999
	lab_expect_match "$K: raw socket sends a TCP SYN to $F:443" '^(sent|refused)' k_raw "$k" "$F" tcp 443
	lab_expect_match "$K: raw socket sends UDP to $LAB_INET4:53" '^(sent|refused)' k_raw "$k" "$LAB_INET4" udp 53
	sleep 0.3
	e2e_nothing "$K: no raw packet reached $F" "$F"
	e2e_nothing "$K: no raw packet reached $LAB_INET4" "$LAB_INET4"
done

lab_expect_eq "nothing at all from the workloads reached the forbidden or internet addresses" 0 \
	"$(($(lab_count "$F") + $(lab_count "$F6") + $(lab_count "$LAB_INET4") + $(lab_count "$LAB_INET6")))"
for d in netjaild dohd connectd; do
	lab_expect "$d still running" lab_alive "$d"
done
lab_finish
