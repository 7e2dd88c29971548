#!/usr/bin/env python3
"""Structure-aware netlink fuzzer for vsw.ko.

Unlike `vsw_nl.py fuzz` (random bytes in attribute form), every message starts as a
well-formed request of one command, built from the attribute policies of kernel/netlink.c:
real datapath and port names, keys and masks, action lists of every kind (nested USERSPACE,
SET and PUSH_VLAN included), frames to execute. Then, with some probability, one or more
mutations break it the way a buggy or hostile client would: an attribute dropped,
repeated, truncated, extended or made huge, its NESTED bit flipped, its type unknown, its
length lying, the flags or the version or the command wrong, a nest inside a nest.

`run` starts WORKERS processes, two per network namespace: a fuzzer and a churner (valid
datapath/port/flow/execute life cycles on the same objects the fuzzer aims at), so the
fuzzer's messages race with real state changes. Every request must be answered (an ack,
an error or the end of a dump). The namespaces are deleted at the end with whatever
datapaths remain, which exercises the namespace teardown path as well.

  nl_fuzz.py run --messages N [--seed S] [--workers W]
Prints one JSON line per worker and a summary; exits non-zero if a worker failed or a
request went unanswered. The kernel log is checked by the selftest runner.
"""
import argparse
import json
import os
import random
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vsw_nl import (  # noqa: E402
    ACTION_OUTPUT, ACTION_POP_VLAN, ACTION_PUSH_VLAN, ACTION_SET, ACTION_USERSPACE,
    DP_ATTR_NAME, DP_ATTR_PER_CPU_PIDS, DP_ATTR_UPCALL_PID, DP_CMD_DEL, DP_CMD_GET, DP_CMD_NEW,
    DP_CMD_SET, FAMILIES, FLOW_ATTR_ACTIONS, FLOW_ATTR_CLEAR, FLOW_ATTR_KEY, FLOW_ATTR_MASK,
    FLOW_CMD_DEL, FLOW_CMD_GET, FLOW_CMD_NEW, FLOW_CMD_SET, NLA_F_NESTED, NLM_F_ACK, NLM_F_DUMP,
    NLM_F_ECHO, NLMSG_DONE, NLMSG_ERROR, PACKET_ATTR_ACTIONS, PACKET_ATTR_KEY, PACKET_ATTR_PACKET,
    PACKET_CMD_EXECUTE, USERSPACE_COOKIE, USERSPACE_PID, VPORT_ATTR_NAME, VPORT_ATTR_PORT_NO,
    VPORT_ATTR_TYPE, VPORT_ATTR_UPCALL_PID, VPORT_CMD_DEL, VPORT_CMD_GET, VPORT_CMD_NEW,
    VPORT_CMD_SET, Genl, NlError, attr, dp_parse, key_pack, nest, strz, u32)

MAX_PORTS, MAX_ACTIONS, MAX_COOKIE, MAX_ACTIONS_LEN = 1024, 32, 64, 2560
VLAN_VID, VLAN_PCP = 1, 2
SET_FIELDS = {1: 6, 2: 6, 3: 4, 4: 4, 5: 1, 6: 1, 7: 2, 8: 2}  # vsw_set_attr: length
NLM_F_EXCL, NLM_F_CREATE = 0x200, 0x400
VETHS = ("p0", "p1", "p2", "p3")  # created in each namespace by `run`


class Fuzz:
    """Builds requests from the policies, mutates some of them."""

    def __init__(self, rng, names):
        self.rng = rng
        self.names = names  # datapath names this worker may aim at
        self.ifindexes = [0]

    def pick(self, *xs):
        return self.rng.choice(xs)

    # ---- values -------------------------------------------------------------------
    def name(self):
        r = self.rng.random()
        if r < 0.7:
            return strz(0, self.pick(*self.names))[4:]
        if r < 0.8:
            return strz(0, self.pick(*VETHS))[4:]
        if r < 0.9:
            return b"x" * self.rng.randint(14, 40) + b"\0"  # too long
        return self.pick(b"", b"\0", b"noterm", b"lo\0")

    def key(self):
        r = self.rng
        return key_pack(in_port=r.choice([0, 1, 2, 3, r.randint(0, 2000), 0xFFFFFFFF]),
                        eth_type=r.choice([0, 0x0800, 0x86DD, 0x0806, 0x8100, r.getrandbits(16)]),
                        ip_proto=r.choice([0, 6, 17, 1, 58, r.getrandbits(8)]),
                        vlan_tci=r.choice([0, 0x1000 | r.getrandbits(12), r.getrandbits(16)]),
                        tp_src=r.getrandbits(16), tp_dst=r.getrandbits(16),
                        skb_mark=r.choice([0, r.getrandbits(32)]),
                        eth_src=bytes(r.getrandbits(8) for _ in range(6)))

    def mask(self):
        r = self.rng
        # a small set of masks, so that a run does not only test the mask limit
        return key_pack(in_port=0xFFFFFFFF, eth_type=r.choice([0, 0xFFFF]),
                        ip_proto=r.choice([0, 0xFF]), tp_src=r.choice([0, 0xFFFF]),
                        vlan_tci=r.choice([0, 0xFFFF]),
                        skb_mark=r.choice([0, 0, 0, r.getrandbits(3)]))

    def action(self, depth=0):
        r = self.rng
        k = r.randint(1, 6)
        if k == 1:
            return u32(ACTION_OUTPUT, r.choice([0, 1, 2, 3, 4, MAX_PORTS - 1, MAX_PORTS,
                                                r.getrandbits(32)]))
        if k == 2:
            parts = []
            if r.random() < 0.9:
                parts.append(u32(USERSPACE_PID, r.choice([0, 1, r.getrandbits(32)])))
            if r.random() < 0.6:
                n = r.choice([0, 1, 8, MAX_COOKIE, MAX_COOKIE + 1, 300])
                parts.append(attr(USERSPACE_COOKIE, os.urandom(n)))
            return nest(ACTION_USERSPACE, *parts)
        if k == 3:
            fields = r.sample(sorted(SET_FIELDS), r.randint(0, 4))
            return nest(ACTION_SET, *[attr(f, os.urandom(SET_FIELDS[f])) for f in fields])
        if k == 4:
            parts = [attr(VLAN_VID, struct.pack("=H", r.choice([0, 100, 4095, 4096, 0xFFFF])))]
            if r.random() < 0.5:
                parts.append(attr(VLAN_PCP, bytes([r.choice([0, 7, 8, 255])])))
            return nest(ACTION_PUSH_VLAN, *parts)
        if k == 5:
            return attr(ACTION_POP_VLAN, b"")
        if depth < 2:  # an action list nested where an action belongs
            return nest(r.choice([ACTION_OUTPUT, ACTION_SET, 9]),
                        *[self.action(depth + 1) for _ in range(r.randint(0, 3))])
        return attr(r.randint(6, 40), os.urandom(r.randint(0, 8)))

    def actions(self, atype):
        n = self.rng.choice([0, 1, 2, 3, 5, 8, MAX_ACTIONS, MAX_ACTIONS + 1, 60])
        return nest(atype, *[self.action() for _ in range(n)])

    def frame(self):
        r = self.rng
        eth = os.urandom(12)
        kind = r.randint(0, 5)
        if kind == 0:  # IPv4/UDP
            body = b"\x08\x00" + struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 1, 0, 64, 17, 0,
                                             os.urandom(4), os.urandom(4)) + os.urandom(8)
        elif kind == 1:  # IPv6 with a random next header
            body = b"\x86\xdd" + struct.pack("!IHBB", 0x60000000, 8, r.choice([6, 17, 44, 58, 0]),
                                             64) + os.urandom(40)
        elif kind == 2:  # VLAN-tagged
            body = b"\x81\x00" + os.urandom(2) + b"\x08\x00" + os.urandom(20)
        elif kind == 3:  # ARP
            body = b"\x08\x06" + os.urandom(28)
        elif kind == 4:  # garbage of any length
            body = os.urandom(r.randint(0, 200))
        else:  # jumbo
            body = b"\x08\x00" + os.urandom(r.choice([1500, 9000, 60000]))
        f = eth + body
        return f[: r.randint(0, len(f))] if r.random() < 0.1 else f

    def ifindex(self):
        return self.pick(*self.ifindexes, 0, -1, self.rng.getrandbits(31))

    # ---- messages -------------------------------------------------------------------
    def request(self, fams):
        """(family, cmd, flags, payload, dp_ifindex) of one well-formed request."""
        r = self.rng
        fam = r.randrange(4)
        flags = self.pick(0, 0, NLM_F_ECHO)
        ifx = self.ifindex()
        p = b""
        if fam == 0:
            cmd = self.pick(DP_CMD_NEW, DP_CMD_DEL, DP_CMD_GET, DP_CMD_SET, DP_CMD_GET)
            p = attr(DP_ATTR_NAME, self.name())
            if cmd in (DP_CMD_NEW, DP_CMD_SET) and r.random() < 0.5:
                p += u32(DP_ATTR_UPCALL_PID, r.getrandbits(32))
            if cmd in (DP_CMD_NEW, DP_CMD_SET) and r.random() < 0.4:
                n = self.pick(0, 1, 2, 3, os.cpu_count() or 1, 4096)
                p += attr(DP_ATTR_PER_CPU_PIDS, struct.pack("=%dI" % n,
                                                            *[r.getrandbits(32) | 1 for _ in range(n)]))
            if cmd == DP_CMD_GET and r.random() < 0.3:
                p, flags = b"", flags | NLM_F_DUMP
        elif fam == 1:
            cmd = self.pick(VPORT_CMD_NEW, VPORT_CMD_DEL, VPORT_CMD_GET, VPORT_CMD_SET)
            if r.random() < 0.7:
                p += u32(VPORT_ATTR_PORT_NO, self.pick(0, 1, 2, 3, MAX_PORTS - 1, MAX_PORTS,
                                                       r.getrandbits(32)))
            if r.random() < 0.7:
                p += attr(VPORT_ATTR_NAME, self.name())
            if cmd == VPORT_CMD_NEW or r.random() < 0.1:
                p += u32(VPORT_ATTR_TYPE, self.pick(0, 1, 1, 1, 2, 3))
            if r.random() < 0.3:
                p += u32(VPORT_ATTR_UPCALL_PID, r.getrandbits(32))
            if cmd == VPORT_CMD_GET and r.random() < 0.3:
                p, flags = b"", flags | NLM_F_DUMP
        elif fam == 2:
            cmd = self.pick(FLOW_CMD_NEW, FLOW_CMD_NEW, FLOW_CMD_DEL, FLOW_CMD_GET, FLOW_CMD_SET)
            p = attr(FLOW_ATTR_KEY, self.key())
            if r.random() < 0.8:
                p += attr(FLOW_ATTR_MASK, self.mask())
            if cmd in (FLOW_CMD_NEW, FLOW_CMD_SET) and r.random() < 0.9:
                p += self.actions(FLOW_ATTR_ACTIONS)
            if cmd == FLOW_CMD_SET and r.random() < 0.3:
                p += attr(FLOW_ATTR_CLEAR, b"")
            if cmd == FLOW_CMD_GET and r.random() < 0.3:
                p, flags = b"", flags | NLM_F_DUMP
            if cmd == FLOW_CMD_DEL and r.random() < 0.05:
                p = b""  # flush
        else:
            cmd = PACKET_CMD_EXECUTE
            p = (attr(PACKET_ATTR_PACKET, self.frame()) + attr(PACKET_ATTR_KEY, self.key())
                 + self.actions(PACKET_ATTR_ACTIONS))
        return fams[fam], cmd, flags, p, ifx

    def mutate(self, fam, cmd, flags, p, ifx):
        r = self.rng
        version = 1
        for _ in range(r.choice([1, 1, 1, 2, 3])):
            m = r.randint(0, 11)
            attrs = split_attrs(p)
            if m == 0 and attrs:  # drop one
                del attrs[r.randrange(len(attrs))]
            elif m == 1 and attrs:  # repeat one
                a = r.choice(attrs)
                attrs.insert(r.randrange(len(attrs) + 1), a)
            elif m == 2 and attrs:  # truncate one's payload
                i = r.randrange(len(attrs))
                t, v = attrs[i]
                attrs[i] = (t, v[: r.randint(0, max(0, len(v) - 1))])
            elif m == 3 and attrs:  # extend one's payload
                i = r.randrange(len(attrs))
                t, v = attrs[i]
                attrs[i] = (t, v + os.urandom(r.choice([1, 3, 4, 64, 4000])))
            elif m == 4 and attrs:  # flip its NESTED bit
                i = r.randrange(len(attrs))
                attrs[i] = (attrs[i][0] ^ NLA_F_NESTED, attrs[i][1])
            elif m == 5 and attrs:  # unknown type
                i = r.randrange(len(attrs))
                attrs[i] = (self.pick(0, 11, 12, 30, 0x3FFF), attrs[i][1])
            elif m == 6:  # a huge attribute
                attrs.append((r.randint(1, 10), os.urandom(r.choice([8192, 30000, 65000]))))
            elif m == 7:  # other flags
                flags |= self.pick(NLM_F_DUMP, NLM_F_ECHO, NLM_F_EXCL | NLM_F_CREATE, 0x20)
            elif m == 8:
                version = self.pick(0, 2, 255)
            elif m == 9:
                cmd = self.pick(0, 5, 6, 200, 1, 2)
            elif m == 10 and attrs:  # mutate inside a nest
                i = r.randrange(len(attrs))
                t, v = attrs[i]
                inner = split_attrs(v)
                if inner:
                    j = r.randrange(len(inner))
                    inner[j] = (inner[j][0], inner[j][1][: r.randint(0, len(inner[j][1]))])
                    attrs[i] = (t, join_attrs(inner))
            if m != 11:
                p = join_attrs(attrs)
            else:  # a lying length at the end
                p += struct.pack("=HH", r.randint(5, 4000), r.randint(1, 8)) + os.urandom(r.randint(0, 6))
        return fam, cmd, flags, p, ifx, version


def split_attrs(buf):
    out, i = [], 0
    while i + 4 <= len(buf):
        n, t = struct.unpack_from("=HH", buf, i)
        if n < 4 or i + n > len(buf):
            break
        out.append((t, buf[i + 4:i + n]))
        i += (n + 3) & ~3
    return out


def join_attrs(attrs):
    return b"".join(attr(t, v) for t, v in attrs if len(v) + 4 <= 0xFFFF)


def exchange(nl, msgs, window=32):
    """Send requests (ACK added) with up to `window` outstanding; each must be answered
    by an error/ack or by the end of its dump. Returns (sent, ok, errors, unanswered)."""
    pending, sent, ok, errors = set(), 0, 0, 0
    it = iter(msgs)
    done = False
    while not done or pending:
        while not done and len(pending) < window:
            m = next(it, None)
            if m is None:
                done = True
                break
            flags = struct.unpack_from("=H", m, 6)[0] | NLM_F_ACK
            m = m[:6] + struct.pack("=H", flags) + m[8:]
            seq = struct.unpack_from("=I", m, 8)[0]
            try:
                nl.send(m)
            except OSError:  # e.g. EMSGSIZE for a message the socket will not take
                errors += 1
                sent += 1
                continue
            pending.add(seq)
            sent += 1
        if not pending:
            continue
        got = nl.recv_msgs(20)
        if not got:
            return sent, ok, errors, len(pending)
        for t, _f, seq, payload in got:
            if seq not in pending:
                continue  # a dump's part, or an ack after its DONE
            if t == NLMSG_ERROR:
                pending.discard(seq)
                if struct.unpack_from("=i", payload)[0]:
                    errors += 1
                else:
                    ok += 1
            elif t == NLMSG_DONE:
                pending.discard(seq)
                ok += 1
    return sent, ok, errors, 0


def worker_fuzz(a, rng, names):
    nl = Genl()
    fams = [nl.family(f) for f in FAMILIES]
    fz = Fuzz(rng, names)
    lookup = Genl()  # not nl: a request there would read (and drop) the pending answers

    def refresh():
        fz.ifindexes = [0]
        for n in names:
            try:
                fz.ifindexes.append(lookup.dp_get(n)["dp_ifindex"])
            except NlError:
                pass

    def gen():
        for i in range(a.messages):
            if i % 200 == 0:
                refresh()
            req = fz.request(fams)
            if rng.random() < a.mutate:
                fam, cmd, flags, p, ifx, ver = fz.mutate(*req)
            else:
                (fam, cmd, flags, p, ifx), ver = req, 1
            if len(p) > 65000:
                p = p[:65000]
            yield nl.msg(fam, cmd, flags, p, dp_ifindex=ifx, version=ver)
    return exchange(nl, gen())


def worker_churn(a, rng, names):
    """Valid life cycles on the fuzzer's datapaths: create, attach, install, execute, detach,
    delete; each step may fail because the fuzzer got there first, never go unanswered."""
    nl = Genl()
    fams = [nl.family(f) for f in FAMILIES]
    counts = [0, 0, 0, 0]
    budget = a.messages

    def run(msgs):
        nonlocal budget
        r = exchange(nl, msgs)
        budget -= r[0]
        for i in range(4):
            counts[i] += r[i]
        return r

    while budget > 0 and counts[3] == 0:
        name = rng.choice(names)
        run([nl.msg(fams[0], DP_CMD_NEW, 0, strz(DP_ATTR_NAME, name))])
        try:
            ifx = nl.dp_get(name)["dp_ifindex"]
        except NlError:
            continue
        ports = rng.sample(VETHS, 2)
        run(nl.msg(fams[1], VPORT_CMD_NEW, 0, u32(VPORT_ATTR_TYPE, 1) + strz(VPORT_ATTR_NAME, v)
                   + u32(VPORT_ATTR_PORT_NO, i + 1), dp_ifindex=ifx) for i, v in enumerate(ports))
        keys = [key_pack(in_port=1 + (i & 1), eth_type=0x0800, ip_proto=17, tp_src=i)
                for i in range(rng.randint(10, 60))]
        mask = key_pack(in_port=0xFFFFFFFF, eth_type=0xFFFF, ip_proto=0xFF, tp_src=0xFFFF)
        run(nl.msg(fams[2], FLOW_CMD_NEW, 0, attr(FLOW_ATTR_KEY, k) + attr(FLOW_ATTR_MASK, mask)
                   + nest(FLOW_ATTR_ACTIONS, u32(ACTION_OUTPUT, 2 - (i & 1))), dp_ifindex=ifx)
            for i, k in enumerate(keys))
        frame = b"\xff" * 6 + b"\x02\0\0\0\0\x01" + b"\x08\x00" + os.urandom(46)
        run(nl.msg(fams[3], PACKET_CMD_EXECUTE, 0, attr(PACKET_ATTR_PACKET, frame)
                   + attr(PACKET_ATTR_KEY, key_pack(in_port=1))
                   + nest(PACKET_ATTR_ACTIONS, u32(ACTION_OUTPUT, 1), u32(ACTION_OUTPUT, 2)),
                   dp_ifindex=ifx) for _ in range(10))
        run([nl.msg(fams[2], FLOW_CMD_GET, NLM_F_DUMP, b"", dp_ifindex=ifx)])
        run([nl.msg(fams[1], VPORT_CMD_DEL, 0, u32(VPORT_ATTR_PORT_NO, 1), dp_ifindex=ifx)])
        if rng.random() < 0.7:
            run([nl.msg(fams[0], DP_CMD_DEL, 0, strz(DP_ATTR_NAME, name))])
    return tuple(counts)


def cmd_worker(a):
    rng = random.Random(a.seed)
    names = ["fz%sa" % a.tag, "fz%sb" % a.tag]
    t0 = time.time()
    fn = worker_fuzz if a.role == "fuzz" else worker_churn
    sent, ok, errors, unanswered = fn(a, rng, names)
    print(json.dumps({"role": a.role, "tag": a.tag, "seed": a.seed, "sent": sent, "ok": ok,
                      "errors": errors, "unanswered": unanswered,
                      "seconds": round(time.time() - t0, 1)}), flush=True)
    return 1 if unanswered else 0


def sh(*cmd):
    subprocess.run(cmd, check=True)


def cmd_run(a):
    seed = a.seed if a.seed is not None else random.randrange(1 << 31)
    n_ns = max(1, a.workers // 2)
    tag = "%x" % (os.getpid() & 0xFFF)
    nss = ["vswfz-%s-%d" % (tag, i) for i in range(n_ns)]
    print(json.dumps({"seed": seed, "namespaces": n_ns, "messages": a.messages}), flush=True)
    procs = []
    try:
        for i, ns in enumerate(nss):
            sh("ip", "netns", "add", ns)
            for j in range(0, len(VETHS), 2):
                sh("ip", "-n", ns, "link", "add", VETHS[j], "type", "veth", "peer", "name", VETHS[j + 1])
            for v in VETHS:
                sh("ip", "-n", ns, "link", "set", v, "up")
            per = a.messages // (2 * n_ns)
            for role in ("fuzz", "churn"):
                cmd = ["ip", "netns", "exec", ns, sys.executable, "-S", os.path.abspath(__file__),
                       "worker", "--role", role, "--tag", "%s%d" % (tag, i), "--messages", str(per),
                       "--seed", str(seed + 2 * i + (role == "churn")), "--mutate", str(a.mutate)]
                procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True))
        failed = 0
        total = {"sent": 0, "ok": 0, "errors": 0, "unanswered": 0}
        for p in procs:
            try:
                out, _ = p.communicate(timeout=a.timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                out, _ = p.communicate()
                print("worker timed out", flush=True)
                failed += 1
            sys.stdout.write(out)
            if p.returncode != 0:
                failed += 1
            for line in out.splitlines():
                try:
                    w = json.loads(line)
                except ValueError:
                    continue
                for k in total:
                    total[k] += w.get(k, 0)
        print(json.dumps(dict(total, failed_workers=failed)), flush=True)
        # Both outcomes must have happened: requests accepted and requests refused.
        return 1 if failed or total["unanswered"] or not total["ok"] or not total["errors"] else 0
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        for ns in nss:  # with whatever datapaths and ports are left in them
            subprocess.run(["ip", "netns", "del", ns], check=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("run")
    p.add_argument("--messages", type=int, default=20000)
    p.add_argument("--seed", type=int)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--mutate", type=float, default=0.5)
    p.add_argument("--timeout", type=float, default=1800)
    p.set_defaults(f=cmd_run)
    p = sub.add_parser("worker")
    p.add_argument("--role", choices=["fuzz", "churn"], required=True)
    p.add_argument("--tag", required=True)
    p.add_argument("--messages", type=int, required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--mutate", type=float, default=0.5)
    p.set_defaults(f=cmd_worker)
    a = ap.parse_args()
    sys.exit(a.f(a) or 0)


if __name__ == "__main__":
    main()
