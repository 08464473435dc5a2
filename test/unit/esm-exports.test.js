'use strict';

// `import { X } from 'native-cache-manager'` must work for every export, errors included:
// Node's ES module loader finds a CommonJS module's named exports by reading its source, and
// it cannot see names brought in by a spread.
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const entry = path.join(__dirname, '..', '..', 'lib', 'index.js');

test('every CommonJS export, and every error class, is a named ES module export', () => {
  const script = `
    import * as named from ${JSON.stringify(entry)};
    import { createRequire } from 'node:module';
    const require = createRequire(import.meta.url);
    const cjs = require(${JSON.stringify(entry)});
    const errors = require(${JSON.stringify(path.join(path.dirname(entry), 'errors.js'))});
    console.log(JSON.stringify({
      missing: Object.keys(cjs).filter((k) => !(k in named)),
      errorsNotExported: Object.keys(errors).filter((k) => cjs[k] !== errors[k]),
      count: Object.keys(named).length,
    }));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  const result = JSON.parse(out.trim().split('\n').pop());
  expect(result.missing).toEqual([]);
  expect(result.errorsNotExported).toEqual([]);
  expect(result.count).toBeGreaterThan(20);
});
