import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { Value } from '@sinclair/typebox/value';
import { compactVerify, importJWK, type JWK } from 'jose';
import { RESERVED_CAMERA_NAMES, TOPICS, topicFor, type TopicName } from '../../contract/topics.js';

const doc = readFileSync(new URL('../../docs/mqtt.md', import.meta.url), 'utf8');

/** `### \`<base>/path\`` sections of docs/mqtt.md with their JSON examples. */
function documentedTopics(): Map<string, unknown[]> {
  const sections = new Map<string, unknown[]>();
  const parts = doc.split(/^### `<base>\/(.+?)`$/m);
  for (let i = 1; i < parts.length; i += 2) {
    const examples = [...parts[i + 1]!.split(/^## /m)[0]!.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]!) as unknown);
    sections.set(parts[i]!, examples);
  }
  return sections;
}

const docPath = (name: TopicName) => TOPICS[name].path.replace(/\{(\w+)\}/g, '<$1>');

test('every topic in the map is documented in docs/mqtt.md with examples, and nothing else is', () => {
  const documented = documentedTopics();
  const inCode = (Object.keys(TOPICS) as TopicName[]).map(docPath).sort();
  assert.deepEqual([...documented.keys()].sort(), inCode);
  for (const [path, examples] of documented) assert.ok(examples.length > 0, `${path} has no example payload`);
});

test('each documented example payload matches its schema in the topic map', () => {
  const documented = documentedTopics();
  for (const name of Object.keys(TOPICS) as TopicName[]) {
    for (const example of documented.get(docPath(name)) ?? []) {
      const errors = [...Value.Errors(TOPICS[name].schema, example)].map((e) => `${e.path} ${e.message}`);
      assert.deepEqual(errors, [], `${docPath(name)} example: ${JSON.stringify(example).slice(0, 80)}`);
    }
  }
});

test('the signed examples verify with the documented example key, the image by its sha256', async () => {
  const keyBlock = /signed with this example key:\s*```json\n([\s\S]*?)```/.exec(doc);
  assert.ok(keyBlock, 'docs/mqtt.md shows the example public key');
  const key = await importJWK(JSON.parse(keyBlock[1]!) as JWK, 'EdDSA');
  const documented = documentedTopics();
  let verified = 0;
  for (const name of ['attendance', 'attendanceRetracted', 'attendanceUpgraded', 'unknown', 'spoof', 'quarantine', 'bridgeEvent', 'response', 'trackEvent'] as const) {
    for (const example of documented.get(docPath(name))! as Record<string, unknown>[]) {
      const { payload } = await compactVerify(example.jws as string, key);
      const { jws: _jws, image, ...rest } = example;
      const signed = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
      assert.deepEqual(signed, rest);
      if (typeof image === 'string') assert.equal(createHash('sha256').update(Buffer.from(image, 'base64')).digest('hex'), signed.image_sha256);
      verified++;
    }
  }
  assert.equal(verified, 15);
});

test('retained topics carry state only; one-shot events are never retained and go through the outbox', () => {
  for (const name of Object.keys(TOPICS) as TopicName[]) {
    const t = TOPICS[name];
    if (t.via === 'outbox') assert.equal(t.retain, false, `${name} is an event and must not be retained`);
  }
  assert.deepEqual(
    (Object.keys(TOPICS) as TopicName[]).filter((n) => TOPICS[n].retain).sort(),
    ['availability', 'bridgeInfo', 'bridgeState', 'cameraState', 'feedReport', 'lastSeen', 'trackLast'],
  );
});

test('topicFor fills placeholders and refuses wildcards', () => {
  assert.equal(topicFor('facegate/g1', 'availability', { camera: 'gate' }), 'facegate/g1/gate/availability');
  assert.equal(topicFor('facegate/g1', 'response', { command: 'person/enrol' }), 'facegate/g1/bridge/response/person/enrol');
  assert.throws(() => topicFor('facegate/g1', 'presence', { person: '#' }));
  assert.throws(() => topicFor('facegate/g1', 'availability'));
});

test("per-camera subtopics (events, last) reserve no camera name: only a camera named after a first segment could land on the device's own topics", () => {
  assert.ok(!RESERVED_CAMERA_NAMES.includes('events') && !RESERVED_CAMERA_NAMES.includes('last'));
  const fixed = (Object.keys(TOPICS) as TopicName[]).filter((n) => !TOPICS[n].path.includes('{')).map((n) => topicFor('b', n));
  const perCamera = (Object.keys(TOPICS) as TopicName[]).filter((n) => TOPICS[n].path.startsWith('{camera}'));
  for (const camera of ['events', 'last', 'gate', 'bridge-cam']) {
    for (const n of perCamera) assert.ok(!fixed.includes(topicFor('b', n, { camera })), `${camera}: ${n}`);
  }
});
