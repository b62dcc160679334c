// `facegate central` (the build) on a real Mosquitto, reading boxes that publish through the real
// outbox, signer and MQTT bridge: what it stores, drops and refuses, its timesheet (with a check-in
// raised by its box's attendance/upgraded, one a person confirmed and one its box withdrew), its
// metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { Mosquitto } from '../support/mosquitto.js';
import { EventsStack, Subscriber } from '../support/events-stack.js';
import { runCli } from '../support/cli.js';
import { startCentralCli } from '../support/central-cli.js';
import { createSigner, withSignature } from '../../daemon/events/signing.js';
import { ensureDeviceKey } from '../../daemon/events/device-key.js';
import { Sqlite } from '../../daemon/store/sqlite.js';
import { ExitCode } from '../../daemon/base/errors.js';
import type { Assurance } from '../../contract/assurance.js';

function tmp(t: { after(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'fg-central-broker-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

const attendanceBody = (type: 'check_in' | 'check_out', person: string, at: string, assurance: Assurance = 'live', door?: string) => ({
  type, record_id: `r-${person}`, person_id: `p-${person}`, external_id: person, group: 'staff', camera: 'gate', ...(door !== undefined ? { door } : {}), date: at.slice(0, 10), shift: null,
  status: type === 'check_in' ? ('unscheduled' as const) : ('on_time' as const), source: type === 'check_in' ? ('entry' as const) : ('exit' as const), assurance, liveness: null,
  late_minutes: 0, early_minutes: 0, overtime_minutes: 0, check_in: type === 'check_in' ? at : null, check_out: type === 'check_out' ? at : null, worked_minutes: null,
});

test('facegate central on a real broker: two boxes pinned on first use, every event stored once; duplicates dropped; forged, replayed and unknown-box events refused; the timesheet; provisioned pinning', { timeout: 120_000 }, async (t) => {
  const broker = await Mosquitto.start();
  t.after(() => broker.dispose());
  const dir = tmp(t);
  const boxes = ['gate-1', 'gate-2'].map((device) => new EventsStack({ dbPath: join(dir, `${device}.db`), keyPath: join(dir, `${device}.key`), url: broker.url, baseTopic: `facegate/${device}`, clientId: `facegate-${device}` }));
  const [gate1, gate2] = boxes as [EventsStack, EventsStack];
  // What each box's events stage publishes, retained, on every connect.
  const publisher = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'test-publisher' });
  t.after(() => publisher.endAsync(true));
  for (const [device, box] of [['gate-1', gate1], ['gate-2', gate2]] as const) {
    await publisher.publishAsync(`facegate/${device}/bridge/info`, JSON.stringify({ version: '0.1.0', device, cameras: ['gate'], public_key: box.key.publicJwk, config: {} }), { qos: 1, retain: true });
  }
  const firstUse = await startCentralCli(t, dir, 'central-a', broker.url, 'pinning: first_use');
  const provisioned = await startCentralCli(t, dir, 'central-b', broker.url, `pinning: provisioned\nkeys:\n  facegate/gate-1: ${JSON.stringify(gate1.key.publicJwk)}`);
  await firstUse.until({ pinned: 2 });
  await provisioned.until({ 'unknown_box/bridge_info': 1 });
  const raw = await Subscriber.connect(broker.url, 'facegate/+/attendance', 'test-raw');
  t.after(() => raw.close());

  for (const box of boxes) {
    box.start();
    t.after(() => box.stop());
  }
  // gate-1 checks in on a recognition alone (its camera requires no more), and again later on a live one.
  gate1.writer.write('attendance', attendanceBody('check_in', 'EMP-17', '2026-01-12T08:01:00+01:00', 'recognised'));
  gate1.writer.write('attendance', attendanceBody('check_in', 'EMP-17', '2026-01-12T12:30:00+01:00', 'live', 'front-door'));
  // What proved it and through which cues: stored with the event, as the box signed it.
  const stereoShares = { score: 6.7, blink: 0, structure: 2.3, passive: 0, surround: 0, screen: 0, stereo: 4.4 };
  gate2.writer.write('attendance', { ...attendanceBody('check_out', 'EMP-17', '2026-01-12T17:05:09+01:00', 'stereo', 'back-door'), liveness: stereoShares });
  const named = gate2.writer.write('attendance', attendanceBody('check_in', 'EMP-42', '2026-01-12T09:00:00+01:00', 'recognised'));
  // gate-2's track then proved EMP-42 live: the same check-in, raised, on its own topic, with the cues that raised it.
  const liveShares = { score: 4.1, blink: 2.3, structure: 0, passive: 1.8, surround: 0, screen: 0 };
  gate2.writer.write('attendanceUpgraded', {
    type: 'upgraded', kind: 'check_in', upgrades: named, record_id: 'r-EMP-42', person_id: 'p-EMP-42', external_id: 'EMP-42', group: 'staff', camera: 'gate',
    assurance: 'live', previous_assurance: 'recognised', check_in: '2026-01-12T09:00:00+01:00', check_out: null, liveness: liveShares,
  });
  gate1.writer.write('spoof', { type: 'spoof', camera: 'gate', anonymous_id: 'anon-4', person_id: null, reason: 'no_blink', score: 0.1 });
  await firstUse.until({ accepted: 6 });
  await raw.waitFor(() => raw.messages.length >= 4, 10_000, 'the raw attendance events');

  // A redelivery or a replay of the same event: the same id.
  const first = raw.messages.find((m) => m.topic === 'facegate/gate-1/attendance')!;
  await publisher.publishAsync(first.topic, first.payload, { qos: 1 });
  // Forged: a field changed after signing.
  const body = JSON.parse(first.payload.toString()) as Record<string, unknown>;
  await publisher.publishAsync(first.topic, JSON.stringify({ ...body, external_id: 'EMP-42' }), { qos: 1 });
  // Replayed: signed by the box's own key, a month ago, with an id never seen.
  const old = withSignature<Record<string, unknown>>(createSigner(gate1.key), { ...attendanceBody('check_in', 'EMP-17', '2026-01-12T07:00:00+01:00'), id: '019b4f3a-6c00-7000-8000-0000000000aa', device: 'gate-1', time: new Date(Date.now() - 30 * 86_400_000).toISOString() });
  await publisher.publishAsync(first.topic, JSON.stringify(old), { qos: 1 });
  // A box no one has seen: no bridge/info, its own key.
  const stranger = ensureDeviceKey(join(dir, 'gate-9.key')).key;
  const strange = withSignature<Record<string, unknown>>(createSigner(stranger), { ...attendanceBody('check_in', 'EMP-17', '2026-01-12T06:00:00+01:00'), id: '019b4f3a-6c00-7000-8000-0000000000bb', device: 'gate-9', time: new Date().toISOString() });
  await publisher.publishAsync('facegate/gate-9/attendance', JSON.stringify(strange), { qos: 1 });

  const counts = await firstUse.until({ accepted: 6, duplicate: 1, 'forged/altered': 1, 'stale/too_old': 1, 'unknown_box/event': 1 });
  // sequence: each box's signed high-water mark (bridge/sequence), published on every connect.
  assert.equal([...counts.keys()].filter((k) => !['pinned', 'accepted', 'duplicate', 'forged/altered', 'stale/too_old', 'unknown_box/event', 'sequence'].includes(k)).length, 0, `nothing else: ${JSON.stringify(Object.fromEntries(counts))}`);
  assert.ok((counts.get('sequence') ?? 0) >= 2, 'a high-water mark from each box');
  // The provisioned consumer trusts gate-1 only: gate-2's three events, its signed high-water mark
  // (bridge/sequence, on connect) and gate-9's event are refused.
  await provisioned.until({ accepted: 3, 'unknown_box/event': 5 });

  assert.equal(await firstUse.stop(), ExitCode.OK, `SIGTERM stops it cleanly:\n${firstUse.output}`);
  assert.equal(await provisioned.stop(), ExitCode.OK);
  const db = new Sqlite(join(dir, 'central-a.db'), { readonly: true });
  t.after(() => db.close());
  assert.deepEqual(db.prepare('SELECT base, type FROM central_events ORDER BY base, type').all(), [
    { base: 'facegate/gate-1', type: 'check_in' },
    { base: 'facegate/gate-1', type: 'check_in' },
    { base: 'facegate/gate-1', type: 'spoof' },
    { base: 'facegate/gate-2', type: 'check_in' },
    { base: 'facegate/gate-2', type: 'check_out' },
    { base: 'facegate/gate-2', type: 'upgraded' },
  ], 'each event once');
  assert.deepEqual(db.prepare('SELECT base, device FROM central_pins ORDER BY base').all(), [{ base: 'facegate/gate-1', device: 'gate-1' }, { base: 'facegate/gate-2', device: 'gate-2' }]);
  assert.equal(
    readFileSync(join(dir, 'central-a-timesheets', 'timesheet-2026-01-12.csv'), 'utf8'),
    'external_id,name,day,first_in,last_out,first_in_assurance,last_out_assurance,first_in_door,last_out_door,first_in_liveness,last_out_liveness\r\n' +
      '"EMP-17","Anna Weber","2026-01-12","2026-01-12T08:01:00+01:00","2026-01-12T17:05:09+01:00","recognised","stereo","","back-door","","score 6.7; structure 2.3; stereo 4.4"\r\n' +
      '"EMP-42","Ben Okafor","2026-01-12","2026-01-12T09:00:00+01:00","","live","","","","score 4.1; blink 2.3; passive 1.8",""\r\n',
    'first in at one box, last out at the other, in the site zone, each with what proved it, where (a camera in no door names none) and by which cues (an upgraded check-in by those that raised it)',
  );
  const stored = db.prepare("SELECT body FROM central_events WHERE base = 'facegate/gate-2' AND topic = 'attendance'").all() as { body: string }[];
  assert.deepEqual(stored.map((r) => (JSON.parse(r.body) as { type: string; liveness: unknown }).liveness).sort((a) => (a === null ? 1 : -1)), [stereoShares, null], "each record keeps the cues' shares its box signed");
  assert.deepEqual(db.prepare('SELECT employee, type, assurance, door FROM central_attendance ORDER BY at_ms').all(), [
    { employee: 'EMP-17', type: 'check_in', assurance: 'recognised', door: null },
    { employee: 'EMP-42', type: 'check_in', assurance: 'live', door: null },
    { employee: 'EMP-17', type: 'check_in', assurance: 'live', door: 'front-door' },
    { employee: 'EMP-17', type: 'check_out', assurance: 'stereo', door: 'back-door' },
  ]);
  // HR counting only what a camera proved: the recognition alone leaves the sheet, the live check-in later that day counts, and so does EMP-42's, raised.
  const proven = await runCli(['central', 'timesheet', '--config', firstUse.configPath, '--day', '2026-01-12', '--assurance', 'live,stereo']);
  assert.equal(proven.code, ExitCode.OK, proven.stderr);
  assert.equal(
    proven.stdout,
    'external_id,name,day,first_in,last_out,first_in_assurance,last_out_assurance,first_in_door,last_out_door,first_in_liveness,last_out_liveness\r\n' +
      '"EMP-17","Anna Weber","2026-01-12","2026-01-12T12:30:00+01:00","2026-01-12T17:05:09+01:00","live","stereo","front-door","back-door","","score 6.7; structure 2.3; stereo 4.4"\r\n' +
      '"EMP-42","Ben Okafor","2026-01-12","2026-01-12T09:00:00+01:00","","live","","","","score 4.1; blink 2.3; passive 1.8",""\r\n',
  );
  // One door's sheet: only what was made at it.
  const atFront = await runCli(['central', 'timesheet', '--config', firstUse.configPath, '--day', '2026-01-12', '--door', 'front-door']);
  assert.equal(atFront.code, ExitCode.OK, atFront.stderr);
  assert.equal(atFront.stdout.split('\r\n').slice(1).join('\r\n'), '"EMP-17","Anna Weber","2026-01-12","2026-01-12T12:30:00+01:00","","live","","front-door","","",""\r\n');
  const badDoor = await runCli(['central', 'timesheet', '--config', firstUse.configPath, '--day', '2026-01-12', '--door', 'front-door,Front Door']);
  assert.equal(badDoor.code, ExitCode.USAGE, badDoor.stderr);
  assert.match(badDoor.stderr, /FG_ERR_USAGE: --door takes a comma-separated list of door names .*; got "Front Door"/);
  const wrong = await runCli(['central', 'timesheet', '--config', firstUse.configPath, '--day', '2026-01-12', '--assurance', 'live,proven']);
  assert.equal(wrong.code, ExitCode.USAGE, wrong.stderr);
  assert.match(wrong.stderr, /FG_ERR_USAGE: --assurance takes a comma-separated list of stereo, live, reviewed, recognised; got "proven"/);
  const noDay = await runCli(['central', 'timesheet', '--config', firstUse.configPath, '--day', '2026-02-30']);
  assert.match(noDay.stderr, /FG_ERR_USAGE: --day takes a calendar day/);
  assert.match(firstUse.output, /"outcome":"forged","reason":"altered"/, 'the refusal is logged, structured');
});

test('facegate central on a real broker: a check-in a person confirmed is stored as reviewed and counts on its sheet; one its box withdrew (attendance/retracted) stays stored, named by the withdrawal, and leaves the sheet', { timeout: 120_000 }, async (t) => {
  const broker = await Mosquitto.start();
  t.after(() => broker.dispose());
  const dir = tmp(t);
  const box = new EventsStack({ dbPath: join(dir, 'gate-1.db'), keyPath: join(dir, 'gate-1.key'), url: broker.url, baseTopic: 'facegate/gate-1', clientId: 'facegate-gate-1' });
  const publisher = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'test-publisher' });
  t.after(() => publisher.endAsync(true));
  await publisher.publishAsync('facegate/gate-1/bridge/info', JSON.stringify({ version: '0.1.0', device: 'gate-1', cameras: ['gate'], public_key: box.key.publicJwk, config: {} }), { qos: 1, retain: true });
  const central = await startCentralCli(t, dir, 'central', broker.url, 'pinning: first_use');
  await central.until({ pinned: 1 });
  box.start();
  t.after(() => box.stop());

  // EMP-17's arrival, below the camera's requirement, confirmed by an operator: the check-in the review made.
  const confirmed = box.writer.write('attendance', attendanceBody('check_in', 'EMP-17', '2026-01-12T08:01:00+01:00', 'reviewed'));
  // EMP-42 checked in live, then the track was refused as a held picture: the box withdraws it.
  const withdrawn = box.writer.write('attendance', attendanceBody('check_in', 'EMP-42', '2026-01-12T09:00:00+01:00', 'live'));
  const withdrawal = box.writer.write('attendanceRetracted', {
    type: 'retracted', kind: 'check_in', retracts: withdrawn, record_id: 'r-EMP-42', person_id: 'p-EMP-42', external_id: 'EMP-42', group: 'staff', camera: 'gate',
    reason: 'held_picture', check_in: null, check_out: null,
  });
  const counts = await central.until({ accepted: 3 });
  assert.deepEqual([...counts.keys()].filter((k) => !['pinned', 'accepted', 'sequence'].includes(k)), [], `nothing refused: ${JSON.stringify(Object.fromEntries(counts))}`);
  assert.equal(await central.stop(), ExitCode.OK, central.output);

  const db = new Sqlite(join(dir, 'central.db'), { readonly: true });
  t.after(() => db.close());
  assert.deepEqual(db.prepare('SELECT type FROM central_events ORDER BY type').all(), [{ type: 'check_in' }, { type: 'check_in' }, { type: 'retracted' }], 'the withdrawal is kept beside what it withdrew');
  assert.deepEqual(db.prepare('SELECT event_id, employee, type, assurance, retracted_by FROM central_attendance ORDER BY at_ms').all(), [
    { event_id: confirmed, employee: 'EMP-17', type: 'check_in', assurance: 'reviewed', retracted_by: null },
    { event_id: withdrawn, employee: 'EMP-42', type: 'check_in', assurance: 'live', retracted_by: withdrawal },
  ]);
  const header = 'external_id,name,day,first_in,last_out,first_in_assurance,last_out_assurance,first_in_door,last_out_door,first_in_liveness,last_out_liveness\r\n';
  const emp17 = '"EMP-17","Anna Weber","2026-01-12","2026-01-12T08:01:00+01:00","","reviewed","","","","",""\r\n';
  assert.equal(readFileSync(join(dir, 'central-timesheets', 'timesheet-2026-01-12.csv'), 'utf8'), header + emp17, 'the reviewed check-in counts; the withdrawn one is gone from the sheet');
  // HR counting only what a person confirmed: the reviewed check-in alone; a live filter finds nothing standing.
  const reviewed = await runCli(['central', 'timesheet', '--config', central.configPath, '--day', '2026-01-12', '--assurance', 'reviewed']);
  assert.equal(reviewed.code, ExitCode.OK, reviewed.stderr);
  assert.equal(reviewed.stdout, header + emp17);
  const live = await runCli(['central', 'timesheet', '--config', central.configPath, '--day', '2026-01-12', '--assurance', 'live']);
  assert.equal(live.code, ExitCode.OK, live.stderr);
  assert.equal(live.stdout, header, 'the withdrawn live check-in is on no sheet');
});

test('facegate central refuses a config it cannot run with, exit 78, every key named', async (t) => {
  const dir = tmp(t);
  const path = join(dir, 'bad.yaml');
  writeFileSync(path, 'pinning: provisioned\nsubscribe: ["facegate/#"]\n');
  const r = await runCli(['central', '--config', path]);
  assert.equal(r.code, ExitCode.CONFIG, r.stderr);
  assert.match(r.stderr, /^Refusing to start: FG_ERR_CONFIG: invalid config .*\n {2}subscribe\.0: .*\n {2}keys: /m);
});

test('facegate central stops on SIGTERM while its broker does not answer: the session is dropped after a grace, exit 0', { timeout: 60_000 }, async (t) => {
  const broker = await Mosquitto.start();
  t.after(() => broker.dispose());
  const dir = tmp(t);
  const central = await startCentralCli(t, dir, 'central', broker.url, '');
  while (!central.output.includes('central consumer subscribed')) await new Promise((r) => setTimeout(r, 20));
  // Connected, and the broker stops answering: its side of the connection is never closed, which
  // MQTT.js's graceful end waits for.
  broker.freeze();
  assert.equal(await central.stop(), ExitCode.OK, central.output);
  assert.match(central.output, /the broker did not close the session within \d+ ms: the connection is dropped/);
});
