'use strict';

// Certificates for the TLS tests, made with the `openssl` CLI into a temporary folder (never
// checked in, never reused across runs):
//   ca            the test CA (self-signed root)
//   server        signed by ca, for 127.0.0.1 and localhost
//   selfSigned    a self-signed server certificate for 127.0.0.1 and localhost
//   wrongHost     signed by ca, for wrong.example only
//   expired       signed by ca, for 127.0.0.1 and localhost, expired (notAfter before now)
//   clientOnly    signed by ca, for 127.0.0.1 and localhost, but its extended key usage is
//                 clientAuth only (no serverAuth): not valid for a server
//   client        signed by ca, a client certificate; `client.encryptedKey` is its key
//                 encrypted with `client.passphrase`
//   otherCa       an unrelated CA that signed nothing here
// Each entry: { cert, key, certFile, keyFile } (PEM strings and their files).
// `makeCertificates({ serverOnly: true })` makes only `ca` and `server` (what a TLS server
// and its verifying clients need); `serverNames` replaces the server certificate's names
// (e.g. 'DNS:localhost' alone: a certificate that names no IP address, as managed services
// issue them); `serverUsage` its extended key usage (default 'serverAuth'; a cluster's nodes
// present their certificate as clients on the cluster bus too: 'serverAuth,clientAuth').
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

// EC keys: a fraction of the time RSA keys take to make on a busy machine.
const KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];

function openssl(args, cwd) {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCertificates(options = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ncm-tls-'));
  try {
    return makeIn(dir, options);
  } catch (error) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

function makeIn(dir, { serverOnly = false, serverNames = 'DNS:localhost,IP:127.0.0.1', serverUsage = 'serverAuth' }) {
  const read = (name) => ({
    cert: fs.readFileSync(path.join(dir, `${name}.crt`), 'latin1'),
    key: fs.readFileSync(path.join(dir, `${name}.key`), 'latin1'),
    certFile: path.join(dir, `${name}.crt`),
    keyFile: path.join(dir, `${name}.key`),
  });
  const root = (name, cn) => openssl(['req', '-x509', ...KEY, '-nodes', '-keyout', `${name}.key`,
    '-out', `${name}.crt`, '-days', '3650', '-subj', `/CN=${cn}`], dir);
  // `days` -1 gives a notAfter a day before the notBefore (now): an expired certificate,
  // without faketime and with the OpenSSL 3.0 CLI.
  const signed = (name, cn, san, { days = 365, extendedKeyUsage = 'serverAuth' } = {}) => {
    fs.writeFileSync(path.join(dir, `${name}.ext`),
      `${san ? `subjectAltName=${san}\n` : ''}extendedKeyUsage=${extendedKeyUsage}\n`);
    openssl(['req', ...KEY, '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`,
      '-subj', `/CN=${cn}`], dir);
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
      '-out', `${name}.crt`, '-days', String(days), '-extfile', `${name}.ext`], dir);
  };
  const cleanup = () => fs.rmSync(dir, { recursive: true, force: true });
  root('ca', 'ncm test CA');
  signed('server', 'localhost', serverNames, { extendedKeyUsage: serverUsage });
  if (serverOnly) return { dir, ca: read('ca'), server: read('server'), cleanup };
  root('other-ca', 'ncm other CA');
  signed('wrong-host', 'wrong.example', 'DNS:wrong.example');
  signed('expired', 'localhost', 'DNS:localhost,IP:127.0.0.1', { days: -1 });
  signed('client-only', 'localhost', 'DNS:localhost,IP:127.0.0.1', { extendedKeyUsage: 'clientAuth' });
  signed('client', 'ncm test client', undefined, { extendedKeyUsage: 'clientAuth' });
  openssl(['req', '-x509', ...KEY, '-nodes', '-keyout', 'self-signed.key', '-out', 'self-signed.crt',
    '-days', '365', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], dir);
  const passphrase = 'client key passphrase 7f3a';
  openssl(['pkey', '-in', 'client.key', '-aes256', '-passout', `pass:${passphrase}`, '-out', 'client-encrypted.key'], dir);
  return {
    dir,
    ca: read('ca'),
    otherCa: read('other-ca'),
    server: read('server'),
    selfSigned: read('self-signed'),
    wrongHost: read('wrong-host'),
    expired: read('expired'),
    clientOnly: read('client-only'),
    client: {
      ...read('client'),
      passphrase,
      encryptedKey: fs.readFileSync(path.join(dir, 'client-encrypted.key'), 'latin1'),
    },
    cleanup,
  };
}

module.exports = { makeCertificates };
