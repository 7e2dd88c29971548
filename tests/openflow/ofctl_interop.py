#!/usr/bin/env python3
"""Real-client interop: ovs-ofctl (OpenFlow 1.3) against our connections and codec.

usage: ofctl_interop.py PATH/TO/ofctl_peer

Starts ofctl_peer on a free loopback port (ptcp:0:127.0.0.1), runs ovs-ofctl commands
against it, and checks
  * what our decoder made of each ovs-ofctl request, field by field (from the peer's JSON
    log): add-flow with every match field and action ovs-ofctl can express in OF1.3,
    mod-flows, del-flows --strict, add-group, add-meter, packet-out;
  * that ovs-ofctl prints our encoded replies exactly as expected: FLOW_STATS (also a
    2000-flow reply split over several messages with OFPMPF_REPLY_MORE), PORT_DESC, TABLE
    stats, GROUP_FEATURES, TABLE_FEATURES, and an OFPT_ERROR.
Prints TAP; exits 1 if any check failed.
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
        for line in str(detail).splitlines()[:40]:
            print(f"# {line}")


class Peer:
    def __init__(self, exe, workdir):
        self.log = os.path.join(workdir, "peer.jsonl")
        open(self.log, "w").close()
        self.proc = subprocess.Popen([exe, self.log], stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().split()
        if len(line) != 2 or line[0] != "PORT":
            raise SystemExit("not ok 1 ofctl_peer did not start")
        self.target = f"tcp:127.0.0.1:{line[1]}"
        self.seen = 0

    def new_messages(self):
        with open(self.log) as f:
            lines = f.read().splitlines()
        fresh = lines[self.seen:]
        self.seen = len(lines)
        return [json.loads(l) for l in fresh]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=5)


def ofctl(peer, *args):
    cmd = ["ovs-ofctl", "-O", "OpenFlow13"] + list(args[:1]) + [peer.target] + list(args[1:])
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
    return p.returncode, p.stdout, p.stderr


def send_and_decode(peer, name, mtype, *args):
    """Runs an ovs-ofctl modification command; returns the decoded messages of type mtype."""
    rc, out, err = ofctl(peer, *args)
    msgs = peer.new_messages()
    got = [m for m in msgs if m.get("type") == mtype]
    errors = [m for m in msgs if "error" in m]
    check(f"{name}: ovs-ofctl succeeded and we decoded one {mtype}",
          rc == 0 and len(got) == 1 and not errors, f"rc={rc} {err}\n{msgs}")
    return got[0] if got else {}


def fields(match):
    return {k: (v["value"], v.get("mask")) for k, v in match.items()}


def expect_eq(name, got, want):
    check(name, got == want, f"got:  {got}\nwant: {want}")


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: ofctl_interop.py OFCTL_PEER")
    if not shutil.which("ovs-ofctl"):
        print("not ok 1 ovs-ofctl not installed (Debian openvswitch-common)")
        return 1
    work = tempfile.mkdtemp(prefix="vsw-ofctl-")
    peer = Peer(sys.argv[1], work)
    try:
        run(peer)
    finally:
        peer.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"1..{len(results)}")
    return 0 if all(results) else 1


def run(peer):
    # --- requests from ovs-ofctl, decoded field by field ---
    fm = send_and_decode(
        peer, "add-flow L2/IPv4/TCP with most fields and actions", "FLOW_MOD", "add-flow",
        "table=3,priority=7,cookie=0x5,in_port=1,metadata=0x100/0xf00,"
        "dl_src=00:11:22:33:44:55,dl_dst=00:11:22:00:00:00/ff:ff:ff:00:00:00,dl_vlan=10,"
        "dl_vlan_pcp=5,tcp,nw_src=10.0.0.0/8,nw_dst=192.168.1.1,ip_dscp=46,nw_ecn=2,"
        "tp_src=1024,tp_dst=80,tun_id=0x55/0xff,reg0=1/0xff,reg15=0xabcd,"
        "actions=set_field:10.1.1.1->ip_dst,push_vlan:0x8100,set_field:4196->vlan_vid,"
        "set_queue:3,group:7,mod_nw_ttl:64,dec_ttl,pop_vlan,push_mpls:0x8847,"
        "set_field:0xdeadbeef->reg1,output:2,write_metadata:0x1200/0xff00,goto_table:4")
    expect_eq("add-flow header fields",
              {k: fm.get(k) for k in ("command", "table_id", "priority", "cookie", "cookie_mask",
                                      "idle_timeout", "hard_timeout", "buffer_id", "out_port",
                                      "out_group", "flags")},
              {"command": "ADD", "table_id": 3, "priority": 7, "cookie": 5, "cookie_mask": 0,
               "idle_timeout": 0, "hard_timeout": 0, "buffer_id": 0xffffffff,
               "out_port": "ANY", "out_group": 0xffffffff, "flags": 0})
    expect_eq("add-flow match", fields(fm.get("match", {})), {
        "in_port": (1, None), "metadata": (0x100, 0xf00),
        "eth_src": ("00:11:22:33:44:55", None),
        "eth_dst": ("00:11:22:00:00:00", "ff:ff:ff:00:00:00"), "eth_type": (0x0800, None),
        "vlan_vid": (0x1000 | 10, None), "vlan_pcp": (5, None), "ip_proto": (6, None),
        "ipv4_src": ("10.0.0.0", "255.0.0.0"), "ipv4_dst": ("192.168.1.1", None),
        "ip_dscp": (46, None), "ip_ecn": (2, None), "tcp_src": (1024, None),
        "tcp_dst": (80, None), "tunnel_id": (0x55, 0xff), "reg0": (1, 0xff),
        "reg15": (0xabcd, None)})
    expect_eq("add-flow instructions", fm.get("instructions"), [
        {"type": "apply_actions", "actions": [
            {"type": "set_field", "field": {"ipv4_dst": {"value": "10.1.1.1"}}},
            {"type": "push_vlan", "ethertype": 0x8100},
            {"type": "set_field", "field": {"vlan_vid": {"value": 4196}}},
            {"type": "set_queue", "queue_id": 3},
            {"type": "group", "group_id": 7},
            {"type": "set_nw_ttl", "ttl": 64},
            {"type": "dec_nw_ttl"},
            {"type": "pop_vlan"},
            {"type": "push_mpls", "ethertype": 0x8847},
            {"type": "set_field", "field": {"reg1": {"value": 0xdeadbeef}}},
            {"type": "output", "port": 2, "max_len": 0}]},
        {"type": "write_metadata", "metadata": 0x1200, "metadata_mask": 0xff00},
        {"type": "goto_table", "table_id": 4}])

    fm = send_and_decode(peer, "add-flow meter/clear/write_actions", "FLOW_MOD", "add-flow",
                         "priority=9,actions=meter:1,clear_actions,write_actions(output:3)")
    expect_eq("meter, clear_actions, write_actions instructions", fm.get("instructions"), [
        {"type": "meter", "meter_id": 1}, {"type": "clear_actions"},
        {"type": "write_actions", "actions": [{"type": "output", "port": 3, "max_len": 0}]}])

    flows = [
        ("arp", "arp,arp_op=1,arp_spa=10.0.0.0/24,arp_tpa=10.0.0.2,arp_sha=00:11:22:33:44:55,"
                "arp_tha=00:11:22:00:00:00/ff:ff:ff:00:00:00,actions=output:1",
         {"eth_type": (0x0806, None), "arp_op": (1, None),
          "arp_spa": ("10.0.0.0", "255.255.255.0"), "arp_tpa": ("10.0.0.2", None),
          "arp_sha": ("00:11:22:33:44:55", None),
          "arp_tha": ("00:11:22:00:00:00", "ff:ff:ff:00:00:00")},
         [{"type": "output", "port": 1, "max_len": 0}]),
        ("ipv6 neighbour solicitation",
         "icmp6,ipv6_src=2001:db8::/64,ipv6_dst=2001:db8::1,ipv6_label=0x12345,icmp_type=135,"
         "icmp_code=0,nd_target=2001:db8::1,nd_sll=00:11:22:33:44:55,actions=drop",
         {"eth_type": (0x86dd, None), "ip_proto": (58, None),
          "ipv6_src": ("2001:db8::", "ffff:ffff:ffff:ffff::"),
          "ipv6_dst": ("2001:db8::1", None), "ipv6_flabel": (0x12345, None),
          "icmpv6_type": (135, None), "icmpv6_code": (0, None),
          "ipv6_nd_target": ("2001:db8::1", None),
          "ipv6_nd_sll": ("00:11:22:33:44:55", None)},
         None),
        ("ipv6 neighbour advertisement", "icmp6,icmp_type=136,nd_tll=00:11:22:33:44:55,actions=drop",
         {"eth_type": (0x86dd, None), "ip_proto": (58, None), "icmpv6_type": (136, None),
          "ipv6_nd_tll": ("00:11:22:33:44:55", None)}, None),
        ("udp", "udp,udp_src=5353,udp_dst=53,actions=output:CONTROLLER",
         {"eth_type": (0x0800, None), "ip_proto": (17, None), "udp_src": (5353, None),
          "udp_dst": (53, None)},
         [{"type": "output", "port": "CONTROLLER", "max_len": 0xffff}]),
        ("sctp", "sctp,tp_src=9,tp_dst=10,actions=output:IN_PORT",
         {"eth_type": (0x0800, None), "ip_proto": (132, None), "sctp_src": (9, None),
          "sctp_dst": (10, None)},
         [{"type": "output", "port": "IN_PORT", "max_len": 0}]),
        ("icmp", "icmp,icmp_type=8,icmp_code=0,actions=NORMAL",
         {"eth_type": (0x0800, None), "ip_proto": (1, None), "icmpv4_type": (8, None),
          "icmpv4_code": (0, None)},
         [{"type": "output", "port": "NORMAL", "max_len": 0}]),
        ("mpls", "mpls,mpls_label=1000,mpls_tc=3,mpls_bos=1,"
                 "actions=set_mpls_ttl:9,dec_mpls_ttl,pop_mpls:0x0800,output:1",
         {"eth_type": (0x8847, None), "mpls_label": (1000, None), "mpls_tc": (3, None),
          "mpls_bos": (1, None)},
         [{"type": "set_mpls_ttl", "ttl": 9}, {"type": "dec_mpls_ttl"},
          {"type": "pop_mpls", "ethertype": 0x0800}, {"type": "output", "port": 1, "max_len": 0}]),
    ]
    for name, spec, want_match, want_actions in flows:
        fm = send_and_decode(peer, f"add-flow {name}", "FLOW_MOD", "add-flow", spec)
        expect_eq(f"{name} match", fields(fm.get("match", {})), want_match)
        if want_actions is None:
            expect_eq(f"{name} drops", fm.get("instructions"), [])
        else:
            expect_eq(f"{name} actions", fm.get("instructions"),
                      [{"type": "apply_actions", "actions": want_actions}])

    fm = send_and_decode(peer, "mod-flows with a cookie mask", "FLOW_MOD", "mod-flows",
                         "cookie=0x5/-1,table=3,tcp,tp_dst=80,actions=output:3")
    expect_eq("mod-flows fields",
              {k: fm.get(k) for k in ("command", "table_id", "cookie", "cookie_mask")},
              {"command": "MODIFY", "table_id": 3, "cookie": 5, "cookie_mask": 0xffffffffffffffff})
    fm = send_and_decode(peer, "del-flows --strict", "FLOW_MOD", "del-flows", "--strict",
                         "table=3,priority=7,tcp,tp_dst=80")
    expect_eq("del-flows --strict fields",
              {k: fm.get(k) for k in ("command", "table_id", "priority", "out_port",
                                      "out_group", "instructions")},
              {"command": "DELETE_STRICT", "table_id": 3, "priority": 7, "out_port": "ANY",
               "out_group": 0xffffffff, "instructions": []})
    expect_eq("del-flows --strict match", fields(fm.get("match", {})),
              {"eth_type": (0x0800, None), "ip_proto": (6, None), "tcp_dst": (80, None)})

    gm = send_and_decode(peer, "add-group select", "GROUP_MOD", "add-group",
                         "group_id=1,type=select,bucket=weight:50,output:1,"
                         "bucket=weight:50,actions=pop_vlan,output:2")
    expect_eq("add-group fields", gm, {
        "type": "GROUP_MOD", "version": 4, "xid": gm.get("xid"), "command": "ADD",
        "group_type": 1, "group_id": 1, "buckets": [
            {"weight": 50, "watch_port": "ANY", "watch_group": 0xffffffff,
             "actions": [{"type": "output", "port": 1, "max_len": 0}]},
            {"weight": 50, "watch_port": "ANY", "watch_group": 0xffffffff,
             "actions": [{"type": "pop_vlan"}, {"type": "output", "port": 2, "max_len": 0}]}]})

    mm = send_and_decode(peer, "add-meter with two bands", "METER_MOD", "add-meter",
                         "meter=1,kbps,burst,band=type=drop,rate=1000,burst_size=100,"
                         "type=dscp_remark,rate=2000,burst_size=200,prec_level=1")
    expect_eq("add-meter fields",
              {k: mm.get(k) for k in ("command", "flags", "meter_id", "bands")},
              {"command": "ADD", "flags": 0x1 | 0x4, "meter_id": 1, "bands": [
                  {"type": 1, "rate": 1000, "burst_size": 100},
                  {"type": 2, "rate": 2000, "burst_size": 200, "prec_level": 1}]})

    pkt = "001122334455006677889900080045000014000040004000000000000a0000010a000002"
    po = send_and_decode(peer, "packet-out", "PACKET_OUT", "packet-out",
                         f"in_port=controller packet={pkt} actions=output:1")
    expect_eq("packet-out fields", {k: po.get(k) for k in ("buffer_id", "in_port", "actions", "data")},
              {"buffer_id": 0xffffffff, "in_port": "CONTROLLER",
               "actions": [{"type": "output", "port": 1, "max_len": 0}], "data": pkt})

    # --- our replies, printed by ovs-ofctl ---
    def dump(name, want, *args):
        rc, out, err = ofctl(peer, *args)
        msgs = peer.new_messages()
        check(f"{name}: printed by ovs-ofctl as expected", rc == 0 and out == want,
              f"rc={rc} {err}\n--- got\n{out}--- want\n{want}")
        return msgs

    msgs = dump("dump-flows (FLOW_STATS reply)",
                "OFPST_FLOW reply (OF1.3) (xid=0x2):\n"
                " cookie=0x1, duration=1.500s, table=0, n_packets=10, n_bytes=1000, "
                "priority=100,ip,nw_src=10.0.0.1 actions=output:2\n"
                " cookie=0x5, duration=2s, table=3, n_packets=0, n_bytes=0, idle_timeout=30, "
                "priority=7,tcp,nw_src=10.0.0.0/8,tp_dst=80 actions=set_field:10.1.1.1->ip_dst,"
                "push_vlan:0x8100,set_field:4196->vlan_vid,output:2,goto_table:4\n"
                " cookie=0x0, duration=0s, table=0, n_packets=0, n_bytes=0, priority=0 "
                "actions=drop\n", "dump-flows")
    expect_eq("dump-flows request decoded",
              [(m.get("mp_type"), m.get("table_id"), m.get("match")) for m in msgs
               if m.get("mp_type") == "FLOW"], [("FLOW", 255, {})])

    rc, out, err = ofctl(peer, "dump-flows", "table=1")
    peer.new_messages()
    lines = out.splitlines()
    headers = [l for l in lines if l.startswith("OFPST_FLOW reply")]
    flows_out = [l for l in lines if l.startswith(" cookie=")]
    check("split FLOW_STATS reply: 2000 flows over several messages", rc == 0
          and len(flows_out) == 2000 and len(headers) > 1
          and all(h == headers[-1] + " flags=[more]" for h in headers[:-1])
          and headers[-1].startswith("OFPST_FLOW reply (OF1.3) (xid="),
          f"rc={rc} flows={len(flows_out)} headers={headers} {err}")
    want0 = (" cookie=0x1000000, duration=10.500s, table=1, n_packets=0, n_bytes=0, "
             "priority=100,tcp,reg0=0/0xff,metadata=0/0xfff00000000,in_port=1,dl_vlan=0,"
             "nw_src=10.0.0.0/24,nw_dst=172.16.0.0,tp_src=1024,tp_dst=443 "
             "actions=set_field:0->reg1,set_field:192.168.0.0->ip_dst,dec_ttl,output:1,"
             "goto_table:1")
    check("split FLOW_STATS reply: first flow exact", bool(flows_out) and flows_out[0] == want0,
          f"got:  {flows_out[0] if flows_out else None}\nwant: {want0}")
    check("split FLOW_STATS reply: last flow is #1999",
          bool(flows_out) and flows_out[-1].startswith(" cookie=0x10007cf,"),
          flows_out[-1] if flows_out else "")

    port = ("     config:     0\n     state:      LIVE\n     current:    10GB-FD COPPER\n"
            "     supported:  10GB-FD COPPER\n     speed: 10000 Mbps now, 10000 Mbps max\n")
    dump("dump-ports-desc (PORT_DESC reply)",
         "OFPST_PORT_DESC reply (OF1.3) (xid=0x2):\n"
         " 1(eth1): addr:02:00:00:00:00:01\n" + port +
         " 2(eth2): addr:02:00:00:00:00:02\n" + port, "dump-ports-desc")
    dump("dump-tables (TABLE stats reply)",
         "OFPST_TABLE reply (OF1.3) (xid=0x2):\n  table 0:\n    active=3, lookup=100, matched=90\n"
         "\n  table 1:\n    active=0, lookup=10, matched=0\n", "dump-tables")
    dump("dump-group-features (GROUP_FEATURES reply)",
         "OFPST_GROUP_FEATURES reply (OF1.3) (xid=0x2):\n Group table:\n    Types:  0xf\n"
         "    Capabilities:  0x5\n    all group:\n       max_groups=0x64\n       actions: output\n"
         "    select group:\n       max_groups=0x32\n       actions: output\n"
         "    indirect group:\n       max_groups=0\n       actions: <none>\n"
         "    fast failover group:\n       max_groups=0xa\n       actions: output\n",
         "dump-group-features")
    dump("dump-table-features (TABLE_FEATURES reply)",
         "  table 0 (\"table0\"):\n"
         "    metadata: match=0xffffffffffffffff write=0xffffffffffffffff\n"
         "    max_entries=1000000\n"
         "    instructions (table miss and others):\n"
         "      next tables: 1-3\n"
         "      instructions: meter apply_actions clear_actions write_actions write_metadata "
         "goto_table\n"
         "      Write-Actions and Apply-Actions features:\n"
         "        actions: output group set_field strip_vlan push_vlan\n"
         "        supported on Set-Field: eth_{src,dst} ip_{src,dst}\n"
         "    matching:\n"
         "      exact match or wildcard: in_port_oxm eth_{src,dst,type} ip_{src,dst} nw_proto\n"
         "\n"
         "  table 1 (\"table1\"): ditto\n", "dump-table-features")
    rc, out, err = ofctl(peer, "queue-stats")
    peer.new_messages()
    check("queue-stats: our OFPT_ERROR (BAD_REQUEST/BAD_MULTIPART) printed by ovs-ofctl",
          out.startswith("OFPT_ERROR (OF1.3) (xid=0x2): OFPBRC_BAD_STAT\n"
                         "OFPST_QUEUE request (OF1.3) (xid=0x2): port=ANY queue=ALL"),
          f"rc={rc}\n{out}{err}")


if __name__ == "__main__":
    sys.exit(main())
