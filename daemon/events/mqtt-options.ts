import { hostname } from 'node:os';
import type { IClientOptions } from 'mqtt';
import { FacegateError } from '../base/errors.js';
import { readInputFile } from '../base/input-file.js';
import type { MqttConfig } from './config.js';

/** Names derived once from the config: who this device is on the broker. */
export interface MqttIdentity {
  deviceId: string;
  baseTopic: string;
  clientId: string;
}

export function mqttIdentity(c: MqttConfig, host: string = hostname()): MqttIdentity {
  const deviceId = c.device_id || host.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 64) || 'facegate';
  return {
    deviceId,
    baseTopic: (c.base_topic || `facegate/${deviceId}`).replace(/\/+$/, ''),
    clientId: c.client_id || `facegate-${deviceId}`,
  };
}

export const OFFLINE = JSON.stringify({ state: 'offline' });
export const ONLINE = JSON.stringify({ state: 'online' });

/**
 * mqtt.js options for a persistent v5 session: fixed client id, clean=false with a session expiry
 * (the broker keeps our QoS 1 state across our restarts), a retained last-will saying offline,
 * TLS files read once. Reconnects are ours (reconnectPeriod 0) to back off with jitter.
 */
export function mqttClientOptions(c: MqttConfig, id: MqttIdentity, env: NodeJS.ProcessEnv): IClientOptions {
  const password = env[c.password_env];
  const options: IClientOptions = {
    protocolVersion: 5,
    clientId: id.clientId,
    clean: false,
    keepalive: c.keepalive_s,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    // The broker must not send us a packet larger than this (MQTT 5: it drops it instead, as
    // Mosquitto does); the bridge closes the connection on one that comes all the same. And it
    // sends at most `receive_maximum` messages ahead of our acknowledgements: MQTT.js hands them
    // to the bridge one at a time whatever it sends, and a large site lowers it to keep a fleet's
    // read of the gallery feed out of the broker's memory.
    properties: { sessionExpiryInterval: c.session_expiry_s, maximumPacketSize: maxPacketBytes(c), receiveMaximum: c.receive_maximum },
    will: { topic: `${id.baseTopic}/bridge/state`, payload: Buffer.from(OFFLINE), qos: 1, retain: true },
    ...(c.username ? { username: c.username } : {}),
    ...(password ? { password } : {}),
  };
  if (c.url.startsWith('mqtts://')) {
    options.rejectUnauthorized = c.tls.reject_unauthorized;
    if (c.tls.ca) options.ca = readPem(c.tls.ca, 'mqtt.tls.ca');
    if (c.tls.cert) options.cert = readPem(c.tls.cert, 'mqtt.tls.cert');
    if (c.tls.key) options.key = readPem(c.tls.key, 'mqtt.tls.key');
  } else if (c.tls.ca || c.tls.cert || c.tls.key) {
    throw new FacegateError('FG_ERR_MQTT_TLS_CONFIG', `mqtt.tls files are set but mqtt.url ${c.url.replace(/\/\/[^@/]*@/, '//***@')} is not mqtts://`, 'use an mqtts:// URL, or remove the mqtt.tls files');
  }
  return options;
}

/** The largest packet MQTT can frame is 256 MiB less one byte (a four-byte remaining length). */
const MQTT_MAX_PACKET = 268_435_455;

export function maxPacketBytes(c: MqttConfig): number {
  return Math.min(c.max_packet_mb * 1024 * 1024, MQTT_MAX_PACKET);
}

function readPem(path: string, key: string): Buffer {
  try {
    return readInputFile(path, 'key', key);
  } catch (e) {
    if (e instanceof FacegateError) throw e;
    throw new FacegateError('FG_ERR_MQTT_TLS_FILE', `cannot read ${key} file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, `check the path in ${key} and that the facegate user may read it`);
  }
}
