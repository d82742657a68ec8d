'use strict';

// The request handler: routing, JSON in and out.  node's http only.

const { health } = require('./health');
const { OrderError } = require('./orders');

const MAX_BODY_BYTES = 64 * 1024;
const ID = '([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})';
const ORDER = new RegExp(`^/orders/${ID}$`);
const ACTION = new RegExp(`^/orders/${ID}/(cancel|pay)$`);

function send(res, statusCode, body, headers = {}) {
  const payload = JSON.stringify(body);
  res.writeHead(statusCode, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
  });
  res.end(payload);
}

async function readJson(req) {
  if (!(req.headers['content-type'] || '').startsWith('application/json')) {
    throw new OrderError(415, 'content-type must be application/json');
  }
  let size = 0;
  const chunks = [];
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new OrderError(413, `body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new OrderError(400, 'body is not valid JSON');
  }
}

function allow(req, ...methods) {
  if (!methods.includes(req.method)) throw new OrderError(405, `${req.method} is not allowed here`);
}

function createApp({ book }) {
  async function route(req, res) {
    const url = new URL(req.url, 'http://localhost');
    const { pathname } = url;

    if (pathname === '/health') {
      allow(req, 'GET', 'HEAD');
      const { statusCode, body } = health();
      return send(res, statusCode, body);
    }
    if (pathname === '/orders') {
      allow(req, 'GET', 'POST');
      if (req.method === 'GET') {
        const filter = { customerId: url.searchParams.get('customerId'), status: url.searchParams.get('status') };
        return send(res, 200, { orders: book.list(filter) });
      }
      const order = book.place(await readJson(req));
      return send(res, 201, order, { location: `/orders/${order.id}` });
    }
    let m = ACTION.exec(pathname);
    if (m) {
      allow(req, 'POST');
      return send(res, 200, m[2] === 'pay' ? book.markPaid(m[1]) : book.cancel(m[1]));
    }
    m = ORDER.exec(pathname);
    if (m) {
      allow(req, 'GET');
      const order = book.get(m[1]);
      if (!order) throw new OrderError(404, `no order ${m[1]}`);
      return send(res, 200, order);
    }
    throw new OrderError(404, `no route for ${req.method} ${pathname}`);
  }

  return function handler(req, res) {
    route(req, res).catch((err) => {
      if (err instanceof OrderError) return send(res, err.statusCode, { error: err.message });
      console.error(`error: ${req.method} ${req.url}: ${err.stack || err}`);
      return send(res, 500, { error: 'internal error' });
    });
  };
}

module.exports = { createApp };
