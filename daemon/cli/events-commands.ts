import { createPublicKey } from 'node:crypto';
import { loadDeviceKey } from '../events/device-key.js';
import { command, CONFIG_OPTIONS, resolveConfig } from './command.js';

/** Prints the device's public key so a central server can pin it and verify every event's jws. */
export const keysExportPublicCommand = command({
  words: ['keys', 'export-public'],
  summary: "print the device's public signing key (JWK; --pem for PEM) that verifies every published event",
  usage: '[--key-file FILE] [--pem] [--config FILE]',
  options: { ...CONFIG_OPTIONS, 'key-file': { type: 'string' }, pem: { type: 'boolean' } },
  async run({ values }, io) {
    const path = values['key-file'] ?? resolveConfig(values.config, io).mqtt.device_key_file;
    const key = loadDeviceKey(path);
    io.stdout(values.pem ? (createPublicKey(key.privateKey).export({ type: 'spki', format: 'pem' }) as string) : JSON.stringify(key.publicJwk) + '\n');
    return 0;
  },
});
