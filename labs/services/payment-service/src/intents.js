'use strict';

// Payment intents, in memory.  An intent moves through a fixed set of
// states; every action names the states it may start from, so a request
// out of order (refund before payment, confirm twice) is refused, not
// half-done.
//
//   requires_confirmation --confirm--> succeeded | failed
//   requires_confirmation --cancel---> canceled
//   succeeded / partially_refunded --refund--> partially_refunded | refunded
//
// Amounts arrive as decimal strings ("12.50") and are kept in cents, so no
// float ever holds money; currency.js does the parsing and arithmetic.

const currency = require('currency.js');

const CURRENCIES = new Set(['EUR', 'USD', 'GBP']);
const AMOUNT = /^\d{1,7}(\.\d{1,2})?$/;
// The lab has no card network: this test token is always declined.
const DECLINED_TOKEN = 'tok_declined';

class PaymentError extends Error {
  constructor(statusCode, message) {
    super(message);
    this.statusCode = statusCode;
  }
}

function parseAmount(text, what) {
  if (typeof text !== 'string' || !AMOUNT.test(text)) {
    throw new PaymentError(400, `${what} must be a decimal string such as "12.50", got ${JSON.stringify(text)}`);
  }
  const cents = currency(text).intValue;
  if (cents <= 0) throw new PaymentError(400, `${what} must be more than 0`);
  return cents;
}

function formatCents(cents) {
  return currency(cents, { fromCents: true }).toString();
}

class IntentStore {
  constructor() {
    this.intents = new Map();
    this.next = 1;
  }

  create(input) {
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      throw new PaymentError(400, 'body must be a JSON object');
    }
    if (!CURRENCIES.has(input.currency)) {
      throw new PaymentError(400, `currency must be one of ${[...CURRENCIES].join(', ')}, got ${JSON.stringify(input.currency)}`);
    }
    if (typeof input.orderId !== 'string' || input.orderId === '') {
      throw new PaymentError(400, 'orderId is required');
    }
    const intent = {
      id: `pi_${this.next++}`,
      orderId: input.orderId,
      currency: input.currency,
      amountCents: parseAmount(input.amount, 'amount'),
      refundedCents: 0,
      status: 'requires_confirmation',
      history: ['requires_confirmation'],
    };
    this.intents.set(intent.id, intent);
    return view(intent);
  }

  get(id) {
    const intent = this.intents.get(id);
    return intent ? view(intent) : null;
  }

  confirm(id, { paymentToken } = {}) {
    const intent = this.take(id, 'confirm', ['requires_confirmation']);
    if (typeof paymentToken !== 'string' || paymentToken === '') {
      throw new PaymentError(400, 'paymentToken is required to confirm');
    }
    return this.move(intent, paymentToken === DECLINED_TOKEN ? 'failed' : 'succeeded');
  }

  cancel(id) {
    return this.move(this.take(id, 'cancel', ['requires_confirmation']), 'canceled');
  }

  refund(id, { amount } = {}) {
    const intent = this.take(id, 'refund', ['succeeded', 'partially_refunded']);
    const left = intent.amountCents - intent.refundedCents;
    const cents = amount === undefined ? left : parseAmount(amount, 'amount');
    if (cents > left) {
      throw new PaymentError(409, `cannot refund ${formatCents(cents)}: only ${formatCents(left)} ${intent.currency} is left to refund`);
    }
    intent.refundedCents += cents;
    return this.move(intent, intent.refundedCents === intent.amountCents ? 'refunded' : 'partially_refunded');
  }

  take(id, action, from) {
    const intent = this.intents.get(id);
    if (!intent) throw new PaymentError(404, `no payment intent ${id}`);
    if (!from.includes(intent.status)) {
      throw new PaymentError(409, `cannot ${action} payment intent ${id}: it is ${intent.status}`);
    }
    return intent;
  }

  move(intent, status) {
    intent.status = status;
    intent.history.push(status);
    return view(intent);
  }
}

// What clients see: amounts as strings again, and a copy they cannot change.
function view(intent) {
  return {
    id: intent.id,
    orderId: intent.orderId,
    currency: intent.currency,
    amount: formatCents(intent.amountCents),
    refunded: formatCents(intent.refundedCents),
    status: intent.status,
    history: [...intent.history],
  };
}

module.exports = { IntentStore, PaymentError, parseAmount, formatCents };
