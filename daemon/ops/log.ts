import { pino, type Logger, type LevelWithSilent, type DestinationStream } from 'pino';

export type { Logger };

/**
 * Fields that must never reach a log line, whatever stage logs them: key material, embeddings,
 * passwords, and camera URLs (which carry credentials; log `redactUrl(url)` instead).
 */
const REDACT_PATHS = [
  'key',
  '*.key',
  'password',
  '*.password',
  'passphrase',
  '*.passphrase',
  'token',
  '*.token',
  'embedding',
  '*.embedding',
  'url',
  '*.url',
];

export interface LogOptions {
  level?: LevelWithSilent;
  /** Where lines go; defaults to stderr so that CLI output on stdout stays machine-readable. */
  destination?: DestinationStream;
}

/** One structured JSON line per event; stages add `{stage, camera, track}` with `logger.child(...)`. */
export function createLogger(options: LogOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'facegate' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ fd: 2, sync: true }),
  );
}

/** `rtsp://user:pass@host/path` → `rtsp://***@host/path`, for logs and CLI output. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, '$1***@');
}
