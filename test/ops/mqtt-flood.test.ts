// The broker path under hostile load, against `facegate daemon` as its own process and a real
// Mosquitto: one message far over the device's maximum packet size, then a bounded flood of junk,
// large payloads and signed commands on the request topics. The daemon's resident memory stays
// flat through the oversized message (the broker drops it for the device, which declared its
// maximum at connect), every signed command is answered, and `facegate status` and /metrics answer
// throughout. The peak resident memory is printed: docs/daemon.md#memory sizes the unit's limits by it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { SignJWT } from 'jose';
import mqtt from 'mqtt';
import { Mosquitto, freePort } from '../support/mosquitto.js';
import { runCli } from '../support/cli.js';
import { media, mediaMissing } from '../support/media.js';
import { DaemonProcess, makeSite, withRemoteCommands } from './daemon-harness.js';

const CLIP = 'video_blink/real3dportrait_May_5s.mp4';
const BASE = 'facegate/gate-1';
const MiB = 1024 * 1024;

/** Resident memory now and at its peak (VmRSS, VmHWM), bytes. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)![1]) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

test('the request topics under a flood: a 64 MiB message never reaches the daemon, junk and big payloads are refused, signed commands answered, status and /metrics answer throughout', { skip: mediaMissing(CLIP), timeout: 300_000 }, async (t) => {
  const broker = await Mosquitto.start();
  t.after(() => broker.dispose());
  const site = await makeSite(media(CLIP));
  t.after(() => rmSync(site.dir, { recursive: true, force: true }));
  const metricsPort = await freePort();
  const central = await withRemoteCommands(site, broker.url, `metrics:\n  enabled: true\n  port: ${metricsPort}\ncontrol:\n  socket_dir: ${site.dir}/run\n`);

  const client = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'central' });
  t.after(() => client.endAsync(true));
  const answered = new Set<string>();
  client.on('message', (_topic, payload) => {
    const jti = (JSON.parse(payload.toString()) as { jti?: string }).jti;
    if (jti) answered.add(jti);
  });
  await client.subscribeAsync(`${BASE}/bridge/response/#`, { qos: 1 });
  const signed = async (): Promise<string> => {
    const jti = randomUUID();
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ cmd: 'status', data: {} }).setProtectedHeader({ alg: 'EdDSA' }).setAudience('gate-1').setIssuedAt(now).setExpirationTime(now + 280).setJti(jti).sign(central.privateKey);
    await client.publishAsync(`${BASE}/bridge/request/status`, JSON.stringify({ token }), { qos: 1 });
    return jti;
  };
  const until = async (what: string, ok: () => boolean, timeoutMs = 60_000) => {
    const end = Date.now() + timeoutMs;
    while (!ok()) {
      if (Date.now() > end) throw new Error(`timed out: ${what}\n${daemon.log.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const daemon = new DaemonProcess(site.config);
  t.after(() => daemon.kill());
  const pid = daemon.child.pid!;
  await daemon.waitForLog(/"msg":"facegate ready"/, 120_000);
  // Subscribed once a probe is answered.
  await until('a first answer', () => answered.size > 0 || (void signed(), false), 60_000);
  const idle = memoryOf(pid);

  // One message of 64 MiB, four times the default maximum packet size, from any broker user.
  const attacker = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'attacker' });
  t.after(() => attacker.endAsync(true));
  await attacker.publishAsync(`${BASE}/bridge/request/status`, Buffer.alloc(64 * MiB, 0x7b), { qos: 1 });
  const probe = await signed();
  await until('an answer after the oversized message', () => answered.has(probe));
  const afterBig = memoryOf(pid);
  assert.ok(afterBig.peak - idle.peak < 32 * MiB, `peak resident memory rose ${((afterBig.peak - idle.peak) / MiB).toFixed(0)} MiB on a 64 MiB message`);
  assert.match(broker.log, /Dropping too large outgoing PUBLISH for facegate-gate-1/);

  // The flood, bounded by counts (the same load on a fast machine and a slow one): junk as fast as
  // the broker takes it, 12 MiB payloads (under the limit, not JSON) every half second, and signed
  // commands every 50 ms, all at once; status and /metrics are asked throughout.
  const JUNK = 20_000;
  const BIG = 24;
  const COMMANDS = 240;
  const sent: string[] = [];
  const started = Date.now();
  const junk = (async () => {
    for (let i = 0; i < JUNK; i++) await attacker.publishAsync(`${BASE}/bridge/request/${i % 2 ? 'status' : 'person/enrol'}`, `{"token":"junk-${i}"}`, { qos: i % 2 as 0 | 1 });
  })();
  const big = (async () => {
    for (let i = 0; i < BIG; i++) {
      await attacker.publishAsync(`${BASE}/bridge/request/person/enrol`, Buffer.alloc(12 * MiB, 0x41), { qos: 1 });
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  const commands = (async () => {
    for (let i = 0; i < COMMANDS; i++) {
      sent.push(await signed());
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  let flooding = true;
  const flood = Promise.all([junk, big, commands]).finally(() => (flooding = false));
  let statusCalls = 0;
  let scrapes = 0;
  let slowestScrapeMs = 0;
  let peakDuring = 0;
  let mostFiles = 0;
  const statusLoop = (async () => {
    while (flooding) {
      const status = await runCli(['status', '--config', site.config, '--json']);
      assert.equal(status.code, 0, status.stderr);
      assert.equal((JSON.parse(status.stdout) as { mqtt: { connected: boolean } }).mqtt.connected, true, 'still connected');
      statusCalls++;
    }
  })();
  while (flooding) {
    const asked = Date.now();
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    slowestScrapeMs = Math.max(slowestScrapeMs, Date.now() - asked);
    assert.match(metrics, /^facegate_mqtt_connected 1$/m);
    scrapes++;
    peakDuring = Math.max(peakDuring, memoryOf(pid).rss);
    mostFiles = Math.max(mostFiles, readdirSync(`/proc/${pid}/fd`).length);
    await new Promise((r) => setTimeout(r, 250));
  }
  await flood;
  await statusLoop;
  const floodS = (Date.now() - started) / 1000;
  await until(`every signed command answered (${sent.length})`, () => sent.every((jti) => answered.has(jti)), 120_000);
  const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  assert.match(metrics, /^facegate_command_requests_total\{outcome="unauthenticated"\} [1-9]\d{2,}$/m);
  assert.match(metrics, /^facegate_mqtt_packets_too_large_total 0$/m, 'Mosquitto honours the declared maximum: nothing over it arrived');
  const end = memoryOf(pid);
  t.diagnostic(
    `resident memory: idle ${(idle.rss / MiB).toFixed(0)} MiB; after a 64 MiB message ${(afterBig.rss / MiB).toFixed(0)} MiB (peak ${(afterBig.peak / MiB).toFixed(0)}); ` +
      `during the flood up to ${(peakDuring / MiB).toFixed(0)} MiB, peak ${(end.peak / MiB).toFixed(0)} MiB; ${sent.length} signed commands, ${statusCalls} status calls and ${scrapes} scrapes (slowest ${slowestScrapeMs} ms) in ${floodS.toFixed(0)} s of ${JUNK} junk and ${BIG} large messages; at most ${mostFiles} open files`,
  );
  daemon.signal('SIGTERM');
  assert.equal(await daemon.exited, 0);
});
