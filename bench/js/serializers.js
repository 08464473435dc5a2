#!/usr/bin/env node
'use strict';

/**
 * Which codec should MemoryStore use by default? Compares the codecs of lib/serializer.js
 * exactly as the store calls them: `json` (JSON.stringify/parse), `v8` (v8.serialize /
 * deserialize, the structured-clone format) and `auto` (strings as they are, JSON-safe
 * data as JSON, everything else as v8).
 *
 *   node bench/js/serializers.js [--quick] [--runs N]
 *
 * Prints encode and decode ns/op (medians over rounds, each job in a fresh child process),
 * payload size, and whether the value comes back exactly (util.isDeepStrictEqual).
 */

const { isDeepStrictEqual } = require('node:util');
const { defineScenario, isChildInvocation } = require('./lib/scenario');
const { measureThroughput } = require('./lib/throughput');
const { smallObject, smallString, largeObject, largeString } = require('./lib/values');
const { median } = require('./lib/stats');
const { fmtNs } = require('./lib/ops-table');
const { autoCodec, jsonCodec, v8Codec } = require('../../lib/serializer');

const CODECS = { json: jsonCodec, v8: v8Codec, auto: autoCodec };

const VALUES = {
  'object-60B': { label: 'object ~60 B', make: smallObject },
  'object-4KiB': { label: 'object ~4 KiB', make: largeObject },
  'string-60B': { label: 'string 60 B', make: smallString },
  'string-4KiB': { label: 'string 4 KiB', make: largeString },
  'date-map': {
    label: 'object with Date and Map',
    make: (i) => ({ id: i, at: new Date(1_700_000_000_000 + i), roles: new Map([['admin', true], ['editor', false]]) }),
  },
};

function payloadBytes(payload) {
  return typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength;
}

const scenario = defineScenario(module, {
  name: 'serializers',
  title: 'serializers: encode / decode ns per value, payload bytes',
  jobs: ({ quick }) => Object.keys(VALUES).flatMap((value) => Object.keys(CODECS).map((codec) => ({ codec, value, quick }))),

  async measure(job, { quick }) {
    const codec = CODECS[job.codec];
    const values = Array.from({ length: 64 }, (_, i) => VALUES[job.value].make(i));
    const out = { tag: 0 };
    const encoded = values.map((v) => {
      const payload = codec.encode(v, out);
      return { payload, tag: out.tag };
    });
    const exact = values.every((v, i) => isDeepStrictEqual(codec.decode(encoded[i].tag, encoded[i].payload), v));
    let sink = 0;
    let pos = 0;
    const encode = await measureThroughput((n) => {
      for (let i = 0; i < n; i++) sink += payloadBytes(codec.encode(values[pos++ & 63], out)) & 1;
    }, { quick });
    const decode = await measureThroughput((n) => {
      for (let i = 0; i < n; i++) {
        const e = encoded[pos++ & 63];
        if (codec.decode(e.tag, e.payload) !== undefined) sink++;
      }
    }, { quick });
    return { encodeNs: encode.nsPerOp, decodeNs: decode.nsPerOp, bytes: payloadBytes(encoded[0].payload), exact, sink };
  },

  report(done) {
    const cell = new Map(done.map((e) => [`${e.job.value}|${e.job.codec}`, e.results]));
    const codecs = Object.keys(CODECS);
    const head = `| value | ${codecs.map((c) => `${c}: encode / decode ns, bytes`).join(' | ')} |`;
    const sep = `|---|${codecs.map(() => '---:').join('|')}|`;
    const rows = Object.entries(VALUES).map(([key, { label }]) => {
      const cells = codecs.map((c) => {
        const rs = cell.get(`${key}|${c}`);
        if (!rs) return '–';
        const m = (f) => median(rs.map(f));
        const exact = rs.every((r) => r.exact) ? '' : ' (changed)';
        return `${fmtNs(m((r) => r.encodeNs))} / ${fmtNs(m((r) => r.decodeNs))}, ${rs[0].bytes} B${exact}`;
      });
      return `| ${label} | ${cells.join(' | ')} |`;
    });
    return [
      '"(changed)": the value does not come back deep-equal (JSON turns a Date into a string and a Map into `{}`).',
      '',
      head, sep, ...rows,
    ].join('\n');
  },
});

if (require.main === module && !isChildInvocation()) {
  const { environment, runScenario } = require('./lib/runner');
  const argv = process.argv.slice(2);
  const quick = argv.includes('--quick');
  const runsAt = argv.indexOf('--runs');
  const runs = runsAt >= 0 ? Number(argv[runsAt + 1]) : (quick ? 1 : 3);
  try {
    if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer; received ${argv[runsAt + 1]}`);
    const unknown = argv.filter((a, i) => a !== '--quick' && a !== '--runs' && !(runsAt >= 0 && i === runsAt + 1));
    if (unknown.length > 0) throw new Error(`unknown argument '${unknown[0]}'; use --quick and --runs N`);
    process.stdout.write(`${environment({ program: 'bench/js/serializers.js', packages: ['native-cache-manager'], runs })}\n\n`);
    process.stdout.write(`${runScenario(scenario, { quick, runs, drivers: [] })}\n`);
  } catch (error) {
    process.stderr.write(`serializers: ${error.message}\n`);
    process.exitCode = 1;
  }
}
