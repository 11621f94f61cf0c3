#!/usr/bin/env python3
"""A loopback HTTP proxy in front of a test S3 server (moto) that injects faults.

moto models S3's storage classes and restores but never throttles, never fails, never sends
409 RestoreAlreadyInProgress and never stalls. The fleetpath-aws integration tests talk to this
proxy when they need those: it forwards every request to the upstream server unchanged, except
for requests matching a fault rule, which get the rule's status and S3 error body, a delay
before forwarding, or extra response headers.

Control (JSON over HTTP on the same port; the path prefix keeps it apart from S3 paths):
  POST   /__faults__        a rule or a list of rules, appended
  DELETE /__faults__        every rule removed
  GET    /__faults__/log    every proxied request: method, path, query, status, injected
                          (and the body of RestoreObject requests)

A rule: {"method": "HEAD", "path": "/bucket/key", "query": "restore", "status": 503,
         "code": "SlowDown", "message": "...", "times": 2, "delay_ms": 0,
         "add_headers": {"x-amz-archive-status": "ARCHIVE_ACCESS"}}
`path` matches as a prefix, `query` as a substring of the query string, `method` exactly;
absent fields match anything. `times` (absent: forever) counts the requests the rule takes.
A rule with `status` answers without forwarding (an S3 error body for statuses from 300, an
empty body below; a HEAD's answer never has a body, as S3's); otherwise it delays and/or adds
headers to the upstream's answer, and may damage how that answer is sent:
  "slow_headers_ms": N      the status line, then each header line N ms after the previous one
  "drip_ms": N              the body one byte every N ms
  "truncate": K             the upstream's Content-Length, only the body's first K bytes, then close
  "reset": "before_headers" | "mid_body"
                            the connection reset (RST) instead of an answer, or after the headers
                            and half the body
  "conflicting_content_length": true
                            a second Content-Length header one byte longer than the first
  "chunked": true           the body chunked (64-byte chunks), without a Content-Length
Each log entry names the faults applied to its request ("faults": [...]).

Usage: s3_fault_proxy.py --upstream http://127.0.0.1:PORT [--port 0]
Prints "listening on PORT" once it accepts connections.
"""

import argparse
import http.client
import http.server
import json
import socket
import struct
import sys
import threading
import time
import urllib.parse

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}
# Faults that change how the upstream's answer is sent (see the module docs).
STREAM_FAULTS = ("slow_headers_ms", "drip_ms", "truncate", "reset", "conflicting_content_length", "chunked")


class State:
    def __init__(self, upstream):
        parsed = urllib.parse.urlsplit(upstream)
        self.host = parsed.hostname
        self.port = parsed.port
        self.lock = threading.Lock()
        self.rules = []
        self.log = []

    def take(self, method, path, query):
        """The first matching rule, with one of its `times` used up."""
        with self.lock:
            for rule in self.rules:
                if rule.get("method") not in (None, method):
                    continue
                if not path.startswith(rule.get("path", "")):
                    continue
                if rule.get("query") is not None and rule["query"] not in query:
                    continue
                if rule.get("times") is not None:
                    rule["times"] -= 1
                    if rule["times"] <= 0:
                        self.rules.remove(rule)
                return dict(rule)
        return None


def error_body(rule, path):
    code = rule.get("code", "")
    message = rule.get("message", "injected by s3_fault_proxy")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>"
        f"<Resource>{path}</Resource><RequestId>fault-proxy</RequestId></Error>"
    ).encode()


def make_handler(state):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # quiet: the log endpoint has everything
            pass

        def read_body(self):
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        break
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                return b"".join(chunks)
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def reply(self, status, headers, body, head_only=False):
            self.send_response_only(status)
            for name, value in headers:
                self.send_header(name, value)
            if not any(n.lower() == "content-length" for n, _ in headers):
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body and not head_only:
                self.wfile.write(body)

        def reset(self):
            """Closes the connection with a TCP RST (SO_LINGER 0), as a crashed peer would."""
            self.close_connection = True
            try:
                self.wfile.flush()
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
            except OSError:
                pass

        def send_faulty(self, rule, status, headers, body, head_only):
            """The upstream's answer, damaged as `rule` asks (the client may give up meanwhile)."""
            if rule.get("reset") == "before_headers":
                return self.reset()
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            chunked = bool(rule.get("chunked")) and not head_only
            if chunked:
                headers.append(("Transfer-Encoding", "chunked"))
            else:
                headers.append(("Content-Length", str(len(body))))
            if rule.get("conflicting_content_length"):
                headers.append(("Content-Length", str(len(body) + 1)))
            lines = [f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}\r\n".encode("latin-1")]
            lines += [f"{k}: {v}\r\n".encode("latin-1") for k, v in headers]
            lines.append(b"\r\n")
            try:
                slow = rule.get("slow_headers_ms")
                for line in lines:
                    self.wfile.write(line)
                    if slow:
                        self.wfile.flush()
                        time.sleep(slow / 1000.0)
                self.wfile.flush()
                if head_only:
                    return None
                if rule.get("reset") == "mid_body":
                    self.wfile.write(body[: len(body) // 2])
                    return self.reset()
                if rule.get("truncate") is not None:
                    self.wfile.write(body[: int(rule["truncate"])])
                    self.close_connection = True
                    return None
                if rule.get("drip_ms"):
                    for i in range(len(body)):
                        self.wfile.write(body[i : i + 1])
                        self.wfile.flush()
                        time.sleep(rule["drip_ms"] / 1000.0)
                    return None
                if chunked:
                    for i in range(0, len(body), 64):
                        piece = body[i : i + 64]
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    self.wfile.write(b"0\r\n\r\n")
                    return None
                self.wfile.write(body)
                if rule.get("conflicting_content_length"):
                    self.close_connection = True
            except OSError:  # the client gave up (its timeout): nothing more to send
                self.close_connection = True
            return None

        def control(self, body):
            if self.command == "POST":
                rules = json.loads(body or b"[]")
                with state.lock:
                    state.rules.extend(rules if isinstance(rules, list) else [rules])
                self.reply(204, [], b"")
            elif self.command == "DELETE":
                with state.lock:
                    state.rules.clear()
                self.reply(204, [], b"")
            else:
                with state.lock:
                    data = json.dumps(state.log).encode()
                self.reply(200, [("Content-Type", "application/json")], data)

        def handle_any(self):
            body = self.read_body()
            split = urllib.parse.urlsplit(self.path)
            if split.path.startswith("/__faults__"):
                return self.control(body)
            rule = state.take(self.command, split.path, split.query)
            entry = {"method": self.command, "path": split.path, "query": split.query, "injected": False, "faults": []}
            if "restore" in split.query:
                entry["body"] = body.decode("utf-8", "replace")
            if rule and rule.get("status"):
                status = int(rule["status"])
                entry.update(status=status, injected=True, faults=["status"])
                with state.lock:
                    state.log.append(entry)
                err = error_body(rule, split.path) if status >= 300 else b""
                headers = [("Content-Type", "application/xml"), ("x-amz-request-id", "fault-proxy")]
                if self.command == "HEAD":
                    headers.append(("Content-Length", "0"))
                return self.reply(status, headers, err, head_only=self.command == "HEAD")
            if rule and rule.get("delay_ms"):
                entry["injected"] = True
                entry["faults"].append("delay_ms")
                time.sleep(rule["delay_ms"] / 1000.0)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            if body or self.command in ("PUT", "POST"):
                headers["Content-Length"] = str(len(body))
                headers.pop("Transfer-Encoding", None)
            try:
                upstream = http.client.HTTPConnection(state.host, state.port, timeout=30)
                upstream.request(self.command, self.path, body=body or None, headers=headers)
                response = upstream.getresponse()
                data = response.read()
                out = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP]
                upstream.close()
            except OSError as e:
                entry.update(status=502, injected=True)
                with state.lock:
                    state.log.append(entry)
                return self.reply(502, [("Content-Type", "text/plain")], f"upstream: {e}".encode())
            if rule and rule.get("add_headers"):
                entry["injected"] = True
                entry["faults"].append("add_headers")
                names = {n.lower() for n in rule["add_headers"]}
                out = [(k, v) for k, v in out if k.lower() not in names] + list(rule["add_headers"].items())
            entry["status"] = response.status
            # `truncate: 0` (no byte of the body) counts too.
            stream_faults = [f for f in STREAM_FAULTS if rule and rule.get(f) not in (None, False)]
            if stream_faults:
                entry["injected"] = True
                entry["faults"] += stream_faults
            with state.lock:
                state.log.append(entry)
            if stream_faults:
                return self.send_faulty(rule, response.status, out, data, head_only=self.command == "HEAD")
            self.reply(response.status, out, data, head_only=self.command == "HEAD")

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    state = State(args.upstream)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(state))
    server.daemon_threads = True
    print(f"listening on {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
