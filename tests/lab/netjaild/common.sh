# shellcheck shell=bash
# common.sh - sourced by the netjaild lab tests after tests/lab/lib.sh: the
# configuration they share, the stand-ins for connectd (IP_TRANSPARENT
# listener on 127.0.0.1:15001) and dohd (UDP 127.0.0.1:15353), netjaild.
NJ=$EJ_BUILD/netjaild/netjaild
SI=$EJ_SRC/tests/lab/netjaild/standin.py
# SETPY SOCK SET ADDR PORT [TIMEOUT_MS|del]: one SET_UPDATE, prints the ack
SETPY=$(cat "$EJ_SRC/tests/lab/netjaild/setelem.py")
[ -x "$NJ" ] || lab_die "$NJ is not built"

# nj_config FILE [JAIL-LINE...]: [jail] with those lines and the lab's
# runtime_dir, then the chain, listeners, upstream and policy of the lab
nj_config() {
	local f=$1 l
	shift
	{
		echo "[jail]"
		for l in "$@"; do echo "$l"; done
		cat <<EOF2
runtime_dir = $LAB_DIR/run

[chain]
hop = http://$LAB_HOP_A:$LAB_HOP_PORT

[connectd]
proxy_listen = $LAB_BR4:3128
transparent_listen = 127.0.0.1:15001

[dohd]
listen = 127.0.0.1:15353
upstream = https://doh.test$LAB_DOH_PATH $LAB_DOH

[policy]
allow = smoke.test
EOF2
	} >"$f"
}

nj_standins() {
	lab_spawn nj-connectd host python3 "$SI" tcp 15001
	lab_spawn nj-dohd host python3 "$SI" udp 15353
	lab_wait_listen host 127.0.0.1 15001
	lab_wait_udp host 127.0.0.1 15353
}

# nj_start CONFIG: netjaild in the host namespace, until it logs ready
nj_start() {
	rm -f "$LAB_DIR/netjaild.log"
	lab_spawn netjaild host "$NJ" -c "$1"
	lab_retry 10 grep -q "event=ready" "$LAB_DIR/netjaild.log" || {
		sed 's/^/    | /' "$LAB_DIR/netjaild.log" >&2
		return 1
	}
}
