# shellcheck shell=bash
# The vsw kernel selftests: a table of tests, then one test_<name> function each
# (0 pass, 1 fail, 4 skip). Sourced by run.sh, which runs them in table order inside the VM.
#
# Topology built by topo_three (most tests):
#
#   +----------------------+  +----------------------+  +----------------------+
#   | ns1                  |  | ns2                  |  | ns3                  |
#   | eth0 10.0.0.1/24     |  | eth0 10.0.0.2/24     |  | eth0 10.0.0.3/24     |
#   |      fd00::1/64      |  |      fd00::2/64      |  |      fd00::3/64      |
#   |      02:00:00:00:00:01  |   02:00:00:00:00:02  |  |   02:00:00:00:00:03  |
#   +----------|-----------+  +----------|-----------+  +----------|-----------+
#              | veth                    | veth                    | veth
#   +----------|-------------------------|-------------------------|-----------+
#   |        $P1 (port 1)              $P2 (port 2)              $P3 (port 3)  |
#   |                    datapath $DP  (port 0: netdev $DP)                     |
#   |                         the VM's initial namespace                        |
#   +---------------------------------------------------------------------------+
#
# Neighbours are static (no ARP/ND needed) unless a test wants them, so a flow table sees
# only the traffic a test sends. Names carry a per-run suffix so runs never collide.

TESTS=(
	"module_load            vsw.ko loads and registers its four genl families"
	"datapath_lifecycle     datapaths are created, listed, refused twice, deleted; port 0 is a netdev"
	"ports_attach           veths of three namespaces attach as ports 1-3; busy/duplicate refused"
	"extack_errors          kernel refusals reach vsw-dpctl as one-line extack messages, exit 1"
	"miss_counted_lost      with no flows and no listener, traffic is missed and counted lost"
	"ping_crosses_switch    IPv4 and IPv6 ping cross the switch; per-flow counters match"
	"tcp_udp_cross          TCP and UDP cross the switch; the UDP flow counts every datagram"
	"mtu_edge               full-MTU frames (1514 bytes) cross intact; larger DF packets do not leave"
	"megaflow_wildcard      one eth_dst megaflow carries 200 distinct 5-tuples"
	"microflow_multi_mask   with three masks the microflow cache serves repeated UDP; a deleted flow is no longer served"
	"action_set_fields      set(eth/ipv4/l4) rewrites fields seen on the wire"
	"action_vlan            push_vlan tags on the wire, pop_vlan untags; VLAN ping works"
	"action_set_ipv6        set(ipv6) rewrites addresses, tclass, label, hop limit on the wire; UDP and ICMPv6 checksums verify"
	"action_set_arp         set(arp) rewrites op, sha, spa, tha, tpa of an ARP request on the wire"
	"action_set_vlan        set(vlan) rewrites VID/PCP of a pushed tag and of a received tag, keeping its DEI bit"
	"set_ext_refused        set(ipv6/arp/vlan) on flows that do not guarantee the header is refused with an extack message"
	"action_multi_output    one flow outputs to two ports; drop drops"
	"upcall_miss_key        a python listener gets MISS upcalls with the right key"
	"upcall_userspace_action userspace(pid,cookie) sends ACTION upcalls with the cookie"
	"execute_packet         vsw_packet EXECUTE from the python client delivers a frame"
	"arp_flood              ARP resolves through broadcast flows to two ports"
	"flow_dump_20000        a 20,000-flow dump is complete and duplicate-free under churn"
	"netlink_fuzz           10,000 malformed netlink messages get errors; kernel stays healthy"
	"veth_removal_clean     deleting an attached veth under traffic removes its port cleanly"
	"netns_delete_clean     deleting a namespace holding a datapath under traffic is clean"
	"rmmod_under_traffic    rmmod vsw with traffic flowing is clean; insmod works again"
	"upcall_per_cpu         per-CPU upcall pids send each CPU's misses and userspace(pid=0) to its socket; clearing falls back to the port pid"
	"per_cpu_pids_refused   GET shows FEATURES and the per-CPU pids; zero pid, odd length, too many entries refused with extack"
	"actions_size_bounded   the largest legal action list reads back (GET, DEL echo, dump); repeated nested fields refused"
	"ipv6_later_fragment_key a later IPv6 fragment's key has no L4 fields and a payload-independent ip_proto"
	"key_extract_paths      keys of frames on both sides of the extraction fast path match hand-written keys byte for byte"
	"forward_clears_tstamp  rx-timestamped packets forwarded to a port with an fq qdisc are not dropped as beyond horizon"
	"port_stacked_refused   a device stacked on a datapath's internal port cannot become a port of it (loop)"
	"flow_stats_clear       mod-flow --clear zeroes a flow's counters, which then count again"
	"dp_limits_reported     GET reports the flow and mask limits; a mask beyond the limit is refused"
	"flow_replies_on_echo   flow NEW and SET answer with a message only when NLM_F_ECHO asks"
	"netlink_struct_fuzz    policy-built requests, half of them mutated, racing valid churn in 2 namespaces: each answered, teardown clean"
	"upcall_key_userspace   for 1,300 crafted frames (every header kind, every truncation) the key userspace computes (dpif::extract_key) is the kernel's, received (MISS) and executed (ACTION)"
)

MAC1=02:00:00:00:00:01
MAC2=02:00:00:00:00:02
MAC3=02:00:00:00:00:03
# -S: no site packages; halves python start-up under TCG
PKT="python3 -S $VSW_TOP/tests/kernel/pkt.py"
NL="python3 -S $VSW_PY"

# Short unique suffix for interface names (IFNAMSIZ is 16).
sfx() { printf '%04x' $((RANDOM ^ $$ & 0xffff)); }

# bg NAME CMD...: start CMD in the background, output to $TMPD/NAME.out, kill deferred.
bg() {
	local name=$1
	shift
	# run namespace wrappers as plain commands so that $! is the process itself
	case $1 in
	n1) set -- ip netns exec "$NS1" "${@:2}" ;;
	n2) set -- ip netns exec "$NS2" "${@:2}" ;;
	n3) set -- ip netns exec "$NS3" "${@:2}" ;;
	esac
	echo "+ (background $name) $*"
	"$@" >"$TMPD/$name.out" 2>&1 &
	eval "PID_$name=$!"
	defer kill "$!"
}
# bgwait NAME: wait for a background job, return its status; print its output.
bgwait() {
	local pid rc
	pid=$(eval "echo \$PID_$1")
	wait "$pid"
	rc=$?
	sed "s/^/[$1] /" "$TMPD/$1.out"
	return $rc
}
# wait_for FILE [SECONDS]: wait until FILE exists.
wait_for() {
	local i
	for ((i = 0; i < ${2:-20} * 10; i++)); do
		[ -e "$1" ] && return 0
		sleep 0.1
	done
	echo "timed out waiting for $1; background output so far:"
	tail -n 20 "$TMPD"/*.out 2>/dev/null
	return 1
}

tmpdir() {
	TMPD=$(mktemp -d)
	defer rm -rf "$TMPD"
}

# stat_of DP FIELD: one counter from `vsw-dpctl show DP` (hit, missed, lost, flows).
dp_stat() {
	"$VSW_DPCTL" show "$1" | awk -v f="$2" '
		/lookups:/ { for (i = 2; i <= NF; i++) { split($i, kv, ":"); if (kv[1] == f) print kv[2] } }
		/^  flows:/ && f == "flows" { print $2 }
		/^  masks:/ && f == "masks" { split($3, kv, ":"); print kv[2] }'
}

# flow_packets DP FLOW: the packet count of one flow (get-flow).
flow_packets() {
	"$VSW_DPCTL" get-flow "$1" "$2" | sed -n 's/.*, packets:\([0-9]*\),.*/\1/p'
}

# topo_three [NPORTS]: the diagram above (NPORTS namespaces, default 3). Built with one
# `ip -batch` per namespace: under TCG every process start costs a good fraction of a second.
topo_three() {
	local n=${1:-3} i j s ns p root=() ports=()
	module_load || return 1
	tmpdir
	s=$(sfx)
	DP=vsw$s
	dpctl add-dp "$DP" || return 1
	defer "$VSW_DPCTL" del-dp "$DP"
	for ((i = 1; i <= n; i++)); do
		ns_create "NS$i" || return 1
		eval "ns=\$NS$i"
		p=v${s}p$i
		eval "P$i=$p"
		root+=("link add $p type veth peer name eth0 netns $ns" "link set $p up")
		ports+=("$p,port_no=$i")
	done
	root+=("link set $DP up")
	printf '%s\n' "${root[@]}" >"$TMPD/root.batch"
	run ip -b "$TMPD/root.batch" || return 1
	for ((i = 1; i <= n; i++)); do
		eval "p=\$P$i"
		defer ip link del "$p"
		eval "ns=\$NS$i"
		{
			echo "link set eth0 address 02:00:00:00:00:0$i"
			echo "addr add 10.0.0.$i/24 dev eth0"
			echo "addr add fd00::$i/64 dev eth0 nodad"
			echo "link set eth0 up"
			for ((j = 1; j <= 3; j++)); do
				[ $j = "$i" ] && continue
				echo "neigh add 10.0.0.$j lladdr 02:00:00:00:00:0$j dev eth0 nud permanent"
				echo "neigh add fd00::$j lladdr 02:00:00:00:00:0$j dev eth0 nud permanent"
			done
		} >"$TMPD/ns$i.batch"
		run ip -n "$ns" -b "$TMPD/ns$i.batch" || return 1
	done
	dpctl add-if "$DP" "${ports[@]}" || return 1
}
n1() { in_ns "$NS1" "$@"; }
n2() { in_ns "$NS2" "$@"; }
n3() { in_ns "$NS3" "$@"; }

# ---- tests ---------------------------------------------------------------------------------
test_module_load() {
	if module_loaded; then
		echo "vsw already loaded"
	else
		module_load || return 1
	fi
	module_loaded || return 1
	run python3 -S -c "
import sys; sys.path.insert(0, '$VSW_TOP/tests/kernel'); import vsw_nl
g = vsw_nl.Genl()
for f in vsw_nl.FAMILIES: print(f, 'has id', g.family(f))" || {
		echo "FAIL: a vsw generic netlink family is missing"
		return 1
	}
	dpctl show || return 1
}

test_datapath_lifecycle() {
	module_load || return 1
	local s a b out
	s=$(sfx)
	a=vsw${s}a b=vsw${s}b
	dpctl add-dp "$a" || return 1
	defer "$VSW_DPCTL" del-dp "$a"
	dpctl add-dp "$b" || return 1
	defer "$VSW_DPCTL" del-dp "$b"
	ip link show "$a" || {
		echo "FAIL: no netdev for port 0 of $a"
		return 1
	}
	out=$(dpctl show)
	echo "$out"
	grep -q "^$a:" <<<"$out" && grep -q "^$b:" <<<"$out" || {
		echo "FAIL: show does not list both datapaths"
		return 1
	}
	grep -q "port 0: $a (internal)" <<<"$out" || {
		echo "FAIL: no internal port 0"
		return 1
	}
	if dpctl add-dp "$a"; then
		echo "FAIL: second add-dp $a succeeded"
		return 1
	fi
	$NL dp-get "$a" | tee "/tmp/dp.$$" || return 1
	grep -q '"key_size": 104' "/tmp/dp.$$" && grep -q '"version": 1' "/tmp/dp.$$" || {
		rm -f "/tmp/dp.$$"
		echo "FAIL: dp-get lacks version/key size"
		return 1
	}
	rm -f "/tmp/dp.$$"
	dpctl del-dp "$b" || return 1
	if ip link show "$b" 2>/dev/null; then
		echo "FAIL: netdev $b survived del-dp"
		return 1
	fi
	if dpctl del-dp "$b"; then
		echo "FAIL: deleting a missing datapath succeeded"
		return 1
	fi
	# An internal port can carry an address.
	ip addr add 192.0.2.1/24 dev "$a" && ip link set "$a" up || return 1
	return 0
}

test_ports_attach() {
	topo_three || return 1
	local out
	out=$(dpctl show "$DP")
	echo "$out"
	check_eq "ports listed" "$(grep -cE "port [123]: $P1|port [123]: $P2|port [123]: $P3" <<<"$out")" 3 || return 1
	grep -q "port 2: $P2" <<<"$out" || return 1
	if dpctl add-if "$DP" "$P1"; then
		echo "FAIL: attaching $P1 twice succeeded"
		return 1
	fi
	local extra=v$(sfx)x
	ip link add "$extra" type veth peer name "${extra}y" || return 1
	defer ip link del "$extra"
	if dpctl add-if "$DP" "$extra,port_no=2"; then
		echo "FAIL: port number 2 given twice"
		return 1
	fi
	dpctl add-if "$DP" "$extra,port_no=9" || return 1
	dpctl show "$DP" | grep -q "port 9: $extra" || return 1
	dpctl del-if "$DP" "$extra" || return 1
	if dpctl show "$DP" | grep -q "$extra"; then
		echo "FAIL: $extra still listed after del-if"
		return 1
	fi
	# a port can be attached again after removal
	dpctl add-if "$DP" "$extra" || return 1
}

test_extack_errors() {
	topo_three 1 || return 1
	local err rc
	# A set(ipv4) without an exact eth_type match must be refused by the kernel, with a message.
	err=$("$VSW_DPCTL" add-flow "$DP" "in_port(1)" "set(ipv4(ttl=3)),1" 2>&1)
	rc=$?
	echo "stderr: $err"
	check_eq "exit status" "$rc" 1 || return 1
	check_eq "error lines" "$(wc -l <<<"$err")" 1 || return 1
	# the message must carry more than strerror: "vsw-dpctl: add-flow: <text> (Invalid argument)"
	grep -qE '^vsw-dpctl: add-flow: .+ \(Invalid argument\)$' <<<"$err" || {
		echo "FAIL: no extack text in '$err'"
		return 1
	}
	err=$("$VSW_DPCTL" add-flow "$DP" "in_port(1)" "push_vlan(vid=5),1" 2>&1) || return 1
	err=$("$VSW_DPCTL" add-flow "$DP" "in_port(1)" "1" 2>&1)
	rc=$?
	echo "stderr: $err"
	check_eq "adding an existing flow" "$rc" 1 || return 1
	err=$("$VSW_DPCTL" del-if "$DP" nosuchif0 2>&1)
	rc=$?
	echo "stderr: $err"
	check_eq "del-if missing" "$rc" 1 || return 1
	err=$("$VSW_DPCTL" add-flow "$DP" "in_port(1" "1" 2>&1)
	rc=$?
	echo "stderr: $err"
	check_eq "bad flow text" "$rc" 2 || return 1
	grep -q "'in_port(1'" <<<"$err" || return 1
}

test_miss_counted_lost() {
	topo_three 2 || return 1
	local missed lost hit
	n1 ping -c 3 -i 0.2 -W 1 10.0.0.2 && {
		echo "FAIL: ping crossed a switch without flows"
		return 1
	}
	# one snapshot, so background noise cannot land between the counters
	local show
	show=$("$VSW_DPCTL" show "$DP")
	echo "$show"
	missed=$(sed -n 's/.*missed:\([0-9]*\).*/\1/p' <<<"$show")
	lost=$(sed -n 's/.*lost:\([0-9]*\).*/\1/p' <<<"$show")
	hit=$(sed -n 's/.*lookups: hit:\([0-9]*\).*/\1/p' <<<"$show")
	check_ge "missed" "$missed" 3 || return 1
	check_eq "lost (no listener)" "$lost" "$missed" || return 1
	check_eq "hit" "$hit" 0 || return 1
	dpctl show "$DP" | grep -A1 "port 1:" | grep -qE 'RX packets:[1-9]' || {
		echo "FAIL: port 1 RX counter did not move"
		return 1
	}
}

test_ping_crosses_switch() {
	topo_three 2 || return 1
	local f12="in_port(1),eth_type(0x0800)" f21="in_port(2),eth_type(0x0800)"
	local g12="in_port(1),eth_type(0x86dd)" g21="in_port(2),eth_type(0x86dd)"
	dpctl add-flow "$DP" "$f12" 2 && dpctl add-flow "$DP" "$f21" 1 || return 1
	dpctl add-flow "$DP" "$g12" 2 && dpctl add-flow "$DP" "$g21" 1 || return 1
	n1 ping -c 5 -i 0.2 -W 2 10.0.0.2 || return 1
	n2 ping -c 3 -i 0.2 -W 2 10.0.0.1 || return 1
	dpctl dump-flows "$DP"
	check_eq "packets 1->2 (IPv4)" "$(flow_packets "$DP" "$f12")" 8 || return 1
	check_eq "packets 2->1 (IPv4)" "$(flow_packets "$DP" "$f21")" 8 || return 1
	n1 ping -6 -c 4 -i 0.2 -W 2 fd00::2 || return 1
	# MLD/ND noise may add a few IPv6 packets; echo requests alone are 4.
	check_ge "packets 1->2 (IPv6)" "$(flow_packets "$DP" "$g12")" 4 || return 1
	check_ge "packets 2->1 (IPv6)" "$(flow_packets "$DP" "$g21")" 4 || return 1
	check_ge "hit" "$(dp_stat "$DP" hit)" 24 || return 1
	# bytes: 8 echo requests of 98 bytes
	"$VSW_DPCTL" get-flow "$DP" "$f12" | grep -q "bytes:784," || {
		echo "FAIL: byte counter is not 8 x 98"
		return 1
	}
}

test_tcp_udp_cross() {
	topo_three 2 || return 1
	local u12="eth(dst=$MAC2),eth_type(0x0800),ipv4(proto=17)"
	dpctl add-flow "$DP" "$u12" 2 || return 1
	dpctl add-flow "$DP" "eth(dst=$MAC2),eth_type(0x0800),ipv4(proto=6)" 2 || return 1
	dpctl add-flow "$DP" "eth(dst=$MAC1),eth_type(0x0800)" 1 || return 1
	bg rx n2 $PKT udp-recv 5000 50 --timeout 20 --ready-file "$TMPD/rx.ready"
	wait_for "$TMPD/rx.ready" || return 1
	n1 $PKT udp-send 10.0.0.2 5000 50 || return 1
	bgwait rx || return 1
	check_eq "UDP flow packets" "$(flow_packets "$DP" "$u12")" 50 || return 1
	bg tcp n2 $PKT tcp-serve 6000 200000 --ready-file "$TMPD/tcp.ready"
	wait_for "$TMPD/tcp.ready" || return 1
	n1 $PKT tcp-send 10.0.0.2 6000 200000 || return 1
	bgwait tcp || return 1
	dpctl dump-flows "$DP"
	local flags
	flags=$("$VSW_DPCTL" dump-flows "$DP" | grep "proto=6" | sed -n 's/.*flags:\(0x[0-9a-f]*\).*/\1/p')
	echo "TCP flow flags: $flags"
	[ -n "$flags" ] && (((flags & 0x12) == 0x12)) || {
		echo "FAIL: the TCP flow did not record SYN and ACK in its flags"
		return 1
	}
}

test_mtu_edge() {
	topo_three 2 || return 1
	local f="in_port(1),eth_type(0x0800)"
	dpctl add-flow "$DP" "$f" 2 && dpctl add-flow "$DP" "in_port(2),eth_type(0x0800)" 1 || return 1
	# 1472 bytes of ICMP payload + 8 + 20 = 1500, a 1514-byte frame: the largest that fits.
	n1 ping -c 2 -i 0.3 -W 2 -M do -s 1472 10.0.0.2 || return 1
	"$VSW_DPCTL" get-flow "$DP" "$f" | tee "$TMPD/f"
	grep -q "packets:2, bytes:3028," "$TMPD/f" || {
		echo "FAIL: want 2 packets of 1514 bytes on $f"
		return 1
	}
	# One byte more with DF set must be refused by the sender, and nothing reaches the switch.
	n1 ping -c 1 -W 1 -M do -s 1473 10.0.0.2 && {
		echo "FAIL: a 1501-byte DF packet was sent"
		return 1
	}
	check_eq "packets after the oversized ping" "$(flow_packets "$DP" "$f")" 2 || return 1
	# Without DF it is fragmented, and both fragments cross.
	n1 ping -c 1 -W 2 -s 1473 10.0.0.2 || return 1
	check_eq "packets after the fragmented ping" "$(flow_packets "$DP" "$f")" 4 || return 1
}

test_megaflow_wildcard() {
	topo_three 2 || return 1
	dpctl add-flow "$DP" "eth(dst=$MAC2)" 2 || return 1
	dpctl add-flow "$DP" "eth(dst=$MAC1)" 1 || return 1
	bg rx n2 $PKT udp-recv 7000 200 --timeout 30 --ready-file "$TMPD/rx.ready"
	wait_for "$TMPD/rx.ready" || return 1
	local missed0
	missed0=$(dp_stat "$DP" missed)
	n1 $PKT udp-send 10.0.0.2 7000 200 --sport-base 30000 --sport-spread 200 || return 1
	bgwait rx || return 1
	dpctl dump-flows "$DP"
	# IPv6 multicast noise (MLD, router solicitations) may miss; the 200 datagrams may not.
	check_le "misses during the UDP burst" "$(($(dp_stat "$DP" missed) - missed0))" 10 || return 1
	check_eq "flows" "$(dp_stat "$DP" flows)" 2 || return 1
	check_eq "masks" "$(dp_stat "$DP" masks)" 1 || return 1
	check_ge "packets on eth(dst=$MAC2)" "$(flow_packets "$DP" "eth(dst=$MAC2)")" 200 || return 1
}

nl_stat() { # DP FIELD: a datapath counter as the independent client reads it
	$NL dp-get "$1" | python3 -S -c "import json, sys; print(json.load(sys.stdin)['stats']['$2'])"
}

test_microflow_multi_mask() {
	topo_three 2 || return 1
	# Three masks; the UDP flow's is not the first one probed until the masks are reordered.
	dpctl add-flow "$DP" "in_port(1),eth_type(0x0806)" 2 || return 1
	dpctl add-flow "$DP" "in_port(2)" 1 || return 1
	dpctl add-flow "$DP" "in_port(1),eth_type(0x0800),ipv4(proto=17)" 2 || return 1
	check_eq "masks" "$(dp_stat "$DP" masks)" 3 || return 1
	# No receiver: what counts is what the datapath forwarded, not what a socket kept.
	local mf0 mf1 flow="in_port(1),eth_type(0x0800),ipv4(proto=17)"
	mf0=$(nl_stat "$DP" microflow_hit)
	n1 $PKT udp-send 10.0.0.2 7000 200 || return 1
	sleep 1
	mf1=$(nl_stat "$DP" microflow_hit)
	check_ge "UDP flow packets" "$(flow_packets "$DP" "$flow")" 200 || return 1
	check_ge "microflow cache hits for 200 datagrams of one 5-tuple" "$((mf1 - mf0))" 150 ||
		return 1
	# Deleted, the UDP flow must not be served from the cache: every datagram now misses
	# (a cache hit would count as a hit instead).
	dpctl del-flow "$DP" "$flow" || return 1
	local missed0
	missed0=$(dp_stat "$DP" missed)
	n1 $PKT udp-send 10.0.0.2 7000 20 || return 1
	sleep 1
	check_ge "misses after the delete" "$(($(dp_stat "$DP" missed) - missed0))" 20 || return 1
}

test_action_set_fields() {
	topo_three 2 || return 1
	local f="in_port(1),eth_type(0x0800),ipv4(proto=17),udp(dst=5000)"
	dpctl add-flow "$DP" "$f" \
		"set(eth(src=02:00:00:00:00:aa),ipv4(src=10.0.0.9,ttl=7,tos=0x20),l4(dst=5001)),2" || return 1
	bg cap n2 $PKT capture eth0 3 --timeout 20 --ethertype 0x0800 --ready-file "$TMPD/cap.ready"
	bg rx n2 $PKT udp-recv 5001 3 --timeout 20 --ready-file "$TMPD/rx.ready"
	wait_for "$TMPD/cap.ready" && wait_for "$TMPD/rx.ready" || return 1
	n1 $PKT udp-send 10.0.0.2 5000 3 || return 1
	bgwait rx || {
		echo "FAIL: nothing arrived on the rewritten port 5001 (checksums or l4 set broken)"
		return 1
	}
	bgwait cap || return 1
	local line
	line=$(head -n1 "$TMPD/cap.out")
	grep -q '"src": "02:00:00:00:00:aa"' <<<"$line" || { echo "FAIL: eth src not set"; return 1; }
	grep -q '"ip_src": "10.0.0.9"' <<<"$line" || { echo "FAIL: ipv4 src not set"; return 1; }
	grep -q '"ttl": 7' <<<"$line" || { echo "FAIL: ttl not set"; return 1; }
	grep -q '"tos": 32' <<<"$line" || { echo "FAIL: tos not set"; return 1; }
	grep -q '"dport": 5001' <<<"$line" || { echo "FAIL: dport not set"; return 1; }
}

test_action_vlan() {
	topo_three 2 || return 1
	n2 ip link add link eth0 name eth0.10 type vlan id 10 || return 1
	n2 ip addr add 10.0.10.2/24 dev eth0.10 && n2 ip link set eth0.10 up
	n1 ip addr add 10.0.10.1/24 dev eth0
	n1 ip neigh add 10.0.10.2 lladdr "$MAC2" dev eth0 nud permanent
	n2 ip neigh add 10.0.10.1 lladdr "$MAC1" dev eth0.10 nud permanent
	dpctl add-flow "$DP" "in_port(1)" "push_vlan(vid=10,pcp=5),2" || return 1
	dpctl add-flow "$DP" "in_port(2),vlan(vid=10)" "pop_vlan,1" || return 1
	bg cap n2 $PKT capture eth0 1 --timeout 20 --ethertype 0x0800 --ready-file "$TMPD/cap.ready"
	wait_for "$TMPD/cap.ready" || return 1
	n1 ping -c 3 -i 0.3 -W 2 10.0.10.2 || return 1
	bgwait cap || return 1
	grep -q '"vlan_vid": 10, "vlan_pcp": 5' "$TMPD/cap.out" || {
		echo "FAIL: no VLAN 10 pcp 5 tag on the wire"
		return 1
	}
	check_ge "pop_vlan flow packets" "$(flow_packets "$DP" "in_port(2),vlan(vid=10)")" 3 || return 1
}

# field_check FILE LINE-FILTER WANT...: the first line of FILE with LINE-FILTER has every WANT.
field_check() {
	local line want
	line=$(grep -F "$2" "$1" | head -n1)
	echo "frame: $line"
	for want in "${@:3}"; do
		grep -qF "$want" <<<"$line" || {
			echo "FAIL: no $want in the captured frame"
			return 1
		}
	done
}

test_action_set_ipv6() {
	have_tools ethtool || return 4
	topo_three 2 || return 1
	# No checksum offload on the sender: the wire carries complete checksums, which the
	# rewrite must keep right (the receiver and the capture verify them).
	n1 ethtool -K eth0 tx off >/dev/null || return 1
	n1 ip neigh add fd00::7 lladdr "$MAC2" dev eth0 nud permanent || return 1
	dpctl add-flow "$DP" "in_port(1),eth_type(0x86dd),ipv6(proto=17)" \
		"set(ipv6(src=fd00::9,dst=fd00::2,tclass=0x20,label=0x12345,hlimit=7)),2" || return 1
	# ICMPv6 echo to fd00::7 reaches ns2 as fd00::2, and the reply returns from fd00::7.
	dpctl add-flow "$DP" "in_port(1),eth_type(0x86dd),ipv6(proto=58)" \
		"set(ipv6(dst=fd00::2)),2" || return 1
	dpctl add-flow "$DP" "in_port(2),eth_type(0x86dd),ipv6(proto=58)" \
		"set(ipv6(src=fd00::7)),1" || return 1
	bg cap n2 $PKT capture eth0 3 --timeout 20 --ethertype 0x86dd --ready-file "$TMPD/cap.ready"
	bg rx n2 $PKT udp-recv 5000 3 --v6 --timeout 20 --ready-file "$TMPD/rx.ready"
	wait_for "$TMPD/cap.ready" && wait_for "$TMPD/rx.ready" || return 1
	n1 $PKT udp-send fd00::7 5000 3 || return 1
	bgwait rx || {
		echo "FAIL: the datagrams did not arrive at fd00::2 (address or checksum rewrite broken)"
		return 1
	}
	bgwait cap
	field_check "$TMPD/cap.out" '"proto": 17' '"ip6_src": "fd00::9"' '"ip6_dst": "fd00::2"' \
		'"tclass": 32' '"label": 74565' '"hlimit": 7' '"l4_csum_ok": true' || return 1
	n1 ping -6 -c 2 -i 0.3 -W 2 fd00::7 || {
		echo "FAIL: ICMPv6 echo through set(ipv6) failed (ICMPv6 checksum?)"
		return 1
	}
}

test_action_set_arp() {
	topo_three 2 || return 1
	dpctl add-flow "$DP" "in_port(1),eth_type(0x0806)" \
		"set(arp(op=2,sha=02:00:00:00:00:aa,sip=10.0.0.9,tha=02:00:00:00:00:bb,tip=10.0.0.3)),2" ||
		return 1
	bg cap n2 $PKT capture eth0 1 --timeout 20 --ethertype 0x0806 --ready-file "$TMPD/cap.ready"
	wait_for "$TMPD/cap.ready" || return 1
	# Without its static entry ns1 asks for 10.0.0.2 (the ping itself gets no answer).
	n1 ip neigh del 10.0.0.2 dev eth0
	n1 ping -c 1 -W 1 10.0.0.2
	bgwait cap || return 1
	field_check "$TMPD/cap.out" '"ethertype": "0x0806"' '"arp_op": 2' \
		'"arp_sha": "02:00:00:00:00:aa"' '"arp_spa": "10.0.0.9"' \
		'"arp_tha": "02:00:00:00:00:bb"' '"arp_tpa": "10.0.0.3"'
}

test_action_set_vlan() {
	topo_three 2 || return 1
	dpctl add-flow "$DP" "in_port(1),vlan(none),eth_type(0x0800)" \
		"push_vlan(vid=10,pcp=5),set(vlan(vid=20,pcp=3)),2" || return 1
	dpctl add-flow "$DP" "in_port(1),vlan(vid=30),eth_type(0x0800)" "set(vlan(vid=40)),2" ||
		return 1
	bg cap n2 $PKT capture eth0 4 --timeout 20 --ethertype 0x0800 --ready-file "$TMPD/cap.ready"
	wait_for "$TMPD/cap.ready" || return 1
	n1 $PKT udp-send 10.0.0.2 5000 2 || return 1
	# PCP 1, DEI set, VID 30: the rewrite changes the VID only.
	n1 $PKT send-tagged eth0 0x301e 2 || return 1
	bgwait cap || return 1
	field_check "$TMPD/cap.out" '"vlan_vid": 20' '"vlan_pcp": 3, "vlan_dei": 0' || return 1
	field_check "$TMPD/cap.out" '"vlan_vid": 40' '"vlan_pcp": 1, "vlan_dei": 1'
}

# refused FLOW ACTIONS MESSAGE: add-flow fails with MESSAGE on stderr.
refused() {
	local err rc
	err=$("$VSW_DPCTL" add-flow "$DP" "$1" "$2" 2>&1)
	rc=$?
	echo "add-flow $1 $2: rc=$rc: $err"
	[ $rc = 1 ] && grep -qF "$3" <<<"$err" || {
		echo "FAIL: want exit 1 and '$3'"
		return 1
	}
}

test_set_ext_refused() {
	topo_three 1 || return 1
	refused "in_port(1),eth_type(0x0800)" "set(ipv6(hlimit=5)),1" \
		"set(ipv6) needs the flow to match eth_type(0x86dd)" || return 1
	refused "in_port(1),eth_type(0x0800)" "set(arp(op=2)),1" \
		"set(arp) needs the flow to match eth_type(0x0806)" || return 1
	refused "in_port(1)" "set(vlan(vid=5)),1" "set(vlan) needs the flow to match a VLAN tag" ||
		return 1
	refused "in_port(1),vlan(vid=5)" "pop_vlan,set(vlan(pcp=1)),1" \
		"set(vlan) needs the flow to match a VLAN tag" || return 1
	# Accepted: the tag is matched, or pushed first.
	dpctl add-flow "$DP" "in_port(1),vlan(vid=5)" "set(vlan(pcp=1)),1" || return 1
	dpctl add-flow "$DP" "in_port(1),vlan(none)" "push_vlan(vid=6),set(vlan(vid=7)),1" || return 1
	check_eq "flows" "$(dp_stat "$DP" flows)" 2
}

test_action_multi_output() {
	topo_three 3 || return 1
	dpctl add-flow "$DP" "in_port(1),eth_type(0x0800),ipv4(proto=17)" 2,3 || return 1
	dpctl add-flow "$DP" "in_port(1),eth_type(0x0800),ipv4(proto=6)" drop || return 1
	bg r2 n2 $PKT udp-recv 5000 10 --timeout 20 --ready-file "$TMPD/r2.ready"
	bg r3 n3 $PKT udp-recv 5000 10 --timeout 20 --ready-file "$TMPD/r3.ready"
	wait_for "$TMPD/r2.ready" && wait_for "$TMPD/r3.ready" || return 1
	# Addressed to ns2, but ns3 receives it too: its IP stack drops a foreign MAC unless the
	# destination is broadcast, so send to the broadcast address.
	n1 $PKT udp-send 10.0.0.255 5000 10 --broadcast || return 1
	bgwait r2 || return 1
	bgwait r3 || return 1
	local drop="in_port(1),eth_type(0x0800),ipv4(proto=6)" n=0 deadline pid
	# No fixed `timeout` around tcp-send: under load python can take longer than that to
	# start, and then no SYN had been sent when the drop flow was read. Instead wait (up
	# to 60 s) until the drop flow has counted a SYN, then give the connection 5 s to
	# cross it before stopping tcp-send (which gives up by itself after 20 s unanswered).
	bg tcp n1 $PKT tcp-send 10.0.0.2 6000 10
	eval "pid=\$PID_tcp"
	deadline=$((SECONDS + 60))
	while [ "$SECONDS" -lt "$deadline" ] && kill -0 "$pid" 2>/dev/null; do
		n=$(flow_packets "$DP" "$drop")
		[ "${n:-0}" -ge 1 ] && break
		sleep 0.2
	done
	deadline=$((SECONDS + 5))
	while [ "$SECONDS" -lt "$deadline" ] && kill -0 "$pid" 2>/dev/null; do
		sleep 0.2
	done
	kill "$pid" 2>/dev/null
	bgwait tcp && {
		echo "FAIL: TCP crossed a drop flow"
		return 1
	}
	check_ge "drop flow packets" "$(flow_packets "$DP" "$drop")" 1 || return 1
}

test_upcall_miss_key() {
	topo_three 2 || return 1
	bg up $NL listen "$DP" "$P1" --count 3 --timeout 30 --ready-file "$TMPD/up.ready"
	wait_for "$TMPD/up.ready" || return 1
	n1 ping -c 3 -i 0.3 -W 1 10.0.0.2
	bgwait up || return 1
	local u
	u=$(grep '"cmd": "miss"' "$TMPD/up.out" | grep '"eth_type": 2048' | head -n1)
	echo "upcall: $u"
	[ -n "$u" ] || { echo "FAIL: no miss upcall"; return 1; }
	local want
	for want in '"in_port": 1' '"key_len": 104' "\"eth_src\": \"$MAC1\"" "\"eth_dst\": \"$MAC2\"" \
		'"eth_type": 2048' '"ip_proto": 1' '"ipv4_src": "10.0.0.1"' '"ipv4_dst": "10.0.0.2"' \
		'"icmp_type": 8' '"ip_ttl": 64' "\"packet_src\": \"$MAC1\""; do
		grep -qF "$want" <<<"$u" || {
			echo "FAIL: upcall lacks $want"
			return 1
		}
	done
}

test_upcall_userspace_action() {
	topo_three 2 || return 1
	bg up $NL listen "$DP" "$P1" --cmd action --count 2 --timeout 30 --ready-file "$TMPD/up.ready"
	wait_for "$TMPD/up.ready" || return 1
	local pid
	pid=$(cat "$TMPD/up.ready")
	dpctl add-flow "$DP" "in_port(1),eth_type(0x0800)" "userspace(pid=$pid,cookie=0xc0ffee01),2" ||
		return 1
	dpctl add-flow "$DP" "in_port(2),eth_type(0x0800)" 1 || return 1
	n1 ping -c 2 -i 0.3 -W 2 10.0.0.2 || return 1
	bgwait up || return 1
	check_eq "action upcalls with cookie" \
		"$(grep '"cmd": "action"' "$TMPD/up.out" | grep -c '"userdata": "c0ffee01"')" 2 || return 1
}

test_execute_packet() {
	topo_three 2 || return 1
	bg rx n2 $PKT udp-recv 5555 3 --timeout 20 --ready-file "$TMPD/rx.ready"
	wait_for "$TMPD/rx.ready" || return 1
	$NL execute "$DP" 1 2 "$MAC2" "$MAC1" --dport 5555 --count 3 || return 1
	bgwait rx || return 1
	check_eq "flows" "$(dp_stat "$DP" flows)" 0 || return 1
}

test_arp_flood() {
	topo_three 3 || return 1
	n1 ip neigh del 10.0.0.3 dev eth0 || return 1
	local i
	for i in 1 2 3; do
		local others
		others=$(echo 1 2 3 | tr ' ' '\n' | grep -v "$i" | paste -sd,)
		dpctl add-flow "$DP" "in_port($i),eth(dst=ff:ff:ff:ff:ff:ff),eth_type(0x0806)" "$others" ||
			return 1
		dpctl add-flow "$DP" "eth(dst=02:00:00:00:00:0$i)" "$i" || return 1
	done
	n1 ping -c 2 -i 0.3 -W 2 10.0.0.3 || return 1
	n1 ip neigh show 10.0.0.3
	n1 ip neigh show 10.0.0.3 | grep -q "$MAC3" || {
		echo "FAIL: ARP did not resolve 10.0.0.3"
		return 1
	}
	check_ge "ARP request flow" \
		"$(flow_packets "$DP" "in_port(1),eth(dst=ff:ff:ff:ff:ff:ff),eth_type(0x0806)")" 1 || return 1
	local reqs
	reqs=$("$VSW_DPCTL" get-flow "$DP" "in_port(1),eth(dst=ff:ff:ff:ff:ff:ff),eth_type(0x0806)")
	echo "$reqs"
}

test_flow_dump_20000() {
	topo_three 2 || return 1
	SECONDS=0
	$NL flows-add "$DP" 20000 --port 1 || return 1
	echo "20,000 flows added in ${SECONDS}s"
	check_eq "flows" "$(dp_stat "$DP" flows)" 20000 || return 1
	# Other flows come and go during both dumps; the 20,000 must each appear exactly once.
	bg churn $NL flows-churn "$DP" 120 --port 2 --base 50000
	sleep 2
	local out
	out=$($NL dump "$DP" --stable-port 1 --stable-n 20000) || return 1
	echo "python dump under churn: $out (${SECONDS}s)"
	grep -q "duplicates 0 missing 0" <<<"$out" || {
		echo "FAIL: the dump is not complete and duplicate-free"
		return 1
	}
	"$VSW_DPCTL" dump-flows "$DP" >"$TMPD/dump.txt" || return 1
	echo "vsw-dpctl dump under churn done (${SECONDS}s)"
	kill "$PID_churn"
	check_eq "vsw-dpctl: in_port(1) flows" "$(grep -c '^in_port(1),' "$TMPD/dump.txt")" 20000 || return 1
	check_eq "vsw-dpctl: duplicate lines" "$(sort "$TMPD/dump.txt" | uniq -d | wc -l)" 0 || return 1
	dpctl del-flows "$DP" || return 1
	check_eq "flows after del-flows" "$(dp_stat "$DP" flows)" 0 || return 1
}

test_netlink_fuzz() {
	topo_three 2 || return 1
	dpctl add-flow "$DP" "in_port(1)" 2 && dpctl add-flow "$DP" "in_port(2)" 1 || return 1
	# Random requests are aimed at a throwaway datapath: some of them are valid and may
	# legitimately delete its ports or flows. The switch carrying traffic must not notice.
	local fz="${DP}f"
	dpctl add-dp "$fz" || return 1
	defer "$VSW_DPCTL" del-dp "$fz"
	$NL fuzz "$fz" 10000 --seed "$RANDOM" || return 1
	# healthy: both datapaths still answer, and the untouched one still forwards
	dpctl show "$fz" || return 1
	n1 ping -c 2 -i 0.3 -W 2 10.0.0.2 || return 1
	dpctl show "$DP" || return 1
}

test_veth_removal_clean() {
	topo_three 2 || return 1
	dpctl add-flow "$DP" "in_port(1)" 2 && dpctl add-flow "$DP" "in_port(2)" 1 || return 1
	bg flood n1 ping -i 0.01 -W 1 10.0.0.2
	sleep 1
	run ip link del "$P2" || return 1
	sleep 0.5
	if dpctl show "$DP" | grep -q "$P2"; then
		echo "FAIL: port of a deleted veth still listed"
		return 1
	fi
	dpctl show "$DP" || return 1
}

test_netns_delete_clean() {
	module_load || return 1
	tmpdir
	local sw a b s
	s=$(sfx)
	ns_create sw && ns_create a && ns_create b || return 1
	ip -n "$sw" link add "sw$s" type veth peer name eth0 netns "$a" || return 1
	ip -n "$sw" link add "sx$s" type veth peer name eth0 netns "$b" || return 1
	ip -n "$a" addr add 10.1.0.1/24 dev eth0 && ip -n "$b" addr add 10.1.0.2/24 dev eth0
	ip -n "$a" link set eth0 up && ip -n "$b" link set eth0 up
	ip -n "$sw" link set "sw$s" up && ip -n "$sw" link set "sx$s" up
	in_ns "$sw" "$VSW_DPCTL" add-dp "dp$s" || return 1
	in_ns "$sw" "$VSW_DPCTL" add-if "dp$s" "sw$s" "sx$s" || return 1
	in_ns "$sw" "$VSW_DPCTL" add-flow "dp$s" "in_port(1)" 2 || return 1
	in_ns "$sw" "$VSW_DPCTL" add-flow "dp$s" "in_port(2)" 1 || return 1
	in_ns "$a" ping -c 2 -i 0.3 -W 2 10.1.0.2 || return 1
	# The datapath is invisible from the initial namespace.
	if "$VSW_DPCTL" show "dp$s" 2>/dev/null; then
		echo "FAIL: a datapath of another namespace is visible"
		return 1
	fi
	bg flood ip netns exec "$a" ping -i 0.01 -W 1 10.1.0.2
	sleep 1
	run ip netns del "$sw" || return 1
	sleep 1
	if ip -n "$a" link show eth0 2>/dev/null; then
		echo "FAIL: the veth peer survived its namespace's deletion"
		return 1
	fi
	# the module still works
	dpctl show || return 1
}

test_rmmod_under_traffic() {
	topo_three 2 || return 1
	dpctl add-flow "$DP" "in_port(1)" 2 && dpctl add-flow "$DP" "in_port(2)" 1 || return 1
	bg flood n1 ping -i 0.01 -W 1 10.0.0.2
	bg flood2 n2 ping -i 0.01 -W 1 10.0.0.1
	sleep 1
	run rmmod vsw || return 1
	if module_loaded; then
		echo "FAIL: vsw still loaded"
		return 1
	fi
	ip link show "$DP" 2>/dev/null && {
		echo "FAIL: datapath netdev survived rmmod"
		return 1
	}
	module_load || return 1
	dpctl show || return 1
}

# wait_count FILE PATTERN N [SECONDS]: wait until N lines of FILE contain PATTERN.
wait_count() {
	local i
	for ((i = 0; i < ${4:-20} * 10; i++)); do
		[ "$(grep -c -- "$2" "$1" 2>/dev/null)" -ge "$3" ] && return 0
		sleep 0.1
	done
	echo "timed out waiting for $3 lines matching $2 in $1; got:"
	cat "$1"
	return 1
}

# udp_burst CPU DPORT N...: from ns1, pinned to CPU, N datagrams to 10.0.0.2:DPORT for each
# DPORT N pair. bash's /dev/udp: no python start per burst (seconds each under TCG).
udp_burst() {
	local cpu=$1 script=""
	shift
	while [ $# -gt 0 ]; do
		script+="for ((i = 0; i < $2; i++)); do echo vsw >/dev/udp/10.0.0.2/$1; done; "
		shift 2
	done
	n1 taskset -c "$cpu" bash -c "$script"
}

# upcalls SOCK DPORT: UDP upcalls to DPORT that socket SOCK (vport, cpu0, cpu1) received.
upcalls() {
	grep -F "\"sock\": \"$1\"" "$TMPD/up.out" | grep -cF "\"tp_dst\": $2}"
}

test_upcall_per_cpu() {
	local ncpu
	ncpu=$(nproc)
	[ "$ncpu" -ge 2 ] || {
		echo "SKIP: needs 2 online CPUs, have $ncpu"
		return 4
	}
	topo_three 2 || return 1
	# Upcalls of port 1 only: misses (UDP to 700x) and userspace(pid=0) actions (UDP to
	# 710x). CPU c sends to 700c and 710c, so the key of an upcall tells its CPU.
	local cpu
	for cpu in 0 1; do
		dpctl add-flow "$DP" "in_port(1),eth_type(0x0800),ipv4(proto=17),udp(dst=710$cpu)" \
			"userspace(pid=0)" || return 1
	done
	bg up $NL upcall-sockets "$DP" "$P1" --per-cpu 2 --timeout 200 \
		--ready-file "$TMPD/up.ready" --stop-file "$TMPD/up.stop"
	wait_for "$TMPD/up.ready" || return 1
	local cpu0 cpu1
	read -r _ cpu0 cpu1 <"$TMPD/up.ready"
	$NL dp-get "$DP" | tee "$TMPD/dp.json" || return 1
	grep -qF "\"per_cpu_pids\": [$cpu0, $cpu1]" "$TMPD/dp.json" &&
		grep -qF '"features": 3' "$TMPD/dp.json" || {
		echo "FAIL: GET does not show FEATURES 3 (PER_CPU_UPCALLS, SET_EXT) and per_cpu_pids [$cpu0, $cpu1]"
		return 1
	}
	udp_burst 0 7000 5 7100 3 && udp_burst 1 7001 5 7101 3 || return 1
	wait_count "$TMPD/up.out" '"sock": "cpu' 16 || return 1
	# Clearing (the empty array) falls back to port 1's own pid for both kinds of upcall.
	echo "set $DP" | $NL dp-script | tee "$TMPD/dp.json" || return 1
	grep -q '"ok": true' "$TMPD/dp.json" && ! grep -q per_cpu_pids "$TMPD/dp.json" || {
		echo "FAIL: clearing failed or per_cpu_pids still reported"
		return 1
	}
	udp_burst 0 7000 5 7100 3 && udp_burst 1 7001 5 7101 3 || return 1
	wait_count "$TMPD/up.out" '"sock": "vport"' 16 || return 1
	touch "$TMPD/up.stop"
	bgwait up || return 1
	for cpu in 0 1; do
		check_eq "CPU $cpu misses on socket cpu$cpu" "$(upcalls "cpu$cpu" "700$cpu")" 5 || return 1
		check_eq "CPU $cpu userspace(pid=0) on socket cpu$cpu" "$(upcalls "cpu$cpu" "710$cpu")" 3 ||
			return 1
		check_eq "CPU $cpu misses on port 1's socket after clearing" \
			"$(upcalls vport "700$cpu")" 5 || return 1
		check_eq "CPU $cpu userspace(pid=0) on port 1's socket after clearing" \
			"$(upcalls vport "710$cpu")" 3 || return 1
	done
	check_eq "UDP upcalls in all" "$(grep -c '"sock"' "$TMPD/up.out")" 32 || return 1
}

# expect_answer LINE WHAT PATTERN...: line LINE of $TMPD/out contains every PATTERN.
expect_answer() {
	local line=$1 what=$2 text p
	shift 2
	text=$(sed -n "${line}p" "$TMPD/out")
	for p in "$@"; do
		grep -qF -- "$p" <<<"$text" || {
			echo "FAIL: $what: answer $line lacks $p"
			return 1
		}
	done
	echo "ok: $what"
}

test_per_cpu_pids_refused() {
	module_load || return 1
	tmpdir
	local dp ncpu all over
	dp=vsw$(sfx)
	dpctl add-dp "$dp" || return 1
	defer "$VSW_DPCTL" del-dp "$dp"
	defer "$VSW_DPCTL" del-dp "${dp}m"
	# nr_cpu_ids: one more than the highest possible CPU number
	ncpu=$(($(sed 's/.*[-,]//' /sys/devices/system/cpu/possible) + 1))
	all=$(seq -s ' ' 1 "$ncpu") over=$(seq -s ' ' 1 $((ncpu + 1)))
	echo "possible CPUs: $ncpu"
	# One python process sends every request; each answer is one line, checked in order.
	printf '%s\n' "get $dp" "set $dp 101 102" "set $dp 101 0" "set $dp raw:0102030405" \
		"set $dp $over" "set $dp 101 features=1" "get $dp" "set $dp $all" "new ${dp}n 0" \
		"new ${dp}m 7" "set $dp" | $NL dp-script >"$TMPD/out" || return 1
	cat "$TMPD/out"
	expect_answer 1 "GET carries FEATURES (PER_CPU_UPCALLS, SET_EXT)" '"ok": true' '"features": 3' || return 1
	if sed -n 1p "$TMPD/out" | grep -q per_cpu_pids; then
		echo "FAIL: per_cpu_pids reported but never set"
		return 1
	fi
	expect_answer 2 "SET 2 pids" '"ok": true' '"per_cpu_pids": [101, 102]' || return 1
	expect_answer 3 "zero pid refused" '"ok": false' \
		'"error": "Invalid argument: per-CPU pids: pid 0 is not a socket"' || return 1
	expect_answer 4 "5 bytes refused" '"ok": false' \
		'"error": "Invalid argument: per-CPU pids: length is not a multiple of 4"' || return 1
	expect_answer 5 "$((ncpu + 1)) entries refused" '"ok": false' \
		'"error": "Invalid argument: per-CPU pids: more entries than possible CPUs"' || return 1
	expect_answer 6 "read-only FEATURES refused" '"ok": false' '"error": "Invalid argument: ' ||
		return 1
	expect_answer 7 "refusals left the array alone" '"per_cpu_pids": [101, 102]' || return 1
	expect_answer 8 "$ncpu entries (the limit)" '"ok": true' "\"per_cpu_pids\": [${all// /, }]" ||
		return 1
	expect_answer 9 "NEW with a zero pid refused" '"ok": false' \
		'"error": "Invalid argument: per-CPU pids: pid 0 is not a socket"' || return 1
	if ip link show "${dp}n" 2>/dev/null; then
		echo "FAIL: a refused NEW created ${dp}n"
		return 1
	fi
	expect_answer 10 "NEW with pids" '"ok": true' '"per_cpu_pids": [7]' || return 1
	expect_answer 11 "the empty array clears" '"ok": true' || return 1
	if sed -n 11p "$TMPD/out" | grep -q per_cpu_pids; then
		echo "FAIL: per_cpu_pids still reported after clearing"
		return 1
	fi
	# vsw-dpctl, which knows nothing of per-CPU pids, still reads such a datapath.
	dpctl show "${dp}m" || return 1
}

# VSW_FUZZ_MESSAGES (default 10,000: about 70 s under TCG) and VSW_FUZZ_SEED (default 1) scale
# and vary a run (a long run: VSW_FUZZ_MESSAGES=100000 VSW_SELFTESTS=netlink_struct_fuzz).
test_netlink_struct_fuzz() {
	module_load || return 1
	python3 -S "$VSW_TOP/tests/kernel/nl_fuzz.py" run --messages "${VSW_FUZZ_MESSAGES:-10000}" \
		--seed "${VSW_FUZZ_SEED:-1}" --workers 4 || {
		echo "FAIL: a worker failed or a request went unanswered (seed above)"
		return 1
	}
}

test_flow_replies_on_echo() {
	topo_three 2 || return 1
	$NL echo-replies "$DP" || {
		echo "FAIL: see the steps above (as_expected false)"
		return 1
	}
}

test_actions_size_bounded() {
	topo_three 2 || return 1
	$NL actions-limits "$DP" || {
		echo "FAIL: see the steps above (as_expected false)"
		return 1
	}
}

# frag_key NAME FIELD: one key field of frame NAME from $TMPD/keys (frag6-keys output).
frag_key() {
	grep -F "\"frame\": \"$1\"" "$TMPD/keys" | sed -n "s/.*\"$2\": \([0-9]*\).*/\1/p"
}

test_ipv6_later_fragment_key() {
	topo_three 1 || return 1
	$NL frag6-keys "$DP" | tee "$TMPD/keys" || return 1
	local f
	for f in later-fake-frag later-fake-dstopt later-udp; do
		check_eq "$f: ip_frag (any|later)" "$(frag_key "$f" ip_frag)" 3 || return 1
		check_eq "$f: tp_src" "$(frag_key "$f" tp_src)" 0 || return 1
		check_eq "$f: tp_dst" "$(frag_key "$f" tp_dst)" 0 || return 1
	done
	# The walk stops at a later fragment's header: ip_proto is its next header, whatever
	# the payload looks like.
	check_eq "later-fake-frag: ip_proto" "$(frag_key later-fake-frag ip_proto)" 44 || return 1
	check_eq "later-fake-dstopt: ip_proto" "$(frag_key later-fake-dstopt ip_proto)" 60 || return 1
	check_eq "later-udp: ip_proto" "$(frag_key later-udp ip_proto)" 17 || return 1
	check_eq "first-udp: ip_frag (any)" "$(frag_key first-udp ip_frag)" 1 || return 1
	check_eq "first-udp: tp_src" "$(frag_key first-udp tp_src)" 1111 || return 1
}

test_key_extract_paths() {
	topo_three 1 || return 1
	$NL key-paths "$DP"
}

test_forward_clears_tstamp() {
	have_tools tc || return 4
	topo_three 2 || return 1
	modprobe sch_fq 2>/dev/null
	run tc qdisc replace dev "$P2" root fq || {
		echo "SKIP: no fq qdisc"
		return 4
	}
	dpctl add-flow "$DP" "in_port(1),eth_type(0x0800)" 2 || return 1
	# The receiver asks for receive timestamps, which makes the stack stamp every packet it
	# receives (skb->tstamp, wall clock) before the datapath's rx_handler sees it. fq reads
	# skb->tstamp as a departure time on the monotonic clock: a forwarded packet that keeps
	# its receive stamp lies decades beyond fq's horizon and is dropped.
	bg rx n2 $PKT udp-recv 5000 20 --timeout 30 --timestamp --ready-file "$TMPD/rx.ready"
	wait_for "$TMPD/rx.ready" || return 1
	sleep 0.5 # the timestamp static key is switched on by a work item
	n1 $PKT udp-send 10.0.0.2 5000 20 || return 1
	bgwait rx
	local rc=$?
	run tc -s qdisc show dev "$P2"
	[ $rc = 0 ] || {
		echo "FAIL: datagrams were lost on the fq port"
		return 1
	}
	if tc -s qdisc show dev "$P2" | grep -qE 'horizon_drops [1-9]'; then
		echo "FAIL: fq dropped forwarded packets as beyond its horizon"
		return 1
	fi
}

test_port_stacked_refused() {
	topo_three 1 || return 1
	local v=${DP}.5 b=${DP}b err rc
	run ip link add link "$DP" name "$v" type vlan id 5 || return 1
	defer ip link del "$v"
	err=$("$VSW_DPCTL" add-if "$DP" "$v" 2>&1)
	rc=$?
	echo "stderr: $err"
	check_eq "attaching a VLAN of the datapath's own device" "$rc" 1 || return 1
	grep -qE '^vsw-dpctl: add-if: .*(stacked|loop).* \(' <<<"$err" || {
		echo "FAIL: no extack text naming the loop in '$err'"
		return 1
	}
	# The same VLAN device is a fine port of another datapath; but then a VLAN of that
	# datapath cannot join the first one (a loop through two datapaths).
	dpctl add-dp "$b" || return 1
	defer "$VSW_DPCTL" del-dp "$b"
	dpctl add-if "$b" "$v" || return 1
	run ip link add link "$b" name "$b.6" type vlan id 6 || return 1
	defer ip link del "$b.6"
	if dpctl add-if "$DP" "$b.6"; then
		echo "FAIL: a loop through two datapaths was accepted"
		return 1
	fi
	# An ordinary veth still attaches, and detaching keeps it usable elsewhere.
	dpctl del-if "$b" "$v" || return 1
	dpctl show "$DP" || return 1
}

test_flow_stats_clear() {
	topo_three 2 || return 1
	local f="in_port(1),eth_type(0x0800)"
	dpctl add-flow "$DP" "$f" 2 && dpctl add-flow "$DP" "in_port(2),eth_type(0x0800)" 1 || return 1
	n1 ping -c 3 -i 0.2 -W 2 10.0.0.2 || return 1
	check_eq "packets before clearing" "$(flow_packets "$DP" "$f")" 3 || return 1
	dpctl mod-flow "$DP" "$f" 2 --clear || return 1
	check_eq "packets after clearing" "$(flow_packets "$DP" "$f")" 0 || return 1
	"$VSW_DPCTL" get-flow "$DP" "$f" | tee "$TMPD/f"
	grep -q "bytes:0," "$TMPD/f" || {
		echo "FAIL: bytes not cleared"
		return 1
	}
	n1 ping -c 2 -i 0.2 -W 2 10.0.0.2 || return 1
	check_eq "packets counted after clearing" "$(flow_packets "$DP" "$f")" 2 || return 1
}

test_dp_limits_reported() {
	topo_three 1 || return 1
	$NL dp-get "$DP" | tee "$TMPD/dp.json" || return 1
	grep -qF '"max_flows": 1000000' "$TMPD/dp.json" && grep -qF '"max_masks": 4096' "$TMPD/dp.json" || {
		echo "FAIL: GET does not report max_flows 1000000 and max_masks 4096"
		return 1
	}
	dpctl show "$DP" | grep -qx '  limits: flows:1000000 masks:4096' || {
		echo "FAIL: vsw-dpctl show does not print the limits"
		return 1
	}
	$NL masks-fill "$DP" 4096 || return 1
	check_eq "masks" "$(dp_stat "$DP" masks)" 4096 || return 1
	dpctl del-flows "$DP" || return 1
}

test_upcall_key_userspace() {
	local probe=$VSW_BUILD/tests/support/dpif/vsw-upcall-probe
	[ -x "$probe" ] || {
		echo "SKIP: $probe is not built"
		return 4
	}
	topo_three 2 || return 1
	# No flows: every frame is a miss. The probe takes port 1's upcalls, executes each missed
	# packet with userspace(pid=0) (back to itself as an ACTION upcall, the kernel's key of
	# the packet as executed), and compares each upcall's KEY with extract_key(PACKET).
	bg up "$probe" "$DP" --handlers 1 --seconds 25 --min 1000 --check-key \
		--actions 'userspace(pid=0)'
	local i
	for ((i = 0; i < 100; i++)); do
		n1 ping -c 1 -W 0.1 10.0.0.2 >/dev/null 2>&1
		grep -q '^upcall ' "$TMPD/up.out" && break
	done
	grep -q '^upcall ' "$TMPD/up.out" || { echo "FAIL: the probe sees no upcalls"; return 1; }
	n1 $PKT key-frames eth0 || return 1
	bgwait up >"$TMPD/up.log"
	local rc=$?
	grep -v '^upcall ' "$TMPD/up.log"
	local checked
	checked=$(sed -n 's/.*key_checked=\([0-9]*\) .*/\1/p' "$TMPD/up.log")
	echo "# keys compared: ${checked:-none}"
	# Tagged frames under 20 bytes never reach the datapath (the stack drops them); each
	# frame that does is compared twice.
	[ "${checked:-0}" -ge 2400 ] || { echo "FAIL: too few upcalls compared"; return 1; }
	grep -q ' executed=[1-9][0-9][0-9][0-9] .*failed=0' "$TMPD/up.log" || {
		echo "FAIL: the probe did not execute the packets"
		return 1
	}
	grep -q 'key_mismatches=0$' "$TMPD/up.log" && [ $rc = 0 ] || {
		echo "FAIL: userspace and kernel keys differ (key-mismatch lines above)"
		return 1
	}
}
