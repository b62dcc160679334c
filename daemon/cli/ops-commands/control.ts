import type { StatusReport } from '../../service/status.js';
import { basename } from 'node:path';
import type { CameraHealth } from '../../camera/health.js';
import { ExitCode, FacegateError } from '../../base/errors.js';
import { describeOpenError, readInputFile } from '../../base/input-file.js';
import { readImageFile } from '../../vision/image.js';
import { callDaemon, type ControlTarget } from '../../control/client.js';
import { METHODS, type MethodName } from '../../control/protocol.js';
import { parseCommandArgs, resolveConfig, UsageError, type CliIo, type Command } from '../command.js';
import { EventLines } from '../event-lines.js';
import { jsonLine, printable } from '../terminal-text.js';

const COMMON = { config: { type: 'string', short: 'c' }, 'socket-dir': { type: 'string' }, token: { type: 'string' }, json: { type: 'boolean' } } as const;
const COMMON_USAGE = '[--config FILE] [--socket-dir DIR] [--token FILE] [--json]';

interface Common {
  config?: string;
  'socket-dir'?: string;
  token?: string;
  json?: boolean;
}

function target(values: Common, io: CliIo): ControlTarget {
  const dir = values['socket-dir'] ?? resolveConfig(values.config, io).control.socket_dir;
  return { dir, ...(values.token ? { token: readToken(values.token) } : {}) };
}

function readToken(path: string): string {
  try {
    return readInputFile(path, 'key', '--token').toString('utf8').trim();
  } catch (e) {
    if (e instanceof FacegateError) throw e;
    throw new FacegateError('FG_ERR_CONTROL_TOKEN', `cannot read --token ${path}: ${describeOpenError(e)}`, 'give the file holding the signed control token');
  }
}

const call = (values: Common, io: CliIo, method: MethodName, params: Record<string, unknown> = {}) => callDaemon(target(values, io), method, METHODS[method].role, params);

/** The daemon's answer: as a JSON line, or as `text` makes it, whose text fields each go through printable. */
function print(io: CliIo, json: boolean | undefined, data: unknown, text: () => string): number {
  io.stdout(json ? jsonLine(data) : text());
  return ExitCode.OK;
}

function cameraLine(h: CameraHealth): string {
  const err = h.last_error ? `  last error: ${h.last_error.kind}` : '';
  return `  ${printable(`${h.camera.padEnd(16)} ${h.state.padEnd(10)} ${h.fps_in.toFixed(1)} fps in, ${h.fps_processed.toFixed(1)} processed, ${h.frames_skipped} skipped, ${h.reconnects_last_hour} reconnects/h${err}`)}\n`;
}

const list = (names: readonly string[]) => names.map(printable).join(', ');

export const statusCommand: Command = {
  words: ['status'],
  summary: 'ask the running daemon how it is: cameras, pipeline liveness, outbox, broker',
  usage: COMMON_USAGE,
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, COMMON, COMMON_USAGE);
    const status = (await call(values, io, 'status')) as StatusReport;
    const disk = status.disk ? `${(status.disk.free_bytes / 2 ** 30).toFixed(1)} GiB free on ${status.disk.path}` : 'disk space unknown';
    const outbox = status.outbox.pending ? `, the oldest waiting ${status.outbox.oldestAgeS} s` : '';
    return print(
      io,
      values.json,
      status,
      () => `${printable(`${status.summary}${outbox}`)}\n${printable(`version ${status.version}, up ${status.uptime_s} s, pipeline ${status.liveness.alive ? 'alive' : `STUCK: ${status.liveness.problems.join('; ')}`}, ${disk}`)}\n${status.cameras.map(cameraLine).join('')}`,
    );
  },
};

export const camerasCommand: Command = {
  words: ['cameras'],
  summary: 'each camera of the running daemon: state, fps, skipped frames, reconnects, last error',
  usage: COMMON_USAGE,
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, COMMON, COMMON_USAGE);
    const cams = (await call(values, io, 'cameras')) as CameraHealth[];
    return print(io, values.json, cams, () => cams.map(cameraLine).join('') || '  no cameras\n');
  },
};

export const reloadCommand: Command = {
  words: ['reload'],
  summary: 'make the running daemon re-read its config: cameras and attendance rules (operator role; audited)',
  usage: COMMON_USAGE,
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, COMMON, COMMON_USAGE);
    const reloaded = (await call(values, io, 'reload')) as { added: string[]; removed: string[]; changed: string[]; restartNeeded: string[] };
    return print(io, values.json, reloaded, () => `reloaded: added [${list(reloaded.added)}], removed [${list(reloaded.removed)}], changed [${list(reloaded.changed)}]${reloaded.restartNeeded.length ? `; needs a restart for: ${list(reloaded.restartNeeded)}` : ''}\n`);
  },
};

export const eventsTailCommand: Command = {
  words: ['events', 'tail'],
  summary: 'print decisions of the running daemon as they happen (recognized, unknown, spoof_suspected, blink ...); Ctrl-C ends',
  usage: COMMON_USAGE,
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, COMMON, COMMON_USAGE);
    const abort = new AbortController();
    const onSignal = () => abort.abort();
    process.once('SIGINT', onSignal);
    try {
      const lines = new EventLines();
      await callDaemon(target(values, io), 'events.tail', 'viewer', {}, { signal: abort.signal, onEvent: (e) => io.stdout(values.json ? jsonLine(e) : lines.describe(e as Record<string, unknown>)) });
    } finally {
      process.off('SIGINT', onSignal);
    }
    return ExitCode.OK;
  },
};

const ERASE_USAGE = `ID ${COMMON_USAGE}`;
export const personEraseCommand: Command = {
  words: ['person', 'erase'],
  summary: 'remove a person everywhere through the running daemon: templates, thumbnails, attendance and proof images (admin role; audited)',
  usage: ERASE_USAGE,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, COMMON, ERASE_USAGE);
    if (positionals.length !== 1) throw new UsageError('give one person id (uuid or external id)', ERASE_USAGE);
    const erased = (await call(values, io, 'person.erase', { id: positionals[0] })) as { id: string; templates: number; thumbnails: number; attendanceDays: number; proofs: number };
    return print(io, values.json, erased, () => `erased ${printable(erased.id)}: ${erased.templates} template(s), ${erased.thumbnails} thumbnail(s), ${erased.attendanceDays} attendance day(s), ${erased.proofs} proof image(s)\n`);
  },
};

const ENROL_USAGE = `--name NAME [--id EXT] [--group G] [--force] IMAGE... ${COMMON_USAGE}`;
export const personEnrolCommand: Command = {
  words: ['person', 'enrol'],
  summary: 'enrol a person into the running daemon from photos (operator role; audited); recognised from the next frame on',
  usage: ENROL_USAGE,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, { ...COMMON, name: { type: 'string' }, id: { type: 'string' }, group: { type: 'string' }, force: { type: 'boolean' } }, ENROL_USAGE);
    if (!values.name || positionals.length === 0) throw new UsageError('give --name and at least one photo', ENROL_USAGE);
    const images = positionals.map((p) => ({ name: basename(p), data: readImageFile(p).toString('base64') }));
    const params = { name: values.name, images, ...(values.id ? { id: values.id } : {}), ...(values.group ? { group: values.group } : {}), ...(values.force ? { force: true } : {}) };
    const enrolled = (await call(values, io, 'person.enrol', params)) as { id: string; templates: number; refused: { file: string; detail: string }[]; enrolled_despite?: string[] };
    const warnings = (enrolled.enrolled_despite ?? []).map((c) => `\n  warning: ${printable(c)} (enrolled anyway: --force)`).join('');
    return print(io, values.json, enrolled, () => `enrolled ${printable(values.name!)} as ${printable(enrolled.id)}: ${enrolled.templates} template(s)${enrolled.refused.map((x) => `\n  refused ${printable(x.file)}: ${printable(x.detail)}`).join('')}${warnings}\n`);
  },
};

const PROMOTE_USAGE = `ANON_ID --name NAME [--id EXT] [--group G] ${COMMON_USAGE}`;
export const personPromoteCommand: Command = {
  words: ['person', 'promote'],
  summary: "enrol an unknown person the running daemon's cameras saw (anonymous id from an unknown event) from their best frames (operator role; audited)",
  usage: PROMOTE_USAGE,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, { ...COMMON, name: { type: 'string' }, id: { type: 'string' }, group: { type: 'string' } }, PROMOTE_USAGE);
    if (positionals.length !== 1 || !values.name) throw new UsageError('give one anonymous id (anon-...) and --name', PROMOTE_USAGE);
    const params = { anon_id: positionals[0], name: values.name, ...(values.id ? { id: values.id } : {}), ...(values.group ? { group: values.group } : {}) };
    const promoted = (await call(values, io, 'person.promote', params)) as { id: string; anon_id: string; templates: number };
    return print(io, values.json, promoted, () => `promoted ${printable(promoted.anon_id)} to ${printable(values.name!)} (${printable(promoted.id)}): ${promoted.templates} template(s)\n`);
  },
};

export const retentionPurgeCommand: Command = {
  words: ['retention', 'purge'],
  summary: 'delete what is older than the retention settings now, instead of at the next hourly run (admin role; audited)',
  usage: COMMON_USAGE,
  async run(argv, io) {
    const { values } = parseCommandArgs(argv, COMMON, COMMON_USAGE);
    const purged = await call(values, io, 'retention.purge');
    return print(io, values.json, purged, () => `purged: ${jsonLine(purged)}`);
  },
};

export const CONTROL_COMMANDS: readonly Command[] = [statusCommand, camerasCommand, reloadCommand, eventsTailCommand, personEnrolCommand, personPromoteCommand, personEraseCommand, retentionPurgeCommand];
