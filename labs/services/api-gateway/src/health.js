'use strict';

// Liveness of the gateway itself, not of the services behind it: a probe
// that restarted the gateway whenever one upstream was down would take the
// whole system's front door with it.
function health() {
  return { statusCode: 200, body: { status: 'ok' } };
}

module.exports = { health };
