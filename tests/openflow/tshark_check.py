#!/usr/bin/env python3
"""Independent decoder: tshark's openflow_v4 dissector reads everything our encoder writes.

usage: tshark_check.py PATH/TO/ofp_pcap PATH/TO/vsw-ofp-print

ofp_pcap writes every test message (all samples, a split FLOW_STATS reply, an error) as one
TCP stream to port 6653 and prints the OFPT_* type of each. We then require that tshark
  1. reports no malformed packet and no expert info of severity warning or error,
  2. decodes exactly the same sequence of OpenFlow 1.3 message types (so every message was
     framed where we framed it, including the ones reassembled from several segments),
  3. sees OFPMPF_REPLY_MORE on all parts of the split reply but the last;
and that vsw-ofp-print reads the same capture (--pcap, --json) into the same messages, and
reports refused input as the error a switch would send.
Prints TAP; exits 1 on any failure.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

results = []


def check(name, cond, detail=""):
    results.append(cond)
    print(f"{'ok' if cond else 'not ok'} {len(results)} {name}")
    if not cond and detail:
        for line in str(detail).splitlines()[:30]:
            print(f"# {line[:300]}")


def tshark(pcap, *args):
    p = subprocess.run(["tshark", "-n", "-r", pcap] + list(args), capture_output=True,
                       text=True, timeout=120)
    return p.returncode, p.stdout


def main():
    if not shutil.which("tshark"):
        print("not ok 1 tshark not installed (Debian tshark)")
        return 1
    work = tempfile.mkdtemp(prefix="vsw-tshark-")
    try:
        pcap = os.path.join(work, "openflow.pcap")
        gen = subprocess.run([sys.argv[1], pcap], capture_output=True, text=True, check=True)
        want = [int(x) for x in gen.stdout.split()]
        check(f"ofp_pcap wrote {len(want)} messages", len(want) > 70)

        rc, out = tshark(pcap, "-Y", "_ws.malformed || _ws.expert.severity >= 0x600000",
                         "-T", "fields", "-e", "frame.number", "-e", "_ws.expert.message")
        check("no malformed packets or expert warnings/errors", rc == 0 and out.strip() == "",
              out)

        # One message per segment run, so the first type of a frame is its top-level message
        # (later ones are the message quoted inside an OFPT_ERROR).
        rc, out = tshark(pcap, "-Y", "openflow_v4", "-T", "fields", "-E", "occurrence=f",
                         "-e", "openflow_v4.type")
        got = [int(x) for line in out.split() for x in line.split(",") if x]
        check("tshark decodes the same sequence of message types", rc == 0 and got == want,
              f"got {len(got)}: {got[:80]}\nwant {len(want)}: {want[:80]}")

        rc, out = tshark(pcap, "-Y", "openflow_v4.multipart_reply.type == 1 && "
                         "openflow_v4.xid == 99", "-T", "fields",
                         "-e", "openflow_v4.multipart_reply.flags")
        flags = [int(x, 0) for x in out.split()]
        check("split FLOW_STATS reply: REPLY_MORE on every part but the last",
              len(flags) > 1 and all(f & 1 for f in flags[:-1]) and flags[-1] == 0,
              f"flags={flags}")

        # The typed lists: queue properties and table-features properties, field by field.
        rc, out = tshark(pcap, "-Y", "openflow_v4.type == 23", "-T", "fields",
                         "-e", "openflow_v4.queue_prop.property",
                         "-e", "openflow_v4.queue_prop.min_rate.rate",
                         "-e", "openflow_v4.queue_prop.max_rate.rate")
        check("QUEUE_GET_CONFIG_REPLY: tshark reads min_rate 100 and max_rate 900",
              rc == 0 and out.split() == ["1,2", "100", "900"], out)
        rc, out = tshark(pcap, "-Y", "openflow_v4.multipart_reply.type == 12", "-T", "fields",
                         "-E", "occurrence=a", "-e", "openflow_v4.table_feature_prop.type",
                         "-e", "openflow_v4.table_feature_prop.next_tables.next_table_id",
                         "-e", "openflow_v4.table_feature_prop.undecoded")
        cols = out.rstrip("\n").split("\t") if out.strip() else []
        check("TABLE_FEATURES reply: tshark reads every property type, next tables 1-3 and 2-3, "
              "nothing undecoded",
              rc == 0 and len(cols) == 3
              and cols[0].split(",") == ["0", "2", "4", "6", "8", "10", "12", "14"] * 2
              and cols[1].split(",") == ["1", "2", "3", "2", "3"] and cols[2] == "", out)

        p = subprocess.run([sys.argv[2], "--json", "--pcap", pcap], capture_output=True,
                           text=True, timeout=60)
        objs = [json.loads(l) for l in p.stdout.splitlines()]
        names = ["HELLO", "ERROR", "ECHO_REQUEST", "ECHO_REPLY", "EXPERIMENTER",
                 "FEATURES_REQUEST", "FEATURES_REPLY", "GET_CONFIG_REQUEST", "GET_CONFIG_REPLY",
                 "SET_CONFIG", "PACKET_IN", "FLOW_REMOVED", "PORT_STATUS", "PACKET_OUT",
                 "FLOW_MOD", "GROUP_MOD", "PORT_MOD", "TABLE_MOD", "MULTIPART_REQUEST",
                 "MULTIPART_REPLY", "BARRIER_REQUEST", "BARRIER_REPLY",
                 "QUEUE_GET_CONFIG_REQUEST", "QUEUE_GET_CONFIG_REPLY", "ROLE_REQUEST",
                 "ROLE_REPLY", "GET_ASYNC_REQUEST", "GET_ASYNC_REPLY", "SET_ASYNC", "METER_MOD"]
        check("vsw-ofp-print --json --pcap reads the same messages",
              p.returncode == 0 and [o.get("type") for o in objs] == [names[t] for t in want],
              p.stderr + p.stdout[:2000])
        bad = "04 0e 00 10 00 00 00 07 00 00 00 00 00 00 00 00"  # FLOW_MOD cut short
        p = subprocess.run([sys.argv[2], "--hex", "-"], input=bad, capture_output=True,
                           text=True, timeout=60)
        check("vsw-ofp-print reports refused input as the switch's error",
              p.returncode == 1 and p.stdout == "error type=BAD_REQUEST code=BAD_LEN\n",
              p.stdout + p.stderr)
        p = subprocess.run([sys.argv[2], "--json", "--hex", "-"], input=bad, capture_output=True,
                           text=True, timeout=60)
        check("vsw-ofp-print --json error form",
              json.loads(p.stdout) == {"error": {"type": "BAD_REQUEST", "code": "BAD_LEN"}},
              p.stdout)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"1..{len(results)}")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
