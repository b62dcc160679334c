// A remote gallery command and its answer are one transaction of the state file: `facegate daemon`
// as its own process, killed (SIGKILL) once a `person/remove` ran but before the broker took its
// answer, delivers that answer after its restart, and the person stays erased. The broker's ACL
// holds the answer back (the device may not publish responses), so the kill surely comes first.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import mqtt from 'mqtt';
import { Gallery } from '../../daemon/gallery/gallery.js';
import { Mosquitto } from '../support/mosquitto.js';
import { quietLogger } from '../support/events-stack.js';
import { keyOptions } from '../gallery/helpers.js';
import { media, mediaMissing } from '../support/media.js';
import { DaemonProcess, makeSite, withRemoteCommands } from './daemon-harness.js';

const CLIP = 'video_blink/real3dportrait_May_5s.mp4';
const BASE = 'facegate/gate-1';
const HOLD_ANSWERS = `topic deny ${BASE}/bridge/response/#\ntopic readwrite #\n`;

test('killed right after person/remove ran, the daemon delivers its answer after the restart; the person stays erased', { skip: mediaMissing(CLIP), timeout: 180_000 }, async (t) => {
  const broker = await Mosquitto.start({ acl: HOLD_ANSWERS });
  t.after(() => broker.dispose());
  const site = await makeSite(media(CLIP));
  t.after(() => rmSync(site.dir, { recursive: true, force: true }));
  const central = await withRemoteCommands(site, broker.url, 'metrics:\n  enabled: false\ncontrol:\n  enabled: false\n');

  const client = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'central' });
  t.after(() => client.endAsync(true));
  const answers: { transaction: string; status: string; data: Record<string, unknown> }[] = [];
  client.on('message', (_topic, payload) => answers.push(JSON.parse(payload.toString()) as (typeof answers)[number]));
  await client.subscribeAsync(`${BASE}/bridge/response/#`, { qos: 1 });

  const first = new DaemonProcess(site.config);
  t.after(() => first.kill());
  await first.waitForLog(/"msg":"facegate ready"/, 90_000);
  const remove = async (transaction: string) => {
    const now = Math.floor(Date.now() / 1000);
    const jwt = await new SignJWT({ cmd: 'person/remove', data: { person_id: 'emp-7' } }).setProtectedHeader({ alg: 'EdDSA' }).setAudience('gate-1').setIssuedAt(now).setExpirationTime(now + 120).setJti(randomUUID()).sign(central.privateKey);
    await client.publishAsync(`${BASE}/bridge/request/person/remove`, JSON.stringify({ token: jwt, transaction }), { qos: 1 });
  };
  // The device subscribes once connected: requests are sent until one ran (later ones find no one).
  for (let i = 0; !/"msg":"remote command"/.test(first.log) && i < 100; i++) {
    await remove(`remove-${i}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  await first.waitForLog(/"command":"person\/remove","outcome":"ok"/);
  await first.waitForLog(/broker refused the event/);
  await first.kill();
  assert.equal(answers.length, 0, 'no answer got out before the kill');

  const gallery = await Gallery.open({ path: join(site.dir, 'state.db'), keys: keyOptions(join(site.dir, 'gallery.key')), logger: quietLogger() });
  const erased = gallery.store.findPerson('emp-7') === undefined;
  gallery.close();
  assert.ok(erased, 'the erase was committed before the kill');

  broker.reloadAcl('topic readwrite #\n');
  const second = new DaemonProcess(site.config);
  t.after(() => second.kill());
  const end = Date.now() + 60_000;
  while (!answers.some((a) => a.data.removed === true)) {
    if (Date.now() > end) throw new Error(`no answer after the restart: ${second.log.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const removed = answers.filter((a) => a.data.removed === true);
  assert.equal(removed.length, 1);
  assert.equal(removed[0]!.status, 'ok');
  // The one erase answer of every door, with the person_id docs/mqtt.md names the command by.
  const { person_id, id, removed: gone } = removed[0]!.data;
  assert.deepEqual([person_id, gone], ['emp-7', true]);
  assert.match(String(id), /^[0-9a-f-]{36}$/);
  second.signal('SIGTERM');
  await second.exited;
});
