#!/usr/bin/env python3
"""A webhook receiver for tests: records each POST body (one JSON per line)
to OUTFILE and answers 200; with --hang it accepts and never answers.
Usage: webhook_receiver.py PORT OUTFILE [--hang]"""
import http.server
import socket
import sys
import time

port, outfile = int(sys.argv[1]), sys.argv[2]

if "--hang" in sys.argv:
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(64)
    held = []
    while True:
        connection, _ = server.accept()
        held.append(connection)  # read nothing, answer nothing

class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(outfile, "ab") as out:
            out.write(body.replace(b"\n", b" ") + b"\n")
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass

http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
