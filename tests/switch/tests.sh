# shellcheck shell=bash
# Selftests of the whole switch: vsw.ko + vswd + vsw-ctl, with real packets between
# network namespaces. Sourced by tests/kernel/run.sh (VSW_TESTS_FILE=this file), which
# runs them in table order inside the VM with the kernel selftests' helpers (lib.sh).
#
# Topology built by topo_switch N [ACCESS-TAGS...]:
#
#   nsI: eth0 10.0.0.I/24, MAC 02:00:00:00:00:0I   (I = 1..N)
#        | veth
#   sI$S (port I of bridge br$S)   -- vswd learns MACs, NORMAL forwards, vsw.ko caches
#
# No static neighbours: ARP goes through the switch like any other traffic. IPv6 is off in
# the namespaces so that the only traffic is what a test sends.

TESTS=(
	"switch_learns          four namespaces: ping, TCP, UDP between all pairs through NORMAL"
	"switch_cache_warm      after warm-up the kernel hits rise while misses stay flat; megaflows carry no L3/L4 bits"
	"switch_mac_move        a MAC moving to another port is followed within a second"
	"switch_fail_secure     a secure bridge forwards nothing by itself; set-fail-mode standalone makes it learn"
	"switch_vlans           access ports on different VLANs are isolated; a trunk carries both, tagged"
	"switch_idle_expire     idle megaflows are deleted after the idle timeout"
	"switch_port_delete     del-port removes the port's flows; an interface created after add-port is attached; set-port ofport= moves it; add-port/del-port attach/detach only their port (no full reconcile each)"
	"switch_restart         kill -9 vswd under a ping: no loss, config restored, stale flows removed"
	"switch_corrupt_state   a corrupt state file is refused and left untouched"
	"switch_upcall_storm    pktgen storm, 30,000 new flows/s: vsw-ctl answers within a second, lost counted, kernel healthy"
	"switch_handlers_share  several handler threads serve misses (per-CPU dispatch)"
	"switch_trace_dump_flows vsw-ctl trace shows NORMAL's decision and the megaflow, changing nothing; dump-flows counts cached traffic"
	"switch_openflow_service ovs-ofctl over BR.mgmt: a drop rule stops cached traffic within a second, deleting it restores it; no controller"
	"switch_packet_out      ovs-ofctl packet-out: output:2, FLOOD, output:TABLE through a rule, NORMAL (learns in_port); frames arrive where they should, no megaflow"
	"switch_osken_session   os-ken's learning switch (tests/switch/osken_l2.py) becomes master (ROLE_REQUEST, shown by vsw-ctl show) and drives a secure bridge over tcp:: namespaces ping each other through PACKET_IN/PACKET_OUT, then its rules forward from the kernel alone; with ovs-ofctl over ptcp:, the whole session captured on lo decodes in tshark with no malformed packet or expert warning"
	"switch_flow_removed    idle_timeout kept alive by cached traffic, expiring ~2 s after it stops; hard_timeout expiring under traffic; ovs-ofctl monitor sees FLOW_REMOVED idle, hard, delete"
	"switch_groups          ovs-ofctl add-group: a select group spreads 64 UDP flows over two ports, each flow on one; a fast-failover group follows its watched port's link down and up; group stats count cached traffic; del-groups takes the group's rules"
	"switch_link_events     link events of interfaces the bridge does not use make it do nothing; renaming an interface to a configured port's name attaches it, renaming it away detaches it"
	"switch_port_status     ovs-ofctl monitor sees PORT_STATUS ADD for add-port, MOD with LINK_DOWN set and cleared for a link down and up, DEL for del-port"
	"switch_port_mod        dump-tables counts cached traffic; ovs-ofctl mod-port: no-forward, no-receive and down stop cached traffic within a second (down turns the interface down), forward/receive/up restore it; dump-ports-desc shows the config"
	"switch_packet_in       a tcp: controller's table-miss CONTROLLER rule on a secure bridge: a ping's ARP and ICMP arrive as PACKET_INs (NO_MATCH whole, ACTION cut to max_len), later ones from the kernel's cached USERSPACE action"
)

VSWD=${VSWD:-$VSW_BUILD/userspace/vswd/vswd}
VSWCTL_BIN=${VSWCTL_BIN:-$VSW_BUILD/userspace/cli/vsw-ctl}
PKT="python3 -S $VSW_TOP/tests/kernel/pkt.py"

sfx() { printf '%04x' $((RANDOM ^ $$ & 0xffff)); }

tmpdir() {
	TMPD=$(mktemp -d)
	defer rm -rf "$TMPD"
}

ctl() {
	echo "+ vsw-ctl $*"
	"$VSWCTL_BIN" --socket "$TMPD/vswd.sock" "$@"
}

# vswd_start [ARGS...]: start vswd on this test's state dir and socket; wait until it answers.
vswd_start() {
	echo "+ vswd --state-dir $TMPD/state --socket $TMPD/vswd.sock $*"
	"$VSWD" --state-dir "$TMPD/state" --socket "$TMPD/vswd.sock" --log-level info "$@" \
		>>"$TMPD/vswd.log" 2>&1 &
	VSWD_PID=$!
	defer vswd_stop
	local i
	for ((i = 0; i < 100; i++)); do
		"$VSWCTL_BIN" --socket "$TMPD/vswd.sock" list-br >/dev/null 2>&1 && return 0
		kill -0 "$VSWD_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "vswd did not come up; its log:"
	cat "$TMPD/vswd.log"
	return 1
}
vswd_stop() {
	[ -n "${VSWD_PID:-}" ] || return 0
	kill "$VSWD_PID" 2>/dev/null && wait "$VSWD_PID" 2>/dev/null
	VSWD_PID=
}
vswd_log() { sed 's/^/[vswd] /' "$TMPD/vswd.log"; }

# topo_switch N: bridge br$S with N namespaces on veths, ports 1..N (no VLANs).
topo_switch() {
	local n=$1 i ns p
	module_load || return 1
	tmpdir
	S=$(sfx)
	BR=br$S
	vswd_start || return 1
	ctl add-br "$BR" || return 1
	defer "$VSW_DPCTL" del-dp "$BR"
	run ip link set "$BR" up
	for ((i = 1; i <= n; i++)); do
		ns_create "NS$i" || return 1
		eval "ns=\$NS$i"
		p=s${S}p$i
		eval "P$i=$p"
		run ip link add "$p" type veth peer name eth0 netns "$ns" || return 1
		defer ip link del "$p"
		run ip link set "$p" up
		# No IPv6: its router solicitations and MLD reports would be misses of their own.
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
		ip -n "$ns" link set eth0 address "02:00:00:00:00:0$i"
		ip -n "$ns" addr add "10.0.0.$i/24" dev eth0
		ip -n "$ns" link set eth0 up
	done
}
# add_ports N [OPTIONS-FOR-PORT-I...]: vsw-ctl add-port for ports 1..N.
add_ports() {
	local n=$1 i p
	shift
	for ((i = 1; i <= n; i++)); do
		eval "p=\$P$i"
		# shellcheck disable=SC2086
		ctl add-port "$BR" "$p" ofport=$i ${1:-} || return 1
		shift || true
	done
}
ns_of() { eval "echo \$NS$1"; }
# ping_ok I J [COUNT]: namespace I pings 10.0.0.J.
ping_ok() {
	in_ns "$(ns_of "$1")" ping -c "${3:-2}" -i 0.2 -W 2 "10.0.0.$2" >/dev/null
}
dp_flows() { "$VSW_DPCTL" dump-flows "$BR"; }

# ---- tests ---------------------------------------------------------------------------------
test_switch_learns() {
	topo_switch 4 || return 1
	add_ports 4 || return 1
	local i j
	for ((i = 1; i <= 4; i++)); do
		for ((j = 1; j <= 4; j++)); do
			[ $i = $j ] && continue
			ping_ok $i $j 1 || { echo "FAIL: ns$i cannot ping 10.0.0.$j"; vswd_log; return 1; }
		done
	done
	echo "ok: ping between all 12 ordered pairs"
	bg tcpd "$(ns_of 4)" $PKT tcp-serve 5001 200000 --ready-file "$TMPD/tcp.ready"
	wait_for "$TMPD/tcp.ready" || return 1
	in_ns "$(ns_of 1)" $PKT tcp-send 10.0.0.4 5001 200000 || return 1
	bgwait tcpd >"$TMPD/tcpd.res"
	grep -q 'tcp 200000' "$TMPD/tcpd.res" || { echo "FAIL: TCP transfer incomplete"; cat "$TMPD/tcpd.res"; return 1; }
	bg udpr "$(ns_of 2)" $PKT udp-recv 6000 50 --timeout 30 --ready-file "$TMPD/udp.ready"
	wait_for "$TMPD/udp.ready" || return 1
	in_ns "$(ns_of 3)" $PKT udp-send 10.0.0.2 6000 50 || return 1
	local got
	bgwait udpr >"$TMPD/udpr.res"
	got=$(sed -n 's/.*received \([0-9]*\).*/\1/p' "$TMPD/udpr.res")
	check_eq "UDP datagrams received" "$got" 50 || return 1
	ctl fdb/show "$BR"
	local macs
	macs=$(ctl fdb/show "$BR" | grep -c '02:00:00:00:00:0')
	check_eq "learned MACs" "$macs" 4
}
# bg with a namespace name as the first argument
bg() {
	local name=$1 ns=$2
	shift 2
	echo "+ (background $name) [$ns] $*"
	ip netns exec "$ns" "$@" >"$TMPD/$name.out" 2>&1 &
	eval "PID_$name=$!"
	defer kill "$!"
}
bgwait() {
	local pid rc
	pid=$(eval "echo \$PID_$1")
	wait "$pid"
	rc=$?
	cat "$TMPD/$1.out"
	return $rc
}
wait_for() {
	local i
	for ((i = 0; i < ${2:-20} * 10; i++)); do
		[ -e "$1" ] && return 0
		sleep 0.1
	done
	echo "timed out waiting for $1"
	return 1
}
dp_stat() {
	"$VSW_DPCTL" show "$1" | awk -v f="$2" '
		/lookups:/ { for (i = 2; i <= NF; i++) { split($i, kv, ":"); if (kv[1] == f) print kv[2] } }
		/^  flows:/ && f == "flows" { print $2 }'
}

test_switch_cache_warm() {
	topo_switch 2 || return 1
	add_ports 2 || return 1
	ping_ok 1 2 3 || { vswd_log; return 1; }
	local miss0 hit0 miss1 hit1
	miss0=$(dp_stat "$BR" missed) hit0=$(dp_stat "$BR" hit)
	in_ns "$(ns_of 1)" ping -c 20 -i 0.05 10.0.0.2 >/dev/null || return 1
	miss1=$(dp_stat "$BR" missed) hit1=$(dp_stat "$BR" hit)
	check_ge "kernel hits during 20 warm pings" $((hit1 - hit0)) 40 || return 1
	check_le "misses during 20 warm pings" $((miss1 - miss0)) 0 || return 1
	dp_flows
	if dp_flows | grep -qE 'ipv4|ipv6|tcp|udp|icmp|arp\('; then
		echo "FAIL: a NORMAL megaflow matches L3/L4 fields"
		return 1
	fi
	dp_flows | grep -q 'eth(' || { echo "FAIL: no megaflow on Ethernet addresses"; return 1; }
}

test_switch_mac_move() {
	topo_switch 3 || return 1
	add_ports 3 || return 1
	ping_ok 1 2 2 || { vswd_log; return 1; }
	ping_ok 3 1 1 || return 1
	# ns2's MAC and address move to ns3 (a VM migrating): ns3 takes 02:..:02 / 10.0.0.2.
	local ns2 ns3
	ns2=$(ns_of 2) ns3=$(ns_of 3)
	run ip -n "$ns2" link set eth0 down
	run ip -n "$ns3" addr flush dev eth0
	run ip -n "$ns3" link set eth0 address 02:00:00:00:00:02
	run ip -n "$ns3" addr add 10.0.0.2/24 dev eth0
	# ns3 announces itself (gratuitous ARP through the switch), then ns1 keeps pinging.
	in_ns "$ns3" ping -c 1 -W 1 10.0.0.1 >/dev/null || true
	sleep 1
	in_ns "$(ns_of 1)" ping -c 5 -i 0.2 -W 1 10.0.0.2 >"$TMPD/move.out" 2>&1
	cat "$TMPD/move.out"
	grep -q ' 0% packet loss' "$TMPD/move.out" || { echo "FAIL: traffic did not follow the MAC"; vswd_log; return 1; }
	ctl fdb/show "$BR" | grep '02:00:00:00:00:02' | grep -qw 3 ||
		{ echo "FAIL: fdb does not show the MAC on port 3"; ctl fdb/show "$BR"; return 1; }
	grep -q 'moved' "$TMPD/vswd.log" || { echo "FAIL: the move was not logged"; vswd_log; return 1; }
}

test_switch_fail_secure() {
	topo_switch 2 || return 1
	ctl set-fail-mode "$BR" secure || return 1
	add_ports 2 || return 1
	if ping_ok 1 2 2; then
		echo "FAIL: a secure bridge without rules forwarded"
		return 1
	fi
	echo "ok: secure bridge dropped the ping"
	ctl set-fail-mode "$BR" standalone || return 1
	# The dropped ping left ns1's ARP entry for ns2 unresolved (INCOMPLETE until its probes
	# run out, then FAILED, dropping what queued on it): start from a clean neighbour table
	# so that this ping tests the switch, not ARP's retry timing (it failed on 6.1 so).
	run ip -n "$(ns_of 1)" neigh flush all
	run ip -n "$(ns_of 2)" neigh flush all
	ping_ok 1 2 3 || { echo "FAIL: standalone after secure does not forward"; vswd_log; return 1; }
	echo "ok: standalone forwards"
}

test_switch_vlans() {
	topo_switch 3 || return 1
	# ns1 on VLAN 10, ns2 on VLAN 20, ns3 a trunk with subinterfaces for both.
	add_ports 3 "tag=10" "tag=20" "trunks=10,20" || return 1
	local ns3
	ns3=$(ns_of 3)
	run ip -n "$ns3" addr flush dev eth0
	run ip -n "$ns3" link add link eth0 name v10 type vlan id 10
	run ip -n "$ns3" link add link eth0 name v20 type vlan id 20
	run ip -n "$ns3" addr add 10.0.0.3/24 dev v10
	run ip -n "$ns3" link set v10 address 02:00:00:00:00:13
	run ip -n "$ns3" link set v10 up
	run ip -n "$ns3" addr add 10.0.0.4/24 dev v20
	run ip -n "$ns3" link set v20 address 02:00:00:00:00:23
	run ip -n "$ns3" link set v20 up
	# Two subnets on one namespace would confuse routing: give each VLAN its own /32 route.
	run ip -n "$ns3" route replace 10.0.0.1/32 dev v10
	run ip -n "$ns3" route replace 10.0.0.2/32 dev v20
	ping_ok 1 3 2 || { echo "FAIL: VLAN 10 access -> trunk"; vswd_log; return 1; }
	in_ns "$(ns_of 2)" ping -c 2 -i 0.2 -W 2 10.0.0.4 >/dev/null || { echo "FAIL: VLAN 20 access -> trunk"; return 1; }
	if in_ns "$(ns_of 1)" ping -c 2 -i 0.2 -W 1 10.0.0.2 >/dev/null; then
		echo "FAIL: VLAN 10 reached VLAN 20"
		return 1
	fi
	echo "ok: VLAN 10 and 20 isolated"
	dp_flows
	dp_flows | grep -q 'push_vlan' || { echo "FAIL: no push_vlan toward the trunk"; return 1; }
	dp_flows | grep -q 'pop_vlan' || { echo "FAIL: no pop_vlan toward an access port"; return 1; }
}

test_switch_idle_expire() {
	topo_switch 2 || return 1
	add_ports 2 || return 1
	ctl set-bridge "$BR" idle-timeout=1000 || return 1
	ping_ok 1 2 2 || return 1
	local n i
	n=$(dp_flows | grep -c .)
	check_ge "flows after ping" "$n" 2 || return 1
	# The revalidator dumps every second: the flows go within a few seconds (a deadline,
	# not a fixed sleep, so a slow emulated CPU does not fail the test).
	for ((i = 0; i < 150; i++)); do
		n=$(dp_flows | grep -c .)
		[ "$n" = 0 ] && break
		sleep 0.2
	done
	echo "flows gone after about $((i / 5)) s"
	check_eq "flows after the idle timeout (1 s)" "$n" 0 || { dp_flows; ctl upcall/show; return 1; }
}

test_switch_port_delete() {
	topo_switch 3 || return 1
	add_ports 2 || return 1
	ping_ok 1 2 2 || return 1
	dp_flows | grep -q "in_port(2)" || { echo "FAIL: no flow from port 2"; return 1; }
	ctl del-port "$BR" "$P2" || return 1
	sleep 1.5
	dp_flows
	if dp_flows | grep -qE 'in_port\(2\)|actions:.*\b2\b'; then
		echo "FAIL: flows of the deleted port remain"
		return 1
	fi
	# A port configured before its interface exists is attached when it appears.
	ctl add-port "$BR" late$S ofport=7 || return 1
	ctl show | grep -A3 "late$S" | grep -qi 'detached\|no such' ||
		{ echo "FAIL: show does not say the port is detached"; ctl show; return 1; }
	run ip link add "late$S" type veth peer name eth1 netns "$(ns_of 3)"
	defer ip link del "late$S"
	run ip link set "late$S" up
	local i
	for ((i = 0; i < 30; i++)); do
		"$VSW_DPCTL" show "$BR" | grep -q "late$S" && break
		sleep 0.1
	done
	"$VSW_DPCTL" show "$BR" | grep -q "port 7: late$S" ||
		{ echo "FAIL: late interface not attached as port 7"; "$VSW_DPCTL" show "$BR"; vswd_log; return 1; }
	echo "ok: late interface attached as port 7"
	# A new ofport moves the attached interface: detached from 7, attached at 8.
	ctl set-port "late$S" ofport=8 || return 1
	dp_port_is 8 "late$S" || return 1
	dp_port_is 7 "" || return 1
	echo "ok: set-port ofport=8 moved the interface"
	# add-port and del-port touch only their port: no full reconcile (a dump of every
	# datapath port) for each. The 5 s timer runs one now and then: the changes run back to
	# back, and the full reconciles counted meanwhile may be at most those the timer had
	# time for (one per 5 s started, plus one).
	local n=10 c0 c1 t0 t1 ms allowed batch="$TMPD/more.batch"
	for ((i = 0; i < n; i++)); do echo "link add m${S}a$i type veth peer name m${S}b$i"; done >"$batch"
	run ip -batch "$batch" || return 1
	for ((i = 0; i < n; i++)); do defer ip link del "m${S}a$i"; done
	sleep 1 # the new interfaces' own events
	t0=${EPOCHREALTIME/[.,]/}
	c0=$(upcall_counter port_reconciles)
	for ((i = 0; i < n; i++)); do ctl add-port "$BR" "m${S}a$i" ofport=$((20 + i)) || return 1; done
	for ((i = 0; i < n; i += 2)); do ctl del-port "$BR" "m${S}a$i" || return 1; done
	sleep 1 # the events of attaching and detaching
	c1=$(upcall_counter port_reconciles)
	t1=${EPOCHREALTIME/[.,]/}
	ms=$(((t1 - t0) / 1000))
	allowed=$((ms / 5000 + 2))
	echo "# $((n + n / 2)) port changes in $ms ms"
	check_le "full reconciles during $((n + n / 2)) port changes" $((c1 - c0)) "$allowed" || return 1
	check_le "(the check can fail: timer allowance below the changes)" "$allowed" $((n + n / 2 - 1)) || return 1
	for ((i = 0; i < n; i++)); do
		if ((i % 2)); then dp_port_is $((20 + i)) "m${S}a$i" || return 1; else dp_port_is $((20 + i)) "" || return 1; fi
	done
}

test_switch_restart() {
	topo_switch 3 || return 1
	add_ports 3 || return 1
	ping_ok 1 2 2 || return 1
	ping_ok 1 3 1 || return 1
	local before
	before=$(dp_flows | sort)
	# A steady ping from ns1 to ns2 runs across the restart.
	bg ping "$(ns_of 1)" ping -c 50 -i 0.1 10.0.0.2
	sleep 0.5
	run kill -9 "$VSWD_PID"
	wait "$VSWD_PID" 2>/dev/null
	VSWD_PID=
	# While vswd is down, port 3's interface goes away: its flows are now wrong.
	run ip link del "$P3"
	sleep 1
	vswd_start || return 1
	bgwait ping >"$TMPD/ping.txt"
	tail -n 3 "$TMPD/ping.txt"
	grep -q ' 0% packet loss' "$TMPD/ping.txt" || { echo "FAIL: packets lost across the restart"; vswd_log; return 1; }
	ctl list-br | grep -qx "$BR" || { echo "FAIL: bridge not restored"; return 1; }
	ctl list-ports "$BR" | grep -qx "$P2" || { echo "FAIL: ports not restored"; return 1; }
	sleep 2
	dp_flows >"$TMPD/after"
	cat "$TMPD/after"
	if grep -qE 'in_port\(3\)|actions:(.*,)?3(,|$)' "$TMPD/after"; then
		echo "FAIL: a flow to or from the vanished port 3 survived the restart"
		return 1
	fi
	local dups
	dups=$(sed 's/, packets:.*//' "$TMPD/after" | sort | uniq -d | wc -l)
	check_eq "duplicate flows" "$dups" 0 || return 1
	ctl upcall/show
	ctl upcall/show | grep -E 'adopted' || true
	: "$before"
}

test_switch_corrupt_state() {
	module_load || return 1
	tmpdir
	mkdir -p "$TMPD/state"
	printf '{"bridges": [ {"name": ' >"$TMPD/state/config.json"
	local sum
	sum=$(md5sum <"$TMPD/state/config.json")
	if "$VSWD" --state-dir "$TMPD/state" --socket "$TMPD/vswd.sock" 2>"$TMPD/err"; then
		echo "FAIL: vswd started on a corrupt state file"
		return 1
	fi
	cat "$TMPD/err"
	grep -q 'config.json' "$TMPD/err" || { echo "FAIL: the error does not name the file"; return 1; }
	check_eq "state file untouched" "$(md5sum <"$TMPD/state/config.json")" "$sum"
}

# ---- pktgen (the kernel's packet generator; the idea of bench/vswd/lib.sh) -----------------
# Every namespace has its own /proc/net/pktgen and its own per-CPU threads kpktgend_N.
# pg NS FILE CMD: one pktgen command.
pg() {
	ip netns exec "$1" sh -c 'echo "$2" >"/proc/net/pktgen/$1"' pg "$2" "$3" ||
		{ echo "pktgen $2 refused '$3'"; return 1; }
}
# pktgen_storm NS IFACE DST_MAC COUNT RATE: kpktgend_0 of NS sends COUNT 64-byte UDP frames
# at RATE frames/s from IFACE, each from the next source MAC of 06:5e:00:00:00:00 onwards
# (sequential: no MAC repeats), to DST_MAC but to an IP address nobody owns (no answers).
pktgen_storm() {
	local c
	pg "$1" kpktgend_0 rem_device_all || return 1
	pg "$1" kpktgend_0 "add_device $2" || return 1
	for c in "count $4" "clone_skb 0" "pkt_size 60" "ratep $5" "dst 198.51.100.1" \
		"src_min 198.51.100.2" "src_max 198.51.100.2" "udp_src_min 4000" "udp_src_max 4000" \
		"udp_dst_min 9" "udp_dst_max 9" "dst_mac $3" "src_mac 06:5e:00:00:00:00" "src_mac_count $4"; do
		pg "$1" "$2" "$c" || return 1
	done
}
# pktgen_pps NS IFACE: the rate of the last run, as pktgen timed it.
pktgen_pps() { ip netns exec "$1" awk '/[0-9]+pps/ { sub(/pps.*/, "", $1); print $1 }' "/proc/net/pktgen/$2"; }
pktgen_sent() { ip netns exec "$1" awk '/pkts-sofar:/ { print $2 }' "/proc/net/pktgen/$2"; }

# kernel_quiet NAME: the kernel logged no BUG, WARNING, oops, lockup, RCU stall or hung task
# since run.sh marked the start of test NAME (run.sh's own check after each test does not
# look for the last three).
kernel_quiet() {
	local bad
	bad=$(dmesg_since_mark "$1" | grep -E 'BUG|WARNING|Oops|[Ll]ockup|LOCKUP|rcu.*stall|blocked for more than' | head -n 20)
	[ -z "$bad" ] && { echo "ok: the kernel logged no BUG/WARNING/oops/lockup/stall"; return 0; }
	echo "FAIL: the kernel logged:"
	echo "$bad"
	return 1
}

# An upcall storm from pktgen: STORM_RATE frames/s for STORM_SECS s, every frame from a new
# source MAC, so every one is a miss and a new megaflow for NORMAL, far more than the
# daemon can serve under emulation. Checks that misses never block the fast path (pktgen,
# whose own transmissions run the datapath, still reaches a high rate), that the daemon
# answers vsw-ctl within a second during the storm, that every miss is either handled or
# counted lost, and that the kernel stays healthy (no BUG/WARNING/oops, ping still works).
STORM_RATE=${STORM_RATE:-30000} STORM_SECS=${STORM_SECS:-4} STORM_MIN_PPS=${STORM_MIN_PPS:-10000}
test_switch_upcall_storm() {
	modprobe pktgen || { echo "FAIL: cannot load pktgen"; return 1; }
	topo_switch 2 || return 1
	add_ports 2 || return 1
	ping_ok 1 2 1 || return 1
	local ns1 n=$((STORM_RATE * STORM_SECS))
	ns1=$(ns_of 1)
	pktgen_storm "$ns1" eth0 02:00:00:00:00:02 "$n" "$STORM_RATE" || return 1
	# Writing "start" returns when the run is over (a signal stops it).
	bg storm "$ns1" sh -c 'echo start >/proc/net/pktgen/pgctrl'
	sleep 1
	# The daemon must answer within a second (vsw-ctl's own start-up is not counted: its
	# --timeout runs from the connection).
	local t0 t1
	t0=$(date +%s%N)
	ctl --timeout 1 show >/dev/null || { echo "FAIL: vswd did not answer show within 1 s"; return 1; }
	t1=$(date +%s%N)
	echo "vsw-ctl show took $(((t1 - t0) / 1000000)) ms including its start-up"
	ctl --timeout 1 upcall/show || { echo "FAIL: vswd did not answer upcall/show within 1 s"; return 1; }
	bgwait storm || { echo "FAIL: pktgen run failed"; return 1; }
	local pps sent
	pps=$(pktgen_pps "$ns1" eth0) sent=$(pktgen_sent "$ns1" eth0)
	ip netns exec "$ns1" grep -A2 '^Result' /proc/net/pktgen/eth0
	check_eq "frames pktgen sent" "$sent" "$n" || return 1
	check_ge "pktgen's rate (pps)" "$pps" "$STORM_MIN_PPS" || return 1
	# Every miss is either served by a handler or counted lost: none vanish and none block.
	local handled lost missed i
	for ((i = 0; i < 100; i++)); do
		handled=$(ctl upcall/show | sed -n 's/^upcalls: handled \([0-9]*\),.*/\1/p')
		lost=$(dp_stat "$BR" lost) missed=$(dp_stat "$BR" missed)
		[ $((handled + lost)) -ge "$missed" ] && break
		sleep 0.3
	done
	ctl upcall/show
	echo "missed=$missed handled=$handled lost=$lost"
	check_ge "misses in the storm" "$missed" $((n * 9 / 10)) || return 1
	check_ge "misses handled + lost" $((handled + lost)) "$missed" || return 1
	# Either the daemon fell behind and the kernel dropped (and counted) the misses it
	# could not queue, or it served every one of them.
	if [ "$lost" -gt 0 ]; then
		echo "ok: $lost misses counted lost"
	else
		check_eq "no miss lost: misses handled" "$handled" "$missed" || return 1
	fi
	kernel_quiet switch_upcall_storm || return 1
	ping_ok 1 2 2 || { echo "FAIL: switch unhealthy after the storm"; return 1; }
}

test_switch_handlers_share() {
	[ "$(nproc)" -ge 2 ] || { echo "SKIP: needs 2 CPUs"; return 4; }
	topo_switch 2 || return 1
	ctl upcall/show | grep -E 'handlers' || return 1
	add_ports 2 || return 1
	ping_ok 1 2 1 || return 1
	local ns1
	ns1=$(ns_of 1)
	# Misses from both CPUs (each sender its own source MACs, so neither rides on flows
	# the other installed).
	bg s0 "$ns1" taskset -c 0 python3 -S "$VSW_TOP/tests/switch/storm.py" eth0 500 02:00:00:00:00:02 --base 0
	bg s1 "$ns1" taskset -c 1 python3 -S "$VSW_TOP/tests/switch/storm.py" eth0 500 02:00:00:00:00:02 --base 100000
	bgwait s0 >/dev/null
	bgwait s1 >/dev/null
	sleep 1
	ctl upcall/show
	ctl upcall/show | grep -q 'per_cpu_dispatch: *1' || { echo "FAIL: per-CPU dispatch not in use"; return 1; }
	ctl upcall/show | grep -cE 'handler[0-9]+_upcalls: *[1-9]' >"$TMPD/n"
	check_ge "handlers that served misses" "$(cat "$TMPD/n")" 2
}

test_switch_trace_dump_flows() {
	topo_switch 2 || return 1
	add_ports 2 || return 1
	ping_ok 1 2 3 || { vswd_log; return 1; }
	# Cached traffic reaches the rule's counters (the revalidator credits them every second).
	in_ns "$(ns_of 1)" ping -c 10 -i 0.05 10.0.0.2 >/dev/null || return 1
	sleep 2
	ctl dump-flows "$BR" | tee "$TMPD/flows" || return 1
	grep -qE '^ cookie=0x0, duration=[0-9.]+s, table=0, n_packets=[0-9]+, n_bytes=[0-9]+, priority=0 actions=NORMAL$' \
		"$TMPD/flows" || { echo "FAIL: no implied NORMAL rule in dump-flows"; return 1; }
	check_ge "NORMAL rule packets" "$(sed -n 's/.*n_packets=\([0-9]*\),.*/\1/p' "$TMPD/flows")" 20 || return 1
	# A trace from ns1 to ns2's MAC: NORMAL outputs to port 2; nothing is learned or installed.
	local flows0 flow
	flows0=$(dp_stat "$BR" flows)
	flow='in_port=1,eth(src=02:00:00:00:00:01,dst=02:00:00:00:00:02),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=17,ttl=64),udp(src=7,dst=9)'
	ctl trace "$BR" "$flow" | tee "$TMPD/trace" || return 1
	grep -q '^Datapath actions: 2$' "$TMPD/trace" || { echo "FAIL: trace does not output to port 2"; return 1; }
	grep -q '^Megaflow: in_port(1),eth(src=02:00:00:00:00:01,dst=02:00:00:00:00:02)' "$TMPD/trace" ||
		{ echo "FAIL: trace megaflow is not on in_port and the Ethernet addresses"; return 1; }
	"$VSWCTL_BIN" --socket "$TMPD/vswd.sock" trace "$BR" "$flow" --json | python3 -c 'import json, sys; t = json.load(sys.stdin); sys.exit(0 if t["datapath_actions"] == "2" else 1)' ||
		{ echo "FAIL: trace --json"; return 1; }
	# A source never seen: the trace floods but does not learn it.
	ctl trace "$BR" 'in_port=2,eth(src=02:00:00:00:00:99,dst=ff:ff:ff:ff:ff:ff),arp(sip=10.0.0.9,tip=10.0.0.1,op=1)' || return 1
	if ctl fdb/show "$BR" | grep -q '02:00:00:00:00:99'; then
		echo "FAIL: a trace learned a MAC"
		return 1
	fi
	# Nothing was installed for the traced packets (the unseen source's megaflow cannot
	# exist otherwise; the flow count itself may fall as idle megaflows expire).
	check_eq "megaflows for the traced source" "$(dp_flows | grep -c '02:00:00:00:00:99')" 0 || return 1
	check_le "datapath flows after traces" "$(dp_stat "$BR" flows)" "$flows0" || return 1
	# Bad input: one line on stderr, non-zero exit.
	if ctl trace "$BR" 'in_port=9,eth()' 2>"$TMPD/err"; then
		echo "FAIL: a trace from an unknown port succeeded"
		return 1
	fi
	check_eq "error lines" "$(wc -l <"$TMPD/err")" 1
}

# ping_fails I J: one ping from nsI to 10.0.0.J gets no answer.
ping_fails() {
	! in_ns "$(ns_of "$1")" ping -c 1 -W 1 "10.0.0.$2" >/dev/null 2>&1
}

test_switch_openflow_service() {
	topo_switch 2 || return 1
	add_ports 2 || return 1
	ping_ok 1 2 3 || { vswd_log; return 1; }
	local of="ovs-ofctl -O OpenFlow13" sock="unix:$TMPD/$BR.mgmt"
	run $of dump-flows "$sock" | tee "$TMPD/flows" || { vswd_log; return 1; }
	grep -q 'priority=0 actions=NORMAL' "$TMPD/flows" || { echo "FAIL: no NORMAL rule"; return 1; }
	# The pings' megaflows are cached; a drop rule must reach them within a second.
	in_ns "$(ns_of 1)" ping -c 3 -i 0.2 10.0.0.2 >/dev/null || return 1
	run $of add-flow "$sock" 'priority=100,icmp,actions=drop' || return 1
	sleep 1
	ping_fails 1 2 || { echo "FAIL: ICMP still forwarded a second after the drop rule"; return 1; }
	run $of dump-flows "$sock" icmp | grep -q 'priority=100,icmp actions=drop' || return 1
	run $of del-flows --strict "$sock" 'priority=100,icmp' || return 1
	sleep 1
	ping_ok 1 2 3 || { echo "FAIL: ICMP not forwarded again after the rule was deleted"; return 1; }
	# A tool on the service socket is no controller: the bridge stayed standalone.
	if ctl show | grep -q 'Controller'; then
		echo "FAIL: the service socket is shown as a controller"
		return 1
	fi
	$of dump-flows "$sock" | grep -q 'priority=0 actions=NORMAL' || {
		echo "FAIL: the NORMAL rule went (the service connection counted as a controller)"
		return 1
	}
	# A malformed request gets an error; the connection (and the switch) keep working.
	if run $of add-flow "$sock" 'actions=output:2000'; then
		echo "FAIL: an output to a port beyond the datapath's was accepted"
		return 1
	fi
	ping_ok 1 2 1
}

# group_flows DPORT FILE...: from capture outputs (one per port), the number of UDP flows
# (source ports) seen with destination port DPORT on each, then the datagrams in all and the
# flows seen on more than one: "N1 N2 ... TOTAL SHARED".
group_flows() {
	python3 - "$@" <<'EOF'
import json, sys
dport, files = int(sys.argv[1]), sys.argv[2:]
sets, total = [], 0
for f in files:
    s = set()
    for line in open(f):
        try:
            fr = json.loads(line)
        except ValueError:
            continue
        if fr.get("dport") == dport:
            s.add(fr["sport"])
            total += 1
    sets.append(s)
shared = set.intersection(*sets) if sets else set()
print(" ".join(str(len(s)) for s in sets), total, len(shared))
EOF
}

# capture_on NAME I: capture the IPv4 frames arriving on namespace I's eth0 (background,
# at most 60 s) until capture_stop NAME; the frames are in $TMPD/NAME.out.
capture_on() {
	rm -f "$TMPD/$1.ready"
	bg "$1" "$(ns_of "$2")" $PKT capture eth0 100000 --timeout 60 --ethertype 0x0800 \
		--ready-file "$TMPD/$1.ready"
	wait_for "$TMPD/$1.ready"
}
capture_stop() {
	local pid
	sleep 0.5 # the last frames' way through the switch
	pid=$(eval "echo \$PID_$1")
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}
# udp_to DPORT FILE: datagrams to DPORT in a capture output.
udp_to() { grep -c "\"dport\": $1\\b" "$2"; }

test_switch_groups() {
	topo_switch 3 || return 1
	ctl set-fail-mode "$BR" secure || return 1
	add_ports 3 || return 1
	local of="ovs-ofctl -O OpenFlow13" sock="unix:$TMPD/$BR.mgmt" got n2 n3 total shared
	# ns1 sends to 10.0.0.2's MAC; the groups decide whether port 2 or 3 gets it (ns3 sees the
	# frames on its eth0 even though they are not for its address).
	run ip -n "$(ns_of 1)" neigh replace 10.0.0.2 lladdr 02:00:00:00:00:02 dev eth0 nud permanent
	run $of add-group "$sock" 'group_id=1,type=select,bucket=output:2,bucket=output:3' || { vswd_log; return 1; }
	run $of add-group "$sock" 'group_id=2,type=ff,bucket=watch_port:2,output:2,bucket=watch_port:3,output:3' || return 1
	run $of add-flow "$sock" 'priority=10,udp,in_port=1,tp_dst=6000,actions=group:1' || return 1
	run $of add-flow "$sock" 'priority=10,udp,in_port=1,tp_dst=7000,actions=group:2' || return 1
	run $of dump-groups "$sock" || return 1

	# SELECT: 64 flows (source ports 30000..30063), 4 datagrams each, sent round-robin.
	capture_on cap2 2 && capture_on cap3 3 || return 1
	in_ns "$(ns_of 1)" $PKT udp-send 10.0.0.2 6000 256 --sport-base 30000 --sport-spread 64 --gap 0.002 || return 1
	capture_stop cap2
	capture_stop cap3
	got=$(group_flows 6000 "$TMPD/cap2.out" "$TMPD/cap3.out")
	echo "select: flows on port 2, flows on port 3, datagrams, flows on both: $got"
	read -r n2 n3 total shared <<<"$got"
	[ "$n2" -gt 0 ] && [ "$n3" -gt 0 ] || {
		echo "FAIL: the select group did not use both ports"
		run $of dump-ports-desc "$sock"
		run $of dump-group-stats "$sock"
		dp_flows
		head -3 "$TMPD/cap2.out" "$TMPD/cap3.out"
		vswd_log
		return 1
	}
	[ "$shared" = 0 ] || { echo "FAIL: $shared flows went out of both ports"; return 1; }
	[ $((n2 + n3)) = 64 ] && [ "$total" -ge 250 ] || { echo "FAIL: flows or datagrams missing"; return 1; }
	dp_flows >"$TMPD/dpflows"
	echo "megaflows of the select group: $(grep -c 'dst=6000' "$TMPD/dpflows")"
	# The group's stats count the traffic the kernel forwarded from the cached megaflows
	# (credited by the revalidators, like rule counters: all but each flow's first packet,
	# which userspace executed).
	sleep 1.5
	run $of dump-group-stats "$sock" group_id=1 | tee "$TMPD/gstats"
	got=$(sed -n 's/.*ref_count=1,packet_count=\([0-9]*\),.*/\1/p' "$TMPD/gstats")
	[ "${got:-0}" -ge 128 ] || { echo "FAIL: group 1 counted ${got:-0} packets, want >= 128"; return 1; }

	# FAST_FAILOVER: port 2 while its link is up, port 3 once it is down (the cached megaflow
	# is re-translated), port 2 again when it comes back.
	local phase want other
	for phase in up down up; do
		if [ "$phase" = down ]; then run ip link set "$P2" down; else run ip link set "$P2" up; fi
		sleep 1
		capture_on cap2 2 && capture_on cap3 3 || return 1
		in_ns "$(ns_of 1)" $PKT udp-send 10.0.0.2 7000 20 --sport-base 31000 --sport-spread 1 --gap 0.01 || return 1
		capture_stop cap2
		capture_stop cap3
		echo "fast failover, port 2 $phase: datagrams on port 2: $(udp_to 7000 "$TMPD/cap2.out"), on port 3: $(udp_to 7000 "$TMPD/cap3.out")"
		want=cap2 other=cap3
		[ "$phase" = down ] && want=cap3 other=cap2
		[ "$(udp_to 7000 "$TMPD/$want.out")" -ge 19 ] && [ "$(udp_to 7000 "$TMPD/$other.out")" = 0 ] || {
			echo "FAIL: with port 2 $phase the traffic did not all go to $want"
			dp_flows
			vswd_log
			return 1
		}
	done
	# Deleting a group deletes the rules that use it.
	run $of del-groups "$sock" group_id=1 || return 1
	run $of dump-flows "$sock" | tee "$TMPD/flows"
	! grep -q 'group:1' "$TMPD/flows" || { echo "FAIL: the rule of group 1 is still there"; return 1; }
	grep -q 'group:2' "$TMPD/flows" || { echo "FAIL: the rule of group 2 went too"; return 1; }
}

# wait_lines FILE REGEX N: wait up to 10 s until FILE has N lines matching REGEX.
wait_lines() {
	local i n
	for ((i = 0; i < 100; i++)); do
		n=$(grep -cE "$2" "$1" 2>/dev/null)
		[ "${n:-0}" -ge "$3" ] && return 0
		sleep 0.1
	done
	echo "FAIL: want $3 lines matching '$2' in $1, got ${n:-0}:"
	cat "$1"
	return 1
}
upcall_counter() { "$VSWCTL_BIN" --socket "$TMPD/vswd.sock" upcall/show | awk -v k="$1" '$1 == k":" { print $2 }'; }

test_switch_packet_in() {
	topo_switch 2 || return 1
	ctl set-fail-mode "$BR" secure || return 1
	add_ports 2 || return 1
	local port=$((20000 + RANDOM % 20000)) cpid
	# The controller's rules: table-miss to CONTROLLER (whole packet), IPv4 to CONTROLLER:20.
	echo "+ (background) pktin_controller.py --port $port"
	python3 "$VSW_TOP/tests/switch/pktin_controller.py" --port "$port" --count 1000 --timeout 60 \
		--rule 0:0x5a:65535 --rule 10:0x77:20:0x0800 --miss-send-len 65535 \
		--ready-file "$TMPD/ctlr.ready" >"$TMPD/ctlr.out" 2>&1 &
	cpid=$!
	defer kill "$cpid"
	sleep 0.5
	ctl set-controller "$BR" "tcp:127.0.0.1:$port" || return 1
	wait_for "$TMPD/ctlr.ready" || { cat "$TMPD/ctlr.out"; vswd_log; return 1; }
	local miss0 hit0
	miss0=$(dp_stat "$BR" missed) hit0=$(dp_stat "$BR" hit)
	# Nothing is forwarded (the controller installs no forwarding rule): ns1's ARP requests
	# go to the controller whole, with reason NO_MATCH from the table-miss rule.
	in_ns "$(ns_of 1)" ping -c 3 -i 1 -W 1 10.0.0.2 >/dev/null 2>&1
	wait_lines "$TMPD/ctlr.out" 'reason=0 table=0 cookie=0x5a total_len=42 data_len=42 in_port=1 metadata=- eth_dst=ff:ff:ff:ff:ff:ff eth_src=02:00:00:00:00:01 eth_type=0x0806' 2 || { vswd_log; return 1; }
	# With ns2's address known, the echo requests themselves go up: reason ACTION, 20 bytes.
	run ip -n "$(ns_of 1)" neigh replace 10.0.0.2 lladdr 02:00:00:00:00:02 dev eth0 nud permanent
	in_ns "$(ns_of 1)" ping -c 4 -i 0.2 -W 1 10.0.0.2 >/dev/null 2>&1
	wait_lines "$TMPD/ctlr.out" 'reason=1 table=0 cookie=0x77 total_len=98 data_len=20 in_port=1 metadata=- eth_dst=02:00:00:00:00:02 eth_src=02:00:00:00:00:01 eth_type=0x0800' 4 || { vswd_log; return 1; }
	cat "$TMPD/ctlr.out"
	# After the first packet of each megaflow, the kernel sent them up by itself.
	dp_flows
	dp_flows | grep -q 'userspace(pid=0,cookie=0x' || { echo "FAIL: no megaflow with the USERSPACE action"; return 1; }
	check_ge "kernel hits that went to the controller" $(($(dp_stat "$BR" hit) - hit0)) 3 || return 1
	check_le "misses (one megaflow for ARP, one for IPv4; the local port may add one)" $(($(dp_stat "$BR" missed) - miss0)) 4 || return 1
	ctl upcall/show
	check_ge "packet_ins" "$(upcall_counter packet_ins)" 6 || return 1
	check_eq "packet_ins_dropped" "$(upcall_counter packet_ins_dropped)" 0 || return 1
	check_eq "packet_in_bad_cookies" "$(upcall_counter packet_in_bad_cookies)" 0 || return 1
	# ns2 received nothing: the controller decides, and it forwarded nothing.
	if grep -q 'eth_src=02:00:00:00:00:02' "$TMPD/ctlr.out"; then
		echo "FAIL: ns2 answered: something was forwarded"
		return 1
	fi
}

# A real controller, and the whole session as tshark sees it: os-ken's learning switch
# (tests/switch/osken_l2.py) drives a secure bridge over an active connection (HELLO,
# FEATURES, SET_CONFIG, FLOW_MOD, PACKET_IN, PACKET_OUT, ECHO) until its rules forward from
# the kernel alone; ovs-ofctl on a passive one asks for every statistic and sends requests
# vswd refuses (ERROR). Both are captured on lo by dumpcap and decoded by tshark's OpenFlow
# 1.3 dissector. One test, as os-ken and tshark each take most of a minute to start under TCG.
test_switch_osken_session() {
	command -v osken-manager >/dev/null && command -v dumpcap >/dev/null || {
		echo "# SKIP: osken-manager or dumpcap missing (scripts/setup installs python3-os-ken and tshark)"
		return 4
	}
	topo_switch 3 || return 1
	ctl set-fail-mode "$BR" secure || return 1
	add_ports 3 || return 1
	local port=$((20000 + RANDOM % 20000)) pcap=$TMPD/session.pcapng i j c
	local pport=$((port + 1))
	local of="ovs-ofctl -O OpenFlow13" t="tcp:127.0.0.1:$pport"
	echo "+ (background) dumpcap -i lo -f 'tcp port $port or tcp port $pport' -w $pcap"
	dumpcap -q -i lo -f "tcp port $port or tcp port $pport" -w "$pcap" 2>"$TMPD/dumpcap.err" &
	local cap=$!
	defer kill "$cap"
	for ((i = 0; i < 100; i++)); do
		grep -q "File: $pcap" "$TMPD/dumpcap.err" 2>/dev/null && [ -s "$pcap" ] && break
		sleep 0.1
	done
	echo "+ (background) osken-manager --ofp-tcp-listen-port $port tests/switch/osken_l2.py"
	osken-manager --ofp-listen-host 127.0.0.1 --ofp-tcp-listen-port "$port" \
		"$VSW_TOP/tests/switch/osken_l2.py" >"$TMPD/osken.out" 2>&1 &
	defer kill $!
	for ((i = 0; i < 300; i++)); do
		ss -Htln "sport = :$port" | grep -q . && break
		sleep 0.1
	done
	ctl set-controller "$BR" "tcp:127.0.0.1:$port" "ptcp:$pport:127.0.0.1" || return 1
	wait_lines "$TMPD/osken.out" 'table-miss rule installed' 1 || { vswd_log; return 1; }
	# os-ken asked to be master (generation id 1): the ROLE_REPLY says so, show lists it.
	wait_lines "$TMPD/osken.out" 'role reply role=2 generation_id=1$' 1 || { vswd_log; return 1; }
	ctl show | grep -q 'role: master' || { echo "FAIL: vsw-ctl show lists no master"; ctl show; return 1; }
	for ((i = 1; i <= 3; i++)); do
		for ((j = 1; j <= 3; j++)); do
			[ $i = $j ] && continue
			ping_ok $i $j 2 || {
				echo "FAIL: ns$i cannot ping 10.0.0.$j through os-ken"
				cat "$TMPD/osken.out"
				vswd_log
				return 1
			}
		done
	done
	echo "ok: ping between all 6 ordered pairs through os-ken"
	grep -c 'packet_in dpid' "$TMPD/osken.out"
	ctl dump-flows "$BR" | tee "$TMPD/rules"
	grep -q 'priority=0 actions=CONTROLLER:65535' "$TMPD/rules" || { echo "FAIL: no table-miss rule"; return 1; }
	check_ge "learned rules installed by os-ken" "$(grep -c 'priority=1,in_port=' "$TMPD/rules")" 6 || return 1
	# Warm: the learned rules' megaflows forward everything from the kernel.
	local miss0 hit0 pins0
	ping_ok 1 2 2 && ping_ok 3 1 2 || return 1
	miss0=$(dp_stat "$BR" missed) hit0=$(dp_stat "$BR" hit) pins0=$(upcall_counter packet_ins)
	in_ns "$(ns_of 1)" ping -c 20 -i 0.05 10.0.0.2 >/dev/null || return 1
	in_ns "$(ns_of 3)" ping -c 20 -i 0.05 10.0.0.1 >/dev/null || return 1
	check_ge "kernel hits during 40 warm pings" $(($(dp_stat "$BR" hit) - hit0)) 80 || return 1
	check_le "misses during 40 warm pings" $(($(dp_stat "$BR" missed) - miss0)) 0 || return 1
	check_eq "packet-ins during 40 warm pings" $(($(upcall_counter packet_ins) - pins0)) 0 || return 1
	dp_flows
	# Requests of most kinds; refused ones are answered with an ERROR, still a message.
	for c in dump-flows dump-aggregate dump-tables dump-table-features dump-ports-desc \
		dump-group-features meter-features queue-get-config get-frags; do
		echo "+ $of $c $t"
		$of "$c" "$t" >/dev/null 2>&1
	done
	# PORT_STATS from the datapath's counters: port 1 received the pings' frames.
	local ports
	ports=$(run $of dump-ports "$t" 1) || return 1
	echo "$ports"
	check_ge "port 1 rx packets in dump-ports" \
		"$(sed -n 's/.*port  *1: rx pkts=\([0-9]*\).*/\1/p' <<<"$ports")" 2 || return 1
	run $of add-flow "$t" 'priority=7,udp,tp_dst=9,actions=drop' || return 1
	run $of --strict del-flows "$t" 'priority=7,udp,tp_dst=9' || return 1
	# Refused (no meters): the ERROR quotes the whole 64-byte request. (Wireshark 4.0 calls a
	# quoted prefix of a longer message malformed; Open vSwitch also quotes only 64 bytes.)
	echo "+ $of add-flow $t priority=7,actions=meter:1 (refused: no meters)"
	$of add-flow "$t" 'priority=7,actions=meter:1' >/dev/null 2>&1
	run $of packet-out "$t" "in_port=controller packet=$(packet_out_frame 09) actions=output:1" || return 1
	sleep 1
	kill -INT "$cap"
	wait "$cap"
	# One tshark pass (its start-up alone takes most of a minute under TCG): per frame its
	# number, OpenFlow message types, and any malformed or expert-warning mark.
	local fields=$TMPD/session.fields bad types
	echo "+ tshark -r $pcap (decode both ports as OpenFlow)"
	# TCP's own notes (sequence analysis: a zero window while ovs-ofctl reads a long reply,
	# D-SACK) are about the transport, not OpenFlow: analysis off, and the Sequence group
	# (0x02000000) of expert infos ignored.
	tshark -r "$pcap" -d "tcp.port==$port,openflow" -d "tcp.port==$pport,openflow" \
		-o tcp.analyze_sequence_numbers:FALSE -T fields \
		-E separator=';' -e frame.number -e openflow_v4.type -e _ws.malformed \
		-e _ws.expert.severity -e _ws.expert.group -e _ws.expert.message >"$fields" \
		2>"$TMPD/tshark.err" || {
		cat "$TMPD/tshark.err"
		return 1
	}
	# Bad: a malformed mark, or an expert info of severity warning (0x600000) or error
	# (0x800000) outside the Sequence group. A frame with no OpenFlow in it whose only mark is
	# TCP's reassembly error (a segment sent again over data already captured, seen on lo
	# under load) is the transport's, not OpenFlow's: skipped.
	bad=$(awk -F';' '$2 == "" && $3 ~ /^\[Reassembly error, protocol TCP: [^]]*\],_ws\.malformed$/ { next }
		$3 != "" { print; next }
		{ n = split($4, sev, ","); split($5, grp, ",")
		  for (i = 1; i <= n; i++) if (sev[i] >= 6291456 && grp[i] != 33554432) { print; next } }' "$fields")
	[ -z "$bad" ] || { echo "FAIL: tshark flags these frames:"; echo "$bad" | head -20; return 1; }
	echo "ok: no malformed frame or expert warning in $(awk -F';' '$2 != ""' "$fields" | wc -l) OpenFlow frames"
	types=$(cut -d';' -f2 "$fields" | tr ',' '\n' | grep . | sort -un | tr '\n' ' ')
	echo "message types seen: $types"
	# HELLO, ERROR, FEATURES_REQUEST/REPLY, GET_CONFIG_REQUEST/REPLY, PACKET_IN,
	# PACKET_OUT, FLOW_MOD, MULTIPART_REQUEST/REPLY, BARRIER_REQUEST/REPLY.
	for c in 0 1 5 6 7 8 10 13 14 18 19 20 21; do
		grep -qw "$c" <<<"$types" || { echo "FAIL: no message of type $c in the capture"; return 1; }
	done
	echo "ok: every expected message type is in the capture"
}

# packet_out_frame SRC-LAST-BYTE: a broadcast frame of the local experimental ethertype
# 0x88b5 from 02:00:00:00:00:SRC, padded to 60 bytes, as hex.
packet_out_frame() {
	printf 'ffffffffffff0200000000%s88b5%092d' "$1" 0
}

test_switch_packet_out() {
	topo_switch 3 || return 1
	add_ports 3 || return 1
	local of="ovs-ofctl -O OpenFlow13" sock="unix:$TMPD/$BR.mgmt" i ns
	# A rule for output:TABLE to find: the experimental ethertype goes to port 3 only.
	run $of add-flow "$sock" 'priority=200,dl_type=0x88b5,actions=output:3' || return 1
	for i in 1 2 3; do
		ns=$(ns_of $i)
		echo "+ (background) [$ns] capture eth0 0x88b5"
		ip netns exec "$ns" $PKT capture eth0 10 --timeout 8 --ethertype 0x88b5 \
			--ready-file "$TMPD/cap$i.ready" >"$TMPD/cap$i.out" 2>&1 &
		eval "CAP$i=$!"
		defer kill "$!"
	done
	for i in 1 2 3; do
		for ((n = 0; n < 50; n++)); do
			[ -e "$TMPD/cap$i.ready" ] && break
			sleep 0.1
		done
	done
	run $of packet-out "$sock" "in_port=controller packet=$(packet_out_frame a1) actions=output:2" ||
		{ vswd_log; return 1; }
	run $of packet-out "$sock" "in_port=1 packet=$(packet_out_frame a2) actions=FLOOD" || return 1
	run $of packet-out "$sock" "in_port=controller packet=$(packet_out_frame a3) actions=output:TABLE" ||
		return 1
	run $of packet-out "$sock" "in_port=1 packet=$(packet_out_frame a4) actions=NORMAL" || return 1
	# Refused with an OpenFlow error; the connection and the switch carry on.
	if run $of packet-out "$sock" "in_port=controller packet=$(packet_out_frame a5) actions=output:2000"; then
		echo "FAIL: a packet-out to port 2000 was accepted"
		return 1
	fi
	for i in 1 2 3; do
		wait "$(eval "echo \$CAP$i")"
		sed "s/^/[cap$i] /" "$TMPD/cap$i.out"
	done
	# got I SRC: whether namespace I received the frame from 02:00:00:00:00:SRC.
	got() { grep -q "\"src\": \"02:00:00:00:00:$2\"" "$TMPD/cap$1.out"; }
	local want fail=0
	for want in "1 a1 no" "2 a1 yes" "3 a1 no" "1 a2 no" "2 a2 yes" "3 a2 yes" \
		"1 a3 no" "2 a3 no" "3 a3 yes" "1 a4 no" "2 a4 yes" "3 a4 yes" "2 a5 no"; do
		set -- $want
		if got "$1" "$2"; then
			[ "$3" = yes ] || { echo "FAIL: ns$1 received $2"; fail=1; }
		else
			[ "$3" = no ] || { echo "FAIL: ns$1 did not receive $2"; fail=1; }
		fi
	done
	[ $fail = 0 ] || { vswd_log; return 1; }
	# Executed, not cached: no megaflow for the packet-outs' ethertype.
	if dp_flows | grep -q 'eth_type(0x88b5)'; then
		echo "FAIL: a packet-out installed a megaflow"
		dp_flows
		return 1
	fi
	# NORMAL learned the packet-out's source on its in_port, as Open vSwitch does.
	ctl fdb/show "$BR" | tee "$TMPD/fdb"
	grep -E '^ *1 .*02:00:00:00:00:a4' "$TMPD/fdb" >/dev/null || {
		echo "FAIL: NORMAL did not learn 02:00:00:00:00:a4 on port 1"
		return 1
	}
	# The rule output:TABLE went through counts the packet.
	run $of dump-flows "$sock" dl_type=0x88b5 | tee "$TMPD/flows"
	grep -q 'n_packets=1,' "$TMPD/flows" || { echo "FAIL: the rule did not count the packet-out"; return 1; }
	ping_ok 1 2 1
}

# icmp_rule: the ICMP rule's line in dump-flows (empty if there is none).
icmp_rule() { ovs-ofctl -O OpenFlow13 dump-flows "unix:$TMPD/$BR.mgmt" icmp | grep 'priority=100'; }

test_switch_flow_removed() {
	topo_switch 2 || return 1
	add_ports 2 || return 1
	ping_ok 1 2 2 || { vswd_log; return 1; }
	local of="ovs-ofctl -O OpenFlow13" sock="unix:$TMPD/$BR.mgmt" i hit0 t0 ms
	# A monitor on the service socket; its miss_send_len asks for asynchronous messages.
	echo "+ (background) $of monitor $sock 65535"
	$of --unixctl="$TMPD/ofctl.ctl" monitor "$sock" 65535 >"$TMPD/monitor.out" 2>&1 &
	defer kill $!
	sleep 0.5

	# idle_timeout=2, added while pings run: ten seconds of them (served by the kernel's
	# cache after the first miss) keep it alive. (A dump that finds it gone counts only if
	# the pings still ran after it: the emulated VM may be slow.)
	hit0=$(dp_stat "$BR" hit)
	bg pinger "$(ns_of 1)" ping -D -c 50 -i 0.2 10.0.0.2
	sleep 1
	run $of add-flow "$sock" 'priority=100,icmp,idle_timeout=2,send_flow_rem,actions=NORMAL' || return 1
	local alive=0
	while kill -0 "$PID_pinger" 2>/dev/null; do
		sleep 1
		icmp_rule >"$TMPD/rule"
		kill -0 "$PID_pinger" 2>/dev/null || break
		cat "$TMPD/rule"
		cp "$TMPD/rule" "$TMPD/rule.alive"
		alive=$((alive + 1))
		grep -q 'idle_timeout=2' "$TMPD/rule" || {
			echo "FAIL: the idle rule went while traffic used it"
			dp_flows
			ctl upcall/show
			cat "$TMPD/monitor.out"
			vswd_log
			return 1
		}
	done
	bgwait pinger >/dev/null || return 1
	# The clock starts at the last reply (ping -D stamps each line with the time of day):
	# the loop above notices the end of the pings up to a second and a dump later.
	t0=$(sed -n 's/^\[\([0-9]*\)\.\([0-9]\{6\}\)\].*bytes from.*/\1\2000/p' "$TMPD/pinger.out" | tail -n 1)
	[ -n "$t0" ] || { echo "FAIL: no timed reply in the ping output"; cat "$TMPD/pinger.out"; return 1; }
	check_ge "dumps that found the idle rule during the pings" "$alive" 1 || return 1
	# The last of them saw it alive well past its idle timeout.
	check_ge "the idle rule's age at the last dump during the pings (s)" \
		"$(sed -n 's/.*duration=\([0-9]*\)[.].*/\1/p' "$TMPD/rule.alive")" 3 || return 1
	check_ge "ICMP packets counted to the rule by the last of them" "$(sed -n 's/.*n_packets=\([0-9]*\).*/\1/p' "$TMPD/rule.alive")" 20 || return 1
	check_ge "kernel hits during the pings" $(($(dp_stat "$BR" hit) - hit0)) 60 || return 1
	# Traffic stopped: it goes two to three seconds later (idle_timeout from the kernel's
	# last use of its megaflow; the expiry check runs every second).
	for ((i = 0; i < 60; i++)); do
		[ -z "$(icmp_rule)" ] && break
		sleep 0.1
	done
	ms=$((($(date +%s%N) - t0) / 1000000))
	echo "idle rule gone $ms ms after the last ping's reply"
	check_ge "ms before the idle rule went" "$ms" 1500 || return 1
	check_le "ms before the idle rule went" "$ms" 6000 || return 1
	wait_lines "$TMPD/monitor.out" 'OFPT_FLOW_REMOVED.*priority=100,icmp.*reason=idle.*idle2.*pkts[1-9]' 1 || { vswd_log; return 1; }

	# hard_timeout=2 goes after two seconds even under traffic.
	bg pinger "$(ns_of 1)" ping -c 60 -i 0.2 10.0.0.2
	sleep 1
	run $of add-flow "$sock" 'priority=100,icmp,hard_timeout=2,send_flow_rem,actions=NORMAL' || return 1
	for ((i = 0; i < 40; i++)); do
		[ -z "$(icmp_rule)" ] && break
		sleep 0.1
	done
	[ -z "$(icmp_rule)" ] || { echo "FAIL: the hard rule is still there after 5 s"; return 1; }
	kill -0 "$PID_pinger" 2>/dev/null || { echo "FAIL: the pings ended before the rule went"; return 1; }
	kill "$PID_pinger"
	wait_lines "$TMPD/monitor.out" 'OFPT_FLOW_REMOVED.*priority=100,icmp.*reason=hard.*duration[23][.].*hard2.*pkts[1-9]' 1 || { vswd_log; return 1; }

	# A delete says so; a rule without send_flow_rem goes silently.
	run $of add-flow "$sock" 'priority=100,icmp,cookie=0x77,send_flow_rem,actions=NORMAL' || return 1
	run $of add-flow "$sock" 'priority=90,icmp,cookie=0x78,actions=NORMAL' || return 1
	run $of del-flows "$sock" icmp || return 1
	wait_lines "$TMPD/monitor.out" 'OFPT_FLOW_REMOVED.*reason=delete.*cookie:0x77' 1 || { vswd_log; return 1; }
	sleep 1
	cat "$TMPD/monitor.out"
	check_eq "FLOW_REMOVED messages" "$(grep -c OFPT_FLOW_REMOVED "$TMPD/monitor.out")" 3 || return 1
	ping_ok 1 2 1
}

# dp_port_is N NAME: the datapath lists port N as NAME ("" for no port N), within 3 s.
dp_port_is() {
	local i line
	for ((i = 0; i < 30; i++)); do
		line=$("$VSW_DPCTL" show "$BR" | grep "port $1:")
		[ -z "$2" ] && [ -z "$line" ] && return 0
		[ -n "$2" ] && grep -q "port $1: $2\b" <<<"$line" && return 0
		sleep 0.1
	done
	echo "FAIL: datapath port $1 is not '${2:-absent}'"
	"$VSW_DPCTL" show "$BR"
	vswd_log
	return 1
}

test_switch_link_events() {
	topo_switch 2 || return 1
	add_ports 2 || return 1
	ping_ok 1 2 1 || return 1
	sleep 1 # the last events of the topology's own interfaces
	# Twenty interfaces the bridge does not use come, go up and go away.
	local before i batch="$TMPD/links.batch"
	before=$(upcall_counter link_reconciles)
	check_ge "link_reconciles before" "$before" 0 || return 1
	for ((i = 0; i < 20; i++)); do echo "link add u${S}a$i type veth peer name u${S}b$i"; done >"$batch"
	for ((i = 0; i < 20; i++)); do echo "link set u${S}a$i up"; done >>"$batch"
	for ((i = 0; i < 20; i++)); do echo "link del u${S}a$i"; done >>"$batch"
	run ip -batch "$batch" || return 1
	sleep 1
	check_eq "bridges reconciled for other interfaces' events" \
		"$(upcall_counter link_reconciles)" "$before" || return 1
	# A configured port whose interface gets its name by a rename is attached.
	ctl add-port "$BR" "r${S}" ofport=9 || return 1
	run ip link add "t${S}" type veth peer name "q${S}" || return 1
	defer ip link del "q${S}"
	dp_port_is 9 "" || return 1
	run ip link set "t${S}" name "r${S}"
	dp_port_is 9 "r${S}" || return 1
	echo "ok: renamed interface attached as port 9"
	check_ge "link_reconciles after the rename" "$(upcall_counter link_reconciles)" $((before + 1)) || return 1
	# Renamed away: the port is the name, not the interface; it is detached and stays configured.
	run ip link set "r${S}" name "t${S}"
	dp_port_is 9 "" || return 1
	ctl show | grep -A3 "r${S}" | grep -qi 'detached\|no such' ||
		{ echo "FAIL: show does not say port r${S} is detached"; ctl show; return 1; }
	echo "ok: interface renamed away detached from port 9"
	ping_ok 1 2 1
}

test_switch_port_status() {
	topo_switch 2 || return 1
	add_ports 1 || return 1
	local of="ovs-ofctl -O OpenFlow13" sock="unix:$TMPD/$BR.mgmt" out="$TMPD/monitor.out"
	# A monitor on the service socket; its miss_send_len asks for asynchronous messages.
	echo "+ (background) $of monitor $sock 65535"
	$of --unixctl="$TMPD/ofctl.ctl" monitor "$sock" 65535 >"$out" 2>&1 &
	defer kill $!
	# Its barrier answered: connected, miss_send_len set (an emulated VM may take seconds).
	local i
	for ((i = 0; i < 100; i++)); do
		ovs-appctl -t "$TMPD/ofctl.ctl" ofctl/barrier >/dev/null 2>&1 && break
		sleep 0.2
	done
	ctl add-port "$BR" "$P2" ofport=2 || return 1
	wait_lines "$out" "OFPT_PORT_STATUS.*ADD: 2\\($P2\\)" 1 || { vswd_log; return 1; }
	run ip link set "$P2" down
	wait_lines "$out" "OFPT_PORT_STATUS.*MOD: 2\\($P2\\)" 1 || { vswd_log; return 1; }
	grep -A3 "MOD: 2($P2)" "$out" | grep -q 'state:.*LINK_DOWN' ||
		{ echo "FAIL: the MOD does not say LINK_DOWN"; cat "$out"; return 1; }
	run $of dump-ports-desc "$sock" | grep -A3 "2($P2)" | grep -q 'state:.*LINK_DOWN' ||
		{ echo "FAIL: PORT_DESC does not say LINK_DOWN"; return 1; }
	run ip link set "$P2" up
	wait_lines "$out" "OFPT_PORT_STATUS.*MOD: 2\\($P2\\)" 2 || { vswd_log; return 1; }
	grep -A3 "MOD: 2($P2)" "$out" | tail -n 3 | grep -q 'state:.*LINK_DOWN' &&
		{ echo "FAIL: the second MOD still says LINK_DOWN"; cat "$out"; return 1; }
	ctl del-port "$BR" "$P2" || return 1
	wait_lines "$out" "OFPT_PORT_STATUS.*DEL: 2\\($P2\\)" 1 || { vswd_log; return 1; }
	sleep 0.5
	cat "$out"
	# Nothing about port 1, which never changed, and one message per change.
	check_eq "PORT_STATUS messages" "$(grep -c OFPT_PORT_STATUS "$out")" 4
}

# port_config N: the config line of port N in dump-ports-desc ("0" when no bit is set).
port_config() {
	ovs-ofctl -O OpenFlow13 dump-ports-desc "unix:$TMPD/$BR.mgmt" |
		awk -v p=" $1(" 'index($0, p) == 1 { on = 1; next } /^ [0-9A-Z]+\(/ { on = 0 }
			on && $1 == "config:" { $1 = ""; sub(/^ /, ""); print; exit }'
}

test_switch_port_mod() {
	topo_switch 2 || return 1
	add_ports 2 || return 1
	ping_ok 1 2 3 || { vswd_log; return 1; }
	local of="ovs-ofctl -O OpenFlow13" sock="unix:$TMPD/$BR.mgmt" what undo port p t0
	# TABLE stats count the kernel cache's traffic too: 20 pings and their replies, nearly
	# all served by cached megaflows, are all looked up and matched (NORMAL) in table 0.
	in_ns "$(ns_of 1)" ping -c 20 -i 0.1 10.0.0.2 >/dev/null || return 1
	local i lookups=0
	for ((i = 0; i < 10 && lookups < 40; i++)); do  # the revalidator credits once a second
		sleep 0.5
		t0=$($of dump-tables "$sock" | awk '/^  table 0[: ]/ { getline; print; exit }')
		lookups=$(sed -n 's/.*lookup=\([0-9]*\).*/\1/p' <<<"$t0")
		lookups=${lookups:-0}
	done
	echo "table 0: $t0"
	check_ge "table 0 lookups" "$(sed -n 's/.*lookup=\([0-9]*\).*/\1/p' <<<"$t0")" 40 || return 1
	check_eq "table 0 matched = lookups" "$(sed -n 's/.*matched=\([0-9]*\).*/\1/p' <<<"$t0")" \
		"$(sed -n 's/.*lookup=\([0-9]*\).*/\1/p' <<<"$t0")" || return 1
	# Each config change must reach the megaflows the pings left in the kernel within a
	# second, and its opposite must restore them.
	for what in "2 no-forward forward NO_FWD" "1 no-receive receive NO_RECV" "2 down up PORT_DOWN"; do
		set -- $what
		port=$1 undo=$3
		in_ns "$(ns_of 1)" ping -c 3 -i 0.2 10.0.0.2 >/dev/null || { echo "FAIL: no ping before $2"; return 1; }
		run $of mod-port "$sock" "$port" "$2" || { vswd_log; return 1; }
		sleep 1
		ping_fails 1 2 || { echo "FAIL: ICMP still forwarded a second after mod-port $port $2"; dp_flows; return 1; }
		check_eq "port $port config after $2" "$(port_config "$port")" "$4" || return 1
		if [ "$2" = down ]; then
			eval "p=\$P$port"
			ip link show "$p" | grep -q '<.*UP.*>' && { echo "FAIL: mod-port down left $p up"; return 1; }
			echo "ok: mod-port down turned $p down"
		fi
		run $of mod-port "$sock" "$port" "$undo" || return 1
		sleep 1
		ping_ok 1 2 3 || { echo "FAIL: ICMP not forwarded a second after mod-port $port $undo"; vswd_log; return 1; }
		check_eq "port $port config after $undo" "$(port_config "$port")" "0" || return 1
		echo "ok: mod-port $port $2 stopped the cached traffic, $undo restored it"
	done
	# A port the bridge lacks: PORT_MOD_FAILED/BAD_PORT, the connection keeps working.
	if $of mod-port "$sock" 9 no-forward 2>"$TMPD/err"; then
		echo "FAIL: mod-port of a missing port succeeded"
		return 1
	fi
	cat "$TMPD/err"
	ping_ok 1 2 1
}
