'use strict';

// The entry point as a process: it listens, answers, and exits cleanly on
// SIGTERM (as PID 1 in a container must).

const { it } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const path = require('node:path');

function startServer(env) {
  const child = spawn(process.execPath, [path.join(__dirname, '..', 'src', 'server.js')], {
    env: { ...process.env, PORT: '0', SHUTDOWN_TIMEOUT: '2s', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const port = new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const m = /listening on port (\d+)/.exec(output);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`server exited (${code}) before listening: ${output}`)));
  });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, port, exited, output: () => output };
}

for (const signal of ['SIGTERM', 'SIGINT']) {
  it(`serves /health and exits 0 on ${signal}`, async () => {
    const server = startServer({ DATABASE_URL: 'postgres://app:pw@db/users' });
    const port = await server.port;
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok' });
    server.child.kill(signal);
    assert.deepEqual(await server.exited, { code: 0, signal: null });
    assert.match(server.output(), /postgres:\/\/app:\*\*\*@db\/users/);
    assert.match(server.output(), new RegExp(`${signal} received`));
  });
}

it('exits non-zero with a message when PORT is invalid', async () => {
  const child = spawn(process.execPath, [path.join(__dirname, '..', 'src', 'server.js')], {
    env: { ...process.env, PORT: 'abc' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  const code = await new Promise((resolve) => child.on('exit', resolve));
  assert.notEqual(code, 0);
  assert.match(stderr, /PORT must be a number/);
});
