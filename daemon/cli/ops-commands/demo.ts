import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import type { DestinationStream } from 'pino';
import { parseConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { loadDeviceKey } from '../../events/device-key.js';
import { pinnedKeyFromJwk, verifySignedEvent } from '../../../contract/signature.js';
import { createLogger } from '../../base/log.js';
import { writePrivateFile } from '../../base/private-files.js';
import { createNotifier } from '../../system/sd-notify.js';
import { startDemoBroker } from '../../demo/broker.js';
import { prepareDemoGallery, prepareDemoKeys, samplePhoto } from '../../demo/site.js';
import { stillFrame, stillPhotoSpawn } from '../../demo/still-camera.js';
import { command, UsageError, type CliIo } from '../command.js';
import { runDaemon, type RunDaemonOptions } from './daemon.js';
import { EventLines } from '../event-lines.js';
import { WaitingLines } from '../waiting-lines.js';
import { demoCameraSize, demoCameraUrl, demoInputArgs, demoVideoFile, enrolFirstVisitor } from './demo-camera.js';

const USAGE = '[--camera URL|FILE|-] [--seconds N] [--keep] [--broker URL] [--photo FILE]';

/** Frames a second of the still photo's camera. */
const STILL_FPS = 15;

/** Only a broker without credentials in its URL: a password would sit in argv (and `ps`). */
function brokerUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--broker ${JSON.stringify(url)} is not a URL`, USAGE);
  }
  if (!/^mqtts?:$/.test(parsed.protocol)) throw new UsageError(`--broker must be an mqtt:// or mqtts:// URL, not ${parsed.protocol}`, USAGE);
  if (parsed.username || parsed.password) throw new UsageError('--broker must not carry a user name or password (argv is visible to every user of the box)', USAGE);
  return url;
}

const LEVELS: Record<number, string> = { 30: 'info', 40: 'warning', 50: 'error', 60: 'fatal' };

/**
 * The daemon's log as one short line per entry among the demo's own lines, not pino's JSON: the
 * demo is read by a person at a terminal. Its message and what it says went wrong, and the fix.
 */
function readableLog(io: CliIo): DestinationStream {
  return {
    write(line: string) {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        io.stderr(`  ${line.trim()}\n`);
        return;
      }
      const where = [entry.stage, entry.camera].filter((x) => typeof x === 'string').join(' ');
      const why = [entry.reason, entry.err, entry.error, entry.code].find((x) => typeof x === 'string');
      const fix = typeof entry.hint === 'string' ? `; fix: ${entry.hint}` : '';
      io.stderr(`  ${LEVELS[entry.level as number] ?? 'log'}${where ? ` (${where})` : ''}: ${String(entry.msg)}${why ? `: ${why as string}` : ''}${fix}\n`);
    },
  };
}

/** The demo's config: one camera, the temporary folder's keys and state, the broker. */
function demoConfig(dir: string, brokerUrl: string, camera: string, attendance: string): string {
  return [
    'cameras:',
    `  - ${camera}`,
    'gallery:',
    `  path: ${dir}/facegate.db`,
    `  key_file: ${dir}/gallery.key`,
    'mqtt:',
    '  enabled: true',
    `  url: ${brokerUrl}`,
    '  device_id: demo',
    `  device_key_file: ${dir}/device.key`,
    '  stats_interval_s: 0',
    'control:',
    `  socket_dir: ${dir}/run`,
    "  groups: { viewer: '', operator: '', admin: '' }",
    `attendance: ${attendance}`,
  ].join('\n');
}

/**
 * `npm start`: the real daemon with everything it needs made on the spot in a temporary folder
 * (keys, an encrypted gallery, a camera, a broker on 127.0.0.1), printing decisions and the MQTT
 * messages they become. Nothing of the user's is touched or needed. Without --camera the camera
 * shows a still photo, enrolled first: recognised, and refused as not live. With --camera, a real
 * camera: the first face it sees is enrolled, then checked in once live.
 */
export const demoCommand = command({
  words: ['demo'],
  summary: 'run the real daemon on a still photo (refused: not live) or on your camera or a video file (--camera: enrols the first face, then checks them in), with an in-process MQTT broker and a temporary encrypted gallery; print events as they arrive',
  usage: USAGE,
  options: { camera: { type: 'string' }, seconds: { type: 'string' }, keep: { type: 'boolean' }, broker: { type: 'string' }, photo: { type: 'string' } },
  async run({ values }, io) {
    if (values.camera !== undefined && values.photo !== undefined) throw new UsageError('give --camera or --photo, not both', USAGE);
    // --broker and --photo stand in for the two devDependencies (aedes, @vladmandic/face-api), so
    // the demo runs where only the runtime ones are installed: the container image, /opt/facegate.
    const external = values.broker !== undefined;
    const cameraUrl = values.camera === undefined ? undefined : await demoCameraUrl(values.camera, io);
    const broker = external ? { url: brokerUrl(values.broker as string), close: async () => undefined } : await startDemoBroker();
    const dir = mkdtempSync(join(tmpdir(), 'facegate-demo-'));
    const logger = createLogger({ level: 'warn', destination: readableLog(io) });
    let subscriber: mqtt.MqttClient | undefined;
    try {
      io.stdout(`facegate demo (files in ${dir})\n`);
      const configPath = join(dir, 'config.yaml');
      let yaml: string;
      let banner: string;
      let daemonOptions: Partial<RunDaemonOptions> = {};
      let config: Config;
      if (cameraUrl === undefined) {
        const photo = values.photo ?? samplePhoto(3);
        io.stdout(`  a camera showing a still photo (${values.photo ?? '@vladmandic/face-api demo/sample3.jpg, MIT'}); enrolling its faces...\n`);
        const frame = await stillFrame(photo);
        // The photo's path stands as the camera's URL: the frames come from stillPhotoSpawn, not FFmpeg.
        yaml = demoConfig(dir, broker.url, `{ name: demo-cam, url: ${JSON.stringify(photo)}, loop: true, width: ${frame.width}, height: ${frame.height}, fps: ${STILL_FPS} }`, '{ time_zone: UTC }');
        config = parseConfig(yaml, configPath);
        const names = await prepareDemoGallery(config, photo, logger);
        daemonOptions = { spawnCamera: stillPhotoSpawn(frame, STILL_FPS) };
        banner =
          `  enrolled ${names.length} people (${names.join(', ')}) in an encrypted gallery; broker on ${broker.url}\n` +
          '  The camera shows a photo of them, as someone holding a printed photo up to a door camera would.\n' +
          '  It is recognised, but a photo never blinks nor moves as a face does, so it is never live and no one is checked in:\n' +
          "  expect 'recognized ... not live yet', then 'spoof_suspected' (frozen: the picture never changes) and signed alerts on MQTT.\n" +
          '  To see a check-in, run it on your camera: npm start -- --camera rtsp://HOST/PATH (or /dev/video0, or a video file of a person). Ctrl-C stops.\n\n';
      } else {
        // A clip stands in for a camera: played in real time and looped, from the temporary config's folder too.
        const video = demoVideoFile(cameraUrl);
        const url = video ?? cameraUrl;
        io.stdout(video ? `  opening the video ${video}...\n` : '  connecting to the camera...\n');
        const size = await demoCameraSize(url);
        yaml = demoConfig(dir, broker.url, `{ name: demo-cam, url: ${JSON.stringify(url)}, width: ${size.width}, height: ${size.height}, input_args: ${JSON.stringify(demoInputArgs(url))}${video ? ', loop: true' : ''} }`, '{ time_zone: UTC, default_camera_role: entry }');
        config = parseConfig(yaml, configPath);
        await prepareDemoKeys(config, logger);
        const source = video ? `a video file played in real time and looped, ${size.width}x${size.height}` : `camera ${size.width}x${size.height}`;
        banner =
          `  ${source}${size.fps ? ` at ${size.fps} fps` : ''}; an empty encrypted gallery; broker on ${broker.url}\n` +
          (video
            ? '  The first face the video shows after the countdown is enrolled as "Demo visitor",\n'
            : '  Look at the camera: the first face it sees after the countdown is enrolled as "Demo visitor",\n') +
          '  then checked in once it is live (a blink, or the face moving as a face does). Ctrl-C stops.\n';
      }
      // The camera's URL may carry a password: the config is readable by this user only.
      writePrivateFile(configPath, yaml + '\n');
      const publicKey = pinnedKeyFromJwk(loadDeviceKey(config.mqtt.device_key_file).publicJwk)!;

      subscriber = await mqtt.connectAsync(broker.url, { clientId: 'demo-central', protocolVersion: 4 });
      await subscriber.subscribeAsync('facegate/demo/#', { qos: 1 });
      subscriber.on('message', (topic, payload) => {
        if (!/\/(alerts|attendance)/.test(topic)) return;
        const body = JSON.parse(payload.toString()) as { jws?: string; type?: string; person_id?: string | null; reason?: string };
        const verdict = verifySignedEvent(body, publicKey);
        const sig = verdict.ok ? 'signature ok' : verdict.problem === 'unsigned' ? 'unsigned' : 'BAD SIGNATURE';
        io.stdout(`  mqtt  ${topic}  ${body.type}${body.reason ? ` (${body.reason})` : ''}${body.person_id ? ` person ${body.person_id.slice(0, 8)}` : ''}  [${sig}]\n`);
      });

      const seconds = Number(values.seconds);
      const stopWhen = Number.isFinite(seconds) && seconds > 0 ? new Promise<void>((r) => setTimeout(r, seconds * 1000).unref()) : undefined;
      const code = await runDaemon({
        config,
        configPath,
        logger,
        notifier: createNotifier({ env: {}, warn: () => undefined }),
        env: {},
        ...daemonOptions,
        // aedes speaks MQTT 3.1.1: the demo connects with it; a real broker gets MQTT 5.
        ...(external ? {} : { mqttConnect: (url: string, options: mqtt.IClientOptions) => mqtt.connect(url, { ...options, protocolVersion: 4, properties: undefined }) }),
        ...(stopWhen ? { stopWhen } : {}),
        beforeStart: (bus) => {
          // What each face in view still waits for, said as it changes: the demo never looks stalled.
          const waiting = new WaitingLines();
          bus.on('trackViews', 'demo-waiting', (v) => {
            for (const line of waiting.update(v.camera, v.atMs, v.tracks)) io.stdout(line);
          });
        },
        onReady: (app) => {
          io.stdout(banner);
          const lines = new EventLines();
          app.bus.on('track', 'demo', (e) => {
            // Every event goes through, so that a track's name is known for its blinks and forgotten at its end.
            const line = lines.describe(e as unknown as Record<string, unknown>);
            if (e.type !== 'track_ended') io.stdout(line);
          });
          if (cameraUrl !== undefined) enrolFirstVisitor(app, io);
        },
      });
      io.stdout(code === 0 ? `facegate demo stopped; ${values.keep ? `its files are kept in ${dir}` : 'its keys and gallery are deleted'}. Goodbye.\n` : '');
      return code;
    } finally {
      await subscriber?.endAsync();
      await broker.close();
      if (!values.keep) rmSync(dir, { recursive: true, force: true });
    }
  },
});
