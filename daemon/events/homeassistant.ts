import type { MqttBridge } from './bridge.js';
import { topicFor, type Payload } from '../../contract/topics.js';
import { firstLive, type PersonRef, type TrackEvent } from '../track/events.js';
import { doorField } from '../../contract/fields.js';

export interface DiscoveryOptions {
  prefix: string;
  baseTopic: string;
  deviceId: string;
  version: string;
  cameras: readonly string[];
  persons: readonly { personId: string; name?: string }[];
  presenceExpireS: number;
  /**
   * Name people's entities by their name rather than their id. Discovery configs are retained on
   * the broker, in clear, for every subscriber: the site can keep names off it.
   */
  personNames: boolean;
  /** An image entity per camera with its latest decision's face; every subscriber sees the faces. */
  cameraImages: boolean;
  /** Largest face picture published, in KiB. */
  imageMaxKb: number;
}

export interface DiscoveryMessage {
  topic: string;
  /** Empty string deletes the entity in Home Assistant. */
  payload: string;
}

/** The decisions Home Assistant gets a device trigger for, per camera. */
export const TRIGGER_KINDS = ['recognized', 'unknown', 'spoof'] as const;

/** HA object ids allow [a-zA-Z0-9_-]; anything else becomes '_'. */
const objectId = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, '_');
/** An entity id's object part: lower case letters, digits and '_'. */
const entitySlug = (s: string) => s.toLowerCase().replace(/[^a-z0-9_]/g, '_');
const nodeId = (deviceId: string) => objectId(`facegate_${deviceId}`);

/** `<base>/<camera>/image`: raw JPEG of a camera's latest decision, beside its other topics, outside the JSON topic map. */
export const cameraImageTopic = (baseTopic: string, camera: string): string => `${topicFor(baseTopic, 'cameraState', { camera })}/image`;

/**
 * Home Assistant MQTT discovery configs (retained): a device block shared by all entities; per
 * camera a connectivity binary_sensor, counters, an image of the latest decision's face (unless
 * turned off) and device triggers for its decisions; per person a presence binary_sensor that HA
 * expires by itself and a last-seen sensor. Availability is the bridge and, for camera entities,
 * the camera too. Unique ids always carry the person's id, never their name.
 */
export function discoveryMessages(o: DiscoveryOptions): DiscoveryMessage[] {
  const node = nodeId(o.deviceId);
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
    if (o.cameraImages) {
      config('image', `${camera}_latest_face`, {
        name: `${camera} latest face`,
        image_topic: cameraImageTopic(o.baseTopic, camera),
        content_type: 'image/jpeg',
        availability: [bridgeAvailability],
      });
    }
    // Device triggers have no entity: no unique_id, entity id or origin in their schema.
    for (const kind of TRIGGER_KINDS) {
      messages.push({
        topic: `${o.prefix}/device_automation/${node}/${objectId(`${camera}_${kind}`)}/config`,
        payload: JSON.stringify({
          automation_type: 'trigger',
          topic: topicFor(o.baseTopic, 'decision', { camera }),
          value_template: '{{ value_json.type }}',
          payload: kind,
          type: kind,
          subtype: camera,
          qos: 1,
          device,
        }),
      });
    }
  }
  for (const p of o.persons) {
    const label = (o.personNames ? p.name : undefined) ?? p.personId;
    const presence = topicFor(o.baseTopic, 'presence', { person: p.personId });
    config('binary_sensor', `presence_${p.personId}`, {
      name: `${label} present`,
      device_class: 'presence',
      state_topic: presence,
      value_template: '{{ value_json.state }}',
      // Where (the camera, and its door or null) and when they were last seen, as the entity's attributes.
      json_attributes_topic: presence,
      json_attributes_template: '{{ {"camera": value_json.camera, "door": value_json.door | default(none), "time": value_json.time} | tojson }}',
      expire_after: o.presenceExpireS,
      availability: [bridgeAvailability],
    });
    const lastSeen = topicFor(o.baseTopic, 'lastSeen', { person: p.personId });
    config('sensor', `last_seen_${p.personId}`, {
      name: `${label} last seen`,
      icon: 'mdi:map-marker-account',
      state_topic: lastSeen,
      value_template: '{{ value_json.camera }}',
      json_attributes_topic: lastSeen,
      availability: [bridgeAvailability],
    });
  }
  return messages;
}

/** What deletes a removed person on Home Assistant: empty retained configs, and their retained last sighting cleared. */
export function removalMessages(o: Pick<DiscoveryOptions, 'prefix' | 'deviceId' | 'baseTopic'>, personId: string): DiscoveryMessage[] {
  const node = nodeId(o.deviceId);
  return [
    { topic: `${o.prefix}/binary_sensor/${node}/${objectId(`presence_${personId}`)}/config`, payload: '' },
    { topic: `${o.prefix}/sensor/${node}/${objectId(`last_seen_${personId}`)}/config`, payload: '' },
    { topic: topicFor(o.baseTopic, 'lastSeen', { person: personId }), payload: '' },
  ];
}

/** A tracker decision as Home Assistant sees it: the decision topic's body, and the face picture when it fits. */
export function decisionFor(
  e: TrackEvent,
  time: string,
  o: Pick<DiscoveryOptions, 'personNames' | 'cameraImages' | 'imageMaxKb'>,
): { decision: Payload<'decision'>; image: Buffer | undefined } | undefined {
  const decided = (type: Payload<'decision'>['type'], person: PersonRef | null, thumbnail: Buffer | null) => {
    const name = o.personNames ? person?.name ?? undefined : undefined;
    const decision = { type, camera: e.camera, ...doorField(e.door), time, person_id: person?.id ?? null, ...(name !== undefined ? { name } : {}) };
    const fits = o.cameraImages && thumbnail !== null && thumbnail.length > 0 && thumbnail.length <= o.imageMaxKb * 1024;
    return { decision, image: fits ? thumbnail : undefined };
  };
  switch (e.type) {
    // As the counters: a recognition counts once, when it is first live.
    case 'recognized':
      return firstLive(e) ? decided('recognized', e.person, e.thumbnail) : undefined;
    case 'unknown':
      return decided('unknown', null, e.thumbnail);
    case 'spoof_suspected':
      return decided('spoof', e.person, null);
    default:
      return undefined;
  }
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
    for (const m of removalMessages(this.options(), personId)) await this.bridge.publish(m.topic, m.payload, { qos: 1, retain: true });
  }

  /**
   * At each accepted sighting: presence ON (HA expires it) or OFF at check-out, not retained; and
   * where (the camera, and its door where it has one) and when, retained, for the last-seen sensor
   * to show after Home Assistant restarts.
   */
  async sighting(personId: string, state: 'ON' | 'OFF', camera: string, time: string, door?: string): Promise<void> {
    if (!this.bridge.connected) return;
    const base = this.options().baseTopic;
    const where = { camera, ...doorField(door) };
    await this.bridge.publish(topicFor(base, 'presence', { person: personId }), JSON.stringify({ state, ...where, time } satisfies Payload<'presence'>), { qos: 1, retain: false });
    await this.bridge.publish(topicFor(base, 'lastSeen', { person: personId }), JSON.stringify({ ...where, time } satisfies Payload<'lastSeen'>), { qos: 1, retain: true });
  }

  /**
   * A camera's decision for its device triggers, and its face for its image entity. Neither is
   * retained: a trigger replayed at Home Assistant's restart would run automations again, and the
   * broker keeps no face.
   */
  async decision(e: TrackEvent, time: string): Promise<void> {
    if (!this.bridge.connected) return;
    const o = this.options();
    const d = decisionFor(e, time, o);
    if (!d) return;
    if (d.image) await this.bridge.publish(cameraImageTopic(o.baseTopic, e.camera), d.image, { qos: 1, retain: false });
    await this.bridge.publish(topicFor(o.baseTopic, 'decision', { camera: e.camera }), JSON.stringify(d.decision), { qos: 1, retain: false });
  }
}
