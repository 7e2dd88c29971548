#!/usr/bin/env bash
# Ports benchmark (run as root inside the VM; bench/vswd/run-bench boots it): the time of
# each `add-port` as one bridge grows to NPORTS ports, `vsw-ctl add-port` against
# `ovs-vsctl add-port`.
#
# First NPORTS veth pairs are made (one `ip -batch`): po$i ==veth== pv$i. pv$i go to the
# vswd bridge vbr, po$i to the OVS bridge obr, so both bridges grow over the same number
# of interfaces in the system. The veths stay down: nothing is sent. Each switch is grown
# ALONE, the other switch's daemons not running: vswd first (Open vSwitch not started
# yet), then vbr is deleted and vswd stopped, then Open vSwitch is started and obr grown.
# (Side by side, each switch's command also paid for the other's reaction to the link
# events of attaching a port: Open vSwitch spent about 90 ms of CPU in each vsw-ctl
# add-port at 100-200 ports.) For i = 1..NPORTS port i is added, each command timed alone
# (wall time of the whole command, as a user waits for it: vsw-ctl until vswd has saved
# the change and attached the port, ovs-vsctl until ovs-vswitchd has applied it).
# Reported per hundred ports as each hundred completes, then side by side at the end:
# median and p99 (nearest rank, i.e. the slowest but one of a hundred), and the CPU time
# the switch's daemons ran during the command. After each hundred, the floor of a command:
# the tool's start-up alone (`vsw-ctl help`, `ovs-vsctl --help`: no connection) and with
# one read-only round trip (`list-br`), and a fork+exec of /bin/true, medians of three.
# With MARKDIR (run-bench --insn ports: one vCPU, -icount, the insn.so plugin of
# bench/datapath/insn-plugin) the guest clock is 1 ns per guest instruction plus idle time
# at host real time; each command is then also counted (a marker just before and just
# after it: the client, the daemons, the kernel, everything the guest ran meanwhile), and
# the table gets the median instructions per command (millions; at 1 ns each these are ms
# of busy time, so "ms - Minsn" is the time the guest sat idle, waiting at real time).
# Env: NPORTS (default 1000; at most 1023, vswd's datapath port numbers being 1..1023);
# PORTS_SWITCHES (default "vsw ovs"; "vsw" grows vswd's bridge only, for a quick look).
set -uo pipefail
# shellcheck source=bench/vswd/lib.sh
. "$(dirname "$0")/lib.sh"
NPORTS=${NPORTS:-1000}
PORTS_SWITCHES=${PORTS_SWITCHES:-vsw ovs}
[ "$NPORTS" -le 1023 ] || die "NPORTS must be at most 1023 (vswd's datapath ports are 1..1023)"
del_veths() {
	[ -e "$BENCH_WORK/veth.batch" ] || return 0
	sed 's/^link add \(po[0-9]*\) .*/link del \1/' "$BENCH_WORK/veth.batch" | ip -force -batch - 2>/dev/null
}
trap 'bench_cleanup_daemons; del_veths; bench_cleanup' EXIT

modules_load

batch=$BENCH_WORK/veth.batch
for ((i = 1; i <= NPORTS; i++)); do echo "link add po$i type veth peer name pv$i"; done >"$batch"
t0=$SECONDS
ip -batch "$batch" || die "creating $NPORTS veth pairs"
note "$NPORTS veth pairs made in $((SECONDS - t0)) s"
# The guest's udevd (virtme-ng starts one) handles several events per new interface, and
# what its rules change a daemon would hear as link events: for 1,000 pairs on one emulated
# vCPU that ran for minutes beside the first hundreds of add-ports (a counted run saw
# /bin/true's instructions grow sixfold). Nothing is timed before it is done.
if command -v udevadm >/dev/null; then
	t0=$SECONDS
	udevadm settle --timeout=3600 || note "udevadm settle: still busy after $((SECONDS - t0)) s"
	note "udev settled $((SECONDS - t0)) s later"
fi

# times.SW: "i us insn cpu_us" per add-port of switch SW (ovs, vsw).
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
# waits, a few tens of ms of idle guest).
timed() {
	local l=$1 a b c0=0 rc d0
	shift
	cpu_ns "${DPIDS[@]}"
	d0=$cpu
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
	t_us=$(us "$a" "$b")
	[ $rc = 0 ] || tail -n 5 "$BENCH_WORK/cmd.err" >&2
	return $rc
}
# (ovs-vsctl's own warnings, e.g. "Unreasonably long poll interval", go to that log too)
DPIDS=()
# rt D CMD...: median of three runs of one command: "ms" (with MARKDIR "ms/Minsn"), and
# with D=d the CPU time of the daemons in $DPIDS meanwhile ("(daemons ms)"; D=-: not shown).
rt() {
	local d=$1 k ts=() is=() cs=() m
	shift
	for k in 1 2 3; do
		timed "rt-$k" "$@"
		ts+=("$t_us") is+=("${t_insn:-0}") cs+=("$t_dcpu")
	done
	m=$(printf '%s\n' "${ts[@]}" | median | ms)
	[ -z "${MARKDIR:-}" ] || m+=/$(printf '%s\n' "${is[@]}" | median | minsn)
	[ "$d" = - ] || m+=" (daemons $(printf '%s\n' "${cs[@]}" | median | ms))"
	echo "$m"
}
ms() { awk '{ printf "%.1f", $1 / 1000 }'; }
minsn() { awk '{ printf "%.1f", $1 / 1e6 }'; }
col() { # SW FIRST LAST FIELD P [UNIT]
	[ -s "$BENCH_WORK/times.$1" ] || { echo -; return; }
	awk -v a="$2" -v b="$3" -v f="$4" '$1 >= a && $1 <= b { print $f }' "$BENCH_WORK/times.$1" |
		pct "$5" | "${6:-ms}"
}
# srow SW LABEL FIRST LAST: one line of one switch's table, printed as it grows.
srow() {
	printf '%-12s %10s %10s' "$2" "$(col "$1" "$3" "$4" 2 50)" "$(col "$1" "$3" "$4" 2 99)"
	[ -z "${MARKDIR:-}" ] || printf ' %10s' "$(col "$1" "$3" "$4" 3 50 minsn)"
	printf ' %10s\n' "$(col "$1" "$3" "$4" 4 50)"
}
# row LABEL FIRST LAST: one line of the final table, both switches side by side.
row() {
	local om vm
	om=$(col ovs "$2" "$3" 2 50) vm=$(col vsw "$2" "$3" 2 50)
	printf '%-12s %12s %12s %12s %12s %10s' "$1" "$om" "$(col ovs "$2" "$3" 2 99)" "$vm" \
		"$(col vsw "$2" "$3" 2 99)" "$(awk -v o="$om" -v v="$vm" 'BEGIN { if (o > 0 && v > 0) printf "%.1fx", o / v; else print "-" }')"
	[ -z "${MARKDIR:-}" ] ||
		printf ' %10s %10s' "$(col ovs "$2" "$3" 3 50 minsn)" "$(col vsw "$2" "$3" 3 50 minsn)"
	printf ' %10s %10s\n' "$(col ovs "$2" "$3" 4 50)" "$(col vsw "$2" "$3" 4 50)"
}
step=100
[ "$NPORTS" -lt 100 ] && step=$NPORTS

# grow SW: adds ports 1..NPORTS to switch SW's bridge, one command each, printing a row and
# the floor after each hundred.
grow() {
	local sw=$1 i t0 cmd tool floor
	if [ "$sw" = vsw ]; then
		DPIDS=("$VSWD_PID") tool=vsw-ctl
	else
		DPIDS=("$OVS_PID" "$(cat "$OVS_RUNDIR/ovsdb-server.pid")") tool=ovs-vsctl
	fi
	printf '\n%s add-port: time per command as the bridge grows to %s ports, the other switch not running\n' "$tool" "$NPORTS"
	printf '(ms; p99 = nearest rank; cpu: CPU time of %s per command, median)\n' \
		"$([ "$sw" = vsw ] && echo vswd || echo ovs-vswitchd + ovsdb-server)"
	printf '%-12s %10s %10s' ports median p99
	[ -z "${MARKDIR:-}" ] || printf ' %10s' Minsn
	printf ' %10s\n' cpu
	t0=$SECONDS
	for ((i = 1; i <= NPORTS; i++)); do
		if [ "$sw" = vsw ]; then
			cmd=(vctl add-port vbr "pv$i")
		else
			cmd=(ovs-vsctl add-port obr "po$i")
		fi
		timed "p$i-$sw" "${cmd[@]}" || die "${cmd[*]}"
		echo "$i $t_us ${t_insn:-0} $t_dcpu" >>"$BENCH_WORK/times.$sw"
		if ((i % step == 0 || i == NPORTS)); then
			srow "$sw" "$(((i - 1) / step * step + 1))-$i" $(((i - 1) / step * step + 1)) "$i"
			if [ "$sw" = vsw ]; then
				floor="vsw-ctl help $(rt - vctl help), list-br $(rt d vctl list-br)"
			else
				floor="ovs-vsctl --help $(rt - ovs-vsctl --help), list-br $(rt d ovs-vsctl list-br)"
			fi
			note "$sw: $i ports after $((SECONDS - t0)) s; floor now (ms${MARKDIR:+/Minsn}, median of 3):" \
				"/bin/true $(rt - /bin/true); $floor"
		fi
		alive "$sw" || die "$sw's daemon died at port $i"
	done
	srow "$sw" all 1 "$NPORTS"
}

for sw in $PORTS_SWITCHES; do
	case $sw in
	vsw)
		vswd_start
		vctl add-br vbr fail-mode=standalone >/dev/null || die "vsw-ctl add-br"
		grow vsw
		n=$("$VSWDPCTL" show vbr | grep -c ': pv[0-9]')
		note "datapath vbr holds $n ports (want $NPORTS); vswd VmRSS $(rss_kb "$VSWD_PID") kB"
		[ "$n" = "$NPORTS" ] || die "vbr holds $n ports, not $NPORTS"
		vctl del-br vbr >/dev/null || die "vsw-ctl del-br vbr"
		vswd_stop
		;;
	ovs)
		ovs_start
		ovs_add_br obr
		grow ovs
		n=$(ovs-dpctl show "$OVS_DP" | grep -c ': po[0-9]')
		note "datapath $OVS_DP holds $n ports (want $NPORTS); ovs-vswitchd VmRSS $(rss_kb "$OVS_PID") kB"
		[ "$n" = "$NPORTS" ] || die "$OVS_DP holds $n ports, not $NPORTS"
		ovs_stop
		;;
	*) die "PORTS_SWITCHES: '$sw' is neither vsw nor ovs" ;;
	esac
done

printf '\nadd-port side by side, each switch grown alone (ms; p99 = nearest rank)\n'
[ -z "${MARKDIR:-}" ] || printf '(guest clock under -icount: ms on one 1e9-instructions/s CPU, plus idle time at real time; Minsn: millions of guest instructions per command, median)\n'
printf '(ovs cpu, vsw cpu: CPU time of ovs-vswitchd + ovsdb-server, of vswd, per command, median)\n'
printf '%-12s %12s %12s %12s %12s %10s' ports "ovs median" "ovs p99" "vsw median" "vsw p99" "ovs/vsw"
[ -z "${MARKDIR:-}" ] || printf ' %10s %10s' "ovs Minsn" "vsw Minsn"
printf ' %10s %10s\n' "ovs cpu" "vsw cpu"
for ((f = 1; f <= NPORTS; f += step)); do
	l=$((f + step - 1))
	((l > NPORTS)) && l=$NPORTS
	row "$f-$l" "$f" "$l"
done
row all 1 "$NPORTS"
