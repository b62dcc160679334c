// The box's own attendance CSV (the console's /api/history.csv) for a check-in proven by a door's
// two cameras: the real App (encrypted state file, attendance, the console over HTTP on a loopback
// port, its first account, an admin, added by the command line) takes a stereo recognition through its own bus and
// attendance stage, and the CSV's assurance column says stereo, with the door. A live recognition
// at the same door, below its stereo requirement, checks nobody in: no row.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from '../../daemon/app.js';
import { parseConfig } from '../../daemon/config/load.js';
import { ensureDeviceKey } from '../../daemon/events/device-key.js';
import { createKeyFile } from '../../daemon/gallery/key-source.js';
import { loadSodium } from '../../daemon/gallery/sodium.js';
import { createNotifier } from '../../daemon/system/sd-notify.js';
import { quietLogger } from '../support/events-stack.js';
import { freePort } from '../support/mosquitto.js';
import { runCli } from '../support/cli.js';

const PASSWORD = 'correct horse battery staple';

test('the console CSV of a check-in proven by stereo: first_in_assurance stereo, at its door, with the cues\' shares; a live sighting below the door\'s stereo requirement makes no row', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-stereo-csv-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  createKeyFile(await loadSodium(), join(dir, 'gallery.key'));
  ensureDeviceKey(join(dir, 'device.key'));
  const [webPort, nowhere] = [await freePort(), await freePort()];
  const yaml =
    `gallery:\n  path: ${dir}/state.db\n  key_file: ${dir}/gallery.key\n` +
    `mqtt:\n  enabled: false\n  device_key_file: ${dir}/device.key\nmetrics:\n  enabled: false\ncontrol:\n  enabled: false\n` +
    `web:\n  enabled: true\n  port: ${webPort}\n` +
    // Two cameras nobody answers for: the recognitions come through the bus, as the tracker sends them.
    `cameras:\n  - { name: front-left, url: "rtsp://127.0.0.1:${nowhere}/a", backoff_max_s: 60 }\n  - { name: front-right, url: "rtsp://127.0.0.1:${nowhere}/b", backoff_max_s: 60 }\n` +
    `doors:\n  - { name: front-door, cameras: [front-left, front-right] }\n` +
    `attendance:\n  time_zone: UTC\n  door_require: { front-door: stereo }\n`;
  writeFileSync(join(dir, 'config.yaml'), yaml);
  const app = new App({ config: parseConfig(yaml, 'test'), configPath: join(dir, 'config.yaml'), logger: quietLogger(), notifier: createNotifier({ env: {}, warn: () => {} }), env: {}, version: '0.0.0-test' });
  await app.start();
  t.after(() => app.stop());
  const user = await runCli(['user', 'add', 'ada', '--role', 'admin', '--config', join(dir, 'config.yaml')], { input: PASSWORD + '\n' });
  assert.equal(user.code, 0, user.stderr);

  const atMs = Date.now();
  const recognised = (track: number, id: string, assurance: 'stereo' | 'live', stereo: number) =>
    app.bus.emit('track', {
      type: 'recognized', camera: 'front-left', track, t: 1, named_t: 1, atMs, person: { id, name: id }, score: 0.8, margin: 0.3, live: true, blink_t: null, antispoof: 0.9,
      liveness: { score: 4.2, blink: 0, structure: 0.5, passive: 0.4, surround: 0, screen: 0, stereo }, assurance, face_px: 120, thumbnail: null,
    });
  await recognised(1, 'emp-1', 'stereo', 3.3);
  await recognised(2, 'emp-2', 'live', 0);

  const web = `http://127.0.0.1:${webPort}`;
  const session = await fetch(`${web}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'ada', password: PASSWORD }) });
  assert.equal(session.status, 200, await session.clone().text());
  const { access_token } = (await session.json()) as { access_token: string };
  const response = await fetch(`${web}/api/history.csv`, { headers: { authorization: `Bearer ${access_token}` } });
  assert.equal(response.status, 200);
  const [header, ...rows] = (await response.text()).split('\r\n').filter((l) => l !== '');
  const columns = header!.split(',');
  const cells = rows.map((r) => Object.fromEntries(r.slice(1, -1).split('","').map((c, i) => [columns[i], c])));
  assert.deepEqual(
    cells.map((c) => [c.person_id, c.first_in_assurance, c.check_in_camera, c.check_in_door, c.last_out_assurance, c.first_in_liveness]),
    [['emp-1', 'stereo', 'front-left', 'front-door', '', 'score 4.2; structure 0.5; passive 0.4; stereo 3.3']],
    'the stereo check-in says what proved it, where, and through which cues; emp-2, live only, waits for review',
  );
  assert.deepEqual(app.reviews.list().map((a) => [a.person_id, a.assurance, a.required]), [['emp-2', 'live', 'stereo']]);
});
