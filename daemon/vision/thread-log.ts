import type { Logger } from '../base/log.js';

/** A worker thread's pino line, written again by `logger` (its level, message and fields; not its time or pid). */
export function relayThreadLog(logger: Logger, line: string): void {
  try {
    const { level, msg, time: _time, pid: _pid, hostname: _hostname, service: _service, ...fields } = JSON.parse(line) as Record<string, unknown>;
    const name = logger.levels.labels[Number(level)] ?? 'info';
    (logger[name as 'info'] as (obj: object, msg?: string) => void).call(logger, fields, typeof msg === 'string' ? msg : undefined);
  } catch {
    logger.warn({ stage: 'vision', line }, 'unreadable log line from a vision thread');
  }
}
