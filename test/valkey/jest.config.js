'use strict';

// The Redis integration and reliability suites against Valkey 8 (`npm run test:valkey`):
// test/helpers/redis-server.js starts valkey-server instead of redis-server when
// NCM_TEST_SERVER=valkey, which this config sets. Install Valkey on Debian 12 with
// scripts/install-valkey.sh (bookworm-backports).
process.env.NCM_TEST_SERVER = 'valkey';

module.exports = {
  rootDir: '../..',
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/integration/**/*.test.js', '<rootDir>/test/reliability/**/*.test.js'],
  testTimeout: 30000,
  modulePathIgnorePatterns: ['<rootDir>/examples/nextjs/', '<rootDir>/build-prebuild/'],
  // The benchmark program's smoke test checks the program, which always benchmarks
  // redis-server (bench/js/redis.js): `npm test` runs it; here it would only repeat that run.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/integration/redis-bench-smoke.test.js',
    '<rootDir>/test/integration/redis-cluster-bench-smoke.test.js'],
  globalSetup: '<rootDir>/test/valkey/global-setup.js',
};
