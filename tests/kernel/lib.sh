# shellcheck shell=bash
# Shared helpers for the vsw kernel selftests (sourced by run.sh and the test files).
#
# What is here:
#   - paths: the repository (VSW_TOP), vsw-dpctl (VSW_DPCTL), the module (VSW_KO);
#   - deferred cleanup: `defer CMD...` registers CMD to run when the current test ends, in
#     reverse order of registration (like OVS's on_exit and net/lib/sh/defer.sh); register
#     the undo right after creating a thing, never later;
#   - namespaces with unique names: `ns_create VAR` makes a namespace called
#     vsw-<pid>-<rand>-<n>, stores its name in VAR and defers its deletion;
#   - wrappers that echo what they run: `in_ns NS CMD...`, and per-test short wrappers
#     (n1 n2 n3 sw) defined by `topo_three` in topo.sh;
#   - assertions that print a diagnostic and return 1: check_eq, check_ge, check_le.
#
# Everything a test prints goes to its log; run.sh shows the log as KTAP diagnostics
# ("# " lines) when the test fails or when run with -v.

VSW_TOP=${VSW_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
VSW_BUILD=${VSW_BUILD:-$VSW_TOP/build}
VSW_DPCTL=${VSW_DPCTL:-$VSW_BUILD/userspace/cli/vsw-dpctl}
VSW_KO=${VSW_KO:-$VSW_BUILD/kmod/$(uname -r)/vsw.ko}
VSW_PY=${VSW_PY:-$VSW_TOP/tests/kernel/vsw_nl.py}
VSW_UID=${VSW_UID:-$$-$RANDOM}

# ---- deferred cleanup --------------------------------------------------------------------
__deferred=()

defer() {
	__deferred+=("$(printf '%q ' "$@")")
}

# Runs every deferred command, newest first, and forgets them. Failures are only noted.
defer_run() {
	local i
	for ((i = ${#__deferred[@]} - 1; i >= 0; i--)); do
		eval "${__deferred[i]}" >/dev/null 2>&1 || echo "cleanup failed: ${__deferred[i]}"
	done
	__deferred=()
}

# ---- logging and wrappers ----------------------------------------------------------------
log() { echo "$*"; }

# run CMD...: echo it, then run it (its output goes to the test log).
run() {
	echo "+ $*"
	"$@"
}

# in_ns NS CMD...: echo, then run CMD inside namespace NS.
in_ns() {
	local ns=$1
	shift
	echo "+ [$ns] $*"
	ip netns exec "$ns" "$@"
}

__ns_count=0
# ns_create VAR: a fresh namespace with a unique name, its loopback up, deletion deferred.
ns_create() {
	local var=$1 name
	__ns_count=$((__ns_count + 1))
	name="vsw-$VSW_UID-$__ns_count"
	ip netns add "$name" || return 1
	defer ip netns del "$name"
	ip -n "$name" link set lo up
	printf -v "$var" '%s' "$name"
}

dpctl() {
	echo "+ vsw-dpctl $*"
	"$VSW_DPCTL" "$@"
}

# ---- assertions --------------------------------------------------------------------------
check_eq() { # WHAT GOT WANT
	if [ "$2" != "$3" ]; then
		echo "FAIL: $1: got '$2', want '$3'"
		return 1
	fi
	echo "ok: $1 = $2"
}
check_ge() { # WHAT GOT MIN
	if ! [ "$2" -ge "$3" ] 2>/dev/null; then
		echo "FAIL: $1: got '$2', want >= $3"
		return 1
	fi
	echo "ok: $1 = $2 (>= $3)"
}
check_le() { # WHAT GOT MAX
	if ! [ "$2" -le "$3" ] 2>/dev/null; then
		echo "FAIL: $1: got '$2', want <= $3"
		return 1
	fi
	echo "ok: $1 = $2 (<= $3)"
}

# need_tool TOOL...: return 4 (skip) from the caller's caller when a tool is missing.
have_tools() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || {
			echo "missing tool: $t"
			return 1
		}
	done
}

# ---- module -------------------------------------------------------------------------------
module_loaded() { [ -d /sys/module/vsw ]; }

# Loads vsw.ko when it is not loaded yet.
module_load() {
	module_loaded && return 0
	[ -r "$VSW_KO" ] || {
		echo "no module at $VSW_KO (run scripts/build-module $(uname -r))"
		return 1
	}
	run insmod "$VSW_KO"
}

# ---- dmesg watch --------------------------------------------------------------------------
# Each test writes a marker into the kernel log before it starts; kernel_log_since_marker
# prints what the kernel logged after it.
dmesg_mark() {
	echo "vsw-selftest: begin $1" >/dev/kmsg 2>/dev/null || true
}
dmesg_since_mark() {
	dmesg 2>/dev/null | awk -v m="vsw-selftest: begin $1" 'index($0, m) { buf = ""; next } { buf = buf $0 "\n" } END { printf "%s", buf }'
}

# cpu_summary BEFORE AFTER: two "cpu" lines of /proc/stat (without the label) as one
# diagnostic: how busy the guest's CPUs were in between. Under TCG an idle vCPU leaves its
# host core free, so this says how much of a run's time is work and how much waiting.
cpu_summary() {
	local -a a b
	read -ra a <<<"$1"
	read -ra b <<<"$2"
	local total=0 idle i
	for i in "${!b[@]}"; do total=$((total + b[i] - a[i])); done
	idle=$((b[3] - a[3] + b[4] - a[4]))
	[ "$total" -gt 0 ] || return 0
	echo "# guest CPU busy $(((total - idle) * 100 / total))% of $((total / $(nproc))) ticks per CPU ($(nproc) CPUs)"
}
