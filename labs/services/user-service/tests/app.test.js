'use strict';

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startApp } = require('./helpers');

describe('HTTP handlers', () => {
  let app;
  before(async () => {
    app = await startApp({ databaseUrl: 'postgres://app:secret@db:5432/users' });
  });
  after(() => app.close());

  const get = (path) => fetch(app.baseUrl + path);
  const post = (path, body, type = 'application/json') =>
    fetch(app.baseUrl + path, {
      method: 'POST',
      headers: { 'content-type': type },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('GET /health answers 200 {"status":"ok"} as JSON', async () => {
    const res = await get('/health');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^application\/json/);
    assert.deepEqual(await res.json(), { status: 'ok' });
  });

  it('GET /info reports the service and hides the database password', async () => {
    const res = await get('/info');
    assert.equal(res.status, 200);
    const info = await res.json();
    assert.equal(info.service, 'user-service');
    assert.equal(info.database, 'postgres://app:***@db:5432/users');
    assert.equal(typeof info.uptime, 'string');
  });

  it('creates, lists, reads and deletes users', async () => {
    const created = await post('/users', { name: 'Ada Lovelace', email: 'Ada@Example.org' });
    assert.equal(created.status, 201);
    const ada = await created.json();
    assert.equal(ada.email, 'ada@example.org');
    assert.equal(created.headers.get('location'), `/users/${ada.id}`);

    const list = await (await get('/users')).json();
    assert.deepEqual(list.users.map((u) => u.id), [ada.id]);

    const one = await get(`/users/${ada.id}`);
    assert.equal(one.status, 200);
    assert.deepEqual(await one.json(), ada);

    const del = await fetch(`${app.baseUrl}/users/${ada.id}`, { method: 'DELETE' });
    assert.equal(del.status, 204);
    assert.equal((await get(`/users/${ada.id}`)).status, 404);
  });

  it('rejects invalid users with 400 and a reason', async () => {
    const res = await post('/users', { name: 'Bob', email: 'not-an-address' });
    assert.equal(res.status, 400);
    assert.match((await res.json()).error, /email/);
  });

  it('rejects a duplicate email', async () => {
    assert.equal((await post('/users', { name: 'Cy', email: 'cy@example.org' })).status, 201);
    const res = await post('/users', { name: 'Cy again', email: 'CY@example.org' });
    assert.equal(res.status, 400);
    assert.match((await res.json()).error, /already registered/);
  });

  it('rejects bodies that are not JSON', async () => {
    assert.equal((await post('/users', '{"name":', 'application/json')).status, 400);
    assert.equal((await post('/users', 'name=x', 'text/plain')).status, 415);
  });

  it('answers 404 for unknown routes and ids, 405 for wrong methods', async () => {
    assert.equal((await get('/nope')).status, 404);
    assert.equal((await get('/users/abc')).status, 404);
    assert.equal((await get('/users/999')).status, 404);
    const res = await fetch(`${app.baseUrl}/health`, { method: 'POST' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'GET, HEAD');
  });
});
