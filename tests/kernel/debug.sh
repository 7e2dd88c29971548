# shellcheck shell=bash
# Checks that close a selftest run on a debug kernel (scripts/debug-kernel: KASAN, UBSAN,
# lockdep, DEBUG_ATOMIC_SLEEP, kmemleak, KFENCE). Sourced by run.sh, which, when
# VSW_DEBUG_KERNEL=1, calls debug_begin before the first selftest and runs the two tests
# below after the last one, as ordinary KTAP results:
#   kernel_log_clean  the whole kernel log since boot has no report of any of those tools,
#                     no WARNING, BUG or Oops (run.sh checks each test's own part of the log
#                     as well; this also covers the boot and the gaps between tests);
#   kmemleak_clean    kmemleak's scan finds no unreferenced object allocated since the
#                     suite began: once with vsw.ko loaded (the traces name its functions),
#                     then again after rmmod (what the module never freed).
# debug_begin scans once and clears the list, so objects the boot leaked (or that kmemleak
# suspects wrongly at boot) are not counted against the module.

KMEMLEAK=/sys/kernel/debug/kmemleak

# What a report of the debug tools, or any warning, looks like in the kernel log.
DEBUG_REPORT='\<(BUG|WARNING|Oops)\>|UBSAN|KASAN|KFENCE|kmemleak|lockdep|stack-protector|leak|general protection|Call Trace|sleeping function called|suspicious RCU|possible (circular|recursive) locking|inconsistent lock state|blocked for more than'
# Lines that match but report nothing here: kmemleak's and RCU's start-up banners, the
# runner's own markers, and the line each kmemleak scan with findings logs (scans run only
# when this file asks, and kmemleak_clean judges what they find; debug_begin's scan finds the
# boot's).
DEBUG_BENIGN='kmemleak: Kernel memory leak detector (initialized|disabled)|kmemleak: [0-9]+ new suspected memory leaks|rcu:[[:space:]]+RCU lockdep checking is enabled|vsw-selftest: begin '

debugfs_up() {
	[ -e "$KMEMLEAK" ] || mountpoint -q /sys/kernel/debug ||
		mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null || true
}

# kmemleak_cmd WORD: write WORD (scan, clear) to kmemleak; false when kmemleak is off.
kmemleak_cmd() {
	echo "$1" 2>/dev/null >"$KMEMLEAK"
}

debug_begin() {
	debugfs_up
	if [ -e "$KMEMLEAK" ]; then
		if ! { kmemleak_cmd scan && kmemleak_cmd clear; }; then
			echo "# kmemleak is disabled (dmesg says why); kmemleak_clean will fail"
		fi
	fi
}

test_kernel_log_clean() {
	local hits
	hits=$(dmesg | grep -E "$DEBUG_REPORT" | grep -vE "$DEBUG_BENIGN")
	if [ -n "$hits" ]; then
		echo "FAIL: the kernel log since boot has $(wc -l <<<"$hits") report line(s); the first ones:"
		head -n 40 <<<"$hits"
		return 1
	fi
	echo "ok: no report in $(dmesg | wc -l) lines of kernel log since boot"
}

# kmemleak_report WHEN: two scans (an object is reported only once it is older than 5 s
# and unreferenced; the second scan settles objects still being freed), then the report.
kmemleak_report() {
	local out n
	sleep 6
	if ! { kmemleak_cmd scan && sleep 1 && kmemleak_cmd scan; }; then
		echo "FAIL: kmemleak refuses to scan (disabled? dmesg | grep kmemleak)"
		return 1
	fi
	out=$(cat "$KMEMLEAK")
	kmemleak_cmd clear # a later report lists only what is new
	n=$(grep -c '^unreferenced object' <<<"$out")
	if [ "$n" != 0 ]; then
		echo "FAIL: kmemleak, $1: $n unreferenced object(s); the first ones:"
		head -n 80 <<<"$out"
		return 1
	fi
	echo "ok: kmemleak, $1: no unreferenced object"
}

test_kmemleak_clean() {
	debugfs_up
	[ -e "$KMEMLEAK" ] || {
		echo "FAIL: no $KMEMLEAK: this kernel has no kmemleak (not a debug kernel?)"
		return 1
	}
	local rc=0
	if module_loaded; then
		kmemleak_report "vsw.ko loaded" || rc=1
		run rmmod vsw || {
			echo "FAIL: rmmod vsw"
			return 1
		}
	fi
	kmemleak_report "vsw.ko unloaded" || rc=1
	return $rc
}
