'use strict';

/**
 * Value codecs. A codec turns a JS value into a payload the native store keeps (a string
 * or bytes) plus a one-byte tag, and back.
 *
 * The default codec, `auto`, was chosen by measurement (bench/js/serializers.js) and by
 * fidelity: strings are kept as they are (no encoding step at all), plain JSON-safe data
 * goes through JSON (about 4x faster than v8.serialize for small objects here), and
 * anything JSON would change (Date, Map, Set, BigInt, Buffer, typed arrays, undefined
 * inside arrays or objects, NaN, -0, cycles, …) goes through the structured-clone format
 * of `v8.serialize`, which keeps it exactly.
 */

const v8 = require('node:v8');
const { SerializationError, InvalidArgumentError } = require('./errors');
const { describe } = require('./describe');

const TAG_STRING = 1;
const TAG_JSON = 2;
const TAG_V8 = 3;
const TAG_UNDEFINED = 4;
const TAG_CUSTOM = 5;
const TAG_BUFFER = 6;

// Deeper than this, the JSON-safety walk gives up and the v8 format is used (it also
// handles cycles, which is why the walk needs a bound at all).
const MAX_JSON_DEPTH = 64;

/**
 * Whether JSON keeps `value` exactly: plain objects and arrays (no holes), strings,
 * booleans, null and finite numbers other than -0. Primitives are checked where they are
 * met, without a call (most of a value's slots hold primitives): twice as fast on a 4 KiB
 * page of records as a call per slot. Only own enumerable string keys matter, as to JSON.
 */
function isJsonSafe(value, depth) {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return isJsonNumber(value);
    case 'object':
      return value === null || isJsonSafeObject(value, depth);
    default:
      return false; // undefined, bigint, symbol, function
  }
}

/** Finite and not -0 (JSON would turn NaN and the infinities into null, and -0 into 0). */
function isJsonNumber(n) {
  return n - n === 0 && (n !== 0 || 1 / n > 0);
}

function isJsonSafeObject(value, depth) {
  if (depth > MAX_JSON_DEPTH) return false;
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) return false;
    for (let i = 0; i < value.length; i++) {
      const v = value[i]; // a hole reads as undefined: refused below, as undefined is
      const type = typeof v;
      if (type === 'string' || type === 'boolean') continue;
      if (type === 'number' ? isJsonNumber(v) : type === 'object' && (v === null || isJsonSafeObject(v, depth + 1))) continue;
      return false;
    }
    return true;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  if (typeof value.toJSON === 'function') return false;
  // for-in also walks enumerable properties inherited from Object.prototype (only ever
  // there if something added them): checking them too is harmless, since neither JSON nor
  // the v8 format copies them, and cheaper than asking each key whether it is own.
  for (const k in value) {
    const v = value[k];
    const type = typeof v;
    if (type === 'string' || type === 'boolean') continue;
    if (type === 'number' ? isJsonNumber(v) : type === 'object' && (v === null || isJsonSafeObject(v, depth + 1))) continue;
    return false;
  }
  return true;
}

function v8Encode(value) {
  try {
    return v8.serialize(value);
  } catch (error) {
    throw new SerializationError(`value cannot be serialized: ${error.message}`, { cause: error });
  }
}

function decodeBuiltin(tag, payload) {
  switch (tag) {
    case TAG_STRING:
      return payload;
    case TAG_JSON:
      return JSON.parse(payload);
    case TAG_V8:
      return v8.deserialize(payload);
    case TAG_UNDEFINED:
      return undefined;
    case TAG_BUFFER:
      return payload; // the native store hands back a fresh Buffer copy
    default:
      throw new SerializationError(`entry has unknown codec tag ${tag}`);
  }
}

/** The default codec: exact round trips, fastest format that keeps the value intact. */
const autoCodec = {
  name: 'auto',
  encode(value, out) {
    if (typeof value === 'string') {
      out.tag = TAG_STRING;
      return value;
    }
    if (value === undefined) {
      out.tag = TAG_UNDEFINED;
      return '';
    }
    if (Buffer.isBuffer(value)) {
      // Bytes are stored as they are: no encoding copy, and nothing extra for the GC.
      out.tag = TAG_BUFFER;
      return value;
    }
    if (isJsonSafe(value, 0)) {
      out.tag = TAG_JSON;
      return JSON.stringify(value);
    }
    out.tag = TAG_V8;
    return v8Encode(value);
  },
  decode: decodeBuiltin,
};

/** JSON only: Date becomes a string, Map/Set become {}, BigInt throws. */
const jsonCodec = {
  name: 'json',
  encode(value, out) {
    if (value === undefined) {
      out.tag = TAG_UNDEFINED;
      return '';
    }
    let text;
    try {
      text = JSON.stringify(value);
    } catch (error) {
      throw new SerializationError(`value cannot be serialized as JSON: ${error.message}`, { cause: error });
    }
    out.tag = TAG_JSON;
    return text;
  },
  decode: decodeBuiltin,
};

/** Always the v8 structured-clone format. */
const v8Codec = {
  name: 'v8',
  encode(value, out) {
    out.tag = TAG_V8;
    return v8Encode(value);
  },
  decode: decodeBuiltin,
};

/**
 * Wraps a user serializer `{ serialize(value): string | Uint8Array, deserialize(payload) }`.
 * @param {{serialize: Function, deserialize: Function}} serializer
 */
function customCodec(serializer) {
  return {
    name: 'custom',
    encode(value, out) {
      let payload;
      try {
        payload = serializer.serialize(value);
      } catch (error) {
        throw new SerializationError(`serializer.serialize threw: ${error.message}`, { cause: error });
      }
      if (typeof payload !== 'string' && !(payload instanceof Uint8Array)) {
        throw new SerializationError(
          `serializer.serialize must return a string or a Uint8Array; it returned ${describe(payload)}`);
      }
      out.tag = TAG_CUSTOM;
      return payload;
    },
    decode(tag, payload) {
      if (tag !== TAG_CUSTOM) return decodeBuiltin(tag, payload);
      return serializer.deserialize(payload);
    },
  };
}

/**
 * Resolves the `serializer` option into a codec.
 * @param {'auto'|'json'|'v8'|{serialize: Function, deserialize: Function}|undefined} option
 */
function resolveCodec(option, optionName = 'serializer') {
  if (option === undefined || option === 'auto') return autoCodec;
  if (option === 'json') return jsonCodec;
  if (option === 'v8') return v8Codec;
  if (option !== null && typeof option === 'object' &&
      typeof option.serialize === 'function' && typeof option.deserialize === 'function') {
    return customCodec(option);
  }
  throw new InvalidArgumentError(
    `option '${optionName}' must be 'auto', 'json', 'v8' or an object with serialize() and deserialize(); received ${describe(option)}`);
}

module.exports = {
  resolveCodec, autoCodec, jsonCodec, v8Codec, customCodec, isJsonSafe,
  TAG_STRING, TAG_JSON, TAG_V8, TAG_UNDEFINED, TAG_CUSTOM, TAG_BUFFER,
};
