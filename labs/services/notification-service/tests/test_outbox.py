import unittest

from notify.outbox import Outbox, RequestError
from notify.templates import TemplateError, render


def order_email(**changes):
    request = {"channel": "email", "to": "ada@example.org", "template": "order-confirmed",
               "data": {"name": "Ada", "order_id": 7}}
    request.update(changes)
    return request


class TemplateTest(unittest.TestCase):
    def test_render(self):
        self.assertEqual(render("order-confirmed", {"name": "Ada", "order_id": 7}),
                         ("Order 7 confirmed", "Hello Ada, your order 7 is confirmed."))

    def test_unknown_template_and_missing_field(self):
        with self.assertRaisesRegex(TemplateError, "no template 'nope'"):
            render("nope", {})
        with self.assertRaisesRegex(TemplateError, "needs data field 'order_id'"):
            render("order-confirmed", {"name": "Ada"})


class OutboxTest(unittest.TestCase):
    def setUp(self):
        self.outbox = Outbox(clock=lambda: 1000.0)

    def test_queue_then_send(self):
        item = self.outbox.queue(order_email())
        self.assertEqual((item["id"], item["status"], item["subject"]), (1, "queued", "Order 7 confirmed"))
        self.assertEqual(self.outbox.send_pending(), 1)
        self.assertEqual(self.outbox.get(1)["status"], "sent")
        self.assertEqual(self.outbox.send_pending(), 0)

    def test_failed_delivery(self):
        self.outbox.queue(order_email())
        self.assertEqual(self.outbox.send_pending(deliver=lambda item: False), 0)
        self.assertEqual([i["status"] for i in self.outbox.list()], ["failed"])
        self.assertEqual(self.outbox.list("queued"), [])

    def test_refusals_say_why(self):
        cases = [
            (order_email(channel="pigeon"), "channel must be one of email, sms"),
            (order_email(to="not-an-address"), "not a valid email address"),
            (order_email(channel="sms", to="0612"), "not a valid sms address"),
            (order_email(template="nope"), "no template 'nope'"),
            (order_email(data=[]), "data must be a JSON object"),
        ]
        for request, message in cases:
            with self.subTest(request=request):
                with self.assertRaisesRegex(RequestError, message):
                    self.outbox.queue(request)
        self.assertEqual(self.outbox.list(), [])

    def test_returned_items_are_copies(self):
        item = self.outbox.queue(order_email())
        item["status"] = "sent"
        self.assertEqual(self.outbox.get(1)["status"], "queued")


if __name__ == "__main__":
    unittest.main()
