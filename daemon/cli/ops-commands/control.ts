import type { StatusReport } from '../../service/status.js';
import type { ReloadResult } from '../../service/reload.js';
import type { CameraHealth } from '../../camera/health.js';
import type { DoorStatus } from '../../door/door.js';
import { ExitCode } from '../../base/errors.js';
import { callDaemon } from '../../control/client.js';
import { METHODS, type MethodName } from '../../control/protocol.js';
import { command, UsageError, type CliIo, type Command } from '../command.js';
import { CONTROL_OPTIONS, controlTarget, type ControlValues } from '../control-target.js';
import { EventLines } from '../event-lines.js';
import { jsonLine, printable } from '../terminal-text.js';

const COMMON = { config: { type: 'string', short: 'c' }, ...CONTROL_OPTIONS, json: { type: 'boolean' } } as const;
const COMMON_USAGE = '[--config FILE] [--socket-dir DIR] [--token FILE] [--json]';

const call = (values: ControlValues, io: CliIo, method: MethodName, params: Record<string, unknown> = {}) => callDaemon(controlTarget(values, io), method, METHODS[method].role, params);

/** The daemon's answer: as a JSON line, or as `text` makes it, whose text fields each go through printable. */
function print(io: CliIo, json: boolean | undefined, data: unknown, text: () => string): number {
  io.stdout(json ? jsonLine(data) : text());
  return ExitCode.OK;
}

/** How a quiet scene is watched (CameraConfig.idle_keyframes_after_s, sub_url). */
const QUIET_SAID: Readonly<Record<CameraHealth['decoding'], string>> = {
  all: '',
  keyframes: ' (key frames only: the scene is quiet)',
  sub_stream: ' (on the sub stream: the scene is quiet)',
};

/**
 * One camera's line, each number with what it is: read of the rate asked for (and what the camera
 * itself sends, when it said), taken by the pipeline, skipped as the pipeline took a newer frame;
 * then, only when something needs doing, what and how on a line of its own.
 */
export function cameraLine(h: CameraHealth): string {
  const err = h.last_error ? `  last error: ${h.last_error.kind}` : '';
  const source = h.fps_source !== null ? `, the camera sends ${h.fps_source}` : '';
  const rates = `${h.fps_in.toFixed(1)} of ${h.fps_asked} fps read${source}${QUIET_SAID[h.decoding]}, ${h.fps_processed.toFixed(1)} processed, ${h.frames_skipped} skipped (a newer frame was ready)`;
  const line = `  ${printable(`${h.camera.padEnd(16)} ${h.state.padEnd(10)} ${rates}, ${h.reconnects_last_hour} reconnects/h${err}`)}\n`;
  return h.attention ? `${line}    ${printable(`needs attention: ${h.attention.message} — ${h.attention.hint}`)}\n` : line;
}

/** What the numbers of the camera lines mean, said once under them. */
export const CAMERA_LINES_KEY =
  '  (read: frames a second FFmpeg hands over, at most the camera\'s fps in the config, repeated or dropped to make it; ' +
  'skipped: frames replaced by a newer one before the pipeline took them, normal when frames come faster than the pipeline needs)\n';

function cameraLines(cams: readonly CameraHealth[]): string {
  return cams.length ? cams.map(cameraLine).join('') + CAMERA_LINES_KEY : '';
}

function doorLine(d: DoorStatus): string {
  const state = d.state === 'stereo' ? 'stereo' : `single-camera cues: ${d.reason}`;
  const last = d.last_pair_age_s === null ? 'no pair yet' : `last pair ${d.last_pair_age_s} s ago`;
  const skew = d.skew_ms ? `, skew ${d.skew_ms.p50} ms median, ${d.skew_ms.p90} ms p90` : '';
  const people = d.people_parallax ? `; enrolled people's parallax ${(100 * d.people_parallax.p50).toFixed(1)} % median of ${d.people_parallax.people} (stereo proves at ${(100 * d.people_parallax.limit).toFixed(1)} %)` : '';
  const clocks = d.clocks.map((c) => (c.clock === 'camera' ? `${c.camera} latency ${c.latency_ms} ms` : `${c.camera} on arrival time`)).join(', ');
  const apart = d.latency_spread_ms !== null && d.latency_spread_ms > d.pair_limit_ms ? ` (${d.latency_spread_ms} ms apart: a camera lags, or their clocks disagree)` : '';
  return `  ${printable(`door ${d.door} (${d.cameras.join(', ')}): ${state}; ${d.pairs} pairs, ${d.refused_time_skew} refused for time skew (limit ${d.pair_limit_ms} ms${skew}), ${last}${people}; clocks: ${clocks}${apart}`)}\n`;
}

const list = (names: readonly string[]) => names.map(printable).join(', ');

/** A command that asks the running daemon one thing and prints its answer: JSON, or the text `text` makes of it. */
function askDaemon<T>(spec: { words: readonly string[]; summary: string; method: MethodName; text: (answer: T) => string }): Command {
  return command({
    words: spec.words,
    summary: spec.summary,
    usage: COMMON_USAGE,
    options: COMMON,
    async run({ values }, io) {
      const answer = (await call(values, io, spec.method)) as T;
      return print(io, values.json, answer, () => spec.text(answer));
    },
  });
}

export const statusCommand = askDaemon<StatusReport>({
  words: ['status'],
  summary: 'ask the running daemon how it is: cameras, pipeline liveness, outbox, broker',
  method: 'status',
  text: (status) => {
    const disk = status.disk ? `${(status.disk.free_bytes / 2 ** 30).toFixed(1)} GiB free on ${status.disk.path}` : 'disk space unknown';
    const outbox = status.outbox.pending ? `, the oldest waiting ${status.outbox.oldestAgeS} s` : '';
    return `${printable(`${status.summary}${outbox}`)}\n${printable(`version ${status.version}, up ${status.uptime_s} s, pipeline ${status.liveness.alive ? 'alive' : `STUCK: ${status.liveness.problems.join('; ')}`}, ${disk}`)}\n${cameraLines(status.cameras)}${(status.doors ?? []).map(doorLine).join('')}`;
  },
});

export const camerasCommand = askDaemon<CameraHealth[]>({
  words: ['cameras'],
  summary: 'each camera of the running daemon: state, fps, skipped frames, reconnects, last error',
  method: 'cameras',
  text: (cams) => cameraLines(cams) || '  no cameras\n',
});

export const reloadCommand = askDaemon<ReloadResult>({
  words: ['reload'],
  summary: 'make the running daemon re-read its config: cameras and attendance rules (operator role; audited)',
  method: 'reload',
  text: (r) => `reloaded: added [${list(r.added)}], removed [${list(r.removed)}], changed [${list(r.changed)}]${r.restartNeeded.length ? `; needs a restart for: ${list(r.restartNeeded)}` : ''}\n`,
});

export const eventsTailCommand = command({
  words: ['events', 'tail'],
  summary: 'print decisions of the running daemon as they happen (recognized, unknown, spoof_suspected, blink ...); Ctrl-C ends',
  usage: COMMON_USAGE,
  options: COMMON,
  async run({ values }, io) {
    const abort = new AbortController();
    const onSignal = () => abort.abort();
    process.once('SIGINT', onSignal);
    try {
      const lines = new EventLines();
      await callDaemon(controlTarget(values, io), 'events.tail', 'viewer', {}, { signal: abort.signal, onEvent: (e) => io.stdout(values.json ? jsonLine(e) : lines.describe(e as Record<string, unknown>)) });
    } finally {
      process.off('SIGINT', onSignal);
    }
    return ExitCode.OK;
  },
});

const PROMOTE_USAGE = `ANON_ID --name NAME [--id EXT] [--group G] ${COMMON_USAGE}`;
const PROMOTE_ARGS = 'give one anonymous id (anon-...) and --name';
export const personPromoteCommand = command({
  words: ['person', 'promote'],
  summary: "enrol an unknown person the running daemon's cameras saw (anonymous id from an unknown event) from their best frames (operator role; audited)",
  usage: PROMOTE_USAGE,
  options: { ...COMMON, name: { type: 'string' }, id: { type: 'string' }, group: { type: 'string' } },
  args: 1,
  argsError: PROMOTE_ARGS,
  async run({ values, positionals }, io) {
    if (!values.name) throw new UsageError(PROMOTE_ARGS, PROMOTE_USAGE);
    const params = { anon_id: positionals[0], name: values.name, ...(values.id ? { id: values.id } : {}), ...(values.group ? { group: values.group } : {}) };
    const promoted = (await call(values, io, 'person.promote', params)) as { id: string; anon_id: string; templates: number };
    return print(io, values.json, promoted, () => `promoted ${printable(promoted.anon_id)} to ${printable(values.name!)} (${printable(promoted.id)}): ${promoted.templates} template(s)\n`);
  },
});

export const retentionPurgeCommand = askDaemon<unknown>({
  words: ['retention', 'purge'],
  summary: 'delete what is older than the retention settings now, instead of at the next hourly run (admin role; audited)',
  method: 'retention.purge',
  text: (purged) => `purged: ${jsonLine(purged)}`,
});
