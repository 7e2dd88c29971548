#!/usr/bin/env bash
# Runner for the vsw kernel selftests; run as root inside the VM (scripts/vm-run), e.g.
#   scripts/vm-run -- tests/kernel/run.sh            every test, in table order
#   tests/kernel/run.sh -v ping_crosses_switch       one test, its log shown
#   tests/kernel/run.sh -p                           pause on failure, namespaces kept
#   tests/kernel/run.sh -l                           list the tests and what they check
#
# Output is KTAP ("TAP version 13", the plan, then "ok N name" / "not ok N name" /
# "ok N name # SKIP why", diagnostics on "# " lines). Each test runs in its own bash
# process under a time limit; its cleanup (see `defer` in lib.sh) runs when it ends. After
# each test the kernel log written since the test began is searched for
# the words BUG, WARNING or Oops (whole words: a DEBUG line is no BUG report), leak, UBSAN,
# KASAN, lockdep and stack-protector, and a hit fails the test. Exit status: 0 when every test passed,
# 1 when any failed, 4 when all were skipped (kselftest conventions).
# VSW_DEBUG_KERNEL=1 (on a kernel from scripts/debug-kernel) adds two results after the
# selftests: kernel_log_clean (the whole log since boot) and kmemleak_clean (debug.sh).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
# shellcheck source=debug.sh
. "$here/debug.sh"
# shellcheck source=tests.sh
. "${VSW_TESTS_FILE:-$here/tests.sh}"

TEST_TIMEOUT=${TEST_TIMEOUT:-240}
verbose=0 pause=0

# Internal: run one test in this process (called by the runner under `timeout`).
if [ "${1:-}" = --one ]; then
	name=$2 pause=$3
	trap defer_run EXIT
	"test_$name"
	rc=$?
	if [ "$rc" = 1 ] && [ "$pause" = 1 ]; then
		echo "# $name failed; paused with its namespaces in place. Press Enter to clean up." >/dev/tty
		read -r </dev/tty
	fi
	exit "$rc"
fi

while getopts "vplh" opt; do
	case $opt in
	v) verbose=1 ;;
	p) pause=1 ;;
	l)
		for t in "${TESTS[@]}"; do
			read -r tname tdesc <<<"$t"
			printf '%-26s %s\n' "$tname" "$tdesc"
		done
		exit 0
		;;
	*)
		sed -n '2,7s/^# \{0,1\}//p' "$0"
		exit 2
		;;
	esac
done
shift $((OPTIND - 1))

selected=()
if [ $# -gt 0 ]; then
	for want in "$@"; do
		found=0
		for t in "${TESTS[@]}"; do [ "${t%% *}" = "$want" ] && found=1; done
		[ $found = 1 ] || {
			echo "run.sh: no test named '$want' (run.sh -l lists them)" >&2
			exit 2
		}
		selected+=("$want")
	done
else
	for t in "${TESTS[@]}"; do selected+=("${t%% *}"); done
fi

[ "${VSW_DEBUG_KERNEL:-0}" = 1 ] && selected+=(kernel_log_clean kmemleak_clean)
# A debug kernel under TCG runs every step several times slower: pkt.py's waits stretch.
[ "${VSW_DEBUG_KERNEL:-0}" = 1 ] && export VSW_TIMEOUT_SCALE=${VSW_TIMEOUT_SCALE:-4}

# The switch side of every topology (the datapath's internal port, the veth ends that are
# its ports) lives in this namespace. With IPv6 on, each of those devices sends router
# solicitations and MLD reports when it comes up, and a veth end's own packets arrive at
# its peer in a test namespace as if the switch had forwarded them; tests that capture
# "the next frame" would see them. Namespaces the tests create keep their own defaults.
sysctl -qw net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.all.disable_ipv6=1 2>/dev/null || true

echo "TAP version 13"
echo "1..${#selected[@]}"
[ "${VSW_DEBUG_KERNEL:-0}" = 1 ] && debug_begin
n=0 npass=0 nfail=0 nskip=0
read -r _ cpu0 </proc/stat
logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT
for name in "${selected[@]}"; do
	n=$((n + 1))
	log=$logdir/$name.log
	dmesg_mark "$name"
	start=$SECONDS
	if [ $verbose = 1 ]; then
		timeout -k 10 "$TEST_TIMEOUT" bash "$0" --one "$name" "$pause" 2>&1 | tee "$log" | sed 's/^/# /'
		rc=${PIPESTATUS[0]}
	else
		timeout -k 10 "$TEST_TIMEOUT" bash "$0" --one "$name" "$pause" >"$log" 2>&1
		rc=$?
	fi
	[ "$rc" = 124 ] || [ "$rc" = 137 ] && echo "FAIL: timed out after ${TEST_TIMEOUT}s" >>"$log"
	bad=$(dmesg_since_mark "$name" | grep -E '\<(BUG|WARNING|Oops)\>|leak|UBSAN|KASAN|lockdep|stack-protector' | head -n 20)
	if [ -n "$bad" ]; then
		{
			echo "FAIL: the kernel logged during this test:"
			echo "$bad"
		} >>"$log"
		[ "$rc" = 0 ] || [ "$rc" = 4 ] && rc=1
	fi
	secs=$((SECONDS - start))
	case $rc in
	0)
		echo "ok $n $name"
		npass=$((npass + 1))
		[ -n "$bad" ] && sed 's/^/# /' "$log"
		;;
	4)
		why=$(grep -m1 '^SKIP' "$log" | sed 's/^SKIP:* *//')
		echo "ok $n $name # SKIP ${why:-skipped}"
		nskip=$((nskip + 1))
		;;
	*)
		[ $verbose = 1 ] || sed 's/^/# /' "$log" | tail -n 60
		echo "not ok $n $name"
		nfail=$((nfail + 1))
		;;
	esac
	echo "# $name: ${secs}s"
done
echo "# $npass passed, $nfail failed, $nskip skipped"
read -r _ cpu1 </proc/stat
cpu_summary "$cpu0" "$cpu1"
[ $nfail -gt 0 ] && exit 1
[ $nskip = "$n" ] && [ "$n" -gt 0 ] && exit 4
exit 0
