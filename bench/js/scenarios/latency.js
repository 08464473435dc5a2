'use strict';

/**
 * Per-call get latency under churn: a store of 100,000 entries fed by a Zipf(0.8) trace
 * over 400,000 keys (get, then set on a miss), so sets evict all the time. The store
 * starts empty, so its growth is part of the run. Every get and every set is timed
 * individually; the timer's own cost is reported as a floor.
 */

const { defineScenario } = require('../lib/scenario');
const { zipfTrace } = require('../lib/random');
const { smallObject } = require('../lib/values');
const { median, percentile } = require('../lib/stats');

const hr = process.hrtime.bigint;

async function churn(driver, job, trace, names, record) {
  const store = driver.create({ maxEntries: job.capacity });
  const getNs = new Float64Array(trace.length);
  const setNs = new Float64Array(trace.length);
  let sets = 0;
  let hits = 0;
  for (let i = 0; i < trace.length; i++) {
    const key = names[trace[i]];
    let t0 = hr();
    const value = driver.async ? await store.get(key) : store.get(key);
    getNs[i] = Number(hr() - t0);
    if (value !== undefined) {
      hits++;
      continue;
    }
    const fresh = smallObject(trace[i]);
    t0 = hr();
    if (driver.async) await store.set(key, fresh);
    else store.set(key, fresh);
    setNs[sets++] = Number(hr() - t0);
  }
  if (record && store.size() > job.capacity) throw new Error(`${driver.name}: over capacity`);
  await store.close();
  return { getNs, setNs: setNs.subarray(0, sets), hits };
}

function timerFloorNs() {
  const samples = new Float64Array(10_000);
  for (let i = 0; i < samples.length; i++) {
    const t0 = hr();
    samples[i] = Number(hr() - t0);
  }
  return median(Array.from(samples));
}

const P = ['p50', 'p99', 'p99.9', 'max'];

function summarize(ns) {
  const sorted = Float64Array.from(ns).sort();
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), 'p99.9': percentile(sorted, 99.9), max: sorted[sorted.length - 1] };
}

defineScenario(module, {
  name: 'latency',
  title: 'latency under churn',
  jobs: ({ quick, drivers }) => drivers.map((d) => ({
    driver: d.name,
    capacity: quick ? 1_000 : 100_000,
    keys: quick ? 4_000 : 400_000,
    requests: quick ? 10_000 : 1_000_000,
    alpha: 0.8,
  })),

  async measure(job, { driver }) {
    const names = Array.from({ length: job.keys }, (_, i) => `key:${i}`);
    // Warm the code paths on a separate store and trace, then measure a fresh store.
    const warm = zipfTrace({ keys: job.keys, length: Math.min(job.requests, 200_000), alpha: job.alpha, seed: 11 });
    await churn(driver, { ...job, capacity: Math.max(1, job.capacity >> 2) }, warm, names, false);
    global.gc?.();
    const trace = zipfTrace({ keys: job.keys, length: job.requests, alpha: job.alpha, seed: 12 });
    const { getNs, setNs, hits } = await churn(driver, job, trace, names, true);
    return { get: summarize(getNs), set: summarize(setNs), hitRatio: hits / trace.length, timerNs: timerFloorNs() };
  },

  report(done, ctx) {
    const us = (ns) => (ns < 10_000 ? (ns / 1000).toFixed(2) : (ns / 1000).toFixed(0));
    const rows = ctx.drivers.filter((d) => done.some((e) => e.job.driver === d.name)).map((d) => {
      const rs = done.find((e) => e.job.driver === d.name).results;
      const m = (f) => median(rs.map(f));
      return `| ${d.label} | ${P.map((p) => us(m((r) => r.get[p]))).join(' | ')} | ${us(m((r) => r.set['p99.9']))} | ` +
        `${us(m((r) => r.set.max))} | ${(m((r) => r.hitRatio) * 100).toFixed(1)} % |`;
    });
    const job = done[0]?.job;
    const floor = median(done.flatMap((e) => e.results.map((r) => r.timerNs)));
    return [
      `Capacity ${job?.capacity.toLocaleString('en-US')} entries, Zipf(${job?.alpha}) over ${job?.keys.toLocaleString('en-US')} keys, ${job?.requests.toLocaleString('en-US')} requests (get, set on a miss), store starts empty. Times in µs per call, including the timer itself (${floor} ns).`,
      '',
      '| store | get p50 | get p99 | get p99.9 | get max | set p99.9 | set max | hit ratio |',
      '|---|---:|---:|---:|---:|---:|---:|---:|',
      ...rows,
    ].join('\n');
  },
});
