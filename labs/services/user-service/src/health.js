'use strict';

// Liveness: the process is up and serving requests.  Probes (the image's
// HEALTHCHECK, an orchestrator) only look at the status code: 200 is healthy.
function health() {
  return { statusCode: 200, body: { status: 'ok' } };
}

module.exports = { health };
