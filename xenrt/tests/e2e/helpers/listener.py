#!/usr/bin/env python3
"""listener.py: webhook listeners for tests/e2e/70-webhooks.sh.

  listener.py record PORTFILE OUTFILE   answers 204 to every POST and appends
                                        {"headers": ..., "body": ...} lines
  listener.py blackhole PORTFILE        accepts connections and never answers

Each binds an ephemeral loopback port and writes it to PORTFILE.
"""
import http.server
import json
import socket
import sys
import time


class Recorder(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with open(self.server.outfile, "a") as f:
            f.write(json.dumps({"event": self.headers.get("X-Xenrt-Event"),
                                "body": json.loads(body)}) + "\n")
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    mode, portfile = sys.argv[1], sys.argv[2]
    if mode == "record":
        srv = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
        srv.outfile = sys.argv[3]
        open(portfile, "w").write(str(srv.server_address[1]))
        srv.serve_forever()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    open(portfile, "w").write(str(sock.getsockname()[1]))
    held = []
    while True:
        conn, _ = sock.accept()
        held.append(conn)          # never read, never answered


if __name__ == "__main__":
    main()
