'use strict';

// Names the server of the Valkey run at the top of its output (and fails early when
// valkey-server is missing).
const { testServer } = require('../helpers/redis-server');

module.exports = () => {
  const server = testServer();
  process.stdout.write(`\nServer under test: ${server.binary} ${server.version} (${server.name})\n`);
};
