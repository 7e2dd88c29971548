#!/usr/bin/env python3
"""pkt.py - small traffic tools for the selftests, run inside a namespace.

  udp-send DST DPORT COUNT [--sport-base N] [--sport-spread N] [--tos T]
                                  send COUNT datagrams (source ports spread over a range)
  udp-recv PORT COUNT [--timeout S] [--timestamp]
                                  print "received N ttl=T tos=X" (ttl/tos of the last one);
                                  --timestamp asks for receive timestamps (SO_TIMESTAMPNS)
  tcp-serve PORT BYTES [--timeout S] accept one connection, read BYTES, print "tcp N"
  tcp-send DST PORT BYTES          connect and send BYTES
  capture IFACE COUNT [--timeout S] [--ethertype 0xNNNN]
                                  print one JSON line per captured frame: src, dst, ethertype,
                                  vlan (from the tag in the frame or the kernel's aux data),
                                  IPv4/IPv6/ARP fields, and for TCP/UDP/ICMPv6 in IPv6
                                  whether the L4 checksum verifies ("l4_csum_ok")
  send-tagged IFACE TCI COUNT     send COUNT 802.1Q-tagged IPv4/UDP frames 02:..:01 ->
                                  02:..:02 with tag TCI (DEI included), raw
  key-frames IFACE [--gap S]      send crafted frames of every kind the datapath's key
                                  extraction distinguishes (VLAN/802.1ad, ARP, IPv4 options
                                  and fragments, IPv6 extension headers and fragments,
                                  TCP/UDP/SCTP/ICMP/ICMPv6, 802.3), each also cut at every
                                  length from 14 bytes; prints "sent N"

Every --timeout is multiplied by $VSW_TIMEOUT_SCALE (default 1; tests/kernel/run.sh sets 4 on
a debug kernel, where each step of a test under TCG is several times slower).
"""
import argparse
import json
import os
import socket
import struct
import sys
import time


def udp_send(a):
    fam = socket.AF_INET6 if ":" in a.dst else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    if a.tos is not None:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, a.tos)
    if a.broadcast:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    socks = {}
    for i in range(a.count):
        sport = a.sport_base + (i % a.sport_spread) if a.sport_spread else 0
        if sport:
            if sport not in socks:
                t = socket.socket(fam, socket.SOCK_DGRAM)
                t.bind(("", sport))
                socks[sport] = t
            sock = socks[sport]
        else:
            sock = s
        sock.sendto(b"vsw%06d" % i, (a.dst, a.dport))
        if a.gap:
            time.sleep(a.gap)
    print("sent %d" % a.count)


def udp_recv(a):
    fam = socket.AF_INET6 if a.v6 else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    if not a.v6:
        s.setsockopt(socket.IPPROTO_IP, 12, 1)  # IP_RECVTTL (not in the socket module)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_RECVTOS, 1)
    if a.timestamp:
        s.setsockopt(socket.SOL_SOCKET, 35, 1)  # SO_TIMESTAMPNS: every received skb is stamped
    s.bind(("", a.port))
    if a.ready_file:
        open(a.ready_file, "w").write("ready")
    n, ttl, tos = 0, None, None
    deadline = time.time() + a.timeout
    while n < a.count and time.time() < deadline:
        s.settimeout(max(0.01, deadline - time.time()))
        try:
            data, anc, _, _ = s.recvmsg(2048, 256)
        except socket.timeout:
            break
        n += 1
        for level, typ, val in anc:
            if typ == socket.IP_TTL:
                ttl = struct.unpack("=i", val[:4])[0]
            elif typ == socket.IP_TOS:
                tos = val[0]
    print("received %d ttl=%s tos=%s" % (n, ttl, tos))
    return 0 if n >= a.count else 1


def tcp_serve(a):
    s = socket.socket(socket.AF_INET6 if a.v6 else socket.AF_INET)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("", a.port))
    s.listen(1)
    if a.ready_file:
        open(a.ready_file, "w").write("ready")
    s.settimeout(a.timeout)
    c, _ = s.accept()
    c.settimeout(a.timeout)
    n = 0
    while n < a.bytes:
        d = c.recv(65536)
        if not d:
            break
        n += len(d)
    print("tcp %d" % n)
    return 0 if n >= a.bytes else 1


def tcp_send(a):
    fam = socket.AF_INET6 if ":" in a.dst else socket.AF_INET
    c = socket.create_connection((a.dst, a.port), timeout=20) if fam == socket.AF_INET else \
        socket.create_connection((a.dst, a.port, 0, 0), timeout=20)
    c.sendall(b"x" * a.bytes)
    c.shutdown(socket.SHUT_WR)
    c.close()
    print("sent %d" % a.bytes)


def capture(a):
    ETH_P_ALL = 3
    SOL_PACKET, PACKET_AUXDATA = 263, 8
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    s.bind((a.iface, 0))
    if a.ready_file:
        open(a.ready_file, "w").write("ready")
    n = 0
    deadline = time.time() + a.timeout
    while n < a.count and time.time() < deadline:
        s.settimeout(max(0.01, deadline - time.time()))
        try:
            data, anc, _, addr = s.recvmsg(65535, 512)
        except socket.timeout:
            break
        if addr[2] == socket.PACKET_OUTGOING:
            continue
        et = struct.unpack("!H", data[12:14])[0]
        vlan = None
        if et == 0x8100:
            vlan = struct.unpack("!H", data[14:16])[0]
            et = struct.unpack("!H", data[16:18])[0]
        for level, typ, val in anc:
            if level == SOL_PACKET and typ == PACKET_AUXDATA and len(val) >= 20:
                status, _, _, _, _, tci, tpid = struct.unpack("=IIIHHHH", val[:20])
                if status & 0x10:  # TP_STATUS_VLAN_VALID
                    vlan = tci
        if a.ethertype and et != int(a.ethertype, 0):
            continue
        frame = {"src": ":".join("%02x" % b for b in data[6:12]),
                 "dst": ":".join("%02x" % b for b in data[0:6]), "ethertype": "0x%04x" % et,
                 "vlan_vid": (vlan & 0xFFF) if vlan is not None else None,
                 "vlan_pcp": (vlan >> 13) if vlan is not None else None,
                 "vlan_dei": (vlan >> 12 & 1) if vlan is not None else None}
        off = 14 + (4 if data[12:14] == b"\x81\x00" else 0)
        if et == 0x0800 and len(data) >= off + 20:
            ip = data[off:off + 20]
            frame.update({"ip_src": socket.inet_ntoa(ip[12:16]), "ip_dst": socket.inet_ntoa(ip[16:20]),
                          "ttl": ip[8], "tos": ip[1], "proto": ip[9]})
            ihl = (ip[0] & 15) * 4
            if ip[9] in (6, 17) and len(data) >= off + ihl + 4:
                frame["sport"], frame["dport"] = struct.unpack("!HH", data[off + ihl:off + ihl + 4])
        elif et == 0x86DD and len(data) >= off + 40:
            frame.update(ipv6_fields(data[off:]))
        elif et == 0x0806 and len(data) >= off + 28:
            arp = data[off:off + 28]
            frame.update({"arp_op": struct.unpack("!H", arp[6:8])[0],
                          "arp_sha": ":".join("%02x" % b for b in arp[8:14]),
                          "arp_spa": socket.inet_ntoa(arp[14:18]),
                          "arp_tha": ":".join("%02x" % b for b in arp[18:24]),
                          "arp_tpa": socket.inet_ntoa(arp[24:28])})
        print(json.dumps(frame), flush=True)
        n += 1
    return 0 if n >= a.count else 1


def csum16(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def ipv6_fields(ip):
    """IPv6 header fields and, for TCP/UDP/ICMPv6 right after it, the checksum check."""
    word, plen, nxt, hlim = struct.unpack("!IHBB", ip[:8])
    f = {"ip6_src": socket.inet_ntop(socket.AF_INET6, ip[8:24]),
         "ip6_dst": socket.inet_ntop(socket.AF_INET6, ip[24:40]),
         "tclass": word >> 20 & 0xFF, "label": word & 0xFFFFF, "hlimit": hlim, "proto": nxt}
    l4 = ip[40:40 + plen]
    if nxt in (6, 17, 58) and len(l4) == plen and plen >= 8:
        pseudo = ip[8:40] + struct.pack("!IxxxB", plen, nxt)
        f["l4_csum_ok"] = csum16(pseudo + l4) == 0xFFFF
        if nxt != 58:
            f["sport"], f["dport"] = struct.unpack("!HH", l4[:4])
    return f


def send_tagged(a):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.iface, 0))
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 1, 0, 64, 17, 0, bytes([10, 0, 0, 1]),
                     bytes([10, 0, 0, 2]))
    frame = (bytes.fromhex("020000000002020000000001") + struct.pack("!HHH", 0x8100, int(a.tci, 0),
             0x0800) + ip + struct.pack("!HHHH", 1234, 5000, 8, 0))
    for _ in range(a.count):
        s.send(frame)
        time.sleep(0.05)
    print("sent %d" % a.count)


def key_frames():
    """The frames of key-frames, each a distinct flow (the source MAC counts them)."""
    def eth(n, etype, tags=()):
        b = b"\x02\x00\x00\x00\x00\x99" + struct.pack("!IH", 0x02000000, n)
        for tpid, tci in tags:
            b += struct.pack("!HH", tpid, tci)
        return b + struct.pack("!H", etype)

    def ipv4(proto, frag=0, ihl=5, version=4):
        opts = b"\x01" * 4 * (ihl - 5) if ihl > 5 else b""
        return struct.pack("!BBHHHBBH4s4s", version << 4 | ihl, 0xb8, 0, 0x1234, frag, 64, proto, 0,
                           bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])) + opts

    def ipv6(nxt):
        return struct.pack("!IHBB", 6 << 28 | 0xa5 << 20 | 0xbcdef, 0, nxt, 255) + \
            bytes(range(0x20, 0x30)) + bytes(range(0x40, 0x50))

    def ext(nxt, len8=0):
        return bytes([nxt, len8]) + b"\0" * (6 + 8 * len8)

    def frag6(nxt, off):
        return struct.pack("!BBHI", nxt, 0, off, 0xcafe)

    tcp = lambda flags, doff=5: struct.pack("!HHIIHHI", 34567, 80, 1, 0, doff << 12 | flags, 1024, 0)
    udp = struct.pack("!HHHH", 5353, 53, 8, 0)
    sctp = struct.pack("!HHII", 2905, 2906, 0xdeadbeef, 0)
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, b"\x02" * 6, bytes([10, 0, 0, 1]),
                      b"\0" * 6, bytes([10, 0, 0, 2]))
    bodies = [
        (0x88b5, (), b"\xee" * 30), (0x0040, (), b"\0" * 64), (0x0806, (), arp),
        (0x0806, (), arp[:4] + b"\x08" + arp[5:]),
        (0x0800, (), ipv4(6) + tcp(0x0312)), (0x0800, (), ipv4(6) + tcp(0x02, 4)),
        (0x0800, (), ipv4(17, ihl=7) + udp), (0x0800, (), ipv4(132) + sctp),
        (0x0800, (), ipv4(1) + b"\x08\0\0\0\0\1\0\1"), (0x0800, (), ipv4(58) + b"\x87\x03"),
        (0x0800, (), ipv4(17, 0x2000) + udp), (0x0800, (), ipv4(17, 0x0010) + udp),
        (0x0800, (), ipv4(17, ihl=4) + udp), (0x0800, (), ipv4(17, version=6) + udp),
        (0x86dd, (), ipv6(6) + tcp(0x01)), (0x86dd, (), ipv6(58) + b"\x87\0\0\0"),
        (0x86dd, (), ipv6(1) + b"\x08\0\0\0"),
        (0x86dd, (), ipv6(0) + ext(43) + ext(60, 2) + ext(17) + udp),
        (0x86dd, (), ipv6(44) + frag6(17, 1) + udp),
        (0x86dd, (), ipv6(0) + ext(44) + frag6(60, 8) + ext(17) + udp),
        (0x86dd, (), ipv6(60) + ext(60) * 6 + ext(6) + tcp(0x02)),
        (0x86dd, (), ipv6(60) + ext(60) * 7 + ext(6) + tcp(0x02)),
        (0x0800, ((0x8100, 0xa00a),), ipv4(17) + udp),
        (0x0806, ((0x8100, 0x1005),), b"\0" * 28),
        (0x0020, ((0x8100, 0x2000),), b"\0" * 40),
        (0x0800, ((0x8100, 20), (0x8100, 30)), ipv4(17) + udp),
        (0x0800, ((0x88a8, 100), (0x8100, 30)), ipv4(17) + udp),
        (0x0800, ((0x88a8, 100),), ipv4(17) + udp),
    ]
    frames = []
    for etype, tags, body in bodies:
        full = eth(0, etype, tags) + body
        for cut in range(14, len(full) + 1):
            n = len(frames) + 1
            frames.append(eth(n, etype, tags)[:12] + full[12:cut])
    return frames


def send_key_frames(a):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.iface, 0))
    frames = key_frames()
    for f in frames:
        s.send(f)
        if a.gap:
            time.sleep(a.gap)
    print("sent %d" % len(frames))
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("udp-send"); p.add_argument("dst"); p.add_argument("dport", type=int)
    p.add_argument("count", type=int); p.add_argument("--sport-base", type=int, default=20000)
    p.add_argument("--sport-spread", type=int, default=0); p.add_argument("--tos", type=int)
    p.add_argument("--gap", type=float, default=0.0); p.add_argument("--broadcast", action="store_true")
    p.set_defaults(f=udp_send)
    p = sub.add_parser("udp-recv"); p.add_argument("port", type=int); p.add_argument("count", type=int)
    p.add_argument("--timeout", type=float, default=10); p.add_argument("--v6", action="store_true")
    p.add_argument("--timestamp", action="store_true")
    p.add_argument("--ready-file"); p.set_defaults(f=udp_recv)
    p = sub.add_parser("tcp-serve"); p.add_argument("port", type=int); p.add_argument("bytes", type=int)
    p.add_argument("--timeout", type=float, default=20); p.add_argument("--v6", action="store_true")
    p.add_argument("--ready-file"); p.set_defaults(f=tcp_serve)
    p = sub.add_parser("tcp-send"); p.add_argument("dst"); p.add_argument("port", type=int)
    p.add_argument("bytes", type=int); p.set_defaults(f=tcp_send)
    p = sub.add_parser("capture"); p.add_argument("iface"); p.add_argument("count", type=int)
    p.add_argument("--timeout", type=float, default=10); p.add_argument("--ethertype")
    p.add_argument("--ready-file"); p.set_defaults(f=capture)
    p = sub.add_parser("send-tagged"); p.add_argument("iface"); p.add_argument("tci")
    p.add_argument("count", type=int); p.set_defaults(f=send_tagged)
    p = sub.add_parser("key-frames"); p.add_argument("iface")
    p.add_argument("--gap", type=float, default=0.002); p.set_defaults(f=send_key_frames)
    a = ap.parse_args()
    if hasattr(a, "timeout"):
        a.timeout *= float(os.environ.get("VSW_TIMEOUT_SCALE", "1"))
    sys.exit(a.f(a) or 0)


if __name__ == "__main__":
    main()
