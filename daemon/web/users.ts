import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import { FacegateError } from '../base/errors.js';
import type { AuditLog, Role } from '../ops/audit.js';
import { checkNewPassword, type PasswordHasher } from './passwords.js';

export const ROLES: readonly Role[] = ['viewer', 'operator', 'admin'];
export const USER_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export interface WebUser {
  name: string;
  role: Role;
  /** Bumped by a password change: access tokens carry it, so older ones stop working at once. */
  tokenVersion: number;
  lockedUntilMs: number;
  createdMs: number;
}

interface Row {
  name: string;
  role: Role;
  password_hash: string;
  token_version: number;
  failures: number;
  locked_until_ms: number;
  created_ms: number;
}

export interface LockoutRules {
  failures: number;
  lockMs: number;
}

/** Who is acting, for the audit log: 'cli:<unix user>' or 'web:<name>'. */
export interface UserActor {
  actor: string;
  role: Role;
}

export type LoginResult = { ok: true; user: WebUser } | { ok: false; locked: boolean; retryAfterS?: number };

const toUser = (r: Row): WebUser => ({ name: r.name, role: r.role, tokenVersion: r.token_version, lockedUntilMs: r.locked_until_ms, createdMs: r.created_ms });
const sha256 = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * The console's accounts in the state file: add, change password, remove, list, log in (with
 * lockout), and the rotating refresh tokens. Every change, login, failure and lockout is audited;
 * no password or token ever goes into the audit log, only names.
 */
export class UserStore {
  constructor(
    private readonly db: Database,
    private readonly hasher: PasswordHasher,
    private readonly audit: AuditLog,
    private readonly now: () => number = Date.now,
  ) {}

  /** The first account is an admin whatever role is asked for (someone must be able to manage the rest). */
  async add(name: string, password: string, role: Role | undefined, by: UserActor): Promise<WebUser> {
    checkName(name);
    checkNewPassword(password);
    const isFirst = () => (this.db.prepare('SELECT COUNT(*) AS n FROM web_users').get() as { n: number }).n === 0;
    const refuseFirst = () => {
      if (isFirst() && role !== undefined && role !== 'admin') {
        throw new FacegateError('FG_ERR_WEB_FIRST_USER_ADMIN', `the first account must be an admin, not ${role}`, 'add it without --role (or with --role admin), then add the others');
      }
    };
    refuseFirst();
    const hash = await this.hasher.hash(password);
    const row: Row = { name, role: role ?? 'viewer', password_hash: hash, token_version: 1, failures: 0, locked_until_ms: 0, created_ms: this.now() };
    this.db
      .transaction(() => {
        refuseFirst();
        if (isFirst()) row.role = 'admin';
        if (this.row(name)) throw new FacegateError('FG_ERR_WEB_USER_EXISTS', `an account named ${name} already exists`, `change its password with 'facegate user passwd ${name}', or choose another name`);
        this.db.prepare('INSERT INTO web_users (name, role, password_hash, token_version, failures, locked_until_ms, created_ms) VALUES (@name, @role, @password_hash, @token_version, @failures, @locked_until_ms, @created_ms)').run(row);
        this.audit.append({ ...by, action: 'user.add', target: name, detail: { role: row.role }, outcome: 'ok' });
      })
      .immediate();
    return toUser(row);
  }

  /** A new password: every session of the account ends (refresh tokens revoked, access tokens outdated) and a lock is lifted. */
  async passwd(name: string, password: string, by: UserActor): Promise<void> {
    checkNewPassword(password);
    this.mustFind(name);
    const hash = await this.hasher.hash(password);
    this.db
      .transaction(() => {
        this.mustFind(name);
        this.db.prepare('UPDATE web_users SET password_hash = ?, token_version = token_version + 1, failures = 0, locked_until_ms = 0 WHERE name = ?').run(hash, name);
        this.db.prepare('DELETE FROM web_refresh_tokens WHERE user_name = ?').run(name);
        this.audit.append({ ...by, action: 'user.passwd', target: name, outcome: 'ok' });
      })
      .immediate();
  }

  remove(name: string, by: UserActor): void {
    this.db
      .transaction(() => {
        const user = this.mustFind(name);
        if (user.role === 'admin' && (this.db.prepare("SELECT COUNT(*) AS n FROM web_users WHERE role = 'admin'").get() as { n: number }).n === 1) {
          throw new FacegateError('FG_ERR_WEB_LAST_ADMIN', `${name} is the last admin account`, 'add another admin first, then remove this one');
        }
        this.db.prepare('DELETE FROM web_users WHERE name = ?').run(name);
        this.audit.append({ ...by, action: 'user.remove', target: name, outcome: 'ok' });
      })
      .immediate();
  }

  /** Ends the hashing thread. */
  close(): Promise<void> {
    return this.hasher.close();
  }

  list(): WebUser[] {
    return (this.db.prepare('SELECT * FROM web_users ORDER BY name').all() as Row[]).map(toUser);
  }

  /** The account as it is now (a removed one is undefined), for every request's access token. */
  find(name: string): WebUser | undefined {
    const r = this.row(name);
    return r ? toUser(r) : undefined;
  }

  /**
   * Checks a password. `failures` wrong ones in a row lock the account for `lockMs`; while locked
   * even the right password is refused (and not checked), so guessing gains nothing.
   */
  async login(name: string, password: string, rules: LockoutRules, client: string): Promise<LoginResult> {
    const nowMs = this.now();
    const row = USER_NAME.test(name) ? this.row(name) : undefined;
    const actor = `web:${row ? name : '?'}`;
    if (row && row.locked_until_ms > nowMs) {
      this.audit.append({ actor, role: row.role, action: 'web.login', target: name, detail: { client, reason: 'locked' }, outcome: 'refused' });
      return { ok: false, locked: true, retryAfterS: Math.ceil((row.locked_until_ms - nowMs) / 1000) };
    }
    const good = await this.hasher.verify(row?.password_hash, password);
    if (row && good) {
      this.db.prepare('UPDATE web_users SET failures = 0, locked_until_ms = 0 WHERE name = ?').run(name);
      this.audit.append({ actor, role: row.role, action: 'web.login', target: name, detail: { client }, outcome: 'ok' });
      return { ok: true, user: toUser(row) };
    }
    // An unknown name is audited without itself: it may be a password typed into the wrong field.
    this.audit.append({ actor, role: row?.role ?? 'viewer', action: 'web.login', target: row ? name : null, detail: { client, reason: row ? 'wrong password' : 'no such account' }, outcome: 'failed' });
    if (!row) return { ok: false, locked: false };
    // Counted in SQL: other logins of the account may have failed while this one was being checked.
    const failures = (this.db.prepare('UPDATE web_users SET failures = failures + 1 WHERE name = ? RETURNING failures').get(name) as { failures: number } | undefined)?.failures ?? 0;
    if (failures >= rules.failures) {
      this.db.prepare('UPDATE web_users SET failures = 0, locked_until_ms = ? WHERE name = ?').run(nowMs + rules.lockMs, name);
      this.audit.append({ actor, role: row.role, action: 'web.lockout', target: name, detail: { client, failures, lock_s: Math.round(rules.lockMs / 1000) }, outcome: 'refused' });
      return { ok: false, locked: true, retryAfterS: Math.ceil(rules.lockMs / 1000) };
    }
    return { ok: false, locked: false };
  }

  /** A new refresh token for a login (a new family) or a rotation (the same family); expired ones go. */
  issueRefresh(name: string, ttlMs: number, family: string = randomUUID()): string {
    const token = randomBytes(32).toString('base64url');
    this.db.prepare('DELETE FROM web_refresh_tokens WHERE expires_ms <= ?').run(this.now());
    this.db.prepare('INSERT INTO web_refresh_tokens (token_hash, user_name, family, expires_ms) VALUES (?, ?, ?, ?)').run(sha256(token), name, family, this.now() + ttlMs);
    return token;
  }

  /**
   * Spends a refresh token and gives the next one of its family. A token used a second time means
   * it was copied: the whole family (that login) is revoked and audited.
   */
  rotateRefresh(token: string, ttlMs: number): { user: WebUser; token: string } | undefined {
    return this.db
      .transaction(() => {
        const t = this.db.prepare('SELECT user_name, family, expires_ms, used FROM web_refresh_tokens WHERE token_hash = ?').get(sha256(token)) as { user_name: string; family: string; expires_ms: number; used: number } | undefined;
        if (!t) return undefined;
        const row = this.row(t.user_name);
        if (!row) return undefined;
        if (t.used) {
          this.db.prepare('DELETE FROM web_refresh_tokens WHERE family = ?').run(t.family);
          this.audit.append({ actor: `web:${row.name}`, role: row.role, action: 'web.refresh_reused', target: row.name, detail: { family: t.family }, outcome: 'refused' });
          return undefined;
        }
        if (t.expires_ms <= this.now()) return undefined;
        this.db.prepare('UPDATE web_refresh_tokens SET used = 1 WHERE token_hash = ?').run(sha256(token));
        return { user: toUser(row), token: this.issueRefresh(row.name, ttlMs, t.family) };
      })
      .immediate();
  }

  /** Logout: the login the token belongs to ends. Returns the account, if the token was one. */
  revokeFamilyOf(token: string): string | undefined {
    const t = this.db.prepare('SELECT user_name, family FROM web_refresh_tokens WHERE token_hash = ?').get(sha256(token)) as { user_name: string; family: string } | undefined;
    if (!t) return undefined;
    this.db.prepare('DELETE FROM web_refresh_tokens WHERE family = ?').run(t.family);
    return t.user_name;
  }

  private row(name: string): Row | undefined {
    return this.db.prepare('SELECT * FROM web_users WHERE name = ?').get(name) as Row | undefined;
  }

  private mustFind(name: string): WebUser {
    const r = this.row(name);
    if (!r) throw new FacegateError('FG_ERR_WEB_USER_NOT_FOUND', `no account named ${name}`, "see 'facegate user list'");
    return toUser(r);
  }
}

function checkName(name: string): void {
  if (!USER_NAME.test(name)) throw new FacegateError('FG_ERR_WEB_USER_NAME', `${JSON.stringify(name.slice(0, 80))} is not an account name`, 'use 1 to 64 lower-case letters, digits, dots, dashes or underscores, starting with a letter or digit');
}
