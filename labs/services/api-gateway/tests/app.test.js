'use strict';

const { it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { createApp } = require('../src/app');
const { loadConfig } = require('../src/config');
const { Router } = require('../src/routes');

function listen(handler) {
  const server = http.createServer(handler);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

let upstream;
let gateway;
let base;
const seen = [];

before(async () => {
  // A stand-in for order-service that echoes what it was asked.
  upstream = await listen((req, res) => {
    seen.push({ method: req.method, url: req.url, forwarded: req.headers['x-forwarded-for'] });
    res.writeHead(201, { 'content-type': 'application/json', 'x-upstream': 'orders' });
    res.end(JSON.stringify({ got: req.url }));
  });
  const config = loadConfig({
    ORDER_SERVICE_URL: `http://127.0.0.1:${upstream.address().port}`,
    // Nothing listens on port 1: the user service is "down".
    USER_SERVICE_URL: 'http://127.0.0.1:1',
    UPSTREAM_TIMEOUT_MS: '2000',
  });
  gateway = await listen(createApp({ router: new Router(), config }));
  base = `http://127.0.0.1:${gateway.address().port}`;
});

after(() => {
  gateway.close();
  upstream.close();
});

it('answers /health itself, whatever the services do', async () => {
  const res = await fetch(`${base}/health`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: 'ok' });
});

it('passes a request on and the answer back', async () => {
  const res = await fetch(`${base}/api/orders/7?verbose=1`, { method: 'POST' });
  assert.equal(res.status, 201);
  assert.equal(res.headers.get('x-upstream'), 'orders');
  assert.deepEqual(await res.json(), { got: '/orders/7?verbose=1' });
  assert.equal(seen.at(-1).method, 'POST');
  assert.equal(seen.at(-1).forwarded, '127.0.0.1');
});

it('says 502 and names the service that did not answer', async () => {
  const res = await fetch(`${base}/api/users`);
  assert.equal(res.status, 502);
  assert.match((await res.json()).error, /^user-service did not answer: /);
});

it('says 404 for a path outside the table, and lists the table', async () => {
  assert.equal((await fetch(`${base}/nowhere`)).status, 404);
  const res = await fetch(`${base}/routes`);
  assert.ok((await res.json()).routes.length > 5);
});

it('refuses a configuration it cannot use, by name', () => {
  assert.throws(() => loadConfig({ PORT: 'x' }), /PORT must be a number/);
  assert.throws(() => loadConfig({ PAYMENT_SERVICE_URL: 'ftp://x' }), /PAYMENT_SERVICE_URL must be an http:\/\/ URL/);
});
