#!/usr/bin/env python3
"""A tiny HTTP server on loopback for the fetch test (python3 -m http.server
does not do Range). Usage: server.py DIR PORTFILE LOGFILE

  /files/NAME  serves DIR/NAME, honouring "Range: bytes=N-" (206)
  /cut/NAME    as /files/NAME, but a request that starts at byte 0 gets the
               full Content-Length and only the first half of the bytes, then
               the connection is closed: an interrupted transfer
  /hold/NAME   as /cut/NAME, but the connection is held open after the first half
               until DIR/.release exists (a client killed in the middle of it)
  anything else, or a missing file: 404

Each request is logged as "PATH RANGE" (RANGE is "-" without one)."""
import http.server
import os
import sys
import time

root, portfile, logfile = sys.argv[1], sys.argv[2], sys.argv[3]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        rng = self.headers.get("Range")
        with open(logfile, "a") as log:
            log.write("%s %s\n" % (self.path, rng or "-"))
        parts = self.path.split("/")
        if len(parts) != 3 or parts[1] not in ("files", "cut", "hold") or "/" in parts[2]:
            return self.fail(404)
        path = os.path.join(root, parts[2])
        if not os.path.isfile(path):
            return self.fail(404)
        with open(path, "rb") as f:
            data = f.read()
        start = 0
        if rng:
            if not rng.startswith("bytes=") or not rng[6:].endswith("-"):
                return self.fail(400)
            start = int(rng[6:-1])
            if start >= len(data):
                return self.fail(416)
        body = data[start:]
        self.send_response(206 if rng else 200)
        if rng:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        if parts[1] in ("cut", "hold") and start == 0:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            while parts[1] == "hold" and not os.path.exists(os.path.join(root, ".release")):
                time.sleep(0.1)
            self.close_connection = True
            return
        self.wfile.write(body)

    def fail(self, code):
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(portfile + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(portfile + ".tmp", portfile)
server.serve_forever()
