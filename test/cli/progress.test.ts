// Progress of long CLI operations: drawn on a terminal only. The terminal is a real pseudo-terminal
// (util-linux `script`) around the real `facegate scan` on a real clip.
import '../support/cli-tier.js';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { duration, progressLine, progressReporter } from '../../daemon/cli/progress.js';
import { CLI_MAIN, runCli } from '../support/cli.js';
import { media, mediaMissing } from '../support/media.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLIP = 'spoof/derived_static_print_photo_F1_5s.mp4';
const noScript = spawnSync('script', ['--version']).status !== 0;
const skip = mediaMissing(CLIP) ? `needs ../shared/media/${CLIP}` : noScript ? 'needs script (util-linux) for a pseudo-terminal' : false;

/** `facegate ARGS` with stdout and stderr on a pseudo-terminal; everything it wrote there. */
function onTerminal(args: string[], env: NodeJS.ProcessEnv = {}): { code: number | null; out: string } {
  const command = [process.execPath, CLI_MAIN, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  const r = spawnSync('script', ['--quiet', '--return', '--command', command, '/dev/null'], { cwd: ROOT, env: { ...process.env, FACEGATE_CONFIG: '', ...env }, encoding: 'utf8' });
  // The terminal's escape character written as <ESC>, so that the checks below read plainly.
  return { code: r.status, out: r.stdout.replaceAll('\x1b', '<ESC>') };
}

test('the progress line: share, amounts, and an ETA from the rate so far', () => {
  const o = { label: 'scan a.mp4', total: 120, format: (s: number) => `${s.toFixed(1)} s` };
  assert.equal(progressLine(o, 0, 0), 'scan a.mp4    0%  0.0 s of 120.0 s');
  assert.equal(progressLine(o, 30, 10_000), 'scan a.mp4   25%  30.0 s of 120.0 s  ETA 30s');
  assert.equal(progressLine(o, 60, 90_000), 'scan a.mp4   50%  60.0 s of 120.0 s  ETA 1m 30s');
  assert.equal(progressLine(o, 120, 100_000), 'scan a.mp4  100%  120.0 s of 120.0 s');
  assert.equal(progressLine(o, 130, 100_000), 'scan a.mp4  100%  130.0 s of 120.0 s', 'past a stated length: never over 100 %');
  assert.equal(progressLine({ ...o, total: undefined }, 12, 5_000), 'scan a.mp4  12.0 s', 'length unknown: the amount only');
  assert.deepEqual([9, 75, 3725, -3].map(duration), ['9s', '1m 15s', '1h 02m', '0s']);
});

test('the reporter redraws at most every everyMs, clears its line at the end, and draws nothing off a terminal or when quiet', () => {
  let t = 0;
  const written: string[] = [];
  const target = { write: (s: string) => void written.push(s), isTty: true };
  const p = progressReporter(target, { label: 'x', total: 10, format: String, now: () => t, everyMs: 100 });
  p.update(1);
  t = 50;
  p.update(2); // too soon after the first
  t = 3000;
  p.update(3);
  p.finish();
  p.finish(); // nothing drawn since: nothing to clear
  assert.deepEqual(written, ['\r\x1b[Kx   10%  1 of 10', '\r\x1b[Kx   30%  3 of 10  ETA 7s', '\r\x1b[K']);
  for (const quiet of [{ isTty: false, quiet: false }, { isTty: true, quiet: true }]) {
    const out: string[] = [];
    const r = progressReporter({ write: (s) => void out.push(s), isTty: quiet.isTty }, { label: 'x', total: 10, format: String, quiet: quiet.quiet });
    r.update(5);
    r.finish();
    assert.deepEqual(out, []);
  }
});

test('scan on a terminal shows its progress with an ETA and clears it; with --json or through a pipe it stays quiet', { skip, timeout: 300_000 }, async () => {
  const clip = media(CLIP);
  const shown = onTerminal(['scan', clip]);
  assert.equal(shown.code, 0, shown.out);
  assert.match(shown.out, /\r<ESC>\[Kscan derived_static_print_photo_F1_5s\.mp4 +\d+% {2}\d+\.\d s of 5\.0 s {2}ETA \d+s/);
  assert.match(shown.out, /(\r<ESC>\[K|\n)\d+ frames to \d+\.\d\d s\r?\n$/, 'the progress line is cleared before the summary');

  const json = onTerminal(['scan', clip, '--json']);
  assert.equal(json.code, 0, json.out);
  assert.doesNotMatch(json.out, /ETA|<ESC>\[K/);
  for (const line of json.out.split(/\r?\n/).filter((l) => l.startsWith('{'))) JSON.parse(line);

  const piped = await runCli(['scan', clip]);
  assert.equal(piped.code, 0, piped.stderr);
  assert.doesNotMatch(piped.stderr, /ETA|\r/);
  assert.match(piped.stderr, /^note: no gallery at .*\n\d+ frames to \d+\.\d\d s\n$/);
});

test('person add --dir, person import-roster and gallery import on a terminal show their progress and clear it; through a pipe they stay quiet', { skip, timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-progress-'));
  try {
    const photos = join(dir, 'photos');
    mkdirSync(photos);
    for (const name of ['img1.jpg', 'img2.jpg', 'img4.jpg']) copyFileSync(media(`identities/deepface/${name}`), join(photos, name));
    const g = ['--gallery', join(dir, 'g.db'), '--key-file', join(dir, 'g.key')];
    assert.equal((await runCli(['keys', 'init', '--key-file', join(dir, 'g.key')])).code, 0);
    const added = onTerminal(['person', 'add', ...g, '--name', 'Angelina', '--dir', photos]);
    assert.equal(added.code, 0, added.out);
    assert.match(added.out, /\r<ESC>\[Kenrol photos +\d+% {2}\d of 3/);
    assert.match(added.out, /\r<ESC>\[Kenrolled Angelina as /, 'the line is cleared before the result');

    // A roster: its bar drawn between the persons' lines, each line on a cleared one.
    mkdirSync(join(dir, 'staff'));
    symlinkSync(media('identities/deepface/img20.jpg'), join(dir, 'staff/E1.jpg'));
    writeFileSync(join(dir, 'staff.csv'), 'name,staff number\nJeff,E1\nNobody,E2\n');
    const roster = onTerminal(['person', 'import-roster', join(dir, 'staff.csv'), '--photos', join(dir, 'staff'), '--gallery', join(dir, 'staff.db'), '--key-file', join(dir, 'g.key')]);
    assert.equal(roster.code, 1, roster.out);
    assert.match(roster.out, /\r<ESC>\[Kenrol roster +\d+% {2}\d of 2/);
    assert.match(roster.out, /\r<ESC>\[Kline 2 {2}E1 {2}Jeff: enrolled as /, 'the bar is cleared before a person\'s line');
    assert.match(roster.out, /2 row\(s\): 1 enrolled, 0 already enrolled \(skipped\), 1 refused/);

    const env = { FACEGATE_EXPORT_PASSPHRASE: 'correct horse battery staple' };
    const exported = await runCli(['gallery', 'export', ...g, '--passphrase-env', 'FACEGATE_EXPORT_PASSPHRASE', join(dir, 'x.fgx')], { env });
    assert.equal(exported.code, 0, exported.stderr);
    const g2 = ['--gallery', join(dir, 'g2.db'), '--key-file', join(dir, 'g.key')];
    const imported = onTerminal(['gallery', 'import', ...g2, '--passphrase-env', 'FACEGATE_EXPORT_PASSPHRASE', join(dir, 'x.fgx')], env);
    assert.equal(imported.code, 0, imported.out);
    assert.match(imported.out, /\r<ESC>\[Kimport x\.fgx +\d+% {2}\d persons of 1 persons/);

    const piped = await runCli(['person', 'add', ...g, '--name', 'Again', '--dir', photos, '--force']);
    assert.doesNotMatch(piped.stderr, /\r|ETA|%/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
