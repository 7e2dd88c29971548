#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_upcall.cpp (upcall-corpus/): datagrams shaped like what
vsw.ko's upcall_one() sends (kernel/upcall.c: KEY, IN_PORT, USERDATA, PACKET), a few
deliberately broken ones, and several messages in one datagram. Run it from this folder;
the output is checked in, so it only needs rerunning when the message layout changes."""
import os
import struct

KEY_SIZE = 104  # sizeof(struct vsw_flow_key)
MISS, ACTION = 1, 2
PACKET, KEY, ACTIONS, USERDATA, IN_PORT = 1, 2, 3, 4, 5
FAMILY = 0x1D


def attr(t, payload):
    a = struct.pack("=HH", 4 + len(payload), t) + payload
    return a + b"\0" * (-len(a) % 4)


def key(in_port=7, eth_type=0x0008):
    k = bytearray(KEY_SIZE)
    struct.pack_into("=I", k, 0, in_port)
    k[8:14] = bytes([0x02, 0, 0, 0, 0, 1])
    k[14:20] = bytes([0xFF] * 6)
    struct.pack_into("=H", k, 20, eth_type)
    return bytes(k)


def frame(n):
    return bytes((i * 7 + 3) & 0xFF for i in range(n))


def msg(cmd, attrs, ifindex=3, mtype=FAMILY, fix_len=None):
    body = struct.pack("=BBH", cmd, 1, 0) + struct.pack("=i", ifindex) + b"".join(attrs)
    n = 16 + len(body) if fix_len is None else fix_len
    return struct.pack("=IHHII", n, mtype, 0, 0, 0) + body


seeds = {
    "miss": msg(MISS, [attr(KEY, key()), attr(IN_PORT, struct.pack("=I", 7)), attr(PACKET, frame(60))]),
    "miss-no-in-port": msg(MISS, [attr(KEY, key(9)), attr(PACKET, frame(42))]),
    "action-userdata": msg(ACTION, [attr(KEY, key()), attr(IN_PORT, struct.pack("=I", 2)),
                                    attr(USERDATA, b"\xde\xad\xbe\xef\x01"), attr(PACKET, frame(64))]),
    "unknown-attr": msg(MISS, [attr(KEY, key()), attr(99, b"new!"), attr(PACKET, frame(14))]),
    "two-in-one": msg(MISS, [attr(KEY, key()), attr(PACKET, frame(60))])
    + msg(ACTION, [attr(KEY, key(1)), attr(USERDATA, b"c"), attr(PACKET, frame(61))]),
    "key-short": msg(MISS, [attr(KEY, key()[:96]), attr(PACKET, frame(60))]),
    "no-packet": msg(MISS, [attr(KEY, key())]),
    "bad-in-port": msg(MISS, [attr(KEY, key()), attr(IN_PORT, b"\1\0"), attr(PACKET, frame(20))]),
    "attr-overruns": msg(MISS, [attr(KEY, key())])[:-4] + struct.pack("=HH", 200, PACKET),
    "truncated": msg(MISS, [attr(KEY, key()), attr(PACKET, frame(60))])[:100],
    "len-too-long": msg(MISS, [attr(KEY, key()), attr(PACKET, frame(8))], fix_len=4000),
    "execute-cmd": msg(3, [attr(KEY, key()), attr(PACKET, frame(60))]),
    "nlmsg-error": struct.pack("=IHHII", 36, 2, 0, 0, 0) + struct.pack("=i", -22) + b"\0" * 16,
    "stray-tail": msg(MISS, [attr(KEY, key()), attr(PACKET, frame(60))]) + b"\1\2\3",
}
os.makedirs("upcall-corpus", exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join("upcall-corpus", name), "wb") as f:
        f.write(data)
