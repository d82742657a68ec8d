'use strict';

const { it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { createApp } = require('../src/app');
const { OrderBook } = require('../src/orders');

let server;
let base;

before(async () => {
  server = http.createServer(createApp({ book: new OrderBook() }));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${server.address().port}`;
});

after(() => server.close());

function post(path, body) {
  return fetch(`${base}${path}`, {
    method: 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

it('answers /health', async () => {
  const res = await fetch(`${base}/health`);
  assert.deepEqual([res.status, await res.json()], [200, { status: 'ok' }]);
});

it('places, reads, pays and refuses to cancel a paid order', async () => {
  let res = await post('/orders', { customerId: 'c9', lines: [{ sku: 'CUP-001', quantity: 3, unitPriceCents: 450 }] });
  assert.equal(res.status, 201);
  const order = await res.json();
  assert.equal(res.headers.get('location'), `/orders/${order.id}`);
  assert.equal(order.totalCents, 1350);
  res = await fetch(`${base}/orders/${order.id}`);
  assert.equal((await res.json()).status, 'placed');
  res = await post(`/orders/${order.id}/pay`);
  assert.equal((await res.json()).status, 'paid');
  res = await post(`/orders/${order.id}/cancel`);
  assert.equal(res.status, 409);
  res = await fetch(`${base}/orders?customerId=c9`);
  assert.equal((await res.json()).orders.length, 1);
});

it('says what is wrong with a request', async () => {
  assert.equal((await post('/orders', { customerId: 'c1', lines: [] })).status, 400);
  assert.equal((await fetch(`${base}/orders`, { method: 'POST', body: '{}' })).status, 415);
  assert.equal((await fetch(`${base}/orders/00000000-0000-4000-8000-000000000000`)).status, 404);
  assert.equal((await fetch(`${base}/health`, { method: 'DELETE' })).status, 405);
});
