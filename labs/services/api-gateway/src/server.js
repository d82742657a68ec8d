'use strict';

// Entry point.  As PID 1 in a container nothing forwards signals for us and
// SIGTERM has no default action, so we close the server ourselves.

const http = require('http');
const { loadConfig } = require('./config');
const { createApp } = require('./app');
const { Router } = require('./routes');

let config;
try {
  config = loadConfig();
} catch (err) {
  console.error(`api-gateway: ${err.message}`);
  process.exit(2);
}
const router = new Router();
const server = http.createServer(createApp({ router, config }));

server.on('error', (err) => {
  console.error(`api-gateway: cannot listen on port ${config.port}: ${err.message}`);
  process.exit(1);
});

server.listen(config.port, () => {
  console.log(`api-gateway listening on port ${server.address().port}`);
  console.log(`${router.list().length} routes to ${Object.keys(config.upstreams).length} services`);
});

function shutdown(signal) {
  console.log(`${signal} received: closing the server`);
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(1), 5000).unref();
}

process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
