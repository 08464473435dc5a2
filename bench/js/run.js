#!/usr/bin/env node
'use strict';

/**
 * Runs the memory-store benchmarks and prints Markdown tables.
 *
 *   node bench/js/run.js [--quick] [--only a,b] [--drivers a,b] [--runs N] [--out file.md]
 *                        [--json results.json] [--chart chart.svg] [--list]
 *
 *   --quick     tiny inputs and one round: a smoke run that takes seconds
 *   --only      scenario names (default: all); `--list` prints scenarios and drivers
 *   --drivers   driver names (default: all)
 *   --runs      rounds for the timed scenarios (default 3); each round runs every job once,
 *               in a fresh child process, and tables report the median over rounds
 *   --out       also write the Markdown to this file
 *   --json      also write the results (raw figures, tables, chart data, environment) to
 *               this JSON file; scenarios already in it that were not run are kept
 *   --chart     then draw the SVG chart (bench/js/chart.js) from every *.json file in the
 *               --json file's folder (so `npm run bench:redis` results join the chart)
 *
 * Every job runs in its own `node --expose-gc` child so that heap state, JIT feedback and
 * allocator state of one competitor never leak into another's figures (a --quick smoke run
 * uses one child per scenario instead). Jobs of a round are interleaved across
 * competitors, so background noise hits them alike.
 *
 * To add a scenario, add a file to scenarios/ (see lib/scenario.js) and its name below; to
 * add a competitor, add a driver (see drivers/index.js).
 */

const fs = require('node:fs');
const path = require('node:path');
const { driverNames, loadDriver } = require('./drivers');
const { environment, environmentInfo, runScenarioDetailed } = require('./lib/runner');
const chart = require('./chart');

const SCENARIOS = ['get-hit', 'get-miss', 'set', 'cache', 'hit-ratio', 'memory', 'latency'];

function parseArgs(argv) {
  const args = { quick: false, only: SCENARIOS, drivers: driverNames, runs: undefined, out: undefined, json: undefined, chart: undefined, list: false };
  const list = (v) => String(v ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (let i = 0; i < argv.length; i++) {
    const eq = argv[i].indexOf('=');
    const flag = eq < 0 ? argv[i] : argv[i].slice(0, eq);
    const value = () => (eq < 0 ? argv[++i] : argv[i].slice(eq + 1));
    switch (flag) {
      case '--quick': args.quick = true; break;
      case '--list': args.list = true; break;
      case '--only': args.only = list(value()); break;
      case '--drivers': args.drivers = list(value()); break;
      case '--runs': args.runs = Number(value()); break;
      case '--out': args.out = value(); break;
      case '--json': args.json = value(); break;
      case '--chart': args.chart = value(); break;
      default: throw new Error(`unknown argument '${argv[i]}' (see the comment at the top of bench/js/run.js)`);
    }
  }
  for (const s of args.only) {
    if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario '${s}'; known: ${SCENARIOS.join(', ')}`);
  }
  for (const d of args.drivers) {
    if (!driverNames.includes(d)) throw new Error(`unknown driver '${d}'; known: ${driverNames.join(', ')}`);
  }
  if (args.chart !== undefined && args.json === undefined) throw new Error('--chart needs --json (the chart is drawn from the results files)');
  if (args.runs === undefined) args.runs = args.quick ? 1 : 3;
  if (!Number.isInteger(args.runs) || args.runs < 1) throw new Error(`--runs must be a positive integer; received ${args.runs}`);
  return args;
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.list) {
    process.stdout.write(`scenarios: ${SCENARIOS.join(', ')}\ndrivers: ${driverNames.join(', ')}\n`);
    return;
  }
  const drivers = args.drivers.map(loadDriver);
  const packages = [...drivers.map((d) => d.package), ...(args.only.includes('cache') ? ['cache-manager', 'keyv', '@cacheable/memory'] : [])];
  const env = environmentInfo({ program: 'bench/js/run.js', packages, runs: args.runs });
  const sections = [environment(env)];
  process.stdout.write(`${sections[0]}\n\n`);
  for (const name of args.only) {
    const scenario = require(path.join(__dirname, 'scenarios', `${name}.js`));
    const { text, done, charts } = runScenarioDetailed(scenario, { quick: args.quick, runs: args.runs, drivers });
    sections.push(text);
    process.stdout.write(`${text}\n`);
    if (args.json) {
      chart.saveResults(args.json, name, { title: scenario.title, quick: args.quick, env, markdown: text, charts, results: done });
    }
  }
  if (args.out) fs.writeFileSync(args.out, `${sections.join('\n')}\n`);
  if (args.chart) {
    const drawn = chart.writeChart({ out: args.chart, files: chart.siblingsOf(args.json) });
    process.stderr.write(`(chart: ${drawn.panels} panel(s) from ${drawn.files.map((f) => path.relative(process.cwd(), f)).join(', ')} -> ${path.relative(process.cwd(), drawn.out)})\n`);
  }
}

try {
  main();
} catch (error) {
  process.stderr.write(`bench: ${error.message}\n`);
  process.exitCode = 1;
}
