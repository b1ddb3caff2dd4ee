#!/bin/sh
# lab_learn.sh - issue 15's learn flow with connectd and a real chain:
# report mode lets names the allowlist would deny through and logs them;
# `egressctl learn --log` turns that log into an allow.d file; enforce mode
# with the file, replaying the same connections, denies none of them and
# still denies what was never seen.  Then mode = learn: the same, logged
# as one record per name and port.
. "$(dirname "$0")/cdlab.sh"

EGRESSCTL=$B/egressctl/egressctl
[ -x "$EGRESSCTL" ] || { echo "learn lab: $EGRESSCTL not built"; exit 1; }
SEEN="denied.test:8443 denied.test:8080 allowed.test:8443"

net_up
certs
start_upstream
start_peers

CD_POLICY_EXTRA="mode = report" write_config "$T/r.conf" \
    http://cduser:cdpass@10.99.0.2:3128 http://10.99.0.2:3129
start_connectd "$T/r.conf" || { bad "connectd (report mode) starts"; finish; }
check "report mode: ready" wait_for 15 is_ready
for t in $SEEN; do
	check "report mode: $t gets through" [ "$(connect_code "$t")" = 200 ]
done
check "report mode: the would-be denials are logged" \
    wait_for 3 grep -q 'event=report .*host=denied.test port=8080' "$T/connectd.log"
stop_connectd

mkdir -p "$T/allow.d"
"$EGRESSCTL" learn --log "$T/connectd.log" >"$T/allow.d/learned.allow" \
    2>"$T/learn.err"
check "egressctl learn --log succeeds" [ $? -eq 0 ]
check "learned: denied.test with both ports" \
    grep -qx 'denied.test:8080,8443' "$T/allow.d/learned.allow"
check "learned: nothing the allowlist already admitted" \
    sh -c "! grep -q '^allowed.test' '$T/allow.d/learned.allow'"
sed 's/^/    /' "$T/allow.d/learned.allow"

CD_POLICY_EXTRA="allow_file = $T/allow.d/*.allow" write_config "$T/e.conf" \
    http://cduser:cdpass@10.99.0.2:3128 http://10.99.0.2:3129
start_connectd "$T/e.conf" || { bad "connectd (learned allowlist) starts"; finish; }
check "enforce mode: ready" wait_for 15 is_ready
for t in $SEEN; do
	check "replay: $t allowed" [ "$(connect_code "$t")" = 200 ]
done
check "replay: no denial in the log" \
    sh -c "! grep -q 'decision=deny' '$T/connectd.log'"
check "never seen: denied.test:9000 still 403" \
    [ "$(connect_code denied.test:9000)" = 403 ]
stop_connectd

# mode = learn: report mode for the allowlist, and connectd logs each
# would-be denial once, as a record (event=learn), not as event=report
CD_POLICY_EXTRA="mode = learn" write_config "$T/l.conf" \
    http://cduser:cdpass@10.99.0.2:3128 http://10.99.0.2:3129
start_connectd "$T/l.conf" || { bad "connectd (learn mode) starts"; finish; }
check "learn mode: ready" wait_for 15 is_ready
for t in $SEEN $SEEN; do
	check "learn mode: $t gets through" [ "$(connect_code "$t")" = 200 ]
done
check "learn mode: still 403 for the own address" \
    [ "$(connect_code 10.99.0.1:3128)" = 403 ]
stop_connectd
n1=$(grep -c 'event=learn .*name="denied.test" port=8443 ' "$T/connectd.log")
n2=$(grep -c 'event=learn .*name="denied.test" port=8080 ' "$T/connectd.log")
check "learn mode: one record per name and port ($n1, $n2)" \
    [ "$n1$n2" = 11 ]
check "learn mode: no event=report for them" \
    sh -c "! grep -q 'event=report .*denied.test' '$T/connectd.log'"
"$EGRESSCTL" learn --log "$T/connectd.log" >"$T/learned2" 2>"$T/learn.err"
check "learn --log of learn mode: the same rule" \
    grep -qx 'denied.test:8080,8443' "$T/learned2"

finish
