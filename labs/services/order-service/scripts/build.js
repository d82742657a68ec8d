'use strict';

// npm run build: compile-check every module under src/ and write it to dist/.
// Plain JavaScript, so "building" needs nothing but node itself.

const fs = require('fs');
const path = require('path');
const vm = require('vm');

const root = path.resolve(__dirname, '..');
const srcDir = path.join(root, 'src');
const distDir = path.join(root, 'dist');

function sources(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return entry.isFile() && entry.name.endsWith('.js') ? [full] : [];
  });
}

const files = sources(srcDir);
if (files.length === 0) {
  console.error(`build: no .js files under ${path.relative(root, srcDir)}/`);
  process.exit(1);
}

fs.rmSync(distDir, { recursive: true, force: true });
let failed = false;
for (const file of files) {
  const rel = path.relative(srcDir, file);
  const code = fs.readFileSync(file, 'utf8');
  try {
    // Wrapped as CommonJS does, so a syntax error fails the build, not the start.
    new vm.Script(`(function (exports, require, module, __filename, __dirname) {${code}\n})`, {
      filename: path.join('src', rel),
    });
  } catch (err) {
    console.error(`build: ${err.stack.split('\n').slice(0, 4).join('\n')}`);
    failed = true;
    continue;
  }
  const out = path.join(distDir, rel);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, code);
}
if (failed) process.exit(1);
console.log(`build: ${files.length} modules written to dist/`);
