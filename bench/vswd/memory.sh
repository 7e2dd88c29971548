#!/usr/bin/env bash
# Memory benchmark (run as root inside the VM; bench/vswd/run-bench boots it): resident
# memory of ovs-vswitchd and of vswd holding as many megaflows as the same traffic makes
# them cache, up to MEM_FLOWS.
#
# Same two-port topology and configuration as flow-setup.sh (MAC tables of 8,192 on
# both), except that the idle timeout is raised to 10 minutes on both (max-idle /
# idle-timeout) so that flows stay cached between passes. Each pass, pktgen sends
# MEM_FLOWS frames at MEM_RATE pps, each from its own source MAC (the same MACs every
# pass, so a flow missed in one pass can be installed in the next, and cached ones see
# traffic), first to one switch, then to the other (the order swapped each pass). After
# MEM_PASSES passes and a pause, both datapaths' flow counts and the daemons' VmRSS (and
# VmHWM, the peak) are read from /proc/PID/status.
# How many flows a daemon holds is decided by the daemon, not the traffic alone: both
# adaptive flow limits start at 10,000, grow by 1,000 after a fast revalidator dump and
# shrink after a slow one, and ovs-vswitchd also deletes flows that see under 5 packets/s
# whenever a MAC-table change makes it revalidate everything while its dumps are slow.
# Under TCG the counts stay far below MEM_FLOWS: the table says how many were cached.
# Env: MEM_FLOWS (default 100000), MEM_RATE (5000), MEM_PASSES (3).
set -uo pipefail
# shellcheck source=bench/vswd/lib.sh
. "$(dirname "$0")/lib.sh"
MEM_FLOWS=${MEM_FLOWS:-100000} MEM_RATE=${MEM_RATE:-5000} MEM_PASSES=${MEM_PASSES:-3}
trap 'topo_pair_del ovs; topo_pair_del vsw; bench_cleanup' EXIT

modules_load
ovs_start
vswd_start
ovs-vsctl set Open_vSwitch . other_config:max-idle=600000 || die "max-idle"
topo_pair ovs
topo_pair vsw
vctl set-bridge vbr idle-timeout=600000 >/dev/null || die "vsw-ctl set-bridge"
declare -A dmac base rss0
for s in ovs vsw; do
	dmac[$s]=$(sink_mac "$s")
	learn_sink "$s"
done
base[ovs]=06:01:00:00:00:00 base[vsw]=06:02:00:00:00:00
sleep 2
for s in ovs vsw; do rss0[$s]=$(rss_kb "$(pid_of "$s")"); done
note "baseline VmRSS: ovs-vswitchd ${rss0[ovs]} kB, vswd ${rss0[vsw]} kB"

status() { # SW: "flows F rss R kB"
	echo "flows $(dp_flows "$1") VmRSS $(rss_kb "$(pid_of "$1")") kB"
}
for pass in $(seq "$MEM_PASSES"); do
	order="ovs vsw"
	[ $((pass % 2)) = 0 ] && order="vsw ovs"
	for s in $order; do
		learn_sink "$s"
		pktgen_storm "${s}a" "${dmac[$s]}" "$MEM_FLOWS" "$MEM_RATE" "${base[$s]}"
		t0=$SECONDS
		pktgen_run
		sleep 2
		note "pass $pass $s: $(pktgen_sent "${s}a") frames in $((SECONDS - t0 - 2)) s; now $(status "$s")"
		if ! alive "$s"; then
			note "$s died"
			if [ "$s" = ovs ]; then ovs_log_tail 15; else vswd_log_tail 15; fi
		fi
	done
done
sleep 3

note "ovs-vswitchd: $(ovs-appctl upcall/show 2>/dev/null | grep -m1 flows | tr -s ' ')"
note "ovs-vswitchd memory/show: $(ovs-appctl memory/show 2>/dev/null | tr '\n' ' ')"
note "vswd: $(vctl upcall/show 2>/dev/null | grep -E '^flows|installs|skipped_stale|limit' | tr '\n' ' ')"

printf '\nmemory: %s frames/pass from %s distinct source MACs at %s pps, %s passes per switch\n' \
	"$MEM_FLOWS" "$MEM_FLOWS" "$MEM_RATE" "$MEM_PASSES"
printf '%-14s %10s %14s %14s %14s %16s %9s\n' switch "megaflows" "VmRSS idle" "VmRSS" \
	"VmHWM (peak)" "(RSS-idle)/flow" survived
for s in ovs vsw; do
	name=ovs-vswitchd
	[ $s = vsw ] && name=vswd
	if alive "$s"; then
		pid=$(pid_of "$s")
		f=$(dp_flows "$s") r=$(rss_kb "$pid") h=$(rss_kb "$pid" VmHWM)
		printf '%-14s %10s %11s kB %11s kB %11s kB %14s B %9s\n' "$name" "$f" "${rss0[$s]}" "$r" "$h" \
			"$(awk -v a="$r" -v b="${rss0[$s]}" -v f="$f" 'BEGIN { if (f > 0) printf "%d", (a - b) * 1024 / f; else print "-" }')" yes
	else
		printf '%-14s %10s %14s %14s %14s %16s %9s\n' "$name" - "${rss0[$s]} kB" - - - no
	fi
done
