#!/usr/bin/env bash
# Ports benchmark (run as root inside the VM; bench/vswd/run-bench boots it): the time of
# each `add-port` as one bridge grows to NPORTS ports, `ovs-vsctl add-port` against
# `vsw-ctl add-port`.
#
# First NPORTS veth pairs are made (one `ip -batch`): po$i ==veth== pv$i. po$i goes to the
# OVS bridge obr, pv$i to the vswd bridge vbr, so both bridges grow alike over the same
# number of interfaces in the system. The veths stay down: nothing is sent (the pairs
# join the two bridges, and an up link would loop broadcasts between them). Then, for
# i = 1..NPORTS, port i is added to each bridge, OVS first on odd i and vswd first on
# even i, each command timed alone (wall time of the whole command, as a user waits for
# it: ovs-vsctl waits until ovs-vswitchd has applied the change, vsw-ctl until vswd has
# saved it and attached the port). Reported per hundred ports: median and p99 (nearest
# rank, i.e. the slowest but one of a hundred). After each hundred, the floor of a command:
# each tool's start-up alone (`vsw-ctl help`, `ovs-vsctl --help`: no connection) and with one
# read-only round trip (`list-br`), and a fork+exec of /bin/true, medians of three.
# With MARKDIR (run-bench --insn ports: one vCPU, -icount, the insn.so plugin of
# bench/datapath/insn-plugin) the guest clock is 1 ns per guest instruction plus idle time
# at host real time; each command is then also counted (a marker just before and just
# after it: the client, the daemons, the kernel, everything the guest ran meanwhile), and
# the table gets the median instructions per command (millions; at 1 ns each these are ms
# of busy time, so "ms - Minsn" is the time the guest sat idle, waiting at real time).
# Env: NPORTS (default 1000; at most 1023, vswd's datapath port numbers being 1..1023).
set -uo pipefail
# shellcheck source=bench/vswd/lib.sh
. "$(dirname "$0")/lib.sh"
NPORTS=${NPORTS:-1000}
[ "$NPORTS" -le 1023 ] || die "NPORTS must be at most 1023 (vswd's datapath ports are 1..1023)"
del_veths() {
	[ -e "$BENCH_WORK/veth.batch" ] || return 0
	sed 's/^link add \(po[0-9]*\) .*/link del \1/' "$BENCH_WORK/veth.batch" | ip -force -batch - 2>/dev/null
}
trap 'bench_cleanup_daemons; del_veths; bench_cleanup' EXIT

modules_load
ovs_start
vswd_start
ovs_add_br obr
vctl add-br vbr fail-mode=standalone >/dev/null || die "vsw-ctl add-br"

batch=$BENCH_WORK/veth.batch
for ((i = 1; i <= NPORTS; i++)); do echo "link add po$i type veth peer name pv$i"; done >"$batch"
t0=$SECONDS
ip -batch "$batch" || die "creating $NPORTS veth pairs"
note "$NPORTS veth pairs made in $((SECONDS - t0)) s"
# The guest's udevd (virtme-ng starts one) handles several events per new interface, and
# what its rules change both daemons hear as link events: for 1,000 pairs on one emulated
# vCPU that ran for minutes beside the first hundreds of add-ports (a counted run saw
# /bin/true's instructions grow sixfold). Nothing is timed before it is done.
if command -v udevadm >/dev/null; then
	t0=$SECONDS
	udevadm settle --timeout=3600 || note "udevadm settle: still busy after $((SECONDS - t0)) s"
	note "udev settled $((SECONDS - t0)) s later"
fi

times=$BENCH_WORK/times # "i ovs_us vsw_us ovs_insn vsw_insn ovs_cpu_us vsw_cpu_us vsw@ovs_us ovs@vsw_us"
us() { echo $((${2//[.,]/} - ${1//[.,]/})); } # A B: microseconds from $EPOCHREALTIME A to B
# cpu_ns PID...: sets $cpu to the CPU time (ns) the processes' threads have run so far, from
# /proc/PID/task/*/schedstat (no fork); under -icount that clock too is 1 ns per instruction.
cpu_ns() {
	local p f a
	cpu=0
	for p in "$@"; do
		for f in /proc/"$p"/task/*/schedstat; do
			read -r a _ <"$f" 2>/dev/null && cpu=$((cpu + a))
		done
	done
}
if [ -n "${MARKDIR:-}" ]; then
	# shellcheck source=bench/datapath/insn-plugin/mark.sh
	. "$VSW_TOP/bench/datapath/insn-plugin/mark.sh"
	insn_mark_init "$MARKDIR" || die "insn markers in $MARKDIR"
fi
# timed LABEL CMD...: runs CMD (stdout dropped, stderr to a log), sets $t_us to its time
# and, with MARKDIR, $t_insn to the guest instructions in between; fails as CMD does.
# $t_dcpu is the CPU time (us) the daemons named in $DPIDS ran meanwhile (their threads'
# schedstat, read outside the counted window; it also holds what they ran in the markers'
# waits, a few tens of ms of idle guest), $t_ocpu that of the other switch's daemons
# ($OPIDS): what one switch's command makes the other do (link events).
timed() {
	local l=$1 a b c0=0 rc d0 o0
	shift
	cpu_ns "${DPIDS[@]}"
	d0=$cpu
	cpu_ns "${OPIDS[@]}"
	o0=$cpu
	[ -z "${MARKDIR:-}" ] || { insn_mark "$l" || die "insn marker"; c0=$count; }
	a=$EPOCHREALTIME
	"$@" >/dev/null 2>>"$BENCH_WORK/cmd.err"
	rc=$?
	b=$EPOCHREALTIME
	if [ -n "${MARKDIR:-}" ]; then
		insn_mark "$l.end" || die "insn marker"
		t_insn=$((count - c0))
		insn_mark_done "$l" "$l.end"
	fi
	cpu_ns "${DPIDS[@]}"
	t_dcpu=$(((cpu - d0) / 1000))
	cpu_ns "${OPIDS[@]}"
	t_ocpu=$(((cpu - o0) / 1000))
	t_us=$(us "$a" "$b")
	[ $rc = 0 ] || tail -n 5 "$BENCH_WORK/cmd.err" >&2
	return $rc
}
# (ovs-vsctl's own warnings, e.g. "Unreasonably long poll interval", go to that log too)
OVSDB_PID=$(cat "$OVS_RUNDIR/ovsdb-server.pid")
DPIDS=() OPIDS=()
add_ovs() {
	DPIDS=("$OVS_PID" "$OVSDB_PID") OPIDS=("$VSWD_PID")
	timed "p$1-ovs" ovs-vsctl add-port obr "po$1" || die "ovs-vsctl add-port obr po$1"
	t_ovs=$t_us i_ovs=${t_insn:-0} c_ovs=$t_dcpu o_ovs=$t_ocpu
}
add_vsw() {
	DPIDS=("$VSWD_PID") OPIDS=("$OVS_PID" "$OVSDB_PID")
	timed "p$1-vsw" vctl add-port vbr "pv$1" || die "vsw-ctl add-port vbr pv$1"
	t_vsw=$t_us i_vsw=${t_insn:-0} c_vsw=$t_dcpu o_vsw=$t_ocpu
}
# rt SW CMD...: median of three runs of one command: "ms" (with MARKDIR "ms/Minsn"), and
# the CPU time of switch SW's daemons meanwhile ("+ ms"; SW "-": none).
rt() {
	local k ts=() is=() cs=() m
	OPIDS=()
	case $1 in ovs) DPIDS=("$OVS_PID" "$OVSDB_PID") ;; vsw) DPIDS=("$VSWD_PID") ;; *) DPIDS=() ;; esac
	shift
	for k in 1 2 3; do
		timed "rt-$k" "$@"
		ts+=("$t_us") is+=("${t_insn:-0}") cs+=("$t_dcpu")
	done
	m=$(printf '%s\n' "${ts[@]}" | median | ms)
	[ -z "${MARKDIR:-}" ] || m+=/$(printf '%s\n' "${is[@]}" | median | minsn)
	[ ${#DPIDS[@]} = 0 ] || m+=" (daemons $(printf '%s\n' "${cs[@]}" | median | ms))"
	echo "$m"
}
ms() { awk '{ printf "%.1f", $1 / 1000 }'; }
minsn() { awk '{ printf "%.1f", $1 / 1e6 }'; }
col() { # FIRST LAST FIELD P [UNIT]
	awk -v a="$1" -v b="$2" -v f="$3" '$1 >= a && $1 <= b { print $f }' "$times" | pct "$4" | "${5:-ms}"
}
row() { # LABEL FIRST LAST: one line of the table
	local om vm
	om=$(col "$2" "$3" 2 50) vm=$(col "$2" "$3" 3 50)
	printf '%-12s %12s %12s %12s %12s %10s' "$1" "$om" "$(col "$2" "$3" 2 99)" "$vm" \
		"$(col "$2" "$3" 3 99)" "$(awk -v o="$om" -v v="$vm" 'BEGIN { if (v > 0) printf "%.1fx", o / v }')"
	[ -z "${MARKDIR:-}" ] ||
		printf ' %10s %10s' "$(col "$2" "$3" 4 50 minsn)" "$(col "$2" "$3" 5 50 minsn)"
	printf ' %10s %10s %10s %10s\n' "$(col "$2" "$3" 6 50)" "$(col "$2" "$3" 7 50)" \
		"$(col "$2" "$3" 8 50)" "$(col "$2" "$3" 9 50)"
}
# The table's rows are printed as each hundred completes, so that a run stopped early
# still shows what it measured.
step=100
[ "$NPORTS" -lt 100 ] && step=$NPORTS
printf '\nadd-port: time per command as the bridge grows to %s ports (ms; p99 = nearest rank)\n' "$NPORTS"
[ -z "${MARKDIR:-}" ] || printf '(guest clock under -icount: ms on one 1e9-instructions/s CPU, plus idle time at real time; Minsn: millions of guest instructions per command, median)\n'
printf '(ovs cpu, vsw cpu: CPU time of ovs-vswitchd + ovsdb-server, of vswd, per command, median; vsw@ovs: of vswd during ovs-vsctl add-port, ovs@vsw: of ovs-vswitchd + ovsdb-server during vsw-ctl add-port)\n'
printf '%-12s %12s %12s %12s %12s %10s' ports "ovs median" "ovs p99" "vsw median" "vsw p99" "ovs/vsw"
[ -z "${MARKDIR:-}" ] || printf ' %10s %10s' "ovs Minsn" "vsw Minsn"
printf ' %10s %10s %10s %10s\n' "ovs cpu" "vsw cpu" "vsw@ovs" "ovs@vsw"
t0=$SECONDS
for ((i = 1; i <= NPORTS; i++)); do
	if ((i % 2)); then
		add_ovs "$i"
		add_vsw "$i"
	else
		add_vsw "$i"
		add_ovs "$i"
	fi
	echo "$i $t_ovs $t_vsw $i_ovs $i_vsw $c_ovs $c_vsw $o_ovs $o_vsw" >>"$times"
	if ((i % step == 0 || i == NPORTS)); then
		row "$(((i - 1) / step * step + 1))-$i" $(((i - 1) / step * step + 1)) "$i"
		note "$i ports each after $((SECONDS - t0)) s; floor now (ms${MARKDIR:+/Minsn}, median of 3):" \
			"/bin/true $(rt - /bin/true);" \
			"ovs-vsctl --help $(rt - ovs-vsctl --help), list-br $(rt ovs ovs-vsctl list-br);" \
			"vsw-ctl help $(rt - vctl help), list-br $(rt vsw vctl list-br)"
	fi
	alive ovs || die "ovs-vswitchd died at port $i"
	alive vsw || die "vswd died at port $i"
done
row all 1 "$NPORTS"

# Both datapaths must really hold every port.
n_ovs=$(ovs-dpctl show "$OVS_DP" | grep -c ': po[0-9]')
n_vsw=$("$VSWDPCTL" show vbr | grep -c ': pv[0-9]')
note "datapath ports: ovs-system $n_ovs, vbr $n_vsw (want $NPORTS each)"
note "VmRSS with $NPORTS ports: ovs-vswitchd $(rss_kb "$OVS_PID") kB, vswd $(rss_kb "$VSWD_PID") kB"

