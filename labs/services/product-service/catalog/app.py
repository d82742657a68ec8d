"""The HTTP handler: routing, JSON in and out.  http.server only, no framework."""

import json
import re
import time
from http.server import BaseHTTPRequestHandler

from . import SERVICE, VERSION
from .products import Product, ValidationError

MAX_BODY_BYTES = 16 * 1024
PRODUCT_PATH = re.compile(r"^/products/([^/]+)$")
RESERVE_PATH = re.compile(r"^/products/([^/]+)/reserve$")


class HttpError(Exception):
    def __init__(self, status, message, headers=None):
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


def health():
    """Liveness: the process is up and serving.  Probes look at the status only."""
    return 200, {"status": "ok"}


def make_handler(catalog, started_at=None):
    started_at = time.time() if started_at is None else started_at

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

        def do_PUT(self):
            self._dispatch("PUT")

        def log_message(self, fmt, *args):
            # One line per request on stdout, where `docker logs` looks.
            print(f"{self.address_string()} {fmt % args}", flush=True)

        def _dispatch(self, method):
            try:
                status, body, headers = self._route(method)
            except HttpError as err:
                status, body, headers = err.status, {"error": str(err)}, err.headers
            except ValidationError as err:
                status, body, headers = 400, {"error": str(err)}, {}
            self._send(status, body, headers, head=method == "HEAD")

        def _send(self, status, body, headers, head=False):
            payload = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if body is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if not head:
                self.wfile.write(payload)

        def _allow(self, method, methods):
            if method not in methods:
                raise HttpError(405, f"{method} is not allowed here", {"Allow": ", ".join(methods)})

        def _read_json(self):
            if not self.headers.get("Content-Type", "").startswith("application/json"):
                raise HttpError(415, "content-type must be application/json")
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                raise HttpError(413, f"body is larger than {MAX_BODY_BYTES} bytes")
            try:
                return json.loads(self.rfile.read(length) or b"null")
            except ValueError:
                raise HttpError(400, "body is not valid JSON") from None

        def _route(self, method):
            path = self.path.split("?", 1)[0]

            if path == "/health":
                self._allow(method, ["GET", "HEAD"])
                status, body = health()
                return status, body, {}

            if path == "/info":
                self._allow(method, ["GET"])
                return 200, {
                    "service": SERVICE,
                    "version": VERSION,
                    "uptime_s": round(time.time() - started_at, 1),
                    "products": len(catalog.list()),
                }, {}

            if path == "/products":
                self._allow(method, ["GET", "POST"])
                if method == "GET":
                    return 200, {"products": [p.to_json() for p in catalog.list()]}, {}
                product = catalog.add(Product.from_json(self._read_json()))
                return 201, product.to_json(), {"Location": f"/products/{product.sku}"}

            match = RESERVE_PATH.match(path)
            if match:
                self._allow(method, ["POST"])
                data = self._read_json()
                quantity = data.get("quantity") if isinstance(data, dict) else None
                product = catalog.reserve(match[1], quantity)
                if product is None:
                    raise HttpError(404, f"no product {match[1]}")
                return 200, product.to_json(), {}

            match = PRODUCT_PATH.match(path)
            if match:
                self._allow(method, ["GET"])
                product = catalog.get(match[1])
                if product is None:
                    raise HttpError(404, f"no product {match[1]}")
                return 200, product.to_json(), {}

            raise HttpError(404, f"no route for {method} {path}")

    return Handler
