'use strict';

// Jest settings for the tests that need root (network namespaces, nftables); run them with
// `sudo npm run test:netns`. `npm test` leaves this folder out (package.json).
module.exports = {
  rootDir: '../..',
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/netns/**/*.test.js'],
  testTimeout: 60_000,
  modulePathIgnorePatterns: ['<rootDir>/build-prebuild/'],
};
