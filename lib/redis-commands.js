'use strict';

/**
 * Which commands may run on the shared, pipelined connection, and why the others may not.
 * RedisClient refuses them before anything is sent, with RedisUnsupportedCommandError.
 */

// Commands refused on the shared, pipelined connection, with the reason given to the caller.
// Every caller's commands travel on one socket in order, so a command that changes that
// connection's state or holds it for a while would change or stall everyone else's commands.
const STATE_REASON = 'it changes the state of the connection every caller shares';
const PUSH_REASON = 'it turns the shared connection into a push stream; use a dedicated client library for Pub/Sub or MONITOR';
const BLOCKING_REASON = 'a blocking command holds the shared connection and stalls every command pipelined behind it; poll with the non-blocking form (LPOP, ZPOPMIN, XREAD without BLOCK, …) instead';
const TRANSACTION_REASON = 'other callers\' commands would land inside the transaction on the shared connection; use EVAL or FUNCTION for atomic groups';
const UNSUPPORTED_COMMANDS = new Map([
  ...['SUBSCRIBE', 'PSUBSCRIBE', 'SSUBSCRIBE', 'UNSUBSCRIBE', 'PUNSUBSCRIBE', 'SUNSUBSCRIBE', 'MONITOR',
    'SYNC', 'PSYNC'].map((name) => [name, PUSH_REASON]),
  ['SELECT', `${STATE_REASON}; use the 'db' option (or redis://host:port/db)`],
  ['AUTH', `${STATE_REASON}; use the 'username' and 'password' options`],
  ['HELLO', `${STATE_REASON} (protocol, auth, name); use the connection options`],
  ['RESET', STATE_REASON],
  ['QUIT', `${STATE_REASON}; call disconnect()`],
  ['READONLY', STATE_REASON],
  ['READWRITE', STATE_REASON],
  ...['MULTI', 'EXEC', 'DISCARD', 'WATCH', 'UNWATCH'].map((name) => [name, TRANSACTION_REASON]),
  ...['BLPOP', 'BRPOP', 'BLMOVE', 'BRPOPLPUSH', 'BZPOPMIN', 'BZPOPMAX', 'BLMPOP', 'BZMPOP', 'WAIT',
    'WAITAOF'].map((name) => [name, BLOCKING_REASON]),
]);
// CLIENT subcommands that change the connection's state (CLIENT ID, LIST, INFO … are fine).
const UNSUPPORTED_CLIENT_SUBCOMMANDS = new Map([
  ['REPLY', STATE_REASON],
  ['SETNAME', `${STATE_REASON}; use the 'clientName' option`],
  ['SETINFO', STATE_REASON],
  ['TRACKING', STATE_REASON],
  ['CACHING', STATE_REASON],
  ['NO-EVICT', STATE_REASON],
  ['NO-TOUCH', STATE_REASON],
]);
const LONGEST_REFUSED_NAME = 12;

/** Upper-cased text of a command word (string or bytes); '' for anything else or long words. */
function commandWord(arg) {
  if (typeof arg === 'string') return arg.length <= LONGEST_REFUSED_NAME ? arg.toUpperCase() : '';
  if (arg instanceof Uint8Array && arg.length <= LONGEST_REFUSED_NAME) {
    return Buffer.from(arg.buffer, arg.byteOffset, arg.length).toString('latin1').toUpperCase();
  }
  return '';
}

/**
 * Whether a command may not run on the shared connection.
 * @param {Array<unknown>} args
 * @returns {{command: string, reason: string}|undefined}
 */
function refusedCommand(args) {
  const name = commandWord(args[0]);
  if (name === '') return undefined;
  const reason = UNSUPPORTED_COMMANDS.get(name);
  if (reason !== undefined) return { command: name, reason };
  if (name === 'CLIENT' && args.length > 1) {
    const sub = commandWord(args[1]);
    const subReason = UNSUPPORTED_CLIENT_SUBCOMMANDS.get(sub);
    if (subReason !== undefined) return { command: `CLIENT ${sub}`, reason: subReason };
  }
  if (name === 'XREAD' || name === 'XREADGROUP') {
    // Options come before STREAMS; after it everything is a key or an id.
    for (let i = 1; i < args.length; i++) {
      const word = commandWord(args[i]);
      if (word === 'STREAMS') break;
      if (word === 'BLOCK') return { command: `${name} BLOCK`, reason: BLOCKING_REASON };
    }
  }
  return undefined;
}

module.exports = { refusedCommand };
