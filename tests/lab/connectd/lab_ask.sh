#!/bin/sh
# lab_ask.sh - issue 15's ask mode with connectd, a real chain and
# `egressctl ask --script` as the decider: no decider, allow once, allow
# for 2 s then denied, deny, timeout, a decider that disconnects, and a
# flood of unknown names bounded by ask_max.  Judged by what the client
# saw and by new connections counted at the exit servers (the upstream the
# jail must keep denied names from).  The DNS side (dohd holding a
# question; a name and its connection decided once) is tests/lab/e2e/ask.sh.
. "$(dirname "$0")/cdlab.sh"

EGRESSCTL=$B/egressctl/egressctl
[ -x "$EGRESSCTL" ] || { echo "ask lab: $EGRESSCTL not built"; exit 1; }
ASK=$T/run/ask.sock

net_up
printf '10.99.0.2 once.test for.test no.test slow.test gone.test\n' \
    >>"/etc/netns/$UP/hosts"
certs
start_upstream
# cdlab's fake dohd, knowing the asked names too (a real dohd resolves
# connectd's RESOLVE_REQ in ask mode: connectd asks only after allowing)
mkdir -p "$T/run"
chmod 777 "$T/run"
echo 1 >"$T/netjaild.ready"
echo 1 >"$T/dohd.ready"
bg_px python3 "$H/fakepeer.py" "$T/run" netjaild "$T/netjaild.ready"
bg_px python3 "$H/fakepeer.py" "$T/run" dohd "$T/dohd.ready" \
    hop1.test=10.99.0.2 hop2.test=10.99.0.2 allowed.test=10.99.0.2 \
    once.test=10.99.0.2 for.test=10.99.0.2 no.test=10.99.0.2 \
    slow.test=10.99.0.2 gone.test=10.99.0.2
wait_for 5 test -S "$T/run/dohd.sock"
wait_for 5 test -S "$T/run/netjaild.sock"

# The canary goes to the echo port: the exit counter counts only clients.
CD_CANARY=allowed.test:9000 CD_POLICY_EXTRA="mode = ask
ask_socket = $ASK
ask_timeout = 2s
ask_max = 4" write_config "$T/a.conf" \
    http://cduser:cdpass@10.99.0.2:3128 http://10.99.0.2:3129
if ! "$CONNECTD" -c "$T/a.conf" --check >"$T/check.out" 2>&1; then
	cat "$T/check.out"
	exit 1
fi
start_connectd "$T/a.conf" || { bad "connectd (ask mode) starts"; finish; }
check "ask mode: ready" wait_for 15 is_ready
check "ask socket is root's, 0600" \
    [ "$(stat -c '%U %a' "$ASK")" = "root 600" ]

# elapsed_code HOST:PORT: "CODE SECONDS" of one CONNECT
elapsed_code() {
	s=$(date +%s%N)
	c=$(connect_code "$1")
	e=$(date +%s%N)
	echo "$c $(((e - s) / 1000000))"
}

n0=$(exit_count)
check "allowed by a rule: no question" [ "$(connect_code allowed.test:8443)" = 200 ]
check "no decider: denied at once" [ "$(connect_code once.test:8443)" = 403 ]
check "no decider: logged" wait_for 3 grep -q 'reason="ask-no-decider"' "$T/connectd.log"
check "no decider: nothing reached the exit" [ "$(exit_count)" = $((n0 + 1)) ]

cat >"$T/script1" <<EOF
# lab decider
once.test once
for.test 2s
no.test deny
slow.test ignore
gone.test ignore
*.flood.test ignore
EOF
start_decider() {
	: >"$T/ask.out"
	ip netns exec "$PX" "$EGRESSCTL" ask --socket "$ASK" --script "$1" \
	    >"$T/ask.out" 2>"$T/ask.err" &
	DECPID=$!
	PIDS="$PIDS $DECPID"
	wait_for 5 grep -q '^connected' "$T/ask.out"
}
questions() { grep -c "^question ask [0-9]* default tcp $1 " "$T/ask.out"; }

check "decider connects" start_decider "$T/script1"

n0=$(exit_count)
check "allow once: 200" [ "$(connect_code once.test:8443)" = 200 ]
check "allow once: asked again next time" [ "$(connect_code once.test:8443)" = 200 ]
check "allow once: two questions for two connections" [ "$(questions once.test)" = 2 ]
check "allow once: both reached the exit" [ "$(exit_count)" = $((n0 + 2)) ]

n0=$(exit_count)
check "allow 2s: 200" [ "$(connect_code for.test:8443)" = 200 ]
check "allow 2s: again within 2 s, not asked" [ "$(connect_code for.test:8443)" = 200 ]
check "allow 2s: one question" [ "$(questions for.test)" = 1 ]
check "allow 2s: both reached the exit" [ "$(exit_count)" = $((n0 + 2)) ]

n0=$(exit_count)
check "deny: 403" [ "$(connect_code no.test:8443)" = 403 ]
check "deny: logged" wait_for 3 grep -q 'reason="ask-deny"' "$T/connectd.log"

r=$(elapsed_code slow.test:8443)
check "timeout: 403 ($r)" [ "${r% *}" = 403 ]
check "timeout: held about ask_timeout ($r)" \
    [ "${r#* }" -ge 1800 ] && [ "${r#* }" -le 4000 ]
check "timeout: the decider was told" grep -q '^expired ' "$T/ask.out"
check "timeout: logged" wait_for 3 grep -q 'reason="ask-timeout"' "$T/connectd.log"
check "deny, timeout: nothing reached the exit" [ "$(exit_count)" = "$n0" ]

# Flood: 12 unknown names at once, ask_max = 4 questions in flight; the
# rest are denied at once, and a name the rules allow still gets through.
n0=$(exit_count)
i=1
while [ $i -le 12 ]; do
	elapsed_code "n$i.flood.test:8443" >"$T/flood.$i" &
	FLOOD="${FLOOD:-} $!"
	i=$((i + 1))
done
sleep 0.5
check "flood: an allowed name still served" [ "$(connect_code allowed.test:8443)" = 200 ]
wait $FLOOD
sleep 0.5	# the access log is written without blocking
check "flood: at most ask_max questions asked" [ "$(questions '[a-z0-9]*.flood.test')" -le 4 ]
check "flood: every flood connection 403" \
    [ "$(cat "$T"/flood.* | grep -c '^403 ')" = 12 ]
check "flood: the rest denied at once (ask-busy)" \
    [ "$(grep -c 'reason="ask-busy"' "$T/connectd.log")" -ge 8 ]
check "flood: only the allowed name reached the exit" [ "$(exit_count)" = $((n0 + 1)) ]

sleep 2.2	# for.test's 2 s grant runs out
cat >"$T/script2" <<EOF
* deny
EOF
kill "$DECPID" 2>/dev/null
wait "$DECPID" 2>/dev/null
check "second decider connects" start_decider "$T/script2"
n0=$(exit_count)
check "allow 2s: denied after 2 s" [ "$(connect_code for.test:8443)" = 403 ]
check "allow 2s: asked again after 2 s" [ "$(questions for.test)" = 1 ]
check "allow 2s: nothing more reached the exit" [ "$(exit_count)" = "$n0" ]

# A decider that disconnects with a question pending: denied before
# ask_timeout.
kill "$DECPID" 2>/dev/null
wait "$DECPID" 2>/dev/null
check "third decider connects" start_decider "$T/script1"
elapsed_code gone.test:8443 >"$T/gone" &
GONEPID=$!
wait_for 3 grep -q 'gone.test' "$T/ask.out"
kill "$DECPID" 2>/dev/null
wait "$GONEPID"
r=$(cat "$T/gone")
check "decider gone: 403 ($r)" [ "${r% *}" = 403 ]
check "decider gone: before ask_timeout ($r)" [ "${r#* }" -lt 1800 ]
check "decider gone: logged" wait_for 3 grep -q 'reason="ask-decider-gone"' "$T/connectd.log"
check "nothing denied reached the exit" [ "$(exit_count)" = "$n0" ]

# A second decider is refused while one is connected; a decider that
# answers with a malformed line is dropped and its question denied.
check "fourth decider connects" start_decider "$T/script1"
check "a second decider is refused" sh -c "python3 - '$ASK' <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(3)
sys.exit(0 if s.recv(64) == b'' else 1)
PY"
kill "$DECPID" 2>/dev/null
wait "$DECPID" 2>/dev/null
cat >"$T/baddec.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(10)
f = s.makefile('rb')
assert f.readline() == b'egressjail-ask 1\n'
q = f.readline().split()
s.sendall(q[1] + b' allow forever\n')
sys.exit(0 if f.readline() == b'' else 1)	# connectd hangs up
PY
nc0=$(grep -c 'decider=connected' "$T/connectd.log")
inpx python3 "$T/baddec.py" "$ASK" &
BADPID=$!
wait_for 5 test "$(grep -c 'decider=connected' "$T/connectd.log")" -gt "$nc0"
n0=$(exit_count)
r=$(elapsed_code once.test:8443)
check "malformed answer: 403 ($r)" [ "${r% *}" = 403 ]
check "malformed answer: before ask_timeout ($r)" [ "${r#* }" -lt 1800 ]
check "malformed answer: the decider was dropped" wait $BADPID
check "malformed answer: nothing reached the exit" [ "$(exit_count)" = "$n0" ]

stop_connectd
check "connectd stops cleanly" [ "$CDRC" = 0 ]
finish
