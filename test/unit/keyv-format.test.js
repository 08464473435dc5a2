'use strict';

// decodeEnvelope parses without a reviver when the text cannot hold a tagged string
// (a string value starting with ':'); these check that shortcut against Keyv's own
// deserializer on values built to trip it.
const { defaultSerialize, defaultDeserialize } = require('@keyv/serialize');
const { decodeEnvelope, mayHoldTag } = require('../../lib/keyv-format');
const { seededInts } = require('../helpers/random');

const STRINGS = ['plain', ':tag', '::two', ':base64:AAEC', 'a":b', 'x,', 'y:', '[', '"', '\\', '\\":', ',":', '', 'é🙂'];
const KEYS = ['k', 'a,', 'b:', ':c', '[', 'q"', 'e\\', 'value', 'expires'];

function randomValue(pick, depth) {
  const kind = pick(depth > 2 ? 4 : 6);
  if (kind === 0) return STRINGS[pick(STRINGS.length)];
  if (kind === 1) return pick(1000) - 500;
  if (kind === 2) return [true, false, null][pick(3)];
  if (kind === 3) return Buffer.from([pick(256), pick(256)]);
  if (kind === 4) return Array.from({ length: pick(4) }, () => randomValue(pick, depth + 1));
  const object = {};
  for (let i = pick(4); i > 0; i--) object[KEYS[pick(KEYS.length)]] = randomValue(pick, depth + 1);
  return object;
}

/** The same JSON with spaces and line breaks around every token. */
const spaced = (text) => JSON.stringify(JSON.parse(text), null, 2);

test('reads what Keyv reads, on 5,000 values full of colons, quotes and odd keys, compact and spaced', () => {
  const pick = seededInts(0x5eed);
  let tagged = 0;
  for (let n = 0; n < 5000; n++) {
    const value = randomValue(pick, 0);
    const text = defaultSerialize({ value, expires: n % 2 === 0 ? 1_700_000_000_000 + n : undefined });
    for (const form of [text, spaced(text)]) {
      const ours = decodeEnvelope(form);
      const theirs = defaultDeserialize(form);
      expect(ours.value).toEqual(theirs.value);
      expect(ours.expires).toBe(theirs.expires);
    }
    if (mayHoldTag(text)) tagged++;
  }
  // Both paths were taken.
  expect(tagged).toBeGreaterThan(100);
  expect(tagged).toBeLessThan(5000);
});

test('takes the reviver-free path for text with no string starting with a colon', () => {
  for (const value of ['k100:1:v1:xxxx', { id: 1, name: 'alice', tags: ['a', 'b'] }, [1, 'x:y'], 'a":b', { 'q"': 'x' }]) {
    expect(mayHoldTag(defaultSerialize({ value, expires: 5 }))).toBe(false);
  }
  for (const value of [':x', { a: ':x' }, ['x', ':y'], Buffer.from('z')]) {
    expect(mayHoldTag(defaultSerialize({ value }))).toBe(true);
    expect(mayHoldTag(spaced(defaultSerialize({ value })))).toBe(true);
  }
  expect(mayHoldTag('":x"')).toBe(true); // a bare tagged string
});

test('a colon written as the escape \\u003a still reads as a tag, as Keyv reads it', () => {
  for (const text of ['{"value":"\\u003abase64:AAEC"}', '{"value":["\\u003A:x"]}', '{"value":{"k":"\\u003ay"},"expires":5}']) {
    expect(mayHoldTag(text)).toBe(true);
    expect(decodeEnvelope(text).value).toEqual(defaultDeserialize(text).value);
  }
  expect(decodeEnvelope('{"value":"\\u003abase64:AAEC"}').value).toEqual(Buffer.from([0, 1, 2]));
  expect(mayHoldTag('"\\u003ax"')).toBe(true);
});
