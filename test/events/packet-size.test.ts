// The largest packet the device takes from the broker: declared at connect (MQTT 5 maximum packet
// size), and enforced on the connection when a broker ignores it: a raw TCP "broker" on loopback
// that answers CONNECT and then starts a 200 MB publish. Before the guard, MQTT.js kept every
// byte of it until the whole packet had come.
import '../support/fast-tier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import mqtt from 'mqtt';
import { Value } from '@sinclair/typebox/value';
import { MqttConfigSchema, type MqttConfig } from '../../daemon/events/config.js';
import { maxPacketBytes, mqttClientOptions, mqttIdentity } from '../../daemon/events/mqtt-options.js';
import { MqttBridge } from '../../daemon/events/bridge.js';
import { PacketSizeReader } from '../../daemon/events/packet-guard.js';
import { createLogger } from '../../daemon/base/log.js';
import { fuzzParameters } from '../support/fuzz.js';
import { mqttVarint } from '../support/mqtt-varint.js';

const mqttConfig = (over: Record<string, unknown>): MqttConfig => Value.Default(MqttConfigSchema, structuredClone(over)) as MqttConfig;

/** An MQTT fixed header: the type byte and the remaining length as a variable byte integer. */
function header(type: number, remaining: number): Buffer {
  return Buffer.from([type << 4, ...mqttVarint(remaining)]);
}

test('the maximum packet size is declared at connect: 16 MiB by default, mqtt.max_packet_mb otherwise, at most what MQTT can frame', () => {
  const id = mqttIdentity(mqttConfig({}), 'box');
  assert.equal(mqttClientOptions(mqttConfig({}), id, {}).properties?.maximumPacketSize, 16 * 1024 * 1024);
  assert.equal(mqttClientOptions(mqttConfig({ max_packet_mb: 2 }), id, {}).properties?.maximumPacketSize, 2 * 1024 * 1024);
  assert.equal(maxPacketBytes(mqttConfig({ max_packet_mb: 256 })), 268_435_455);
});

test('packet size reader: finds the first packet over the limit from its header alone, however the bytes are split', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ type: fc.integer({ min: 1, max: 15 }), remaining: fc.integer({ min: 0, max: 3000 }) }), { minLength: 1, maxLength: 12 }),
      fc.integer({ min: 1, max: 4000 }),
      fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 20 }),
      (packets, limit, cuts) => {
        const wire = Buffer.concat(packets.map((p) => Buffer.concat([header(p.type, p.remaining), Buffer.alloc(p.remaining, 0xff)])));
        const first = packets.find((p) => header(p.type, p.remaining).length + p.remaining > limit);
        const reader = new PacketSizeReader(limit);
        let found: ReturnType<PacketSizeReader['push']>;
        for (let at = 0, i = 0; at < wire.length && !found; i++) {
          const n = cuts[i % cuts.length]!;
          found = reader.push(wire.subarray(at, at + n));
          at += n;
        }
        if (!first) return found === undefined;
        return found !== undefined && found.bytes === header(first.type, first.remaining).length + first.remaining;
      },
    ),
    fuzzParameters(500),
  );
  // The largest remaining length MQTT can frame, and a malformed fifth length byte, which stops it.
  assert.deepEqual(new PacketSizeReader(1000).push(Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f])), { type: 'publish', bytes: 268_435_460 });
  const malformed = new PacketSizeReader(1000);
  assert.equal(malformed.push(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f])), undefined);
  assert.equal(malformed.push(header(3, 5000)), undefined, 'it reads no more after a malformed length');
});

/** A "broker" that accepts every CONNECT and then sends one publish of `bodyBytes`, in 64 KiB writes, ignoring the declared limit. */
async function careless(bodyBytes: number) {
  const connections: { socket: Socket; received: Buffer[]; closed: Promise<void> }[] = [];
  const server = createServer((socket) => {
    const received: Buffer[] = [];
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => {});
    connections.push({ socket, received, closed });
    socket.once('data', () => {
      // CONNACK, MQTT 5: session present 0, reason 0, no properties.
      socket.write(Buffer.from([0x20, 0x03, 0x00, 0x00, 0x00]));
      if (connections.length > 1) return;
      const topic = Buffer.from('facegate/box/bridge/request/status');
      const variable = Buffer.concat([Buffer.from([topic.length >> 8, topic.length & 0xff]), topic, Buffer.from([0x00, 0x01, 0x00])]);
      socket.write(Buffer.concat([header(3, variable.length + bodyBytes).fill(0x32, 0, 1), variable]));
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      let sent = 0;
      const pump = () => {
        while (sent < bodyBytes && !socket.destroyed) {
          sent += chunk.length;
          if (!socket.write(chunk)) return void socket.once('drain', pump);
        }
      };
      pump();
    });
    socket.on('data', (d: Buffer) => received.push(d));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`, connections, close: () => new Promise<void>((resolve) => (server.close(() => resolve()), connections.forEach((c) => c.socket.destroy()))) };
}

test('a broker that sends a packet over the declared size anyway: the connection is closed after its header, with DISCONNECT 0x95, counted and logged with a code; the bridge reconnects', { timeout: 60_000 }, async (t) => {
  const broker = await careless(200 * 1024 * 1024);
  t.after(() => broker.close());
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', destination: new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) }) });
  const c = mqttConfig({ url: broker.url, device_id: 'box', max_packet_mb: 1 });
  const id = mqttIdentity(c);
  const bridge = new MqttBridge({ url: c.url, options: mqttClientOptions(c, id, {}), baseTopic: id.baseTopic, reconnect: { minMs: 20, maxMs: 100 }, connect: mqtt.connect, logger });
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  t.after(() => clearInterval(sampler));
  bridge.start();
  t.after(() => bridge.stop());

  const end = Date.now() + 30_000;
  while (broker.connections.length < 2 || !bridge.connected) {
    if (Date.now() > end) throw new Error(`no reconnect: ${lines.join('')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  await broker.connections[0]!.closed;
  clearInterval(sampler);
  assert.equal(bridge.oversized, 1);
  assert.equal(bridge.lastError, undefined, 'connected again');
  const logged = lines.find((l) => l.includes('FG_ERR_MQTT_PACKET_TOO_LARGE'));
  assert.ok(logged, lines.join(''));
  assert.match(logged, /publish packet of 209715244 bytes, over the 1048576/);
  const fromDevice = Buffer.concat(broker.connections[0]!.received);
  assert.ok(fromDevice.subarray(-3).equals(Buffer.from([0xe0, 0x01, 0x95])), `the last packet the device sent is DISCONNECT 0x95: ${fromDevice.subarray(-8).toString('hex')}`);
  assert.ok(peak - before < 64 * 1024 * 1024, `resident memory grew ${((peak - before) / 2 ** 20).toFixed(0)} MiB while 200 MB were offered`);
});
