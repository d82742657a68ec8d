'use strict';

const { it } = require('node:test');
const assert = require('node:assert/strict');
const { IntentStore, PaymentError, parseAmount, formatCents } = require('../src/intents');

function intent(store, amount = '25.00') {
  return store.create({ orderId: 'o-1', currency: 'EUR', amount });
}

it('keeps money in cents, in and out', () => {
  assert.equal(parseAmount('12.5', 'amount'), 1250);
  assert.equal(parseAmount('0.10', 'amount'), 10);
  assert.equal(formatCents(1250), '12.50');
  for (const bad of ['12.345', '-1', '1e3', 12.5, '0', '0.00']) {
    assert.throws(() => parseAmount(bad, 'amount'), PaymentError, String(bad));
  }
});

it('walks the happy path: confirm, then refund in two parts', () => {
  const store = new IntentStore();
  const { id } = intent(store);
  assert.equal(store.confirm(id, { paymentToken: 'tok_visa' }).status, 'succeeded');
  const part = store.refund(id, { amount: '10.00' });
  assert.deepEqual([part.status, part.refunded], ['partially_refunded', '10.00']);
  const rest = store.refund(id);
  assert.deepEqual([rest.status, rest.refunded], ['refunded', '25.00']);
  assert.deepEqual(rest.history, ['requires_confirmation', 'succeeded', 'partially_refunded', 'refunded']);
});

it('refuses every move the state machine does not have', () => {
  const store = new IntentStore();
  const a = intent(store).id;
  assert.throws(() => store.refund(a), { statusCode: 409, message: `cannot refund payment intent ${a}: it is requires_confirmation` });
  store.cancel(a);
  assert.throws(() => store.confirm(a, { paymentToken: 't' }), { statusCode: 409, message: /it is canceled/ });

  const b = intent(store).id;
  assert.equal(store.confirm(b, { paymentToken: 'tok_declined' }).status, 'failed');
  assert.throws(() => store.refund(b), { statusCode: 409, message: /it is failed/ });

  const c = intent(store, '5.00').id;
  assert.throws(() => store.confirm(c, {}), { statusCode: 400, message: /paymentToken is required/ });
  store.confirm(c, { paymentToken: 'tok_visa' });
  assert.throws(() => store.refund(c, { amount: '5.01' }), { statusCode: 409, message: 'cannot refund 5.01: only 5.00 EUR is left to refund' });
  assert.throws(() => store.cancel('pi_99'), { statusCode: 404 });
});

it('refuses a bad intent, by field', () => {
  const store = new IntentStore();
  assert.throws(() => store.create({ orderId: 'o', currency: 'XXX', amount: '1' }), /currency must be one of EUR, USD, GBP/);
  assert.throws(() => store.create({ currency: 'EUR', amount: '1' }), /orderId is required/);
  assert.throws(() => store.create({ orderId: 'o', currency: 'EUR', amount: 3 }), /amount must be a decimal string/);
});

it('hands out copies', () => {
  const store = new IntentStore();
  const view = intent(store);
  view.history.push('forged');
  assert.deepEqual(store.get(view.id).history, ['requires_confirmation']);
});
