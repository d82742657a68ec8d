'use strict';

// The gateway's handler: its own endpoints (/health, /routes), and every
// other request passed on to the service the routes table names.

const http = require('http');
const { health } = require('./health');

// Hop-by-hop headers stay with the connection they came on.
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization',
  'te', 'trailer', 'transfer-encoding', 'upgrade', 'host',
]);

function send(res, statusCode, body, headers = {}) {
  const payload = JSON.stringify(body);
  res.writeHead(statusCode, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
  });
  res.end(payload);
}

function forwardHeaders(headers, extra) {
  const out = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.has(name)) out[name] = value;
  }
  return { ...out, ...extra };
}

function createApp({ router, config }) {
  function proxy(req, res, target, search) {
    const base = config.upstreams[target.service];
    const upstream = http.request(
      {
        hostname: base.hostname,
        port: base.port || 80,
        method: req.method,
        path: target.path + search,
        headers: forwardHeaders(req.headers, {
          'x-forwarded-for': req.socket.remoteAddress,
          'x-forwarded-host': req.headers.host || '',
        }),
        timeout: config.upstreamTimeoutMs,
      },
      (answer) => {
        res.writeHead(answer.statusCode, forwardHeaders(answer.headers, {}));
        answer.pipe(res);
      },
    );
    upstream.on('timeout', () => {
      upstream.destroy(new Error(`no answer within ${config.upstreamTimeoutMs} ms`));
    });
    upstream.on('error', (err) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const statusCode = /no answer within/.test(err.message) ? 504 : 502;
      send(res, statusCode, { error: `${target.service} did not answer: ${err.message}` });
    });
    req.pipe(upstream);
  }

  return function handler(req, res) {
    const { pathname, search } = new URL(req.url, 'http://localhost');

    if (pathname === '/health') {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        return send(res, 405, { error: `${req.method} is not allowed here` }, { allow: 'GET, HEAD' });
      }
      const { statusCode, body } = health();
      return send(res, statusCode, body);
    }
    if (pathname === '/routes') return send(res, 200, { routes: router.list() });

    const target = router.resolve(pathname);
    if (!target) return send(res, 404, { error: `no route for ${req.method} ${pathname}` });
    return proxy(req, res, target, search);
  };
}

module.exports = { createApp };
