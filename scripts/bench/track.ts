// `npm run bench -- track [--seconds S] [--faces 1,3,8]`: the per-camera loop (detect at
// 5 fps, tiled at 1080p; every tracked face followed at 15 fps; embeddings, anti-spoof, blink,
// decisions) on a 1920×1080 camera showing 1, 3 and 8 live talking faces (~120 px), one ONNX
// Runtime thread, frames decoded beforehand so that only the tracker is timed.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultConfig } from '../../daemon/config/load.js';
import { createLogger } from '../../daemon/base/log.js';
import { CameraTracker } from '../../daemon/track/camera-tracker.js';
import { UnknownRegistry } from '../../daemon/track/unknowns.js';
import { videoFrames, type TimedFrame } from '../../daemon/camera/video-file.js';
import { FaceAnalyzer } from '../../daemon/vision/analyzer.js';
import { media, mediaMissing } from '../../test/support/media.js';

export const CLIP = 'video_blink/videoretalking_face1.mp4';
/** The clip (700 px, face ~265 px) shrunk to 316 px: a ~120 px face, as at a door camera. */
export const TILE = 316;

/** A 1080p camera with `faces` copies of the talking head, each started at another moment. */
export function composeCamera(out: string, faces: number, seconds: number): void {
  const inputs: string[] = [];
  const chains: string[] = [`color=c=0x505a60:s=1920x1080:r=15:d=${seconds}[bg0]`];
  for (let i = 0; i < faces; i++) {
    inputs.push('-stream_loop', '-1', '-ss', String((i * 0.7) % 5), '-i', media(CLIP));
    chains.push(`[${i}:v]fps=15,scale=${TILE}:${TILE}[f${i}]`);
    const x = 80 + (i % 4) * 460;
    const y = 120 + Math.floor(i / 4) * 480;
    chains.push(`[bg${i}][f${i}]overlay=${x}:${y}:shortest=1[bg${i + 1}]`);
  }
  execFileSync('ffmpeg', ['-v', 'error', '-y', ...inputs, '-filter_complex', chains.join(';'), '-map', `[bg${faces}]`, '-t', String(seconds), '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', '-pix_fmt', 'yuv420p', out]);
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { seconds: { type: 'string', default: '6' }, faces: { type: 'string', default: '1,3,8' } } });
  const missing = mediaMissing(CLIP);
  if (missing) throw new Error(missing);
  const seconds = Number(values.seconds);
  const config = defaultConfig();
  const analyzer = await FaceAnalyzer.create({ vision: config.vision, logger: createLogger({ level: 'warn' }) });
  const dir = mkdtempSync(join(tmpdir(), 'fg-bench-track-'));
  const cores = availableParallelism();
  console.log(`track benchmark: 1920×1080 camera, detect ${config.track.detect_fps} fps (${config.vision.detect.mode}, min_face_px ${config.vision.detect.min_face_px}), eyes ${config.track.eye_fps} fps, ${seconds} s of video, 1 ORT thread, ${cores} cores on this machine`);
  console.log('faces  frames  ms/frame  detect  analyze  follow  decide  (ms per frame, mean)  fps/core  cameras/machine');
  try {
    for (const faces of values.faces.split(',').map(Number)) {
      const file = join(dir, `camera-${faces}.mp4`);
      composeCamera(file, faces, seconds);
      const frames: TimedFrame[] = [];
      for await (const f of videoFrames(file, { fps: config.track.eye_fps })) frames.push(f);
      const tracker = new CameraTracker({
        camera: 'bench',
        engine: analyzer.forCamera(),
        config: config.track,
        identify: () => ({ person: null, score: -1, margin: 0, near: false }),
        unknowns: new UnknownRegistry({ similarity: 0.5, retentionS: 60, maxFrames: 1 }),
      });
      let tracked = 0;
      const started = performance.now();
      for (const f of frames) {
        await tracker.process(f.image, f.pts);
        tracked = Math.max(tracked, tracker.activeTracks.length);
      }
      const total = performance.now() - started;
      const n = tracker.stats.frames;
      const ms = tracker.stats.ms;
      const perFrame = total / n;
      const fpsPerCore = 1000 / perFrame;
      // A camera needs eye_fps processed frames a second; one camera per core (one worker each).
      const cameras = (fpsPerCore / config.track.eye_fps) * cores;
      const cell = (v: number) => (v / n).toFixed(1).padStart(7);
      console.log(
        `${String(faces).padStart(5)}  ${String(n).padStart(6)}  ${perFrame.toFixed(1).padStart(8)} ${cell(ms.detect)} ${cell(ms.analyze)} ${cell(ms.follow)} ${cell(ms.decide)}  ${' '.repeat(21)}${fpsPerCore.toFixed(1).padStart(8)}  ${cameras.toFixed(1).padStart(15)}   (tracks: ${tracked})`,
      );
    }
  } finally {
    await analyzer.close();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log('cameras/machine = fps per core / eye_fps × cores, every core free; the machine is shared, so figures vary by run.');
}
