'use strict';

// The request handler: routing, JSON in and out.  node's http only.

const { health } = require('./health');
const { PaymentError } = require('./intents');

const MAX_BODY_BYTES = 16 * 1024;
const INTENT = /^\/payments\/(pi_[1-9]\d{0,9})$/;
const ACTION = /^\/payments\/(pi_[1-9]\d{0,9})\/(confirm|cancel|refund)$/;

function send(res, statusCode, body) {
  const payload = JSON.stringify(body);
  res.writeHead(statusCode, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
  });
  res.end(payload);
}

// An empty body is an empty object: `POST /payments/pi_1/cancel` needs none.
async function readJson(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new PaymentError(413, `body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  if (size === 0) return {};
  if (!(req.headers['content-type'] || '').startsWith('application/json')) {
    throw new PaymentError(415, 'content-type must be application/json');
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new PaymentError(400, 'body is not valid JSON');
  }
}

function allow(req, ...methods) {
  if (!methods.includes(req.method)) throw new PaymentError(405, `${req.method} is not allowed here`);
}

function createApp({ store }) {
  async function route(req, res) {
    const { pathname } = new URL(req.url, 'http://localhost');

    if (pathname === '/health') {
      allow(req, 'GET', 'HEAD');
      const { statusCode, body } = health();
      return send(res, statusCode, body);
    }
    if (pathname === '/payments') {
      allow(req, 'POST');
      return send(res, 201, store.create(await readJson(req)));
    }
    let m = ACTION.exec(pathname);
    if (m) {
      allow(req, 'POST');
      const body = await readJson(req);
      return send(res, 200, store[m[2]](m[1], body));
    }
    m = INTENT.exec(pathname);
    if (m) {
      allow(req, 'GET');
      const intent = store.get(m[1]);
      if (!intent) throw new PaymentError(404, `no payment intent ${m[1]}`);
      return send(res, 200, intent);
    }
    throw new PaymentError(404, `no route for ${req.method} ${pathname}`);
  }

  return function handler(req, res) {
    route(req, res).catch((err) => {
      if (err instanceof PaymentError) return send(res, err.statusCode, { error: err.message });
      console.error(`error: ${req.method} ${req.url}: ${err.stack || err}`);
      return send(res, 500, { error: 'internal error' });
    });
  };
}

module.exports = { createApp };
