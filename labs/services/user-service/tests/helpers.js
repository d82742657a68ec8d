'use strict';

const http = require('http');
const { createApp } = require('../src/app');
const { UserStore } = require('../src/users');

// Start the app's handler on a free port; resolves to { baseUrl, store, close }.
async function startApp(config = {}) {
  const store = new UserStore();
  const server = http.createServer(createApp({ store, config }));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${server.address().port}`;
  return {
    baseUrl,
    store,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

module.exports = { startApp };
