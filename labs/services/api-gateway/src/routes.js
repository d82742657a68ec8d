'use strict';

// The routes table: which public path goes to which service, and under what
// path there.  Patterns are path-to-regexp's ("/api/users/:id").

const { match } = require('path-to-regexp');

// [public pattern, service, path on the service (":name" filled from the match)]
const TABLE = [
  ['/api/users', 'user-service', '/users'],
  ['/api/users/:id', 'user-service', '/users/:id'],
  ['/api/products', 'product-service', '/products'],
  ['/api/products/:sku', 'product-service', '/products/:sku'],
  ['/api/orders', 'order-service', '/orders'],
  ['/api/orders/:id', 'order-service', '/orders/:id'],
  ['/api/orders/:id/cancel', 'order-service', '/orders/:id/cancel'],
  ['/api/payments', 'payment-service', '/payments'],
  ['/api/payments/:id', 'payment-service', '/payments/:id'],
  ['/api/payments/:id/:action', 'payment-service', '/payments/:id/:action'],
  ['/api/notifications', 'notification-service', '/notifications'],
];

function fill(template, params) {
  return template.replace(/:(\w+)/g, (_, name) => encodeURIComponent(params[name]));
}

class Router {
  constructor(table = TABLE) {
    this.routes = table.map(([pattern, service, target]) => ({
      pattern,
      service,
      target,
      test: match(pattern, { decode: decodeURIComponent }),
    }));
  }

  // { service, path } for a public path, or null when no route takes it.
  resolve(pathname) {
    for (const route of this.routes) {
      const found = route.test(pathname);
      if (found) return { service: route.service, path: fill(route.target, found.params) };
    }
    return null;
  }

  list() {
    return this.routes.map(({ pattern, service, target }) => ({ pattern, service, target }));
  }
}

module.exports = { Router, TABLE };
