// `npm run bench -- feed [--people 10000] [--changes 1000] [--boxes 3] [--subscribers 200] [--templates 3] [--publish-every 1] [--receive-maximum 1]`:
// the gallery feed at a fleet's size, through a real Mosquitto on 127.0.0.1.
//
// - The central: the code of `facegate central feed enrol|update|erase` (central/feed.ts and its
//   SQLite FeedStore: each person encrypted once under the site's key, which a key entry wraps to
//   every box of the site; signed), the changes then published as the
//   command publishes them (`publishPending`, one broker connection per command; `--publish-every
//   N`: one for every N changes, as a script calling the code would); the first people in one
//   batch, as an import would.
// - `--boxes` real boxes: the daemon itself, from dist/ as systemd runs it (`facegate daemon`, its
//   own process, a sealed gallery file, mqtt.feed on, no camera), each followed by the signed
//   report it publishes after the entries it applied (<base>/bridge/feed: the number applied and
//   the persons it holds), which it sends half a second after the last entry it applied.
// - `--subscribers` simulated boxes in a second process (feed-subscribers.ts): one MQTT connection
//   each, checking every entry's signature, opening the site's key wrapped to it and each person
//   with it, keeping nothing.
//
// Two phases: the site's first read (people enrolled and published before any box is online; then
// every box subscribes at once and reads the compacted log), and `--changes` changes while every
// box is online (every 10th an erasure, every 5th a new person, the rest a person's new templates
// and name). For each: the time until every box holds the log's head, and the bytes each box took
// off the broker. Timings here are wall-clock on whatever machine runs it: say which.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { Mosquitto } from '../../test/support/mosquitto.js';
import mqtt from 'mqtt';
import { centralKeyFiles } from '../../test/support/feed-box.js';
import { feedReportTopic } from '../../contract/feed.js';
import { createKeyFile } from '../../daemon/gallery/key-source.js';
import { ensureDeviceKey } from '../../daemon/events/device-key.js';
import { loadCentralConfig } from '../../central/config.js';
import { FeedStore } from '../../central/feed-store.js';
import { feedEnrol, feedErase, feedUpdate, loadSodium, type TemplateFile } from '../../central/feed.js';
import { feedParts, publishPending } from '../../central/feed-command.js';
import { defaultConfig } from '../../daemon/config/load.js';
import { maxPacketBytes } from '../../daemon/events/mqtt-options.js';
import { DaemonProcess } from '../../test/ops/daemon-harness.js';
import { rssMiB } from './daemon-run.js';

const SITE = 'hq';
const ROOT = 'facegate-feed';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A person's templates: unit vectors of 512 from a seeded generator (mulberry32), so that every
 * person is another face to the boxes' duplicate check (random directions in 512 dimensions are
 * all but orthogonal), and each of their templates near their first, as one face's photos are.
 */
function templates(seed: number, n: number): TemplateFile['templates'] {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  };
  const face = Array.from({ length: 512 }, next);
  return Array.from({ length: n }, () => {
    const v = face.map((x) => x + 0.1 * next());
    const norm = Math.hypot(...v);
    return { embedding: v.map((x) => x / norm), quality: 0.9, model: 'fr_feature' };
  });
}

interface SimAnswer {
  head: number;
  ms: number;
  bytes: number[];
  messages: number[];
  refused: number;
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      people: { type: 'string', default: '10000' },
      changes: { type: 'string', default: '1000' },
      boxes: { type: 'string', default: '3' },
      subscribers: { type: 'string', default: '200' },
      templates: { type: 'string', default: '3' },
      'publish-every': { type: 'string', default: '1' },
      // What every box declares (mqtt.receive_maximum), 1 as a large site sets it, with its broker
      // refusing packets larger than a box takes (max_packet_size, mqtt.max_packet_mb).
      'receive-maximum': { type: 'string', default: '1' },
    },
  });
  const [people, changes, nBoxes, nSims, nTemplates, publishEvery] = [values.people, values.changes, values.boxes, values.subscribers, values.templates, values['publish-every']].map(Number) as [number, number, number, number, number, number];
  if (!existsSync('dist/daemon/cli/main.js')) throw new Error('run `npm run build` first: the real boxes are the daemon from dist/, as systemd runs it');
  const dir = mkdtempSync(join(tmpdir(), 'fg-bench-feed-'));
  const broker = await Mosquitto.start({ maxPacketBytes: maxPacketBytes(defaultConfig().mqtt) });
  const daemons: RealBox[] = [];
  let reports: mqtt.MqttClient | undefined;
  let sims: ReturnType<typeof spawn> | undefined;
  let sampler: NodeJS.Timeout | undefined;
  try {
    const sodium = await loadSodium();
    const central = centralKeyFiles(dir);
    // Every box's key before the first entry, as an installer provisions them (keys init, export-public).
    const real = Array.from({ length: nBoxes }, (_, i) => {
      const device = `gate-${i + 1}`;
      mkdirSync(join(dir, device));
      return { device, jwk: ensureDeviceKey(join(dir, device, 'device.key')).key.publicJwk };
    });
    const simulated = Array.from({ length: nSims }, (_, i) => {
      const seed = randomBytes(32);
      return { device: `sim-${i + 1}`, seed: seed.toString('base64'), x: Buffer.from(sodium.crypto_sign_seed_keypair(seed).publicKey).toString('base64url') };
    });
    const configPath = join(dir, 'central.yaml');
    writeFileSync(
      configPath,
      stringify({
        broker: { url: broker.url, client_id: 'central-bench' },
        pinning: 'provisioned',
        keys: { ...Object.fromEntries(real.map((b) => [`facegate/${b.device}`, { ...b.jwk }])), ...Object.fromEntries(simulated.map((s) => [`facegate/${s.device}`, { kty: 'OKP', crv: 'Ed25519', x: s.x }])) },
        replay: { command_key: central.privateFile },
        feed: { database: join(dir, 'central-feed.db'), topic: ROOT, sites: { [SITE]: [...real, ...simulated].map((b) => `facegate/${b.device}`) } },
      }),
    );
    const config = loadCentralConfig(configPath);
    // The simulated boxes' process answers each head asked for with one line, in order.
    let answers: AsyncIterator<string> | undefined = undefined;
    const simsAt = async (head: number): Promise<SimAnswer> => {
      sims!.stdin!.write(`${JSON.stringify({ head })}\n`);
      for (;;) {
        const next = await answers!.next();
        if (next.done) throw new Error('the simulated boxes ended');
        const a = JSON.parse(next.value) as SimAnswer | { ready: number };
        if ('head' in a) return a;
      }
    };
    const store = FeedStore.open(config.feed.database);
    const parts = feedParts(config, store, sodium);
    const io = { env: process.env };

    console.log(`feed bench: ${people} people then ${changes} changes, ${nTemplates} templates each, for ${nBoxes + nSims} boxes (${nBoxes} real, ${nSims} simulated); Mosquitto ${broker.url}`);
    let t = performance.now();
    for (let i = 0; i < people; i++) feedEnrol(parts, { site: SITE, externalId: `EMP-${i + 1}`, name: `Person ${i + 1}`, group: 'staff', templates: templates(i + 1, nTemplates) });
    const sealedMs = performance.now() - t;
    const entryBytes = store.pending().reduce((n, p) => n + p.message.length, 0);
    const keyBytes = store.pending()[0]?.message.length ?? 0;
    t = performance.now();
    await publishPending(store, config, io);
    const publishedMs = performance.now() - t;
    console.log(`central: ${people} entries encrypted, signed and stored in ${(sealedMs / 1000).toFixed(1)} s, published in ${(publishedMs / 1000).toFixed(1)} s; ${(entryBytes / people / 1024).toFixed(1)} KiB an entry, ${mib(entryBytes)} the log (its key entry ${(keyBytes / 1024).toFixed(1)} KiB)`);

    // Phase 1: every box comes online at once and reads the compacted log.
    const specPath = join(dir, 'sims.json');
    writeFileSync(specPath, JSON.stringify({ url: broker.url, root: ROOT, site: SITE, receiveMaximum: Number(values['receive-maximum']), centralPublicPem: central.publicKey.export({ type: 'spki', format: 'pem' }), boxes: simulated.map((s) => ({ device: s.device, seed: s.seed })) }));
    sims = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'feed-subscribers.ts'), specPath], { stdio: ['pipe', 'pipe', 'inherit'] });
    answers = createInterface({ input: sims.stdout! })[Symbol.asyncIterator]();
    // Connected, not yet subscribed: the clock starts when the boxes start and the simulated ones subscribe.
    if (nSims > 0) await answers.next();
    // The real boxes' signed reports: how far each is, and what it holds.
    const byDevice = new Map<string, RealBox>();
    reports = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'bench-reports' });
    reports.on('message', (_topic, payload) => {
      const r = JSON.parse(payload.toString()) as { device: string; applied: number; persons: number; refused: { reason: string }[] };
      const box = byDevice.get(r.device);
      if (box) Object.assign(box, { applied: r.applied, persons: r.persons, refused: r.refused.map((x) => x.reason) });
    });
    await reports.subscribeAsync(feedReportTopic('facegate/+'), { qos: 1 });
    t = performance.now();
    const firstRead = nSims > 0 ? simsAt(store.head(SITE)) : Promise.resolve(undefined);
    for (const b of real) {
      createKeyFile(sodium, join(dir, b.device, 'gallery.key'));
      const box = startDaemon(join(dir, b.device), b.device, broker.url, central.publicFile, Number(values['receive-maximum']));
      byDevice.set(b.device, box);
      daemons.push(box);
    }
    // The broker's memory is what bounds a fleet's first read: its peak over each phase.
    let brokerPeak = 0;
    sampler = setInterval(() => (brokerPeak = Math.max(brokerPeak, broker.pid === undefined ? 0 : rssMiB(broker.pid))), 200);
    const converge = async (head: number, simAnswer?: Promise<SimAnswer | undefined>) => {
      const [simAnswer2] = await Promise.all([
        simAnswer ?? (nSims > 0 ? simsAt(head) : Promise.resolve(undefined)),
        (async () => {
          for (const b of daemons) b.atHeadMs = undefined;
          for (;;) {
            for (const b of daemons) if (b.applied >= head) b.atHeadMs ??= performance.now() - t;
            if (daemons.every((b) => b.atHeadMs !== undefined)) break;
            const ended = daemons.find((b) => b.daemon.child.exitCode !== null);
            if (ended) throw new Error(`the daemon of ${ended.device} ended (${ended.daemon.child.exitCode}): ${ended.daemon.log.slice(-2000)}`);
            await sleep(50);
          }
        })(),
      ]);
      return { ms: performance.now() - t, sim: simAnswer2 };
    };
    const head1 = store.head(SITE);
    const first = await converge(head1, firstRead);
    report('first read', head1, first.ms, first.sim?.bytes ?? [], daemons);
    console.log(`  Mosquitto's resident memory at most ${brokerPeak.toFixed(1)} MiB`);
    brokerPeak = 0;

    // Phase 2: changes while every box is online, each published as one command would.
    const live = Array.from({ length: people }, (_, i) => `EMP-${i + 1}`);
    let enrolled = people;
    t = performance.now();
    for (let i = 0; i < changes; i++) {
      if (i % 10 === 9) feedErase(parts, { site: SITE, externalId: live.splice(i % live.length, 1)[0]! });
      else if (i % 5 === 4) {
        enrolled++;
        live.push(`EMP-${enrolled}`);
        feedEnrol(parts, { site: SITE, externalId: `EMP-${enrolled}`, name: `Person ${enrolled}`, templates: templates(enrolled, nTemplates) });
      } else {
        const id = live[(i * 7919) % live.length]!;
        feedUpdate(parts, { site: SITE, externalId: id, name: `${id} renamed ${i}`, templates: templates(people + changes + i + 1, nTemplates) });
      }
      if (i % publishEvery === publishEvery - 1) await publishPending(store, config, io);
    }
    await publishPending(store, config, io);
    const publishMs = performance.now() - t;
    const head2 = store.head(SITE);
    const second = await converge(head2);
    const simBefore = first.sim?.bytes ?? [];
    report(`${changes} changes`, head2, second.ms, (second.sim?.bytes ?? []).map((b, i) => b - (simBefore[i] ?? 0)), daemons);
    clearInterval(sampler);
    console.log(`  Mosquitto's resident memory at most ${brokerPeak.toFixed(1)} MiB`);
    console.log(`  (the central made and published the ${changes} changes in ${(publishMs / 1000).toFixed(1)} s, one broker connection for every ${publishEvery}; the time above includes it)`);
    const persons = daemons.map((b) => b.persons);
    console.log(`every real box holds ${persons.join(', ')} persons (the log's live people: ${live.length}); entries the simulated boxes refused: ${second.sim?.refused ?? 0}`);
    console.log(`the log: ${store.live(SITE).length} live entries, head ${head2}`);
    store.close();
  } finally {
    clearInterval(sampler);
    sims?.stdin?.end();
    sims?.kill();
    await reports?.endAsync().catch(() => {});
    await Promise.all(daemons.map((b) => b.daemon.kill()));
    await broker.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

function mib(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

/** A real box: the daemon from dist/, and what its last signed feed report said. */
interface RealBox {
  device: string;
  daemon: DaemonProcess;
  applied: number;
  persons: number;
  refused: string[];
  /** When its report first named the head asked for, ms from the phase's start. */
  atHeadMs?: number | undefined;
}

/** Starts `facegate daemon` for one box in `dir` (its device and gallery keys made there already): a new gallery, the site's feed on, no camera. */
function startDaemon(dir: string, device: string, url: string, centralPublicFile: string, receiveMaximum: number): RealBox {
  const config = join(dir, 'facegate.yaml');
  writeFileSync(
    config,
    stringify({
      gallery: { path: join(dir, 'state.db'), key_file: join(dir, 'gallery.key') },
      mqtt: { enabled: true, url, device_id: device, device_key_file: join(dir, 'device.key'), receive_maximum: receiveMaximum, commands: { central_public_key: centralPublicFile }, feed: { enabled: true, site: SITE, topic: ROOT } },
      metrics: { enabled: false },
      control: { enabled: false },
      attendance: { time_zone: 'Europe/Berlin' },
    }),
  );
  return { device, daemon: new DaemonProcess(config), applied: 0, persons: 0, refused: [] };
}

function report(phase: string, head: number, ms: number, sim: number[], daemons: RealBox[]): void {
  const refused = daemons.map((b) => b.refused.join(' ') || 'none');
  const bytes = sim.length ? `; per simulated box ${mib(Math.min(...sim))}–${mib(Math.max(...sim))} off the broker, ${mib(sim.reduce((a, b) => a + b, 0))} in all (the real boxes read the same subscription)` : '';
  console.log(`${phase}: every box at entry ${head} after ${(ms / 1000).toFixed(1)} s (the real boxes after ${daemons.map((b) => ((b.atHeadMs ?? NaN) / 1000).toFixed(1)).join(', ')} s)${bytes}; the real boxes report ${daemons.map((b) => `${b.applied} applied, ${b.persons} persons`).join(' / ')}, refused ${refused.join(' / ')}`);
}
