"""A real HTTP server on 127.0.0.1 for the download tests.

Each path has a behaviour that a test switches:

    normal        200 with Content-Length; a ``Range: bytes=N-`` request gets
                  206 with Content-Range (416 past the end)
    drop          the first ``drops`` requests send their headers (the full
                  Content-Length) and ``after`` bytes, then close the connection;
                  later requests are served normally, Range included
    status        answer with the HTTP error ``status`` (404, 500, ...)
    stall         accept the request and never answer
    stall_body    send the headers and ``after`` bytes, then stop sending
    ignore_range  always 200 with the whole file, whatever the Range header says
    wrong_range   answer a Range request with 206 but from byte 0

Every request is recorded (path and Range header), so tests can assert what
the client asked for. Stalled handlers wait on an event that ``close()`` sets
and never longer than ``STALL_LIMIT``, so teardown cannot hang.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STALL_LIMIT = 60.0  # seconds a stalled handler waits at most, teardown or not


@dataclass
class Route:
    body: bytes
    mode: str = "normal"
    status: int = 200
    after: int = 0  # bytes sent before a drop or a stall
    drops: int = 1  # how many requests the "drop" mode cuts short
    hits: int = 0


@dataclass(frozen=True)
class Seen:
    path: str
    range: str | None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one request per connection, as urllib does anyway
    server: _Server

    def log_message(self, format, *args):  # keep test output clean
        pass

    def do_GET(self):
        owner = self.server.owner
        path = self.path.split("?", 1)[0]
        with owner.lock:
            owner.requests.append(Seen(path, self.headers.get("Range")))
            route = owner.routes.get(path)
            if route is not None:
                route.hits += 1
                hit = route.hits
        if route is None:
            self.send_error(404, "Not Found")
            return
        if route.mode == "status":
            self.send_error(route.status)
            return
        if route.mode == "stall":
            owner.stop.wait(STALL_LIMIT)
            self.close_connection = True
            return
        body = route.body
        wanted = self.headers.get("Range")
        start = 0
        if wanted and route.mode != "ignore_range":
            match = re.fullmatch(r"bytes=(\d+)-", wanted.strip())
            if match is None:
                self.send_error(400, "only 'bytes=N-' ranges here")
                return
            start = int(match.group(1))
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if route.mode == "wrong_range":
                start = 0
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        payload = body[start:]
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        if (route.mode == "drop" and hit <= route.drops) or route.mode == "stall_body":
            self.wfile.write(payload[: route.after])
            self.wfile.flush()
            if route.mode == "stall_body":
                owner.stop.wait(STALL_LIMIT)
            self.close_connection = True
            return  # the server closes the socket: the client sees a short body
        self.wfile.write(payload)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: ArchiveServer

    def handle_error(self, request, client_address):
        # A client that gave up (timeout) makes writes fail: expected here.
        pass


class ArchiveServer:
    def __init__(self):
        self.routes: dict[str, Route] = {}
        self.requests: list[Seen] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def serve(self, path: str, body: bytes = b"", mode: str = "normal", **options) -> str:
        """Serve ``body`` at ``path`` with the given behaviour; return its address."""
        with self.lock:
            self.routes[path] = Route(body=body, mode=mode, **options)
        return self.url(path)

    def seen(self, path: str | None = None) -> list[Seen]:
        with self.lock:
            return [r for r in self.requests if path is None or r.path == path]

    def close(self) -> None:
        self.stop.set()  # wakes stalled handlers
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=10)
