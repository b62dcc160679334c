// What a box lets the broker send ahead of its acknowledgements (MQTT 5 receive maximum), on a real
// Mosquitto. MQTT.js hands messages to the bridge one at a time whatever the broker sends, so the
// receive maximum only decides how much of a burst waits in the broker's memory for each box: on
// a fleet reading a large retained log at once (the gallery feed's first read) that was gigabytes.
// The box is a raw socket here, so that what the broker sent is counted as it comes, not as a
// client library lets it through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import mqtt from 'mqtt';
import { Value } from '@sinclair/typebox/value';
import { Mosquitto } from '../support/mosquitto.js';
import { mqttVarint } from '../support/mqtt-varint.js';
import { MqttConfigSchema, type MqttConfig } from '../../daemon/events/config.js';
import { maxPacketBytes, mqttClientOptions, mqttIdentity } from '../../daemon/events/mqtt-options.js';

const mqttConfig = (over: Record<string, unknown>): MqttConfig => Value.Default(MqttConfigSchema, structuredClone(over)) as MqttConfig;

const packet = (type: number, body: number[]): Buffer => Buffer.from([type, ...mqttVarint(body.length), ...body]);
const str = (s: string): number[] => [s.length >> 8, s.length & 0xff, ...Buffer.from(s)];

/** A raw MQTT 5 client that connects with the given receive maximum, subscribes at QoS 1 and never acknowledges. */
async function silentSubscriber(url: string, receiveMaximum: number | undefined, filter: string): Promise<{ publishes: () => number; close: () => void }> {
  const { hostname, port } = new URL(url);
  const socket: Socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const properties = receiveMaximum === undefined ? [] : [0x21, receiveMaximum >> 8, receiveMaximum & 0xff];
  socket.write(packet(0x10, [...str('MQTT'), 5, 0x02, 0, 60, ...mqttVarint(properties.length), ...properties, ...str(`raw-${receiveMaximum}`)]));
  socket.write(packet(0x82, [0, 1, 0, ...str(filter), 0x01]));
  // Walk the packets by their fixed headers and count the PUBLISHes.
  let buffered = Buffer.alloc(0);
  let publishes = 0;
  socket.on('data', (d: Buffer) => {
    buffered = Buffer.concat([buffered, d]);
    for (;;) {
      let length = 0;
      let at = 1;
      let complete = false;
      for (let shift = 0; at < buffered.length && shift <= 21; shift += 7) {
        const b = buffered[at++]!;
        length += (b & 0x7f) << shift;
        if (!(b & 0x80)) {
          complete = true;
          break;
        }
      }
      if (!complete || buffered.length < at + length) return;
      if (buffered[0]! >> 4 === 3) publishes++;
      buffered = buffered.subarray(at + length);
    }
  });
  return { publishes: () => publishes, close: () => socket.destroy() };
}

test("the box declares mqtt.receive_maximum at connect (20 by default), and Mosquitto sends no more than that ahead of the box's acknowledgement", { timeout: 30_000 }, async (t) => {
  const id = mqttIdentity(mqttConfig({}), 'box');
  const declared = mqttClientOptions(mqttConfig({}), id, {}).properties?.receiveMaximum;
  assert.equal(declared, 20);
  assert.equal(mqttClientOptions(mqttConfig({ receive_maximum: 1 }), id, {}).properties?.receiveMaximum, 1);
  assert.ok(!Value.Check(MqttConfigSchema, Value.Default(MqttConfigSchema, { receive_maximum: 0 })), 'below 1 is refused');

  const broker = await Mosquitto.start();
  t.after(() => broker.dispose());
  const publisher = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'feed-central' });
  for (let i = 0; i < 40; i++) await publisher.publishAsync(`feed/hq/entry/${i}`, Buffer.alloc(1024, i), { qos: 1, retain: true });
  await publisher.endAsync();

  const counts: Record<string, number> = {};
  for (const rm of [1, 8, declared]) {
    const box = await silentSubscriber(broker.url, rm, 'feed/hq/entry/+');
    await new Promise((r) => setTimeout(r, 700));
    counts[String(rm)] = box.publishes();
    box.close();
  }
  t.diagnostic(`messages sent ahead of any acknowledgement, of 40 retained: ${JSON.stringify(counts)}`);
  assert.deepEqual(counts, { '1': 1, '8': 8, '20': 20 }, 'then the broker waits for an acknowledgement');
});

test('a box that declares a receive maximum of 1 goes on receiving after a message too large for it, where the broker refuses such messages (max_packet_size)', { timeout: 30_000 }, async (t) => {
  const c = mqttConfig({ receive_maximum: 1, max_packet_mb: 1 });
  const options = mqttClientOptions(c, mqttIdentity(c, 'box'), {});
  // Mosquitto 2.0 keeps a place of a box's window for each message too large for the box that it
  // drops on the way out: with a window of 1, the box would take nothing more. Refused on the way
  // in, the message never takes a place.
  for (const [limit, expect] of [[undefined, 'stalled'], [maxPacketBytes(c), 'received']] as const) {
    const broker = await Mosquitto.start(limit === undefined ? {} : { maxPacketBytes: limit });
    try {
      const box = await mqtt.connectAsync(broker.url, { ...options, clientId: 'box', reconnectPeriod: 0 });
      const got: string[] = [];
      box.on('message', (_topic, payload) => got.push(payload.toString()));
      await box.subscribeAsync('facegate/box/bridge/request/+', { qos: 1 });
      const attacker = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'attacker', reconnectPeriod: 0 });
      // A broker that refuses it closes the attacker's connection instead of acknowledging it.
      attacker.on('error', () => undefined);
      attacker.publish('facegate/box/bridge/request/status', Buffer.alloc(2 * 1024 * 1024, 0x7b), { qos: 1 });
      await new Promise((r) => setTimeout(r, 300));
      attacker.end(true);
      const central = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'central' });
      await central.publishAsync('facegate/box/bridge/request/status', 'after', { qos: 1 });
      await new Promise((r) => setTimeout(r, 800));
      t.diagnostic(`broker max_packet_size ${limit ?? 'unset'}: the message after the oversized one ${got.includes('after') ? 'received' : 'never received'}`);
      if (expect === 'received') assert.deepEqual(got, ['after']);
      await central.endAsync();
      await box.endAsync(true);
    } finally {
      await broker.dispose();
    }
  }
});
