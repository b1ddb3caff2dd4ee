#!/usr/bin/env bash
# shellcheck disable=SC2317 # functions run through lab_expect
# tests/lab/e2e/ask.sh - mode = ask end to end (issue 15, docs/ASK.md): the
# real netjaild, dohd and connectd, `egressctl ask --script` as the
# decider, the bridge workload w1 resolving names no rule admits and then
# connecting to them (transparent path).  dohd holds the DNS question
# while connectd's broker asks; the name and its connection are decided
# once.  Cases: no decider (NXDOMAIN at once), allow once (answered, its
# connection passes, one question only), allow for 2 s (then denied),
# deny (NXDOMAIN, a connection by address refused too), timeout (NXDOMAIN
# after ask_dns_hold), an answer later than the hold (the retry finds the
# grant), a flood of unknown names (bounded by ask_max, the rest at once),
# connectd gone (NXDOMAIN at once), "once" kept to the source that asked.
# Judged by what the client saw and at
# the upstream: packets at the forbidden target and the "internet", lines
# in the exit's access log, queries the DoH server got.
set -eu
: "${EJ_LAB_PREFIX:=e2a}"
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
. "$here/common.sh"
lab_require_root
lab_need curl dig python3 nft
e2e_need_built

F=$LAB_FORBIDDEN
E=$LAB_EXIT
# Names no rule admits: the allowed ones lead to the exit, the denied ones
# to the forbidden target; *.t.test (the zone's) to the "internet".
LAB_DOH_EXTRA="	local-data: \"once.test. 300 IN A $E\"
	local-data: \"for.test. 300 IN A $E\"
	local-data: \"late.test. 300 IN A $E\"
	local-data: \"no.test. 300 IN A $F\"
	local-data: \"slow.test. 300 IN A $F\"
	local-data: \"nodec.test. 300 IN A $F\"
	local-data: \"gone.test. 300 IN A $F\""
export LAB_DOH_EXTRA

lab_up
lab_users
lab_start_all
mkdir -p "$LAB_DIR/run"
e2e_config
ASK=$LAB_DIR/run/ask.sock
sed -i "s|^mode = enforce|mode = ask\\
ask_timeout = 3s\\
ask_dns_hold = 1500ms\\
ask_max = 4|" "$E2E_CONF"
# The stub resolver waits longer than the hold (glibc's default is 5 s;
# the lab's 1 s would give up first).
printf 'nameserver %s\noptions timeout:3 attempts:1\n' "$LAB_BR4" \
    >"/etc/netns/$(lab_ns w1)/resolv.conf"
e2e_start_netjaild || { e2e_show_log netjaild; lab_die "netjaild did not become ready"; }
e2e_start_dohd || { e2e_show_log dohd; lab_die "dohd did not start"; }
e2e_start_connectd || { e2e_show_log connectd; lab_die "connectd did not become ready"; }

# dig_t NAME [TYPE]: "STATUS MS" of one lookup from w1
dig_t() {
	local s e out st
	s=$(lab_ms)
	out=$(lab_exec w1 dig +time=4 +tries=1 "$1" "${2:-A}" 2>&1) || true
	e=$(lab_ms)
	st=$(printf '%s\n' "$out" | sed -n 's/.*status: \([A-Z]*\).*/\1/p' | head -n 1)
	echo "${st:-NONE} $((e - s))"
}
dig_addr() { lab_exec w1 dig +time=4 +tries=1 +short "$1" A 2>/dev/null | head -n 1; }
http_body() { lab_exec w1 curl -sS --max-time 6 "$@" 2>&1 || true; }
exit_lines() { wc -l <"$LAB_DIR/nginx.d/access.log"; }
leaked() { echo $(($(lab_count "$F") + $(lab_count "$LAB_FORBIDDEN6") + $(lab_count "$LAB_INET4"))); }
# dohd batches its decision lines: wait for one
dsaw() { lab_retry 3 grep -q "name=\"$1\" .*reason=$2 " "$LAB_DIR/dohd.log"; }
questions() { grep -c "^question ask [0-9]* default $1 $2 " "$LAB_DIR/decider.log" || true; }
between() { [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }

start_decider() {	# SCRIPT: its questions and answers in decider.log
	lab_spawn decider host "$E2E_CTL" ask --socket "$ASK" --script "$1"
	lab_retry 5 grep -q '^connected' "$LAB_DIR/decider.log"
}
linked() {	# dohd reached connectd's broker
	lab_exec w1 dig +time=2 +tries=1 nodec.test A >/dev/null 2>&1 || true
	grep -q 'name="nodec.test" .*reason=ask-no-decider ' "$LAB_DIR/dohd.log"
}

lab_count_reset
x0=$(exit_lines)
lab_expect_match "a name a rule admits resolves, no question" "^$E\$" dig_addr smoke.test
# dohd's connection to connectd may still be on its backoff: until dohd
# reaches the broker, a held name is denied as ask-no-broker.
lab_expect "dohd reaches connectd's broker" lab_retry 10 linked
r=$(dig_t nodec.test)
lab_expect_eq "no decider: NXDOMAIN ($r)" NXDOMAIN "${r% *}"
lab_expect "no decider: at once, not held ($r)" between "${r#* }" 0 700
lab_expect "no decider: logged by dohd" dsaw nodec.test ask-no-decider
lab_expect_eq "no decider: the name never went upstream" 0 "$(lab_doh_queries "$LAB_DOH" nodec.test)"

cat >"$LAB_DIR/script1" <<EOF
once.test once
alias.test once
for.test 2s
no.test deny
slow.test ignore
late.test ignore
gone.test ignore
*.t.test ignore
EOF
lab_expect "decider connects" start_decider "$LAB_DIR/script1"

# allow once: the lookup is held, answered, and its connection passes on
# the same decision.
r=$(dig_t once.test)
lab_expect_eq "allow once: the lookup is answered ($r)" NOERROR "${r% *}"
lab_expect_match "allow once: the client's connection passes" '^exit-ok once\.test' \
	http_body http://once.test/
lab_expect_eq "allow once: one question, kind dns" 1 "$(questions dns once.test)"
lab_expect_eq "allow once: the connection was not asked again" 0 "$(questions tcp once.test)"
lab_expect "allow once: connectd let the connection through" \
	lab_retry 3 grep -q 'event=access .*host="once.test" .*decision=allow .*reason="ask-granted"' "$LAB_DIR/connectd.log"

# once is the asking source's: w2's connection to the name is a question
# of its own (this decider allows it once too)
lab_expect_match "allow once: another source connects" '^exit-ok once\.test' \
	lab_exec w2 curl -sS --max-time 6 --resolve "once.test:80:$E" http://once.test/
lab_expect_eq "allow once: and was asked itself (the grant was w1's)" 1 "$(questions tcp once.test)"

# a granted name's CNAME chain (alias2.test, then smoke.test) is followed
lab_expect_match "allow once: a granted name's CNAME chain is followed" "^$E\$" \
	sh -c "ip netns exec $(lab_ns w1) dig +time=4 +tries=1 +short alias.test A | tail -n 1"

# allow for 2 s
lab_expect_match "allow 2s: resolved and connected" '^exit-ok for\.test' http_body http://for.test/
lab_expect_match "allow 2s: again within 2 s" '^exit-ok for\.test' http_body http://for.test/
lab_expect_eq "allow 2s: one question" 1 "$(questions dns for.test)"

# deny: NXDOMAIN, and a connection that skips DNS is refused as well
x1=$(exit_lines)
r=$(dig_t no.test)
lab_expect_eq "deny: NXDOMAIN ($r)" NXDOMAIN "${r% *}"
lab_expect "deny: logged by dohd" dsaw no.test ask-deny
lab_expect "deny: a connection by address is refused" \
	k_denied w --resolve "no.test:80:$F" http://no.test/
lab_expect_eq "deny: the name never went upstream" 0 "$(lab_doh_queries "$LAB_DOH" no.test)"

# timeout: held for ask_dns_hold (1.5 s), then NXDOMAIN
r=$(dig_t slow.test)
lab_expect_eq "timeout: NXDOMAIN ($r)" NXDOMAIN "${r% *}"
lab_expect "timeout: after ask_dns_hold ($r)" between "${r#* }" 1300 2600
lab_expect "timeout: logged by dohd" dsaw slow.test ask-hold-timeout
lab_expect_eq "deny, timeout: nothing reached the forbidden target" 0 "$(leaked)"
lab_expect_eq "deny, timeout: nothing reached the exit" "$x1" "$(exit_lines)"

# A flood of unknown names: ask_max (4) questions, the rest NXDOMAIN at
# once; a name a rule admits still resolves meanwhile.
sleep 3.2	# slow.test's question ends (ask_timeout)
i=1
pids=
while [ $i -le 16 ]; do
	dig_t "n$i.t.test" >"$LAB_DIR/flood.$i" &
	pids="$pids $!"
	i=$((i + 1))
done
sleep 0.3
lab_expect_match "flood: an allowed name still resolves" "^$E\$" dig_addr smoke.test
# shellcheck disable=SC2086
wait $pids
lab_expect "flood: at most ask_max questions" [ "$(grep -c '^question ask [0-9]* default dns n[0-9]*\.t\.test ' "$LAB_DIR/decider.log")" -le 4 ]
lab_expect_eq "flood: every lookup NXDOMAIN" 16 "$(cat "$LAB_DIR"/flood.* | grep -c '^NXDOMAIN ')"
sleep 0.5	# dohd's batched decision lines
# (at once by dohd's clock: 16 digs at a time on a small machine take
# longer to start than dohd takes to answer)
lab_expect "flood: the rest refused at once (ask-busy)" [ "$(grep 'name="n[0-9]*\.t\.test" .*reason=ask-busy ' \
	"$LAB_DIR/dohd.log" | grep -c ' dur_ms=[0-9]$')" -ge 12 ]
lab_expect_eq "flood: no flood name went upstream" 0 "$(grep -c 't\.test\. ' "$LAB_DIR/doh-$LAB_DOH.log" || true)"
lab_expect_eq "flood: nothing reached the internet" 0 "$(leaked)"

# allow 2s ran out: asked again, and this decider denies everything.
sleep 3.2	# the flood's questions end too
cat >"$LAB_DIR/script2" <<EOF
late.test ignore
* deny
EOF
lab_stop decider
lab_expect "second decider connects" start_decider "$LAB_DIR/script2"
r=$(dig_t for.test)
lab_expect_eq "allow 2s: NXDOMAIN after 2 s ($r)" NXDOMAIN "${r% *}"
lab_expect_eq "allow 2s: asked again" 1 "$(questions dns for.test)"
lab_expect "allow 2s: the connection by address is refused too" \
	k_denied w --resolve "for.test:80:$E" http://for.test/

# An answer later than ask_dns_hold still enters connectd's grant table:
# the client's retry finds it without a new question.
lab_stop decider
cat >"$LAB_DIR/late.py" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
f = s.makefile('rb')
assert f.readline() == b'egressjail-ask 1\n'
q = f.readline().split()
print(' '.join(x.decode() for x in q), flush=True)
time.sleep(2.0)		# longer than ask_dns_hold, shorter than ask_timeout
s.sendall(q[1] + b' allow 30s\n')
time.sleep(5)
PY
lab_spawn latedec host python3 "$LAB_DIR/late.py" "$ASK"
lab_retry 5 sh -c "[ \$(grep -c 'decider=connected' '$LAB_DIR/connectd.log') -ge 3 ]" || true
r=$(dig_t late.test)
lab_expect_eq "late answer: the held lookup got NXDOMAIN ($r)" NXDOMAIN "${r% *}"
lab_expect "late answer: the decider saw it" grep -q 'dns late.test' "$LAB_DIR/latedec.log"
sleep 1
r=$(dig_t late.test)
lab_expect_eq "late answer: the retry is answered ($r)" NOERROR "${r% *}"
lab_expect "late answer: from the grant, at once ($r)" between "${r#* }" 0 1000
lab_expect_match "late answer: its connection passes" '^exit-ok late\.test' http_body http://late.test/
lab_stop latedec

# connectd gone: dohd cannot ask, so it denies at once.
e2e_kill9 connectd
r=$(dig_t gone.test)
lab_expect_eq "connectd gone: NXDOMAIN ($r)" NXDOMAIN "${r% *}"
lab_expect "connectd gone: at once ($r)" between "${r#* }" 0 700
lab_expect "connectd gone: logged as ask-no-broker" dsaw gone.test ask-no-broker
lab_expect_eq "nothing denied reached the forbidden target or the internet" 0 "$(leaked)"
lab_expect_eq "no denied name went upstream" 0 \
	"$(($(lab_doh_queries "$LAB_DOH" gone.test) + $(lab_doh_queries "$LAB_DOH" slow.test) + $(lab_doh_queries "$LAB_DOH2" no.test)))"
lab_finish
