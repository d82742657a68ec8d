'use strict';

// The entry point as a process: it listens, answers, and exits 0 on SIGTERM
// (as PID 1 in a container must).

const { it } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const path = require('node:path');

it('serves /health and exits 0 on SIGTERM', async () => {
  const child = spawn(process.execPath, [path.join(__dirname, '..', 'src', 'server.js')], {
    env: { ...process.env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  const port = await new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const m = /listening on port (\d+)/.exec(output);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`exited (${code}) before listening: ${output}`)));
  });
  const res = await fetch(`http://127.0.0.1:${port}/health`);
  assert.deepEqual([res.status, await res.json()], [200, { status: 'ok' }]);
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  child.kill('SIGTERM');
  assert.deepEqual(await exited, { code: 0, signal: null });
});
