#!/usr/bin/env bash
# tests/lab/e2e/bypass_tcp.sh - the TCP half of the bypass matrix, for a
# bridge workload (w1) and a jailed local user (ejagent) alike, against the
# whole jail (netjaild, dohd, connectd) with a real chain: TCP to a
# non-allowlisted IP on 443, 80 and a high port; CONNECT to an IP literal,
# the metadata address, the bridge gateway (403); DoH through the proxy and
# straight to the DoH server; domain fronting (documented in
# docs/MATRIX.md); the hops reached directly (owner gating).  Each case
# checks what the workload saw and that nothing reached the target.
set -eu
: "${EJ_LAB_PREFIX:=e2t}"
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
. "$here/common.sh"
lab_require_root
lab_need curl kdig socat python3 nft tinyproxy unbound nginx
e2e_need_built
e2e_up

F=$LAB_FORBIDDEN
tcp_silent() {	# KIND ADDR PORT: nothing back but connectd's own refusal
	local out
	out=$(printf 'hello\r\n' | k_run "$1" timeout 5 socat -T 3 - "TCP:$2:$3,connect-timeout=3" 2>/dev/null) || true
	echo "got: '$out'"
	[ -z "$out" ] || printf '%s\n' "$out" | grep -q '^X-Egressjail-Reason:'
}
for k in w a; do
	K=$(e2e_kind_name "$k")
	lab_expect_match "$K: allowed name through the jail" '^exit-ok smoke\.test' k_curl "$k" https://smoke.test/

	# TCP to a non-allowlisted IP: 443 (TLS without SNI), 80 (Host is a literal), 8080
	lab_count_reset
	lab_expect "$K: TCP 443 to a non-allowlisted IP refused" k_denied "$k" -k "https://$F/"
	e2e_nothing "$K: nothing reached $F (443)" "$F"
	lab_count_reset
	lab_expect "$K: TCP 80 to a non-allowlisted IP refused" k_denied "$k" "http://$F/"
	e2e_nothing "$K: nothing reached $F (80)" "$F"
	lab_count_reset
	lab_expect "$K: TCP 8080 to a non-allowlisted IP refused" k_denied "$k" "http://$F:8080/"
	e2e_nothing "$K: nothing reached $F (8080)" "$F"
	lab_count_reset
	lab_expect "$K: TCP to an internet address, high port: only connectd answers" tcp_silent "$k" "$LAB_INET4" 9999
	e2e_nothing "$K: nothing reached $LAB_INET4" "$LAB_INET4"
	# an allowed SNI aimed at the forbidden IP goes to the name, not the IP
	lab_count_reset
	lab_expect_match "$K: allowed SNI to a forbidden IP reaches the name's server" '^exit-ok smoke\.test' \
		k_curl "$k" --resolve "smoke.test:443:$F" https://smoke.test/
	e2e_nothing "$K: ... and nothing reached $F" "$F"
	lab_count_reset
	lab_expect "$K: denied SNI to an allowed IP refused" k_denied "$k" \
		--resolve "forbidden.test:443:$LAB_EXIT" https://forbidden.test/
	e2e_nothing "$K: ... and nothing reached $F" "$F"

	# CONNECT through the explicit proxy
	lab_count_reset
	lab_expect_eq "$K: CONNECT to an IP literal: 403" 403 "$(k_connect_code "$k" "$F:443")"
	lab_expect_eq "$K: CONNECT to 169.254.169.254: 403" 403 "$(k_connect_code "$k" 169.254.169.254:80)"
	lab_expect_eq "$K: CONNECT to the gateway $LAB_BR4: 403" 403 "$(k_connect_code "$k" "$LAB_BR4:22")"
	lab_expect_eq "$K: CONNECT to an IP literal in decimal: 403" 403 "$(k_connect_code "$k" 168689675:443)"
	lab_expect_eq "$K: CONNECT to a denied name: 403" 403 "$(k_connect_code "$k" forbidden.test:443)"
	lab_expect_eq "$K: CONNECT to an allowed name, wrong port: 403" 403 "$(k_connect_code "$k" smoke.test:8080)"
	e2e_nothing "$K: nothing reached $F (CONNECT)" "$F"
	lab_expect_match "$K: CONNECT to the allowed name works" '^exit-ok smoke\.test' \
		k_curl "$k" -x "$E2E_PROXY" https://smoke.test/

	# DoH to a resolver name, through the proxy and transparently
	q=e2e-doh-$k.test
	lab_expect "$K: DoH through the proxy (CONNECT doh.test) refused" k_denied "$k" -x "$E2E_PROXY" \
		-H 'accept: application/dns-message' "https://doh.test$LAB_DOH_PATH?name=$q"
	lab_expect_fail "$K: DoH straight to the DoH server refused" k_run "$k" kdig "@$LAB_DOH" \
		+https="$LAB_DOH_PATH" +tls-ca="$LAB_DIR/ca.pem" +tls-hostname=doh.test +timeout=2 +retry=0 "$q"
	lab_expect_fail "$K: DoT to the DoH server refused" k_run "$k" kdig "@$LAB_DOH" \
		+tls +tls-ca="$LAB_DIR/ca.pem" +tls-hostname=doh.test +timeout=2 +retry=0 "$q"
	lab_expect_eq "$K: the DoH server never saw the workload's query" 0 \
		"$(($(lab_doh_queries "$LAB_DOH" "$q") + $(lab_doh_queries "$LAB_DOH2" "$q")))"

	# domain fronting: allowed SNI, other Host header
	lab_count_reset
	lab_expect_match "$K: fronting (SNI smoke.test, Host forbidden.test) lands on smoke.test's server" \
		'^exit-ok forbidden\.test' k_curl "$k" -H 'Host: forbidden.test' https://smoke.test/
	e2e_nothing "$K: fronting: nothing reached forbidden.test's address" "$F"
	lab_count_reset
	lab_expect "$K: plain HTTP with Host forbidden.test to the exit's IP refused" k_denied "$k" \
		--resolve "forbidden.test:80:$LAB_EXIT" http://forbidden.test/
	e2e_nothing "$K: ... nothing reached $F" "$F"

	# the hops directly (owner gating): a marked request must never show up
	m=e2e-hop-$k
	lab_expect "$K: plain proxy request to hop A directly refused" k_denied "$k" \
		-x "http://$LAB_HOP_A:$LAB_HOP_PORT" "http://smoke.test/$m"
	lab_expect "$K: CONNECT via hop B directly refused" k_denied "$k" \
		-x "http://$LAB_HOP_B:$LAB_HOP_PORT" "https://smoke.test/$m"
	lab_expect_eq "$K: no hop and no exit saw the marked request" 0 \
		"$(cat "$LAB_DIR"/tinyproxy-*.log "$LAB_DIR/nginx.d/access.log" 2>/dev/null | grep -c "$m" || true)"
done

for d in netjaild dohd connectd; do
	lab_expect "$d still running" lab_alive "$d"
done
lab_finish
