"""notification-service: renders and queues notifications over HTTP (standard library only)."""

SERVICE = "notification-service"
VERSION = "1.0.0"
