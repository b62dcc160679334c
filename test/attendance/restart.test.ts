// The attendance cooldown across a restart, on a real state file and a real Mosquitto: the same
// person at the same exit camera seconds after the daemon started again makes no second check-out,
// and what the first run wrote reaches the broker with the ids it was written with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../daemon/config/load.js';
import { createAttendance } from '../../daemon/attendance/build.js';
import { createAttendanceSchema } from '../support/attendance-schema.js';
import { Mosquitto } from '../support/mosquitto.js';
import { EventsStack, Subscriber, quietLogger } from '../support/events-stack.js';

const config = parseConfig('attendance:\n  time_zone: UTC\n  cooldown_s: 300\n  camera_roles: { gate: entry, out: exit }\n', 'test.yaml').attendance;
const at = (iso: string) => Date.parse(iso);

test('the cooldown holds across a restart: no second check-out at the same exit camera 21 s after the first; each event keeps its id through the restart', { timeout: 60_000 }, async (t) => {
  const broker = await Mosquitto.start();
  t.after(() => broker.dispose());
  const dir = mkdtempSync(join(tmpdir(), 'fg-att-restart-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const central = await Subscriber.connect(broker.url, 'facegate/test-device/attendance', 'central-attendance');
  t.after(() => central.close());
  let clock = at('2026-01-12T08:55:00Z');
  /** One run of the daemon: its events stage and attendance stage on the same state file. */
  const run = () => {
    const stack = new EventsStack({ dbPath: join(dir, 'state.db'), keyPath: join(dir, 'device.key'), url: broker.url });
    createAttendanceSchema(stack.db);
    const sealer = { seal: (_r: unknown, b: Uint8Array) => b, open: (_r: unknown, b: Uint8Array) => b };
    const { stage } = createAttendance({ config, doors: [], db: stack.db, writer: stack.writer, sealer, cellSealer: sealer, roster: () => [], logger: quietLogger(), now: () => clock });
    return { stack, stage };
  };

  // First run, the broker not reached yet: a check-in, then a check-out at the exit camera.
  const first = run();
  assert.equal(first.stage.onRecognized({ personId: 'emp-1', camera: 'gate', atMs: clock, assurance: 'live' }).length, 1, 'check-in');
  clock = at('2026-01-12T17:10:00Z');
  assert.deepEqual(first.stage.onRecognized({ personId: 'emp-1', camera: 'out', atMs: clock, assurance: 'stereo' }).map((d) => d.kind), ['check_out']);
  const written = first.stack.outbox.readAfter(0, 10).map((r) => r.eventId);
  assert.equal(written.length, 2, 'both events wait in the outbox');
  await first.stack.stop();

  // Second run, 21 s later: the same person at the same exit camera is inside the cooldown.
  clock += 21_000;
  const second = run();
  t.after(() => second.stack.stop());
  assert.deepEqual(second.stage.onRecognized({ personId: 'emp-1', camera: 'out', atMs: clock, assurance: 'live' }), [], 'no second check-out inside the cooldown after a restart');
  second.stack.start();
  await central.waitFor(() => central.unique.size >= 2, 10_000, 'the first run’s events');
  assert.deepEqual([...central.unique].sort(), [...written].sort(), 'delivered with the ids written before the restart, and nothing else');
  const types = central.messages.map((m) => (JSON.parse(m.payload.toString()) as { type: string }).type);
  assert.deepEqual(types.filter((ty) => ty === 'check_out').length, 1, `one check-out: ${types.join(', ')}`);
  // What proved each reaches the broker with it, signed with the rest.
  const proven = new Map(central.messages.map((m) => JSON.parse(m.payload.toString()) as { type: string; assurance: string }).map((p) => [p.type, p.assurance]));
  assert.deepEqual(Object.fromEntries(proven), { check_in: 'live', check_out: 'stereo' });

  // Past the cooldown the exit counts again (it replaces the check-out on the same record).
  clock += 300_000;
  assert.deepEqual(second.stage.onRecognized({ personId: 'emp-1', camera: 'out', atMs: clock, assurance: 'live' }).map((d) => d.kind), ['check_out'], 'after the cooldown the exit is processed');
  // And the cooldown's rows are bounded: what is over is pruned at the next tick.
  clock += 301_000;
  second.stage.tick(clock);
  assert.equal((second.stack.db.prepare('SELECT count(*) AS n FROM attendance_cooldown').get() as { n: number }).n, 0, 'pruned once over');
});
