'use strict';

const { it } = require('node:test');
const assert = require('node:assert/strict');
const { Router, TABLE } = require('../src/routes');

const router = new Router();

it('sends each public path to its service, parameters filled in', () => {
  const cases = [
    ['/api/users', { service: 'user-service', path: '/users' }],
    ['/api/users/12', { service: 'user-service', path: '/users/12' }],
    ['/api/products/LMP-100', { service: 'product-service', path: '/products/LMP-100' }],
    ['/api/orders/3/cancel', { service: 'order-service', path: '/orders/3/cancel' }],
    ['/api/payments/pi_1/confirm', { service: 'payment-service', path: '/payments/pi_1/confirm' }],
    ['/api/notifications', { service: 'notification-service', path: '/notifications' }],
  ];
  for (const [pathname, want] of cases) assert.deepEqual(router.resolve(pathname), want, pathname);
});

it('takes no path outside the table', () => {
  for (const pathname of ['/', '/api', '/api/unknown', '/users', '/api/users/1/2/3']) {
    assert.equal(router.resolve(pathname), null, pathname);
  }
});

it('encodes parameters again on the way out', () => {
  assert.deepEqual(router.resolve('/api/users/a%2Fb'), { service: 'user-service', path: '/users/a%2Fb' });
});

it('lists the table as it is declared', () => {
  assert.equal(router.list().length, TABLE.length);
  assert.deepEqual(router.list()[0], { pattern: '/api/users', service: 'user-service', target: '/users' });
});
