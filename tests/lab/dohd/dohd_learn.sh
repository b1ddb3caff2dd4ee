#!/usr/bin/env bash
# tests/lab/dohd/dohd_learn.sh - dohd in mode = learn between kdig and a
# real DoH upstream: names and types the allowlist would refuse are asked
# upstream and answered, each logged once as event=learn; egressctl learn
# --log turns the log into an allow file; enforce mode with that file
# answers the same questions and still refuses what was never asked.
set -eu
export EJ_LAB_PREFIX=${EJ_LAB_PREFIX:-dl}
. "$(dirname "$0")/../lib.sh"
lab_need kdig
lab_up
lab_users
lab_start_doh "$LAB_DOH"

dohd=${EJ_DOHD:-$EJ_BUILD/dohd/dohd}
ctl=$EJ_BUILD/egressctl/egressctl
[ -x "$dohd" ] || lab_skip "dohd not built at $dohd"
[ -x "$ctl" ] || lab_skip "egressctl not built at $ctl"

mkdir -p "$LAB_DIR/run" "$LAB_DIR/allow.d"
chmod 755 "$LAB_DIR" "$LAB_DIR/allow.d"
conf() {	# conf FILE MODE [POLICY LINE]
	cat >"$1" <<CONF
[jail]
interface = $LAB_BR
runtime_dir = $LAB_DIR/run

[chain]
hop = http://$LAB_HOP_A:$LAB_HOP_PORT

[dohd]
listen = 127.0.0.1:15353
upstream = https://doh.test$LAB_DOH_PATH $LAB_DOH
ca_file = $LAB_DIR/ca.pem
query_timeout = 1500ms

[policy]
mode = $2
; the lab's "internet" lives in 10.78.0.0/24
permit_cidr = $LAB_UPNET4
permit_cidr = $LAB_UPNET6
allow = smoke.test
${3:-}
CONF
	chmod 644 "$1" "$LAB_DIR/ca.pem"
}
q() {	# q ARGS... : kdig against dohd on the host's loopback
	lab_exec host kdig @127.0.0.1 -p 15353 +timeout=3 +retry=0 "$@"
}
start() {
	lab_spawn dohd host "$dohd" -c "$1"
	lab_wait_udp host 127.0.0.1 15353 10 ||
		lab_die "dohd did not start: $(tail -5 "$LAB_DIR/dohd.log")"
}

conf "$LAB_DIR/learn.conf" learn
start "$LAB_DIR/learn.conf"
for i in 1 2; do
	lab_expect_match "learn mode: a name no rule admits is answered ($i)" \
	    '^10\.78\.0\.10$' q +short exit.test A
	lab_expect_match "learn mode: a type no rule admits is asked ($i)" \
	    'status: NOERROR' q whoami.test TXT
done
lab_expect_match "learn mode: ANY stays refused" 'status: REFUSED' q smoke.test ANY
lab_stop dohd
lab_expect_eq "one event=learn line for exit.test A" 1 \
    "$(grep -c 'event=learn .*name="exit.test" port=0 qtype=1 ' "$LAB_DIR/dohd.log")"
lab_expect_eq "one event=learn line for whoami.test TXT" 1 \
    "$(grep -c 'event=learn .*name="whoami.test" port=0 qtype=16 ' "$LAB_DIR/dohd.log")"
lab_expect_eq "no decision=report line for what was recorded" 0 \
    "$(grep -c 'event=decision .*name="exit.test" .*decision=report' "$LAB_DIR/dohd.log")"

cp "$LAB_DIR/dohd.log" "$LAB_DIR/learn-run.log"
lab_expect "egressctl learn --log" \
    sh -c "'$ctl' learn --log '$LAB_DIR/learn-run.log' >'$LAB_DIR/allow.d/learned.allow'"
lab_expect_match "learned: exit.test, asked in DNS only" '^exit\.test:443$' \
    cat "$LAB_DIR/allow.d/learned.allow"
lab_expect_match "learned: whoami.test with its type" '^whoami\.test:443 qtype=TXT$' \
    cat "$LAB_DIR/allow.d/learned.allow"
chmod 644 "$LAB_DIR/allow.d/learned.allow"

conf "$LAB_DIR/enforce.conf" enforce "allow_file = $LAB_DIR/allow.d/*.allow"
start "$LAB_DIR/enforce.conf"
lab_expect_match "replay: exit.test answered" '^10\.78\.0\.10$' q +short exit.test A
lab_expect_match "replay: whoami.test TXT answered" 'status: NOERROR' q whoami.test TXT
lab_expect_match "never asked: alias.test refused" 'status: NXDOMAIN' q alias.test A
lab_expect_eq "replay: no allowlist denial" 0 \
    "$(grep -c 'event=decision .*name="\(exit\|whoami\)\.test" .*decision=deny' "$LAB_DIR/dohd.log")"
lab_finish
