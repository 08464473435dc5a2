'use strict';

// What a long-lived client keeps of its secrets in JS: the shared registry's keys hold only
// digests of the password, TLS key and passphrase, and a client drops its own copies once
// the native side has them.
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { RedisStore } = require('../../lib');
const { resolveConnection } = require('../../lib/redis-options');
const { sharingKey, withoutSecrets } = require('../../lib/redis-registry');
const { makeCertificates } = require('../helpers/tls-certs');

let certs;
beforeAll(() => {
  certs = makeCertificates();
});
afterAll(() => certs.cleanup());

test('the sharing key holds digests of the password, key and passphrase, never the secrets; equal secrets still share', () => {
  const { cert, encryptedKey, passphrase } = certs.client;
  const password = 'a password 5d2e';
  const keyOf = (options) => sharingKey(withoutSecrets(resolveConnection('RedisStore', options)));
  const options = { url: 'rediss://127.0.0.1:6390', password, tls: { cert, key: encryptedKey, passphrase } };
  const key = keyOf(options);
  for (const secret of [password, passphrase, encryptedKey, encryptedKey.split('\n')[1]]) {
    expect(key).not.toContain(secret);
  }
  expect(keyOf(options)).toBe(key);
  expect(keyOf({ ...options, password: `${password}!` })).not.toBe(key);
  expect(keyOf({ ...options, tls: { cert, key: encryptedKey, passphrase: `${passphrase}!` } })).not.toBe(key);
  expect(keyOf({ ...options, tls: { cert, key: certs.client.key } })).not.toBe(key);
  expect(keyOf({ url: 'redis://127.0.0.1:6390' })).toBe(keyOf({ url: 'redis://127.0.0.1:6390', password: '' }));

  // Stores share a client exactly when the secrets are equal (no server needed: a store
  // connects on its first command).
  const a = new RedisStore(options);
  const b = new RedisStore({ ...options });
  const c = new RedisStore({ ...options, password: 'another password' });
  expect(b.client).toBe(a.client);
  expect(c.client).not.toBe(a.client);
  expect(a.client.config.password).toBe('***');
  expect(a.client.config.tls.key).toBe('***');
  expect(a.client.config.tls.passphrase).toBe('***');
  return Promise.all([a, b, c].map((s) => s.disconnect()));
});

test('a client keeps no JS copy of its password, key or passphrase once it is constructed', () => {
  // In a fresh process, with secrets made at run time (so no source text holds them): after
  // the constructor returns and the caller has dropped its options, a heap snapshot (taken
  // after a full collection) must not contain any of them.
  const script = `
    const crypto = require('node:crypto');
    const fs = require('node:fs');
    const v8 = require('node:v8');
    const { RedisClient } = require(${JSON.stringify(path.join(__dirname, '..', '..'))});
    const fresh = () => crypto.randomBytes(12).toString('hex');
    const marks = { password: fresh(), passphrase: fresh(), keyMark: fresh() };
    // Joined through a Buffer: one flat string the snapshot shows whole.
    const flat = (parts) => Buffer.from(parts.join('')).toString('latin1');
    const clients = [];
    (() => {
      const key = fs.readFileSync(${JSON.stringify(certs.client.keyFile)}, 'latin1');
      clients.push(new RedisClient('rediss://127.0.0.1:6390', {
        password: flat(['pw-', marks.password]),
        tls: { cert: fs.readFileSync(${JSON.stringify(certs.client.certFile)}, 'latin1'),
          key: flat([key, '# ', marks.keyMark, '\\n']), passphrase: flat(['pp-', marks.passphrase]) },
      }));
    })();
    const file = v8.writeHeapSnapshot();
    const text = fs.readFileSync(file, 'utf8');
    fs.unlinkSync(file);
    const found = Object.entries({ password: 'pw-' + marks.password, passphrase: 'pp-' + marks.passphrase, key: '# ' + marks.keyMark })
      .filter(([, secret]) => text.includes(secret)).map(([name]) => name);
    console.log(JSON.stringify({ found, config: clients[0].config.password }));
    clients[0].destroy();`;
  const run = spawnSync(process.execPath, ['-e', script], { cwd: certs.dir, encoding: 'utf8', timeout: 60_000 });
  expect(run.stderr).toBe('');
  expect(JSON.parse(run.stdout)).toEqual({ found: [], config: '***' });
});
