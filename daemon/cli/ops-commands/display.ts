import { userInfo } from 'node:os';
import { ExitCode, FacegateError } from '../../base/errors.js';
import type { Config } from '../../config/schema.js';
import { SHOWN_PERSON, type ShownPerson } from '../../display/config.js';
import { displayTargets } from '../../display/targets.js';
import { AuditLog, type Actor } from '../../service/audit.js';
import { DisplayTokenService } from '../../service/display-tokens.js';
import { openDatabase } from '../../store/database.js';
import { command, resolveConfig, UsageError, type CliIo } from '../command.js';
import { jsonLine, printable } from '../terminal-text.js';

const OPTIONS = { config: { type: 'string', short: 'c' }, gallery: { type: 'string' } } as const;

/**
 * The display tokens live in the state file beside a running daemon (WAL): it reads them on every
 * feed opened, and checks its open feeds' tokens every second, so a revocation here closes them.
 */
function withDisplays<T>(values: { config?: string; gallery?: string }, io: CliIo, fn: (tokens: DisplayTokenService, by: Actor, config: Config) => T): T {
  const config = resolveConfig(values.config, io);
  const path = values.gallery ?? config.gallery.path;
  let db;
  try {
    db = openDatabase(path, { mustExist: true });
  } catch (e) {
    if (e instanceof FacegateError && e.code === 'FG_ERR_DB_MISSING') throw new FacegateError(e.code, e.message, "make the state file first: 'facegate keys init', then enrol or start the daemon");
    throw e;
  }
  try {
    const targets = displayTargets(config.cameras, config.doors).names;
    return fn(new DisplayTokenService({ db, audit: new AuditLog(db), targets: () => targets }), { actor: `cli:${userInfo().username}`, role: 'admin' }, config);
  } finally {
    db.close();
  }
}

const ADD_USAGE = 'DOOR [--show first_name|full_name|photo|none] [--label TEXT] [--config FILE] [--gallery FILE] [--json]';
export const displayTokenAddCommand = command({
  words: ['display', 'token', 'add'],
  summary: "make a door display's token, bound to one door (or a camera in no door); prints the display's link once, the token in its fragment",
  usage: ADD_USAGE,
  options: { ...OPTIONS, show: { type: 'string' }, label: { type: 'string' }, json: { type: 'boolean' } },
  args: 1,
  argsError: 'give exactly one door or camera name',
  run({ values, positionals: [target] }, io) {
    if (values.show !== undefined && !(SHOWN_PERSON as readonly string[]).includes(values.show)) throw new UsageError(`--show must be one of ${SHOWN_PERSON.join(', ')}`, ADD_USAGE);
    const made = withDisplays(values, io, (tokens, by, config) => ({ ...tokens.add(target, (values.show ?? 'first_name') as ShownPerson, values.label ?? '', by), config }));
    const path = `/display/${made.record.target}#${made.token}`;
    if (values.json) io.stdout(jsonLine({ id: made.record.id, target: made.record.target, show: made.record.show, label: made.record.label, token: made.token, path }));
    else {
      const web = made.config.web;
      const scheme = web.tls_cert ? 'https' : 'http';
      io.stdout(`display token ${made.record.id} for ${made.record.target} (shows: ${made.record.show})\n`);
      io.stdout(`open on the display: ${scheme}://${web.host}:${web.port}${path}\n`);
      io.stdout('the token is shown this once; revoke it with `facegate display token revoke ID`\n');
    }
    return ExitCode.OK;
  },
});

export const displayTokenListCommand = command({
  words: ['display', 'token', 'list'],
  summary: 'the door display tokens: id, door, what each shows, label (never the tokens themselves)',
  usage: '[--config FILE] [--gallery FILE] [--json]',
  options: { ...OPTIONS, json: { type: 'boolean' } },
  run({ values }, io) {
    for (const t of withDisplays(values, io, (tokens) => tokens.list())) {
      const created = new Date(t.createdMs).toISOString();
      io.stdout(values.json ? jsonLine({ id: t.id, target: t.target, show: t.show, label: t.label, created, created_by: t.createdBy }) : `${t.id}  ${printable(t.target.padEnd(16))} ${t.show.padEnd(10)} ${printable(t.label)}\n`);
    }
    return ExitCode.OK;
  },
});

export const displayTokenRevokeCommand = command({
  words: ['display', 'token', 'revoke'],
  summary: "revoke a door display's token: its open page is closed within seconds and it opens nothing again",
  usage: 'ID [--config FILE] [--gallery FILE]',
  options: OPTIONS,
  args: 1,
  argsError: "give exactly one token id (from 'facegate display token list')",
  run({ values, positionals: [id] }, io) {
    const revoked = withDisplays(values, io, (tokens, by) => tokens.revoke(id, by));
    io.stdout(`display token ${revoked.id} for ${printable(revoked.target)} revoked\n`);
    return ExitCode.OK;
  },
});
