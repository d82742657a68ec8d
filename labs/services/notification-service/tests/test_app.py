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

from notify.app import make_handler
from notify.outbox import Outbox

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
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(Outbox()))
        self.server.RequestHandlerClass.log_message = lambda *args: None
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def tearDown(self):
        self.server.shutdown()
        self.server.server_close()

    def test_health(self):
        self.assertEqual(request(self.base, "GET", "/health"), (200, {"status": "ok"}))

    def test_queue_list_send(self):
        status, body = request(self.base, "POST", "/notifications",
                               {"channel": "sms", "to": "+33612345678", "template": "welcome",
                                "data": {"name": "Lin"}})
        self.assertEqual((status, body["status"], body["body"]), (202, "queued", "Hello Lin, your account is ready."))
        self.assertEqual(request(self.base, "POST", "/notifications/send"), (200, {"sent": 1}))
        status, body = request(self.base, "GET", "/notifications?status=sent")
        self.assertEqual([n["to"] for n in body["notifications"]], ["+33612345678"])

    def test_errors(self):
        self.assertEqual(request(self.base, "GET", "/notifications/9")[0], 404)
        status, body = request(self.base, "POST", "/notifications", {"channel": "fax"})
        self.assertEqual(status, 400)
        self.assertIn("channel must be one of", body["error"])
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
