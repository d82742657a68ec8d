'use strict';

// Orders in memory, as long as the process lives.  An order is placed with
// its lines (sku, quantity, unit price in cents), and can be cancelled until
// it is paid.

const { v4: uuidv4 } = require('uuid');

const SKU = /^[A-Z]{3}-\d{3,6}$/;
const MAX_LINES = 50;

class OrderError extends Error {
  constructor(statusCode, message) {
    super(message);
    this.statusCode = statusCode;
  }
}

function wholeNumber(value, min) {
  return Number.isSafeInteger(value) && value >= min;
}

function validateLines(lines) {
  if (!Array.isArray(lines) || lines.length === 0) {
    throw new OrderError(400, 'lines must be a non-empty array');
  }
  if (lines.length > MAX_LINES) {
    throw new OrderError(400, `an order holds at most ${MAX_LINES} lines, got ${lines.length}`);
  }
  return lines.map((line, i) => {
    if (line === null || typeof line !== 'object') throw new OrderError(400, `line ${i + 1} is not an object`);
    const { sku, quantity, unitPriceCents } = line;
    if (typeof sku !== 'string' || !SKU.test(sku)) {
      throw new OrderError(400, `line ${i + 1}: sku must look like ABC-123`);
    }
    if (!wholeNumber(quantity, 1)) throw new OrderError(400, `line ${i + 1}: quantity must be a whole number, 1 or more`);
    if (!wholeNumber(unitPriceCents, 0)) {
      throw new OrderError(400, `line ${i + 1}: unitPriceCents must be a whole number of cents, 0 or more`);
    }
    return { sku, quantity, unitPriceCents };
  });
}

class OrderBook {
  constructor({ newId = uuidv4, now = () => new Date() } = {}) {
    this.orders = new Map();
    this.newId = newId;
    this.now = now;
  }

  place(input) {
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      throw new OrderError(400, 'body must be a JSON object');
    }
    if (typeof input.customerId !== 'string' || input.customerId.trim() === '') {
      throw new OrderError(400, 'customerId is required');
    }
    const lines = validateLines(input.lines);
    const totalCents = lines.reduce((sum, l) => sum + l.quantity * l.unitPriceCents, 0);
    const order = {
      id: this.newId(),
      customerId: input.customerId.trim(),
      lines,
      totalCents,
      status: 'placed',
      placedAt: this.now().toISOString(),
    };
    this.orders.set(order.id, order);
    return order;
  }

  get(id) {
    return this.orders.get(id) || null;
  }

  list({ customerId, status } = {}) {
    return [...this.orders.values()].filter(
      (o) => (!customerId || o.customerId === customerId) && (!status || o.status === status),
    );
  }

  markPaid(id) {
    return this.transition(id, 'paid', ['placed']);
  }

  cancel(id) {
    return this.transition(id, 'cancelled', ['placed']);
  }

  transition(id, to, from) {
    const order = this.get(id);
    if (!order) throw new OrderError(404, `no order ${id}`);
    if (!from.includes(order.status)) {
      throw new OrderError(409, `order ${id} is ${order.status}; it cannot become ${to}`);
    }
    order.status = to;
    return order;
  }
}

module.exports = { OrderBook, OrderError, validateLines };
