// What an MQTT consumer sees of the whole daemon (the real App, its models, a real Mosquitto, a
// camera that cannot be reached): availability once per change, one signed camera_offline,
// bridge/info again after a reload, and a clean stop that delivers the outbox before it exits.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { App } from '../../daemon/app.js';
import { parseConfig } from '../../daemon/config/load.js';
import { ensureDeviceKey } from '../../daemon/events/device-key.js';
import { createNotifier } from '../../daemon/system/sd-notify.js';
import { Sqlite } from '../../daemon/store/sqlite.js';
import { enrolled, memoryLogger, NAMES } from '../gallery/helpers.js';
import { Mosquitto } from '../support/mosquitto.js';
import { Subscriber } from '../support/events-stack.js';

/** Events written just before the stop: more than one publisher window, so the drain has work. */
const BURST = 600;

test('a daemon with an unreachable camera: availability offline once, one signed camera_offline; a reload republishes bridge/info; a clean stop empties the outbox to the broker; ready counts persons and templates apart', { timeout: 120_000 }, async (t) => {
  const broker = await Mosquitto.start();
  t.after(() => broker.dispose());
  const gallery = await enrolled(t);
  const d = gallery.d;
  ensureDeviceKey(d.path('device.key'));
  const yaml = (cameras: string) =>
    `gallery:\n  path: ${gallery.dbPath}\n  key_file: ${gallery.keyFile}\n` +
    `cameras:\n${cameras}` +
    `mqtt:\n  enabled: true\n  url: ${broker.url}\n  device_id: gate-m\n  device_key_file: ${d.path('device.key')}\n  stats_interval_s: 0\n` +
    'metrics:\n  enabled: false\ncontrol:\n  enabled: false\n';
  // Nothing listens on port 1: FFmpeg is refused at once, and the camera retries within a second.
  const door = '  - { name: door, url: "rtsp://127.0.0.1:1/door", backoff_max_s: 1 }\n';
  const central = await Subscriber.connect(broker.url, 'facegate/gate-m/#', 'central-daemon');
  t.after(() => central.close());
  const log = memoryLogger();
  const app = new App({ config: parseConfig(yaml(door), 'test'), configPath: d.path('config.yaml'), logger: log.logger, notifier: createNotifier({ env: {}, warn: () => {} }), env: {}, version: '0.0.0-test' });
  await app.start();
  let stopped = false;
  t.after(async () => {
    if (!stopped) await app.stop();
  });

  const ready = log.lines.map((l) => JSON.parse(l) as { msg: string; persons?: number; templates?: number }).find((l) => l.msg === 'facegate ready');
  assert.deepEqual([ready?.persons, ready?.templates], [NAMES.length, NAMES.length * 2], 'persons and templates counted apart');

  const of = (suffix: string) => central.messages.filter((m) => m.topic === `facegate/gate-m/${suffix}`);
  const bridgeEvents = () => of('bridge/event').map((m) => JSON.parse(m.payload.toString()) as { id: string; type: string; data: Record<string, unknown> });
  const retries = () => log.lines.filter((l) => l.includes('"msg":"camera disconnected"')).length;
  await central.waitFor(() => retries() >= 4, 30_000, 'four refused tries of the camera');
  await central.waitFor(() => bridgeEvents().some((e) => e.type === 'camera_offline'), 5_000, 'camera_offline');
  assert.deepEqual(of('door/availability').map((m) => m.payload.toString()), ['{"state":"offline"}'], `availability once over ${retries()} tries`);
  const offline = bridgeEvents().filter((e) => e.type.startsWith('camera_'));
  assert.equal(offline.length, 1, 'one camera_offline for the whole outage');
  assert.deepEqual([offline[0]!.data.camera, offline[0]!.data.reason], ['door', 'refused']);

  // A reload adding a camera: bridge/info names it at once.
  const infos = () => of('bridge/info').map((m) => JSON.parse(m.payload.toString()) as { cameras: string[] });
  assert.deepEqual(infos().at(-1)?.cameras, ['door']);
  const result = app.reload(parseConfig(yaml(door + '  - { name: lobby, url: "rtsp://127.0.0.1:1/lobby", backoff_max_s: 1 }\n'), 'test'));
  assert.deepEqual(result.added, ['lobby']);
  await central.waitFor(() => infos().at(-1)?.cameras.includes('lobby') === true, 5_000, 'bridge/info after the reload');
  assert.deepEqual(infos().at(-1)!.cameras.sort(), ['door', 'lobby']);

  // A burst written just before a clean stop: every event reaches the broker before the daemon exits.
  const events = app.eventsStage!;
  const burst = Array.from({ length: BURST }, (_, i) => events.writer.write('bridgeEvent', { type: 'test_burst', data: { i } }));
  await app.stop();
  stopped = true;
  const left = new Sqlite(gallery.dbPath, { readonly: true, fileMustExist: true });
  const pending = (left.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n;
  left.close();
  assert.equal(pending, 0, 'the outbox is empty after a clean stop with the broker connected');
  assert.ok(!log.lines.some((l) => l.includes('outbox not empty at stop')), 'no events left behind');
  await central.waitFor(() => burst.every((id) => central.unique.has(id)) && bridgeEvents().some((e) => e.type === 'stopping'), 10_000, 'the burst and the stopping event');
  assert.deepEqual(of('bridge/state').map((m) => m.payload.toString()).at(-1), '{"state":"offline"}');
});
