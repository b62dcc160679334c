// What the daemon keeps of remote commands: used token ids, the command audit, the requests still
// running, and the outcome counts. In the service layer, below the remote entry point, because
// retention purges the command audit as it purges every other store's old rows.
import type { Database, Statement } from 'better-sqlite3';

/**
 * Token ids already used, kept in the state file until their token expires, so a captured request
 * cannot be replayed, not even across a restart. Bounded by the token lifetime limit.
 */
export class ReplayCache {
  private readonly purge: Statement<[number]>;
  private readonly insert: Statement<[string, number]>;

  constructor(db: Database) {
    this.purge = db.prepare('DELETE FROM command_replay WHERE exp_ms < ?');
    this.insert = db.prepare('INSERT OR IGNORE INTO command_replay (jti, exp_ms) VALUES (?, ?)');
  }

  /** True the first time a jti is seen (and remembers it); false for a replay. */
  claim(jti: string, expMs: number, nowMs: number, skewMs: number): boolean {
    this.purge.run(nowMs - skewMs);
    return this.insert.run(jti, expMs + skewMs).changes === 1;
  }
}

export interface AuditEntry {
  atMs: number;
  command: string;
  outcome: 'ok' | 'failed' | 'refused';
  reason?: string;
  jti?: string;
  subject?: string;
  transaction?: string;
}

/** Every remote command, run or refused, in the state file (and the log). */
export class CommandAudit {
  private readonly insert: Statement;
  constructor(private readonly db: Database) {
    this.insert = db.prepare('INSERT INTO command_audit (at_ms, command, outcome, reason, jti, subject, transaction_id) VALUES (?, ?, ?, ?, ?, ?, ?)');
  }

  /** Retention: rows written before `beforeMs` (plain rows, no chain to keep). */
  purge(beforeMs: number): number {
    return this.db.prepare('DELETE FROM command_audit WHERE at_ms < ?').run(beforeMs).changes;
  }

  record(e: AuditEntry): void {
    this.insert.run(e.atMs, e.command, e.outcome, e.reason ?? null, e.jti ?? null, e.subject ?? null, e.transaction ?? null);
  }

  recent(limit = 100): AuditEntry[] {
    return (this.db.prepare('SELECT * FROM command_audit ORDER BY id DESC LIMIT ?').all(limit) as Record<string, string | number | null>[]).map((r) => ({
      atMs: r.at_ms as number,
      command: r.command as string,
      outcome: r.outcome as AuditEntry['outcome'],
      ...(r.reason !== null ? { reason: r.reason as string } : {}),
      ...(r.jti !== null ? { jti: r.jti as string } : {}),
      ...(r.subject !== null ? { subject: r.subject as string } : {}),
      ...(r.transaction_id !== null ? { transaction: r.transaction_id as string } : {}),
    }));
  }
}

/** A command taken from the broker and not yet answered (see command_pending). */
export interface PendingCommand {
  jti: string;
  command: string;
  atMs: number;
  subject?: string;
  transaction?: string | undefined;
}

/**
 * Commands taken and not yet answered, in the state file: each is written before the broker gets
 * its acknowledgement and deleted in the transaction that writes its answer, so what is left at a
 * start was cut off by a crash and must be answered then.
 */
export class PendingCommands {
  private readonly insert: Statement;
  private readonly remove: Statement<[string]>;
  private readonly list: Statement<[]>;

  constructor(db: Database) {
    this.insert = db.prepare('INSERT INTO command_pending (jti, command, at_ms, subject, transaction_id) VALUES (?, ?, ?, ?, ?)');
    this.remove = db.prepare('DELETE FROM command_pending WHERE jti = ?');
    this.list = db.prepare('SELECT * FROM command_pending ORDER BY at_ms, jti');
  }

  add(p: PendingCommand): void {
    this.insert.run(p.jti, p.command, p.atMs, p.subject ?? null, p.transaction ?? null);
  }

  done(jti: string): void {
    this.remove.run(jti);
  }

  all(): PendingCommand[] {
    return (this.list.all() as Record<string, string | number | null>[]).map((r) => ({
      jti: r.jti as string,
      command: r.command as string,
      atMs: r.at_ms as number,
      ...(r.subject !== null ? { subject: r.subject as string } : {}),
      ...(r.transaction_id !== null ? { transaction: r.transaction_id as string } : {}),
    }));
  }
}

/** What became of remote command requests since start: the router counts them, the metrics read them. */
export interface CommandCounts {
  ok: number;
  failed: number;
  /** Signed by the central key but not run: expired, replayed, wrong command, bad data ... */
  refused: number;
  /** Not signed by the central key (forged, malformed, not JSON): someone else on the broker. */
  unauthenticated: number;
  /** Delivered with the retain flag: never run. */
  retained: number;
  /** Sent again by the broker (DUP flag) after this device had taken it: neither run nor answered again. */
  duplicate: number;
}
