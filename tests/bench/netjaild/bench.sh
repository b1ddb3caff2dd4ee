#!/bin/sh
# bench.sh [BUILD_DIR] - netjaild numbers, root only, in namespaces named nj*:
#   install time of 10,000 direct endpoints in one transaction (< 200 ms),
#   SET_UPDATE round trip over the control socket to a running netjaild.
set -u
B=${1:-${EJ_BUILD:-build}}
[ "$(id -u)" -eq 0 ] || { echo "netjaild bench: not root, skipped"; exit 77; }
bench=$B/tests/bench/netjaild/bench_netjaild
unshare -n "$bench" install 10000 || exit 1

ns=njbench$$
tmp=$(mktemp -d /tmp/njbench.XXXXXX); chmod 755 "$tmp"
trap 'kill $pid 2>/dev/null; wait 2>/dev/null; ip netns del $ns 2>/dev/null; rm -rf "$tmp"' EXIT
ip netns add $ns
ip -n $ns link set lo up
cat >"$tmp/egressjail.conf" <<EOF2
[jail]
user = nobody
runtime_dir = $tmp/run
group = root
[chain]
hop = http://10.79.0.2:3128
[connectd]
user = proxy
transparent_listen = 127.0.0.1:15001
[dohd]
user = irc
listen = 127.0.0.1:15353
upstream = https://dns.example.net/dns-query 10.79.0.4
[netjaild]
user = daemon
[policy]
allow = example.com
EOF2
ip netns exec $ns "$B/netjaild/netjaild" -c "$tmp/egressjail.conf" 2>"$tmp/log" &
pid=$!
i=0
while ! grep -q event=ready "$tmp/log" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
grep -q event=ready "$tmp/log" || { echo "netjaild did not start:"; cat "$tmp/log"; exit 1; }
# as dohd's user (irc) with the control group (root): the role that may push
ip netns exec $ns setpriv --reuid=irc --regid=0 --clear-groups "$bench" setrt "$tmp/run/netjaild.sock" 1000
