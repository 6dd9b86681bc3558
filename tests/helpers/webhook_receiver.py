#!/usr/bin/env python3
"""A tiny webhook receiver for tests/integration/escalation.sh (Python standard library only).

Usage: webhook_receiver.py PORT DIR
Every POST is saved as DIR/N.body (the exact bytes) and DIR/N.sig (its Truce-Signature header),
and one line "N alert-id delivery-id path" is appended to DIR/received; it answers 200.
Prints "listening" once bound. Runs until killed."""
import http.server
import os
import sys

port, out = int(sys.argv[1]), sys.argv[2]
count = 0


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        global count
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        count += 1
        with open(os.path.join(out, "%d.body" % count), "wb") as f:
            f.write(body)
        with open(os.path.join(out, "%d.sig" % count), "w") as f:
            f.write(self.headers.get("Truce-Signature", ""))
        with open(os.path.join(out, "received"), "a") as f:
            f.write("%d %s %s %s\n" % (count, self.headers.get("Truce-Alert-Id"),
                                       self.headers.get("Truce-Delivery-Id"), self.path))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", port), Handler)
print("listening", flush=True)
server.serve_forever()
