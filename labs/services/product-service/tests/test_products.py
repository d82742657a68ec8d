import unittest

from catalog.products import Catalog, Product, ValidationError


def lamp(**changes):
    data = {"sku": "LMP-100", "name": "Desk lamp", "price_cents": 2999, "stock": 5}
    data.update(changes)
    return Product.from_json(data)


class ProductTest(unittest.TestCase):
    def test_valid_product_round_trips(self):
        self.assertEqual(lamp().to_json(),
                         {"sku": "LMP-100", "name": "Desk lamp", "price_cents": 2999, "stock": 5})

    def test_stock_defaults_to_zero(self):
        p = Product.from_json({"sku": "CUP-001", "name": "Cup", "price_cents": 450})
        self.assertEqual(p.stock, 0)

    def test_refusals_say_why(self):
        cases = [
            ({"sku": "lamp"}, "sku must look like ABC-123"),
            ({"name": "  "}, "name is required"),
            ({"name": "x" * 101}, r"longer than 100 characters \(101\)"),
            ({"price_cents": 29.99}, "price_cents must be a whole number"),
            ({"price_cents": True}, "price_cents must be a whole number"),
            ({"stock": -1}, "stock must be a whole number"),
            ({"colour": "red"}, "unknown field 'colour'"),
        ]
        for changes, message in cases:
            with self.subTest(changes=changes):
                with self.assertRaisesRegex(ValidationError, message):
                    lamp(**changes)

    def test_missing_fields_and_non_objects(self):
        with self.assertRaisesRegex(ValidationError, "required"):
            Product.from_json({"sku": "LMP-100"})
        with self.assertRaisesRegex(ValidationError, "JSON object"):
            Product.from_json(["LMP-100"])


class CatalogTest(unittest.TestCase):
    def setUp(self):
        self.catalog = Catalog()
        self.catalog.add(lamp())

    def test_duplicate_sku_is_refused(self):
        with self.assertRaisesRegex(ValidationError, "already in the catalogue"):
            self.catalog.add(lamp(name="Another lamp"))

    def test_reserve_takes_stock(self):
        self.assertEqual(self.catalog.reserve("LMP-100", 2).stock, 3)
        self.assertEqual(self.catalog.get("LMP-100").stock, 3)

    def test_reserve_more_than_stock(self):
        with self.assertRaisesRegex(ValidationError, "only 5 of LMP-100 in stock, 6 asked"):
            self.catalog.reserve("LMP-100", 6)
        self.assertEqual(self.catalog.get("LMP-100").stock, 5)

    def test_reserve_unknown_and_bad_quantity(self):
        self.assertIsNone(self.catalog.reserve("CUP-001", 1))
        with self.assertRaisesRegex(ValidationError, "quantity must be"):
            self.catalog.reserve("LMP-100", 0)


if __name__ == "__main__":
    unittest.main()
