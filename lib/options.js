'use strict';

/**
 * Option validation in one place. Every message names the option, the value received and
 * what is allowed.
 */

const { InvalidArgumentError } = require('./errors');
const { describe } = require('./describe');

/**
 * @typedef {object} OptionSpec
 * @property {'integer'|'number'|'boolean'|'string'|'function'|'any'} type
 * @property {number} [min]
 * @property {number} [max]
 * @property {unknown} [default]
 * @property {string} [allowed] text describing allowed values (for `any`)
 * @property {(value: unknown) => boolean} [check] extra check for `any`
 */

/**
 * Validates `options` against `spec` and returns a new object with defaults applied.
 * @param {string} where e.g. 'MemoryStore'
 * @param {object|undefined} options
 * @param {Record<string, OptionSpec>} spec
 */
function validateOptions(where, options, spec) {
  if (options === undefined || options === null) options = {};
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new InvalidArgumentError(`${where} options must be an object; received ${describe(options)}`,
      'ERR_INVALID_ARG_TYPE');
  }
  for (const name of Object.keys(options)) {
    if (!Object.hasOwn(spec, name)) {
      throw new InvalidArgumentError(
        `${where}: unknown option '${name}'; known options are ${Object.keys(spec).join(', ')}`,
        'ERR_UNKNOWN_OPTION');
    }
  }
  const out = {};
  for (const [name, rule] of Object.entries(spec)) {
    const value = options[name];
    out[name] = value === undefined ? rule.default : checkOption(where, name, value, rule);
  }
  return out;
}

/**
 * Checks one option value against its rule and returns it.
 * @param {string} where
 * @param {string} name
 * @param {unknown} value
 * @param {OptionSpec} rule
 */
function checkOption(where, name, value, rule) {
  const fail = (what) => {
    throw new InvalidArgumentError(`${where}: option '${name}' must be ${what}; received ${describe(value)}`);
  };
  switch (rule.type) {
    case 'integer':
    case 'number': {
      const ok = typeof value === 'number' && !Number.isNaN(value) &&
        (rule.type === 'number' ? true : Number.isSafeInteger(value) || value === Infinity);
      const min = rule.min ?? -Infinity;
      const max = rule.max ?? Infinity;
      if (!ok || value < min || value > max) {
        const kind = rule.type === 'integer' ? 'an integer' : 'a number';
        fail(`${kind} in [${min}, ${max}]`);
      }
      return value;
    }
    case 'boolean':
      if (typeof value !== 'boolean') fail('a boolean');
      return value;
    case 'string':
      if (typeof value !== 'string') fail('a string');
      return value;
    case 'function':
      if (typeof value !== 'function') fail('a function');
      return value;
    default:
      if (rule.check && !rule.check(value)) fail(rule.allowed ?? 'valid');
      return value;
  }
}

/**
 * Validates a key argument.
 * @param {string} method e.g. 'get'
 * @param {unknown} key
 */
function checkKey(method, key) {
  if (typeof key !== 'string') {
    throw new InvalidArgumentError(`${method}: key must be a string; received ${describe(key)}`,
      'ERR_INVALID_ARG_TYPE');
  }
}

/**
 * Validates a ttl argument in milliseconds; undefined stays undefined, 0 means no expiry.
 * @param {string} method
 * @param {unknown} ttl
 */
function checkTtl(method, ttl) {
  if (ttl === undefined) return;
  if (typeof ttl !== 'number' || !(ttl >= 0) || ttl > MAX_TTL) {
    throw new InvalidArgumentError(
      `${method}: ttl must be a number of milliseconds from 0 (no expiry) to ${MAX_TTL}; received ${describe(ttl)}`);
  }
}

/** The largest ttl accepted: the range of a JavaScript Date (about 273,790 years). */
const MAX_TTL = 8_640_000_000_000_000;

module.exports = { validateOptions, checkOption, checkKey, checkTtl, MAX_TTL };
