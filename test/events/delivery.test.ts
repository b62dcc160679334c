import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compactVerify, importJWK } from 'jose';
import { Value } from '@sinclair/typebox/value';
import { Mosquitto } from '../support/mosquitto.js';
import { EventsStack, Subscriber } from '../support/events-stack.js';
import { TOPICS } from '../../contract/topics.js';

function tmp(t: { after(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'fg-ev-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

test('events arrive signed, with the documented payloads; bridge/state is retained online', async (t) => {
  const broker = await Mosquitto.start();
  t.after(() => broker.dispose());
  const dir = tmp(t);
  const central = await Subscriber.connect(broker.url, 'facegate/test-device/#');
  t.after(() => central.close());
  const stack = new EventsStack({ dbPath: join(dir, 'state.db'), keyPath: join(dir, 'keys/device.key'), url: broker.url });
  stack.start();
  t.after(() => stack.stop());

  stack.writer.write('attendance', {
    type: 'check_in', record_id: 'r-1', person_id: 'p-17', external_id: 'EMP-17', group: 'staff', camera: 'gate', date: '2026-01-12',
    shift: { name: 'staff', start: '2026-01-12T09:00:00+01:00', end: '2026-01-12T17:00:00+01:00' },
    status: 'late', source: 'entry', assurance: 'stereo', liveness: { score: 7.6, blink: 0, structure: 2.3, passive: 0, surround: 0, screen: 0, stereo: 4.4 }, late_minutes: 7, early_minutes: 0, overtime_minutes: 0,
    check_in: '2026-01-12T09:07:00+01:00', check_out: null, worked_minutes: null,
  });
  stack.writer.write('unknown', { type: 'unknown', camera: 'gate', anonymous_id: 'anon-3', face_px: 96, image_sha256: null });
  stack.writer.write('spoof', { type: 'spoof', camera: 'gate', anonymous_id: 'anon-4', person_id: 'p-17', reason: 'no_blink', score: 0.12 });

  await central.waitFor(() => central.messages.filter((m) => m.topic.includes('/alerts/') || m.topic.endsWith('/attendance')).length >= 3, 10_000);
  const key = await importJWK(stack.key.publicJwk, 'EdDSA');
  for (const m of central.messages) {
    const body = JSON.parse(m.payload.toString()) as Record<string, unknown>;
    if (m.topic.endsWith('/bridge/state')) {
      assert.deepEqual(body, { state: 'online' });
      continue;
    }
    // bridge/sequence (the high-water mark, sent on connect) is signed and documented as the events are.
    const name = m.topic.endsWith('/attendance') ? 'attendance' : m.topic.endsWith('/alerts/unknown') ? 'unknown' : m.topic.endsWith('/bridge/sequence') ? 'sequence' : 'spoof';
    assert.ok(Value.Check(TOPICS[name].schema, body), `${m.topic}: ${JSON.stringify([...Value.Errors(TOPICS[name].schema, body)][0])}`);
    assert.equal(m.retain, false, 'one-shot events are never retained');
    if (name === 'attendance') assert.equal((body as { assurance?: unknown }).assurance, 'stereo', 'what proved the check-in, signed with it');
    const { payload, protectedHeader } = await compactVerify(body.jws as string, key);
    assert.equal(protectedHeader.kid, stack.key.kid);
    const { jws: _jws, ...rest } = body;
    assert.deepEqual(JSON.parse(new TextDecoder().decode(payload)), rest);
  }
  await central.waitFor(() => stack.outbox.stats(Date.now()).pending === 0, 5000, 'outbox drained');
});
