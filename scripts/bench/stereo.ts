// `npm run bench -- stereo [--per-cell N] [--screens-per-cell N] [--fold DEG] [--counts-only]`: the stereo cue (daemon/liveness/stereo.ts),
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
//   came nearest;
// - screens: phones and tablets held (wobbled, turned in the hand), tablets and monitors on a stand,
//   replaying real people who move, talk and blink, before two cameras 15, 30, 45 and 60° apart,
//   turned every way toward them, 80–300 px, 2 s at 15 fps; `--screens-per-cell N` plays N per
//   angle and kind (1 by default); then every clip on a phone held at slants of 60° and 30° to two
//   cameras 30° apart (the row `slant`), where a replayed head that turns came nearest.
// Prints per side, face size and camera angle the parallax's distribution (min, p10, median, p90,
// max, in % of the face height), how many pairs fall on the wrong side of the limit, and how many the
// cue could not measure; then the limit and its margin, what a pair's log-odds come to, and the cost
// of the cue per pair. Then the door: how long, in video time, the door's proof (the second largest
// parallax of a door track's pairs, at the stereo cue's log-odds) takes to prove the real man from
// the first frame both cameras see his face at 80 px or more, per camera angle and face size (p50,
// p95, never within 5 s), and how many prints and screens it ever proved. `--counts-only` leaves
// out the one figure timed on the CPU (the cue's cost per pair), for a machine shared with others.
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
  doorProof,
  realMoments,
  realViewLooks,
  realViews,
  SCREEN_ANGLES,
  SCREEN_KINDS,
  screenCases,
  screenMoments,
  slantScreenCases,
  STEREO_FACE_SIZES,
  stereoMediaMissing,
  type DoorMoment,
  type FlatCase,
  type ScreenCase,
} from '../../test/support/stereo-media.js';

type Looks = Array<[StereoView | undefined, StereoView | undefined]>;

/** One row of the table: the pairs of one side at one face size and camera angle. */
interface Row {
  side: 'real' | 'flat' | 'screen';
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
  /** The real side's moments in time order, for the door's time to proof. */
  moments?: DoorMoment[];
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

/** Pairs on the wrong side of the limit: real ones below it, flat ones (prints, screens) at or above it. */
function wrong(r: Row): number {
  return r.parallax.filter((p) => (p >= STEREO_LIMIT) === (r.side !== 'real')).length;
}

function table(rows: Row[]): string {
  const lines = [`side   views angle face frames found measured | parallax, % of the face height:  min    p10    med    p90    max | wrong side of ${pct(STEREO_LIMIT)} %`];
  for (const r of rows) {
    lines.push(
      `${r.side.padEnd(6)} ${r.views.padEnd(5)} ${`${r.angleDeg}°`.padStart(5)} ${String(r.facePx || 'all').padStart(4)} ${String(r.frames).padStart(6)} ${String(r.found.length).padStart(5)} ${String(r.parallax.length).padStart(8)} |` +
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
    for (const [a, b] of MULTIVIEW_PAIRS) {
      const moments = realMoments(a, looks.get(a)!, b, looks.get(b)!);
      rows.push({ ...row('real', `${a}-${b}`, multiviewAngle(a, b), facePx, moments.map((m) => [m.a, m.b])), moments });
    }
  }
  return rows.sort((p, q) => p.angleDeg - q.angleDeg || p.facePx - q.facePx);
}

/** One screen replay's door: its worst pair, and what the door made of its pairs. */
interface ScreenOutcome {
  c: ScreenCase;
  worst: number;
  proof: ReturnType<typeof doorProof>;
}

async function screenRows(dir: string, cases: ScreenCase[], slants: ScreenCase[]): Promise<{ rows: Row[]; outcomes: ScreenOutcome[]; slanted: ScreenOutcome[] }> {
  const analyzer = await testAnalyzer();
  const moments = new Map<ScreenCase, DoorMoment[]>();
  for (const c of [...cases, ...slants]) moments.set(c, await screenMoments(analyzer, c, dir));
  const pairsOf = (c: ScreenCase): Looks => moments.get(c)!.map((m) => [m.a, m.b]);
  const rows: Row[] = [];
  for (const angle of SCREEN_ANGLES) {
    for (const kind of SCREEN_KINDS) {
      const mine = cases.filter((c) => c.angleDeg === angle && c.kind === kind);
      if (mine.length > 0) rows.push(row('screen', kind.screen.slice(0, 5), angle, 0, mine.flatMap(pairsOf)));
    }
  }
  rows.push(row('screen', 'slant', slants[0]!.angleDeg, 0, slants.flatMap(pairsOf)));
  const outcome = (c: ScreenCase): ScreenOutcome => ({ c, worst: Math.max(0, ...row('screen', '', c.angleDeg, c.facePx, pairsOf(c)).parallax), proof: doorProof(moments.get(c)!) });
  return { rows, outcomes: cases.map(outcome), slanted: slants.map(outcome) };
}

async function flatRows(dir: string, cases: FlatCase[], slants: FlatCase[]): Promise<{ rows: Row[]; byCase: Array<{ c: FlatCase; worst: number; proof: ReturnType<typeof doorProof> }> }> {
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
  const byCase = [...cases, ...slants].map((c) => ({
    c,
    worst: Math.max(0, ...row('flat', '', c.angleDeg, c.facePx, looks.get(c)!).parallax),
    // A print's frames at the recording's rate, one moment each.
    proof: doorProof(looks.get(c)!.map(([a, b], i) => ({ tS: i / 6, a, b }))),
  }));
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
      `a face cut by the frame, turned past ${STEREO.maxYawDeg}°, under ${STEREO.minFacePx} px or whose box is under ${STEREO.minBoxAspect} as wide as high says nothing`,
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

/** How long the door is given to prove a real person from first sight, and how often a new person is taken to arrive. */
const DOOR_HORIZON_S = 5;
const ARRIVAL_EVERY_S = 1;
/** The face height from which both cameras count as seeing the face (the goal's 80 px). */
const SIGHT_PX = 80;

/**
 * The real man as if he arrived at the door again every second: from each moment both cameras see
 * his face at SIGHT_PX or more (the first such moment at least ARRIVAL_EVERY_S after the last
 * arrival, and DOOR_HORIZON_S before the clip's end), a fresh door track over the moments that
 * follow, and the video time it takes the door to prove him (doorProof), or never within the
 * horizon. The recording is one man in one room: each arrival is the same man at another moment.
 */
function arrivalTimes(moments: readonly DoorMoment[]): Array<number | undefined> {
  const end = moments.at(-1)?.tS ?? 0;
  const times: Array<number | undefined> = [];
  let last = -Infinity;
  moments.forEach((m, i) => {
    const seen = m.a && m.b && m.a.box.h >= SIGHT_PX && m.b.box.h >= SIGHT_PX;
    if (!seen || m.tS - last < ARRIVAL_EVERY_S || m.tS + DOOR_HORIZON_S > end) return;
    last = m.tS;
    times.push(doorProof(moments.slice(i).filter((n) => n.tS - m.tS <= DOOR_HORIZON_S)).proofS);
  });
  return times;
}

function doorTable(real: Row[]): string {
  const lines = [`door: the real man, video time from first sight (both cameras, face >= ${SIGHT_PX} px) to live by stereo, an arrival every ${ARRIVAL_EVERY_S} s`, 'views angle face arrivals |   p50 s   p95 s | never (within 5 s)'];
  const all: Array<number | undefined> = [];
  for (const r of real) {
    const times = arrivalTimes(r.moments ?? []);
    all.push(...times);
    lines.push(`${r.views.padEnd(5)} ${`${r.angleDeg}°`.padStart(5)} ${String(r.facePx).padStart(4)} ${String(times.length).padStart(8)} | ${timeQuantiles(times)} | ${times.filter((t) => t === undefined).length}/${times.length}`);
  }
  const in15to60 = real.filter((r) => r.angleDeg >= 15 && r.angleDeg <= 60).flatMap((r) => arrivalTimes(r.moments ?? []));
  lines.push(`all             ${String(all.length).padStart(8)} | ${timeQuantiles(all)} | ${all.filter((t) => t === undefined).length}/${all.length}`);
  lines.push(`15–60° apart    ${String(in15to60.length).padStart(8)} | ${timeQuantiles(in15to60)} | ${in15to60.filter((t) => t === undefined).length}/${in15to60.length}`);
  return lines.join('\n');
}

/** The median and 95th percentile of the proven ones' times, with the never-proven counted as slower than any. */
function timeQuantiles(times: ReadonlyArray<number | undefined>): string {
  if (times.length === 0) return '      -       -';
  const sorted = times.map((t) => t ?? Infinity).sort((p, q) => p - q);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return [at(0.5), at(0.95)].map((v) => (Number.isFinite(v) ? v.toFixed(2) : 'never').padStart(7)).join(' ');
}

function attackTable(prints: Array<{ c: FlatCase; proof: ReturnType<typeof doorProof> }>, screens: ScreenOutcome[], slanted: ScreenOutcome[]): string {
  const lines = ['door: prints and screens proven by stereo (live) of all played, and the most a door valued one (% of the face height)'];
  const say = (what: string, proofs: Array<ReturnType<typeof doorProof>>) => {
    const values = proofs.flatMap((p) => p.value ?? []);
    lines.push(`${what.padEnd(28)} live ${proofs.filter((p) => p.proofS !== undefined).length}/${proofs.length}, most ${values.length ? pct(Math.max(...values)) : '-'} %`);
  };
  for (const motion of FLAT_MOTIONS) say(`print, ${motion}`, prints.filter((p) => p.c.motion === motion).map((p) => p.proof));
  for (const kind of SCREEN_KINDS) say(`${kind.screen}, ${kind.motion}`, screens.filter((o) => o.c.kind === kind).map((o) => o.proof));
  for (const angle of SCREEN_ANGLES) say(`screens, ${angle}° apart`, screens.filter((o) => o.c.angleDeg === angle).map((o) => o.proof));
  say('all prints', prints.map((p) => p.proof));
  say('all screens', screens.map((o) => o.proof));
  say('phones at a 60°/30° slant', slanted.map((o) => o.proof));
  for (const [what, set] of [
    ['screens', screens],
    ['phones at a slant', slanted],
  ] as const) {
    const worst = set.reduce<ScreenOutcome | undefined>((p, q) => ((q.proof.value ?? 0) > (p?.proof.value ?? 0) ? q : p), undefined);
    if (!worst) continue;
    const c = worst.c;
    lines.push(
      `${what}: the most a door valued one ${pct(worst.proof.value ?? 0)} % against the limit ${pct(STEREO_LIMIT)} % (margin ×${(STEREO_LIMIT / (worst.proof.value ?? 0)).toFixed(2)}), its worst pair ${pct(worst.worst)} %: ` +
        `${c.replay.clip} on a ${c.kind.screen} (${c.kind.motion}), ${c.angleDeg}° apart, turned ${c.turnDeg}°, ${c.facePx} px, CRF ${c.crf.join('/')}`,
    );
  }
  return lines.join('\n');
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { 'per-cell': { type: 'string', default: '1' }, 'screens-per-cell': { type: 'string', default: '1' }, 'counts-only': { type: 'boolean', default: false }, fold: { type: 'string', default: String(FOLD_DEG) } } });
  const missing = stereoMediaMissing();
  if (missing) throw new Error(missing);
  const perCell = Number(values['per-cell']);
  const fold = Number(values.fold);
  if (!(Number.isInteger(perCell) && perCell >= 1 && perCell <= 10)) throw new Error('--per-cell: a whole number from 1 to 10');
  const screensPerCell = Number(values['screens-per-cell']);
  if (!(Number.isInteger(screensPerCell) && screensPerCell >= 1 && screensPerCell <= 10)) throw new Error('--screens-per-cell: a whole number from 1 to 10');
  if (!(fold >= 0 && fold <= 90)) throw new Error('--fold: degrees from 0 to 90');
  console.log(`stereo benchmark: load average ${loadavg()[0]!.toFixed(1)}; bent prints folded ${fold}°; ${perCell} print(s) per angle, size and motion`);
  const dir = mkdtempSync(join(tmpdir(), 'fg-bench-stereo-'));
  const started = performance.now();
  try {
    const real = await realRows(dir);
    const realS = (performance.now() - started) / 1000;
    const flat = await flatRows(dir, flatCases(perCell, fold), slantCases());
    const flatS = (performance.now() - started) / 1000 - realS;
    const screens = await screenRows(dir, screenCases(screensPerCell), slantScreenCases());
    const screenS = (performance.now() - started) / 1000 - realS - flatS;
    console.log(`\n${table([...real, ...flat.rows, ...screens.rows])}`);
    console.log(`\nall sizes together:\n${table(allSizes([...real, ...flat.rows, ...screens.rows]))}`);
    summary(real, flat.rows, flat.byCase);
    console.log(`\n${doorTable(real)}`);
    console.log(`\n${attackTable(flat.byCase, screens.outcomes, screens.slanted)}`);
    if (!values['counts-only']) {
      const cost = costPerPair([...real, ...flat.rows]);
      console.log(
        `cost of the cue: ${cost.meanUs.toFixed(0)} µs per pair on average, ${cost.costliestUs.toFixed(0)} µs for the costliest pair (both homographies, the nose's transfers and both yaws)`,
      );
    }
    console.log(`real side ${realS.toFixed(0)} s, prints ${flatS.toFixed(0)} s, screens ${screenS.toFixed(0)} s (rendering, encoding, detection and landmarks)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await (await testAnalyzer()).close();
  }
}
