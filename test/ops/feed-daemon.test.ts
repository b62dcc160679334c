// The gallery feed in the daemon's composition root: the real App (models, the sealed gallery in a
// SQLite file, the events stage) with mqtt.feed on, a real Mosquitto, and the built
// `facegate central feed` commands. An enrolment made once at the central is in the daemon's
// gallery, matched by its recognizer, audited as the feed's, and the daemon's signed report on
// <base>/bridge/feed and its metrics say how far it is; an erasure is confirmed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { App } from '../../daemon/app.js';
import { parseConfig } from '../../daemon/config/load.js';
import { ensureDeviceKey } from '../../daemon/events/device-key.js';
import { createKeyFile } from '../../daemon/gallery/key-source.js';
import { loadSodium } from '../../daemon/gallery/sodium.js';
import { createNotifier } from '../../daemon/system/sd-notify.js';
import { freePort, Mosquitto } from '../support/mosquitto.js';
import { quietLogger } from '../support/events-stack.js';
import { runCli } from '../support/cli.js';
import { unitVector } from '../gallery/helpers.js';

async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('the daemon applies its site feed: a person enrolled at the central is recognised, audited as the feed, reported and erased again', { timeout: 180_000 }, async (t) => {
  const broker = await Mosquitto.start();
  t.after(() => broker.dispose());
  const dir = mkdtempSync(join(tmpdir(), 'fg-feed-daemon-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  createKeyFile(await loadSodium(), join(dir, 'gallery.key'));
  const device = ensureDeviceKey(join(dir, 'device.key')).key;
  const central = generateKeyPairSync('ed25519');
  writeFileSync(join(dir, 'central.key'), central.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 });
  writeFileSync(join(dir, 'central.pub'), central.publicKey.export({ type: 'spki', format: 'pem' }) as string);
  const metricsPort = await freePort();
  const yaml =
    `gallery:\n  path: ${dir}/state.db\n  key_file: ${dir}/gallery.key\n` +
    `mqtt:\n  enabled: true\n  url: ${broker.url}\n  device_id: gate-1\n  device_key_file: ${dir}/device.key\n  reconnect: { min_ms: 50, max_ms: 500 }\n` +
    `  commands: { central_public_key: ${dir}/central.pub }\n  feed: { enabled: true, site: hq }\n` +
    `metrics:\n  enabled: true\n  port: ${metricsPort}\ncontrol:\n  enabled: false\nattendance:\n  time_zone: Europe/Berlin\n`;
  writeFileSync(join(dir, 'config.yaml'), yaml);
  const app = new App({ config: parseConfig(yaml, 'test'), configPath: join(dir, 'config.yaml'), logger: quietLogger(), notifier: createNotifier({ env: {}, warn: () => {} }), env: {}, version: '0.0.0-test' });
  await app.start();
  t.after(() => app.stop());
  await until('the daemon to connect', () => app.eventsStage?.bridge.connected === true);

  const configPath = join(dir, 'central.yaml');
  writeFileSync(
    configPath,
    stringify({
      broker: { url: broker.url },
      keys: { 'facegate/gate-1': { ...device.publicJwk } },
      feed: { key: join(dir, 'central.key'), database: join(dir, 'feed.db'), sites: { hq: ['facegate/gate-1'] } },
    }),
  );
  const person = unitVector(42);
  writeFileSync(join(dir, 'ada.json'), JSON.stringify({ templates: [{ embedding: Array.from(person), quality: 0.9, model: 'fr_feature' }] }));
  const feed = (...args: string[]) => runCli(['central', 'feed', ...args, '--config', configPath, '--site', 'hq']);
  const enrolled = await feed('enrol', '--person-id', 'EMP-42', '--name', 'Ada Feed', '--group', 'staff', '--templates', join(dir, 'ada.json'));
  assert.equal(enrolled.code, 0, enrolled.stderr);

  await until('the daemon to hold the person', () => app.gallery.store.findPerson('EMP-42') !== undefined);
  const p = app.gallery.store.findPerson('EMP-42')!;
  assert.equal(p.name, 'Ada Feed');
  assert.deepEqual(app.persons.sourceOf(p.id), { kind: 'feed', site: 'hq', seq: 2 }, 'after the key entry of the site');
  // In the recognizer's memory, as a local enrolment would be.
  assert.equal(app.gallery.identify(person, { threshold: 0.42, margin: 0.05 }, 1).match?.personId, p.id);
  assert.ok(app.audit.recent(20).some((e) => e.actor === 'feed:hq' && e.action === 'person.enrol' && e.target === p.id && e.outcome === 'ok'));
  await until('the report', async () => (await feed('status', '--wait-s', '2')).code === 0);
  const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text());
  assert.match(metrics, /^facegate_feed_applied 2$/m);
  assert.match(metrics, /^facegate_feed_entries_total\{outcome="applied"\} 2$/m, 'the key entry and the person');
  assert.match(metrics, /^facegate_feed_refused_total\{reason="forged"\} 0$/m);

  const erased = await feed('erase', '--person-id', 'EMP-42');
  assert.equal(erased.code, 0, erased.stderr);
  await until('the erasure', () => app.gallery.store.findPerson('EMP-42') === undefined);
  await until('the erasure confirmed', async () => {
    const s = await feed('status', '--wait-s', '2');
    return s.code === 0 && /gate-1: applied 3/.test(s.stdout);
  });
});
