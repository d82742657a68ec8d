'use strict';

// Runtime configuration, read once from the environment at start-up.
//
//   PORT                 TCP port to listen on (default 3000; 0 picks a free port)
//   <SERVICE>_URL        where a service answers, e.g. ORDER_SERVICE_URL
//                        (default http://<service>:<its port>, the name a
//                        compose network gives it)
//   UPSTREAM_TIMEOUT_MS  how long to wait for a service (default 5000)

const SERVICES = {
  'user-service': 3000,
  'order-service': 3000,
  'payment-service': 3000,
  'product-service': 8000,
  'notification-service': 8000,
};

function parseNumber(name, value, fallback, max) {
  if (value === undefined || value === '') return fallback;
  if (!/^\d+$/.test(value) || Number(value) > max) {
    throw new Error(`${name} must be a number between 0 and ${max}, got "${value}"`);
  }
  return Number(value);
}

function loadConfig(env = process.env) {
  const upstreams = {};
  for (const [service, port] of Object.entries(SERVICES)) {
    const name = `${service.toUpperCase().replace(/-/g, '_')}_URL`;
    const value = env[name] || `http://${service}:${port}`;
    let url;
    try {
      url = new URL(value);
    } catch {
      throw new Error(`${name} is not a URL: "${value}"`);
    }
    if (url.protocol !== 'http:') throw new Error(`${name} must be an http:// URL, got "${value}"`);
    upstreams[service] = url;
  }
  return {
    port: parseNumber('PORT', env.PORT, 3000, 65535),
    upstreamTimeoutMs: parseNumber('UPSTREAM_TIMEOUT_MS', env.UPSTREAM_TIMEOUT_MS, 5000, 600000),
    upstreams,
  };
}

module.exports = { loadConfig, SERVICES };
