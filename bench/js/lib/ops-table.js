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

/** The value kinds measured: all of them, or one small kind for a smoke run. */
function kindsFor(quick) {
  return quick ? ['object-60B'] : Object.keys(VALUE_KINDS);
}

module.exports = { opsTable, kindsFor, fmtNs, BASELINE };
