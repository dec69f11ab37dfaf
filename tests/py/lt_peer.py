#!/usr/bin/python3
"""A libtorrent peer on loopback, for interoperability tests and the transfer benchmark.

Usage:
  lt_peer.py seed TORRENT SAVE_PATH
      Checks the files under SAVE_PATH/<name>/, then prints {"listening": "127.0.0.1:port"} and
      seeds until stdin closes.
  lt_peer.py fetch TORRENT SAVE_PATH HOST:PORT
      Downloads from that peer into SAVE_PATH/<name>/ and prints {"seconds": s, "bytes": n} once
      every piece is verified; exits 1 with {"error": ...} after 120 s without completion.
DHT, local discovery, UPnP, NAT-PMP and uTP are off: one TCP connection between two named peers.
"""
import json
import sys
import time
import warnings

import libtorrent as lt

warnings.filterwarnings("ignore", category=DeprecationWarning)


def session():
    return lt.session({
        "listen_interfaces": "127.0.0.1:0",
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_outgoing_utp": False,
        "enable_incoming_utp": False,
        "allow_multiple_connections_per_ip": True,
        "alert_mask": 0,
    })


def add(s, torrent, save_path):
    atp = lt.add_torrent_params()
    atp.ti = lt.torrent_info(torrent)
    atp.save_path = save_path
    return s.add_torrent(atp)


def seed(torrent, save_path):
    s = session()
    h = add(s, torrent, save_path)
    deadline = time.time() + 60
    while not h.status().is_seeding:
        if time.time() > deadline:
            print(json.dumps({"error": "files did not check out: %s" % h.status().state}), flush=True)
            sys.exit(1)
        time.sleep(0.05)
    print(json.dumps({"listening": "127.0.0.1:%d" % s.listen_port()}), flush=True)
    sys.stdin.read()


def fetch(torrent, save_path, peer):
    s = session()
    h = add(s, torrent, save_path)
    host, port = peer.rsplit(":", 1)
    start = time.time()
    h.connect_peer((host, int(port)))
    last_connect = start
    while not h.status().is_seeding:
        if time.time() - start > 120:
            print(json.dumps({"error": "incomplete after 120 s: %s" % h.status().progress}), flush=True)
            sys.exit(1)
        if h.status().num_peers == 0 and time.time() - last_connect > 1:
            h.connect_peer((host, int(port)))
            last_connect = time.time()
        time.sleep(0.01)
    st = h.status()
    print(json.dumps({"seconds": time.time() - start, "bytes": st.total_wanted}), flush=True)


def main():
    mode = sys.argv[1]
    if mode == "seed":
        seed(sys.argv[2], sys.argv[3])
    elif mode == "fetch":
        fetch(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit("usage: lt_peer.py seed|fetch ...")


if __name__ == "__main__":
    main()
