"""product-service: a small product catalogue over HTTP (standard library plus attrs)."""

SERVICE = "product-service"
VERSION = "1.0.0"
