#!/usr/bin/env bash
# Flow-setup benchmark (run as root inside the VM; bench/vswd/run-bench boots it):
# every frame a new megaflow, ovs-vswitchd on openvswitch.ko against vswd on vsw.ko.
#
#   ${SW}a ==veth== ${SW}ap [1] ─ bridge (standalone, NORMAL) ─ [2] ${SW}bp ==veth== ${SW}b (sink)
#
# pktgen on ${SW}a sends RATE*DUR frames at RATE frames/s, each from the next source MAC
# of a sequence new to the run, to the sink's (learned) MAC: a new megaflow for NORMAL
# per frame. Meanwhile probe.py measures upcall-to-install latency. Runs alternate OVS
# and vsw (the order swapped each round), REPS rounds; the datapath is flushed before
# and after each run (the daemons keep running: a daemon that dies is restarted, and
# counted).
#
# Per run, over the storm's duration as pktgen timed it:
#   megaflows/s  growth of the datapath's flow count (what is cached at the storm's end);
#   installs/s   megaflows the daemon counted as installed (see daemon_installs);
#   lost/s       growth of the datapath's "lost" counter (misses not queued to userspace);
#   sent pps     pktgen's own rate (below RATE when the sending CPU could not keep up).
# The table gives the medians over the runs.
# Env: RATE (default 20000), DUR (10), REPS (3), PROBE_WINDOW (3.0 s), PROBE_INTERVAL (2 ms).
set -uo pipefail
HZ=$(getconf CLK_TCK)
# shellcheck source=bench/vswd/lib.sh
. "$(dirname "$0")/lib.sh"
RATE=${RATE:-20000} DUR=${DUR:-10} REPS=${REPS:-3}
PROBE_WINDOW=${PROBE_WINDOW:-3.0} PROBE_INTERVAL=${PROBE_INTERVAL:-2}
trap 'topo_pair_del ovs; topo_pair_del vsw; bench_cleanup' EXIT

modules_load
ovs_start
vswd_start
topo_pair ovs
topo_pair vsw
declare -A dmac deaths lat0 lat1 rates installs losts sent
for s in ovs vsw; do
	dmac[$s]=$(sink_mac "$s")
	deaths[$s]=0
done
stats_cmd() {
	if [ "$1" = ovs ]; then echo "ovs-dpctl show $OVS_DP"; else echo "$VSWDPCTL show vbr"; fi
}

# restart SW: a daemon that died is started again (and its bridge restored) for the
# next run; the death is counted.
restart() {
	note "$1 daemon died during run $2; last log lines:"
	if [ "$1" = ovs ]; then
		ovs_log_tail 15
		ovs_start
	else
		vswd_log_tail 15
		vswd_start
	fi
	deaths[$1]=$((deaths[$1] + 1))
}

# daemon_installs SW: megaflows the daemon says it installed so far (ovs-vswitchd: its
# dpif_flow_put coverage counter, which also counts the rare put of a revalidator;
# vswd: "installs" of upcall/show).
daemon_installs() {
	if [ "$1" = ovs ]; then
		ovs-appctl coverage/read-counter dpif_flow_put 2>/dev/null
	else
		vctl upcall/show 2>/dev/null | awk '$1 == "installs:" { print $2 }'
	fi
}

# cpu_ticks SW: the daemon's user and system CPU time so far (all threads), in clock ticks.
cpu_ticks() { awk '{ print $14, $15 }' "/proc/$(pid_of "$1")/stat" 2>/dev/null || echo "0 0"; }

# probe_lat CPU FILE: the latencies of FILE's probes on CPU, ">W" for a censored one.
probe_lat() {
	awk -v c="$1" '$3 == "cpu" && $4 == c && /^latency_ms/ { printf "%s ", $2 }
		$3 == "cpu" && $4 == c && /^censored_ms/ { printf ">%s ", $2 }' "$2"
}

# one_run SW RUN: one storm; appends to rates/installs/losts/sent/lat0/lat1.
one_run() {
	local s=$1 run=$2 s0 s1 c0 c1 i0 i1 out probe i usec pps
	dp_flush_wait "$s"
	learn_sink "$s"
	sleep 0.5
	pktgen_storm "${s}a" "${dmac[$s]}" $((RATE * DUR)) "$RATE" "$(printf '06:%02x:00:00:00:00' "$run")"
	out=$BENCH_WORK/probe.$s.$run
	# The probe runs SCHED_FIFO: under a storm pktgen and the daemon take every CPU, and a
	# probe that waits for a time slice between frames measures nothing. Its probes
	# alternate between CPU 0, where pktgen's thread (kpktgend_0) sends the storm, and
	# CPU 1: with per-CPU upcall dispatch (both daemons use it) a miss sent from CPU 0
	# queues behind the storm's misses for the same handler, one sent from CPU 1 goes to
	# the other handler.
	chrt -f 10 "${PROBE[@]}" latency "${s}a" "${dmac[$s]}" --stats "$(stats_cmd "$s")" \
		--tag "$run" --start 0.5 --go-file "$BENCH_WORK/go.$run" \
		--stop-file "$BENCH_WORK/stop.$run" --window "$PROBE_WINDOW" \
		--interval "$PROBE_INTERVAL" --cpus 0,1 >"$out" 2>&1 &
	probe=$!
	for ((i = 0; i < 300; i++)); do
		grep -q ready "$out" && break
		sleep 0.1
	done
	read -r -a s0 <<<"$(dp_stats "$s")"
	i0=$(daemon_installs "$s")
	read -r -a c0 <<<"$(cpu_ticks "$s")"
	touch "$BENCH_WORK/go.$run"
	pktgen_run
	read -r -a c1 <<<"$(cpu_ticks "$s")"
	read -r -a s1 <<<"$(dp_stats "$s")"
	i1=$(daemon_installs "$s")
	touch "$BENCH_WORK/stop.$run"
	wait "$probe"
	read -r usec pps <<<"$(pktgen_result "${s}a")"
	per_s() { awk -v n="$1" -v u="$usec" 'BEGIN { printf "%d", (u > 0 ? n * 1e6 / u : 0) }'; }
	rates[$s]+="$(per_s $((s1[3] - s0[3]))) "
	installs[$s]+="$(per_s $((${i1:-0} - ${i0:-0}))) "
	losts[$s]+="$(per_s $((s1[2] - s0[2]))) "
	sent[$s]+="$pps "
	lat0[$s]+="$(probe_lat 0 "$out")"
	lat1[$s]+="$(probe_lat 1 "$out")"
	note "$s run $run: storm $((usec / 1000)) ms, $(pktgen_sent "${s}a") frames ($pps pps);" \
		"datapath: flows $((s1[3] - s0[3])), hit $((s1[0] - s0[0])) missed $((s1[1] - s0[1]))" \
		"lost $((s1[2] - s0[2])); daemon installs $((${i1:-0} - ${i0:-0})); probes $(grep -c '_ms' "$out");" \
		"daemon CPU user $(((c1[0] - c0[0]) * 1000 / HZ)) ms, system $(((c1[1] - c0[1]) * 1000 / HZ)) ms"
	grep -v '^latency_ms\|^censored_ms\|^ready' "$out" | sed "s/^/# $s probe: /" >&2
	alive "$s" || restart "$s" "$run"
	dp_flush_wait "$s"
}

run=0
for rep in $(seq "$REPS"); do
	order="ovs vsw"
	[ $((rep % 2)) = 0 ] && order="vsw ovs"
	for s in $order; do
		run=$((run + 1))
		one_run "$s" "$run"
	done
done

note "ovs-vswitchd counters: $(ovs-appctl upcall/show 2>/dev/null | grep -m1 flows)"
note "vswd counters: $(vctl upcall/show 2>/dev/null | grep -E 'flows|upcalls' | tr '\n' ' ')"

# Latency: p50/p99 over the probes of every run, per CPU; a censored probe (not installed
# within the window) counts as the window and is shown as ">WINDOW".
latstat() { # LIST P
	local v
	v=$(tr ' ' '\n' <<<"$1" | grep . | tr -d '>' | pct "$2")
	if grep -q ">$v" <<<"$1"; then echo ">$v"; else echo "$v"; fi
}
latcol() { # LIST: "p50 / p99 (n N, C censored)"
	local n c
	n=$(tr ' ' '\n' <<<"$1" | grep -c .)
	c=$(tr ' ' '\n' <<<"$1" | grep -c '>')
	echo "$(latstat "$1" 50) / $(latstat "$1" 99) ($n, $c>)"
}

med() { tr ' ' '\n' <<<"$1" | grep . | median; }
printf '\nflow setup: every frame a new megaflow (NORMAL, new source MAC), %s frames/s asked for %s s, %s runs each (medians)\n' \
	"$RATE" "$DUR" "$REPS"
printf '%-13s %11s %10s %13s %8s %29s %29s %8s\n' switch "megaflows/s" "installs/s" \
	"lost misses/s" "sent pps" "latency ms, storm's CPU" "latency ms, other CPU" survived
for s in ovs vsw; do
	name=ovs-vswitchd
	[ $s = vsw ] && name=vswd
	printf '%-13s %11s %10s %13s %8s %29s %29s %8s\n' "$name" "$(med "${rates[$s]}")" \
		"$(med "${installs[$s]}")" "$(med "${losts[$s]}")" "$(med "${sent[$s]}")" \
		"$(latcol "${lat0[$s]}")" "$(latcol "${lat1[$s]}")" "$((REPS - deaths[$s]))/$REPS"
done
echo "(latency: p50 / p99 (probes, of which '>' were not installed within ${PROBE_WINDOW} s and count as that))"
echo "per run:"
for s in ovs vsw; do
	echo "  $s megaflows/s:  ${rates[$s]}"
	echo "  $s installs/s:   ${installs[$s]}"
	echo "  $s lost/s:       ${losts[$s]}"
	echo "  $s sent pps:     ${sent[$s]}"
	echo "  $s latency CPU0: ${lat0[$s]}"
	echo "  $s latency CPU1: ${lat1[$s]}"
done
