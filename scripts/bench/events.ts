// `npm run bench -- events [--events N] [--paced-rate R]`: events per second through
// outbox → Mosquitto → PUBACK, and latency from the decision (the write) to the PUBACK, with
// SQLite fsync on every commit (synchronous=FULL, the daemon's setting) and without (NORMAL).
// Each event is its own transaction, as a live decision would be. Mosquitto runs on 127.0.0.1.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Mosquitto } from '../../test/support/mosquitto.js';
import { EventsStack, Subscriber } from '../../test/support/events-stack.js';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function once(url: string, fsync: boolean, events: number, ratePerS: number | undefined): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'fg-bench-events-'));
  const started = new Map<string, number>();
  const latencies: number[] = [];
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => (done = r));
  const stack = new EventsStack({
    dbPath: join(dir, 'state.db'),
    keyPath: join(dir, 'device.key'),
    url,
    clientId: `bench-${fsync}-${ratePerS ?? 'burst'}`,
    fsync,
    onAcknowledged: (row) => {
      const t0 = started.get(row.eventId);
      if (t0 === undefined) return;
      latencies.push(performance.now() - t0);
      started.delete(row.eventId);
      if (latencies.length === events) done();
    },
  });
  stack.start();
  await new Promise<void>((r) => stack.bridge.onConnect(() => r()));
  const body = { type: 'check_in' as const, record_id: 'r', person_id: 'emp-1', external_id: 'emp-1', group: null, camera: 'gate', date: '2026-01-12', shift: null, status: 'unscheduled' as const, source: 'entry' as const, assurance: 'live' as const, liveness: null, late_minutes: 0, early_minutes: 0, overtime_minutes: 0, check_in: null, check_out: null, worked_minutes: null };
  const write = stack.db.transaction(() => stack.writer.write('attendance', body));
  const t0 = performance.now();
  for (let i = 0; i < events; i++) {
    const t = performance.now();
    const id = write();
    started.set(id, t);
    if (ratePerS) {
      const next = t0 + ((i + 1) * 1000) / ratePerS;
      const wait = next - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    } else if (i % 64 === 63) {
      await new Promise((r) => setImmediate(r)); // let PUBACKs in, as a live pipeline would
    }
  }
  await finished;
  const seconds = (performance.now() - t0) / 1000;
  await stack.stop();
  rmSync(dir, { recursive: true, force: true });
  latencies.sort((a, b) => a - b);
  const mode = ratePerS ? `paced ${ratePerS}/s` : 'burst';
  return `${fsync ? 'fsync per event   ' : 'no fsync (NORMAL) '} ${mode.padEnd(11)} ${events} events: ${(events / seconds).toFixed(0).padStart(6)} events/s, decision→PUBACK p50 ${percentile(latencies, 50).toFixed(2)} ms, p95 ${percentile(latencies, 95).toFixed(2)} ms, max ${latencies[latencies.length - 1]!.toFixed(2)} ms`;
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { events: { type: 'string', default: '5000' }, 'paced-rate': { type: 'string', default: '200' } } });
  const events = Number(values.events);
  const rate = Number(values['paced-rate']);
  const broker = await Mosquitto.start();
  // A persistent central subscriber, as in production (the broker forwards every event to it).
  const central = await Subscriber.connect(broker.url, 'facegate/+/attendance', 'bench-central', {}, false);
  try {
    console.log(`events bench: mosquitto on ${broker.url}, each event signed (Ed25519 JWS) and committed in its own SQLite transaction (WAL)`);
    for (const fsync of [true, false]) {
      console.log(await once(broker.url, fsync, events, undefined));
      console.log(await once(broker.url, fsync, Math.min(events, rate * 5), rate));
    }
  } finally {
    await central.close();
    await broker.dispose();
  }
}
