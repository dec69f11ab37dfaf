#!/usr/bin/python3
"""A loopback Mainline DHT of libtorrent nodes, for tests.

Usage: lt_dht.py N
Prints one JSON line {"bootstrap": ["127.0.0.1:port", ...], "ids": [hex node id, ...]} once the nodes know each other,
then serves until stdin closes. Each stdin line `peers <hex info hash>` is answered with one JSON line
{"peers": ["ip:port", ...]}: the peers a lookup from the first node finds announced for that hash.
"""
import json
import warnings
import sys
import time

import libtorrent as lt

warnings.filterwarnings("ignore", category=DeprecationWarning)


def node():
    s = lt.session({
        "listen_interfaces": "127.0.0.1:0",
        "enable_dht": True,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "dht_bootstrap_nodes": "",
        # Loopback nodes share one IP; libtorrent's defaults would drop them.
        "dht_restrict_routing_ips": False,
        "dht_restrict_search_ips": False,
        "dht_enforce_node_id": False,
        "dht_ignore_dark_internet": False,
        # Every node and client here shares 127.0.0.1: by default a node that hears more than 5
        # queries a second from one IP ignores that IP for 5 minutes, and a bootstrap burst
        # (librqbit asks each node ten times) left the node nearest a torrent deaf to everyone.
        "dht_block_ratelimit": 1_000_000,
        "alert_mask": 0,
    })
    return s


def network(n):
    """`n` libtorrent DHT nodes on loopback that know each other, and their ports."""
    sessions = [node() for _ in range(n)]
    deadline = time.time() + 10
    while any(s.listen_port() == 0 for s in sessions) and time.time() < deadline:
        time.sleep(0.05)
    ports = [s.listen_port() for s in sessions]
    for s in sessions:
        for p in ports:
            if p != s.listen_port():
                s.add_dht_node(("127.0.0.1", p))
    # Wait until every node has met the others.
    while time.time() < deadline:
        if all(s.status().dht_nodes >= min(n - 1, 8) for s in sessions):
            break
        time.sleep(0.05)
    return sessions, ports


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    sessions, ports = network(n)
    ids = [s.dht_state()[b"node-id"][0][:20].hex() for s in sessions]
    print(json.dumps({"bootstrap": [f"127.0.0.1:{p}" for p in ports], "ids": ids}), flush=True)
    asker = sessions[0]
    asker.apply_settings({"alert_mask": lt.alert.category_t.dht_operation_notification})
    for line in sys.stdin:
        words = line.split()
        if len(words) == 2 and words[0] == "peers":
            print(json.dumps({"peers": lookup(asker, words[1])}), flush=True)


def lookup(s, info_hash):
    """Peers a get_peers lookup from node `s` finds for `info_hash`."""
    s.dht_get_peers(lt.sha1_hash(bytes.fromhex(info_hash)))
    deadline = time.time() + 10
    while time.time() < deadline:
        s.wait_for_alert(100)
        for a in s.pop_alerts():
            if isinstance(a, lt.dht_get_peers_reply_alert) and str(a.info_hash) == info_hash:
                return sorted({f"{ip}:{port}" for ip, port in a.peers()})
    return []


if __name__ == "__main__":
    main()
