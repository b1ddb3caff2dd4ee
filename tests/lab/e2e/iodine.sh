#!/usr/bin/env bash
# tests/lab/e2e/iodine.sh - DNS tunnelling with iodine, for a bridge workload
# (w1) and a jailed local user (ejagent), with the whole jail in place.
#
# iodined (10.78.0.30, in up) is authoritative for tun.example; both lab
# DoH/DNS servers (unbound) delegate tun.example to it, so an iodine client
# that can get its queries to either resolver, or to iodined itself, gets a
# tunnel (192.168.199.0/27, server end 192.168.199.1).
#
# 1. Controls, before the jail: the same iodine commands the jailed cases use
#    bring the tunnel up for w1 and for ejagent (the tun device gets its
#    address, a ping over it is answered, iodined logs the queries), so the
#    refusals below mean something.
# 2. The jail (the same steps as common.sh's e2e_up: netjaild, dohd,
#    connectd on one egressjail.conf).  For each kind, iodine aimed at the
#    outside resolver with the controls' command line (-r -T CNAME -O Base32:
#    DNS only) and at iodined's own address (query type autodetected, raw UDP
#    allowed): dohd gets its queries, no tunnel comes up, the tun device
#    never gets an address, no ping passes over it; and on the forbidden side iodined logs no query,
#    neither resolver logs a tun.example query, 0 packets reach iodined's
#    address or either resolver's port 53; dohd logged the tunnel's names
#    as denied, and a base32-style tunnel name is NXDOMAIN.
# 3. Control inside the jail: ejother (never jailed) runs the agent's very
#    command line and gets a tunnel (set up, address), so the agent's
#    failure is the uid jail.
#
# The jailed local user: the iodine client insists on euid 0 ("Run as root
# and you'll be happy") and its -u USER drops privileges only after the
# handshake, so with -u every tunnel query would come from a root-owned
# socket, which no uid jail is meant to catch.  Instead iodine runs as uid
# and gid ejagent from the start (setpriv --reuid/--regid --init-groups),
# with CAP_NET_ADMIN as an ambient capability (for TUNSETIFF and the
# ifconfig it runs on its tun device) and an LD_PRELOAD shim whose only
# function is geteuid() returning 0, to pass that check.  The kernel sees
# uid ejagent on every socket (checked: the process's uids, and ss's uid of
# its UDP socket, in the controls; in the jail iodine gives up in well
# under a second, so there the proof is that dohd logged its queries from
# the host's uplink address: only netjaild's meta skuid DNAT brings a
# local process's UDP 53 to dohd).
set -eu
: "${EJ_LAB_PREFIX:=e2i}"
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
. "$here/common.sh"
lab_require_root
lab_need curl dig kdig socat nft ping setpriv iodine iodined ifconfig cc ss
[ -c /dev/net/tun ] || lab_skip "no /dev/net/tun, so the iodine e2e test is skipped"
e2e_need_built

TUND=10.78.0.30			# iodined, on up's lo
TUNDOM=tun.example
TUNSRV=192.168.199.1		# iodined's tunnel end
SECRET=labsecret
# both unbound instances delegate tun.example to iodined (read by lab_start_doh)
# shellcheck disable=SC2034
LAB_DOH_EXTRA="	local-zone: \"$TUNDOM.\" transparent
	do-not-query-localhost: no
stub-zone:
	name: \"$TUNDOM.\"
	stub-addr: $TUND@53"

# ---------------------------------------------------------------- helpers

io_shim() {	# the geteuid() == 0 shim for the local-user runs
	printf 'int geteuid(void) { return 0; }\n' >"$LAB_DIR/euid0.c"
	cc -shared -fPIC -o "$LAB_DIR/euid0.so" "$LAB_DIR/euid0.c" ||
		lab_die "cannot build the geteuid shim"
	chmod 0755 "$LAB_DIR/euid0.so"
}

# io_start NAME KIND DEV SERVER [IODINE-ARGS...]: start iodine in the
# background as KIND: w (root in w1), a (ejagent in host), o (ejother in
# host); its log is $LAB_DIR/NAME.log.
io_start() {
	local name=$1 k=$2 dev=$3 server=$4 user
	shift 4
	case $k in
	w) lab_spawn "$name" w1 iodine -f -I1 -d "$dev" -P "$SECRET" "$@" "$server" "$TUNDOM" ;;
	a | o)
		user=ejagent
		[ "$k" = a ] || user=ejother
		lab_spawn "$name" host setpriv --reuid="$user" --regid="$(id -g "$user")" \
			--init-groups --inh-caps=+net_admin --ambient-caps=+net_admin -- \
			env LD_PRELOAD="$LAB_DIR/euid0.so" \
			iodine -f -I1 -d "$dev" -P "$SECRET" "$@" "$server" "$TUNDOM"
		;;
	esac
}

io_ns() {	# KIND -> the namespace its tun device lives in
	case $1 in w) echo w1 ;; *) echo host ;; esac
}

io_has_addr() {	# KIND DEV: the tun device has its tunnel address
	lab_exec "$(io_ns "$1")" ip -4 addr show dev "$2" 2>/dev/null | grep -q 'inet 192\.168\.199\.'
}

io_ping() {	# KIND DEV: ping iodined's tunnel end, bound to the tun device
	# iodine's downstream sometimes loses a reply on a tunnel that is up
	# (seen before any jail existed): one answer in four tries proves the
	# tunnel carries traffic.
	local i
	for i in 1 2 3 4; do
		lab_exec "$(io_ns "$1")" ping -4 -n -q -c 1 -w 4 -I "$2" \
		    "$TUNSRV" && return 0
	done
	return 1
}

io_uid_ok() {	# USER: the iodine in host runs as USER, and so does its UDP socket
	local uid pid sk
	uid=$(id -u "$1")
	lab_retry 5 sh -c "ip netns exec $LAB_NS_HOST ss -Huanp | grep -q '\"iodine\",pid='" || true
	sk=$(lab_exec host ss -Huanpe 2>/dev/null | grep '"iodine",pid=') || {
		echo "no iodine socket in host:"
		lab_exec host ss -Huanp
		return 1
	}
	printf '%s\n' "$sk"
	pid=$(printf '%s\n' "$sk" | sed -n 's/.*"iodine",pid=\([0-9]*\),.*/\1/p' | head -n 1)
	grep '^Uid' "/proc/$pid/status"
	grep -Eq "^Uid:[[:space:]]+${uid}[[:space:]]+${uid}[[:space:]]+${uid}[[:space:]]+${uid}\$" "/proc/$pid/status" &&
		printf '%s\n' "$sk" | grep -q " uid:$uid "
}

io_iodined_rx() {	# queries iodined has logged so far
	grep -ac 'RX: client' "$LAB_DIR/iodined.log" || true
}

io_resolver_tun() {	# tun.example queries both resolvers have logged so far
	cat "$LAB_DIR/doh-$LAB_DOH.log" "$LAB_DIR/doh-$LAB_DOH2.log" 2>/dev/null |
		grep -ci "\.$TUNDOM\. " || true
}

io_dohd_tun() {	# dohd's decision lines for tun.example names
	grep -a 'decision=' "$LAB_DIR/dohd.log" 2>/dev/null | grep -i "name=\"\?[^ ]*\.$TUNDOM\"\? " || true
}

# io_control NAME KIND DEV SERVER K: the tunnel comes up (then stop it).
# What proves it is up: iodine's handshake completes and the tun device gets
# its address (plus, in the callers, iodined's query log and the resolver's
# packet counter).  The ping over it is reported, not judged: iodine's
# downstream loses replies on a loaded machine with or without any jail
# (seen in CI runs of the control before the daemons start).
io_control() {
	local name=$1 k=$2 dev=$3 K=$5
	io_start "$1" "$2" "$3" "$4" -r -T CNAME -O Base32
	case $k in
	a) lab_expect "$K: iodine and its DNS socket run as uid ejagent" io_uid_ok ejagent ;;
	o) lab_expect "$K: iodine and its DNS socket run as uid ejother" io_uid_ok ejother ;;
	esac
	lab_expect "$K: iodine reports the tunnel up" lab_retry 60 grep -q "Connection setup complete" "$LAB_DIR/$name.log"
	lab_expect "$K: $dev has its tunnel address" io_has_addr "$k" "$dev"
	if io_ping "$k" "$dev" >/dev/null 2>&1; then
		echo "# $K: ping $TUNSRV over $dev answered (not judged)"
	else
		echo "# $K: ping $TUNSRV over $dev not answered (not judged; see docs/MATRIX.md)"
	fi
	lab_stop "$name"
	lab_retry 5 sh -c "! ip -n $(lab_ns "$(io_ns "$k")") link show dev $dev" ||
		lab_die "$dev did not go away after its iodine"
}

# io_refused NAME KIND DEV SERVER K [ARGS...]: run iodine until it gives up
# (40 s at most), watching the tun device; judge what the workload saw.
io_refused() {
	local name=$1 k=$2 dev=$3 server=$4 K=$5 end addr=0 ping=0 i d0 d1 src=$LAB_W1_4
	shift 5
	# the agent's queries reach dohd only through netjaild's meta skuid
	# DNAT (from the host's uplink address); the bridge's from w1
	[ "$k" = w ] || src=$LAB_HOSTUP4
	# counted before the start: iodine may send (and give up) at once
	d0=$(io_dohd_tun | grep -c " src=$src " || true)
	io_start "$name" "$k" "$dev" "$server" "$@"
	lab_retry 5 lab_exec "$(io_ns "$k")" ip link show dev "$dev" >/dev/null 2>&1 || true
	end=$(($(lab_ms) + 40000))
	i=0
	while lab_alive "$name" && [ "$(lab_ms)" -lt "$end" ]; do
		if io_has_addr "$k" "$dev"; then addr=1; fi
		if [ $((i % 4)) = 0 ] && lab_exec "$(io_ns "$k")" ping -4 -n -q -c 1 -W 1 -I "$dev" "$TUNSRV" >/dev/null 2>&1; then
			ping=1
		fi
		i=$((i + 1))
		sleep 0.5
	done
	lab_stop "$name"
	d1=$(io_dohd_tun | grep -c " src=$src " || true)
	lab_expect "$K: dohd got iodine's queries, $((d1 - d0)) from $src" test "$d1" -gt "$d0"
	lab_expect_fail "$K: no tunnel ($* $server): iodine never completes its setup" \
		grep -q "Connection setup complete" "$LAB_DIR/$name.log"
	sed 's/^/    iodine: /' "$LAB_DIR/$name.log" | grep -v '^    iodine: *$' | tail -n 3
	lab_expect_eq "$K: ... $dev never got a tunnel address" 0 "$addr"
	lab_expect_eq "$K: ... no ping over $dev was answered" 0 "$ping"
}

# ---------------------------------------------------------------- bring-up

lab_up
lab_users
lab_start_all
io_shim
lab_exec up ip addr add "$TUND/32" dev lo
lab_spawn iodined up iodined -f -DD -l "$TUND" -p 53 -P "$SECRET" "$TUNSRV/27" "$TUNDOM"
lab_wait_udp up "$TUND" 53 10 || lab_die "iodined did not start: $(tail -5 "$LAB_DIR/iodined.log")"

# ---------------------------------------------------------------- 1. controls, no jail

lab_count_reset
io_control ctl-w w dnsw "$LAB_DOH" "control (no jail), bridge"
io_control ctl-a a dnsa "$LAB_DOH" "control (no jail), agent"
n=$(io_iodined_rx)
lab_expect "control: iodined logged the tunnel's queries ($n)" test "$n" -gt 0
lab_expect "control: the resolver saw plain DNS from the workloads ($(lab_count "$LAB_DOH" udp 53) pkts)" \
	test "$(lab_count "$LAB_DOH" udp 53)" -gt 0
# The resolvers keep re-asking iodined (lazy mode holds queries) for a
# while after the control clients are gone: restart them, and judge
# iodined's log from a quiet moment on.
for a in "$LAB_DOH" "$LAB_DOH2"; do
	lab_stop "doh-$a"
	lab_start_doh "$a"
done
io_quiet() {	# until iodined has logged nothing new for 2 s (20 s at most)
	local n m i
	n=$(io_iodined_rx)
	for i in $(seq 1 40); do
		sleep 0.5
		m=$(io_iodined_rx)
		if [ "$m" = "$n" ] && [ "$i" -ge 4 ]; then return 0; fi
		[ "$m" = "$n" ] || i=0
		n=$m
	done
	return 1
}
io_quiet || lab_log "iodined's log is still growing"

# ---------------------------------------------------------------- 2. the jail

# e2e_up's remaining steps (common.sh), after the controls
mkdir -p "$LAB_DIR/run"
e2e_config
e2e_start_netjaild || { e2e_show_log netjaild; lab_die "netjaild did not become ready"; }
e2e_start_dohd || { e2e_show_log dohd; lab_die "dohd did not start"; }
e2e_start_connectd || { e2e_show_log connectd; lab_die "connectd did not become ready"; }

B32=paaaaakaebjfwtrkmvagfbexamk2ywdamrl7w3pz5s.lz3ggfsl6hb3ayzcqtmwhsjq4eb5ka2qxm	# iodine-style labels
for k in w a; do
	K=$(e2e_kind_name "$k")
	dev=dns$k
	for how in resolver direct; do
		case $how in
		resolver) server=$LAB_DOH args="-r -T CNAME -O Base32" ;;	# the controls' command line
		direct) server=$TUND args= ;;	# at iodined itself: query type autodetected, raw UDP allowed
		esac
		rx0=$(io_iodined_rx)
		up0=$(io_resolver_tun)
		lab_count_reset
		# shellcheck disable=SC2086 # none or several words
		io_refused "jail-$k-$how" "$k" "$dev" "$server" "$K" $args
		lab_expect_eq "$K: iodined logged no query ($how)" "$rx0" "$(io_iodined_rx)"
		lab_expect_eq "$K: neither resolver logged a $TUNDOM query ($how)" "$up0" "$(io_resolver_tun)"
		e2e_nothing "$K: 0 pkts at iodined's address $TUND ($how)" "$TUND"
		e2e_nothing "$K: 0 pkts at $LAB_DOH:53/udp ($how)" "$LAB_DOH" udp 53
		e2e_nothing "$K: 0 pkts at $LAB_DOH2:53/udp ($how)" "$LAB_DOH2" udp 53
	done
	lab_count_reset
	lab_expect_match "$K: a base32 tunnel name (A) is NXDOMAIN" 'status: NXDOMAIN' \
		k_dig "$k" "@$LAB_DOH" "$B32.$TUNDOM" A
	lab_expect_match "$K: ... and (TXT) NXDOMAIN" 'status: NXDOMAIN' \
		k_dig "$k" "@$LAB_DOH" "$B32.$TUNDOM" TXT
	e2e_nothing "$K: ... and 0 pkts at $LAB_DOH:53/udp" "$LAB_DOH" udp 53
done
n=$(io_dohd_tun | wc -l)
lab_expect "dohd logged the tunnel's names ($n lines)" test "$n" -gt 0
lab_expect_eq "... and allowed none of them" 0 "$(io_dohd_tun | grep -c 'decision=allow' || true)"
io_dohd_tun | sed 's/.* name=/    dohd: name=/' | cut -c1-160 | sort | uniq | head -n 4
lab_expect_eq "iodined logged no query from any jailed attempt" "$rx0" "$(io_iodined_rx)"

# ---------------------------------------------------------------- 3. control in the jail

lab_count_reset
# (its ping over the tunnel is answered in some runs only: iodined logs the
# echo requests and sends the replies, but they often do not arrive here;
# not understood yet, so reported, not judged)
io_control ctl-o o dnso "$LAB_DOH" "control (jail up), ejother (not jailed), the agent's command"
lab_expect "control (jail up): iodined logged ejother's queries" test "$(io_iodined_rx)" -gt "$rx0"

for d in netjaild dohd connectd; do
	lab_expect "$d still running" lab_alive "$d"
done
lab_finish
