import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Outbox } from '../../daemon/events/outbox.js';
import type { EventClass } from '../../contract/topics.js';
import { uuidv7Generator } from '../../daemon/base/uuidv7.js';
import { UUID_V7_PATTERN } from '../../contract/fields.js';
import { openTestDb, testSealer } from '../support/events-stack.js';
import { createLogger } from '../../daemon/base/log.js';
import { EventWriter } from '../../daemon/events/writer.js';
import { createSigner } from '../../daemon/events/signing.js';
import { ensureDeviceKey } from '../../daemon/events/device-key.js';

function setup(t: { after(fn: () => void): void }, maxEvents: number, maxBytes = 1 << 30) {
  const dir = mkdtempSync(join(tmpdir(), 'fg-outbox-'));
  const db = openTestDb(join(dir, 'state.db'), false);
  t.after(() => (db.close(), rmSync(dir, { recursive: true, force: true })));
  const outbox = new Outbox(db, { maxEvents, maxBytes }, testSealer());
  let n = 0;
  const put = (eventClass: EventClass, payload = 'x'.repeat(10)) => outbox.enqueue({ eventId: `${eventClass}-${++n}`, topic: `t/${eventClass}`, payload, eventClass, createdMs: n });
  return { db, outbox, put, ids: () => outbox.readAfter(0, 1000).map((r) => r.eventId) };
}

test('reads in order after a seq and deletes what was acknowledged', (t) => {
  const s = setup(t, 100);
  for (let i = 0; i < 5; i++) s.put('attendance');
  const rows = s.outbox.readAfter(0, 3);
  assert.deepEqual(rows.map((r) => r.eventId), ['attendance-1', 'attendance-2', 'attendance-3']);
  assert.deepEqual(s.outbox.readAfter(rows[2]!.seq, 10).map((r) => r.eventId), ['attendance-4', 'attendance-5']);
  s.outbox.acknowledge([rows[0]!, rows[1]!]);
  assert.deepEqual(s.ids(), ['attendance-3', 'attendance-4', 'attendance-5']);
  assert.equal(s.outbox.stats(10).pending, 3);
});

test('overflow evicts the oldest info events first, then the oldest alerts, and counts them', (t) => {
  const s = setup(t, 4);
  s.put('info'); // 1
  s.put('alert'); // 2
  s.put('attendance'); // 3
  s.put('info'); // 4
  assert.deepEqual(s.put('attendance'), { info: 1, alert: 0 });
  assert.deepEqual(s.ids(), ['alert-2', 'attendance-3', 'info-4', 'attendance-5']);
  assert.deepEqual(s.put('alert'), { info: 1, alert: 0 });
  assert.deepEqual(s.put('attendance'), { info: 0, alert: 1 });
  assert.deepEqual(s.ids(), ['attendance-3', 'attendance-5', 'alert-6', 'attendance-7']);
  assert.deepEqual(s.outbox.stats(0).dropped, { info: 2, alert: 1 });
});

test('attendance is never evicted: past the limit the outbox grows and says so', (t) => {
  const s = setup(t, 3);
  for (let i = 0; i < 5; i++) assert.deepEqual(s.put('attendance'), { info: 0, alert: 0 });
  assert.equal(s.outbox.stats(0).pending, 5);
  assert.ok(s.outbox.isOverLimit());
});

test('the byte limit counts too, and counts stay right when a writer rolls back', (t) => {
  // Bytes as stored: 60 sealed are 100 (a 24-byte nonce and a 16-byte tag).
  const s = setup(t, 1000, 180);
  s.put('info', 'a'.repeat(60));
  assert.deepEqual(s.put('alert', 'b'.repeat(60)), { info: 1, alert: 0 });
  assert.throws(() => s.db.transaction(() => { s.put('attendance', 'c'.repeat(30)); throw new Error('caller failed'); })());
  assert.deepEqual([s.outbox.stats(0).pending, s.outbox.stats(0).bytes], [1, 100]);
});

test('UUIDv7 ids are well formed and sort in creation order, even within one millisecond', () => {
  const gen = uuidv7Generator(() => 1_700_000_000_000);
  const ids = Array.from({ length: 5000 }, gen);
  for (const id of ids.slice(0, 10)) assert.match(id, new RegExp(UUID_V7_PATTERN));
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(new Set(ids).size, ids.length);
  assert.equal(parseInt(ids[0]!.replace(/-/g, '').slice(0, 12), 16), 1_700_000_000_000);
});

test('payloads are sealed at rest and bound to their event: a payload moved onto another row is skipped, kept and reported', (t) => {
  const lines: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'fg-outbox-'));
  const db = openTestDb(join(dir, 'state.db'), false);
  t.after(() => (db.close(), rmSync(dir, { recursive: true, force: true })));
  const outbox = new Outbox(db, { maxEvents: 100, maxBytes: 1 << 20 }, testSealer(), createLogger({ destination: { write: (l: string) => void lines.push(l) } }));
  for (const id of ['e1', 'e2', 'e3']) outbox.enqueue({ eventId: id, topic: 't', payload: `{"external_id":"EMP-${id}"}`, eventClass: 'attendance', createdMs: 1 });
  const raw = db.prepare('SELECT event_id, payload FROM outbox ORDER BY seq').all() as { event_id: string; payload: Buffer }[];
  assert.ok(raw.every((r) => !r.payload.toString('latin1').includes('EMP-')), 'no payload in clear');
  assert.deepEqual(outbox.readAfter(0, 10).map((r) => r.payload.toString()), ['{"external_id":"EMP-e1"}', '{"external_id":"EMP-e2"}', '{"external_id":"EMP-e3"}']);

  db.prepare('UPDATE outbox SET payload = ? WHERE event_id = ?').run(raw[0]!.payload, 'e2');
  assert.deepEqual(outbox.readAfter(0, 2).map((r) => r.eventId), ['e1', 'e3'], 'the limit counts readable rows');
  assert.deepEqual(outbox.readAfter(0, 10).map((r) => r.eventId), ['e1', 'e3']);
  assert.equal(outbox.stats(0).pending, 3, 'kept, not deleted');
  assert.equal(lines.filter((l) => l.includes('failed authentication')).length, 1, 'reported once');
});

test('a full outbox losing info events says so once a minute with their sum; an alert lost is said every time', (t) => {
  const s = setup(t, 10);
  const dir = mkdtempSync(join(tmpdir(), 'fg-outbox-key-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  let nowMs = 1_000_000;
  const writer = new EventWriter({
    outbox: s.outbox,
    signer: createSigner(ensureDeviceKey(join(dir, 'device.key')).key),
    deviceId: 'g',
    baseTopic: 'fg/g',
    timeZone: 'UTC',
    newId: uuidv7Generator(() => nowMs),
    now: () => nowMs,
    logger: createLogger({ level: 'silent' }),
  });
  const track = (i: number) => writer.write('trackEvent', { type: 'update', camera: 'door', track: i, state: 'tracking', person_id: null, anonymous_id: null, score: null, margin: null, live: false, antispoof: null, liveness: null, assurance: null, reasons: [], face_px: null, image_sha256: null }, nowMs, { camera: 'door' });
  // What the writer enqueued, read as it went in: the overflow events are info too, and later ones evict them.
  const said: { data: { evicted: { info: number; alert: number } } }[] = [];
  const enqueue = s.outbox.enqueueNumbered.bind(s.outbox);
  s.outbox.enqueueNumbered = (make) =>
    enqueue((seq) => {
      const e = make(seq);
      if (e.topic === 'fg/g/bridge/event') said.push(JSON.parse(String(e.payload)) as (typeof said)[number]);
      return e;
    });
  const overflows = () => said.length;
  for (let i = 0; i < 10; i++) track(i);
  for (let i = 0; i < 200; i++) track(i);
  assert.equal(overflows(), 1, 'a steady stream of track events evicting info is said once, not once each');
  nowMs += 60_000;
  track(0);
  assert.equal(overflows(), 2);
  assert.ok(said[1]!.data.evicted.info >= 200, `the minute's evictions are summed: ${JSON.stringify(said[1])}`);
  for (let i = 0; i < 10; i++) s.put('alert');
  writer.write('spoof', { type: 'spoof', camera: 'door', anonymous_id: 'a', person_id: null, reason: 'passive', score: 0.1 }, nowMs);
  assert.equal(overflows(), 3, 'an alert lost is said at once, within the same minute');
  assert.equal(said[2]!.data.evicted.alert, 1);
});

/** Numbered events as the writer puts them (the payload names its number), on a state file that can be reopened. */
function numbered(t: { after(fn: () => void): void }, limits: { maxEvents?: number; kept?: { maxEvents: number; maxBytes: number; maxAgeMs: number } } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'fg-outbox-seq-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const open = () => {
    const db = openTestDb(join(dir, 'state.db'), false);
    const outbox = new Outbox(db, { maxEvents: limits.maxEvents ?? 1000, maxBytes: 1 << 30, ...(limits.kept ? { kept: limits.kept } : {}) }, testSealer());
    const put = (eventClass: EventClass = 'info') => outbox.enqueueNumbered((seq) => ({ eventId: `e-${seq}`, topic: `t/${eventClass}`, payload: JSON.stringify({ seq }), eventClass, createdMs: seq }));
    return { db, outbox, put, pending: () => outbox.readAfter(0, 1000) };
  };
  return open;
}

test('event numbers go up by one and never back: not when delivered or evicted events leave, not across a reopen', (t) => {
  const open = numbered(t, { maxEvents: 100 });
  let s = open();
  for (let i = 0; i < 150; i++) s.put(); // the first 50 are evicted
  assert.deepEqual(s.pending().map((r) => r.eventSeq), Array.from({ length: 100 }, (_, i) => 51 + i));
  s.outbox.acknowledge(s.pending(), 1000);
  assert.equal(s.pending().length, 0);
  s.db.close();
  s = open();
  s.put();
  assert.deepEqual(s.pending().map((r) => r.eventSeq), [151]);
  assert.deepEqual(s.outbox.sequence(), { last: 151, delivered: 150 });
  s.db.close();
});

test('a rolled-back write takes its number back with it: numbers have no holes', (t) => {
  const s = numbered(t)();
  t.after(() => s.db.close());
  s.put();
  assert.throws(() => s.db.transaction(() => (s.put(), assert.fail('rolled back')))());
  s.put();
  assert.deepEqual(s.pending().map((r) => r.eventSeq), [1, 2]);
});

test('delivered events are kept sealed for replay and cut to their count and age; replay puts them back unchanged and names what is gone', (t) => {
  const s = numbered(t, { maxEvents: 100, kept: { maxEvents: 5, maxBytes: 1 << 30, maxAgeMs: 60_000 } })();
  t.after(() => s.db.close());
  for (let i = 0; i < 8; i++) s.put();
  const first = s.pending();
  s.outbox.acknowledge(first, 10_000); // 1..8 delivered; 1..3 over the count
  const kept = s.db.prepare('SELECT event_seq, payload FROM outbox_sent ORDER BY event_seq').all() as { event_seq: number; payload: Buffer }[];
  assert.deepEqual(kept.map((k) => k.event_seq), [4, 5, 6, 7, 8]);
  assert.ok(!kept.some((k) => k.payload.includes('"seq"')), 'sealed at rest');
  s.put(); // 9, still pending
  const r = s.outbox.replay(2, 20, 20_000);
  assert.deepEqual(r, { from: 2, to: 9, replayed: 5, pending: 1, gone: [[2, 3]], last: 9, first: 4 }, 'first: everything below 4 is gone, asked for or not');
  const again = s.pending();
  assert.deepEqual(again.map((x) => x.eventSeq), [9, 4, 5, 6, 7, 8]);
  for (const x of again.slice(1)) assert.deepEqual(x.payload, first.find((f) => f.eventSeq === x.eventSeq)!.payload, 'the same bytes as first published');
  assert.deepEqual(s.outbox.replay(4, 8, 20_000), { from: 4, to: 8, replayed: 0, pending: 5, gone: [], last: 9, first: 4 }, 'asked twice: still pending, not queued again');
  s.outbox.acknowledge(s.pending(), 80_000); // 9 delivered at 80 s; 4..8, delivered again, still count from 10 s: cut
  assert.deepEqual((s.db.prepare('SELECT event_seq FROM outbox_sent ORDER BY event_seq').all() as { event_seq: number }[]).map((k) => k.event_seq), [9], 'a replay does not lengthen how long an event is kept');
  assert.deepEqual(s.db.prepare('SELECT rows FROM outbox_sent_counts').get(), { rows: 1 }, 'the trigger-kept count agrees');
  s.outbox.acknowledge([], 200_000);
  const aged = s.outbox.replay(1, 9, 200_000);
  assert.deepEqual([aged.gone, aged.first], [[[1, 9]], 10], 'past the age limit: gone, and first is the next number, since the box holds none');
});
