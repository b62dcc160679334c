import { userInfo } from 'node:os';
import { ExitCode, FacegateError } from '../../base/errors.js';
import { openDatabase } from '../../store/database.js';
import { AuditLog, recordRelease, type AuditEntry } from '../../service/audit.js';
import { formatLocalIso } from '../../base/zoned-time.js';
import { command, resolveConfig, UsageError, type CliIo } from '../command.js';
import { jsonLine, printable } from '../terminal-text.js';

const USAGE = '[--config FILE] [--gallery FILE] [--json]';
const OPTIONS = { config: { type: 'string', short: 'c' }, gallery: { type: 'string' }, json: { type: 'boolean' } } as const;

function onAuditLog<T>(values: { config?: string; gallery?: string; json?: boolean }, io: CliIo, fn: (audit: AuditLog, json: boolean, timeZone: string) => T): T {
  // A state file named alone has no config beside it: its times are then written in UTC (+00:00).
  const config = values.gallery === undefined || values.config !== undefined ? resolveConfig(values.config, io) : undefined;
  const db = openDatabase(values.gallery ?? config!.gallery.path, { mustExist: true });
  try {
    return fn(new AuditLog(db), values.json === true, config?.attendance.time_zone ?? 'UTC');
  } finally {
    db.close();
  }
}

export const auditVerifyCommand = command({
  words: ['audit', 'verify'],
  summary: 'check the audit chain: an edited, deleted or cut-off entry is reported (exit 1)',
  usage: USAGE,
  options: OPTIONS,
  async run({ values }, io) {
    return onAuditLog(values, io, (audit, json) => {
      const v = audit.verify();
      if (json) io.stdout(jsonLine(v));
      else if (v.ok) io.stdout(`audit chain intact: ${v.entries} entr${v.entries === 1 ? 'y' : 'ies'} (${v.fromSeq}..${v.toSeq})\n`);
      if (v.ok) return ExitCode.OK;
      if (!json) for (const p of v.problems) io.stderr(`audit: ${p.kind}: ${printable(p.message)}\n`);
      throw new FacegateError('FG_ERR_AUDIT_TAMPERED', `the audit chain is broken in ${v.problems.length} place(s)`, 'restore the state file from a backup and find out who had write access to it');
    });
  },
});

const LIST_USAGE = `${USAGE} [--limit N]`;

export const auditListCommand = command({
  words: ['audit', 'list'],
  summary: 'the newest audit entries: who did what, with which role, and the outcome',
  usage: LIST_USAGE,
  options: { ...OPTIONS, limit: { type: 'string' } },
  async run({ values }, io) {
    const limit = Number(values.limit ?? 20);
    return onAuditLog(values, io, (audit, json, timeZone) => {
      for (const e of audit.recent(Number.isInteger(limit) && limit > 0 ? limit : 20)) io.stdout(json ? jsonLine(e) : describe(e, timeZone));
      return ExitCode.OK;
    });
  },
});

/** One entry a line; its actor (a token's subject, an account's name) and target are the state file's text. */
function describe(e: AuditEntry, timeZone: string): string {
  return `${printable(`${String(e.seq).padStart(5)}  ${formatLocalIso(e.atMs, timeZone)}  ${e.role.padEnd(8)} ${e.actor.padEnd(16)} ${e.action}${e.target ? ` ${e.target}` : ''}  ${e.outcome}`)}\n`;
}

const RELEASE_USAGE = '--event upgrade|rollback --release ID --from ID [--reason TEXT] [--config FILE] [--gallery FILE]';
/** A release id as scripts/release.sh makes them (VERSION-BUILD), or `none` before the first. */
const RELEASE_ID = /^[0-9A-Za-z][0-9A-Za-z.+-]{0,63}$/;

/**
 * install.sh's record of a release change in the daemon's audit log: an upgrade that reached READY,
 * or a rollback (the new release did not, and the previous one runs again). A rollback is written
 * by the restored release's CLI, so the entry lands in a state file that release can read.
 */
export const auditReleaseCommand = command({
  words: ['audit', 'release'],
  summary: "record a release upgrade or rollback in the audit log (install.sh's entry; admin role)",
  usage: RELEASE_USAGE,
  options: { ...OPTIONS, event: { type: 'string' }, release: { type: 'string' }, from: { type: 'string' }, reason: { type: 'string' } },
  async run({ values }, io) {
    const event = values.event;
    if (event !== 'upgrade' && event !== 'rollback') throw new UsageError(`--event must be upgrade or rollback, not ${JSON.stringify(event ?? '')}`, RELEASE_USAGE);
    for (const [name, id] of [['--release', values.release], ['--from', values.from]] as const) {
      if (!id || !RELEASE_ID.test(id)) throw new UsageError(`${name} must be a release id (letters, digits, . + -; at most 64), not ${JSON.stringify(id ?? '')}`, RELEASE_USAGE);
    }
    const known: 'upgrade' | 'rollback' = event;
    return onAuditLog(values, io, (audit, json, timeZone) => {
      const change = { event: known, release: values.release!, from: values.from!, ...(values.reason ? { reason: values.reason } : {}) };
      const entry = recordRelease(audit, change, { actor: `installer:${userInfo().username}`, role: 'admin' });
      io.stdout(json ? jsonLine(entry) : describe(entry, timeZone));
      return ExitCode.OK;
    });
  },
});
