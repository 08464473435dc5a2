'use strict';

/**
 * Runs scenarios: spawns the child processes, collects results and renders Markdown.
 * Used by run.js and by standalone benchmark programs such as serializers.js.
 */

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { RESULT_PREFIX } = require('./scenario');

const ROOT = path.join(__dirname, '..', '..', '..');

function packageVersion(name) {
  // Read from disk: some packages do not export their package.json.
  const file = name === 'native-cache-manager'
    ? path.join(ROOT, 'package.json')
    : path.join(ROOT, 'node_modules', ...name.split('/'), 'package.json');
  return JSON.parse(fs.readFileSync(file, 'utf8')).version;
}

/** The run's description as plain data: command, date, machine, versions. */
function environmentInfo({ program, packages, runs, extra = [] }) {
  const cpus = os.cpus();
  const args = process.argv.slice(2).join(' ');
  return {
    command: `node ${program}${args ? ` ${args}` : ''}`,
    date: new Date().toISOString(),
    machine: `${cpus.length} vCPU (${cpus[0]?.model.trim() ?? 'unknown CPU'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.platform()} ${os.release()}`,
    node: process.version,
    v8: process.versions.v8,
    packages: Object.fromEntries([...new Set(packages)].map((p) => [p, packageVersion(p)])),
    runs,
    extra,
  };
}

/** A Markdown list describing the run (from `environmentInfo` or its arguments). */
function environment(infoOrOptions) {
  const info = infoOrOptions.node ? infoOrOptions : environmentInfo(infoOrOptions);
  const versions = Object.entries(info.packages).map(([p, v]) => `${p} ${v}`).join(', ');
  return [
    `- command: \`${info.command}\``,
    `- date: ${info.date.slice(0, 10)}`,
    `- machine: ${info.machine}`,
    `- Node.js ${info.node} (V8 ${info.v8}); ${versions}`,
    `- ${info.runs} round(s); figures are medians over rounds, each job in a fresh child process`,
    ...info.extra.map((line) => `- ${line}`),
  ].join('\n');
}

/** Runs `jobs` of `scenario` in one child process; returns one result per job. */
function runJobs(scenario, jobs, quick) {
  const out = execFileSync(process.execPath, ['--expose-gc', scenario.file, JSON.stringify({ jobs, quick })], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 16 * 1024 * 1024,
  });
  const results = out.split('\n').filter((l) => l.startsWith(RESULT_PREFIX))
    .map((l) => JSON.parse(l.slice(RESULT_PREFIX.length)));
  if (results.length !== jobs.length) {
    throw new Error(`${scenario.name}: ${results.length} results for ${jobs.length} jobs`);
  }
  return results;
}

function rotate(list, by) {
  if (list.length === 0) return list;
  const k = by % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

/**
 * Runs every job of `scenario` for `runs` rounds (once if the scenario is deterministic).
 * Returns `{ text, done, charts }`: the Markdown section, the raw results
 * (`[{ job, results }]`) and the scenario's chart data (see chart.js), if it defines any.
 */
function runScenarioDetailed(scenario, { quick, runs, drivers }) {
  const ctx = { quick, drivers };
  const done = scenario.jobs(ctx).map((job) => ({ job, results: [] }));
  const rounds = scenario.repeat ? runs : 1;
  const started = Date.now();
  for (let round = 0; round < rounds; round++) {
    // Rotating the order keeps any competitor from always running first or last.
    const order = rotate(done, round);
    if (quick) {
      // Smoke run: one child for the whole scenario keeps it to seconds.
      const results = runJobs(scenario, order.map((e) => e.job), true);
      order.forEach((entry, i) => entry.results.push(results[i]));
    } else {
      for (const entry of order) entry.results.push(runJobs(scenario, [entry.job], false)[0]);
    }
  }
  process.stderr.write(`(${scenario.name}: ${done.length} jobs x ${rounds} round(s) in ${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  const text = `### ${scenario.title}\n\n${scenario.report(done, ctx)}\n`;
  const charts = scenario.charts ? scenario.charts(done, ctx) : [];
  return { text, done, charts };
}

/** Runs a scenario (see runScenarioDetailed) and returns its Markdown section. */
function runScenario(scenario, options) {
  return runScenarioDetailed(scenario, options).text;
}

module.exports = { environment, environmentInfo, runJobs, runScenario, runScenarioDetailed, packageVersion };
