'use strict';

// Runtime configuration, read once from the environment at start-up.
//
//   PORT              TCP port to listen on (default 3000; 0 picks a free port)
//   DATABASE_URL      optional; reported (password hidden), never required:
//                     this service keeps its data in memory
//   SHUTDOWN_TIMEOUT  how long to wait for open requests on SIGTERM/SIGINT
//                     before exiting anyway, as a duration ("10s", "500ms")

const ms = require('ms');

const DEFAULT_PORT = 3000;
const DEFAULT_SHUTDOWN_TIMEOUT = '10s';

function parsePort(value) {
  if (value === undefined || value === '') return DEFAULT_PORT;
  if (!/^\d+$/.test(value)) {
    throw new Error(`PORT must be a number between 0 and 65535, got "${value}"`);
  }
  const port = Number(value);
  if (port > 65535) {
    throw new Error(`PORT must be a number between 0 and 65535, got "${value}"`);
  }
  return port;
}

function parseDuration(value, fallback) {
  const text = value === undefined || value === '' ? fallback : value;
  const millis = ms(text);
  if (typeof millis !== 'number' || !Number.isFinite(millis) || millis < 0) {
    throw new Error(`SHUTDOWN_TIMEOUT must be a duration such as "10s" or "500ms", got "${text}"`);
  }
  return millis;
}

// postgres://app:secret@db:5432/users -> postgres://app:***@db:5432/users
function redactUrl(value) {
  if (!value) return null;
  try {
    const url = new URL(value);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '(not a valid URL)';
  }
}

function loadConfig(env = process.env) {
  return {
    port: parsePort(env.PORT),
    databaseUrl: env.DATABASE_URL || null,
    shutdownTimeoutMs: parseDuration(env.SHUTDOWN_TIMEOUT, DEFAULT_SHUTDOWN_TIMEOUT),
  };
}

module.exports = { loadConfig, parsePort, parseDuration, redactUrl, DEFAULT_PORT };
