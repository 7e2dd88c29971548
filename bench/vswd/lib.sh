# shellcheck shell=bash
# Shared helpers of the vswd benchmarks (bench/vswd/*.sh), sourced inside the VM, as root.
#
# Both switches run in one VM boot, each with its own daemon and datapath:
#   ovs: Debian's ovsdb-server + ovs-vswitchd on openvswitch.ko (datapath "ovs-system"),
#        every file of theirs (database, sockets, pid files, logs) in a private directory
#        so nothing of the host's /etc or /var is used;
#   vsw: vswd on vsw.ko (one datapath per bridge, named after it), state dir and socket
#        in a private directory.
# Both are set to the same switch behaviour: standalone MAC-learning (NORMAL) bridges,
# 8,192-entry MAC tables, 300 s MAC aging, flow limit 200,000 (the adaptive limit starts
# at 10,000 in both), idle timeout 10 s, one handler thread per CPU, one revalidator.
#
# Output convention: tables on stdout, progress and diagnostics on stderr as "# " lines.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VSW_TOP=${VSW_TOP:-$(cd "$BENCH_DIR/../.." && pwd)}
VSW_BUILD=${VSW_BUILD:-$VSW_TOP/build}
VSWD=${VSWD:-$VSW_BUILD/userspace/vswd/vswd}
VSWCTL_BIN=${VSWCTL_BIN:-$VSW_BUILD/userspace/cli/vsw-ctl}
VSWDPCTL=${VSWDPCTL:-$VSW_BUILD/userspace/cli/vsw-dpctl}
VSW_KO=${VSW_KO:-$VSW_BUILD/kmod/$(uname -r)/vsw.ko}
PROBE=(python3 -S "$BENCH_DIR/probe.py")
OVS_DP=ovs-system

die() {
	echo "bench: $*" >&2
	exit 1
}
note() { echo "# $*" >&2; }

# A private directory for this benchmark's daemons; removed by bench_cleanup.
BENCH_WORK=$(mktemp -d /tmp/vswbench.XXXXXX)
export OVS_RUNDIR=$BENCH_WORK/ovs OVS_LOGDIR=$BENCH_WORK/ovs OVS_DBDIR=$BENCH_WORK/ovs \
	OVS_SYSCONFDIR=$BENCH_WORK/ovs
export VSW_SOCKET=$BENCH_WORK/vsw/vswd.sock

# modules_load: openvswitch.ko, pktgen and vsw.ko (each only if not loaded yet). IPv6 off
# for every device created from now on, so that no router solicitation or MLD report
# becomes traffic of its own.
modules_load() {
	modprobe openvswitch || die "no openvswitch.ko"
	modprobe pktgen || die "no pktgen"
	grep -q '^vsw ' /proc/modules || insmod "$VSW_KO" || die "insmod $VSW_KO"
	sysctl -qw net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.all.disable_ipv6=1
	if [ ! -x "$VSWD" ] || [ ! -x "$VSWCTL_BIN" ] || [ ! -x "$VSWDPCTL" ]; then
		die "no vswd/vsw-ctl/vsw-dpctl under $VSW_BUILD (set VSW_BUILD)"
	fi
}

# ---- Open vSwitch -------------------------------------------------------------------------
OVS_PID=
# ovs_start: a fresh database, ovsdb-server and ovs-vswitchd (no --monitor: a crash must
# be seen, not papered over), with the options that match vswd's defaults.
ovs_start() {
	mkdir -p "$OVS_RUNDIR"
	if [ ! -e "$OVS_DBDIR/conf.db" ]; then
		ovsdb-tool create "$OVS_DBDIR/conf.db" /usr/share/openvswitch/vswitch.ovsschema ||
			die "ovsdb-tool create"
		ovsdb-server "$OVS_DBDIR/conf.db" --remote="punix:$OVS_RUNDIR/db.sock" --detach \
			--pidfile --log-file --no-chdir 2>/dev/null || die "ovsdb-server (see $OVS_LOGDIR)"
		ovs-vsctl --no-wait init || die "ovs-vsctl init"
	fi
	ovs-vswitchd "unix:$OVS_RUNDIR/db.sock" --detach --pidfile --log-file --no-chdir \
		2>/dev/null || { ovs_log_tail 20; die "ovs-vswitchd did not start"; }
	OVS_PID=$(cat "$OVS_RUNDIR/ovs-vswitchd.pid")
	# OVS's defaults already equal vswd's except the MAC table (2,048 there, 8,192 here),
	# set per bridge by ovs_add_br.
}
ovs_alive() { [ -n "$OVS_PID" ] && kill -0 "$OVS_PID" 2>/dev/null; }
ovs_stop() {
	ovs_alive && ovs-appctl -t ovs-vswitchd exit --cleanup >/dev/null 2>&1
	[ -e "$OVS_RUNDIR/ovsdb-server.pid" ] && kill "$(cat "$OVS_RUNDIR/ovsdb-server.pid")" 2>/dev/null
	OVS_PID=
}
# ovs_add_br BR: a standalone bridge with vswd's MAC table size.
ovs_add_br() {
	ovs-vsctl add-br "$1" -- set bridge "$1" fail-mode=standalone \
		other-config:mac-table-size=8192 || die "ovs-vsctl add-br $1"
}
ovs_log_tail() { tail -n "${1:-20}" "$OVS_LOGDIR/ovs-vswitchd.log" | sed 's/^/# [ovs-vswitchd] /' >&2; }

# ---- vswd ---------------------------------------------------------------------------------
VSWD_PID=
vswd_start() {
	mkdir -p "$BENCH_WORK/vsw"
	"$VSWD" --state-dir "$BENCH_WORK/vsw/state" --socket "$VSW_SOCKET" --log-level warn \
		>>"$BENCH_WORK/vsw/vswd.log" 2>&1 &
	VSWD_PID=$!
	local i
	for ((i = 0; i < 300; i++)); do
		vctl list-br >/dev/null 2>&1 && return 0
		kill -0 "$VSWD_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$BENCH_WORK/vsw/vswd.log" >&2
	die "vswd did not come up"
}
vswd_alive() { [ -n "$VSWD_PID" ] && kill -0 "$VSWD_PID" 2>/dev/null; }
vswd_stop() {
	vswd_alive && kill "$VSWD_PID" && wait "$VSWD_PID" 2>/dev/null
	VSWD_PID=
}
vctl() { "$VSWCTL_BIN" --socket "$VSW_SOCKET" "$@"; }
vswd_log_tail() { tail -n "${1:-20}" "$BENCH_WORK/vsw/vswd.log" | sed 's/^/# [vswd] /' >&2; }

# ---- both ---------------------------------------------------------------------------------
# The datapath of switch $1 (ovs|vsw) and its bridge name.
dp_of() { if [ "$1" = ovs ]; then echo "$OVS_DP"; else echo vbr; fi; }
br_of() { if [ "$1" = ovs ]; then echo obr; else echo vbr; fi; }
alive() { if [ "$1" = ovs ]; then ovs_alive; else vswd_alive; fi; }
pid_of() { if [ "$1" = ovs ]; then echo "$OVS_PID"; else echo "$VSWD_PID"; fi; }
# dpctl_show SW: the datapath's "show" (both tools print "lookups: hit:H missed:M lost:L"
# and "flows: N").
dpctl_show() {
	if [ "$1" = ovs ]; then ovs-dpctl show "$OVS_DP"; else "$VSWDPCTL" show vbr; fi
}
# dp_stats SW: "HIT MISSED LOST FLOWS" of the switch's datapath.
dp_stats() {
	dpctl_show "$1" | awk '
		/lookups:/ { for (i = 2; i <= NF; i++) { split($i, kv, ":"); v[kv[1]] = kv[2] } }
		/^ *flows:/ { f = $2 }
		END { printf "%d %d %d %d\n", v["hit"], v["missed"], v["lost"], f }'
}
dp_flows() { dp_stats "$1" | cut -d' ' -f4; }
dp_flush() {
	if [ "$1" = ovs ]; then ovs-dpctl del-flows "$OVS_DP"; else "$VSWDPCTL" del-flows vbr; fi
}
# dp_flush_wait SW: delete every datapath flow, then wait (up to 10 s) until the daemon has
# stopped re-installing them and its revalidator has seen the empty table.
dp_flush_wait() {
	local i
	for ((i = 0; i < 20; i++)); do
		dp_flush "$1" >/dev/null 2>&1
		sleep 0.5
		[ "$(dp_flows "$1")" = 0 ] && break
	done
	sleep 1
}
# rss_kb PID [FIELD]: VmRSS (or VmHWM, ...) of a process, in kB.
rss_kb() { awk -v f="${2:-VmRSS}:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null; }

# topo_pair SW: the two-port topology of one switch:
#   ${SW}a (root ns, traffic source) ==veth== ${SW}ap  [port 1]
#   ${SW}b (namespace ${SW}B, sink)  ==veth== ${SW}bp  [port 2]
# The source end stays in the root namespace so that pktgen and the probe can read the
# datapath counters from where the daemons run.
topo_pair() {
	local s=$1 br
	br=$(br_of "$s")
	ip netns add "${s}B" || die "netns ${s}B"
	ip netns exec "${s}B" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip link add "${s}a" type veth peer name "${s}ap" || die "veth ${s}a"
	ip link add "${s}bp" type veth peer name "${s}b" netns "${s}B" || die "veth ${s}b"
	ip link set "${s}a" up
	ip link set "${s}ap" up
	ip link set "${s}bp" up
	ip -n "${s}B" link set "${s}b" up
	if [ "$s" = ovs ]; then
		ovs_add_br "$br"
		ovs-vsctl add-port "$br" "${s}ap" -- set interface "${s}ap" ofport_request=1 \
			-- add-port "$br" "${s}bp" -- set interface "${s}bp" ofport_request=2 ||
			die "ovs-vsctl add-port"
	else
		vctl add-br "$br" fail-mode=standalone >/dev/null || die "vsw-ctl add-br"
		vctl add-port "$br" "${s}ap" ofport=1 >/dev/null || die "vsw-ctl add-port ${s}ap"
		vctl add-port "$br" "${s}bp" ofport=2 >/dev/null || die "vsw-ctl add-port ${s}bp"
	fi
}
topo_pair_del() {
	ip link del "${1}a" 2>/dev/null
	ip link del "${1}bp" 2>/dev/null
	ip netns del "${1}B" 2>/dev/null
}
# sink_mac SW: the MAC address of the sink (the frames' destination).
sink_mac() { ip -n "${1}B" link show "${1}b" | awk '/link\/ether/ { print $2 }'; }
# learn_sink SW: the sink sends one broadcast frame so that the switch learns its MAC
# (and keeps it learned: repeated before every run).
learn_sink() { ip netns exec "${1}B" "${PROBE[@]}" hello "${1}b" || die "hello from ${1}b"; }

# ---- pktgen -------------------------------------------------------------------------------
pg() { echo "$2" >"/proc/net/pktgen/$1" || die "pktgen $1: $2"; }
# pktgen_storm IFACE DST_MAC COUNT RATE MAC_BASE: COUNT 64-byte UDP frames at RATE pps,
# each from the next source MAC after MAC_BASE (sequential, so every frame of a storm
# has a MAC of its own: each is a new megaflow for NORMAL). The destination IP is one
# the sink does not own, so the sink answers nothing.
pktgen_storm() {
	local c
	pg kpktgend_0 "rem_device_all"
	pg kpktgend_0 "add_device $1"
	for c in "count $3" "clone_skb 0" "pkt_size 60" "ratep $4" "dst 198.51.100.1" \
		"src_min 198.51.100.2" "src_max 198.51.100.2" "udp_src_min 4000" "udp_src_max 4000" \
		"udp_dst_min 9" "udp_dst_max 9" "dst_mac $2" "src_mac $5" "src_mac_count $3"; do
		pg "$1" "$c"
	done
}
pktgen_run() { echo start >/proc/net/pktgen/pgctrl; }
# pktgen_sent IFACE: frames pktgen sent in its last run.
pktgen_sent() { awk '/pkts-sofar:/ { print $2 }' "/proc/net/pktgen/$1"; }
# pktgen_result IFACE: "USEC PPS" of its last run, as pktgen timed it.
pktgen_result() {
	awk '/^Result: OK:/ { u = $3; sub(/\(.*/, "", u) } /pps/ { p = $1; sub(/pps/, "", p) }
		END { print u + 0, p + 0 }' "/proc/net/pktgen/$1"
}

# ---- statistics ---------------------------------------------------------------------------
# median / pct P: of the numbers on stdin (nearest rank); "-" when there are none.
median() { pct 50; }
pct() {
	sort -g | awk -v p="$1" '{ a[NR] = $1 } END {
		if (!NR) { print "-"; exit }
		r = int((p * NR + 99) / 100); if (r < 1) r = 1; print a[r] }'
}

# bench_cleanup_daemons: delete vswd's bridges (their datapaths would outlive it), stop
# both daemons (ovs-vswitchd deletes its datapath on the way out).
bench_cleanup_daemons() {
	local br
	if vswd_alive; then
		for br in $(vctl list-br 2>/dev/null); do vctl del-br "$br" >/dev/null 2>&1; done
	fi
	vswd_stop
	ovs_stop
}
# bench_cleanup: everything; BENCH_KEEP=1 keeps the work directory (logs, samples).
bench_cleanup() {
	bench_cleanup_daemons
	if [ "${BENCH_KEEP:-0}" = 1 ]; then note "kept $BENCH_WORK"; else rm -rf "$BENCH_WORK"; fi
}
