'use strict';

// Settings come from the environment only, so one image runs everywhere:
// PORT (default 3000), NODE_ENV (reported, and it turns request logs off in
// production), SHUTDOWN_TIMEOUT_MS (how long open requests may take once
// SIGTERM arrives).

function intFrom(env, name, fallback, min, max) {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new Error(`${name} must be a whole number, not '${raw}'`);
  const value = Number(raw);
  if (value < min || value > max) throw new Error(`${name} must be between ${min} and ${max}, not ${value}`);
  return value;
}

function loadConfig(env = process.env) {
  return {
    port: intFrom(env, 'PORT', 3000, 0, 65535),
    nodeEnv: env.NODE_ENV || 'development',
    shutdownTimeoutMs: intFrom(env, 'SHUTDOWN_TIMEOUT_MS', 5000, 0, 600000),
  };
}

module.exports = { loadConfig };
