import '../support/fast-tier.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { STEREO, STEREO_FLAT_LOG_ODDS, STEREO_LIMIT, STEREO_LIVE_LOG_ODDS, stereoLogOdds, stereoParallax, type StereoView } from '../../daemon/liveness/stereo.js';
import { CUT_EDGE_PX } from '../../daemon/vision/tiles.js';
import type { Point } from '../../daemon/vision/types.js';
import { FUZZ_SEED, fuzzParameters } from '../support/fuzz.js';
import { flattened, meanHead, view } from '../support/mean-head.js';

const head = meanHead();
const flat = flattened(head);

/** Two cameras `angle` degrees apart about the head, the head turned `turn` degrees from their middle toward camera B. */
function pair(points: typeof head, angle: number, turn: number, facePx: number): [StereoView, StereoView] {
  return [view(points, { yawDeg: -angle / 2 - turn, facePx }), view(points, { yawDeg: angle / 2 - turn, pitchDeg: 5, facePx })];
}

/** A seeded Gaussian source (Box–Muller over mulberry32), so that a failure is seen again. */
function gaussian(seed: number): () => number {
  let s = seed >>> 0;
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let r = Math.imul(s ^ (s >>> 15), 1 | s);
    r ^= r + Math.imul(r ^ (r >>> 7), 61 | r);
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

test('stereoParallax: a flat face seen by any two cameras, or warped by any homography, shows no parallax', () => {
  for (const angle of [15, 30, 45, 60]) {
    for (const turn of [0, -angle / 2, angle / 2]) {
      for (const facePx of [80, 300]) {
        const parallax = stereoParallax(...pair(flat, angle, turn, facePx));
        const seen = `${angle}° apart, turned ${turn}°, ${facePx} px: ${parallax}`;
        // Square to one camera and at a slant of 60° to the other, a picture looks half as wide there: the pair says nothing.
        if (angle === 60 && turn !== 0) assert.equal(parallax, undefined, seen);
        else assert.ok(parallax !== undefined && parallax < 1e-9, seen);
      }
    }
  }
  const [front] = pair(flat, 0, 0, 150);
  fc.assert(
    fc.property(
      fc.tuple(fc.double({ min: 0.6, max: 1.6, noNaN: true }), fc.double({ min: -0.4, max: 0.4, noNaN: true }), fc.double({ min: -0.4, max: 0.4, noNaN: true }), fc.double({ min: 0.6, max: 1.6, noNaN: true })),
      fc.tuple(fc.double({ min: -200, max: 200, noNaN: true }), fc.double({ min: -100, max: 100, noNaN: true })),
      fc.tuple(fc.double({ min: -4e-4, max: 4e-4, noNaN: true }), fc.double({ min: -4e-4, max: 4e-4, noNaN: true })),
      ([a, b, c, d], [tx, ty], [g, h]) => {
        // Any homography about the face's centre: scaled, sheared, turned, moved and seen in perspective.
        const cx = 640;
        const cy = 360;
        const warp = (p: Point): Point => {
          const x = p.x - cx;
          const y = p.y - cy;
          const w = 1 + g * x + h * y;
          return { x: cx + (a * x + b * y + tx) / w, y: cy + (c * x + d * y + ty) / w };
        };
        const landmarks = front.landmarks.map(warp);
        const xs = landmarks.map((p) => p.x);
        const ys = landmarks.map((p) => p.y);
        const box = { x: Math.min(...xs), y: Math.min(...ys), w: Math.max(...xs) - Math.min(...xs), h: Math.max(...ys) - Math.min(...ys) };
        const parallax = stereoParallax(front, { landmarks, box, frame: front.frame });
        // A warp may make the face read as turned past the limit, or shrink it below the smallest face: then nothing is said.
        assert.ok(parallax === undefined || parallax < 1e-9, String(parallax));
      },
    ),
    fuzzParameters(500),
  );
});

test('stereoParallax: a mean head seen by two cameras 15–60° apart shows parallax, above the limit from 30° apart', () => {
  for (const angle of [15, 20, 30, 45, 60]) {
    // The head turned between the cameras, never past STEREO.maxYawDeg from either.
    const most = Math.min(angle / 2, 40 - angle / 2);
    for (const turn of [0, -most / 2, most / 2, -most, most]) {
      for (const facePx of [80, 120, 200, 300]) {
        const parallax = stereoParallax(...pair(head, angle, turn, facePx));
        const seen = `${angle}° apart, turned ${turn}°, ${facePx} px: parallax ${parallax?.toFixed(4)}`;
        // A real head's parallax grows with the angle: a tenth of the face height times the sine of the angle (2.6 % at 15°), where a flat face shows none.
        assert.ok(parallax !== undefined && parallax > 0.09 * Math.sin((angle * Math.PI) / 180), seen);
        if (angle >= 30) assert.ok(parallax >= STEREO_LIMIT, seen);
      }
    }
  }
  // Square to one camera, 60° from the other: that one sees a face turned past STEREO.maxYawDeg.
  assert.equal(stereoParallax(...pair(head, 60, 30, 200)), undefined, 'a profile says nothing');
});

test('stereoParallax: landmark noise of 1 px at 80 px leaves a flat face below the limit', () => {
  const noise = gaussian(FUZZ_SEED);
  // 1 px RMS: each coordinate of each point moved by a Gaussian of 1/√2 px, in each view on its own.
  const jitter = (v: StereoView): StereoView => ({ ...v, landmarks: v.landmarks.map((p) => ({ x: p.x + noise() / Math.SQRT2, y: p.y + noise() / Math.SQRT2 })) });
  let worst = 0;
  let cases = 0;
  for (const angle of [15, 30, 45, 60]) {
    for (const turn of [0, -angle / 2, angle / 2]) {
      for (let k = 0; k < 200; k++) {
        const [a, b] = pair(flat, angle, turn, 80);
        const parallax = stereoParallax(jitter(a), jitter(b));
        if (parallax === undefined) continue;
        cases++;
        worst = Math.max(worst, parallax);
      }
    }
  }
  assert.ok(cases >= 2000, `only ${cases} of 2400 noisy pairs were measured`);
  assert.ok(worst < STEREO_LIMIT, `a noisy flat face reached ${(100 * worst).toFixed(2)} % of its height, the limit is ${(100 * STEREO_LIMIT).toFixed(2)} %`);
});

test('stereoParallax: a face cut by the frame in either view never yields a value', () => {
  const [a, b] = pair(head, 30, 0, 200);
  assert.ok(stereoParallax(a, b), 'the whole face is measured');
  const { width, height } = a.frame;
  const cuts = [
    { ...a.box, x: 0 },
    { ...a.box, y: 0 },
    { ...a.box, x: width - a.box.w },
    { ...a.box, y: height - a.box.h },
    { ...a.box, x: CUT_EDGE_PX },
    { ...a.box, w: width - CUT_EDGE_PX - a.box.x },
  ];
  for (const box of cuts) {
    assert.equal(stereoParallax({ ...a, box }, b), undefined, JSON.stringify(box));
    assert.equal(stereoParallax(b, { ...a, box }), undefined, JSON.stringify(box));
  }
});

test('stereoParallax: says nothing of degenerate or malformed looks, and never throws on them', () => {
  const [a, b] = pair(head, 30, 0, 200);
  const broken: Array<[string, StereoView]> = [
    ['67 points', { ...a, landmarks: a.landmarks.slice(0, 67) }],
    ['69 points', { ...a, landmarks: [...a.landmarks, a.landmarks[0]!] }],
    ['a NaN point', { ...a, landmarks: a.landmarks.map((p, i) => (i === 30 ? { x: Number.NaN, y: p.y } : p)) }],
    ['an infinite point', { ...a, landmarks: a.landmarks.map((p, i) => (i === 40 ? { x: p.x, y: Infinity } : p)) }],
    ['a hole', { ...a, landmarks: Object.assign([...a.landmarks], { 12: undefined }) as unknown as Point[] }],
    ['all points on one', { ...a, landmarks: a.landmarks.map(() => ({ x: 600, y: 300 })) }],
    ['all points on a line', { ...a, landmarks: a.landmarks.map((_, i) => ({ x: 500 + i, y: 300 })) }],
    ['an empty box', { ...a, box: { ...a.box, w: 0, h: 0 } }],
    ['a NaN box', { ...a, box: { ...a.box, h: Number.NaN } }],
    ['a face smaller than measured', { ...a, box: { ...a.box, h: STEREO.minFacePx - 1 } }],
    ['a face much narrower than in the other view', { ...a, box: { ...a.box, w: 0.99 * STEREO.minWidthRatio * (b.box.w / b.box.h) * a.box.h } }],
    ['a frame of no size', { ...a, frame: { width: 0, height: 0 } }],
  ];
  for (const [what, v] of broken) {
    assert.equal(stereoParallax(v, b), undefined, what);
    assert.equal(stereoParallax(b, v), undefined, what);
  }
  assert.equal(stereoParallax(...pair(head, 20, 40, 200)), undefined, 'a face turned 50° from one camera');
  const point = fc.record({ x: fc.double(), y: fc.double() });
  const look = fc.record({
    landmarks: fc.array(point, { minLength: 60, maxLength: 70 }),
    box: fc.record({ x: fc.double(), y: fc.double(), w: fc.double(), h: fc.double() }),
    frame: fc.record({ width: fc.double(), height: fc.double() }),
  });
  fc.assert(
    fc.property(look, (v) => {
      for (const parallax of [stereoParallax(v, b), stereoParallax(b, v), stereoParallax(v, v)]) {
        assert.ok(parallax === undefined || (Number.isFinite(parallax) && parallax >= 0));
        assert.ok(Number.isFinite(stereoLogOdds(parallax)));
      }
    }),
    fuzzParameters(300),
  );
});

test('stereoParallax: a face whose box is narrower than a head\'s in either view (a picture at a steep slant) yields no value', () => {
  const [a, b] = pair(head, 30, 0, 200);
  // Both boxes narrowed alike, so that the views do not differ in width: only the box's own aspect refuses them.
  const narrowed = (v: StereoView, aspect: number): StereoView => ({ ...v, box: { ...v.box, x: v.box.x + (v.box.w - aspect * v.box.h) / 2, w: aspect * v.box.h } });
  const just = STEREO.minBoxAspect;
  assert.ok(stereoParallax(narrowed(a, 1.01 * just), narrowed(b, 1.01 * just))! >= STEREO_LIMIT, 'a head whose boxes are just wide enough is measured');
  assert.equal(stereoParallax(narrowed(a, 0.99 * just), narrowed(b, 0.99 * just)), undefined);
  assert.equal(stereoParallax(narrowed(b, 0.99 * just), narrowed(a, 0.99 * just)), undefined);
});

test('stereoParallax: either camera may be the first', () => {
  const [a, b] = pair(head, 40, 10, 150);
  assert.ok(Math.abs(stereoParallax(a, b)! - stereoParallax(b, a)!) < 1e-12);
});

test('stereoLogOdds: proof at the limit, weak evidence of a picture below what prints gave, nothing between or without a parallax', () => {
  assert.equal(STEREO_LIMIT, STEREO.margin * STEREO.flatParallax);
  assert.equal(stereoLogOdds(undefined), 0);
  assert.equal(stereoLogOdds(Number.NaN), 0);
  assert.equal(stereoLogOdds(STEREO_LIMIT), STEREO_LIVE_LOG_ODDS);
  assert.equal(stereoLogOdds(5 * STEREO_LIMIT), STEREO_LIVE_LOG_ODDS);
  assert.equal(stereoLogOdds(0.99 * STEREO_LIMIT), 0);
  assert.equal(stereoLogOdds(STEREO.flatParallax), 0);
  assert.equal(stereoLogOdds(0.99 * STEREO.flatParallax), STEREO_FLAT_LOG_ODDS);
  assert.equal(stereoLogOdds(0), STEREO_FLAT_LOG_ODDS);
  assert.ok(STEREO_LIVE_LOG_ODDS > 0 && STEREO_FLAT_LOG_ODDS < 0 && STEREO_LIVE_LOG_ODDS + STEREO_FLAT_LOG_ODDS > 0);
});
