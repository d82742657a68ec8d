"""The catalogue: products kept in memory, as long as the process lives."""

import re
import threading

import attrs

SKU = re.compile(r"^[A-Z]{3}-\d{3,6}$")


class ValidationError(ValueError):
    """The client sent a product this catalogue refuses; the message says why."""


def _sku(instance, attribute, value):
    if not isinstance(value, str) or not SKU.match(value):
        raise ValidationError(f"sku must look like ABC-123, got {value!r}")


def _name(instance, attribute, value):
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("name is required")
    if len(value) > 100:
        raise ValidationError(f"name is longer than 100 characters ({len(value)})")


def _price(instance, attribute, value):
    # Cents as an integer: no rounding surprises in a price.
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(f"price_cents must be a whole number of cents, 0 or more, got {value!r}")


def _stock(instance, attribute, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(f"stock must be a whole number, 0 or more, got {value!r}")


@attrs.frozen
class Product:
    sku: str = attrs.field(validator=_sku)
    name: str = attrs.field(validator=_name)
    price_cents: int = attrs.field(validator=_price)
    stock: int = attrs.field(default=0, validator=_stock)

    @classmethod
    def from_json(cls, data):
        if not isinstance(data, dict):
            raise ValidationError("body must be a JSON object")
        unknown = sorted(set(data) - {f.name for f in attrs.fields(cls)})
        if unknown:
            raise ValidationError(f"unknown field {unknown[0]!r}")
        try:
            return cls(**data)
        except TypeError:
            raise ValidationError("sku, name and price_cents are required") from None

    def to_json(self):
        return attrs.asdict(self)


class Catalog:
    """Products by SKU.  The server handles requests on threads, hence the lock."""

    def __init__(self):
        self._products = {}
        self._lock = threading.Lock()

    def list(self):
        with self._lock:
            return sorted(self._products.values(), key=lambda p: p.sku)

    def get(self, sku):
        with self._lock:
            return self._products.get(sku)

    def add(self, product):
        with self._lock:
            if product.sku in self._products:
                raise ValidationError(f"sku {product.sku} is already in the catalogue")
            self._products[product.sku] = product
        return product

    def reserve(self, sku, quantity):
        """Take QUANTITY out of stock; returns the product as it is now."""
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise ValidationError(f"quantity must be a whole number, 1 or more, got {quantity!r}")
        with self._lock:
            product = self._products.get(sku)
            if product is None:
                return None
            if product.stock < quantity:
                raise ValidationError(f"only {product.stock} of {sku} in stock, {quantity} asked")
            product = attrs.evolve(product, stock=product.stock - quantity)
            self._products[sku] = product
            return product
