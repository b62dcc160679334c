// What the daemon says at start about a config that runs but will not do what it is meant to: the
// real App, started in process without cameras.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { App } from '../../daemon/app.js';
import { parseConfig } from '../../daemon/config/load.js';
import { ensureDeviceKey } from '../../daemon/events/device-key.js';
import { createKeyFile } from '../../daemon/gallery/key-source.js';
import { loadSodium } from '../../daemon/gallery/sodium.js';
import { createNotifier } from '../../daemon/system/sd-notify.js';
import { memoryLogger, tempDir } from '../gallery/helpers.js';

async function startLog(t: Parameters<typeof tempDir>[0], track: string): Promise<Array<{ level: number; code?: string; path?: string; hint?: string; msg: string }>> {
  const d = tempDir(t);
  createKeyFile(await loadSodium(), d.path('gallery.key'));
  ensureDeviceKey(d.path('device.key'));
  const yaml = `gallery:\n  path: ${d.path('state.db')}\n  key_file: ${d.path('gallery.key')}\nmqtt:\n  enabled: false\n  device_key_file: ${d.path('device.key')}\nmetrics:\n  enabled: false\ncontrol:\n  enabled: false\n${track}`;
  const log = memoryLogger();
  const app = new App({ config: parseConfig(yaml, 'test'), configPath: d.path('config.yaml'), logger: log.logger, notifier: createNotifier({ env: {}, warn: () => {} }), env: {}, version: '0.0.0-test' });
  await app.start();
  await app.stop();
  return log.lines.map((l) => JSON.parse(l) as { level: number; code?: string; path?: string; hint?: string; msg: string });
}

test('an eye rate below what blink detection needs is logged once at start, with its fix; the default says nothing', { timeout: 120_000 }, async (t) => {
  const low = (await startLog(t, 'track: { eye_fps: 10 }\n')).filter((l) => l.code === 'FG_WARN_EYE_FPS');
  assert.equal(low.length, 1, JSON.stringify(low));
  assert.equal(low[0]!.level, 40);
  assert.equal(low[0]!.path, 'track.eye_fps');
  assert.match(low[0]!.msg, /track\.eye_fps is 10, below the 15 .* a fifth of the blinks/);
  assert.match(low[0]!.hint!, /set track\.eye_fps to 15/);
  assert.deepEqual((await startLog(t, '')).filter((l) => l.code !== undefined && l.code.startsWith('FG_WARN')), []);
});
