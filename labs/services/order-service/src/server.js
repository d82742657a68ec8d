'use strict';

// Entry point.  As PID 1 in a container nothing forwards signals for us and
// SIGTERM has no default action, so we close the server ourselves.

const http = require('http');
const { createApp } = require('./app');
const { OrderBook } = require('./orders');

// PORT: TCP port to listen on (default 3000; 0 picks a free port).
const portText = process.env.PORT || '3000';
const port = Number(portText);
if (!/^\d+$/.test(portText) || port > 65535) {
  console.error(`order-service: PORT must be a number between 0 and 65535, got "${portText}"`);
  process.exit(2);
}
const server = http.createServer(createApp({ book: new OrderBook() }));

server.on('error', (err) => {
  console.error(`order-service: cannot listen on port ${port}: ${err.message}`);
  process.exit(1);
});

server.listen(port, () => {
  console.log(`order-service listening on port ${server.address().port}`);
});

function shutdown(signal) {
  console.log(`${signal} received: closing the server`);
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(1), 5000).unref();
}

process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
