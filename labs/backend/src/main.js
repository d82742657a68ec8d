'use strict';

// Entry point.  In a container this is PID 1: nothing forwards signals and
// the kernel gives PID 1 no default SIGTERM action, so SIGTERM (what
// `docker stop` and an orchestrator send) is handled here: stop accepting,
// let open requests finish, exit 0.

const http = require('http');
const { loadConfig } = require('./config');
const { createApp } = require('./app');
const { Catalog } = require('./catalog');

let config;
try {
  config = loadConfig();
} catch (err) {
  console.error(`prod-e-backend: ${err.message}`);
  process.exit(1);
}

const server = http.createServer(createApp({ catalog: new Catalog(), config }));

server.on('error', (err) => {
  console.error(`prod-e-backend: cannot listen on port ${config.port}: ${err.message}`);
  process.exit(1);
});

server.listen(config.port, () => {
  console.log(`prod-e-backend listening on port ${server.address().port} (${config.nodeEnv})`);
});

let stopping = false;
function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`${signal} received: closing the server`);
  server.close(() => {
    console.log('prod-e-backend stopped');
    process.exit(0);
  });
  server.closeIdleConnections();
  setTimeout(() => {
    console.error(`prod-e-backend: requests still open after ${config.shutdownTimeoutMs} ms, exiting`);
    process.exit(1);
  }, config.shutdownTimeoutMs).unref();
}

process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
