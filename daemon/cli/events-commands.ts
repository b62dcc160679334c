import { createPublicKey } from 'node:crypto';
import { loadDeviceKey } from '../events/device-key.js';
import { CONFIG_OPTIONS, parseCommandArgs, resolveConfig, UsageError, type Command } from './command.js';

const EXPORT_USAGE = '[--key-file FILE] [--pem] [--config FILE]';

/** Prints the device's public key so a central server can pin it and verify every event's jws. */
export const keysExportPublicCommand: Command = {
  words: ['keys', 'export-public'],
  summary: "print the device's public signing key (JWK; --pem for PEM) that verifies every published event",
  usage: EXPORT_USAGE,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, { ...CONFIG_OPTIONS, 'key-file': { type: 'string' }, pem: { type: 'boolean' } }, EXPORT_USAGE);
    if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`, EXPORT_USAGE);
    const path = values['key-file'] ?? resolveConfig(values.config, io).mqtt.device_key_file;
    const key = loadDeviceKey(path);
    io.stdout(values.pem ? (createPublicKey(key.privateKey).export({ type: 'spki', format: 'pem' }) as string) : JSON.stringify(key.publicJwk) + '\n');
    return 0;
  },
};

export const EVENTS_COMMANDS: readonly Command[] = [keysExportPublicCommand];
