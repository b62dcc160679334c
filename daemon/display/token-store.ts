import { createHash, randomBytes } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import type { ShownPerson } from './config.js';

/** A display token as the state file keeps it: never the token, only what it is for. */
export interface DisplayToken {
  id: string;
  /** The door, or the camera in no door, whose feed it opens. */
  target: string;
  show: ShownPerson;
  label: string;
  createdMs: number;
  /** Who made it, as the audit log names them. */
  createdBy: string;
}

interface Row {
  id: string;
  target: string;
  show: ShownPerson;
  label: string;
  created_ms: number;
  created_by: string;
}

/** `fgd_` and 256 random bits: the prefix lets a secret scanner (and a person) tell what a leaked string is. */
export const DISPLAY_TOKEN_PATTERN = /^fgd_[A-Za-z0-9_-]{43}$/;

const toToken = (r: Row): DisplayToken => ({ id: r.id, target: r.target, show: r.show, label: r.label, createdMs: r.created_ms, createdBy: r.created_by });
const sha256 = (token: string) => createHash('sha256').update(token).digest('hex');

/** A new display token: the secret, shown once, and the hash that is kept. */
export function newDisplayToken(): { token: string; hash: string } {
  const token = `fgd_${randomBytes(32).toString('base64url')}`;
  return { token, hash: sha256(token) };
}

/** The display tokens' rows: the one module that reads or writes them. */
export class DisplayTokenStore {
  constructor(private readonly db: Database) {}

  insert(t: DisplayToken, hash: string): void {
    this.db
      .prepare('INSERT INTO display_tokens (id, token_hash, target, show, label, created_ms, created_by) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(t.id, hash, t.target, t.show, t.label, t.createdMs, t.createdBy);
  }

  list(): DisplayToken[] {
    return (this.db.prepare('SELECT id, target, show, label, created_ms, created_by FROM display_tokens ORDER BY target, created_ms').all() as Row[]).map(toToken);
  }

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM display_tokens').get() as { n: number }).n;
  }

  byId(id: string): DisplayToken | undefined {
    const row = this.db.prepare('SELECT id, target, show, label, created_ms, created_by FROM display_tokens WHERE id = ?').get(id) as Row | undefined;
    return row ? toToken(row) : undefined;
  }

  /** The token's row, if `token` is one that was made and not revoked. Looked up by its hash, so the lookup's time says nothing of the secret. */
  byToken(token: string): DisplayToken | undefined {
    if (!DISPLAY_TOKEN_PATTERN.test(token)) return undefined;
    const row = this.db.prepare('SELECT id, target, show, label, created_ms, created_by FROM display_tokens WHERE token_hash = ?').get(sha256(token)) as Row | undefined;
    return row ? toToken(row) : undefined;
  }

  /** Which of `ids` still exist: the open feeds of the others are closed. */
  existing(ids: readonly string[]): Set<string> {
    if (ids.length === 0) return new Set();
    const rows = this.db.prepare(`SELECT id FROM display_tokens WHERE id IN (${ids.map(() => '?').join(',')})`).all(...ids) as { id: string }[];
    return new Set(rows.map((r) => r.id));
  }

  delete(id: string): boolean {
    return this.db.prepare('DELETE FROM display_tokens WHERE id = ?').run(id).changes > 0;
  }
}
