import type { FacegateError } from '../base/errors.js';

/**
 * Text that reaches a terminal from somewhere else: a person's name, group, external id or photo
 * source read from the gallery, an audit entry's actor and target, a token's subject, what the
 * daemon answers. Rows written under older rules, or straight into the SQLite file, and tokens
 * signed elsewhere can hold escape sequences: ESC [ 2 J clears an operator's screen, an OSC sequence
 * retitles the window or writes to the clipboard, CR and LF forge lines of output, and U+202E shows
 * text reversed. Every CLI printer of such text passes it through `printable`.
 */

/** C0 and C1 controls (ESC, CR, LF, DEL, CSI...), lone surrogates, line and paragraph separators, bidirectional marks and overrides. */
const UNPRINTABLE = /[\p{Cc}\p{Cs}\p{Zl}\p{Zp}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/gu;

/**
 * `text` with every control and bidirectional character written as its escape, `\uXXXX`, and
 * everything else as it is. The escape is JSON's own, so a JSON line passes through unchanged in
 * meaning (jsonLine).
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * One line of `--json` output. JSON.stringify escapes C0 controls but leaves DEL, C1 controls and
 * bidirectional overrides raw, which a terminal showing the line obeys; they leave as escapes too.
 */
export function jsonLine(value: unknown): string {
  return `${printable(JSON.stringify(value))}\n`;
}

/**
 * An error as the CLI prints it: its line (FacegateError.toLine), each line escaped. A message
 * names what it is about (a person's name, a file, what the daemon answered); a config error alone
 * lists its keys one a line.
 */
export function errorText(e: FacegateError): string {
  return e.toLine().split('\n').map(printable).join('\n');
}
