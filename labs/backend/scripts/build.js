'use strict';

// npm run build: bundle every module under src/ into one file, dist/main.js.
// Each module keeps its own scope (wrapped as CommonJS wraps it); a relative
// require ('./catalog') is answered from the bundle, any other ('http',
// 'regexparam') by Node's own require at run time, so node_modules/ must sit
// beside dist/ in the image.  A syntax error fails the build, not the start.

const fs = require('fs');
const path = require('path');
const vm = require('vm');

const root = path.resolve(__dirname, '..');
const srcDir = path.join(root, 'src');
const distDir = path.join(root, 'dist');
const ENTRY = 'main.js';

function sources(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return entry.isFile() && entry.name.endsWith('.js') ? [full] : [];
  });
}

function fail(message) {
  console.error(`build: ${message}`);
  process.exit(1);
}

const files = sources(srcDir).sort();
const names = files.map((f) => path.relative(srcDir, f).split(path.sep).join('/'));
if (!names.includes(ENTRY)) fail(`no src/${ENTRY}, the service's entry point`);

const parts = [];
let broken = 0;
files.forEach((file, i) => {
  const code = fs.readFileSync(file, 'utf8');
  const body = `function (exports, require, module, __filename, __dirname) {\n${code}\n}`;
  try {
    new vm.Script(`(${body})`, { filename: path.join('src', names[i]) });
  } catch (err) {
    console.error(`build: ${err.stack.split('\n').slice(0, 4).join('\n')}`);
    broken++;
    return;
  }
  parts.push(`${JSON.stringify(names[i])}: ${body}`);
});
if (broken) fail(`${broken} module(s) do not compile`);

const bundle = `'use strict';
// Built by scripts/build.js from src/: do not edit, edit src/ and run npm run build.
const modules = {
${parts.join(',\n')}
};
const cache = {};
function load(name) {
  if (cache[name]) return cache[name].exports;
  const module = (cache[name] = { exports: {} });
  const dir = name.includes('/') ? name.slice(0, name.lastIndexOf('/')) : '';
  const local = (spec) => {
    if (!spec.startsWith('./') && !spec.startsWith('../')) return require(spec);
    const parts = (dir ? dir.split('/') : []).concat(spec.split('/'));
    const out = [];
    for (const p of parts) {
      if (p === '..') out.pop();
      else if (p !== '.' && p !== '') out.push(p);
    }
    let target = out.join('/');
    if (!modules[target]) target += '.js';
    if (!modules[target]) throw new Error('bundle: no module ' + spec + ' from ' + name);
    return load(target);
  };
  modules[name].call(module.exports, module.exports, local, module, __filename, __dirname);
  return module.exports;
}
load(${JSON.stringify(ENTRY)});
`;

fs.rmSync(distDir, { recursive: true, force: true });
fs.mkdirSync(distDir, { recursive: true });
fs.writeFileSync(path.join(distDir, 'main.js'), bundle);
console.log(`build: ${files.length} modules bundled into dist/main.js (${Buffer.byteLength(bundle)} bytes)`);
