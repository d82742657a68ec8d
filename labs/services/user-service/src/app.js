'use strict';

// The request handler: routing, JSON in and out.  No framework, node's http only.

const ms = require('ms');
const { health } = require('./health');
const { ValidationError } = require('./users');
const { redactUrl } = require('./config');
const pkg = require('../package.json');

const MAX_BODY_BYTES = 16 * 1024;

class HttpError extends Error {
  constructor(statusCode, message, headers = {}) {
    super(message);
    this.statusCode = statusCode;
    this.headers = headers;
  }
}

function send(res, statusCode, body, headers = {}) {
  const payload = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(statusCode, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
  });
  res.end(payload);
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    const type = req.headers['content-type'] || '';
    if (!type.startsWith('application/json')) {
      reject(new HttpError(415, 'content-type must be application/json'));
      return;
    }
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, `body is larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(new HttpError(400, 'body is not valid JSON'));
      }
    });
    req.on('error', reject);
  });
}

function parseId(text) {
  if (!/^[1-9]\d{0,9}$/.test(text)) throw new HttpError(404, `no user ${text}`);
  return Number(text);
}

function allow(req, methods) {
  if (!methods.includes(req.method)) {
    throw new HttpError(405, `${req.method} is not allowed here`, { allow: methods.join(', ') });
  }
}

function createApp({ store, config = {}, startedAt = Date.now() }) {
  async function route(req, res) {
    const { pathname } = new URL(req.url, 'http://localhost');

    if (pathname === '/health') {
      allow(req, ['GET', 'HEAD']);
      const { statusCode, body } = health();
      return send(res, statusCode, body);
    }

    if (pathname === '/info') {
      allow(req, ['GET']);
      return send(res, 200, {
        service: pkg.name,
        version: pkg.version,
        node: process.version,
        uptime: ms(Date.now() - startedAt, { long: true }),
        database: redactUrl(config.databaseUrl),
        users: store.list().length,
      });
    }

    if (pathname === '/users') {
      allow(req, ['GET', 'POST']);
      if (req.method === 'GET') return send(res, 200, { users: store.list() });
      const user = store.create(await readJson(req));
      return send(res, 201, user, { location: `/users/${user.id}` });
    }

    const match = /^\/users\/([^/]+)$/.exec(pathname);
    if (match) {
      allow(req, ['GET', 'DELETE']);
      const id = parseId(match[1]);
      if (req.method === 'DELETE') {
        if (!store.remove(id)) throw new HttpError(404, `no user ${id}`);
        res.writeHead(204);
        return res.end();
      }
      const user = store.get(id);
      if (!user) throw new HttpError(404, `no user ${id}`);
      return send(res, 200, user);
    }

    throw new HttpError(404, `no route for ${req.method} ${pathname}`);
  }

  return function handler(req, res) {
    route(req, res).catch((err) => {
      if (err instanceof ValidationError) return send(res, 400, { error: err.message });
      if (err instanceof HttpError) return send(res, err.statusCode, { error: err.message }, err.headers);
      console.error(`error: ${req.method} ${req.url}: ${err.stack || err}`);
      return send(res, 500, { error: 'internal error' });
    });
  };
}

module.exports = { createApp, HttpError };
