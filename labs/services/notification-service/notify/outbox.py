"""The outbox: notifications waiting to be sent, in memory.

Nothing is delivered for real in the lab: a notification is queued, and
`send_pending` marks it sent (or failed, for an address that cannot be one),
which is where a mail or SMS gateway would be called.
"""

import re
import threading
import time

from .templates import TemplateError, render

EMAIL = re.compile(r"^[^\s@]+@[^\s@]+\.[^\s@]+$")
PHONE = re.compile(r"^\+[1-9]\d{6,14}$")
CHANNELS = {"email": EMAIL, "sms": PHONE}


class RequestError(ValueError):
    """A notification request this service refuses; the message says why."""


class Outbox:
    def __init__(self, clock=time.time):
        self._items = {}
        self._next_id = 1
        self._lock = threading.Lock()
        self._clock = clock

    def queue(self, request):
        if not isinstance(request, dict):
            raise RequestError("body must be a JSON object")
        channel = request.get("channel")
        if channel not in CHANNELS:
            raise RequestError(f"channel must be one of {', '.join(sorted(CHANNELS))}, got {channel!r}")
        to = request.get("to")
        if not isinstance(to, str) or not CHANNELS[channel].match(to):
            raise RequestError(f"to is not a valid {channel} address: {to!r}")
        try:
            subject, body = render(request.get("template"), request.get("data", {}))
        except TemplateError as err:
            raise RequestError(str(err)) from None
        with self._lock:
            item = {"id": self._next_id, "channel": channel, "to": to, "subject": subject,
                    "body": body, "status": "queued", "queued_at": round(self._clock(), 3)}
            self._items[item["id"]] = item
            self._next_id += 1
            return dict(item)

    def get(self, item_id):
        with self._lock:
            item = self._items.get(item_id)
            return dict(item) if item else None

    def list(self, status=None):
        with self._lock:
            return [dict(i) for i in self._items.values() if status is None or i["status"] == status]

    def send_pending(self, deliver=lambda item: True):
        """Hand every queued notification to DELIVER; returns how many were sent."""
        sent = 0
        with self._lock:
            for item in self._items.values():
                if item["status"] != "queued":
                    continue
                item["status"] = "sent" if deliver(dict(item)) else "failed"
                sent += item["status"] == "sent"
        return sent
