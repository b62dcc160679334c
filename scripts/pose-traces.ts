// `npx tsx scripts/pose-traces.ts [--out DIR] [--view native|c100] CLIP...`
// Records the head pose the tracker's landmarks give, frame by frame, of the largest face of each
// clip (read at track.eye_fps, as a camera delivers it), one JSON file per clip and view: what the
// movement challenge's answer check (daemon/liveness/challenge.ts) reads. `npm run bench --
// challenge` measures the check over these files (real answers and replays' chance) without
// running the models again; record again only when what the vision side produces changes.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultConfig } from '../daemon/config/load.js';
import { videoFrames } from '../daemon/camera/video-file.js';
import { poseOf } from '../daemon/liveness/challenge.js';
import { testAnalyzer } from '../test/support/analyzer.js';
import { asCameraStream, CCTV_1080P_100 } from '../test/support/blink-media.js';
import { media } from '../test/support/media.js';

export interface PoseTrace {
  clip: string;
  view: string;
  /** Time (s), yaw and pitch (degrees) and face height (px) of the largest face, on every frame one was found. */
  samples: Array<{ t: number; yaw: number; pitch: number; facePx: number }>;
}

const { values, positionals } = parseArgs({ options: { out: { type: 'string', default: join(tmpdir(), 'pose-traces') }, view: { type: 'string', default: 'native' } }, allowPositionals: true });
const out = values.out;
mkdirSync(out, { recursive: true });
const analyzer = await testAnalyzer();
const fps = defaultConfig().track.eye_fps;
const work = mkdtempSync(join(tmpdir(), 'pose-traces-'));
try {
  for (const clip of positionals) {
    const file = values.view === 'c100' ? await asCameraStream(analyzer, clip, join(work, basename(clip)), CCTV_1080P_100) : media(clip);
    const trace: PoseTrace = { clip, view: values.view, samples: [] };
    for await (const frame of videoFrames(file, { fps })) {
      const faces = await analyzer.analyze(frame.image, { embed: false, eyes: false, antispoof: false, detectMode: values.view === 'c100' ? 'auto' : 'full' });
      const face = faces.sort((a, b) => b.detection.box.h - a.detection.box.h)[0];
      if (!face) continue;
      const pose = poseOf(face.landmarks68);
      if (pose) trace.samples.push({ t: Math.round(frame.pts * 1000) / 1000, yaw: round1(pose.yaw), pitch: round1(pose.pitch), facePx: Math.round(face.detection.box.h) });
    }
    const name = `${basename(clip).replace(/\.[a-z0-9]+$/u, '')}.${values.view}.json`;
    writeFileSync(join(out, name), JSON.stringify(trace));
    console.log(`${clip} (${values.view}): ${trace.samples.length} poses -> ${join(out, name)}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
  await analyzer.close();
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}
