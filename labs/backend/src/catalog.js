'use strict';

// The product catalogue, kept in memory: the lab is about the image, not the
// database.  Prices are in cents so that sums stay exact.

const SEED = [
  { id: 1, sku: 'PE-MUG-01', name: 'Enamel mug', priceCents: 1200, stock: 40 },
  { id: 2, sku: 'PE-TEE-02', name: 'Logo T-shirt', priceCents: 1900, stock: 25 },
  { id: 3, sku: 'PE-BAG-03', name: 'Canvas tote bag', priceCents: 1500, stock: 0 },
  { id: 4, sku: 'PE-CAP-04', name: 'Baseball cap', priceCents: 1700, stock: 12 },
];

class Catalog {
  constructor(products = SEED) {
    this.products = products.map((p) => ({ ...p }));
  }

  list({ inStock = false } = {}) {
    return this.products.filter((p) => !inStock || p.stock > 0);
  }

  get(id) {
    return this.products.find((p) => p.id === id) || null;
  }

  // Takes `quantity` items out of stock; null when the product is unknown,
  // an error string when the order cannot be served.
  reserve(id, quantity) {
    const product = this.get(id);
    if (!product) return null;
    if (!Number.isInteger(quantity) || quantity < 1) return 'quantity must be a whole number above 0';
    if (quantity > product.stock) return `only ${product.stock} in stock`;
    product.stock -= quantity;
    return product;
  }
}

module.exports = { Catalog };
