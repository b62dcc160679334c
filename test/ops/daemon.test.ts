// The daemon as systemd runs it: a real RTSP camera serving a clip of an enrolled person, a real
// Mosquitto, the notify protocol on a datagram socket of the test's own, signals, and the lock.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sqlite } from '../../daemon/store/sqlite.js';
import mqtt from 'mqtt';
import sharp from 'sharp';
import { compactVerify, importJWK } from 'jose';
import { ExitCode } from '../../daemon/base/errors.js';
import { FakeCamera } from '../support/fake-camera.js';
import { Mosquitto, freePort } from '../support/mosquitto.js';
import { media, mediaMissing } from '../support/media.js';
import { NotifyListener } from './notify-listener.js';
import { DaemonProcess, makeSite } from './daemon-harness.js';
import { runCli } from '../support/cli.js';
import { screenshot } from '../support/chromium.js';

const CLIP = 'video_blink/real3dportrait_May_5s.mp4';
const skip = mediaMissing(CLIP) ? `needs ../shared/media/${CLIP}` : false;

let broker: Mosquitto;
let camera: FakeCamera;
let site: Awaited<ReturnType<typeof makeSite>>;
let notify: NotifyListener;
let daemon: DaemonProcess;
let metricsPort: number;
let liveViewPort: number;
const received: { topic: string; payload: string }[] = [];
let subscriber: mqtt.MqttClient;

before(async () => {
  if (skip) return;
  broker = await Mosquitto.start();
  camera = await FakeCamera.start({ video: media(CLIP), width: 512, height: 512, fps: 10, videoLoops: 40 });
  site = await makeSite(media(CLIP));
  notify = new NotifyListener();
  metricsPort = await freePort();
  liveViewPort = await freePort();
  subscriber = await mqtt.connectAsync(broker.url, { clientId: 'central', protocolVersion: 5 });
  await subscriber.subscribeAsync('facegate/#', { qos: 1 });
  subscriber.on('message', (topic, payload) => received.push({ topic, payload: payload.toString() }));
});

after(async () => {
  if (skip) return;
  await daemon?.kill();
  await subscriber?.endAsync();
  notify?.close();
  await camera?.stop();
  await broker?.dispose();
});

const siteConfig = (cameras: string) =>
  `cameras:\n${cameras}` +
  `mqtt:\n  enabled: true\n  url: ${broker.url}\n  device_id: gate-1\n  device_key_file: ${site.dir}/device.key\n  reconnect: { min_ms: 50, max_ms: 500 }\n` +
  `metrics:\n  enabled: true\n  port: ${metricsPort}\ncontrol:\n  socket_dir: ${site.dir}/run\n` +
  `live_view:\n  enabled: true\n  port: ${liveViewPort}\n` +
  `attendance:\n  time_zone: Europe/Berlin\n  camera_roles: { door: entry }\n`;
const doorCamera = () => `  - { name: door, url: "${camera.url('/video')}", width: 512, height: 512, fps: 10 }\n`;

/** The daemon's FG_WARN_CAMERA_FPS log lines for one camera. */
const rateWarnings = (camera: string) => daemon.log.split('\n').filter((l) => l.includes('"code":"FG_WARN_CAMERA_FPS"') && l.includes(`"camera":"${camera}"`));

async function metric(name: string): Promise<string> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith(name)).join('\n');
}

test('daemon: READY=1 after start-up, then WATCHDOG=1 while frames flow; a signed attendance event reaches Mosquitto', { skip, timeout: 180_000 }, async () => {
  site.writeConfig(siteConfig(doorCamera()));
  daemon = new DaemonProcess(site.config, { NOTIFY_SOCKET: notify.path, WATCHDOG_USEC: '2000000' });
  const ready = await notify.waitFor('READY=1', 120_000);
  assert.match(ready, /STATUS=\d\/1 cameras streaming/);
  await notify.waitFor('WATCHDOG=1', 30_000);
  assert.ok(notify.indexOf('READY=1') < notify.indexOf('WATCHDOG=1'), 'READY=1 comes first');
  // The door camera delivers 10 fps, below eye_fps 15: said once at start, with its fix.
  assert.equal(rateWarnings('door').length, 1, daemon.log.slice(-3000));
  assert.match(rateWarnings('door')[0]!, /"level":40.*"path":"cameras\.0\.fps","hint":"set fps: 15, or leave fps out/);

  const deadline = Date.now() + 90_000;
  let attendance: { topic: string; payload: string } | undefined;
  while (!(attendance = received.find((m) => m.topic === 'facegate/gate-1/attendance')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  assert.ok(attendance, `no attendance event; got topics ${[...new Set(received.map((m) => m.topic))].join(', ')}\n${daemon.log.slice(-3000)}`);
  const body = JSON.parse(attendance.payload) as { jws: string; person_id: string; external_id: string | null; type: string; camera: string; assurance: string };
  assert.equal(body.type, 'check_in');
  assert.equal(body.camera, 'door');
  assert.equal(body.assurance, 'live', "proven by the door camera's own cues, as the site's default requires");
  assert.equal(body.external_id, 'emp-7', 'May was enrolled with --id emp-7');
  const publicJwk = JSON.parse(received.find((m) => m.topic === 'facegate/gate-1/bridge/info')!.payload).public_key;
  await compactVerify(body.jws, await importJWK(publicJwk, 'EdDSA'));

  // The live view runs in the daemon: the camera listed, and the recognised, live person boxed in green with a label.
  const index = await (await fetch(`http://127.0.0.1:${liveViewPort}/`)).text();
  assert.match(index, /<img src="\/cameras\/door\.mjpeg"/);
  let green = 0;
  for (let i = 0; i < 20 && green < 50; i++) {
    const jpeg = Buffer.from(await (await fetch(`http://127.0.0.1:${liveViewPort}/cameras/door.jpg`)).arrayBuffer());
    const { data } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
    green = 0;
    for (let p = 0; p < data.length; p += 3) if (data[p + 1]! > 180 && data[p]! < 90 && data[p + 2]! < 90) green++;
    if (green < 50) await new Promise((r) => setTimeout(r, 250));
  }
  assert.ok(green >= 50, `a green box (live, recognised) on the live view's frame: ${green} green pixels`);
  // The page as a technician's browser shows it: headless Chromium from Debian, its MJPEG included.
  const shot = join(site.dir, 'live-view.png');
  await screenshot(`http://127.0.0.1:${liveViewPort}/`, shot, { width: 1280, height: 800, settleMs: 4000 });
  const page = await sharp(shot).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([page.info.width, page.info.height], [1280, 800]);
  let pageGreen = 0;
  for (let p = 0; p < page.data.length; p += 3) if (page.data[p + 1]! > 180 && page.data[p]! < 90 && page.data[p + 2]! < 90) pageGreen++;
  console.log(`# live view screenshot: ${shot} (${pageGreen} green pixels of the overlay)`);
  assert.ok(pageGreen >= 20, `the browser shows the stream with its overlay: ${pageGreen} green pixels`);

  const health = await fetch(`http://127.0.0.1:${metricsPort}/healthz`);
  assert.equal(health.status, 200);
  assert.match(await metric('facegate_camera_up'), /facegate_camera_up\{camera="door"\} 1/);
  assert.match(await metric('facegate_mqtt_connected'), /facegate_mqtt_connected 1/);
  // The check-in went through the outbox; bridge/info, availability and counters went directly.
  assert.match(await metric('facegate_mqtt_published_total'), /facegate_mqtt_published_total\{path="outbox"\} [1-9]/);
  assert.match(await metric('facegate_mqtt_published_total'), /facegate_mqtt_published_total\{path="direct"\} [1-9]/);
  assert.match(await metric('facegate_stage_seconds_count'), /stage="detect"/);
  assert.match(await metric('facegate_event_loop_delay_seconds_count'), /facegate_event_loop_delay_seconds_count [1-9]/);
});

test('daemon: a second daemon on the same state file refuses with a clear message', { skip, timeout: 120_000 }, async () => {
  const second = new DaemonProcess(site.config);
  const code = await second.exited;
  assert.equal(code, ExitCode.FAILED);
  assert.match(second.log, new RegExp(`FG_ERR_ALREADY_RUNNING: another facegate daemon \\(pid ${daemon.child.pid}, started [^)]+\\) already uses ${site.dir}/state.db`));
});

test('daemon: SIGHUP adds a camera without touching the running one', { skip, timeout: 120_000 }, async () => {
  const framesBefore = await metric('facegate_camera_frames_total{camera="door"}');
  site.writeConfig(siteConfig(doorCamera() + `  - { name: lobby, url: "${camera.url('/pattern')}", width: 320, height: 240, fps: 2 }\n`));
  daemon.signal('SIGHUP');
  await daemon.waitForLog(/"added":\["lobby"\].*"msg":"config reloaded"/, 30_000);
  const deadline = Date.now() + 30_000;
  while (!/camera="lobby"\} 1/.test(await metric('facegate_camera_up')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
  assert.match(await metric('facegate_camera_up'), /facegate_camera_up\{camera="lobby"\} 1/);
  assert.match(await metric('facegate_camera_up'), /facegate_camera_up\{camera="door"\} 1/);
  // The door camera kept its FFmpeg: its frame counter went on rather than starting again.
  const count = (s: string) => Number(/ (\d+)$/.exec(s)?.[1] ?? 0);
  assert.ok(count(await metric('facegate_camera_frames_total{camera="door"}')) > count(framesBefore));
  assert.doesNotMatch(daemon.log, /"removed":\["door"\]|"changed":\["door"\]/);
  // Only the camera the reload started is warned about; the door camera was at start.
  assert.equal(rateWarnings('lobby').length, 1);
  assert.equal(rateWarnings('door').length, 1);
});

test('daemon: a bad config on SIGHUP is refused and the running config stays', { skip, timeout: 60_000 }, async () => {
  site.writeConfig(siteConfig(doorCamera()) + 'metrics:\n  prot: 1\n');
  daemon.signal('SIGHUP');
  await daemon.waitForLog(/reload refused/, 20_000);
  assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).status, 200);
  site.writeConfig(siteConfig(doorCamera() + `  - { name: lobby, url: "${camera.url('/pattern')}", width: 320, height: 240, fps: 2 }\n`));
});

test('daemon: the CLI talks to it over the control socket; erasing a person is audited and the chain verifies', { skip, timeout: 120_000 }, async () => {
  const status = await runCli(['status', '--config', site.config, '--json']);
  assert.equal(status.code, 0, status.stderr);
  const s = JSON.parse(status.stdout) as { summary: string; liveness: { alive: boolean }; cameras: { camera: string }[] };
  assert.equal(s.liveness.alive, true);
  assert.deepEqual(s.cameras.map((c) => c.camera).sort(), ['door', 'lobby']);
  const described = await runCli(['status', '--config', site.config]);
  assert.match(described.stdout, /^version \d+\.\d+\.\d+, up \d+ s, pipeline alive, \d+\.\d GiB free on \//m, 'the text status names the version and the disk space left');
  const models = (JSON.parse(status.stdout) as { models: { name: string; sha256: string }[] }).models;
  assert.deepEqual(models.map((m) => m.name), ['detector', 'landmarks', 'embedder', 'eyes', 'antispoof'], 'and the models running, by the sha256 they were checked against');

  // `person erase` is `person remove` (its alias), through the daemon that holds the file, with its one answer.
  const erase = await runCli(['person', 'erase', 'emp-7', '--config', site.config]);
  assert.equal(erase.code, 0, erase.stderr);
  assert.match(erase.stdout, /removed [0-9a-f-]{36}: 1 template\(s\), 1 thumbnail\(s\), 1 attendance day\(s\) and 1 proof image\(s\) erased/);
  const again = await runCli(['person', 'erase', 'emp-7', '--config', site.config]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /FG_ERR_PERSON_NOT_FOUND/);

  const list = await runCli(['audit', 'list', '--config', site.config, '--json']);
  const actions = list.stdout.trim().split('\n').map((l) => JSON.parse(l) as { action: string; outcome: string });
  assert.ok(actions.some((a) => a.action === 'person.erase' && a.outcome === 'ok'));
  assert.ok(actions.some((a) => a.action === 'reload' && a.outcome === 'ok'), 'the SIGHUP reload is audited');
  const text = await runCli(['audit', 'list', '--config', site.config]);
  assert.match(text.stdout, /^ +\d+ {2}\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0[12]:00 {2}/m, 'audit times on the site clock (Europe/Berlin), as the console and MQTT write them');
  const verify = await runCli(['audit', 'verify', '--config', site.config]);
  assert.equal(verify.code, 0, verify.stderr);
});

test('daemon: SIGTERM says STOPPING=1, flushes the outbox to the broker and exits 0', { skip, timeout: 120_000 }, async () => {
  daemon.signal('SIGTERM');
  assert.equal(await daemon.exited, 0, daemon.log.slice(-2000));
  await notify.waitFor('STOPPING=1', 5_000);
  const db = new Sqlite(`${site.dir}/state.db`, { readonly: true });
  const pending = (db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n;
  db.close();
  assert.equal(pending, 0, 'every event was delivered before exit');
  const bridgeEvents = received.filter((m) => m.topic === 'facegate/gate-1/bridge/event').map((m) => (JSON.parse(m.payload) as { type: string }).type);
  assert.equal(bridgeEvents.filter((type) => type === 'stopping').length, 1, 'the stopping event was drained with the outbox');
  assert.match(daemon.log, /"msg":"facegate stopped"/);
  assert.ok(readFileSync(site.config, 'utf8').length > 0);
});

test('daemon: a bad config refuses to start with exit 78 and names the key', { skip, timeout: 60_000 }, async () => {
  site.writeConfig('cameras:\n  - { name: door, url: x, fps: 500 }\n');
  const bad = new DaemonProcess(site.config, { NOTIFY_SOCKET: notify.path });
  assert.equal(await bad.exited, ExitCode.CONFIG);
  assert.match(bad.log, /Refusing to start: FG_ERR_CONFIG: invalid config .*\n\s+cameras\.0\.fps: expected number to be less or equal to 60, got 500/);
});

test('daemon: a failure after the models are loaded (a missing device key, a taken metrics or live view port, a metrics.host not on this box) ends the process with its code and fix instead of leaving it running', { skip, timeout: 240_000 }, async () => {
  const { createServer } = await import('node:net');
  const squatter = createServer();
  await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
  const taken = (squatter.address() as { port: number }).port;
  const key = `mqtt:\n  enabled: false\n  device_key_file: ${site.dir}/device.key\n`;
  const cases = [
    { yaml: `cameras: []\ncontrol:\n  enabled: false\nmqtt:\n  enabled: false\n  device_key_file: ${site.dir}/absent.key\n`, line: /FG_ERR_DEVICE_KEY_MISSING: no device key at .*absent\.key/ },
    { yaml: `cameras: []\ncontrol:\n  enabled: false\n${key}metrics:\n  enabled: true\n  port: ${taken}\n`, line: new RegExp(`FG_ERR_METRICS_PORT: cannot serve metrics on 127\\.0\\.0\\.1:${taken}: EADDRINUSE.*pick a free metrics\\.port`) },
    // 192.0.2.1 (TEST-NET-1) is no address of this machine: binding to it fails, nothing is sent.
    { yaml: `cameras: []\ncontrol:\n  enabled: false\n${key}metrics:\n  enabled: true\n  host: 192.0.2.1\n  port: ${taken}\n`, line: new RegExp(`FG_ERR_METRICS_PORT: cannot serve metrics on 192\\.0\\.2\\.1:${taken}: EADDRNOTAVAIL.*an address of this box as metrics\\.host`) },
    { yaml: `cameras: []\ncontrol:\n  enabled: false\n${key}live_view:\n  enabled: true\n  port: ${taken}\n`, line: new RegExp(`FG_ERR_LIVE_VIEW_PORT: cannot serve the live view on 127\\.0\\.0\\.1:${taken}: EADDRINUSE.*pick a free live_view\\.port`) },
  ];
  try {
    for (const c of cases) {
      site.writeConfig(c.yaml);
      const refused = new DaemonProcess(site.config);
      assert.equal(await refused.exited, 1, refused.log.slice(-2000));
      assert.match(refused.log, c.line);
    }
  } finally {
    squatter.close();
  }
});
