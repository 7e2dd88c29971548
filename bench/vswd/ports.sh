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
# rank, i.e. the slowest but one of a hundred).
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

times=$BENCH_WORK/times # lines "i ovs_us vsw_us"
us() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%d", (b - a) * 1e6 }'; }
add_ovs() { # (ovs-vsctl's own warnings, e.g. "Unreasonably long poll interval", go to a log)
	local a=$EPOCHREALTIME
	ovs-vsctl add-port obr "po$1" 2>>"$BENCH_WORK/ovs-vsctl.err" ||
		{ tail -n 5 "$BENCH_WORK/ovs-vsctl.err" >&2; die "ovs-vsctl add-port obr po$1"; }
	t_ovs=$(us "$a" "$EPOCHREALTIME")
}
add_vsw() {
	local a=$EPOCHREALTIME
	vctl add-port vbr "pv$1" >/dev/null || die "vsw-ctl add-port vbr pv$1"
	t_vsw=$(us "$a" "$EPOCHREALTIME")
}
rt() { # CMD...: wall time of one command in ms (the client's start-up + one round trip)
	local a=$EPOCHREALTIME
	"$@" >/dev/null 2>&1
	awk -v a="$a" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }'
}
ms() { awk '{ printf "%.1f", $1 / 1000 }'; }
col() { # FIRST LAST FIELD P
	awk -v a="$1" -v b="$2" -v f="$3" '$1 >= a && $1 <= b { print $f }' "$times" | pct "$4" | ms
}
row() { # LABEL FIRST LAST: one line of the table
	local om vm
	om=$(col "$2" "$3" 2 50) vm=$(col "$2" "$3" 3 50)
	printf '%-12s %12s %12s %12s %12s %10s\n' "$1" "$om" "$(col "$2" "$3" 2 99)" "$vm" \
		"$(col "$2" "$3" 3 99)" "$(awk -v o="$om" -v v="$vm" 'BEGIN { if (v > 0) printf "%.1fx", o / v }')"
}
# The table's rows are printed as each hundred completes, so that a run stopped early
# still shows what it measured.
step=100
[ "$NPORTS" -lt 100 ] && step=$NPORTS
printf '\nadd-port: time per command as the bridge grows to %s ports (ms; p99 = nearest rank)\n' "$NPORTS"
printf '%-12s %12s %12s %12s %12s %10s\n' ports "ovs median" "ovs p99" "vsw median" "vsw p99" \
	"ovs/vsw"
t0=$SECONDS
for ((i = 1; i <= NPORTS; i++)); do
	if ((i % 2)); then
		add_ovs "$i"
		add_vsw "$i"
	else
		add_vsw "$i"
		add_ovs "$i"
	fi
	echo "$i $t_ovs $t_vsw" >>"$times"
	if ((i % step == 0 || i == NPORTS)); then
		row "$(((i - 1) / step * step + 1))-$i" $(((i - 1) / step * step + 1)) "$i"
		note "$i ports each after $((SECONDS - t0)) s; a read-only round trip now takes:" \
			"ovs-vsctl list-br $(rt ovs-vsctl list-br) ms, vsw-ctl list-br $(rt vctl list-br) ms"
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

