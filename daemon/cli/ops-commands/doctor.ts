import { ExitCode } from '../../base/errors.js';
import { createLogger } from '../../base/log.js';
import { runDoctor, type CheckResult } from '../../system/doctor.js';
import { loadValidConfig } from '../../config/validate.js';
import { defaultConfig } from '../../config/load.js';
import type { StatusReport } from '../../service/status.js';
import { callDaemon } from '../../control/client.js';
import { command, configSource, loadFromSource } from '../command.js';

const MARK: Record<CheckResult['status'], string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL' };

export const doctorCommand = command({
  words: ['doctor'],
  summary: 'check ffmpeg, models, keys, gallery, broker, every camera, free disk and clock; print the fix for each failure',
  usage: '[--config FILE] [--json]',
  options: { config: { type: 'string', short: 'c' }, json: { type: 'boolean' } },
  async run({ values }, io) {
    const source = configSource(values.config, io.env);
    const config = source ? loadFromSource(source, loadValidConfig) : defaultConfig();
    // A door's pairing and its people's parallax are the running daemon's to say; none running is no failure.
    const daemonDoors = async () => ((await callDaemon({ dir: config.control.socket_dir }, 'status', 'viewer')) as StatusReport).doors;
    const results = await runDoctor({ config, env: io.env, logger: createLogger({ level: 'silent' }), daemonDoors });
    for (const r of results) {
      if (values.json) io.stdout(JSON.stringify(r) + '\n');
      else io.stdout(`${MARK[r.status]}  ${r.check.padEnd(18)} ${r.detail}\n${r.fix && r.status !== 'ok' ? `      ${''.padEnd(18)} fix: ${r.fix}\n` : ''}`);
    }
    const failed = results.filter((r) => r.status === 'fail').length;
    if (!values.json) io.stdout(failed ? `${failed} check(s) failed\n` : 'all checks passed\n');
    return failed ? ExitCode.FAILED : ExitCode.OK;
  },
});
