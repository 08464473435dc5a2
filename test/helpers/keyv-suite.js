'use strict';

/**
 * Runs a function from @keyv/test-suite (written for vitest) under Jest: the suite
 * receives a `test` object with `it`, `beforeEach` and `afterEach`, and each test body
 * receives a context whose `expect` is Jest's.
 */
function runKeyvSuite(suiteFn, Keyv, storeFactory) {
  const context = { expect };
  const test = {
    it: (name, fn, timeout) => it(name, () => fn(context), timeout),
    beforeEach: (fn) => beforeEach(() => fn(context)),
    afterEach: (fn) => afterEach(() => fn(context)),
  };
  suiteFn(test, Keyv, storeFactory);
}

module.exports = { runKeyvSuite };
