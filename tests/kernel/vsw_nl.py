#!/usr/bin/env python3
"""vsw_nl.py - an independent generic-netlink client for vsw.ko, used by the selftests.

It shares no code with vsw-dpctl: the constants below are transcribed from
netlink-proto/vsw.h by hand and the messages are packed with `struct` over a raw
AF_NETLINK socket, so an ABI mistake that vsw-dpctl and the module share still shows up
here. Subcommands (all print JSON lines or plain counts, exit 0 on success):

  dp-get NAME                         the datapath's attributes
  dp-script                           datapath requests read from stdin, one a line:
                                        get NAME | set NAME [PID...] | new NAME [PID...]
                                      set/new send PER_CPU_PIDS (no PID = the empty array);
                                      `raw:HEX` instead of PIDs sends those bytes,
                                      `features=N` adds a FEATURES attribute. Prints one JSON
                                      line per request: {"req", "ok", "reply" | "error"}
  upcall-sockets DP PORT [--per-cpu N] [--stop-file F]
                                      one socket as PORT's upcall pid and N more as the
                                      datapath's per-CPU pids; print each UDP upcall as a
                                      JSON line naming the socket ("vport", "cpu0", ...)
  listen DP PORT [--count N] [--timeout S] [--cmd miss|action]
                                      register this socket as PORT's upcall pid (vport SET)
                                      and print each upcall as a JSON line
  flows-add DP N [--port P]           install N exact flows (distinct tp_src) pipelined
  flows-churn DP SECONDS              add and remove other flows for SECONDS
  dump DP                             dump flows, print "count duplicates"
  execute DP IN_PORT OUT_PORT DSTMAC SRCMAC
                                      send one UDP frame through VSW_PACKET_CMD_EXECUTE
  fuzz DP N [--seed S]                send N malformed/random messages, print a summary
  actions-limits DP                   the largest legal action list installs, reads back (GET,
                                      DEL echo, dump); oversized lists (repeated nested fields)
                                      are refused with an extack message
  masks-fill DP N                     install N flows with N distinct masks (pipelined), then
                                      check that one more mask is refused and one more flow
                                      on an existing mask is not
  frag6-keys DP                       execute crafted IPv6 fragments with a userspace action
                                      and print the key the kernel extracted from each
  key-paths DP                        execute crafted frames on both sides of the key
                                      extraction's fast path (over a poisoned key) and check
                                      each extracted key byte for byte; exit 1 on a mismatch
"""
import argparse
import errno
import json
import os
import random
import select
import socket
import struct
import sys
import time

# ---- vsw.h, transcribed -------------------------------------------------------------------
VSW_PROTO_VERSION = 1
FAMILIES = ("vsw_datapath", "vsw_vport", "vsw_flow", "vsw_packet")
DP_CMD_NEW, DP_CMD_DEL, DP_CMD_GET, DP_CMD_SET = 1, 2, 3, 4
DP_ATTR_NAME, DP_ATTR_UPCALL_PID, DP_ATTR_STATS, DP_ATTR_VERSION, DP_ATTR_KEY_SIZE = 1, 2, 3, 4, 5
DP_ATTR_FEATURES, DP_ATTR_PER_CPU_PIDS, DP_ATTR_MAX_FLOWS, DP_ATTR_MAX_MASKS = 6, 7, 8, 9
DP_F_PER_CPU_UPCALLS = 1
VPORT_CMD_NEW, VPORT_CMD_DEL, VPORT_CMD_GET, VPORT_CMD_SET = 1, 2, 3, 4
VPORT_ATTR_PORT_NO, VPORT_ATTR_TYPE, VPORT_ATTR_NAME, VPORT_ATTR_UPCALL_PID = 1, 2, 3, 4
FLOW_CMD_NEW, FLOW_CMD_DEL, FLOW_CMD_GET, FLOW_CMD_SET = 1, 2, 3, 4
FLOW_ATTR_KEY, FLOW_ATTR_MASK, FLOW_ATTR_ACTIONS, FLOW_ATTR_STATS = 1, 2, 3, 4
FLOW_ATTR_TCP_FLAGS, FLOW_ATTR_USED, FLOW_ATTR_CLEAR, FLOW_ATTR_ID = 5, 6, 7, 8
ACTION_OUTPUT, ACTION_USERSPACE, ACTION_SET, ACTION_PUSH_VLAN, ACTION_POP_VLAN = 1, 2, 3, 4, 5
USERSPACE_PID, USERSPACE_COOKIE = 1, 2
PACKET_CMD_MISS, PACKET_CMD_ACTION, PACKET_CMD_EXECUTE = 1, 2, 3
PACKET_ATTR_PACKET, PACKET_ATTR_KEY, PACKET_ATTR_ACTIONS = 1, 2, 3
PACKET_ATTR_USERDATA, PACKET_ATTR_IN_PORT = 4, 5

# struct vsw_flow_key: (name, struct format, offset); 104 bytes.
KEY_FIELDS = [
    ("in_port", "=I", 0), ("skb_mark", "=I", 4), ("eth_src", "6s", 8), ("eth_dst", "6s", 14),
    ("eth_type", "!H", 20), ("vlan_tci", "!H", 22), ("ip_proto", "B", 24), ("ip_tos", "B", 25),
    ("ip_ttl", "B", 26), ("ip_frag", "B", 27), ("ipv6_label", "!I", 28), ("ipv4_src", "4s", 32),
    ("ipv4_dst", "4s", 36), ("ipv6_src", "16s", 40), ("ipv6_dst", "16s", 56),
    ("tp_src", "!H", 72), ("tp_dst", "!H", 74), ("tcp_flags", "!H", 76), ("icmp_type", "B", 78),
    ("icmp_code", "B", 79), ("arp_spa", "4s", 80), ("arp_tpa", "4s", 84), ("arp_sha", "6s", 88),
    ("arp_tha", "6s", 94), ("arp_op", "!H", 100),
    ("vlan_dei", "B", 102),
]
KEY_SIZE = 104

NETLINK_GENERIC = 16
NLM_F_REQUEST, NLM_F_MULTI, NLM_F_ACK, NLM_F_ECHO = 1, 2, 4, 8
NLM_F_DUMP = 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
GENL_ID_CTRL, CTRL_CMD_GETFAMILY, CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME = 16, 3, 1, 2
NLA_F_NESTED = 0x8000
SOL_NETLINK, NETLINK_EXT_ACK = 270, 11
SET_ETH_SRC = 1


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def fmt_mac(b):
    return ":".join("%02x" % x for x in b)


def key_pack(**fields):
    buf = bytearray(KEY_SIZE)
    for name, fmt, off in KEY_FIELDS:
        if name in fields:
            struct.pack_into(fmt, buf, off, fields[name])
    return bytes(buf)


def key_unpack(buf):
    out = {}
    for name, fmt, off in KEY_FIELDS:
        v = struct.unpack_from(fmt, buf, off)[0]
        if name.startswith(("eth_", "arp_s", "arp_t")) and isinstance(v, bytes):
            v = fmt_mac(v)
        elif name in ("ipv4_src", "ipv4_dst", "arp_spa", "arp_tpa"):
            v = socket.inet_ntop(socket.AF_INET, v)
        elif name in ("ipv6_src", "ipv6_dst"):
            v = socket.inet_ntop(socket.AF_INET6, v)
        out[name] = v
    return out


def attr(atype, payload):
    n = 4 + len(payload)
    return struct.pack("=HH", n, atype) + payload + b"\0" * ((4 - n % 4) % 4)


def nest(atype, *attrs):
    return attr(atype | NLA_F_NESTED, b"".join(attrs))


def u32(atype, v):
    return attr(atype, struct.pack("=I", v))


def strz(atype, s):
    return attr(atype, s.encode() + b"\0")


def parse_attrs(buf):
    out = []
    i = 0
    while i + 4 <= len(buf):
        n, t = struct.unpack_from("=HH", buf, i)
        if n < 4 or i + n > len(buf):
            break
        out.append((t & 0x3FFF, buf[i + 4:i + n]))
        i += (n + 3) & ~3
    return out


class NlError(Exception):
    def __init__(self, err, msg):
        super().__init__("%s: %s" % (os.strerror(err), msg))
        self.err, self.msg = err, msg


class Genl:
    """One raw generic netlink socket."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
        self.sock.bind((0, 0))
        try:  # SO_RCVBUFFORCE (root) is not capped by net.core.rmem_max
            self.sock.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)
        except OSError:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        try:
            self.sock.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        except OSError:
            pass
        self.pid = self.sock.getsockname()[0]
        self.seq = int(time.time()) & 0xFFFF
        self.fam = {}

    def msg(self, family, cmd, flags, payload, hdr=True, dp_ifindex=0, version=VSW_PROTO_VERSION):
        self.seq += 1
        body = struct.pack("=BBH", cmd, version, 0)
        if hdr:
            body += struct.pack("=i", dp_ifindex)
        body += payload
        return struct.pack("=IHHII", 16 + len(body), family, flags | NLM_F_REQUEST, self.seq, 0) + body

    def send(self, data):
        self.sock.send(data)

    def recv_msgs(self, timeout=None, bufsize=1 << 20):
        if timeout is not None:
            r, _, _ = select.select([self.sock], [], [], timeout)
            if not r:
                return []
        data = self.sock.recv(bufsize)
        msgs, i = [], 0
        while i + 16 <= len(data):
            n, t, f, seq, pid = struct.unpack_from("=IHHII", data, i)
            if n < 16:
                break
            msgs.append((t, f, seq, data[i + 16:i + n]))
            i += (n + 3) & ~3
        return msgs

    @staticmethod
    def extack(payload):
        err = struct.unpack_from("=i", payload)[0]
        text = ""
        # nlmsgerr = error(4) + original nlmsghdr(16) [+ payload unless capped]; then TLVs.
        orig_len = struct.unpack_from("=I", payload, 4)[0] if len(payload) >= 8 else 16
        for off in (4 + orig_len, 20):
            for t, v in parse_attrs(payload[off:]):
                if t == 1:
                    text = v.rstrip(b"\0").decode(errors="replace")
            if text:
                break
        return err, text

    def request(self, data, timeout=10):
        """Send one request (ACK added) and return its reply payloads; raises NlError."""
        flags = struct.unpack_from("=H", data, 6)[0] | NLM_F_ACK
        data = data[:6] + struct.pack("=H", flags) + data[8:]
        seq = struct.unpack_from("=I", data, 8)[0]
        self.send(data)
        out = []
        deadline = time.time() + timeout
        while True:
            msgs = self.recv_msgs(max(0.0, deadline - time.time()))
            if not msgs:
                raise NlError(errno.ETIMEDOUT, "no reply")
            for t, f, s, p in msgs:
                if s != seq:
                    continue
                if t == NLMSG_ERROR:
                    err, text = self.extack(p)
                    if err:
                        raise NlError(-err, text)
                    return out
                if t == NLMSG_DONE:
                    err = struct.unpack_from("=i", p)[0] if len(p) >= 4 else 0
                    if err:
                        raise NlError(-err, "")
                    return out
                out.append(p)

    def family(self, name):
        if name not in self.fam:
            data = self.msg(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0, strz(CTRL_ATTR_FAMILY_NAME, name),
                            hdr=False, version=1)
            for p in self.request(data):
                for t, v in parse_attrs(p[4:]):
                    if t == CTRL_ATTR_FAMILY_ID:
                        self.fam[name] = struct.unpack("=H", v[:2])[0]
        return self.fam[name]

    def dp_get(self, name):
        reply = self.request(self.msg(self.family("vsw_datapath"), DP_CMD_GET, 0,
                                      strz(DP_ATTR_NAME, name)))
        return dp_parse(reply[0])


def dp_parse(p):
    info = {"dp_ifindex": struct.unpack_from("=i", p, 4)[0]}
    for t, v in parse_attrs(p[8:]):
        if t == DP_ATTR_NAME:
            info["name"] = v.rstrip(b"\0").decode()
        elif t in (DP_ATTR_VERSION, DP_ATTR_KEY_SIZE, DP_ATTR_UPCALL_PID, DP_ATTR_FEATURES,
                   DP_ATTR_MAX_FLOWS, DP_ATTR_MAX_MASKS):
            info[{DP_ATTR_VERSION: "version", DP_ATTR_KEY_SIZE: "key_size",
                  DP_ATTR_UPCALL_PID: "upcall_pid", DP_ATTR_FEATURES: "features",
                  DP_ATTR_MAX_FLOWS: "max_flows",
                  DP_ATTR_MAX_MASKS: "max_masks"}[t]] = struct.unpack("=I", v[:4])[0]
        elif t == DP_ATTR_PER_CPU_PIDS:
            info["per_cpu_pids"] = list(struct.unpack("=%dI" % (len(v) // 4), v[:len(v) // 4 * 4]))
        elif t == DP_ATTR_STATS:
            names = ("hit", "missed", "lost", "flows", "masks", "mask_hit", "microflow_hit")
            vals = struct.unpack_from("=%dQ" % (len(v) // 8), v)
            info["stats"] = dict(zip(names, vals))
    return info


def flow_payload(key, mask, actions=None):
    p = attr(FLOW_ATTR_KEY, key) + attr(FLOW_ATTR_MASK, mask)
    if actions is not None:
        p += nest(FLOW_ATTR_ACTIONS, *actions)
    return p


def exact_flow_key(i, port):
    return key_pack(in_port=port, eth_type=0x0800, ip_proto=17, ipv4_src=bytes([10, 9, 0, 1]),
                    tp_src=i & 0xFFFF, tp_dst=(i >> 16) + 1)


FLOW_MASK = key_pack(in_port=0xFFFFFFFF, eth_type=0xFFFF, ip_proto=0xFF,
                     ipv4_src=b"\xff\xff\xff\xff", tp_src=0xFFFF, tp_dst=0xFFFF)


def pipelined(nl, msgs, window=64, batch=16):
    """Send requests with ACK, up to `batch` per send() and `window` in flight; return
    (ok, errors). The kernel processes every message of one send() in order."""
    ok = bad = 0
    pending = 0
    it = iter(msgs)
    done = False
    while not done or pending:
        while not done and pending < window:
            chunk = []
            for _ in range(min(batch, window - pending)):
                try:
                    m = next(it)
                except StopIteration:
                    done = True
                    break
                flags = struct.unpack_from("=H", m, 6)[0] | NLM_F_ACK
                chunk.append(m[:6] + struct.pack("=H", flags) + m[8:] + b"\0" * ((4 - len(m) % 4) % 4))
            if not chunk:
                break
            nl.send(b"".join(chunk))
            pending += len(chunk)
        if pending:
            msgs_in = nl.recv_msgs(10)
            if not msgs_in:
                raise NlError(errno.ETIMEDOUT, "no ack")
            for t, f, s, p in msgs_in:
                if t == NLMSG_ERROR:
                    pending -= 1
                    if struct.unpack_from("=i", p)[0]:
                        bad += 1
                    else:
                        ok += 1
    return ok, bad


# ---- subcommands ---------------------------------------------------------------------------
def cmd_dp_get(a):
    print(json.dumps(Genl().dp_get(a.dp)))


def cmd_listen(a):
    nl = Genl()
    dp = nl.dp_get(a.dp)
    if dp.get("key_size") != KEY_SIZE:
        sys.exit("key size mismatch: kernel %s, here %d" % (dp.get("key_size"), KEY_SIZE))
    payload = strz(VPORT_ATTR_NAME, a.port) + u32(VPORT_ATTR_UPCALL_PID, nl.pid)
    nl.request(nl.msg(nl.family("vsw_vport"), VPORT_CMD_SET, 0, payload, dp_ifindex=dp["dp_ifindex"]))
    print(json.dumps({"ready": True, "pid": nl.pid}), flush=True)
    if a.ready_file:
        open(a.ready_file, "w").write(str(nl.pid))
    got = 0
    deadline = time.time() + a.timeout
    pkt_fam = nl.family("vsw_packet")
    while got < a.count and time.time() < deadline:
        for t, f, s, p in nl.recv_msgs(max(0.0, deadline - time.time())):
            if t != pkt_fam:
                continue
            cmd = p[0]
            up = {"cmd": {PACKET_CMD_MISS: "miss", PACKET_CMD_ACTION: "action"}.get(cmd, cmd)}
            if a.cmd and up["cmd"] != a.cmd:
                continue  # e.g. IPv6 router solicitations missing while we wait for actions
            for at, v in parse_attrs(p[8:]):
                if at == PACKET_ATTR_KEY:
                    up["key_len"] = len(v)
                    up["key"] = key_unpack(v) if len(v) == KEY_SIZE else None
                elif at == PACKET_ATTR_PACKET:
                    up["packet_len"] = len(v)
                    up["packet_dst"] = fmt_mac(v[0:6])
                    up["packet_src"] = fmt_mac(v[6:12])
                elif at == PACKET_ATTR_IN_PORT:
                    up["in_port"] = struct.unpack("=I", v[:4])[0]
                elif at == PACKET_ATTR_USERDATA:
                    up["userdata"] = v.hex()
            print(json.dumps(up), flush=True)
            got += 1
    return 0 if got >= a.count else 1


def cmd_dp_script(a):
    """One process for many requests: under TCG every python start costs seconds."""
    nl = Genl()
    fam = nl.family("vsw_datapath")
    for line in sys.stdin:
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        verb, name, args = words[0], words[1], words[2:]
        payload = strz(DP_ATTR_NAME, name)
        if verb in ("set", "new"):
            raw = b"".join(bytes.fromhex(w[4:]) if w.startswith("raw:") else struct.pack("=I", int(w))
                           for w in args if not w.startswith("features="))
            payload += attr(DP_ATTR_PER_CPU_PIDS, raw)
            for w in args:
                if w.startswith("features="):
                    payload += u32(DP_ATTR_FEATURES, int(w[9:]))
        cmd = {"get": DP_CMD_GET, "set": DP_CMD_SET, "new": DP_CMD_NEW}[verb]
        out = {"req": line.strip()}
        try:
            out.update(ok=True, reply=dp_parse(nl.request(nl.msg(fam, cmd, 0, payload))[0]))
        except NlError as e:
            out.update(ok=False, error=str(e))
        print(json.dumps(out), flush=True)


def cmd_upcall_sockets(a):
    """Socket "vport" becomes PORT's upcall pid, sockets "cpu0".."cpuN-1" the per-CPU pids
    (DP SET); every UDP upcall is printed with the socket that received it, until the stop
    file appears (then what is queued is drained) or the timeout passes."""
    socks = {"vport": Genl()}
    for i in range(a.per_cpu):
        socks["cpu%d" % i] = Genl()
    nl = socks["vport"]
    dp = nl.dp_get(a.dp)
    nl.request(nl.msg(nl.family("vsw_vport"), VPORT_CMD_SET, 0,
                      strz(VPORT_ATTR_NAME, a.port) + u32(VPORT_ATTR_UPCALL_PID, nl.pid),
                      dp_ifindex=dp["dp_ifindex"]))
    if a.per_cpu:
        pids = [socks["cpu%d" % i].pid for i in range(a.per_cpu)]
        nl.request(nl.msg(nl.family("vsw_datapath"), DP_CMD_SET, 0,
                          attr(DP_ATTR_PER_CPU_PIDS, struct.pack("=%dI" % len(pids), *pids)),
                          dp_ifindex=dp["dp_ifindex"]))
    ready = " ".join(str(socks[n].pid) for n in socks)
    print(json.dumps({"ready": ready}), flush=True)
    if a.ready_file:
        open(a.ready_file, "w").write(ready)
    pkt_fam = nl.family("vsw_packet")
    by_fd = {g.sock.fileno(): (n, g) for n, g in socks.items()}
    deadline = time.time() + a.timeout
    stopping = None
    while time.time() < deadline:
        if stopping is None and a.stop_file and os.path.exists(a.stop_file):
            stopping = time.time() + 0.5  # drain what is already queued
        if stopping is not None and time.time() > stopping:
            return 0
        r, _, _ = select.select(list(by_fd), [], [], 0.1)
        for fd in r:
            name, g = by_fd[fd]
            msgs = g.recv_msgs(0)
            while msgs:
                for t, f, s, p in msgs:
                    if t != pkt_fam:
                        continue
                    up = {"sock": name, "cmd": {PACKET_CMD_MISS: "miss",
                                                PACKET_CMD_ACTION: "action"}.get(p[0], p[0])}
                    for at, v in parse_attrs(p[8:]):
                        if at == PACKET_ATTR_KEY and len(v) == KEY_SIZE:
                            k = key_unpack(v)
                            up.update(in_port=k["in_port"], ip_proto=k["ip_proto"],
                                      tp_src=k["tp_src"], tp_dst=k["tp_dst"])
                    if up.get("ip_proto") == 17:
                        print(json.dumps(up), flush=True)
                msgs = g.recv_msgs(0)
    return 1 if a.stop_file else 0


def cmd_flows_add(a):
    nl = Genl()
    dp = nl.dp_get(a.dp)
    fam = nl.family("vsw_flow")
    msgs = (nl.msg(fam, FLOW_CMD_NEW, 0,
                   flow_payload(exact_flow_key(a.base + i, a.port), FLOW_MASK, [u32(ACTION_OUTPUT, a.port)]),
                   dp_ifindex=dp["dp_ifindex"]) for i in range(a.n))
    ok, bad = pipelined(nl, msgs)
    print("added %d failed %d" % (ok, bad))
    return 0 if bad == 0 else 1


def cmd_flows_churn(a):
    nl = Genl()
    dp = nl.dp_get(a.dp)
    fam = nl.family("vsw_flow")
    end = time.time() + a.seconds
    rounds = 0
    while time.time() < end:
        keys = [exact_flow_key(a.base + i, a.port) for i in range(200)]
        pipelined(nl, (nl.msg(fam, FLOW_CMD_NEW, 0, flow_payload(k, FLOW_MASK, [u32(ACTION_OUTPUT, a.port)]),
                              dp_ifindex=dp["dp_ifindex"]) for k in keys))
        pipelined(nl, (nl.msg(fam, FLOW_CMD_DEL, 0, flow_payload(k, FLOW_MASK),
                              dp_ifindex=dp["dp_ifindex"]) for k in keys))
        rounds += 1
    print("churn rounds %d" % rounds)


def cmd_dump(a):
    nl = Genl()
    dp = nl.dp_get(a.dp)
    replies = nl.request(nl.msg(nl.family("vsw_flow"), FLOW_CMD_GET, NLM_F_DUMP, b"",
                                dp_ifindex=dp["dp_ifindex"]), timeout=120)
    seen, dups, ids = set(), 0, []
    for p in replies:
        k = m = None
        for t, v in parse_attrs(p[8:]):
            if t == FLOW_ATTR_KEY:
                k = v
            elif t == FLOW_ATTR_MASK:
                m = v
            elif t == FLOW_ATTR_ID:
                ids.append(struct.unpack("=I", v[:4])[0])
        if (k, m) in seen:
            dups += 1
        seen.add((k, m))
    if a.stable_port is not None:
        want = {exact_flow_key(i, a.stable_port) for i in range(a.stable_n)}
        have = {k for k, m in seen}
        print("count %d duplicates %d missing %d" % (len(replies), dups, len(want - have)))
    else:
        print("count %d duplicates %d" % (len(replies), dups))


def udp_frame(dst, src, sport=1234, dport=5555, payload=b"vsw-execute"):
    ip_src, ip_dst = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, ip_src, ip_dst)
    s = sum(struct.unpack("!10H", hdr))
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    hdr = hdr[:10] + struct.pack("!H", ~s & 0xFFFF) + hdr[12:]
    return mac(dst) + mac(src) + b"\x08\x00" + hdr + udp


def cmd_execute(a):
    nl = Genl()
    dp = nl.dp_get(a.dp)
    frame = udp_frame(a.dstmac, a.srcmac, dport=a.dport)
    payload = (attr(PACKET_ATTR_PACKET, frame) + attr(PACKET_ATTR_KEY, key_pack(in_port=a.in_port))
               + nest(PACKET_ATTR_ACTIONS, u32(ACTION_OUTPUT, a.out_port)))
    for _ in range(a.count):
        nl.request(nl.msg(nl.family("vsw_packet"), PACKET_CMD_EXECUTE, 0, payload,
                          dp_ifindex=dp["dp_ifindex"]))
    print("executed %d" % a.count)


def random_attrs(rng, depth=0):
    out = b""
    for _ in range(rng.randint(0, 4)):
        t = rng.randint(0, 12)
        kind = rng.random()
        if kind < 0.3 and depth < 3:
            out += nest(t, random_attrs(rng, depth + 1))
        elif kind < 0.5:
            out += attr(t, os.urandom(rng.choice([0, 1, 2, 4, 6, 8, 16, 103, 104, 105, 200])))
        elif kind < 0.6:
            out += attr(t, key_pack(in_port=rng.randint(0, 2000)))
        elif kind < 0.7:  # a lying length
            out += struct.pack("=HH", rng.randint(0, 4000), t) + os.urandom(rng.randint(0, 12))
        else:
            out += u32(t, rng.choice([0, 1, 2, 1023, 1024, 0xFFFFFFFF, rng.getrandbits(32)]))
    return out


def cmd_fuzz(a):
    """Random and malformed requests; every one must be answered (ack or error) and the
    kernel must stay healthy. Destructive commands only ever name a throwaway datapath."""
    rng = random.Random(a.seed)
    nl = Genl()
    dp = nl.dp_get(a.dp)
    fams = [nl.family(f) for f in FAMILIES]
    sent = errors = acks = 0

    def gen():
        nonlocal sent
        for _ in range(a.n):
            fam = rng.choice(fams)
            cmd = rng.randint(0, 6)
            if fam == fams[0] and cmd in (DP_CMD_NEW, DP_CMD_DEL, DP_CMD_SET):
                cmd = DP_CMD_GET  # never create/destroy datapaths at random
            ifx = rng.choice([dp["dp_ifindex"], dp["dp_ifindex"], 0, -1, 1, rng.getrandbits(31)])
            flags = rng.choice([0, 0, 0, NLM_F_ECHO])
            body = random_attrs(rng)
            if rng.random() < 0.1:
                body = body[: rng.randint(0, len(body))]  # truncated
            m = nl.msg(fam, cmd, flags, body, dp_ifindex=ifx, version=rng.choice([1, 1, 0, 9]))
            if rng.random() < 0.05:  # header shorter than genl + vsw header
                m = struct.pack("=IHHII", 18, fam, NLM_F_REQUEST, nl.seq, 0) + b"\x03\x01"
            sent += 1
            yield m

    acks_ok, errs = pipelined(nl, gen(), window=32, batch=1)
    acks, errors = acks_ok, errs
    print("sent %d answered %d errors %d ok %d" % (sent, acks + errors, errors, acks))
    return 0 if acks + errors == sent and errors >= sent // 2 else 1


def cmd_actions_limits(a):
    """Each step prints {"step", "ok", ...}; exit 0 when every step went as expected."""
    nl = Genl()
    dp = nl.dp_get(a.dp)
    fam, ifx = nl.family("vsw_flow"), dp["dp_ifindex"]
    mask = key_pack(in_port=0xFFFFFFFF, eth_type=0xFFFF)

    def fkey(port):
        return key_pack(in_port=port, eth_type=0x0800)
    # 32 userspace actions with the longest cookie: the largest list the ABI allows.
    big = [nest(ACTION_USERSPACE, u32(USERSPACE_PID, 1), attr(USERSPACE_COOKIE, bytes([i]) * 64))
           for i in range(32)]
    big_len = sum(len(x) for x in big)
    # One set() repeating its field, one userspace() repeating its cookie: each action is
    # "one", but the list is far larger than any legal one.
    rep_set = [nest(ACTION_SET, *[attr(SET_ETH_SRC, b"\x02\0\0\0\0\x07")] * 400)]
    rep_user = [nest(ACTION_USERSPACE, u32(USERSPACE_PID, 1),
                     *[attr(USERSPACE_COOKIE, b"c" * 64)] * 60)]
    failed = []

    def step(name, fn, want_ok, check=None, want_text="actions"):
        out = {"step": name}
        try:
            replies = fn()
            out["ok"] = True
            if check:
                out["check"] = check(replies)
        except NlError as e:
            out.update(ok=False, error=str(e))
        good = out["ok"] == want_ok and out.get("check", True) is True
        if not want_ok and good and want_text not in out.get("error", ""):
            good = False  # a refusal must say why (extack)
        out["as_expected"] = good
        if not good:
            failed.append(name)
        print(json.dumps(out), flush=True)

    def acts_len(replies):
        for t, v in parse_attrs(replies[0][8:]):
            if t == FLOW_ATTR_ACTIONS:
                return len(v) == big_len or "actions of %d bytes, want %d" % (len(v), big_len)
        return "no actions in the reply"

    def req(cmd, payload, flags=0):
        return lambda: nl.request(nl.msg(fam, cmd, flags, payload, dp_ifindex=ifx))
    step("new largest (%d bytes)" % big_len, req(FLOW_CMD_NEW, flow_payload(fkey(1), mask, big)), True)
    step("get largest", req(FLOW_CMD_GET, flow_payload(fkey(1), mask)), True, acts_len)
    step("del largest with echo", req(FLOW_CMD_DEL, flow_payload(fkey(1), mask), NLM_F_ECHO), True,
         acts_len)
    step("get after del", req(FLOW_CMD_GET, flow_payload(fkey(1), mask)), False, want_text="no flow")
    step("new repeated set fields", req(FLOW_CMD_NEW, flow_payload(fkey(2), mask, rep_set)), False)
    # Had it been accepted, its GET would fail (EMSGSIZE, after a kernel WARNING).
    step("get repeated set fields", req(FLOW_CMD_GET, flow_payload(fkey(2), mask)), False,
         want_text="no flow")
    step("new repeated cookies", req(FLOW_CMD_NEW, flow_payload(fkey(3), mask, rep_user)), False)
    step("set repeated set fields", req(FLOW_CMD_SET, flow_payload(fkey(1), mask, rep_set)), False)
    pkt = (attr(PACKET_ATTR_PACKET, udp_frame("02:00:00:00:00:02", "02:00:00:00:00:01"))
           + attr(PACKET_ATTR_KEY, key_pack(in_port=1)) + nest(PACKET_ATTR_ACTIONS, *rep_set))
    step("execute repeated set fields", lambda: nl.request(nl.msg(nl.family("vsw_packet"),
         PACKET_CMD_EXECUTE, 0, pkt, dp_ifindex=ifx)), False)
    # A dump holding the largest flow among small ones returns every one of them.
    step("new largest again", req(FLOW_CMD_NEW, flow_payload(fkey(1), mask, big)), True)
    for p in (4, 5, 6):
        step("new small %d" % p, req(FLOW_CMD_NEW, flow_payload(fkey(p), mask, [u32(ACTION_OUTPUT, 2)])),
             True)
    step("dump", req(FLOW_CMD_GET, b"", NLM_F_DUMP), True,
         lambda r: len(r) == 4 or "dump returned %d flows, want 4" % len(r))
    # A reader with a small receive buffer gets messages of NLMSG_GOODSIZE; the largest
    # flow still fits one, so this dump is complete too.
    small = Genl()
    small.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    small.recv_msgs = lambda timeout=None, g=small, f=Genl.recv_msgs: f(g, timeout, 4096)
    step("dump, 4 KiB reads", lambda: small.request(small.msg(fam, FLOW_CMD_GET, NLM_F_DUMP, b"",
                                                             dp_ifindex=ifx)), True,
         lambda r: len(r) == 4 or "dump returned %d flows, want 4" % len(r))
    return 1 if failed else 0


def cmd_echo_replies(a):
    """Flow NEW and SET answer with a message only under NLM_F_ECHO; prints each step."""
    nl = Genl()
    dp = nl.dp_get(a.dp)
    fam, ifx = nl.family("vsw_flow"), dp["dp_ifindex"]
    mask = key_pack(in_port=0xFFFFFFFF, eth_type=0xFFFF)
    out1 = [u32(ACTION_OUTPUT, 1)]
    bad = 0

    def step(name, cmd, port, flags, want):
        nonlocal bad
        replies = nl.request(nl.msg(fam, cmd, flags, flow_payload(key_pack(in_port=port, eth_type=0x0800),
                                                                     mask, out1), dp_ifindex=ifx))
        cmds = [r[0] for r in replies]
        good = cmds == want
        bad += not good
        print(json.dumps({"step": name, "reply_cmds": cmds, "want": want, "as_expected": good}), flush=True)
    step("new", FLOW_CMD_NEW, 1, 0, [])
    step("new with echo", FLOW_CMD_NEW, 2, NLM_F_ECHO, [FLOW_CMD_NEW])
    step("set", FLOW_CMD_SET, 1, 0, [])
    step("set with echo", FLOW_CMD_SET, 2, NLM_F_ECHO, [FLOW_CMD_SET])
    try:
        step("set absent with echo", FLOW_CMD_SET, 3, NLM_F_ECHO, [])
        bad += 1
        print("set of an absent flow succeeded", flush=True)
    except NlError as e:
        print(json.dumps({"step": "set absent with echo", "error": str(e)}), flush=True)
    return 1 if bad else 0


def cmd_masks_fill(a):
    nl = Genl()
    dp = nl.dp_get(a.dp)
    fam, ifx = nl.family("vsw_flow"), dp["dp_ifindex"]
    key = key_pack(in_port=1)

    def new(i, k=key):  # mask i: in_port and the bits of i in skb_mark
        return nl.msg(fam, FLOW_CMD_NEW, 0, flow_payload(k, key_pack(in_port=0xFFFFFFFF, skb_mark=i),
                                                         [u32(ACTION_OUTPUT, 2)]), dp_ifindex=ifx)
    ok, bad = pipelined(nl, (new(i) for i in range(1, a.n + 1)))
    print("added %d failed %d" % (ok, bad), flush=True)
    if bad:
        return 1
    try:
        nl.request(new(a.n + 1))
        print("FAIL: mask %d accepted" % (a.n + 1))
        return 1
    except NlError as e:
        print("mask %d refused: %s" % (a.n + 1, e))
        if e.err != errno.ENOSPC or "mask" not in e.msg:
            print("FAIL: want ENOSPC and an extack message about masks")
            return 1
    nl.request(new(1, key_pack(in_port=2)))
    print("a flow on an existing mask is still accepted")
    return 0


def ipv6_frame(nexthdr, payload, src="fd00::1", dst="fd00::2"):
    hdr = struct.pack("!IHBB", 6 << 28, len(payload), nexthdr, 64)
    hdr += socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst)
    return mac("02:00:00:00:00:02") + mac("02:00:00:00:00:01") + b"\x86\xdd" + hdr + payload


def frag_hdr(nexthdr, offset, more=True, ident=0x1234):
    return struct.pack("!BBHI", nexthdr, 0, (offset << 3) | int(more), ident)


def executed_key(nl, dp, frame, key=None):
    """Execute FRAME with userspace(pid=this socket) and return the raw 104-byte key of the
    ACTION upcall: the key the kernel extracted from the frame (KEY, default in_port 1, is
    what the request carries before extraction)."""
    pkt_fam = nl.family("vsw_packet")
    payload = (attr(PACKET_ATTR_PACKET, frame) + attr(PACKET_ATTR_KEY, key or key_pack(in_port=1))
               + nest(PACKET_ATTR_ACTIONS, nest(ACTION_USERSPACE, u32(USERSPACE_PID, nl.pid))))
    nl.send(nl.msg(pkt_fam, PACKET_CMD_EXECUTE, 0, payload, dp_ifindex=dp["dp_ifindex"]))
    deadline = time.time() + 10
    while time.time() < deadline:
        for t, f, s, p in nl.recv_msgs(max(0.0, deadline - time.time())):
            if t == pkt_fam and p[0] == PACKET_CMD_ACTION:
                for at, v in parse_attrs(p[8:]):
                    if at == PACKET_ATTR_KEY and len(v) == KEY_SIZE:
                        return v
            elif t == NLMSG_ERROR and struct.unpack_from("=i", p)[0]:
                raise NlError(-struct.unpack_from("=i", p)[0], Genl.extack(p)[1])
    raise NlError(errno.ETIMEDOUT, "no ACTION upcall")


def cmd_frag6_keys(a):
    """Each frame is executed with userspace(pid=this socket); the ACTION upcall carries the
    key the kernel extracted from the frame itself. Prints {"frame", "key"} per frame."""
    nl = Genl()
    dp = nl.dp_get(a.dp)
    udp = struct.pack("!HHHH", 1111, 2222, 16, 0) + b"payload!"
    frames = {
        # a later fragment whose payload looks like a first-fragment header and a UDP header
        "later-fake-frag": ipv6_frame(44, frag_hdr(44, 8) + frag_hdr(17, 0) + udp),
        # a later fragment of a packet that had destination options; the payload looks like
        # another options header announcing TCP
        "later-fake-dstopt": ipv6_frame(44, frag_hdr(60, 8) + bytes([6, 0]) + b"\0" * 6 + udp),
        # a later fragment of UDP
        "later-udp": ipv6_frame(44, frag_hdr(17, 8, more=False) + udp),
        # a first fragment of UDP: its ports are in the key
        "first-udp": ipv6_frame(44, frag_hdr(17, 0) + udp),
    }
    for name, frame in frames.items():
        key = key_unpack(executed_key(nl, dp, frame))
        print(json.dumps({"frame": name, "key": {k: key[k] for k in (
            "eth_type", "ip_proto", "ip_frag", "tp_src", "tp_dst", "icmp_type", "tcp_flags")}}),
            flush=True)


def ipv4_frame(proto, l4, ihl=5, frag=0, tos=0, ttl=64, vlan=None, src=(10, 0, 0, 1),
               dst=(10, 0, 0, 2)):
    """An Ethernet frame 02:..:01 -> 02:..:02 with an IPv4 header (IHL words, options zero)."""
    ip = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, tos, 4 * ihl + len(l4), 7, frag, ttl, proto, 0,
                     bytes(src), bytes(dst)) + b"\0" * (4 * ihl - 20)
    tag = struct.pack("!HH", 0x8100, vlan) if vlan is not None else b""
    return mac("02:00:00:00:00:02") + mac("02:00:00:00:00:01") + tag + b"\x08\x00" + ip + l4


def cmd_key_paths(a):
    """The kernel's key of crafted frames, each executed with every key byte but in_port
    preset to 0xaa (a field extraction leaves unwritten would show), against the key
    written out by hand here: the linear IPv4 TCP/UDP frames vsw_flow_extract reads in
    place, and frames just outside that case, which take the general path. Prints one line
    per frame, exits 1 if any key differs."""
    nl = Genl()
    dp = nl.dp_get(a.dp)
    mark = 0xAAAAAAAA
    poison = key_pack(in_port=1, skb_mark=mark)[:8] + b"\xaa" * (KEY_SIZE - 8)
    eth = dict(in_port=1, skb_mark=mark, eth_src=mac("02:00:00:00:00:01"),
               eth_dst=mac("02:00:00:00:00:02"))
    ip4 = dict(eth, eth_type=0x0800, ip_ttl=64, ipv4_src=bytes([10, 0, 0, 1]),
               ipv4_dst=bytes([10, 0, 0, 2]))
    udp = struct.pack("!HHHH", 1111, 2222, 12, 0) + b"abcd"
    tcp = lambda doff, flags, opts=b"": (struct.pack("!HHIIHHHH", 3333, 80, 1, 2,
                                         doff << 12 | flags, 512, 0, 0) + opts)
    ports = dict(tp_src=1111, tp_dst=2222)
    cases = [  # name, frame, expected key fields (everything else zero)
        ("fast udp", ipv4_frame(17, udp, tos=0x2e, ttl=9),
         dict(ip4, ip_proto=17, ip_tos=0x2e, ip_ttl=9, **ports)),
        ("fast tcp syn|ack", ipv4_frame(6, tcp(5, 0x012)),
         dict(ip4, ip_proto=6, tp_src=3333, tp_dst=80, tcp_flags=0x012)),
        ("fast tcp options, all flags", ipv4_frame(6, tcp(8, 0xfff, b"\x01" * 12)),
         dict(ip4, ip_proto=6, tp_src=3333, tp_dst=80, tcp_flags=0xfff)),
        ("fast udp, df", ipv4_frame(17, udp, frag=0x4000), dict(ip4, ip_proto=17, **ports)),
        ("slow ip options", ipv4_frame(17, udp, ihl=6), dict(ip4, ip_proto=17, **ports)),
        ("slow first fragment", ipv4_frame(17, udp, frag=0x2000),
         dict(ip4, ip_proto=17, ip_frag=1, **ports)),
        ("slow later fragment", ipv4_frame(17, udp, frag=0x0001),
         dict(ip4, ip_proto=17, ip_frag=3)),
        ("slow icmp", ipv4_frame(1, b"\x08\x00" + b"\0" * 6),
         dict(ip4, ip_proto=1, icmp_type=8)),
        ("slow tcp doff 4", ipv4_frame(6, tcp(4, 0x002)), dict(ip4, ip_proto=6)),
        ("slow truncated tcp", ipv4_frame(6, tcp(5, 0x002)[:12]), dict(ip4, ip_proto=6)),
        ("slow truncated udp", ipv4_frame(17, udp[:4]), dict(ip4, ip_proto=17)),
        ("slow 802.1q tag", ipv4_frame(17, udp, vlan=0x2005),
         dict(ip4, ip_proto=17, vlan_tci=0x3005, **ports)),
        ("slow 802.1q tag with DEI", ipv4_frame(17, udp, vlan=0x3005),
         dict(ip4, ip_proto=17, vlan_tci=0x3005, vlan_dei=1, **ports)),
        ("slow ipv6 udp", ipv6_frame(17, udp),
         dict(in_port=1, skb_mark=mark, eth_src=mac("02:00:00:00:00:01"),
              eth_dst=mac("02:00:00:00:00:02"), eth_type=0x86DD, ip_proto=17, ip_ttl=64,
              ipv6_src=socket.inet_pton(socket.AF_INET6, "fd00::1"),
              ipv6_dst=socket.inet_pton(socket.AF_INET6, "fd00::2"), **ports)),
    ]
    bad = 0
    for name, frame, fields in cases:
        got, want = executed_key(nl, dp, frame, poison), key_pack(**fields)
        diff = {k: (v, key_unpack(want)[k]) for k, v in key_unpack(got).items()
                if v != key_unpack(want)[k]}
        if got != want and not diff:
            diff = {"pad": got[103:].hex()}
        bad += bool(diff)
        print("%s %s%s" % ("ok" if not diff else "FAIL", name,
                           "" if not diff else " (got, want): %s" % diff), flush=True)
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("dp-get"); p.add_argument("dp"); p.set_defaults(f=cmd_dp_get)
    p = sub.add_parser("listen"); p.add_argument("dp"); p.add_argument("port")
    p.add_argument("--count", type=int, default=1); p.add_argument("--timeout", type=float, default=20)
    p.add_argument("--ready-file"); p.add_argument("--cmd", choices=["miss", "action"])
    p.set_defaults(f=cmd_listen)
    p = sub.add_parser("dp-script"); p.set_defaults(f=cmd_dp_script)
    p = sub.add_parser("upcall-sockets"); p.add_argument("dp"); p.add_argument("port")
    p.add_argument("--per-cpu", type=int, default=0); p.add_argument("--timeout", type=float, default=60)
    p.add_argument("--ready-file"); p.add_argument("--stop-file"); p.set_defaults(f=cmd_upcall_sockets)
    p = sub.add_parser("flows-add"); p.add_argument("dp"); p.add_argument("n", type=int)
    p.add_argument("--port", type=int, default=1); p.add_argument("--base", type=int, default=0)
    p.set_defaults(f=cmd_flows_add)
    p = sub.add_parser("flows-churn"); p.add_argument("dp"); p.add_argument("seconds", type=float)
    p.add_argument("--port", type=int, default=2); p.add_argument("--base", type=int, default=0)
    p.set_defaults(f=cmd_flows_churn)
    p = sub.add_parser("dump"); p.add_argument("dp")
    p.add_argument("--stable-port", type=int); p.add_argument("--stable-n", type=int, default=0)
    p.set_defaults(f=cmd_dump)
    p = sub.add_parser("execute"); p.add_argument("dp"); p.add_argument("in_port", type=int)
    p.add_argument("out_port", type=int); p.add_argument("dstmac"); p.add_argument("srcmac")
    p.add_argument("--dport", type=int, default=5555); p.add_argument("--count", type=int, default=1)
    p.set_defaults(f=cmd_execute)
    p = sub.add_parser("fuzz"); p.add_argument("dp"); p.add_argument("n", type=int)
    p.add_argument("--seed", type=int, default=1); p.set_defaults(f=cmd_fuzz)
    p = sub.add_parser("actions-limits"); p.add_argument("dp"); p.set_defaults(f=cmd_actions_limits)
    p = sub.add_parser("echo-replies"); p.add_argument("dp"); p.set_defaults(f=cmd_echo_replies)
    p = sub.add_parser("masks-fill"); p.add_argument("dp"); p.add_argument("n", type=int)
    p.set_defaults(f=cmd_masks_fill)
    p = sub.add_parser("frag6-keys"); p.add_argument("dp"); p.set_defaults(f=cmd_frag6_keys)
    p = sub.add_parser("key-paths"); p.add_argument("dp"); p.set_defaults(f=cmd_key_paths)
    a = ap.parse_args()
    try:
        sys.exit(a.f(a) or 0)
    except NlError as e:
        print("vsw_nl: %s" % e, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
