#!/usr/bin/env python3
"""The command-line contract of vsw-ofp-print.

usage: ofp_print_cli.py PATH/TO/vsw-ofp-print PATH/TO/ofp_pcap

Checks: refused input prints the switch's error in text and JSON and exits 1; a FLOW_MOD's
JSON form is valid JSON carrying type, xid, command, table_id, priority, cookie, a match keyed
by lower-case spec OXM names with value and optional mask, and instructions; every line of a
stream of all samples is one JSON object; bad command lines and unreadable input print exactly
one line on stderr and exit 2. Prints TAP; exits 1 on any failure.
"""
import json
import subprocess
import sys

results = []


def check(name, cond, detail=""):
    results.append(bool(cond))
    print(f"{'ok' if cond else 'not ok'} {len(results)} {name}")
    if not cond and detail:
        for line in str(detail).splitlines()[:20]:
            print(f"# {line[:300]}")


def run(tool, args, stdin=b""):
    p = subprocess.run([tool] + args, input=stdin, capture_output=True, timeout=60)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def main():
    tool, gen = sys.argv[1], sys.argv[2]
    short_flow_mod = b"04 0e 00 09 00 00 00 01 00"  # 9 bytes: body far shorter than a FLOW_MOD
    rc, out, err = run(tool, ["--hex", "-"], short_flow_mod)
    check("refused input: text error and exit 1",
          rc == 1 and out == "error type=BAD_REQUEST code=BAD_LEN\n", (rc, out, err))
    rc, out, err = run(tool, ["--json", "--hex", "-"], short_flow_mod)
    ok = rc == 1 and json.loads(out) == {"error": {"type": "BAD_REQUEST", "code": "BAD_LEN"}}
    check("refused input: JSON error and exit 1", ok, (rc, out, err))
    # A match prerequisite failure carries its own type and code.
    tcp_dst_alone = ("04 0e 00 40 00 00 00 02" + " 00" * 16 + " 00 00 00 00 00 00 80 00" +
                     " ff" * 12 + " 00 00 00 00" +
                     " 00 01 00 0a 80 00 1c 02 00 50 00 00 00 00 00 00")
    rc, out, err = run(tool, ["--json", "--hex", "-"], tcp_dst_alone.encode())
    check("tcp_dst without ip_proto: BAD_MATCH/BAD_PREREQ",
          rc == 1 and json.loads(out) == {"error": {"type": "BAD_MATCH", "code": "BAD_PREREQ"}},
          (rc, out, err))

    samples = dict(l.split() for l in
                   subprocess.run([gen, "--hex"], capture_output=True, text=True,
                                  check=True).stdout.splitlines())
    rc, out, err = run(tool, ["--json", "--hex", "-"], samples["flow_mod_all_actions"].encode())
    fm = json.loads(out) if rc == 0 else {}
    keys = {"type", "xid", "command", "table_id", "priority", "cookie", "match", "instructions"}
    check("FLOW_MOD JSON carries the required keys", rc == 0 and keys <= set(fm), (rc, out, err))
    check("FLOW_MOD JSON values", fm.get("type") == "FLOW_MOD" and fm.get("table_id") == 3
          and fm.get("priority") == 7 and fm.get("cookie") == 5 and fm.get("command") == "ADD", fm)
    match = fm.get("match", {})
    check("FLOW_MOD JSON match: spec OXM names, value and optional mask",
          match.get("ipv4_src") == {"value": "10.0.0.0", "mask": "255.0.0.0"}
          and match.get("tcp_dst") == {"value": 80} and match.get("eth_type") == {"value": 2048}
          and all(k == k.lower() for k in match), match)
    ins = fm.get("instructions", [])
    check("FLOW_MOD JSON instructions",
          [i.get("type") for i in ins] == ["apply_actions", "goto_table"]
          and ins[0]["actions"][0] == {"type": "output", "port": 2, "max_len": 0}, ins)

    stream = "\n".join(samples.values()).encode()
    rc, out, err = run(tool, ["--json", "--hex", "-"], stream)
    lines = out.splitlines()
    parsed = [json.loads(l) for l in lines]
    check(f"all {len(samples)} samples: one JSON object per line, exit 0",
          rc == 0 and len(parsed) == len(samples) and all("type" in o for o in parsed),
          (rc, len(lines), err))
    rc, out, err = run(tool, ["--hex", "-"], stream)
    check("all samples: one text line each", rc == 0 and len(out.splitlines()) == len(samples),
          (rc, err))

    bad = {
        "unknown option": (["--bogus", "x"], b""),
        "two inputs": (["a", "b"], b""),
        "no input": (["--json"], b""),
        "--hex with --pcap": (["--hex", "--pcap", "-"], b""),
        "missing file": (["/nonexistent/vsw-ofp-print-input"], b""),
        "text that is not hex": (["--hex", "-"], b"zz"),
        "not a pcap": (["--pcap", "-"], b"not a capture at all, just text"),
    }
    for name, (args, stdin) in bad.items():
        rc, out, err = run(tool, args, stdin)
        check(f"bad input ({name}): one-line error, exit 2",
              rc == 2 and out == "" and len(err.splitlines()) == 1
              and err.startswith("vsw-ofp-print: "), (rc, out, err))
    print(f"1..{len(results)}")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
