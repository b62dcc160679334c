// The door display's pure rules: which prompt a track's waiting reason asks for (on the very
// strings the tracker's frame verdicts make), which face a display answers, what of a name it
// shows, and the greeting an attendance outcome makes.
import { displayStreamsMax } from '../../daemon/display/config.js';
import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { frameVerdict } from '../../daemon/track/frame-quality.js';
import { greetingAtMs, greetingKindOf, promptFor, promptOf, shownName } from '../../daemon/display/show.js';
import { PromptSmoother } from '../../daemon/display/smoother.js';
import { displayTargets } from '../../daemon/display/targets.js';
import { displayPayload } from '../../daemon/display/wire.js';
import { TOPICS } from '../../contract/topics.js';
import { Value } from '@sinclair/typebox/value';
import type { AttendanceDecision } from '../../daemon/attendance/engine.js';
import { fuzzParameters } from '../support/fuzz.js';
import { defaultConfig } from '../../daemon/config/load.js';
import { semanticIssues } from '../../daemon/config/validate.js';

const RULES = { min_face_px: 32, min_sharpness: 5, max_yaw: 45 };
const quality = (q: Partial<{ faceHeight: number; sharpness: number; yaw: number; pitch: number }>) => ({ faceHeight: 80, sharpness: 50, yaw: 0, pitch: 0, ...q }) as Parameters<typeof frameVerdict>[0];

/** `waiting` as the tracker's view writes it for an unusable frame: `reason: detail` (daemon/track/track.ts). */
function waitingOf(q: Parameters<typeof frameVerdict>[0]): string {
  const v = frameVerdict(q, RULES);
  assert.equal(v.usable, false);
  return v.usable ? '' : `${v.reason}: ${v.detail}`;
}

const pending = { kind: 'pending' } as const;
const anna = { kind: 'person', person: { id: 'p1', name: 'Anna Weber' } } as const;
const box = (h: number) => ({ x: 0, y: 0, w: h, h });

test('prompts: a small face is asked to step closer, a turned one to look at the camera, a blurred one to hold still', () => {
  assert.equal(promptOf({ who: pending, waiting: waitingOf(quality({ faceHeight: 20 })) }), 'step_closer');
  assert.equal(promptOf({ who: pending, waiting: waitingOf(quality({ yaw: 60 })) }), 'look_at_camera');
  assert.equal(promptOf({ who: pending, waiting: waitingOf(quality({ yaw: -70 })) }), 'look_at_camera');
  assert.equal(promptOf({ who: pending, waiting: waitingOf(quality({ sharpness: 2 })) }), 'hold_still');
  // Waiting on the daemon, not the person: gathering frames, or liveness still being proven.
  assert.equal(promptOf({ who: pending, waiting: 'deciding' }), 'one_moment');
  assert.equal(promptOf({ who: anna, waiting: 'no_blink' }), 'one_moment');
  assert.equal(promptOf({ who: anna, waiting: 'not live yet' }), 'one_moment');
  // Decided and live: the greeting says the rest.
  assert.equal(promptOf({ who: anna, waiting: null }), null);
});

test('prompts: an unknown face is never prompted, whatever it waits for', () => {
  for (const waiting of [waitingOf(quality({ faceHeight: 10 })), waitingOf(quality({ sharpness: 1 })), 'deciding', 'no_blink', null]) {
    assert.equal(promptOf({ who: { kind: 'unknown', anonId: 'anon-1' }, waiting }), null, String(waiting));
  }
});

test('prompts: the nearest face (the largest) is the one a display answers, and nothing when that face is unknown', () => {
  const far = { who: pending, waiting: waitingOf(quality({ faceHeight: 20 })), box: box(20) };
  const near = { who: pending, waiting: waitingOf(quality({ yaw: 60 })), box: box(120) };
  const stranger = { who: { kind: 'unknown', anonId: null } as const, waiting: null, box: box(200) };
  assert.equal(promptFor([far, near]), 'look_at_camera');
  assert.equal(promptFor([near, far]), 'look_at_camera');
  assert.equal(promptFor([far, near, stranger]), null);
  assert.equal(promptFor([]), null);
});

test('prompts: a movement the tracker asks of a recognised person is the prompt, before a turned head\'s; never for an unknown face', () => {
  const asked = (move: 'turn_left' | 'turn_right' | 'nod') => ({ move, askedT: 3 });
  assert.equal(promptOf({ who: anna, waiting: 'no_blink, no_motion', challenge: asked('turn_left') }), 'turn_left');
  assert.equal(promptOf({ who: anna, waiting: waitingOf(quality({ yaw: 60 })), challenge: asked('turn_right') }), 'turn_right', 'answering turns the head');
  assert.equal(promptOf({ who: anna, waiting: 'not live yet', challenge: asked('nod') }), 'nod');
  assert.equal(promptOf({ who: { kind: 'unknown', anonId: null }, waiting: 'no_blink', challenge: asked('nod') }), null);
  const payload = displayPayload({ device: 'gate-1', target: 'door', state: { type: 'prompt', prompt: 'turn_left' }, show: 'first_name', timeZone: 'UTC', nowMs: 0 });
  assert.ok(Value.Check(TOPICS.display.schema, payload), JSON.stringify([...Value.Errors(TOPICS.display.schema, payload)][0]));
});

test('prompts: any waiting text maps to a prompt or nothing, never throws (fuzzed)', () => {
  fc.assert(
    fc.property(fc.option(fc.string({ maxLength: 300 })), fc.constantFrom('pending', 'person', 'unknown'), (waiting, kind) => {
      const who = kind === 'pending' ? pending : kind === 'person' ? anna : ({ kind: 'unknown', anonId: null } as const);
      const p = promptOf({ who, waiting });
      assert.ok(p === null || ['step_closer', 'look_at_camera', 'hold_still', 'one_moment'].includes(p), 'a movement only where the tracker asks for one');
      if (kind === 'unknown' || waiting === null) assert.equal(p, null);
    }),
    fuzzParameters(500),
  );
});

test('a display shows the first name by default, the whole name or nothing as set, cut to 64 characters', () => {
  assert.equal(shownName('Anna Weber', 'first_name'), 'Anna');
  assert.equal(shownName('  María José  García ', 'full_name'), 'María José García');
  assert.equal(shownName('Anna Weber', 'none'), null);
  assert.equal(shownName(null, 'full_name'), null);
  assert.equal(shownName('   ', 'first_name'), null);
  assert.equal(shownName('李小龍', 'first_name'), '李小龍');
  const long = shownName('x'.repeat(128), 'full_name')!;
  assert.equal([...long].length, 64);
  assert.ok(long.endsWith('…'));
  // Cut by characters, never in the middle of one.
  assert.equal([...shownName('😀'.repeat(100), 'first_name')!].length, 64);
});

test('a greeting says the check-in or check-out attendance made, at its time; a recognition that made neither is "seen"', () => {
  const checkIn = { kind: 'check_in', atMs: 1_000, camera: 'door' } as unknown as AttendanceDecision;
  const checkOut = { kind: 'check_out', atMs: 2_000, camera: 'door', source: 'exit' } as unknown as AttendanceDecision;
  const summary = { kind: 'summary', checkInMs: null, checkOutMs: null } as unknown as AttendanceDecision;
  assert.equal(greetingKindOf([checkIn]), 'check_in');
  assert.equal(greetingKindOf([summary, checkOut]), 'check_out');
  assert.equal(greetingKindOf([]), 'seen');
  assert.equal(greetingKindOf(undefined), 'seen');
  assert.equal(greetingAtMs([checkIn], 5_000), 1_000);
  assert.equal(greetingAtMs([summary], 5_000), 5_000);
});

test('the payload a display gets fits the MQTT display schema, with the time on the site clock', () => {
  const base = { device: 'gate-1', target: 'front', show: 'first_name' as const, timeZone: 'Asia/Kolkata', nowMs: Date.UTC(2026, 10, 26, 3, 29, 30) };
  const greeting = displayPayload({ ...base, state: { type: 'greeting', greeting: 'check_in', personId: 'p1', name: 'Anna Weber', atMs: Date.UTC(2026, 10, 26, 3, 29) } });
  assert.deepEqual(greeting, { device: 'gate-1', target: 'front', time: '2026-11-26T08:59:30+05:30', type: 'greeting', greeting: 'check_in', name: 'Anna', at: '2026-11-26T08:59:00+05:30', clock: '08:59' });
  const prompt = displayPayload({ ...base, state: { type: 'prompt', prompt: 'step_closer' } });
  const idle = displayPayload({ ...base, show: 'none', state: { type: 'idle' } });
  const nameless = displayPayload({ ...base, show: 'none', state: { type: 'greeting', greeting: 'seen', personId: 'p1', name: 'Anna Weber', atMs: 0 } });
  assert.equal(nameless.name, null);
  for (const p of [greeting, prompt, idle, nameless]) assert.ok(Value.Check(TOPICS.display.schema, p), JSON.stringify([...Value.Errors(TOPICS.display.schema, p)][0]));
});

test('a prompt shows once it held 300 ms and clears after 1 s without one: a single odd frame changes nothing', () => {
  const s = new PromptSmoother();
  assert.equal(s.next('hold_still', 0), null);
  assert.equal(s.next(null, 100), null);
  assert.equal(s.next('step_closer', 200), null);
  assert.equal(s.next('step_closer', 499), null);
  assert.equal(s.next('step_closer', 500), 'step_closer');
  assert.equal(s.next(null, 600), 'step_closer');
  assert.equal(s.next('step_closer', 700), 'step_closer');
  assert.equal(s.next(null, 800), 'step_closer');
  assert.equal(s.next(null, 1799), 'step_closer');
  assert.equal(s.next(null, 1800), null);
});

test('a movement asked for shows at once, and a hint after it waits its 300 ms again', () => {
  const s = new PromptSmoother();
  assert.equal(s.next('one_moment', 0), null);
  assert.equal(s.next('one_moment', 300), 'one_moment');
  assert.equal(s.next('nod', 400), 'nod');
  assert.equal(s.next('look_at_camera', 500), 'nod');
  assert.equal(s.next('look_at_camera', 800), 'look_at_camera');
});

test('display targets: each door, and each camera in no door; a door\'s cameras show on the door', () => {
  const t = displayTargets([{ name: 'a' }, { name: 'b' }, { name: 'hall' }], [{ name: 'front', cameras: ['a', 'b'] }]);
  assert.deepEqual(t.names, ['front', 'hall']);
  assert.equal(t.targetOf('a'), 'front');
  assert.equal(t.targetOf('b'), 'front');
  assert.equal(t.targetOf('hall'), 'hall');
  assert.equal(t.targetOf('nope'), undefined);
  assert.deepEqual(t.camerasOf('front'), ['a', 'b']);
  assert.deepEqual(t.camerasOf('a'), []);
});

test("the config refuses display feeds that could hold every console connection, naming the key; left out, the bound follows the console's", () => {
  const config = defaultConfig();
  const web = { ...config.web, enabled: true, connections: { ...config.web.connections, max: 16 } };
  assert.deepEqual(semanticIssues({ ...config, web }).filter((i) => i.path.startsWith('display')), [], 'a site that lowered web.connections.max and wrote no display bound starts');
  assert.equal(displayStreamsMax(config.display, web), 8, 'half the console connections');
  assert.equal(displayStreamsMax(config.display, config.web), Math.min(16, Math.floor(config.web.connections.max / 2)));
  assert.deepEqual(semanticIssues({ ...config, web, display: { ...config.display, max_streams: 16 } }).filter((i) => i.path.startsWith('display')).map((i) => i.path), ['display.max_streams']);
  assert.deepEqual(semanticIssues({ ...config, web, display: { ...config.display, max_streams: 15 } }).filter((i) => i.path.startsWith('display')), []);
  // Without the console there are no feeds to bound.
  assert.deepEqual(semanticIssues({ ...config, web: { ...web, enabled: false } }).filter((i) => i.path.startsWith('display')), []);
});
