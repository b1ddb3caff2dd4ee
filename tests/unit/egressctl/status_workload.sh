#!/bin/sh
# status_workload.sh EGRESSCTL FAKE_DAEMON - status and doctor name each
# workload with the listeners netjaild reports for it: all registered, a
# kind missing, none (its traffic dropped: doctor warns), not reported;
# --json has a "workloads" array.
set -u
ctl=$1 fake=$2
dir=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*"; echo "--- output:"; cat "$dir/out"; exit 1; }

mkdir "$dir/run"
cat >"$dir/t.conf" <<CONF
[jail]
interface = br-*
user = nobody
runtime_dir = $dir/run
[chain]
hop = http://10.20.0.2:3128
[dohd]
upstream = https://dns.example/dns-query 192.0.2.53
[policy]
allow = api.example.com
[workload full]
match = iface:br-full
allow = a.example
[workload half]
match = cidr:172.18.0.5/32
mode = report
allow = b.example
[workload cut]
match = uid:nobody
allow = c.example
[workload new]
match = iface:br-new
allow = d.example
CONF
cat >"$dir/run/netjaild.extra" <<'NJ'
workloads=3
workload=full match=iface:br-full reg=transparent/ipv4/40001,proxy/ipv4/40002,dns_udp/ipv4/40053,dns_tcp/ipv4/40053,transparent/ipv6/40001 drop_unregistered_packets=0 drop_conflict_packets=0
workload=half match=cidr:172.18.0.5/32 reg=transparent/ipv4/40011,proxy/ipv4/40012 drop_unregistered_packets=7 drop_conflict_packets=0
workload=cut match=uid:nobody reg=none drop_unregistered_packets=12 drop_conflict_packets=1
NJ
run() { "$ctl" -c "$dir/t.conf" --no-user-check "$@" >"$dir/out" 2>&1; }

# netjaild down: status still names the workloads
run status
[ $? -eq 1 ] || fail "down: want exit 1"
grep -q '^workloads: default (\[policy\]),$' "$dir/out" || fail "down: header"
grep -q '^    full (enforce): netjaild did not answer$' "$dir/out" || fail "down: full"

pid=$("$fake" "$dir/run" netjaild:ready connectd:ready dohd:ready) ||
    fail "fake daemon did not start"
run status
[ $? -eq 0 ] || fail "ready: want exit 0"
for want in \
    '^    full (enforce): transparent/ipv4/40001,proxy/ipv4/40002,dns_udp/ipv4/40053,dns_tcp/ipv4/40053,transparent/ipv6/40001$' \
    '^    half (report): transparent/ipv4/40011,proxy/ipv4/40012; not registered: dns_udp,dns_tcp (dropped, 7 packets so far)$' \
    '^    cut (enforce): no listener registered: its traffic is dropped (12 packets so far)$' \
    '^    new (enforce): netjaild does not report it'; do
	grep -q "$want" "$dir/out" || fail "status lacks: $want"
done
run --json status
python3 - "$dir/out" <<'PY' || fail "json workloads"
import json, sys
d = json.load(open(sys.argv[1]))
w = {x["name"]: x for x in d["workloads"]}
assert list(w) == ["full", "half", "cut", "new"], list(w)
assert w["full"]["missing"] is None and w["full"]["matches"] == ["iface:br-full"]
assert w["half"]["missing"] == "dns_udp,dns_tcp" and w["half"]["mode"] == "report"
assert w["cut"]["registered"] == "none" and w["cut"]["drop_unregistered_packets"] == "12"
assert w["new"]["registered"] is None
PY

# doctor: while the gate refuses workloads it says so (a config problem);
# once they are enforced it warns for cut, half and new
run doctor
if grep -q 'per-workload policy is not enforced' "$dir/out"; then
	grep -q '^PROBLEM config' "$dir/out" || fail "doctor: the gate is a problem"
else
	for want in \
	    'warn    workloads  workload cut has no listener registered in netjaild: all its traffic is dropped (12 packets so far)' \
	    'warn    workloads  workload half: no dns_udp,dns_tcp listener registered' \
	    'warn    workloads  workload new: netjaild does not report it' \
	    'ok      workloads  workload full: every listener registered'; do
		grep -qF "$want" "$dir/out" || fail "doctor lacks: $want"
	done
fi
echo PASS
