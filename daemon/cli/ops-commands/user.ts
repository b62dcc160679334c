import { userInfo } from 'node:os';
import { ExitCode, FacegateError } from '../../base/errors.js';
import { AuditLog, type Role } from '../../service/audit.js';
import { openDatabase } from '../../store/database.js';
import { PasswordHasher } from '../../web/passwords.js';
import { ROLES, UserStore, type UserActor } from '../../web/users.js';
import { command, resolveConfig, UsageError, type CliIo } from '../command.js';
import { jsonLine, printable } from '../terminal-text.js';

const OPTIONS = { config: { type: 'string', short: 'c' }, gallery: { type: 'string' } } as const;

/** The accounts live in the state file beside a running daemon (WAL): it reads them on every request. */
async function withUsers<T>(values: { config?: string; gallery?: string }, io: CliIo, fn: (users: UserStore, by: UserActor) => T | Promise<T>): Promise<T> {
  const path = values.gallery ?? resolveConfig(values.config, io).gallery.path;
  const hasher = new PasswordHasher();
  let db;
  try {
    db = openDatabase(path, { mustExist: true });
  } catch (e) {
    if (e instanceof FacegateError && e.code === 'FG_ERR_DB_MISSING') throw new FacegateError(e.code, e.message, "make the state file first: 'facegate keys init', then enrol or start the daemon");
    throw e;
  }
  try {
    return await fn(new UserStore(db, hasher, new AuditLog(db)), { actor: `cli:${userInfo().username}`, role: 'admin' });
  } finally {
    db.close();
    await hasher.close();
  }
}

/**
 * A password is typed at the terminal with echo off, or comes on stdin (first line); never on the
 * command line, where `ps` shows it.
 */
async function readPassword(io: CliIo, usage: string): Promise<string> {
  const line = io.secretLine ? await io.secretLine('password: ') : ((await io.stdin?.()) ?? '').split('\n')[0]?.replace(/\r$/, '');
  if (!line) throw new UsageError('no password: type it at the prompt, or give it on stdin', usage);
  return line;
}

/** The account name every command but list takes. */
const ONE_NAME = { args: 1, argsError: 'give exactly one account name' } as const;

const ADD_USAGE = 'NAME [--role viewer|operator|admin] [--config FILE] [--gallery FILE] < password';
export const userAddCommand = command({
  words: ['user', 'add'],
  summary: 'add a web console account; the password is typed at a prompt without echo, or read from stdin; the first account is an admin',
  usage: ADD_USAGE,
  options: { ...OPTIONS, role: { type: 'string' } },
  ...ONE_NAME,
  async run({ values, positionals: [name] }, io) {
    if (values.role !== undefined && !(ROLES as readonly string[]).includes(values.role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`, ADD_USAGE);
    const password = await readPassword(io, ADD_USAGE);
    const user = await withUsers(values, io, (users, by) => users.add(name, password, values.role as Role | undefined, by));
    io.stdout(`account ${user.name} added (${user.role})\n`);
    return ExitCode.OK;
  },
});

const PASSWD_USAGE = 'NAME [--config FILE] [--gallery FILE] < password';
export const userPasswdCommand = command({
  words: ['user', 'passwd'],
  summary: "set an account's password (prompt without echo, or stdin); its sessions end and a lockout is lifted",
  usage: PASSWD_USAGE,
  options: OPTIONS,
  ...ONE_NAME,
  async run({ values, positionals: [name] }, io) {
    const password = await readPassword(io, PASSWD_USAGE);
    await withUsers(values, io, (users, by) => users.passwd(name, password, by));
    io.stdout(`password of ${name} changed; its sessions have ended\n`);
    return ExitCode.OK;
  },
});

const ROLE_USAGE = 'NAME viewer|operator|admin [--config FILE] [--gallery FILE]';
export const userRoleCommand = command({
  words: ['user', 'role'],
  summary: "change an account's role; its access tokens end at once and its next refresh carries the new role (never the last admin's)",
  usage: ROLE_USAGE,
  options: OPTIONS,
  args: 2,
  argsError: 'give an account name and a role',
  async run({ values, positionals: [name, role] }, io) {
    if (!(ROLES as readonly string[]).includes(role)) throw new UsageError(`the role must be one of ${ROLES.join(', ')}`, ROLE_USAGE);
    const user = await withUsers(values, io, (users, by) => users.setRole(name, role as Role, by));
    io.stdout(`account ${user.name} is now ${user.role}\n`);
    return ExitCode.OK;
  },
});

export const userRemoveCommand = command({
  words: ['user', 'remove'],
  summary: 'remove a web console account and end its sessions (never the last admin)',
  usage: 'NAME [--config FILE] [--gallery FILE]',
  options: OPTIONS,
  ...ONE_NAME,
  async run({ values, positionals: [name] }, io) {
    await withUsers(values, io, (users, by) => users.remove(name, by));
    io.stdout(`account ${name} removed\n`);
    return ExitCode.OK;
  },
});

export const userListCommand = command({
  words: ['user', 'list'],
  summary: 'the web console accounts: name, role, locked until',
  usage: '[--config FILE] [--gallery FILE] [--json]',
  options: { ...OPTIONS, json: { type: 'boolean' } },
  async run({ values }, io) {
    const list = await withUsers(values, io, (users) => users.list());
    const now = Date.now();
    for (const u of list) {
      const locked = u.lockedUntilMs > now ? new Date(u.lockedUntilMs).toISOString() : null;
      io.stdout(values.json ? jsonLine({ name: u.name, role: u.role, locked_until: locked, created: new Date(u.createdMs).toISOString() }) : `${printable(u.name.padEnd(24))} ${u.role.padEnd(9)}${locked ? ` locked until ${locked}` : ''}\n`);
    }
    return ExitCode.OK;
  },
});
