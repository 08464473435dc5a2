'use strict';

/**
 * The on-Redis value format shared with Keyv 5: the text Keyv's default serializer
 * (`@keyv/serialize`) produces for `{ value, expires }`, so entries written by
 * cache-manager + Keyv + `@keyv/redis` and entries written by RedisStore read the same.
 *
 * Rules of that format, implemented here independently and checked against the real
 * package in test/integration/redis-interop.test.js:
 * - JSON text; `expires` (epoch ms) is left out when there is no expiry, and `value` when
 *   it is undefined (`{}`, which reads back as undefined);
 * - a string starting with ':' gets one more ':' in front (so it cannot look like a tag);
 * - a Buffer becomes the string ':base64:<base64>';
 * - objects with toJSON (Date) are stored as their toJSON() result; undefined object
 *   properties and functions are dropped; undefined in arrays becomes null;
 * - BigInt and Symbol cannot be stored (SerializationError).
 */

const { SerializationError } = require('./errors');
const { jsonQuote } = require('./binding');

// From this length on, the addon's jsonQuote beats Node 20's JSON.stringify of a string,
// which escapes about 2 ns per character here (64 units: 113 against 175 ns; 4 KiB: 2.2
// against 7.4 us). Below it, the call costs more than it saves.
const NATIVE_QUOTE_FROM = 64;

/** JSON.stringify(text), natively for long text. */
function quote(text) {
  // typeof: an addon built before jsonQuote existed (NATIVE_CACHE_MANAGER_ADDON) still works.
  if (text.length >= NATIVE_QUOTE_FROM && typeof jsonQuote === 'function') {
    const quoted = jsonQuote(text);
    if (quoted !== undefined) return quoted;
  }
  return JSON.stringify(text);
}

function serialize(data, escapeColon) {
  if (data === undefined || data === null) return 'null';
  if (typeof data === 'string') {
    return quote(escapeColon && data.charCodeAt(0) === 58 ? `:${data}` : data);
  }
  if (Buffer.isBuffer(data)) return quote(`:base64:${data.toString('base64')}`);
  if (typeof data.toJSON === 'function') data = data.toJSON();
  if (typeof data === 'object' && data !== null) {
    const isArray = Array.isArray(data);
    const parts = [];
    for (const k in data) {
      if (!Object.hasOwn(data, k)) continue;
      const item = data[k];
      if (typeof item === 'function') continue;
      if (isArray) parts.push(serialize(item, escapeColon));
      else if (item !== undefined) parts.push(`${JSON.stringify(k)}:${serialize(item, escapeColon)}`);
    }
    return isArray ? `[${parts.join(',')}]` : `{${parts.join(',')}}`;
  }
  if (typeof data === 'symbol') throw new SerializationError('a Symbol cannot be stored in Redis');
  try {
    return JSON.stringify(data);
  } catch (error) {
    throw new SerializationError(`value cannot be stored in the Keyv format: ${error.message}`, { cause: error });
  }
}

/**
 * @param {unknown} value
 * @param {number|undefined} expires epoch ms, or undefined for no expiry
 * @returns {string}
 */
function encodeEnvelope(value, expires) {
  // Like any undefined property, an undefined value is left out: `{}` reads back undefined.
  if (value === undefined) return expires === undefined ? '{}' : `{"expires":${expires}}`;
  const body = `{"value":${serialize(value, true)}`;
  return expires === undefined ? `${body}}` : `${body},"expires":${expires}}`;
}

function revive(_key, value) {
  if (typeof value === 'string' && value.charCodeAt(0) === 58) {
    return value.startsWith(':base64:') ? Buffer.from(value.slice(8), 'base64') : value.slice(1);
  }
  return value;
}

const isJsonSpace = (c) => c === 32 || c === 9 || c === 10 || c === 13;

/**
 * Whether JSON `text` may hold a string value that starts with ':' (a tag `revive` undoes).
 * Such a value's opening quote is followed by ':' and comes first in the text or after
 * ':', ',' or '[' (spaces aside). A quote inside a string is escaped, and a key's closing
 * quote follows the key's last character, so any other '":' is no tag; a key that ends in
 * ',' or ':' only sends the text to the slower parse. A colon may also be written as the
 * escape \u003a (Keyv never does, another writer may): any \u003 sends the text there too.
 * @param {string} text
 */
function mayHoldTag(text) {
  if (text.includes('\\u003')) return true;
  for (let at = text.indexOf('":'); at !== -1; at = text.indexOf('":', at + 2)) {
    let i = at - 1;
    while (i >= 0 && isJsonSpace(text.charCodeAt(i))) i--;
    if (i < 0) return true;
    const c = text.charCodeAt(i);
    if (c === 58 || c === 44 || c === 91) return true; // ':' ',' '['
  }
  return false;
}

/**
 * @param {string} text
 * @returns {{value: unknown, expires: number|undefined}|undefined} undefined if the text is
 *   not an envelope
 */
function decodeEnvelope(text) {
  let data;
  try {
    // A reviver makes V8's JSON.parse 2-4x slower (0.7 against 2.9 us for a small object
    // here): only text that may hold a tagged string needs it.
    data = mayHoldTag(text) ? JSON.parse(text, revive) : JSON.parse(text);
  } catch (error) {
    throw new SerializationError(`entry is not in the Keyv format: ${error.message}`, { cause: error });
  }
  if (data === null || typeof data !== 'object') return undefined;
  return { value: data.value, expires: typeof data.expires === 'number' ? data.expires : undefined };
}

module.exports = { encodeEnvelope, decodeEnvelope, mayHoldTag, serializeKeyvValue: (v) => serialize(v, true) };
