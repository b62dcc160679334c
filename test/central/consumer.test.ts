// The central consumer's decisions on real signed events (the daemon's signing code) and a real
// SQLite file, without a broker: what it accepts, drops and refuses, and the timesheet it writes
// (consumer-fuzz.test.ts feeds it random messages).
import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { ensureDeviceKey, type DeviceKey } from '../../daemon/events/device-key.js';
import { createSigner, withSignature } from '../../daemon/events/signing.js';
import { CentralConsumer } from '../../central/consumer.js';
import { CentralStore } from '../../central/store.js';
import type { CentralStorage } from '../../central/storage.js';
import { parseCentralConfig } from '../../central/config.js';
import { timesheetCsv } from '../../central/timesheet.js';
import { ConfigError } from '../../daemon/base/config-types.js';
import { quietLogger } from '../support/events-stack.js';
import { createLogger } from '../../daemon/base/log.js';

const NOW = Date.parse('2026-01-12T18:00:00+01:00');
let seq = 0;
const nextId = () => `019b4f3a-6c00-7000-8000-${(++seq).toString(16).padStart(12, '0')}`;

function tmp(t: { after(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'fg-central-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function keyIn(dir: string, name: string): DeviceKey {
  return ensureDeviceKey(join(dir, `${name}.key`)).key;
}

/** A check-in or check-out as boxes from before assurance sent it (none); `over` adds or replaces fields. */
function attendance(key: DeviceKey, type: 'check_in' | 'check_out', at: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return withSignature<Record<string, unknown>>(createSigner(key), {
    id: nextId(), device: 'gate-1', time: at, type, record_id: 'r-17', person_id: 'p-17', external_id: 'EMP-17', group: 'staff', camera: 'gate',
    date: at.slice(0, 10), shift: null, status: type === 'check_in' ? 'unscheduled' : 'on_time', source: type === 'check_in' ? 'entry' : 'exit',
    late_minutes: 0, early_minutes: 0, overtime_minutes: 0, check_in: type === 'check_in' ? at : null, check_out: type === 'check_out' ? at : null, worked_minutes: null,
    ...over,
  });
}

function unknownAlert(key: DeviceKey, image?: Buffer): Record<string, unknown> {
  return withSignature<Record<string, unknown>>(createSigner(key), {
    id: nextId(), device: 'gate-1', time: '2026-01-12T17:59:00+01:00', type: 'unknown', camera: 'gate', anonymous_id: 'anon-1', face_px: 96,
    image_sha256: image ? createHash('sha256').update(image).digest('hex') : null, ...(image ? { image: image.toString('base64') } : {}),
  });
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** The same 64 signature bytes written with other spare bits in the last character. */
function respelled(event: Record<string, unknown>): Record<string, unknown> {
  const jws = event.jws as string;
  const last = B64URL[B64URL.indexOf(jws.at(-1)!) ^ 1]!;
  const other = jws.slice(0, -1) + last;
  assert.deepEqual(Buffer.from(other.split('.')[2]!, 'base64url'), Buffer.from(jws.split('.')[2]!, 'base64url'), 'same bytes');
  return { ...event, jws: other };
}

const info = (key: DeviceKey, device = 'gate-1') => JSON.stringify({ version: '0.1.0', device, cameras: ['gate'], public_key: key.publicJwk, config: {} });
const bytes = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

function consumer(t: { after(fn: () => void): void }, dir: string, yaml = '') {
  const config = parseCentralConfig(
    `database: ${join(dir, 'central.db')}\ntimesheet_dir: ${join(dir, 'ts')}\ntime_zone: Europe/Berlin\nemployees: { EMP-17: "=Anna, \\"the\\" boss" }\n${yaml.includes('subscribe:') ? '' : 'subscribe: [facegate/+]\n'}${yaml}`,
    'test.yaml',
  );
  const store = CentralStore.open(config.database);
  t.after(() => store.close());
  const c = new CentralConsumer({ config, store, logger: quietLogger(), connect: () => assert.fail('no broker in this test'), now: () => NOW });
  return { c, store, config };
}

test('first use: the key is pinned from bridge/info, events verify, a duplicate id is dropped, and the day timesheet is written', async (t) => {
  const dir = tmp(t);
  const key = keyIn(dir, 'box');
  const { c, store } = consumer(t, dir);
  assert.equal((await c.handle('facegate/gate-1/bridge/info', bytes(info(key)))).outcome, 'pinned', 'first bridge/info pins');
  assert.equal((await c.handle('facegate/gate-1/bridge/info', bytes(info(key)))).outcome, 'ignored', 'the same key again changes nothing');
  const inEarly = attendance(key, 'check_in', '2026-01-12T08:01:00+01:00');
  const inLate = attendance(key, 'check_in', '2026-01-12T12:30:00+01:00');
  const outEarly = attendance(key, 'check_out', '2026-01-12T12:00:00+01:00');
  const outLate = attendance(key, 'check_out', '2026-01-12T17:05:09+01:00');
  for (const e of [inLate, inEarly, outLate, outEarly]) assert.equal((await c.handle('facegate/gate-1/attendance', bytes(e))).outcome, 'accepted', `${String(e.type)} at ${String(e.time)}`);
  assert.equal((await c.handle('facegate/gate-1/attendance', bytes(inEarly))).outcome, 'duplicate', 'the same event again (at-least-once, or a replay)');
  assert.equal((await c.handle('facegate/gate-1/alerts/unknown', bytes(unknownAlert(key, Buffer.from('jpeg bytes'))))).outcome, 'accepted', 'an alert with its image');
  assert.equal(store.eventCount(), 5, 'five distinct events stored');
  assert.equal(c.countOf('duplicate'), 1, 'one duplicate counted');
  await c.flushTimesheets();
  const csv = readFileSync(join(dir, 'ts', 'timesheet-2026-01-12.csv'), 'utf8');
  assert.equal(
    csv,
    'external_id,name,day,first_in,last_out,first_in_assurance,last_out_assurance,first_in_door,last_out_door,first_in_liveness,last_out_liveness\r\n"EMP-17","\'=Anna, ""the"" boss","2026-01-12","2026-01-12T08:01:00+01:00","2026-01-12T17:05:09+01:00","live","live","","","",""\r\n',
    'first in, last out, in the site zone, the name quoted and defused; a box from before assurance made them of live recognitions',
  );
});

test('a burst of check-ins writes the day\'s CSV once, within two seconds of the first, not once per event', async (t) => {
  const dir = tmp(t);
  const key = keyIn(dir, 'box');
  const { c } = consumer(t, dir);
  const file = join(dir, 'ts', 'timesheet-2026-01-12.csv');
  await c.handle('facegate/gate-1/bridge/info', bytes(info(key)));
  const started = Date.now();
  for (const at of ['08:01:00', '08:02:00', '12:00:00']) assert.equal((await c.handle('facegate/gate-1/attendance', bytes(attendance(key, 'check_in', `2026-01-12T${at}+01:00`)))).outcome, 'accepted');
  assert.equal(existsSync(file), false, 'not written at each event');
  while (!existsSync(file)) {
    assert.ok(Date.now() - started < 10_000, 'written within the delay');
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.match(readFileSync(file, 'utf8'), /"2026-01-12T08:01:00\+01:00"/, 'the whole burst in one write');
});

test('a timesheet that cannot be written loses nothing: the check-in is stored, and the day is written once its folder can be', async (t) => {
  const dir = tmp(t);
  const key = keyIn(dir, 'box');
  const { c, store } = consumer(t, dir);
  // A file where the timesheet folder should be: the CSV cannot be made.
  writeFileSync(join(dir, 'ts'), 'not a folder');
  await c.handle('facegate/gate-1/bridge/info', bytes(info(key)));
  assert.equal((await c.handle('facegate/gate-1/attendance', bytes(attendance(key, 'check_in', '2026-01-12T08:01:00+01:00')))).outcome, 'accepted');
  await assert.rejects(c.flushTimesheets(), /ts/, 'the write fails with the path');
  assert.equal(store.eventCount(), 1, 'the check-in is stored all the same');
  rmSync(join(dir, 'ts'));
  await c.flushTimesheets();
  assert.match(readFileSync(join(dir, 'ts', 'timesheet-2026-01-12.csv'), 'utf8'), /"2026-01-12T08:01:00\+01:00"/, 'the day stayed behind and is written at the next flush');
});

test('forged events are refused: another key, a changed field, a swapped image, a broken jws, an event before the box is known', async (t) => {
  const dir = tmp(t);
  const key = keyIn(dir, 'box');
  const other = keyIn(dir, 'other');
  const { c, store } = consumer(t, dir);
  const early = attendance(key, 'check_in', '2026-01-12T08:00:00+01:00');
  assert.deepEqual((await c.handle('facegate/gate-1/attendance', bytes(early))), { outcome: 'unknown_box', reason: 'event' }, 'no key pinned yet');
  (await c.handle('facegate/gate-1/bridge/info', bytes(info(key))));
  const cases: [string, Record<string, unknown>, string][] = [
    ['signed by another key (same kid claimed)', { ...attendance(other, 'check_in', '2026-01-12T08:00:00+01:00'), jws: (attendance(other, 'check_in', '2026-01-12T08:00:00+01:00').jws as string).replace(/^[^.]+/, (attendance(key, 'check_in', '2026-01-12T08:00:00+01:00').jws as string).split('.')[0]!) }, 'bad_signature'],
    ['signed by another key', attendance(other, 'check_in', '2026-01-12T08:00:00+01:00'), 'wrong_key'],
    ['an outer field changed', { ...attendance(key, 'check_in', '2026-01-12T08:00:00+01:00'), external_id: 'EMP-99' }, 'altered'],
    ['the image swapped', { ...unknownAlert(key, Buffer.from('face a')), image: Buffer.from('face b').toString('base64') }, 'image_altered'],
    ['a second spelling of its signature (base64url spare bits)', respelled(attendance(key, 'check_in', '2026-01-12T08:00:00+01:00')), 'malformed_jws'],
    ['a jws of garbage', { ...attendance(key, 'check_in', '2026-01-12T08:00:00+01:00'), jws: 'a.b.c' }, 'malformed_jws'],
  ];
  for (const [what, event, reason] of cases) {
    const topic = event.type === 'unknown' ? 'facegate/gate-1/alerts/unknown' : 'facegate/gate-1/attendance';
    assert.deepEqual((await c.handle(topic, bytes(event))), { outcome: 'forged', reason }, what);
  }
  assert.equal(store.eventCount(), 0, 'nothing stored');
  assert.equal(c.countOf('forged'), cases.length, 'each counted');
});

test('replays outside the window and events dated ahead are refused; the window and skew are the config', async (t) => {
  const dir = tmp(t);
  const key = keyIn(dir, 'box');
  const { c } = consumer(t, dir, 'limits: { replay_window_s: 3600, clock_skew_s: 60 }\n');
  (await c.handle('facegate/gate-1/bridge/info', bytes(info(key))));
  assert.deepEqual((await c.handle('facegate/gate-1/attendance', bytes(attendance(key, 'check_in', '2026-01-12T16:59:00+01:00')))), { outcome: 'stale', reason: 'too_old' });
  assert.deepEqual((await c.handle('facegate/gate-1/attendance', bytes(attendance(key, 'check_in', '2026-01-12T18:02:00+01:00')))), { outcome: 'stale', reason: 'in_future' });
  assert.equal((await c.handle('facegate/gate-1/attendance', bytes(attendance(key, 'check_in', '2026-01-12T17:01:00+01:00')))).outcome, 'accepted', 'inside the window');
});

test('provisioned pinning: a box not listed is refused, its bridge/info pins nothing; a listed box is verified by its provisioned key', async (t) => {
  const dir = tmp(t);
  const key = keyIn(dir, 'box');
  const stranger = keyIn(dir, 'stranger');
  const { c } = consumer(t, dir, `pinning: provisioned\nkeys:\n  facegate/gate-1: ${JSON.stringify(key.publicJwk)}\n`);
  assert.deepEqual((await c.handle('facegate/gate-9/bridge/info', bytes(info(stranger, 'gate-9')))), { outcome: 'unknown_box', reason: 'bridge_info' });
  assert.deepEqual((await c.handle('facegate/gate-9/attendance', bytes(attendance(stranger, 'check_in', '2026-01-12T08:00:00+01:00', { device: 'gate-9' })))), { outcome: 'unknown_box', reason: 'event' });
  assert.equal((await c.handle('facegate/gate-1/attendance', bytes(attendance(key, 'check_in', '2026-01-12T08:00:00+01:00')))).outcome, 'accepted', 'no bridge/info needed');
  assert.equal((await c.handle('facegate/gate-1/bridge/info', bytes(info(stranger)))).outcome, 'key_changed', 'a bridge/info offering another key is refused');
});

test('first use: a pinned key stays pinned across restarts; another key offered later is refused and events under it are forged', async (t) => {
  const dir = tmp(t);
  const key = keyIn(dir, 'box');
  const impostor = keyIn(dir, 'impostor');
  {
    const { c, store } = consumer(t, dir);
    (await c.handle('facegate/gate-1/bridge/info', bytes(info(key))));
    store.close();
  }
  const { c } = consumer(t, dir);
  assert.equal((await c.handle('facegate/gate-1/bridge/info', bytes(info(impostor)))).outcome, 'key_changed');
  assert.deepEqual((await c.handle('facegate/gate-1/attendance', bytes(attendance(impostor, 'check_in', '2026-01-12T08:00:00+01:00')))), { outcome: 'forged', reason: 'wrong_key' });
  assert.equal((await c.handle('facegate/gate-1/attendance', bytes(attendance(key, 'check_in', '2026-01-12T08:00:00+01:00')))).outcome, 'accepted');
});

test('malformed messages are refused by size, syntax, depth and shape; topics it does not read are ignored', async (t) => {
  const dir = tmp(t);
  const key = keyIn(dir, 'box');
  const { c } = consumer(t, dir, 'limits: { max_payload_kb: 4 }\n');
  (await c.handle('facegate/gate-1/bridge/info', bytes(info(key))));
  assert.deepEqual((await c.handle('facegate/gate-1/alerts/unknown', bytes(unknownAlert(key, Buffer.alloc(5000))))), { outcome: 'malformed', reason: 'too_large' });
  assert.deepEqual((await c.handle('facegate/gate-1/attendance', bytes('{"id":'))), { outcome: 'malformed', reason: 'not_json' });
  assert.deepEqual((await c.handle('facegate/gate-1/attendance', bytes('['.repeat(500) + ']'.repeat(500)))), { outcome: 'malformed', reason: 'too_deep' });
  assert.deepEqual((await c.handle('facegate/gate-1/attendance', bytes({ ...attendance(key, 'check_in', '2026-01-12T08:00:00+01:00'), type: 'lunch' }))), { outcome: 'malformed', reason: 'bad_shape' });
  assert.deepEqual((await c.handle('facegate/gate-1/bridge/info', bytes({ version: '1', device: 'gate-1', cameras: [], public_key: { kty: 'OKP', crv: 'Ed25519', x: 'short' }, config: {} }))), { outcome: 'malformed', reason: 'bad_key' });
  assert.equal((await c.handle('facegate/gate-1/stats', bytes('{}'))).outcome, 'ignored', 'stats is not read');
  assert.equal((await c.handle('elsewhere/gate-1/attendance', bytes('{}'))).outcome, 'ignored', 'outside the subscribed bases');
});

test('replay bookkeeping: numbered events, a signed high-water mark and a gone range make the gaps; forged or stale marks are refused', async (t) => {
  const dir = tmp(t);
  const key = keyIn(dir, 'box');
  const { c, store } = consumer(t, dir);
  const signer = createSigner(key);
  (await c.handle('facegate/gate-1/bridge/info', bytes(info(key))));
  for (const seq of [1, 2, 5]) assert.equal((await c.handle('facegate/gate-1/attendance', bytes(attendance(key, 'check_in', '2026-01-12T08:00:00+01:00', { seq })))).outcome, 'accepted');
  assert.equal((await c.handle('facegate/gate-1/attendance', bytes(attendance(key, 'check_in', '2026-01-12T08:00:00+01:00')))).outcome, 'accepted', 'a box from before replay: no seq, taken as before');
  const mark = (seq: number, time = '2026-01-12T17:59:00+01:00') => bytes(withSignature(signer, { device: 'gate-1', time, seq } as { device: string; time: string; seq: number; image?: string }));
  assert.equal((await c.handle('facegate/gate-1/bridge/sequence', mark(9))).outcome, 'sequence');
  assert.equal((await c.handle('facegate/gate-1/bridge/sequence', mark(7))).outcome, 'sequence', 'an older mark arriving late');
  assert.deepEqual(store.gaps(), [{ base: 'facegate/gate-1', device: 'gate-1', high: 9, missing: [[3, 4], [6, 9]] }], 'the tail 6..9 too, though no event after it came');
  const forged = JSON.parse(mark(100).toString()) as Record<string, unknown>;
  forged.seq = 1000;
  assert.equal((await c.handle('facegate/gate-1/bridge/sequence', bytes(forged))).outcome, 'forged');
  assert.equal((await c.handle('facegate/gate-1/bridge/sequence', mark(1000, '2025-01-01T00:00:00+01:00'))).outcome, 'stale');
  assert.equal((await c.handle('facegate/gate-1/bridge/sequence', bytes({ device: 'gate-1', time: 'x', seq: -1, jws: 'a.b.c' }))).outcome, 'malformed');
  assert.deepEqual(store.markGone('facegate/gate-1', [[6, 8]], new Date(NOW).toISOString()), [[6, 8]]);
  assert.deepEqual(store.markGone('facegate/gate-1', [[6, 8]], new Date(NOW).toISOString()), [], 'known already');
  assert.deepEqual(store.gaps()[0]!.missing, [[3, 4], [9, 9]], 'gone ranges are not asked for again');
});

test('the timesheet: an employee with no check-out has an empty last_out; times follow the zone across DST', () => {
  const csv = timesheetCsv(
    [
      { employee: 'EMP-1', day: '2026-03-29', firstInMs: Date.parse('2026-03-29T06:30:00Z'), firstInAssurance: 'live', firstInDoor: 'front-door', firstInLiveness: null, lastOutMs: null, lastOutAssurance: null, lastOutDoor: null, lastOutLiveness: null },
      // Shares in whatever order a store kept them (PostgreSQL's jsonb sorts keys by length): written in the schema's.
      { employee: 'p-uuid', day: '2026-03-29', firstInMs: null, firstInAssurance: null, firstInDoor: null, firstInLiveness: null, lastOutMs: Date.parse('2026-03-29T15:00:00Z'), lastOutAssurance: 'stereo', lastOutDoor: null, lastOutLiveness: { blink: 0, score: 6.66, stereo: 4.4, passive: 0, screen: 0, surround: -0.25, structure: 2.3 } },
    ],
    { 'EMP-1': 'Ben' },
    'Europe/Berlin',
  );
  assert.equal(
    csv,
    'external_id,name,day,first_in,last_out,first_in_assurance,last_out_assurance,first_in_door,last_out_door,first_in_liveness,last_out_liveness\r\n' +
      '"EMP-1","Ben","2026-03-29","2026-03-29T08:30:00+02:00","","live","","front-door","","",""\r\n' +
      '"p-uuid","","2026-03-29","","2026-03-29T17:00:00+02:00","","stereo","","","","score 6.66; structure 2.3; surround -0.25; stereo 4.4"\r\n',
    'CEST after the switch',
  );
});

test('the consumer config refuses what cannot work, each key named', () => {
  const issues = (yaml: string) => {
    try {
      parseCentralConfig(yaml, 'c.yaml');
    } catch (e) {
      assert.ok(e instanceof ConfigError, 'a ConfigError');
      return e.issues.map((i) => i.path);
    }
    return [];
  };
  assert.deepEqual(issues('pinning: provisioned\n'), ['keys'], 'provisioned with no keys');
  assert.deepEqual(issues('subscribe: ["facegate/#"]\n'), ['subscribe.0'], '# in a base');
  assert.deepEqual(issues('keys: { "facegate/+": { kty: OKP, crv: Ed25519, x: "I5MmJkjf_UGETxaAwC2C139GTEzy3HzKj2hQionO57g" } }\n'), ['keys.facegate/+'], 'a key for many boxes');
  assert.deepEqual(issues('keys: { facegate/g1: { kty: RSA } }\n'), ['keys.facegate/g1'], 'not an Ed25519 JWK');
  assert.deepEqual(issues('time_zone: Mars/Olympus\n'), ['time_zone']);
  assert.deepEqual(issues('max_pinned: 0\n'), ['max_pinned'], 'at least one box');
  assert.deepEqual(issues('broker: { password: hunter2 }\n'), ['broker.password'], 'no password in the file: password_env names the variable');
  const x = '{ kty: OKP, crv: Ed25519, x: "I5MmJkjf_UGETxaAwC2C139GTEzy3HzKj2hQionO57g" }';
  assert.deepEqual(issues(`keys: { site-a/gate-1: ${x}, site-b/gate-1: ${x} }\n`), ['keys.site-b/gate-1'], 'two bases of one box id');
  assert.deepEqual(issues(`keys: { "facegate/gate 1": ${x} }\n`), ['keys.facegate/gate 1'], 'a last level that is no device id');
});

test('a message that cannot be stored is counted as failed and acknowledged: handle throws, the message handler does not', async (t) => {
  const dir = tmp(t);
  const key = keyIn(dir, 'box');
  const { c, store } = consumer(t, dir);
  (await c.handle('facegate/gate-1/bridge/info', bytes(info(key))));
  const event = attendance(key, 'check_in', '2026-01-12T08:00:00+01:00');
  store.close();
  await assert.rejects(c.handle('facegate/gate-1/attendance', bytes(event)), /not open/, 'the database is gone');
  let acks = 0;
  await c.handleMessage({ topic: 'facegate/gate-1/attendance', payload: bytes(event) }, () => acks++);
  assert.equal(acks, 1, 'acknowledged: the broker must not hold it against the in-flight window');
  assert.equal(c.countOf('failed', 'attendance'), 1);
  assert.equal(c.countOf('accepted'), 0, 'not counted as accepted');
});

test('a stop waits for the message being handled: its acknowledgement goes out before the session ends, and nothing is stored or counted after the stop', async (t) => {
  const dir = tmp(t);
  const key = keyIn(dir, 'box');
  const config = parseCentralConfig(`database: ${join(dir, 'central.db')}\ntimesheet_dir: ${join(dir, 'ts')}\nsubscribe: [facegate/+]\n`, 'test.yaml');
  const store = CentralStore.open(config.database);
  t.after(() => store.close());
  // A store whose write ends later, as PostgreSQL's does.
  let release = () => {};
  const written = new Promise<void>((resolve) => (release = resolve));
  const slow = Object.create(store) as CentralStorage;
  slow.record = async (...args: Parameters<CentralStorage['record']>) => {
    await written;
    return store.record(...args);
  };
  const order: string[] = [];
  const client = { on: () => client, endAsync: async () => void order.push('session ended'), outgoing: {}, handleMessage: (_p: unknown, _cb: () => void) => {} };
  const c = new CentralConsumer({ config, store: slow, logger: quietLogger(), connect: (() => client) as never, now: () => NOW });
  c.start();
  assert.equal((await c.handle('facegate/gate-1/bridge/info', bytes(info(key)))).outcome, 'pinned');
  client.handleMessage({ topic: 'facegate/gate-1/attendance', payload: bytes(attendance(key, 'check_in', '2026-01-12T08:00:00+01:00')) }, () => order.push('acknowledged'));
  const stopped = c.stop().then(() => order.push('stopped'));
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(order, [], 'the stop waits for the store');
  release();
  await stopped;
  assert.deepEqual(order, ['acknowledged', 'session ended', 'stopped']);
  assert.equal(c.countOf('accepted'), 1, 'counted before the stop returned');
  assert.equal(store.eventCount(), 1);
});

test('a stop whose store never answers still ends, after its grace: the message is left unacknowledged for the broker to send again, and said once', { timeout: 15_000 }, async (t) => {
  const dir = tmp(t);
  const key = keyIn(dir, 'box');
  const config = parseCentralConfig(`database: ${join(dir, 'central.db')}\ntimesheet_dir: ${join(dir, 'ts')}\nsubscribe: [facegate/+]\n`, 'test.yaml');
  const store = CentralStore.open(config.database);
  t.after(() => store.close());
  const hung = Object.create(store) as CentralStorage;
  hung.record = () => new Promise<never>(() => {});
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'warn', destination: { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) } });
  const client = { on: () => client, endAsync: async () => {}, outgoing: {}, handleMessage: (_p: unknown, _cb: () => void) => {} };
  const c = new CentralConsumer({ config, store: hung, logger, connect: (() => client) as never, now: () => NOW });
  c.start();
  await c.handle('facegate/gate-1/bridge/info', bytes(info(key)));
  let acks = 0;
  client.handleMessage({ topic: 'facegate/gate-1/attendance', payload: bytes(attendance(key, 'check_in', '2026-01-12T08:00:00+01:00')) }, () => acks++);
  const started = performance.now();
  await c.stop(); // an endless wait fails the test by its timeout
  assert.ok(performance.now() - started >= 1900, 'the stop gave the message its grace first');
  assert.equal(acks, 0, 'not acknowledged: the broker sends it again to the next consumer');
  assert.deepEqual(lines.map((l) => [l.msg, l.in_flight]), [['messages still being handled at stop: left unacknowledged, the broker sends them again', 1]]);
});

test("a box is its topic's: a payload naming another device is refused whatever its signature, and a new base cannot take a box id another base holds", async (t) => {
  const dir = tmp(t);
  const key = keyIn(dir, 'box');
  const impostor = keyIn(dir, 'impostor');
  const { c, store } = consumer(t, dir, 'subscribe: [site/+/+]\n');
  const signer = createSigner(impostor);
  const claimed = { outcome: 'wrong_device', reason: 'claimed' };
  assert.deepEqual((await c.handle('site/x/evil1/bridge/info', bytes(info(impostor, 'gate-1')))), claimed, "bridge/info naming gate-1 on evil1's topic");
  assert.equal((await c.handle('site/x/evil1/bridge/info', bytes(info(impostor, 'evil1')))).outcome, 'pinned', 'as itself, it is pinned');
  const mark = bytes(withSignature(signer, { device: 'gate-1', time: '2026-01-12T17:59:00+01:00', seq: 5 } as { device: string; time: string; seq: number; image?: string }));
  assert.deepEqual((await c.handle('site/x/evil1/bridge/sequence', mark)), claimed, 'a signed bridge/sequence naming gate-1');
  assert.deepEqual((await c.handle('site/x/evil1/attendance', bytes(attendance(impostor, 'check_in', '2026-01-12T08:00:00+01:00')))), claimed, 'an event naming gate-1 (the fixture says gate-1)');
  assert.deepEqual(store.gaps(), [], 'no number of gate-1 taken from evil1');

  assert.equal((await c.handle('site/x/gate-1/bridge/info', bytes(info(key)))).outcome, 'pinned');
  assert.deepEqual((await c.handle('site/y/gate-1/bridge/info', bytes(info(impostor)))), { outcome: 'wrong_device', reason: 'taken' }, 'another base ending in gate-1');
  assert.equal(store.pinOf('site/y/gate-1'), undefined, 'not pinned');
  assert.equal(c.countOf('wrong_device'), 4);
});

test('numbers out of range are refused where the message is read, on every topic: 1e300, 2^53 + 1, 1e309, a negative count; a replay answer with a backwards range', async (t) => {
  const dir = tmp(t);
  const key = keyIn(dir, 'box');
  const { c, store } = consumer(t, dir);
  const signer = createSigner(key);
  (await c.handle('facegate/gate-1/bridge/info', bytes(info(key))));
  const signed = (body: Record<string, unknown>) => withSignature<Record<string, unknown>>(signer, { device: 'gate-1', time: '2026-01-12T17:59:00+01:00', ...body });
  const refused = async (topic: string, payload: Buffer, reason: string, what: string) => assert.deepEqual((await c.handle(`facegate/gate-1/${topic}`, payload)), { outcome: 'malformed', reason }, what);
  await refused('bridge/sequence', bytes(signed({ seq: 1e300 })), 'bad_number', 'seq 1e300');
  await refused('bridge/sequence', bytes(signed({ seq: Number.MAX_SAFE_INTEGER + 2 })), 'bad_number', 'seq past 2^53');
  await refused('bridge/sequence', bytes(signed({ seq: -1 })), 'bad_shape', 'a negative seq');
  await refused('attendance', bytes(attendance(key, 'check_in', '2026-01-12T08:00:00+01:00', { seq: 1e20 })), 'bad_number', "an event's seq 1e20");
  await refused('attendance', bytes(attendance(key, 'check_in', '2026-01-12T08:00:00+01:00', { worked_minutes: -5 })), 'bad_shape', 'negative minutes');
  await refused('attendance', bytes(attendance(key, 'check_in', '2026-01-12T08:00:00+01:00', { time: 'tomorrow' })), 'bad_shape', 'a time that is no date');
  await refused('bridge/event', Buffer.from(JSON.stringify(signed({ id: nextId(), type: 'started', data: { n: 1 } })).replace('"n":1', '"n":1e309')), 'bad_number', 'Infinity in free data');
  const answer = (data: Record<string, unknown>) => bytes(signed({ id: nextId(), status: 'ok', data, jti: 'j' }));
  await refused('bridge/response/events/replay', answer({ gone: [[9, 3]], first: 2 }), 'bad_shape', 'a gone range backwards');
  await refused('bridge/response/events/replay', answer({ gone: [], first: 0 }), 'bad_shape', 'first 0');
  await refused('bridge/response/events/replay', answer({ gone: Array.from({ length: 1001 }, (_, i) => [2 * i + 1, 2 * i + 1]) }), 'bad_shape', 'more gone ranges than a request names');
  assert.equal((await c.handle('facegate/gate-1/bridge/response/events/replay', answer({ from: 1, to: 4, replayed: 0, pending: 0, gone: [[1, 4]], last: 4, first: 5 }))).outcome, 'replay_answer', 'a good answer');
  assert.equal((await c.handle('facegate/gate-1/bridge/sequence', bytes(signed({ seq: Number.MAX_SAFE_INTEGER })))).outcome, 'sequence', 'the largest safe integer is a number like any other');
  assert.equal(store.gaps()[0]!.high, Number.MAX_SAFE_INTEGER);
});

test('a check-in its box withdrew (attendance/retracted) leaves the timesheet, whichever comes first; another box cannot withdraw it', async (t) => {
  const dir = tmp(t);
  const key = keyIn(dir, 'box');
  const other = keyIn(dir, 'other');
  const { c } = consumer(t, dir);
  (await c.handle('facegate/gate-1/bridge/info', bytes(info(key))));
  (await c.handle('facegate/gate-2/bridge/info', bytes(info(other, 'gate-2'))));
  const retraction = (signer: DeviceKey, device: string, checkIn: Record<string, unknown>, at: string) =>
    withSignature<Record<string, unknown>>(createSigner(signer), {
      id: nextId(), device, time: at, type: 'retracted', kind: 'check_in', retracts: checkIn.id, record_id: 'r-17', person_id: 'p-17', external_id: 'EMP-17', group: 'staff', camera: 'gate', reason: 'held_picture', check_in: null, check_out: null,
    });
  const sheet = async () => (await c.flushTimesheets(), readFileSync(join(dir, 'ts', 'timesheet-2026-01-12.csv'), 'utf8').split('\r\n')[1]);
  const replayed = attendance(key, 'check_in', '2026-01-12T07:40:00+01:00');
  const real = attendance(key, 'check_in', '2026-01-12T08:01:00+01:00');
  assert.equal((await c.handle('facegate/gate-1/attendance', bytes(replayed))).outcome, 'accepted');
  assert.equal((await c.handle('facegate/gate-1/attendance', bytes(real))).outcome, 'accepted');
  assert.match((await sheet())!, /"2026-01-12T07:40:00\+01:00"/);
  // Another box's key names gate-1's check-in: stored as its own event, but gate-1's mark stands.
  assert.equal((await c.handle('facegate/gate-2/attendance/retracted', bytes(retraction(other, 'gate-2', replayed, '2026-01-12T07:40:02+01:00')))).outcome, 'accepted');
  assert.match((await sheet())!, /"2026-01-12T07:40:00\+01:00"/);
  assert.equal((await c.handle('facegate/gate-1/attendance/retracted', bytes(retraction(key, 'gate-1', replayed, '2026-01-12T07:40:02+01:00')))).outcome, 'accepted');
  assert.match((await sheet())!, /"2026-01-12T08:01:00\+01:00"/, 'the real check-in is the first that stands');
  // A withdrawal that arrives before the check-in it names (a replay fills the gap later).
  const early = attendance(key, 'check_in', '2026-01-12T06:00:00+01:00');
  assert.equal((await c.handle('facegate/gate-1/attendance/retracted', bytes(retraction(key, 'gate-1', early, '2026-01-12T06:00:03+01:00')))).outcome, 'accepted');
  assert.equal((await c.handle('facegate/gate-1/attendance', bytes(early))).outcome, 'accepted');
  assert.match((await sheet())!, /"2026-01-12T08:01:00\+01:00"/);
});

test('a check-in its box proved better (attendance/upgraded) takes the higher assurance, once, never a lower one, whichever comes first; another box cannot raise it; the sheet that counts only proven marks then holds it', async (t) => {
  const dir = tmp(t);
  const key = keyIn(dir, 'box');
  const other = keyIn(dir, 'other');
  const { c, store } = consumer(t, dir, 'timesheet_assurance: [stereo, live, reviewed]\n');
  (await c.handle('facegate/gate-1/bridge/info', bytes(info(key))));
  (await c.handle('facegate/gate-2/bridge/info', bytes(info(other, 'gate-2'))));
  // The cues that raised it come with it; `liveness` undefined is a box from before the shares.
  const upgrade = (signer: DeviceKey, device: string, decision: Record<string, unknown>, from: string, to: string, at: string, liveness?: Record<string, unknown> | null) =>
    withSignature<Record<string, unknown>>(createSigner(signer), {
      id: nextId(), device, time: at, type: 'upgraded', kind: decision.type, upgrades: decision.id, record_id: 'r-17', person_id: 'p-17', external_id: 'EMP-17', group: 'staff', camera: 'gate',
      assurance: to, previous_assurance: from, check_in: decision.check_in, check_out: decision.check_out, ...(liveness !== undefined ? { liveness } : {}),
    });
  const liveShares = { score: 4.1, blink: 2.3, structure: 0, passive: 1.8, surround: 0, screen: 0 };
  const stereoShares = { score: 6.7, blink: 0, structure: 2.3, passive: 0, surround: 0, screen: 0, stereo: 4.4 };
  const handled = async (topic: string, e: Record<string, unknown>) => (await c.handle(topic, bytes(e))).outcome;
  const sheet = async () => (await c.flushTimesheets(), readFileSync(join(dir, 'ts', 'timesheet-2026-01-12.csv'), 'utf8').split('\r\n')[1] ?? '');
  const all = () => store.timesheet('2026-01-12')[0];
  const named = attendance(key, 'check_in', '2026-01-12T07:58:00+01:00', { assurance: 'recognised' });
  assert.equal(await handled('facegate/gate-1/attendance', named), 'accepted');
  assert.equal(await sheet(), '', 'named only: stored, but not on a sheet that counts proven marks');
  // Another box's key names gate-1's check-in: stored as its own event, gate-1's mark stays as it was.
  assert.equal(await handled('facegate/gate-2/attendance/upgraded', upgrade(other, 'gate-2', named, 'recognised', 'stereo', '2026-01-12T07:58:01+01:00')), 'accepted');
  assert.equal(all()!.firstInAssurance, 'recognised');
  const toLive = upgrade(key, 'gate-1', named, 'recognised', 'live', '2026-01-12T07:58:02+01:00', liveShares);
  assert.equal(await handled('facegate/gate-1/attendance/upgraded', toLive), 'accepted');
  assert.deepEqual([all()!.firstInMs, all()!.firstInAssurance, all()!.firstInLiveness], [Date.parse('2026-01-12T07:58:00+01:00'), 'live', liveShares], 'the same mark at the same time, proven live by the cues that raised it');
  assert.match(await sheet(), /^"EMP-17",.*,"2026-01-12T07:58:00\+01:00","","live","","","","score 4.1; blink 2.3; passive 1.8",""$/);
  // Delivered again: a duplicate by its id. A stereo upgrade, then the live one replayed late under a new consumer's eyes: stereo stays, with its shares.
  assert.equal(await handled('facegate/gate-1/attendance/upgraded', toLive), 'duplicate');
  assert.equal(await handled('facegate/gate-1/attendance/upgraded', upgrade(key, 'gate-1', named, 'live', 'stereo', '2026-01-12T07:58:05+01:00', stereoShares)), 'accepted');
  assert.deepEqual([all()!.firstInAssurance, all()!.firstInLiveness], ['stereo', stereoShares]);
  assert.equal(await handled('facegate/gate-1/attendance/upgraded', upgrade(key, 'gate-1', named, 'recognised', 'live', '2026-01-12T07:58:06+01:00', liveShares)), 'accepted');
  assert.deepEqual([all()!.firstInAssurance, all()!.firstInLiveness], ['stereo', stereoShares], 'never lowered');
  // An upgrade that arrives before the check-out it names (a replay fills the gap later): the mark
  // comes in raised. This one from a box before the shares: the mark keeps none rather than its
  // recognition's, which proved something else.
  const out = attendance(key, 'check_out', '2026-01-12T17:02:00+01:00', { assurance: 'recognised', liveness: { ...liveShares, score: 1.8, blink: 0 } });
  assert.equal(await handled('facegate/gate-1/attendance/upgraded', upgrade(key, 'gate-1', out, 'recognised', 'live', '2026-01-12T17:02:03+01:00')), 'accepted');
  assert.equal(await handled('facegate/gate-1/attendance', out), 'accepted');
  assert.deepEqual([all()!.lastOutMs, all()!.lastOutAssurance, all()!.lastOutLiveness], [Date.parse('2026-01-12T17:02:00+01:00'), 'live', null]);
  // Withdrawn afterwards all the same: the withdrawal names the check-in's own event, and the sheet lets it go.
  const withdrawal = withSignature<Record<string, unknown>>(createSigner(key), {
    id: nextId(), device: 'gate-1', time: '2026-01-12T07:58:09+01:00', type: 'retracted', kind: 'check_in', retracts: named.id, record_id: 'r-17', person_id: 'p-17', external_id: 'EMP-17', group: 'staff', camera: 'gate', reason: 'held_picture', check_in: null, check_out: null,
  });
  assert.equal(await handled('facegate/gate-1/attendance/retracted', withdrawal), 'accepted');
  assert.equal(all()!.firstInMs, null);
  // A damaged upgrade, or one naming an assurance no box sends, is refused as malformed.
  assert.equal(await handled('facegate/gate-1/attendance/upgraded', { ...upgrade(key, 'gate-1', named, 'live', 'stereo', '2026-01-12T07:58:10+01:00'), assurance: 'certain' }), 'malformed');
  assert.equal(await handled('facegate/gate-1/attendance/upgraded', { ...upgrade(key, 'gate-1', named, 'live', 'stereo', '2026-01-12T07:58:11+01:00'), previous_assurance: 'recognised' }), 'forged');
  // Signed shares no box sends (a cue as text, a cue no schema names): refused where they are read, nothing stored.
  const stored = store.eventCount();
  assert.equal(await handled('facegate/gate-1/attendance/upgraded', upgrade(key, 'gate-1', named, 'live', 'stereo', '2026-01-12T07:58:12+01:00', { ...stereoShares, stereo: '4.4' })), 'malformed');
  assert.equal(await handled('facegate/gate-1/attendance/upgraded', upgrade(key, 'gate-1', named, 'live', 'stereo', '2026-01-12T07:58:13+01:00', { ...stereoShares, 'a\u001b[2J': 1 })), 'malformed');
  assert.equal(await handled('facegate/gate-1/attendance', attendance(key, 'check_in', '2026-01-12T09:00:00+01:00', { liveness: { score: 1 } })), 'malformed');
  assert.equal(store.eventCount(), stored);
});

test('assurance: a box signs what proved each check-in and check-out, and the timesheet counts those the config names; an older box\'s, without one, were live', async (t) => {
  const dir = tmp(t);
  const key = keyIn(dir, 'box');
  const { c, store } = consumer(t, dir, 'timesheet_assurance: [stereo, live, reviewed]\n');
  (await c.handle('facegate/gate-1/bridge/info', bytes(info(key))));
  const accepted = async (e: Record<string, unknown>, topic = 'attendance') => assert.equal((await c.handle(`facegate/gate-1/${topic}`, bytes(e))).outcome, 'accepted', JSON.stringify(e).slice(0, 120));
  // On a recognition alone (the box's camera required no more): stored, but not on this site's sheet.
  await accepted(attendance(key, 'check_in', '2026-01-12T07:50:00+01:00', { assurance: 'recognised' }));
  await accepted(attendance(key, 'check_in', '2026-01-12T08:10:00+01:00'));
  await accepted(attendance(key, 'check_out', '2026-01-12T17:00:00+01:00', { assurance: 'stereo' }));
  await accepted(attendance(key, 'check_in', '2026-01-12T08:00:00+01:00', { type: 'summary', status: 'present', source: 'end_of_day', camera: null, assurance: null }));
  await c.flushTimesheets();
  const sheet = readFileSync(join(dir, 'ts', 'timesheet-2026-01-12.csv'), 'utf8').split('\r\n')[1];
  assert.equal(sheet, '"EMP-17","\'=Anna, ""the"" boss","2026-01-12","2026-01-12T08:10:00+01:00","2026-01-12T17:00:00+01:00","live","stereo","","","",""', 'the first check-in proven, from the box older than assurance');
  assert.deepEqual(store.timesheet('2026-01-12').map((r) => [r.firstInAssurance, r.lastOutAssurance]), [['recognised', 'stereo']], 'every mark is kept: the filter is the sheet\'s');
  assert.deepEqual(store.timesheet('2026-01-12', { assurances: ['recognised'] }).map((r) => [r.firstInMs, r.lastOutMs]), [[Date.parse('2026-01-12T07:50:00+01:00'), null]]);
  assert.deepEqual(store.timesheet('2026-01-12', { assurances: [] }), []);

  // What only a damaged or forged box sends: a check-in naming no assurance, or one no box knows.
  const refused = async (e: Record<string, unknown>, what: string) => assert.deepEqual((await c.handle('facegate/gate-1/attendance', bytes(e))), { outcome: 'malformed', reason: 'bad_shape' }, what);
  await refused(attendance(key, 'check_in', '2026-01-12T09:00:00+01:00', { assurance: null }), 'null belongs to a summary');
  await refused(attendance(key, 'check_in', '2026-01-12T09:00:00+01:00', { assurance: 'certain' }), 'an assurance no box sends');
  assert.equal(store.eventCount(), 4);
});

test('the door: each check-in and check-out keeps the door its box named, the sheet shows it; a box from before doors sends none; a door no config could name is refused', async (t) => {
  const dir = tmp(t);
  const key = keyIn(dir, 'box');
  const { c, store } = consumer(t, dir);
  (await c.handle('facegate/gate-1/bridge/info', bytes(info(key))));
  const handled = async (e: Record<string, unknown>) => (await c.handle('facegate/gate-1/attendance', bytes(e))).outcome;
  assert.equal(await handled(attendance(key, 'check_in', '2026-01-12T08:01:00+01:00', { door: 'front-door' })), 'accepted');
  assert.equal(await handled(attendance(key, 'check_out', '2026-01-12T17:05:00+01:00')), 'accepted', 'a camera in no door, or a box from before doors');
  assert.equal(await handled({ ...attendance(key, 'check_in', '2026-01-12T09:00:00+01:00', { external_id: 'EMP-2', door: 'side' }) }), 'accepted');
  await c.flushTimesheets();
  const sheet = readFileSync(join(dir, 'ts', 'timesheet-2026-01-12.csv'), 'utf8').split('\r\n');
  assert.equal(sheet[0], 'external_id,name,day,first_in,last_out,first_in_assurance,last_out_assurance,first_in_door,last_out_door,first_in_liveness,last_out_liveness');
  assert.equal(sheet[1], '"EMP-17","\'=Anna, ""the"" boss","2026-01-12","2026-01-12T08:01:00+01:00","2026-01-12T17:05:00+01:00","live","live","front-door","","",""');
  assert.equal(sheet[2], '"EMP-2","","2026-01-12","2026-01-12T09:00:00+01:00","","live","","side","","",""');
  assert.deepEqual(store.timesheet('2026-01-12', { doors: ['side'] }).map((r) => r.employee), ['EMP-2']);
  // Signed, but a door no box's config could name: refused where it is read, nothing stored.
  for (const door of ['Front Door', 'x'.repeat(33), '', '-lead', 'a\u001b[2J']) {
    assert.deepEqual(await c.handle('facegate/gate-1/attendance', bytes(attendance(key, 'check_in', '2026-01-12T10:00:00+01:00', { door }))), { outcome: 'malformed', reason: 'bad_shape' }, JSON.stringify(door));
  }
  assert.equal((await c.handle('facegate/gate-1/attendance', bytes(attendance(key, 'check_in', '2026-01-12T10:00:00+01:00', { door: 7 })))).outcome, 'malformed');
  assert.equal(store.eventCount(), 3);
});

test('assurance on track events: a box sends what proved the recognised person; an older box\'s events, without it, are taken as before', async (t) => {
  const dir = tmp(t);
  const key = keyIn(dir, 'box');
  const { c } = consumer(t, dir);
  (await c.handle('facegate/gate-1/bridge/info', bytes(info(key))));
  const trackEvent = (over: Record<string, unknown>) =>
    withSignature<Record<string, unknown>>(createSigner(key), {
      id: nextId(), device: 'gate-1', time: '2026-01-12T09:31:41+01:00', type: 'update', camera: 'gate', track: 17, state: 'recognized', person_id: 'emp-0042', anonymous_id: null, score: 0.8, margin: 0.3,
      live: true, antispoof: 0.9, liveness: { score: 5.6, blink: 0, structure: 4.6, passive: 1, surround: 0, screen: 0 }, reasons: [], face_px: 142, image_sha256: null, ...over,
    });
  assert.equal((await c.handle('facegate/gate-1/gate/events', bytes(trackEvent({ assurance: 'live' })))).outcome, 'accepted');
  assert.equal((await c.handle('facegate/gate-1/gate/events', bytes(trackEvent({})))).outcome, 'accepted', 'an older box');
  assert.deepEqual((await c.handle('facegate/gate-1/gate/events', bytes(trackEvent({ assurance: 'reviewd' })))), { outcome: 'malformed', reason: 'bad_shape' });
});

test('first use pins at most max_pinned boxes: past it a new box is refused and nothing of it kept, while the boxes pinned and those under keys go on', async (t) => {
  const dir = tmp(t);
  const [a, b, c3, listed] = ['a', 'b', 'c', 'listed'].map((n) => keyIn(dir, n)) as [DeviceKey, DeviceKey, DeviceKey, DeviceKey];
  const { c, store } = consumer(t, dir, `max_pinned: 2\nkeys:\n  facegate/gate-9: ${JSON.stringify(listed.publicJwk)}\n`);
  const handled = async (topic: string, payload: unknown) => c.handle(topic, bytes(payload));
  assert.equal((await handled('facegate/gate-1/bridge/info', info(a))).outcome, 'pinned');
  assert.equal((await handled('facegate/gate-2/bridge/info', info(b, 'gate-2'))).outcome, 'pinned');
  assert.deepEqual(await handled('facegate/gate-3/bridge/info', info(c3, 'gate-3')), { outcome: 'unknown_box', reason: 'pin_limit' });
  assert.equal(store.pinCount(), 2, 'the third box is not pinned');
  assert.deepEqual(await handled('facegate/gate-3/attendance', attendance(c3, 'check_in', '2026-01-12T08:00:00+01:00', { device: 'gate-3' })), { outcome: 'unknown_box', reason: 'event' });
  // What was pinned before the bound stays trusted, and a box listed under keys needs no pin.
  assert.deepEqual(await handled('facegate/gate-1/bridge/info', info(a)), { outcome: 'ignored', reason: 'same_key' });
  assert.equal((await handled('facegate/gate-2/attendance', attendance(b, 'check_in', '2026-01-12T08:01:00+01:00', { device: 'gate-2' }))).outcome, 'accepted');
  assert.equal((await handled('facegate/gate-9/attendance', attendance(listed, 'check_in', '2026-01-12T08:02:00+01:00', { device: 'gate-9', external_id: 'EMP-9' }))).outcome, 'accepted');
  assert.equal(store.eventCount(), 2);
  assert.equal(c.countOf('unknown_box', 'pin_limit'), 1);
});

test('the timesheet is never written through a link planted where it is written aside: refused and said, the file it points at untouched; written once the link is gone, owner-only', async (t) => {
  const dir = tmp(t);
  const key = keyIn(dir, 'box');
  const { c } = consumer(t, dir);
  await c.handle('facegate/gate-1/bridge/info', bytes(info(key)));
  const victim = join(dir, 'victim.txt');
  writeFileSync(victim, 'not yours', { mode: 0o644 });
  mkdirSync(join(dir, 'ts'), { recursive: true });
  const aside = join(dir, 'ts', 'timesheet-2026-01-12.csv.tmp');
  symlinkSync(victim, aside);
  assert.equal((await c.handle('facegate/gate-1/attendance', bytes(attendance(key, 'check_in', '2026-01-12T08:01:00+01:00')))).outcome, 'accepted');
  await assert.rejects(c.flushTimesheets(), (e: Error & { code?: string }) => e.code === 'FG_ERR_OUTPUT_SYMLINK');
  assert.equal(readFileSync(victim, 'utf8'), 'not yours');
  assert.equal(existsSync(join(dir, 'ts', 'timesheet-2026-01-12.csv')), false);
  // The day stays behind the store and is written at the next flush once the link is gone.
  unlinkSync(aside);
  await c.flushTimesheets();
  const sheet = join(dir, 'ts', 'timesheet-2026-01-12.csv');
  assert.match(readFileSync(sheet, 'utf8'), /^"EMP-17",/m);
  assert.equal(lstatSync(sheet).mode & 0o777, 0o600);
});
