#!/usr/bin/env bash
# Datapath forwarding benchmark, run as root inside ONE VM boot (see run-bench).
# In each row, pktgen in namespace A sends 64-byte UDP frames out of veth a0 and we
# count what namespace B receives on b0, per second:
#
#   A: a0 ==veth== a1 ─┐                        ┌─ b1 ==veth== b0 :B
#                      └─ bridge | ovs | vsw   ─┘
#   ("veth" row: a0 ==veth== b0 directly, the upper bound)
#
# Every row has its own namespaces and its own bridge/datapath, all built up front,
# and the rows are measured round-robin (REPS rounds), so that load changes on the
# host (TCG shares the CPUs) hit every row alike. Reported: the median per row and
# its ratio to the bare veth pair. Env: DUR (s, default 2), REPS (5), NFLOWS (1000).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
DUR=${DUR:-2} REPS=${REPS:-5} NFLOWS=${NFLOWS:-1000}
ko=$top/build/kmod/$(uname -r)/vsw.ko
ctl="python3 $top/bench/datapath/vswctl.py"
SRC=10.0.0.1 DST=10.0.0.2

die() { echo "bench: $*" >&2; exit 1; }
modprobe pktgen || die "no pktgen"
modprobe bridge
modprobe openvswitch || die "no openvswitch.ko"
insmod "$ko" || die "insmod $ko"

rows=(veth bridge "ovs 1 flow" "ovs 1000 flows/1 megaflow" "ovs 1000 exact megaflows"
      "vsw 1 flow" "vsw 1000 flows/1 megaflow" "vsw 1000 exact megaflows")
nflows=(1 1 1 "$NFLOWS" "$NFLOWS" 1 "$NFLOWS" "$NFLOWS") # distinct 5-tuples sent per row

pg() { ip netns exec "A$1" sh -c "echo '$2' > /proc/net/pktgen/$3" || die "pktgen: $2"; }

topology() { # $1 = row index; $2 = direct|switch
	local i=$1
	ip netns add "A$i"; ip netns add "B$i"
	if [ "$2" = direct ]; then
		ip link add a0 netns "A$i" type veth peer name b0 netns "B$i"
	else
		ip link add a0 netns "A$i" type veth peer name "a$i"
		ip link add b0 netns "B$i" type veth peer name "b$i"
		ip link set "a$i" up; ip link set "b$i" up
	fi
	ip -n "A$i" link set a0 up; ip -n "B$i" link set b0 up
}

pktgen_config() { # $1 = row index, $2 = number of source ports
	local i=$1 mac c
	mac=$(ip -n "B$i" link show b0 | awk '/link\/ether/ {print $2}')
	pg "$i" "rem_device_all" kpktgend_0
	pg "$i" "add_device a0" kpktgend_0
	for c in "count 0" "clone_skb 0" "pkt_size 60" "delay 0" "dst $DST" "src_min $SRC" \
		"src_max $SRC" "dst_mac $mac" "udp_dst_min 9" "udp_dst_max 9" "udp_src_min 1000" \
		"udp_src_max $((999 + $2))"; do
		pg "$i" "$c" a0
	done
	[ "$2" -gt 1 ] && pg "$i" "flag UDPSRC_RND" a0
}

exact_ovs_flows() { # $1 = output port
	local p
	for p in $(seq 1000 $((999 + NFLOWS))); do
		echo "in_port(1),eth(),eth_type(0x0800),ipv4(src=$SRC,dst=$DST,proto=17,frag=no),udp(src=$p,dst=9) $1"
	done
}

# Build every row.
topology 0 direct
for i in $(seq 1 $((${#rows[@]} - 1))); do topology "$i" switch; done
ip link add br1 type bridge; ip link set a1 master br1; ip link set b1 master br1; ip link set br1 up
for i in 2 3 4; do
	ovs-dpctl add-dp "ovs$i" "a$i" "b$i" || die "ovs-dpctl add-dp"
done
ovs-dpctl add-flow ovs2 "in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)" 2 || die "ovs flow"
ovs-dpctl add-flow ovs3 "in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)" 2 || die "ovs flow"
flows=$(mktemp)
exact_ovs_flows 2 >"$flows"
ovs-dpctl add-flows ovs4 "$flows" || die "ovs add-flows"
rm -f "$flows"
for i in 5 6 7; do
	$ctl add-dp "vsw$i" && $ctl add-if "vsw$i" "a$i" 1 && $ctl add-if "vsw$i" "b$i" 2 ||
		die "vsw setup"
done
$ctl flow-inport vsw5 1 2 && $ctl flow-inport vsw6 1 2 || die "vsw flow"
$ctl flows-exact vsw7 1 2 "$NFLOWS" $SRC $DST || die "vsw flows"
echo "# flows: ovs4 $(ovs-dpctl dump-flows ovs4 | wc -l), vsw7 $($ctl stats vsw7 | cut -d' ' -f4)" >&2
for i in "${!rows[@]}"; do pktgen_config "$i" "${nflows[$i]}"; done

rx() { ip netns exec "B$1" cat /sys/class/net/b0/statistics/rx_packets; }

measure() { # $1 = row index; prints received packets per second
	local i=$1 r0 r1 t0 t1 pid
	ip netns exec "A$i" sh -c 'echo start > /proc/net/pktgen/pgctrl' &
	pid=$!
	sleep 0.3
	r0=$(rx "$i"); t0=$(date +%s%N)
	sleep "$DUR"
	r1=$(rx "$i"); t1=$(date +%s%N)
	ip netns exec "A$i" sh -c 'echo stop > /proc/net/pktgen/pgctrl'
	wait "$pid" 2>/dev/null
	echo $(((r1 - r0) * 1000000000 / (t1 - t0)))
}

declare -a runs
for rep in $(seq "$REPS"); do
	for i in "${!rows[@]}"; do runs[$i]+="$(measure "$i") "; done
	echo "# round $rep done" >&2
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

for i in 2 3 4; do ovs-dpctl show "ovs$i" | grep -E "lookups|masks:" | sed "s/^/# ovs$i /" >&2; done
for i in 5 6 7; do
	echo "# vsw$i hit missed lost flows masks mask_hit microflow_hit: $($ctl stats "vsw$i")" >&2
done

veth=$(echo "${runs[0]}" | median)
printf '%-28s %12s %8s   %s\n' "path (64-byte UDP)" "median pps" "vs veth" "runs (pps)"
for i in "${!rows[@]}"; do
	m=$(echo "${runs[$i]}" | median)
	printf '%-28s %12s %8s   %s\n' "${rows[$i]}" "$m" \
		"$(awk -v a="$m" -v b="$veth" 'BEGIN {printf "%.2f", b ? a / b : 0}')" "${runs[$i]}"
done

# Tear down: datapaths first, then the namespaces, then the module.
for i in 2 3 4; do ovs-dpctl del-dp "ovs$i"; done
for i in "${!rows[@]}"; do ip netns del "A$i"; ip netns del "B$i"; done
ip link del br1 2>/dev/null
sleep 1
rmmod vsw || die "rmmod vsw"
