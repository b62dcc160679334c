// A door's camera whose track is live on its own cues first (a blink) and proven by the door's pairs
// only afterwards: the real tracker (a scripted vision core) sends one recognition per level it
// reaches, and the real attendance stage over SQLite, at a camera whose requirement is `stereo`,
// keeps the live sighting as an unverified arrival and checks the person in once stereo proves
// them, which leaves no arrival of theirs to review.
import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { ShiftSchema, type Requirement, type Shift } from '../../daemon/attendance/config.js';
import { ArrivalStore } from '../../daemon/attendance/arrivals.js';
import { gallerySealerForProofs } from '../../daemon/attendance/proof-sealer.js';
import { AttendanceStage } from '../../daemon/attendance/stage.js';
import { AttendanceStore } from '../../daemon/attendance/store.js';
import { subscribeSightings } from '../../daemon/attendance/track-sightings.js';
import { uuidv7Generator } from '../../daemon/base/uuidv7.js';
import { EventBus } from '../../daemon/bus/bus.js';
import type { DaemonEvents } from '../../daemon/bus/events.js';
import { defaultConfig } from '../../daemon/config/load.js';
import { ensureDeviceKey } from '../../daemon/events/device-key.js';
import { Outbox } from '../../daemon/events/outbox.js';
import { createSigner } from '../../daemon/events/signing.js';
import { EventWriter } from '../../daemon/events/writer.js';
import { STEREO_LIMIT } from '../../daemon/liveness/stereo.js';
import { CameraTracker } from '../../daemon/track/camera-tracker.js';
import type { DoorSink } from '../../daemon/track/door-link.js';
import { firstLive, type TrackEvent } from '../../daemon/track/events.js';
import { frigateFaceUpdate } from '../../daemon/events/frigate.js';
import { decisionFor } from '../../daemon/events/homeassistant.js';
import { alertTrackEvent, type AlertTargets } from '../../daemon/events/track-alerts.js';
import type { MatchResult } from '../../daemon/track/identity.js';
import { UnknownRegistry } from '../../daemon/track/unknowns.js';
import { unitVector } from '../gallery/helpers.js';
import { createAttendanceSchema } from '../support/attendance-schema.js';
import { openTestDb, quietLogger, testSealer } from '../support/events-stack.js';
import { blinkAt, FakeEngine, frameAt, type FakeFace } from '../track/fake-engine.js';

type Recognized = Extract<TrackEvent, { type: 'recognized' }>;

const identify = (fused: Float32Array): MatchResult => {
  const ref = unitVector(1);
  const score = ref.reduce((s, v, i) => s + v * fused[i]!, 0);
  return score >= 0.45 ? { person: { id: 'emp-1', name: 'Ada' }, score, margin: score, near: false } : { person: null, score, margin: 0, near: false };
};
/** 08:00 UTC on a working day: the track's clock starts here. */
const START_MS = Date.parse('2026-01-12T08:00:00Z');

/**
 * The camera's events over `seconds` of 15 fps video of one person; the door (where given) answers
 * the first look at or after `stereoAtS` with a pair at the limit no print reached.
 */
async function track(face: FakeFace, seconds: number, stereoAtS: number | undefined, frozen = false): Promise<Array<TrackEvent & { atMs: number }>> {
  const engine = new FakeEngine([face]);
  let answered = false;
  const door: DoorSink | undefined =
    stereoAtS === undefined
      ? undefined
      : {
          door: 'front-door',
          look: (side, look) => {
            if (!answered && look.capturedMs >= START_MS + stereoAtS * 1000) {
              answered = true;
              side.stereoSeen(STEREO_LIMIT + 0.005);
            }
          },
        };
  const tracker = new CameraTracker({ camera: 'left', engine, config: defaultConfig().track, identify, unknowns: new UnknownRegistry({ similarity: 0.5, retentionS: 3600, maxFrames: 3 }, () => 'anon-1'), door });
  const events: TrackEvent[] = [];
  let t = 0;
  for (let i = 0; i / 15 <= seconds; i++) {
    t = i / 15;
    engine.t = t;
    events.push(...(await tracker.process(frameAt(t, frozen, [face.box(t)!]), t, { capturedMs: START_MS + t * 1000 })));
  }
  events.push(...(await tracker.finish(t)));
  return events.map((e) => ({ ...e, atMs: START_MS + Math.round(e.t * 1000) }));
}

function attendance(t: { after(fn: () => void): void }, require: Requirement) {
  const dir = mkdtempSync(join(tmpdir(), 'fg-rises-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const db = openTestDb(join(dir, 'state.db'));
  t.after(() => db.close());
  createAttendanceSchema(db);
  const now = () => START_MS + 60_000;
  const outbox = new Outbox(db, { maxEvents: 10_000, maxBytes: 1 << 26 }, testSealer());
  const newId = uuidv7Generator(now);
  const writer = new EventWriter({ outbox, signer: createSigner(ensureDeviceKey(join(dir, 'device.key')).key), deviceId: 'gate-1', baseTopic: 'facegate/gate-1', timeZone: 'UTC', newId, now, logger: quietLogger() });
  const sealer = testSealer();
  const store = new AttendanceStore(db);
  const arrivals = new ArrivalStore(db, sealer);
  const rules = { timeZone: 'UTC', shifts: { default: Value.Default(ShiftSchema, {}) as Shift }, personOverrides: {}, holidays: new Set<string>() };
  const stage = new AttendanceStage({
    store, writer, sealer: gallerySealerForProofs(sealer), arrivals, rules: () => rules, roleOf: () => 'entry', requireOf: () => require, doorOf: () => 'front-door',
    cooldownMs: 300_000, roster: () => [], newId, now, logger: quietLogger(),
  });
  const bus = new EventBus<DaemonEvents>(quietLogger());
  subscribeSightings(bus, () => stage);
  const events = () => outbox.readAfter(0, 1000).map((r) => JSON.parse(r.payload.toString()) as Record<string, unknown>);
  return { bus, store, arrivals, events };
}

/** Blinks at 0.4 s, then holds still: live on one camera's cues long before the door answers. */
const blinker: FakeFace = { box: () => ({ x: 400, y: 200, w: 96, h: 120 }), eyes: blinkAt(0.4, 0.6), person: 1 };

test('a track live on one camera first and proven by stereo afterwards sends one recognition per level, recognised → live → stereo, each raising the one before', async () => {
  const events = await track(blinker, 4, 2);
  const recognized = events.filter((e): e is Recognized & { atMs: number } => e.type === 'recognized');
  assert.deepEqual(
    recognized.map((e) => [e.assurance, e.raised_from ?? null]),
    [
      ['recognised', null],
      ['live', 'recognised'],
      ['stereo', 'live'],
    ],
  );
  assert.ok(recognized[2]!.t >= 2, `stereo at ${recognized[2]!.t} s, after the door's answer`);
  assert.deepEqual(recognized.map((e) => e.named_t), Array(3).fill(recognized[0]!.named_t), 'each carries the first naming: the arrival');
  assert.deepEqual(recognized.map((e) => firstLive(e)), [false, true, false], 'greeted and counted once: when first live');
  // On a camera in no door the same person goes no further than live.
  const alone = (await track(blinker, 4, undefined)).filter((e): e is Recognized & { atMs: number } => e.type === 'recognized');
  assert.deepEqual(alone.map((e) => e.assurance), ['recognised', 'live']);
});

test("at a camera whose requirement is stereo, the person live first is an unverified arrival, and checked in once stereo proves the same track, which resolves the arrival", async (t) => {
  const a = attendance(t, 'stereo');
  const events = await track(blinker, 4, 2);
  const stereoAt = events.findIndex((e) => e.type === 'recognized' && e.assurance === 'stereo');
  assert.ok(stereoAt > 0);
  for (const e of events.slice(0, stereoAt)) await a.bus.emit('track', e);
  const kept = a.arrivals.pendingOfDay('emp-1', '2026-01-12');
  assert.ok(kept, 'named, then live: below stereo, kept for review');
  assert.deepEqual([kept.assurance, kept.required, kept.crops], ['recognised', 'stereo', 2], 'as first named, with the face of both sightings');
  assert.equal(a.events().length, 0, 'no check-in below stereo');

  for (const e of events.slice(stereoAt)) await a.bus.emit('track', e);
  const day = a.store.day('emp-1', '2026-01-12')!.record;
  const named = events.find((e): e is Recognized & { atMs: number } => e.type === 'recognized')!;
  assert.deepEqual([day.checkInMs, day.checkInAssurance], [named.atMs, 'stereo'], 'at the arrival, proven by stereo');
  assert.deepEqual(a.events().map((e) => [e.type, e.assurance, e.door]), [['check_in', 'stereo', 'front-door']]);
  assert.equal(a.arrivals.pendingOfDay('emp-1', '2026-01-12'), undefined, 'nothing of the day left to review');
  assert.equal(a.arrivals.get(kept.id), undefined, 'resolved as a check-in resolves every pending arrival of the day');
});

test('at a camera that requires live, the same track checks in when live and its stereo recognition raises that check-in, not a second one', async (t) => {
  const a = attendance(t, 'live');
  for (const e of await track(blinker, 4, 2)) await a.bus.emit('track', e);
  const day = a.store.day('emp-1', '2026-01-12')!.record;
  assert.equal(day.checkInAssurance, 'stereo');
  assert.ok((day.checkInLiveness?.stereo ?? 0) > 0, "the record's shares rise with its assurance: they say the same");
  assert.deepEqual(a.events().map((e) => [e.type, e.assurance ?? null]), [['check_in', 'live'], ['upgraded', 'stereo']]);
  assert.equal((a.events()[0]!.liveness as { stereo?: number } | null)?.stereo ?? 0, 0, 'the check-in was signed with the shares it was made on');
});

test('what acts once per live track (the day counters, Home Assistant, Frigate) acts on the first live recognition, not on the one that raises it to stereo', async () => {
  const recognized = (await track(blinker, 4, 2)).filter((e): e is Recognized & { atMs: number } => e.type === 'recognized');
  const counted: string[] = [];
  const targets = { count: (camera: string, kind: string) => counted.push(`${camera} ${kind}`) } as unknown as AlertTargets;
  for (const e of recognized) alertTrackEvent(e, targets);
  assert.deepEqual(counted, ['left recognized']);
  const ha = { personNames: false, cameraImages: false, imageMaxKb: 64 };
  assert.deepEqual(recognized.map((e) => decisionFor(e, '2026-01-12T08:00:01Z', ha)?.decision.type ?? null), [null, 'recognized', null]);
  assert.deepEqual(recognized.map((e) => frigateFaceUpdate(e) !== undefined), [false, true, false]);
});

test('a track refused as a frozen picture rises again only when the door\'s pairs prove it: a person who held still is who stereo is for', async (t) => {
  const events = await track(blinker, 8, 5, true);
  const kinds = events.filter((e) => e.type === 'recognized' || e.type === 'spoof_suspected').map((e) => (e.type === 'recognized' ? e.assurance : e.type));
  assert.deepEqual(kinds, ['recognised', 'live', 'spoof_suspected', 'stereo']);
  const ended = events.at(-1) as Extract<TrackEvent, { type: 'track_ended' }>;
  assert.ok(ended.live && (ended.liveness.stereo ?? 0) > 0, 'the pairs did prove it by the end');
  // Attendance: the live check-in is withdrawn at the refusal and kept for review; the stereo
  // recognition checks the person in again and leaves nothing to review.
  const a = attendance(t, 'live');
  for (const e of events) await a.bus.emit('track', e);
  assert.deepEqual(a.events().map((e) => [e.type, e.assurance ?? null]), [['check_in', 'live'], ['retracted', null], ['check_in', 'stereo']]);
  assert.equal(a.store.day('emp-1', '2026-01-12')!.record.checkInAssurance, 'stereo');
  assert.equal(a.arrivals.pendingOfDay('emp-1', '2026-01-12'), undefined, 'nothing of the day left to review');
});
