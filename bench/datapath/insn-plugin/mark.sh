# shellcheck shell=bash
# Sourced by the benchmarks that count guest instructions with insn.so (see insn.c):
# insn_mark_init DIR, then insn_mark LABEL sets $count to the instructions the guest has
# executed until the marker DIR/m.LABEL was created (the plugin answers in DIR/c.LABEL).
# insn_mark forks nothing (a read with a timeout on a private FIFO is the sleep), so two
# marks count only what ran in between; insn_mark_done LABEL... removes their files after.
insn_mark_init() {
	insn_dir=$1
	local fifo
	fifo=$(mktemp -u /tmp/insn-mark.XXXXXX)
	mkfifo "$fifo" && exec {insn_fd}<>"$fifo" && rm -f "$fifo" || return 1
}
insn_mark() {
	: >"$insn_dir/m.$1" || return 1
	local n=0
	until [ -e "$insn_dir/c.$1" ]; do
		read -r -t 0.02 -u "$insn_fd"
		n=$((n + 1))
		[ $n -lt 1500 ] || { echo "insn: no count for $1 (plugin not loaded?)" >&2; return 1; }
	done
	# shellcheck disable=SC2034 # count is the caller's result
	read -r count <"$insn_dir/c.$1"
}
# The plugin writes a count for an m. file that has none: m. goes first.
insn_mark_done() {
	local l
	for l in "$@"; do rm -f "$insn_dir/m.$l"; done
	for l in "$@"; do rm -f "$insn_dir/c.$l"; done
}
