'use strict';

const { KeyTable, PromiseTracker } = require('../../lib/key-table');

describe('KeyTable', () => {
  test('keeps any string key apart from the object machinery, including __proto__ and constructor', () => {
    const table = new KeyTable();
    const keys = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', '', '0', '-1', '1.5', 'k'.repeat(10_000), 'é🙂'];
    keys.forEach((key, i) => table.set(key, { i }));
    expect(table.size).toBe(keys.length);
    keys.forEach((key, i) => {
      expect(table.has(key)).toBe(true);
      expect(table.get(key)).toEqual({ i });
    });
    expect(table.get('valueOf')).toBeUndefined();
    expect(table.has('valueOf')).toBe(false);
    expect(Object.getPrototypeOf(table.get('__proto__'))).toBe(Object.prototype); // stored, not a prototype swap
  });

  test('set replaces without growing, delete reports whether the key was there, clear empties', () => {
    const table = new KeyTable();
    table.set('a', 1).set('a', 2).set('b', 3);
    expect(table.size).toBe(2);
    expect(table.get('a')).toBe(2);
    expect(table.delete('a')).toBe(true);
    expect(table.delete('a')).toBe(false);
    expect(table.size).toBe(1);
    expect(table.has('a')).toBe(false);
    table.clear();
    expect(table.size).toBe(0);
    expect(table.get('b')).toBeUndefined();
    expect(table.values()).toEqual([]);
  });

  test('integer keys (running numbers) come back from values() in ascending order, past 2^32 too', () => {
    const table = new KeyTable();
    for (const id of [5, 1, 3, 2 ** 32 + 1, 0]) table.set(id, `v${id}`);
    expect(table.values().slice(0, 4)).toEqual(['v0', 'v1', 'v3', 'v5']);
    expect(table.get(2 ** 32 + 1)).toBe(`v${2 ** 32 + 1}`);
    expect(table.size).toBe(5);
  });

  test('a churn of 200,000 set/delete pairs keeps exactly the live entries', () => {
    const table = new KeyTable();
    const live = [];
    let missed = 0;
    for (let n = 0; n < 200_000; n++) {
      table.set(`k${n}`, n);
      live.push(n);
      if (live.length > 16 && !table.delete(`k${live.shift()}`)) missed++;
    }
    expect(missed).toBe(0);
    expect(table.size).toBe(16);
    expect(table.values().sort((a, b) => a - b)).toEqual(live);
    for (const n of live) expect(table.get(`k${n}`)).toBe(n);
  });
});

describe('PromiseTracker', () => {
  test('all() lists the promises still running, each dropped once it settles', async () => {
    const tracker = new PromiseTracker();
    let finish;
    const slow = new Promise((resolve) => { finish = resolve; });
    const fast = Promise.resolve('fast');
    tracker.add(slow);
    tracker.add(fast);
    expect(tracker.size).toBe(2);
    expect(tracker.all()).toEqual([slow, fast]);
    await fast;
    await null;
    expect(tracker.all()).toEqual([slow]);
    finish();
    await slow;
    await null;
    expect(tracker.size).toBe(0);
    expect(tracker.all()).toEqual([]);
  });
});
