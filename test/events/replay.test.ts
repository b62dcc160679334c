// The events/replay remote command on a real SQLite file: kept events go back into the outbox
// unchanged, numbers no longer held are reported gone, and a request too large, too soon or
// malformed gets a coded error answer while the router keeps serving.
import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID, createPublicKey, type JsonWebKey } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { EventsStack, quietLogger } from '../support/events-stack.js';
import { CommandRouter } from '../../daemon/remote/router.js';
import { CommandAudit, ReplayCache } from '../../daemon/service/command-records.js';
import { EventReplay, MIN_REPLAY_INTERVAL_MS } from '../../daemon/events/replay.js';
import { MAX_REPLAY_RANGE } from '../../contract/replay.js';
import { FakePersons, noReviews } from '../support/fake-persons.js';

const central = await generateKeyPair('EdDSA', { extractable: true });
const centralPublic = createPublicKey({ key: (await exportJWK(central.publicKey)) as JsonWebKey, format: 'jwk' });

async function request(data: unknown): Promise<Buffer> {
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ cmd: 'events/replay', data }).setProtectedHeader({ alg: 'EdDSA' }).setAudience('test-device').setIssuedAt(now).setExpirationTime(now + 60).setJti(randomUUID()).sign(central.privateKey);
  return Buffer.from(JSON.stringify({ token }));
}

test('events/replay: kept events back into the outbox unchanged, gone ones named; too large, too soon and malformed requests answered with their codes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-replay-'));
  // Never started: what the box would publish stays in the outbox, where the test reads it.
  const stack = new EventsStack({ dbPath: join(dir, 'state.db'), keyPath: join(dir, 'device.key'), url: 'mqtt://127.0.0.1:1', fsync: false });
  t.after(() => (stack.db.close(), rmSync(dir, { recursive: true, force: true })));
  let nowMs = 1_000_000;
  let woken = 0;
  const replay = new EventReplay({ outbox: stack.outbox, now: () => nowMs, wake: () => woken++, logger: quietLogger() });
  const router = new CommandRouter({
    baseTopic: stack.baseTopic,
    policy: { key: centralPublic, deviceId: 'test-device', maxTokenAgeS: 300, clockSkewS: 5 },
    replay: new ReplayCache(stack.db),
    audit: new CommandAudit(stack.db),
    deps: { persons: new FakePersons(), setShiftRules: () => ({ groups: [] }), status: () => ({}), replay: (from, to) => replay.replay(from, to), reviews: noReviews },
    writer: stack.writer,
    db: stack.db,
    now: Date.now,
    logger: quietLogger(),
  });
  const ask = async (data: unknown) => {
    await router.handle(`${stack.baseTopic}/bridge/request/events/replay`, await request(data));
    const answers = stack.outbox.readAfter(0, 10_000).filter((r) => r.topic.endsWith('/bridge/response/events/replay'));
    return JSON.parse(answers.at(-1)!.payload.toString()) as { status: string; code?: string; error?: string; data: Record<string, unknown> };
  };
  const outboxed = () => stack.outbox.readAfter(0, 10_000).filter((r) => r.eventSeq !== null);

  for (let i = 0; i < 5; i++) stack.writer.write('unknown', { type: 'unknown', camera: 'gate', anonymous_id: `anon-${i}`, face_px: 96, image_sha256: null });
  const published = outboxed();
  assert.deepEqual(published.map((r) => r.eventSeq), [1, 2, 3, 4, 5]);
  stack.outbox.acknowledge(published);
  stack.db.prepare('DELETE FROM outbox_sent WHERE event_seq = 2').run(); // as if cut by the keep limits

  const ok = await ask({ from: 1, to: 9 });
  assert.equal(ok.status, 'ok', JSON.stringify(ok));
  assert.deepEqual(ok.data, { from: 1, to: 5, replayed: 4, pending: 0, gone: [[2, 2]], last: 5, first: 1 });
  assert.equal(woken, 1);
  const again = outboxed();
  assert.deepEqual(again.map((r) => r.eventSeq), [1, 3, 4, 5]);
  for (const r of again) assert.deepEqual(r.payload, published.find((p) => p.eventSeq === r.eventSeq)!.payload, 'republished byte for byte: same id, same signature');

  const tooSoon = await ask({ from: 1, to: 1 });
  assert.deepEqual([tooSoon.status, tooSoon.code], ['error', 'FG_ERR_REPLAY_TOO_FAST']);
  nowMs += MIN_REPLAY_INTERVAL_MS;
  const tooLarge = await ask({ from: 1, to: MAX_REPLAY_RANGE + 1 });
  assert.deepEqual([tooLarge.status, tooLarge.code], ['error', 'FG_ERR_REPLAY_RANGE']);
  const backwards = await ask({ from: 5, to: 4 });
  assert.deepEqual([backwards.status, backwards.code], ['error', 'FG_ERR_REPLAY_RANGE']);
  for (const bad of [{ from: 'x', to: 2 }, { from: 1 }, { from: 1, to: 2, more: 1 }, { from: 0, to: 2 }, { from: 1.5, to: 2 }, { from: 1, to: 1e300 }, { from: [1], to: 2 }]) {
    const a = await ask(bad);
    assert.deepEqual([a.status, a.code], ['error', 'FG_ERR_COMMAND_INVALID'], JSON.stringify(bad));
  }
  const still = await ask({ from: 2, to: 3 });
  assert.equal(still.status, 'ok', 'the router keeps serving after the refusals');
  // Each malformed request was refused with a signed bridge/event (command_refused): numbered too.
  assert.deepEqual(still.data, { from: 2, to: 3, replayed: 0, pending: 1, gone: [[2, 2]], last: 5 + 7, first: 1 }, '3 is still waiting in the outbox: not queued twice');
  assert.equal(router.counts.failed, 3);
});
