// Fuzz test of the central consumer's message handler (what MQTT.js calls for each message) on a
// real SQLite file: random topics, random JSON, numbers no column holds, wrong types, oversized
// payloads, forged and genuinely signed payloads with one field made hostile. Every message is
// acknowledged, nothing throws out of the handler, and the database holds only what the pinned key
// signed, every number in it in range.
import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ensureDeviceKey, type DeviceKey } from '../../daemon/events/device-key.js';
import { CentralConsumer, type Outcome } from '../../central/consumer.js';
import { CentralStore } from '../../central/store.js';
import { parseCentralConfig } from '../../central/config.js';
import { Sqlite } from '../../daemon/store/sqlite.js';
import { quietLogger } from '../support/events-stack.js';
import { FUZZ_SEED, fuzzParameters, HUGE_NUMBER_TEXTS, hostileJsonText, hostileValue } from '../support/fuzz.js';

const NOW = Date.parse('2026-01-12T18:00:00+01:00');
const TIME = '2026-01-12T17:59:00+01:00';
const BASE = 'facegate/gate-1';
const MAX_KB = 4;

const OUTCOMES: readonly Outcome[] = ['accepted', 'duplicate', 'pinned', 'ignored', 'forged', 'stale', 'unknown_box', 'malformed', 'key_changed', 'wrong_device', 'failed', 'sequence', 'replay_answer'];

/** Stands for a number JavaScript cannot hold, written into the JSON text as is. */
class Raw {
  constructor(readonly text: string) {}
}

/** A payload's fields as its topic's schema has them (inside the replay window; `device` is set per case). */
const TEMPLATES: Record<string, (id: string) => Record<string, unknown>> = {
  attendance: (id) => ({
    id, device: 'gate-1', time: TIME, seq: 1, type: 'check_in', record_id: 'r-1', person_id: 'p-1', external_id: 'EMP-1', group: null, camera: 'gate', date: '2026-01-12', shift: null,
    status: 'unscheduled', source: 'entry', late_minutes: 0, early_minutes: 0, overtime_minutes: 0, check_in: TIME, check_out: null, worked_minutes: null,
  }),
  'alerts/unknown': (id) => ({ id, device: 'gate-1', time: TIME, seq: 2, type: 'unknown', camera: 'gate', anonymous_id: 'anon-1', face_px: 96, image_sha256: null }),
  'bridge/event': (id) => ({ id, device: 'gate-1', time: TIME, seq: 3, type: 'started', data: { gallery_generation: 4, n: 1 } }),
  'gate/events': (id) => ({
    id, device: 'gate-1', time: TIME, seq: 4, type: 'new', camera: 'gate', track: 7, state: 'tracking', person_id: null, anonymous_id: null, score: null, margin: null,
    live: false, antispoof: null, liveness: null, reasons: [], face_px: 80, image_sha256: null,
  }),
  'bridge/sequence': () => ({ device: 'gate-1', time: TIME, seq: 9 }),
  'bridge/response/events/replay': (id) => ({ id, status: 'ok', data: { from: 1, to: 4, replayed: 0, pending: 0, gone: [[2, 3]], last: 9, first: 2 }, jti: 'j-1', device: 'gate-1', time: TIME }),
};
const KINDS = Object.keys(TEMPLATES);

/** Values that a field must refuse or take for what they are: numbers out of range, NaN-like strings, wrong types. */
const hostileField: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(1e300, -1, 0, 1.5, -0, 2 ** 53, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER - 2, 'NaN', 'Infinity', '-Infinity', '1e999', '', null, true, [], {}, 'x'.repeat(300), 'gate-2', '2026-13-45T99:99:99Z'),
  fc.constantFrom(...HUGE_NUMBER_TEXTS).map((t) => new Raw(t)),
  hostileValue,
);

/** JSON text with each Raw written as its text. */
function jsonText(value: unknown): string {
  const raws: string[] = [];
  const text = JSON.stringify(value, (_k, v: unknown) => (v instanceof Raw ? `\u0000raw${raws.push(v.text) - 1}\u0000` : v));
  return text.replace(/"\\u0000raw(\d+)\\u0000"/g, (_, i: string) => raws[Number(i)]!);
}

/** The payload text signed as a box signs it (compact JWS over the text, jws added last), whatever numbers the text spells. */
function signedText(key: DeviceKey, body: Record<string, unknown>): string {
  const text = jsonText(body);
  const header = Buffer.from(JSON.stringify({ alg: 'EdDSA', kid: key.kid, typ: 'facegate-event+jws' })).toString('base64url');
  const input = `${header}.${Buffer.from(text).toString('base64url')}`;
  const jws = `${input}.${sign(null, Buffer.from(input), key.privateKey).toString('base64url')}`;
  return text === '{}' ? `{"jws":"${jws}"}` : `${text.slice(0, -1)},"jws":"${jws}"}`;
}

/** Sets `value` at a field of `body`, or of its `data`. */
function withField(body: Record<string, unknown>, path: readonly string[], value: unknown): Record<string, unknown> {
  const [head, ...rest] = path;
  if (head === undefined) return body;
  if (rest.length === 0) return { ...body, [head]: value };
  const inner = body[head];
  return { ...body, [head]: withField(typeof inner === 'object' && inner !== null && !Array.isArray(inner) ? (inner as Record<string, unknown>) : {}, rest, value) };
}

const fieldPaths = (body: Record<string, unknown>): string[][] => [
  ...Object.keys(body).map((k) => [k]),
  ...(typeof body.data === 'object' && body.data !== null ? Object.keys(body.data).map((k) => ['data', k]) : []),
  ['seq'],
  ['unexpected'],
];

test(`fuzz (seed ${FUZZ_SEED}): every message on any topic is acknowledged, nothing throws out of the handler, and only what the pinned key signed is stored, in range`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-central-fuzz-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const key = ensureDeviceKey(join(dir, 'box.key')).key;
  const other = ensureDeviceKey(join(dir, 'other.key')).key;
  // A command key, so that replay answers reach the requester and its store.
  writeFileSync(join(dir, 'central.key'), generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const config = parseCentralConfig(
    `database: ${join(dir, 'central.db')}\ntimesheet_dir: ${join(dir, 'ts')}\nsubscribe: [facegate/+]\nlimits: { max_payload_kb: ${MAX_KB} }\nreplay: { command_key: ${join(dir, 'central.key')} }\n`,
    'fuzz.yaml',
  );
  const store = CentralStore.open(config.database);
  t.after(() => store.close());
  const consumer = new CentralConsumer({ config, store, logger: quietLogger(), connect: () => assert.fail('no broker in this test'), now: () => NOW });
  const info = (k: DeviceKey, device: string) => JSON.stringify({ version: '0.1.0', device, cameras: ['gate'], public_key: k.publicJwk, config: {} });
  assert.equal((await consumer.handleMessage({ topic: `${BASE}/bridge/info`, payload: Buffer.from(info(key, 'gate-1')) }, () => {})).outcome, 'pinned');
  const db = new Sqlite(config.database, { readonly: true });
  t.after(() => db.close());

  // What each signed text said, by event id: a stored event must be one of them, signed by its base's pinned key.
  const signedBy = new Map<string, { kid: string; text: string }>();
  let ids = 0;
  const nextId = () => `019b4f3a-6c00-7000-8000-${(++ids).toString(16).padStart(12, '0')}`;

  const signedMessage = fc
    .record({
      kind: fc.constantFrom(...KINDS),
      signer: fc.constantFrom('box', 'box', 'box', 'other'),
      // Half of them with one field made hostile, a fifth with one character changed after signing.
      mutate: fc.oneof(fc.constant(null), fc.tuple(fc.nat(), hostileField)),
      topicBase: fc.constantFrom(BASE, BASE, BASE, 'facegate/gate-2', 'facegate/gate-3', 'facegate/evil'),
      // Mostly the topic's own box; sometimes gate-1 wherever it is sent.
      namesGate1: fc.oneof({ arbitrary: fc.constant(false), weight: 3 }, { arbitrary: fc.constant(true), weight: 1 }),
      tamper: fc.oneof({ arbitrary: fc.constant(null), weight: 4 }, { arbitrary: fc.nat(), weight: 1 }),
    })
    .map(({ kind, signer, mutate, topicBase, namesGate1, tamper }) => {
      let body: Record<string, unknown> = { ...TEMPLATES[kind]!(nextId()), device: namesGate1 ? 'gate-1' : topicBase.slice(topicBase.lastIndexOf('/') + 1) };
      if (mutate) {
        const paths = fieldPaths(body);
        body = withField(body, paths[mutate[0] % paths.length]!, mutate[1]);
      }
      const k = signer === 'box' ? key : other;
      let text = signedText(k, body);
      if (typeof body.id === 'string') signedBy.set(body.id, { kid: k.kid, text: jsonText(body) });
      // One character changed: a forgery of a genuine message.
      if (tamper !== null) {
        const i = tamper % text.length;
        text = text.slice(0, i) + (text[i] === 'a' ? 'b' : 'a') + text.slice(i + 1);
      }
      return { topic: `${topicBase}/${kind}`, text };
    });

  const randomTopic = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.array(fc.constantFrom('facegate', 'gate-1', 'gate-2', 'bridge', 'info', 'sequence', 'response', 'events', 'replay', 'alerts', 'unknown', 'attendance', '', '+', '#', '$SYS'), { maxLength: 6 }).map((l) => l.join('/')),
    fc.constantFrom(...KINDS, 'bridge/info', 'alerts/spoof', 'alerts/quarantine', 'alerts/unknown/withdrawn').map((k) => `${BASE}/${k}`),
  );
  const junk = fc.oneof(
    fc.record({
      topic: randomTopic,
      text: fc.oneof(
        hostileJsonText,
        fc.constantFrom(...HUGE_NUMBER_TEXTS).map((n) => `{"device":"gate-1","time":"${TIME}","seq":${n},"jws":"a.b.c"}`),
        fc.integer({ min: MAX_KB * 1024 - 8, max: MAX_KB * 1024 + 64 }).map((n) => `{"pad":"${'x'.repeat(n)}"}`),
      ),
    }),
    // Another key offered for the pinned box, for a new box, and by a box naming another.
    fc.constantFrom(['gate-1', 'gate-1'], ['gate-2', 'gate-2'], ['evil', 'gate-1'], ['evil', 'evil']).map(([box, device]) => ({ topic: `facegate/${box}/bridge/info`, text: info(other, device!) })),
  );

  let runs = 0;
  await fc.assert(
    fc.asyncProperty(fc.oneof(signedMessage, junk), async ({ topic, text }) => {
      runs++;
      let acks = 0;
      const verdict = (await consumer.handleMessage({ topic, payload: Buffer.from(text) }, () => acks++));
      assert.equal(acks, 1, 'acknowledged once');
      assert.ok(OUTCOMES.includes(verdict.outcome), `outcome ${verdict.outcome}`);
      assert.notEqual(verdict.outcome, 'failed', 'the store never refused what the consumer let through');
      storeInvariants();
    }),
    fuzzParameters(500),
  );
  assert.equal(runs, 500);
  t.diagnostic(`${runs} messages: ${JSON.stringify(consumer.counted().map((c) => `${c.outcome}/${c.reason}=${c.n}`))}`);
  for (const [outcome, least] of [['accepted', 20], ['malformed', 50], ['forged', 20], ['wrong_device', 10], ['sequence', 5], ['replay_answer', 5], ['key_changed', 1], ['unknown_box', 5]] as const) {
    assert.ok(consumer.countOf(outcome) >= least, `the cases reach ${outcome} (${consumer.countOf(outcome)} times)`);
  }

  function storeInvariants(): void {
    const pins = new Map((db.prepare('SELECT base, kid, device FROM central_pins').all() as { base: string; kid: string; device: string }[]).map((p) => [p.base, p]));
    for (const p of pins.values()) assert.equal(p.device, p.base.slice(p.base.lastIndexOf('/') + 1), `the pin of ${p.base} names its own box`);
    for (const row of db.prepare('SELECT id, base, body, seq, typeof(seq) AS seqType FROM central_events').all() as { id: string; base: string; body: string; seq: unknown; seqType: string }[]) {
      const signed = signedBy.get(row.id);
      assert.ok(signed, `${row.id} was signed by a key of this test`);
      assert.equal(signed.kid, pins.get(row.base)?.kid, `${row.id} is signed by the key pinned for ${row.base}`);
      // As JSON.stringify writes both: -0 is stored as 0.
      assert.equal(JSON.stringify(JSON.parse(row.body)), JSON.stringify(JSON.parse(signed.text)), `${row.id} is stored as signed`);
      assert.ok(row.seqType === 'null' || (row.seqType === 'integer' && Number.isSafeInteger(row.seq) && (row.seq as number) >= 1), `${row.id} seq ${String(row.seq)}`);
    }
    for (const r of db.prepare('SELECT base, device, high_seq, typeof(high_seq) AS t FROM central_sequence').all() as { base: string; device: string; high_seq: number; t: string }[]) {
      assert.ok(pins.has(r.base) && r.device === pins.get(r.base)!.device, `a mark for ${r.base} only from its pinned box`);
      assert.ok(r.t === 'integer' && Number.isSafeInteger(r.high_seq) && r.high_seq >= 0, `high_seq ${r.high_seq}`);
    }
    for (const r of db.prepare('SELECT base, from_seq, to_seq FROM central_gone').all() as { base: string; from_seq: number; to_seq: number }[]) {
      assert.ok(pins.has(r.base) && Number.isSafeInteger(r.from_seq) && Number.isSafeInteger(r.to_seq) && r.from_seq >= 1 && r.from_seq <= r.to_seq, `gone ${r.from_seq}..${r.to_seq}`);
    }
  }
});
