'use strict';

// Entry point.  In a container this is PID 1: nothing forwards signals for
// us and the kernel gives PID 1 no default SIGTERM action, so we handle
// SIGTERM and SIGINT ourselves and close the server cleanly.

const http = require('http');
const ms = require('ms');
const { loadConfig, redactUrl } = require('./config');
const { createApp } = require('./app');
const { UserStore } = require('./users');

const config = loadConfig();
const startedAt = Date.now();
const server = http.createServer(createApp({ store: new UserStore(), config, startedAt }));

server.on('error', (err) => {
  console.error(`user-service: cannot listen on port ${config.port}: ${err.message}`);
  process.exit(1);
});

server.listen(config.port, () => {
  console.log(`user-service listening on port ${server.address().port}`);
  console.log(
    config.databaseUrl
      ? `database: ${redactUrl(config.databaseUrl)} (reported only; data is kept in memory)`
      : 'database: none configured (data is kept in memory)',
  );
});

let stopping = false;
function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`${signal} received after ${ms(Date.now() - startedAt)}: closing the server`);
  server.close((err) => {
    if (err) {
      console.error(`user-service: close failed: ${err.message}`);
      process.exit(1);
    }
    console.log('user-service stopped');
    process.exit(0);
  });
  server.closeIdleConnections();
  setTimeout(() => {
    console.error(`user-service: requests still open after ${ms(config.shutdownTimeoutMs)}, exiting`);
    process.exit(1);
  }, config.shutdownTimeoutMs).unref();
}

process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
