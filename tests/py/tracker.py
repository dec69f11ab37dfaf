#!/usr/bin/python3
"""An HTTP BitTorrent tracker on loopback, for tests (BEP 3 announces, BEP 23 compact answers).

Usage: tracker.py
Prints one JSON line {"announce": "http://127.0.0.1:port/announce"} once listening, then serves
until stdin closes. Every peer that announces an info hash is handed to the next peers asking for
it; a `stopped` event removes it. Python's standard library only: no tracker is packaged in
Debian, and this one does only what the tests need.
"""
import json
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

swarms = {}  # info hash (20 bytes) -> {(ip, port)}
lock = threading.Lock()


def bencode(value):
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, bytes):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, str):
        return bencode(value.encode())
    if isinstance(value, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, v) for k, v in value.items())
        return b"d" + b"".join(bencode(k) + bencode(v) for k, v in items) + b"e"
    raise TypeError(type(value))


class Announce(BaseHTTPRequestHandler):
    def do_GET(self):
        url = urlsplit(self.path)
        # Keep the raw bytes: info_hash and peer_id are percent-encoded binary.
        query = parse_qs(url.query, encoding="latin-1")
        if url.path != "/announce" or "info_hash" not in query or "port" not in query:
            return self.answer({"failure reason": "announce needs info_hash and port"})
        info_hash = query["info_hash"][0].encode("latin-1")
        peer = (self.client_address[0], int(query["port"][0]))
        with lock:
            peers = swarms.setdefault(info_hash, set())
            others = [p for p in peers if p != peer]
            if query.get("event", [""])[0] == "stopped":
                peers.discard(peer)
            else:
                peers.add(peer)
        compact = b"".join(socket.inet_aton(ip) + port.to_bytes(2, "big") for ip, port in others)
        self.answer({"interval": 5, "peers": compact})

    def answer(self, body):
        data = bencode(body)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Announce)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    print(json.dumps({"announce": f"http://127.0.0.1:{port}/announce"}), flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main()
