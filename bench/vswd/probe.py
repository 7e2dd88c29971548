#!/usr/bin/env python3
"""probe.py - raw frames for the vswd benchmarks (see docs/benchmarks.md).

  probe.py hello IFACE
      one broadcast frame from IFACE's own MAC, so that a learning switch learns it.

  probe.py latency IFACE DST_MAC --stats CMD --go-file PATH --stop-file PATH [--tag N]
                   [--start S] [--window S] [--interval MS] [--cpus C,C...]
      upcall-to-install latency, measured while a storm of new flows runs. Each probe is
      a new source MAC (0a:TAG:PROBE:00:00:00) sending one frame every INTERVAL ms for
      WINDOW seconds. The probe starts up, prints "ready", waits for the go file to
      appear (the storm starts then), waits START seconds, and then runs probes one
      after another until the stop file exists (a probe still running then is not
      counted: it did not see the storm throughout). CMD (a shell command printing "hit:N", i.e. the datapath's `show`)
      is run before and after each probe: the storm's frames never hit (each has a MAC
      of its own), so the datapath's hit counter grows only by the probe's frames that
      found their megaflow installed. Once installed, every later frame hits; with H
      hits out of K frames, the first hit was frame K-H, and the latency is the time
      from the probe's first frame (its first miss) to frame K-H's send time, to within
      one interval. H = 0 means not installed within WINDOW (printed as censored).
      Probe number p runs on CPU cpus[p % len(cpus)] (with per-CPU upcall dispatch, the
      CPU that sends a miss decides which handler thread gets it).
      Prints "latency_ms X cpu C" or "censored_ms X cpu C" per probe (X = WINDOW for
      censored).

  probe.py reach IFACE DST_MAC DST_IP SINK_NS SINK_IFACE [--interval MS] [--timeout S]
      how long until a frame to DST_IP gets through: sends one UDP frame to DST_MAC/DST_IP
      from IFACE every INTERVAL ms (default 2) and watches SINK_IFACE in network namespace
      SINK_NS (a socket opened there); prints "reach_ms X frames K" when the first one
      arrives (X from the first frame sent), or "unreached_ms TIMEOUT frames K".
"""
import ctypes
import select
import argparse
import os
import re
import socket
import struct
import subprocess
import sys
import time


def frame(dst, src, dst_ip=bytes([198, 51, 100, 1])):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 46, 0, 0, 64, 17, 0,
                     bytes([198, 51, 100, 2]), dst_ip)
    udp = struct.pack("!HHHH", 4001, 9, 26, 0) + bytes(18)
    return dst + src + b"\x08\x00" + ip + udp


def mac_bytes(text):
    return bytes(int(x, 16) for x in text.split(":"))


def own_mac(iface):
    with open(f"/sys/class/net/{iface}/address") as f:
        return mac_bytes(f.read().strip())


def hello(a):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.iface, 0))
    s.send(frame(b"\xff" * 6, own_mac(a.iface)))


def hits(cmd):
    out = subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout
    m = re.search(r"hit:(\d+)", out)
    if not m:
        sys.exit(f"probe: no hit counter in the output of '{cmd}'")
    return int(m.group(1))


def latency(a):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.iface, 0))
    dst = mac_bytes(a.dst)
    hits(a.stats)  # warm the page cache for the stats command
    print("ready")
    sys.stdout.flush()
    while not os.path.exists(a.go_file):
        time.sleep(0.01)
    time.sleep(a.start)
    interval = a.interval / 1000.0
    cpus = [int(c) for c in a.cpus.split(",")]
    p = 0
    while not os.path.exists(a.stop_file) and p < 256:
        pkt = frame(dst, bytes([0x0A, a.tag & 0xFF, p, 0, 0, 0]))
        cpu = cpus[p % len(cpus)]
        os.sched_setaffinity(0, {cpu})
        h0 = hits(a.stats)
        sent = []
        t0 = time.monotonic()
        while True:
            now = time.monotonic()
            if now - t0 >= a.window:
                break
            s.send(pkt)
            sent.append(now)
            nxt = t0 + len(sent) * interval
            delay = nxt - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        h = hits(a.stats) - h0
        k = len(sent)
        if os.path.exists(a.stop_file):
            print(f"late: the storm ended during this probe (cpu {cpu}, hits {h} frames {k});"
                  " not counted")
        elif h <= 0:
            print(f"censored_ms {a.window * 1000:.1f} cpu {cpu} frames {k}")
        elif h > k:
            print(f"invalid hits {h} frames {k}")  # something else hit: no sample
        else:
            print(f"latency_ms {(sent[k - h] - sent[0]) * 1000:.1f} cpu {cpu} frames {k} hits {h}")
        sys.stdout.flush()
        p += 1


def socket_in_netns(ns, iface):
    """A raw socket on iface of network namespace ns (this process stays where it was)."""
    libc = ctypes.CDLL(None, use_errno=True)
    clone_newnet = 0x40000000
    here = os.open("/proc/self/ns/net", os.O_RDONLY)
    there = os.open(f"/var/run/netns/{ns}", os.O_RDONLY)
    try:
        if libc.setns(there, clone_newnet) != 0:
            sys.exit(f"probe: setns {ns}: {os.strerror(ctypes.get_errno())}")
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
        s.bind((iface, 0))
    finally:
        libc.setns(here, clone_newnet)
        os.close(here)
        os.close(there)
    return s


def reach(a):
    rx = socket_in_netns(a.sink_ns, a.sink_iface)
    rx.setblocking(False)
    tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    tx.bind((a.iface, 0))
    dst_ip = socket.inet_aton(a.dst_ip)
    pkt = frame(mac_bytes(a.dst), own_mac(a.iface), dst_ip)
    interval = a.interval / 1000.0
    t0 = time.monotonic()
    k = 0
    while time.monotonic() - t0 < a.timeout:
        tx.send(pkt)
        k += 1
        deadline = t0 + k * interval
        while True:
            left = deadline - time.monotonic()
            r, _, _ = select.select([rx], [], [], max(left, 0))
            if not r:
                break
            got = rx.recv(2048)
            if len(got) >= 34 and got[12:14] == b"\x08\x00" and got[30:34] == dst_ip:
                print(f"reach_ms {(time.monotonic() - t0) * 1000:.1f} frames {k}")
                return
    print(f"unreached_ms {a.timeout * 1000:.0f} frames {k}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="verb", required=True)
    h = sub.add_parser("hello")
    h.add_argument("iface")
    lat = sub.add_parser("latency")
    lat.add_argument("iface")
    lat.add_argument("dst")
    lat.add_argument("--stats", required=True)
    lat.add_argument("--tag", type=int, default=0)
    lat.add_argument("--start", type=float, default=0.5)
    lat.add_argument("--go-file", required=True)
    lat.add_argument("--stop-file", required=True)
    lat.add_argument("--window", type=float, default=1.0)
    lat.add_argument("--interval", type=float, default=2.0)
    lat.add_argument("--cpus", default="0")
    r = sub.add_parser("reach")
    r.add_argument("iface")
    r.add_argument("dst")
    r.add_argument("dst_ip")
    r.add_argument("sink_ns")
    r.add_argument("sink_iface")
    r.add_argument("--interval", type=float, default=2.0)
    r.add_argument("--timeout", type=float, default=60.0)
    a = ap.parse_args()
    {"hello": hello, "latency": latency, "reach": reach}[a.verb](a)


if __name__ == "__main__":
    main()
