'use strict';

// Liveness: the process is up and serving requests.  Probes look at the
// status code only: 200 is healthy.
function health() {
  return { statusCode: 200, body: { status: 'ok' } };
}

module.exports = { health };
