import { userInfo } from 'node:os';
import { FacegateError, isFacegateError } from '../../base/errors.js';
import { AuditLog } from '../../service/audit.js';
import { callDaemon, type ControlTarget } from '../../control/client.js';
import { METHODS, type MethodName } from '../../control/protocol.js';
import { daemonHolding } from '../../system/lock.js';
import type { Actor } from '../../service/audit.js';
import { PersonService } from '../../service/persons.js';
import type { Gallery } from '../../gallery/gallery.js';
import type { FaceSource } from '../../gallery/enrol.js';
import type { UnknownRegistry } from '../../track/unknowns.js';
import type { CliIo } from '../command.js';
import { controlTarget, type ControlValues } from '../control-target.js';
import { withAnalyzer, withGallery, type GallerySettings } from './common.js';

/**
 * The daemon that holds this state file, if one does. A person change made beside it in the file
 * would not reach its matcher, roster or Home Assistant (a removed person would still be
 * recognised), so the commands that change persons go through its control socket instead; with its
 * control socket off they are refused with what to do.
 */
export function runningDaemon(s: GallerySettings): (ControlTarget & { statePath: string }) | undefined {
  const held = daemonHolding(s.path);
  if (!held) return undefined;
  const who = `a facegate daemon${held.pid !== undefined ? ` (pid ${held.pid})` : ''}`;
  if (!s.config.control.enabled) {
    throw new FacegateError('FG_ERR_DAEMON_HOLDS_STATE', `${who} holds ${s.path} and its control socket is off, so this change would not reach it`, 'turn control.enabled on in its config and restart it, or stop it (systemctl stop facegate) to change the file directly');
  }
  return { dir: s.config.control.socket_dir, statePath: s.path };
}

/**
 * For a change the control socket does not offer (a whole import): refused while a daemon holds the
 * file, since the daemon reads the gallery into memory at start and would not see it.
 */
export function refuseBesideDaemon(s: GallerySettings, what: string): void {
  const held = daemonHolding(s.path);
  if (!held) return;
  throw new FacegateError('FG_ERR_DAEMON_HOLDS_STATE', `a facegate daemon${held.pid !== undefined ? ` (pid ${held.pid})` : ''} holds ${s.path}: ${what} beside it would not reach it`, `stop it (systemctl stop facegate), run this again, then start it: it reads the gallery at start`);
}

/**
 * The daemon a person command goes through: the one named by --socket-dir or --token (a daemon
 * elsewhere, or a user outside the facegate groups), else the one that holds the state file, if any.
 */
export function daemonFor(s: GallerySettings, values: ControlValues, io: CliIo): (ControlTarget & { statePath?: string }) | undefined {
  if (values['socket-dir'] !== undefined || values.token !== undefined) return controlTarget(values, io);
  return runningDaemon(s);
}

/**
 * One control call for a gallery command; a daemon that holds the file but does not answer is
 * refused with what to do (one named by --socket-dir that does not answer is not running).
 */
export async function callRunningDaemon(target: ControlTarget & { statePath?: string }, method: MethodName, params: Record<string, unknown>): Promise<unknown> {
  try {
    return await callDaemon(target, method, METHODS[method].role, params);
  } catch (e) {
    if (!isFacegateError(e) || e.code !== 'FG_ERR_DAEMON_NOT_RUNNING' || target.statePath === undefined) throw e;
    throw new FacegateError('FG_ERR_DAEMON_HOLDS_STATE', `a facegate daemon holds ${target.statePath} but does not answer on ${target.dir}`, 'give --config the config the daemon runs with (control.socket_dir), or stop it (systemctl stop facegate) to change the file directly');
  }
}

/**
 * One person use case as the CLI runs it: through the daemon's control socket (`daemon`, when one
 * holds the file or is named) as the call `remote` makes, else on the file with the CLI's own person
 * service (`local`, audited as this user). The daemon and the service answer in the one shape of
 * service/person-answers.ts, so the command prints either the same way.
 */
export async function personCall<T>(
  s: GallerySettings,
  daemon: (ControlTarget & { statePath?: string }) | undefined,
  remote: () => { method: MethodName; params: Record<string, unknown> },
  local: (persons: PersonService, g: Gallery) => Promise<T>,
  options: { analyzer?: boolean; create?: boolean } = {},
): Promise<T> {
  return personCalls(s, daemon, options, (call) => call(remote, local));
}

/** One person use case, the daemon's way or the file's: what `personCalls` hands its caller. */
export type PersonCaller = <T>(remote: () => { method: MethodName; params: Record<string, unknown> }, local: (persons: PersonService, g: Gallery) => Promise<T>) => Promise<T>;

/**
 * Many person use cases in one go (a roster, one enrolment a person), each as `personCall` makes it,
 * the gallery and the face models opened once for all of them when no daemon holds the file.
 */
export async function personCalls<T>(
  s: GallerySettings,
  daemon: (ControlTarget & { statePath?: string }) | undefined,
  options: { analyzer?: boolean; create?: boolean },
  fn: (call: PersonCaller) => Promise<T>,
): Promise<T> {
  if (daemon) {
    // The daemon answers what the local use case would (service/person-answers.ts).
    const viaDaemon: PersonCaller = async <R>(remote: () => { method: MethodName; params: Record<string, unknown> }) => {
      const { method, params } = remote();
      return (await callRunningDaemon(daemon, method, params)) as R;
    };
    return fn(viaDaemon);
  }
  return withGallery(s, { create: options.create === true }, (g) => {
    const run = (persons: PersonService) => fn((_remote, local) => local(persons, g));
    return options.analyzer ? withAnalyzer(s, (analyzer) => run(localPersons(s, g, analyzer))) : run(localPersons(s, g));
  });
}

/** Who the audit log names for a change made by the CLI on a file no daemon holds. */
export function cliActor(): Actor {
  let name: string;
  try {
    name = userInfo().username;
  } catch {
    name = `uid ${process.getuid?.() ?? '?'}`;
  }
  return { actor: `cli:${name}`, role: 'admin' };
}

/**
 * The person operations over a gallery the CLI opened itself (no daemon holds the file); `unknowns`
 * are those a scan of a video saw, for promote.
 */
export function localPersons(s: GallerySettings, gallery: Gallery, analyzer: FaceSource = noAnalyzer, unknowns?: UnknownRegistry): PersonService {
  return new PersonService({ gallery, analyzer, gate: s.config.gallery.enrol, recognition: s.config.recognition, audit: new AuditLog(gallery.db), ...(unknowns ? { unknowns } : {}) });
}

/** For operations that analyse no photo (rename, erase): none is loaded. */
const noAnalyzer: FaceSource = {
  analyze: () => Promise.reject(new Error('no face analyzer loaded for this operation')),
};
