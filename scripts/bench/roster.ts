// `npm run bench -- roster [--people 500] [--sources N] [--keep]` (after `npm run build`): the time to enrol a
// site's staff from a roster, through the built CLI as an installer runs it
// (`facegate person import-roster ROSTER.csv --photos DIR --config FILE --json`, on a state file of
// its own, no daemon), and the people per second it makes, with and without the start (the models
// loaded before the first row).
//
// The faces: ../shared/media holds real photos of about twenty people (identities/deepface and
// identities/face_recognition, the single-face ones), not 500. A roster of 500 is made of those
// photos again under other staff numbers, each reuse a variant of its own (mirrored, cropped a few
// per cent off one side, a little lighter or darker: sharp), so that no two photos are the same
// bytes. The duplicate-face rule would refuse every reuse as "already enrolled as someone else",
// as it should, and then the second and later people would cost less than a real person does (no
// template sealed and written); so the bench's config sets recognition.threshold to 1.0, under which
// no two photos match and each reuse is enrolled as a person. What this means: every row does the
// work a real person's does (read, decode, detect, landmarks, embed, quality gate, the duplicate
// search over the gallery as it grows, the sealed write, the audit entry), but the gallery holds
// twenty faces 25 times over, so nothing here says how well 500 people are told apart.
// `--sources N` takes only the first N photos (a short run that reuses photos all the same).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { packageRoot } from '../../daemon/base/paths.js';
import { createKeyFile } from '../../daemon/gallery/key-source.js';
import { loadSodium } from '../../daemon/gallery/sodium.js';
import { media } from '../../test/support/media.js';

const SOURCES = ['identities/deepface', 'identities/face_recognition'];
/** Photos of more than one face, a reflection or half a face: a roster holds one person a photo. */
const NOT_ONE_FACE = /couple|two_people|_and_|with_rose|reflection|partial|target/;

/** The real single-face photos of the media folder. */
function sourcePhotos(): string[] {
  return SOURCES.flatMap((dir) =>
    readdirSync(media(dir))
      .filter((f) => /\.(jpe?g|png)$/i.test(f) && !NOT_ONE_FACE.test(f))
      .sort()
      .map((f) => media(`${dir}/${f}`)),
  );
}

/** Reuse `round` (1, 2 ...) of a photo: mirrored every other round, cropped 2-8 % off one side, 3 % lighter or darker a round. */
async function variant(source: string, round: number, out: string): Promise<void> {
  const image = sharp(source).rotate();
  const { width, height } = await image.metadata();
  const cut = ((round % 4) + 1) * 0.02;
  const side = round % 4;
  const w = width!;
  const h = height!;
  const dx = side === 1 ? Math.round(w * cut) : 0;
  const dy = side === 2 ? Math.round(h * cut) : 0;
  const cw = w - (side === 0 || side === 1 ? Math.round(w * cut) : 0);
  const ch = h - (side === 2 || side === 3 ? Math.round(h * cut) : 0);
  let pipeline = image.extract({ left: dx, top: dy, width: cw - dx, height: ch - dy });
  if (round % 2 === 1) pipeline = pipeline.flop();
  await pipeline
    .modulate({ brightness: 1 + (round % 2 === 0 ? 0.03 : -0.03) * Math.ceil(round / 2) })
    .jpeg({ quality: 92 })
    .toFile(out);
}

/** Runs the built CLI; resolves with its exit status, and when each stdout line arrived (ms since the start). */
function importRoster(cli: string, args: string[]): Promise<{ code: number | null; lines: { atMs: number; text: string }[]; stderr: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FACEGATE_CONFIG: '' } });
    const lines: { atMs: number; text: string }[] = [];
    let partial = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      const parts = (partial + d.toString()).split('\n');
      partial = parts.pop()!;
      for (const text of parts) lines.push({ atMs: performance.now() - started, text });
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, lines, stderr, ms: performance.now() - started }));
  });
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { people: { type: 'string', default: '500' }, sources: { type: 'string' }, keep: { type: 'boolean', default: false } } });
  const people = Number(values.people);
  if (!Number.isInteger(people) || people < 1 || people > 5000) throw new Error('--people is a whole number from 1 to 5000 (a roster takes at most 5000 rows)');
  const cli = join(packageRoot(), 'dist/daemon/cli/main.js');
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first`);
  const sources = sourcePhotos().slice(0, values.sources === undefined ? undefined : Math.max(1, Number(values.sources) || 1));
  if (sources.length === 0) throw new Error(`no photos in ${SOURCES.map(media).join(', ')}`);

  const dir = mkdtempSync(join(tmpdir(), 'fg-bench-roster-'));
  try {
    const photos = join(dir, 'photos');
    mkdirSync(photos);
    const rows = ['name,staff number,group'];
    for (let i = 0; i < people; i++) {
      const staff = `S${String(i + 1).padStart(4, '0')}`;
      const source = sources[i % sources.length]!;
      const round = Math.floor(i / sources.length);
      // The first use of a photo is the photo itself, linked (never copied); each reuse a variant of its own.
      if (round === 0) symlinkSync(source, join(photos, `${staff}${source.slice(source.lastIndexOf('.')).toLowerCase()}`));
      else await variant(source, round, join(photos, `${staff}.jpg`));
      rows.push(`Person ${i + 1},${staff},bench`);
    }
    writeFileSync(join(dir, 'roster.csv'), rows.join('\n') + '\n');
    createKeyFile(await loadSodium(), join(dir, 'gallery.key'));
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      [
        'gallery:',
        `  path: ${dir}/state.db`,
        `  key_file: ${dir}/gallery.key`,
        'mqtt:',
        '  enabled: false',
        `  device_key_file: ${dir}/device.key`,
        // No two photos match, so each reuse of a photo is a person of its own (see the top of this file).
        'recognition:',
        '  threshold: 1.0',
      ].join('\n') + '\n',
    );
    console.log(`roster of ${people} people from ${sources.length} real photos (each reused ${Math.ceil(people / sources.length) - 1} more time(s) as a variant); folder ${dir}`);

    const r = await importRoster(cli, ['person', 'import-roster', join(dir, 'roster.csv'), '--photos', photos, '--config', config, '--json']);
    const reports = r.lines.flatMap((l) => {
      const row = JSON.parse(l.text) as { outcome?: string; code?: string; summary?: Record<string, number> };
      return row.outcome ? [{ ...l, outcome: row.outcome, code: row.code }] : [];
    });
    if (reports.length === 0) throw new Error(`the import reported no row (exit ${r.code}):\n${r.stderr}`);
    const enrolled = reports.filter((x) => x.outcome === 'enrolled').length;
    const refused = new Map<string, number>();
    for (const x of reports) if (x.outcome === 'refused') refused.set(x.code ?? '?', (refused.get(x.code ?? '?') ?? 0) + 1);
    const first = reports[0]!.atMs;
    const last = reports.at(-1)!.atMs;
    console.log(`rows: ${reports.length}, enrolled ${enrolled}${refused.size > 0 ? `, refused ${[...refused].map(([code, n]) => `${n} ${code}`).join(', ')}` : ''} (exit ${r.code})`);
    console.log(`whole command: ${(r.ms / 1000).toFixed(1)} s, ${(reports.length / (r.ms / 1000)).toFixed(2)} people/s`);
    console.log(`start (models loaded, first row done): ${(first / 1000).toFixed(1)} s`);
    if (reports.length > 1) console.log(`after the first row: ${reports.length - 1} rows in ${((last - first) / 1000).toFixed(1)} s, ${((reports.length - 1) / ((last - first) / 1000)).toFixed(2)} people/s`);
  } finally {
    if (values.keep) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}
