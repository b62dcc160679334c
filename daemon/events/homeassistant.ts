import type { MqttBridge } from './bridge.js';
import { topicFor } from './topics.js';

export interface DiscoveryOptions {
  prefix: string;
  baseTopic: string;
  deviceId: string;
  version: string;
  cameras: readonly string[];
  persons: readonly { personId: string; name?: string }[];
  presenceExpireS: number;
  /**
   * Name presence entities by the person's name rather than their id. Discovery configs are
   * retained on the broker, in clear, for every subscriber: names only where the site wants them.
   */
  personNames: boolean;
}

export interface DiscoveryMessage {
  topic: string;
  /** Empty string deletes the entity in Home Assistant. */
  payload: string;
}

/** HA object ids allow [a-zA-Z0-9_-]; anything else becomes '_'. */
const objectId = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, '_');
/** An entity id's object part: lower case letters, digits and '_'. */
const entitySlug = (s: string) => s.toLowerCase().replace(/[^a-z0-9_]/g, '_');

/**
 * Home Assistant MQTT discovery configs (retained): a device block shared by all entities; per
 * camera a connectivity binary_sensor and counters; per person a presence binary_sensor that HA
 * expires by itself. Availability is the bridge and, for camera entities, the camera too.
 */
export function discoveryMessages(o: DiscoveryOptions): DiscoveryMessage[] {
  const node = objectId(`facegate_${o.deviceId}`);
  const device = { identifiers: [node], name: `facegate ${o.deviceId}`, manufacturer: 'facegate', model: 'facegate edge', sw_version: o.version };
  const origin = { name: 'facegate', sw: o.version, url: 'https://github.com/facegate/facegate' };
  const bridgeAvailability = { topic: topicFor(o.baseTopic, 'bridgeState'), value_template: '{{ value_json.state }}' };
  const messages: DiscoveryMessage[] = [];
  // default_entity_id (domain.object) is what Home Assistant reads since 2025.10; it dropped
  // object_id in 2026.4.
  const config = (component: string, id: string, body: Record<string, unknown>) =>
    messages.push({
      topic: `${o.prefix}/${component}/${node}/${objectId(id)}/config`,
      payload: JSON.stringify({ ...body, unique_id: `${node}_${objectId(id)}`, default_entity_id: `${component}.${entitySlug(`${node}_${id}`)}`, device, origin }),
    });

  for (const camera of o.cameras) {
    const availability = [bridgeAvailability, { topic: topicFor(o.baseTopic, 'availability', { camera }), value_template: '{{ value_json.state }}' }];
    config('binary_sensor', `${camera}_connectivity`, {
      name: `${camera} stream`,
      device_class: 'connectivity',
      entity_category: 'diagnostic',
      state_topic: topicFor(o.baseTopic, 'availability', { camera }),
      value_template: "{{ 'ON' if value_json.state == 'online' else 'OFF' }}",
      availability: [bridgeAvailability],
    });
    for (const [key, label] of [['recognized_today', 'recognized today'], ['unknown_today', 'unknown faces today']] as const) {
      config('sensor', `${camera}_${key}`, {
        name: `${camera} ${label}`,
        state_topic: topicFor(o.baseTopic, 'cameraState', { camera }),
        value_template: `{{ value_json.${key} }}`,
        state_class: 'total_increasing',
        availability,
        availability_mode: 'all',
      });
    }
  }
  for (const p of o.persons) {
    const topic = topicFor(o.baseTopic, 'presence', { person: p.personId });
    config('binary_sensor', `presence_${p.personId}`, {
      name: `${(o.personNames ? p.name : undefined) ?? p.personId} present`,
      device_class: 'presence',
      state_topic: topic,
      value_template: '{{ value_json.state }}',
      // Where and when they were last seen, as the entity's attributes.
      json_attributes_topic: topic,
      json_attributes_template: '{{ {"camera": value_json.camera, "time": value_json.time} | tojson }}',
      expire_after: o.presenceExpireS,
      availability: [bridgeAvailability],
    });
  }
  return messages;
}

/** The empty retained config that deletes a removed person's presence entity. */
export function removalMessage(o: Pick<DiscoveryOptions, 'prefix' | 'deviceId'>, personId: string): DiscoveryMessage {
  return { topic: `${o.prefix}/binary_sensor/${objectId(`facegate_${o.deviceId}`)}/${objectId(`presence_${personId}`)}/config`, payload: '' };
}

/** Publishes discovery on every connect and whenever Home Assistant says it came back online. */
export class HomeAssistantDiscovery {
  constructor(
    private readonly bridge: MqttBridge,
    private readonly options: () => DiscoveryOptions,
  ) {}

  attach(): void {
    const statusTopic = `${this.options().prefix}/status`;
    this.bridge.onConnect(async (client) => {
      await client.subscribeAsync(statusTopic, { qos: 1 });
      await this.publishAll();
    });
    this.bridge.onMessage(async (topic, payload) => {
      if (topic === statusTopic && payload.toString() === 'online') await this.publishAll();
    });
  }

  async publishAll(): Promise<void> {
    for (const m of discoveryMessages(this.options())) await this.bridge.publish(m.topic, m.payload, { qos: 1, retain: true });
  }

  async removePerson(personId: string): Promise<void> {
    const m = removalMessage(this.options(), personId);
    await this.bridge.publish(m.topic, m.payload, { qos: 1, retain: true });
  }

  /** ON at each sighting (HA expires it), OFF at check-out. Not retained: state, never replayed. */
  async presence(personId: string, state: 'ON' | 'OFF', camera: string, time: string): Promise<void> {
    if (!this.bridge.connected) return;
    await this.bridge.publish(topicFor(this.options().baseTopic, 'presence', { person: personId }), JSON.stringify({ state, camera, time }), { qos: 1, retain: false });
  }
}
