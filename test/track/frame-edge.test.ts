// A face the frame's edge cuts feeds no liveness cue: a print brought so close that the frame's
// bottom cuts it below the nose (which the structure cue took for a head in 3D), and a real
// person's clip cut below the eyes, through the real models and the whole per-track logic.
import '../support/offline-tier.js';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { defaultConfig } from '../../daemon/config/load.js';
import { cutByFrame } from '../../daemon/track/frame-edge.js';
import type { LivenessSummary, TrackEvent } from '../../daemon/track/events.js';
import { scanVideo } from '../../daemon/track/scan.js';
import { UnknownRegistry } from '../../daemon/track/unknowns.js';
import { decodeImageFile } from '../../daemon/vision/image.js';
import type { Landmarks68 } from '../../daemon/vision/types.js';
import { testAnalyzer } from '../support/analyzer.js';
import { media, mediaMissing } from '../support/media.js';
import { decodeVideoFrames } from '../support/video.js';

const config = defaultConfig();
const PHOTO = 'identities/deepface/img1.jpg';
const CLIP = 'video_blink/videoretalking_face1.mp4';
const skip = mediaMissing(PHOTO, CLIP);

test('cutByFrame: a box within the margin of any edge, or past it, is cut; one inside is whole', () => {
  const frame = { width: 1280, height: 720 };
  assert.equal(cutByFrame([{ x: 500, y: 200, w: 100, h: 130 }], frame), false);
  assert.equal(cutByFrame([{ x: 500, y: 590, w: 100, h: 130 }], frame), true, 'clipped at the bottom');
  assert.equal(cutByFrame([{ x: 500, y: 588, w: 100, h: 130 }], frame), true, 'within 2 % of the face height');
  assert.equal(cutByFrame([{ x: 500, y: 585, w: 100, h: 130 }], frame), false);
  assert.equal(cutByFrame([{ x: 1, y: 200, w: 100, h: 130 }], frame), true, 'left');
  assert.equal(cutByFrame([{ x: 1190, y: 200, w: 100, h: 130 }], frame), true, 'right, past the edge');
  assert.equal(cutByFrame([{ x: 500, y: -20, w: 100, h: 130 }], frame), true, 'top');
  assert.equal(cutByFrame([{ x: 500, y: 200, w: 100, h: 130 }, { x: 500, y: 600, w: 100, h: 130 }], frame), true, 'any of the boxes');
});

interface Scan {
  live: boolean;
  blinks: number;
  refused: boolean;
  ended: LivenessSummary[];
  named: number;
}

async function scan(file: string): Promise<Scan> {
  const analyzer = await testAnalyzer();
  const result: Scan = { live: false, blinks: 0, refused: false, ended: [], named: 0 };
  await scanVideo(file, {
    engine: { detect: (img, focus) => analyzer.detect(img, 'auto', focus), analyzeFace: (img, d, o) => analyzer.analyzeFace(img, d, o) },
    config: config.track,
    // Everyone is named at once, so that what is measured is liveness alone.
    identify: () => ({ person: { id: 'p', name: 'p' }, score: 0.9, margin: 0.5, near: false }),
    unknowns: new UnknownRegistry({ similarity: 0.5, retentionS: 60, maxFrames: 1 }),
    onEvent: (e: TrackEvent) => {
      if (e.type === 'blink') result.blinks++;
      if (e.type === 'spoof_suspected') result.refused = true;
      if (e.type === 'recognized') result.named++;
      if ((e.type === 'recognized' || e.type === 'track_ended') && e.live) result.live = true;
      if (e.type === 'track_ended') result.ended.push(e.liveness);
    },
  });
  return result;
}

/** Encodes `input` (a still, looped, or a clip) through `filter` into an H.264 clip as a camera sends it. */
function encode(input: string, still: boolean, filter: string, output: string): string {
  const args = ['-y', '-loglevel', 'error', ...(still ? ['-loop', '1', '-t', '4'] : []), '-i', input, '-r', '15', '-vf', filter, '-an', '-c:v', 'libx264', '-crf', '26', '-pix_fmt', 'yuv420p', output];
  const r = spawnSync('ffmpeg', args);
  assert.equal(r.status, 0, r.stderr.toString());
  return output;
}

const mean = (lm: Landmarks68, idx: number[], axis: 'x' | 'y') => idx.reduce((s, i) => s + lm[i]![axis], 0) / idx.length;

test('a print brought so close that the frame cuts it below the nose is never live and gives no cue any evidence, though it is still tracked and named', { skip, timeout: 5 * 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-edge-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const analyzer = await testAnalyzer();
  const [face] = await analyzer.analyze(await decodeImageFile(media(PHOTO)), {});
  assert.ok(face);
  // The face 260 px high in a 1280×720 frame, held in a hand that wobbles it a few pixels, before a wall.
  const scale = 260 / face.detection.box.h;
  const lm = face.landmarks68;
  const cx = mean(lm, [36, 45], 'x') * scale;
  const pad = 800;
  const view = (bottom: number) =>
    `scale=iw*${scale}:ih*${scale},pad=iw+${2 * pad}:ih+${2 * pad}:${pad}:${pad}:color=0x8c9096,` +
    `crop=1280:720:'${cx + pad - 640}+8*sin(2*PI*0.7*t)':'${bottom + pad - 720}+6*sin(2*PI*1.1*t)'`;
  const belowNose = lm[33]!.y * scale + 0.06 * 260;
  const cut = await scan(encode(media(PHOTO), true, view(belowNose), join(dir, 'cut.mp4')));
  console.log(`print cut below the nose: live ${cut.live}, named ${cut.named}, ended ${JSON.stringify(cut.ended)}`);
  assert.equal(cut.live, false, 'a print cut by the frame was taken for a live person');
  assert.ok(cut.named > 0, 'the cut face is still tracked and named');
  for (const l of cut.ended) {
    assert.equal(l.structure, 0, 'the landmarks the model guessed past the edge fed the structure cue');
    assert.equal(l.passive, 0);
    assert.equal(l.surround, 0);
    assert.equal(l.screen, 0);
  }
  assert.equal(cut.blinks, 0);
});

test('a real person whose face the frame cuts below the eyes gives no blink, though the same clip whole does', { skip, timeout: 5 * 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-edge-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const analyzer = await testAnalyzer();
  const [first] = decodeVideoFrames(media(CLIP), { fps: 1 });
  const [face] = await analyzer.analyze(first!, {});
  assert.ok(face);
  // Only brows and eyes in view: the frame's bottom 12 % of the face height below the lower lids.
  const lids = mean(face.landmarks68, [40, 41, 46, 47], 'y');
  const bottom = Math.round((lids + 0.12 * face.detection.box.h) / 2) * 2;
  const whole = await scan(encode(media(CLIP), false, 'null', join(dir, 'whole.mp4')));
  const cut = await scan(encode(media(CLIP), false, `crop=iw:${bottom}:0:0`, join(dir, 'cut.mp4')));
  console.log(`real face, whole: ${whole.blinks} blink(s), live ${whole.live}; cut below the eyes: ${cut.blinks} blink(s), live ${cut.live}, named ${cut.named}, ended ${JSON.stringify(cut.ended)}`);
  assert.ok(whole.blinks > 0, 'the clip whole shows blinks');
  assert.equal(cut.blinks, 0, 'eyes of a face the frame cuts fed the blink detector');
  assert.equal(cut.live, false);
  for (const l of cut.ended) assert.deepEqual([l.blink, l.structure, l.passive, l.surround, l.screen].map(Math.abs), [0, 0, 0, 0, 0]);
});
