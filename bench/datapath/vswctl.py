#!/usr/bin/env python3
"""Minimal vsw.ko control for the datapath benchmark (raw generic netlink, stdlib only).

    vswctl.py add-dp DP
    vswctl.py add-if DP IFACE PORT
    vswctl.py flow-inport DP IN OUT            one megaflow: in_port(IN) -> OUT
    vswctl.py flows-exact DP IN OUT N SRC DST  N exact UDP megaflows, source ports 1000..1000+N-1
    vswctl.py flows-masks DP IN OUT N M SRC DST
                                               the same N flows spread over M masks: port p's
                                               flow ignores the low p % M bits of the UDP
                                               destination port (so no two flows overlap)
    vswctl.py flush DP                         delete every flow
    vswctl.py stats DP                         hit missed lost flows masks mask_hit microflow_hit

It encodes netlink-proto/vsw.h by hand, independently of vsw-dpctl, so the benchmark
does not depend on the CLI being built.
"""
import socket
import struct
import sys

KEY_SIZE = 104
NLA_F_NESTED = 0x8000


def nla(t, payload):
    n = 4 + len(payload)
    return struct.pack("HH", n, t) + payload + b"\0" * ((4 - n % 4) % 4)


def parse(buf):
    out, i = {}, 0
    while i + 4 <= len(buf):
        n, t = struct.unpack_from("HH", buf, i)
        if n < 4:
            break
        out[t & 0x3FFF] = buf[i + 4:i + n]
        i += (n + 3) & ~3
    return out


class Genl:
    def __init__(self):
        self.s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 16)
        self.s.bind((0, 0))
        self.seq = 0
        self.ids = {}

    def send(self, fam, cmd, attrs, ifindex=0, hdr=True):
        self.seq += 1
        body = struct.pack("BBH", cmd, 1, 0) + (struct.pack("i", ifindex) if hdr else b"") + attrs
        self.s.send(struct.pack("IHHII", 16 + len(body), fam, 5, self.seq, 0) + body)
        replies = []
        while True:
            data = self.s.recv(65536)
            i = 0
            while i < len(data):
                n, t = struct.unpack_from("IH", data, i)
                m = data[i + 16:i + n]
                i += (n + 3) & ~3
                if t == 2:
                    err = struct.unpack_from("i", m)[0]
                    if err:
                        raise OSError(-err, f"netlink request failed (cmd {cmd})")
                    return replies
                replies.append(m)

    def family(self, name):
        if name not in self.ids:
            m = self.send(0x10, 3, nla(2, name.encode() + b"\0"), hdr=False)[0]
            self.ids[name] = struct.unpack("H", parse(m[4:])[1][:2])[0]
        return self.ids[name]

    def req(self, name, cmd, attrs, ifindex=0):
        return self.send(self.family(name), cmd, attrs, ifindex)

    def dp_ifindex(self, dp):
        m = self.req("vsw_datapath", 3, nla(1, dp.encode() + b"\0"))[0]
        return struct.unpack_from("i", m, 4)[0]


def key(**f):
    b = bytearray(KEY_SIZE)
    offs = {"in_port": (0, "I"), "eth_type": (20, ">H"), "ip_proto": (24, "B"),
            "ipv4_src": (32, "4s"), "ipv4_dst": (36, "4s"), "tp_src": (72, ">H"),
            "tp_dst": (74, ">H")}
    for name, v in f.items():
        o, fmt = offs[name]
        struct.pack_into(fmt, b, o, v)
    return bytes(b)


def ones(**f):
    full = {"in_port": 0xFFFFFFFF, "eth_type": 0xFFFF, "ip_proto": 0xFF,
            "ipv4_src": b"\xff" * 4, "ipv4_dst": b"\xff" * 4, "tp_src": 0xFFFF, "tp_dst": 0xFFFF}
    return key(**{k: full[k] for k in f})


def add_flow(g, ifx, k, m, out):
    acts = nla(3 | NLA_F_NESTED, nla(1, struct.pack("I", out)))
    g.req("vsw_flow", 1, nla(1, k) + nla(2, m) + acts, ifx)


def main(argv):
    g = Genl()
    cmd = argv[1]
    if cmd == "add-dp":
        g.req("vsw_datapath", 1, nla(1, argv[2].encode() + b"\0"))
        return 0
    ifx = g.dp_ifindex(argv[2])
    if cmd == "add-if":
        g.req("vsw_vport", 1, nla(3, argv[3].encode() + b"\0") + nla(2, struct.pack("I", 1)) +
              nla(1, struct.pack("I", int(argv[4]))), ifx)
    elif cmd == "flow-inport":
        add_flow(g, ifx, key(in_port=int(argv[3])), ones(in_port=1), int(argv[4]))
    elif cmd == "flows-exact":
        inp, out, n = int(argv[3]), int(argv[4]), int(argv[5])
        src, dst = socket.inet_aton(argv[6]), socket.inet_aton(argv[7])
        m = ones(in_port=1, eth_type=1, ip_proto=1, ipv4_src=1, ipv4_dst=1, tp_src=1, tp_dst=1)
        for port in range(1000, 1000 + n):
            add_flow(g, ifx, key(in_port=inp, eth_type=0x0800, ip_proto=17, ipv4_src=src,
                                 ipv4_dst=dst, tp_src=port, tp_dst=9), m, out)
    elif cmd == "flows-masks":
        inp, out, n, nm = int(argv[3]), int(argv[4]), int(argv[5]), int(argv[6])
        src, dst = socket.inet_aton(argv[7]), socket.inet_aton(argv[8])
        for port in range(1000, 1000 + n):
            bits = port % nm
            m = bytearray(ones(in_port=1, eth_type=1, ip_proto=1, ipv4_src=1, ipv4_dst=1,
                               tp_src=1, tp_dst=1))
            struct.pack_into(">H", m, 74, (0xFFFF << bits) & 0xFFFF)
            add_flow(g, ifx, key(in_port=inp, eth_type=0x0800, ip_proto=17, ipv4_src=src,
                                 ipv4_dst=dst, tp_src=port, tp_dst=9), bytes(m), out)
    elif cmd == "flush":
        g.req("vsw_flow", 2, b"", ifx)
    elif cmd == "stats":
        m = g.req("vsw_datapath", 3, b"", ifx)[0]
        print(*struct.unpack("7Q", parse(m[8:])[3]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
