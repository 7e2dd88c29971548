#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_mgmt.cpp (corpus/). Byte 0 picks the decoder: 0 = a
management-socket session (length-prefixed mgmt.proto Requests, encoded here by hand), 1 =
a state file (config.json as ConfigStore::save() writes it). Run it from this folder; the
output is checked in, so it only needs rerunning when mgmt.proto or the file format change."""
import json
import os
import struct


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def ld(field, payload):  # a length-delimited field
    if isinstance(payload, str):
        payload = payload.encode()
    return varint(field << 3 | 2) + varint(len(payload)) + payload


def kv(field, k, v):
    return ld(field, ld(1, k) + ld(2, v))


def req(verb, body=b""):  # Request{oneof verb = body}
    return ld(verb, body)


def frame(msg):
    return struct.pack(">I", len(msg)) + msg


ADD_BR, DEL_BR, LIST_BR, ADD_PORT, DEL_PORT, LIST_PORTS, SET_PORT = 1, 2, 3, 4, 5, 6, 7
SET_FAIL, SET_BR, SET_CTL, DEL_CTL, SHOW, FDB, UPCALL = 8, 9, 10, 11, 12, 13, 14

session = [
    req(ADD_BR, ld(1, "br0") + kv(2, "datapath-id", "00000000000000a1") + kv(2, "fail-mode", "secure")),
    req(ADD_PORT, ld(1, "br0") + ld(2, "eth0") + kv(3, "ofport", "3") + kv(3, "tag", "10")),
    req(ADD_PORT, ld(1, "br0") + ld(2, "eth1") + kv(3, "trunks", "1,5-9,4095")),
    req(ADD_PORT, ld(1, "br0") + ld(2, "eth2")),
    req(SET_PORT, ld(1, "eth1") + kv(2, "vlan-mode", "access") + kv(2, "tag", "5")),
    req(SET_BR, ld(1, "br0") + kv(2, "mac-aging", "60") + kv(2, "flow_limit", "1000") + kv(2, "idle-timeout", "")),
    req(SET_CTL, ld(1, "br0") + ld(2, "tcp:127.0.0.1:6653") + ld(2, "ptcp:6633") + ld(2, "unix:/run/c.sock")),
    req(SET_FAIL, ld(1, "br0") + ld(2, "standalone")),
    req(LIST_BR), req(LIST_PORTS, ld(1, "br0")), req(SHOW), req(FDB, ld(1, "br0")), req(UPCALL),
    req(DEL_CTL, ld(1, "br0")),
    req(DEL_PORT, ld(1, "br0") + ld(2, "eth2")),
    req(DEL_PORT, ld(2, "eth0")),
    req(DEL_BR, ld(1, "br0")),
]
seeds = {
    "session-all-verbs": b"\0" + b"".join(frame(m) for m in session),
    "session-add-br": b"\0" + frame(req(ADD_BR, ld(1, "br-int"))),
    "session-bad-words": b"\0" + frame(req(ADD_PORT, ld(1, "br0") + ld(2, "eth0") + kv(3, "tag", "4096")))
    + frame(req(ADD_BR, ld(1, "a/b"))) + frame(req(SET_FAIL, ld(1, "br0") + ld(2, "open"))),
    "session-v6-controller": b"\0" + frame(req(ADD_BR, ld(1, "br1")))
    + frame(req(SET_CTL, ld(1, "br1") + ld(2, "tcp:[::1]:6653") + ld(2, "punix:/tmp/x"))),
    "session-oversized": b"\0" + struct.pack(">I", (16 << 20) + 1) + b"\x0a\x00",
    "session-truncated": b"\0" + struct.pack(">I", 40) + req(ADD_BR, ld(1, "br0")),
    "session-garbage": b"\0" + frame(b"\xff\xff\xff\xff\x0f"),
    "session-empty-request": b"\0" + frame(b"") + frame(b""),
}

config = {
    "bridges": [{
        "name": "br0", "datapath_id": "161", "fail_mode": "SECURE",
        "mac_aging_s": 60, "mac_table_size": 4096, "flow_limit": 1000, "idle_timeout_ms": 500,
        "ports": [
            {"name": "eth0", "ofport": 3, "vlan_mode": "ACCESS", "tag": 10},
            {"name": "eth1", "ofport": 1, "trunks": [1, 5, 6, 7, 4095]},
        ],
        "controllers": [{"target": "tcp:127.0.0.1:6653"}],
    }, {"name": "br1"}],
    "daemon": {"flow_limit": 5000, "idle_timeout_ms": 2000, "mac_aging_s": 30,
               "mac_table_size": 64, "n_handlers": 2, "n_revalidators": 1},
}
seeds["state-full"] = b"\1" + json.dumps(config, indent=1).encode()
seeds["state-empty-object"] = b"\1{}"
seeds["state-empty"] = b"\1 \n"
seeds["state-unknown-field"] = b'\1{"bridges": [{"name": "br0", "colour": "red"}]}'
seeds["state-duplicate-port"] = (b'\1{"bridges": [{"name": "br0", "ports": [{"name": "p", "ofport": 1}]},'
                                 b' {"name": "br1", "ports": [{"name": "p", "ofport": 1}]}]}')
seeds["state-camel-case"] = b'\1{"bridges": [{"name": "br0", "failMode": 1, "datapathId": "18446744073709551615"}]}'
seeds["state-newline-in-name"] = b'\1{"bridges": [{"name": "a\\nb"}]}'
seeds["session-control-chars"] = (b"\0" + frame(req(ADD_BR, ld(1, "br\n0")))
                                  + frame(req(ADD_PORT, ld(1, "br0") + ld(2, "e\t0") + kv(3, "tag\n", "1")))
                                  + frame(req(SET_CTL, ld(1, "br0") + ld(2, "tcp:1.2.3.4\n"))))
seeds["state-cr-in-field"] = b'\1{"bridges": [{"name": "br0", "datapath\r\rId": "1"}]}'
seeds["state-truncated"] = seeds["state-full"][:90]

os.makedirs("corpus", exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join("corpus", name), "wb") as f:
        f.write(data)
