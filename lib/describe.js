'use strict';

/**
 * Short descriptions of values for error messages ("received 42 (number)").
 */

/**
 * Describes `value` in a few words: its type, and the value itself when it is short.
 * @param {unknown} value
 * @returns {string}
 */
function describe(value) {
  if (value === null) return 'null';
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    return `'${shown}' (string)`;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return `${String(value)}${typeof value === 'bigint' ? 'n' : ''} (${typeof value})`;
  }
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'null prototype'})`;
  return String(typeof value);
}

module.exports = { describe };
