'use strict';

// Every results file in docs/benchmarks/ is in the format the chart reads, so `npm run bench`
// and `npm run bench:chart` (which redraw the chart from all of them) never stop on one.
const fs = require('node:fs');
const path = require('node:path');
const { collectCharts, DEFAULT_DIR, FORMAT } = require('../../bench/js/chart');

test('docs/benchmarks/*.json are results files the chart can read', () => {
  const files = fs.readdirSync(DEFAULT_DIR).filter((f) => f.endsWith('.json')).map((f) => path.join(DEFAULT_DIR, f));
  expect(files.length).toBeGreaterThan(0);
  for (const file of files) expect(JSON.parse(fs.readFileSync(file, 'utf8')).format).toBe(FORMAT);
  expect(collectCharts(files).length).toBeGreaterThan(0);
});
