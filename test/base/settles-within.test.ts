// A stop waits on its peers for a bounded time and then goes on: whatever the peer does, the wait
// answers once, and a peer that fails late never becomes an unhandled rejection.
import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { settlesWithin } from '../../daemon/base/settles-within.js';

test('settlesWithin: true when the work ends in time, fulfilled or rejected; false when it is late or never ends', async () => {
  assert.equal(await settlesWithin(Promise.resolve(1), 50), true);
  assert.equal(await settlesWithin(Promise.reject(new Error('refused')), 50), true);
  assert.equal(await settlesWithin(sleep(5), 1000), true);
  assert.equal(await settlesWithin(new Promise(() => undefined), 20), false);
  assert.equal(await settlesWithin(sleep(200), 10), false);
  // A deadline already past still gives work that has ended its answer.
  assert.equal(await settlesWithin(Promise.resolve(), -5), true);
});

test('settlesWithin: work that fails after the wait gave up raises no unhandled rejection', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    const failsLate = sleep(30).then(() => Promise.reject(new Error('late')));
    assert.equal(await settlesWithin(failsLate, 5), false);
    await sleep(60);
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});
