'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { loadConfig } = require('../src/config');

test('defaults: port 3000, development', () => {
  assert.deepStrictEqual(loadConfig({}), { port: 3000, nodeEnv: 'development', shutdownTimeoutMs: 5000 });
});

test('PORT and NODE_ENV are read from the environment', () => {
  const c = loadConfig({ PORT: '8080', NODE_ENV: 'production' });
  assert.strictEqual(c.port, 8080);
  assert.strictEqual(c.nodeEnv, 'production');
});

test('a bad PORT is refused with its value', () => {
  assert.throws(() => loadConfig({ PORT: 'http' }), /PORT must be a whole number, not 'http'/);
  assert.throws(() => loadConfig({ PORT: '70000' }), /between 0 and 65535, not 70000/);
});
