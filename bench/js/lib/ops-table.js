'use strict';

/** Markdown tables for the per-operation scenarios (ns/op, medians over rounds). */

const { median } = require('./stats');
const { VALUE_KINDS } = require('./values');

const BASELINE = 'lru-cache';

function fmtNs(ns) {
  if (!Number.isFinite(ns)) return 'n/a';
  return ns >= 100 ? `${Math.round(ns)}` : ns.toFixed(1);
}

/**
 * Rows are drivers, columns are value kinds; a cell is the median ns/op and, in
 * parentheses, the time relative to lru-cache measured in the same run.
 */
function opsTable(done, ctx, kinds) {
  const cell = new Map();
  for (const { job, results } of done) {
    cell.set(`${job.driver}|${job.kind}`, median(results.map((r) => r.nsPerOp)));
  }
  const head = `| store | ${kinds.map((k) => `${VALUE_KINDS[k]?.label ?? k} ns/op`).join(' | ')} |`;
  const sep = `|---|${kinds.map(() => '---:').join('|')}|`;
  const rows = ctx.drivers.map((d) => {
    const cells = kinds.map((k) => {
      const ns = cell.get(`${d.name}|${k}`);
      const base = cell.get(`${BASELINE}|${k}`);
      if (ns === undefined) return '–';
      const ratio = base ? ` (${(ns / base).toFixed(2)}×)` : '';
      return `${fmtNs(ns)}${ratio}`;
    });
    return `| ${d.label} | ${cells.join(' | ')} |`;
  });
  return [head, sep, ...rows].join('\n');
}

/**
 * Chart data (see chart.js) for a per-operation scenario: our synchronous MemoryStore path
 * (the one createCache uses) against every driver from another package.
 */
function opsChart(done, ctx, kinds, { id, title, ours = 'native-sync' }) {
  const cell = new Map();
  for (const { job, results } of done) {
    cell.set(`${job.driver}|${job.kind}`, median(results.map((r) => r.nsPerOp)));
  }
  const us = ctx.drivers.find((d) => d.name === ours);
  if (!us) return [];
  const others = ctx.drivers.filter((d) => d.package !== us.package);
  if (others.length === 0) return [];
  const rows = kinds.map((k) => ({
    label: VALUE_KINDS[k]?.label ?? k,
    ours: cell.get(`${ours}|${k}`),
    others: Object.fromEntries(others.map((d) => [d.label, cell.get(`${d.name}|${k}`)])),
  })).filter((r) => Number.isFinite(r.ours));
  return [{ id, title, ours: us.label, metric: 'ns per call', better: 'lower', competitors: others.map((d) => d.label), rows }];
}

/** The value kinds measured: all of them, or one small kind for a smoke run. */
function kindsFor(quick) {
  return quick ? ['object-60B'] : Object.keys(VALUE_KINDS);
}

module.exports = { opsTable, opsChart, kindsFor, fmtNs, BASELINE };
