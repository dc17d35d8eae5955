#!/usr/bin/env python3
"""A webhook receiver for make_fixtures.sh v3: answers a POST to /ok with 204, to /gone with
410 and to anything else with 500. Writes the port it listens on (on 127.0.0.1) to the file
named by its only argument, then serves until killed."""
import http.server
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        status = {"/ok": 204, "/gone": 410}.get(self.path, 500)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[1], "w") as port_file:
    port_file.write(str(server.server_address[1]))
server.serve_forever()
