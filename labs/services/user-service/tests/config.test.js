'use strict';

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { loadConfig, redactUrl } = require('../src/config');

describe('configuration', () => {
  it('defaults to port 3000, no database, a 10 s shutdown timeout', () => {
    assert.deepEqual(loadConfig({}), { port: 3000, databaseUrl: null, shutdownTimeoutMs: 10000 });
  });

  it('reads PORT, DATABASE_URL and SHUTDOWN_TIMEOUT', () => {
    const config = loadConfig({ PORT: '8081', DATABASE_URL: 'postgres://db/users', SHUTDOWN_TIMEOUT: '500ms' });
    assert.deepEqual(config, { port: 8081, databaseUrl: 'postgres://db/users', shutdownTimeoutMs: 500 });
  });

  it('rejects a bad PORT or SHUTDOWN_TIMEOUT with a clear message', () => {
    assert.throws(() => loadConfig({ PORT: 'http' }), /PORT must be a number/);
    assert.throws(() => loadConfig({ PORT: '70000' }), /PORT must be a number/);
    assert.throws(() => loadConfig({ SHUTDOWN_TIMEOUT: 'soon' }), /SHUTDOWN_TIMEOUT/);
  });

  it('hides passwords in URLs it reports', () => {
    assert.equal(redactUrl('postgres://app:s3cret@db:5432/users'), 'postgres://app:***@db:5432/users');
    assert.equal(redactUrl('postgres://db/users'), 'postgres://db/users');
    assert.equal(redactUrl('nonsense'), '(not a valid URL)');
    assert.equal(redactUrl(undefined), null);
  });
});
