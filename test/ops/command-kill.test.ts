// Signed remote commands under kill -9: `facegate daemon` as its own process, a real Mosquitto
// holding the device's persistent session (clean: false, a session expiry), and a central server
// that keeps sending `status` and `roster/resync` requests while the daemon is killed at random
// moments and started again. The broker gets a request's acknowledgement only once the daemon has
// recorded it, so every request is answered, exactly once, and none runs twice: what the broker
// still held is sent again after the restart, and what the daemon had taken but not finished is
// answered FG_ERR_COMMAND_INTERRUPTED.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import mqtt from 'mqtt';
import { Sqlite } from '../../daemon/store/sqlite.js';
import { Mosquitto } from '../support/mosquitto.js';
import { media, mediaMissing } from '../support/media.js';
import { DaemonProcess, makeSite, withRemoteCommands } from './daemon-harness.js';

const CLIP = 'video_blink/real3dportrait_May_5s.mp4';
const BASE = 'facegate/gate-1';
const KILLS = 3;

test('kill -9 at random moments during a flood of signed commands: every request is answered exactly once, none runs twice', { skip: mediaMissing(CLIP), timeout: 300_000 }, async (t) => {
  const broker = await Mosquitto.start();
  t.after(() => broker.dispose());
  const site = await makeSite(media(CLIP));
  t.after(() => rmSync(site.dir, { recursive: true, force: true }));
  const central = await withRemoteCommands(site, broker.url, 'metrics:\n  enabled: false\ncontrol:\n  enabled: false\n');

  // The central server: a persistent session of its own, so that no answer is missed.
  const client = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'central', clean: false, properties: { sessionExpiryInterval: 600 } });
  t.after(() => client.endAsync(true));
  const answers = new Map<string, Map<string, { status: string; code?: string }>>(); // jti → answer id → answer
  client.on('message', (_topic, payload) => {
    const a = JSON.parse(payload.toString()) as { id: string; jti?: string; status: string; code?: string };
    if (!a.jti) return;
    if (!answers.has(a.jti)) answers.set(a.jti, new Map());
    answers.get(a.jti)!.set(a.id, a);
  });
  await client.subscribeAsync(`${BASE}/bridge/response/#`, { qos: 1 });

  const request = async (i: number): Promise<string> => {
    const cmd = i % 3 === 2 ? 'roster/resync' : 'status';
    const data = cmd === 'status' ? {} : { persons: [{ person_id: 'emp-7', group: `g${i % 5}` }] };
    const jti = randomUUID();
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ cmd, data }).setProtectedHeader({ alg: 'EdDSA' }).setAudience('gate-1').setIssuedAt(now).setExpirationTime(now + 280).setJti(jti).sign(central.privateKey);
    await client.publishAsync(`${BASE}/bridge/request/${cmd}`, JSON.stringify({ token, transaction: `t${i}` }), { qos: 1 });
    return jti;
  };

  let daemon = new DaemonProcess(site.config);
  t.after(() => daemon.kill());
  // The broker keeps requests for the device only once its first connect has subscribed: until a
  // probe is answered, requests could find no one.
  await daemon.waitForLog(/"msg":"facegate ready"/, 120_000);
  for (let i = 0; answers.size === 0; i++) {
    if (i === 300) throw new Error(`no probe answered: ${daemon.log.slice(-2000)}`);
    await request(0);
    await new Promise((r) => setTimeout(r, 200));
  }

  const sent: string[] = [];
  let sending = true;
  const flood = (async () => {
    for (let i = 0; sending; i++) {
      sent.push(await request(i));
      await new Promise((r) => setTimeout(r, 20));
    }
  })();

  const kills: string[] = [];
  for (let k = 0; k < KILLS; k++) {
    await daemon.waitForLog(/"msg":"remote command"/, 120_000); // subscribed and running commands
    // Spread over 0.2–1.7 s into the flood, the same each run: a failure names the kill that caused it.
    const delay = 200 + ((k * 617 + 311) % 1500);
    await new Promise((r) => setTimeout(r, delay));
    const ran = (daemon.log.match(/"msg":"remote command"/g) ?? []).length;
    await daemon.kill();
    kills.push(`kill ${k + 1}: ${delay} ms into the flood, after ${ran} commands`);
    daemon = new DaemonProcess(site.config);
  }
  await daemon.waitForLog(/"msg":"remote command"/, 120_000);
  sending = false;
  await flood;

  const unanswered = () => sent.filter((jti) => !answers.has(jti));
  const end = Date.now() + 60_000;
  while (unanswered().length > 0) {
    if (Date.now() > end) {
      const kinds = new Map<string, number>();
      for (const m of daemon.log.matchAll(/"msg":"([^"]{0,60})/g)) kinds.set(m[1]!, (kinds.get(m[1]!) ?? 0) + 1);
      throw new Error(`${unanswered().length} of ${sent.length} requests never answered (${kills.join('; ')}); the last daemon logged ${JSON.stringify([...kinds])}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  daemon.signal('SIGTERM');
  assert.equal(await daemon.exited, 0);

  const flooded = new Set(sent);
  for (const jti of answers.keys()) if (!flooded.has(jti)) answers.delete(jti); // late answers to probes
  const twice = [...answers].filter(([, byId]) => byId.size > 1).map(([jti, byId]) => `${jti}: ${[...byId.values()].map((a) => a.code ?? a.status).join(', ')}`);
  assert.deepEqual(twice, [], `answered more than once (${kills.join('; ')})`);
  const outcomes = new Map<string, number>();
  for (const byId of answers.values()) for (const a of byId.values()) outcomes.set(a.code ?? a.status, (outcomes.get(a.code ?? a.status) ?? 0) + 1);
  assert.deepEqual([...outcomes.keys()].filter((o) => o !== 'ok' && o !== 'FG_ERR_COMMAND_INTERRUPTED'), [], `only ok and interrupted answers: ${JSON.stringify([...outcomes])}`);

  const db = new Sqlite(join(site.dir, 'state.db'), { readonly: true });
  t.after(() => db.close());
  const ranTwice = db.prepare("SELECT jti, count(*) AS n FROM command_audit WHERE jti IS NOT NULL AND outcome IN ('ok', 'failed') GROUP BY jti HAVING n > 1").all();
  assert.deepEqual(ranTwice, [], 'no token is in the audit twice');
  const ran = (db.prepare("SELECT jti FROM command_audit WHERE outcome = 'ok'").all() as { jti: string }[]).filter((r) => flooded.has(r.jti));
  assert.equal(ran.length, outcomes.get('ok'), 'each ok answer is one command that ran');
  assert.equal((db.prepare('SELECT count(*) AS n FROM command_pending').get() as { n: number }).n, 0);
  t.diagnostic(`${sent.length} requests, ${kills.join('; ')}; answers: ${JSON.stringify(Object.fromEntries(outcomes))}`);
});
