import { createHash } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import { GENESIS_HASH } from '../store/schema/audit.js';
import { redactSecrets, redactText } from '../base/log.js';
import { isFacegateError } from '../base/errors.js';

export type Role = 'viewer' | 'operator' | 'admin';
export type AuditOutcome = 'ok' | 'failed' | 'refused';

/**
 * Who asked, for the audit log: 'cli:<unix user>', 'socket:<role>' or 'token:<subject>' (control
 * socket), 'mqtt:<jti>' (a remote command's token id), 'web:<account>', 'signal:SIGHUP', 'demo'.
 * Every door names its caller; the service writes the entry.
 */
export interface Actor {
  actor: string;
  role: Role;
}

export interface AuditInput {
  /** Who: 'socket:admin', 'token:<sub>', 'cli:<user>'. */
  actor: string;
  role: Role;
  /** What: 'reload', 'person.erase', 'retention.purge' ... */
  action: string;
  target?: string | null;
  detail?: Record<string, unknown>;
  outcome: AuditOutcome;
}

export interface AuditEntry extends Required<Omit<AuditInput, 'detail'>> {
  seq: number;
  atMs: number;
  detail: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export type AuditProblem =
  | { seq: number; kind: 'edited'; message: string }
  | { seq: number; kind: 'deleted'; message: string }
  | { seq: number; kind: 'truncated'; message: string };

export interface AuditVerdict {
  ok: boolean;
  entries: number;
  fromSeq: number;
  toSeq: number;
  problems: AuditProblem[];
}

interface Row {
  seq: number;
  at_ms: number;
  actor: string;
  role: string;
  action: string;
  target: string | null;
  detail: string;
  outcome: string;
  prev_hash: string;
  hash: string;
}

interface Anchor {
  base_seq: number;
  base_hash: string;
  head_seq: number;
  head_hash: string;
}

/** The hash of one entry: every field, in a fixed order, after the previous entry's hash. */
export function entryHash(prevHash: string, r: Omit<Row, 'prev_hash' | 'hash'>): string {
  const fields = [r.seq, r.at_ms, r.actor, r.role, r.action, r.target, r.detail, r.outcome];
  return createHash('sha256').update(prevHash).update('\n').update(JSON.stringify(fields)).digest('hex');
}

/**
 * The hash-chained audit log in the state file. Appends run in one IMMEDIATE transaction with the
 * anchor update, so two writers (the daemon and a CLI beside it) cannot fork the chain.
 */
export class AuditLog {
  constructor(
    private readonly db: Database,
    private readonly now: () => number = Date.now,
  ) {}

  append(input: AuditInput): AuditEntry {
    return this.db
      .transaction(() => {
        const anchor = this.anchor();
        const row = {
          seq: anchor.head_seq + 1,
          at_ms: this.now(),
          // An entry is kept for years and shown to every admin: a secret in it could never be taken back.
          actor: redactText(input.actor),
          role: input.role,
          action: input.action,
          target: input.target ? redactText(input.target) : (input.target ?? null),
          detail: JSON.stringify(redactSecrets(input.detail ?? {})),
          outcome: input.outcome,
        };
        const hash = entryHash(anchor.head_hash, row);
        this.db
          .prepare('INSERT INTO audit_log (seq, at_ms, actor, role, action, target, detail, outcome, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
          .run(row.seq, row.at_ms, row.actor, row.role, row.action, row.target, row.detail, row.outcome, anchor.head_hash, hash);
        this.db.prepare('UPDATE audit_anchor SET head_seq = ?, head_hash = ? WHERE id = 1').run(row.seq, hash);
        return toEntry({ ...row, prev_hash: anchor.head_hash, hash });
      })
      .immediate();
  }

  /** Newest first. */
  recent(limit = 50): AuditEntry[] {
    return (this.db.prepare('SELECT * FROM audit_log ORDER BY seq DESC LIMIT ?').all(limit) as Row[]).map(toEntry);
  }

  /** Entries of one action since `sinceMs`, oldest first, at most `limit` (the System page's counts of teaching). */
  since(action: string, sinceMs: number, limit = 10_000): AuditEntry[] {
    return (this.db.prepare('SELECT * FROM audit_log WHERE action = ? AND at_ms >= ? ORDER BY seq LIMIT ?').all(action, sinceMs, limit) as Row[]).map(toEntry);
  }

  /** Walks the chain from the anchor's base to its head and reports every break. */
  verify(): AuditVerdict {
    const anchor = this.anchor();
    const problems: AuditProblem[] = [];
    let expectedSeq = anchor.base_seq + 1;
    let prev = anchor.base_hash;
    let entries = 0;
    for (const row of this.db.prepare('SELECT * FROM audit_log WHERE seq > ? ORDER BY seq').iterate(anchor.base_seq) as IterableIterator<Row>) {
      entries++;
      if (row.seq !== expectedSeq) {
        const missing = row.seq - expectedSeq;
        problems.push({ seq: expectedSeq, kind: 'deleted', message: `entr${missing === 1 ? 'y' : 'ies'} ${expectedSeq}${missing > 1 ? `..${row.seq - 1}` : ''} missing` });
      } else if (row.prev_hash !== prev) {
        problems.push({ seq: row.seq, kind: 'deleted', message: `entry ${row.seq} does not follow the entry before it (an entry was removed or replaced)` });
      }
      if (entryHash(row.prev_hash, row) !== row.hash) {
        problems.push({ seq: row.seq, kind: 'edited', message: `entry ${row.seq} (${row.action}) was changed after it was written` });
      }
      prev = row.hash;
      expectedSeq = row.seq + 1;
    }
    const lastSeq = expectedSeq - 1;
    if (lastSeq < anchor.head_seq) {
      problems.push({ seq: lastSeq + 1, kind: 'truncated', message: `entries ${lastSeq + 1}..${anchor.head_seq} missing at the end` });
    } else if (lastSeq === anchor.head_seq && prev !== anchor.head_hash) {
      problems.push({ seq: lastSeq, kind: 'edited', message: `the last entry ${lastSeq} is not the one the anchor recorded` });
    }
    return { ok: problems.length === 0, entries, fromSeq: anchor.base_seq + 1, toSeq: anchor.head_seq, problems };
  }

  /**
   * Retention: deletes entries older than `beforeMs` and moves the anchor's base to the last one
   * deleted, so the rest of the chain still verifies. Returns how many were deleted.
   */
  purge(beforeMs: number): number {
    return this.db
      .transaction(() => {
        const last = this.db.prepare('SELECT seq, hash FROM audit_log WHERE at_ms < ? ORDER BY seq DESC LIMIT 1').get(beforeMs) as { seq: number; hash: string } | undefined;
        if (!last) return 0;
        const n = this.db.prepare('DELETE FROM audit_log WHERE seq <= ?').run(last.seq).changes;
        this.db.prepare('UPDATE audit_anchor SET base_seq = ?, base_hash = ? WHERE id = 1').run(last.seq, last.hash);
        return n;
      })
      .immediate();
  }

  private anchor(): Anchor {
    return (this.db.prepare('SELECT base_seq, base_hash, head_seq, head_hash FROM audit_anchor WHERE id = 1').get() as Anchor | undefined) ?? {
      base_seq: 0,
      base_hash: GENESIS_HASH,
      head_seq: 0,
      head_hash: GENESIS_HASH,
    };
  }
}

/**
 * install.sh's record of a release change: an upgrade that reached READY (outcome 'ok'), or a
 * rollback (the new release did not, and the one before runs again: outcome 'failed'), with the
 * installer as actor.
 */
export function recordRelease(audit: AuditLog, change: { event: 'upgrade' | 'rollback'; release: string; from: string; reason?: string }, by: Actor): AuditEntry {
  const { event, release, from, reason } = change;
  return audit.append({
    ...by,
    action: `release.${event}`,
    target: release,
    detail: { from, to: event === 'upgrade' ? release : from, ...(reason ? { reason: reason.slice(0, 300) } : {}) },
    outcome: event === 'upgrade' ? 'ok' : 'failed',
  });
}

/**
 * Runs a change whose 'ok' entry the change writes in its own transaction; if it fails as a change
 * can (a FacegateError: its input breaks the rules, what it names is not there, the service is busy
 * or stopping), one 'failed' entry with the code is written instead, since the transaction that
 * would have held the 'ok' entry did not commit. Anything else is a bug, which the door's last
 * resort logs. `run` may be synchronous or not; the answer is of the same kind.
 */
export function auditingFailure<T>(audit: Pick<AuditLog, 'append'>, action: string, by: Actor, target: string | null, run: () => T): T {
  const failed = (e: unknown): never => {
    if (isFacegateError(e)) audit.append({ ...by, action, target, detail: { code: e.code }, outcome: 'failed' });
    throw e;
  };
  try {
    const result = run();
    return (result instanceof Promise ? result.catch(failed) : result) as T;
  } catch (e) {
    return failed(e);
  }
}

function toEntry(r: Row): AuditEntry {
  return {
    seq: r.seq,
    atMs: r.at_ms,
    actor: r.actor,
    role: r.role as Role,
    action: r.action,
    target: r.target,
    detail: JSON.parse(r.detail) as Record<string, unknown>,
    outcome: r.outcome as AuditOutcome,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}
