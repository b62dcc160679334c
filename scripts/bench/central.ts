// `npm run bench -- central [--boxes 200] [--every-s 4] [--seconds 30] [--restart-s 5] [--pg-down-s 5] [--drain-s 240]`:
// many boxes into two central consumers on one PostgreSQL, at a busy morning's rate, and two
// disruptions. Everything is real but the boxes' cameras: each box is the daemon's own outbox →
// signer → MQTT bridge on its own SQLite file (test/support/events-stack.ts, fsync off: 200 state
// files share this machine's one disk), answering replay requests through its real command router;
// a real Mosquitto on 127.0.0.1; two `facegate central` processes (dist/, as systemd runs them) in
// one shared subscription group, with the docs' settings (session_expiry_s 60, replay at its
// defaults); Debian's PostgreSQL, started here. The figures are counts and wall-clock latencies,
// read from the database: each row's `received_at` (the consumer's clock as it stores it) against
// the moment the bench wrote the event on its box.
//
// A busy morning: at each box's door one person every `--every-s` seconds (4 s: 15 a minute, a
// queue), and each person two events: the track's end, named, on `<camera>/events`, and the
// check-in on `attendance` (which makes every consumer that stores it rewrite the day's timesheet).
// `--no-check-ins`: two track events instead, so that no timesheet is written.
//
// Three phases of `--seconds` each: steady; one consumer killed (SIGKILL) at the phase's start and
// started again `--restart-s` later, as systemd's Restart= would (0: never, so that what its
// session held waits for the session to expire and for replay); PostgreSQL stopped (fast: every
// session ended) at the phase's start and started again `--pg-down-s` later. Then the boxes stop
// writing, and the bench waits (at most `--drain-s`) until every event is stored, and counts.
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { Mosquitto, freePort } from '../../test/support/mosquitto.js';
import { EventsStack } from '../../test/support/events-stack.js';
import { answerReplays } from '../../test/support/replay-box.js';
import { CentralCli } from '../../test/support/central-cli.js';
import { PG_MISSING, Postgres } from '../../test/support/postgres.js';
import { formatLocalIso } from '../../daemon/base/zoned-time.js';
import { storedRate, tally, type SentEvent, type StoredRow } from './fleet-tally.js';

const ZONE = 'Europe/Berlin';
const PHASES = ['steady', 'consumer killed', 'PostgreSQL restarted'] as const;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      boxes: { type: 'string', default: '200' },
      'every-s': { type: 'string', default: '4' },
      seconds: { type: 'string', default: '30' },
      'restart-s': { type: 'string', default: '5' },
      'pg-down-s': { type: 'string', default: '5' },
      'drain-s': { type: 'string', default: '240' },
      'no-check-ins': { type: 'boolean', default: false },
    },
  });
  const nBoxes = Number(values.boxes);
  const everyMs = Number(values['every-s']) * 1000;
  const phaseMs = Number(values.seconds) * 1000;
  const restartMs = Number(values['restart-s']) * 1000;
  const pgDownMs = Number(values['pg-down-s']) * 1000;
  const drainMs = Number(values['drain-s']) * 1000;
  const checkIns = !values['no-check-ins'];
  if (PG_MISSING) throw new Error(PG_MISSING);
  if (!existsSync('dist/daemon/cli/main.js')) throw new Error('run `npm run build` first: the bench runs `facegate central` from dist/ as systemd would');

  const dir = mkdtempSync(join(tmpdir(), 'fg-bench-central-'));
  const broker = await Mosquitto.start();
  const pg = await Postgres.start();
  const boxes: EventsStack[] = [];
  const consumers: CentralCli[] = [];
  try {
    const url = await pg.createDatabase('central');
    writeFileSync(join(dir, 'store.url'), `${url}\n`, { mode: 0o600 });
    const commandKey = generateKeyPairSync('ed25519');
    let keyPath = '';
    for (let i = 0; i < nBoxes; i++) {
      const device = `gate-${String(i + 1).padStart(3, '0')}`;
      const boxDir = join(dir, device);
      mkdirSync(boxDir);
      const box = new EventsStack({ dbPath: join(boxDir, 'state.db'), keyPath: join(boxDir, 'device.key'), url: broker.url, baseTopic: `facegate/${device}`, clientId: `facegate-${device}`, fsync: false, announceMs: 60_000, reconnect: { minMs: 1000, maxMs: 30_000 } });
      keyPath = answerReplays(box, dir, commandKey);
      boxes.push(box);
    }
    const consumer = async (name: string) => {
      const port = await freePort();
      const path = join(dir, `${name}.yaml`);
      writeFileSync(
        path,
        stringify({
          broker: { url: broker.url, client_id: name, shared_group: 'central', session_expiry_s: 60 },
          subscribe: ['facegate/+'],
          pinning: 'provisioned',
          keys: Object.fromEntries(boxes.map((b) => [b.baseTopic, { ...b.key.publicJwk }])),
          store: { kind: 'postgres', url_file: join(dir, 'store.url') },
          timesheet_dir: join(dir, `${name}-timesheets`),
          time_zone: ZONE,
          replay: { command_key: keyPath },
          metrics_port: port,
        }),
      );
      const c = new CentralCli(path, port);
      consumers.push(c);
      await until(() => c.logLines().some((l) => l.msg === 'central consumer subscribed'), 30_000, `${name} to subscribe:\n${c.output}`);
      return c;
    };
    const a = await consumer('central-a');
    await consumer('central-b');
    for (const b of boxes) b.start();
    await until(() => boxes.every((b) => b.bridge.connected), 60_000, 'every box to connect');

    const offered = (nBoxes * 2 * 1000) / everyMs;
    console.log(`central bench: ${nBoxes} boxes, one person every ${everyMs / 1000} s at each (2 events: ${checkIns ? 'track end + check-in' : 'track new + track end, no check-in'}), offered ${offered.toFixed(1)} events/s; 2 consumers (dist/) in one shared group on Mosquitto ${broker.url}, PostgreSQL ${pg.port}; ${PHASES.length} phases of ${phaseMs / 1000} s`);

    const sent: SentEvent[] = [];
    // Each box's next person, spread evenly over the first interval so the boxes do not write in step.
    const next = boxes.map((_, i) => Date.now() + (i * everyMs) / nBoxes);
    const people = boxes.map(() => 0);
    let phase: string = PHASES[0];
    let writing = true;
    const writer = (async () => {
      while (writing) {
        const now = Date.now();
        for (let i = 0; i < boxes.length; i++) {
          if (next[i]! > now) continue;
          next[i]! += everyMs;
          const box = boxes[i]!;
          const n = ++people[i]!;
          const person = `emp-${i + 1}-${n}`;
          const write = box.db.transaction(() => {
            const track = box.writer.write('trackEvent', { type: 'end', camera: 'door', track: n, state: 'recognized', person_id: person, anonymous_id: null, score: 0.71, margin: 0.2, live: true, antispoof: 0.97, liveness: null, assurance: 'live', reasons: [], face_px: 140, image_sha256: null }, now, { camera: 'door' });
            if (!checkIns) return [track, box.writer.write('trackEvent', { type: 'new', camera: 'door', track: n + 1_000_000, state: 'tracking', person_id: null, anonymous_id: null, score: null, margin: null, live: false, antispoof: null, liveness: null, assurance: null, reasons: [], face_px: 120, image_sha256: null }, now, { camera: 'door' })];
            const checkIn = box.writer.write('attendance', { type: 'check_in', record_id: `r-${i + 1}-${n}`, person_id: person, external_id: person, group: null, camera: 'door', date: formatLocalIso(now, ZONE).slice(0, 10), shift: null, status: 'unscheduled', source: 'entry', assurance: 'live', liveness: { score: 4.6, blink: 2.3, structure: 2.3, passive: 0, surround: 0, screen: 0 }, late_minutes: 0, early_minutes: 0, overtime_minutes: 0, check_in: formatLocalIso(now, ZONE), check_out: null, worked_minutes: null }, now);
            return [track, checkIn];
          });
          const writtenMs = Date.now();
          for (const id of write()) sent.push({ id, writtenMs, phase });
        }
        await sleep(20);
      }
    })();

    const t0 = Date.now();
    const marks: number[] = [t0];
    await sleep(phaseMs);
    phase = PHASES[1];
    marks.push(Date.now());
    a.proc.kill('SIGKILL');
    if (restartMs > 0) {
      await sleep(restartMs);
      await a.restart();
    }
    await sleep(phaseMs - restartMs);
    phase = PHASES[2];
    marks.push(Date.now());
    await pg.stop('fast');
    await sleep(pgDownMs);
    await pg.start();
    await sleep(phaseMs - pgDownMs);
    writing = false;
    await writer;
    const stopMs = Date.now();
    marks.push(stopMs);

    const ids = new Set(sent.map((s) => s.id));
    const count = async () => Number((await pg.query<{ n: string }>('central', 'SELECT count(*) AS n FROM central_events')).at(0)!.n);
    let stored = 0;
    const drainEnd = Date.now() + drainMs;
    while (Date.now() < drainEnd) {
      stored = await count().catch(() => stored);
      if (stored >= ids.size) break;
      await sleep(1000);
    }
    const drainedMs = Date.now();
    const rows: StoredRow[] = (await pg.query<{ id: string; base: string; seq: string | null; received_at: string }>('central', 'SELECT id, base, seq, received_at FROM central_events')).map((r) => ({ id: r.id, base: r.base, seq: r.seq === null ? null : Number(r.seq), storedMs: Date.parse(r.received_at) }));
    const checkInsStored = Number((await pg.query<{ n: string }>('central', 'SELECT count(*) AS n FROM central_attendance')).at(0)!.n);
    const asked = (await pg.query<{ requests: string | null; numbers: string | null; boxes: string }>('central', 'SELECT sum(requests) AS requests, sum(numbers) AS numbers, count(*) AS boxes FROM central_replay_asked')).at(0)!;
    const t = tally(sent, rows, PHASES);

    console.log('');
    console.log('| phase | events sent | stored/s (mean, slowest s, busiest s) | written → stored p50 | p95 | max | not stored |');
    console.log('|---|---|---|---|---|---|---|');
    for (const [k, p] of t.phases.entries()) {
      const rate = storedRate(rows, marks[k]!, marks[k + 1]!);
      console.log(`| ${p.phase} | ${p.sent} | ${rate.mean.toFixed(1)} (${rate.min}, ${rate.max}) | ${fmt(p.p50Ms)} | ${fmt(p.p95Ms)} | ${fmt(p.maxMs)} | ${p.lost} |`);
    }
    const after = storedRate(rows, stopMs, Math.max(stopMs + 1000, drainedMs));
    console.log('');
    console.log(`after the boxes stopped: ${((drainedMs - stopMs) / 1000).toFixed(1)} s until ${stored >= ids.size ? 'every event was stored' : `the drain limit (${drainMs / 1000} s)`}, ${after.mean.toFixed(1)} stored/s meanwhile`);
    console.log(`in all: ${t.sent} sent, ${t.stored} stored, ${t.lost} not stored${t.lost > 0 ? ' (at the drain limit: lost, or still queued)' : ''}, ${t.doubled} stored twice (by id or by box and number), ${t.foreign} rows not sent; ${checkInsStored} check-ins stored of ${checkIns ? t.sent / 2 : 0} sent`);
    console.log(`replay: ${asked.requests ?? 0} requests for ${asked.numbers ?? 0} numbers, to ${asked.boxes} boxes`);
    for (const c of consumers) {
      const m = await c.metrics().catch(() => new Map<string, number>());
      console.log(`${c.configPath.replace(/^.*\//, '').replace('.yaml', '')} (since its last start): ${JSON.stringify(Object.fromEntries(m))}`);
    }
  } finally {
    for (const c of consumers) await c.stop();
    for (const b of boxes) await b.stop().catch(() => {});
    await broker.dispose();
    await pg.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

function fmt(ms: number): string {
  return Number.isNaN(ms) ? '–' : ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(0)} ms`;
}

async function until(ok: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
