'use strict';

const { it } = require('node:test');
const assert = require('node:assert/strict');
const { OrderBook, OrderError } = require('../src/orders');

function book() {
  let n = 0;
  return new OrderBook({ newId: () => `order-${++n}`, now: () => new Date('2026-01-02T03:04:05Z') });
}

const lamp = { sku: 'LMP-100', quantity: 2, unitPriceCents: 2999 };
const mug = { sku: 'MUG-042', quantity: 1, unitPriceCents: 800 };

it('places an order with its total', () => {
  const order = book().place({ customerId: 'c1', lines: [lamp, mug] });
  assert.deepEqual(order, {
    id: 'order-1',
    customerId: 'c1',
    lines: [lamp, mug],
    totalCents: 6798,
    status: 'placed',
    placedAt: '2026-01-02T03:04:05.000Z',
  });
});

it('gives real orders uuid ids', () => {
  const order = new OrderBook().place({ customerId: 'c1', lines: [lamp] });
  assert.match(order.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});

it('refuses a bad order, saying which line and why', () => {
  const b = book();
  const cases = [
    [[], /body must be a JSON object/],
    [{ lines: [lamp] }, /customerId is required/],
    [{ customerId: 'c1', lines: [] }, /lines must be a non-empty array/],
    [{ customerId: 'c1', lines: [lamp, { ...mug, sku: 'mug' }] }, /line 2: sku must look like ABC-123/],
    [{ customerId: 'c1', lines: [{ ...lamp, quantity: 0 }] }, /line 1: quantity must be a whole number/],
    [{ customerId: 'c1', lines: [{ ...lamp, unitPriceCents: 1.5 }] }, /line 1: unitPriceCents/],
  ];
  for (const [input, message] of cases) {
    assert.throws(() => b.place(input), (err) => err instanceof OrderError && err.statusCode === 400 && message.test(err.message));
  }
  assert.equal(b.list().length, 0);
});

it('cancels a placed order, but not a paid one', () => {
  const b = book();
  const a = b.place({ customerId: 'c1', lines: [lamp] });
  const c = b.place({ customerId: 'c2', lines: [mug] });
  assert.equal(b.cancel(a.id).status, 'cancelled');
  assert.equal(b.markPaid(c.id).status, 'paid');
  assert.throws(() => b.cancel(c.id), { statusCode: 409, message: 'order order-2 is paid; it cannot become cancelled' });
  assert.throws(() => b.cancel('order-9'), { statusCode: 404 });
  assert.deepEqual(b.list({ status: 'paid' }).map((o) => o.id), ['order-2']);
  assert.deepEqual(b.list({ customerId: 'c1' }).map((o) => o.id), ['order-1']);
});
