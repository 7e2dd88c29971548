#!/usr/bin/env bash
# One counted pktgen run (MODE=insn of inside.sh), run inside the sending namespace:
#   insn-run.sh MARKDIR LABEL [STOP-LABEL]
# Writes the marker MARKDIR/m.LABEL, waits for the plugin's count, starts pktgen (which
# returns when its `count` packets are sent), writes the stop marker (default
# LABEL.end), waits for its count, and prints both counts. Between the markers nothing
# forks: markers, waits and pktgen's start are shell built-ins.
set -u
# shellcheck source=bench/datapath/insn-plugin/mark.sh
. "$(dirname "$0")/insn-plugin/mark.sh"
dir=$1 start=$2 stop=${3:-$2.end}
insn_mark_init "$dir" || exit 1
insn_mark_done "$start" "$stop"
insn_mark "$start" || exit 1
a=$count
echo start >/proc/net/pktgen/pgctrl
insn_mark "$stop" || exit 1
b=$count
insn_mark_done "$start" "$stop"
echo "$a $b"
