"""The live dashboard: a small read-only HTTP server over a ``RunSet``.

Built on the standard library's ``ThreadingHTTPServer``: the page polls one JSON endpoint once a
second, which needs neither websockets nor an async framework, and a server with four fixed routes
has less to go wrong (and nothing to install) than one built on a framework.

Safe by default:

* it binds to 127.0.0.1 unless told otherwise;
* it answers GET and HEAD only, on four fixed routes (``/``, ``/plotly.min.js``, ``/api/runs``,
  ``/healthz``); run directories are never served as files, so no path (``..``, encoded or not)
  reaches the file system;
* it checks the Host header against the address it serves, so a web page elsewhere cannot read it
  through a DNS name rebound to 127.0.0.1;
* it reads journals as data (JSON lines) and never imports or runs anything from a run directory.
"""

from __future__ import annotations

import ipaddress
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ashasim.dashboard.page import embed_json, plotly_bundle, render_page
from ashasim.dashboard.runs import RunSet

__all__ = ["DashboardServer", "make_server"]

LOOPBACK_NAMES = {"localhost", "127.0.0.1", "[::1]", "::1"}


class DashboardServer(ThreadingHTTPServer):
    """Serves the page for *runs*; ``server_address`` says where (port 0 picks a free one)."""

    daemon_threads = True

    def __init__(self, runs: RunSet, host: str = "127.0.0.1", port: int = 8050) -> None:
        self.runs = runs
        self.page = render_page(None, title=", ".join(r.name for r in runs.runs)).encode()
        self.bundle = plotly_bundle()
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        host, port = str(self.server_address[0]), int(self.server_address[1])
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}/"

    def allowed_host(self, header: str | None) -> bool:
        """Whether a request's Host header names this server (any name, when bound to a
        non-loopback address on purpose: there the user chose to be reachable by name)."""
        if header is None:
            return False
        if not _is_loopback(str(self.server_address[0])):
            return True
        name = header.rsplit(":", 1)[0] if not header.endswith("]") else header
        return name.lower() in LOOPBACK_NAMES


class _Handler(BaseHTTPRequestHandler):
    server: DashboardServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def _answer(self, *, send_body: bool) -> None:
        if not self.server.allowed_host(self.headers.get("Host")):
            self._send(HTTPStatus.FORBIDDEN, b"unknown Host\n", "text/plain", send_body)
            return
        url = urlsplit(self.path)
        if url.path == "/":
            self._send(HTTPStatus.OK, self.server.page, "text/html; charset=utf-8", send_body)
        elif url.path == "/plotly.min.js":
            self._send(HTTPStatus.OK, self.server.bundle, "text/javascript", send_body)
        elif url.path == "/api/runs":
            self._send(HTTPStatus.OK, self._runs(url.query), "application/json", send_body)
        elif url.path == "/healthz":
            self._send(HTTPStatus.OK, b"ok\n", "text/plain", send_body)
        else:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain", send_body)

    def _runs(self, query: str) -> bytes:
        views = self.server.runs.views()
        versions = ",".join(str(view["version"]) for view in views)
        if parse_qs(query).get("versions") == [versions]:
            return b'{"unchanged":true}'
        return embed_json({"runs": views}).encode()

    def _send(self, status: HTTPStatus, body: bytes, kind: str, send_body: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", _POLICY)
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass  # one line per poll would drown the terminal


# The page's own inline script and style, its data and Plotly: nothing from elsewhere.
_POLICY = (
    "default-src 'none'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self' data:"
)


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host.lower() == "localhost"


def make_server(runs: RunSet, host: str = "127.0.0.1", port: int = 8050) -> DashboardServer:
    return DashboardServer(runs, host, port)
