#!/usr/bin/env node
'use strict';

/**
 * Renders the benchmark results as one SVG chart: for every measurement, how many times
 * faster native-cache-manager is than each competitor of the same run (log scale; a bar
 * left of 1× means the competitor was faster).
 *
 *   node bench/js/chart.js [--out docs/benchmarks.svg] [results.json ...]
 *
 * Without files it reads every *.json in docs/benchmarks/ (written by
 * `run.js --json` and `redis.js --json`). No dependencies: the SVG is written as text.
 *
 * A results file is `{ format, scenarios: { <name>: { title, env, charts: [chart] } } }`
 * and a chart is
 *
 *   { id, title, ours: label, metric: 'ns per call' | 'operations/s', better: 'lower' | 'higher',
 *     note?: text, competitors: [label], rows: [{ label, ours: number, others: { [label]: number } }] }
 */

const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..', '..');
const DEFAULT_DIR = path.join(ROOT, 'docs', 'benchmarks');
const DEFAULT_OUT = path.join(ROOT, 'docs', 'benchmarks.svg');
const FORMAT = 'native-cache-manager-bench/1';

/** Panels in this order first; any other chart id after them, in file order. */
const PANEL_ORDER = ['cache', 'redis-client', 'redis-cache', 'redis-store', 'redis-tls', 'get-hit', 'get-miss', 'set'];

const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#b07aa1', '#edc948', '#9c755f'];

const WIDTH = 980;
const LABEL_X = 16;
const PLOT_X0 = 250;
const PLOT_X1 = WIDTH - 90;
const BAR_H = 9;
const BAR_GAP = 2;
const ROW_GAP = 9;
const FONT = "font-family='DejaVu Sans, Helvetica, Arial, sans-serif'";

function escapeXml(text) {
  return String(text).replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' }[c]));
}

/** Ours relative to a competitor: > 1 means ours is faster. */
function speedup(chart, ours, theirs) {
  if (!(ours > 0) || !(theirs > 0)) return undefined;
  return chart.better === 'higher' ? ours / theirs : theirs / ours;
}

function fmtRatio(r) {
  if (r >= 100) return `${r.toFixed(0)}×`;
  if (r >= 10) return `${r.toFixed(1)}×`;
  if (r >= 0.01) return `${r.toFixed(2)}×`;
  return `${r.toPrecision(1)}×`;
}

/** Reads results files; returns their charts in panel order, each with its run's env. */
function collectCharts(files) {
  const charts = [];
  for (const file of files) {
    const data = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (data.format !== FORMAT) throw new Error(`${file}: not a benchmark results file (format ${JSON.stringify(data.format)})`);
    for (const scenario of Object.values(data.scenarios)) {
      for (const chart of scenario.charts ?? []) charts.push({ ...chart, env: scenario.env, quick: scenario.quick });
    }
  }
  const rank = (c) => {
    const i = PANEL_ORDER.indexOf(c.id);
    return i < 0 ? PANEL_ORDER.length : i;
  };
  return charts.map((c, i) => ({ c, i })).sort((a, b) => rank(a.c) - rank(b.c) || a.i - b.i).map(({ c }) => c);
}

function envLine(env) {
  if (!env) return '';
  const packages = Object.entries(env.packages ?? {}).map(([p, v]) => `${p} ${v}`).join(', ');
  return [`${env.date?.slice(0, 10) ?? ''}`, `Node.js ${env.node}`, env.redis ? `Redis ${env.redis}` : '', packages,
    `median of ${env.runs} round(s)`].filter(Boolean).join(' · ');
}

/** Wraps `items` (text widths estimated) into lines no wider than `width` pixels. */
function layoutLegend(items, width, charWidth) {
  const lines = [[]];
  let x = 0;
  for (const item of items) {
    const w = 18 + item.length * charWidth + 18;
    if (x + w > width && lines[lines.length - 1].length > 0) {
      lines.push([]);
      x = 0;
    }
    lines[lines.length - 1].push({ text: item, x });
    x += w;
  }
  return lines;
}

/** The SVG text for `charts` (as returned by collectCharts). */
function renderSvg(charts, { title } = {}) {
  const ratios = [];
  for (const chart of charts) {
    for (const row of chart.rows) {
      for (const label of chart.competitors) {
        const r = speedup(chart, row.ours, row.others[label]);
        if (r !== undefined) ratios.push(r);
      }
    }
  }
  // One log scale for the whole chart, whole decades, always showing 1×.
  const lo = Math.min(0, Math.floor(Math.log10(Math.min(...ratios, 1))));
  const hi = Math.max(1, Math.ceil(Math.log10(Math.max(...ratios, 1))));
  const x = (r) => PLOT_X0 + ((Math.log10(r) - lo) / (hi - lo)) * (PLOT_X1 - PLOT_X0);

  const out = [];
  let y = 0;
  const text = (tx, ty, body, attrs = '') => out.push(`<text x='${tx.toFixed(1)}' y='${ty.toFixed(1)}' ${attrs}>${escapeXml(body)}</text>`);

  y += 30;
  text(LABEL_X, y, title ?? 'native-cache-manager: how many times faster than each competitor', "font-size='18' font-weight='bold'");
  y += 18;
  text(LABEL_X, y, 'Log scale; medians of the same run. Right of 1×: native-cache-manager faster; left: the competitor faster.', "font-size='12' fill='#444'");
  y += 10;

  for (const chart of charts) {
    y += 26;
    text(LABEL_X, y, `${chart.title}${chart.quick ? ' (smoke run)' : ''}`, "font-size='15' font-weight='bold'");
    y += 15;
    text(LABEL_X, y, `Ours: ${chart.ours}. Compared on ${chart.metric} (${chart.better} is better).`, "font-size='11' fill='#444'");
    y += 14;
    text(LABEL_X, y, envLine(chart.env), "font-size='10' fill='#666'");
    if (chart.note) {
      y += 13;
      text(LABEL_X, y, chart.note, "font-size='10' fill='#666'");
    }
    // Legend: one colour per competitor.
    const legend = layoutLegend(chart.competitors, WIDTH - 2 * LABEL_X, 6.2);
    for (const line of legend) {
      y += 17;
      for (const item of line) {
        const color = PALETTE[chart.competitors.indexOf(item.text) % PALETTE.length];
        out.push(`<rect x='${(LABEL_X + item.x).toFixed(1)}' y='${(y - 9).toFixed(1)}' width='12' height='10' fill='${color}'/>`);
        text(LABEL_X + item.x + 17, y, item.text, "font-size='11'");
      }
    }
    // Axis labels at every decade.
    y += 20;
    const top = y + 5;
    for (let d = lo; d <= hi; d++) {
      const r = 10 ** d;
      text(x(r), y, r >= 1 ? `${r}×` : `${r.toFixed(-d)}×`, "font-size='10' fill='#555' text-anchor='middle'");
    }
    const rowHeight = chart.competitors.length * (BAR_H + BAR_GAP) - BAR_GAP;
    const bottom = top + chart.rows.length * (rowHeight + ROW_GAP) + 2;
    out.push(`<rect x='${x(1).toFixed(1)}' y='${top}' width='${(PLOT_X1 - x(1)).toFixed(1)}' height='${bottom - top}' fill='#59a14f' fill-opacity='0.06'/>`);
    out.push(`<rect x='${PLOT_X0}' y='${top}' width='${(x(1) - PLOT_X0).toFixed(1)}' height='${bottom - top}' fill='#e15759' fill-opacity='0.06'/>`);
    for (let d = lo; d <= hi; d++) {
      const gx = x(10 ** d).toFixed(1);
      out.push(`<line x1='${gx}' y1='${top}' x2='${gx}' y2='${bottom}' stroke='${d === 0 ? '#333' : '#ccc'}' stroke-width='${d === 0 ? 1.2 : 0.8}'/>`);
    }
    let rowY = top + 2;
    for (const row of chart.rows) {
      text(LABEL_X, rowY + rowHeight / 2 + 4, row.label, "font-size='12'");
      chart.competitors.forEach((label, i) => {
        const by = rowY + i * (BAR_H + BAR_GAP);
        const r = speedup(chart, row.ours, row.others[label]);
        if (r === undefined) {
          text(x(1) + 4, by + BAR_H - 1, '–', "font-size='9' fill='#888'");
          return;
        }
        const x0 = Math.min(x(1), x(r));
        const w = Math.max(1, Math.abs(x(r) - x(1)));
        out.push(`<rect x='${x0.toFixed(1)}' y='${by.toFixed(1)}' width='${w.toFixed(1)}' height='${BAR_H}' fill='${PALETTE[i % PALETTE.length]}'><title>${escapeXml(`${row.label} vs ${label}: ${fmtRatio(r)}`)}</title></rect>`);
        text(Math.max(x(1), x(r)) + 4, by + BAR_H - 1, fmtRatio(r), "font-size='9' fill='#222'");
      });
      rowY += rowHeight + ROW_GAP;
    }
    y = bottom + 4;
  }
  y += 24;
  text(LABEL_X, y, 'Generated by bench/js/chart.js from the results of npm run bench and npm run bench:redis.', "font-size='10' fill='#666'");
  y += 12;
  return [
    `<svg xmlns='http://www.w3.org/2000/svg' width='${WIDTH}' height='${y}' viewBox='0 0 ${WIDTH} ${y}' ${FONT}>`,
    `<rect width='${WIDTH}' height='${y}' fill='#fff'/>`,
    ...out,
    '</svg>',
    '',
  ].join('\n');
}

/** Reads `files` (default: docs/benchmarks/*.json) and writes the chart to `out`. */
function writeChart({ out = DEFAULT_OUT, files } = {}) {
  const list = files && files.length > 0 ? files
    : fs.readdirSync(DEFAULT_DIR).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(DEFAULT_DIR, f));
  const charts = collectCharts(list);
  if (charts.length === 0) throw new Error(`no chart data in ${list.join(', ') || DEFAULT_DIR}`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, renderSvg(charts));
  return { out, files: list, panels: charts.length };
}

/**
 * Merges one scenario's results into a results file (created if absent): a run of some
 * scenarios replaces those and keeps the others, each with the environment it ran in.
 */
function saveResults(file, name, entry) {
  let data = { format: FORMAT, scenarios: {} };
  if (fs.existsSync(file)) {
    const old = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (old.format === FORMAT) data = old;
  }
  data.scenarios[name] = entry;
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(data, null, 1)}\n`);
}

/** The results files a chart is drawn from when `--chart` follows `--json file`: every one in its folder. */
function siblingsOf(file) {
  const dir = path.dirname(path.resolve(file));
  return fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(dir, f));
}

module.exports = { renderSvg, collectCharts, writeChart, saveResults, siblingsOf, speedup, FORMAT, DEFAULT_OUT, DEFAULT_DIR };

if (require.main === module) {
  try {
    const argv = process.argv.slice(2);
    let out = DEFAULT_OUT;
    const files = [];
    for (let i = 0; i < argv.length; i++) {
      if (argv[i] === '--out') out = argv[++i];
      else if (argv[i].startsWith('--')) throw new Error(`unknown argument '${argv[i]}' (usage: chart.js [--out file.svg] [results.json ...])`);
      else files.push(argv[i]);
    }
    const done = writeChart({ out, files });
    process.stderr.write(`chart: ${done.panels} panel(s) from ${done.files.length} file(s) -> ${done.out}\n`);
  } catch (error) {
    process.stderr.write(`chart: ${error.message}\n`);
    process.exitCode = 1;
  }
}
