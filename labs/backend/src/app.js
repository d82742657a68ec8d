'use strict';

// The HTTP handler: /health for probes (the image's HEALTHCHECK and the
// orchestrator's), and the catalogue's API.

const { createRouter } = require('./router');

const MAX_BODY = 16 * 1024;

function send(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks = [];
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(Object.assign(new Error(`body over ${MAX_BODY} bytes`), { status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}'));
      } catch (err) {
        reject(Object.assign(new Error('body is not JSON'), { status: 400 }));
      }
    });
    req.on('error', reject);
  });
}

function createApp({ catalog, config, startedAt = Date.now() }) {
  const router = createRouter();

  router.add('GET', '/health', (req, res) => send(res, 200, { status: 'ok' }));

  router.add('GET', '/api/info', (req, res) =>
    send(res, 200, {
      service: 'prod-e-backend',
      environment: config.nodeEnv,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    }),
  );

  router.add('GET', '/api/products', (req, res, params, query) => {
    const products = catalog.list({ inStock: query.get('inStock') === 'true' });
    send(res, 200, { count: products.length, products });
  });

  router.add('GET', '/api/products/:id', (req, res, params) => {
    const product = /^\d+$/.test(params.id) ? catalog.get(Number(params.id)) : null;
    if (!product) return send(res, 404, { error: `no product ${params.id}` });
    return send(res, 200, product);
  });

  router.add('POST', '/api/orders', async (req, res) => {
    const body = await readJson(req);
    const result = catalog.reserve(body.productId, body.quantity);
    if (result === null) return send(res, 404, { error: `no product ${body.productId}` });
    if (typeof result === 'string') return send(res, 409, { error: result });
    return send(res, 201, { productId: result.id, quantity: body.quantity, stockLeft: result.stock });
  });

  return async function handle(req, res) {
    const url = new URL(req.url, 'http://localhost');
    const found = router.find(req.method, url.pathname);
    if (!found.handler) {
      if (found.allowed.length) return send(res, 405, { error: 'method not allowed' }, { Allow: found.allowed.join(', ') });
      return send(res, 404, { error: `no route ${url.pathname}` });
    }
    try {
      await found.handler(req, res, found.params, url.searchParams);
    } catch (err) {
      if (!res.headersSent) send(res, err.status || 500, { error: err.status ? err.message : 'internal error' });
      if (!err.status) console.error(`prod-e-backend: ${req.method} ${url.pathname}: ${err.stack}`);
    }
    if (config.nodeEnv !== 'production') console.log(`${req.method} ${url.pathname} ${res.statusCode}`);
    return undefined;
  };
}

module.exports = { createApp };
