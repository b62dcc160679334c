import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import { FacegateError } from '../base/errors.js';
import { uuidv7Generator } from '../base/uuidv7.js';
import type { AuditLog, Role } from '../service/audit.js';
import { checkNewPassword, type PasswordHasher } from './passwords.js';

export const ROLES: readonly Role[] = ['viewer', 'operator', 'admin'];
export const USER_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export interface WebUser {
  /** The account's identity (UUIDv7), never reused: a later account with the same name is another account. */
  id: string;
  name: string;
  role: Role;
  /** Bumped by a password or role change: access tokens carry it, so older ones stop working at once. */
  tokenVersion: number;
  lockedUntilMs: number;
  createdMs: number;
}

interface Row {
  id: string;
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

/** A refused login says nothing of why (wrong password, no such account, locked): only the audit log does. */
export type LoginResult = { ok: true; user: WebUser } | { ok: false };

/** A refresh token and the login (family) it belongs to; access tokens made from it carry the family as their session. */
export interface RefreshToken {
  token: string;
  family: string;
}

const toUser = (r: Row): WebUser => ({ id: r.id, name: r.name, role: r.role, tokenVersion: r.token_version, lockedUntilMs: r.locked_until_ms, createdMs: r.created_ms });
const sha256 = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * The console's accounts in the state file: add, change password, remove, list, log in (with
 * lockout), and the rotating refresh tokens. Every change, login, failure and lockout is audited;
 * no password or token ever goes into the audit log, only names.
 */
export class UserStore {
  private readonly newId = uuidv7Generator();

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
    const row: Row = { id: this.newId(), name, role: role ?? 'viewer', password_hash: hash, token_version: 1, failures: 0, locked_until_ms: 0, created_ms: this.now() };
    this.db
      .transaction(() => {
        refuseFirst();
        if (isFirst()) row.role = 'admin';
        if (this.row(name)) throw new FacegateError('FG_ERR_WEB_USER_EXISTS', `an account named ${name} already exists`, `change its password with 'facegate user passwd ${name}', or choose another name`);
        this.db.prepare('INSERT INTO web_users (id, name, role, password_hash, token_version, failures, locked_until_ms, created_ms) VALUES (@id, @name, @role, @password_hash, @token_version, @failures, @locked_until_ms, @created_ms)').run(row);
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
        const user = this.mustFind(name);
        this.db.prepare('UPDATE web_users SET password_hash = ?, token_version = token_version + 1, failures = 0, locked_until_ms = 0 WHERE id = ?').run(hash, user.id);
        this.db.prepare('DELETE FROM web_refresh_tokens WHERE user_id = ?').run(user.id);
        this.audit.append({ ...by, action: 'user.passwd', target: name, outcome: 'ok' });
      })
      .immediate();
  }

  /**
   * A new role: the account's access tokens end at once (a demotion must not wait for their expiry);
   * its logins go on, and their next refresh carries the new role. Never the last admin's.
   */
  setRole(name: string, role: Role, by: UserActor): WebUser {
    return this.db
      .transaction(() => {
        const user = this.mustFind(name);
        if (user.role === role) return user;
        if (user.role === 'admin') this.refuseLastAdmin(name, 'give another account the admin role first, then change this one');
        this.db.prepare('UPDATE web_users SET role = ?, token_version = token_version + 1 WHERE id = ?').run(role, user.id);
        this.audit.append({ ...by, action: 'user.role', target: name, detail: { from: user.role, to: role }, outcome: 'ok' });
        return this.mustFind(name);
      })
      .immediate();
  }

  /** Removes the account; its refresh tokens go with it (foreign key) and its access tokens name an id that no longer exists. */
  remove(name: string, by: UserActor): void {
    this.db
      .transaction(() => {
        const user = this.mustFind(name);
        if (user.role === 'admin') this.refuseLastAdmin(name, 'add another admin first, then remove this one');
        this.db.prepare('DELETE FROM web_users WHERE id = ?').run(user.id);
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

  /** The account as it is now, by name (a removed one is undefined). */
  find(name: string): WebUser | undefined {
    const row = this.row(name);
    return row ? toUser(row) : undefined;
  }

  /** The account as it is now, by id, for every request's access token (a removed one is undefined). */
  byId(id: string): WebUser | undefined {
    const row = this.db.prepare('SELECT * FROM web_users WHERE id = ?').get(id) as Row | undefined;
    return row ? toUser(row) : undefined;
  }

  /** Whether a login (refresh token family) of the account is still on: logout, a reused refresh token or a password change end it. */
  sessionLive(userId: string, family: string): boolean {
    return this.db.prepare('SELECT 1 FROM web_refresh_tokens WHERE family = ? AND user_id = ? LIMIT 1').get(family, userId) !== undefined;
  }

  /**
   * Checks a password. `failures` wrong ones in a row lock the account for `lockMs`; while locked
   * even the right password is refused, so guessing gains nothing. Every attempt costs one hash,
   * whether the name is an account, a locked one or none (against a dummy hash), and each is
   * refused alike, so neither the answer nor its time tells which names exist. The account is read
   * again after the hash: a lock set, a password changed or the account replaced while this attempt
   * waited for the hashing thread refuses it.
   */
  async login(name: string, password: string, rules: LockoutRules, client: string): Promise<LoginResult> {
    const before = USER_NAME.test(name) ? this.row(name) : undefined;
    const good = await this.hasher.verify(before?.password_hash, password);
    const nowMs = this.now();
    const row = before ? this.row(name) : undefined;
    const actor = `web:${row ? name : '?'}`;
    const refuse = (reason: string): LoginResult => {
      this.audit.append({ actor, role: row!.role, action: 'web.login', target: name, detail: { client, reason }, outcome: 'refused' });
      return { ok: false };
    };
    if (row && row.id === before!.id && row.locked_until_ms > nowMs) return refuse('locked');
    if (row && (row.id !== before!.id || row.password_hash !== before!.password_hash)) return refuse('account changed during the check');
    if (row && good) {
      this.db.prepare('UPDATE web_users SET failures = 0, locked_until_ms = 0 WHERE id = ?').run(row.id);
      this.audit.append({ actor, role: row.role, action: 'web.login', target: name, detail: { client }, outcome: 'ok' });
      return { ok: true, user: toUser(row) };
    }
    // An unknown name is audited without itself: it may be a password typed into the wrong field.
    this.audit.append({ actor, role: row?.role ?? 'viewer', action: 'web.login', target: row ? name : null, detail: { client, reason: row ? 'wrong password' : 'no such account' }, outcome: 'failed' });
    if (!row) return { ok: false };
    // Counted in SQL: other logins of the account may have failed while this one was being checked.
    const failures = (this.db.prepare('UPDATE web_users SET failures = failures + 1 WHERE id = ? RETURNING failures').get(row.id) as { failures: number } | undefined)?.failures ?? 0;
    if (failures >= rules.failures) {
      this.db.prepare('UPDATE web_users SET failures = 0, locked_until_ms = ? WHERE id = ?').run(nowMs + rules.lockMs, row.id);
      this.audit.append({ actor, role: row.role, action: 'web.lockout', target: name, detail: { client, failures, lock_s: Math.round(rules.lockMs / 1000) }, outcome: 'refused' });
    }
    return { ok: false };
  }

  /** A new refresh token for a login (a new family) or a rotation (the same family); expired ones go. */
  issueRefresh(userId: string, ttlMs: number, family: string = randomUUID()): RefreshToken {
    const token = randomBytes(32).toString('base64url');
    this.db.prepare('DELETE FROM web_refresh_tokens WHERE expires_ms <= ?').run(this.now());
    this.db.prepare('INSERT INTO web_refresh_tokens (token_hash, user_id, family, expires_ms) VALUES (?, ?, ?, ?)').run(sha256(token), userId, family, this.now() + ttlMs);
    return { token, family };
  }

  /**
   * Spends a refresh token and gives the next one of its family. A token used a second time means
   * it was copied: the whole family (that login) is revoked and audited.
   */
  rotateRefresh(token: string, ttlMs: number): { user: WebUser; refresh: RefreshToken } | undefined {
    return this.db
      .transaction(() => {
        const t = this.db.prepare('SELECT user_id, family, expires_ms, used FROM web_refresh_tokens WHERE token_hash = ?').get(sha256(token)) as { user_id: string; family: string; expires_ms: number; used: number } | undefined;
        if (!t) return undefined;
        const row = this.byId(t.user_id);
        if (!row) return undefined;
        if (t.used) {
          this.db.prepare('DELETE FROM web_refresh_tokens WHERE family = ?').run(t.family);
          this.audit.append({ actor: `web:${row.name}`, role: row.role, action: 'web.refresh_reused', target: row.name, detail: { family: t.family }, outcome: 'refused' });
          return undefined;
        }
        if (t.expires_ms <= this.now()) return undefined;
        this.db.prepare('UPDATE web_refresh_tokens SET used = 1 WHERE token_hash = ?').run(sha256(token));
        return { user: row, refresh: this.issueRefresh(row.id, ttlMs, t.family) };
      })
      .immediate();
  }

  /**
   * Logout: the login the token belongs to ends, its access tokens with it, audited in the same
   * transaction. Returns the account, if the token was one.
   */
  revokeFamilyOf(token: string): WebUser | undefined {
    return this.db
      .transaction(() => {
        const t = this.db.prepare('SELECT user_id, family FROM web_refresh_tokens WHERE token_hash = ?').get(sha256(token)) as { user_id: string; family: string } | undefined;
        if (!t) return undefined;
        this.db.prepare('DELETE FROM web_refresh_tokens WHERE family = ?').run(t.family);
        const user = this.byId(t.user_id);
        if (user) this.audit.append({ actor: `web:${user.name}`, role: user.role, action: 'web.logout', target: user.name, outcome: 'ok' });
        return user;
      })
      .immediate();
  }

  private row(name: string): Row | undefined {
    return this.db.prepare('SELECT * FROM web_users WHERE name = ?').get(name) as Row | undefined;
  }

  private refuseLastAdmin(name: string, hint: string): void {
    if ((this.db.prepare("SELECT COUNT(*) AS n FROM web_users WHERE role = 'admin'").get() as { n: number }).n === 1) {
      throw new FacegateError('FG_ERR_WEB_LAST_ADMIN', `${name} is the last admin account`, hint);
    }
  }

  private mustFind(name: string): WebUser {
    const row = this.row(name);
    if (!row) throw new FacegateError('FG_ERR_WEB_USER_NOT_FOUND', `no account named ${name}`, "see 'facegate user list'");
    return toUser(row);
  }
}

function checkName(name: string): void {
  if (!USER_NAME.test(name)) throw new FacegateError('FG_ERR_WEB_USER_NAME', `${JSON.stringify(name.slice(0, 80))} is not an account name`, 'use 1 to 64 lower-case letters, digits, dots, dashes or underscores, starting with a letter or digit');
}
