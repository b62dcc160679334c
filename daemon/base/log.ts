import { pino, type Logger, type LevelWithSilent, type DestinationStream } from 'pino';

export type { Logger };

/**
 * Fields that must never reach a log line, whatever stage logs them: key material, embeddings,
 * passwords, and camera URLs (which carry credentials; log `redactText(url)` under another key).
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
  'sub_url',
  '*.sub_url',
];

export interface LogOptions {
  level?: LevelWithSilent;
  /** Where lines go; defaults to stderr so that CLI output on stdout stays machine-readable. */
  destination?: DestinationStream;
}

/**
 * One structured JSON line per event; stages add `{stage, camera, track}` with `logger.child(...)`.
 * Besides the fixed paths above, every field and message goes through `redactSecrets`/`redactText`:
 * an error message that quotes a camera URL (FFmpeg's do) is logged without its password.
 */
export function createLogger(options: LogOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'facegate' },
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { log: (fields) => redactSecrets(fields) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((a) => (typeof a === 'string' ? redactText(a) : a)) as Parameters<typeof method>);
        },
      },
    },
    options.destination ?? pino.destination({ fd: 2, sync: true }),
  );
}

/** What a secret is replaced with wherever it would have been shown. */
export const REDACTED = '[redacted]';

/**
 * The user-information part of every `scheme://` URL in a text: from after `://` to the LAST '@'
 * before the first '/', '?', '#' or white space, which is where FFmpeg and WHATWG URL parsers end
 * it. So a raw '@' or ':' in a password (`rtsp://admin:p@ss:w@host/`) and percent-escapes
 * (`p%40ss`) are all inside what is masked; the user name goes too (`rtsp://***@host/path`).
 */
const URL_USERINFO = /([a-z][a-z0-9+.-]*:\/\/)[^/?#\s]*@/gi;

/** Config and payload keys whose values are secrets or name where one is kept. */
const SECRET_KEY = /pass(word|phrase)?(_env)?$|secret|token|^key$|private|authorization|cookie/i;

/**
 * The one function that takes credentials out of text before it leaves the process: log lines,
 * error messages, config issues, CLI output, MQTT state, control answers, audit entries.
 */
export function redactText(text: string): string {
  return text.includes('://') ? text.replace(URL_USERINFO, '$1***@') : text;
}

/**
 * A copy of `value` fit to show: every string through `redactText`, and the value of every key
 * that names a secret (password, passphrase, token, key, ...) replaced by `[redacted]`. Errors
 * become `{type, message, stack}` (what pino's serializer shows), redacted the same way.
 */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 32) return REDACTED; // deeper than any config or payload: shown as nothing rather than walked
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { type: value.name, message: redactText(value.message), ...(value.stack ? { stack: redactText(value.stack) } : {}), ...(code !== undefined ? { code } : {}) };
  }
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, depth + 1));
  if (ArrayBuffer.isView(value) || value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = isSecretKey(k) && v !== '' && v !== null && v !== undefined ? REDACTED : redactSecrets(v, depth + 1);
  return out;
}

/** Whether a key (or the last part of a dotted config path) holds a secret. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key.slice(key.lastIndexOf('.') + 1));
}
