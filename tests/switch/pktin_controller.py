#!/usr/bin/env python3
"""A minimal OpenFlow 1.3 controller for the switch selftests, on a raw socket.

It listens on 127.0.0.1:PORT (the bridge's `tcp:` controller target connects to it),
negotiates 1.3, optionally sets miss_send_len (SET_CONFIG) and installs rules (FLOW_MOD,
table 0, apply_actions output:CONTROLLER:MAX_LEN) followed by a barrier, answers ECHO
requests, and prints one line per PACKET_IN:

  packet_in reason=0 table=0 cookie=0x5a total_len=42 data_len=42 in_port=1 metadata=-
            eth_dst=ff:ff:ff:ff:ff:ff eth_src=02:00:00:00:00:01 eth_type=0x0806

It writes READY_FILE once the barrier reply came (the rules are in place) and exits 0
after COUNT packet-ins, 1 on a timeout or an OFPT_ERROR. Independent of vsw's own codec:
every byte is packed here with struct, from the OpenFlow 1.3.5 specification.
"""
import argparse
import socket
import struct
import sys
import time

HELLO, ERROR, ECHO_REQUEST, ECHO_REPLY = 0, 1, 2, 3
SET_CONFIG, PACKET_IN, FLOW_MOD = 9, 10, 14
BARRIER_REQUEST, BARRIER_REPLY = 20, 21
OFPP_CONTROLLER, OFPP_ANY, OFPG_ANY, NO_BUFFER = 0xFFFFFFFD, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF
OXM_IN_PORT, OXM_METADATA, OXM_ETH_TYPE = 0, 2, 5


def msg(mtype, body=b"", xid=0):
    return struct.pack("!BBHI", 4, mtype, 8 + len(body), xid) + body


def oxm(field, value):
    return struct.pack("!HBB", 0x8000, field << 1, len(value)) + value


def flow_mod(priority, cookie, max_len, eth_type=None):
    """ADD to table 0: match (empty, or eth_type), apply_actions output:CONTROLLER."""
    body = struct.pack("!QQBBHHHIIIH2x", cookie, 0, 0, 0, 0, 0, priority, NO_BUFFER,
                       OFPP_ANY, OFPG_ANY, 0)
    fields = oxm(OXM_ETH_TYPE, struct.pack("!H", eth_type)) if eth_type is not None else b""
    mlen = 4 + len(fields)
    body += struct.pack("!HH", 1, mlen) + fields + b"\0" * ((8 - mlen % 8) % 8)
    action = struct.pack("!HHIH6x", 0, 16, OFPP_CONTROLLER, max_len)
    body += struct.pack("!HH4x", 4, 8 + len(action)) + action  # OFPIT_APPLY_ACTIONS
    return msg(FLOW_MOD, body, xid=cookie & 0xFFFF)


def mac(b):
    return ":".join("%02x" % x for x in b)


def parse_packet_in(body):
    buffer_id, total_len, reason, table, cookie = struct.unpack_from("!IHBBQ", body, 0)
    mtype, mlen = struct.unpack_from("!HH", body, 16)
    assert mtype == 1, "match type %d" % mtype
    in_port, metadata, off = None, None, 20
    while off < 16 + mlen:
        cls, fh, flen = struct.unpack_from("!HBB", body, off)
        value = body[off + 4:off + 4 + flen]
        if cls == 0x8000 and fh >> 1 == OXM_IN_PORT:
            in_port = struct.unpack("!I", value)[0]
        elif cls == 0x8000 and fh >> 1 == OXM_METADATA:
            metadata = struct.unpack("!Q", value)[0]
        off += 4 + flen
    data = body[16 + mlen + (8 - mlen % 8) % 8 + 2:]
    assert buffer_id == NO_BUFFER, "buffer_id %#x" % buffer_id
    line = ("packet_in reason=%d table=%d cookie=%#x total_len=%d data_len=%d in_port=%s "
            "metadata=%s" % (reason, table, cookie, total_len, len(data),
                             "-" if in_port is None else in_port,
                             "-" if metadata is None else "%#x" % metadata))
    if len(data) >= 14:
        line += " eth_dst=%s eth_src=%s eth_type=%#06x" % (
            mac(data[0:6]), mac(data[6:12]), struct.unpack("!H", data[12:14])[0])
    return line


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, default=1, help="exit after this many packet-ins")
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--miss-send-len", type=int, help="SET_CONFIG with this miss_send_len")
    ap.add_argument("--rule", action="append", default=[],
                    help="PRIORITY:COOKIE:MAX_LEN[:ETH_TYPE] (numbers, 0x allowed)")
    ap.add_argument("--ready-file")
    a = ap.parse_args()

    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", a.port))
    srv.listen(1)
    srv.settimeout(a.timeout)
    conn, _ = srv.accept()
    deadline = time.monotonic() + a.timeout
    conn.sendall(msg(HELLO))
    if a.miss_send_len is not None:
        conn.sendall(msg(SET_CONFIG, struct.pack("!HH", 0, a.miss_send_len)))
    for r in a.rule:
        parts = [int(x, 0) for x in r.split(":")]
        conn.sendall(flow_mod(parts[0], parts[1], parts[2], parts[3] if len(parts) > 3 else None))
    conn.sendall(msg(BARRIER_REQUEST, xid=0xBA))
    buf, seen = b"", 0
    while seen < a.count:
        left = deadline - time.monotonic()
        if left <= 0:
            print("timeout after %d packet-ins" % seen, flush=True)
            return 1
        conn.settimeout(left)
        try:
            chunk = conn.recv(65536)
        except socket.timeout:
            continue
        if not chunk:
            print("the switch closed the connection", flush=True)
            return 1
        buf += chunk
        while len(buf) >= 8:
            _, mtype, length, xid = struct.unpack_from("!BBHI", buf, 0)
            if len(buf) < length:
                break
            body, buf = buf[8:length], buf[length:]
            if mtype == ECHO_REQUEST:
                conn.sendall(msg(ECHO_REPLY, body, xid))
            elif mtype == ERROR:
                print("error type=%d code=%d" % struct.unpack_from("!HH", body, 0), flush=True)
                return 1
            elif mtype == BARRIER_REPLY and a.ready_file:
                open(a.ready_file, "w").close()
            elif mtype == PACKET_IN:
                print(parse_packet_in(body), flush=True)
                seen += 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
