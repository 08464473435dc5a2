'use strict';

// The addon's jsonQuote must write exactly what JSON.stringify writes for a string: the
// Keyv format (lib/keyv-format.js) uses it for long text.
const { jsonQuote } = require('../../lib/binding');
const { seededInts } = require('../helpers/random');

test('every UTF-16 code unit alone, and each between ASCII neighbours, as JSON.stringify writes it', () => {
  const wrong = [];
  for (let c = 0; c <= 0xFFFF; c++) {
    const unit = String.fromCharCode(c);
    for (const text of [unit, `a${unit}b`]) {
      if (jsonQuote(text) !== JSON.stringify(text)) wrong.push(c.toString(16));
    }
  }
  expect(wrong).toEqual([]);
});

test('surrogate pairs stay, lone halves are escaped, wherever they fall', () => {
  const texts = ['\ud83d\ude00', '\ud83d', '\ude00', '\ude00\ud83d', '\ud83d\ud83d\ude00', 'x\ud83d', '\ud83d\ude00\ude00', 'é\ud83d\ude00€'];
  for (const text of texts) expect(jsonQuote(text)).toBe(JSON.stringify(text));
});

test('20,000 random strings of up to 600 units, from pools that mix ASCII, Latin-1, escapes, BMP and surrogates', () => {
  const pick = seededInts(0xC0FFEE);
  const pools = [
    () => 32 + pick(95), // printable ASCII, quote and backslash included
    () => pick(32), // control characters
    () => 0x80 + pick(0x80), // Latin-1 upper half
    () => 0x100 + pick(0xD700), // BMP below the surrogates
    () => 0xD800 + pick(0x800), // surrogates, paired by chance or not
    () => 0xE000 + pick(0x2000), // BMP above the surrogates
  ];
  let mismatches = 0;
  for (let n = 0; n < 20_000; n++) {
    const mix = pools.filter(() => pick(2) === 0);
    if (mix.length === 0) mix.push(pools[0]);
    const units = Array.from({ length: pick(600) }, () => mix[pick(mix.length)]());
    const text = String.fromCharCode(...units);
    if (jsonQuote(text) !== JSON.stringify(text)) mismatches++;
  }
  expect(mismatches).toBe(0);
});

test('answers undefined for anything but a string, and for no argument', () => {
  for (const value of [undefined, null, 1, {}, ['x'], Symbol('s'), 1n]) expect(jsonQuote(value)).toBeUndefined();
  expect(jsonQuote()).toBeUndefined();
});

test('longer than 16 Mi units it answers undefined, and Keyv-format writes fall back to JSON.stringify', () => {
  const text = 'y'.repeat(2 ** 24 + 1);
  expect(jsonQuote(text)).toBeUndefined();
  expect(require('../../lib/keyv-format').encodeEnvelope(text)).toBe(`{"value":${JSON.stringify(text)}}`);
});

test('a string of 4 MiB round-trips', () => {
  const text = `${'x'.repeat(1 << 22)}"\n`;
  const quoted = jsonQuote(text);
  expect(quoted).toBe(JSON.stringify(text));
  expect(JSON.parse(quoted)).toBe(text);
});
