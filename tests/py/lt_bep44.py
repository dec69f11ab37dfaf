#!/usr/bin/python3
"""libtorrent DHT nodes that put and get BEP-44 mutable items, for interoperability tests.

Usage: lt_bep44.py N
Starts N libtorrent DHT nodes on loopback that know each other (lt_dht.py) and prints
{"bootstrap": ["127.0.0.1:port", ...]}; Seedstr's node joins them alongside its `mainline` nodes.
(`mainline` nodes drop libtorrent's queries, whose transaction ids are 2 bytes, so libtorrent
reaches our items through the libtorrent nodes our node also stores them on.)
Then answers one JSON line per stdin line, acting through the first node:
  put <ed25519 seed hex> <salt hex> <value hex> <public key hex>  -> {"put": bool, "seq": n}
  get <public key hex> <salt hex>                                 -> {"value": hex, "seq": n}
The value is put as a byte string, as Seedstr writes it.
"""
import hashlib
import json
import sys
import time

import libtorrent as lt

from lt_dht import network


def expanded_secret(seed):
    """libtorrent's 64-byte Ed25519 secret: the clamped SHA-512 of the seed."""
    h = bytearray(hashlib.sha512(seed).digest())
    h[0] &= 248
    h[31] &= 63
    h[31] |= 64
    return bytes(h)


def wait_for(s, kind, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        s.wait_for_alert(100)
        for a in s.pop_alerts():
            if isinstance(a, kind):
                return a
    return None


def put(s, seed, salt, value, pk):
    s.dht_put_mutable_item(expanded_secret(seed), pk, value, salt)
    # libtorrent waits out nodes that never answer it (our `mainline` node, which drops its
    # 2-byte transaction ids) before it reports: about 16 s here.
    a = wait_for(s, lt.dht_put_alert, 60)
    return {"put": a is not None and a.num_success > 0, "seq": a.seq if a else None}


def get(s, pk, salt):
    """The item a full lookup finds: libtorrent may report partial answers before the final one."""
    s.dht_get_mutable_item(pk, salt)
    found = {"value": None}
    deadline = time.time() + 15
    while time.time() < deadline:
        s.wait_for_alert(100)
        for a in s.pop_alerts():
            if not isinstance(a, lt.dht_mutable_item_alert):
                continue
            try:
                item = a.item
            except RuntimeError:
                item = None  # the binding raises for an empty (not found) item
            # The binding hands the whole item as a dict; the value is under "value".
            if isinstance(item, dict):
                item = item.get("value")
            if isinstance(item, str):
                item = item.encode("latin-1")
            if isinstance(item, bytes) and item:
                found = {"value": item.hex(), "seq": a.seq}
            if a.authoritative:
                return found
    return found


def main():
    sessions, ports = network(int(sys.argv[1]))
    actor = sessions[0]
    # Put and get results are "dht" alerts.
    actor.apply_settings({"alert_mask": lt.alert.category_t.dht_notification})
    print(json.dumps({"bootstrap": [f"127.0.0.1:{p}" for p in ports]}), flush=True)
    for line in sys.stdin:
        words = line.split()
        if words[:1] == ["put"] and len(words) == 5:
            seed, salt, value, pk = (bytes.fromhex(w) for w in words[1:5])
            print(json.dumps(put(actor, seed, salt, value, pk)), flush=True)
        elif words[:1] == ["get"] and len(words) == 3:
            pk, salt = (bytes.fromhex(w) for w in words[1:])
            print(json.dumps(get(actor, pk, salt)), flush=True)
        else:
            print(json.dumps({"error": f"unknown command {line.strip()!r}"}), flush=True)


if __name__ == "__main__":
    main()
