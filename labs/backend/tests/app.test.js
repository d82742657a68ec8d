'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { listen } = require('./helpers');

test('GET /health answers 200 {"status":"ok"}', async () => {
  const app = await listen();
  try {
    const res = await fetch(`${app.url}/health`);
    assert.strictEqual(res.status, 200);
    assert.match(res.headers.get('content-type'), /application\/json/);
    assert.deepStrictEqual(await res.json(), { status: 'ok' });
  } finally {
    await app.close();
  }
});

test('the catalogue lists, filters and finds products', async () => {
  const app = await listen();
  try {
    const all = await (await fetch(`${app.url}/api/products`)).json();
    assert.strictEqual(all.count, 4);
    const inStock = await (await fetch(`${app.url}/api/products?inStock=true`)).json();
    assert.strictEqual(inStock.count, 3);
    const one = await fetch(`${app.url}/api/products/2`);
    assert.strictEqual(one.status, 200);
    assert.strictEqual((await one.json()).sku, 'PE-TEE-02');
    assert.strictEqual((await fetch(`${app.url}/api/products/99`)).status, 404);
    assert.strictEqual((await fetch(`${app.url}/api/products/abc`)).status, 404);
  } finally {
    await app.close();
  }
});

test('an order takes items out of stock, and never more than there are', async () => {
  const app = await listen();
  const order = (body) =>
    fetch(`${app.url}/api/orders`, { method: 'POST', body: JSON.stringify(body) });
  try {
    const ok = await order({ productId: 4, quantity: 2 });
    assert.strictEqual(ok.status, 201);
    assert.strictEqual((await ok.json()).stockLeft, 10);
    assert.strictEqual((await order({ productId: 3, quantity: 1 })).status, 409);
    assert.strictEqual((await order({ productId: 4, quantity: 0 })).status, 409);
    assert.strictEqual((await order({ productId: 42, quantity: 1 })).status, 404);
    const bad = await fetch(`${app.url}/api/orders`, { method: 'POST', body: '{not json' });
    assert.strictEqual(bad.status, 400);
  } finally {
    await app.close();
  }
});

test('unknown routes are 404, known paths with another method 405', async () => {
  const app = await listen();
  try {
    assert.strictEqual((await fetch(`${app.url}/nope`)).status, 404);
    const res = await fetch(`${app.url}/health`, { method: 'DELETE' });
    assert.strictEqual(res.status, 405);
    assert.strictEqual(res.headers.get('allow'), 'GET');
  } finally {
    await app.close();
  }
});
