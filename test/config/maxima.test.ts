// Every number the config accepts is one the daemon can honour: durations that become Node timers
// fit in a 32-bit count of ms (past it Node fires at once, and intervals every millisecond), day
// counts keep Date arithmetic valid, sizes and counts are bounded. The real daemon is started with
// every duration at its maximum and watched.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TSchema } from '@sinclair/typebox';
import mqtt from 'mqtt';
import { stringify } from 'yaml';
import { App } from '../../daemon/app.js';
import { ConfigError } from '../../daemon/base/config-types.js';
import { parseConfig } from '../../daemon/config/load.js';
import { ConfigSchema } from '../../daemon/config/schema.js';
import { MAX_RETENTION_DAYS, MAX_TIMER_MS } from '../../daemon/base/config-types.js';
import { ensureDeviceKey } from '../../daemon/events/device-key.js';
import { createKeyFile } from '../../daemon/gallery/key-source.js';
import { loadSodium } from '../../daemon/gallery/sodium.js';
import { purgeExpired } from '../../daemon/service/retention.js';
import { createNotifier } from '../../daemon/system/sd-notify.js';
import { openDatabase } from '../../daemon/store/database.js';
import { quietLogger } from '../support/events-stack.js';
import { freePort, Mosquitto } from '../support/mosquitto.js';

const DAY_MS = 86_400_000;

/** Durations that never become a timer, and why their maximum may pass MAX_TIMER_MS. */
const NOT_TIMERS: Record<string, string> = {
  'mqtt.session_expiry_s': "sent to the broker as MQTT 5's 32-bit Session Expiry Interval",
  'track.unknown_retention_s': 'compared with timestamps when an unknown person is forgotten',
};

interface Leaf {
  path: string;
  schema: Record<string, unknown>;
}

/** Every leaf of the schema with its dotted path; arrays as `[]`, records as `{}`. */
function leaves(s: TSchema, path = '', out: Leaf[] = []): Leaf[] {
  const schema = s as unknown as Record<string, unknown>;
  if (schema.type === 'object' && schema.properties) {
    for (const [k, v] of Object.entries(schema.properties as Record<string, TSchema>)) leaves(v, path ? `${path}.${k}` : k, out);
    if (schema.patternProperties) {
      out.push({ path, schema });
      for (const v of Object.values(schema.patternProperties as Record<string, TSchema>)) leaves(v, `${path}{}`, out);
    }
  } else if (schema.type === 'object' && schema.patternProperties) {
    out.push({ path, schema });
    for (const v of Object.values(schema.patternProperties as Record<string, TSchema>)) leaves(v, `${path}{}`, out);
  } else if (schema.type === 'array') {
    out.push({ path, schema });
    leaves(schema.items as TSchema, `${path}[]`, out);
  } else if (Array.isArray(schema.anyOf)) {
    for (const m of schema.anyOf as TSchema[]) leaves(m, path, out);
  } else {
    out.push({ path, schema });
  }
  return out;
}

const all = leaves(ConfigSchema);
const numbers = all.filter((l) => l.schema.type === 'integer' || l.schema.type === 'number');
const max = (l: Leaf) => (l.schema.maximum ?? l.schema.exclusiveMaximum) as number;

test('config maxima: every number, list and map in the schema has a bound', () => {
  assert.ok(numbers.length > 60, `${numbers.length} numbers found`);
  for (const l of numbers) assert.equal(typeof max(l), 'number', `${l.path} has no maximum`);
  for (const l of all.filter((x) => x.schema.type === 'array')) assert.equal(typeof l.schema.maxItems, 'number', `${l.path} has no maxItems`);
  for (const l of all.filter((x) => x.schema.type === 'object')) assert.equal(typeof l.schema.maxProperties, 'number', `${l.path} has no maxProperties`);
});

test('config maxima: every duration that becomes a timer fits in Node timers; every day count keeps Date arithmetic valid', () => {
  const now = Date.now();
  const unit = { _ms: 1, _s: 1000, _min: 60_000 } as const;
  let checked = 0;
  for (const l of numbers) {
    const key = l.path;
    const suffix = (Object.keys(unit) as (keyof typeof unit)[]).find((s) => key.endsWith(s));
    if (suffix) {
      checked++;
      if (NOT_TIMERS[key]) continue;
      assert.ok(max(l) * unit[suffix] <= MAX_TIMER_MS, `${key}: maximum ${max(l)} is ${max(l) * unit[suffix]} ms, past Node's ${MAX_TIMER_MS}`);
    } else if (key.endsWith('_days')) {
      checked++;
      assert.ok(max(l) <= MAX_RETENTION_DAYS, `${key}: ${max(l)} days`);
      assert.match(new Date(now - max(l) * DAY_MS).toISOString(), /^\d{4}-\d{2}-\d{2}T/, key);
    }
  }
  assert.ok(checked >= 25, `${checked} durations checked`);
});

test('config maxima: the values that crashed or spun the daemon are refused with the key named', () => {
  for (const [yaml, key] of [
    ['retention: { attendance_days: 200000000 }', 'retention.attendance_days'],
    ['retention: { command_audit_days: 36501 }', 'retention.command_audit_days'],
    ['mqtt: { stats_interval_s: 3000000 }', 'mqtt.stats_interval_s'],
    ['mqtt: { reconnect: { max_ms: 3000000000 } }', 'mqtt.reconnect.max_ms'],
    ['track: { unknown_retention_s: 1e300 }', 'track.unknown_retention_s'],
  ] as const) {
    assert.throws(() => parseConfig(yaml, 'test'), (e: unknown) => e instanceof ConfigError && e.code === 'FG_ERR_CONFIG' && e.issues.some((i) => i.path === key), yaml);
  }
});

test('config maxima: purges with every retention at its maximum delete nothing recent and do not throw', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-maxima-purge-'));
  try {
    const db = openDatabase(join(dir, 'state.db'));
    const r = { attendance_days: MAX_RETENTION_DAYS, unknown_thumbnail_days: MAX_RETENTION_DAYS, timeline_days: MAX_RETENTION_DAYS, audit_days: MAX_RETENTION_DAYS, command_audit_days: MAX_RETENTION_DAYS, check_interval_min: 1440 };
    db.prepare("INSERT INTO outbox (event_id, topic, payload, class, created_ms) VALUES ('a1', 'x/alerts/unknown', x'7b7d', 'alert', ?)").run(Date.now() - 400 * DAY_MS);
    assert.deepEqual(purgeExpired(db, r, Date.now()), { attendanceDays: 0, proofs: 0, unknownAlerts: 0, unknownPersons: 0, timelineEntries: 0, arrivals: 0, auditEntries: 0, commandAudit: 0 });
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A config object with every duration key of the schema's sections at its maximum. */
function everyDurationAtMax(): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const l of numbers) {
    if (!/_(ms|s|min|days)$/.test(l.path) || /[[{]/.test(l.path)) continue;
    const parts = l.path.split('.');
    let at = root;
    for (const p of parts.slice(0, -1)) at = (at[p] ??= {}) as Record<string, unknown>;
    at[parts.at(-1)!] = max(l);
  }
  return root;
}

test('config maxima: the daemon runs with every duration at its maximum: no timer overflows, none fires early, purges run', { timeout: 120_000 }, async (t) => {
  const overflows: string[] = [];
  const onWarning = (w: Error) => void (w.name === 'TimeoutOverflowWarning' && overflows.push(w.message));
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  const broker = await Mosquitto.start();
  t.after(() => broker.dispose());
  const dir = mkdtempSync(join(tmpdir(), 'fg-maxima-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  createKeyFile(await loadSodium(), join(dir, 'gallery.key'));
  ensureDeviceKey(join(dir, 'device.key'));

  const config = everyDurationAtMax() as Record<string, Record<string, unknown>>;
  const cameraMax = Object.fromEntries(numbers.filter((l) => l.path.startsWith('cameras[].') && /_s$/.test(l.path)).map((l) => [l.path.slice('cameras[].'.length), max(l)]));
  assert.deepEqual(Object.keys(cameraMax).sort(), ['backoff_max_s', 'idle_keyframes_after_s', 'watchdog_s']);
  Object.assign(config, {
    gallery: { ...config.gallery, path: join(dir, 'state.db'), key_file: join(dir, 'gallery.key') },
    mqtt: { ...config.mqtt, enabled: true, url: broker.url, device_id: 'gate-max', device_key_file: join(dir, 'device.key'), homeassistant: { ...(config.mqtt?.homeassistant as object), enabled: true } },
    // A camera whose file is missing: FFmpeg fails at once and the camera backs off at its maximum.
    cameras: [{ name: 'door', url: join(dir, 'missing.mp4'), ...cameraMax }],
    control: { ...config.control, socket_dir: join(dir, 'run'), groups: { viewer: '', operator: '', admin: '' } },
    metrics: { ...config.metrics, enabled: true, port: await freePort() },
    attendance: { ...config.attendance, enabled: true, time_zone: 'Europe/Berlin' },
  });
  const yaml = stringify(config);
  writeFileSync(join(dir, 'config.yaml'), yaml);
  const parsed = parseConfig(yaml, 'test');
  assert.equal(parsed.mqtt.stats_interval_s, 86_400);
  assert.equal(parsed.retention.attendance_days, MAX_RETENTION_DAYS);

  const notifier = createNotifier({ env: {}, warn: () => {} });
  const sendStatus = notifier.status.bind(notifier);
  let statuses = 0;
  notifier.status = (s: string) => (statuses++, sendStatus(s));

  const subscriber = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'watch' });
  t.after(() => subscriber.endAsync(true));
  let stats = 0;
  subscriber.on('message', (topic) => void (topic.endsWith('/stats') && stats++));
  await subscriber.subscribeAsync('facegate/gate-max/stats', { qos: 0 });

  const app = new App({ config: parsed, configPath: join(dir, 'config.yaml'), logger: quietLogger(), notifier, env: {}, version: '0.0.0-test' });
  await app.start();
  t.after(() => app.stop());
  const startedStatuses = statuses;

  const until = async (what: string, ok: () => boolean) => {
    for (let i = 0; !ok(); i++) {
      if (i > 500) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await until('the broker connection', () => app.eventsStage?.bridge.connected === true);
  // The purge that start() schedules at once, then one more by hand.
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(app.purgeRetention(), { attendanceDays: 0, proofs: 0, unknownAlerts: 0, unknownPersons: 0, timelineEntries: 0, arrivals: 0, auditEntries: 0, commandAudit: 0 });
  // An overflowed timer fires after 1 ms, and an interval every millisecond: a second is plenty to see it.
  await new Promise((r) => setTimeout(r, 1000));
  assert.deepEqual(overflows, []);
  assert.equal(stats, 0, 'stats published before stats_interval_s');
  assert.equal(statuses - startedStatuses, 0, 'STATUS= sent again before status_interval_s');
});
