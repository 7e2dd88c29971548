#!/usr/bin/env bash
# Datapath forwarding benchmark, run as root inside ONE VM boot (see run-bench).
# pktgen in namespace bA sends 64-byte UDP frames out of veth a0; we count what
# namespace bB receives on b0, per second, through each forwarding element:
#
#   bA: a0 ==veth== a1 ─┐                       ┌─ b1 ==veth== b0 :bB
#                       └─ bridge | ovs | vsw  ─┘
#   ("veth" row: a0 ==veth== b0 directly, the upper bound)
#
# Each row is run REPS times for DUR seconds; the median is reported, and its ratio
# to the bare veth pair. Env: DUR (s, default 3), REPS (default 3), NFLOWS (1000).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
DUR=${DUR:-3} REPS=${REPS:-3} NFLOWS=${NFLOWS:-1000}
ko=$top/build/kmod/$(uname -r)/vsw.ko
ctl="python3 $top/bench/datapath/vswctl.py"
SRC=10.0.0.1 DST=10.0.0.2

modprobe pktgen || exit 1
modprobe bridge
modprobe openvswitch || echo "# no openvswitch.ko" >&2
insmod "$ko" || exit 1

die() { echo "bench: $*" >&2; exit 1; }
pg() { ip netns exec bA sh -c "echo '$1' > /proc/net/pktgen/$2" || die "pktgen: $1"; }

setup() { # $1 = direct|switch
	ip netns add bA; ip netns add bB
	if [ "$1" = direct ]; then
		ip link add a0 netns bA type veth peer name b0 netns bB
	else
		ip link add a0 netns bA type veth peer name a1
		ip link add b0 netns bB type veth peer name b1
		ip link set a1 up; ip link set b1 up
	fi
	ip -n bA link set a0 up; ip -n bB link set b0 up
}

teardown() {
	ip netns del bA 2>/dev/null; ip netns del bB 2>/dev/null
	ip link del a1 2>/dev/null; ip link del b1 2>/dev/null
	sleep 1
}

pktgen_config() { # $1 = 1 (one 5-tuple) | N (random source ports 1000..999+N)
	local mac
	mac=$(ip -n bB link show b0 | awk '/link\/ether/ {print $2}')
	pg "rem_device_all" kpktgend_0
	pg "add_device a0" kpktgend_0
	for c in "count 0" "clone_skb 0" "pkt_size 60" "delay 0" "dst $DST" "src_min $SRC" \
		"src_max $SRC" "dst_mac $mac" "udp_dst_min 9" "udp_dst_max 9" "udp_src_min 1000"; do
		pg "$c" a0
	done
	if [ "$1" -gt 1 ]; then
		pg "udp_src_max $((999 + $1))" a0
		pg "flag UDPSRC_RND" a0
	else
		pg "udp_src_max 1000" a0
	fi
}

rx() { ip netns exec bB cat /sys/class/net/b0/statistics/rx_packets; }

measure() { # prints received packets per second of one run
	local r0 r1 t0 t1
	ip netns exec bA sh -c 'echo start > /proc/net/pktgen/pgctrl' &
	local pid=$!
	sleep 0.5
	r0=$(rx); t0=$(date +%s%N)
	sleep "$DUR"
	r1=$(rx); t1=$(date +%s%N)
	ip netns exec bA sh -c 'echo stop > /proc/net/pktgen/pgctrl'
	wait "$pid" 2>/dev/null
	echo $(((r1 - r0) * 1000000000 / (t1 - t0)))
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

declare -A result
run_row() { # $1 = row name, $2 = pktgen flows; the topology is already set up
	local runs="" i
	pktgen_config "$2"
	for i in $(seq "$REPS"); do runs+="$(measure) "; done
	result[$1]=$(echo $runs | tr ' ' '\n' | median)
	echo "# $1: runs $runs-> median ${result[$1]}" >&2
}

rows=(veth bridge "ovs 1 flow" "ovs 1000 flows/1 megaflow" "ovs 1000 exact megaflows"
      "vsw 1 flow" "vsw 1000 flows/1 megaflow" "vsw 1000 exact megaflows")

# 1. bare veth pair
setup direct; run_row veth 1; teardown

# 2. Linux bridge
setup switch
ip link add br0 type bridge; ip link set a1 master br0; ip link set b1 master br0
ip link set br0 up
run_row bridge 1
ip link del br0; teardown

# 3. openvswitch.ko through Debian's ovs-dpctl
setup switch
ovs-dpctl add-dp ovs0 a1 b1 || die "ovs-dpctl add-dp"
ovs-dpctl add-flow ovs0 "in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)" 2 || die "ovs add-flow"
run_row "ovs 1 flow" 1
run_row "ovs 1000 flows/1 megaflow" "$NFLOWS"
ovs-dpctl del-flows ovs0
flows=$(mktemp)
for p in $(seq 1000 $((999 + NFLOWS))); do
	echo "in_port(1),eth(),eth_type(0x0800),ipv4(src=$SRC,dst=$DST,proto=17,frag=no),udp(src=$p,dst=9) 2"
done >"$flows"
ovs-dpctl add-flows ovs0 "$flows" || die "ovs add-flows"
rm -f "$flows"
echo "# ovs flows: $(ovs-dpctl dump-flows ovs0 | wc -l)" >&2
run_row "ovs 1000 exact megaflows" "$NFLOWS"
ovs-dpctl show ovs0 | grep -E "lookups|masks" | sed 's/^/# ovs /' >&2
ovs-dpctl del-dp ovs0; teardown

# 4. vsw.ko
setup switch
$ctl add-dp vsw0 && $ctl add-if vsw0 a1 1 && $ctl add-if vsw0 b1 2 || die "vsw setup"
$ctl flow-inport vsw0 1 2 || die "vsw flow"
run_row "vsw 1 flow" 1
run_row "vsw 1000 flows/1 megaflow" "$NFLOWS"
$ctl flush vsw0 || die "vsw flush"
$ctl flows-exact vsw0 1 2 "$NFLOWS" $SRC $DST || die "vsw flows"
run_row "vsw 1000 exact megaflows" "$NFLOWS"
echo "# vsw stats (hit missed lost flows masks mask_hit microflow_hit): $($ctl stats vsw0)" >&2
teardown
rmmod vsw || die "rmmod vsw"

# The table.
veth=${result[veth]}
printf '%-28s %14s %10s\n' "path (64-byte UDP)" "rx packets/s" "vs veth"
for r in "${rows[@]}"; do
	v=${result[$r]:-0}
	printf '%-28s %14s %10s\n' "$r" "$v" "$(awk -v a="$v" -v b="$veth" 'BEGIN {printf "%.2f", b ? a / b : 0}')"
done
