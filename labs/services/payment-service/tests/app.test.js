'use strict';

const { it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { createApp } = require('../src/app');
const { IntentStore } = require('../src/intents');

let server;
let base;

before(async () => {
  server = http.createServer(createApp({ store: new IntentStore() }));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${server.address().port}`;
});

after(() => server.close());

async function post(path, body) {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return [res.status, await res.json()];
}

it('answers /health', async () => {
  const res = await fetch(`${base}/health`);
  assert.deepEqual([res.status, await res.json()], [200, { status: 'ok' }]);
});

it('creates, confirms and refunds over HTTP', async () => {
  const [status, created] = await post('/payments', { orderId: 'o-7', currency: 'USD', amount: '19.99' });
  assert.equal(status, 201);
  assert.equal(created.status, 'requires_confirmation');
  assert.equal((await post(`/payments/${created.id}/confirm`, { paymentToken: 'tok_visa' }))[1].status, 'succeeded');
  assert.equal((await post(`/payments/${created.id}/refund`))[1].status, 'refunded');
  const res = await fetch(`${base}/payments/${created.id}`);
  assert.equal((await res.json()).refunded, '19.99');
});

it('answers 409, 404 and 405 where the request does not fit', async () => {
  const [, created] = await post('/payments', { orderId: 'o-8', currency: 'EUR', amount: '1.00' });
  assert.equal((await post(`/payments/${created.id}/refund`))[0], 409);
  assert.equal((await post('/payments/pi_404/cancel'))[0], 404);
  assert.equal((await fetch(`${base}/payments`)).status, 405);
  assert.equal((await fetch(`${base}/nowhere`)).status, 404);
});
