'use strict';

// The bundle runs as the image runs it (`node dist/main`): it answers
// /health on PORT and stops cleanly on SIGTERM.

const test = require('node:test');
const assert = require('node:assert');
const { execFileSync, spawn } = require('child_process');
const path = require('path');

const root = path.resolve(__dirname, '..');

test('npm run build writes dist/main.js, which serves and stops on SIGTERM', async () => {
  execFileSync(process.execPath, ['scripts/build.js'], { cwd: root, stdio: 'pipe' });
  const child = spawn(process.execPath, ['dist/main'], {
    cwd: root,
    env: { ...process.env, PORT: '0', NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const port = await new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const m = /listening on port (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`exited ${code} before listening: ${out}`)));
  });
  const res = await fetch(`http://127.0.0.1:${port}/health`);
  assert.deepStrictEqual(await res.json(), { status: 'ok' });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  child.kill('SIGTERM');
  assert.deepStrictEqual(await exited, { code: 0, signal: null });
  assert.match(out, /SIGTERM received/);
});
