#!/usr/bin/env python3
"""Compare two classifier-bench binaries (say, before and after a change) fairly.

Runs both on the same ClassBench sets in alternation (round r runs A then B on every set,
round r + 1 runs B then A), so that load from other processes, which comes and goes, falls
on both alike, and prints the median of each figure over the rounds as a Markdown table
with the ratio B/A. Instruction counts (callgrind) do not depend on load: they are taken
once, in the first round. Each run is `classifier-bench --rules R --trace T --json` of the
"ours" configuration.

  bench/classifier/alternate.py --a OLD_BIN --b NEW_BIN [--rounds 5] [--data DIR]
      [--sets acl1_10k,fw1_10k,ipc1_10k] [--no-callgrind] [-- extra classifier-bench args]

DIR defaults to the repository's tests/data/classbench (the 1k and 10k sets); a set's
files are DIR/neurocuts/NAME or DIR/generated/NAME, plain or .gz.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.normpath(os.path.join(HERE, "..", "..", "tests", "data", "classbench"))

# (JSON key, column title, format)
FIGURES = [
    ("lookups_per_s", "lookups/s (wc)", "rate"),
    ("lookups_nowc_per_s", "lookups/s (no wc)", "rate"),
    ("ir_per_lookup", "Ir/lookup", "int"),
    ("inserts_per_s", "inserts/s (1 pub)", "rate"),
    ("removes_per_s", "removes/s (1 pub)", "rate"),
    ("inserts_each_per_s", "inserts/s (pub each)", "rate"),
    ("removes_each_per_s", "removes/s (pub each)", "rate"),
    ("unwildcarded_bits", "L3/L4 bits", "float"),
    ("heap_per_entry", "heap B/rule", "int"),
]


def find(data, name):
    for sub in ("neurocuts", "generated"):
        for suffix in ("", ".gz"):
            path = os.path.join(data, sub, name + suffix)
            if os.path.exists(path):
                return path
    return None


def run(binary, rules, trace, callgrind, extra):
    cmd = [binary, "--rules", rules, "--trace", trace, "--json"] + extra
    if not callgrind:
        cmd.append("--no-callgrind")
    out = subprocess.run(cmd, check=False, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"alternate.py: {' '.join(cmd)} failed ({out.returncode}):\n{out.stderr}")
    j = json.loads(out.stdout.strip().splitlines()[-1])
    j["heap_per_entry"] = j["memory_bytes"] / max(1, j["entries"])
    return j


def fmt(v, kind):
    if v is None:
        return "-"
    if kind == "rate":
        return f"{v / 1e6:.2f}M" if v >= 1e6 else f"{v / 1e3:.1f}k"
    if kind == "int":
        return f"{v:.0f}"
    return f"{v:.1f}"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--a", required=True, help="classifier-bench binary A (before)")
    p.add_argument("--b", required=True, help="classifier-bench binary B (after)")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--data", default=os.environ.get("VSW_CLASSBENCH_DATA", DEFAULT_DATA))
    p.add_argument("--sets", default="acl1_10k,fw1_10k,ipc1_10k")
    p.add_argument("--no-callgrind", action="store_true")
    p.add_argument("extra", nargs="*", help="after --: more classifier-bench arguments")
    args = p.parse_args()

    sets = []
    for name in args.sets.split(","):
        rules, trace = find(args.data, name), find(args.data, name + "_trace")
        if not rules or not trace:
            sys.exit(f"alternate.py: set {name} not in {args.data}")
        sets.append((name, rules, trace))

    results = {(s[0], who): [] for s in sets for who in "ab"}
    for r in range(args.rounds):
        order = "ab" if r % 2 == 0 else "ba"
        for name, rules, trace in sets:
            for who in order:
                binary = args.a if who == "a" else args.b
                cg = r == 0 and not args.no_callgrind
                results[(name, who)].append(run(binary, rules, trace, cg, args.extra))
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)

    print(f"Medians over {args.rounds} alternating rounds (A = {args.a}, B = {args.b}); "
          "Ir from the first round.\n")
    print("| set | figure | A | B | B/A |")
    print("|---|---|---|---|---|")
    for name, _, _ in sets:
        for key, title, kind in FIGURES:
            vals = {}
            for who in "ab":
                xs = [j.get(key) for j in results[(name, who)]]
                xs = [x for x in xs if x]  # Ir is 0 after the first round; null when skipped
                vals[who] = statistics.median(xs) if xs else None
            ratio = (f"{vals['b'] / vals['a']:.3f}" if vals["a"] and vals["b"] else "-")
            print(f"| {name} | {title} | {fmt(vals['a'], kind)} | {fmt(vals['b'], kind)} | "
                  f"{ratio} |")


if __name__ == "__main__":
    main()
