import '../support/cli-tier.js';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { test } from 'node:test';
import { FacegateError } from '../../daemon/base/errors.js';
import { acquireDaemonLock, daemonHolding } from '../../daemon/system/lock.js';

/**
 * Another process holding the lock, as a second daemon would meet it; resolves once it holds it.
 * It keeps the lock referenced, as the daemon does: an unreferenced lock's SQLite handle is closed
 * by the garbage collector, which drops the lock. The collector is run before 'held' so that a
 * lock kept only by chance would show here rather than now and then.
 */
async function holderProcess(statePath: string) {
  const code = `import { acquireDaemonLock } from './daemon/system/lock.ts'; globalThis.lock = acquireDaemonLock(${JSON.stringify(statePath)}); globalThis.gc(); console.log('held'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [data] = (await once(child.stdout, 'data')) as [Buffer];
  assert.equal(data.toString().trim(), 'held');
  return child;
}

test('daemon lock: a second daemon on the same state file is refused, naming the first one’s pid', async () => {
  const state = join(mkdtempSync(join(tmpdir(), 'fg-lock-')), 'facegate.db');
  const holder = await holderProcess(state);
  try {
    assert.throws(
      () => acquireDaemonLock(state),
      (e: unknown) => e instanceof FacegateError && e.code === 'FG_ERR_ALREADY_RUNNING' && e.message.includes(`pid ${holder.pid}`) && e.message.includes(state),
    );
  } finally {
    holder.kill('SIGKILL');
    await once(holder, 'exit');
  }
  // The kernel dropped the killed holder's lock: no stale lock to clean up by hand.
  const lock = acquireDaemonLock(state);
  lock.release();
  acquireDaemonLock(state).release();
});

test('daemonHolding: no lock file, a held lock (with the holder pid), and a lock left by a killed daemon; asking takes nothing', async () => {
  const state = join(mkdtempSync(join(tmpdir(), 'fg-lock-')), 'facegate.db');
  assert.equal(daemonHolding(state), undefined, 'never started');
  const holder = await holderProcess(state);
  try {
    assert.deepEqual(daemonHolding(state), { pid: holder.pid });
    assert.deepEqual(daemonHolding(state), { pid: holder.pid }, 'asking again: the probe took nothing');
  } finally {
    holder.kill('SIGKILL');
    await once(holder, 'exit');
  }
  assert.equal(daemonHolding(state), undefined, 'the owner file of a killed daemon does not count: its lock is gone');
  const lock = acquireDaemonLock(state);
  assert.deepEqual(daemonHolding(state), { pid: process.pid }, 'held in this process');
  lock.release();
  assert.equal(daemonHolding(state), undefined);
});
