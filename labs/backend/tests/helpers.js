'use strict';

const http = require('http');
const { createApp } = require('../src/app');
const { Catalog } = require('../src/catalog');

// The app on a free port of 127.0.0.1; resolves to { url, close }.
function listen(config = { nodeEnv: 'production' }) {
  const server = http.createServer(createApp({ catalog: new Catalog(), config }));
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        url: `http://127.0.0.1:${server.address().port}`,
        close: () => new Promise((done) => server.close(done)),
      });
    });
  });
}

module.exports = { listen };
