'use strict';

// A very small router: routes are "METHOD /path/:param" patterns, parsed
// once by regexparam.  Enough for a handful of routes, and no framework.

const { parse } = require('regexparam');

function createRouter() {
  const routes = [];

  function add(method, path, handler) {
    const { keys, pattern } = parse(path);
    routes.push({ method, keys, pattern, handler });
  }

  // The handler and params for a request, or { allowed } listing the
  // methods the path accepts (an empty list: no such path).
  function find(method, path) {
    const allowed = [];
    for (const route of routes) {
      const match = route.pattern.exec(path);
      if (!match) continue;
      if (route.method !== method && !(method === 'HEAD' && route.method === 'GET')) {
        allowed.push(route.method);
        continue;
      }
      const params = {};
      route.keys.forEach((key, i) => {
        params[key] = match[i + 1];
      });
      return { handler: route.handler, params };
    }
    return { allowed };
  }

  return { add, find };
}

module.exports = { createRouter };
