// End to end: SIGTERM drains the outbox. Events pile up while the real Mosquitto is
// frozen (SIGSTOP) under a connected daemon; the daemon process is then stopped with SIGTERM.
// Broker back during the drain: every pending event reaches a persistent subscriber and the
// outbox is empty at exit. Broker still frozen: the daemon gives up after its drain limit, exits
// 0, keeps the events in the state file and sends them after the next start.
import '../support/paced-tier.js';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Sqlite } from '../../daemon/store/sqlite.js';
import mqtt from 'mqtt';
import { FakeCamera } from '../support/fake-camera.js';
import { Mosquitto } from '../support/mosquitto.js';
import { media, mediaMissing } from '../support/media.js';
import { NotifyListener } from './notify-listener.js';
import { DaemonProcess, makeSite } from './daemon-harness.js';

const ENROLLED = 'video_blink/real3dportrait_May_5s.mp4';
/** A person not in the gallery: every new camera's track of them is one signed unknown alert. */
const STRANGER = 'video_blink/videoretalking_face2.mp4';
const skip = mediaMissing(ENROLLED) || mediaMissing(STRANGER) ? `needs ../shared/media/${ENROLLED} and ${STRANGER}` : false;
/** The daemon's own drain limit (App flushTimeoutMs default), plus its 2 s offline notice and closing. */
const DRAIN_LIMIT_MS = 10_000;
/** When the broker comes back after STOPPING=1: inside the drain, before its limit. */
const RESUME_AFTER_MS = 3_000;

let broker: Mosquitto;
let camera: FakeCamera;
let site: Awaited<ReturnType<typeof makeSite>>;
let notify: NotifyListener;
let subscriber: mqtt.MqttClient;
let daemon: DaemonProcess | undefined;
/** Event id → arrival times (ms) at the persistent subscriber. */
const arrivals = new Map<string, number[]>();

before(async () => {
  if (skip) return;
  broker = await Mosquitto.start();
  camera = await FakeCamera.start({ video: media(STRANGER), width: 480, height: 480, fps: 5, videoLoops: 30 });
  site = await makeSite(media(ENROLLED));
  notify = new NotifyListener();
  // Persistent session (clean: false) at QoS 1, as a central server subscribes.
  subscriber = await mqtt.connectAsync(broker.url, { clientId: 'central-flush', clean: false, protocolVersion: 4, keepalive: 120 });
  await subscriber.subscribeAsync('facegate/#', { qos: 1 });
  subscriber.on('message', (_topic, payload) => {
    const id = eventId(payload);
    if (id) arrivals.set(id, [...(arrivals.get(id) ?? []), Date.now()]);
  });
});

after(async () => {
  if (skip) return;
  broker?.resume();
  await daemon?.kill();
  await subscriber?.endAsync(true);
  notify?.close();
  await camera?.stop();
  await broker?.dispose();
});

function eventId(payload: Buffer): string | undefined {
  try {
    const id = (JSON.parse(payload.toString()) as { id?: unknown }).id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined; // bridge/state and availability are plain strings
  }
}

/** Cameras are added by SIGHUP once the broker is frozen, so their events are written meanwhile. */
function writeConfig(cameras: number): void {
  const list = Array.from({ length: cameras }, (_, i) => `  - { name: gate${i}, url: "${camera.url('/video')}", width: 480, height: 480, fps: 5 }\n`).join('');
  site.writeConfig(
    `cameras:${cameras === 0 ? ' []' : ''}\n${list}` +
      `mqtt:\n  enabled: true\n  url: ${broker.url}\n  device_id: gate-flush\n  device_key_file: ${site.dir}/device.key\n` +
      // A keepalive longer than the freezes: the link stays "connected" while the broker is stopped.
      `  keepalive_s: 120\n  reconnect: { min_ms: 50, max_ms: 500 }\n` +
      `control:\n  socket_dir: ${site.dir}/run\n`,
  );
}

/** The outbox as the state file holds it (read-only, beside the running daemon). */
function outboxRows(): { event_id: string; topic: string }[] {
  const db = new Sqlite(`${site.dir}/state.db`, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT event_id, topic FROM outbox ORDER BY seq').all() as { event_id: string; topic: string }[];
  } finally {
    db.close();
  }
}

const pendingIds = (): string[] => outboxRows().map((r) => r.event_id);
const topics = (): string => [...new Set(outboxRows().map((r) => r.topic))].join(', ');

async function until<T>(what: string, fn: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms\n${daemon?.log.slice(-3000) ?? ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Starts the daemon with no camera, waits until it is connected and its outbox is empty, freezes
 * the broker, adds three cameras by SIGHUP and waits until at least `atLeast` events are pending. */
async function startAndPileUp(atLeast: number): Promise<{ daemon: DaemonProcess; pending: string[] }> {
  writeConfig(0);
  notify.messages.length = 0;
  const d = new DaemonProcess(site.config, { NOTIFY_SOCKET: notify.path });
  daemon = d;
  await notify.waitFor('READY=1', 120_000);
  await until('the outbox drained after start', () => (pendingIds().length === 0 && /connected to MQTT broker/.test(d.log) ? true : undefined), 30_000);
  broker.freeze();
  writeConfig(3);
  d.signal('SIGHUP');
  const pending = await until(`${atLeast} events pending in the outbox while the broker is frozen`, () => {
    const ids = pendingIds();
    return ids.length >= atLeast ? ids : undefined;
  }, 60_000);
  // Nothing of them reached the subscriber: the broker is stopped.
  assert.deepEqual(pending.filter((id) => arrivals.has(id)), []);
  return { daemon: d, pending };
}

test('SIGTERM with the broker frozen: the daemon exits 0 within its drain limit and the pending events stay in the outbox for the next start', { skip, timeout: 240_000 }, async () => {
  const { daemon: d, pending } = await startAndPileUp(3);
  const pendingTopics = topics();
  const termAt = Date.now();
  d.signal('SIGTERM');
  await notify.waitFor('STOPPING=1', 10_000);
  const code = await d.exited;
  const stopMs = Date.now() - termAt;
  assert.equal(code, 0, d.log.slice(-3000));
  // 10 s of drain, up to 2 s for the retained offline notice, then closing (cameras, gallery, models).
  assert.ok(stopMs < DRAIN_LIMIT_MS + 8_000, `stopped after ${stopMs} ms`);
  assert.ok(stopMs >= DRAIN_LIMIT_MS - 500, `gave up before its drain limit: ${stopMs} ms`);
  assert.match(d.log, /"msg":"outbox not empty at stop: the events stay in the state file and are sent after the next start"/);
  const left = pendingIds();
  for (const id of pending) assert.ok(left.includes(id), `event ${id} lost at stop`);
  console.log(`# frozen broker: ${pending.length} pending before SIGTERM (${pendingTopics}), ${left.length} left after exit, stop took ${stopMs} ms`);

  // The next start sends them: every one reaches the subscriber after the restart began.
  broker.resume();
  const restartAt = Date.now();
  notify.messages.length = 0;
  writeConfig(0);
  const next = new DaemonProcess(site.config, { NOTIFY_SOCKET: notify.path });
  daemon = next;
  await notify.waitFor('READY=1', 120_000);
  await until('the outbox empty after the restart', () => (pendingIds().length === 0 ? true : undefined), 30_000);
  await until('every kept event at the subscriber', () => (left.every((id) => (arrivals.get(id) ?? []).some((t) => t >= restartAt)) ? true : undefined), 15_000);
  next.signal('SIGTERM');
  assert.equal(await next.exited, 0, next.log.slice(-3000));
  assert.deepEqual(pendingIds(), []);
  console.log(`# next start: ${left.length} kept events delivered, outbox empty`);
});

test('SIGTERM while events are pending: STOPPING=1, the broker comes back 3 s into the drain, every pending event reaches the subscriber, outbox empty, exit 0', { skip, timeout: 240_000 }, async () => {
  const { daemon: d, pending } = await startAndPileUp(3);
  const pendingTopics = topics();
  const termAt = Date.now();
  d.signal('SIGTERM');
  // STOPPING=1 is the first thing stop() does. The broker stays frozen a while longer, past the
  // cameras' and commands' stop (well under a second here), so that only the drain can deliver.
  await notify.waitFor('STOPPING=1', 10_000);
  await new Promise((r) => setTimeout(r, RESUME_AFTER_MS));
  const atResume = pendingIds();
  for (const id of pending) assert.ok(atResume.includes(id), `event ${id} still pending when the broker comes back`);
  assert.equal(d.child.exitCode, null, 'the daemon is still draining');
  broker.resume();
  const code = await d.exited;
  const stopMs = Date.now() - termAt;
  assert.equal(code, 0, d.log.slice(-3000));
  assert.match(d.log, /"msg":"facegate stopped"/);
  assert.doesNotMatch(d.log, /outbox not empty at stop/);
  assert.deepEqual(pendingIds(), [], 'every event was delivered before exit');
  assert.ok(stopMs >= RESUME_AFTER_MS && stopMs < DRAIN_LIMIT_MS, `drained once the broker was back: stop took ${stopMs} ms`);
  await until('every pending event at the subscriber', () => (pending.every((id) => arrivals.has(id)) ? true : undefined), 10_000);
  console.log(`# broker back during the drain: ${pending.length} pending at SIGTERM (${pendingTopics}), all received, outbox empty, stop took ${stopMs} ms`);
});
