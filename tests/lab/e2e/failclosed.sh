#!/usr/bin/env bash
# tests/lab/e2e/failclosed.sh - the jail stays shut when a part dies: kill -9
# connectd (workload TCP fails, nothing falls through to the target), kill -9
# dohd (DNS fails, nothing goes to the resolver asked), kill -9 netjaild (the
# table stays, the jail still works); each restarted, the service returns.
# For a bridge workload (w1) and a jailed local user (ejagent).
set -eu
: "${EJ_LAB_PREFIX:=e2f}"
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
. "$here/common.sh"
lab_require_root
lab_need curl dig socat python3 nft
e2e_need_built
e2e_up

F=$LAB_FORBIDDEN
leaked() {	# packets at the exit, the forbidden target and the internet
	echo $(($(lab_count "$LAB_EXIT") + $(lab_count "$F") + $(lab_count "$LAB_EXIT6") + \
		$(lab_count "$F6") + $(lab_count "$LAB_INET4")))
}
F6=$LAB_FORBIDDEN6

# --- connectd
e2e_kill9 connectd
lab_count_reset
for k in w a; do
	K=$(e2e_kind_name "$k")
	lab_expect "$K: connectd down: HTTPS to the allowed name fails" k_denied "$k" https://smoke.test/
	lab_expect "$K: connectd down: HTTP to the exit's IP fails" k_denied "$k" "http://$LAB_EXIT/"
	lab_expect "$K: connectd down: HTTPS to the forbidden IP fails" k_denied "$k" -k "https://$F/"
	lab_expect "$K: connectd down: the explicit proxy is gone" k_denied "$k" -x "$E2E_PROXY" https://smoke.test/
done
sleep 0.5
lab_expect_eq "connectd down: nothing fell through to the outside" 0 "$(leaked)"
lab_expect "connectd restarts and is ready" e2e_start_connectd
for k in w a; do
	lab_expect_match "$(e2e_kind_name "$k"): connectd back: HTTPS works again" '^exit-ok smoke\.test' \
		k_curl "$k" https://smoke.test/
done

# --- dohd
e2e_kill9 dohd
lab_count_reset
for k in w a; do
	K=$(e2e_kind_name "$k")
	lab_expect_fail "$K: dohd down: DNS fails" k_dig "$k" +short smoke.test A
	lab_expect_fail "$K: dohd down: DNS to $F:53 fails too" k_dig "$k" "@$F" +short smoke.test A
	lab_expect_fail "$K: dohd down: nor does UDP 53 reach anything" k_udp "$k" "$F" 53
done
lab_expect_eq "dohd down: the resolver at $F saw nothing" 0 "$(lab_count "$F" udp 53)"
lab_expect_eq "dohd down: nothing at all leaked" 0 "$(leaked)"
lab_expect "dohd restarts" e2e_start_dohd
for k in w a; do
	lab_retry 5 k_dig "$k" +short smoke.test A || true
	lab_expect_match "$(e2e_kind_name "$k"): dohd back: DNS answers again" "^$LAB_EXIT\$" \
		k_dig "$k" +short smoke.test A
done
lab_expect "connectd ready again with dohd back" lab_retry 15 e2e_ready

# --- netjaild
e2e_kill9 netjaild
lab_expect "netjaild down: the table stays" e2e_table
lab_count_reset
for k in w a; do
	K=$(e2e_kind_name "$k")
	lab_expect "$K: netjaild down: still jailed (forbidden IP refused)" k_denied "$k" -k "https://$F/"
	lab_expect_fail "$K: netjaild down: UDP still dropped" k_udp "$k" "$F" 9999
	lab_expect_match "$K: netjaild down: the allowed name still works" '^exit-ok smoke\.test' \
		k_curl "$k" https://smoke.test/
done
lab_expect_eq "netjaild down: nothing reached $F" 0 "$(lab_count "$F")"
lab_expect "netjaild restarts and is ready" e2e_start_netjaild
lab_expect "connectd sees netjaild again (/ready 200)" lab_retry 15 e2e_ready
for k in w a; do
	lab_expect_match "$(e2e_kind_name "$k"): all back: HTTPS works" '^exit-ok smoke\.test' \
		k_curl "$k" https://smoke.test/
done

# --- all three at once: the jail stays shut with nothing running
e2e_kill9 connectd
e2e_kill9 dohd
e2e_kill9 netjaild
lab_count_reset
lab_expect "everything down: the table stays" e2e_table
for k in w a; do
	K=$(e2e_kind_name "$k")
	lab_expect "$K: everything down: TCP fails" k_denied "$k" -k "https://$F/"
	lab_expect_fail "$K: everything down: DNS fails" k_dig "$k" "@$F" +short smoke.test A
done
sleep 0.5
lab_expect_eq "everything down: nothing leaked" 0 "$(leaked)" || true
[ "$(leaked)" = 0 ] || lab_count_dump | sed 's/^/    | /'
lab_finish
