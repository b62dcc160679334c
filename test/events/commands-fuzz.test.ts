// Fuzz tests of the remote command router: any payload on any request topic, and tokens validly
// signed by the central key around any `data`, on a real SQLite file. The router must answer or
// count each one, never throw, and still run a good request afterwards.
import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyObject, randomUUID, createPublicKey, sign as cryptoSign, type JsonWebKey } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import fc from 'fast-check';
import { EventsStack, quietLogger } from '../support/events-stack.js';
import { fuzzParameters, hostileJsonText, hostileValue, PROTOTYPE_KEYS } from '../support/fuzz.js';
import { CommandRouter } from '../../daemon/remote/router.js';
import { CommandAudit, ReplayCache } from '../../daemon/service/command-records.js';
import { COMMAND_HANDLERS } from '../../daemon/remote/handlers.js';
import { FakePersons, noReviews } from '../support/fake-persons.js';

const central = await generateKeyPair('EdDSA', { extractable: true });
const centralPublic = createPublicKey({ key: (await exportJWK(central.publicKey)) as JsonWebKey, format: 'jwk' });
const COMMANDS = Object.keys(COMMAND_HANDLERS);

function setUp(t: { after(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'fg-cmd-fuzz-'));
  // Never started: answers stay in the outbox, where the test reads them.
  const stack = new EventsStack({ dbPath: join(dir, 'state.db'), keyPath: join(dir, 'device.key'), url: 'mqtt://127.0.0.1:1', fsync: false });
  t.after(() => {
    stack.db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const persons = new FakePersons();
  const router = new CommandRouter({
    baseTopic: stack.baseTopic,
    policy: { key: centralPublic, deviceId: 'test-device', maxTokenAgeS: 300, clockSkewS: 5 },
    replay: new ReplayCache(stack.db),
    audit: new CommandAudit(stack.db),
    deps: {
      persons,
      setShiftRules: () => ({ groups: [] }),
      status: () => ({ device: 'test-device' }),
      replay: (from, to) => stack.replay.replay(from, to),
      reviews: noReviews,
    },
    writer: stack.writer,
    db: stack.db,
    now: Date.now,
    logger: quietLogger(),
    // Every refusal handled in full: the fuzz reaches the audit, event and answer paths each time.
    flood: { windowMs: 60_000, detailed: 1_000_000 },
  });
  const topic = (command: string) => `${stack.baseTopic}/bridge/request/${command}`;
  /** A good request after the junk is run and answered ok. */
  const servesGoodRequest = async () => {
    const transaction = randomUUID();
    await router.handle(topic('status'), Buffer.from(JSON.stringify({ token: await sign('status', {}), transaction })));
    const answer = stack.outbox
      .readAfter(0, 1_000_000)
      .map((r) => JSON.parse(r.payload.toString()) as { transaction?: string; status: string })
      .find((a) => a.transaction === transaction);
    assert.equal(answer?.status, 'ok');
  };
  return { stack, router, topic, servesGoodRequest, persons };
}

const centralPrivate = KeyObject.from(central.privateKey);

/** A token signed over payload text as given (node:crypto: jose would clone and re-serialize it). */
function signText(cmd: string, dataText: string, claims: Record<string, unknown>): string {
  const now = Math.floor(Date.now() / 1000);
  const extra = Object.entries(claims).map(([k, v]) => `,${JSON.stringify(k)}:${JSON.stringify(v)}`).join('');
  const payload = `{"aud":"test-device","iat":${now},"exp":${now + 60},"jti":"${randomUUID()}","cmd":${JSON.stringify(cmd)},"data":${dataText}${extra}}`;
  const input = `${Buffer.from('{"alg":"EdDSA"}').toString('base64url')}.${Buffer.from(payload).toString('base64url')}`;
  return `${input}.${cryptoSign(null, Buffer.from(input), centralPrivate).toString('base64url')}`;
}

function sign(cmd: string, data: unknown, claims: Record<string, unknown> = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ cmd, data, ...claims }).setProtectedHeader({ alg: 'EdDSA' }).setAudience('test-device').setIssuedAt(now).setExpirationTime(now + 60).setJti(randomUUID()).sign(central.privateKey);
}

/**
 * The time bound stops the property without waiting for the case in progress: the tests wait for
 * it before they count.
 */
const inFlight = new Set<Promise<void>>();
function track(p: Promise<void>): Promise<void> {
  inFlight.add(p);
  return p.finally(() => inFlight.delete(p));
}

/** A command topic level: the real ones, prototype keys, wildcard and control characters, empty. */
const commandName = fc.oneof(fc.constantFrom(...COMMANDS, ...PROTOTYPE_KEYS, '', '+', '#', 'a/+/b', 'x'.repeat(5000)), fc.string({ maxLength: 30 }));

test('router: any bytes on any request topic are refused and answered or counted, never thrown; a good request still runs', async (t) => {
  const { router, topic, servesGoodRequest, stack } = setUp(t);
  let cases = 0;
  await fc.assert(
    fc.asyncProperty(
      commandName,
      fc.oneof(
        hostileJsonText.map((s) => Buffer.from(s)),
        fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
        hostileValue.map((v) => Buffer.from(JSON.stringify({ token: v, transaction: v }))),
        fc.string({ maxLength: 300 }).map((s) => Buffer.from(JSON.stringify({ token: s, transaction: 't' }))),
      ),
      fc.boolean(),
      async (command, payload, retain) => {
        cases++;
        await track(router.handle(topic(command), payload, { retain }));
      },
    ),
    fuzzParameters(1500),
  );
  await Promise.all(inFlight);
  const c = router.counts;
  assert.equal(c.ok + c.failed, 0, 'no junk ran');
  assert.equal(c.unauthenticated + c.refused + c.retained, cases);
  assert.equal((stack.db.prepare("SELECT COUNT(*) AS n FROM command_audit WHERE outcome = 'refused'").get() as { n: number }).n, c.unauthenticated + c.refused);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  await servesGoodRequest();
  t.diagnostic(`${cases} payloads (${c.unauthenticated} unauthenticated, ${c.refused} refused, ${c.retained} retained)`);
});

test('router: tokens signed by the central key around any data (deep, huge numbers, prototype keys) run or are refused with a reason, never thrown', async (t) => {
  const { router, topic, servesGoodRequest } = setUp(t);
  let cases = 0;
  // Nesting is drawn as a depth and spelled as text, so that a counterexample prints short and no
  // recursive serializer (jose's, fast-check's) has to walk it: only the router's side parses it.
  const deep = fc.integer({ min: 1, max: 5_000 }).map((depth) => ({ depth }));
  const dataJson = (data: unknown) =>
    typeof data === 'object' && data !== null && Object.keys(data).length === 1 && typeof (data as { depth?: unknown }).depth === 'number'
      ? '{"person_id":'.repeat((data as { depth: number }).depth) + '1' + '}'.repeat((data as { depth: number }).depth)
      : (JSON.stringify(data) ?? 'null');
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...COMMANDS),
      fc.oneof(hostileValue, deep, fc.constantFrom(1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, null, [], 'x')),
      fc.oneof(fc.constant({}), fc.record({ sub: hostileValue }), fc.record({ exp: fc.constantFrom(1e308, -1, 2 ** 53) })),
      async (command, data, claims) => {
        cases++;
        const token = signText(command, dataJson(data), claims);
        await track(router.handle(topic(command), Buffer.from(JSON.stringify({ token, transaction: String(cases) }))));
      },
    ),
    fuzzParameters(1000),
  );
  await Promise.all(inFlight);
  const c = router.counts;
  assert.equal(c.ok + c.failed + c.refused, cases, 'each one ran, failed or was refused, and was counted once');
  assert.equal(c.unauthenticated, 0);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  await servesGoodRequest();
  t.diagnostic(`${cases} signed tokens (${c.ok} ok, ${c.failed} failed, ${c.refused} refused)`);
});

test('router: token data nested past 32 levels is refused with its reason (it used to exhaust the stack in the clone)', async (t) => {
  const { router, topic, stack, persons } = setUp(t);
  // Someone to remove: erasing no one is refused (FG_ERR_PERSON_NOT_FOUND), and the flat request must run.
  persons.enrolled.set('p', []);
  const nested = (depth: number) => '{"person_id":'.repeat(depth) + '"p"' + '}'.repeat(depth);
  await router.handle(topic('person/remove'), Buffer.from(JSON.stringify({ token: signText('person/remove', nested(5000), {}), transaction: 'deep' })));
  await router.handle(topic('person/remove'), Buffer.from(JSON.stringify({ token: signText('person/remove', nested(1), {}), transaction: 'flat' })));
  const answers = stack.outbox.readAfter(0, 100).map((r) => JSON.parse(r.payload.toString()) as { transaction?: string; status: string; error?: string }).filter((a) => a.transaction);
  assert.deepEqual(answers.map((a) => [a.transaction, a.status, a.error]), [
    ['deep', 'error', 'token data nested deeper than 32 levels'],
    ['flat', 'ok', undefined],
  ]);
});
