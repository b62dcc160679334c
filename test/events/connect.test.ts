import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import mqtt from 'mqtt';
import { Value } from '@sinclair/typebox/value';
import { Mosquitto, makeTestCa } from '../support/mosquitto.js';
import { MqttConfigSchema, type MqttConfig } from '../../daemon/events/config.js';
import { mqttClientOptions, mqttIdentity } from '../../daemon/events/mqtt-options.js';
import { MqttBridge } from '../../daemon/events/bridge.js';
import { createLogger } from '../../daemon/base/log.js';
import { FacegateError } from '../../daemon/base/errors.js';

const mqttConfig = (over: Record<string, unknown>): MqttConfig => Value.Default(MqttConfigSchema, structuredClone(over)) as MqttConfig;

function capturedLogger() {
  const lines: string[] = [];
  const destination = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
  return { lines, logger: createLogger({ level: 'debug', destination }) };
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function bridgeFor(c: MqttConfig, env: NodeJS.ProcessEnv, logger = createLogger({ level: 'silent' })) {
  const id = mqttIdentity(c, 'box1');
  return new MqttBridge({ url: c.url, options: mqttClientOptions(c, id, env), baseTopic: id.baseTopic, reconnect: { minMs: 20, maxMs: 400 }, connect: mqtt.connect, logger });
}

test('identity defaults follow the device id: facegate/<device> and a fixed client id', () => {
  assert.deepEqual(mqttIdentity(mqttConfig({}), 'gate.site-1'), { deviceId: 'gate-site-1', baseTopic: 'facegate/gate-site-1', clientId: 'facegate-gate-site-1' });
  const o = mqttClientOptions(mqttConfig({ device_id: 'g1' }), mqttIdentity(mqttConfig({ device_id: 'g1' })), {});
  assert.equal(o.protocolVersion, 5);
  assert.equal(o.clean, false);
  assert.equal(o.properties?.sessionExpiryInterval, 604800);
  assert.deepEqual({ topic: o.will?.topic, payload: String(o.will?.payload), retain: o.will?.retain, qos: o.will?.qos }, { topic: 'facegate/g1/bridge/state', payload: '{"state":"offline"}', retain: true, qos: 1 });
});

test('TLS files on an mqtt:// URL, or unreadable ones, are refused with the key named', () => {
  assert.throws(() => mqttClientOptions(mqttConfig({ tls: { ca: '/x.pem' } }), mqttIdentity(mqttConfig({}), 'b'), {}), (e: FacegateError) => e.code === 'FG_ERR_MQTT_TLS_CONFIG');
  assert.throws(
    () => mqttClientOptions(mqttConfig({ url: 'mqtts://127.0.0.1:1', tls: { ca: '/nonexistent/ca.pem' } }), mqttIdentity(mqttConfig({}), 'b'), {}),
    (e: FacegateError) => e.code === 'FG_ERR_MQTT_TLS_FILE' && e.message.includes('mqtt.tls.ca'),
  );
});

test('password auth connects; the password comes from the environment variable', async (t) => {
  const broker = await Mosquitto.start({ password: { user: 'gate', pass: 's3cret-pw' } });
  t.after(() => broker.dispose());
  const bridge = bridgeFor(mqttConfig({ url: broker.url, username: 'gate' }), { FACEGATE_MQTT_PASSWORD: 's3cret-pw' });
  bridge.start();
  t.after(() => bridge.stop());
  await until(() => bridge.connected, 5000, 'connected with password');
});

test('bad credentials: one clear error without the password, and retries with growing backoff', async (t) => {
  const broker = await Mosquitto.start({ password: { user: 'gate', pass: 's3cret-pw' } });
  t.after(() => broker.dispose());
  const { lines, logger } = capturedLogger();
  const bridge = bridgeFor(mqttConfig({ url: broker.url, username: 'gate' }), { FACEGATE_MQTT_PASSWORD: 'wrong-pw' }, logger);
  bridge.start();
  t.after(() => bridge.stop());
  await until(() => bridge.backoffAttempt >= 4, 10_000, 'four retries');
  assert.equal(bridge.connected, false);
  assert.equal(bridge.lastError?.code, 'FG_ERR_MQTT_AUTH');
  assert.match(bridge.lastError!.message, /bad user name or password/);
  const log = lines.join('');
  assert.ok(!log.includes('wrong-pw'), 'the password never reaches the log');
  const delays = lines.map((l) => JSON.parse(l) as { delay_ms?: number }).filter((l) => l.delay_ms !== undefined).map((l) => l.delay_ms!);
  assert.ok(delays.length >= 4 && delays[3]! > delays[0]!, `backoff grows: ${delays.join(', ')}`);
});

test('TLS with a test CA connects (server verified against mqtt.tls.ca, client certificate presented)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-ca-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ca = makeTestCa(dir);
  const broker = await Mosquitto.start({ tls: { ca: ca.ca, cert: ca.serverCert, key: ca.serverKey, requireClientCert: true } });
  t.after(() => broker.dispose());
  const bridge = bridgeFor(mqttConfig({ url: broker.url, tls: { ca: ca.ca, cert: ca.clientCert, key: ca.clientKey } }), {});
  bridge.start();
  t.after(() => bridge.stop());
  await until(() => bridge.connected, 5000, 'connected over TLS');

  // Without our CA the broker's certificate is not trusted: a clear TLS error, not a hang.
  writeFileSync(join(dir, 'other.pem'), '');
  const other = makeTestCa(mkdtempSync(join(dir, 'other-')));
  const untrusted = bridgeFor(mqttConfig({ url: broker.url, client_id: 'x2', tls: { ca: other.ca, cert: ca.clientCert, key: ca.clientKey } }), {});
  untrusted.start();
  t.after(() => untrusted.stop());
  await until(() => untrusted.lastError !== undefined, 5000, 'TLS error');
  assert.equal(untrusted.lastError?.code, 'FG_ERR_MQTT_TLS');
});
