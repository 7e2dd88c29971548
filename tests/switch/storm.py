#!/usr/bin/env python3
"""Upcall storm: COUNT raw Ethernet frames, each from a new source MAC, so that every
frame is a new megaflow for a MAC-learning switch.
  storm.py IFACE COUNT DST_MAC [--rate PPS] [--base N]
Frames are 64-byte IPv4/UDP packets from 06:5e:xx:xx:xx:xx (locally administered unicast),
numbered from N (default 0): senders with different bases make different flows."""
import socket
import struct
import sys
import time


def main():
    iface, count, dst = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    rate = 0
    base = 0
    if "--base" in sys.argv:
        base = int(sys.argv[sys.argv.index("--base") + 1])
    if "--rate" in sys.argv:
        rate = int(sys.argv[sys.argv.index("--rate") + 1])
    dmac = bytes(int(x, 16) for x in dst.split(":"))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 46, 0, 0, 64, 17, 0,
                     bytes([10, 0, 0, 250]), bytes([10, 0, 0, 2]))
    udp = struct.pack("!HHHH", 4000, 9, 26, 0) + bytes(18)
    start = time.monotonic()
    sent = 0
    for i in range(base, base + count):
        smac = bytes([6, 0x5e, (i >> 24) & 0xff, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff])
        try:
            s.send(dmac + smac + b"\x08\x00" + ip + udp)
            sent += 1
        except OSError:
            pass
        if rate and i % 100 == 0:
            ahead = sent / rate - (time.monotonic() - start)
            if ahead > 0:
                time.sleep(ahead)
    took = time.monotonic() - start
    print(f"sent {sent} in {took:.2f} s ({sent / max(took, 1e-9):.0f}/s)")


if __name__ == "__main__":
    main()
