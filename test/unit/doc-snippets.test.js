'use strict';

// Every ```js / ```javascript block of README.md and docs/*.md runs as written, each in its
// own `node` process with the repository root as cwd, where `require('native-cache-manager')`
// and `import … from 'native-cache-manager'` resolve to this repository. A block with an
// `import` or `export` statement runs as an ES module (.mjs), any other as CommonJS (.cjs).
// Blocks that use Redis get a throwaway redis-server through REDIS_URL (the documented
// convention: `process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'`), flushed before each block;
// blocks that use TLS get a throwaway TLS redis-server through REDIS_TLS_URL (rediss://) and
// the file of the CA that signed its certificate through REDIS_TLS_CA. REDIS_TLS_TRUSTED_URL
// is the same server for blocks that connect with no `ca`, as to a managed service whose
// certificate Node's root certificates verify: their process names that CA in
// NODE_EXTRA_CA_CERTS. REDIS_TLS_SELF_SIGNED_URL is a TLS redis-server with a self-signed
// certificate, and REDIS_TLS_SELF_SIGNED_CERT the file of that certificate.
// REDIS_CLUSTER_URL is a seed of a throwaway 3-primary Redis Cluster; REDIS_SENTINEL_URLS the
// comma-separated urls of the sentinels watching a throwaway primary named 'mymaster'.
// A block may be left out only with a visible reason on the line before its fence:
//   <!-- snippet-skip: why this block cannot run on its own -->
// Code that cannot run standalone (Next.js files, TypeScript, shell) uses another fence
// language (```jsx, ```ts, ```sh, …) and is not run. The second part checks that every
// relative link of these files resolves (file, and heading anchor when there is one).

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { startRedis } = require('../helpers/redis-server');
const { startCluster } = require('../helpers/redis-cluster');
const { startSentinels } = require('../helpers/redis-sentinel');
const { makeCertificates } = require('../helpers/tls-certs');

const ROOT = path.join(__dirname, '..', '..');
const SNIPPET_TIMEOUT_MS = 60_000;
const RUNS_JS = new Set(['js', 'javascript']);

function docFiles() {
  const docs = path.join(ROOT, 'docs');
  const inDocs = fs.existsSync(docs)
    ? fs.readdirSync(docs).filter((name) => name.endsWith('.md')).sort().map((name) => path.join('docs', name))
    : [];
  return ['README.md', ...inDocs];
}

/** Fenced blocks of a Markdown file: { file, line, lang, code, skip }. */
function fencedBlocks(file) {
  const lines = fs.readFileSync(path.join(ROOT, file), 'utf8').split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,})\s*([\w+-]*)/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, lang] = open;
    const body = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      if (lines[j].trim().startsWith(fence) && lines[j].trim().replace(/`/g, '') === '') break;
      body.push(lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j]);
    }
    let before = i - 1;
    while (before >= 0 && lines[before].trim() === '') before--;
    const skip = before >= 0 ? /<!--\s*snippet-skip:\s*(.*?)\s*-->/.exec(lines[before]) : null;
    blocks.push({ file, line: i + 1, lang: lang.toLowerCase(), code: `${body.join('\n')}\n`, skip: skip && skip[1] });
    i = j;
  }
  return blocks;
}

const allBlocks = docFiles().flatMap(fencedBlocks);
const snippets = allBlocks.filter((block) => RUNS_JS.has(block.lang));
const isModule = (code) => /^\s*(import\s[^(]|import\s*['"{*]|export\s)/m.test(code);
const usesRedis = (code) => /RedisStore|RedisClient|REDIS_URL|@keyv\/redis/.test(code);
const usesTls = (code) => /REDIS_TLS_URL|REDIS_TLS_TRUSTED_URL/.test(code);
const usesTrustedTls = (code) => /REDIS_TLS_TRUSTED_URL/.test(code);
const usesSelfSigned = (code) => /REDIS_TLS_SELF_SIGNED_URL/.test(code);
const usesCluster = (code) => /REDIS_CLUSTER_URL/.test(code);
const usesSentinel = (code) => /REDIS_SENTINEL_URLS/.test(code);

/**
 * A directory whose node_modules holds `native-cache-manager` (a link to this repository)
 * and links to every package of the repository's own node_modules.
 */
function makeSandbox() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ncm-doc-snippets-'));
  const modules = path.join(dir, 'node_modules');
  fs.mkdirSync(modules);
  for (const name of fs.readdirSync(path.join(ROOT, 'node_modules'))) {
    if (name.startsWith('.') || name === 'native-cache-manager') continue;
    fs.symlinkSync(path.join(ROOT, 'node_modules', name), path.join(modules, name));
  }
  fs.symlinkSync(ROOT, path.join(modules, 'native-cache-manager'), 'dir');
  return dir;
}

function runNode(file, env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data) => { stdout += data; });
    child.stderr.on('data', (data) => { stderr += data; });
    const timer = setTimeout(() => child.kill('SIGKILL'), SNIPPET_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

describe('documentation snippets', () => {
  let sandbox;
  let redis;
  let certs;
  let tlsRedis;
  let selfSignedRedis;
  let cluster;
  let sentinels;

  beforeAll(async () => {
    if (snippets.some((s) => !s.skip && usesCluster(s.code))) cluster = await startCluster({ replicas: 0 });
    if (snippets.some((s) => !s.skip && usesSentinel(s.code))) sentinels = await startSentinels({ replicas: 0, sentinels: 1 });
    sandbox = makeSandbox();
    if (snippets.some((s) => !s.skip && usesRedis(s.code))) redis = await startRedis();
    if (snippets.some((s) => !s.skip && (usesTls(s.code) || usesSelfSigned(s.code)))) certs = makeCertificates();
    if (snippets.some((s) => !s.skip && usesTls(s.code))) {
      tlsRedis = await startRedis({ tls: { certFile: certs.server.certFile, keyFile: certs.server.keyFile } });
    }
    if (snippets.some((s) => !s.skip && usesSelfSigned(s.code))) {
      selfSignedRedis = await startRedis({ tls: { certFile: certs.selfSigned.certFile, keyFile: certs.selfSigned.keyFile } });
    }
  }, 90_000);

  afterAll(async () => {
    if (cluster) await cluster.cleanup();
    if (sentinels) await sentinels.cleanup();
    if (redis) await redis.cleanup();
    if (tlsRedis) await tlsRedis.cleanup();
    if (selfSignedRedis) await selfSignedRedis.cleanup();
    if (certs) certs.cleanup();
    if (sandbox) fs.rmSync(sandbox, { recursive: true, force: true });
  });

  test('the documents hold runnable snippets, and every left-out one says why', () => {
    expect(snippets.length).toBeGreaterThan(0);
    for (const s of snippets.filter((block) => block.skip !== null)) {
      expect(`${s.file}:${s.line} ${s.skip}`).toMatch(/:\d+ \S.{9,}/);
    }
  });

  const runnable = snippets.filter((s) => s.skip === null);
  test.each(runnable.map((s) => [`${s.file}:${s.line}`, s]))('%s runs and exits cleanly', async (_, s) => {
    const name = `${s.file.replace(/[^\w]+/g, '_')}_${s.line}${isModule(s.code) ? '.mjs' : '.cjs'}`;
    const file = path.join(sandbox, name);
    fs.writeFileSync(file, s.code);
    const env = { ...process.env };
    delete env.NODE_OPTIONS; // Jest's own flags are not the reader's
    if (usesRedis(s.code)) {
      await redis.cli('FLUSHALL');
      env.REDIS_URL = redis.url;
    } else {
      delete env.REDIS_URL;
    }
    if (usesTls(s.code)) {
      env.REDIS_TLS_URL = tlsRedis.url;
      env.REDIS_TLS_CA = certs.ca.certFile;
    } else {
      delete env.REDIS_TLS_URL;
      delete env.REDIS_TLS_CA;
    }
    if (usesTrustedTls(s.code)) {
      env.REDIS_TLS_TRUSTED_URL = tlsRedis.url;
      env.NODE_EXTRA_CA_CERTS = certs.ca.certFile;
    } else {
      delete env.REDIS_TLS_TRUSTED_URL;
    }
    if (usesSelfSigned(s.code)) {
      env.REDIS_TLS_SELF_SIGNED_URL = selfSignedRedis.url;
      env.REDIS_TLS_SELF_SIGNED_CERT = certs.selfSigned.certFile;
    } else {
      delete env.REDIS_TLS_SELF_SIGNED_URL;
      delete env.REDIS_TLS_SELF_SIGNED_CERT;
    }
    if (usesCluster(s.code)) env.REDIS_CLUSTER_URL = cluster.urls[0];
    else delete env.REDIS_CLUSTER_URL;
    if (usesSentinel(s.code)) env.REDIS_SENTINEL_URLS = sentinels.urls().join(',');
    else delete env.REDIS_SENTINEL_URLS;
    const result = await runNode(file, env);
    const report = `${s.file}:${s.line} (${name})\nexit ${result.code} ${result.signal ?? ''}\n` +
      `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
    expect({ code: result.code, signal: result.signal, stderr: result.stderr, report })
      .toEqual({ code: 0, signal: null, stderr: '', report });
  }, SNIPPET_TIMEOUT_MS + 10_000);
});

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to dashes. */
function slug(heading) {
  return heading.trim().toLowerCase()
    .replace(/<[^>]+>/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchorsOf(file) {
  const text = fs.readFileSync(file, 'utf8').replace(/^```[\s\S]*?^```/gm, '');
  const seen = new Map();
  const anchors = new Set();
  for (const match of text.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = slug(match[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

describe('documentation links', () => {
  test.each(docFiles())('every relative link of %s resolves', (file) => {
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8').replace(/^\s*```[\s\S]*?^\s*```/gm, '');
    const broken = [];
    for (const match of text.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = match[1];
      if (/^[a-z]+:/i.test(target)) continue; // https:, mailto:, …
      const [filePart, anchor] = target.split('#');
      const resolved = filePart === '' ? path.join(ROOT, file) : path.resolve(path.dirname(path.join(ROOT, file)), filePart);
      if (!fs.existsSync(resolved)) {
        broken.push(`${target} (no such file)`);
      } else if (anchor !== undefined && resolved.endsWith('.md') && !anchorsOf(resolved).has(anchor)) {
        broken.push(`${target} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });
});
