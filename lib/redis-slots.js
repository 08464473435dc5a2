'use strict';

/**
 * Redis Cluster key slots: CRC16 (XMODEM) of the key, or of its hash tag, modulo 16384; and
 * where the keys sit in the commands a cluster client routes.
 */

const SLOT_COUNT = 16384;

const CRC16_TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[i] = crc;
  }
  return table;
})();

function crc16(bytes, start, end) {
  let crc = 0;
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ bytes[i]) & 0xff];
  return crc;
}

/** The part of the key that is hashed: the text between the first '{' and the next '}', if not empty. */
function hashedRange(bytes) {
  const open = bytes.indexOf(0x7b);
  if (open === -1) return [0, bytes.length];
  const close = bytes.indexOf(0x7d, open + 1);
  if (close === -1 || close === open + 1) return [0, bytes.length];
  return [open + 1, close];
}

// eslint-disable-next-line no-control-regex -- every ASCII code, NUL included
const asciiOnly = /^[\x00-\x7f]*$/;

/**
 * The hash slot of a key (a string, hashed as UTF-8, or bytes).
 * @param {string|Uint8Array} key
 * @returns {number} 0 … 16383
 */
function keySlot(key) {
  let bytes;
  if (typeof key === 'string') {
    if (key.length < 256 && asciiOnly.test(key)) {
      // Plain ASCII keys (most keys) without a Buffer: the char codes are the bytes.
      let start = 0;
      let end = key.length;
      const open = key.indexOf('{');
      if (open !== -1) {
        const close = key.indexOf('}', open + 1);
        if (close !== -1 && close !== open + 1) {
          start = open + 1;
          end = close;
        }
      }
      let crc = 0;
      for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ key.charCodeAt(i)) & 0xff];
      return crc & (SLOT_COUNT - 1);
    }
    bytes = Buffer.from(key, 'utf8');
  } else {
    bytes = key;
  }
  const [start, end] = hashedRange(bytes);
  return crc16(bytes, start, end) & (SLOT_COUNT - 1);
}

// Where a command's keys are, as Redis's COMMAND reply gives them: the first key's index, the
// last's (negative: from the end), and the step. `numkeys`: the index of the key count (EVAL).
const KEY_SPECS = new Map();
function spec(names, first, last, step = 1) {
  for (const name of names.split(' ')) KEY_SPECS.set(name, { first, last, step });
}
spec('GET SET SETEX PSETEX SETNX GETSET GETDEL GETEX APPEND STRLEN GETRANGE SETRANGE INCR INCRBY ' +
  'INCRBYFLOAT DECR DECRBY EXPIRE PEXPIRE EXPIREAT PEXPIREAT EXPIRETIME PEXPIRETIME TTL PTTL PERSIST ' +
  'TYPE DUMP RESTORE HGET HSET HSETNX HDEL HGETALL HMGET HMSET HINCRBY HINCRBYFLOAT HEXISTS HLEN ' +
  'HKEYS HVALS HSTRLEN HSCAN HRANDFIELD LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LRANGE LLEN LINDEX LSET ' +
  'LREM LTRIM LINSERT LPOS SADD SREM SMEMBERS SISMEMBER SMISMEMBER SCARD SPOP SRANDMEMBER SSCAN ' +
  'ZADD ZREM ZRANGE ZRANGEBYSCORE ZREVRANGE ZSCORE ZMSCORE ZCARD ZCOUNT ZINCRBY ZRANK ZREVRANK ' +
  'ZREMRANGEBYSCORE ZREMRANGEBYRANK ZPOPMIN ZPOPMAX ZSCAN PFADD PFCOUNT GEOADD GEOPOS GEODIST ' +
  'GEOSEARCH XADD XLEN XRANGE XREVRANGE XDEL XTRIM SETBIT GETBIT BITCOUNT BITPOS', 1, 1);
// Several keys that must share a slot (the server refuses them otherwise).
spec('RENAME RENAMENX COPY SMOVE LMOVE RPOPLPUSH', 1, 2);
spec('SINTER SUNION SDIFF SINTERSTORE SUNIONSTORE SDIFFSTORE PFMERGE', 1, -1);
spec('MSETNX', 1, -1, 2);
spec('BITOP', 2, -1);
// Split by slot by the cluster client, each part on its own node.
spec('MGET DEL UNLINK EXISTS TOUCH', 1, -1);
spec('MSET', 1, -1, 2);
for (const name of ['EVAL', 'EVALSHA', 'EVAL_RO', 'EVALSHA_RO', 'FCALL', 'FCALL_RO']) KEY_SPECS.set(name, { numkeys: 2 });

/** Commands a cluster client splits by slot when their keys span slots. */
const SPLIT_COMMANDS = new Set(['MGET', 'MSET', 'DEL', 'UNLINK', 'EXISTS', 'TOUCH']);

/**
 * The indexes of a command's keys, or undefined when the command is not in the table (it is
 * sent to any primary; a MOVED reply then takes it to the right one).
 * @param {string} name upper-case command name
 * @param {Array<unknown>} args
 * @returns {number[]|undefined}
 */
function keyIndexes(name, args) {
  const found = KEY_SPECS.get(name);
  if (found === undefined) return undefined;
  if (found.numkeys !== undefined) {
    const count = Number(args[found.numkeys]);
    if (!Number.isInteger(count) || count < 0) return [];
    const out = [];
    for (let i = 0; i < count && found.numkeys + 1 + i < args.length; i++) out.push(found.numkeys + 1 + i);
    return out;
  }
  const last = found.last < 0 ? args.length + found.last : Math.min(found.last, args.length - 1);
  const out = [];
  for (let i = found.first; i <= last; i += found.step) out.push(i);
  return out;
}

module.exports = { SLOT_COUNT, keySlot, keyIndexes, SPLIT_COMMANDS };
