#!/usr/bin/env bash
# Datapath benchmark, run as root inside ONE VM boot (see run-bench). In each row, pktgen
# in namespace A sends 64-byte UDP frames out of veth a0, to namespace B's b0:
#
#   A: a0 ==veth== a1 ─┐                                       ┌─ b1 ==veth== b0 :B
#                      └─ floor | tc | bridge | ovs | vsw    ─┘
#   ("veth" rows: a0 ==veth== b0 directly, the upper bound)
#
# Every row has its own namespaces and its own forwarding element, all built up front,
# and the rows are measured round-robin (REPS rounds).
#   MODE=insn (run-bench --insn): pktgen sends NPKT packets per run; the QEMU plugin
#     (insn-plugin/) counts the guest's instructions between two marker files written
#     around the run, in MARKDIR. Reported: instructions per packet, the median per row,
#     the cost above the veth and floor rows that send as many source ports, and the
#     spread across runs (max - min, over the median).
#     PROF="ROW..." (row numbers, from 0) also writes a per-instruction profile of one
#     extra run of each to MARKDIR/profile-ROW.txt, with /proc/kallsyms beside them.
#   MODE=pps: packets received per second over DUR seconds, the median per row and its
#     ratio to the bare veth pair. Under TCG only a wall-clock sanity check.
# Env: MODE (pps), DUR (s, 2), REPS (5), NFLOWS (1000), NPKT (50000), MARKDIR, PROF.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
MODE=${MODE:-pps} DUR=${DUR:-2} REPS=${REPS:-5} NFLOWS=${NFLOWS:-1000} NPKT=${NPKT:-50000}
ko=$top/build/kmod/$(uname -r)/vsw.ko
floor=$top/build/floor/$(uname -r)/floor.ko
ctl="python3 $here/vswctl.py"
SRC=10.0.0.1 DST=10.0.0.2

die() { echo "bench: $*" >&2; exit 1; }
modprobe pktgen || die "no pktgen"
modprobe bridge
modprobe openvswitch || die "no openvswitch.ko"
insmod "$ko" || die "insmod $ko"

rows=(veth "veth, 1000 source ports" floor "floor, 1000 source ports" "tc mirred" bridge
      "ovs 1 flow" "ovs 1000 flows/1 megaflow" "ovs 1000 exact megaflows" "vsw 1 flow"
      "vsw 1000 flows/1 megaflow" "vsw 1000 exact megaflows" "vsw 1000 flows/8 masks")
# Distinct 5-tuples sent (UDP source ports). pktgen's random ports cost it ~200
# instructions per packet, so the 1000-port rows are compared with 1000-port baselines.
nflows=(1 "$NFLOWS" 1 "$NFLOWS" 1 1 1 "$NFLOWS" "$NFLOWS" 1 "$NFLOWS" "$NFLOWS" "$NFLOWS")
VETH=(0 1) FLOOR=(2 3) TC=4 BR=5 OVS=(6 7 8) VSW=(9 10 11 12)

pg() { ip netns exec "A$1" sh -c "echo '$2' > /proc/net/pktgen/$3" || die "pktgen: $2"; }

topology() { # $1 = row index; $2 = direct|switch
	local i=$1 ns
	ip netns add "A$i"; ip netns add "B$i"
	for ns in "A$i" "B$i"; do
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1
	done
	if [ "$2" = direct ]; then
		ip link add a0 netns "A$i" type veth peer name b0 netns "B$i"
	else
		ip link add a0 netns "A$i" type veth peer name "a$i"
		ip link add b0 netns "B$i" type veth peer name "b$i"
		ip link set "a$i" up; ip link set "b$i" up
	fi
	ip -n "A$i" link set a0 up; ip -n "B$i" link set b0 up
}

pktgen_config() { # $1 = row index, $2 = number of source ports, $3 = packets per run (0: no end)
	local i=$1 mac c
	mac=$(ip -n "B$i" link show b0 | awk '/link\/ether/ {print $2}')
	pg "$i" "rem_device_all" kpktgend_0
	pg "$i" "add_device a0" kpktgend_0
	for c in "count $3" "clone_skb 0" "pkt_size 60" "delay 0" "dst $DST" "src_min $SRC" \
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

# No IPv6 anywhere: router and neighbour solicitations and MLD reports would otherwise
# cross the switches (and be counted) while the rows are measured.
sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1

# Build every row.
for i in "${!rows[@]}"; do
	case " ${VETH[*]} " in *" $i "*) topology "$i" direct ;; *) topology "$i" switch ;; esac
done
insmod "$floor" a=a${FLOOR[0]},a${FLOOR[1]} b=b${FLOOR[0]},b${FLOOR[1]} || die "insmod $floor"
tc qdisc add dev a$TC ingress || die "tc qdisc"
tc filter add dev a$TC ingress matchall action mirred egress redirect dev b$TC || die "tc filter"
ip link add br1 type bridge
ip link set a$BR master br1; ip link set b$BR master br1; ip link set br1 up
for i in "${OVS[@]}"; do
	ovs-dpctl add-dp "ovs$i" "a$i" "b$i" || die "ovs-dpctl add-dp"
done
ovs-dpctl add-flow "ovs${OVS[0]}" "in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)" 2 || die "ovs flow"
ovs-dpctl add-flow "ovs${OVS[1]}" "in_port(1),eth(),eth_type(0x0800),ipv4(frag=no)" 2 || die "ovs flow"
flows=$(mktemp)
exact_ovs_flows 2 >"$flows"
ovs-dpctl add-flows "ovs${OVS[2]}" "$flows" || die "ovs add-flows"
rm -f "$flows"
for i in "${VSW[@]}"; do
	$ctl add-dp "vsw$i" && $ctl add-if "vsw$i" "a$i" 1 && $ctl add-if "vsw$i" "b$i" 2 ||
		die "vsw setup"
done
$ctl flow-inport "vsw${VSW[0]}" 1 2 && $ctl flow-inport "vsw${VSW[1]}" 1 2 || die "vsw flow"
$ctl flows-exact "vsw${VSW[2]}" 1 2 "$NFLOWS" $SRC $DST || die "vsw flows"
$ctl flows-masks "vsw${VSW[3]}" 1 2 "$NFLOWS" 8 $SRC $DST || die "vsw flows over masks"
echo "# flows: ovs${OVS[2]} $(ovs-dpctl dump-flows "ovs${OVS[2]}" | wc -l)," \
	"vsw${VSW[2]} $($ctl stats "vsw${VSW[2]}" | cut -d' ' -f4)" >&2

rx() { ip netns exec "B$1" cat /sys/class/net/b0/statistics/rx_packets; }

measure_pps() { # $1 = row index; prints received packets per second
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

# MODE=insn: insn-run.sh, inside namespace A, writes the start marker, runs pktgen to its
# end, writes the stop marker and prints the two counts; nothing forks in between.
measure_insn() { # $1 = row index, $2 = label; prints instructions per packet
	local i=$1 r0 r1 c
	r0=$(rx "$i")
	c=$(ip netns exec "A$i" bash "$here/insn-run.sh" "$MARKDIR" "$2") || die "insn-run $2"
	r1=$(rx "$i")
	[ $((r1 - r0)) -eq "$NPKT" ] ||
		echo "# $2 (${rows[$i]}): $((r1 - r0)) of $NPKT packets received" >&2
	set -- $c
	awk -v a="$1" -v b="$2" -v n="$NPKT" 'BEGIN {printf "%.1f", (b - a) / n}'
}

if [ "$MODE" = insn ]; then
	[ -d "${MARKDIR:-}" ] || die "MODE=insn needs MARKDIR (run-bench --insn)"
	for i in "${!rows[@]}"; do pktgen_config "$i" "${nflows[$i]}" "$NPKT"; done
	# One warm-up run of 1,000 packets per row: first-packet work is not counted.
	for i in "${!rows[@]}"; do
		pg "$i" "count 1000" a0
		ip netns exec "A$i" sh -c 'echo start > /proc/net/pktgen/pgctrl'
		pg "$i" "count $NPKT" a0
	done
	measure=measure_insn
else
	for i in "${!rows[@]}"; do pktgen_config "$i" "${nflows[$i]}" 0; done
	measure=measure_pps
fi

declare -a runs
for rep in $(seq "$REPS"); do
	for i in "${!rows[@]}"; do runs[$i]+="$($measure "$i" "r$rep-$i") "; done
	echo "# round $rep done" >&2
done

if [ "$MODE" = insn ] && [ -n "${PROF:-}" ]; then
	cat /proc/kallsyms >"$MARKDIR/kallsyms"
	for i in $PROF; do
		ip netns exec "A$i" bash "$here/insn-run.sh" "$MARKDIR" prof-start-$i prof-stop-$i \
			>/dev/null || die "profile run"
		mv "$MARKDIR/p.prof-stop-$i" "$MARKDIR/profile-$i.txt"
		echo "# profile of row $i (${rows[$i]}), $NPKT packets: $MARKDIR/profile-$i.txt" >&2
	done
fi

for i in "${OVS[@]}"; do ovs-dpctl show "ovs$i" | grep -E "lookups|masks:" | sed "s/^/# ovs$i /" >&2; done
for i in "${VSW[@]}"; do
	echo "# vsw$i hit missed lost flows masks mask_hit microflow_hit: $($ctl stats "vsw$i")" >&2
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

if [ "$MODE" = insn ]; then
	echo "# $(uname -r), 1 vCPU, $NPKT packets of 64 bytes per run, $REPS runs per row"
	printf '%-28s %9s %7s %7s %7s   %s\n' "path (64-byte UDP)" "insn/pkt" "+veth" \
		"+floor" "spread" "runs (insn/pkt)"
	for i in "${!rows[@]}"; do
		m=$(echo "${runs[$i]}" | median)
		j=$([ "${nflows[$i]}" -gt 1 ] && echo 1 || echo 0) # the baselines with as many ports
		veth=$(echo "${runs[${VETH[$j]}]}" | median) fl=$(echo "${runs[${FLOOR[$j]}]}" | median)
		sp=$(echo "${runs[$i]}" | tr ' ' '\n' | grep . | sort -g | awk -v m="$m" \
			'NR == 1 {lo = $1} {hi = $1} END {printf "%.2f%%", m ? 100 * (hi - lo) / m : 0}')
		printf '%-28s %9.0f %7.0f %7.0f %7s   %s\n' "${rows[$i]}" "$m" \
			"$(awk "BEGIN {print $m - $veth}")" "$(awk "BEGIN {print $m - $fl}")" "$sp" "${runs[$i]}"
	done
else
	veth=$(echo "${runs[0]}" | median)
	printf '%-28s %12s %8s   %s\n' "path (64-byte UDP)" "median pps" "vs veth" "runs (pps)"
	for i in "${!rows[@]}"; do
		m=$(echo "${runs[$i]}" | median)
		printf '%-28s %12s %8s   %s\n' "${rows[$i]}" "$m" \
			"$(awk -v a="$m" -v b="$veth" 'BEGIN {printf "%.2f", b ? a / b : 0}')" "${runs[$i]}"
	done
fi

# Tear down: the floor module and the datapaths first, then the namespaces, then vsw.ko.
rmmod floor || die "rmmod floor"
for i in "${OVS[@]}"; do ovs-dpctl del-dp "ovs$i"; done
for i in "${!rows[@]}"; do ip netns del "A$i"; ip netns del "B$i"; done
ip link del br1 2>/dev/null
sleep 1
rmmod vsw || die "rmmod vsw"
