'use strict';

// ESLint (flat config): the recommended rules over every JavaScript file of the package,
// its tests, benchmarks, scripts and examples. Part of `npm run lint`.
const js = require('@eslint/js');
const globals = require('globals');

module.exports = [
  {
    ignores: ['build/', 'build-*/', '**/node_modules/', 'examples/*/.next/', 'examples/*/.next-*/', 'docs/', 'coverage/'],
  },
  js.configs.recommended,
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: {
      ecmaVersion: 'latest',
      sourceType: 'commonjs',
      globals: { ...globals.node },
    },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: {
      ecmaVersion: 'latest',
      sourceType: 'module',
      globals: { ...globals.node },
    },
  },
  {
    // The Next.js example apps: ES modules with JSX.
    files: ['examples/nextjs/**/*.js', 'examples/nextjs-cache-handlers/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      parserOptions: { ecmaFeatures: { jsx: true } },
    },
  },
  {
    files: ['test/**/*.js', 'test/**/*.mjs'],
    languageOptions: {
      globals: { ...globals.jest },
    },
  },
];
