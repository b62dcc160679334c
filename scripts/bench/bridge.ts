// `npm run bench -- bridge [--events N] [--rate R]`: latency from the decision (the write to the
// box's outbox) to the central consumer's commit of the verified event, through a site Mosquitto
// bridged (QoS 1, cleansession false) to a central Mosquitto, the consumer on a shared
// subscription. Paced at R events per second (default 20: a busy site's door), both brokers and
// every process on 127.0.0.1 of one machine, SQLite with fsync on both ends.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { Mosquitto } from '../../test/support/mosquitto.js';
import { EventsStack, quietLogger } from '../../test/support/events-stack.js';
import { parseCentralConfig } from '../../central/config.js';
import { CentralStore } from '../../central/store.js';
import { CentralConsumer } from '../../central/consumer.js';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { events: { type: 'string', default: '1000' }, rate: { type: 'string', default: '20' } } });
  const events = Number(values.events);
  const rate = Number(values.rate);
  const dir = mkdtempSync(join(tmpdir(), 'fg-bench-bridge-'));
  const central = await Mosquitto.start();
  const site = await Mosquitto.start({ bridge: { port: central.port, topic: 'facegate/#', clientId: 'bench-bridge' } });
  const box = new EventsStack({ dbPath: join(dir, 'box.db'), keyPath: join(dir, 'box.key'), url: site.url, baseTopic: 'facegate/gate-1', clientId: 'bench-box' });
  const config = parseCentralConfig(
    `broker: { url: "${central.url}", client_id: bench-central, shared_group: central }\npinning: provisioned\nkeys: { facegate/gate-1: ${JSON.stringify(box.key.publicJwk)} }\ndatabase: ${join(dir, 'central.db')}\ntimesheet_dir: ${join(dir, 'ts')}\n`,
    'bench',
  );
  const store = CentralStore.open(config.database);
  const started = new Map<string, number>();
  const latencies: number[] = [];
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => (done = r));
  const consumer = new CentralConsumer({
    config, store, logger: quietLogger(), connect: mqtt.connect,
    onAccepted: (_base, signed) => {
      const t0 = started.get(signed.id as string);
      if (t0 === undefined) return;
      latencies.push(performance.now() - t0);
      started.delete(signed.id as string);
      if (latencies.length === events) done();
    },
  });
  consumer.start();
  await consumer.ready;
  box.start();
  await new Promise<void>((r) => box.bridge.onConnect(() => r()));
  const write = box.db.transaction((i: number) => box.writer.write('unknown', { type: 'unknown', camera: 'gate', anonymous_id: `anon-${i}`, face_px: 96, image_sha256: null }));
  const t0 = performance.now();
  for (let i = 0; i < events; i++) {
    const t = performance.now();
    started.set(write(i), t);
    const wait = t0 + ((i + 1) * 1000) / rate - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  await finished;
  await consumer.stop();
  await box.stop();
  store.close();
  await site.dispose();
  await central.dispose();
  rmSync(dir, { recursive: true, force: true });
  latencies.sort((a, b) => a - b);
  console.log(
    `box → site Mosquitto → bridge → central Mosquitto → $share consumer, paced ${rate}/s, ${events} events: ` +
      `decision→stored centrally p50 ${percentile(latencies, 50).toFixed(1)} ms, p95 ${percentile(latencies, 95).toFixed(1)} ms, max ${latencies[latencies.length - 1]!.toFixed(1)} ms`,
  );
}
