#!/usr/bin/env bash
# One counted pktgen run (MODE=insn of inside.sh), run inside the sending namespace:
#   insn-run.sh MARKDIR LABEL [STOP-LABEL]
# Writes the marker MARKDIR/m.LABEL, waits for the plugin's count, starts pktgen (which
# returns when its `count` packets are sent), writes the stop marker (default
# LABEL.end), waits for its count, and prints both counts. Between the markers nothing
# forks: markers, waits and pktgen's start are shell built-ins.
set -u
dir=$1 start=$2 stop=${3:-$2.end}
fifo=$(mktemp -u /tmp/insn-run.XXXXXX)
mkfifo "$fifo" && exec 3<>"$fifo" && rm -f "$fifo" || exit 1
count=
mark() { # $1 = label: sets count to the instructions executed until the marker
	: >"$dir/m.$1" || exit 1
	local n=0
	until [ -e "$dir/c.$1" ]; do
		read -r -t 0.02 -u 3 # sleep without forking while the plugin takes the count
		n=$((n + 1))
		[ $n -lt 1500 ] || { echo "insn-run: no count for $1 (plugin not loaded?)" >&2; exit 1; }
	done
	read -r count <"$dir/c.$1"
}
mark "$start"; a=$count
echo start >/proc/net/pktgen/pgctrl
mark "$stop"; b=$count
# m. before c.: the plugin writes a count for an m. file that has none.
rm -f "$dir/m.$start" "$dir/m.$stop"; rm -f "$dir/c.$start" "$dir/c.$stop"
echo "$a $b"
