#!/usr/bin/env bash
# FLOW_MOD throughput benchmark (run as root inside the VM; bench/vswd/run-bench boots it):
# FM_FLOWS rules added from one file by `ovs-ofctl -O OpenFlow13 add-flows` (which ends
# with a barrier and waits for its reply) over each bridge's management socket, to
# ovs-vswitchd and to vswd, in one boot; then the time until a packet matching the last
# rule is forwarded, and the resident memory each daemon gained.
#
# Both bridges are the two-port topology of lib.sh in fail mode secure (no NORMAL rule:
# only the added rules forward). The rules are "priority=100,ip,nw_dst=10.X.Y.Z,
# actions=output:2", one destination each; the probe (probe.py reach) then sends UDP to the
# last rule's address from port 1 every 2 ms until the sink behind port 2 sees it, so the
# time includes the first packet's upcall and translation through all FM_FLOWS rules. Each
# run checks that the bridge holds exactly FM_FLOWS rules afterwards (dump-aggregate), then
# deletes them (del-flows) for the next run. FM_REPS runs per switch, alternating which
# goes first; the table has medians, memory from the first run (VmRSS after the rules were
# added minus VmRSS before).
# With MARKDIR (run-bench --insn: one vCPU, -icount, the insn.so plugin of
# bench/datapath/insn-plugin) each add-flows run is also counted in guest instructions,
# everything the guest executed from just before ovs-ofctl started to just after it
# exited (ovs-ofctl, the daemon, the kernel), and the table gets instructions per rule,
# with a floor row: the same add-flows against of_floor (OF_FLOOR, built by run-bench), a
# responder that only answers what ovs-ofctl waits for, so what ovs-ofctl and the kernel
# spend per rule. A switch's own cost is its count minus the floor's. (ovs-ofctl runs with
# --no-names there: of_floor has no table features to give; that is one exchange per
# add-flows, nothing per rule.)
# Env: FM_FLOWS (default 100000), FM_REPS (3).
set -uo pipefail
# shellcheck source=bench/vswd/lib.sh
. "$(dirname "$0")/lib.sh"
FM_FLOWS=${FM_FLOWS:-100000} FM_REPS=${FM_REPS:-3}
trap 'topo_pair_del ovs; topo_pair_del vsw; bench_cleanup' EXIT

modules_load
ovs_start
vswd_start
topo_pair ovs
topo_pair vsw
ovs-vsctl set-fail-mode obr secure || die "ovs-vsctl set-fail-mode"
vctl set-fail-mode vbr secure >/dev/null || die "vsw-ctl set-fail-mode"
OF=(ovs-ofctl -O OpenFlow13)
target() { if [ "$1" = ovs ]; then echo "unix:$OVS_RUNDIR/obr.mgmt"; else echo "unix:$BENCH_WORK/vsw/vbr.mgmt"; fi; }

rules=$BENCH_WORK/rules.txt
awk -v n="$FM_FLOWS" 'BEGIN { for (i = 0; i < n; i++)
	printf "priority=100,ip,nw_dst=10.%d.%d.%d,actions=output:2\n", int(i / 65536), int(i / 256) % 256, i % 256 }' >"$rules"
last=$(tail -n 1 "$rules" | sed 's/.*nw_dst=\([0-9.]*\),.*/\1/')
note "$FM_FLOWS rules in $rules, the last to $last"

declare -A add_ms reach_ms rss0 rss1 insn_rule
if [ -n "${MARKDIR:-}" ]; then
	# shellcheck source=bench/datapath/insn-plugin/mark.sh
	. "$VSW_TOP/bench/datapath/insn-plugin/mark.sh"
	insn_mark_init "$MARKDIR" || die "insn markers in $MARKDIR"
fi
# one_run SW REP: add the rules, probe, check, delete; records the run's figures.
one_run() {
	local s=$1 rep=$2 t0 t1 out n pid
	pid=$(pid_of "$s")
	[ "$rep" = 1 ] && rss0[$s]=$(rss_kb "$pid")
	local a=0 label=fm-$s-$rep
	t0=$(date +%s%N)
	[ -z "${MARKDIR:-}" ] || { insn_mark "$label" || die "insn marker"; a=$count; }
	"${OF[@]}" add-flows "$(target "$s")" "$rules" || die "$s: ovs-ofctl add-flows"
	if [ -n "${MARKDIR:-}" ]; then
		insn_mark "$label.end" || die "insn marker"
		insn_rule[$s]+="$(((count - a) / FM_FLOWS)) "
		insn_mark_done "$label" "$label.end"
	fi
	t1=$(date +%s%N)
	out=$("${PROBE[@]}" reach "${s}a" "$(sink_mac "$s")" "$last" "${s}B" "${s}b" --timeout 60)
	add_ms[$s]+="$(((t1 - t0) / 1000000)) "
	reach_ms[$s]+="$(awk '{ print ($1 == "reach_ms") ? $2 : "-" }' <<<"$out") "
	[ "$rep" = 1 ] && rss1[$s]=$(rss_kb "$pid")
	n=$("${OF[@]}" dump-aggregate "$(target "$s")" | sed -n 's/.*flow_count=\([0-9]*\).*/\1/p')
	note "run $rep $s: add-flows $(((t1 - t0) / 1000000)) ms${MARKDIR:+, $(((count - a) / FM_FLOWS)) instructions per rule}, then $out; $n rules; VmRSS $(rss_kb "$pid") kB"
	[ "$n" = "$FM_FLOWS" ] || die "$s holds $n rules, not $FM_FLOWS"
	alive "$s" || die "$s died"
	"${OF[@]}" del-flows "$(target "$s")" || die "$s: ovs-ofctl del-flows"
	sleep 2
}

# floor_run REP: the add-flows of one_run against of_floor, counted.
floor_run() {
	local sock=$BENCH_WORK/of_floor.sock a
	"$OF_FLOOR" "$sock" &
	local fpid=$!
	for ((i = 0; i < 100; i++)); do [ -S "$sock" ] && break; sleep 0.1; done
	insn_mark "fm-floor-$1" || die "insn marker"
	a=$count
	ovs-ofctl --no-names -O OpenFlow13 add-flows "unix:$sock" "$rules" || die "floor: ovs-ofctl add-flows"
	insn_mark "fm-floor-$1.end" || die "insn marker"
	insn_rule[floor]+="$(((count - a) / FM_FLOWS)) "
	insn_mark_done "fm-floor-$1" "fm-floor-$1.end"
	kill "$fpid"
	wait "$fpid" 2>/dev/null
	note "run $1 floor: $(((count - a) / FM_FLOWS)) instructions per rule"
}

for rep in $(seq "$FM_REPS"); do
	order="ovs vsw"
	[ $((rep % 2)) = 0 ] && order="vsw ovs"
	for s in $order; do one_run "$s" "$rep"; done
	[ -z "${MARKDIR:-}" ] || [ -z "${OF_FLOOR:-}" ] || floor_run "$rep"
done

printf '\nflow-mod: %s rules by ovs-ofctl add-flows (a FLOW_MOD + BARRIER round trip each), %s runs per switch, medians\n' \
	"$FM_FLOWS" "$FM_REPS"
printf '%-14s %14s %14s %18s %14s %14s %16s%s\n' switch "add-flows ms" "rules/s" \
	"first packet ms" "VmRSS before" "VmRSS after" "(after-before)/rule" "${MARKDIR:+      insn/rule}"
declare -A med_ms med_insn
for s in ovs vsw; do
	name=ovs-vswitchd
	[ $s = vsw ] && name=vswd
	a=$(tr ' ' '\n' <<<"${add_ms[$s]}" | grep -v '^$' | median)
	r=$(tr ' ' '\n' <<<"${reach_ms[$s]}" | grep -v '^[-]*$' | median)
	med_ms[$s]=$a
	ins=
	if [ -n "${MARKDIR:-}" ]; then
		med_insn[$s]=$(tr ' ' '\n' <<<"${insn_rule[$s]}" | grep -v '^$' | median)
		ins=$(printf ' %14s' "${med_insn[$s]}")
	fi
	printf '%-14s %14s %14s %18s %11s kB %11s kB %14s B%s\n' "$name" "$a" \
		"$(awk -v n="$FM_FLOWS" -v ms="$a" 'BEGIN { printf "%d", n * 1000 / ms }')" "$r" \
		"${rss0[$s]}" "${rss1[$s]}" \
		"$(awk -v a="${rss1[$s]}" -v b="${rss0[$s]}" -v n="$FM_FLOWS" 'BEGIN { printf "%d", (a - b) * 1024 / n }')" "$ins"
done
floor=
if [ -n "${insn_rule[floor]:-}" ]; then
	floor=$(tr ' ' '\n' <<<"${insn_rule[floor]}" | grep -v '^$' | median)
	printf '%-14s %14s %14s %18s %14s %14s %16s  %14s\n' "floor" - - - - - - "$floor"
	printf 'own instructions per rule (minus the floor): ovs-vswitchd %s, vswd %s\n' \
		$((med_insn[ovs] - floor)) $((med_insn[vsw] - floor))
fi
printf 'vswd against ovs-vswitchd: %s times the rate by the clock' \
	"$(awk -v o="${med_ms[ovs]}" -v v="${med_ms[vsw]}" 'BEGIN { printf "%.2f", o / v }')"
[ -z "${MARKDIR:-}" ] ||
	printf ', %s times fewer instructions per rule' \
		"$(awk -v o="${med_insn[ovs]}" -v v="${med_insn[vsw]}" 'BEGIN { printf "%.2f", o / v }')"
[ -z "$floor" ] ||
	printf ', %s times fewer of its own' \
		"$(awk -v o="${med_insn[ovs]}" -v v="${med_insn[vsw]}" -v f="$floor" 'BEGIN { printf "%.2f", (o - f) / (v - f) }')"
echo
