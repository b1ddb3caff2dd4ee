#!/usr/bin/env bash
# tests/lab/dohd/dohd_basic.sh - dohd between real clients (kdig, dig) and
# real DoH upstreams (unbound, HTTP/2 over TLS with the lab CA): allowlist,
# tunnel-style names, qtypes, rebinding, CNAME chains, UDP answers from the
# address asked (a workload asking the bridge address), TCP, failover to
# the second upstream, serve-stale and SERVFAIL with both down, and an
# answer for a direct name withheld while netjaild does not acknowledge.
set -eu
export EJ_LAB_PREFIX=${EJ_LAB_PREFIX:-dn}
. "$(dirname "$0")/../lib.sh"
lab_need kdig dig
lab_up
lab_users
lab_start_doh "$LAB_DOH"
lab_start_doh "$LAB_DOH2"

dohd=${EJ_DOHD:-$EJ_BUILD/dohd/dohd}
[ -x "$dohd" ] || lab_skip "dohd not built at $dohd"

conf=$LAB_DIR/ej.conf
mkdir -p "$LAB_DIR/run"
chmod 755 "$LAB_DIR"
cat >"$conf" <<CONF
[jail]
interface = $LAB_BR
direct = direct.test:5432
runtime_dir = $LAB_DIR/run

[chain]
hop = http://$LAB_HOP_A:$LAB_HOP_PORT

[dohd]
listen = 127.0.0.1:15353
listen = $LAB_BR4:53
upstream = https://doh.test$LAB_DOH_PATH $LAB_DOH
upstream = https://doh2.test$LAB_DOH_PATH $LAB_DOH2
ca_file = $LAB_DIR/ca.pem
query_timeout = 1500ms
stale_ttl = 600
feed_timeout = 100ms
ping_interval = 1s
max_connection_age = 3s

[policy]
; the lab's "internet" lives in 10.78.0.0/24
permit_cidr = $LAB_UPNET4
permit_cidr = $LAB_UPNET6
allow = smoke.test
allow = exit.test
allow = alias.test
allow = alias2.test
allow = badalias.test
allow = rebind.test
allow = mixed.test
allow = whoami.test qtype=TXT
CONF
chmod 644 "$conf" "$LAB_DIR/ca.pem"

lab_spawn dohd host "$dohd" -c "$conf"
lab_wait_udp host 127.0.0.1 15353 10 || lab_die "dohd did not start: $(tail -5 "$LAB_DIR/dohd.log")"

pid=$(cat "$LAB_DIR/dohd.pid")
lab_expect_match "dohd runs as egress-dns" "^Uid:[[:space:]]+$(id -u egress-dns)[[:space:]]" \
	grep '^Uid:' "/proc/$pid/status"
lab_expect_match "dohd holds no capability" '^CapEff:[[:space:]]+0+$' grep '^CapEff:' "/proc/$pid/status"
lab_expect_match "dohd is under a seccomp filter" '^Seccomp:[[:space:]]+2$' grep '^Seccomp:' "/proc/$pid/status"

q() {	# q ARGS... : kdig against dohd on the host's loopback
	lab_exec host kdig @127.0.0.1 -p 15353 +timeout=3 +retry=0 "$@"
}
short() { q +short "$@"; }

lab_expect_match "allowed name gets its address" '^10\.78\.0\.10$' short smoke.test A
lab_expect_match "allowed name over TCP" '^10\.78\.0\.10$' short +tcp smoke.test A
lab_expect_match "AAAA too" '^fd78::10$' short smoke.test AAAA
lab_expect_match "denied name: NXDOMAIN" 'status: NXDOMAIN' q forbidden.test A
lab_expect_eq "the denied name never went upstream" 0 \
	"$(( $(lab_doh_queries "$LAB_DOH" forbidden.test) + $(lab_doh_queries "$LAB_DOH2" forbidden.test) ))"
tun=mzxw6ytboi2dgmrqgaytsnrygazdcnzrgq3dk.smoke.test
lab_expect_match "tunnel-style name under an exact rule: NXDOMAIN" 'status: NXDOMAIN' q "$tun" A
lab_expect_eq "the tunnel name never went upstream" 0 \
	"$(( $(lab_doh_queries "$LAB_DOH" "$tun") + $(lab_doh_queries "$LAB_DOH2" "$tun") ))"
lab_expect_match "TXT for an allowed name: REFUSED" 'status: REFUSED' q smoke.test TXT
lab_expect_match "ANY: REFUSED" 'status: REFUSED' q smoke.test ANY
lab_expect_match "rebinding: internal address stripped (NODATA)" 'status: NOERROR.*ANSWER: 0' \
	bash -c "ip netns exec $LAB_NS_HOST kdig @127.0.0.1 -p 15353 +timeout=3 +retry=0 rebind.test A | tr '\n' ' '"
lab_expect_match "mixed answer keeps only the public address" '^10\.78\.0\.10$' short mixed.test A
lab_expect_match "CNAME chain of allowed names followed" '10\.78\.0\.10' short alias.test A
lab_expect_match "CNAME to a denied name: NXDOMAIN" 'status: NXDOMAIN' q badalias.test A
lab_expect_match "direct name withheld without netjaild's ack: SERVFAIL" 'status: SERVFAIL' q direct.test A

# A workload asks the bridge address over UDP: the answer must come from it.
lab_expect_match "workload (dig, UDP) via the bridge address" '^10\.78\.0\.10$' \
	lab_exec w1 dig @"$LAB_BR4" +short +time=3 +tries=1 smoke.test A
lab_expect_match "workload (dig, TCP) via the bridge address" '^10\.78\.0\.10$' \
	lab_exec w1 dig @"$LAB_BR4" +tcp +short +time=3 +tries=1 smoke.test A
lab_expect_match "EDNS0 answer carries an OPT" 'EDNS' q +edns=0 +bufsize=1232 smoke.test A

# A frozen upstream (TCP open, nothing answers): the hedge to the other
# answers at once, and the PING nobody answers ends the dead connection.
kill -STOP "$(cat "$LAB_DIR/doh-$LAB_DOH.pid")"
t0=$(lab_ms)
lab_expect_match "one upstream frozen: answered through the hedge" '^fd78::10$' short alias2.test AAAA
lab_expect "... within a second" test $(( $(lab_ms) - t0 )) -lt 1000
sleep 4.5
lab_expect_match "the frozen upstream's connection was declared dead by PING" \
	'url=https://doh\.test.*error="ping timeout"' cat "$LAB_DIR/dohd.log"
kill -CONT "$(cat "$LAB_DIR/doh-$LAB_DOH.pid")"
lab_expect_match "past the maximum connection age, new connections serve" '^10\.78\.0\.10$' \
	short exit.test A

# whoami.test is not asked before: a cached answer would hide the failover.
lab_stop "doh-$LAB_DOH"
sleep 0.2
lab_expect_match "first upstream down: the second answers" '"doh2"' short whoami.test TXT
lab_stop "doh-$LAB_DOH2"
sleep 0.2
lab_expect_match "both down: an uncached name gets SERVFAIL" 'status: SERVFAIL' q exit.test AAAA
lab_expect_match "both down: a cached name is still answered" '^10\.78\.0\.10$' short smoke.test A

ctl=$EJ_BUILD/egressctl/egressctl
# egressctl exits non-zero here (no netjaild: the jail is not ready), so
# only what dohd told it is judged.
ctl_out() { lab_exec host "$ctl" -c "$conf" "$@" || true; }
if [ -x "$ctl" ]; then
	lab_expect_match "egressctl status shows dohd's counters" 'denied=[1-9]' ctl_out status
	lab_expect_match "egressctl explain: the DNS view of a denied name" 'qtype=A decision=deny' \
		ctl_out explain forbidden.test
fi
# Reload: a new rule takes effect, nothing cached under the old policy stays.
sed -i 's/^allow = smoke.test$/allow = forbidden.test/' "$conf"
kill -HUP "$(cat "$LAB_DIR/dohd.pid")"
lab_retry 3 grep -q 'event=reload result=ok' "$LAB_DIR/dohd.log"
lab_expect_match "after SIGHUP reload: the newly allowed name resolves" 'status: (NOERROR|SERVFAIL)' \
	q forbidden.test A
lab_expect_match "after SIGHUP reload: the dropped rule denies (cache flushed)" 'status: NXDOMAIN' \
	q smoke.test A
lab_expect "dohd still running" lab_alive dohd
lab_expect_match "one decision line per query, denied ones included" \
	'event=decision .*name="forbidden\.test" .*decision=deny' cat "$LAB_DIR/dohd.log"
lab_finish
