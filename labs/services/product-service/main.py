"""product-service's entry point: `python main.py` (or CMD ["main.py"] in distroless).

  PORT  TCP port to listen on (default 8000; 0 picks a free one)

In a container this is PID 1, which gets no default action for SIGTERM: the
handler below turns it into a clean stop.
"""

import os
import signal
import sys
import threading
from http.server import ThreadingHTTPServer

from catalog import SERVICE
from catalog.app import make_handler
from catalog.products import Catalog

DEFAULT_PORT = 8000


def parse_port(value):
    if value is None or value == "":
        return DEFAULT_PORT
    if not value.isdigit() or int(value) > 65535:
        raise ValueError(f'PORT must be a number between 0 and 65535, got "{value}"')
    return int(value)


def main():
    try:
        port = parse_port(os.environ.get("PORT"))
    except ValueError as err:
        print(f"{SERVICE}: {err}", file=sys.stderr)
        return 2
    try:
        server = ThreadingHTTPServer(("", port), make_handler(Catalog()))
    except OSError as err:
        print(f"{SERVICE}: cannot listen on port {port}: {err.strerror}", file=sys.stderr)
        return 1
    server.daemon_threads = True

    def stop(signum, frame):
        print(f"{signal.Signals(signum).name} received: closing the server", flush=True)
        # shutdown() waits for serve_forever to return: not from its own thread.
        threading.Thread(target=server.shutdown).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"{SERVICE} listening on port {server.server_address[1]}", flush=True)
    server.serve_forever()
    server.server_close()
    print(f"{SERVICE} stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
