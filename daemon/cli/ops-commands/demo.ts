import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { compactVerify, importJWK } from 'jose';
import { parseConfig } from '../../config/load.js';
import { loadDeviceKey } from '../../events/device-key.js';
import { createLogger } from '../../base/log.js';
import { createNotifier } from '../../ops/sd-notify.js';
import { startDemoBroker } from '../../demo/broker.js';
import { prepareDemoGallery, samplePhoto, stillAsVideo } from '../../demo/site.js';
import { parseCommandArgs, UsageError, type Command } from '../command.js';
import { runDaemon } from './daemon.js';
import { describeEvent } from './control.js';

const USAGE = '[--seconds N] [--keep] [--broker URL] [--photo FILE]';

/**
 * `npm start`: the real daemon with everything it needs made on the spot in a temporary folder
 * (keys, an encrypted gallery, a clip, a broker on 127.0.0.1), printing decisions and the MQTT
 * messages they become. Nothing of the user's is touched or needed.
 */
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

export const demoCommand: Command = {
  words: ['demo'],
  summary: 'run the real daemon on a built-in clip, an in-process MQTT broker and a temporary encrypted gallery; print events as they arrive',
  usage: USAGE,
  async run(argv, io) {
    const { values } = parseCommandArgs(
      argv,
      { seconds: { type: 'string' }, keep: { type: 'boolean' }, broker: { type: 'string' }, photo: { type: 'string' } },
      USAGE,
    );
    // --broker and --photo stand in for the two devDependencies (aedes, @vladmandic/face-api), so
    // the demo runs where only the runtime ones are installed: the container image, /opt/facegate.
    const external = values.broker !== undefined;
    const broker = external ? { url: brokerUrl(values.broker as string), close: async () => undefined } : await startDemoBroker();
    const dir = mkdtempSync(join(tmpdir(), 'facegate-demo-'));
    const logger = createLogger({ level: 'warn' });
    let subscriber: mqtt.MqttClient | undefined;
    try {
      const photo = values.photo ?? samplePhoto(3);
      const clip = join(dir, 'still-photo.mp4');
      const yaml = [
        'cameras:',
        `  - { name: demo-cam, url: "${clip}", loop: true, width: 1280, height: 900, fps: 15 }`,
        'gallery:',
        `  path: ${dir}/facegate.db`,
        `  key_file: ${dir}/gallery.key`,
        'track: { liveness: { no_blink_alert_s: 6 } }',
        'mqtt:',
        '  enabled: true',
        `  url: ${broker.url}`,
        '  device_id: demo',
        `  device_key_file: ${dir}/device.key`,
        '  stats_interval_s: 0',
        'control:',
        `  socket_dir: ${dir}/run`,
        "  groups: { viewer: '', operator: '', admin: '' }",
        'attendance: { time_zone: UTC }',
      ].join('\n');
      const configPath = join(dir, 'config.yaml');
      writeFileSync(configPath, yaml + '\n');
      const config = parseConfig(yaml, configPath);
      const source = values.photo ?? '@vladmandic/face-api demo/sample3.jpg, MIT';
      io.stdout(`facegate demo (files in ${dir})\n  making a clip from a still photo (${source}) and enrolling its faces...\n`);
      stillAsVideo(photo, clip);
      const names = await prepareDemoGallery(config, photo, logger);
      const publicKey = await importJWK(loadDeviceKey(config.mqtt.device_key_file).publicJwk, 'EdDSA');

      subscriber = await mqtt.connectAsync(broker.url, { clientId: 'demo-central', protocolVersion: 4 });
      await subscriber.subscribeAsync('facegate/demo/#', { qos: 1 });
      subscriber.on('message', (topic, payload) => {
        if (!/\/(alerts|attendance)/.test(topic)) return;
        const body = JSON.parse(payload.toString()) as { jws?: string; type?: string; person_id?: string | null; reason?: string };
        void (body.jws ? compactVerify(body.jws, publicKey).then(() => 'signature ok', () => 'BAD SIGNATURE') : Promise.resolve('unsigned')).then((sig) =>
          io.stdout(`  mqtt  ${topic}  ${body.type}${body.reason ? ` (${body.reason})` : ''}${body.person_id ? ` person ${body.person_id.slice(0, 8)}` : ''}  [${sig}]\n`),
        );
      });

      const seconds = Number(values.seconds);
      const stopWhen = Number.isFinite(seconds) && seconds > 0 ? new Promise<void>((r) => setTimeout(r, seconds * 1000).unref()) : undefined;
      return await runDaemon({
        config,
        configPath,
        logger,
        notifier: createNotifier({ env: {}, warn: () => undefined }),
        env: {},
        // aedes speaks MQTT 3.1.1: the demo connects with it; a real broker gets MQTT 5.
        ...(external ? {} : { mqttConnect: (url: string, options: mqtt.IClientOptions) => mqtt.connect(url, { ...options, protocolVersion: 4, properties: undefined }) }),
        ...(stopWhen ? { stopWhen } : {}),
        onReady: (app) => {
          io.stdout(
            `  enrolled ${names.length} people (${names.join(', ')}) in an encrypted gallery; broker on ${broker.url}\n` +
              '  the camera shows a still photo: it is recognised, but a photo never blinks, so it is never live:\n' +
              "  expect 'recognized ... not live yet', then 'spoof_suspected no_blink' and signed alerts on MQTT. Ctrl-C stops.\n\n",
          );
          app.bus.on('track', 'demo', (e) => {
            if (e.type !== 'track_ended') io.stdout(describeEvent(e as unknown as Record<string, unknown>));
          });
        },
      });
    } finally {
      await subscriber?.endAsync();
      await broker.close();
      if (!values.keep) rmSync(dir, { recursive: true, force: true });
    }
  },
};
