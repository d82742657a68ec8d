import json
import os
import signal
import subprocess
import sys
import threading
import unittest
import urllib.error
import urllib.request
from http.server import ThreadingHTTPServer

from catalog.app import make_handler
from catalog.products import Catalog

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def request(base, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=5) as res:
            raw = res.read()
            return res.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


class AppTest(unittest.TestCase):
    def setUp(self):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(Catalog()))
        self.server.RequestHandlerClass.log_message = lambda *args: None
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def tearDown(self):
        self.server.shutdown()
        self.server.server_close()

    def test_health(self):
        self.assertEqual(request(self.base, "GET", "/health"), (200, {"status": "ok"}))

    def test_create_list_reserve(self):
        status, body = request(self.base, "POST", "/products",
                               {"sku": "MUG-042", "name": "Mug", "price_cents": 800, "stock": 3})
        self.assertEqual(status, 201)
        self.assertEqual(body["sku"], "MUG-042")
        status, body = request(self.base, "POST", "/products/MUG-042/reserve", {"quantity": 2})
        self.assertEqual((status, body["stock"]), (200, 1))
        status, body = request(self.base, "GET", "/products")
        self.assertEqual([p["stock"] for p in body["products"]], [1])

    def test_errors(self):
        self.assertEqual(request(self.base, "GET", "/products/NOP-000")[0], 404)
        self.assertEqual(request(self.base, "POST", "/products", {"sku": "bad"})[0], 400)
        self.assertEqual(request(self.base, "DELETE", "/health")[0], 405)
        self.assertEqual(request(self.base, "GET", "/nowhere")[0], 404)


class ProcessTest(unittest.TestCase):
    def test_serves_and_stops_on_sigterm(self):
        child = subprocess.Popen([sys.executable, "main.py"], cwd=ROOT,
                                 env={**os.environ, "PORT": "0"},
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            line = child.stdout.readline()
            self.assertIn("listening on port", line)
            port = int(line.rsplit(" ", 1)[1])
            self.assertEqual(request(f"http://127.0.0.1:{port}", "GET", "/health"),
                             (200, {"status": "ok"}))
            child.send_signal(signal.SIGTERM)
            self.assertEqual(child.wait(timeout=10), 0)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
            child.stdout.close()
            child.stderr.close()

    def test_bad_port(self):
        done = subprocess.run([sys.executable, "main.py"], cwd=ROOT, env={**os.environ, "PORT": "abc"},
                              capture_output=True, text=True, timeout=10)
        self.assertEqual(done.returncode, 2)
        self.assertIn("PORT must be a number", done.stderr)


if __name__ == "__main__":
    unittest.main()
