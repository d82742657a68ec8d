"""Message templates, filled with string.Template: $name is a field of the request's data."""

import string

TEMPLATES = {
    "order-confirmed": ("Order $order_id confirmed",
                        "Hello $name, your order $order_id is confirmed."),
    "payment-failed": ("Payment for order $order_id failed",
                       "Hello $name, the payment for order $order_id did not go through: $reason."),
    "welcome": ("Welcome, $name", "Hello $name, your account is ready."),
}


class TemplateError(ValueError):
    """A template that does not exist, or data that does not fill it."""


def render(template, data):
    """Return (subject, body) of TEMPLATE filled with DATA (a dict of strings)."""
    if template not in TEMPLATES:
        known = ", ".join(sorted(TEMPLATES))
        raise TemplateError(f"no template {template!r} (known: {known})")
    if not isinstance(data, dict):
        raise TemplateError("data must be a JSON object")
    subject, body = TEMPLATES[template]
    values = {str(k): str(v) for k, v in data.items()}
    try:
        return (string.Template(subject).substitute(values),
                string.Template(body).substitute(values))
    except KeyError as err:
        raise TemplateError(f"template {template!r} needs data field {err.args[0]!r}") from None
