#!/usr/bin/env bash
# Runs the named vswd benchmarks one after another inside one VM boot (run-bench starts
# it through scripts/vm-run); each benchmark starts and stops its own daemons.
#   bench/vswd/inside.sh [flow-setup] [memory] [ports] [flow-mod]      (default: all four)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(flow-setup memory ports flow-mod)
echo "# kernel $(uname -r), $(nproc) CPUs, $(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo) MiB;" \
	"$(ovs-vswitchd --version | head -n1)" >&2
# The binaries are copied into the VM first, so that a rebuild of VSW_BUILD on the host
# while the benchmarks run does not change what they measure.
build=${VSW_BUILD:-$here/../../build}
snap=$(mktemp -d /tmp/vswbin.XXXXXX)
cp "$build/userspace/vswd/vswd" "$build/userspace/cli/vsw-ctl" "$build/userspace/cli/vsw-dpctl" \
	"$build/kmod/$(uname -r)/vsw.ko" "$snap/" || { echo "inside.sh: binaries missing in $build" >&2; exit 2; }
export VSWD=$snap/vswd VSWCTL_BIN=$snap/vsw-ctl VSWDPCTL=$snap/vsw-dpctl VSW_KO=$snap/vsw.ko
echo "# vswd built $(stat -c %y "$build/userspace/vswd/vswd" | cut -c1-19)," \
	"tree at $(git -C "$here/../.." rev-parse --short HEAD 2>/dev/null) (plus uncommitted changes, if any)" >&2
rc=0
for n in "${names[@]}"; do
	[ -x "$here/$n.sh" ] || { echo "inside.sh: no benchmark '$n' (flow-setup, memory, ports, flow-mod)" >&2; exit 2; }
	echo "# ---- $n ($(date -u +%H:%M:%S))" >&2
	start=$SECONDS
	"$here/$n.sh" || { echo "# $n failed" >&2; rc=1; }
	echo "# $n took $((SECONDS - start)) s" >&2
done
exit $rc
