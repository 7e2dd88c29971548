#!/usr/bin/env python3
"""Per-symbol instruction counts from the insn plugin's profile (prof=on).

    profile.py [--top N] [--base PROFILE0] PROFILE KALLSYMS NPKT

PROFILE: lines "PC COUNT" (hex guest PC, executions) written by the plugin between the
prof-start and prof-stop markers of one run of NPKT packets; KALLSYMS: the guest's
/proc/kallsyms, read as root in the same boot. Prints instructions per packet
(COUNT / NPKT) by module, then by symbol, most first (the top N, default 40). User-space
PCs count as "[user]". With --base (a profile of another row, same boot and NPKT) it
prints PROFILE minus PROFILE0 instead, by module and by symbol, largest changes first.
"""
import argparse
import bisect
import collections
import sys


def load_syms(path):
    syms = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) < 3 or parts[1] not in "tTwW":
                continue
            mod = parts[3].strip("[]") if len(parts) > 3 else "vmlinux"
            syms.append((int(parts[0], 16), parts[2], mod))
    syms.sort()
    return [s[0] for s in syms], syms


def load_profile(path, addrs, syms):
    by_sym, by_mod = collections.Counter(), collections.Counter()
    with open(path) as f:
        for line in f:
            pc, n = line.split()
            pc, n = int(pc, 16), int(n)
            if pc < 1 << 63:
                name, mod = "[user]", "[user]"
            else:
                i = bisect.bisect_right(addrs, pc) - 1
                name, mod = (syms[i][1], syms[i][2]) if i >= 0 else ("?", "?")
            by_sym[(name, mod)] += n
            by_mod[mod] += n
    return by_sym, by_mod


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--base")
    ap.add_argument("profile")
    ap.add_argument("kallsyms")
    ap.add_argument("npkt", type=int)
    a = ap.parse_args()
    addrs, syms = load_syms(a.kallsyms)
    by_sym, by_mod = load_profile(a.profile, addrs, syms)
    label = lambda name, mod: name + ("" if mod == "vmlinux" else f" [{mod}]")
    if a.base:
        b_sym, b_mod = load_profile(a.base, addrs, syms)
        total = (sum(by_mod.values()) - sum(b_mod.values())) / a.npkt
        print(f"# {total:+.1f} instructions per packet in all ({a.npkt} packets each)")
        rows = [("module", by_mod, b_mod, lambda k: k), ("symbol", by_sym, b_sym, lambda k: label(*k))]
        for what, cur, base, show in rows:
            d = {k: (cur[k] - base[k]) / a.npkt for k in set(cur) | set(base)}
            d = sorted(((v, k) for k, v in d.items() if abs(v) >= 0.5), key=lambda x: -abs(x[0]))
            print(f"# by {what}, the {a.top} largest changes")
            for v, k in d[: a.top]:
                print(f"{v:+9.1f}  {show(k)}")
        return 0
    print(f"# {sum(by_mod.values()) / a.npkt:.1f} instructions per packet in all ({a.npkt} packets)")
    print("# by module (instructions per packet)")
    for mod, n in by_mod.most_common():
        if n / a.npkt >= 0.5:
            print(f"{n / a.npkt:9.1f}  {mod}")
    print(f"# by symbol, the top {a.top}")
    for (name, mod), n in by_sym.most_common(a.top):
        print(f"{n / a.npkt:9.1f}  {label(name, mod)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
