import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CameraConfig, DoorConfig } from '../camera/config.js';
import type { DoorStatus } from '../door/door.js';
import type { Config } from '../config/schema.js';
import { isFacegateError } from '../base/errors.js';
import { probeCamera } from '../camera/probe.js';
import { aspectWarning, interlaceWarning } from '../camera/ffmpeg-args.js';
import { redactSecrets } from '../base/log.js';
import mqtt, { type IClientOptions } from 'mqtt';
import { loadDeviceKey } from '../events/device-key.js';
import { describeMqttError } from '../events/bridge.js';
import type { MqttConfig } from '../events/config.js';
import { mqttClientOptions, mqttIdentity } from '../events/mqtt-options.js';
import { Gallery } from '../gallery/gallery.js';
import { findKek, noKekError } from '../gallery/key-source.js';
import { cameraRateWarning, sourceRateWarning } from '../track/camera-rate.js';
import type { TrackConfig } from '../track/config.js';
import { defaultModelDir, verifyModels } from '../vision/model-files.js';
import type { Logger } from '../base/log.js';
import { filesystemSpace } from '../base/disk-space.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  check: string;
  status: CheckStatus;
  detail: string;
  /** What to do, for warn and fail. */
  fix?: string;
}

export interface DoctorOptions {
  config: Config;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /** Per network check (broker, each camera). */
  timeoutMs?: number;
  /**
   * The running daemon's doors (through its control socket), or undefined when no daemon answers:
   * how a door's cameras pair and what parallax people show there is only known while it runs.
   */
  daemonDoors?: () => Promise<readonly DoorStatus[] | undefined>;
  /** For tests: the commands doctor runs (ffmpeg -version, timedatectl). */
  run?: (cmd: string, args: string[]) => { status: number | null; stdout: string; error?: Error };
}

const GIB = 1024 ** 3;

const defaultRun = (cmd: string, args: string[]) => {
  const result = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  return { status: result.status, stdout: result.stdout ?? '', ...(result.error ? { error: result.error } : {}) };
};

/**
 * Everything a technician at the box needs to know is working, each check on its own (one failure
 * does not hide the next), each failure with the command or setting that fixes it.
 */
export async function runDoctor(o: DoctorOptions): Promise<CheckResult[]> {
  const config = o.config;
  const run = o.run ?? defaultRun;
  const timeoutMs = o.timeoutMs ?? 8000;
  const keys = checkKeys(config, o.env);
  const results: CheckResult[] = [checkFfmpeg(run), checkModels(config), ...keys];
  results.push(await checkGallery(config, o, keys.find((k) => k.check === 'gallery key')?.status !== 'fail'));
  if (config.mqtt.enabled) results.push(await checkBroker(config.mqtt, o.env, timeoutMs));
  for (const [i, cam] of config.cameras.entries()) results.push(await checkCamera(cam, i, config.track, timeoutMs));
  if (config.doors.length > 0) {
    const running = await o.daemonDoors?.().catch(() => undefined);
    for (const door of config.doors) results.push(checkDoor(door, config.cameras, config.track.eye_fps, running?.find((d) => d.door === door.name)));
  }
  results.push(checkDisk(config.gallery.path), checkClock(run));
  // A check's detail may quote what a library or FFmpeg said, URLs included.
  return results.map((r) => redactSecrets(r) as CheckResult);
}

function checkFfmpeg(run: NonNullable<DoctorOptions['run']>): CheckResult {
  const result = run('ffmpeg', ['-hide_banner', '-version']);
  if (result.status === 0) return { check: 'ffmpeg', status: 'ok', detail: result.stdout.split('\n')[0] ?? 'ffmpeg' };
  return { check: 'ffmpeg', status: 'fail', detail: result.error ? `not found (${result.error.message})` : `exited ${result.status}`, fix: 'apt-get install ffmpeg' };
}

function checkModels(c: Config): CheckResult {
  try {
    verifyModels(c.vision.models_dir ?? defaultModelDir());
    return { check: 'models', status: 'ok', detail: `all 5 models present and verified in ${c.vision.models_dir ?? defaultModelDir()}` };
  } catch (e) {
    return failure('models', e);
  }
}

function checkKeys(c: Config, env: NodeJS.ProcessEnv): CheckResult[] {
  const out: CheckResult[] = [];
  const keys = { gallery: c.gallery, env };
  try {
    const kek = findKek(keys);
    if (!kek) {
      out.push(failure('gallery key', noKekError(keys, { path: c.gallery.path, exists: existsSync(c.gallery.path) })));
    } else if (kek.kind === 'key' && existsSync(c.gallery.key_file) && (statSync(c.gallery.key_file).mode & 0o077) !== 0) {
      out.push({ check: 'gallery key', status: 'warn', detail: `${c.gallery.key_file} is readable by others (mode ${(statSync(c.gallery.key_file).mode & 0o777).toString(8)})`, fix: `chmod 600 ${c.gallery.key_file}` });
    } else {
      out.push({ check: 'gallery key', status: 'ok', detail: `from ${kek.origin}` });
    }
  } catch (e) {
    out.push(failure('gallery key', e));
  }
  try {
    loadDeviceKey(c.mqtt.device_key_file);
    out.push({ check: 'device key', status: 'ok', detail: c.mqtt.device_key_file });
  } catch (e) {
    out.push(failure('device key', e, `facegate keys init --config FILE (makes ${c.mqtt.device_key_file})`));
  }
  return out;
}

/** The gallery's state; on a new box, the next step: enrolling people, once the keys that needs are there. */
async function checkGallery(c: Config, o: DoctorOptions, keyFound: boolean): Promise<CheckResult> {
  if (!existsSync(c.gallery.path)) {
    const enrol = 'enrol people: facegate person add --name NAME --image PHOTO';
    return { check: 'gallery', status: 'warn', detail: `${c.gallery.path} does not exist yet (the daemon makes it)`, fix: keyFound ? enrol : `first make the keys (facegate keys init), then ${enrol}` };
  }
  try {
    const gallery = await Gallery.open({ path: c.gallery.path, keys: { gallery: c.gallery, env: o.env }, logger: o.logger, create: false });
    const persons = gallery.store.countPersons();
    const damaged = gallery.damaged.length;
    const templates = gallery.matcher.size; // before close(), which empties the matcher
    gallery.close();
    if (damaged > 0) return { check: 'gallery', status: 'fail', detail: `${damaged} row(s) failed authentication`, fix: 'facegate gallery verify (names each row), then restore from an export' };
    return { check: 'gallery', status: persons > 0 ? 'ok' : 'warn', detail: `${c.gallery.path}: ${persons} person(s), ${templates} template(s)`, ...(persons ? {} : { fix: 'enrol people: facegate person add --name NAME --image PHOTO' }) };
  } catch (e) {
    return failure('gallery', e);
  }
}

/**
 * A real MQTT connection with the daemon's own settings (user name, password from its variable, TLS
 * files), so that a wrong password, an untrusted certificate or an ACL refusal shows here and not
 * only in the daemon's log. It connects under its own client id and without a last-will: the
 * daemon's id would make the broker drop the running daemon, and its will would say it is offline.
 */
async function checkBroker(c: MqttConfig, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<CheckResult> {
  const identity = mqttIdentity(c);
  let daemonOptions: IClientOptions;
  try {
    daemonOptions = mqttClientOptions(c, identity, env);
  } catch (e) {
    return failure('broker', e);
  }
  const { will: _will, ...options } = daemonOptions;
  const probe: IClientOptions = { ...options, clientId: `${identity.clientId}-doctor`.slice(0, 128), clean: true, properties: { sessionExpiryInterval: 0 }, connectTimeout: timeoutMs, reconnectPeriod: 0 };
  const where = c.url.replace(/\/\/[^@/]*@/, '//***@');
  const how = [c.username || (daemonOptions.username ? 'the URL\'s user' : ''), c.url.startsWith('mqtts://') ? 'TLS' : ''];
  const client = mqtt.connect(c.url, probe);
  const result = await new Promise<CheckResult>((resolve) => {
    const timer = setTimeout(() => resolve({ check: 'broker', status: 'fail', detail: `${where}: no answer in ${timeoutMs} ms`, fix: 'check mqtt.url and that a firewall does not drop the port' }), timeoutMs);
    const settle = (r: CheckResult) => {
      clearTimeout(timer);
      resolve(r);
    };
    client.once('connect', () =>
      settle({ check: 'broker', status: 'ok', detail: `${where}: connected (MQTT 5${how[0] ? `, as ${how[0]}` : ', anonymous'}${how[1] ? ', over TLS' : ''})` }),
    );
    client.once('error', (e) => {
      const err = describeMqttError(e, c.url);
      settle({ check: 'broker', status: 'fail', detail: `${err.code}: ${err.message}`, fix: err.hint ?? 'see docs/errors.md' });
    });
    client.once('close', () => settle({ check: 'broker', status: 'fail', detail: `${where} closed the connection before accepting it`, fix: 'see the broker log (a listener for another protocol, or a client limit)' }));
  });
  await client.endAsync(true);
  return result;
}

/** Reachable and decodable, fast enough for the eye rate (by its config and by what the stream itself sends), fitted without bars, and deinterlaced if it is interlaced. */
async function checkCamera(cam: CameraConfig, index: number, track: TrackConfig, timeoutMs: number): Promise<CheckResult> {
  const check = `camera ${cam.name}`;
  try {
    const p = await probeCamera(cam.url, { transport: cam.transport, inputArgs: cam.input_args, timeoutMs });
    const shown = (q: typeof p) => (q.shown.width === q.width ? '' : ` (shown ${q.shown.width}x${q.shown.height})`);
    const stream = (q: typeof p) => `${q.source}: ${q.codec} ${q.width}x${q.height}${shown(q)}${q.fps ? ` ${q.fps} fps` : ''}${q.interlaced ? ' interlaced' : ''}, first frame in ${q.time_to_first_frame_ms} ms`;
    const slow = [sourceRateWarning(cam, index, p.fps, track), cameraRateWarning(cam, index, track), aspectWarning(cam, p.shown), interlaceWarning(cam, p.interlaced)].filter((w) => w !== undefined).map((w) => ({ detail: `${w.code}: ${w.message}`, fix: w.hint }));
    const details = [stream(p)];
    if (cam.sub_url !== undefined) {
      // The sub stream only watches quiet spells, and one that fails falls back to key frames: a warning.
      try {
        details.push(`sub stream ${stream(await probeCamera(cam.sub_url, { transport: cam.transport, inputArgs: cam.input_args, timeoutMs }))}`);
      } catch (e) {
        slow.push({ detail: `sub stream: ${isFacegateError(e) ? `${e.code}: ${e.message}` : (e as Error).message}`, fix: `check cameras.${index}.sub_url (the camera's second stream); until it answers, quiet spells are watched on key frames of url` });
      }
    }
    if (slow.length === 0) return { check, status: 'ok', detail: details.join('; ') };
    return { check, status: 'warn', detail: [...details, ...slow.map((w) => w.detail)].join('; '), fix: slow.map((w) => w.fix).join('; ') };
  } catch (e) {
    return failure(check, e, `facegate camera test --camera ${cam.name} shows the details`);
  }
}

/** A look refused for time skew this often, of those that found a partner, says the cameras' frames drift apart. */
const DOOR_SKEW_SHARE = 0.2;
/** Looks and people a door must have seen before doctor judges its skew and its cameras' angle. */
const DOOR_MIN_LOOKS = 20;
const DOOR_MIN_PEOPLE = 5;

/**
 * One door: its cameras at one frame rate (frames at other rates drift apart and pair seldom), and,
 * while the daemon runs, whether it is on stereo, whether its looks pair in time, and whether the
 * people who passed stood out of the plane enough for stereo to prove them (cameras too close in
 * angle do not). Pure: the live figures come from the daemon's status.
 */
export function checkDoor(door: DoorConfig, cameras: readonly Pick<CameraConfig, 'name' | 'fps'>[], eyeFps: number, live: DoorStatus | undefined): CheckResult {
  const check = `door ${door.name}`;
  const rates = door.cameras.map((name) => Math.min(cameras.find((c) => c.name === name)?.fps ?? eyeFps, eyeFps));
  if (new Set(rates).size > 1) {
    return { check, status: 'warn', detail: `its cameras run at ${rates.join(', ')} fps: frames at different rates seldom come at one moment, and stereo pairs few`, fix: `give ${door.cameras.join(' and ')} one frame rate (fps:, and the cameras' own settings)` };
  }
  if (!live) return { check, status: 'ok', detail: `${door.cameras.join(', ')} at ${rates[0]} fps; the daemon is not running, so pairing is not measured (start it and run doctor again)` };
  const warnings: { detail: string; fix: string }[] = [];
  if (live.state === 'single_camera') warnings.push({ detail: `on single-camera cues: ${live.reason}`, fix: 'bring the camera back (see its check above); until then the door proves faces as one camera does' });
  const looks = live.pairs + live.refused_time_skew;
  if (looks >= DOOR_MIN_LOOKS && live.refused_time_skew > DOOR_SKEW_SHARE * looks) {
    const skew = live.skew_ms ? ` (skew ${live.skew_ms.p50} ms median, ${live.skew_ms.p90} ms p90)` : '';
    warnings.push({ detail: `its cameras' frames drift apart: ${live.refused_time_skew} of ${looks} looks refused for time skew, limit ${live.pair_limit_ms} ms${skew}`, fix: 'give both cameras the same stream settings (rate, GOP, no B-frames) and the same network path; a camera that buffers more than its partner lags it' });
  }
  const apart = latenciesApart(live);
  if (apart) warnings.push(apart);
  const people = live.people_parallax;
  if (people && people.people >= DOOR_MIN_PEOPLE && people.p50 < people.limit) {
    const pct = (v: number) => `${(100 * v).toFixed(1)} %`;
    warnings.push({ detail: `its cameras are too close in angle: the ${people.people} enrolled people who passed showed a median parallax of ${pct(people.p50)} of the face height, below the ${pct(people.limit)} that stereo proves a face at`, fix: 'mount the two cameras at least 30° apart at the face (docs/camera.md, "Doors")' });
  }
  const clocks = live.clocks.map((c) => `${c.camera} ${c.clock === 'camera' ? `on its own clock, latency ${c.latency_ms} ms` : 'on arrival time'}`).join(', ');
  const figures = `${clocks}; ${live.pairs} pairs, ${live.refused_time_skew} refused for skew${people ? `, median parallax ${(100 * people.p50).toFixed(1)} % of ${people.people} people (limit ${(100 * people.limit).toFixed(1)} %)` : ''}`;
  if (warnings.length === 0) return { check, status: 'ok', detail: `${live.state === 'stereo' ? 'stereo' : live.state}; ${figures}` };
  return { check, status: 'warn', detail: `${warnings.map((w) => w.detail).join('; ')} (${figures})`, fix: warnings.map((w) => w.fix).join('; ') };
}

/**
 * The latencies of a door's cameras on their own clocks further apart than the pairing limit: one
 * camera's stream lags the other's (camera time corrects that, arrival time would pair moments that
 * far apart), or their clocks disagree (which no time can tell from a lag, and which adds to every
 * pair's skew).
 */
function latenciesApart(live: DoorStatus): { detail: string; fix: string } | undefined {
  if (live.latency_spread_ms === null || live.latency_spread_ms <= live.pair_limit_ms) return undefined;
  const measured = live.clocks.filter((c) => c.clock === 'camera').map((c) => `${c.camera} ${c.latency_ms} ms`);
  return {
    detail: `its cameras' latencies are ${live.latency_spread_ms} ms apart (${measured.join(', ')}), more than the ${live.pair_limit_ms} ms pairing limit: a camera lags the other, or their clocks disagree`,
    fix: 'put the cameras on one NTP server (the clocks then agree, and what remains is a lag their own times take away); a camera that lags buffers more than its partner: give it the same stream settings and network path',
  };
}

function checkDisk(statePath: string): CheckResult {
  const dir = existsSync(dirname(statePath)) ? dirname(statePath) : '/';
  try {
    const free = filesystemSpace(dir).availBytes;
    const detail = `${(free / GIB).toFixed(1)} GiB free on ${dir}`;
    if (free < 1 * GIB) return { check: 'disk', status: 'fail', detail, fix: 'free space: the outbox and attendance records need room (lower retention.* days or clean up)' };
    if (free < 5 * GIB) return { check: 'disk', status: 'warn', detail, fix: 'keep at least 5 GiB free for the outbox during broker outages' };
    return { check: 'disk', status: 'ok', detail };
  } catch (e) {
    return { check: 'disk', status: 'warn', detail: `cannot read free space of ${dir}: ${(e as Error).message}` };
  }
}

function checkClock(run: NonNullable<DoctorOptions['run']>): CheckResult {
  const result = run('timedatectl', ['show', '-p', 'NTPSynchronized', '--value']);
  const value = result.stdout.trim();
  if (result.status === 0 && value === 'yes') return { check: 'clock', status: 'ok', detail: 'synchronised (NTP)' };
  if (result.status === 0 && value === 'no') {
    return { check: 'clock', status: 'fail', detail: 'not synchronised: attendance times and token expiry depend on it', fix: 'timedatectl set-ntp true (or install chrony / systemd-timesyncd)' };
  }
  return { check: 'clock', status: 'warn', detail: 'cannot tell whether the clock is synchronised (no timedatectl answer)', fix: 'check NTP by hand (chronyc tracking, or timedatectl on systemd boxes)' };
}

function failure(check: string, e: unknown, fallbackFix = 'see docs/errors.md'): CheckResult {
  if (isFacegateError(e)) return { check, status: 'fail', detail: `${e.code}: ${e.message}`, fix: e.hint ?? fallbackFix };
  return { check, status: 'fail', detail: (e as Error).message, fix: fallbackFix };
}
