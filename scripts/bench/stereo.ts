// `npm run bench -- stereo [--per-cell N] [--fold DEG]`: the stereo cue (daemon/liveness/stereo.ts),
// two cameras' simultaneous looks at one face, on both sides, through the real detector and
// landmarks (test/support/stereo-media.ts):
// - real: the four synchronized views of ../shared/media/video_multiview (one man, 26–90° apart at
//   his head), each scaled to faces of 80, 120, 200 and 300 px with its camera's noise and H.264 at
//   CRF 23–32, every pair of views paired by capture time;
// - flat: prints (frames of that recording, identity photos) held, wobbled, turned or bent
//   (`--fold`, degrees between its halves; FOLD_DEG by default) before two cameras 15, 30 and 60°
//   apart, turned every way toward them, 80–300 px, each camera with its own noise and H.264 at CRF
//   23–32; `--per-cell N` plays N prints per angle, size and motion (1 by default); then every
//   source held at slants of 60° and 30° to two cameras 30° apart (the row `slant`), where prints
//   came nearest.
// Prints per side, face size and camera angle the parallax's distribution (min, p10, median, p90,
// max, in % of the face height), how many pairs fall on the wrong side of the limit, and how many the
// cue could not measure; then the limit and its margin, what a pair's log-odds come to, and the cost
// of the cue per pair.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { STEREO, STEREO_LIMIT, stereoParallax, type StereoView } from '../../daemon/liveness/stereo.js';
import { testAnalyzer } from '../../test/support/analyzer.js';
import {
  FLAT_ANGLES,
  FLAT_MOTIONS,
  FOLD_DEG,
  flatCases,
  flatPairs,
  slantCases,
  MULTIVIEW_PAIRS,
  multiviewAngle,
  realPairs,
  realViewLooks,
  realViews,
  STEREO_FACE_SIZES,
  stereoMediaMissing,
  type FlatCase,
} from '../../test/support/stereo-media.js';

type Looks = Array<[StereoView | undefined, StereoView | undefined]>;

/** One row of the table: the pairs of one side at one face size and camera angle. */
interface Row {
  side: 'real' | 'flat';
  /** The views (real) or nothing (flat). */
  views: string;
  angleDeg: number;
  facePx: number;
  /** Pairs of frames in all. */
  frames: number;
  /** The pairs with a face found in both views. */
  found: Array<[StereoView, StereoView]>;
  /** What the cue measured of them (a face cut by the frame, turned too far or too small says nothing). */
  parallax: number[];
}

function row(side: Row['side'], views: string, angleDeg: number, facePx: number, looks: Looks): Row {
  const found = looks.filter((pair): pair is [StereoView, StereoView] => pair[0] !== undefined && pair[1] !== undefined);
  return { side, views, angleDeg, facePx, frames: looks.length, found, parallax: found.flatMap(([a, b]) => stereoParallax(a, b) ?? []) };
}

const pct = (v: number) => (100 * v).toFixed(2);
function quantiles(values: number[], format: (v: number) => string): string {
  if (values.length === 0) return ['-', '-', '-', '-', '-'].map((v) => v.padStart(6)).join(' ');
  const s = [...values].sort((p, q) => p - q);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return [s[0]!, at(0.1), at(0.5), at(0.9), s[s.length - 1]!].map((v) => format(v).padStart(6)).join(' ');
}

/** Pairs on the wrong side of the limit: real ones below it, flat ones at or above it. */
function wrong(r: Row): number {
  return r.parallax.filter((p) => (p >= STEREO_LIMIT) === (r.side === 'flat')).length;
}

function table(rows: Row[]): string {
  const lines = [`side views angle face frames found measured | parallax, % of the face height:  min    p10    med    p90    max | wrong side of ${pct(STEREO_LIMIT)} %`];
  for (const r of rows) {
    lines.push(
      `${r.side.padEnd(4)} ${r.views.padEnd(5)} ${`${r.angleDeg}°`.padStart(5)} ${String(r.facePx || 'all').padStart(4)} ${String(r.frames).padStart(6)} ${String(r.found.length).padStart(5)} ${String(r.parallax.length).padStart(8)} |` +
        `${' '.repeat(32)}${quantiles(r.parallax, pct)} | ${wrong(r)}/${r.parallax.length}`,
    );
  }
  return lines.join('\n');
}

/** The rows of each side, views and angle merged over the face sizes (face 0). */
function allSizes(rows: Row[]): Row[] {
  const merged = new Map<string, Row>();
  for (const r of rows) {
    const key = `${r.side} ${r.views} ${r.angleDeg}`;
    const m = merged.get(key) ?? { ...r, facePx: 0, frames: 0, found: [], parallax: [] };
    merged.set(key, { ...m, frames: m.frames + r.frames, found: [...m.found, ...r.found], parallax: [...m.parallax, ...r.parallax] });
  }
  return [...merged.values()];
}

async function realRows(dir: string): Promise<Row[]> {
  const analyzer = await testAnalyzer();
  const rows: Row[] = [];
  for (const facePx of STEREO_FACE_SIZES) {
    const looks = new Map<number, Array<StereoView | undefined>>();
    for (const v of realViews(facePx)) looks.set(v.view, await realViewLooks(analyzer, v, dir));
    for (const [a, b] of MULTIVIEW_PAIRS) rows.push(row('real', `${a}-${b}`, multiviewAngle(a, b), facePx, realPairs(a, looks.get(a)!, b, looks.get(b)!)));
  }
  return rows.sort((p, q) => p.angleDeg - q.angleDeg || p.facePx - q.facePx);
}

async function flatRows(dir: string, cases: FlatCase[], slants: FlatCase[]): Promise<{ rows: Row[]; byCase: Array<{ c: FlatCase; worst: number }> }> {
  const analyzer = await testAnalyzer();
  const looks = new Map<FlatCase, Looks>();
  for (const c of [...cases, ...slants]) looks.set(c, await flatPairs(analyzer, c, dir));
  const rows: Row[] = [];
  for (const angle of FLAT_ANGLES) {
    for (const facePx of STEREO_FACE_SIZES) {
      const mine = cases.filter((c) => c.angleDeg === angle && c.facePx === facePx);
      rows.push(row('flat', '', angle, facePx, mine.flatMap((c) => looks.get(c)!)));
    }
  }
  rows.push(row('flat', 'slant', slants[0]!.angleDeg, slants[0]!.facePx, slants.flatMap((c) => looks.get(c)!)));
  const byCase = [...cases, ...slants].map((c) => ({ c, worst: Math.max(0, ...row('flat', '', c.angleDeg, c.facePx, looks.get(c)!).parallax) }));
  return { rows, byCase };
}

/**
 * Microseconds per pair of the cue itself (the landmarks come from the tracker): every pair with a
 * face in both views, each measured over and over (at least 20,000 calls in all, after as many to
 * warm up). The mean over all calls, and for the costliest pair the least time it took: on a box
 * shared with other work, a single call's longest time is the time the process was not running.
 */
function costPerPair(rows: Row[]): { meanUs: number; costliestUs: number } {
  const pairs = rows.flatMap((r) => r.found);
  const rounds = Math.max(5, Math.ceil(20_000 / Math.max(1, pairs.length)));
  let sink = 0;
  for (let k = 0; k < rounds; k++) for (const [a, b] of pairs) sink += stereoParallax(a, b) ?? 0;
  const least = pairs.map(() => Infinity);
  const started = performance.now();
  for (let k = 0; k < rounds; k++) {
    pairs.forEach(([a, b], i) => {
      const t = performance.now();
      sink += stereoParallax(a, b) ?? 0;
      least[i] = Math.min(least[i]!, (performance.now() - t) * 1000);
    });
  }
  const meanUs = ((performance.now() - started) * 1000) / (rounds * pairs.length);
  // Read, so that the calls are not optimised away.
  if (!Number.isFinite(sink)) throw new Error('a pair measured a parallax that is not finite');
  return { meanUs, costliestUs: Math.max(...least) };
}

function summary(real: Row[], flat: Row[], byCase: Array<{ c: FlatCase; worst: number }>): void {
  console.log(
    `\nlimit: ${pct(STEREO_LIMIT)} % of the face height, ${STEREO.margin} × the most a print gave when it was chosen (${pct(STEREO.flatParallax)} %); ` +
      `a face cut by the frame, turned past ${STEREO.maxYawDeg}° or under ${STEREO.minFacePx} px says nothing`,
  );
  const flatValues = flat.flatMap((r) => r.parallax);
  const worst = byCase.reduce((p, q) => (q.worst > p.worst ? q : p));
  console.log(
    `flat: ${flatValues.length} pairs measured of ${flat.reduce((n, r) => n + r.frames, 0)} (${byCase.length} prints); at or above the limit ${flatValues.filter((p) => p >= STEREO_LIMIT).length} ` +
      `(${byCase.filter((b) => b.worst >= STEREO_LIMIT).length} prints); the most ${pct(worst.worst)} %, margin ×${(STEREO_LIMIT / worst.worst).toFixed(2)}: ` +
      `${worst.c.source}, ${worst.c.motion}${worst.c.foldDeg ? ` (${worst.c.foldDeg}°)` : ''}, ${worst.c.angleDeg}° apart, turned ${worst.c.turnDeg}°, ${worst.c.facePx} px, CRF ${worst.c.crf.join('/')}`,
  );
  const byMotion = FLAT_MOTIONS.map((motion) => {
    const mine = byCase.filter((b) => b.c.motion === motion);
    return `${motion}${motion === 'bent' ? ` (${mine[0]?.c.foldDeg}°)` : ''} ${pct(Math.max(0, ...mine.map((b) => b.worst)))} %`;
  });
  console.log(`flat, the most by motion: ${byMotion.join(', ')}`);
  const realValues = real.flatMap((r) => r.parallax);
  const above = realValues.filter((p) => p >= STEREO_LIMIT).length;
  const belowFlat = realValues.filter((p) => p < STEREO.flatParallax).length;
  const share = above / realValues.length;
  const byAngle = [...new Set(real.map((r) => r.angleDeg))].map((angle) => {
    const values = real.filter((r) => r.angleDeg === angle).flatMap((r) => r.parallax);
    return `${angle}° ${values.filter((p) => p >= STEREO_LIMIT).length}/${values.length}`;
  });
  console.log(
    `real: ${realValues.length} pairs measured of ${real.reduce((n, r) => n + r.frames, 0)}; at or above the limit ${above} (${(100 * share).toFixed(1)} %: ${byAngle.join(', ')}), ` +
      `below the prints' most ${belowFlat} (${((100 * belowFlat) / realValues.length).toFixed(1)} %)`,
  );
  console.log(
    `log-odds of one pair: at or above the limit ln(${share.toFixed(2)} / (1/${byCase.length})) = ${Math.log(share * byCase.length).toFixed(1)} (no print of ${byCase.length} reached it); ` +
      `below the prints' most ln(${(belowFlat / realValues.length).toFixed(2)} / 1) = ${Math.log(Math.max(1e-9, belowFlat / realValues.length)).toFixed(1)}`,
  );
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { 'per-cell': { type: 'string', default: '1' }, fold: { type: 'string', default: String(FOLD_DEG) } } });
  const missing = stereoMediaMissing();
  if (missing) throw new Error(missing);
  const perCell = Number(values['per-cell']);
  const fold = Number(values.fold);
  if (!(Number.isInteger(perCell) && perCell >= 1 && perCell <= 10)) throw new Error('--per-cell: a whole number from 1 to 10');
  if (!(fold >= 0 && fold <= 90)) throw new Error('--fold: degrees from 0 to 90');
  console.log(`stereo benchmark: load average ${loadavg()[0]!.toFixed(1)}; bent prints folded ${fold}°; ${perCell} print(s) per angle, size and motion`);
  const dir = mkdtempSync(join(tmpdir(), 'fg-bench-stereo-'));
  const started = performance.now();
  try {
    const real = await realRows(dir);
    const realS = (performance.now() - started) / 1000;
    const flat = await flatRows(dir, flatCases(perCell, fold), slantCases());
    const flatS = (performance.now() - started) / 1000 - realS;
    console.log(`\n${table([...real, ...flat.rows])}`);
    console.log(`\nall sizes together:\n${table(allSizes([...real, ...flat.rows]))}`);
    summary(real, flat.rows, flat.byCase);
    const cost = costPerPair([...real, ...flat.rows]);
    console.log(`cost of the cue: ${cost.meanUs.toFixed(0)} µs per pair on average, ${cost.costliestUs.toFixed(0)} µs for the costliest pair (both homographies, the nose's transfers and both yaws)`);
    console.log(`real side ${realS.toFixed(0)} s, flat side ${flatS.toFixed(0)} s (rendering, encoding, detection and landmarks)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await (await testAnalyzer()).close();
  }
}
