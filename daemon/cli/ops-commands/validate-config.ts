import { ExitCode } from '../../base/errors.js';
import { hostPort } from '../../config/ops-sections.js';
import { configWarnings, loadValidConfig } from '../../config/validate.js';
import { command, configSource, INSTALLED_CONFIG, loadFromSource, UsageError } from '../command.js';

const USAGE = '--config FILE [--json]';

export const validateConfigCommand = command({
  words: ['validate-config'],
  summary: 'check a config file against the schema and name every bad key (exit 78 when invalid) and each warning (still exit 0)',
  usage: USAGE,
  options: { config: { type: 'string', short: 'c' }, json: { type: 'boolean' } },
  // The config's path may also come as the argument.
  args: [0, 1],
  async run({ values, positionals }, io) {
    const source = configSource(values.config ?? positionals[0], io.env);
    if (!source) throw new UsageError(`no config file given, and none installed at ${INSTALLED_CONFIG}`, USAGE);
    const path = source.path;
    const config = loadFromSource(source, loadValidConfig);
    // A warning is a config that runs but misses its purpose: named with its fix, yet still exit 0,
    // so that scripts which gate on validity do not stop a site that works.
    const warnings = configWarnings(config);
    const summary = {
      config: path,
      valid: true,
      cameras: config.cameras.map((c) => c.name),
      mqtt: config.mqtt.enabled,
      metrics: config.metrics.enabled ? hostPort(config.metrics.host, config.metrics.port) : null,
      warnings,
    };
    if (values.json) {
      io.stdout(JSON.stringify(summary) + '\n');
      return ExitCode.OK;
    }
    const counted = warnings.length ? `, ${warnings.length} warning(s)` : '';
    io.stdout(`${path}: valid (${summary.cameras.length} camera(s): ${summary.cameras.join(', ') || 'none'}; mqtt ${summary.mqtt ? 'on' : 'off'})${counted}\n`);
    for (const w of warnings) io.stderr(`warning ${w.code}: ${w.path}: ${w.message} — ${w.hint}\n`);
    return ExitCode.OK;
  },
});
