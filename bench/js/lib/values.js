'use strict';

/**
 * The values the scenarios store. Each maker returns a fresh value for index `i`, so a
 * store that keeps references holds distinct objects, as a real application's cache would.
 */

const SMALL_WORDS = ['alpha', 'bravo', 'charlie', 'delta'];

/** ~60 bytes as JSON: {"id":123456,"name":"user-123456","active":true,"tags":["a"]} */
function smallObject(i) {
  return { id: 100000 + (i % 900000), name: `user-${100000 + (i % 900000)}`, active: (i & 1) === 0, tags: ['a'] };
}

/** A 60-character string. */
function smallString(i) {
  return `session:${String(i).padStart(10, '0')}:${SMALL_WORDS[i & 3].padEnd(8, '.')}:${'x'.repeat(32)}`.slice(0, 60);
}

/** ~4 KiB as JSON: a page of 45 small records. */
function largeObject(i) {
  const rows = [];
  for (let r = 0; r < 45; r++) {
    rows.push({ id: i * 45 + r, title: `item ${r} of page ${i}`, price: 1999 + r, sku: `SKU-${String(r).padStart(6, '0')}`, inStock: r % 3 !== 0 });
  }
  return { page: i, total: 45, rows };
}

/** A 4096-character string. */
function largeString(i) {
  const head = `doc:${i}:`;
  return head + 'lorem ipsum dolor sit amet '.repeat(160).slice(0, 4096 - head.length);
}

/** Value kinds by name, with a label for tables. */
const VALUE_KINDS = {
  'object-60B': { label: 'object ~60 B', make: smallObject },
  'string-60B': { label: 'string 60 B', make: smallString },
  'object-4KiB': { label: 'object ~4 KiB', make: largeObject },
  'string-4KiB': { label: 'string 4 KiB', make: largeString },
};

module.exports = { VALUE_KINDS, smallObject, smallString, largeObject, largeString };
