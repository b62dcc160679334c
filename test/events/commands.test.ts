import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID, createPublicKey, type KeyObject, type JsonWebKey } from 'node:crypto';
import { SignJWT, compactVerify, exportJWK, generateKeyPair, importJWK } from 'jose';
import mqtt from 'mqtt';
import { Mosquitto } from '../support/mosquitto.js';
import { EventsStack, quietLogger } from '../support/events-stack.js';
import { CommandRouter } from '../../daemon/remote/router.js';
import { CommandAudit, ReplayCache } from '../../daemon/service/command-records.js';
import { FakePersons, noReviews } from '../support/fake-persons.js';

async function token(key: KeyObject | Parameters<SignJWT['sign']>[0], claims: Record<string, unknown>, o: { aud?: string; iat?: number; exp?: number; jti?: string } = {}) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'EdDSA' })
    .setAudience(o.aud ?? 'test-device')
    .setIssuedAt(o.iat ?? now)
    .setExpirationTime(o.exp ?? now + 60)
    .setJti(o.jti ?? randomUUID())
    .setSubject('central-1')
    .sign(key);
}

test('remote commands over Mosquitto: valid enrol runs; forged, expired, wrong-aud, replayed, wrong-command and malformed are refused and audited', async (t) => {
  const broker = await Mosquitto.start();
  t.after(() => broker.dispose());
  const dir = mkdtempSync(join(tmpdir(), 'fg-cmd-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const central = await generateKeyPair('EdDSA', { extractable: true });
  const forger = await generateKeyPair('EdDSA');
  const stack = new EventsStack({ dbPath: join(dir, 'state.db'), keyPath: join(dir, 'device.key'), url: broker.url });
  const gallery = new FakePersons();
  const centralPublic = createPublicKey({ key: (await exportJWK(central.publicKey)) as JsonWebKey, format: 'jwk' });
  const router = new CommandRouter({
    baseTopic: stack.baseTopic,
    policy: { key: centralPublic, deviceId: 'test-device', maxTokenAgeS: 300, clockSkewS: 5 },
    replay: new ReplayCache(stack.db),
    audit: new CommandAudit(stack.db),
    deps: { persons: gallery, setShiftRules: () => ({ groups: ['default'] }), status: () => ({ device: 'test-device' }), replay: () => ({}), reviews: noReviews },
    writer: stack.writer,
    db: stack.db,
    now: Date.now,
    logger: quietLogger(),
  });
  router.attach(stack.bridge);
  stack.start();
  t.after(() => stack.stop());

  const client = mqtt.connect(broker.url, { protocolVersion: 5, clientId: 'central-cmd' });
  t.after(() => client.endAsync(true));
  await new Promise((r) => client.once('connect', r));
  const responses = new Map<string, Record<string, unknown>>();
  client.on('message', (topic, payload) => {
    const r = JSON.parse(payload.toString()) as Record<string, unknown>;
    responses.set(String(r.transaction), { ...r, topic });
  });
  await client.subscribeAsync(`${stack.baseTopic}/bridge/response/#`, { qos: 1 });
  await new Promise((r) => setTimeout(r, 300)); // the device subscribes on connect
  const ask = async (command: string, body: string | object, transaction: string) => {
    await client.publishAsync(`${stack.baseTopic}/bridge/request/${command}`, typeof body === 'string' ? body : JSON.stringify({ ...body, transaction }), { qos: 1 });
    // A request that is not JSON has no transaction to echo: its answer comes without one.
    if (typeof body === 'string') transaction = 'undefined';
    const end = Date.now() + 5000;
    while (!responses.has(transaction)) {
      if (Date.now() > end) throw new Error(`no response for ${transaction}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return responses.get(transaction)!;
  };

  const image = Buffer.from('fake-jpeg-bytes').toString('base64');
  const enrol = await token(central.privateKey, { cmd: 'person/enrol', data: { person_id: 'emp-9', name: 'Ada', images: [image] } });
  const ok = await ask('person/enrol', { token: enrol }, 't-ok');
  const enrolJti = (JSON.parse(Buffer.from(enrol.split('.')[1]!, 'base64url').toString()) as { jti: string }).jti;
  const { jws, time, id, ...rest } = ok;
  assert.match(String(id), /^[0-9a-f-]{36}$/, 'answers carry an event id: they come at least once, receivers drop duplicates by it');
  assert.deepEqual(rest, { status: 'ok', data: { person_id: 'emp-9', id: 'emp-9', name: 'Ada', templates: 1, best_quality: 0.9, refused: [], clashes: [], dropped: 0 }, transaction: 't-ok', jti: enrolJti, device: 'test-device', topic: `${stack.baseTopic}/bridge/response/person/enrol` });
  assert.match(String(time), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/);
  // Signed by the device key, over the whole answer: a central server can tell it from a forged one.
  const { payload: signed } = await compactVerify(String(jws), await importJWK(stack.key.publicJwk, 'EdDSA'));
  const { topic: _topic, jws: _jws, ...answer } = ok;
  assert.deepEqual(JSON.parse(new TextDecoder().decode(signed)), answer);
  assert.equal(gallery.enrolled.get('emp-9')?.[0]?.toString(), 'fake-jpeg-bytes');

  const now = Math.floor(Date.now() / 1000);
  const refusals: [string, string | object, RegExp][] = [
    ['forged', { token: await token(forger.privateKey, { cmd: 'person/enrol', data: { person_id: 'x', images: [image] } }) }, /bad signature/],
    ['expired', { token: await token(central.privateKey, { cmd: 'person/enrol', data: { person_id: 'x', images: [image] } }, { iat: now - 200, exp: now - 100 }) }, /expired/],
    ['wrong-aud', { token: await token(central.privateKey, { cmd: 'person/enrol', data: { person_id: 'x', images: [image] } }, { aud: 'other-device' }) }, /aud/],
    ['replayed', { token: enrol }, /replay/],
    ['wrong-cmd', { token: await token(central.privateKey, { cmd: 'status', data: {} }) }, /not "person\/enrol"/],
    ['too-long', { token: await token(central.privateKey, { cmd: 'person/enrol', data: {} }, { exp: now + 3600 }) }, /lifetime/],
    ['bad-data', { token: await token(central.privateKey, { cmd: 'person/enrol', data: { person_id: 'x' } }) }, /invalid data: \/images/],
    ['not-json', '{not json', /not JSON/],
    ['no-token', { nothing: 1 }, /malformed request/],
    ['garbage-token', { token: 'a.b.c' }, /malformed token|bad signature|token rejected/],
  ];
  const CODES: Record<string, string> = {
    forged: 'FG_ERR_COMMAND_UNAUTHENTICATED',
    replayed: 'FG_ERR_COMMAND_REPLAYED',
    'bad-data': 'FG_ERR_COMMAND_INVALID',
    'not-json': 'FG_ERR_COMMAND_UNAUTHENTICATED',
    'no-token': 'FG_ERR_COMMAND_UNAUTHENTICATED',
    'garbage-token': 'FG_ERR_COMMAND_UNAUTHENTICATED',
  };
  for (const [name, body, reason] of refusals) {
    const transaction = `t-${name}`;
    const r = await ask('person/enrol', body, transaction);
    assert.equal(r.status, 'error', name);
    assert.match(String(r.error), reason, `${name}: ${r.error}`);
    assert.equal(r.code, CODES[name] ?? 'FG_ERR_COMMAND_REFUSED', `${name}: every error answer carries its code`);
    await compactVerify(String(r.jws), await importJWK(stack.key.publicJwk, 'EdDSA'));
  }
  assert.deepEqual([...gallery.enrolled.keys()], ['emp-9'], 'no refused request ran');

  const audit = new CommandAudit(stack.db).recent();
  assert.equal(audit.filter((a) => a.outcome === 'ok').length, 1);
  assert.equal(audit.filter((a) => a.outcome === 'refused').length, refusals.length);
  assert.ok(audit.some((a) => a.outcome === 'refused' && a.reason?.includes('replay') && a.transaction === 't-replayed'));

  // The replay cache is in the state file: a new cache (a restarted daemon) still refuses the token.
  assert.equal(new ReplayCache(stack.db).claim((JSON.parse(Buffer.from(enrol.split('.')[1]!, 'base64url').toString()) as { jti: string }).jti, Date.now() + 60_000, Date.now(), 5000), false);

  const status = await ask('status', { token: await token(central.privateKey, { cmd: 'status' }) }, 't-status');
  assert.deepEqual(status.data, { device: 'test-device' });
});

test('remote commands turned off: every request is answered FG_ERR_COMMANDS_OFF with what to do, within the refusal limit, and nothing runs', async (t) => {
  const broker = await Mosquitto.start();
  t.after(() => broker.dispose());
  const dir = mkdtempSync(join(tmpdir(), 'fg-cmd-off-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const central = await generateKeyPair('EdDSA', { extractable: true });
  const stack = new EventsStack({ dbPath: join(dir, 'state.db'), keyPath: join(dir, 'device.key'), url: broker.url });
  const persons = new FakePersons();
  const router = new CommandRouter({
    baseTopic: stack.baseTopic,
    policy: undefined,
    replay: new ReplayCache(stack.db),
    audit: new CommandAudit(stack.db),
    deps: { persons, setShiftRules: () => ({ groups: [] }), status: () => ({}), replay: () => ({}), reviews: noReviews },
    writer: stack.writer,
    db: stack.db,
    now: Date.now,
    logger: quietLogger(),
    flood: { windowMs: 60_000, detailed: 3 },
  });
  router.attach(stack.bridge);
  stack.start();
  t.after(() => stack.stop());
  t.after(() => router.close());

  const client = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'central-off' });
  t.after(() => client.endAsync(true));
  const responses: Record<string, unknown>[] = [];
  client.on('message', (_topic, payload) => responses.push(JSON.parse(payload.toString()) as Record<string, unknown>));
  await client.subscribeAsync(`${stack.baseTopic}/bridge/response/#`, { qos: 1 });
  const until = async (ok: () => boolean) => {
    const end = Date.now() + 5000;
    while (!ok()) {
      if (Date.now() > end) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  // The device subscribes on connect: a signed request is sent again until it is answered.
  let sent = 0;
  const publish = async (command: string, body: object) => {
    sent++;
    await client.publishAsync(`${stack.baseTopic}/bridge/request/${command}`, JSON.stringify(body), { qos: 1 });
  };
  for (let i = 0; responses.length === 0 && i < 50; i++) {
    await publish('status', { token: await token(central.privateKey, { cmd: 'status', data: {} }), transaction: `t-status-${i}` });
    await new Promise((r) => setTimeout(r, 100));
  }
  for (let i = 0; i < 5; i++) await publish('person/enrol', { token: 'x', transaction: `t-enrol-${i}` });
  await until(() => router.counts.unauthenticated >= sent);
  await until(() => responses.length >= 3);
  for (const r of responses) {
    assert.equal(r.status, 'error');
    assert.equal(r.code, 'FG_ERR_COMMANDS_OFF');
    assert.match(String(r.error), /remote commands are turned off on this device \(mqtt\.commands\.enabled: false\)/);
  }
  // Past the limit of the window (flood.detailed), requests are only counted: no answer, no audit row each.
  assert.ok(sent > 3);
  assert.equal(new CommandAudit(stack.db).recent().length, 3);
  assert.equal(persons.enrolled.size, 0);
});
