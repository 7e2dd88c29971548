#!/usr/bin/env bash
# Memory benchmark (run as root inside the VM; bench/vswd/run-bench boots it): how much
# resident memory ovs-vswitchd and vswd need per cached megaflow, both holding the SAME
# number of megaflows; then vswd alone at MEM_FLOWS megaflows, and whether its memory comes
# back once the flows are gone.
#
# Same two-port topology and configuration as flow-setup.sh (MAC tables of 8,192 on both),
# except that the idle timeout is 10 minutes on both (max-idle / idle-timeout), so flows
# stay cached between steps. Open vSwitch also gets other_config:max-revalidator=30000:
# its revalidator then deletes no flow for being slow (it does that only while a dump takes
# over max-revalidator/2), which is its best case here, not its default.
#
# 1. Same counts (MEM_COUNTS, default 2,000 4,000 8,000: under both adaptive flow limits'
#    starting 10,000 and inside the MAC tables). For each count N, on each switch, pktgen
#    sends N frames at MEM_RATE pps from N source MACs (the same first N MACs every step,
#    so cached flows see hits and a flow missed before gets another chance; up to
#    MEM_TRIES storms), then the flow count is awaited until steady and VmRSS read. A step
#    counts only if the datapath held N..N+10 flows ("held"), otherwise it is printed as
#    missed and left out of the slope. Bytes per megaflow = least-squares slope of VmRSS
#    over the held counts: fixed costs (threads, first-touch buffers) drop out.
# 2. vswd alone: MEM_FLOWS (100,000) frames per pass from MEM_FLOWS MACs, up to MEM_PASSES
#    passes until it holds 98% of MEM_FLOWS (its adaptive limit must grow there), then VmRSS,
#    VmHWM. Open vSwitch at MEM_FLOWS is only estimated: idle + its slope x MEM_FLOWS.
# 3. Retention. After part 1 both datapaths are flushed (del-flows): VmRSS then is each
#    daemon's warm floor (threads, buffers, no flow). After part 2 vswd's idle timeout is
#    lowered to 1 s, so its revalidator expires every flow: VmRSS once the datapath is
#    empty. Then refilled as in 2, flushed by hand, VmRSS again. At each of these points
#    gdb makes vswd print glibc's malloc_stats() (bytes from the OS / in use, per arena):
#    what is in use is live, the rest is free but not returned.
# "idle" is VmRSS with the bridges set up and the sinks learned, before any storm.
# Env (run-bench passes each on): MEM_FLOWS (100000), MEM_PASSES (6), MEM_RATE (5000),
# MEM_COUNTS, MEM_TRIES (2).
set -uo pipefail
# shellcheck source=bench/vswd/lib.sh
. "$(dirname "$0")/lib.sh"
MEM_COUNTS=${MEM_COUNTS:-2000 4000 8000} MEM_FLOWS=${MEM_FLOWS:-100000}
MEM_PASSES=${MEM_PASSES:-6} MEM_RATE=${MEM_RATE:-5000} MEM_TRIES=${MEM_TRIES:-2}
trap 'topo_pair_del ovs; topo_pair_del vsw; bench_cleanup' EXIT

modules_load
ovs_start
vswd_start
ovs-vsctl set Open_vSwitch . other_config:max-idle=600000 \
	other_config:max-revalidator=30000 || die "ovs other_config"
topo_pair ovs
topo_pair vsw
vctl set-bridge vbr idle-timeout=600000 >/dev/null || die "vsw-ctl set-bridge"
declare -A dmac mbyte rss0 name
name[ovs]=ovs-vswitchd name[vsw]=vswd
mbyte[ovs]=1 mbyte[vsw]=2
for s in ovs vsw; do
	dmac[$s]=$(sink_mac "$s")
	learn_sink "$s"
done
sleep 3
for s in ovs vsw; do rss0[$s]=$(rss_kb "$(pid_of "$s")"); done
note "idle VmRSS: ovs-vswitchd ${rss0[ovs]} kB, vswd ${rss0[vsw]} kB"

# storm SW N: N frames from the switch's first N source MACs, then the flow count steady.
storm() {
	learn_sink "$1"
	pktgen_storm "${1}a" "${dmac[$1]}" "$2" "$MEM_RATE" "$(printf '06:%02x:00:00:00:00' "${mbyte[$1]}")"
	pktgen_run
	settle "$1"
}
# settle SW: waits (up to 30 s) until two flow counts 2 s apart agree.
settle() {
	local a b i
	a=$(dp_flows "$1")
	for ((i = 0; i < 15; i++)); do
		sleep 2
		b=$(dp_flows "$1")
		[ "$a" = "$b" ] && return 0
		a=$b
	done
}
check_alive() {
	alive "$1" && return 0
	note "${name[$1]} died"
	if [ "$1" = ovs ]; then ovs_log_tail 15; else vswd_log_tail 15; fi
	return 1
}
rss_of() { rss_kb "$(pid_of "$1")" "${2:-VmRSS}"; }
vsw_upcalls() { vctl upcall/show 2>/dev/null | grep -E '^flows|limit_|deleted|evicted' | tr -s ' \n' ' '; }

# ---- 1. the same counts on both -----------------------------------------------------------
rows=() pts_ovs="" pts_vsw=""
for n in $MEM_COUNTS; do
	for s in ovs vsw; do
		check_alive "$s" || continue
		for ((t = 1; t <= MEM_TRIES; t++)); do
			storm "$s" "$n"
			f=$(dp_flows "$s")
			[ "$f" -ge "$n" ] && break
		done
		r=$(rss_of "$s")
		held=yes
		{ [ "$f" -ge "$n" ] && [ "$f" -le $((n + 10)) ]; } || held=no
		note "$s target $n: $f flows after $((t > MEM_TRIES ? MEM_TRIES : t)) storm(s), VmRSS $r kB, held $held"
		rows+=("$(printf '| %s | %s | %s | %s kB | %s |' "${name[$s]}" "$n" "$f" "$r" "$held")")
		if [ $held = yes ]; then
			if [ "$s" = ovs ]; then pts_ovs+="$f $r"$'\n'; else pts_vsw+="$f $r"$'\n'; fi
		fi
	done
done
note "ovs-vswitchd: $(ovs-appctl upcall/show 2>/dev/null | grep -E 'flows|dump duration' | tr -s ' \n' ' ')"
note "vswd: $(vsw_upcalls)"

# slope POINTS: "BYTES_PER_FLOW INTERCEPT_KB N" of the least-squares line through
# "flows rss_kb" lines; "- - N" with fewer than two points.
slope() {
	awk 'NF == 2 { n++; sx += $1; sy += $2; sxx += $1 * $1; sxy += $1 * $2 }
		END { d = n * sxx - sx * sx
			if (n < 2 || d == 0) { printf "- - %d\n", n; exit }
			b = (n * sxy - sx * sy) / d; printf "%d %d %d\n", b * 1024, (sy - b * sx) / n, n }' <<<"$1"
}
read -r bpf_ovs icpt_ovs n_ovs <<<"$(slope "$pts_ovs")"
read -r bpf_vsw icpt_vsw n_vsw <<<"$(slope "$pts_vsw")"

# Both flushed: the memory each keeps once warm (threads, buffers) with no flow cached.
declare -A before before_f flushed
for s in ovs vsw; do
	before[$s]=$(rss_of "$s") before_f[$s]=$(dp_flows "$s")
	dp_flush_wait "$s"
done
sleep 5
for s in ovs vsw; do flushed[$s]=$(rss_of "$s"); done
note "flushed after part 1: ovs-vswitchd ${flushed[ovs]} kB, vswd ${flushed[vsw]} kB"

# ---- 2. vswd alone at MEM_FLOWS ---------------------------------------------------------------
# malloc_note WHAT: glibc's per-arena bytes (from the OS / in use) of vswd, into its log
# through gdb, then as a note: memory "in use" is live, the rest free but not returned.
malloc_note() {
	command -v gdb >/dev/null || return 0
	gdb -p "$(pid_of vsw)" -batch -ex 'call (void) malloc_stats()' >/dev/null 2>&1
	note "vswd malloc_stats $1: $(tail -n 11 "$BENCH_WORK/vsw/vswd.log" |
		grep -E '^(Arena|Total|system bytes|in use bytes)' | tr -s ' \n' ' ')"
	note "vswd resident by mapping $1 (kB, largest): $(smaps_top "$(pid_of vsw)")"
}
# smaps_top PID: the six mappings with the most resident memory ("[heap]", "anon" for an
# anonymous one such as a malloc arena or an mmap()ed block, else the file's name).
smaps_top() {
	awk '/^[0-9a-f]+-[0-9a-f]+ / { n = (NF >= 6) ? $6 : "anon"; sub(/.*\//, "", n); a = $1 }
		/^Rss:/ { if ($2 > 0) print $2, n "@" substr(a, 1, 6) }' "/proc/$1/smaps" |
		sort -rn | head -n 6 | awk '{ printf "%s:%s ", $2, $1 }'
}
# fill_big: passes until vswd holds 98% of MEM_FLOWS; echoes "FLOWS PASSES".
fill_big() {
	local p f=0
	for ((p = 1; p <= MEM_PASSES; p++)); do
		storm vsw "$MEM_FLOWS"
		f=$(dp_flows vsw)
		note "vswd big pass $p: $f flows, VmRSS $(rss_of vsw) kB; $(vsw_upcalls)"
		[ $((f * 100)) -ge $((MEM_FLOWS * 98)) ] && break
	done
	echo "$f $((p > MEM_PASSES ? MEM_PASSES : p))"
}
big_f=- big_p=- big_r=- big_h=- exp_r=- fl_r=- fl_f=- fl_before=-
if check_alive vsw; then
	read -r big_f big_p <<<"$(fill_big)"
	big_r=$(rss_of vsw) big_h=$(rss_of vsw VmHWM)
	malloc_note "at $big_f flows"

	# ---- 3. retention: expiry, then refill and flush ------------------------------------
	vctl set-bridge vbr idle-timeout=1000 >/dev/null || die "vsw-ctl set-bridge"
	for ((i = 0; i < 60; i++)); do
		[ "$(dp_flows vsw)" = 0 ] && break
		sleep 1
	done
	sleep 5
	exp_r=$(rss_of vsw)
	note "vswd after expiry: $(dp_flows vsw) flows, VmRSS $exp_r kB; $(vsw_upcalls)"
	malloc_note "after expiry"
	vctl set-bridge vbr idle-timeout=600000 >/dev/null || die "vsw-ctl set-bridge"
	read -r fl_f _ <<<"$(fill_big)"
	fl_before=$(rss_of vsw)
	dp_flush_wait vsw
	sleep 5
	fl_r=$(rss_of vsw)
	note "vswd after flush: $(dp_flows vsw) flows, VmRSS $fl_r kB; $(vsw_upcalls)"
	malloc_note "after flush"
	check_alive vsw
fi

# ---- tables ---------------------------------------------------------------------------------
kb() { awk -v k="$1" 'BEGIN { if (k == "-") print "-"; else printf "%.1f MB", k / 1024 }'; }
printf '\nmemory: same megaflow counts on both (%s frames/s, idle VmRSS: ovs-vswitchd %s kB, vswd %s kB)\n' \
	"$MEM_RATE" "${rss0[ovs]}" "${rss0[vsw]}"
printf '| daemon | target | megaflows held | VmRSS | held target |\n| --- | ---: | ---: | ---: | --- |\n'
printf '%s\n' "${rows[@]}"
printf '\n| daemon | bytes per megaflow (slope) | intercept | points used |\n| --- | ---: | ---: | ---: |\n'
printf '| ovs-vswitchd | %s B | %s kB | %s |\n| vswd | %s B | %s kB | %s |\n' \
	"$bpf_ovs" "$icpt_ovs" "$n_ovs" "$bpf_vsw" "$icpt_vsw" "$n_vsw"

printf '\nmemory: %s megaflows (vswd measured, ovs-vswitchd ESTIMATED from its slope)\n' "$MEM_FLOWS"
printf '| daemon | megaflows | VmRSS | VmHWM (peak) | (VmRSS - idle) / megaflow |\n| --- | ---: | ---: | ---: | ---: |\n'
held_big=no
[ "$big_f" != - ] && [ $((big_f * 100)) -ge $((MEM_FLOWS * 98)) ] && held_big=yes
printf '| vswd (measured, %s passes, held %s: %s) | %s | %s | %s | %s B |\n' "$big_p" "$MEM_FLOWS" "$held_big" "$big_f" "$(kb "$big_r")" \
	"$(kb "$big_h")" "$(awk -v r="$big_r" -v i="${rss0[vsw]}" -v f="$big_f" \
		'BEGIN { if (f + 0 > 0) printf "%d", (r - i) * 1024 / f; else print "-" }')"
printf '| ovs-vswitchd (estimate: idle + slope x %s) | - | %s | - | %s B |\n' "$MEM_FLOWS" \
	"$(awk -v i="${rss0[ovs]}" -v b="$bpf_ovs" -v n="$MEM_FLOWS" \
		'BEGIN { if (b == "-") print "-"; else printf "%.1f MB", (i + b * n / 1024) / 1024 }')" "$bpf_ovs"

printf '\nmemory: retention (VmRSS idle: vswd %s kB, ovs-vswitchd %s kB)\n' "${rss0[vsw]}" "${rss0[ovs]}"
printf '| daemon | state | megaflows | VmRSS |\n| --- | --- | ---: | ---: |\n'
for s in ovs vsw; do
	printf '| %s | end of part 1 | %s | %s |\n' "${name[$s]}" "${before_f[$s]:--}" "$(kb "${before[$s]}")"
	printf '| %s | flushed (del-flows) + 5 s | 0 | %s |\n' "${name[$s]}" "$(kb "${flushed[$s]}")"
done
printf '| vswd | full (part 2) | %s | %s |\n' "$big_f" "$(kb "$big_r")"
printf '| vswd | all expired (idle-timeout 1 s) + 5 s | 0 | %s |\n' "$(kb "$exp_r")"
printf '| vswd | refilled | %s | %s |\n' "$fl_f" "$(kb "$fl_before")"
printf '| vswd | flushed (vsw-dpctl del-flows) + 5 s | 0 | %s |\n' "$(kb "$fl_r")"
printf '| vswd | VmHWM (peak) at the end | - | %s |\n' "$(kb "$(rss_of vsw VmHWM)")"
