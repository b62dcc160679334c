import { ExitCode } from '../../errors.js';
import { loadValidConfig } from '../../ops/validate.js';
import { parseCommandArgs, UsageError, type Command } from '../command.js';

const USAGE = '--config FILE [--json]';

export const validateConfigCommand: Command = {
  words: ['validate-config'],
  summary: 'check a config file against the schema and name every bad key (exit 78 when invalid)',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, { config: { type: 'string', short: 'c' }, json: { type: 'boolean' } }, USAGE);
    const path = values.config ?? positionals[0] ?? io.env.FACEGATE_CONFIG;
    if (!path) throw new UsageError('no config file given', USAGE);
    const config = loadValidConfig(path);
    const summary = {
      config: path,
      valid: true,
      cameras: config.cameras.map((c) => c.name),
      mqtt: config.mqtt.enabled,
      metrics: config.metrics.enabled ? `127.0.0.1:${config.metrics.port}` : null,
    };
    io.stdout(values.json ? JSON.stringify(summary) + '\n' : `${path}: valid (${summary.cameras.length} camera(s): ${summary.cameras.join(', ') || 'none'}; mqtt ${summary.mqtt ? 'on' : 'off'})\n`);
    return ExitCode.OK;
  },
};
