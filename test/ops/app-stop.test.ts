// The daemon's stop when one part fails: the real App, whose state file goes away under it (its
// database connection closed, as after an I/O failure); the outbox flush then throws, and the parts
// after it (broker, gallery, models, lock) must still stop.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { App } from '../../daemon/app.js';
import { parseConfig } from '../../daemon/config/load.js';
import { ensureDeviceKey } from '../../daemon/events/device-key.js';
import { createKeyFile } from '../../daemon/gallery/key-source.js';
import { loadSodium } from '../../daemon/gallery/sodium.js';
import { acquireDaemonLock } from '../../daemon/system/lock.js';
import { createNotifier } from '../../daemon/system/sd-notify.js';
import { memoryLogger, tempDir } from '../gallery/helpers.js';

test('a part that fails to stop is logged, and the others stop all the same: the lock is released; the purge after start fails without throwing', { timeout: 120_000 }, async (t) => {
  const d = tempDir(t);
  createKeyFile(await loadSodium(), d.path('gallery.key'));
  ensureDeviceKey(d.path('device.key'));
  // A broker that never answers: the outbox flush at stop reads the outbox, which is what fails.
  const yaml =
    `gallery:\n  path: ${d.path('state.db')}\n  key_file: ${d.path('gallery.key')}\n` +
    `mqtt:\n  enabled: true\n  url: mqtt://127.0.0.1:1\n  device_key_file: ${d.path('device.key')}\n` +
    'metrics:\n  enabled: false\ncontrol:\n  enabled: false\n';
  const log = memoryLogger();
  const app = new App({ config: parseConfig(yaml, 'test'), configPath: d.path('config.yaml'), logger: log.logger, notifier: createNotifier({ env: {}, warn: () => {} }), env: {}, version: '0.0.0-test' });
  await app.start();
  app.gallery.db.close();

  await app.stop();
  assert.equal(app.isRunning, false);
  const failed = log.lines.map((l) => JSON.parse(l) as { msg: string; part?: string; err?: string }).filter((l) => l.msg.startsWith('stopping a part failed'));
  assert.ok(failed.length > 0, 'the failure is logged');
  assert.ok(failed.every((l) => l.part && /not open/.test(String(l.err))), JSON.stringify(failed));
  assert.ok(log.lines.some((l) => l.includes('"msg":"facegate stopped"')));
  // The first retention purge, run right after start, met the closed file too: logged, never thrown.
  assert.ok(log.lines.some((l) => l.includes('"stage":"retention"') && l.includes('periodic task failed')));
  // Released: a daemon started after this one gets the lock.
  acquireDaemonLock(d.path('state.db')).release();
});
