"""The HTTP handler: routing, JSON in and out.  http.server only, no framework."""

import json
import re
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from . import SERVICE, VERSION
from .outbox import RequestError

MAX_BODY_BYTES = 16 * 1024
ITEM_PATH = re.compile(r"^/notifications/([1-9]\d{0,9})$")


def health():
    """Liveness: the process is up and serving.  Probes look at the status only."""
    return 200, {"status": "ok"}


def make_handler(outbox):
    class Handler(BaseHTTPRequestHandler):
        server_version = f"{SERVICE}/{VERSION}"
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            self._dispatch("GET")

        def do_HEAD(self):
            self._dispatch("HEAD")

        def do_POST(self):
            self._dispatch("POST")

        def do_DELETE(self):
            self._dispatch("DELETE")

        def log_message(self, fmt, *args):
            print(f"{self.address_string()} {fmt % args}", flush=True)

        def _dispatch(self, method):
            try:
                status, body = self._route(method)
            except RequestError as err:
                status, body = 400, {"error": str(err)}
            except _Refusal as err:
                status, body = err.status, {"error": str(err)}
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if method != "HEAD":
                self.wfile.write(payload)

        def _read_json(self):
            if not self.headers.get("Content-Type", "").startswith("application/json"):
                raise _Refusal(415, "content-type must be application/json")
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                raise _Refusal(413, f"body is larger than {MAX_BODY_BYTES} bytes")
            try:
                return json.loads(self.rfile.read(length) or b"null")
            except ValueError:
                raise _Refusal(400, "body is not valid JSON") from None

        def _route(self, method):
            url = urlsplit(self.path)
            path = url.path
            if path == "/health":
                _allow(method, "GET", "HEAD")
                return health()
            if path == "/notifications":
                _allow(method, "GET", "POST")
                if method == "POST":
                    return 202, outbox.queue(self._read_json())
                status = parse_qs(url.query).get("status", [None])[0]
                return 200, {"notifications": outbox.list(status)}
            if path == "/notifications/send":
                _allow(method, "POST")
                return 200, {"sent": outbox.send_pending()}
            match = ITEM_PATH.match(path)
            if match:
                _allow(method, "GET")
                item = outbox.get(int(match[1]))
                if item is None:
                    raise _Refusal(404, f"no notification {match[1]}")
                return 200, item
            raise _Refusal(404, f"no route for {method} {path}")

    return Handler


class _Refusal(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def _allow(method, *methods):
    if method not in methods:
        raise _Refusal(405, f"{method} is not allowed here")
